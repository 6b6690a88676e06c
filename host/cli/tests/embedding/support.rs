//! Helpers of the embedding tests: a scenario in raw log formats, the
//! `dumpwatch` process, a minimal HTTP/1.1 client that sends exactly the
//! bytes Vector and Fluent Bit send, and findings files.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dumpwatch_tests::{Audit, Who, ZeekLog};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_dumpwatch");

/// The binary under test: `DUMPWATCH_BIN` (a release build, for
/// measurements) or the one cargo built for this test.
pub fn bin() -> String {
    std::env::var("DUMPWATCH_BIN").unwrap_or_else(|_| BIN.to_owned())
}

/// Thefts and benign work on six hosts: a dump-file write by `pg_dump` or
/// `mysqldump` then an upload seen by the sensor or by auditd, among
/// benign commands; then one benign event a day later on each source, so
/// the watermarks pass every window and every finding is out.
pub fn scenario(episodes: u32) -> (Audit, ZeekLog) {
    let mut a = Audit::new();
    let mut http = ZeekLog::http();
    for ep in 0..episodes {
        let host = format!("db{:02}", ep % 6 + 1);
        let uid = 3000 + ep;
        let who = Who::user(uid);
        let t = f64::from(ep) * 200.0;
        let pid = 20_000 + ep * 10;
        for k in 0..10u32 {
            a.exec(
                t + f64::from(k) * 0.5,
                &host,
                pid + 100 + k,
                pid,
                who,
                "/usr/bin/ls",
                &["ls", "-l"],
            );
        }
        match ep % 3 {
            0 => {
                a.write(
                    t + 30.0,
                    &host,
                    pid + 1,
                    pid,
                    who,
                    "/usr/bin/bash",
                    &format!("/tmp/dump{ep}.sql"),
                )
                .exec(
                    t + 30.002,
                    &host,
                    pid + 1,
                    pid,
                    who,
                    "/usr/bin/pg_dump",
                    &["pg_dump", "shop"],
                )
                .connect(
                    t + 60.0,
                    &host,
                    pid + 2,
                    pid,
                    who,
                    "/usr/bin/curl",
                    "203.0.113.50",
                    443,
                );
            }
            1 => {
                a.exec(
                    t + 20.0,
                    &host,
                    pid + 1,
                    pid,
                    who,
                    "/usr/bin/mysqldump",
                    &["mysqldump", "crm"],
                )
                .write(
                    t + 21.0,
                    &host,
                    pid + 1,
                    pid,
                    who,
                    "/usr/bin/mysqldump",
                    &format!("/home/u{uid}/crm{ep}.sql"),
                );
                http.request(
                    t + 80.0,
                    &format!("Cp{ep}"),
                    "10.0.0.5",
                    "198.51.100.7",
                    80,
                    "POST",
                    "/u",
                    9_000_000,
                );
            }
            _ => {
                a.exec(
                    t + 20.0,
                    &host,
                    pid + 1,
                    pid,
                    who,
                    "/usr/bin/psql",
                    &["psql", "-c", "select 1"],
                );
            }
        }
    }
    let end = f64::from(episodes) * 200.0 + 86_400.0;
    a.exec(
        end,
        "db01",
        99_999,
        1,
        Who::user(1),
        "/usr/bin/true",
        &["true"],
    );
    http.request(end, "Ctick", "10.0.0.9", "192.0.2.1", 80, "GET", "/", 10);
    (a, http)
}

/// Split a log's lines into batches of `n`.
pub fn batches(text: &str, n: usize) -> Vec<Vec<String>> {
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.chunks(n).map(<[String]>::to_vec).collect()
}

/// A port free now on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `dumpwatch run` process.
pub struct Dumpwatch {
    pub child: Child,
    pub stderr: PathBuf,
}

impl Dumpwatch {
    /// Start `dumpwatch run --config <config>`; stderr goes to a file
    /// beside the config. With `server`, wait until `/health` answers.
    pub fn start(config: &Path, server: Option<SocketAddr>) -> Dumpwatch {
        let stderr = config.with_extension(format!("stderr.{}", std::process::id()));
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr)
            .unwrap();
        let child = Command::new(bin())
            .args(["--log-level", "info", "run", "--config"])
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap();
        let mut d = Dumpwatch { child, stderr };
        if let Some(a) = server {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if request(a, "GET", "/health", &[], b"").is_ok_and(|r| r.code == 200) {
                    break;
                }
                if let Ok(Some(st)) = d.child.try_wait() {
                    panic!("dumpwatch exited at start ({st}): {}", d.log());
                }
                assert!(Instant::now() < deadline, "no /health: {}", d.log());
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        d
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// SIGTERM and wait; the exit must be clean.
    pub fn stop(mut self) -> String {
        unsafe_sigterm(self.child.id());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                assert!(st.success(), "dumpwatch failed ({st}): {}", self.log());
                return self.log();
            }
            assert!(
                Instant::now() < deadline,
                "dumpwatch did not stop: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// Send SIGTERM through `kill(1)` (no libc binding needed).
pub fn unsafe_sigterm(pid: u32) {
    let st = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub code: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Answer> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    // A server may answer (413) and close before the body is sent: the
    // answer is what counts.
    let sent = s.write_all(body);
    match read_answer(&mut s) {
        Ok(a) => Ok(a),
        Err(e) => sent.and(Err(e)),
    }
}

/// Read an answer to its end (the server closes or sends Content-Length).
pub fn read_answer(s: &mut TcpStream) -> std::io::Result<Answer> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "no answer",
            ));
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    let code: u16 = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = raw[head_end + 4..].to_vec();
    while body.len() < len {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Ok(Answer {
        code,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

pub fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

pub fn zstd(b: &[u8]) -> Vec<u8> {
    zstd::encode_all(b, 3).unwrap()
}

/// A request's headers and body.
pub type Shaped = (Vec<(&'static str, String)>, Vec<u8>);

/// What Vector's `http` sink posts with `encoding.codec = "json"`,
/// `framing.method = "newline_delimited"` and `compression = "zstd"`: one
/// event object per line (`message`, `host`, `timestamp`, `source_type`,
/// `file`), zstd-compressed.
pub fn vector_ndjson_zstd(lines: &[String], host: &str) -> Shaped {
    let mut body = String::new();
    for l in lines {
        let ev = serde_json::json!({
            "message": l,
            "host": host,
            "file": "/var/log/audit/audit.log",
            "source_type": "file",
            "timestamp": "2026-03-02T10:00:00.000000Z",
        });
        body.push_str(&ev.to_string());
        body.push('\n');
    }
    (
        vec![
            ("Content-Type", "application/x-ndjson".into()),
            ("Content-Encoding", "zstd".into()),
        ],
        zstd(body.as_bytes()),
    )
}

/// What Fluent Bit's `http` output posts with `Format json` and
/// `Compress gzip` from a tail input: one JSON array of records, each with
/// the line under `log` and the `date` key.
pub fn fluent_bit_json_gzip(lines: &[String]) -> Shaped {
    let recs: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| serde_json::json!({ "date": 1_772_445_600.0 + i as f64, "log": l }))
        .collect();
    let body = serde_json::to_vec(&recs).unwrap();
    (
        vec![
            ("Content-Type", "application/json".into()),
            ("Content-Encoding", "gzip".into()),
        ],
        gzip(&body),
    )
}

/// Findings in a file sink (corrupt lines fail the test).
pub fn findings(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("corrupt finding line {l:?}: {e}"))
        })
        .collect()
}

/// Final version of each finding by uid, and creations per uid.
pub fn outcome(fs: &[Value]) -> (BTreeMap<String, Value>, BTreeMap<String, usize>) {
    let mut latest = BTreeMap::new();
    let mut created = BTreeMap::new();
    for f in fs {
        let uid = f["finding_info"]["uid"].as_str().unwrap().to_owned();
        if f["activity_id"] == 1 {
            *created.entry(uid.clone()).or_insert(0) += 1;
        }
        latest.insert(uid, f.clone());
    }
    (latest, created)
}

/// Wait until `path` holds findings for every uid of `want` (or time out).
pub fn wait_for_findings(
    path: &Path,
    want: &BTreeMap<String, Value>,
    timeout: Duration,
) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let fs = findings(path);
        let (got, _) = outcome(&fs);
        if want.keys().all(|k| got.contains_key(k)) || Instant::now() >= deadline {
            return fs;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A metric's value from `/metrics` text (sum over matching lines).
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
