//! Webhook delivery (retries, dead letters, bounded flush) against a
//! scripted local HTTP server, and the ECS view of a rendered finding.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dumpwatch_event::{
    AnalyticInfo, Attack, EmittedFinding, Entity, Finding, FindingActivity, Severity,
};

use super::webhook::{WebhookOptions, WebhookSink};
use super::{Sink, ecs, render};

/// A local server answering each request with the next scripted status
/// (200 when the script is done); it records every body.
struct Scripted {
    url: String,
    bodies: Arc<Mutex<Vec<(String, String)>>>,
}

fn scripted(codes: &[u16]) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/findings", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(Mutex::new(codes.iter().copied().collect::<VecDeque<u16>>()));
    let b = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(stream) = stream else { return };
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            let mut auth = String::new();
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 {
                    break;
                }
                let l = h.to_ascii_lowercase();
                if let Some(v) = l.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if l.starts_with("authorization:") {
                    auth = h.trim().to_owned();
                }
                if h == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            b.lock()
                .unwrap()
                .push((auth, String::from_utf8(body).unwrap()));
            let code = script.lock().unwrap().pop_front().unwrap_or(200);
            let mut s = stream;
            let _ = write!(
                s,
                "HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    Scripted { url, bodies }
}

fn opts(url: &str, dead_letter: &std::path::Path) -> WebhookOptions {
    WebhookOptions {
        url: url.to_owned(),
        token: Some("tok".into()),
        headers: Default::default(),
        batch_size: 10,
        timeout: Duration::from_secs(5),
        max_attempts: 3,
        retry_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        queue: 100,
        dead_letter: Some(dead_letter.to_owned()),
        flush_timeout: Duration::from_secs(10),
    }
}

#[test]
fn retries_after_503_then_delivers_once() {
    let tmp = tempfile::tempdir().unwrap();
    let server = scripted(&[503, 429]);
    let dl = tmp.path().join("dl.ndjson");
    let mut s = WebhookSink::start(opts(&server.url, &dl), None).unwrap();
    s.emit(r#"{"n":1}"#).unwrap();
    s.emit(r#"{"n":2}"#).unwrap();
    s.flush().unwrap();
    // While it retries, a checkpoint does not wait: wait here.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.bodies.lock().unwrap().len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(s);
    let bodies = server.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 3, "two refusals, one delivery: {bodies:?}");
    for (auth, body) in &bodies {
        assert!(
            auth.eq_ignore_ascii_case("authorization: Bearer tok"),
            "{auth:?}"
        );
        assert_eq!(body, "{\"n\":1}\n{\"n\":2}\n");
    }
    assert!(!dl.exists());
}

#[test]
fn final_failure_and_refusal_go_to_the_dead_letter_file() {
    let tmp = tempfile::tempdir().unwrap();
    let server = scripted(&[500, 500, 500, 400]);
    let dl = tmp.path().join("dl.ndjson");
    let mut s = WebhookSink::start(opts(&server.url, &dl), None).unwrap();
    s.emit(r#"{"n":1}"#).unwrap();
    s.flush().unwrap();
    s.emit(r#"{"n":2}"#).unwrap();
    // The endpoint is failing: a checkpoint does not wait any more; the
    // sender still works through its queue, and stopping waits for it.
    let t = std::time::Instant::now();
    s.flush().unwrap();
    assert!(t.elapsed() < Duration::from_millis(500));
    drop(s);
    let text = std::fs::read_to_string(&dl).unwrap();
    let recs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 2, "{text}");
    assert_eq!(recs[0]["finding"]["n"], 1);
    assert!(
        recs[0]["reason"]
            .as_str()
            .unwrap()
            .contains("after 3 attempts"),
        "{text}"
    );
    assert_eq!(recs[1]["finding"]["n"], 2);
    assert!(
        recs[1]["reason"].as_str().unwrap().contains("400"),
        "{text}"
    );
    assert_eq!(server.bodies.lock().unwrap().len(), 4);
}

#[test]
fn an_unreachable_endpoint_never_blocks_past_the_flush_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut o = opts(
        &format!("http://127.0.0.1:{port}/x"),
        &tmp.path().join("dl"),
    );
    o.max_attempts = 1000;
    o.retry_backoff = Duration::from_millis(50);
    o.flush_timeout = Duration::from_millis(200);
    o.queue = 2;
    let mut s = WebhookSink::start(o, None).unwrap();
    let t = std::time::Instant::now();
    for n in 0..10 {
        s.emit(&format!("{{\"n\":{n}}}")).unwrap();
    }
    s.flush().unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // The queue (2) and the batch being retried took what they could; the
    // rest was dead-lettered at once.
    let text = std::fs::read_to_string(tmp.path().join("dl")).unwrap();
    assert!(text.lines().count() >= 4, "{text}");
    assert!(text.contains("queue is full"), "{text}");
}

#[test]
fn ecs_view_of_a_rendered_finding() {
    let f = EmittedFinding {
        activity: FindingActivity::Create,
        analytic: Arc::new(AnalyticInfo {
            id: "AN0676".into(),
            name: "Linux database dump".into(),
            version: "1.2.0".into(),
            strategy: Some("DET0242".into()),
            tunables_hash: "abcd".into(),
        }),
        finding: Finding {
            uid: "uid-1".into(),
            title: "pg_dump by alice then upload".into(),
            description: "d".into(),
            severity: Severity::High,
            reasons: vec!["dump file".into()],
            entities: vec![
                Entity {
                    kind: "host".into(),
                    value: "db01".into(),
                },
                Entity {
                    kind: "user".into(),
                    value: "alice".into(),
                },
            ],
            start_time: 1_700_000_000_000,
            end_time: 1_700_000_060_000,
            attacks: vec![Attack {
                tactic_id: "TA0009".into(),
                tactic_name: "Collection".into(),
                technique_id: "T1213".into(),
                technique_name: "Data from Information Repositories".into(),
                sub_technique_id: Some("T1213.006".into()),
                sub_technique_name: Some("Databases".into()),
            }],
            legs: vec!["exec".into()],
            evidence: vec![],
            event_count: 3,
        },
    };
    let ocsf = render(&f);
    let e: serde_json::Value = serde_json::from_str(&ecs::ocsf_to_ecs(&ocsf).unwrap()).unwrap();
    assert_eq!(e["event"]["kind"], "alert");
    assert_eq!(e["event"]["action"], "detection-finding-create");
    assert_eq!(e["@timestamp"], "2023-11-14T22:14:20Z");
    assert_eq!(e["rule"]["id"], "AN0676");
    assert_eq!(e["rule"]["version"], "1.2.0");
    assert_eq!(e["threat"]["framework"], "MITRE ATT&CK");
    assert_eq!(e["threat"]["technique"]["id"][0], "T1213");
    assert_eq!(
        e["threat"]["technique"]["subtechnique"]["id"][0],
        "T1213.006"
    );
    assert_eq!(e["threat"]["tactic"]["name"][0], "Collection");
    assert_eq!(e["host"]["name"], "db01");
    assert_eq!(e["user"]["name"], "alice");
    assert_eq!(e["dumpwatch"]["finding_uid"], "uid-1");
    assert_eq!(e["dumpwatch"]["tunables_hash"], "abcd");
    assert!(ecs::ocsf_to_ecs("not json").is_err());
}
