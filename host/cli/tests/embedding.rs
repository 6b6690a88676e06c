//! dumpwatch inside real log pipelines, as a process: HTTP ingest driven
//! with the exact request shapes Vector's `http` sink and Fluent Bit's
//! `http` output document (batches, compression, retries after 429/503,
//! a SIGKILL mid-stream and a resend of what was not acknowledged), bad
//! requests of every kind, and a real rsyslog forwarding auditd lines
//! through `omprog` and through TCP to the syslog input.

#![allow(clippy::unwrap_used)]

#[path = "embedding/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dumpwatch_tests::scenario_config;
use serde_json::Value;
use support::*;

fn http_config(dir: &Path, port: u16, extra_server: &str) -> String {
    format!(
        r#"
[engine]
state_dir = "{dir}/state"
cache_dir = "{cache}"
checkpoint_interval = "1s"
[server]
listen = "127.0.0.1:{port}"
max_body = "1MiB"
request_timeout = "2s"
ack_timeout = "20s"
max_in_flight = 1
{extra_server}
[[inputs]]
type = "http"
format = "auditd"
token = "audit-token-0123"
host_field = "host"
[[inputs]]
type = "http"
format = "zeek"
token = "zeek-token-4567"
[[sinks]]
type = "file"
path = "{dir}/findings.ndjson"
{inventory}
"#,
        dir = dir.display(),
        cache = dumpwatch_tests::test_cache_dir().display(),
        inventory = scenario_config(""),
    )
}

/// What replaying the same logs as files finds, and how many events the
/// audit log holds.
fn expected(audit: &str, http: &str) -> (BTreeMap<String, Value>, u64) {
    let r = dumpwatch_tests::replay(
        &[
            ("audit.log", audit.to_owned()),
            ("http.log", http.to_owned()),
        ],
        &scenario_config(""),
    );
    let latest = r.latest();
    assert!(
        latest.len() >= 10,
        "the scenario must produce findings: {}",
        latest.len()
    );
    let audit_events = r
        .summary
        .inputs
        .iter()
        .find(|(i, _)| i.path.ends_with("audit.log"))
        .map(|(i, _)| i.stats.normalized)
        .unwrap();
    (latest, audit_events)
}

/// One log's requests, each resent until answered 200 (as Vector and
/// Fluent Bit retry on 429, 5xx and connection errors).
struct Sender {
    path: &'static str,
    token: &'static str,
    requests: Vec<Shaped>,
}

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    refused: Mutex<BTreeMap<u16, u64>>,
    connection_errors: AtomicU64,
}

fn send_all(addr: Arc<Mutex<SocketAddr>>, s: Sender, tally: Arc<Tally>, deadline: Instant) {
    for (headers, body) in s.requests {
        let auth = format!("Bearer {}", s.token);
        let mut h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        h.push(("Authorization", &auth));
        let mut backoff = Duration::from_millis(20);
        loop {
            assert!(
                Instant::now() < deadline,
                "{}: requests never accepted",
                s.path
            );
            let a = *addr.lock().unwrap();
            match request(a, "POST", s.path, &h, &body) {
                Ok(r) if r.code == 200 => {
                    tally.ok.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Ok(r) => {
                    assert!(
                        matches!(r.code, 429 | 503),
                        "{}: unexpected answer {} {}",
                        s.path,
                        r.code,
                        r.body
                    );
                    assert_eq!(r.header("Retry-After"), Some("1"));
                    *tally.refused.lock().unwrap().entry(r.code).or_default() += 1;
                }
                Err(_) => {
                    tally.connection_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_millis(400));
        }
    }
}

fn senders(audit: &str, http: &str) -> Vec<Sender> {
    vec![
        Sender {
            path: "/ingest/auditd",
            token: "audit-token-0123",
            requests: batches(audit, 150)
                .iter()
                .map(|b| vector_ndjson_zstd(b, "agent01"))
                .collect(),
        },
        Sender {
            path: "/ingest/zeek",
            token: "zeek-token-4567",
            requests: batches(http, 7)
                .iter()
                .map(|b| fluent_bit_json_gzip(b))
                .collect(),
        },
    ]
}

fn check(expected: &BTreeMap<String, Value>, fs: &[Value], what: &str) {
    let (got, created) = outcome(fs);
    let missing: Vec<_> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
    assert!(missing.is_empty(), "{what}: missing findings {missing:?}");
    let extra: Vec<_> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(
        extra.is_empty(),
        "{what}: findings replay does not make {extra:?}"
    );
    let dups: Vec<_> = created.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dups.is_empty(), "{what}: duplicated creations {dups:?}");
    for (uid, f) in expected {
        assert_eq!(
            got[uid]["unmapped"]["entities"], f["unmapped"]["entities"],
            "{what}: entities of {uid}"
        );
        assert_eq!(
            got[uid]["finding_info"]["analytic"]["uid"],
            f["finding_info"]["analytic"]["uid"]
        );
    }
}

#[test]
fn vector_and_fluent_bit_requests_find_every_theft_and_overload_is_answered() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (a, h) = scenario(60);
    let (audit, http) = (a.render(), h.render());
    let (want, audit_events) = expected(&audit, &http);
    let port = free_port();
    let cfg = dir.join("pipeline.toml");
    std::fs::write(&cfg, http_config(dir, port, "")).unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let d = Dumpwatch::start(&cfg, Some(addr));

    let tally = Arc::new(Tally::default());
    let shared = Arc::new(Mutex::new(addr));
    let deadline = Instant::now() + Duration::from_secs(120);
    let threads: Vec<_> = senders(&audit, &http)
        .into_iter()
        .map(|s| {
            let (t, a) = (tally.clone(), shared.clone());
            std::thread::spawn(move || send_all(a, s, t, deadline))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let fs = wait_for_findings(&dir.join("findings.ndjson"), &want, Duration::from_secs(60));
    // The engine publishes its counts every half second.
    std::thread::sleep(Duration::from_millis(1200));
    let metrics = request(addr, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(metrics.code, 200);
    let log = d.stop();
    check(&want, &fs, "http ingest");

    // Two sequential senders and one request in flight at a time: the
    // second sender is refused (429) and retries.
    let refused = tally.refused.lock().unwrap().clone();
    assert!(
        refused.get(&429).copied().unwrap_or(0) > 0,
        "no 429: {refused:?}\n{log}"
    );
    let m = &metrics.body;
    let events_in = metric(m, "dumpwatch_events_in_total", &[("source", "auditd")]);
    // The assembler still holds the last events (no record after them
    // closes them yet; they are in the checkpoint, not lost).
    assert!(
        events_in <= audit_events as f64 && events_in + 3.0 >= audit_events as f64,
        "events in {events_in} of {audit_events}:\n{m}"
    );
    assert!(
        metric(m, "dumpwatch_events_in_total", &[("source", "zeek")]) > 0.0,
        "{m}"
    );
    assert_eq!(
        metric(
            m,
            "dumpwatch_http_requests_total",
            &[("input", "auditd"), ("code", "200")]
        ),
        tally_ok_for(&audit, 150),
        "{m}"
    );
    assert!(
        metric(m, "dumpwatch_http_requests_total", &[("code", "429")]) > 0.0,
        "{m}"
    );
    assert!(
        metric(
            m,
            "dumpwatch_ingest_rejected_total",
            &[("reason", "too many requests")]
        ) > 0.0
    );
    assert!(
        metric(
            m,
            "dumpwatch_events_routed_total",
            &[("analytic", "AN0676")]
        ) > 0.0,
        "{m}"
    );
    assert!(
        metric(
            m,
            "dumpwatch_findings_total",
            &[("analytic", "AN0676"), ("activity", "create")]
        ) > 0.0,
        "{m}"
    );
    assert!(metric(m, "dumpwatch_checkpoints_total", &[]) > 0.0, "{m}");
    // A component's linear memory: at least its initial size, and far from
    // the 512 MiB cap for this small stream.
    let memory = metric(m, "dumpwatch_guest_memory_bytes", &[("analytic", "AN0676")]);
    assert!((65_536.0..64.0 * 1024.0 * 1024.0).contains(&memory), "{m}");
    for name in [
        "checkpoint_age_seconds",
        "queue_depth",
        "late_events",
        "guest_traps",
        "reloads",
    ] {
        assert!(
            m.contains(&format!("# TYPE dumpwatch_{name} ")),
            "{name} missing:\n{m}"
        );
    }
    assert!(
        metric(m, "dumpwatch_checkpoint_age_seconds", &[]) < 30.0,
        "{m}"
    );
}

fn tally_ok_for(text: &str, per: usize) -> f64 {
    text.lines().count().div_ceil(per) as f64
}

#[test]
fn sigkill_mid_stream_and_resend_lose_no_event_and_duplicate_no_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (a, h) = scenario(90);
    let (audit, http) = (a.render(), h.render());
    let (want, _) = expected(&audit, &http);
    let port = free_port();
    let cfg = dir.join("pipeline.toml");
    std::fs::write(&cfg, http_config(dir, port, "")).unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut d = Dumpwatch::start(&cfg, Some(addr));

    let tally = Arc::new(Tally::default());
    let shared = Arc::new(Mutex::new(addr));
    let deadline = Instant::now() + Duration::from_secs(240);
    let done = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = senders(&audit, &http)
        .into_iter()
        .map(|s| {
            let (t, a) = (tally.clone(), shared.clone());
            std::thread::spawn(move || send_all(a, s, t, deadline))
        })
        .collect();
    let watcher = {
        let done = done.clone();
        std::thread::spawn(move || {
            for t in threads {
                t.join().unwrap();
            }
            done.store(true, Ordering::Relaxed);
        })
    };
    // Kill at varied points while requests flow, restart at once: the
    // senders see connection errors and resend what was not answered.
    let mut kills = 0;
    let mut seed = 0x5eed_u64;
    while !done.load(Ordering::Relaxed) && kills < 6 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait = Duration::from_millis(150 + (seed >> 33) % 600);
        std::thread::sleep(wait);
        if done.load(Ordering::Relaxed) {
            break;
        }
        d.kill();
        kills += 1;
        d = Dumpwatch::start(&cfg, Some(addr));
    }
    watcher.join().unwrap();
    let fs = wait_for_findings(&dir.join("findings.ndjson"), &want, Duration::from_secs(60));
    let log = d.stop();
    assert!(kills >= 2, "only {kills} kills landed mid-stream");
    assert!(
        tally.connection_errors.load(Ordering::Relaxed) > 0,
        "no request was cut by a kill"
    );
    check(&want, &fs, &format!("{kills} kills\n{log}"));
}

#[test]
fn bad_requests_are_answered_counted_and_disturb_no_other_sender() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let port = free_port();
    let cfg = dir.join("pipeline.toml");
    std::fs::write(
        &cfg,
        http_config(dir, port, "admin_token = \"admin-token-0123456789\""),
    )
    .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let d = Dumpwatch::start(&cfg, Some(addr));
    let auth = ("Authorization", "Bearer audit-token-0123");
    let json = ("Content-Type", "application/json");
    let line = "node=db01 type=EOE msg=audit(1772445600.000:1):";
    let good = serde_json::json!([{ "message": line, "host": "db01" }]).to_string();

    // A slow client: headers, then a trickle of its body.
    let slow = std::thread::spawn(move || {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"POST /ingest/auditd HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer audit-token-0123\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[").unwrap();
        let started = Instant::now();
        let r = read_answer(&mut s).unwrap();
        (r.code, started.elapsed())
    });
    // A client that never finishes its headers.
    let stuck = std::thread::spawn(move || {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"POST /ingest/auditd HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut b = [0u8; 64];
        let started = Instant::now();
        let _ = std::io::Read::read(&mut s, &mut b);
        started.elapsed()
    });
    std::thread::sleep(Duration::from_millis(100));
    // Other senders go on while those two hang.
    let t = Instant::now();
    let r = request(
        addr,
        "POST",
        "/ingest/auditd",
        &[auth, json],
        good.as_bytes(),
    )
    .unwrap();
    assert_eq!(r.code, 200, "{}", r.body);
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "a good request waited {:?}",
        t.elapsed()
    );

    // (what, headers, body, answer, counted reason)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            "not JSON",
            vec![auth, json],
            b"this is not json".to_vec(),
            400,
            "not JSON",
        ),
        (
            "broken array",
            vec![auth, json],
            b"[{\"message\":".to_vec(),
            400,
            "not JSON",
        ),
        (
            "wrong type",
            vec![auth, ("Content-Type", "image/png")],
            good.clone().into_bytes(),
            415,
            "unsupported content type",
        ),
        (
            "msgpack",
            vec![auth, ("Content-Type", "application/msgpack")],
            vec![0x91, 0x01],
            415,
            "unsupported content type",
        ),
        (
            "bad encoding",
            vec![auth, json, ("Content-Encoding", "br")],
            good.clone().into_bytes(),
            415,
            "unsupported encoding",
        ),
        (
            "corrupt gzip",
            vec![auth, json, ("Content-Encoding", "gzip")],
            b"garbage".to_vec(),
            400,
            "bad compression",
        ),
        (
            "oversized",
            vec![auth, json],
            vec![b' '; 2 << 20],
            413,
            "body too large",
        ),
        (
            "gzip bomb",
            vec![auth, json, ("Content-Encoding", "gzip")],
            gzip(&vec![b' '; 4 << 20]),
            413,
            "body too large",
        ),
        (
            "no token",
            vec![json],
            good.clone().into_bytes(),
            401,
            "bad token",
        ),
        (
            "wrong token",
            vec![("Authorization", "Bearer zeek-token-4567"), json],
            good.clone().into_bytes(),
            401,
            "bad token",
        ),
        (
            "bad host",
            vec![auth, json, ("X-Dumpwatch-Host", "a b")],
            good.clone().into_bytes(),
            400,
            "bad host",
        ),
    ];
    for (what, headers, body, code, reason) in &cases {
        let r = request(addr, "POST", "/ingest/auditd", headers, body).unwrap();
        assert_eq!(r.code, *code, "{what}: {}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["error"], *reason, "{what}: {}", r.body);
        if *code == 401 {
            assert!(r.header("WWW-Authenticate").is_some(), "{what}");
        }
    }
    assert_eq!(
        request(addr, "POST", "/ingest/nope", &[auth], b"[]")
            .unwrap()
            .code,
        404
    );
    assert_eq!(
        request(addr, "GET", "/ingest/auditd", &[auth], b"")
            .unwrap()
            .code,
        405
    );
    // Admin reload: off for a wrong token; with the right one the engine
    // answers (this run has no reload source: a clear refusal).
    assert_eq!(
        request(addr, "POST", "/admin/reload", &[auth], b"")
            .unwrap()
            .code,
        401
    );
    let r = request(
        addr,
        "POST",
        "/admin/reload",
        &[("Authorization", "Bearer admin-token-0123456789")],
        b"",
    )
    .unwrap();
    assert!(r.code == 200 || r.code == 422, "{} {}", r.code, r.body);

    let (code, waited) = slow.join().unwrap();
    assert_eq!(code, 408, "the slow client");
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    let waited = stuck.join().unwrap();
    assert!(
        waited < Duration::from_secs(10),
        "a stuck header read held its connection {waited:?}"
    );

    // Good requests still work, and all of it was counted.
    let r = request(
        addr,
        "POST",
        "/ingest/auditd",
        &[auth, json],
        good.as_bytes(),
    )
    .unwrap();
    assert_eq!(r.code, 200);
    let m = request(addr, "GET", "/metrics", &[], b"").unwrap().body;
    for (_, _, _, code, reason) in &cases {
        assert!(
            metric(
                &m,
                "dumpwatch_http_requests_total",
                &[("input", "auditd"), ("code", &code.to_string())]
            ) > 0.0,
            "{code} not counted:\n{m}"
        );
        assert!(
            metric(&m, "dumpwatch_ingest_rejected_total", &[("reason", reason)]) > 0.0,
            "{reason} not counted:\n{m}"
        );
    }
    assert!(
        metric(
            &m,
            "dumpwatch_ingest_rejected_total",
            &[("reason", "slow client")]
        ) > 0.0,
        "{m}"
    );
    // Broken records are parse errors of the input, by reason.
    assert!(
        metric(
            &m,
            "dumpwatch_parse_errors_total",
            &[("source", "auditd"), ("kind", "invalid JSON")]
        ) > 0.0,
        "{m}"
    );
    assert_eq!(
        metric(
            &m,
            "dumpwatch_http_requests_total",
            &[("input", "auditd"), ("code", "200")]
        ),
        2.0,
        "{m}"
    );
    let health = request(addr, "GET", "/health", &[], b"").unwrap();
    assert_eq!(health.code, 200);
    assert!(health.body.contains("\"status\":\"ok\""), "{}", health.body);
    d.stop();
}

/// rsyslog's binary, if this machine has it (CI installs Debian's).
fn rsyslogd() -> std::path::PathBuf {
    for p in ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"] {
        if Path::new(p).exists() {
            return p.into();
        }
    }
    panic!("rsyslogd is not installed: apt-get install rsyslog (.ci/run does)");
}

#[test]
fn rsyslog_forwards_auditd_lines_through_omprog_and_tcp_syslog() {
    let rsyslogd = rsyslogd();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Lines without node=: the device comes from the syslog host name
    // (TCP) and from the input's host setting (omprog).
    let (a, _) = scenario(30);
    let audit: String = a
        .render()
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_owned() + "\n")
        .collect();
    let want = {
        let cfg = scenario_config("");
        let dirx = tempfile::tempdir().unwrap();
        std::fs::write(dirx.path().join("audit.log"), &audit).unwrap();
        let out = std::process::Command::new(BIN)
            .args(["replay", "--format", "auditd", "--host", "db07", "--config"])
            .arg({
                let p = dirx.path().join("c.toml");
                std::fs::write(
                    &p,
                    format!(
                        "[engine]\ncache_dir = \"{}\"\n{cfg}",
                        dumpwatch_tests::test_cache_dir().display()
                    ),
                )
                .unwrap();
                p
            })
            .arg(dirx.path().join("audit.log"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let fs: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        outcome(&fs).0
    };
    assert!(want.len() >= 5, "{}", want.len());

    // dumpwatch with a TCP syslog input.
    let syslog_port = free_port();
    let syslog_cfg = dir.join("syslog.toml");
    std::fs::write(
        &syslog_cfg,
        format!(
            r#"
[engine]
state_dir = "{dir}/state-syslog"
cache_dir = "{cache}"
checkpoint_interval = "1s"
[[inputs]]
type = "syslog"
listen = "127.0.0.1:{syslog_port}"
format = "auditd"
[[sinks]]
type = "file"
path = "{dir}/findings-syslog.ndjson"
{inventory}
"#,
            dir = dir.display(),
            cache = dumpwatch_tests::test_cache_dir().display(),
            inventory = scenario_config(""),
        ),
    )
    .unwrap();
    let syslog_dw = Dumpwatch::start(&syslog_cfg, None);
    // The omprog instance: rsyslog starts it.
    let omprog_cfg = dir.join("omprog.toml");
    std::fs::write(
        &omprog_cfg,
        format!(
            r#"
[engine]
state_dir = "{dir}/state-omprog"
cache_dir = "{cache}"
checkpoint_interval = "1s"
[[inputs]]
type = "stdin"
format = "auditd"
protocol = "omprog"
host = "db07"
[[sinks]]
type = "file"
path = "{dir}/findings-omprog.ndjson"
{inventory}
"#,
            dir = dir.display(),
            cache = dumpwatch_tests::test_cache_dir().display(),
            inventory = scenario_config(""),
        ),
    )
    .unwrap();
    // Wait for the syslog port before rsyslog connects.
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", syslog_port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "syslog input never listened: {}",
            syslog_dw.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let input = dir.join("audit.log");
    std::fs::write(&input, "").unwrap();
    std::fs::create_dir_all(dir.join("rsyslog-work")).unwrap();
    let conf = dir.join("rsyslog.conf");
    std::fs::write(
        &conf,
        format!(
            r#"
global(workDirectory="{dir}/rsyslog-work" localHostname="db07")
module(load="imfile" mode="polling" PollingInterval="1")
module(load="omprog")
template(name="raw" type="string" string="%msg%\n")
input(type="imfile" file="{input}" tag="auditd:" ruleset="dumpwatch")
ruleset(name="dumpwatch") {{
  action(type="omprog" binary="{bin} run --config {omprog}" template="raw"
         confirmMessages="on" useTransactions="on" confirmTimeout="30000"
         output="{dir}/omprog-stderr.log" signalOnClose="off" killUnresponsive="on")
  action(type="omfwd" target="127.0.0.1" port="{syslog_port}" protocol="tcp"
         template="RSYSLOG_ForwardFormat")
}}
"#,
            dir = dir.display(),
            input = input.display(),
            bin = BIN,
            omprog = omprog_cfg.display(),
        ),
    )
    .unwrap();
    let pidfile = dir.join("rsyslog.pid");
    let mut rs = std::process::Command::new(&rsyslogd)
        .args(["-n", "-f"])
        .arg(&conf)
        .arg("-i")
        .arg(&pidfile)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("rsyslog.stderr")).unwrap())
        .spawn()
        .unwrap();
    // imfile reads lines appended after it started.
    std::thread::sleep(Duration::from_secs(2));
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&input)
            .unwrap();
        for chunk in audit.as_bytes().chunks(64 << 10) {
            f.write_all(chunk).unwrap();
        }
    }
    // rsyslog must stay up (a config it refuses ends it at once).
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(st) = rs.try_wait().unwrap() {
            panic!(
                "rsyslogd exited ({st}): {}",
                std::fs::read_to_string(dir.join("rsyslog.stderr")).unwrap_or_default()
            );
        }
        let (got, _) = outcome(&findings(&dir.join("findings-omprog.ndjson")));
        if want.keys().all(|k| got.contains_key(k)) || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let omprog_fs = findings(&dir.join("findings-omprog.ndjson"));
    let syslog_fs = wait_for_findings(
        &dir.join("findings-syslog.ndjson"),
        &want,
        Duration::from_secs(60),
    );
    unsafe_sigterm(rs.id());
    let _ = rs.wait();
    let syslog_log = syslog_dw.stop();
    let omprog_log = std::fs::read_to_string(dir.join("omprog-stderr.log")).unwrap_or_default();
    let rs_log = std::fs::read_to_string(dir.join("rsyslog.stderr")).unwrap_or_default();
    for (what, fs, log) in [
        ("omprog", &omprog_fs, &omprog_log),
        ("tcp syslog", &syslog_fs, &syslog_log),
    ] {
        let (got, created) = outcome(fs);
        let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
        assert!(
            missing.is_empty(),
            "{what}: missing {missing:?}\n{log}\nrsyslog: {rs_log}"
        );
        assert!(
            created.values().all(|&n| n == 1),
            "{what}: duplicates {created:?}"
        );
        for (uid, f) in &want {
            assert_eq!(
                got[uid]["unmapped"]["entities"], f["unmapped"]["entities"],
                "{what}: {uid}"
            );
            assert_eq!(
                got[uid]["device"]["hostname"], "db07",
                "{what}: the syslog/configured host names the device"
            );
        }
    }
}

/// HTTP ingest throughput: auditd lines as Vector sends them (NDJSON,
/// zstd), one sender per host (each host's lines stay in order), every
/// request answered only once durable. Prints events/s; asserts nothing
/// about speed. Run:
/// `cargo build --release -p dumpwatch && DUMPWATCH_BIN=target/release/dumpwatch
///  cargo test --release -p dumpwatch --test embedding -- --ignored --nocapture measure`
#[test]
#[ignore = "a measurement; run by hand"]
fn measure_http_ingest_throughput() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let port = free_port();
    let cfg = dir.join("pipeline.toml");
    std::fs::write(
        &cfg,
        http_config(dir, port, "").replace("max_in_flight = 1", "max_in_flight = 64"),
    )
    .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let d = Dumpwatch::start(&cfg, Some(addr));
    let senders = 4;
    let per_sender = 40_000usize;
    let batch = 1000;
    let work: Vec<(String, Vec<Vec<u8>>, u64, usize)> = (0..senders)
        .map(|s| {
            let mut a = dumpwatch_tests::Audit::new();
            let host = format!("load{s:02}");
            for i in 0..per_sender as u32 {
                a.exec(
                    f64::from(i) * 0.01,
                    &host,
                    10_000 + i,
                    1,
                    dumpwatch_tests::Who::user(1000),
                    "/usr/bin/ls",
                    &["ls", "-l"],
                );
            }
            let text = a.render();
            let bodies = batches(&text, batch)
                .iter()
                .map(|b| vector_ndjson_zstd(b, &host).1)
                .collect();
            (host, bodies, a.len() as u64, text.lines().count())
        })
        .collect();
    let total: u64 = work.iter().map(|w| w.2).sum();
    let lines: usize = work.iter().map(|w| w.3).sum();
    let started = Instant::now();
    let threads: Vec<_> = work
        .into_iter()
        .map(|(host, bodies, _, _)| {
            std::thread::spawn(move || {
                let path = format!("/ingest/auditd?host={host}");
                for b in bodies {
                    loop {
                        let r = request(
                            addr,
                            "POST",
                            &path,
                            &[
                                ("Authorization", "Bearer audit-token-0123"),
                                ("Content-Type", "application/x-ndjson"),
                                ("Content-Encoding", "zstd"),
                            ],
                            &b,
                        )
                        .unwrap();
                        if r.code == 200 {
                            break;
                        }
                        assert!(matches!(r.code, 429 | 503), "{} {}", r.code, r.body);
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    d.stop();
    println!(
        "http ingest: {total} auditd events ({lines} lines) in {secs:.2}s: {:.0} events/s ({:.0} lines/s), every request acknowledged after its checkpoint",
        total as f64 / secs,
        lines as f64 / secs
    );
}
