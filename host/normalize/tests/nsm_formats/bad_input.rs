//! Bad input is normal input: counted, never a panic.

use dumpwatch_normalize::Format;

use super::common::*;

const FORMATS: [Format; 3] = [Format::Auditd, Format::Zeek, Format::Suricata];

#[test]
fn empty_input_gives_nothing() {
    for f in FORMATS {
        let r = run(f, b"");
        assert_eq!(
            r.stats.normalized + r.stats.error_count() + r.stats.skipped_count(),
            0
        );
    }
}

#[test]
fn malformed_and_truncated_lines_are_counted() {
    let auditd = run(
        Format::Auditd,
        b"type=SYSCALL msg=audit(1700000000.1\n\
          type=SYSCALL msg=audit(abc:12): arch=c000003e\n\
          type=EXECVE msg=audit(1700000000.100:5): argc=2 a0=\"ls\" a1=\"-l\n\
          just some text\n\
          type=FROBNICATE msg=audit(1700000000.100:6): x=1\n\
          type=SYSCALL msg=audit(1700000000.200:7): arch=c000003e syscall=59 a99999999=\"x\" a3=zz pid=-1 ppid=99999999999\n",
    );
    assert_eq!(
        auditd.stats.errors.get("malformed header"),
        Some(&1),
        "{:?}",
        auditd.errors
    );
    assert_eq!(
        auditd.stats.errors.get("invalid time"),
        Some(&1),
        "{:?}",
        auditd.errors
    );
    assert_eq!(auditd.stats.errors.get("not an audit record"), Some(&1));
    assert_eq!(auditd.skipped("FROBNICATE"), 1);
    // The truncated EXECVE still yields what it holds.
    assert_eq!(auditd.class_count("process_start"), 2);

    let zeek = run(
        Format::Zeek,
        b"1\t2\t3\n{\"uid\":\n{\"_path\":\"conn\",\"ts\":\"soon\"}\n",
    );
    assert_eq!(zeek.stats.errors.get("no header"), Some(&1));
    assert_eq!(zeek.stats.errors.get("invalid JSON"), Some(&1));
    assert_eq!(zeek.stats.errors.get("missing time"), Some(&1));

    let suri = run(
        Format::Suricata,
        b"{\"timestamp\":\"2024-01-01T00:00:00+0000\"\n{\"event_type\":\"flow\"}\n[1,2]\n{\"timestamp\":\"x\",\"event_type\":\"http\",\"http\":{\"http_method\":\"GET\"}}\n",
    );
    assert_eq!(
        suri.stats.errors.get("invalid JSON"),
        Some(&2),
        "{:?}",
        suri.errors
    );
    assert_eq!(
        suri.stats.errors.get("missing time"),
        Some(&2),
        "{:?}",
        suri.errors
    );
}

#[test]
fn non_utf8_bytes_do_not_stop_decoding() {
    let mut line = b"type=SYSCALL msg=audit(1700000000.100:9): arch=c000003e syscall=59 success=yes exit=0 pid=5 ppid=1 auid=1000 uid=1000 euid=1000 comm=\"\xff\xfe\" exe=\"/usr/bin/\xc3\x28x\"\n".to_vec();
    line.extend_from_slice(b"type=EXECVE msg=audit(1700000000.100:9): argc=1 a0=\"\x80\x81\"\n");
    let r = run(Format::Auditd, &line);
    assert_eq!(r.class_count("process_start"), 1);
    let v = r.json("1700000000.100:9");
    assert!(
        v["process"]["path"]
            .as_str()
            .expect("path")
            .starts_with("/usr/bin/")
    );

    let z = run(Format::Zeek, b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tconn_state\n1700000000.0\tC\xff\t10.0.0.1\t1\t10.0.0.2\t2\tSF\n");
    assert_eq!(z.class_count("network"), 1);
    let s = run(Format::Suricata, b"{\"timestamp\":\"2024-01-01T00:00:00+0000\",\"event_type\":\"tls\",\"tls\":{\"sni\":\"\xff\"}}\n");
    assert_eq!(s.stats.error_count(), 1);
}

#[test]
fn a_ten_megabyte_line_is_counted_and_skipped() {
    for f in FORMATS {
        let mut input = Vec::with_capacity(11 << 20);
        input.extend_from_slice(b"type=EXECVE msg=audit(1700000000.100:1): argc=1 a0=\"");
        input.resize(10 << 20, b'A');
        input.extend_from_slice(b"\"\n");
        let r = run(f, &input);
        assert_eq!(r.stats.errors.get("line too long"), Some(&1), "{f}");
    }
    // Handed to a decoder directly (no line limit), a huge record is
    // still bounded: the EXECVE keeps at most 1 MiB of arguments.
    let mut big = b"type=EXECVE msg=audit(1700000000.100:1): argc=1 a0=\"".to_vec();
    big.resize(10 << 20, b'A');
    big.push(b'"');
    let mut dec = dumpwatch_normalize::decoder(Format::Auditd, &Default::default());
    let mut out = dumpwatch_normalize::Output::default();
    dec.push(&big, Default::default(), &mut out);
    dec.finish(&mut out);
    let args = &out.events[0].process.as_ref().expect("process").args;
    assert!(args[0].len() <= 1 << 20);
}
