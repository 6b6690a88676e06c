//! Snapshots: `full` restores exactly, `changes` carries only what was
//! touched, an incompatible format is refused.

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::state::{Entry, pack, unpack};
use dumpwatch_sdk::types::*;

use super::*;
use crate::engine::persist::{FORMAT, PENDING, WINDOWS};

fn stream() -> Vec<Event> {
    vec![
        exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
        dump("d1", T0 + SEC, "db-01", "alice", 1001, 500, "/tmp/x.sql"),
        exec("e2", T0 + 2 * SEC, "db-02", "bob", 1002, 600, "psql"),
        nsm_post("g0", T0 + 3 * SEC, "db-03", "203.0.113.1"),
        dump("d2", T0 + 4 * MIN, "db-02", "bob", 1002, 600, "/tmp/y.csv"),
        nsm_post("g1", T0 + 5 * MIN, "db-01", "203.0.113.7"),
        exec("e3", T0 + 6 * MIN, "db-01", "alice", 1001, 700, "psql"),
        nsm_post("g2", T0 + 7 * MIN, "db-02", "203.0.113.7"),
        exec("e4", T0 + 30 * MIN, "db-01", "alice", 1001, 800, "psql"),
        dump(
            "d3",
            T0 + 31 * MIN,
            "db-01",
            "alice",
            1001,
            800,
            "/tmp/z.sql",
        ),
    ]
}

/// Feed `events` one per batch, advancing to just before the next one.
fn feed(a: &mut An0676, events: &[Event]) -> Vec<Finding> {
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
    let end = events.iter().map(|e| e.time).max().unwrap();
    for cut in 0..=events.len() {
        let mut straight = analytic(vec![]);
        let mut expected = feed(&mut straight, &events);
        expected.extend(straight.advance(end));

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
        got.extend(second.advance(end));
        assert_eq!(got, expected, "cut at {cut}");
    }
}

#[test]
fn merged_change_snapshots_restore_like_a_full_one() {
    let events = stream();
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
    let full = |x: &mut An0676| {
        let mut e = unpack(&x.snapshot(SnapshotMode::Full));
        e.sort_by(|p, q| p.key.cmp(&q.key));
        e
    };
    assert_eq!(full(&mut restored), full(&mut a));
}

fn entity_keys(entries: &[Entry]) -> Vec<(u8, Option<usize>)> {
    let mut keys: Vec<(u8, Option<usize>)> = entries
        .iter()
        .filter(|e| e.key[0] != 0)
        .map(|e| (e.key[0], e.value.as_ref().map(Vec::len)))
        .collect();
    keys.sort();
    keys
}

#[test]
fn changes_carry_only_touched_entities() {
    let mut a = analytic(vec![]);
    feed(&mut a, &stream()[..3]);
    let full = unpack(&a.snapshot(SnapshotMode::Full));
    assert!(entity_keys(&full).len() >= 2);
    assert!(
        entity_keys(&unpack(&a.snapshot(SnapshotMode::Changes))).is_empty(),
        "nothing touched since"
    );

    // A dump for db-01/alice touches that window (and db-01's pending list).
    a.process(vec![dump(
        "d9",
        T0 + 3 * SEC,
        "db-01",
        "alice",
        1001,
        500,
        "/tmp/w.sql",
    )]);
    let changes = unpack(&a.snapshot(SnapshotMode::Changes));
    let touched: Vec<&Entry> = changes.iter().filter(|e| e.key[0] == WINDOWS).collect();
    assert_eq!(touched.len(), 1);
    let (host, user): (String, String) =
        dumpwatch_sdk::codec::decode(&touched[0].key[1..]).unwrap();
    assert_eq!((host.as_str(), user.as_str()), ("db-01", "alice"));
    assert!(changes.iter().filter(|e| e.key[0] == PENDING).count() <= 1);

    // Expiry deletes: past TimeWindow + LateRetention everything goes.
    a.advance(T0 + 2 * 60 * MIN);
    let changes = unpack(&a.snapshot(SnapshotMode::Changes));
    let keys = entity_keys(&changes);
    assert!(!keys.is_empty());
    assert!(
        keys.iter().all(|(_, value)| value.is_none()),
        "all deleted: {keys:?}"
    );
    assert!(entity_keys(&unpack(&a.snapshot(SnapshotMode::Full))).is_empty());
}

#[test]
fn an_incompatible_snapshot_is_refused_and_leaves_an_empty_state() {
    let mut a = analytic(vec![]);
    feed(&mut a, &stream()[..4]);
    let mut entries = unpack(&a.snapshot(SnapshotMode::Full));
    for entry in &mut entries {
        if entry.key == [&[0u8][..], b"format"].concat() {
            entry.value = Some(dumpwatch_sdk::codec::encode("an0676/0").unwrap());
        }
    }
    let mut b = analytic(vec![]);
    let err = b.restore(pack(&entries)).unwrap_err();
    assert!(err.contains("an0676/0") && err.contains(FORMAT), "{err}");
    assert_eq!(b.engine().window_count(), 0);

    // A garbled value is an error too, not a panic.
    let mut entries = unpack(&a.snapshot(SnapshotMode::Full));
    for entry in &mut entries {
        if entry.key[0] == WINDOWS {
            entry.value = Some(vec![0xff; 3]);
        }
    }
    assert!(analytic(vec![]).restore(pack(&entries)).is_err());
}

/// Restore `entries` into a fresh analytic in parts of `every` entries,
/// the meta entries (format, table of names, watermark) last with
/// `meta_last`: the order of a full snapshot written before its table of
/// names came first, whose values wait for it.
fn restored_in_parts(entries: &[Entry], every: usize, meta_last: bool) -> An0676 {
    let (meta, values): (Vec<Entry>, Vec<Entry>) =
        entries.iter().cloned().partition(|entry| entry.key[0] == 0);
    let ordered: Vec<Entry> = if meta_last {
        values.into_iter().chain(meta).collect()
    } else {
        entries.to_vec()
    };
    let mut a = analytic(vec![]);
    let parts = a.restore_in_parts().unwrap();
    parts.begin();
    for chunk in ordered.chunks(every) {
        parts.part(&pack(chunk));
    }
    parts.end().unwrap();
    a
}

#[test]
fn a_restore_in_parts_continues_like_a_whole_one_in_any_order() {
    let events = stream();
    let end = events.iter().map(|e| e.time).max().unwrap();
    for cut in [3, 6, events.len()] {
        let mut first = analytic(vec![]);
        feed(&mut first, &events[..cut]);
        let entries = unpack(&first.snapshot(SnapshotMode::Full));
        let mut whole = analytic(vec![]);
        whole.restore(pack(&entries)).unwrap();
        let mut expected = feed(&mut whole, &events[cut..]);
        expected.extend(whole.advance(end));
        for every in [1, 2, 1000] {
            for meta_last in [false, true] {
                let mut second = restored_in_parts(&entries, every, meta_last);
                let what = format!("cut at {cut}, parts of {every}, meta last: {meta_last}");
                assert_eq!(
                    second.engine().window_count(),
                    first.engine().window_count(),
                    "{what}"
                );
                assert_eq!(
                    second.engine().pending_count(),
                    first.engine().pending_count(),
                    "{what}"
                );
                assert_eq!(
                    second.engine().watermark(),
                    first.engine().watermark(),
                    "{what}"
                );
                let mut got = feed(&mut second, &events[cut..]);
                got.extend(second.advance(end));
                assert_eq!(got, expected, "{what}");
            }
        }
    }
}

#[test]
fn a_refused_part_ends_the_restore_with_its_error_and_an_empty_state() {
    let mut a = analytic(vec![]);
    feed(&mut a, &stream()[..4]);
    let entries = unpack(&a.snapshot(SnapshotMode::Full));
    let mut b = analytic(vec![]);
    feed(&mut b, &stream()[..2]);
    let parts = b.restore_in_parts().unwrap();
    parts.begin();
    parts.part(&pack(&entries[..3]));
    parts.part(&[0xff, 0xff, 0xff]);
    // What comes after the error is not taken.
    parts.part(&pack(&entries[3..]));
    let err = parts.end().unwrap_err();
    assert!(err.contains("state frame"), "{err}");
    assert_eq!(b.engine().window_count(), 0);
    assert_eq!(b.engine().pending_count(), 0);
    // The next restore starts afresh.
    let parts = b.restore_in_parts().unwrap();
    parts.begin();
    parts.part(&pack(&entries));
    parts.end().unwrap();
    assert_eq!(b.engine().window_count(), a.engine().window_count());
}

/// The count of open windows a checkpoint asks for (`inspect(0)`) leaves
/// out windows past their end that LateRetention still keeps, whether
/// they opened in time, opened late or came back with a restore; it
/// agrees with the full listing.
#[test]
fn open_window_count_leaves_out_retained_closed_windows() {
    let mut a = analytic(vec![]);
    feed(
        &mut a,
        &[
            exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
            exec("e2", T0 + 8 * MIN, "db-01", "bob", 1002, 600, "psql"),
            exec("e3", T0 + 9 * MIN, "db-02", "carol", 1003, 700, "psql"),
        ],
    );
    // alice's window ended at T0 + 10 min; bob's and carol's have not.
    assert!(a.advance(T0 + 12 * MIN).is_empty());
    assert_eq!(a.engine().window_count(), 3, "alice's is retained");
    let listed: Vec<String> = a
        .inspect(100)
        .windows
        .into_iter()
        .map(|w| w.entity)
        .collect();
    assert_eq!(listed, ["db-01/bob", "db-02/carol"]);
    assert_eq!(a.inspect(0).open_windows, 2);
    // A client start that comes late opens a window that is already past
    // its end.
    assert!(
        a.process(vec![exec(
            "e4",
            T0 + MIN,
            "db-03",
            "dave",
            1004,
            800,
            "psql"
        )])
        .is_empty()
    );
    assert_eq!(a.engine().window_count(), 4, "dave's is placed");
    assert_eq!(a.inspect(0).open_windows, 2);

    let mut restored = analytic(vec![]);
    restored.restore(a.snapshot(SnapshotMode::Full)).unwrap();
    assert_eq!(restored.engine().window_count(), 4);
    assert_eq!(restored.inspect(0).open_windows, 2);
    assert_eq!(restored.inspect(100).open_windows, 2);
    // bob's window ends at T0 + 18 min, carol's at T0 + 19 min.
    assert!(restored.advance(T0 + 18 * MIN + 30 * SEC).is_empty());
    assert_eq!(restored.inspect(0).open_windows, 1);
    assert!(restored.advance(T0 + 20 * MIN).is_empty());
    assert_eq!(restored.inspect(0).open_windows, 0);
    assert_eq!(restored.engine().window_count(), 4, "all retained");
}
