//! Tests of the `dumpwatch` binary as a process: what only a real process
//! shows (SIGKILL at any point, restarts, exit codes).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dumpwatch_tests::{Audit, Who, ZeekLog, scenario_config};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_dumpwatch");

/// A day of activity on 12 hosts: 240 episodes, a third of them thefts of
/// each shape (dump only, dump and upload, upload seen by the sensor), the
/// rest benign work, spread over hours so windows open and close
/// throughout the stream.
fn busy_stream() -> (String, String) {
    let mut a = Audit::new();
    let mut http = ZeekLog::http();
    for ep in 0..240u32 {
        let host = format!("db{:02}", ep % 12);
        let uid = 2000 + ep;
        let who = Who::user(uid);
        let t = f64::from(ep) * 240.0;
        let pid = 10_000 + ep * 10;
        // Benign noise around every episode.
        for k in 0..40u32 {
            a.exec(
                t + f64::from(k) * 0.5,
                &host,
                pid + 100 + k,
                pid,
                who,
                "/usr/bin/ls",
                &["ls", "-la"],
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
                );
                if ep % 2 == 0 {
                    a.connect(
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
                    &format!("Cpost{ep}"),
                    "10.0.0.5",
                    "198.51.100.7",
                    80,
                    "POST",
                    "/u",
                    9_000_000,
                );
            }
            _ => {
                // Benign: psql without a dump.
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
    (a.render(), http.render())
}

fn config(dir: &Path) -> String {
    format!(
        r#"
[engine]
state_dir = "{dir}/state"
checkpoint_events = 25
cache_dir = "{cache}"
[[inputs]]
path = "{dir}/audit.log"
format = "auditd"
[[inputs]]
path = "{dir}/http.log"
format = "zeek"
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

fn setup(root: &Path, audit: &str, http: &str) {
    std::fs::create_dir_all(root).unwrap();
    std::fs::write(root.join("audit.log"), audit).unwrap();
    std::fs::write(root.join("http.log"), http).unwrap();
    std::fs::write(root.join("pipeline.toml"), config(root)).unwrap();
}

fn run(root: &Path) -> std::process::Child {
    Command::new(BIN)
        .args(["run", "--config"])
        .arg(root.join("pipeline.toml"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Run `dumpwatch <args> --config <root>/pipeline.toml` to its end; it
/// must succeed. Its standard output.
fn succeed(root: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .arg("--config")
        .arg(root.join("pipeline.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dumpwatch {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn findings(root: &Path) -> Vec<Value> {
    std::fs::read_to_string(root.join("findings.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("corrupt finding line {l:?}: {e}"))
        })
        .collect()
}

/// Final version of each finding, and how often each uid was created.
fn outcome(fs: &[Value]) -> (BTreeMap<String, Value>, BTreeMap<String, usize>) {
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

/// A small deterministic generator for kill delays.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn sigkill_at_random_points_loses_and_duplicates_no_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let (audit, http) = busy_stream();

    // A first run warms the compiled-component cache, so the timed clean
    // run below measures the pipeline, not the compiler.
    let warm = tmp.path().join("warm");
    setup(&warm, &audit, &http);
    assert!(run(&warm).wait().unwrap().success());
    let clean = tmp.path().join("clean");
    setup(&clean, &audit, &http);
    let started = Instant::now();
    let out = run(&clean).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let clean_time = started.elapsed();
    let (expected, created) = outcome(&findings(&clean));
    assert!(
        expected.len() >= 40,
        "the stream must produce many findings: {}",
        expected.len()
    );
    assert!(created.values().all(|&n| n == 1));

    let mut total_kills = 0;
    for seed in [7u64, 1234, 99_991, 31_337, 4242] {
        let root = tmp.path().join(format!("killed-{seed}"));
        setup(&root, &audit, &http);
        let mut rng = Lcg(seed);
        let mut kills = 0;
        loop {
            let mut child = run(&root);
            // Kill somewhere in the first half of a clean run's duration
            // (a restarted run has less left to do).
            let span = (clean_time.as_millis() as u64 / 2).max(20);
            let delay = Duration::from_millis(5 + rng.next() % span);
            let deadline = Instant::now() + delay;
            let mut exited = None;
            while Instant::now() < deadline {
                if let Some(st) = child.try_wait().unwrap() {
                    exited = Some(st);
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            match exited {
                Some(st) => {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut e, &mut err);
                    }
                    assert!(
                        st.success(),
                        "seed {seed}: run failed ({kills} kills): {err}"
                    );
                    break;
                }
                None => {
                    child.kill().unwrap(); // SIGKILL
                    child.wait().unwrap();
                    kills += 1;
                    assert!(kills < 200, "seed {seed}: never finished");
                }
            }
        }
        let (got, created) = outcome(&findings(&root));
        assert!(
            kills >= 1,
            "seed {seed}: no kill landed; the test must interrupt runs"
        );
        total_kills += kills;
        let dups: Vec<_> = created.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            dups.is_empty(),
            "seed {seed} ({kills} kills): duplicated creations {dups:?}"
        );
        let missing: Vec<_> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
        assert!(
            missing.is_empty(),
            "seed {seed} ({kills} kills): missing {missing:?}"
        );
        assert_eq!(got.len(), expected.len(), "seed {seed}: extra findings");
        for (uid, f) in &expected {
            assert_eq!(
                &got[uid], f,
                "seed {seed} ({kills} kills): final content of {uid} differs"
            );
        }
    }
    assert!(total_kills >= 10, "only {total_kills} kills over all seeds");
}

#[test]
fn a_kill_while_the_store_is_being_created_leaves_a_store_that_starts() {
    let tmp = tempfile::tempdir().unwrap();
    let (audit, http) = busy_stream();
    for attempt in 0..20u64 {
        let root = tmp.path().join(format!("early-{attempt}"));
        setup(&root, &audit, &http);
        let store = root.join("state/state.redb");
        let mut child = run(&root);
        // Kill within a few milliseconds of the store file appearing: the
        // narrow window in which a store written in place is only part of
        // a header (an empty file is fine; so the delays step through it).
        let deadline = Instant::now() + Duration::from_secs(60);
        while !store.exists() && Instant::now() < deadline {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_micros(attempt * 150));
        child.kill().unwrap();
        child.wait().unwrap();
        let out = run(&root).wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "attempt {attempt}: the restart was refused: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (_, created) = outcome(&findings(&root));
        assert!(created.len() >= 40, "attempt {attempt}: {created:?}");
        assert!(created.values().all(|&n| n == 1));
    }
}

#[test]
fn a_corrupt_store_is_refused_unless_reset() {
    let tmp = tempfile::tempdir().unwrap();
    let (audit, http) = busy_stream();
    let root = tmp.path().join("corrupt");
    setup(&root, &audit, &http);
    std::fs::create_dir_all(root.join("state")).unwrap();
    std::fs::write(root.join("state/state.redb"), b"garbage, not a store").unwrap();
    let out = run(&root).wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--reset-state"), "{err}");
    assert_eq!(
        std::fs::read(root.join("state/state.redb")).unwrap(),
        b"garbage, not a store"
    );
    succeed(&root, &["run", "--reset-state"]);
    assert!(!findings(&root).is_empty());
}

/// `replay -` on a pipe that stays open: when the pipeline stops on a fatal
/// error (here an analytic with the `stop` policy that keeps trapping), the
/// process ends and says why instead of waiting for input that may never
/// come.
#[test]
fn a_fatal_stop_while_reading_an_open_pipe_ends_the_process() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("modules")).unwrap();
    std::fs::copy(
        dumpwatch_bundle::test_guest("hostile-trap").unwrap(),
        root.join("modules/trap.wasm"),
    )
    .unwrap();
    std::fs::write(
        root.join("pipeline.toml"),
        format!(
            "[engine]\nmodules_dir = \"modules\"\ncache_dir = \"{}\"\n[limits]\nmax_restarts = 1\n[analytics.TEST-TRAP]\non_failure = \"stop\"\n",
            dumpwatch_tests::test_cache_dir().display()
        ),
    )
    .unwrap();
    let mut log = Audit::new();
    for k in 0..3000u32 {
        let exe = if k % 40 == 0 {
            "/usr/bin/hostile-trigger"
        } else {
            "/usr/bin/marker"
        };
        log.exec(
            10.0 + f64::from(k) * 0.01,
            "h1",
            70_000 + k,
            1,
            Who::user(3000),
            exe,
            &["x"],
        );
    }
    let mut child = Command::new(BIN)
        .args(["replay", "--format", "auditd", "--config"])
        .arg(root.join("pipeline.toml"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // One pump of lines (replay reads 4,096 at a time) and a few more: the
    // engine stops on the first pump while the reader waits for the rest
    // of the second. The writer keeps the pipe open.
    let mut stdin = child.stdin.take().unwrap();
    let text: String = log
        .render()
        .lines()
        .take(4096 + 50)
        .map(|l| format!("{l}\n"))
        .collect();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(text.as_bytes());
        let _ = stdin.flush();
        stdin
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let ended = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if ended.is_none() {
        child.kill().unwrap();
    }
    let out = child.wait_with_output().unwrap();
    drop(writer.join().unwrap());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let status =
        ended.unwrap_or_else(|| panic!("still waiting for input after the stop: {stderr}"));
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("TEST-TRAP") && stderr.contains("quarantined"),
        "{stderr}"
    );
}

/// `state show` over the store a stopped `run` left: each analytic with
/// its open windows by entity (restored from the store into the loaded
/// module), each input's position and watermark, and the sizes. The inputs
/// are followed, so the windows of the last minutes are still open when
/// SIGTERM stops the run.
#[test]
fn state_show_lists_open_windows_positions_and_watermarks() {
    let tmp = tempfile::tempdir().unwrap();
    let (audit, http) = busy_stream();
    let root = tmp.path().join("show");
    setup(&root, &audit, &http);
    let followed =
        config(&root).replace("format = \"auditd\"", "format = \"auditd\"\nfollow = true");
    std::fs::write(root.join("pipeline.toml"), followed).unwrap();
    let child = run(&root);
    // Until every finding the stream closes is out: the count stays put.
    let mut last = (0, Instant::now());
    let started = Instant::now();
    while last.0 == 0 || last.1.elapsed() < Duration::from_secs(3) {
        assert!(started.elapsed() < Duration::from_secs(120), "no findings");
        std::thread::sleep(Duration::from_millis(200));
        let n = findings(&root).len();
        if n != last.0 {
            last = (n, Instant::now());
        }
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let text = succeed(&root, &["state", "show"]);
    assert!(
        text.starts_with("state store ") && text.lines().next().unwrap().ends_with(" checkpoints)"),
        "the store's size and checkpoints first:\n{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    let an0676 = lines
        .iter()
        .position(|l| l.starts_with("  AN0676 v1.0.0"))
        .unwrap_or_else(|| panic!("no AN0676 line:\n{text}"));
    let open: usize = lines[an0676]
        .split(", ")
        .find_map(|part| part.strip_suffix(" open windows"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no open windows count: {}", lines[an0676]));
    assert!((1..=50).contains(&open), "{}", lines[an0676]);
    let windows: Vec<&str> = lines[an0676 + 1..]
        .iter()
        .take_while(|l| l.starts_with("    "))
        .copied()
        .collect();
    assert_eq!(windows.len(), open, "one line per open window:\n{text}");
    // The windows of the last two episodes end after the watermark (the
    // newest event less a minute of lateness); each has its finding.
    let entities: Vec<&str> = windows
        .iter()
        .filter_map(|w| w.split_whitespace().next())
        .collect();
    assert_eq!(entities, ["db09/2237", "db10/2238"], "{text}");
    for w in &windows {
        assert!(
            w.contains(" → ") && w.contains("legs [exec, dump]") && w.contains(" finding "),
            "{w}"
        );
    }
    let audit_line = lines
        .iter()
        .find(|l| l.contains("audit.log [auditd]"))
        .unwrap_or_else(|| panic!("no audit input:\n{text}"));
    assert!(
        audit_line.contains(&format!("offset {}", audit.len())),
        "read to its end: {audit_line}"
    );
    assert!(
        !audit_line.contains("read to the end"),
        "followed: {audit_line}"
    );
    assert!(
        audit_line.contains("newest event 2026-") && audit_line.contains("watermark 2026-"),
        "{audit_line}"
    );
    assert!(text.contains("http.log [zeek]"), "{text}");
    assert!(text.contains("undelivered findings: 0"), "{text}");
}
