//! Throughput of the cloud and SaaS normalizers, each beside a baseline
//! over the same bytes, in one run:
//!
//! * CloudTrail (one record per line, and S3 envelopes of 100 records per
//!   line), Snowflake JSON and M365 JSON against serde_json merely
//!   validating each line (`IgnoredAny`): the target is at least 0.5× of
//!   that;
//! * VPC Flow Logs against a plain whitespace split of each line.
//!
//! Streams of about 8 MB are built from the real and written fixture
//! records (`tests/fixtures`), varied so that ids, addresses and sizes
//! differ from record to record. After criterion's own report (wall
//! time), a table gives MB/s, events/s and the ratio to the baseline for
//! every pair, from the best thread CPU time of alternating runs (`common`;
//! `DUMPWATCH_TABLE_ONLY=1` prints the table alone).
//!
//! `cargo bench -p dumpwatch-normalize --bench cloud`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use dumpwatch_normalize::{DecodeContext, Format, Output, RecordPos, decoder};
use serde::de::IgnoredAny;

mod common;

// The allocator the dumpwatch binary uses (normalizing allocates small
// strings for every event), so the figures are the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TARGET_BYTES: usize = 8 << 20;

fn fixture(path: &str) -> String {
    let full = format!("{}/../../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// A small deterministic generator for varying the records.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// Compact JSON records of a fixture (any layout), one per element.
fn json_records(path: &str) -> Vec<serde_json::Value> {
    let text = fixture(path);
    let mut out = Vec::new();
    let mut push = |v: serde_json::Value| match v {
        serde_json::Value::Array(items) => out.extend(items),
        serde_json::Value::Object(mut m) if m.contains_key("Records") => {
            if let Some(serde_json::Value::Array(items)) = m.remove("Records") {
                out.extend(items);
            }
        }
        other => out.push(other),
    };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => push(v),
        Err(_) => {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                push(serde_json::from_str(line).expect("fixture line"));
            }
        }
    }
    out
}

/// Replace the value of string field `key` (top level) with a varied one.
fn vary(rec: &mut serde_json::Value, key: &str, n: u64) {
    if let Some(v) = rec.get_mut(key).filter(|v| v.is_string()) {
        *v = serde_json::Value::String(format!(
            "{:08x}-{:04x}-4000-8000-{:012x}",
            n,
            n & 0xffff,
            n * 7919
        ));
    }
}

/// Lines of compact JSON cycling through `records`, about TARGET_BYTES.
fn json_lines(records: &[serde_json::Value], id_key: &str) -> (Vec<u8>, u64) {
    let mut out = Vec::with_capacity(TARGET_BYTES + 4096);
    let mut n = 0u64;
    while out.len() < TARGET_BYTES {
        let mut rec = records[(n as usize) % records.len()].clone();
        vary(&mut rec, id_key, n);
        serde_json::to_writer(&mut out, &rec).expect("serializes");
        out.push(b'\n');
        n += 1;
    }
    (out, n)
}

fn cloudtrail_records() -> Vec<serde_json::Value> {
    let mut recs =
        json_records("corpus/aws-cloudtrail/otrf_ec2_proxy_s3_exfiltration_2020-09-14011940.jsonl");
    for f in [
        "corpus/aws-cloudtrail/awsdocs-aurora_rdsdata_ExecuteStatement_event.json",
        "corpus/aws-cloudtrail/awsdocs-s3-outposts_PutObject_event.json",
        "written/aws-cloudtrail/rdsdata_transaction-batch_s3-envelope.json",
        "written/aws-cloudtrail/rds_snapshot-share-and-export_pretty-envelope.json",
        "written/aws-cloudtrail/s3_multipart-upload_one-per-line.jsonl",
    ] {
        recs.extend(json_records(f));
    }
    recs
}

/// S3-style envelopes of 100 records, one per line.
fn cloudtrail_envelopes(records: &[serde_json::Value]) -> (Vec<u8>, u64) {
    let mut out = Vec::with_capacity(TARGET_BYTES + 200_000);
    let mut n = 0u64;
    while out.len() < TARGET_BYTES {
        let batch: Vec<serde_json::Value> = (0..100)
            .map(|_| {
                let mut rec = records[(n as usize) % records.len()].clone();
                vary(&mut rec, "eventID", n);
                n += 1;
                rec
            })
            .collect();
        serde_json::to_writer(&mut out, &serde_json::json!({ "Records": batch }))
            .expect("serializes");
        out.push(b'\n');
    }
    (out, n)
}

fn vpc_flow_lines() -> (Vec<u8>, u64) {
    use std::io::Write;
    let mut rng = Lcg(42);
    let mut out = Vec::with_capacity(TARGET_BYTES + 256);
    let mut n = 0u64;
    let start = 1_717_410_000u64;
    while out.len() < TARGET_BYTES {
        let r = rng.next();
        let (action, status) = if r.is_multiple_of(17) {
            ("REJECT", "OK")
        } else {
            ("ACCEPT", "OK")
        };
        writeln!(
            out,
            "2 111122223333 eni-0f1e2d3c4b5a{:05x} 10.20.{}.{} 203.0.113.{} {} {} 6 {} {} {} {} {} {}",
            r % 0xfffff,
            (r >> 8) % 256,
            (r >> 16) % 254 + 1,
            (r >> 24) % 254 + 1,
            1024 + (r >> 4) % 60_000,
            [443, 5432, 3306, 22][(r % 4) as usize],
            1 + (r >> 12) % 5000,
            40 + (r >> 20) % 50_000_000,
            start + n / 100,
            start + n / 100 + 60,
            action,
            status,
        )
        .expect("writes to a Vec");
        n += 1;
    }
    (out, n)
}

/// Lines as a line reader hands them out (the same for both sides).
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or_default();
        Some(line)
    })
}

/// Run a decoder over the stream; returns events produced.
fn normalize(format: Format, bytes: &[u8]) -> u64 {
    let mut dec = decoder(format, &DecodeContext::default());
    let mut out = Output::default();
    for (i, line) in lines(bytes).enumerate() {
        dec.push(
            line,
            RecordPos {
                line: i as u64 + 1,
                offset: 0,
            },
            &mut out,
        );
        if out.events.len() >= 1024 {
            black_box(&out.events);
            out.events.clear();
        }
    }
    dec.finish(&mut out);
    assert_eq!(out.stats.error_count(), 0, "{:?}", out.errors.first());
    black_box(&out.events);
    out.stats.normalized
}

fn validate_json(bytes: &[u8]) -> u64 {
    let mut n = 0;
    for line in lines(bytes) {
        let v: IgnoredAny = serde_json::from_slice(line).expect("valid JSON");
        black_box(v);
        n += 1;
    }
    n
}

fn split_whitespace(bytes: &[u8]) -> u64 {
    let mut fields = 0u64;
    for line in lines(bytes) {
        fields += line
            .split(|&b| b == b' ')
            .filter(|t| !t.is_empty())
            .map(|t| black_box(t).len() as u64 & 1 | 1)
            .sum::<u64>();
    }
    fields
}

struct Stream {
    name: &'static str,
    format: Format,
    bytes: Vec<u8>,
    events: u64,
    baseline: (&'static str, fn(&[u8]) -> u64),
}

fn streams() -> Vec<Stream> {
    let ct = cloudtrail_records();
    let (ct_lines, ct_n) = json_lines(&ct, "eventID");
    let (ct_env, ct_env_n) = cloudtrail_envelopes(&ct);
    let sf = json_records("written/snowflake/query_history_object-construct.jsonl");
    let (sf_lines, sf_n) = json_lines(&sf, "QUERY_ID");
    let mut m365 =
        json_records("written/m365/ual_sharepoint_filedownloaded-burst_content-blob.json");
    m365.extend(json_records(
        "written/m365/ual_onedrive_filesync-full-and-partial_pretty-array.json",
    ));
    m365.retain(|r| {
        r["Operation"]
            .as_str()
            .is_some_and(|o| o.starts_with("File"))
    });
    let (m_lines, m_n) = json_lines(&m365, "Id");
    let (vpc, vpc_n) = vpc_flow_lines();
    let json = ("serde_json IgnoredAny", validate_json as fn(&[u8]) -> u64);
    vec![
        Stream {
            name: "cloudtrail per line",
            format: Format::CloudTrail,
            bytes: ct_lines,
            events: ct_n,
            baseline: json,
        },
        Stream {
            name: "cloudtrail envelope",
            format: Format::CloudTrail,
            bytes: ct_env,
            events: ct_env_n,
            baseline: json,
        },
        Stream {
            name: "snowflake json",
            format: Format::Snowflake,
            bytes: sf_lines,
            events: sf_n,
            baseline: json,
        },
        Stream {
            name: "m365 json",
            format: Format::M365,
            bytes: m_lines,
            events: m_n,
            baseline: json,
        },
        Stream {
            name: "vpc-flow v2",
            format: Format::VpcFlow,
            bytes: vpc,
            events: vpc_n,
            baseline: ("whitespace split", split_whitespace),
        },
    ]
}

fn main() {
    let streams = streams();
    for s in &streams {
        assert_eq!(
            normalize(s.format, &s.bytes),
            s.events,
            "{}: every record an event",
            s.name
        );
    }

    if !common::table_only() {
        run_criterion(&streams);
        if !common::full_run() {
            return;
        }
    }
    table(&streams);
}

fn run_criterion(streams: &[Stream]) {
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    for s in streams {
        let mut g = c.benchmark_group(s.name);
        g.throughput(Throughput::Bytes(s.bytes.len() as u64));
        g.bench_function("normalize", |b| b.iter(|| normalize(s.format, &s.bytes)));
        g.bench_function(s.baseline.0, |b| b.iter(|| (s.baseline.1)(&s.bytes)));
        g.finish();
    }
    c.final_summary();
}

fn table(streams: &[Stream]) {
    common::header();
    for s in streams {
        let (norm, base, events) = common::paired(
            || normalize(s.format, &s.bytes),
            || (s.baseline.1)(&s.bytes),
        );
        common::row(s.name, s.bytes.len(), events, norm, base, s.baseline.0);
    }
}
