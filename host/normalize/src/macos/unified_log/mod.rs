//! The macOS unified log as `log show --style ndjson` (one object per line,
//! ending with a `{"count":N,"finished":1}` trailer) or `--style json` (one
//! pretty-printed array, cut into records by `json_stream` as it streams,
//! one record's memory at a time).
//!
//! The unified log has no process-start record. What it does show is every
//! process that logs anything, with its pid and image path, and the
//! launch messages of LaunchServices and RunningBoard. So, for AN0678's
//! "DB tool started" leg without a flood of events:
//!
//! * **first log line of a process** → one `process_start` per (boot, pid,
//!   image path), the first time that process logs; id
//!   `first-log:<boot>:<pid>:<machTimestamp>`. Its time is that line's
//!   time: the process started at or before it.
//! * **launch message** (from `com.apple.runningboard` /
//!   `com.apple.launchservices` or their daemons, containing "launch" and an
//!   application bundle path) → a `process_start` of that app (pid and user
//!   when the message names them); id `launch:<boot>:<pid>:<machTimestamp>`.
//!   It counts as that process's first log line, so the app's own later
//!   lines add nothing.
//! * everything else is skipped with a reason: `unified-log:seen process`
//!   (a process already reported), `unified-log:no process` (pid 0 or no
//!   image path), `trailer`.
//!
//! The seen-process memory is a [`RecentMap`] of at most
//! [`SEEN_CAPACITY`] keys. `userID` becomes the actor's uid (missing in
//! older output; launchd's `2863311530`, 0xAAAAAAAA, is a fill pattern and
//! is dropped). Device: the decode context's host: the log carries no host
//! name.

mod launch;

use std::hash::{DefaultHasher, Hash, Hasher};

use serde::Deserialize;
use serde::de::IgnoredAny;

use dumpwatch_event::time::parse_datetime;
use dumpwatch_event::{Activity, Actor, Device, Event, Process, ProcessStart};

use super::eslogger::basename;
use crate::json_records::JsonRecords;
use crate::json_scalar::{Num, Text};
use crate::recent::RecentMap;
use crate::{DecodeContext, Decoder, Format, Output, RecordPos};

/// Event `source` of unified-log events.
pub const SOURCE: &str = "unified-log";
/// How many (boot, pid, image) keys the seen-process memory holds.
pub const SEEN_CAPACITY: usize = 128 * 1024;
/// A launch message without a pid is repeated by several daemons; one
/// within this many milliseconds of the last is the same launch.
const PIDLESS_LAUNCH_WINDOW_MS: i64 = 60_000;
/// `userID` written for launchd: a fill pattern, not a user.
const UID_FILL: u64 = 0xAAAA_AAAA;

/// Decoder for `log show --style ndjson` and `--style json`.
pub struct UnifiedLogDecoder {
    stream: JsonRecords,
    state: State,
}

struct State {
    host: Option<String>,
    /// Hashes of (boot, pid, path) already reported; the value is the time
    /// of the report (used for pid-less launches).
    seen: RecentMap<u64, i64>,
}

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(borrow, rename = "eventMessage")]
    event_message: Option<Text<'a>>,
    #[serde(borrow, rename = "processImagePath")]
    process_image_path: Option<Text<'a>>,
    #[serde(rename = "processID")]
    process_id: Option<Num>,
    #[serde(rename = "userID")]
    user_id: Option<Num>,
    #[serde(borrow)]
    subsystem: Option<Text<'a>>,
    #[serde(borrow, rename = "bootUUID")]
    boot_uuid: Option<Text<'a>>,
    #[serde(rename = "machTimestamp")]
    mach_timestamp: Option<Num>,
    #[serde(rename = "traceID")]
    trace_id: Option<Num>,
    count: Option<IgnoredAny>,
    finished: Option<IgnoredAny>,
}

impl UnifiedLogDecoder {
    pub fn new(ctx: &DecodeContext) -> Self {
        UnifiedLogDecoder {
            stream: JsonRecords::new(),
            state: State {
                host: ctx.host.clone(),
                seen: RecentMap::new(SEEN_CAPACITY),
            },
        }
    }
}

impl Decoder for UnifiedLogDecoder {
    fn format(&self) -> Format {
        Format::UnifiedLog
    }

    fn push(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        let state = &mut self.state;
        self.stream.push(line, pos, out, &mut |bytes, pos, out| {
            let rec: Record = crate::json_records::parse(bytes)?;
            state.map(rec, pos, out);
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

/// Is this record from the daemons that log app launches?
fn is_launch_daemon(subsystem: Option<&str>, image: &str) -> bool {
    let sub = subsystem.unwrap_or("");
    sub.starts_with("com.apple.runningboard")
        || sub.starts_with("com.apple.launchservices")
        || image.ends_with("/runningboardd")
        || image.ends_with("/launchservicesd")
}

/// The bundle part of an image path inside an app
/// (`/Applications/X.app/Contents/MacOS/X` → `/Applications/X.app`).
fn bundle_of(image: &str) -> Option<&str> {
    let i = image.find(".app/")?;
    Some(&image[..i + 4])
}

fn key(boot: &str, pid: u64, path: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (boot, pid, path).hash(&mut h);
    h.finish()
}

impl State {
    fn map(&mut self, rec: Record<'_>, pos: RecordPos, out: &mut Output) {
        let text = |t: &Option<Text<'_>>| {
            t.as_ref()
                .map(|t| t.as_str().trim())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        if rec.count.is_some() && rec.finished.is_some() && rec.timestamp.is_none() {
            return out.skip("trailer");
        }
        let time = match rec.timestamp.as_ref().map(Text::as_str) {
            None | Some("") => return out.error(pos, "missing time", "no timestamp"),
            Some(t) => match parse_datetime(t) {
                Some(ts) => ts,
                None => {
                    return out.error(
                        pos,
                        "invalid time",
                        format!("timestamp {t:?} is not a date-time"),
                    );
                }
            },
        };
        let boot = rec.boot_uuid.as_ref().map_or("", Text::as_str).to_owned();
        let boot_label = if boot.is_empty() {
            self.host.clone().unwrap_or_else(|| "-".into())
        } else {
            boot.clone()
        };
        let mark = num(rec.mach_timestamp).or(num(rec.trace_id)).unwrap_or(0);
        let image = text(&rec.process_image_path).unwrap_or_default();
        let pid = num(rec.process_id).unwrap_or(0);

        if is_launch_daemon(rec.subsystem.as_ref().map(Text::as_str), &image)
            && let Some(l) = rec
                .event_message
                .as_ref()
                .and_then(|m| launch::parse(m.as_str()))
        {
            let lpid = u64::from(l.pid.unwrap_or(0));
            let k = key(&boot, lpid, &l.path);
            let fresh = match self.seen.get(&k) {
                None => true,
                Some(&at) => lpid == 0 && (time - at).abs() > PIDLESS_LAUNCH_WINDOW_MS,
            };
            if !fresh {
                return out.skip("unified-log:seen launch");
            }
            self.seen.insert(k, time);
            if l.bundle != l.path {
                self.seen.insert(key(&boot, lpid, &l.bundle), time);
            }
            let process = Process {
                pid: l.pid,
                name: app_name(&l.path),
                path: Some(l.path.clone()),
                ..Default::default()
            };
            let actor = Actor {
                uid: l.uid,
                ..Default::default()
            };
            return out.event(self.event(
                time,
                format!("launch:{boot_label}:{lpid}:{mark}"),
                actor,
                process,
            ));
        }

        if pid == 0 || image.is_empty() {
            return out.skip("unified-log:no process");
        }
        let k = key(&boot, pid, &image);
        let launched = bundle_of(&image).is_some_and(|b| self.seen.contains(&key(&boot, pid, b)));
        if launched || self.seen.contains(&k) {
            if launched && !self.seen.contains(&k) {
                self.seen.insert(k, time);
            }
            return out.skip("unified-log:seen process");
        }
        self.seen.insert(k, time);
        let process = Process {
            pid: u32::try_from(pid).ok(),
            name: basename(&image),
            path: Some(image),
            ..Default::default()
        };
        let actor = Actor {
            uid: num(rec.user_id)
                .filter(|&u| u != UID_FILL)
                .and_then(|u| u32::try_from(u).ok()),
            ..Default::default()
        };
        out.event(self.event(
            time,
            format!("first-log:{boot_label}:{pid}:{mark}"),
            actor,
            process,
        ));
    }

    fn event(&self, time: i64, id: String, actor: Actor, process: Process) -> Event {
        Event {
            time,
            source: SOURCE,
            id,
            device: Device {
                hostname: self.host.clone(),
                ..Default::default()
            },
            actor,
            process: Some(Box::new(process)),
            activity: Activity::ProcessStart(ProcessStart::default()),
        }
    }
}

fn num(n: Option<Num>) -> Option<u64> {
    n.and_then(Num::get)
}

/// Process name of a launched app: the executable's name, or the bundle's
/// name without `.app` when only the bundle is known.
fn app_name(path: &str) -> Option<String> {
    let name = basename(path)?;
    Some(name.strip_suffix(".app").map(str::to_owned).unwrap_or(name))
}

/// Whether `launch` reads a launch out of `msg` (for the fuzz tests).
#[cfg(test)]
pub(crate) fn launch_probe(msg: &str) -> bool {
    launch::parse(msg).is_some()
}
