//! Unit tests of the Zeek decoder.

use super::*;
use crate::Output;

fn decode(input: &str) -> Output {
    let mut d = ZeekDecoder::new(&DecodeContext::default());
    let mut out = Output::default();
    for l in input.lines() {
        d.push(l.as_bytes(), RecordPos::default(), &mut out);
    }
    d.finish(&mut out);
    out
}

#[test]
fn bare_header_and_custom_separator() {
    let out = decode(
        "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\torig_bytes\n1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\tSF\t7\n",
    );
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].time, 1500);
    let out = decode(
        "#separator |\n#path|http\n#fields|ts|uid|method|uri|trans_depth\n2.0|C2|get|/a\\x7cb|4\n",
    );
    let ev = &out.events[0];
    assert_eq!(ev.id, "C2:4");
    let dumpwatch_event::Activity::Http(h) = &ev.activity else {
        panic!("http");
    };
    assert_eq!(h.method, "GET");
    assert_eq!(h.uri.as_deref(), Some("/a|b"));
}

#[test]
fn orig_ip_bytes_is_the_fallback_for_zero_orig_bytes() {
    let out = decode(
        r#"{"ts":1.0,"uid":"C","id.orig_h":"10.0.0.1","conn_state":"OTH","orig_bytes":0,"orig_ip_bytes":640}"#,
    );
    let dumpwatch_event::Activity::Network(n) = &out.events[0].activity else {
        panic!("network");
    };
    assert_eq!(n.bytes_out, Some(640));
}

#[test]
fn other_logs_are_skipped_by_type() {
    let out =
        decode("{\"_path\":\"files\",\"ts\":1.0,\"uid\":\"C\"}\n{\"ts\":1.0,\"fuid\":\"F\"}\n");
    assert_eq!(out.stats.skipped.get("files"), Some(&1));
    assert_eq!(out.stats.skipped.get("unknown log"), Some(&1));
}

#[test]
fn sniffing() {
    assert!(sniff(b"#separator \\x09\n#set_separator\t,\n"));
    assert!(sniff(b"ts\tuid\tid.orig_h\n"));
    assert!(sniff(br#"{"ts":1.0,"uid":"C","id_orig_h":"1.2.3.4"}"#));
    assert!(!sniff(br#"{"timestamp":"x","event_type":"flow"}"#));
}

#[test]
fn a_new_file_section_resets_the_header() {
    let out = decode(
        "#separator \\x09\n#path\tfiles\n#fields\tts\tuid\n1.0\tC\n#separator \\x09\n#fields\tts\tuid\tid.orig_h\tconn_state\n2.0\tC2\t10.0.0.1\tSF\n",
    );
    assert_eq!(out.stats.skipped.get("files"), Some(&1));
    assert_eq!(out.events.len(), 1, "the second section is conn, inferred");
}
