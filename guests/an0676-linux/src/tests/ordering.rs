//! Arrival order must not matter: the same events reversed, shuffled within
//! a lateness bound with watermarks interleaved, or duplicated, give the
//! same final findings as in-order delivery.

use std::collections::BTreeMap;

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::types::*;
use proptest::prelude::*;

use super::*;

/// The reference: every event in time order in one batch, then the end.
pub(super) fn reference(events: &[Event]) -> BTreeMap<String, Finding> {
    let mut sorted = events.to_vec();
    sorted.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
    let mut a = analytic(vec![]);
    latest(&run(&mut a, sorted))
}

/// A day at the office on two hosts: overlapping windows of several
/// users, redirect writes, children, sensor and host egress, noise.
fn office_day() -> Vec<Event> {
    vec![
        exec("e1", T0, "db-01", "alice", 1001, 500, "psql"),
        dump(
            "d0",
            T0 - 2 * SEC,
            "db-01",
            "alice",
            1001,
            500,
            "/tmp/pre.sql",
        ),
        exec("e2", T0 + 3 * MIN, "db-01", "alice", 1001, 510, "pg_dump"),
        dump(
            "d1",
            T0 + 4 * MIN,
            "db-01",
            "alice",
            1001,
            510,
            "/home/alice/crm.sql",
        ),
        nsm_post("g1", T0 + 5 * MIN, "db-01", "203.0.113.7"),
        exec("e3", T0 + 9 * MIN, "db-01", "bob", 1002, 600, "mysqldump"),
        dump(
            "d2",
            T0 + 9 * MIN + 30 * SEC,
            "db-01",
            "bob",
            1002,
            600,
            "/var/tmp/shop.sql.gz",
        ),
        connect(
            "c1",
            T0 + 10 * MIN,
            "db-01",
            ("bob", 1002),
            600,
            "198.51.100.4",
            443,
        ),
        exec("e4", T0 + 11 * MIN, "db-01", "alice", 1001, 700, "psql"),
        dump(
            "d3",
            T0 + 12 * MIN,
            "db-01",
            "alice",
            1001,
            700,
            "/tmp/again.csv",
        ),
        nsm_flow("f1", T0 + 13 * MIN, "db-01", "203.0.113.8", 50_000_000),
        exec("e5", T0 + 2 * MIN, "db-02", "carol", 1003, 800, "mongodump"),
        dump(
            "d4",
            T0 + 2 * MIN + SEC,
            "db-02",
            "root",
            0,
            801,
            "/srv/dump/users.bson",
        ),
        nsm_post("g2", T0 + MIN, "db-02", "203.0.113.9"),
        nsm_post("g3", T0 + 3 * MIN, "db-02", "203.0.113.9"),
        exec("e6", T0 + MIN, "db-02", "postgres", 26, 900, "pg_dump"),
        dump(
            "d5",
            T0 + MIN,
            "db-02",
            "postgres",
            26,
            900,
            "/backup/nightly.sql",
        ),
        exec("x1", T0 + 4 * MIN, "db-02", "carol", 1003, 950, "ls"),
    ]
}

#[test]
fn the_office_day_reference_is_what_the_rules_say() {
    let findings = reference(&office_day());
    let by_anchor = |id: &str, host: &str, user: &str| {
        findings
            .get(&dumpwatch_sdk::uid::finding_uid(
                "AN0676",
                &[host, user],
                id,
            ))
            .unwrap_or_else(|| panic!("no finding anchored at {id}"))
            .clone()
    };
    // e2 joins e1's window; d0 is the redirect write just before e1; the
    // home-directory dump and the sensor upload make it critical.
    let alice = by_anchor("e1", "db-01", "alice");
    assert_eq!(evidence_ids(&alice), ["d0", "e1", "e2", "d1", "g1"]);
    assert_eq!(alice.severity, Severity::Critical);
    // e4 comes after the first window: a window of its own.
    let alice2 = by_anchor("e4", "db-01", "alice");
    assert_eq!(evidence_ids(&alice2), ["e4", "d3", "f1"]);
    assert_eq!(alice2.severity, Severity::High);
    // Host egress of bob, then the sensor flow that every window of the
    // host with a dump before it gets.
    let bob = by_anchor("e3", "db-01", "bob");
    assert_eq!(evidence_ids(&bob), ["e3", "d2", "c1", "f1"]);
    // root's write is a child of carol's client (parent pid); the upload
    // before the dump does not count, the one after does.
    let carol = by_anchor("e5", "db-02", "carol");
    assert_eq!(evidence_ids(&carol), ["e5", "d4", "g3"]);
    assert_eq!(carol.severity, Severity::High);
    // postgres is allowed.
    assert_eq!(findings.len(), 4);
}

#[test]
fn reversed_arrival_gives_the_same_findings() {
    let events = office_day();
    let expected = reference(&events);
    let mut reversed = events.clone();
    reversed.sort_by(|a, b| (b.time, &b.id).cmp(&(a.time, &a.id)));
    let mut a = analytic(vec![]);
    assert_eq!(latest(&run(&mut a, reversed)), expected);
}

/// Deliver `events` in arrival order (time + delay), in batches, calling
/// advance with watermarks that respect the lateness bound: never past the
/// time of an event still to come.
fn deliver(
    events: &[Event],
    delays: &[i64],
    batch_sizes: &[usize],
    advance_every: &[bool],
) -> BTreeMap<String, Finding> {
    let mut order: Vec<(i64, usize)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.time + delays[i % delays.len()], i))
        .collect();
    order.sort();
    let mut a = analytic(vec![]);
    let mut emitted = Vec::new();
    let mut next = 0;
    let mut round = 0;
    while next < order.len() {
        let size = batch_sizes[round % batch_sizes.len()].max(1);
        let batch: Vec<Event> = order[next..(next + size).min(order.len())]
            .iter()
            .map(|&(_, i)| events[i].clone())
            .collect();
        next += batch.len();
        emitted.extend(a.process(batch));
        if advance_every[round % advance_every.len()] {
            // Strictly below every event still to come.
            let safe = order[next..].iter().map(|&(_, i)| events[i].time).min();
            if let Some(safe) = safe {
                emitted.extend(a.advance(safe - 1));
            }
        }
        round += 1;
    }
    let end = events.iter().map(|e| e.time).max().unwrap_or(0);
    emitted.extend(a.advance(end));
    // Every emission of a uid after the first is an update of it: the
    // first emission already had the final anchor.
    latest(&emitted)
}

/// What [`random_events`] builds from: per event its kind, user, host,
/// pid and second.
pub(super) type Spec = Vec<(u8, u8, u8, u8, i64)>;

pub(super) fn random_spec() -> impl Strategy<Value = Spec> {
    proptest::collection::vec((0u8..9, 0u8..3, 0u8..2, 0u8..4, 0i64..(25 * 60)), 1..40)
}

/// Client starts, dumps (also under a home directory and by children of
/// the client), host and sensor egress, on two hosts, three users (one
/// allowed), four pids, within 25 minutes; some duplicated.
pub(super) fn random_events(spec: &Spec, duplicate: bool) -> Vec<Event> {
    let users = [("alice", 1001u32), ("bob", 1002), ("postgres", 26)];
    let hosts = ["db-01", "db-02"];
    let mut events = Vec::new();
    for (n, &(kind, user, host, pid, second)) in spec.iter().enumerate() {
        let (user, uid) = users[usize::from(user)];
        let host = hosts[usize::from(host)];
        let pid = 500 + u32::from(pid);
        let time = T0 + second * SEC;
        let id = format!("ev{n}");
        events.push(match kind {
            0 | 1 => exec(&id, time, host, user, uid, pid, "pg_dump"),
            2 => dump(&id, time, host, user, uid, pid, "/tmp/x.sql"),
            3 => dump(&id, time, host, user, uid, pid, "/home/x/y.csv"),
            4 => nsm_post(&id, time, host, "203.0.113.7"),
            5 => connect(&id, time, host, (user, uid), pid, "198.51.100.1", 443),
            6 => dumpwatch_sdk::testing::EventBuilder::file(
                "auditd",
                &id,
                time,
                FileOperation::Write,
                "/tmp/child.dump",
            )
            .host(host)
            .user("root", 0)
            .pid(pid + 100)
            .parent_pid(pid)
            .build(),
            7 => nsm_flow(&id, time, host, "203.0.113.8", 2_000_000),
            _ => dumpwatch_sdk::testing::EventBuilder::exec("auditd", &id, time, "mysql")
                .host(host)
                .user(user, uid)
                .pid(pid)
                .parent("nginx", pid - 1)
                .build(),
        });
    }
    if duplicate {
        let copies: Vec<Event> = events.iter().step_by(3).cloned().collect();
        events.extend(copies);
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn shuffled_arrival_with_watermarks_gives_the_same_findings(
        delays in proptest::collection::vec(0i64..(5 * MIN), 1..40),
        batch_sizes in proptest::collection::vec(1usize..6, 1..8),
        advance_every in proptest::collection::vec(any::<bool>(), 1..5),
    ) {
        let events = office_day();
        let expected = reference(&events);
        prop_assert_eq!(deliver(&events, &delays, &batch_sizes, &advance_every), expected);
    }

    #[test]
    fn random_streams_in_any_order_give_the_same_findings(
        spec in random_spec(),
        delays in proptest::collection::vec(0i64..(3 * MIN), 1..20),
        batch_sizes in proptest::collection::vec(1usize..5, 1..5),
        advance_every in proptest::collection::vec(any::<bool>(), 1..4),
        duplicate in any::<bool>(),
    ) {
        let events = random_events(&spec, duplicate);
        let expected = reference(&events);
        prop_assert_eq!(deliver(&events, &delays, &batch_sizes, &advance_every), expected);
    }
}
