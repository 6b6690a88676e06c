//! The chain and its partial forms, one scenario each.

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::texts;
use dumpwatch_sdk::testing::tunable;
use dumpwatch_sdk::types::*;

use super::*;

#[test]
fn exec_dump_egress_is_one_finding_created_medium_then_raised_to_high() {
    let mut a = analytic(vec![]);
    assert!(
        a.process(vec![exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump")])
            .is_empty()
    );
    // Not final before the watermark reaches the start.
    assert!(a.advance(T0 - 1).is_empty());
    assert!(a.advance(T0).is_empty(), "no dump yet: no finding");
    let created = a.process(vec![dump(
        "d1",
        T0 + 2 * SEC,
        "db-01",
        "alice",
        1001,
        500,
        "/tmp/crm.sql",
    )]);
    assert_eq!(created.len(), 1);
    let created = &created[0];
    assert_eq!(created.severity, Severity::Medium);
    assert_eq!(created.legs, ["exec", "dump"]);
    let updated = a.process(vec![nsm_post("g1", T0 + 30 * SEC, "db-01", "203.0.113.7")]);
    assert_eq!(updated.len(), 1);
    let updated = &updated[0];
    assert_eq!(
        updated.uid, created.uid,
        "the egress updates the same finding"
    );
    assert_eq!(updated.severity, Severity::High);
    assert_eq!(updated.legs, ["exec", "dump", "egress"]);
    assert_eq!(evidence_ids(updated), ["e1", "d1", "g1"]);
    assert_eq!(updated.event_count, 3);
    assert_eq!((updated.start_time, updated.end_time), (T0, T0 + 30 * SEC));
    assert_eq!(entity(updated, "host"), Some("db-01"));
    assert_eq!(entity(updated, "user"), Some("alice"));
    assert_eq!(entity(updated, "process"), Some("pg_dump"));
    assert_eq!(entity(updated, "file"), Some("/tmp/crm.sql"));
    assert!(
        entity(updated, "destination")
            .unwrap()
            .starts_with("203.0.113.7:443")
    );
    assert_eq!(updated.entities[0].kind, "host");
    let techniques: Vec<&str> = updated
        .attacks
        .iter()
        .map(|a| a.technique_id.as_str())
        .collect();
    assert_eq!(techniques, ["T1213", "T1048"]);
    assert_eq!(
        updated.attacks[0].sub_technique_id.as_deref(),
        Some("T1213.006")
    );
    assert_eq!(updated.attacks[0].tactic_id, "TA0009");
    assert_eq!(updated.attacks[1].tactic_id, "TA0010");
    assert_eq!(
        updated.uid,
        dumpwatch_sdk::uid::finding_uid("AN0676", &["db-01", "alice"], "e1")
    );
    assert!(
        updated.title.contains("alice") && updated.title.contains("db-01"),
        "{}",
        updated.title
    );
    assert!(
        updated
            .reasons
            .iter()
            .any(|r| r.contains("not in AllowedDBClients"))
    );
    assert!(updated.reasons.iter().any(|r| r.contains("left the host")));
    // Nothing more at the end of input.
    assert!(a.advance(T0 + 60 * MIN).is_empty());
}

#[test]
fn exec_and_dump_is_medium() {
    let mut a = analytic(vec![]);
    let out = run(
        &mut a,
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "mysqldump"),
            dump(
                "d1",
                T0 + MIN,
                "db-01",
                "alice",
                1001,
                500,
                "/var/tmp/shop.sql.gz",
            ),
        ],
    );
    let findings = latest(&out);
    assert_eq!(findings.len(), 1);
    let finding = findings.values().next().unwrap();
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(finding.attacks.len(), 1);
    assert_eq!(evidence_ids(finding), ["e1", "d1"]);
}

#[test]
fn single_legs_and_exec_with_egress_alone_find_nothing() {
    let cases: Vec<Vec<Event>> = vec![
        vec![exec("e1", T0, "db-01", "alice", 1001, 500, "psql")],
        vec![dump("d1", T0, "db-01", "alice", 1001, 500, "/tmp/x.sql")],
        vec![nsm_post("g1", T0, "db-01", "203.0.113.7")],
        vec![connect(
            "c1",
            T0,
            "db-01",
            ("alice", 1001),
            500,
            "203.0.113.7",
            443,
        )],
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "psql"),
            nsm_post("g1", T0 + SEC, "db-01", "203.0.113.7"),
            connect(
                "c1",
                T0 + 2 * SEC,
                "db-01",
                ("alice", 1001),
                500,
                "203.0.113.7",
                443,
            ),
        ],
    ];
    for events in cases {
        let mut a = analytic(vec![]);
        assert!(run(&mut a, events.clone()).is_empty(), "{events:?}");
    }
}

#[test]
fn dump_after_the_window_finds_nothing() {
    let mut a = analytic(vec![]);
    let out = run(
        &mut a,
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
            dump(
                "d1",
                T0 + 11 * MIN,
                "db-01",
                "alice",
                1001,
                500,
                "/tmp/x.sql",
            ),
        ],
    );
    assert!(out.is_empty());
    // The edge itself is inside.
    let mut a = analytic(vec![]);
    let out = run(
        &mut a,
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
            dump(
                "d1",
                T0 + 10 * MIN,
                "db-01",
                "alice",
                1001,
                500,
                "/tmp/x.sql",
            ),
        ],
    );
    assert_eq!(latest(&out).len(), 1);
}

#[test]
fn egress_from_another_host_does_not_raise() {
    let mut a = analytic(vec![]);
    let out = run(
        &mut a,
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
            dump("d1", T0 + SEC, "db-01", "alice", 1001, 500, "/tmp/x.sql"),
            nsm_post("g1", T0 + 2 * SEC, "web-07", "203.0.113.7"),
            connect(
                "c1",
                T0 + 3 * SEC,
                "web-07",
                ("alice", 1001),
                500,
                "203.0.113.7",
                443,
            ),
        ],
    );
    let findings = latest(&out);
    assert_eq!(findings.len(), 1);
    let finding = findings.values().next().unwrap();
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(finding.legs, ["exec", "dump"]);
}

#[test]
fn egress_before_the_dump_does_not_count() {
    let mut a = analytic(vec![]);
    let out = run(
        &mut a,
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
            nsm_post("g1", T0 + SEC, "db-01", "203.0.113.7"),
            dump(
                "d1",
                T0 + 2 * SEC,
                "db-01",
                "alice",
                1001,
                500,
                "/tmp/x.sql",
            ),
        ],
    );
    let finding = latest(&out).into_values().next().unwrap();
    assert_eq!(finding.legs, ["exec", "dump"]);
}

#[test]
fn internal_destinations_database_ports_and_small_flows_are_not_egress() {
    let mut a = analytic(vec![]);
    let out = run(
        &mut a,
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
            dump("d1", T0 + SEC, "db-01", "alice", 1001, 500, "/tmp/x.sql"),
            nsm_post("g1", T0 + 2 * SEC, "db-01", "10.1.2.3"),
            connect(
                "c1",
                T0 + 3 * SEC,
                "db-01",
                ("alice", 1001),
                500,
                "203.0.113.7",
                5432,
            ),
            connect(
                "c2",
                T0 + 4 * SEC,
                "db-01",
                ("alice", 1001),
                500,
                "192.168.1.1",
                443,
            ),
            nsm_flow("f1", T0 + 5 * SEC, "db-01", "203.0.113.7", 999_999),
        ],
    );
    let finding = latest(&out).into_values().next().unwrap();
    assert_eq!(finding.legs, ["exec", "dump"]);
    // A big flow does count.
    let mut a = analytic(vec![]);
    let out = run(
        &mut a,
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
            dump("d1", T0 + SEC, "db-01", "alice", 1001, 500, "/tmp/x.sql"),
            nsm_flow("f1", T0 + 5 * SEC, "db-01", "203.0.113.7", 1_000_000),
        ],
    );
    assert_eq!(
        latest(&out).into_values().next().unwrap().severity,
        Severity::High
    );
}

#[test]
fn host_side_connect_by_the_same_user_is_egress() {
    let mut a = analytic(vec![]);
    let out = run(
        &mut a,
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
            dump("d1", T0 + SEC, "db-01", "alice", 1001, 500, "/tmp/x.sql"),
            connect(
                "c1",
                T0 + 3 * SEC,
                "db-01",
                ("alice", 1001),
                777,
                "198.51.100.9",
                443,
            ),
            // Another user's connect is not this window's egress.
            connect(
                "c2",
                T0 + 4 * SEC,
                "db-01",
                ("bob", 1002),
                888,
                "198.51.100.9",
                443,
            ),
        ],
    );
    let finding = latest(&out).into_values().next().unwrap();
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(evidence_ids(&finding), ["e1", "d1", "c1"]);
}

#[test]
fn allowed_users_find_nothing() {
    let events = |user: &str, uid: u32| {
        vec![
            exec("e1", T0, "db-01", user, uid, 500, "pg_dump"),
            dump("d1", T0 + SEC, "db-01", user, uid, 500, "/tmp/x.sql"),
            nsm_post("g1", T0 + 2 * SEC, "db-01", "203.0.113.7"),
        ]
    };
    let mut a = analytic(vec![]);
    assert!(run(&mut a, events("postgres", 26)).is_empty());
    // By numeric uid.
    let mut a = analytic(vec![tunable("AllowedDBClients", texts(&["1001"]))]);
    assert!(run(&mut a, events("alice", 1001)).is_empty());
    let mut a = analytic(vec![tunable("AllowedDBClients", texts(&["1001"]))]);
    assert_eq!(latest(&run(&mut a, events("bob", 1002))).len(), 1);
}

#[test]
fn daemons_are_judged_by_their_effective_user() {
    let exec = dumpwatch_sdk::testing::EventBuilder::exec("auditd", "e1", T0, "pg_dump")
        .host("db-01")
        .effective_user("postgres", 26)
        .pid(500)
        .build();
    let dump = dumpwatch_sdk::testing::EventBuilder::file(
        "auditd",
        "d1",
        T0 + SEC,
        FileOperation::Write,
        "/b/x.sql",
    )
    .host("db-01")
    .effective_user("postgres", 26)
    .pid(500)
    .build();
    let mut a = analytic(vec![]);
    assert!(run(&mut a, vec![exec.clone(), dump.clone()]).is_empty());
    let mut a = analytic(vec![tunable("AllowedDBClients", texts(&["backup"]))]);
    let finding = latest(&run(&mut a, vec![exec, dump]))
        .into_values()
        .next()
        .unwrap();
    assert_eq!(entity(&finding, "user"), Some("postgres"));
}

#[test]
fn shell_redirect_dump_just_before_the_exec_by_the_same_pid_counts() {
    let mut a = analytic(vec![]);
    let out = run(
        &mut a,
        vec![
            dump("d1", T0 - 1, "db-01", "alice", 1001, 500, "/tmp/x.sql"),
            exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
        ],
    );
    let finding = latest(&out).into_values().next().unwrap();
    assert_eq!(evidence_ids(&finding), ["d1", "e1"]);
    assert_eq!(finding.start_time, T0 - 1);
    // Another pid of the same user before the exec does not count…
    let mut a = analytic(vec![]);
    assert!(
        run(
            &mut a,
            vec![
                dump("d1", T0 - 1, "db-01", "alice", 1001, 499, "/tmp/x.sql"),
                exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
            ]
        )
        .is_empty()
    );
    // …nor does the same pid longer than RedirectSlack before.
    let mut a = analytic(vec![]);
    assert!(
        run(
            &mut a,
            vec![
                dump(
                    "d1",
                    T0 - 6 * SEC,
                    "db-01",
                    "alice",
                    1001,
                    500,
                    "/tmp/x.sql"
                ),
                exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
            ]
        )
        .is_empty()
    );
}

#[test]
fn the_process_tree_writes_for_the_client_whatever_its_user() {
    // A child of the client (parent pid = the client's pid) under another
    // effective identity.
    let child_write = dumpwatch_sdk::testing::EventBuilder::file(
        "auditd",
        "d1",
        T0 + SEC,
        FileOperation::Rename,
        "/srv/out/crm.dump",
    )
    .host("db-01")
    .user("svc-backup", 990)
    .pid(777)
    .parent_pid(500)
    .build();
    let mut a = analytic(vec![]);
    let out = run(
        &mut a,
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
            child_write,
        ],
    );
    let finding = latest(&out).into_values().next().unwrap();
    assert_eq!(entity(&finding, "user"), Some("alice"));
    assert_eq!(finding.evidence[1].user.as_deref(), Some("svc-backup"));
}

#[test]
fn deleted_and_non_dump_files_do_not_count() {
    let delete = dumpwatch_sdk::testing::EventBuilder::file(
        "auditd",
        "d1",
        T0 + SEC,
        FileOperation::Delete,
        "/tmp/x.sql",
    )
    .host("db-01")
    .user("alice", 1001)
    .pid(500)
    .build();
    let mut a = analytic(vec![]);
    assert!(
        run(
            &mut a,
            vec![
                exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
                delete,
                dump(
                    "d2",
                    T0 + SEC,
                    "db-01",
                    "alice",
                    1001,
                    500,
                    "/tmp/notes.txt"
                ),
            ]
        )
        .is_empty()
    );
}

#[test]
fn nsm_egress_without_user_raises_every_window_of_its_host() {
    let mut a = analytic(vec![]);
    let out = run(
        &mut a,
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "psql"),
            dump("d1", T0 + SEC, "db-01", "alice", 1001, 500, "/tmp/a.csv"),
            exec("e2", T0 + 2 * SEC, "db-01", "bob", 1002, 600, "mysql"),
            dump("d2", T0 + 3 * SEC, "db-01", "bob", 1002, 600, "/tmp/b.csv"),
            nsm_post("g1", T0 + 4 * SEC, "DB-01", "203.0.113.7"),
        ],
    );
    let findings = latest(&out);
    assert_eq!(findings.len(), 2);
    for finding in findings.values() {
        assert_eq!(finding.severity, Severity::High);
        assert_eq!(finding.evidence.last().unwrap().id, "g1");
    }
}

#[test]
fn a_second_client_start_inside_the_window_joins_it_and_one_after_opens_another() {
    let mut a = analytic(vec![]);
    let out = run(
        &mut a,
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "psql"),
            exec("e2", T0 + 5 * MIN, "db-01", "alice", 1001, 600, "pg_dump"),
            // Written by the second client's pid before any same-user match.
            dump(
                "d1",
                T0 + 6 * MIN,
                "db-01",
                "alice",
                1001,
                600,
                "/tmp/a.sql",
            ),
            exec("e3", T0 + 11 * MIN, "db-01", "alice", 1001, 700, "pg_dump"),
            dump(
                "d2",
                T0 + 12 * MIN,
                "db-01",
                "alice",
                1001,
                700,
                "/tmp/b.sql",
            ),
        ],
    );
    let findings = latest(&out);
    assert_eq!(findings.len(), 2);
    let mut by_start: Vec<&Finding> = findings.values().collect();
    by_start.sort_by_key(|f| f.start_time);
    assert_eq!(evidence_ids(by_start[0]), ["e1", "e2", "d1"]);
    assert_eq!(
        by_start[0].uid,
        dumpwatch_sdk::uid::finding_uid("AN0676", &["db-01", "alice"], "e1")
    );
    assert_eq!(evidence_ids(by_start[1]), ["e3", "d2"]);
    assert!(
        by_start[0].description.contains("2 client starts"),
        "{}",
        by_start[0].description
    );
}

#[test]
fn evidence_is_bounded_per_leg_but_every_event_is_counted() {
    let mut a = analytic(vec![tunable("MaxEvidencePerLeg", TunableValue::Integer(2))]);
    let mut events = vec![exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump")];
    for i in 0..6 {
        events.push(dump(
            &format!("d{i}"),
            T0 + (i + 1) * SEC,
            "db-01",
            "alice",
            1001,
            500,
            &format!("/tmp/{i}.sql"),
        ));
    }
    let finding = latest(&run(&mut a, events)).into_values().next().unwrap();
    assert_eq!(evidence_ids(&finding), ["e1", "d0", "d1"]);
    assert_eq!(finding.event_count, 7);
    assert!(
        finding.description.contains("6 dump-like files"),
        "{}",
        finding.description
    );
    assert_eq!(finding.end_time, T0 + 6 * SEC);
}

#[test]
fn duplicated_events_add_nothing() {
    let events = vec![
        exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
        dump("d1", T0 + SEC, "db-01", "alice", 1001, 500, "/tmp/x.sql"),
        nsm_post("g1", T0 + 2 * SEC, "db-01", "203.0.113.7"),
    ];
    let mut a = analytic(vec![]);
    // Duplicates inside one batch, before the window is final…
    let mut doubled = events.clone();
    doubled.extend(events.clone());
    let first = feed(&mut a, doubled);
    let findings = latest(&first);
    assert_eq!(findings.len(), 1);
    let finding = findings.values().next().unwrap();
    assert_eq!(evidence_ids(finding), ["e1", "d1", "g1"]);
    assert_eq!(finding.event_count, 3);
    // …and again later, late: no second finding, no re-emission.
    assert!(a.process(events.clone()).is_empty());
    assert!(a.advance(T0 + 20 * MIN).is_empty());
    assert!(a.process(events).is_empty());
}

#[test]
fn late_evidence_updates_a_closed_window_within_late_retention() {
    let mut a = analytic(vec![]);
    let mut emitted = feed(
        &mut a,
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
            dump("d1", T0 + SEC, "db-01", "alice", 1001, 500, "/tmp/x.sql"),
        ],
    );
    emitted.extend(a.advance(T0 + 30 * MIN));
    assert_eq!(a.inspect(10).open_windows, 0, "closed after TimeWindow");
    // A sensor record 29 minutes late, for a time inside the window.
    let update = a.process(vec![nsm_post("g1", T0 + 5 * MIN, "db-01", "203.0.113.7")]);
    assert_eq!(update.len(), 1);
    assert_eq!(update[0].uid, emitted[0].uid);
    assert_eq!(update[0].severity, Severity::High);
    // After LateRetention the window is gone.
    assert!(a.advance(T0 + 10 * MIN + 60 * MIN + 1).is_empty());
    assert_eq!(a.engine().window_count(), 0);
    assert!(
        a.process(vec![nsm_post("g2", T0 + 6 * MIN, "db-01", "203.0.113.7")])
            .is_empty()
    );
}

#[test]
fn a_late_start_just_before_an_emitted_window_joins_it() {
    let mut a = analytic(vec![]);
    let emitted = feed(
        &mut a,
        vec![
            exec("e2", T0 + MIN, "db-01", "alice", 1001, 600, "pg_dump"),
            dump(
                "d1",
                T0 + 2 * MIN,
                "db-01",
                "alice",
                1001,
                600,
                "/tmp/x.sql",
            ),
        ],
    );
    let uid = emitted[0].uid.clone();
    let update = a.process(vec![exec("e1", T0, "db-01", "alice", 1001, 500, "psql")]);
    assert_eq!(update.len(), 1);
    assert_eq!(update[0].uid, uid, "keeps its identity");
    assert_eq!(evidence_ids(&update[0]), ["e1", "e2", "d1"]);
    assert_eq!(update[0].start_time, T0);
}

#[test]
fn unknown_host_and_user_are_grouped_not_dropped() {
    let exec = dumpwatch_sdk::testing::EventBuilder::exec("auditd", "e1", T0, "sqlite3")
        .pid(5)
        .build();
    let dump = dumpwatch_sdk::testing::EventBuilder::file(
        "auditd",
        "d1",
        T0 + 1,
        FileOperation::Create,
        "/x/app.db",
    )
    .pid(5)
    .build();
    let mut a = analytic(vec![]);
    let finding = latest(&run(&mut a, vec![exec, dump]))
        .into_values()
        .next()
        .unwrap();
    assert_eq!(entity(&finding, "host"), Some("(unknown host)"));
    assert_eq!(entity(&finding, "user"), Some("(unknown user)"));
}

#[test]
fn inspect_lists_open_windows_oldest_first() {
    let mut a = analytic(vec![]);
    feed(
        &mut a,
        vec![
            exec("e1", T0, "db-02", "bob", 1002, 600, "psql"),
            exec("e2", T0 + SEC, "db-01", "alice", 1001, 500, "pg_dump"),
            dump(
                "d1",
                T0 + 2 * SEC,
                "db-01",
                "alice",
                1001,
                500,
                "/tmp/x.sql",
            ),
        ],
    );
    let inspection = a.inspect(10);
    assert_eq!(inspection.open_windows, 2);
    let first = &inspection.windows[0];
    assert_eq!(
        (first.entity.as_str(), first.start, first.end),
        ("db-02/bob", T0, T0 + 10 * MIN)
    );
    assert_eq!(first.legs, ["exec"]);
    assert_eq!(first.finding, None);
    let second = &inspection.windows[1];
    assert_eq!(second.entity, "db-01/alice");
    assert_eq!(second.legs, ["exec", "dump"]);
    assert_eq!(second.events, 2);
    assert_eq!(
        second.finding.as_deref(),
        Some(dumpwatch_sdk::uid::finding_uid("AN0676", &["db-01", "alice"], "e2").as_str())
    );
    assert_eq!(a.inspect(1).windows.len(), 1);
    assert_eq!(a.inspect(1).open_windows, 2);
}

#[test]
fn max_open_windows_evicts_the_oldest() {
    let mut a = analytic(vec![tunable("MaxOpenWindows", TunableValue::Integer(64))]);
    let events: Vec<Event> = (0..100)
        .map(|i| {
            exec(
                &format!("e{i}"),
                T0 + i64::from(i),
                &format!("h{i}"),
                "alice",
                1001,
                500,
                "psql",
            )
        })
        .collect();
    feed(&mut a, events);
    assert!(a.engine().window_count() <= 64);
    let oldest = a.inspect(1).windows[0].start;
    assert!(oldest > T0 + 30, "the oldest were evicted: {oldest}");
}

#[test]
fn the_longest_window_keeps_its_times_exact_to_the_millisecond() {
    let longest = crate::window::MAX_WINDOW_MS;
    let mut a = analytic(vec![tunable("TimeWindow", TunableValue::Integer(longest))]);
    let events = vec![
        exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
        dump(
            "d1",
            T0 + longest,
            "db-01",
            "alice",
            1001,
            500,
            "/tmp/x.sql",
        ),
        // One millisecond past the window's end: not attributed.
        dump(
            "d2",
            T0 + longest + 1,
            "db-01",
            "alice",
            1001,
            500,
            "/tmp/y.sql",
        ),
    ];
    let finding = latest(&run(&mut a, events)).into_values().next().unwrap();
    assert_eq!(evidence_ids(&finding), ["e1", "d1"]);
    assert_eq!((finding.start_time, finding.end_time), (T0, T0 + longest));
}

#[test]
fn each_retained_window_of_a_host_goes_exactly_at_its_end_plus_late_retention() {
    let mut a = analytic(vec![]);
    let window = 10 * MIN;
    let retention = 60 * MIN;
    let alice_gone = T0 + window + retention + 1;
    let bob_gone = T0 + 3 * MIN + window + retention + 1;
    let mut events = vec![
        exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
        exec("e2", T0 + 3 * MIN, "db-01", "bob", 1002, 600, "pg_dump"),
    ];
    // Pending dumps of another user keep the host due all along, so it is
    // visited many times before either window expires.
    for i in 0..20 {
        events.push(dump(
            &format!("d{i}"),
            T0 + i * 4 * MIN,
            "db-01",
            "carol",
            1003,
            700,
            "/tmp/c.sql",
        ));
    }
    drop(a.process(events));
    for step in 1..=17 {
        drop(a.advance(T0 + step * 4 * MIN));
    }
    // A late dump finds alice's window at the last instant it is kept ...
    drop(a.advance(alice_gone - 1));
    let late = a.process(vec![dump(
        "la1",
        T0 + MIN,
        "db-01",
        "alice",
        1001,
        500,
        "/tmp/a.sql",
    )]);
    assert_eq!(late.len(), 1);
    assert_eq!(evidence_ids(&late[0]), ["e1", "la1"]);
    // ... and not one millisecond later, while bob's is still kept.
    drop(a.advance(alice_gone));
    let too_late = a.process(vec![dump(
        "la2",
        T0 + 2 * MIN,
        "db-01",
        "alice",
        1001,
        500,
        "/tmp/a2.sql",
    )]);
    assert!(too_late.is_empty(), "{too_late:?}");
    drop(a.advance(bob_gone - 1));
    let late = a.process(vec![dump(
        "lb1",
        T0 + 4 * MIN,
        "db-01",
        "bob",
        1002,
        600,
        "/tmp/b.sql",
    )]);
    assert_eq!(late.len(), 1);
    assert_eq!(evidence_ids(&late[0]), ["e2", "lb1"]);
    drop(a.advance(bob_gone));
    assert_eq!(a.engine().window_count(), 0);
    let too_late = a.process(vec![dump(
        "lb2",
        T0 + 5 * MIN,
        "db-01",
        "bob",
        1002,
        600,
        "/tmp/b2.sql",
    )]);
    assert!(too_late.is_empty(), "{too_late:?}");
}
