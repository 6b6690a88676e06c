//! The legs, alone and together, one scenario each.

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{texts, tunable};
use dumpwatch_sdk::types::*;
use dumpwatch_sdk::uid::finding_uid;

use super::*;

const DROP: &str = "acme-exfil-drop";

#[test]
fn an_unexpected_caller_then_a_csv_put_is_one_medium_finding() {
    let mut a = analytic(vec![]);
    assert!(
        a.process(vec![
            statement("q1", T0, MALLORY_CALLER, CLUSTER),
            statement("q2", T0 + 30 * SEC, MALLORY_CALLER, CLUSTER),
            put(
                "p1",
                T0 + 2 * MIN,
                MALLORY_CALLER,
                DROP,
                "dumps/orders.csv",
                5 * MB
            ),
        ])
        .is_empty(),
        "nothing before the watermark passes the events"
    );
    assert!(
        a.advance(T0 + 2 * MIN).is_empty(),
        "the put is at the watermark: still pending"
    );
    let out = a.advance(T0 + 2 * MIN + 1);
    assert_eq!(out.len(), 1);
    let f = &out[0];
    assert_eq!(f.uid, finding_uid("AN0679", &["identity", MALLORY], "q1"));
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.legs, ["query", "export"]);
    assert_eq!(evidence_ids(f), ["q1", "q2", "p1"]);
    assert_eq!(f.event_count, 3);
    assert_eq!((f.start_time, f.end_time), (T0, T0 + 2 * MIN));
    assert_eq!(f.entities[0].kind, "identity");
    assert_eq!(entity(f, "identity"), Some(MALLORY));
    assert_eq!(entity(f, "user"), Some("mallory"));
    assert_eq!(entity(f, "database"), Some(CLUSTER));
    assert_eq!(entity(f, "bucket"), Some(DROP));
    assert_eq!(
        entity(f, "file"),
        Some("s3://acme-exfil-drop/dumps/orders.csv")
    );
    assert_eq!(techniques(f), ["T1213.006", "T1567.002"]);
    assert!(
        f.reasons[0].contains("IAMAccessPatterns does not allow"),
        "{:?}",
        f.reasons
    );
    assert!(
        f.reasons[1].contains("matches ExportFilePatterns"),
        "{:?}",
        f.reasons
    );
    assert_eq!(
        f.reasons.last().map(String::as_str),
        Some("severity medium")
    );
    assert!(
        f.title.contains("mallory") && f.title.contains(CLUSTER),
        "{}",
        f.title
    );
    let export = &f.evidence[2];
    assert_eq!(export.leg, "export");
    assert_eq!(export.url.as_deref(), Some("dumps/orders.csv"));
    assert_eq!(export.bytes, Some(5 * MB));
    // Nothing changes at the end of input: no second emission.
    assert!(a.advance(i64::MAX).is_empty());
}

#[test]
fn each_leg_alone_is_not_a_finding() {
    assert!(findings(vec![], vec![statement("q1", T0, MALLORY_CALLER, CLUSTER)]).is_empty());
    assert!(
        findings(
            vec![],
            vec![put("p1", T0, MALLORY_CALLER, DROP, "x.csv", MB)]
        )
        .is_empty()
    );
    // The export before any statement does not count.
    assert!(
        findings(
            vec![],
            vec![
                put("p1", T0, MALLORY_CALLER, DROP, "x.csv", MB),
                statement("q1", T0 + SEC, MALLORY_CALLER, CLUSTER),
            ]
        )
        .is_empty()
    );
    // Failed calls are not statements or writes.
    assert!(
        findings(
            vec![],
            vec![
                failed(statement("q1", T0, MALLORY_CALLER, CLUSTER)),
                put("p1", T0 + SEC, MALLORY_CALLER, DROP, "x.csv", MB),
            ]
        )
        .is_empty()
    );
    // A small object with an ordinary name is no export.
    assert!(
        findings(
            vec![],
            vec![
                statement("q1", T0, MALLORY_CALLER, CLUSTER),
                put("p1", T0 + SEC, MALLORY_CALLER, DROP, "notes.txt", MB),
            ]
        )
        .is_empty()
    );
}

#[test]
fn an_export_just_outside_the_export_window_is_not_a_finding() {
    let events = |delay: i64| {
        vec![
            statement("q1", T0, MALLORY_CALLER, CLUSTER),
            put("p1", T0 + delay, MALLORY_CALLER, DROP, "x.sql.gz", MB),
        ]
    };
    assert!(findings(vec![], events(5 * MIN + 1)).is_empty());
    assert_eq!(findings(vec![], events(5 * MIN)).len(), 1);
    // A later statement reaches it again: 5 minutes counts from any statement.
    let mut later = events(9 * MIN);
    later.push(statement("q2", T0 + 6 * MIN, MALLORY_CALLER, CLUSTER));
    assert_eq!(findings(vec![], later).len(), 1);
}

#[test]
fn an_export_by_another_identity_does_not_count() {
    let events = vec![
        statement("q1", T0, MALLORY_CALLER, CLUSTER),
        put("p1", T0 + MIN, EVE_CALLER, DROP, "x.csv", MB),
    ];
    assert!(findings(vec![], events).is_empty());
}

#[test]
fn allowed_identities_by_role_arn_or_access_key_are_not_findings() {
    let events = |who: Caller| {
        vec![
            statement("q1", T0, who, CLUSTER),
            put("p1", T0 + MIN, who, DROP, "x.csv", MB),
        ]
    };
    // The session's issuer role matches.
    let by_role = vec![tunable(
        "IAMAccessPatterns",
        texts(&["arn:aws:iam::*:role/app-*"]),
    )];
    assert!(findings(by_role.clone(), events(APP_CALLER)).is_empty());
    assert_eq!(findings(by_role, events(MALLORY_CALLER)).len(), 1);
    // An access key pattern.
    let by_key = vec![tunable("IAMAccessPatterns", texts(&["AKIAQXAMPLE5*"]))];
    assert!(findings(by_key, events(MALLORY_CALLER)).is_empty());
    // The default allows only service-linked roles.
    assert_eq!(findings(vec![], events(APP_CALLER)).len(), 1);
}

#[test]
fn an_allowed_identity_above_the_verbosity_threshold_is_a_finding() {
    let allowed = |threshold: i64| {
        vec![
            tunable("IAMAccessPatterns", texts(&["arn:aws:iam::*:role/app-*"])),
            tunable(
                "DBQueryVerbosityThreshold",
                TunableValue::Integer(threshold),
            ),
        ]
    };
    let mut events: Vec<Event> = (0..4)
        .map(|n| statement(&format!("q{n}"), T0 + n * SEC, APP_CALLER, CLUSTER))
        .collect();
    events.push(put("p1", T0 + MIN, APP_CALLER, DROP, "x.parquet", MB));
    assert!(
        findings(allowed(4), events.clone()).is_empty(),
        "4 is not more than 4"
    );
    let out = findings(allowed(3), events.clone());
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].severity, Severity::Medium);
    assert!(
        out[0].reasons[0].contains("more than DBQueryVerbosityThreshold (3)"),
        "{:?}",
        out[0].reasons
    );
    // An unexpected caller above the threshold too: +1.
    let both = findings(
        vec![tunable(
            "DBQueryVerbosityThreshold",
            TunableValue::Integer(3),
        )],
        events,
    );
    assert_eq!(both[0].severity, Severity::High);
}

#[test]
fn multipart_parts_are_summed_per_upload_in_any_order() {
    let threshold = vec![tunable(
        "S3ExportThreshold",
        TunableValue::Integer(20 * MB as i64),
    )];
    let upload = |order: &[usize]| {
        let mut parts = vec![
            part(
                "u1",
                T0 + MIN,
                MALLORY_CALLER,
                DROP,
                "blob.bin",
                "UP1",
                "1",
                8 * MB,
            ),
            part(
                "u2",
                T0 + MIN + 2 * SEC,
                MALLORY_CALLER,
                DROP,
                "blob.bin",
                "UP1",
                "2",
                8 * MB,
            ),
            part(
                "u3",
                T0 + MIN + 4 * SEC,
                MALLORY_CALLER,
                DROP,
                "blob.bin",
                "UP1",
                "3",
                5 * MB,
            ),
            complete(
                "c1",
                T0 + MIN + 5 * SEC,
                MALLORY_CALLER,
                DROP,
                "blob.bin",
                "UP1",
            ),
        ];
        let mut events = vec![statement("q1", T0, MALLORY_CALLER, CLUSTER)];
        for &i in order {
            events.push(parts[i].clone());
        }
        parts.clear();
        events
    };
    for order in [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]] {
        let out = findings(threshold.clone(), upload(&order));
        assert_eq!(out.len(), 1, "{order:?}");
        let f = &out[0];
        assert_eq!(f.event_count, 5, "statement, three parts, completion");
        assert_eq!(evidence_ids(f), ["q1", "u1", "u2", "u3", "c1"]);
        assert!(
            f.reasons[1].contains("21.0 MB (21000000 bytes)"),
            "{:?}",
            f.reasons
        );
        assert!(
            f.reasons[1].contains("more than S3ExportThreshold"),
            "{:?}",
            f.reasons
        );
        assert_eq!(entity(f, "file"), Some("s3://acme-exfil-drop/blob.bin"));
    }
    // Two parts only: 16 MB is not more than 20 MB.
    let mut short = upload(&[0, 1]);
    short.truncate(3);
    assert!(findings(threshold, short).is_empty());
}

#[test]
fn a_named_multipart_upload_counts_from_its_first_part_and_dedups_parts() {
    let events = vec![
        statement("q1", T0, MALLORY_CALLER, CLUSTER),
        part(
            "u1",
            T0 + 4 * MIN,
            MALLORY_CALLER,
            DROP,
            "dumps/o.sql.gz",
            "UP9",
            "1",
            8 * MB,
        ),
        // Later parts come after ExportWindow: the upload still counts.
        part(
            "u2",
            T0 + 12 * MIN,
            MALLORY_CALLER,
            DROP,
            "dumps/o.sql.gz",
            "UP9",
            "2",
            8 * MB,
        ),
        part(
            "u2",
            T0 + 12 * MIN,
            MALLORY_CALLER,
            DROP,
            "dumps/o.sql.gz",
            "UP9",
            "2",
            8 * MB,
        ),
    ];
    let out = findings(vec![], events);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].event_count, 3);
    assert!(
        out[0].reasons[1].contains("16.0 MB"),
        "{:?}",
        out[0].reasons
    );
}

#[test]
fn a_flow_above_the_threshold_is_a_finding_and_small_or_internal_ones_are_not() {
    let out = findings(
        with_networks(),
        vec![
            flow("f1", T0, "10.20.3.41", "203.0.113.200", 12 * MB),
            flow("f2", T0 + MIN, "10.20.3.41", "203.0.113.200", 9 * MB),
            // Another destination, an internal one, another source: apart.
            flow("f3", T0 + MIN, "10.20.3.41", "198.51.100.9", 19 * MB),
            flow("f4", T0 + MIN, "10.20.3.41", "10.1.2.3", 90 * MB),
            flow("f5", T0 + MIN, "10.99.0.1", "203.0.113.200", 90 * MB),
        ],
    );
    assert_eq!(out.len(), 1, "{out:#?}");
    let f = &out[0];
    assert_eq!(
        f.uid,
        finding_uid("AN0679", &["flow", "10.20.3.41", "203.0.113.200"], "f1")
    );
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.legs, ["flow"]);
    assert_eq!(evidence_ids(f), ["f1", "f2"]);
    assert_eq!(entity(f, "host"), Some("10.20.3.41"));
    assert_eq!(entity(f, "destination"), Some("203.0.113.200"));
    assert_eq!(entity(f, "database"), Some(CLUSTER));
    assert_eq!(techniques(f), ["T1213.006", "T1048"]);
    assert!(f.reasons[0].contains("21.0 MB"), "{:?}", f.reasons);
    // Without DatabaseNetworks the flow leg is off.
    assert!(
        findings(
            vec![],
            vec![flow("f1", T0, "10.20.3.41", "203.0.113.200", 90 * MB)]
        )
        .is_empty()
    );
    // Outside the TimeWindow the bytes are not summed together.
    let apart = findings(
        with_networks(),
        vec![
            flow("f1", T0, "10.20.3.41", "203.0.113.200", 12 * MB),
            flow("f2", T0 + 61 * MIN, "10.20.3.41", "203.0.113.200", 12 * MB),
        ],
    );
    assert!(apart.is_empty());
}

#[test]
fn query_export_and_flow_on_the_same_cluster_raise_each_other() {
    let events = vec![
        statement("q1", T0, MALLORY_CALLER, CLUSTER),
        put("p1", T0 + MIN, MALLORY_CALLER, DROP, "x.csv", MB),
        flow("f1", T0 + 3 * MIN, "10.20.3.41", "203.0.113.200", 30 * MB),
    ];
    let out = findings(with_networks(), events.clone());
    assert_eq!(out.len(), 2);
    let query = out.iter().find(|f| f.legs == ["query", "export"]).unwrap();
    let flow_finding = out.iter().find(|f| f.legs == ["flow"]).unwrap();
    assert_eq!(query.severity, Severity::High);
    assert_eq!(flow_finding.severity, Severity::High);
    assert!(
        query.reasons.iter().any(|r| r.contains(&flow_finding.uid)),
        "{:?}",
        query.reasons
    );
    assert!(
        flow_finding.reasons.iter().any(|r| r.contains(&query.uid)),
        "{:?}",
        flow_finding.reasons
    );
    // On another cluster nothing is raised.
    let mut other = events;
    other[0] = statement("q1", T0, MALLORY_CALLER, OTHER_CLUSTER);
    let out = findings(with_networks(), other);
    assert!(
        out.iter().all(|f| f.severity == Severity::Medium),
        "{out:#?}"
    );
}

#[test]
fn the_raise_reaches_a_finding_already_emitted() {
    let mut a = analytic(with_networks());
    a.process(vec![
        statement("q1", T0, MALLORY_CALLER, CLUSTER),
        put("p1", T0 + MIN, MALLORY_CALLER, DROP, "x.csv", MB),
    ]);
    let first = a.advance(T0 + 2 * MIN);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].severity, Severity::Medium);
    a.process(vec![flow(
        "f1",
        T0 + 3 * MIN,
        "10.20.3.41",
        "203.0.113.200",
        30 * MB,
    )]);
    let then = a.advance(T0 + 4 * MIN);
    assert_eq!(
        then.len(),
        2,
        "the flow finding and the query finding's update"
    );
    let update = then.iter().find(|f| f.uid == first[0].uid).unwrap();
    assert_eq!(update.severity, Severity::High);
}

#[test]
fn snapshot_sharing_and_export_are_findings_on_their_own() {
    let snapshot = "arn:aws:rds:us-east-1:111122223333:cluster-snapshot:orders-2024-06-03";
    let out = findings(
        vec![],
        vec![
            share("s1", T0, MALLORY_CALLER, snapshot, "444455556666"),
            share("s2", T0 + MIN, MALLORY_CALLER, snapshot, "all"),
            export_task(
                "s3",
                T0 + 2 * MIN,
                MALLORY_CALLER,
                snapshot,
                "acme-analytics-landing",
            ),
            failed(share("s4", T0 + 3 * MIN, MALLORY_CALLER, snapshot, "all")),
        ],
    );
    assert_eq!(out.len(), 3);
    assert_eq!(out[0].severity, Severity::High);
    assert_eq!(entity(&out[0], "destination"), Some("444455556666"));
    assert_eq!(out[1].severity, Severity::Critical);
    assert!(out[1].title.contains("made public"), "{}", out[1].title);
    assert_eq!(out[2].severity, Severity::Medium);
    assert_eq!(entity(&out[2], "bucket"), Some("acme-analytics-landing"));
    for f in &out {
        assert_eq!(techniques(f), ["T1213.006", "T1537"]);
        assert_eq!(f.legs, ["snapshot"]);
        assert_eq!(entity(f, "database"), Some(snapshot));
        assert_eq!(f.event_count, 1);
    }
    // Another attribute is not a share.
    let other = call(
        "s5",
        T0,
        MALLORY_CALLER,
        "rds.amazonaws.com",
        "ModifyDBSnapshotAttribute",
        Some("snap"),
        &[("attributeName", "copy"), ("valuesToAdd", "444455556666")],
    );
    assert!(findings(vec![], vec![other]).is_empty());
}

#[test]
fn duplicated_events_never_count_twice_or_re_emit() {
    let events = vec![
        statement("q1", T0, MALLORY_CALLER, CLUSTER),
        put("p1", T0 + MIN, MALLORY_CALLER, DROP, "x.csv", MB),
        share("s1", T0 + 2 * MIN, MALLORY_CALLER, "snap", "444455556666"),
    ];
    let mut twice = events.clone();
    twice.extend(events.clone());
    let mut a = analytic(vec![]);
    let mut out = a.process(twice);
    out.extend(a.advance(T0 + 10 * MIN));
    assert_eq!(out.len(), 2);
    // Duplicates arriving after the originals were handled (late now).
    let again = a.process(events);
    assert!(again.is_empty(), "{again:#?}");
    let end = a.advance(i64::MAX);
    assert!(end.is_empty(), "{end:#?}");
    assert_eq!(
        latest(&out)
            .values()
            .find(|f| f.legs.len() == 2)
            .unwrap()
            .event_count,
        2
    );
}

#[test]
fn a_late_statement_joins_the_window_it_would_have_anchored() {
    let mut a = analytic(vec![]);
    a.process(vec![
        statement("q2", T0 + 10 * MIN, MALLORY_CALLER, CLUSTER),
        put("p1", T0 + 11 * MIN, MALLORY_CALLER, DROP, "x.csv", MB),
    ]);
    let first = a.advance(T0 + 20 * MIN);
    assert_eq!(first.len(), 1);
    assert_eq!(
        first[0].uid,
        finding_uid("AN0679", &["identity", MALLORY], "q2")
    );
    // Older than the watermark: late, but still evaluated.
    let update = a.process(vec![statement("q1", T0, MALLORY_CALLER, CLUSTER)]);
    assert_eq!(update.len(), 1);
    assert_eq!(update[0].uid, first[0].uid, "the finding keeps its uid");
    assert_eq!(update[0].event_count, 3);
    assert_eq!(update[0].start_time, T0);
}

#[test]
fn a_late_export_still_updates_a_retained_window() {
    let mut a = analytic(vec![]);
    a.process(vec![statement("q1", T0, MALLORY_CALLER, CLUSTER)]);
    assert!(a.advance(T0 + 30 * MIN).is_empty());
    let late = a.process(vec![put(
        "p1",
        T0 + 2 * MIN,
        MALLORY_CALLER,
        DROP,
        "x.csv",
        MB,
    )]);
    assert_eq!(late.len(), 1);
    // After TimeWindow + ExportWindow + LateRetention the window is gone.
    let mut b = analytic(vec![]);
    b.process(vec![statement("q1", T0, MALLORY_CALLER, CLUSTER)]);
    b.advance(T0 + 3 * 60 * MIN);
    assert!(
        b.process(vec![put(
            "p1",
            T0 + 2 * MIN,
            MALLORY_CALLER,
            DROP,
            "x.csv",
            MB
        )])
        .is_empty()
    );
    assert_eq!(b.engine().window_count(), 0);
}

#[test]
fn inspect_lists_open_windows() {
    let mut a = analytic(with_networks());
    a.process(vec![
        statement("q1", T0, MALLORY_CALLER, CLUSTER),
        flow("f1", T0 + MIN, "10.20.3.41", "203.0.113.200", 30 * MB),
    ]);
    a.advance(T0 + 2 * MIN);
    let inspection = a.inspect(10);
    assert_eq!(inspection.open_windows, 2);
    assert_eq!(inspection.windows[0].entity, format!("identity/{MALLORY}"));
    assert_eq!(inspection.windows[0].legs, ["query"]);
    assert_eq!(inspection.windows[0].finding, None);
    assert_eq!(
        inspection.windows[1].entity,
        "flow/10.20.3.41 -> 203.0.113.200"
    );
    assert!(inspection.windows[1].finding.is_some());
    assert_eq!(a.inspect(1).windows.len(), 1);
}

#[test]
fn caps_bound_windows_uploads_and_pending_events() {
    let caps = vec![
        tunable("MaxOpenWindows", TunableValue::Integer(4)),
        tunable("MaxOpenUploads", TunableValue::Integer(2)),
        tunable("MaxPendingEvents", TunableValue::Integer(8)),
    ];
    let mut a = analytic(caps);
    let callers = [MALLORY_CALLER, EVE_CALLER, APP_CALLER];
    let mut events = Vec::new();
    for n in 0..10i64 {
        let who = callers[(n % 3) as usize];
        events.push(statement(
            &format!("q{n}"),
            T0 + n * 2 * 60 * MIN,
            who,
            CLUSTER,
        ));
        events.push(part(
            &format!("u{n}"),
            T0 + n * 2 * 60 * MIN + SEC,
            who,
            DROP,
            "b.bin",
            &format!("UP{n}"),
            "1",
            MB,
        ));
    }
    // 20 events and no advance: the oldest are evaluated early.
    a.process(events);
    assert!(a.engine().pending_count() <= 8);
    assert!(
        a.engine().window_count() <= 4,
        "{}",
        a.engine().window_count()
    );
    assert!(
        a.engine().upload_count() <= 2,
        "{}",
        a.engine().upload_count()
    );
    a.advance(i64::MAX);
    assert_eq!(a.engine().pending_count(), 0);
    assert_eq!(a.engine().window_count(), 0);
}
