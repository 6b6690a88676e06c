//! Held records and headers survive a restart through the decoder-state
//! entries; hosts keep separate decoders.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use dumpwatch_normalize::{DecodeContext, Format};
use dumpwatch_state::{Entry, EntryChange};

use super::HostDecoders;

fn syscall(serial: u32, pid: u32, exe: &str) -> String {
    format!(
        "type=SYSCALL msg=audit(1700000000.{serial:03}:{serial}): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=8 items=2 ppid=1 pid={pid} auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"x\" exe=\"{exe}\" key=\"exec\""
    )
}

fn execve(serial: u32, argv: &[&str]) -> String {
    let args: Vec<String> = argv
        .iter()
        .enumerate()
        .map(|(i, a)| format!("a{i}=\"{a}\""))
        .collect();
    format!(
        "type=EXECVE msg=audit(1700000000.{serial:03}:{serial}): argc={} {}",
        argv.len(),
        args.join(" ")
    )
}

fn eoe(serial: u32) -> String {
    format!("type=EOE msg=audit(1700000000.{serial:03}:{serial}): ")
}

/// The store's view: changes applied in order.
fn apply(store: &mut BTreeMap<Vec<u8>, Vec<u8>>, changes: Vec<EntryChange>) {
    for (k, v) in changes {
        match v {
            Some(v) => store.insert(k, v),
            None => store.remove(&k),
        };
    }
}

fn entries(store: &BTreeMap<Vec<u8>, Vec<u8>>) -> Vec<Entry> {
    store.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn decoders(format: Format, stored: Vec<Entry>) -> HostDecoders {
    HostDecoders::new("test", format, DecodeContext::default(), 4, stored, None)
}

#[test]
fn an_event_held_at_a_checkpoint_completes_after_a_restart() {
    // Uninterrupted: the whole event in one batch.
    let mut whole = decoders(Format::Auditd, Vec::new());
    for l in [
        syscall(7, 300, "/usr/bin/pg_dump"),
        execve(7, &["pg_dump", "shop"]),
        eoe(7),
    ] {
        whole.push("db01", l.as_bytes());
    }
    let (expected, _, _) = whole.take();
    assert_eq!(expected.len(), 1, "{expected:?}");

    // The first two records, then a checkpoint and a crash.
    let mut store = BTreeMap::new();
    let mut first = decoders(Format::Auditd, Vec::new());
    first.push("db01", syscall(7, 300, "/usr/bin/pg_dump").as_bytes());
    first.push("db01", execve(7, &["pg_dump", "shop"]).as_bytes());
    let (events, changes, _) = first.take();
    assert!(events.is_empty(), "the event is still open");
    assert!(
        !changes.is_empty(),
        "the held lines must be in the checkpoint"
    );
    apply(&mut store, changes);
    drop(first);

    let mut second = decoders(Format::Auditd, entries(&store));
    second.push("db01", eoe(7).as_bytes());
    let (events, changes, _) = second.take();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].id, expected[0].id);
    assert_eq!(events[0].device, expected[0].device);
    apply(&mut store, changes);
    assert!(
        !store.keys().any(|k| k.ends_with(b"\0p")),
        "nothing is held any more: {store:?}"
    );
}

#[test]
fn hosts_have_their_own_assembler_and_name_the_device() {
    let mut d = decoders(Format::Auditd, Vec::new());
    // The same serial and time on two hosts: two events, not one.
    d.push("db01", syscall(9, 400, "/usr/bin/psql").as_bytes());
    d.push("db02", syscall(9, 500, "/usr/bin/mysqldump").as_bytes());
    d.push("db01", execve(9, &["psql"]).as_bytes());
    d.push("db02", execve(9, &["mysqldump", "crm"]).as_bytes());
    d.push("db01", eoe(9).as_bytes());
    d.push("db02", eoe(9).as_bytes());
    let (events, _, report) = d.take();
    assert_eq!(events.len(), 2, "{events:?}");
    let devices: Vec<_> = events.iter().map(|e| e.device.hostname.clone()).collect();
    assert!(devices.contains(&Some("db01".into())), "{devices:?}");
    assert!(devices.contains(&Some("db02".into())), "{devices:?}");
    assert_eq!(report.stats.normalized, 2);
}

#[test]
fn hosts_past_the_limit_are_counted_not_decoded() {
    let mut d = decoders(Format::Auditd, Vec::new());
    for h in 0..6 {
        d.push(&format!("h{h}"), eoe(1).as_bytes());
    }
    let (_, _, report) = d.take();
    assert_eq!(report.stats.errors.get("too many hosts"), Some(&2));
    assert_eq!(d.hosts(), 4);
}

#[test]
fn a_zeek_header_outlives_a_restart() {
    let header = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state",
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring",
    ];
    let rec = |uid: &str| {
        format!(
            "1700000000.000000\t{uid}\t10.0.0.5\t50000\t203.0.113.9\t443\ttcp\tssl\t1.5\t9000000\t100\tSF"
        )
    };
    let mut store = BTreeMap::new();
    let mut first = decoders(Format::Zeek, Vec::new());
    for h in header {
        first.push("sensor", h.as_bytes());
    }
    first.push("sensor", rec("C1").as_bytes());
    let (events, changes, _) = first.take();
    assert_eq!(events.len(), 1, "{events:?}");
    apply(&mut store, changes);

    let mut second = decoders(Format::Zeek, entries(&store));
    second.push("sensor", rec("C2").as_bytes());
    let (events, _, report) = second.take();
    assert_eq!(report.stats.error_count(), 0, "{:?}", report.first_errors);
    assert_eq!(events.len(), 1);
}
