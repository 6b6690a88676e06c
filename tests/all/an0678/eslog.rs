//! macOS events written here in the shapes `eslogger` and `log show`
//! produce: Endpoint Security messages one JSON object per line (`time`
//! with nanoseconds, `mach_time`, `seq_num`, `global_seq_num`,
//! `event_type` numbers of `es_event_type_t`, `action_type` 1 NOTIFY, the
//! acting `process` with its `audit_token`, `event.<name>` with the
//! payload) plus the top-level `host` a shipper adds (eslogger writes
//! none), and `log show --style ndjson` records with a RunningBoard launch
//! message (its wording is illustrative: Apple documents none of it).

use serde_json::{Value, json};

/// A process: pid, pidversion, its image.
#[derive(Clone, Copy, Debug)]
pub struct Proc<'a> {
    pub pid: u32,
    pub version: u32,
    pub image: &'a str,
}

/// eslogger messages, in the order written.
#[derive(Clone, Debug)]
pub struct EsLog {
    lines: Vec<String>,
    seq: u64,
    host: Option<String>,
    auid: u32,
}

/// `2026-03-02T10:01:00.123456789Z` for `secs` after 10:00:00.
fn es_time(secs: f64) -> String {
    let ms = 10 * 3_600_000 + (secs * 1000.0).round() as i64;
    assert!(
        (0..86_400_000).contains(&ms),
        "scenario times stay on 2026-03-02"
    );
    let (h, m, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    format!("2026-03-02T{h:02}:{m:02}:{s:02}.{milli:03}456789Z")
}

fn token(process: Proc<'_>, auid: u32) -> Value {
    json!({
        "asid": 100017, "auid": auid, "egid": 20, "euid": auid, "pid": process.pid,
        "pidversion": process.version, "rgid": 20, "ruid": auid
    })
}

fn es_process(process: Proc<'_>, parent: Proc<'_>, auid: u32) -> Value {
    json!({
        "audit_token": token(process, auid),
        "parent_audit_token": token(parent, auid),
        "responsible_audit_token": token(parent, auid),
        "ppid": parent.pid,
        "original_ppid": parent.pid,
        "group_id": parent.pid,
        "session_id": 1,
        "is_platform_binary": process.image.starts_with("/bin/") || process.image.starts_with("/usr/"),
        "is_es_client": false,
        "codesigning_flags": 570_509_313,
        "signing_id": process.image.rsplit('/').next().unwrap_or(process.image),
        "team_id": null,
        "executable": { "path": process.image, "path_truncated": false },
        "tty": null,
        "start_time": "2026-03-02T09:00:00.000000000Z"
    })
}

fn file(path: &str) -> Value {
    json!({ "path": path, "path_truncated": false })
}

fn new_path(path: &str) -> Value {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("/", path));
    json!({ "dir": file(dir), "filename": name, "mode": 420 })
}

impl EsLog {
    /// Messages of user `auid` on `host` (none: the shipper added no host).
    pub fn new(host: Option<&str>, auid: u32) -> EsLog {
        EsLog {
            lines: Vec::new(),
            seq: 7300,
            host: host.map(str::to_owned),
            auid,
        }
    }

    /// One message; returns the id dumpwatch gives it
    /// (`global_seq_num:mach_time`).
    fn push(&mut self, secs: f64, event_type: u32, process: Value, event: Value) -> String {
        self.seq += 1;
        let mach_time = 282_878_801_352u64 + self.seq * 1_000_003;
        let mut message = json!({
            "action": { "result": { "result": { "auth": 0 }, "result_type": 0 } },
            "action_type": 1,
            "event": event,
            "event_type": event_type,
            "global_seq_num": self.seq,
            "mach_time": mach_time,
            "process": process,
            "schema_version": 1,
            "seq_num": self.seq / 3,
            "thread": { "thread_id": 88_123 },
            "time": es_time(secs),
            "version": 7
        });
        if let Some(host) = &self.host {
            message["host"] = json!(host);
        }
        self.lines.push(message.to_string());
        format!("{}:{mach_time}", self.seq)
    }

    /// `exec` (9): `caller` (the forked image, same pid) becomes `target`
    /// with `args`.
    pub fn exec(
        &mut self,
        secs: f64,
        caller: Proc<'_>,
        target: Proc<'_>,
        parent: Proc<'_>,
        args: &[&str],
    ) -> String {
        let auid = self.auid;
        let event = json!({ "exec": {
            "target": es_process(target, parent, auid),
            "args": args,
            "env": ["HOME=/Users/alice", "USER=alice", "SHELL=/bin/zsh"],
            "cwd": file("/Users/alice"),
            "dyld_exec_path": target.image,
            "script": null,
            "last_fd": 2,
            "image_cputype": 16_777_228,
            "image_cpusubtype": 2
        }});
        self.push(secs, 9, es_process(caller, parent, auid), event)
    }

    /// `create` (13) of a new file at `path`.
    pub fn create(&mut self, secs: f64, process: Proc<'_>, parent: Proc<'_>, path: &str) -> String {
        let auid = self.auid;
        let event = json!({ "create": { "destination_type": 1, "destination": { "new_path": new_path(path) } } });
        self.push(secs, 13, es_process(process, parent, auid), event)
    }

    /// `write` (33) to `path`.
    pub fn write(&mut self, secs: f64, process: Proc<'_>, parent: Proc<'_>, path: &str) -> String {
        let auid = self.auid;
        let event = json!({ "write": { "target": file(path) } });
        self.push(secs, 33, es_process(process, parent, auid), event)
    }

    /// `close` (12) of `path` after modifying it.
    pub fn close_modified(
        &mut self,
        secs: f64,
        process: Proc<'_>,
        parent: Proc<'_>,
        path: &str,
    ) -> String {
        let auid = self.auid;
        let event = json!({ "close": { "modified": true, "target": file(path) } });
        self.push(secs, 12, es_process(process, parent, auid), event)
    }

    /// `rename` (25) of `from` to the new path `to`.
    pub fn rename(
        &mut self,
        secs: f64,
        process: Proc<'_>,
        parent: Proc<'_>,
        from: &str,
        to: &str,
    ) -> String {
        let auid = self.auid;
        let event = json!({ "rename": { "source": file(from), "destination_type": 1, "destination": { "new_path": new_path(to) } } });
        self.push(secs, 25, es_process(process, parent, auid), event)
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// The log with messages in the given order.
    pub fn render_order(&self, order: &[usize]) -> String {
        order
            .iter()
            .map(|&i| format!("{}\n", self.lines[i]))
            .collect()
    }

    pub fn render(&self) -> String {
        self.render_order(&(0..self.lines.len()).collect::<Vec<_>>())
    }
}

/// A `log show --style ndjson` capture with one RunningBoard launch line
/// for the application bundle `app` (pid, uid), and the trailer.
pub fn launch_log(secs: f64, app: &str, executable: &str, pid: u32, uid: u32) -> String {
    let ms = 10 * 3_600_000 + (secs * 1000.0).round() as i64;
    let (h, m, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    let record = json!({
        "traceID": 81_265_404_076_032u64,
        "eventMessage": format!("[app<application.com.example.{pid}.1({uid})>:{pid}] Executing launch request for {app}/Contents/MacOS/{executable} (LaunchServices launch)"),
        "eventType": "logEvent",
        "source": null,
        "formatString": "%{public}s",
        "activityIdentifier": 0,
        "subsystem": "com.apple.runningboard",
        "category": "job",
        "threadID": 100_200,
        "bootUUID": "6D3F1B52-9A0E-4C7B-B1F4-2E5C8A7D9013",
        "processImagePath": "/System/Library/PrivateFrameworks/RunningBoard.framework/Versions/A/XPCServices/runningboardd",
        "senderImagePath": "/System/Library/PrivateFrameworks/RunningBoard.framework/Versions/A/XPCServices/runningboardd",
        "timestamp": format!("2026-03-02 {h:02}:{m:02}:{s:02}.{milli:03}410+0000"),
        "machTimestamp": 412_077_327_764u64,
        "messageType": "Default",
        "processID": 168,
        "userID": 0,
        "timezoneName": ""
    });
    format!("{record}\n{{\"count\":1,\"finished\":1}}\n")
}
