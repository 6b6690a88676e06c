//! Shared helpers for the end-to-end tests: writers of raw log lines in the
//! real formats (so scenarios are written here, as data, in the formats
//! users feed dumpwatch), and a runner that replays files through the real
//! host and the real shipped components and returns the OCSF findings.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use dumpwatch_config::Config;
use dumpwatch_pipeline::analytics::ModuleSource;
use dumpwatch_pipeline::sink::{MemorySink, Sink};
use dumpwatch_pipeline::source::InputSpec;
use dumpwatch_pipeline::summary::RunSummary;
use dumpwatch_pipeline::{Mode, StateOptions, build, run_inputs};
use serde_json::Value;

/// 2026-03-02T10:00:00Z, the start of every scenario.
pub const T0: f64 = 1_772_445_600.0;

/// Epoch milliseconds of `T0 + secs`.
pub fn ms(secs: f64) -> i64 {
    ((T0 + secs) * 1000.0).round() as i64
}

const UNSET: u32 = 4_294_967_295;

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

/// Who runs a process, as auditd records it.
#[derive(Clone, Copy, Debug)]
pub struct Who {
    pub auid: u32,
    pub uid: u32,
    pub ses: u32,
}

impl Who {
    pub fn user(uid: u32) -> Who {
        Who {
            auid: uid,
            uid,
            ses: 7,
        }
    }
    /// A daemon: no login uid.
    pub fn daemon(uid: u32) -> Who {
        Who {
            auid: UNSET,
            uid,
            ses: UNSET,
        }
    }
}

/// Raw auditd log lines, one block of records per event, as the kernel
/// and auditd write them (x86_64, `node=` prefix).
#[derive(Clone, Debug, Default)]
pub struct Audit {
    blocks: Vec<Vec<String>>,
    serial: u64,
    last: String,
}

impl Audit {
    pub fn new() -> Audit {
        Audit {
            blocks: Vec::new(),
            serial: 4000,
            last: String::new(),
        }
    }

    fn header(&mut self, secs: f64) -> String {
        self.serial += 1;
        let t = T0 + secs;
        self.last = format!("{:.3}:{}", t, self.serial);
        format!("msg=audit({}):", self.last)
    }

    /// The event id dumpwatch gives the event written last
    /// (`host:TIME:SERIAL`).
    pub fn last_id(&self, host: &str) -> String {
        format!("{host}:{}", self.last)
    }

    fn ids(w: Who) -> String {
        let u = w.uid;
        format!(
            "auid={} uid={u} gid={u} euid={u} suid={u} fsuid={u} egid={u} sgid={u} fsgid={u} tty=pts0 ses={}",
            w.auid, w.ses
        )
    }

    /// `execve` of `exe` with `argv` by `pid` (child of `ppid`).
    #[allow(clippy::too_many_arguments)]
    pub fn exec(
        &mut self,
        secs: f64,
        host: &str,
        pid: u32,
        ppid: u32,
        w: Who,
        exe: &str,
        argv: &[&str],
    ) -> &mut Self {
        let h = self.header(secs);
        let comm: String = exe
            .rsplit('/')
            .next()
            .unwrap_or(exe)
            .chars()
            .take(15)
            .collect();
        let args: Vec<String> = argv
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if a.bytes().any(|b| b <= b' ' || b == b'"' || b > 0x7e) {
                    format!("a{i}={}", hex(a))
                } else {
                    format!("a{i}=\"{a}\"")
                }
            })
            .collect();
        let block = vec![
            format!(
                "node={host} type=SYSCALL {h} arch=c000003e syscall=59 success=yes exit=0 a0=55d1c2a0b2c0 a1=55d1c2a0b3e0 a2=55d1c2a0b4f0 a3=8 items=2 ppid={ppid} pid={pid} {} comm=\"{comm}\" exe=\"{exe}\" key=\"exec\"",
                Self::ids(w)
            ),
            format!(
                "node={host} type=EXECVE {h} argc={} {}",
                argv.len(),
                args.join(" ")
            ),
            format!("node={host} type=CWD {h} cwd=\"/\""),
            format!(
                "node={host} type=PATH {h} item=0 name=\"{exe}\" inode=5521 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"
            ),
            format!(
                "node={host} type=PROCTITLE {h} proctitle={}",
                hex(&argv.join("\0"))
            ),
        ];
        self.blocks.push(block);
        self
    }

    /// `openat(…, O_WRONLY|O_CREAT|O_TRUNC)` creating `path`.
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &mut self,
        secs: f64,
        host: &str,
        pid: u32,
        ppid: u32,
        w: Who,
        exe: &str,
        path: &str,
    ) -> &mut Self {
        let h = self.header(secs);
        let comm: String = exe
            .rsplit('/')
            .next()
            .unwrap_or(exe)
            .chars()
            .take(15)
            .collect();
        let dir = match path.rfind('/') {
            Some(i) => &path[..=i],
            None => "./",
        };
        let block = vec![
            format!(
                "node={host} type=SYSCALL {h} arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55d1c2a3c010 a2=241 a3=1b6 items=2 ppid={ppid} pid={pid} {} comm=\"{comm}\" exe=\"{exe}\" key=\"dump_files\"",
                Self::ids(w)
            ),
            format!("node={host} type=CWD {h} cwd=\"/\""),
            format!(
                "node={host} type=PATH {h} item=0 name=\"{dir}\" inode=131073 dev=08:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"
            ),
            format!(
                "node={host} type=PATH {h} item=1 name=\"{path}\" inode=131199 dev=08:01 mode=0100644 ouid={u} ogid={u} rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
                u = w.uid
            ),
            format!("node={host} type=PROCTITLE {h} proctitle={}", hex(&comm)),
        ];
        self.blocks.push(block);
        self
    }

    /// A non-blocking TCP `connect` to `ip:port` (IPv4).
    #[allow(clippy::too_many_arguments)]
    pub fn connect(
        &mut self,
        secs: f64,
        host: &str,
        pid: u32,
        ppid: u32,
        w: Who,
        exe: &str,
        ip: &str,
        port: u16,
    ) -> &mut Self {
        let h = self.header(secs);
        let comm: String = exe
            .rsplit('/')
            .next()
            .unwrap_or(exe)
            .chars()
            .take(15)
            .collect();
        let o: Vec<u8> = ip.split('.').map(|x| x.parse().unwrap()).collect();
        let saddr = format!(
            "0200{port:04X}{:02X}{:02X}{:02X}{:02X}0000000000000000",
            o[0], o[1], o[2], o[3]
        );
        let block = vec![
            format!(
                "node={host} type=SYSCALL {h} arch=c000003e syscall=42 success=no exit=-115 a0=5 a1=7ffc5e1a2c40 a2=10 a3=0 items=0 ppid={ppid} pid={pid} {} comm=\"{comm}\" exe=\"{exe}\" key=\"net\"",
                Self::ids(w)
            ),
            format!("node={host} type=SOCKADDR {h} saddr={saddr}"),
            format!("node={host} type=PROCTITLE {h} proctitle={}", hex(&comm)),
        ];
        self.blocks.push(block);
        self
    }

    /// Number of events written.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The log with events in the given order (indices into the events as
    /// written).
    pub fn render_order(&self, order: &[usize]) -> String {
        let mut s = String::new();
        for &i in order {
            for l in &self.blocks[i] {
                s.push_str(l);
                s.push('\n');
            }
        }
        s
    }

    /// The log in the order written.
    pub fn render(&self) -> String {
        self.render_order(&(0..self.blocks.len()).collect::<Vec<_>>())
    }
}

/// A Zeek TSV log (`#fields` header, as Zeek writes by default).
#[derive(Clone, Debug)]
pub struct ZeekLog {
    path: &'static str,
    fields: &'static [&'static str],
    rows: Vec<Vec<String>>,
}

impl ZeekLog {
    pub fn http() -> ZeekLog {
        ZeekLog {
            path: "http",
            fields: &[
                "ts",
                "uid",
                "id.orig_h",
                "id.orig_p",
                "id.resp_h",
                "id.resp_p",
                "trans_depth",
                "method",
                "host",
                "uri",
                "user_agent",
                "request_body_len",
                "response_body_len",
                "status_code",
            ],
            rows: Vec::new(),
        }
    }

    pub fn conn() -> ZeekLog {
        ZeekLog {
            path: "conn",
            fields: &[
                "ts",
                "uid",
                "id.orig_h",
                "id.orig_p",
                "id.resp_h",
                "id.resp_p",
                "proto",
                "service",
                "duration",
                "orig_bytes",
                "resp_bytes",
                "conn_state",
            ],
            rows: Vec::new(),
        }
    }

    /// An HTTP request from `src` to `dst:port`.
    #[allow(clippy::too_many_arguments)]
    pub fn request(
        &mut self,
        secs: f64,
        uid: &str,
        src: &str,
        dst: &str,
        port: u16,
        method: &str,
        uri: &str,
        body: u64,
    ) -> &mut Self {
        self.rows.push(vec![
            format!("{:.6}", T0 + secs),
            uid.into(),
            src.into(),
            "51544".into(),
            dst.into(),
            port.to_string(),
            "1".into(),
            method.into(),
            dst.into(),
            uri.into(),
            "curl/8.5.0".into(),
            body.to_string(),
            "2".into(),
            "200".into(),
        ]);
        self
    }

    /// A TCP connection from `src` to `dst:port` sending `orig` bytes.
    #[allow(clippy::too_many_arguments)]
    pub fn flow(
        &mut self,
        secs: f64,
        uid: &str,
        src: &str,
        dst: &str,
        port: u16,
        orig: u64,
        resp: u64,
    ) -> &mut Self {
        self.rows.push(vec![
            format!("{:.6}", T0 + secs),
            uid.into(),
            src.into(),
            "41822".into(),
            dst.into(),
            port.to_string(),
            "tcp".into(),
            "ssl".into(),
            "9.4".into(),
            orig.to_string(),
            resp.to_string(),
            "SF".into(),
        ]);
        self
    }

    pub fn render(&self) -> String {
        let mut s = format!(
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{}\n#fields\t{}\n",
            self.path,
            self.fields.join("\t")
        );
        for r in &self.rows {
            s.push_str(&r.join("\t"));
            s.push('\n');
        }
        s
    }
}

/// The inventory and settings every scenario uses, plus `extra` TOML.
pub fn scenario_config(extra: &str) -> String {
    format!(
        r#"
[inventory.hosts.db01]
addresses = ["10.0.0.5"]
[inventory.hosts.db02]
addresses = ["10.0.0.6"]
[inventory.users]
26 = "postgres"
1001 = "alice"
1002 = "bob"
{extra}
"#
    )
}

/// Where compiled components are cached across tests of one run.
pub fn test_cache_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("test-artifact-cache");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The outcome of a replay.
pub struct Replay {
    /// Findings in output order (creates and updates).
    pub findings: Vec<Value>,
    pub summary: RunSummary,
}

impl Replay {
    /// The last version of every finding, by uid.
    pub fn latest(&self) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for f in &self.findings {
            out.insert(uid(f).to_owned(), f.clone());
        }
        out
    }

    /// Findings emitted as creations (OCSF activity 1), by uid.
    pub fn creations(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for f in &self.findings {
            if f["activity_id"] == 1 {
                *out.entry(uid(f).to_owned()).or_default() += 1;
            }
        }
        out
    }
}

pub fn uid(f: &Value) -> &str {
    f["finding_info"]["uid"].as_str().unwrap()
}

/// Ids of a finding's related events, in order.
pub fn related_ids(f: &Value) -> Vec<String> {
    f["finding_info"]["related_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uid"].as_str().unwrap().to_owned())
        .collect()
}

/// Replay files through the real pipeline with the shipped analytics.
/// `files` are (file name, content); the config is TOML.
pub fn replay(files: &[(&str, String)], config: &str) -> Replay {
    replay_with(files, config, Vec::new())
}

/// Like [`replay`], with extra module sources (third-party analytics).
pub fn replay_with(files: &[(&str, String)], config: &str, extra: Vec<ModuleSource>) -> Replay {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::parse(config).unwrap_or_else(|p| panic!("config: {p:?}"));
    cfg.base_dir = dir.path().to_path_buf();
    cfg.engine.cache_dir = Some(test_cache_dir());
    let mut inputs = Vec::new();
    for (name, content) in files {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        inputs.push(InputSpec {
            path: p.display().to_string(),
            format: None,
            host: None,
            vpc_flow_fields: None,
        });
    }
    let mut modules: Vec<ModuleSource> = dumpwatch_bundle::SHIPPED
        .iter()
        .map(|s| ModuleSource::embedded(s.id, s.wasm))
        .collect();
    modules.extend(extra);
    let store = Arc::new(Mutex::new(Vec::new()));
    let sink = MemorySink {
        findings: store.clone(),
    };
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(sink)];
    let mut flow = build(&cfg, modules, sinks, &StateOptions::default())
        .unwrap_or_else(|p| panic!("build: {p:?}"));
    let summary = run_inputs(&mut flow, &cfg, Mode::Replay, &inputs);
    let findings = store.lock().unwrap().clone();
    Replay { findings, summary }
}

/// Zeek ssl.log and dns.log: the names a sensor saw (AN0677 names cloud
/// destinations with them, AN0678 takes them as cloud sync traffic).
impl ZeekLog {
    pub fn ssl() -> ZeekLog {
        ZeekLog {
            path: "ssl",
            fields: &[
                "ts",
                "uid",
                "id.orig_h",
                "id.orig_p",
                "id.resp_h",
                "id.resp_p",
                "version",
                "cipher",
                "server_name",
                "established",
            ],
            rows: Vec::new(),
        }
    }

    pub fn dns() -> ZeekLog {
        ZeekLog {
            path: "dns",
            fields: &[
                "ts",
                "uid",
                "id.orig_h",
                "id.orig_p",
                "id.resp_h",
                "id.resp_p",
                "proto",
                "trans_id",
                "query",
                "qtype_name",
                "rcode_name",
                "answers",
                "TTLs",
            ],
            rows: Vec::new(),
        }
    }

    /// A TLS session from `src` to `dst:443` with server name `name`.
    pub fn tls(&mut self, secs: f64, uid: &str, src: &str, dst: &str, name: &str) -> &mut Self {
        self.rows.push(vec![
            format!("{:.6}", T0 + secs),
            uid.into(),
            src.into(),
            "52814".into(),
            dst.into(),
            "443".into(),
            "TLSv13".into(),
            "TLS_AES_128_GCM_SHA256".into(),
            name.into(),
            "T".into(),
        ]);
        self
    }

    /// A DNS A query from `src` for `name`, answered with `answers`.
    pub fn query(
        &mut self,
        secs: f64,
        uid: &str,
        src: &str,
        name: &str,
        answers: &[&str],
    ) -> &mut Self {
        let ttls: Vec<&str> = answers.iter().map(|_| "60.000000").collect();
        let set = |items: &[&str]| {
            if items.is_empty() {
                "-".to_string()
            } else {
                items.join(",")
            }
        };
        self.rows.push(vec![
            format!("{:.6}", T0 + secs),
            uid.into(),
            src.into(),
            "53124".into(),
            "10.0.0.2".into(),
            "53".into(),
            "udp".into(),
            "4711".into(),
            name.into(),
            "A".into(),
            "NOERROR".into(),
            set(answers),
            set(&ttls),
        ]);
        self
    }
}
