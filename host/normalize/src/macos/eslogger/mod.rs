//! Endpoint Security messages as `eslogger` writes them, one JSON object
//! per line (Jamf Protect's telemetry, the same messages with
//! `glob_seq_num` and `host`, is read too).
//!
//! * `exec` → process start of **`event.exec.target`**, the new program (the
//!   top-level `process` is the image before exec: the caller); argv from
//!   `event.exec.args`, working directory from `event.exec.cwd`;
//! * `create` → file create (`destination_type` 0: `existing_file.path`,
//!   1: `new_path.dir.path` + `/` + `filename`);
//! * `close` with `modified: true` → close-modified (unmodified closes are
//!   skipped: most closes are reads);
//! * `rename` → rename from `source.path` to the destination;
//! * `write` → write of `target.path`;
//! * every other event is skipped by name (`eslogger:open`), and AUTH
//!   messages (a request that may yet be denied) as `eslogger:auth`.
//!
//! The event is chosen by the payload's key, not `event_type`: the key is
//! what eslogger writes from the same enum, and third-party fixtures with
//! wrong numbers exist. Actor: the audit token of the process the event
//! describes (the exec target, otherwise `process`): `auid` → uid (none
//! when unset, 4294967295), `euid` → effective uid. Names are left to the
//! host's inventory. Id: `global_seq_num:mach_time` (unique per host), or
//! `name:seq_num:mach_time` without a global sequence number.

mod message;

use std::fmt::Write as _;

use dumpwatch_event::time::parse_datetime;
use dumpwatch_event::{
    Activity, Actor, Device, Event, FileActivity, FileOperation, Process, ProcessStart,
};

use crate::json_records::JsonRecords;
use crate::json_scalar::{Num, Text};
use crate::recent::RecentMap;
use crate::{DecodeContext, Decoder, Format, Output, RecordPos};
use message::{AuditToken, Destination, EsEvent, EsMessage, EsProcess};

/// Event `source` of eslogger events.
pub const SOURCE: &str = "eslogger";
/// How many processes' paths the parent lookup remembers.
const PROCESS_PATHS_CAPACITY: usize = 64 * 1024;
/// `AU_DEFAUDITID`: no login user (daemons started by launchd).
const AUID_UNSET: u64 = u32::MAX as u64;
/// Distinct `eslogger:<name>` skip counters kept; names past this (which
/// only malformed input produces) share one.
const MAX_SKIP_KINDS: usize = 200;

/// Decoder for eslogger JSON.
pub struct EsloggerDecoder {
    stream: JsonRecords,
    state: State,
}

struct State {
    host: Option<String>,
    /// (pid, pidversion) → executable path, from every process seen, so an
    /// exec can name its parent.
    paths: RecentMap<(u64, u64), String>,
    scratch: String,
}

impl EsloggerDecoder {
    pub fn new(ctx: &DecodeContext) -> Self {
        EsloggerDecoder {
            stream: JsonRecords::new(),
            state: State {
                host: ctx.host.clone(),
                paths: RecentMap::new(PROCESS_PATHS_CAPACITY),
                scratch: String::new(),
            },
        }
    }
}

impl Decoder for EsloggerDecoder {
    fn format(&self) -> Format {
        Format::Eslogger
    }

    fn push(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        let state = &mut self.state;
        self.stream.push(line, pos, out, &mut |bytes, pos, out| {
            let mut msg = EsMessage::default();
            crate::json_records::parse_seed(bytes, crate::json_fields::InPlace(&mut msg))?;
            state.map(&msg, pos, out);
            Ok(())
        });
    }

    fn finish(&mut self, out: &mut Output) {
        self.stream.finish(out);
    }

    fn oldest_pending(&self) -> Option<RecordPos> {
        self.stream.oldest_pending()
    }
}

fn num(n: Option<Num>) -> Option<u64> {
    n.and_then(Num::get)
}

fn path_of<'f>(f: Option<&'f message::EsFile<'_>>) -> Option<&'f str> {
    f.and_then(|f| f.path.as_ref())
        .map(Text::as_str)
        .filter(|p| !p.is_empty())
}

fn guid(t: Option<&AuditToken>) -> Option<(u64, u64)> {
    let t = t?;
    Some((num(t.pid)?, num(t.pidversion)?))
}

/// The file name of a POSIX path.
pub(crate) fn basename(path: &str) -> Option<String> {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

impl State {
    fn map(&mut self, msg: &EsMessage<'_>, pos: RecordPos, out: &mut Output) {
        let Some(event) = msg.event.as_ref() else {
            return out.error(pos, "missing field", "no event payload");
        };
        // Remember every process image we meet, for parent lookups.
        if let Some(p) = &msg.process {
            self.remember(p);
        }
        if let EsEvent::Exec(e) = event
            && let Some(t) = &e.target
        {
            self.remember(t);
        }
        let name = match event {
            EsEvent::Exec(_) => "exec",
            EsEvent::Create(_) => "create",
            EsEvent::Close(_) => "close",
            EsEvent::Rename(_) => "rename",
            EsEvent::Write(_) => "write",
            EsEvent::Other(n) => n.as_str(),
            EsEvent::Empty => return out.error(pos, "missing field", "empty event payload"),
        };
        if num(msg.action_type) == Some(0) {
            return out.skip("eslogger:auth");
        }
        let result = match event {
            EsEvent::Exec(e) => self.exec(e),
            EsEvent::Create(c) => file_event(
                msg,
                FileOperation::Create,
                create_path(c.destination_type, c.destination.as_ref()),
                None,
            ),
            EsEvent::Close(c) if c.modified == Some(true) => file_event(
                msg,
                FileOperation::CloseModified,
                path_of(c.target.as_ref()).map(str::to_owned),
                None,
            ),
            EsEvent::Close(_) => return out.skip("eslogger:close (not modified)"),
            EsEvent::Rename(r) => file_event(
                msg,
                FileOperation::Rename,
                create_path(r.destination_type, r.destination.as_ref()),
                path_of(r.source.as_ref()),
            ),
            EsEvent::Write(w) => file_event(
                msg,
                FileOperation::Write,
                path_of(w.target.as_ref()).map(str::to_owned),
                None,
            ),
            EsEvent::Other(_) | EsEvent::Empty => return self.skip(name, out),
        };
        match result {
            Ok((mut ev, token_owner)) => {
                let time = match msg.time.as_ref().map(Text::as_str) {
                    None | Some("") => return out.error(pos, "missing time", "no time field"),
                    Some(t) => match parse_datetime(t) {
                        Some(ts) => ts,
                        None => {
                            return out.error(
                                pos,
                                "invalid time",
                                format!("time {t:?} is not a date-time"),
                            );
                        }
                    },
                };
                ev.time = time;
                ev.id = event_id(msg, name);
                ev.device = Device {
                    hostname: msg
                        .host
                        .as_ref()
                        .and_then(|h| h.0.as_ref())
                        .map(|h| h.as_str().trim())
                        .filter(|h| !h.is_empty())
                        .map(str::to_owned)
                        .or_else(|| self.host.clone()),
                    ..Default::default()
                };
                ev.actor = actor(token_owner.and_then(|p| p.audit_token.as_ref()));
                out.event(ev);
            }
            Err((kind, detail)) => out.error(pos, kind, detail),
        }
    }

    fn skip(&mut self, name: &str, out: &mut Output) {
        let valid = !name.is_empty()
            && name.len() <= 40
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        self.scratch.clear();
        if valid && out.stats.skipped.len() < MAX_SKIP_KINDS {
            let _ = write!(self.scratch, "eslogger:{name}");
        } else {
            self.scratch.push_str("eslogger:(other)");
        }
        out.skip(&self.scratch);
    }

    fn remember(&mut self, p: &EsProcess<'_>) {
        if let (Some(g), Some(path)) =
            (guid(p.audit_token.as_ref()), path_of(p.executable.as_ref()))
            && self.paths.get(&g).is_none_or(|known| known != path)
        {
            self.paths.insert(g, path.to_owned());
        }
    }

    fn exec<'m>(&self, e: &'m message::ExecEvent<'_>) -> Mapped<'m> {
        let target = e
            .target
            .as_ref()
            .ok_or(("missing field", "exec without target".to_owned()))?;
        let path = path_of(target.executable.as_ref()).ok_or((
            "missing field",
            "exec target without executable path".to_owned(),
        ))?;
        let args: Vec<String> = e
            .args
            .iter()
            .flatten()
            .map(|a| a.as_str().to_owned())
            .collect();
        let command_line = (!args.is_empty()).then(|| args.join(" "));
        let parent = guid(target.parent_audit_token.as_ref());
        let parent_path = parent.and_then(|g| self.paths.get(&g));
        let process = Process {
            pid: token_pid(target.audit_token.as_ref()),
            guid: guid(target.audit_token.as_ref()).map(|(p, v)| pair(p, v)),
            name: basename(path),
            path: Some(path.to_owned()),
            command_line,
            args,
            cwd: path_of(e.cwd.as_ref()).map(str::to_owned),
            parent_pid: num(target.original_ppid)
                .filter(|&p| p != 0)
                .or(num(target.ppid))
                .and_then(|p| u32::try_from(p).ok()),
            parent_guid: parent.map(|(p, v)| pair(p, v)),
            parent_path: parent_path.cloned(),
            parent_name: parent_path.and_then(|p| basename(p)),
            signing_id: target
                .signing_id
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .filter(|s| !s.is_empty()),
            ..Default::default()
        };
        Ok((
            blank_event(process, Activity::ProcessStart(ProcessStart::default())),
            Some(target),
        ))
    }
}

/// An event without time, id, device and actor (filled in by the caller),
/// and the process whose audit token names the actor; or an error.
type Mapped<'m> = Result<(Event, Option<&'m EsProcess<'m>>), (&'static str, String)>;

fn file_event<'m>(
    msg: &'m EsMessage<'_>,
    operation: FileOperation,
    path: Option<String>,
    source_path: Option<&str>,
) -> Mapped<'m> {
    let path = path.ok_or(("missing field", "file event without a path".to_owned()))?;
    let process = msg.process.as_ref().map(acting_process).unwrap_or_default();
    Ok((
        blank_event(
            process,
            Activity::File(FileActivity {
                operation,
                path,
                source_path: source_path.map(str::to_owned),
                size: None,
            }),
        ),
        msg.process.as_ref(),
    ))
}

/// The path a create or rename names: `existing_file.path` (type 0) or
/// `new_path.dir.path/filename` (type 1); without a type, whichever is
/// present.
fn create_path(kind: Option<Num>, dest: Option<&Destination<'_>>) -> Option<String> {
    let dest = dest?;
    let existing = || path_of(dest.existing_file.as_ref()).map(str::to_owned);
    let new = || {
        let np = dest.new_path.as_ref()?;
        let dir = path_of(np.dir.as_ref())?;
        let file = np
            .filename
            .as_ref()
            .map(Text::as_str)
            .filter(|f| !f.is_empty())?;
        Some(format!("{}/{}", dir.trim_end_matches('/'), file))
    };
    match num(kind) {
        Some(0) => existing(),
        Some(1) => new(),
        _ => existing().or_else(new),
    }
}

fn acting_process(p: &EsProcess<'_>) -> Process {
    let path = path_of(p.executable.as_ref());
    Process {
        pid: token_pid(p.audit_token.as_ref()),
        guid: guid(p.audit_token.as_ref()).map(|(pid, v)| pair(pid, v)),
        name: path.and_then(basename),
        path: path.map(str::to_owned),
        parent_pid: num(p.original_ppid)
            .filter(|&v| v != 0)
            .or(num(p.ppid))
            .and_then(|v| u32::try_from(v).ok()),
        parent_guid: guid(p.parent_audit_token.as_ref()).map(|(pid, v)| pair(pid, v)),
        signing_id: p
            .signing_id
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .filter(|s| !s.is_empty()),
        ..Default::default()
    }
}

fn token_pid(t: Option<&AuditToken>) -> Option<u32> {
    t.and_then(|t| num(t.pid))
        .and_then(|p| u32::try_from(p).ok())
}

fn actor(t: Option<&AuditToken>) -> Actor {
    let Some(t) = t else {
        return Actor::default();
    };
    let id = |n: Option<Num>| {
        num(n)
            .filter(|&v| v != AUID_UNSET)
            .and_then(|v| u32::try_from(v).ok())
    };
    Actor {
        uid: id(t.auid),
        effective_uid: id(t.euid),
        ..Default::default()
    }
}

fn blank_event(process: Process, activity: Activity) -> Event {
    Event {
        time: 0,
        source: SOURCE,
        id: String::new(),
        device: Device::default(),
        actor: Actor::default(),
        process: Some(Box::new(process)),
        activity,
    }
}

/// `a:b` (guids, ids), sized once: `format!` grows such strings two or
/// three times.
fn pair(a: u64, b: u64) -> String {
    let (mut x, mut y) = (itoa::Buffer::new(), itoa::Buffer::new());
    let (x, y) = (x.format(a), y.format(b));
    let mut s = String::with_capacity(x.len() + 1 + y.len());
    s.push_str(x);
    s.push(':');
    s.push_str(y);
    s
}

fn event_id(msg: &EsMessage<'_>, name: &str) -> String {
    let mach = num(msg.mach_time).unwrap_or(0);
    match num(msg.global_seq_num).or(num(msg.glob_seq_num)) {
        Some(g) => pair(g, mach),
        None => format!("{name}:{}:{mach}", num(msg.seq_num).unwrap_or(0)),
    }
}
