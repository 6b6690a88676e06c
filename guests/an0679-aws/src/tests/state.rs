//! Snapshots: `full` restores exactly (at every cut point of a stream),
//! `changes` merged restore like a full one, an incompatible format is
//! refused.

use std::collections::BTreeMap;

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::state::{Entry, pack, unpack};
use dumpwatch_sdk::types::*;

use super::*;
use crate::engine::persist::{FORMAT, IDENTITIES, PENDING};

const DROP: &str = "acme-exfil-drop";

/// A stream touching every kind of state: pending observations, query
/// windows, uploads, flows, reported snapshot events.
pub(super) fn stream() -> Vec<Event> {
    vec![
        statement("q1", T0, MALLORY_CALLER, CLUSTER),
        flow("f1", T0 + 10 * SEC, "10.20.3.41", "203.0.113.200", 12 * MB),
        part(
            "u1",
            T0 + MIN,
            MALLORY_CALLER,
            DROP,
            "blob.bin",
            "UP1",
            "1",
            60 * MB,
        ),
        statement("q2", T0 + 2 * MIN, EVE_CALLER, CLUSTER),
        share("s1", T0 + 3 * MIN, EVE_CALLER, "snap", "all"),
        part(
            "u2",
            T0 + 4 * MIN,
            MALLORY_CALLER,
            DROP,
            "blob.bin",
            "UP1",
            "2",
            60 * MB,
        ),
        flow("f2", T0 + 5 * MIN, "10.20.3.41", "203.0.113.200", 12 * MB),
        put("p1", T0 + 6 * MIN, EVE_CALLER, DROP, "e.csv", MB),
        statement("q3", T0 + 70 * MIN, MALLORY_CALLER, CLUSTER),
        put("p2", T0 + 71 * MIN, MALLORY_CALLER, DROP, "m.sql", MB),
    ]
}

/// Feed `events` one per batch, advancing to each one's time.
fn feed(a: &mut An0679, events: &[Event]) -> Vec<Finding> {
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
        let mut straight = analytic(with_networks());
        let mut expected = feed(&mut straight, &events);
        expected.extend(straight.advance(i64::MAX));
        assert_eq!(
            latest(&expected).len(),
            5,
            "two query findings, a flow, a share, cut {cut}"
        );

        let mut first = analytic(with_networks());
        let mut got = feed(&mut first, &events[..cut]);
        let entries = unpack(&first.snapshot(SnapshotMode::Full));
        let mut second = analytic(with_networks());
        second.restore(pack(&entries)).unwrap();
        assert_eq!(
            second.engine().window_count(),
            first.engine().window_count()
        );
        assert_eq!(
            second.engine().upload_count(),
            first.engine().upload_count()
        );
        assert_eq!(
            second.engine().pending_count(),
            first.engine().pending_count()
        );
        assert_eq!(second.engine().watermark(), first.engine().watermark());
        got.extend(feed(&mut second, &events[cut..]));
        got.extend(second.advance(i64::MAX));
        assert_eq!(got, expected, "cut at {cut}");
    }
}

#[test]
fn merged_change_snapshots_restore_like_a_full_one() {
    let events = stream();
    let mut a = analytic(with_networks());
    let mut merged: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
    for chunk in events.chunks(3) {
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
    let mut restored = analytic(with_networks());
    restored.restore(pack(&entries)).unwrap();
    let full = |x: &mut An0679| {
        let mut e = unpack(&x.snapshot(SnapshotMode::Full));
        e.sort_by(|p, q| p.key.cmp(&q.key));
        e
    };
    assert_eq!(full(&mut restored), full(&mut a));
}

#[test]
fn changes_carry_only_what_changed() {
    let mut a = analytic(with_networks());
    feed(&mut a, &stream()[..4]);
    a.snapshot(SnapshotMode::Full);
    let quiet = unpack(&a.snapshot(SnapshotMode::Changes));
    assert!(quiet.iter().all(|e| e.key[0] == 0), "only meta entries");
    // A pending event adds one pending entry and nothing else.
    a.process(vec![statement("q9", T0 + 3 * MIN, EVE_CALLER, CLUSTER)]);
    let changes = unpack(&a.snapshot(SnapshotMode::Changes));
    let user: Vec<&Entry> = changes.iter().filter(|e| e.key[0] != 0).collect();
    assert_eq!(user.len(), 1);
    assert_eq!(user[0].key[0], PENDING);
    // Releasing it deletes the pending entry and writes the identity.
    a.advance(T0 + 3 * MIN + 1);
    let changes = unpack(&a.snapshot(SnapshotMode::Changes));
    assert!(
        changes
            .iter()
            .any(|e| e.key[0] == PENDING && e.value.is_none())
    );
    assert!(
        changes
            .iter()
            .any(|e| e.key[0] == IDENTITIES && e.value.is_some())
    );
    // Past every retention all state is deleted.
    a.advance(T0 + 24 * 60 * MIN);
    let changes = unpack(&a.snapshot(SnapshotMode::Changes));
    assert!(
        changes
            .iter()
            .filter(|e| e.key[0] != 0)
            .all(|e| e.value.is_none())
    );
    assert!(
        unpack(&a.snapshot(SnapshotMode::Full))
            .iter()
            .all(|e| e.key[0] == 0)
    );
}

#[test]
fn an_incompatible_snapshot_is_refused_and_leaves_an_empty_state() {
    let mut a = analytic(with_networks());
    feed(&mut a, &stream()[..5]);
    let mut entries = unpack(&a.snapshot(SnapshotMode::Full));
    for entry in &mut entries {
        if entry.key == [&[0u8][..], b"format"].concat() {
            entry.value = Some(dumpwatch_sdk::codec::encode("an0679/0").unwrap());
        }
    }
    let mut b = analytic(with_networks());
    let err = b.restore(pack(&entries)).unwrap_err();
    assert!(err.contains("an0679/0") && err.contains(FORMAT), "{err}");
    assert_eq!(b.engine().window_count(), 0);
    let mut entries = unpack(&a.snapshot(SnapshotMode::Full));
    for entry in &mut entries {
        if entry.key[0] == IDENTITIES {
            entry.value = Some(vec![0xff; 3]);
        }
    }
    assert!(analytic(with_networks()).restore(pack(&entries)).is_err());
}
