//! Unit tests of the Suricata decoder.

use super::*;

fn decode(input: &str) -> Output {
    let mut d = SuricataDecoder::new(&DecodeContext::default());
    let mut out = Output::default();
    for (i, l) in input.lines().enumerate() {
        d.push(
            l.as_bytes(),
            RecordPos {
                line: i as u64 + 1,
                offset: 0,
            },
            &mut out,
        );
    }
    d.finish(&mut out);
    out
}

#[test]
fn dns_queries_wait_for_answers_within_a_window() {
    let mut d = SuricataDecoder::new(&DecodeContext::default());
    let mut out = Output::default();
    let q = r#"{"timestamp":"2024-01-01T00:00:00+0000","flow_id":1,"event_type":"dns","dns":{"type":"query","id":5,"rrname":"a.example"}}"#;
    d.push(q.as_bytes(), RecordPos { line: 1, offset: 0 }, &mut out);
    assert_eq!(d.oldest_pending().map(|p| p.line), Some(1));
    let other = r#"{"timestamp":"2024-01-01T00:00:00+0000","event_type":"stats","stats":{}}"#;
    for _ in 0..=DNS_WINDOW {
        d.push(other.as_bytes(), RecordPos::default(), &mut out);
    }
    assert_eq!(out.events.len(), 1, "closed after the window");
    assert!(d.oldest_pending().is_none());
}

#[test]
fn stats_never_produce_events_and_flow_time_is_its_start() {
    let out = decode(
        r#"{"timestamp":"2030-01-01T00:00:00+0000","event_type":"stats","stats":{"uptime":1}}
{"timestamp":"2024-01-01T00:00:09+0000","flow_id":2,"event_type":"flow","proto":"UDP","flow":{"start":"2024-01-01T00:00:01.500000+0000","end":"2024-01-01T00:00:09+0000","bytes_toserver":1}}"#,
    );
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].time, 1_704_067_201_500);
    assert_eq!(out.stats.skipped.get("stats"), Some(&1));
}

#[test]
fn sniffing() {
    assert!(sniff(
        br#"{"timestamp":"2024-01-01T00:00:00+0000","event_type":"flow"}"#
    ));
    assert!(!sniff(br#"{"ts":1.0,"uid":"C","id.orig_h":"1.2.3.4"}"#));
}
