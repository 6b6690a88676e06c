//! Synthetic log streams for `dumpwatch bench`, written in the real raw
//! formats: auditd for AN0676, Sysmon as NXLog-flattened JSON for AN0677.
//!
//! Most events are everyday noise the prefilter drops (ordinary programs,
//! log files, internal connections). A set share is relevant: half of it
//! complete attack chains (database client start, dump file written by the
//! same process, connection out to a public address), which must each give
//! one finding, and the rest client starts that must give none (a client
//! run alone, by an allowed account or not, is no finding).

use std::io::{self, Write};

/// First event time: 2026-03-02T08:00:00Z.
const T0: i64 = 1_772_438_400;
/// The stream covers one day of event time.
const SPAN_SECS: f64 = 86_400.0;

/// What was written.
#[derive(Clone, Copy, Debug, Default)]
pub struct Written {
    pub events: u64,
    pub bytes: u64,
    /// Complete chains: each must produce exactly one finding.
    pub chains: u64,
    /// Relevant events that must produce no finding.
    pub decoys: u64,
}

/// A small deterministic generator (the stream is the same on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() as usize) % xs.len()]
    }
}

/// Where in the stream the relevant events go: one slot every `every`
/// events, alternating chains and decoys.
struct Plan {
    every: u64,
}

impl Plan {
    fn new(events: u64, relevant_percent: f64) -> Plan {
        let relevant = (events as f64 * relevant_percent / 100.0).max(0.0);
        // A chain is three events, a decoy one: two slots hold four events.
        let slots = (relevant / 2.0).floor() as u64;
        Plan {
            every: events.checked_div(slots).map_or(u64::MAX, |n| n.max(4)),
        }
    }
}

/// Counts bytes on their way to the file.
struct Counting<W: Write> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

const LINUX_PROGRAMS: &[&str] = &[
    "/usr/bin/ls",
    "/usr/bin/grep",
    "/usr/bin/cat",
    "/usr/bin/python3",
    "/usr/bin/curl",
    "/usr/bin/systemctl",
    "/usr/sbin/cron",
    "/usr/bin/find",
    "/usr/bin/tar",
    "/usr/bin/ssh",
];
const LINUX_FILES: &[&str] = &[
    "/var/log/app/worker.log",
    "/var/tmp/cache.tmp",
    "/srv/app/data/session.bin",
    "/var/lib/app/queue.json",
];
const INTERNAL: &[&str] = &["10.0.1.20", "10.0.2.31", "10.0.3.42", "192.168.10.5"];
const PUBLIC: &[&str] = &["203.0.113.77", "198.51.100.23", "45.33.32.156"];

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

/// auditd lines (raw form, `node=` prefix) as the kernel and auditd write
/// them: SYSCALL, EXECVE, CWD, PATH, SOCKADDR, PROCTITLE records.
struct AuditWriter<W: Write> {
    out: Counting<W>,
    serial: u64,
}

impl<W: Write> AuditWriter<W> {
    fn head(&mut self, t: f64) -> String {
        self.serial += 1;
        format!("msg=audit({t:.3}:{})", self.serial)
    }

    fn ids(uid: u32) -> String {
        format!(
            "auid={uid} uid={uid} gid={uid} euid={uid} suid={uid} fsuid={uid} egid={uid} sgid={uid} fsgid={uid} tty=pts0 ses=7"
        )
    }

    fn comm(exe: &str) -> &str {
        let c = exe.rsplit('/').next().unwrap_or(exe);
        &c[..c.len().min(15)]
    }

    #[allow(clippy::too_many_arguments)]
    fn exec(
        &mut self,
        t: f64,
        host: &str,
        pid: u32,
        ppid: u32,
        uid: u32,
        exe: &str,
        argv: &[&str],
    ) -> io::Result<()> {
        let h = self.head(t);
        let comm = Self::comm(exe);
        let ids = Self::ids(uid);
        let args: Vec<String> = argv
            .iter()
            .enumerate()
            .map(|(i, a)| format!("a{i}=\"{a}\""))
            .collect();
        writeln!(
            self.out,
            "node={host} type=SYSCALL {h}: arch=c000003e syscall=59 success=yes exit=0 a0=55d1c2a0b2c0 a1=55d1c2a0b3e0 a2=55d1c2a0b4f0 a3=8 items=2 ppid={ppid} pid={pid} {ids} comm=\"{comm}\" exe=\"{exe}\" key=\"exec\""
        )?;
        writeln!(
            self.out,
            "node={host} type=EXECVE {h}: argc={} {}",
            argv.len(),
            args.join(" ")
        )?;
        writeln!(self.out, "node={host} type=CWD {h}: cwd=\"/\"")?;
        writeln!(
            self.out,
            "node={host} type=PATH {h}: item=0 name=\"{exe}\" inode=5521 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"
        )?;
        writeln!(
            self.out,
            "node={host} type=PROCTITLE {h}: proctitle={}",
            hex(&argv.join("\0"))
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn write_file(
        &mut self,
        t: f64,
        host: &str,
        pid: u32,
        ppid: u32,
        uid: u32,
        exe: &str,
        path: &str,
    ) -> io::Result<()> {
        let h = self.head(t);
        let comm = Self::comm(exe);
        let ids = Self::ids(uid);
        let dir = path.rfind('/').map_or("./", |i| &path[..=i]);
        writeln!(
            self.out,
            "node={host} type=SYSCALL {h}: arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55d1c2a3c010 a2=241 a3=1b6 items=2 ppid={ppid} pid={pid} {ids} comm=\"{comm}\" exe=\"{exe}\" key=\"files\""
        )?;
        writeln!(self.out, "node={host} type=CWD {h}: cwd=\"/\"")?;
        writeln!(
            self.out,
            "node={host} type=PATH {h}: item=0 name=\"{dir}\" inode=131073 dev=08:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"
        )?;
        writeln!(
            self.out,
            "node={host} type=PATH {h}: item=1 name=\"{path}\" inode=131199 dev=08:01 mode=0100644 ouid={uid} ogid={uid} rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"
        )?;
        writeln!(
            self.out,
            "node={host} type=PROCTITLE {h}: proctitle={}",
            hex(comm)
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn connect(
        &mut self,
        t: f64,
        host: &str,
        pid: u32,
        ppid: u32,
        uid: u32,
        exe: &str,
        ip: &str,
        port: u16,
    ) -> io::Result<()> {
        let h = self.head(t);
        let comm = Self::comm(exe);
        let ids = Self::ids(uid);
        let octets: String = ip
            .split('.')
            .map(|o| format!("{:02X}", o.parse::<u8>().unwrap_or(0)))
            .collect();
        writeln!(
            self.out,
            "node={host} type=SYSCALL {h}: arch=c000003e syscall=42 success=no exit=-115 a0=5 a1=7ffc5e1a2c40 a2=10 a3=0 items=0 ppid={ppid} pid={pid} {ids} comm=\"{comm}\" exe=\"{exe}\" key=\"net\""
        )?;
        writeln!(
            self.out,
            "node={host} type=SOCKADDR {h}: saddr=0200{port:04X}{octets}0000000000000000"
        )?;
        writeln!(
            self.out,
            "node={host} type=PROCTITLE {h}: proctitle={}",
            hex(comm)
        )
    }
}

/// The Linux stream: auditd from 50 hosts; chains for AN0676.
pub fn linux(out: impl Write, events: u64, relevant_percent: f64) -> io::Result<Written> {
    let mut w = AuditWriter {
        out: Counting {
            inner: out,
            bytes: 0,
        },
        serial: 1000,
    };
    let plan = Plan::new(events, relevant_percent);
    let mut rng = Lcg(42);
    let mut written = Written::default();
    let step = SPAN_SECS / events.max(1) as f64;
    let mut i = 0u64;
    let mut slot = 0u64;
    while i < events {
        let t = T0 as f64 + i as f64 * step;
        let host = format!("srv{:02}", i % 50);
        let pid = 20_000 + (i % 30_000) as u32;
        if i % plan.every == plan.every / 2 && i + 3 <= events {
            slot += 1;
            // One user per slot: every chain is its own entity.
            let uid = 5000 + (slot % 60_000) as u32;
            if slot % 2 == 1 {
                let dump = format!("/home/u{uid}/export_{slot}.sql");
                w.exec(
                    t,
                    &host,
                    pid,
                    pid - 1,
                    uid,
                    "/usr/bin/pg_dump",
                    &["pg_dump", "-f", &dump, "sales"],
                )?;
                w.write_file(t + 4.0, &host, pid, pid - 1, uid, "/usr/bin/pg_dump", &dump)?;
                w.connect(
                    t + 30.0,
                    &host,
                    pid + 1,
                    pid - 1,
                    uid,
                    "/usr/bin/curl",
                    rng.pick(PUBLIC),
                    443,
                )?;
                written.chains += 1;
                i += 3;
            } else {
                w.exec(
                    t,
                    &host,
                    pid,
                    pid - 1,
                    uid,
                    "/usr/bin/psql",
                    &["psql", "-c", "select 1"],
                )?;
                written.decoys += 1;
                i += 1;
            }
            continue;
        }
        let uid = 1000 + (rng.next() % 40) as u32;
        match rng.next() % 20 {
            0..=11 => {
                let exe = rng.pick(LINUX_PROGRAMS);
                let name = exe.rsplit('/').next().unwrap_or(exe);
                w.exec(t, &host, pid, pid - 1, uid, exe, &[name, "-q", "/srv/app"])?;
            }
            12..=16 => {
                let path = rng.pick(LINUX_FILES);
                w.write_file(t, &host, pid, pid - 1, uid, "/usr/bin/python3", path)?;
            }
            _ => {
                let ip = rng.pick(INTERNAL);
                w.connect(t, &host, pid, pid - 1, uid, "/usr/bin/python3", ip, 5432)?;
            }
        }
        i += 1;
    }
    w.out.flush()?;
    written.events = i;
    written.bytes = w.out.bytes;
    Ok(written)
}

const WINDOWS_PROGRAMS: &[(&str, &str)] = &[
    (
        "C:\\Windows\\System32\\svchost.exe",
        "svchost.exe -k netsvcs",
    ),
    (
        "C:\\Windows\\System32\\conhost.exe",
        "conhost.exe 0xffffffff -ForceV1",
    ),
    (
        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
        "chrome.exe --type=renderer",
    ),
    ("C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe"),
    (
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
        "OUTLOOK.EXE",
    ),
];
const WINDOWS_FILES: &[&str] = &[
    "C:\\Windows\\Temp\\MpCmdRun.log",
    "C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\mpcache.bin",
    "C:\\Users\\Public\\Documents\\report.docx",
];

/// One Sysmon record as NXLog's `im_msvistalog` flattens it to JSON.
struct SysmonWriter<W: Write> {
    out: Counting<W>,
    record: u64,
}

impl<W: Write> SysmonWriter<W> {
    fn utc(t: f64) -> String {
        let ms = (t * 1000.0).round() as i64;
        match jiff::Timestamp::from_millisecond(ms) {
            Ok(ts) => ts.strftime("%Y-%m-%d %H:%M:%S%.3f").to_string(),
            Err(_) => String::from("1970-01-01 00:00:00.000"),
        }
    }

    fn common(&mut self, t: f64, host: &str, id: u32, user: &str) -> String {
        self.record += 1;
        let utc = Self::utc(t);
        format!(
            "\"EventTime\":\"{}\",\"Hostname\":\"{host}.corp.example\",\"Keywords\":\"0x8000000000000000\",\"EventType\":\"INFO\",\"SeverityValue\":2,\"Severity\":\"INFO\",\"EventID\":{id},\"SourceName\":\"Microsoft-Windows-Sysmon\",\"ProviderGuid\":\"{{5770385f-c22a-43e0-bf4c-06f5698ffbd9}}\",\"Version\":5,\"RecordNumber\":{},\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Domain\":\"NT AUTHORITY\",\"AccountName\":\"SYSTEM\",\"UserID\":\"S-1-5-18\",\"RuleName\":\"-\",\"UtcTime\":\"{utc}\",\"User\":\"CORP\\\\{user}\"",
            &utc[..19],
            self.record
        )
    }

    fn guid(pid: u32) -> String {
        format!(
            "{{6f1d2a3b-{:04x}-67c5-{:04x}-000000001100}}",
            pid >> 16,
            pid & 0xffff
        )
    }

    fn js(s: &str) -> String {
        s.replace('\\', "\\\\").replace('"', "\\\"")
    }

    #[allow(clippy::too_many_arguments)]
    fn process(
        &mut self,
        t: f64,
        host: &str,
        user: &str,
        pid: u32,
        image: &str,
        cmd: &str,
        parent: &str,
    ) -> io::Result<()> {
        let c = self.common(t, host, 1, user);
        writeln!(
            self.out,
            "{{{c},\"ProcessGuid\":\"{}\",\"ProcessId\":\"{pid}\",\"Image\":\"{}\",\"CommandLine\":\"{}\",\"CurrentDirectory\":\"C:\\\\Users\\\\{user}\\\\\",\"IntegrityLevel\":\"Medium\",\"ParentProcessGuid\":\"{}\",\"ParentProcessId\":\"{}\",\"ParentImage\":\"{}\",\"SourceModuleName\":\"eventlog\",\"SourceModuleType\":\"im_msvistalog\"}}",
            Self::guid(pid),
            Self::js(image),
            Self::js(cmd),
            Self::guid(pid - 1),
            pid - 1,
            Self::js(parent),
        )
    }

    fn file(
        &mut self,
        t: f64,
        host: &str,
        user: &str,
        pid: u32,
        image: &str,
        path: &str,
    ) -> io::Result<()> {
        let c = self.common(t, host, 11, user);
        writeln!(
            self.out,
            "{{{c},\"ProcessGuid\":\"{}\",\"ProcessId\":\"{pid}\",\"Image\":\"{}\",\"TargetFilename\":\"{}\",\"CreationUtcTime\":\"{}\",\"SourceModuleName\":\"eventlog\",\"SourceModuleType\":\"im_msvistalog\"}}",
            Self::guid(pid),
            Self::js(image),
            Self::js(path),
            Self::utc(t),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn network(
        &mut self,
        t: f64,
        host: &str,
        user: &str,
        pid: u32,
        image: &str,
        ip: &str,
        port: u16,
    ) -> io::Result<()> {
        let c = self.common(t, host, 3, user);
        writeln!(
            self.out,
            "{{{c},\"ProcessGuid\":\"{}\",\"ProcessId\":\"{pid}\",\"Image\":\"{}\",\"Protocol\":\"tcp\",\"Initiated\":\"true\",\"SourceIsIpv6\":\"false\",\"SourceIp\":\"10.20.0.15\",\"SourcePort\":\"{}\",\"DestinationIsIpv6\":\"false\",\"DestinationIp\":\"{ip}\",\"DestinationHostname\":\"-\",\"DestinationPort\":\"{port}\",\"SourceModuleName\":\"eventlog\",\"SourceModuleType\":\"im_msvistalog\"}}",
            Self::guid(pid),
            Self::js(image),
            49_152 + pid % 16_000,
        )
    }
}

/// The Windows stream: Sysmon 1, 3 and 11 from 50 workstations; chains for
/// AN0677.
pub fn windows(out: impl Write, events: u64, relevant_percent: f64) -> io::Result<Written> {
    let mut w = SysmonWriter {
        out: Counting {
            inner: out,
            bytes: 0,
        },
        record: 0,
    };
    let plan = Plan::new(events, relevant_percent);
    let mut rng = Lcg(7);
    let mut written = Written::default();
    let step = SPAN_SECS / events.max(1) as f64;
    let mut i = 0u64;
    let mut slot = 0u64;
    while i < events {
        let t = T0 as f64 + i as f64 * step;
        let host = format!("ws{:02}", i % 50);
        let pid = 4000 + (i % 60_000) as u32;
        if i % plan.every == plan.every / 2 && i + 3 <= events {
            slot += 1;
            let user = format!("user{slot}");
            let tool = format!("C:\\Users\\{user}\\Downloads\\sqlcmd.exe");
            if slot % 2 == 1 {
                let export =
                    format!("C:\\Users\\{user}\\AppData\\Local\\Temp\\customers_{slot}.csv");
                w.process(
                    t,
                    &host,
                    &user,
                    pid,
                    &tool,
                    "sqlcmd.exe -S db01 -Q \"select * from customers\" -o customers.csv",
                    "C:\\Windows\\System32\\cmd.exe",
                )?;
                w.file(t + 3.0, &host, &user, pid, &tool, &export)?;
                w.network(t + 40.0, &host, &user, pid, &tool, rng.pick(PUBLIC), 443)?;
                written.chains += 1;
                i += 3;
            } else {
                w.process(
                    t,
                    &host,
                    &user,
                    pid,
                    &tool,
                    "sqlcmd.exe -S db01 -Q \"select 1\"",
                    "C:\\Windows\\System32\\cmd.exe",
                )?;
                written.decoys += 1;
                i += 1;
            }
            continue;
        }
        let user = format!("staff{}", rng.next() % 40);
        let (image, cmd) = WINDOWS_PROGRAMS[(rng.next() as usize) % WINDOWS_PROGRAMS.len()];
        match rng.next() % 20 {
            0..=9 => w.process(
                t,
                &host,
                &user,
                pid,
                image,
                cmd,
                "C:\\Windows\\explorer.exe",
            )?,
            10..=15 => w.file(t, &host, &user, pid, image, rng.pick(WINDOWS_FILES))?,
            _ => w.network(t, &host, &user, pid, image, rng.pick(INTERNAL), 443)?,
        }
        i += 1;
    }
    w.out.flush()?;
    written.events = i;
    written.bytes = w.out.bytes;
    Ok(written)
}
