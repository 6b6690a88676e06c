//! Snapshots: `full` restores exactly at every cut point, merged `changes`
//! equal a full one, an incompatible format is refused; `inspect` lists the
//! open windows.

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::state::{Entry, pack, unpack};
use dumpwatch_sdk::types::*;

use super::ordering::morning;
use super::*;
use crate::engine::persist::{FORMAT, PENDING, WINDOWS};

/// Feed `events` one per batch in time order, advancing to each one.
fn feed(a: &mut An0678, events: &[Event]) -> Vec<Finding> {
    let mut out = Vec::new();
    for event in events {
        out.extend(a.process(vec![event.clone()]));
        out.extend(a.advance(event.time));
    }
    out
}

fn sorted_morning() -> Vec<Event> {
    let mut events = morning();
    events.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
    events
}

#[test]
fn restore_mid_stream_continues_like_an_uninterrupted_run() {
    let events = sorted_morning();
    for cut in 0..=events.len() {
        let mut straight = analytic(vec![]);
        let mut expected = feed(&mut straight, &events);
        expected.extend(straight.advance(i64::MAX));

        let mut first = analytic(vec![]);
        let mut got = feed(&mut first, &events[..cut]);
        let entries = unpack(&first.snapshot(SnapshotMode::Full));
        let mut second = analytic(vec![]);
        second.restore(pack(&entries)).unwrap();
        assert_eq!(
            second.engine().window_count(),
            first.engine().window_count()
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
    let events = sorted_morning();
    let mut a = analytic(vec![]);
    let mut merged: std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>> = Default::default();
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
    let mut restored = analytic(vec![]);
    restored.restore(pack(&entries)).unwrap();
    let full = |x: &mut An0678| {
        let mut e = unpack(&x.snapshot(SnapshotMode::Full));
        e.sort_by(|p, q| p.key.cmp(&q.key));
        e
    };
    assert_eq!(full(&mut restored), full(&mut a));
}

#[test]
fn changes_carry_only_touched_entries_and_expiry_deletes() {
    let events = sorted_morning();
    let mut a = analytic(vec![]);
    feed(&mut a, &events[..7]);
    let full = unpack(&a.snapshot(SnapshotMode::Full));
    let spaces: Vec<u8> = full.iter().map(|e| e.key[0]).collect();
    for space in [WINDOWS, PENDING] {
        assert!(spaces.contains(&space), "space {space} in {spaces:?}");
    }
    assert!(
        unpack(&a.snapshot(SnapshotMode::Changes))
            .iter()
            .all(|e| e.key[0] == 0),
        "nothing touched since"
    );
    a.advance(T0 + 3 * 60 * MIN);
    let changes = unpack(&a.snapshot(SnapshotMode::Changes));
    let entity: Vec<&Entry> = changes.iter().filter(|e| e.key[0] != 0).collect();
    assert!(!entity.is_empty());
    assert!(entity.iter().all(|e| e.value.is_none()), "all deleted");
    assert!(
        unpack(&a.snapshot(SnapshotMode::Full))
            .iter()
            .all(|e| e.key[0] == 0)
    );
}

#[test]
fn an_incompatible_or_garbled_snapshot_is_refused() {
    let mut a = analytic(vec![]);
    feed(&mut a, &sorted_morning()[..5]);
    let mut entries = unpack(&a.snapshot(SnapshotMode::Full));
    for entry in &mut entries {
        if entry.key == [&[0u8][..], b"format"].concat() {
            entry.value = Some(dumpwatch_sdk::codec::encode("an0678/0").unwrap());
        }
    }
    let mut b = analytic(vec![]);
    let err = b.restore(pack(&entries)).unwrap_err();
    assert!(err.contains("an0678/0") && err.contains(FORMAT), "{err}");
    assert_eq!(b.engine().window_count(), 0);
    let mut entries = unpack(&a.snapshot(SnapshotMode::Full));
    for entry in &mut entries {
        if entry.key[0] == WINDOWS {
            entry.value = Some(vec![0xff; 3]);
        }
    }
    assert!(analytic(vec![]).restore(pack(&entries)).is_err());
}

#[test]
fn inspect_lists_open_windows_oldest_first() {
    let mut a = analytic(vec![]);
    feed(&mut a, &sorted_morning());
    // The watermark is at the last event (T0 + 21 min): only alice's second
    // window is still open.
    let inspection = a.inspect(10);
    assert_eq!(inspection.open_windows, 1, "{inspection:#?}");
    let window = &inspection.windows[0];
    assert_eq!(
        (window.entity.as_str(), window.start),
        ("mbp-a/alice", T0 + 20 * MIN)
    );
    assert_eq!(window.legs, ["exec", "export"]);
    assert_eq!(window.events, 2);
    assert!(window.finding.is_some());
    assert_eq!(a.inspect(0).windows.len(), 0);
}
