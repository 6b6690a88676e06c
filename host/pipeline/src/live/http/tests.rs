//! Request shapes of Vector's `http` sink and Fluent Bit's `http` output,
//! compression, and refusals.

#![allow(clippy::unwrap_used)]

use std::io::Write;

use dumpwatch_normalize::Format;

use super::body::{self, Encoding};
use super::records::{BodyKind, RecordProblem, RecordRules, for_each_record};

/// (outcome, (host, line) records, record problems)
type Collected = (
    Result<usize, String>,
    Vec<(String, String)>,
    Vec<RecordProblem>,
);

fn collect(body: &[u8], kind: BodyKind, format: Format, rules: &RecordRules) -> Collected {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let r = for_each_record(
        body,
        kind,
        format,
        rules,
        &mut |h, l| out.push((h.to_owned(), String::from_utf8_lossy(l).into_owned())),
        &mut |p| problems.push(p),
    );
    (r, out, problems)
}

const AUDIT: &str = "type=EOE msg=audit(1700000000.000:1): ";

#[test]
fn fluent_bit_json_array_with_log_key_and_date() {
    // `format json`: one array; the tail input puts the line under `log`.
    let body = format!(
        r#"[{{"date":1700000000.5,"log":"{AUDIT}"}},{{"date":1700000001.0,"log":"{AUDIT}"}}]"#
    );
    let (r, out, p) = collect(
        body.as_bytes(),
        BodyKind::Json,
        Format::Auditd,
        &RecordRules::default(),
    );
    assert_eq!(r, Ok(2));
    assert!(p.is_empty());
    assert_eq!(out[0], (String::new(), AUDIT.to_owned()));
}

#[test]
fn vector_ndjson_with_message_and_host_field() {
    // Vector `encoding.codec = "json"`, newline-delimited framing.
    let body = format!(
        "{{\"message\":\"{AUDIT}\",\"host\":\"db01\",\"source_type\":\"file\"}}\n{{\"message\":\"{AUDIT}\",\"host\":\"db02\"}}\n"
    );
    let rules = RecordRules {
        host_field: Some("host".into()),
        ..Default::default()
    };
    let (r, out, _) = collect(body.as_bytes(), BodyKind::Json, Format::Auditd, &rules);
    assert_eq!(r, Ok(2));
    assert_eq!(out[0].0, "db01");
    assert_eq!(out[1].0, "db02");
    assert_eq!(out[1].1, AUDIT);
}

#[test]
fn json_format_records_are_passed_whole_and_pretty_ones_compacted() {
    let body = b"[\n  {\n    \"event_type\": \"http\",\n    \"src_ip\": \"10.0.0.5\"\n  }\n]";
    let (r, out, _) = collect(
        body,
        BodyKind::Json,
        Format::Suricata,
        &RecordRules::default(),
    );
    assert_eq!(r, Ok(1));
    assert_eq!(out[0].1, r#"{"event_type":"http","src_ip":"10.0.0.5"}"#);
}

#[test]
fn winlogbeat_message_is_a_field_not_the_line() {
    let rec = r#"{"message":"A new process has been created.","winlog":{"event_id":4688}}"#;
    let (_, out, _) = collect(
        rec.as_bytes(),
        BodyKind::Json,
        Format::WindowsJson,
        &RecordRules::default(),
    );
    assert_eq!(out[0].1, rec);
}

#[test]
fn concatenated_json_stream_and_strings() {
    let body = format!("\"{AUDIT}\"{{\"log\":\"{AUDIT}\"}}");
    let (r, out, _) = collect(
        body.as_bytes(),
        BodyKind::Json,
        Format::Auditd,
        &RecordRules::default(),
    );
    assert_eq!(r, Ok(2));
    assert_eq!(out.len(), 2);
}

#[test]
fn one_broken_ndjson_line_costs_one_record() {
    let body = format!(
        "{{\"message\":\"{AUDIT}\"}}\n{{\"message\": broken\n{{\"message\":\"{AUDIT}\"}}\n"
    );
    let (r, out, p) = collect(
        body.as_bytes(),
        BodyKind::Json,
        Format::Auditd,
        &RecordRules::default(),
    );
    assert_eq!(r, Ok(2));
    assert_eq!(out.len(), 2);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].kind, "invalid JSON");
}

#[test]
fn a_body_that_is_not_json_is_refused_whole() {
    let (r, out, _) = collect(
        b"this is not json",
        BodyKind::Json,
        Format::Auditd,
        &RecordRules::default(),
    );
    assert!(r.is_err());
    assert!(out.is_empty());
    let (r, _, _) = collect(
        b"[1, 2",
        BodyKind::Json,
        Format::Auditd,
        &RecordRules::default(),
    );
    assert!(r.is_err());
}

#[test]
fn records_that_are_not_objects_or_strings_and_missing_fields_are_counted() {
    let rules = RecordRules {
        message_field: Some("msg".into()),
        ..Default::default()
    };
    let (r, out, p) = collect(
        b"[1, {\"other\":\"x\"}, {\"msg\":\"ok\"}]",
        BodyKind::Json,
        Format::Auditd,
        &rules,
    );
    assert_eq!(r, Ok(3));
    assert_eq!(out.len(), 1);
    let kinds: Vec<_> = p.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, ["not a log record", "no message field"]);
}

#[test]
fn text_bodies_are_lines_and_multi_line_messages_split() {
    let (r, out, _) = collect(
        b"a\r\n\nb\n",
        BodyKind::Text,
        Format::Auditd,
        &RecordRules::default(),
    );
    assert_eq!(r, Ok(2));
    assert_eq!(out[1].1, "b");
    let (_, out, _) = collect(
        br#"{"message":"<Event>\n<System/>\n</Event>"}"#,
        BodyKind::Json,
        Format::WindowsXml,
        &RecordRules::default(),
    );
    assert_eq!(out.len(), 3);
}

#[test]
fn gzip_zstd_and_deflate_bodies_decompress() {
    let plain = b"[\"line\"]".repeat(100);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    assert_eq!(body::decode(gz, Encoding::Gzip, 1 << 20).unwrap(), plain);
    let zs = zstd::encode_all(&plain[..], 3).unwrap();
    assert_eq!(body::decode(zs, Encoding::Zstd, 1 << 20).unwrap(), plain);
    let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zl.write_all(&plain).unwrap();
    assert_eq!(
        body::decode(zl.finish().unwrap(), Encoding::Deflate, 1 << 20).unwrap(),
        plain
    );
}

#[test]
fn a_compression_bomb_is_refused_with_413_and_garbage_with_400() {
    let zeros = vec![0u8; 8 << 20];
    let zs = zstd::encode_all(&zeros[..], 3).unwrap();
    assert!(zs.len() < 4096);
    let r = body::decode(zs, Encoding::Zstd, 1 << 20).unwrap_err();
    assert_eq!(r.code, 413);
    let r = body::decode(b"not gzip at all".to_vec(), Encoding::Gzip, 1 << 20).unwrap_err();
    assert_eq!(r.code, 400);
}

#[test]
fn content_types_and_encodings() {
    assert_eq!(
        body::kind(Some("application/x-ndjson"), b"").unwrap(),
        BodyKind::Json
    );
    assert_eq!(
        body::kind(Some("application/json; charset=utf-8"), b"").unwrap(),
        BodyKind::Json
    );
    assert_eq!(body::kind(Some("text/plain"), b"").unwrap(), BodyKind::Text);
    assert_eq!(body::kind(None, b"  [1]").unwrap(), BodyKind::Json);
    assert_eq!(body::kind(None, b"type=SYSCALL").unwrap(), BodyKind::Text);
    assert_eq!(
        body::kind(Some("application/msgpack"), b"")
            .unwrap_err()
            .code,
        415
    );
    assert_eq!(body::kind(Some("image/png"), b"").unwrap_err().code, 415);
    assert_eq!(body::encoding(Some("br")).unwrap_err().code, 415);
    assert_eq!(body::encoding(Some("GZIP")).unwrap(), Encoding::Gzip);
}

mod server {
    //! The server with a scripted engine: acknowledgements decide the
    //! answer, a full decoder queue answers 503.

    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::sync::mpsc;
    use std::time::Duration;

    use dumpwatch_normalize::{DecodeContext, Format};

    use super::super::ingest::{IngestSpec, spawn};
    use super::super::records::RecordRules;
    use super::super::{Endpoint, ServerOptions, start};
    use crate::live::message::{Msg, SourceHandle};
    use crate::metrics::Metrics;

    fn post(addr: SocketAddr, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "POST /ingest/auditd HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nAuthorization: Bearer t0k3n\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let code = out
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (code, out)
    }

    #[test]
    fn answers_follow_the_engine_and_a_full_queue_is_503() {
        let (tx, rx) = mpsc::sync_channel::<Msg>(1);
        let handle = SourceHandle::new(0, tx, Default::default());
        let spec = IngestSpec {
            name: "auditd".into(),
            format: Format::Auditd,
            ctx: DecodeContext::default(),
            rules: RecordRules::default(),
            max_hosts: 10,
            max_line: 1 << 16,
            max_body: 1 << 20,
            decoder_state: Vec::new(),
            dead_letter: None,
        };
        let (queue, _threads) = spawn(spec, handle, 1).unwrap();
        let metrics = Arc::new(Metrics::new());
        let server = start(
            ServerOptions {
                listen: "127.0.0.1:0".parse().unwrap(),
                max_body: 1 << 20,
                max_in_flight: 16,
                request_timeout: Duration::from_secs(5),
                ack_timeout: Duration::from_secs(10),
                max_connections: 64,
                metrics: true,
                admin_token: None,
                reload_timeout: Duration::from_secs(1),
            },
            vec![Endpoint {
                name: "auditd".into(),
                token: Some("t0k3n".into()),
                queue,
            }],
            Some(metrics.clone()),
            None,
            Arc::new(AtomicBool::new(true)),
        )
        .unwrap();
        let addr = server.local_addr;
        let body = r#"["node=db01 type=EOE msg=audit(1772445600.000:1):"]"#;
        // The engine does not read yet: the first message fills its
        // channel, the second blocks the decoder, the third waits in the
        // queue; the fourth finds the queue full.
        let waiting: Vec<_> = (0..3)
            .map(|i| {
                std::thread::sleep(Duration::from_millis(150));
                let b = body.to_owned();
                let _ = i;
                std::thread::spawn(move || post(addr, &b))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        let (code, text) = post(addr, body);
        assert_eq!(code, 503, "{text}");
        assert!(
            text.contains("retry-after: 1") || text.contains("Retry-After: 1"),
            "{text}"
        );
        // Now the engine acknowledges everything.
        let engine = std::thread::spawn(move || {
            let mut n = 0;
            while let Ok(m) = rx.recv_timeout(Duration::from_secs(2)) {
                if let Msg::Events { ack: Some(a), .. } = m {
                    a.send(Ok(()));
                    n += 1;
                }
            }
            n
        });
        for w in waiting {
            let (code, text) = w.join().unwrap();
            assert_eq!(code, 200, "{text}");
            assert!(text.contains("\"records\":1"), "{text}");
        }
        let rendered = metrics.render(0);
        assert!(
            rendered.contains("reason=\"engine behind\"} 1"),
            "{rendered}"
        );
        server.stop();
        assert_eq!(engine.join().unwrap(), 3);
    }
}
