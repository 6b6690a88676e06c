use super::*;

fn update(id: &str, full: bool, entries: &[(&str, Option<&str>)]) -> AnalyticUpdate {
    AnalyticUpdate {
        id: id.into(),
        record: AnalyticRecord {
            module_digest: "d".into(),
            version: "1.0.0".into(),
            tunables_hash: "h".into(),
            advanced_to: 42,
            open_windows: entries.len() as u64,
        },
        full,
        frames: vec![pack(entries)],
    }
}

fn pack(entries: &[(&str, Option<&str>)]) -> Vec<u8> {
    let mut frames = Vec::new();
    for (k, v) in entries {
        dumpwatch_frames::put(&mut frames, k.as_bytes(), v.map(str::as_bytes));
    }
    frames
}

/// The stored entries of `id`, sorted by key (merged frames come in no
/// particular order).
fn keys(store: &Store, id: &str) -> Vec<(String, String)> {
    let frames = store.frames(id).expect("frames");
    let mut out: Vec<(String, String)> = dumpwatch_frames::frames(&frames)
        .map(|frame| {
            let frame = frame.expect("frame");
            (
                String::from_utf8(frame.key.to_vec()).expect("utf8"),
                String::from_utf8(frame.value.expect("present").to_vec()).expect("utf8"),
            )
        })
        .collect();
    out.sort();
    out
}

/// `StoreView::frame_parts` of `id` with parts of about `part` bytes: each
/// part whole frames, the parts joined what `Store::frames` returns.
fn assert_parts_join(store: &Store, id: &str, part: usize) {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    store
        .view()
        .expect("view")
        .frame_parts(id, part, |p| {
            parts.push(p);
            true
        })
        .expect("frame parts");
    for p in &parts {
        assert!(!p.is_empty(), "no empty part");
        assert!(
            dumpwatch_frames::frames(p).all(|f| f.is_ok()),
            "a part of whole frames"
        );
    }
    if part > 1 {
        // Only the last part may be short of the size asked for.
        let short = parts.iter().filter(|p| p.len() < part).count();
        assert!(short <= 1, "{short} short parts of {}", parts.len());
    }
    assert_eq!(
        parts.concat(),
        store.frames(id).expect("frames"),
        "parts of {part} bytes"
    );
}

#[test]
fn changes_full_replacement_and_isolation_between_analytics() {
    let s = Store::in_memory().expect("store");
    s.commit(&Checkpoint {
        analytics: vec![
            update("A", true, &[("a", Some("1")), ("b", Some("2"))]),
            update("AB", true, &[("a", Some("x"))]),
        ],
        ..Default::default()
    })
    .expect("commit");
    s.commit(&Checkpoint {
        analytics: vec![update("A", false, &[("a", None), ("c", Some("3"))])],
        ..Default::default()
    })
    .expect("commit");
    assert_eq!(
        keys(&s, "A"),
        vec![("b".into(), "2".into()), ("c".into(), "3".into())]
    );
    assert_eq!(keys(&s, "AB"), vec![("a".into(), "x".into())]);
    s.commit(&Checkpoint {
        analytics: vec![update("A", true, &[("z", Some("9"))])],
        ..Default::default()
    })
    .expect("commit");
    assert_eq!(keys(&s, "A"), vec![("z".into(), "9".into())]);
    // Replacing "A" in full leaves "AB", whose keys sort right after it.
    assert_eq!(keys(&s, "AB"), vec![("a".into(), "x".into())]);
    s.commit(&Checkpoint {
        drop_analytics: vec!["AB".into()],
        ..Default::default()
    })
    .expect("commit");
    assert!(keys(&s, "AB").is_empty());
    let loaded = s.load().expect("load");
    assert_eq!(loaded.analytics.len(), 1);
    assert_eq!(loaded.analytics["A"].advanced_to, 42);
    assert_eq!(loaded.checkpoints, 4);
}

/// `n` entries `keyNNNNNN` → `N-` and 1,000 times `fill`.
fn large_values(n: usize, fill: char) -> Vec<(String, String)> {
    let tail = fill.to_string().repeat(1000);
    (0..n)
        .map(|i| (format!("key{i:06}"), format!("{i}-{tail}")))
        .collect()
}

/// `values` as present entries for [`update`].
fn present(values: &[(String, String)]) -> Vec<(&str, Option<&str>)> {
    values
        .iter()
        .map(|(k, v)| (k.as_str(), Some(v.as_str())))
        .collect()
}

#[test]
fn a_large_full_snapshot_spans_segments_and_changes_merge_over_it() {
    let s = Store::in_memory().expect("store");
    // About 3.5 segments of entries, so keys straddle segment cuts.
    let values = large_values(14_000, 'v');
    let entries = present(&values);
    let committed = s
        .commit(&Checkpoint {
            analytics: vec![update("A", true, &entries)],
            ..Default::default()
        })
        .expect("commit");
    let size = committed.sizes["A"];
    assert!(
        size.base as usize > 3 * SEGMENT && size.changes == 0,
        "{size:?}"
    );
    assert_eq!(s.frames("A").expect("frames"), pack(&entries));
    for part in [1, 1000, 64 << 10, 4 << 20, 64 << 20] {
        assert_parts_join(&s, "A", part);
    }
    // Each segment fits its pages: a segment one page header too large for
    // a power of two of pages takes twice its size on disk.
    let txn = s.db.begin_read().expect("read");
    let base = txn.open_table(ANALYTIC_BASE).expect("table");
    let stats = redb::ReadableTableMetadata::stats(&base).expect("stats");
    assert!(
        stats.fragmented_bytes() < stats.stored_bytes() / 8,
        "{} bytes stored in pages with {} bytes unused",
        stats.stored_bytes(),
        stats.fragmented_bytes()
    );
    drop((base, txn));

    // Change one, delete one, add one, and delete a key that never was.
    let committed = s
        .commit(&Checkpoint {
            analytics: vec![update(
                "A",
                false,
                &[
                    ("key000007", Some("seven")),
                    ("key013999", None),
                    ("new", Some("n")),
                    ("never", None),
                ],
            )],
            ..Default::default()
        })
        .expect("commit");
    assert!(committed.sizes["A"].changes > 0);
    assert!(!committed.sizes["A"].rebase_due());
    let got = keys(&s, "A");
    assert_eq!(got.len(), 14_000);
    assert!(got.contains(&("key000007".into(), "seven".into())));
    assert!(got.contains(&("new".into(), "n".into())));
    assert!(!got.iter().any(|(k, _)| k == "key013999" || k == "never"));
    let mut expected: Vec<(String, String)> = values
        .into_iter()
        .filter(|(k, _)| k != "key013999" && k != "key000007")
        .chain([
            ("key000007".to_owned(), "seven".to_owned()),
            ("new".to_owned(), "n".to_owned()),
        ])
        .collect();
    expected.sort();
    assert_eq!(got, expected);
    // Changed-only snapshots are appended whole: a key changed again
    // counts again, and the later value is the one read back.
    let again_frames = pack(&[("key000007", Some("seven again"))]);
    let again = s
        .commit(&Checkpoint {
            analytics: vec![update("A", false, &[("key000007", Some("seven again"))])],
            ..Default::default()
        })
        .expect("commit");
    assert_eq!(
        again.sizes["A"].changes,
        committed.sizes["A"].changes + again_frames.len() as u64
    );
    let got = keys(&s, "A");
    assert!(got.contains(&("key000007".into(), "seven again".into())));
    assert_eq!(got.len(), 14_000);
    for part in [1, 1000, 4 << 20] {
        assert_parts_join(&s, "A", part);
    }

    // A changed-only snapshot larger than a segment is cut and joined.
    let big = large_values(6_000, 'w');
    let entries = present(&big);
    let committed = s
        .commit(&Checkpoint {
            analytics: vec![update("A", false, &entries)],
            ..Default::default()
        })
        .expect("commit");
    assert!(committed.sizes["A"].changes as usize > SEGMENT);
    let got = keys(&s, "A");
    assert_eq!(got.len(), 14_000);
    assert!(got.contains(&("key005999".into(), format!("5999-{}", "w".repeat(1000)))));
    assert!(got.contains(&("key006000".into(), format!("6000-{}", "v".repeat(1000)))));
    assert_parts_join(&s, "A", 64 << 10);
}

#[test]
fn a_changed_key_keeps_its_place_and_new_keys_come_last() {
    // An analytic writes its format and tables first; a restore in parts
    // decodes values as they come only if they still come first.
    let s = Store::in_memory().expect("store");
    let commit = |full, entries: &[(&str, Option<&str>)]| {
        s.commit(&Checkpoint {
            analytics: vec![update("A", full, entries)],
            ..Default::default()
        })
        .expect("commit");
    };
    commit(
        true,
        &[
            ("format", Some("f1")),
            ("a", Some("1")),
            ("b", Some("2")),
            ("c", Some("3")),
        ],
    );
    commit(
        false,
        &[
            ("format", Some("f2")),
            ("b", None),
            ("d", Some("4")),
            ("a", Some("1a")),
        ],
    );
    commit(false, &[("e", Some("5")), ("a", Some("1b")), ("d", None)]);
    let order: Vec<(String, String)> = dumpwatch_frames::frames(&s.frames("A").expect("frames"))
        .map(|frame| {
            let frame = frame.expect("frame");
            (
                String::from_utf8_lossy(frame.key).into_owned(),
                String::from_utf8_lossy(frame.value.expect("present")).into_owned(),
            )
        })
        .collect();
    let expected = [("format", "f2"), ("a", "1b"), ("c", "3"), ("e", "5")];
    assert_eq!(
        order,
        expected.map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec()
    );
    for part in [1, 5, 1000] {
        assert_parts_join(&s, "A", part);
    }
}

#[test]
fn parts_carry_a_frame_larger_than_a_segment_and_stop_when_asked() {
    let s = Store::in_memory().expect("store");
    let huge = "h".repeat(2 * SEGMENT + 12_345);
    let mut values = large_values(3_000, 'a');
    values.insert(1_500, ("huge".into(), huge.clone()));
    let entries = present(&values);
    s.commit(&Checkpoint {
        analytics: vec![update("A", true, &entries)],
        ..Default::default()
    })
    .expect("commit");
    for part in [1, 4096, 4 << 20] {
        assert_parts_join(&s, "A", part);
    }
    assert!(keys(&s, "A").contains(&("huge".into(), huge)));
    // A receiver that is gone stops the read after the part it refused.
    let mut calls = 0;
    let view = s.view().expect("view");
    view.frame_parts("A", 1000, |_| {
        calls += 1;
        false
    })
    .expect("stopped early");
    assert_eq!(calls, 1);
    // An analytic with nothing stored has no parts.
    view.frame_parts("none", 1000, |_| panic!("no part"))
        .expect("nothing stored");
}

#[test]
fn a_stored_state_cut_short_is_an_error_not_a_shorter_state() {
    let s = Store::in_memory().expect("store");
    let mut frames = pack(&[("a", Some("1")), ("b", Some("2"))]);
    frames.truncate(frames.len() - 1);
    // Written past `commit`, which refuses frames that do not parse.
    let txn = s.db.begin_write().expect("write");
    {
        let mut base = txn.open_table(ANALYTIC_BASE).expect("table");
        base.insert(("A", 0), frames.as_slice()).expect("insert");
        let mut sizes = txn.open_table(ANALYTIC_SIZES).expect("table");
        sizes.insert("A", (frames.len() as u64, 0)).expect("insert");
    }
    txn.commit().expect("commit");
    let err = s
        .view()
        .expect("view")
        .frame_parts("A", 1, |_| true)
        .expect_err("a cut frame is an error");
    assert!(err.to_string().contains("cut short"), "{err}");
    assert!(s.frames("A").is_err());
}

#[test]
fn a_damaged_size_record_does_not_size_the_read_buffers() {
    let s = Store::in_memory().expect("store");
    let frames = pack(&[("a", Some("1")), ("b", Some("2"))]);
    s.commit(&Checkpoint {
        analytics: vec![update("A", true, &[("a", Some("1")), ("b", Some("2"))])],
        ..Default::default()
    })
    .expect("commit");
    let txn = s.db.begin_write().expect("write");
    txn.open_table(ANALYTIC_SIZES)
        .expect("table")
        .insert("A", (u64::MAX, u64::MAX / 2))
        .expect("insert");
    txn.commit().expect("commit");
    assert_eq!(s.frames("A").expect("frames"), frames);
    assert_parts_join(&s, "A", 4 << 20);
}

#[test]
fn changes_that_outgrow_the_full_snapshot_ask_for_a_new_one() {
    let s = Store::in_memory().expect("store");
    s.commit(&Checkpoint {
        analytics: vec![update("A", true, &[("a", Some("1"))])],
        ..Default::default()
    })
    .expect("commit");
    let big = "x".repeat(1 << 20);
    let keys: Vec<String> = (0..5).map(|i| format!("k{i}")).collect();
    let entries: Vec<(&str, Option<&str>)> = keys
        .iter()
        .map(|k| (k.as_str(), Some(big.as_str())))
        .collect();
    let committed = s
        .commit(&Checkpoint {
            analytics: vec![update("A", false, &entries)],
            ..Default::default()
        })
        .expect("commit");
    assert!(committed.sizes["A"].rebase_due(), "{:?}", committed.sizes);
}

#[test]
fn a_snapshot_in_parts_is_stored_as_the_parts_joined() {
    let s = Store::in_memory().expect("store");
    // Parts as an analytic hands them over: whole frames each, of any
    // size, one of them over a segment, and an empty one.
    let big = "x".repeat(SEGMENT + 1000);
    let full: Vec<(String, String)> = (0..20)
        .map(|i| (format!("k{i:02}"), format!("v{i}")))
        .chain([("k99".to_string(), big.clone())])
        .collect();
    let entries: Vec<(&str, Option<&str>)> = full
        .iter()
        .map(|(k, v)| (k.as_str(), Some(v.as_str())))
        .collect();
    let mut snapshot = update("A", true, &[]);
    snapshot.frames = vec![
        pack(&entries[..1]),
        pack(&entries[1..4]),
        Vec::new(),
        pack(&entries[4..20]),
        pack(&entries[20..]),
    ];
    let committed = s
        .commit(&Checkpoint {
            analytics: vec![snapshot],
            ..Default::default()
        })
        .expect("commit");
    assert_eq!(s.frames("A").expect("frames"), pack(&entries));
    assert_eq!(committed.sizes["A"].base, pack(&entries).len() as u64);
    assert_parts_join(&s, "A", 4 << 20);

    // Changes in parts merge over it like changes in one.
    let mut changes = update("A", false, &[]);
    changes.frames = vec![
        pack(&[("k01", Some("new")), ("k02", None)]),
        pack(&[("k50", Some("added"))]),
    ];
    s.commit(&Checkpoint {
        analytics: vec![changes],
        ..Default::default()
    })
    .expect("commit");
    let mut expected: Vec<(String, String)> = full
        .iter()
        .filter(|(k, _)| k != "k02")
        .map(|(k, v)| match k.as_str() {
            "k01" => (k.clone(), "new".to_string()),
            _ => (k.clone(), v.clone()),
        })
        .chain([("k50".to_string(), "added".to_string())])
        .collect();
    expected.sort();
    assert_eq!(keys(&s, "A"), expected);
    assert_parts_join(&s, "A", 1000);
}

/// A checkpoint with `bad` state frames is refused whole: not even its
/// findings are written.
fn assert_refused(bad: AnalyticUpdate) {
    let s = Store::in_memory().expect("store");
    let err = s
        .commit(&Checkpoint {
            analytics: vec![bad],
            outbox: vec!["f".into()],
            ..Default::default()
        })
        .expect_err("garbled frames");
    assert!(err.to_string().contains("state frame"), "{err}");
    assert!(s.load().expect("load").outbox.is_empty());
}

#[test]
fn garbled_frames_are_refused_and_the_checkpoint_is_not_written() {
    let mut bad = update("A", false, &[("a", Some("1"))]);
    bad.frames[0].pop();
    assert_refused(bad);
}

#[test]
fn a_part_cut_in_a_frame_is_refused_even_when_the_next_part_completes_it() {
    let mut bad = update("A", true, &[("a", Some("1"))]);
    let mut whole = pack(&[("b", Some("2"))]);
    let tail = whole.split_off(2);
    bad.frames.extend([whole, tail]);
    assert_refused(bad);
}

#[test]
fn outbox_is_kept_until_delivered() {
    let s = Store::in_memory().expect("store");
    let seqs = s
        .commit(&Checkpoint {
            outbox: vec!["f1".into(), "f2".into()],
            dedup: vec![("u1".into(), Some((7, 100)))],
            ..Default::default()
        })
        .expect("commit")
        .seqs;
    assert_eq!(seqs, vec![0, 1]);
    let l = s.load().expect("load");
    assert_eq!(l.outbox, vec![(0, "f1".into()), (1, "f2".into())]);
    assert_eq!(l.dedup, vec![("u1".into(), 7, 100)]);
    s.delivered(1, &[("findings.ndjson".into(), 120)])
        .expect("delivered");
    let l = s.load().expect("load");
    assert!(l.outbox.is_empty());
    assert_eq!(l.delivered["findings.ndjson"], 120);
    // Sequence numbers never repeat, even after the outbox emptied.
    let seqs = s
        .commit(&Checkpoint {
            outbox: vec!["f3".into()],
            ..Default::default()
        })
        .expect("commit")
        .seqs;
    assert_eq!(seqs, vec![2]);
}

#[test]
fn a_file_store_survives_reopening_and_a_corrupt_one_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("state.redb");
    {
        let s = Store::open(&path, false).expect("open");
        s.commit(&Checkpoint {
            sources: vec![(
                "/var/log/audit/audit.log".into(),
                SourceRecord {
                    format: Some("auditd".into()),
                    offset: 4096,
                    line: 17,
                    identity: Some(FileIdentity { dev: 1, inode: 2 }),
                    max_seen: 1_700_000_000_000,
                    done: false,
                    context: vec![b"#fields\tts".to_vec()],
                },
            )],
            ..Default::default()
        })
        .expect("commit");
    }
    let s = Store::open(&path, false).expect("reopen");
    let l = s.load().expect("load");
    assert_eq!(l.sources["/var/log/audit/audit.log"].offset, 4096);
    s.commit(&Checkpoint {
        decoder_state: vec![(
            "/var/log/audit/audit.log".into(),
            vec![
                (b"k1".to_vec(), Some(b"v1".to_vec())),
                (b"k2".to_vec(), Some(b"v2".to_vec())),
            ],
        )],
        ..Default::default()
    })
    .expect("commit");
    s.commit(&Checkpoint {
        decoder_state: vec![(
            "/var/log/audit/audit.log".into(),
            vec![(b"k1".to_vec(), None)],
        )],
        ..Default::default()
    })
    .expect("commit");
    assert_eq!(
        s.decoder_entries("/var/log/audit/audit.log")
            .expect("entries"),
        vec![(b"k2".to_vec(), b"v2".to_vec())]
    );
    drop(s);

    let bad = dir.path().join("bad.redb");
    std::fs::write(&bad, b"this is not a redb file, it is garbage").expect("write");
    let err = Store::open(&bad, false).err().expect("refused");
    assert!(matches!(err, StoreError::Unreadable { .. }), "{err}");
    assert!(err.to_string().contains("--reset-state"));
    assert_eq!(std::fs::read(&bad).expect("read").len(), 38, "untouched");
    Store::open(&bad, true).expect("reset replaces it");
}

#[test]
fn a_new_store_appears_whole_and_an_interrupted_creation_is_discarded() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("state.redb");
    // What a process killed while creating its store leaves behind: a
    // partial file under the temporary name, never under the real one.
    let partial = dir.path().join("state.redb.new");
    std::fs::write(&partial, b"half a redb header").expect("write");
    let s = Store::open(&path, false).expect("created over the leftover");
    assert!(
        !partial.exists(),
        "the temporary file is renamed into place"
    );
    assert_eq!(s.load().expect("load").checkpoints, 0);
}

mod merge {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// One checkpoint: full (the whole map) or changes (keys set or
    /// deleted), over a small key space so keys repeat.
    fn checkpoint() -> impl Strategy<Value = (bool, Vec<(u8, Option<u16>)>)> {
        (
            prop::bool::weighted(0.2),
            prop::collection::vec((0u8..40, prop::option::weighted(0.7, any::<u16>())), 0..30),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the sequence of full and changed-only checkpoints, the
        /// stored state reads back as the map they describe.
        #[test]
        fn stored_state_is_the_last_full_snapshot_with_the_changes_since(
            checkpoints in prop::collection::vec(checkpoint(), 1..12),
        ) {
            let s = Store::in_memory().expect("store");
            let mut model: BTreeMap<String, String> = BTreeMap::new();
            for (full, changes) in checkpoints {
                // A full snapshot is the model after the changes, with no
                // deletions; a changed-only one carries them as they are.
                for (k, v) in &changes {
                    match v {
                        Some(v) => model.insert(format!("k{k}"), format!("v{v}")),
                        None => model.remove(&format!("k{k}")),
                    };
                }
                let owned: Vec<(String, Option<String>)> = if full {
                    model.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect()
                } else {
                    changes
                        .iter()
                        .map(|(k, v)| (format!("k{k}"), v.map(|v| format!("v{v}"))))
                        .collect()
                };
                let entries: Vec<(&str, Option<&str>)> = owned
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_deref()))
                    .collect();
                s.commit(&Checkpoint {
                    analytics: vec![update("A", full, &entries)],
                    ..Default::default()
                })
                .expect("commit");
                let expected: Vec<(String, String)> = model.clone().into_iter().collect();
                prop_assert_eq!(keys(&s, "A"), expected);
                assert_parts_join(&s, "A", 7);
            }
        }
    }
}
