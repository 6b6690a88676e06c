//! The chain and its partial forms, one scenario each.

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::tunable;
use dumpwatch_sdk::types::*;

use super::*;

const CSV: &str = "/Users/alice/Downloads/orders_export.csv";

/// DBeaver launched from Finder by alice writes an export the way it does:
/// a `.part` file, written, closed, renamed to the final name.
fn dbeaver_export(host: &str, user: Who) -> Vec<Event> {
    vec![
        exec(
            "e1",
            T0,
            host,
            user,
            DBEAVER_P,
            DBEAVER,
            FINDER,
            "/sbin/launchd",
        ),
        file(
            "f0",
            T0 + 40 * SEC,
            host,
            user,
            DBEAVER_P,
            FINDER,
            FileOperation::Create,
            "/Users/alice/Downloads/orders_export.csv.part",
        ),
        file(
            "f1",
            T0 + 41 * SEC,
            host,
            user,
            DBEAVER_P,
            FINDER,
            FileOperation::CloseModified,
            "/Users/alice/Downloads/orders_export.csv.part",
        ),
        EventBuilder::file("eslogger", "f2", T0 + 42 * SEC, FileOperation::Create, CSV)
            .renamed_from("/Users/alice/Downloads/orders_export.csv.part")
            .host(host)
            .uid(user.uid)
            .pid(DBEAVER_P.pid)
            .guid(&DBEAVER_P.guid())
            .build(),
    ]
}

#[test]
fn a_low_privilege_export_is_raised_and_cloud_sync_raises_the_same_finding() {
    let mut a = analytic(vec![]);
    let created = run(&mut a, dbeaver_export("alice-mbp", ALICE));
    assert_eq!(created.len(), 1);
    let created = &created[0];
    assert_eq!(created.legs, ["exec", "export"]);
    assert_eq!(
        created.severity,
        Severity::High,
        "medium + 1 for a known low-privilege user"
    );
    assert_eq!(
        evidence_ids(created),
        ["e1", "f2"],
        "the .part file is not an export"
    );
    assert_eq!(entity(created, "host"), Some("alice-mbp"));
    assert_eq!(entity(created, "user"), Some("alice"));
    assert_eq!(entity(created, "process"), Some("DBeaver.app"));
    assert_eq!(entity(created, "file"), Some(CSV));
    assert!(
        created.reasons[1].contains("groups: staff") && created.reasons[1].contains("+1"),
        "{:?}",
        created.reasons
    );
    assert_eq!(
        created.uid,
        dumpwatch_sdk::uid::finding_uid("AN0678", &["alice-mbp", "alice"], "e1")
    );

    // The sync client uploads a minute later (seen by the sensor).
    let mut a = analytic(vec![]);
    let mut events = dbeaver_export("alice-mbp", ALICE);
    events.push(tls(
        "z1",
        T0 + 2 * MIN,
        "alice-mbp",
        "content.dropboxapi.com",
        "162.125.1.14",
    ));
    let f = latest(&run(&mut a, events)).into_values().next().unwrap();
    assert_eq!(f.uid, created.uid);
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.legs, ["exec", "export", "egress"]);
    let techniques: Vec<&str> = f
        .attacks
        .iter()
        .map(|a| a.sub_technique_id.as_deref().unwrap_or(&a.technique_id))
        .collect();
    assert_eq!(techniques, ["T1213.006", "T1567.002"]);
    assert_eq!(entity(&f, "destination"), Some("content.dropboxapi.com"));
    assert!(
        f.reasons
            .iter()
            .any(|r| r.contains("dropboxapi.com after the export")),
        "{:?}",
        f.reasons
    );
    assert_eq!(
        (f.start_time, f.end_time, f.event_count),
        (T0, T0 + 2 * MIN, 3)
    );
}

#[test]
fn admins_and_developers_are_not_the_exec_leg_by_name_or_group() {
    let dana = dbeaver_export("dana-mbp", DEV);
    assert!(findings(dana).is_empty(), "dana is in group dev");
    let mut a = analytic(vec![tunable(
        "UserPrivilegeLevel",
        dumpwatch_sdk::testing::texts(&["ALICE"]),
    )]);
    assert!(
        run(&mut a, dbeaver_export("alice-mbp", ALICE)).is_empty(),
        "alice by name, any case"
    );
}

#[test]
fn a_user_known_only_by_uid_is_medium_with_an_unknown_role() {
    let f = only(dbeaver_export("mbp", UID_ONLY));
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(entity(&f, "user"), Some("777"));
    assert!(
        f.reasons[1].contains("role of 777 is unknown"),
        "{:?}",
        f.reasons
    );
}

#[test]
fn low_privilege_raise_is_tunable() {
    for (levels, expected) in [(0, Severity::Medium), (2, Severity::Critical)] {
        let mut a = analytic(vec![tunable(
            "LowPrivilegeRaise",
            TunableValue::Integer(levels),
        )]);
        let f = latest(&run(&mut a, dbeaver_export("alice-mbp", ALICE)))
            .into_values()
            .next()
            .unwrap();
        assert_eq!(f.severity, expected, "{levels}");
    }
}

#[test]
fn psql_writing_its_own_copy_and_a_shell_redirect_are_exports() {
    let own = only(vec![
        exec("e1", T0, "mbp", ALICE, PSQL_P, PSQL, TERMINAL_SHELL, ZSH),
        file(
            "f1",
            T0 + 3 * SEC,
            "mbp",
            ALICE,
            PSQL_P,
            TERMINAL_SHELL,
            FileOperation::Create,
            "/Users/alice/Downloads/customers.csv",
        ),
    ]);
    assert_eq!(evidence_ids(&own), ["e1", "f1"]);
    // `psql … > ~/Desktop/c.sql`: the forked shell (same pid, the previous
    // pidversion) opens the file, then execs psql.
    let forked = P {
        pid: PSQL_P.pid,
        version: PSQL_P.version - 1,
    };
    let redirect = only(vec![
        file(
            "f1",
            T0 - SEC,
            "mbp",
            ALICE,
            forked,
            TERMINAL_SHELL,
            FileOperation::Create,
            "/Users/alice/Desktop/c.sql",
        ),
        exec("e1", T0, "mbp", ALICE, PSQL_P, PSQL, TERMINAL_SHELL, ZSH),
        file(
            "f2",
            T0 + 5 * SEC,
            "mbp",
            ALICE,
            PSQL_P,
            TERMINAL_SHELL,
            FileOperation::CloseModified,
            "/Users/alice/Desktop/c.sql",
        ),
    ]);
    assert_eq!(evidence_ids(&redirect), ["f1", "e1", "f2"]);
    // Longer before the exec than RedirectSlack: not the export.
    assert!(
        findings(vec![
            file(
                "f1",
                T0 - 6 * SEC,
                "mbp",
                ALICE,
                forked,
                TERMINAL_SHELL,
                FileOperation::Create,
                "/Users/alice/Desktop/c.sql"
            ),
            exec("e1", T0, "mbp", ALICE, PSQL_P, PSQL, TERMINAL_SHELL, ZSH),
        ])
        .is_empty()
    );
}

#[test]
fn a_child_of_the_tool_writes_for_it_and_other_processes_do_not() {
    let helper = P {
        pid: 5400,
        version: 20300,
    };
    let f = only(vec![
        exec(
            "e1",
            T0,
            "mbp",
            ALICE,
            DBEAVER_P,
            DBEAVER,
            FINDER,
            "/sbin/launchd",
        ),
        // DBeaver's native dump runs pg_dump as its child.
        file(
            "f1",
            T0 + MIN,
            "mbp",
            ALICE,
            helper,
            DBEAVER_P,
            FileOperation::Write,
            "/Users/alice/Documents/db.sql",
        ),
    ]);
    assert_eq!(evidence_ids(&f), ["e1", "f1"]);
    // Safari saving a download, or another app of alice: not the tool's.
    let safari = P {
        pid: 900,
        version: 10,
    };
    assert!(
        findings(vec![
            exec(
                "e1",
                T0,
                "mbp",
                ALICE,
                DBEAVER_P,
                DBEAVER,
                FINDER,
                "/sbin/launchd"
            ),
            file(
                "f1",
                T0 + MIN,
                "mbp",
                ALICE,
                safari,
                FINDER,
                FileOperation::Create,
                "/Users/alice/Downloads/report.csv"
            ),
        ])
        .is_empty()
    );
}

#[test]
fn a_unified_log_start_matches_eslogger_files_by_pid() {
    let f = only(vec![
        launch(
            "launch:B:7731:1",
            T0,
            "mbp",
            ALICE,
            7731,
            "/Applications/TablePlus.app",
        ),
        file(
            "f1",
            T0 + MIN,
            "mbp",
            ALICE,
            P {
                pid: 7731,
                version: 4,
            },
            FINDER,
            FileOperation::Create,
            "/Users/alice/Documents/users.xlsx",
        ),
    ]);
    assert_eq!(entity(&f, "process"), Some("TablePlus.app"));
    assert_eq!(evidence_ids(&f), ["launch:B:7731:1", "f1"]);
}

#[test]
fn the_java_runtime_inside_the_dbeaver_bundle_is_dbeaver() {
    let java = P {
        pid: 6000,
        version: 1,
    };
    let f = only(vec![
        exec(
            "e1",
            T0,
            "mbp",
            ALICE,
            java,
            DBEAVER_JAVA,
            DBEAVER_P,
            DBEAVER,
        ),
        file(
            "f1",
            T0 + MIN,
            "mbp",
            ALICE,
            java,
            DBEAVER_P,
            FileOperation::Create,
            "/Users/alice/Desktop/all.json",
        ),
    ]);
    assert_eq!(entity(&f, "process"), Some("DBeaver.app"));
}

#[test]
fn every_kind_of_sensor_record_is_egress_but_only_after_the_export_and_on_the_host() {
    let base = || {
        vec![
            exec("e1", T0, "mbp", ALICE, PSQL_P, PSQL, TERMINAL_SHELL, ZSH),
            file(
                "f1",
                T0 + MIN,
                "mbp",
                ALICE,
                PSQL_P,
                TERMINAL_SHELL,
                FileOperation::Create,
                "/Users/alice/Downloads/c.csv",
            ),
        ]
    };
    for egress in [
        dns("z1", T0 + 2 * MIN, "mbp", "www.dropbox.com"),
        http("z1", T0 + 2 * MIN, "mbp", "uploads.box.com:8080"),
        tls(
            "z1",
            T0 + 2 * MIN,
            "mbp",
            "p12-content.icloud.com",
            "17.248.1.1",
        ),
    ] {
        let mut events = base();
        events.push(egress);
        let f = only(events);
        assert_eq!(f.legs, ["exec", "export", "egress"], "{f:#?}");
    }
    for not_egress in [
        tls(
            "z1",
            T0 + 30 * SEC,
            "mbp",
            "content.dropboxapi.com",
            "162.125.1.14",
        ),
        tls(
            "z1",
            T0 + 2 * MIN,
            "other-mbp",
            "content.dropboxapi.com",
            "162.125.1.14",
        ),
        tls("z1", T0 + 2 * MIN, "mbp", "notdropbox.com", "198.51.100.1"),
        tls(
            "z1",
            T0 + 11 * MIN,
            "mbp",
            "content.dropboxapi.com",
            "162.125.1.14",
        ),
    ] {
        let mut events = base();
        events.push(not_egress.clone());
        assert_eq!(only(events).legs, ["exec", "export"], "{not_egress:#?}");
    }
}

#[test]
fn single_legs_and_an_export_outside_the_window_find_nothing() {
    let cases: Vec<Vec<Event>> = vec![
        vec![exec(
            "e1",
            T0,
            "mbp",
            ALICE,
            PSQL_P,
            PSQL,
            TERMINAL_SHELL,
            ZSH,
        )],
        vec![file(
            "f1",
            T0,
            "mbp",
            ALICE,
            PSQL_P,
            TERMINAL_SHELL,
            FileOperation::Create,
            "/Users/alice/Downloads/c.csv",
        )],
        vec![tls(
            "z1",
            T0,
            "mbp",
            "content.dropboxapi.com",
            "162.125.1.14",
        )],
        vec![
            exec("e1", T0, "mbp", ALICE, PSQL_P, PSQL, TERMINAL_SHELL, ZSH),
            tls(
                "z1",
                T0 + SEC,
                "mbp",
                "content.dropboxapi.com",
                "162.125.1.14",
            ),
        ],
        vec![
            exec("e1", T0, "mbp", ALICE, PSQL_P, PSQL, TERMINAL_SHELL, ZSH),
            file(
                "f1",
                T0 + 10 * MIN + 1,
                "mbp",
                ALICE,
                PSQL_P,
                TERMINAL_SHELL,
                FileOperation::Create,
                "/Users/alice/Downloads/c.csv",
            ),
        ],
        // Not an export location, not an export extension, or deleted.
        vec![
            exec("e1", T0, "mbp", ALICE, PSQL_P, PSQL, TERMINAL_SHELL, ZSH),
            file(
                "f1",
                T0 + SEC,
                "mbp",
                ALICE,
                PSQL_P,
                TERMINAL_SHELL,
                FileOperation::Create,
                "/tmp/c.csv",
            ),
            file(
                "f2",
                T0 + SEC,
                "mbp",
                ALICE,
                PSQL_P,
                TERMINAL_SHELL,
                FileOperation::Create,
                "/Users/alice/Downloads/c.txt",
            ),
            file(
                "f3",
                T0 + SEC,
                "mbp",
                ALICE,
                PSQL_P,
                TERMINAL_SHELL,
                FileOperation::Delete,
                "/Users/alice/Downloads/c.csv",
            ),
        ],
    ];
    for events in cases {
        assert!(findings(events.clone()).is_empty(), "{events:#?}");
    }
    let edge = vec![
        exec("e1", T0, "mbp", ALICE, PSQL_P, PSQL, TERMINAL_SHELL, ZSH),
        file(
            "f1",
            T0 + 10 * MIN,
            "mbp",
            ALICE,
            PSQL_P,
            TERMINAL_SHELL,
            FileOperation::Create,
            "/Users/alice/Downloads/c.csv",
        ),
    ];
    assert_eq!(findings(edge).len(), 1, "the window's end is inside");
}

#[test]
fn duplicates_never_count_twice_and_late_evidence_updates() {
    let events = dbeaver_export("mbp", ALICE);
    let mut twice = events.clone();
    twice.extend(events.clone());
    assert_eq!(only(twice), only(events.clone()));

    let mut a = analytic(vec![]);
    let mut out = a.process(events);
    out.extend(a.advance(T0 + 30 * MIN));
    assert_eq!(out.len(), 1);
    let late = a.process(vec![tls(
        "z1",
        T0 + 5 * MIN,
        "mbp",
        "dl.dropboxusercontent.com",
        "162.125.2.2",
    )]);
    assert_eq!(late.len(), 1);
    assert_eq!(
        (late[0].uid.as_str(), late[0].severity),
        (out[0].uid.as_str(), Severity::Critical)
    );
    assert!(
        a.process(vec![tls(
            "z1",
            T0 + 5 * MIN,
            "mbp",
            "dl.dropboxusercontent.com",
            "162.125.2.2"
        )])
        .is_empty()
    );
}
