//! A completed audit event to a normalized [`Event`], or the reason it is
//! skipped.
//!
//! execve/execveat → process start; connect (and i386 socketcall
//! connect) → network; open/openat/openat2/creat with write, create or
//! truncate flags and rename* → file. Everything else is skipped by type
//! (`SYSCALL:read`, `SYSCALL:connect:unix`, …).

use dumpwatch_event::{
    Activity, Actor, Device, Endpoint, Event, FileActivity, FileOperation, NetworkFlow, Process,
    ProcessStart,
};

use super::fields::text;
use super::proctable::{ProcInfo, ProcTable};
use super::record::{NameType, Parts, SyscallRec};
use super::sockaddr::SockAddr;
use super::syscalls::{self, Arch, Call, O_CREAT, O_RDWR, O_TRUNC, O_WRONLY, SYS_CONNECT};

/// What an event became.
pub(super) enum Outcome {
    Event(Box<Event>),
    Skip(String),
    SkipStatic(&'static str),
}

/// Where and when the event happened.
pub(super) struct Origin<'a> {
    pub host: Option<&'a str>,
    pub time: i64,
    pub serial: u64,
}

impl Origin<'_> {
    pub fn id(&self) -> String {
        let secs = self.time.div_euclid(1000);
        let ms = self.time.rem_euclid(1000);
        match self.host {
            Some(h) => format!("{h}:{secs}.{ms:03}:{}", self.serial),
            None => format!("{secs}.{ms:03}:{}", self.serial),
        }
    }

    fn device(&self) -> Device {
        Device {
            hostname: self.host.map(str::to_owned),
            ..Default::default()
        }
    }

    fn table_host(&self) -> &str {
        self.host.unwrap_or("")
    }
}

/// The last path component.
pub(super) fn basename(p: &str) -> &str {
    let p = p.trim_end_matches('/');
    p.rsplit('/').next().unwrap_or(p)
}

/// `name` made absolute against `cwd`, with `.` and `..` folded.
pub(super) fn resolve(name: &str, cwd: Option<&str>) -> String {
    let joined;
    let full = if name.starts_with('/') {
        name
    } else if let Some(c) = cwd {
        joined = format!("{}/{}", c.trim_end_matches('/'), name);
        &joined
    } else {
        return name.to_owned();
    };
    if !full.contains("/.") && !full.contains("//") {
        return full.to_owned();
    }
    let mut parts: Vec<&str> = Vec::new();
    for comp in full.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = String::with_capacity(full.len());
    for c in &parts {
        out.push('/');
        out.push_str(c);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// A PROCTITLE as a command line (NUL-separated arguments) and its
/// arguments.
fn proctitle_args(pt: &[u8]) -> Vec<String> {
    pt.split(|&c| c == 0)
        .filter(|a| !a.is_empty())
        .map(text)
        .collect()
}

fn actor(sc: &SyscallRec) -> Actor {
    let effective_user = sc.euid.name.clone().or_else(|| {
        // ENRICHED writes UID= and EUID=; older captures only one.
        (sc.uid.id.is_some() && sc.uid.id == sc.euid.id)
            .then(|| sc.uid.name.clone())
            .flatten()
    });
    Actor {
        user: sc.auid.name.clone(),
        uid: sc.auid.id,
        effective_user,
        effective_uid: sc.euid.id,
        session: sc.ses.map(|s| s.to_string()),
        ..Default::default()
    }
}

/// The call a SYSCALL record made, and its skip kind.
fn call_of(sc: &SyscallRec) -> (Call, Option<&'static str>, String) {
    if let Some(name) = &sc.name {
        let call = syscalls::call_of_name(name.as_bytes());
        let kind = syscalls::kind_of_name(name.as_bytes());
        return (call, kind, format!("SYSCALL:{name}"));
    }
    let arch = sc.arch.unwrap_or(Arch::X86_64);
    match sc.nr {
        Some(nr) => match syscalls::name_of(arch, nr) {
            Some((name, kind)) => (
                syscalls::call_of_name(name.as_bytes()),
                Some(kind),
                kind.to_owned(),
            ),
            None => (Call::Unused, None, format!("SYSCALL:{nr}")),
        },
        None => (Call::Unused, Some("SYSCALL"), "SYSCALL".to_owned()),
    }
}

/// Build the event for `parts`. `first_type` names the event's first
/// record, for skipping events without a SYSCALL.
pub(super) fn build(
    parts: Parts,
    first_type: &'static str,
    origin: &Origin<'_>,
    procs: &mut ProcTable,
) -> Outcome {
    let Some(sc) = parts.syscall.as_deref() else {
        if parts.argv.seen {
            return process_start(&parts, None, origin, procs);
        }
        return Outcome::SkipStatic(first_type);
    };
    let (call, kind, kind_text) = call_of(sc);
    let kind_str = || kind.map_or_else(|| kind_text.clone(), str::to_owned);
    // Every syscall teaches the process table about its caller.
    if let Some(pid) = sc.pid
        && procs.get(origin.table_host(), pid).is_none()
    {
        procs.learn(origin.table_host(), pid, acting_info(sc, &parts), false);
    }
    match call {
        Call::Execve => {
            if sc.success == Some(false) {
                return Outcome::Skip(format!("{}:failed", kind_str()));
            }
            process_start(&parts, Some(sc), origin, procs)
        }
        Call::Connect => connect(&parts, sc, origin, procs, &kind_str()),
        Call::Socketcall if sc.a[0] == Some(SYS_CONNECT) => {
            connect(&parts, sc, origin, procs, "SYSCALL:socketcall(connect)")
        }
        Call::Open | Call::Openat | Call::Openat2 | Call::Creat => {
            let flags = match call {
                Call::Open => sc.a[1],
                Call::Openat => sc.a[2],
                Call::Creat => Some(O_CREAT | O_WRONLY | O_TRUNC),
                _ => None,
            };
            open(&parts, sc, flags, origin, procs, &kind_str())
        }
        Call::Rename => rename(&parts, sc, origin, procs, &kind_str()),
        Call::Socketcall | Call::Unused => match kind {
            Some(k) => Outcome::SkipStatic(k),
            None => Outcome::Skip(kind_text),
        },
    }
}

fn acting_info(sc: &SyscallRec, parts: &Parts) -> ProcInfo {
    ProcInfo {
        name: process_name(sc.exe.as_deref(), sc.comm.as_deref()),
        path: sc.exe.clone(),
        command_line: parts
            .proctitle
            .as_deref()
            .map(|p| proctitle_args(p).join(" "))
            .filter(|c| !c.is_empty()),
        ppid: sc.ppid,
    }
}

fn process_name(exe: Option<&str>, comm: Option<&str>) -> Option<String> {
    exe.map(basename)
        .filter(|n| !n.is_empty())
        .or(comm)
        .map(str::to_owned)
}

/// Parent name, path and ancestry of `ppid` from the table.
fn lineage(procs: &ProcTable, host: &str, ppid: Option<u32>, p: &mut Process) {
    let Some(ppid) = ppid else {
        return;
    };
    if let Some(info) = procs.get(host, ppid) {
        p.parent_name = info.name.clone();
        p.parent_path = info.path.clone();
    }
    p.ancestry = procs.chain(host, ppid);
}

fn process_start(
    parts: &Parts,
    sc: Option<&SyscallRec>,
    origin: &Origin<'_>,
    procs: &mut ProcTable,
) -> Outcome {
    let mut args: Vec<String> = parts.argv.args.iter().map(|a| text(a)).collect();
    if args.is_empty() {
        // PROCTITLE is cut at 128 bytes: only a fallback.
        if let Some(pt) = &parts.proctitle {
            args = proctitle_args(pt);
        }
    }
    let command_line = (!args.is_empty()).then(|| args.join(" "));
    let exe = sc.and_then(|s| s.exe.clone());
    let name = process_name(exe.as_deref(), sc.and_then(|s| s.comm.as_deref()))
        .or_else(|| args.first().map(|a| basename(a).to_owned()));
    let mut p = Process {
        pid: sc.and_then(|s| s.pid),
        name,
        path: exe,
        command_line,
        args,
        cwd: parts.cwd.clone(),
        parent_pid: sc.and_then(|s| s.ppid),
        ..Default::default()
    };
    let host = origin.table_host();
    lineage(procs, host, p.parent_pid, &mut p);
    if let Some(pid) = p.pid {
        procs.learn(
            host,
            pid,
            ProcInfo {
                name: p.name.clone(),
                path: p.path.clone(),
                command_line: p.command_line.clone(),
                ppid: p.parent_pid,
            },
            true,
        );
    }
    Outcome::Event(Box::new(Event {
        time: origin.time,
        source: "auditd",
        id: origin.id(),
        device: origin.device(),
        actor: sc.map(actor).unwrap_or_default(),
        process: Some(Box::new(p)),
        activity: Activity::ProcessStart(ProcessStart::default()),
    }))
}

/// The process that made a file or network syscall.
fn acting_process(
    parts: &Parts,
    sc: &SyscallRec,
    origin: &Origin<'_>,
    procs: &ProcTable,
) -> Process {
    let host = origin.table_host();
    let mut p = Process {
        pid: sc.pid,
        name: process_name(sc.exe.as_deref(), sc.comm.as_deref()),
        path: sc.exe.clone(),
        cwd: parts.cwd.clone(),
        parent_pid: sc.ppid,
        ..Default::default()
    };
    if let Some(pt) = &parts.proctitle {
        let args = proctitle_args(pt);
        p.command_line = (!args.is_empty()).then(|| args.join(" "));
    }
    if p.command_line.is_none() {
        // The exec this pid last made, if it is the same program.
        if let Some(info) = sc.pid.and_then(|pid| procs.get(host, pid))
            && info.path == p.path
        {
            p.command_line = info.command_line.clone();
        }
    }
    lineage(procs, host, p.parent_pid, &mut p);
    p
}

fn connect(
    parts: &Parts,
    sc: &SyscallRec,
    origin: &Origin<'_>,
    procs: &mut ProcTable,
    kind: &str,
) -> Outcome {
    // A non-blocking connect fails with EINPROGRESS and still connects.
    if sc.success == Some(false) && sc.exit != Some(-115) {
        return Outcome::Skip(format!("{kind}:failed"));
    }
    let (ip, port) = match &parts.sockaddr {
        Some(SockAddr::Inet(ip, port)) => (*ip, *port),
        Some(SockAddr::Unix) => return Outcome::Skip(format!("{kind}:unix")),
        Some(SockAddr::Other(fam)) => return Outcome::Skip(format!("{kind}:{fam}")),
        None => return Outcome::Skip(format!("{kind}:no address")),
    };
    let process = acting_process(parts, sc, origin, procs);
    Outcome::Event(Box::new(Event {
        time: origin.time,
        source: "auditd",
        id: origin.id(),
        device: origin.device(),
        actor: actor(sc),
        process: Some(Box::new(process)),
        activity: Activity::Network(NetworkFlow {
            dst: Endpoint {
                ip: Some(ip),
                port: Some(port),
                hostname: None,
            },
            ..Default::default()
        }),
    }))
}

fn file_event(
    parts: &Parts,
    sc: &SyscallRec,
    origin: &Origin<'_>,
    procs: &ProcTable,
    activity: FileActivity,
) -> Outcome {
    let process = acting_process(parts, sc, origin, procs);
    Outcome::Event(Box::new(Event {
        time: origin.time,
        source: "auditd",
        id: origin.id(),
        device: origin.device(),
        actor: actor(sc),
        process: Some(Box::new(process)),
        activity: Activity::File(activity),
    }))
}

fn item_path(parts: &Parts, nametype: NameType) -> Option<String> {
    parts
        .paths
        .iter()
        .filter(|p| p.nametype == nametype)
        .find_map(|p| p.name.as_deref())
        .map(|n| resolve(n, parts.cwd.as_deref()))
}

fn open(
    parts: &Parts,
    sc: &SyscallRec,
    flags: Option<u64>,
    origin: &Origin<'_>,
    procs: &ProcTable,
    kind: &str,
) -> Outcome {
    if sc.success == Some(false) {
        return Outcome::Skip(format!("{kind}:failed"));
    }
    let (operation, path) = if let Some(path) = item_path(parts, NameType::Create) {
        (FileOperation::Create, path)
    } else {
        let op = match flags {
            Some(f) if f & O_TRUNC != 0 && f & (O_WRONLY | O_RDWR) != 0 => FileOperation::Truncate,
            Some(f) if f & (O_WRONLY | O_RDWR) != 0 => FileOperation::Write,
            Some(_) => return Outcome::Skip(format!("{kind}:read-only")),
            None => return Outcome::Skip(format!("{kind}:flags unknown")),
        };
        // The file itself: the last item that is not its directory.
        let path = parts
            .paths
            .iter()
            .rev()
            .filter(|p| p.nametype != NameType::Parent)
            .find_map(|p| p.name.as_deref())
            .map(|n| resolve(n, parts.cwd.as_deref()));
        match path {
            Some(p) => (op, p),
            None => return Outcome::Skip(format!("{kind}:no path")),
        }
    };
    file_event(
        parts,
        sc,
        origin,
        procs,
        FileActivity {
            operation,
            path,
            source_path: None,
            size: None,
        },
    )
}

fn rename(
    parts: &Parts,
    sc: &SyscallRec,
    origin: &Origin<'_>,
    procs: &ProcTable,
    kind: &str,
) -> Outcome {
    if sc.success == Some(false) {
        return Outcome::Skip(format!("{kind}:failed"));
    }
    let deleted: Vec<&str> = parts
        .paths
        .iter()
        .filter(|p| p.nametype == NameType::Delete)
        .filter_map(|p| p.name.as_deref())
        .collect();
    // The new name is logged CREATE; when it replaced a file it is a
    // second DELETE item.
    let (path, source) = match item_path(parts, NameType::Create) {
        Some(p) => (p, deleted.first().copied()),
        None if deleted.len() >= 2 => (resolve(deleted[1], parts.cwd.as_deref()), Some(deleted[0])),
        None => return Outcome::Skip(format!("{kind}:no path")),
    };
    file_event(
        parts,
        sc,
        origin,
        procs,
        FileActivity {
            operation: FileOperation::Rename,
            path,
            source_path: source.map(|s| resolve(s, parts.cwd.as_deref())),
            size: None,
        },
    )
}
