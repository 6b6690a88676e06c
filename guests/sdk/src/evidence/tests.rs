use super::*;
use crate::testing::{EventBuilder, ip};
use crate::types::{EventClass, FileOperation};
use crate::uid::event_key;

fn exec(id: &str, time: i64) -> Event {
    EventBuilder::exec("auditd", id, time, "pg_dump")
        .host("db-01")
        .user("alice", 1001)
        .pid(42)
        .parent("bash", 40)
        .command_line("pg_dump crm")
        .build()
}

fn add(ledger: &mut EvidenceLedger, event: &Event, leg: u8, max: usize) -> bool {
    ledger.add(
        event_key(&event.source, &event.id),
        leg,
        event.time,
        &event.id,
        max,
        || StoredEvidence::from_event(leg, event),
    )
}

#[test]
fn process_evidence_round_trip() {
    let event = exec("e1", 1000);
    let evidence = StoredEvidence::from_event(0, &event).to_wit(&["exec"]);
    assert_eq!(evidence.leg, "exec");
    assert_eq!(evidence.class, EventClass::ProcessStart);
    assert_eq!(
        (
            evidence.source.as_str(),
            evidence.id.as_str(),
            evidence.time
        ),
        ("auditd", "e1", 1000)
    );
    assert_eq!(evidence.device.as_deref(), Some("db-01"));
    assert_eq!(evidence.user.as_deref(), Some("alice"));
    assert_eq!(evidence.process_name.as_deref(), Some("pg_dump"));
    assert_eq!(evidence.process_path.as_deref(), Some("/usr/bin/pg_dump"));
    assert_eq!(evidence.command_line.as_deref(), Some("pg_dump crm"));
    assert_eq!(evidence.parent_name.as_deref(), Some("bash"));
    assert_eq!(evidence.pid, Some(42));
    assert_eq!(from_event("exec", &event), evidence);
}

#[test]
fn file_and_http_evidence() {
    let file = EventBuilder::file("auditd", "f1", 5, FileOperation::Create, "/tmp/x.sql")
        .effective_user("root", 0)
        .size(123)
        .build();
    let evidence = from_event("dump", &file);
    assert_eq!(evidence.file.as_deref(), Some("/tmp/x.sql"));
    assert_eq!(evidence.bytes, Some(123));
    assert_eq!(evidence.user.as_deref(), Some("root"));

    let http = EventBuilder::http("zeek", "C1", 9, "POST", ip("203.0.113.7"), 443)
        .target("files.example.com", "/upload")
        .request_bytes(2_000_000)
        .build();
    let evidence = from_event("egress", &http);
    assert_eq!(
        evidence.url.as_deref(),
        Some("POST files.example.com/upload")
    );
    assert_eq!(evidence.bytes, Some(2_000_000));
    assert_eq!(evidence.dst.unwrap().port, Some(443));
    assert_eq!(evidence.user, None);
}

#[test]
fn ledger_dedups_and_counts_everything() {
    let mut ledger = EvidenceLedger::new();
    let first = exec("e1", 1000);
    assert!(add(&mut ledger, &first, 0, 2));
    assert!(
        !add(&mut ledger, &first, 0, 2),
        "a duplicate must be refused"
    );
    for i in 2..=5 {
        assert!(add(&mut ledger, &exec(&format!("e{i}"), 1000 + i), 0, 2));
    }
    assert_eq!(ledger.count(), 5);
    let ids: Vec<&str> = ledger.items().iter().map(|e| &*e.id).collect();
    assert_eq!(ids, ["e1", "e2"]);
}

#[test]
fn ledger_keeps_the_earliest_whatever_the_arrival_order() {
    let events: Vec<Event> = (0..6).map(|i| exec(&format!("e{i}"), 100 * i)).collect();
    let mut forward = EvidenceLedger::new();
    for event in &events {
        add(&mut forward, event, 0, 3);
    }
    let mut backward = EvidenceLedger::new();
    for event in events.iter().rev() {
        add(&mut backward, event, 0, 3);
    }
    assert_eq!(forward, backward);
    let ids: Vec<&str> = backward.items().iter().map(|e| &*e.id).collect();
    assert_eq!(ids, ["e0", "e1", "e2"]);
}

#[test]
fn ledger_bounds_each_leg_separately_and_sorts_by_time_then_id() {
    let mut ledger = EvidenceLedger::new();
    add(&mut ledger, &exec("b", 10), 0, 1);
    add(&mut ledger, &exec("a", 10), 0, 1);
    let dump = EventBuilder::file("auditd", "d", 5, FileOperation::Write, "/tmp/x.sql").build();
    add(&mut ledger, &dump, 1, 1);
    let ids: Vec<&str> = ledger.items().iter().map(|e| &*e.id).collect();
    assert_eq!(ids, ["d", "a"]);
    assert_eq!(ledger.first_of(0).map(|e| &*e.id), Some("a"));
    assert_eq!(ledger.count(), 3);
}

#[test]
fn ledger_round_trips_through_the_codec() {
    let mut ledger = EvidenceLedger::new();
    add(&mut ledger, &exec("e1", 1), 0, 5);
    let http = EventBuilder::http("zeek", "C1", 9, "PUT", ip("2001:db8::1"), 443).build();
    add(&mut ledger, &http, 2, 5);
    let bytes = crate::codec::encode(&ledger).unwrap();
    let back: EvidenceLedger = crate::codec::decode(&bytes).unwrap();
    assert_eq!(back, ledger);
}
