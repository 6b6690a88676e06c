//! Throughput of the endpoint normalizers against what merely parsing the
//! same bytes costs.
//!
//! Streams of a few MB are built from corpus-like records (the OTRF Sysmon
//! lines with NXLog's `RecordNumber` added, the Winlogbeat and eslogger
//! samples written for the tests, the Security 4688 XML export) and run
//! through each decoder exactly as the pipeline feeds it, line by line.
//! Side by side, the baselines:
//!
//! * JSON: `serde_json` validating each line into `IgnoredAny` (the floor
//!   for any JSON reader); target: normalizer ≥ 0.5× its speed;
//! * XML: a plain quick-xml pull scan of the same document, no decoding.
//!
//! `cargo bench -p dumpwatch-normalize --bench endpoint` prints criterion's
//! throughput per benchmark, then a summary table with MB/s, events/s and
//! the normalizer/baseline ratio (`common`: best thread CPU time of
//! alternating runs; `DUMPWATCH_TABLE_ONLY=1` prints the table alone).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use dumpwatch_normalize::{DecodeContext, Format, Output, RecordPos};
use serde::de::IgnoredAny;

mod common;

/// Size each synthetic stream is grown to.
// The allocator the dumpwatch binary uses (normalizing allocates small
// strings for every event), so the figures are the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const STREAM_BYTES: usize = 6 << 20;

fn fixture(rel: &str) -> String {
    let path = format!("{}/../../tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Repeat `records` (one per line) until the stream reaches the target
/// size; `vary` may rewrite each copy (to keep ids distinct).
fn grow(records: &[String], mut vary: impl FnMut(&str, usize) -> String) -> Vec<u8> {
    let mut out = String::with_capacity(STREAM_BYTES + 64 * 1024);
    let mut n = 0usize;
    while out.len() < STREAM_BYTES {
        for r in records {
            out.push_str(&vary(r, n));
            out.push('\n');
            n += 1;
        }
    }
    out.into_bytes()
}

/// NXLog `im_msvistalog` Sysmon records: the OTRF lines of Sysmon 1, 3 and
/// 11, each given the `RecordNumber` NXLog writes.
fn nxlog_sysmon() -> Vec<u8> {
    let text = fixture("corpus/windows/otrf_bitsadmin-download_sysmon-security_subset.jsonl");
    let records: Vec<String> = text
        .lines()
        .filter(|l| l.contains("Microsoft-Windows-Sysmon"))
        .map(str::to_owned)
        .collect();
    grow(&records, |r, n| {
        format!("{{\"RecordNumber\":{},{}", 100_000 + n, &r[1..])
    })
}

/// Winlogbeat records, raw and after the ECS renames.
fn winlogbeat() -> Vec<u8> {
    let mut records: Vec<String> = Vec::new();
    for f in [
        "written/windows/winlogbeat-8-raw_bcp-export.jsonl",
        "written/windows/winlogbeat-7-ecs_sqlcmd-backup-upload.jsonl",
    ] {
        records.extend(fixture(f).lines().map(str::to_owned));
    }
    grow(&records, |r, n| {
        r.replacen("\"record_id\":", &format!("\"record_id\":{}0", n + 1), 1)
    })
}

/// eslogger messages of the written DB-export scenario.
fn eslogger() -> Vec<u8> {
    let records: Vec<String> = fixture("written/macos/eslogger_db-export-scenario.jsonl")
        .lines()
        .map(str::to_owned)
        .collect();
    grow(&records, |r, n| {
        r.replacen(
            "\"global_seq_num\":",
            &format!("\"global_seq_num\":{}0", n + 1),
            1,
        )
    })
}

/// The Security 4688 export (140 multi-line events) repeated inside one
/// `<Events>` document.
fn security_xml() -> Vec<u8> {
    let doc = fixture("corpus/windows/security-4688_sqlservr-spawns-cmd_mdecrevoisier.xml");
    let start = doc.find("<Event ").expect("an event");
    let end = doc.rfind("</Event>").expect("an end") + "</Event>".len();
    let events = &doc[start..end];
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Events>\n");
    while out.len() < STREAM_BYTES {
        out.push_str(events);
        out.push('\n');
    }
    out.push_str("</Events>\n");
    out.into_bytes()
}

/// The lines of `input`, split with memchr as the pipeline's line reader
/// does (a naive byte loop would dominate both sides).
fn lines(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', input).map(move |end| {
        let line = &input[start..end];
        start = end + 1;
        line
    })
}

/// Feed `input` to a decoder line by line, as the pipeline does; returns
/// the number of events.
fn normalize(format: Format, input: &[u8]) -> u64 {
    let mut dec = dumpwatch_normalize::decoder(format, &DecodeContext::default());
    let mut out = Output::default();
    let mut pos = RecordPos::default();
    for line in lines(input) {
        pos.line += 1;
        dec.push(line, pos, &mut out);
        pos.offset += line.len() as u64 + 1;
        if out.events.len() >= 1024 {
            black_box(&out.events);
            out.events.clear();
        }
    }
    dec.finish(&mut out);
    assert_eq!(out.stats.error_count(), 0, "{:?}", out.errors.first());
    out.stats.normalized
}

/// serde_json validating every line.
fn json_validate(input: &[u8]) -> u64 {
    let mut n = 0;
    for line in lines(input) {
        if !line.is_empty() {
            let v: IgnoredAny = serde_json::from_slice(line).expect("valid JSON");
            black_box(v);
            n += 1;
        }
    }
    n
}

/// quick-xml reading every XML event of the document.
fn xml_scan(input: &[u8]) -> u64 {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut n = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return n,
            Ok(e) => {
                black_box(e);
                n += 1;
            }
            Err(e) => panic!("invalid XML: {e}"),
        }
    }
}

struct Case {
    name: &'static str,
    format: Format,
    input: Vec<u8>,
    baseline_name: &'static str,
    baseline: fn(&[u8]) -> u64,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "nxlog-sysmon-json",
            format: Format::WindowsJson,
            input: nxlog_sysmon(),
            baseline_name: "serde_json IgnoredAny",
            baseline: json_validate,
        },
        Case {
            name: "winlogbeat-json",
            format: Format::WindowsJson,
            input: winlogbeat(),
            baseline_name: "serde_json IgnoredAny",
            baseline: json_validate,
        },
        Case {
            name: "eslogger-json",
            format: Format::Eslogger,
            input: eslogger(),
            baseline_name: "serde_json IgnoredAny",
            baseline: json_validate,
        },
        Case {
            name: "security-4688-xml",
            format: Format::WindowsXml,
            input: security_xml(),
            baseline_name: "quick-xml scan",
            baseline: xml_scan,
        },
    ]
}

fn criterion_benches(c: &mut Criterion, cases: &[Case]) {
    for case in cases {
        let mut g = c.benchmark_group(case.name);
        g.throughput(Throughput::Bytes(case.input.len() as u64));
        g.bench_function("normalize", |b| {
            b.iter(|| normalize(case.format, black_box(&case.input)))
        });
        g.bench_function(case.baseline_name, |b| {
            b.iter(|| (case.baseline)(black_box(&case.input)))
        });
        g.finish();
    }
}

fn summary(cases: &[Case]) {
    common::header();
    for case in cases {
        let (norm, base, events) = common::paired(
            || normalize(case.format, &case.input),
            || (case.baseline)(&case.input),
        );
        common::row(
            case.name,
            case.input.len(),
            events,
            norm,
            base,
            case.baseline_name,
        );
    }
}

fn main() {
    let cases = cases();
    if common::table_only() {
        summary(&cases);
        return;
    }
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    criterion_benches(&mut c, &cases);
    c.final_summary();
    if common::full_run() {
        summary(&cases);
    }
}
