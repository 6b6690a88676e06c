//! Snapshots: `full` restores exactly at every cut point (learned
//! templates included), `changes` merged restore like a full one, an
//! incompatible format is refused.

use std::collections::BTreeMap;

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::state::{Entry, pack, unpack};
use dumpwatch_sdk::types::*;

use super::*;
use crate::engine::persist::{FORMAT, LEARNED, PENDING, SNOWFLAKE};

/// Queries across the learning period, reads, a bulk read, new
/// templates, downloads.
pub(super) fn stream() -> Vec<Event> {
    let mut events = vec![
        Query::new("select id from customers where id = 1").at("l1", T0, "JSMITH", "ANALYST"),
        Query::new("select * from hr.payroll where k = 1").at("l2", T0 + 5 * MIN, "ADOE", "HR"),
        Query::new("select name from customers where id = 1").at(
            "n1",
            T0 + 70 * MIN,
            "JSMITH",
            "ANALYST",
        ),
        Query::new("select * from customers").rows(2_000_000).at(
            "b1",
            T0 + 71 * MIN,
            "JSMITH",
            "ANALYST",
        ),
        Query::new("select * from hr.payroll where k = 9").at("k1", T0 + 72 * MIN, "ADOE", "HR"),
        Query::new("select 1").at("x1", T0 + 73 * MIN, "SVC", "ETL"),
    ];
    events.extend(downloads("d", T0 + 74 * MIN, SEC, 22, "jdoe@contoso.com"));
    events.push(Query::new("select ssn from hr.payroll").at("n2", T0 + 200 * MIN, "ADOE", "HR"));
    events
}

fn feed(a: &mut An0680, events: &[Event]) -> Vec<Finding> {
    let mut out = Vec::new();
    for event in events {
        out.extend(a.process(vec![event.clone()]));
        out.extend(a.advance(event.time));
    }
    out
}

#[test]
fn restore_mid_stream_continues_like_an_uninterrupted_run() {
    let events = stream();
    for cut in 0..=events.len() {
        let mut straight = analytic(vec![short_learning()]);
        let mut expected = feed(&mut straight, &events);
        expected.extend(straight.advance(i64::MAX));
        assert_eq!(latest(&expected).len(), 3, "JSMITH, ADOE, jdoe; cut {cut}");

        let mut first = analytic(vec![short_learning()]);
        let mut got = feed(&mut first, &events[..cut]);
        let entries = unpack(&first.snapshot(SnapshotMode::Full));
        let mut second = analytic(vec![short_learning()]);
        second.restore(pack(&entries)).unwrap();
        assert_eq!(
            second.engine().window_count(),
            first.engine().window_count()
        );
        assert_eq!(
            second.engine().pending_count(),
            first.engine().pending_count()
        );
        assert_eq!(
            second.engine().learned_count(),
            first.engine().learned_count()
        );
        assert_eq!(second.engine().watermark(), first.engine().watermark());
        got.extend(feed(&mut second, &events[cut..]));
        got.extend(second.advance(i64::MAX));
        assert_eq!(got, expected, "cut at {cut}");
    }
}

#[test]
fn learned_templates_are_in_the_snapshot() {
    let mut a = analytic(vec![short_learning()]);
    feed(&mut a, &stream()[..2]);
    a.advance(T0 + 10 * MIN);
    let entries = unpack(&a.snapshot(SnapshotMode::Full));
    assert!(entries.iter().filter(|e| e.key[0] == LEARNED).count() >= 4);
    // Restored, the learned shape is not new after the learning period.
    let mut b = analytic(vec![short_learning()]);
    b.restore(pack(&entries)).unwrap();
    let again = Query::new("select id from customers where id = 42").at(
        "k9",
        T0 + 3 * HOUR,
        "JSMITH",
        "ANALYST",
    );
    let out = run(&mut b, vec![again]);
    assert!(out.is_empty(), "{out:#?}");
    // Without the snapshot the same query would be new.
    let mut fresh = analytic(vec![short_learning()]);
    let warm = Query::new("select 1").at("w", T0, "SVC", "ETL");
    let again = Query::new("select id from customers where id = 42").at(
        "k9",
        T0 + 3 * HOUR,
        "JSMITH",
        "ANALYST",
    );
    assert_eq!(latest(&run(&mut fresh, vec![warm, again])).len(), 1);
}

#[test]
fn merged_change_snapshots_restore_like_a_full_one() {
    let events = stream();
    let mut a = analytic(vec![short_learning()]);
    let mut merged: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
    for chunk in events.chunks(4) {
        feed(&mut a, chunk);
        for entry in unpack(&a.snapshot(SnapshotMode::Changes)) {
            merged.insert(entry.key, entry.value);
        }
    }
    let entries: Vec<Entry> = merged
        .into_iter()
        .filter(|(_, value)| value.is_some())
        .map(|(key, value)| Entry { key, value })
        .collect();
    let mut restored = analytic(vec![short_learning()]);
    restored.restore(pack(&entries)).unwrap();
    let full = |x: &mut An0680| {
        let mut e = unpack(&x.snapshot(SnapshotMode::Full));
        e.sort_by(|p, q| p.key.cmp(&q.key));
        e
    };
    assert_eq!(full(&mut restored), full(&mut a));
}

#[test]
fn changes_carry_only_what_changed() {
    let mut a = analytic(vec![short_learning()]);
    feed(&mut a, &stream()[..3]);
    // The last fed query is at the watermark, still pending: release it.
    a.advance(T0 + 75 * MIN);
    a.snapshot(SnapshotMode::Full);
    assert!(
        unpack(&a.snapshot(SnapshotMode::Changes))
            .iter()
            .all(|e| e.key[0] == 0)
    );
    a.process(vec![Query::new("select 2").at(
        "z",
        T0 + 80 * MIN,
        "SVC",
        "ETL",
    )]);
    let changes = unpack(&a.snapshot(SnapshotMode::Changes));
    let user: Vec<&Entry> = changes.iter().filter(|e| e.key[0] != 0).collect();
    assert_eq!(user.len(), 1);
    assert_eq!(user[0].key[0], PENDING);
    a.advance(T0 + 81 * MIN);
    let changes = unpack(&a.snapshot(SnapshotMode::Changes));
    assert!(
        changes
            .iter()
            .any(|e| e.key[0] == PENDING && e.value.is_none())
    );
    assert_eq!(
        changes.iter().filter(|e| e.key[0] == LEARNED).count(),
        2,
        "user and role"
    );
    assert!(
        changes.iter().all(|e| e.key[0] != SNOWFLAKE),
        "no window touched"
    );
}

#[test]
fn an_incompatible_snapshot_is_refused_and_leaves_an_empty_state() {
    let mut a = analytic(vec![short_learning()]);
    feed(&mut a, &stream()[..5]);
    let mut entries = unpack(&a.snapshot(SnapshotMode::Full));
    for entry in &mut entries {
        if entry.key == [&[0u8][..], b"format"].concat() {
            entry.value = Some(dumpwatch_sdk::codec::encode("an0680/0").unwrap());
        }
    }
    let mut b = analytic(vec![]);
    let err = b.restore(pack(&entries)).unwrap_err();
    assert!(err.contains("an0680/0") && err.contains(FORMAT), "{err}");
    assert_eq!(b.engine().window_count(), 0);
    assert_eq!(b.engine().learned_count(), 0);
    let mut entries = unpack(&a.snapshot(SnapshotMode::Full));
    for entry in &mut entries {
        if entry.key[0] == LEARNED {
            entry.value = Some(vec![0xff; 12]);
        }
    }
    assert!(analytic(vec![]).restore(pack(&entries)).is_err());
}
