//! Shared helpers for the end-to-end tests: writers of raw log lines in the
//! real formats (so scenarios are written here, as data, in the formats
//! users feed dumpwatch), and a runner that replays files through the real
//! host and the real shipped components and returns the OCSF findings.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use dumpwatch_config::Config;
use dumpwatch_event::{Activity, Actor, Device, Event, Process, ProcessStart};
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
    /// Epoch seconds event times count from ([`T0`] unless set).
    base: f64,
}

impl Audit {
    pub fn new() -> Audit {
        Audit::starting(T0)
    }

    /// Events timed from `base` (epoch seconds) instead of [`T0`]: live
    /// tests use the wall clock, since idle sources' watermarks follow it.
    pub fn starting(base: f64) -> Audit {
        Audit {
            blocks: Vec::new(),
            serial: 4000,
            last: String::new(),
            base,
        }
    }

    fn header(&mut self, secs: f64) -> String {
        self.serial += 1;
        let t = self.base + secs;
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

/// A normalized `pg_dump` start by `user` (uid `uid`) on `host`, for tests
/// and benches that feed the flow directly: each distinct (host, user)
/// opens one AN0676 window.
pub fn dump_start(host: String, user: String, uid: u32, pid: u32, time: i64, id: String) -> Event {
    Event {
        time,
        source: "auditd",
        id,
        device: Device {
            hostname: Some(host),
            ..Default::default()
        },
        actor: Actor {
            user: Some(user),
            uid: Some(uid),
            ..Default::default()
        },
        process: Some(Box::new(Process {
            pid: Some(pid),
            name: Some("pg_dump".into()),
            path: Some("/usr/bin/pg_dump".into()),
            command_line: Some("pg_dump crm".into()),
            parent_pid: Some(999),
            ..Default::default()
        })),
        activity: Activity::ProcessStart(ProcessStart::default()),
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

// ---------------------------------------------------------------------------
// Cloud and SaaS logs (AN0679, AN0680): CloudTrail records, VPC Flow Logs
// lines, Snowflake QUERY_HISTORY exports and Microsoft 365 audit records,
// written in the shapes the services deliver (see docs/formats/aws.md and
// docs/formats/saas.md).

/// `2026-03-02T10:00:00Z` for `T0 + secs` (whole seconds; `frac` digits of
/// milliseconds when asked).
pub fn iso_utc(secs: f64, millis: bool) -> String {
    let total_ms = ((T0 + secs) * 1000.0).round() as i64;
    let (days, ms_of_day) = (
        total_ms.div_euclid(86_400_000),
        total_ms.rem_euclid(86_400_000),
    );
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, frac) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000,
    );
    let base = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    if millis {
        format!("{base}.{frac:03}")
    } else {
        base
    }
}

/// An AWS caller as CloudTrail's `userIdentity` names it.
#[derive(Clone, Copy, Debug)]
pub struct AwsCaller {
    /// `IAMUser` or `AssumedRole`.
    pub kind: &'static str,
    pub arn: &'static str,
    /// The role of an assumed-role session.
    pub issuer: Option<&'static str>,
    pub key: &'static str,
    pub principal: &'static str,
}

pub const ACCOUNT: &str = "111122223333";

/// IAM user `mallory`.
pub const MALLORY: AwsCaller = AwsCaller {
    kind: "IAMUser",
    arn: "arn:aws:iam::111122223333:user/mallory",
    issuer: None,
    key: "AKIAQXAMPLE5USERKEY",
    principal: "AIDAQXAMPLEMALLORY01",
};

/// A session of the application role `app-orders`.
pub const APP_ORDERS: AwsCaller = AwsCaller {
    kind: "AssumedRole",
    arn: "arn:aws:sts::111122223333:assumed-role/app-orders/i-0a1b2c3d4e5f60718",
    issuer: Some("arn:aws:iam::111122223333:role/app-orders"),
    key: "ASIAQXAMPLE7HN4V2C3D",
    principal: "AROAQXAMPLEAPPORDERS:i-0a1b2c3d4e5f60718",
};

/// IAM user `eve`.
pub const EVE: AwsCaller = AwsCaller {
    kind: "IAMUser",
    arn: "arn:aws:iam::111122223333:user/eve",
    issuer: None,
    key: "AKIAQXAMPLEEVEKEY01",
    principal: "AIDAQXAMPLEEVE000001",
};

fn user_identity(who: &AwsCaller) -> Value {
    let mut identity = serde_json::json!({
        "type": who.kind,
        "principalId": who.principal,
        "arn": who.arn,
        "accountId": ACCOUNT,
        "accessKeyId": who.key,
    });
    match who.issuer {
        Some(role) => {
            identity["sessionContext"] = serde_json::json!({
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": who.principal.split(':').next().unwrap_or(""),
                    "arn": role,
                    "accountId": ACCOUNT,
                    "userName": role.rsplit('/').next().unwrap_or(role),
                },
                "attributes": {"creationDate": iso_utc(-3600.0, false) + "Z", "mfaAuthenticated": "false"},
            });
        }
        None => {
            identity["userName"] = Value::from(who.arn.rsplit('/').next().unwrap_or(""));
        }
    }
    identity
}

/// CloudTrail records, written as S3 delivers them or one per line.
#[derive(Clone, Debug, Default)]
pub struct CloudTrail {
    records: Vec<Value>,
}

impl CloudTrail {
    pub fn new() -> CloudTrail {
        CloudTrail::default()
    }

    /// A successful call; `id` is the eventID.
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        &mut self,
        secs: f64,
        id: &str,
        who: &AwsCaller,
        source: &str,
        name: &str,
        parameters: Value,
        data_event: bool,
    ) -> &mut Self {
        self.records.push(serde_json::json!({
            "eventVersion": "1.09",
            "userIdentity": user_identity(who),
            "eventTime": iso_utc(secs, false) + "Z",
            "eventSource": source,
            "eventName": name,
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.77",
            "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0-18-amd64 exe/x86_64.debian.12",
            "requestParameters": parameters,
            "responseElements": null,
            "requestID": format!("req-{id}"),
            "eventID": id,
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": !data_event,
            "recipientAccountId": ACCOUNT,
            "eventCategory": if data_event { "Data" } else { "Management" },
        }));
        self
    }

    /// The last record written, to adjust.
    pub fn last(&mut self) -> &mut Value {
        self.records.last_mut().unwrap()
    }

    /// A Data API ExecuteStatement on `cluster` (SQL redacted as CloudTrail
    /// logs it).
    pub fn statement(&mut self, secs: f64, id: &str, who: &AwsCaller, cluster: &str) -> &mut Self {
        self.call(
            secs,
            id,
            who,
            "rdsdata.amazonaws.com",
            "ExecuteStatement",
            serde_json::json!({
                "continueAfterTimeout": false,
                "database": "**********",
                "includeResultMetadata": true,
                "resourceArn": cluster,
                "schema": "**********",
                "secretArn": "arn:aws:secretsmanager:us-east-1:111122223333:secret:rds-db-credentials/orders-Xy12Ab",
                "sql": "**********",
            }),
            false,
        )
    }

    /// The same call failing with `code`.
    pub fn failed(&mut self, code: &str) -> &mut Self {
        self.last()["errorCode"] = Value::from(code);
        self.last()["errorMessage"] = Value::from("denied");
        self
    }

    #[allow(clippy::too_many_arguments)]
    fn s3(
        &mut self,
        secs: f64,
        id: &str,
        who: &AwsCaller,
        name: &str,
        bucket: &str,
        key: &str,
        bytes: u64,
        extra: Value,
    ) -> &mut Self {
        let mut parameters = serde_json::json!({
            "bucketName": bucket,
            "Host": format!("{bucket}.s3.us-east-1.amazonaws.com"),
            "key": key,
        });
        if let (Some(p), Some(e)) = (parameters.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        self.call(secs, id, who, "s3.amazonaws.com", name, parameters, true);
        let record = self.last();
        record["additionalEventData"] = serde_json::json!({
            "SignatureVersion": "SigV4",
            "bytesTransferredIn": bytes as f64,
            "bytesTransferredOut": 0.0,
        });
        record["resources"] = serde_json::json!([
            {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")},
            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")},
        ]);
        self
    }

    #[allow(clippy::too_many_arguments)]
    pub fn put(
        &mut self,
        secs: f64,
        id: &str,
        who: &AwsCaller,
        bucket: &str,
        key: &str,
        bytes: u64,
    ) -> &mut Self {
        self.s3(
            secs,
            id,
            who,
            "PutObject",
            bucket,
            key,
            bytes,
            serde_json::json!({}),
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub fn part(
        &mut self,
        secs: f64,
        id: &str,
        who: &AwsCaller,
        bucket: &str,
        key: &str,
        upload: &str,
        number: u32,
        bytes: u64,
    ) -> &mut Self {
        self.s3(
            secs,
            id,
            who,
            "UploadPart",
            bucket,
            key,
            bytes,
            serde_json::json!({"uploadId": upload, "partNumber": number.to_string()}),
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub fn complete(
        &mut self,
        secs: f64,
        id: &str,
        who: &AwsCaller,
        bucket: &str,
        key: &str,
        upload: &str,
    ) -> &mut Self {
        self.s3(
            secs,
            id,
            who,
            "CompleteMultipartUpload",
            bucket,
            key,
            412,
            serde_json::json!({"uploadId": upload}),
        )
    }

    /// ModifyDBClusterSnapshotAttribute `restore` for `accounts`.
    pub fn share(
        &mut self,
        secs: f64,
        id: &str,
        who: &AwsCaller,
        snapshot: &str,
        accounts: &[&str],
    ) -> &mut Self {
        self.call(
            secs,
            id,
            who,
            "rds.amazonaws.com",
            "ModifyDBClusterSnapshotAttribute",
            serde_json::json!({
                "dBClusterSnapshotIdentifier": snapshot,
                "attributeName": "restore",
                "valuesToAdd": accounts,
            }),
            false,
        )
    }

    pub fn export_task(
        &mut self,
        secs: f64,
        id: &str,
        who: &AwsCaller,
        source: &str,
        bucket: &str,
    ) -> &mut Self {
        self.call(
            secs,
            id,
            who,
            "rds.amazonaws.com",
            "StartExportTask",
            serde_json::json!({
                "exportTaskIdentifier": format!("export-{id}"),
                "sourceArn": source,
                "s3BucketName": bucket,
                "iamRoleArn": "arn:aws:iam::111122223333:role/rds-s3-export",
                "kmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            }),
            false,
        )
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// One `{"Records":[…]}` envelope on one line, as S3 delivers a log
    /// file.
    pub fn render_envelope(&self) -> String {
        format!("{}\n", serde_json::json!({ "Records": self.records }))
    }

    /// One record per line in the given order (indices into the records).
    pub fn render_lines(&self, order: &[usize]) -> String {
        order
            .iter()
            .map(|&i| format!("{}\n", self.records[i]))
            .collect()
    }

    /// One record per line, in the order written.
    pub fn render(&self) -> String {
        self.render_lines(&(0..self.records.len()).collect::<Vec<_>>())
    }
}

/// A VPC Flow Logs file in the default format, with its header line (as S3
/// delivers plain-text flow logs).
#[derive(Clone, Debug, Default)]
pub struct VpcFlowLog {
    rows: Vec<String>,
    ids: Vec<String>,
}

impl VpcFlowLog {
    pub const HEADER: &'static str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
    pub const ENI: &'static str = "eni-0f1e2d3c4b5a69788";

    pub fn new() -> VpcFlowLog {
        VpcFlowLog::default()
    }

    /// An accepted TCP record of `bytes` from `src:sport` to `dst:dport`
    /// over the minute starting at `secs`.
    pub fn flow(
        &mut self,
        secs: f64,
        src: &str,
        sport: u16,
        dst: &str,
        dport: u16,
        bytes: u64,
    ) -> &mut Self {
        let start = (T0 + secs) as i64;
        let end = start + 60;
        self.rows.push(format!(
            "2 {ACCOUNT} {} {src} {dst} {sport} {dport} 6 {} {bytes} {start} {end} ACCEPT OK",
            Self::ENI,
            bytes / 1400 + 1
        ));
        self.ids.push(format!(
            "{}/{start}/{end}/6/{src}/{sport}/{dst}/{dport}/ACCEPT",
            Self::ENI
        ));
        self
    }

    /// The event id dumpwatch gives record `i`.
    pub fn id(&self, i: usize) -> &str {
        &self.ids[i]
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render_order(&self, order: &[usize]) -> String {
        let mut s = format!("{}\n", Self::HEADER);
        for &i in order {
            s.push_str(&self.rows[i]);
            s.push('\n');
        }
        s
    }

    pub fn render(&self) -> String {
        self.render_order(&(0..self.rows.len()).collect::<Vec<_>>())
    }
}

/// One Snowflake `ACCOUNT_USAGE.QUERY_HISTORY` row.
#[derive(Clone, Debug)]
pub struct SnowflakeRow {
    pub id: String,
    pub secs: f64,
    pub text: String,
    pub user: String,
    pub role: String,
    pub database: String,
    pub schema: String,
    pub query_type: String,
    pub status: String,
    pub rows: u64,
    pub bytes: u64,
    pub hash: String,
}

/// A QUERY_HISTORY export (CSV with a header row, as `COPY INTO @stage`
/// unloads it, or one JSON object per line).
#[derive(Clone, Debug, Default)]
pub struct QueryHistory {
    rows: Vec<SnowflakeRow>,
}

impl QueryHistory {
    const COLUMNS: &'static [&'static str] = &[
        "QUERY_ID",
        "QUERY_TEXT",
        "DATABASE_NAME",
        "SCHEMA_NAME",
        "QUERY_TYPE",
        "USER_NAME",
        "ROLE_NAME",
        "WAREHOUSE_NAME",
        "EXECUTION_STATUS",
        "START_TIME",
        "END_TIME",
        "BYTES_SCANNED",
        "ROWS_PRODUCED",
        "QUERY_PARAMETERIZED_HASH",
        "QUERY_PARAMETERIZED_HASH_VERSION",
    ];

    pub fn new() -> QueryHistory {
        QueryHistory::default()
    }

    /// A successful query in PROD_DB.CRM by `user` with `role`, producing
    /// `rows` rows and scanning `bytes` bytes. The parameterized hash is
    /// derived from the text with its literals removed, as Snowflake does.
    #[allow(clippy::too_many_arguments)]
    pub fn query(
        &mut self,
        secs: f64,
        id: &str,
        user: &str,
        role: &str,
        text: &str,
        rows: u64,
        bytes: u64,
    ) -> &mut Self {
        let kind = text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let query_type = match kind.as_str() {
            "COPY" => "UNLOAD".to_string(),
            other => other.to_string(),
        };
        self.rows.push(SnowflakeRow {
            id: id.into(),
            secs,
            text: text.into(),
            user: user.into(),
            role: role.into(),
            database: "PROD_DB".into(),
            schema: "CRM".into(),
            query_type,
            status: "SUCCESS".into(),
            rows,
            bytes,
            hash: parameterized_hash(text),
        });
        self
    }

    /// The last row written, to adjust.
    pub fn last(&mut self) -> &mut SnowflakeRow {
        self.rows.last_mut().unwrap()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn fields(row: &SnowflakeRow) -> Vec<String> {
        vec![
            row.id.clone(),
            row.text.clone(),
            row.database.clone(),
            row.schema.clone(),
            row.query_type.clone(),
            row.user.clone(),
            row.role.clone(),
            "ANALYST_WH".into(),
            row.status.clone(),
            format!("{} +0000", iso_utc(row.secs, true).replace('T', " ")),
            format!("{} +0000", iso_utc(row.secs + 2.5, true).replace('T', " ")),
            row.bytes.to_string(),
            row.rows.to_string(),
            row.hash.clone(),
            "1".into(),
        ]
    }

    /// CSV with a header row, in the given order; fields with quotes,
    /// commas or newlines quoted, quotes doubled.
    pub fn render_csv_order(&self, order: &[usize]) -> String {
        let quote = |field: &str| {
            if field.contains(['"', ',', '\n', '\r']) {
                format!("\"{}\"", field.replace('"', "\"\""))
            } else {
                field.to_string()
            }
        };
        let mut s = Self::COLUMNS.join(",");
        s.push('\n');
        for &i in order {
            let fields: Vec<String> = Self::fields(&self.rows[i])
                .iter()
                .map(|f| quote(f))
                .collect();
            s.push_str(&fields.join(","));
            s.push('\n');
        }
        s
    }

    pub fn render_csv(&self) -> String {
        self.render_csv_order(&(0..self.rows.len()).collect::<Vec<_>>())
    }

    /// One JSON object per line (an unload of `OBJECT_CONSTRUCT(*)`).
    pub fn render_jsonl(&self) -> String {
        let mut s = String::new();
        for row in &self.rows {
            let mut object = serde_json::Map::new();
            for (name, value) in Self::COLUMNS.iter().zip(Self::fields(row)) {
                let value = match *name {
                    "BYTES_SCANNED" | "ROWS_PRODUCED" => Value::from(value.parse::<u64>().unwrap()),
                    _ => Value::from(value),
                };
                object.insert(name.to_string(), value);
            }
            s.push_str(&Value::Object(object).to_string());
            s.push('\n');
        }
        s
    }
}

/// A stand-in for QUERY_PARAMETERIZED_HASH: a stable hex digest of the
/// text with its literals replaced.
pub fn parameterized_hash(text: &str) -> String {
    let mut shape = String::new();
    let mut in_string = false;
    for c in text.chars() {
        match (in_string, c) {
            (false, '\'') => {
                in_string = true;
                shape.push('?');
            }
            (true, '\'') => in_string = false,
            (true, _) => {}
            (false, c) if c.is_ascii_digit() => {
                if !shape.ends_with('#') {
                    shape.push('#');
                }
            }
            (false, c) => shape.extend(c.to_uppercase()),
        }
    }
    let shape: String = shape.split_whitespace().collect::<Vec<_>>().join(" ");
    // FNV-1a, 64 bits, twice with different seeds: 32 hex digits.
    let fnv = |seed: u64| {
        shape.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    };
    format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x8422_2325_cbf2_9ce4)
    )
}

/// Microsoft 365 unified audit records (Management Activity API shape).
#[derive(Clone, Debug, Default)]
pub struct AuditLog365 {
    records: Vec<Value>,
}

impl AuditLog365 {
    pub const TENANT: &'static str = "7c1f5d2e-3a4b-4c6d-8e9f-0a1b2c3d4e5f";
    pub const SITE: &'static str = "https://contoso.sharepoint.com/sites/Finance/";
    pub const BROWSER: &'static str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80";

    pub fn new() -> AuditLog365 {
        AuditLog365::default()
    }

    /// A SharePoint file operation by `user` on `file` with `agent`.
    pub fn file(
        &mut self,
        secs: f64,
        id: &str,
        user: &str,
        operation: &str,
        file: &str,
        agent: &str,
    ) -> &mut Self {
        let extension = file.rsplit('.').next().unwrap_or("");
        self.records.push(serde_json::json!({
            "CreationTime": iso_utc(secs, false),
            "Id": id,
            "Operation": operation,
            "OrganizationId": Self::TENANT,
            "RecordType": 6,
            "UserKey": "i:0h.f|membership|10032002d1e4c0b7@live.com",
            "UserType": 0,
            "Version": 1,
            "Workload": "SharePoint",
            "ClientIP": "203.0.113.77",
            "ObjectId": format!("{}Shared Documents/{file}", Self::SITE),
            "UserId": user,
            "EventSource": "SharePoint",
            "ItemType": "File",
            "Site": "1469208d-6867-4c28-9c26-ea10cdc85a5b",
            "SiteUrl": Self::SITE,
            "SourceFileExtension": extension,
            "SourceFileName": file,
            "SourceRelativeUrl": "Shared Documents",
            "UserAgent": agent,
        }));
        self
    }

    /// `count` FileDownloaded by `user`, `gap` seconds apart, ids
    /// `prefix0…`.
    pub fn downloads(
        &mut self,
        secs: f64,
        gap: f64,
        count: usize,
        prefix: &str,
        user: &str,
    ) -> &mut Self {
        for n in 0..count {
            self.file(
                secs + gap * n as f64,
                &format!("{prefix}{n}"),
                user,
                "FileDownloaded",
                &format!("Customer_Export_{n:02}.xlsx"),
                Self::BROWSER,
            );
        }
        self
    }

    pub fn last(&mut self) -> &mut Value {
        self.records.last_mut().unwrap()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// A content blob: one JSON array on one line.
    pub fn render_blob(&self) -> String {
        format!("{}\n", Value::Array(self.records.clone()))
    }

    /// One record per line, in the given order.
    pub fn render_lines(&self, order: &[usize]) -> String {
        order
            .iter()
            .map(|&i| format!("{}\n", self.records[i]))
            .collect()
    }

    pub fn render(&self) -> String {
        self.render_lines(&(0..self.records.len()).collect::<Vec<_>>())
    }
}

/// A test-only guest component built by `host/bundle` (hostile analytics,
/// the next contract version), as a module source from the modules
/// directory.
pub fn test_module(name: &str) -> ModuleSource {
    let path = dumpwatch_bundle::test_guest(name)
        .unwrap_or_else(|| panic!("no test guest {name}: list it in host/bundle/build.rs"));
    ModuleSource {
        origin: path.to_owned(),
        bytes: std::borrow::Cow::Owned(std::fs::read(path).unwrap()),
        shipped: false,
    }
}
