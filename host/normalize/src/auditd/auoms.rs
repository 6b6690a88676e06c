//! Microsoft auoms (the Azure Monitor audit plugin) records, and the
//! Sentinel `Syslog` table JSON lines that carry audit text.
//!
//! auoms writes one self-contained record per exec:
//! `type=AUOMS_EXECVE audit(T:S): … syscall=execve … pid= ppid= user=
//! effective_user= … exe="…" cwd="…" … argc=N cmdline="…" redactors= …`.
//! Its `cmdline` and `proctitle` are not escaped: they hold spaces and
//! unbalanced quotes, so they are read up to the ` redactors=` field that
//! follows them rather than split like other fields. AUOMS_EXECVE becomes
//! a process start with no assembly; other AUOMS_* types are skipped by
//! type by the caller.
//!
//! The Sentinel JSON line (`{"SyslogMessage":"type=…","HostName":…}`) is
//! an envelope: its message is decoded as an ordinary audit line, so both
//! auoms and plain auditd records forwarded through Sentinel are read.

use std::borrow::Cow;

use dumpwatch_event::{Activity, Actor, Event, Process, ProcessStart};
use memchr::memmem;
use serde::Deserialize;

use super::build::{Origin, Outcome, basename};
use super::fields::{RawFields, decode_value, parse_dec, text};
use super::proctable::{ProcInfo, ProcTable};

/// A JSON line holding an audit record as text.
///
/// Fields are `&str` borrowed from the line when unescaped: serde's
/// `Option<Cow<str>>` would copy every one (serde-rs/serde#1497).
#[derive(Deserialize)]
pub(super) struct Envelope<'a> {
    #[serde(borrow, rename = "SyslogMessage")]
    pub syslog_message: Option<Text<'a>>,
    #[serde(borrow)]
    pub message: Option<Text<'a>>,
    #[serde(borrow, rename = "HostName")]
    pub host_name: Option<Text<'a>>,
    #[serde(borrow, rename = "Computer")]
    pub computer: Option<Text<'a>>,
}

/// A JSON string, borrowed when it has no escapes.
pub(super) struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
        }
        d.deserialize_str(V).map(Text)
    }
}

impl<'a> Envelope<'a> {
    pub fn text(&self) -> Option<&str> {
        self.syslog_message
            .as_ref()
            .or(self.message.as_ref())
            .map(|t| t.0.as_ref())
    }

    pub fn host(&self) -> Option<&str> {
        self.host_name
            .as_ref()
            .or(self.computer.as_ref())
            .map(|t| t.0.as_ref())
            .filter(|h| !h.is_empty())
    }
}

/// A field whose value runs to the next ` redactors=` (or the end).
fn free_text<'a>(body: &'a [u8], key: &[u8]) -> Option<(usize, &'a [u8])> {
    let at = memmem::find(body, key)?;
    if at > 0 && body[at - 1] != b' ' {
        return None;
    }
    let vstart = at + key.len();
    let rest = &body[vstart..];
    let end = memmem::find(rest, b" redactors=").unwrap_or(rest.len());
    let mut v = &rest[..end];
    if v.len() >= 2 && v[0] == b'"' && v[v.len() - 1] == b'"' {
        v = &v[1..v.len() - 1];
    }
    Some((at, v))
}

/// Split a command line on spaces outside double quotes, dropping the
/// quotes: auoms joins the arguments and quotes those that need it.
pub(super) fn split_command_line(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut started = false;
    for c in s.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                started = true;
            }
            ' ' if !in_quotes => {
                if started {
                    out.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            c => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(cur);
    }
    out
}

/// Build the process start of an AUOMS_EXECVE body.
pub(super) fn build(body: &[u8], origin: &Origin<'_>, procs: &mut ProcTable) -> Outcome {
    let cmd = free_text(body, b"cmdline=");
    let title = free_text(body, b"proctitle=");
    let cut = [cmd.map(|c| c.0), title.map(|t| t.0)]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(body.len());
    let mut success = None;
    let mut syscall: Option<&[u8]> = None;
    let (mut pid, mut ppid, mut ses) = (None, None, None);
    let mut actor = Actor::default();
    let (mut exe, mut comm, mut cwd) = (None, None, None);
    for f in RawFields::new(&body[..cut]) {
        let v = f.value;
        let num = || parse_dec(v).and_then(|n| u32::try_from(n).ok());
        match f.key {
            b"syscall" => syscall = Some(v),
            b"success" => success = Some(v == b"yes"),
            b"pid" => pid = num(),
            b"ppid" => ppid = num(),
            b"ses" => ses = num().filter(|&s| s != u32::MAX),
            b"auid" => actor.uid = num().filter(|&u| u != u32::MAX),
            b"audit_user" if v != b"unset" && !v.is_empty() => actor.user = Some(text(v)),
            b"euid" => actor.effective_uid = num().filter(|&u| u != u32::MAX),
            b"effective_user" if !v.is_empty() => actor.effective_user = Some(text(v)),
            b"exe" => exe = decode_value(&f, true).map(|b| text(&b)),
            b"comm" => comm = decode_value(&f, true).map(|b| text(&b)),
            b"cwd" => cwd = decode_value(&f, true).map(|b| text(&b)),
            _ => {}
        }
    }
    actor.session = ses.map(|s| s.to_string());
    if syscall.is_some_and(|s| s != b"execve" && s != b"execveat") {
        return Outcome::Skip(format!(
            "AUOMS_EXECVE:{}",
            String::from_utf8_lossy(syscall.unwrap_or_default())
        ));
    }
    let host = origin.host.unwrap_or("");
    if success == Some(false) {
        // A failed exec still shows the caller (its image before exec).
        if let Some(pid) = pid {
            let info = ProcInfo {
                name: exe.as_deref().map(basename).map(str::to_owned),
                path: exe.clone(),
                command_line: None,
                ppid,
            };
            procs.learn(host, pid, info, false);
        }
        return Outcome::SkipStatic("AUOMS_EXECVE:failed");
    }
    let (command_line, args) = match cmd.or(title) {
        Some((_, v)) if !v.is_empty() => {
            let line = text(v);
            let args = split_command_line(&line);
            (Some(line), args)
        }
        _ => (None, Vec::new()),
    };
    let name = exe
        .as_deref()
        .map(basename)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .or(comm);
    let mut p = Process {
        pid,
        name,
        path: exe,
        command_line,
        args,
        cwd,
        parent_pid: ppid,
        ..Default::default()
    };
    if let Some(pp) = ppid {
        if let Some(info) = procs.get(host, pp) {
            p.parent_name = info.name.clone();
            p.parent_path = info.path.clone();
        }
        p.ancestry = procs.chain(host, pp);
    }
    if let Some(pid) = pid {
        procs.learn(
            host,
            pid,
            ProcInfo {
                name: p.name.clone(),
                path: p.path.clone(),
                command_line: p.command_line.clone(),
                ppid,
            },
            true,
        );
    }
    Outcome::Event(Box::new(Event {
        time: origin.time,
        source: "auditd",
        id: origin.id(),
        device: dumpwatch_event::Device {
            hostname: origin.host.map(str::to_owned),
            ..Default::default()
        },
        actor,
        process: Some(Box::new(p)),
        activity: Activity::ProcessStart(ProcessStart::default()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_split_outside_quotes() {
        assert_eq!(
            split_command_line(r#"bash -c "{echo,YQ==}|{base64,-d}|{bash,-i}""#),
            vec!["bash", "-c", "{echo,YQ==}|{base64,-d}|{bash,-i}"]
        );
        assert_eq!(split_command_line("  a  b "), vec!["a", "b"]);
        assert_eq!(split_command_line(r#"x """#), vec!["x", ""]);
    }

    #[test]
    fn free_text_runs_to_redactors() {
        let body = br#"exe="/bin/bash" cmdline="bash -c "x y"" redactors= containerid="#;
        assert_eq!(
            free_text(body, b"cmdline=").map(|c| c.1),
            Some(&br#"bash -c "x y""#[..])
        );
        assert_eq!(free_text(body, b"proctitle="), None);
    }
}
