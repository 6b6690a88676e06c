//! The syslog input end to end over loopback sockets: RFC 5424 with octet
//! counting and RFC 3164 with newlines over TCP, datagrams over UDP; the
//! syslog host names the device, hosts keep their own assembler, and an
//! oversized message is counted.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use dumpwatch_event::Event;
use dumpwatch_normalize::{DecodeContext, Format};

use super::{SyslogInput, SyslogSpec, spawn};
use crate::live::message::{Msg, SourceHandle};
use crate::source::InputReport;

fn start(udp: bool) -> (SyslogInput, Receiver<Msg>, Arc<AtomicBool>) {
    let (tx, rx) = mpsc::sync_channel(64);
    let handle = SourceHandle::new(0, tx, Default::default());
    let stop = Arc::new(AtomicBool::new(false));
    let spec = SyslogSpec {
        name: "syslog".into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        udp,
        format: Format::Auditd,
        ctx: DecodeContext::default(),
        max_hosts: 16,
        max_message: 2048,
        max_connections: 4,
        idle_timeout: Duration::from_secs(5),
        flush_delay: Duration::from_millis(20),
        decoder_state: Vec::new(),
        dead_letter: None,
    };
    let input = spawn(spec, handle, None, stop.clone()).unwrap();
    (input, rx, stop)
}

/// An execve event of `exe` as three auditd records (no `node=`).
fn event(serial: u32, exe: &str) -> Vec<String> {
    let h = format!("msg=audit(1772445600.{serial:03}:{serial}):");
    vec![
        format!(
            "type=SYSCALL {h} arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=8 items=2 ppid=1 pid={serial} auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"x\" exe=\"{exe}\" key=\"exec\""
        ),
        format!("type=EXECVE {h} argc=1 a0=\"x\""),
        format!("type=EOE {h}"),
    ]
}

fn collect(rx: &Receiver<Msg>, events: usize) -> (Vec<Event>, InputReport) {
    let mut got = Vec::new();
    let mut report = InputReport::default();
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.len() < events && Instant::now() < deadline {
        if let Ok(Msg::Events {
            events, report: r, ..
        }) = rx.recv_timeout(Duration::from_millis(50))
        {
            got.extend(events);
            if let Some(r) = r {
                report = r;
            }
        }
    }
    (got, report)
}

fn hosts(events: &[Event]) -> Vec<String> {
    let mut h: Vec<String> = events
        .iter()
        .filter_map(|e| e.device.hostname.clone())
        .collect();
    h.sort();
    h
}

#[test]
fn tcp_octet_counted_5424_and_newline_3164_name_their_hosts() {
    let (input, rx, stop) = start(false);
    let mut s = TcpStream::connect(input.local_addr).unwrap();
    let mut bytes = Vec::new();
    // The same serial on two hosts: two events.
    for rec in event(7, "/usr/bin/pg_dump") {
        let m = format!("<86>1 2026-03-02T10:00:00Z db05 auditd - - - {rec}");
        bytes.extend_from_slice(format!("{} {m}", m.len()).as_bytes());
    }
    for rec in event(7, "/usr/bin/mysqldump") {
        bytes.extend_from_slice(format!("<86>Mar  2 10:00:00 db06 auditd: {rec}\n").as_bytes());
    }
    // Too long: counted, skipped, the stream goes on.
    bytes.extend_from_slice(
        format!("<86>Mar  2 10:00:00 db06 auditd: {}\n", "x".repeat(5000)).as_bytes(),
    );
    // Split across writes at an awkward place.
    let (a, b) = bytes.split_at(37);
    s.write_all(a).unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    s.write_all(b).unwrap();
    let (mut events, mut report) = collect(&rx, 2);
    assert_eq!(hosts(&events), ["db05", "db06"], "{events:?}");
    // The problem may come with the events or in a later report.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !report.stats.errors.contains_key("message too long") && Instant::now() < deadline {
        let (more, r) = collect(&rx, 1);
        events.extend(more);
        if r.stats.normalized > 0 || r.stats.error_count() > 0 {
            report = r;
        }
    }
    assert_eq!(
        report.stats.errors.get("message too long"),
        Some(&1),
        "{report:?}"
    );
    stop.store(true, Ordering::Relaxed);
    drop(s);
    for t in input.threads {
        t.join().unwrap();
    }
}

#[test]
fn udp_datagrams_are_messages() {
    let (input, rx, stop) = start(true);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for rec in event(9, "/usr/bin/psql") {
        let m = format!("<86>Mar  2 10:00:00 db07 auditd: {rec}");
        sock.send_to(m.as_bytes(), input.local_addr).unwrap();
    }
    let (events, report) = collect(&rx, 1);
    assert_eq!(hosts(&events), ["db07"]);
    assert_eq!(report.stats.error_count(), 0);
    stop.store(true, Ordering::Relaxed);
    for t in input.threads {
        t.join().unwrap();
    }
}
