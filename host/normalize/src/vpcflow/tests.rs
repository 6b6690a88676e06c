use std::io::BufReader;
use std::net::IpAddr;

use dumpwatch_event::{Activity, Event, EventClass, NetworkFlow};
use proptest::prelude::*;

use super::*;
use crate::reader::{Line, LineReader};

fn decode_with(ctx: &DecodeContext, bytes: &[u8]) -> Output {
    let mut dec = VpcFlowDecoder::new(ctx);
    let mut out = Output::default();
    let mut lines = LineReader::new(BufReader::new(bytes), crate::reader::DEFAULT_MAX_LINE);
    while let Some(line) = lines.next_line().expect("in-memory read") {
        match line {
            Line::Data(l, pos) => dec.push(l, pos, &mut out),
            Line::TooLong { pos, .. } => out.error(pos, "line too long", "test input"),
        }
    }
    dec.finish(&mut out);
    out
}

fn decode(bytes: &[u8]) -> Output {
    decode_with(&DecodeContext::default(), bytes)
}

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/../../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn flow(ev: &Event) -> &NetworkFlow {
    match &ev.activity {
        Activity::Network(f) => f,
        other => panic!("not a flow: {other:?}"),
    }
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().expect("test address"))
}

#[test]
fn default_format_examples() {
    let out = decode(&fixture(
        "corpus/aws-vpcflow/awsdocs-vpc_flowlogs_default-v2_examples.log",
    ));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.stats.by_class.get(&EventClass::Network), Some(&5));
    assert_eq!(out.stats.skipped.get("NODATA"), Some(&1));
    assert_eq!(out.stats.skipped.get("SKIPDATA"), Some(&1));

    let ssh = &out.events[0];
    assert_eq!(ssh.time, 1_418_530_010_000);
    assert_eq!(ssh.device.domain.as_deref(), Some("123456789010"));
    assert_eq!(
        ssh.id,
        "eni-1235b8ca123456789/1418530010/1418530070/6/172.31.16.139/20641/172.31.16.21/22/ACCEPT"
    );
    let f = flow(ssh);
    assert_eq!(f.src.ip, ip("172.31.16.139"));
    assert_eq!(f.src.port, Some(20641));
    assert_eq!(f.dst.ip, ip("172.31.16.21"));
    assert_eq!(f.dst.port, Some(22));
    assert_eq!(f.protocol, Some(6));
    assert_eq!(f.bytes_out, Some(4249));
    assert_eq!(f.end_time, Some(1_418_530_070_000));
    assert_eq!(f.allowed, Some(true));
    assert_eq!(f.interface.as_deref(), Some("eni-1235b8ca123456789"));

    // l.2: the RDP REJECT.
    let rdp = flow(&out.events[1]);
    assert_eq!(rdp.dst.port, Some(3389));
    assert_eq!(rdp.allowed, Some(false));
    // ICMP pair: same addresses, different verdicts and starts, distinct ids.
    assert_eq!(flow(&out.events[2]).protocol, Some(1));
    assert_ne!(out.events[2].id, out.events[3].id);
    // IPv6.
    assert_eq!(
        flow(&out.events[4]).src.ip,
        ip("2001:db8:1234:a100:8d6e:3477:df66:f105")
    );
}

#[test]
fn header_maps_columns_by_name() {
    let out = decode(&fixture(
        "corpus/aws-vpcflow/awsdocs-vpc_flowlogs_custom-v3_tcp-flags_examples.log",
    ));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.stats.normalized, 8);
    // Custom order: `bytes` before `packets`.
    let big = out
        .events
        .iter()
        .max_by_key(|e| flow(e).bytes_out)
        .expect("events");
    assert_eq!(flow(big).bytes_out, Some(23_294_588));
    assert_eq!(flow(big).src.ip, ip("52.213.180.42"));
    // l.9 has a doubled space upstream.
    let last = flow(&out.events[7]);
    assert_eq!(last.src.port, Some(5001));
    assert_eq!(last.dst.port, Some(43638));
    assert_eq!(last.bytes_out, Some(967));

    let out = decode(&fixture(
        "written/aws-vpcflow/custom-v8-fields_rds-egress_with-header.log",
    ));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.stats.normalized, 5);
    assert_eq!(out.stats.skipped.get("NODATA"), Some(&1));
    let egress: u64 = out
        .events
        .iter()
        .map(flow)
        .filter(|f| f.src.port == Some(5432))
        .filter_map(|f| f.bytes_out)
        .sum();
    assert_eq!(egress, 24_117_248 + 15_728_640);
    let reject = out
        .events
        .iter()
        .find(|e| flow(e).allowed == Some(false))
        .expect("REJECT");
    assert_eq!(flow(reject).dst.port, Some(3306));
    assert_eq!(reject.device.domain.as_deref(), Some("111122223333"));
}

#[test]
fn configured_fields_for_streams_without_header() {
    let ctx = DecodeContext {
        vpc_flow_fields: Some(
            "${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${bytes} ${start} ${end} ${action} ${log-status}"
                .split(' ')
                .map(str::to_owned)
                .collect(),
        ),
        ..Default::default()
    };
    let out = decode_with(
        &ctx,
        b"eni-1 10.0.0.1 203.0.113.9 5432 40000 6 999 1700000000 1700000060 ACCEPT OK\n",
    );
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let f = flow(&out.events[0]);
    assert_eq!(f.bytes_out, Some(999));
    assert_eq!(out.events[0].device.domain, None);
    assert_eq!(out.events[0].time, 1_700_000_000_000);
}

#[test]
fn bad_rows_are_counted_with_reasons() {
    let input = [
        "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 10 1418530010 1418530070 ACCEPT OK",
        "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 10 1418530010 ACCEPT OK",
        "2 123456789010 eni-1 10.0.0.999 10.0.0.2 1 2 6 1 10 1418530010 1418530070 ACCEPT OK",
        "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 70000 6 1 10 1418530010 1418530070 ACCEPT OK",
        "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 10 - 1418530070 ACCEPT OK",
        "2 123456789010 eni-1 - - - - - 1 10 1418530010 1418530070 ACCEPT OK",
        "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 10 1418530010 1418530070 ACCEPT OK",
    ]
    .join("\n");
    let mut bytes = input.into_bytes();
    bytes.extend_from_slice(
        b"\n2 123456789010 eni-\xff 10.0.0.1 10.0.0.2 1 2 6 1 10 1418530010 1418530070 ACCEPT OK\n",
    );
    let out = decode(&bytes);
    let kinds: Vec<(u64, &str)> = out.errors.iter().map(|e| (e.pos.line, e.kind)).collect();
    assert_eq!(
        kinds,
        [
            (2, "wrong column count"),
            (3, "invalid field"),
            (4, "invalid field"),
            (5, "missing time"),
            (6, "missing field"),
            (8, "invalid UTF-8"),
        ]
    );
    assert_eq!(out.stats.normalized, 2);
}

#[test]
fn sniffs_header_and_default_rows() {
    for file in [
        "corpus/aws-vpcflow/awsdocs-vpc_flowlogs_default-v2_examples.log",
        "corpus/aws-vpcflow/awsdocs-vpc_flowlogs_custom-v3_tcp-flags_examples.log",
        "written/aws-vpcflow/custom-v8-fields_rds-egress_with-header.log",
    ] {
        assert_eq!(
            crate::detect(&fixture(file)),
            Some(Format::VpcFlow),
            "{file}"
        );
    }
    assert!(!sniff(b"version account-id\n"));
    assert!(!sniff(b"{\"srcaddr\": 1}"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary lines never panic, and every non-blank line that is not a
    /// header ends in exactly one count.
    #[test]
    fn any_line_is_accounted_for(lines in prop::collection::vec(
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..120),
            "[0-9a-f .:-]{0,80}".prop_map(String::into_bytes),
            Just(b"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 10 1418530010 1418530070 ACCEPT OK".to_vec()),
        ],
        0..20,
    )) {
        let mut dec = VpcFlowDecoder::new(&DecodeContext::default());
        let mut out = Output::default();
        let mut expected = 0u64;
        for (i, line) in lines.iter().enumerate() {
            let line: Vec<u8> = line.iter().copied().filter(|&b| b != b'\n').collect();
            let tokens: Vec<&[u8]> = split_fields(&line).collect();
            if !tokens.is_empty() && !columns::is_header(&tokens) {
                expected += 1;
            }
            dec.push(&line, RecordPos { line: i as u64 + 1, offset: 0 }, &mut out);
        }
        dec.finish(&mut out);
        let s = &out.stats;
        prop_assert_eq!(s.normalized + s.skipped_count() + s.error_count(), expected);
    }
}
