//! Unit tests of the auditd decoder's parts: tokenizer, line wrapper,
//! header, assembly window.

use super::fields::{
    ArgKey, Field, InterpFields, RawFields, decode_value, is_execve_key, parse_arg_key,
};
use super::line::{HeaderTime, LineKind, local_civil, parse_header, split_line};
use super::*;
use crate::Output;

fn raw(s: &str) -> Vec<(String, String, bool)> {
    RawFields::new(s.as_bytes())
        .map(|f| {
            (
                String::from_utf8_lossy(f.key).into_owned(),
                String::from_utf8_lossy(f.value).into_owned(),
                f.quoted,
            )
        })
        .collect()
}

#[test]
fn raw_tokenizer_handles_quotes_braces_and_junk() {
    let f = raw(
        r#"a0="arp" a1=2D61 key=(null) msg='op=x acct="y"' SADDR={ saddr_fam=inet lport=53 } a2="x"' tty"#,
    );
    assert_eq!(f[0], ("a0".into(), "arp".into(), true));
    assert_eq!(f[1], ("a1".into(), "2D61".into(), false));
    assert_eq!(f[2], ("key".into(), "(null)".into(), false));
    assert_eq!(f[3].1, r#"op=x acct="y""#);
    assert_eq!(
        f[4],
        ("SADDR".into(), "{ saddr_fam=inet lport=53 }".into(), false)
    );
    assert_eq!(f[5], ("a2".into(), "x".into(), true));
    assert_eq!(f.len(), 6, "bare words are skipped");
    assert_eq!(raw(r#"a="unterminated"#)[0].1, "unterminated");
}

#[test]
fn interpreted_values_run_to_the_next_field_name() {
    let fs: Vec<Field<'_>> =
        InterpFields::new(b"argc=3 a0=dd a1=if=/dev/zero a2=x y=z", is_execve_key).collect();
    assert_eq!(fs[2].value, b"if=/dev/zero");
    assert_eq!(fs[3].value, b"x y=z");
    let v = decode_value(&fs[1], true).expect("value");
    assert_eq!(v.as_ref(), b"dd");
}

#[test]
fn hex_values_decode_only_in_raw_records() {
    let f = Field {
        key: b"a0",
        value: b"617270",
        quoted: false,
    };
    assert_eq!(decode_value(&f, false).expect("v").as_ref(), b"arp");
    assert_eq!(decode_value(&f, true).expect("v").as_ref(), b"617270");
    let null = Field {
        key: b"name",
        value: b"(null)",
        quoted: false,
    };
    assert!(decode_value(&null, false).is_none());
    assert_eq!(parse_arg_key(b"a12[3]"), Some(ArgKey::Chunk(12, 3)));
    assert_eq!(parse_arg_key(b"a4_len"), Some(ArgKey::Len(4)));
    assert_eq!(parse_arg_key(b"arch"), None);
}

#[test]
fn line_wrappers_and_headers() {
    let Some(LineKind::Record(l)) =
        split_line(b"Oct  4 16:31:50 db02 audisp: node=n1 type=PATH msg=audit(1.5:7): x=1")
    else {
        panic!("a record");
    };
    assert_eq!(l.syslog_host, Some(&b"db02"[..]));
    assert_eq!(l.node, Some(&b"n1"[..]));
    assert_eq!(l.type_text, b"PATH");
    let h = parse_header(l.rest).expect("header");
    assert_eq!(
        (h.time, h.serial, h.body),
        (HeaderTime::Epoch(b"1.5"), 7, &b"x=1"[..])
    );
    let h = parse_header(b" msg=audit(10/04/24 16:31:50.464:387) : arch=x86_64").expect("header");
    assert_eq!(h.time, HeaderTime::Local(b"10/04/24 16:31:50.464"));
    assert_eq!(h.body, b"arch=x86_64");
    assert_eq!(
        local_civil(b"10/04/24 16:31:50.464"),
        Some((2024, 10, 4, 16, 31, 50, 464))
    );
    assert_eq!(
        local_civil(b"2024-10-04 16:31:50.464"),
        Some((2024, 10, 4, 16, 31, 50, 464))
    );
    assert_eq!(local_civil(b"13/04/24 16:31:50"), None);
    assert!(parse_header(b"msg=?").is_err());
    assert!(matches!(split_line(b"----"), Some(LineKind::Separator)));
    assert!(matches!(
        split_line(b"time->Fri Oct  4 16:31:50 2024"),
        Some(LineKind::Ignore)
    ));
    assert!(split_line(b"hello world").is_none());
    let Some(LineKind::Record(k)) =
        split_line(b"[1.2] audit: type=1300 audit(1.000:2): arch=c000003e")
    else {
        panic!("a kernel record");
    };
    assert_eq!(k.syslog_host, None);
    assert_eq!(k.rtype, Some(line::RecordType::Syscall));
}

#[test]
fn sniffing() {
    assert!(sniff(b"type=SYSCALL msg=audit(1.0:1): arch=c000003e\n"));
    assert!(sniff(
        b"----\ntype=PROCTITLE msg=audit(10/04/2024 16:31:50.464:387) : proctitle=ls\n"
    ));
    assert!(sniff(
        b"Nov 14 22:33:20 db04 kernel: audit: type=1300 audit(1.0:2): x=1\n"
    ));
    assert!(sniff(
        br#"{"SyslogMessage":"type=AUOMS_EXECVE audit(1.0:1): x=1"}"#
    ));
    assert!(!sniff(br#"{"timestamp":"x","event_type":"flow"}"#));
    assert!(!sniff(b"#separator \\x09\n#fields\tts\n"));
}

fn syscall(time: &str, serial: u32, pid: u32) -> String {
    format!(
        "type=SYSCALL msg=audit({time}:{serial}): arch=c000003e syscall=59 success=yes exit=0 pid={pid} ppid=1 auid=1 uid=1 euid=1 comm=\"x\" exe=\"/bin/x\""
    )
}

#[test]
fn events_close_after_the_reorder_window_or_on_eoe() {
    let mut d = AuditdDecoder::new(&DecodeContext::default());
    let mut out = Output::default();
    let pos = RecordPos::default();
    d.push(syscall("100.000", 1, 10).as_bytes(), pos, &mut out);
    for i in 0..REORDER_RECORDS {
        d.push(
            syscall("100.000", 1000 + i as u32, 11).as_bytes(),
            pos,
            &mut out,
        );
    }
    assert!(out.events.iter().all(|e| e.id != "100.000:1"), "still open");
    d.push(syscall("100.000", 5000, 12).as_bytes(), pos, &mut out);
    assert!(
        out.events.iter().any(|e| e.id == "100.000:1"),
        "closed by the window"
    );
    // EOE closes at once.
    d.push(syscall("100.000", 6000, 13).as_bytes(), pos, &mut out);
    d.push(b"type=EOE msg=audit(100.000:6000):", pos, &mut out);
    assert_eq!(
        out.events.last().map(|e| e.id.as_str()),
        Some("100.000:6000")
    );
    // A record far newer on the same host closes older events.
    d.push(syscall("200.000", 7000, 14).as_bytes(), pos, &mut out);
    d.push(syscall("200.000", 7001, 15).as_bytes(), pos, &mut out);
    assert!(out.events.iter().any(|e| e.id == "100.000:5000"));
    d.finish(&mut out);
    assert!(d.oldest_pending().is_none());
}

#[test]
fn a_record_delivered_twice_is_skipped_not_merged() {
    let lines = [
        r#"node=db01 type=SYSCALL msg=audit(1700000000.100:7): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=42 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=1 comm="pg_dump" exe="/usr/bin/pg_dump" key=(null)"#,
        r#"node=db01 type=EXECVE msg=audit(1700000000.100:7): argc=2 a0="pg_dump" a1="shop""#,
    ];
    let mut dec = AuditdDecoder::new(&DecodeContext::default());
    let mut out = Output::default();
    for (i, l) in lines.iter().flat_map(|l| [l, l]).enumerate() {
        let pos = RecordPos {
            line: i as u64 + 1,
            offset: 0,
        };
        dec.push(l.as_bytes(), pos, &mut out);
    }
    dec.finish(&mut out);
    assert_eq!(out.events.len(), 1);
    let p = out.events[0].process.as_ref().expect("process");
    assert_eq!(p.command_line.as_deref(), Some("pg_dump shop"));
    assert_eq!(out.stats.skipped.get("duplicate record"), Some(&2));
}
