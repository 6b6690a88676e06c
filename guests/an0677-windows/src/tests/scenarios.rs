//! The chain and its partial forms, one scenario each.

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{texts, tunable};
use dumpwatch_sdk::types::*;

use super::*;

const CSV: &str = r"C:\Users\alice\AppData\Local\Temp\customers.csv";
const SEVEN_Z: &str = r"C:\Program Files\7-Zip\7z.exe";

#[test]
fn exec_then_export_is_medium_and_egress_raises_the_same_finding() {
    let mut a = analytic(vec![]);
    assert!(
        a.process(vec![sqlcmd(
            "e1",
            T0,
            "WS01.corp.example",
            "alice",
            ALICE_SQLCMD
        )])
        .is_empty()
    );
    assert!(a.advance(T0).is_empty(), "no export yet: no finding");
    let created = a.process(vec![file(
        "f1",
        T0 + 20 * SEC,
        "WS01.corp.example",
        "alice",
        ALICE_SQLCMD,
        CSV,
    )]);
    assert_eq!(created.len(), 1);
    let created = &created[0];
    assert_eq!(created.severity, Severity::Medium);
    assert_eq!(created.legs, ["exec", "export"]);
    assert_eq!(techniques(created), ["T1213.006"]);
    assert_eq!(
        created.uid,
        dumpwatch_sdk::uid::finding_uid("AN0677", &["ws01", "alice"], "e1")
    );
    assert_eq!(
        entity(created, "host"),
        Some("ws01"),
        "short, lower-case host key"
    );
    assert_eq!(entity(created, "user"), Some("alice"));
    assert_eq!(entity(created, "process"), Some("SQLCMD.EXE"));
    assert_eq!(entity(created, "file"), Some(CSV));
    assert!(
        created.reasons[0].contains("under cmd.exe (OddParentProcesses)"),
        "{:?}",
        created.reasons
    );

    let updated = a.process(vec![conn(
        "c1",
        T0 + 60 * SEC,
        "WS01.corp.example",
        "alice",
        ALICE_CURL,
        "198.51.100.20",
        443,
        50001,
    )]);
    assert_eq!(updated.len(), 1);
    let updated = &updated[0];
    assert_eq!(
        updated.uid, created.uid,
        "the egress updates the same finding"
    );
    assert_eq!(updated.severity, Severity::High);
    assert_eq!(updated.legs, ["exec", "export", "egress"]);
    assert_eq!(techniques(updated), ["T1213.006", "T1048"]);
    assert_eq!(evidence_ids(updated), ["e1", "f1", "c1"]);
    assert_eq!(updated.event_count, 3);
    assert_eq!((updated.start_time, updated.end_time), (T0, T0 + 60 * SEC));
    assert!(entity(updated, "destination").is_some());
    assert!(
        updated
            .reasons
            .iter()
            .any(|r| r.contains("1 connection to external addresses")),
        "{:?}",
        updated.reasons
    );
    assert!(
        a.advance(T0 + 60 * MIN).is_empty(),
        "nothing more at the end"
    );
}

#[test]
fn egress_to_cloud_storage_is_named_by_the_process_dns_answer_in_any_order() {
    let events = vec![
        sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
        file("f1", T0 + 10 * SEC, "ws01", "alice", ALICE_SQLCMD, CSV),
        dns(
            "q1",
            T0 + 29 * SEC,
            "ws01",
            "alice",
            ALICE_CURL,
            "content.dropboxapi.com",
            &["162.125.1.14"],
        ),
        conn(
            "c1",
            T0 + 30 * SEC,
            "ws01",
            "alice",
            ALICE_CURL,
            "162.125.1.14",
            443,
            50002,
        ),
    ];
    let forward = only(events.clone());
    let mut reversed = events;
    reversed.reverse();
    let backward = only(reversed);
    assert_eq!(forward, backward);
    assert_eq!(techniques(&forward), ["T1213.006", "T1567.002"]);
    assert_eq!(
        entity(&forward, "destination"),
        Some("content.dropboxapi.com")
    );
    assert!(forward.title.contains("cloud storage"), "{}", forward.title);
    let egress = forward.evidence.iter().find(|e| e.leg == "egress").unwrap();
    assert_eq!(
        egress.dst.as_ref().unwrap().hostname.as_deref(),
        Some("content.dropboxapi.com")
    );
    // The DNS query is not evidence of its own.
    assert_eq!(evidence_ids(&forward), ["e1", "f1", "c1"]);
}

#[test]
fn sensor_bytes_decide_where_they_exist() {
    let base = || {
        vec![
            sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
            file("f1", T0 + 10 * SEC, "ws01", "alice", ALICE_SQLCMD, CSV),
        ]
    };
    // Two flows summing past 20 MB: egress by volume.
    let mut events = base();
    events.push(flow(
        "z1",
        T0 + MIN,
        "ws01",
        "203.0.113.50",
        443,
        51000,
        12_000_000,
    ));
    events.push(flow(
        "z2",
        T0 + 2 * MIN,
        "ws01",
        "203.0.113.51",
        443,
        51001,
        9_000_000,
    ));
    let f = only(events);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(evidence_of(&f, "egress"), ["z1", "z2"]);
    assert!(
        f.reasons.iter().any(|r| r.contains("21.0 MB")),
        "{:?}",
        f.reasons
    );
    // One flow of 12 MB: not enough.
    let mut events = base();
    events.push(flow(
        "z1",
        T0 + MIN,
        "ws01",
        "203.0.113.50",
        443,
        51000,
        12_000_000,
    ));
    let f = only(events);
    assert_eq!(f.severity, Severity::Medium);
    assert!(
        evidence_of(&f, "egress").is_empty(),
        "unmet egress shows no evidence"
    );
    assert_eq!(f.event_count, 2);
    // A connection that the sensor measured (same 5-tuple, small) is judged
    // by its bytes, not counted.
    let mut events = base();
    events.push(conn(
        "c1",
        T0 + MIN,
        "ws01",
        "alice",
        ALICE_CURL,
        "203.0.113.50",
        443,
        51000,
    ));
    events.push(flow(
        "z1",
        T0 + MIN + 400,
        "ws01",
        "203.0.113.50",
        443,
        51000,
        4_000,
    ));
    assert_eq!(only(events).severity, Severity::Medium);
    // The same connection without a sensor flow counts.
    let mut events = base();
    events.push(conn(
        "c1",
        T0 + MIN,
        "ws01",
        "alice",
        ALICE_CURL,
        "203.0.113.50",
        443,
        51000,
    ));
    assert_eq!(only(events).severity, Severity::High);
}

#[test]
fn an_archive_after_the_export_is_a_leg_and_a_password_raises_it() {
    let base = || {
        vec![
            sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
            file("f1", T0 + 10 * SEC, "ws01", "alice", ALICE_SQLCMD, CSV),
        ]
    };
    let archive = r"C:\Users\alice\AppData\Local\Temp\c.7z";
    let mut events = base();
    events.push(file(
        "f2",
        T0 + 40 * SEC,
        "ws01",
        "alice",
        ALICE_7Z,
        archive,
    ));
    let f = only(events.clone());
    assert_eq!(f.legs, ["exec", "export", "archive"]);
    assert_eq!(
        f.severity,
        Severity::Medium,
        "an archive alone does not raise"
    );
    assert_eq!(techniques(&f), ["T1213.006", "T1560.001"]);
    // The 7z file is also an export-like file: it shows once, as the archive.
    assert_eq!(evidence_of(&f, "archive"), ["f2"]);
    assert_eq!(evidence_of(&f, "export"), ["f1"]);
    assert_eq!(f.event_count, 3);

    events.push(start(
        "p1",
        T0 + 35 * SEC,
        "ws01",
        "alice",
        ALICE_7Z,
        SEVEN_Z,
        P {
            guid: "{shell}",
            pid: 4099,
        },
        CMD,
        r"7z a -pS3cret -mhe=on C:\Users\alice\AppData\Local\Temp\c.7z C:\Users\alice\AppData\Local\Temp\customers.csv",
    ));
    let f = only(events);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(evidence_of(&f, "archive"), ["p1", "f2"]);
    let password = f
        .reasons
        .iter()
        .find(|r| r.contains("password switch"))
        .unwrap();
    assert!(
        password.contains("(-p)") && !password.contains("S3cret"),
        "{password}"
    );
}

#[test]
fn an_archive_before_the_export_or_a_7z_without_password_switch_does_not_count() {
    let f = only(vec![
        sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
        file(
            "f0",
            T0 + 5 * SEC,
            "ws01",
            "alice",
            ALICE_7Z,
            r"C:\Users\alice\old.zip",
        ),
        file("f1", T0 + 10 * SEC, "ws01", "alice", ALICE_SQLCMD, CSV),
        start(
            "p1",
            T0 + 20 * SEC,
            "ws01",
            "alice",
            ALICE_7Z,
            SEVEN_Z,
            P {
                guid: "{shell}",
                pid: 4099,
            },
            CMD,
            r"7z a -p- C:\Users\alice\x.7z C:\Users\alice\AppData\Local\Temp\customers.csv",
        ),
    ]);
    assert_eq!(
        f.legs,
        ["exec", "export"],
        "old.zip is the first export, not an archive"
    );
    assert_eq!(evidence_of(&f, "export"), ["f0", "f1"]);
    assert_eq!(f.severity, Severity::Medium);
}

#[test]
fn single_legs_and_partial_chains_find_nothing() {
    let cases: Vec<Vec<Event>> = vec![
        vec![sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD)],
        vec![file("f1", T0, "ws01", "alice", ALICE_SQLCMD, CSV)],
        vec![conn(
            "c1",
            T0,
            "ws01",
            "alice",
            ALICE_CURL,
            "198.51.100.20",
            443,
            50001,
        )],
        vec![
            sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
            conn(
                "c1",
                T0 + SEC,
                "ws01",
                "alice",
                ALICE_CURL,
                "198.51.100.20",
                443,
                50001,
            ),
            flow(
                "z1",
                T0 + 2 * SEC,
                "ws01",
                "198.51.100.20",
                443,
                50009,
                90_000_000,
            ),
        ],
        // An export before the tool start (and not by its parent) is no export.
        vec![
            file("f1", T0 - 30 * SEC, "ws01", "alice", ALICE_CURL, CSV),
            sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
        ],
    ];
    for events in cases {
        let mut a = analytic(vec![]);
        assert!(run(&mut a, events.clone()).is_empty(), "{events:#?}");
    }
}

#[test]
fn an_export_just_outside_the_window_is_not_one() {
    let outside = vec![
        sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
        file("f1", T0 + 10 * MIN + 1, "ws01", "alice", ALICE_SQLCMD, CSV),
    ];
    assert!(findings(outside).is_empty());
    let edge = vec![
        sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
        file("f1", T0 + 10 * MIN, "ws01", "alice", ALICE_SQLCMD, CSV),
    ];
    assert_eq!(findings(edge).len(), 1);
}

#[test]
fn other_users_and_hosts_stay_apart() {
    let bob = P {
        guid: "{b-excel}",
        pid: 7000,
    };
    let f = only(vec![
        sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
        file("f1", T0 + 10 * SEC, "ws01", "alice", ALICE_SQLCMD, CSV),
        // bob's export on the same host is not alice's.
        file(
            "f2",
            T0 + 20 * SEC,
            "ws01",
            "bob",
            bob,
            r"C:\Users\bob\Documents\q.xlsx",
        ),
        // bob's connection is not alice's egress; nor is alice's on ws02.
        conn(
            "c1",
            T0 + 30 * SEC,
            "ws01",
            "bob",
            bob,
            "198.51.100.20",
            443,
            50001,
        ),
        conn(
            "c2",
            T0 + 40 * SEC,
            "ws02",
            "alice",
            ALICE_CURL,
            "198.51.100.20",
            443,
            50002,
        ),
        // A flow from another host's address does not count either.
        flow(
            "z1",
            T0 + 50 * SEC,
            "ws02",
            "198.51.100.20",
            443,
            50003,
            90_000_000,
        ),
    ]);
    assert_eq!(evidence_ids(&f), ["e1", "f1"]);
    assert_eq!(f.severity, Severity::Medium);
}

#[test]
fn internal_destinations_database_ports_and_non_export_files_are_ignored() {
    let f = only(vec![
        sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
        file("f1", T0 + 10 * SEC, "ws01", "alice", ALICE_SQLCMD, CSV),
        // Not in an export location, not an export extension.
        file(
            "f2",
            T0 + 11 * SEC,
            "ws01",
            "alice",
            ALICE_SQLCMD,
            r"D:\Backups\crm.bak",
        ),
        file(
            "f3",
            T0 + 12 * SEC,
            "ws01",
            "alice",
            ALICE_SQLCMD,
            r"C:\Users\alice\notes.txt",
        ),
        conn(
            "c1",
            T0 + 20 * SEC,
            "ws01",
            "alice",
            ALICE_CURL,
            "10.2.3.4",
            443,
            50001,
        ),
        // Azure SQL on 1433 is the tool talking to its server.
        conn(
            "c2",
            T0 + 21 * SEC,
            "ws01",
            "alice",
            ALICE_SQLCMD,
            "198.51.100.33",
            1433,
            50002,
        ),
    ]);
    assert_eq!(evidence_ids(&f), ["e1", "f1"]);
    assert_eq!(f.severity, Severity::Medium);
}

#[test]
fn known_paths_with_ordinary_parents_and_allowed_accounts_are_not_exec() {
    let agent = start(
        "e1",
        T0,
        "sql01",
        "svc-sql",
        P {
            guid: "{job}",
            pid: 300,
        },
        SQLCMD,
        P {
            guid: "{agent}",
            pid: 200,
        },
        SQLAGENT,
        "sqlcmd -Q BACKUP",
    );
    let export = file(
        "f1",
        T0 + SEC,
        "sql01",
        "svc-sql",
        P {
            guid: "{job}",
            pid: 300,
        },
        r"C:\Users\svc-sql\x.bak",
    );
    assert!(findings(vec![agent.clone(), export.clone()]).is_empty());
    // The same job from a copy in Downloads is an exec whatever the parent.
    let mut copied = agent;
    copied.process.as_mut().unwrap().path = Some(r"C:\Users\svc-sql\Downloads\sqlcmd.exe".into());
    let f = only(vec![copied.clone(), export.clone()]);
    assert!(
        f.reasons[0].contains("outside KnownDBToolPaths"),
        "{:?}",
        f.reasons
    );
    // An allowed account is never an exec, by name or DOMAIN\name.
    for allowed in ["svc-sql", r"CORP\SVC-SQL"] {
        let mut a = analytic(vec![tunable("AllowedAccounts", texts(&[allowed]))]);
        assert!(
            run(&mut a, vec![copied.clone(), export.clone()]).is_empty(),
            "{allowed}"
        );
    }
    let mut a = analytic(vec![tunable("AllowedAccounts", texts(&[r"OTHER\svc-sql"]))]);
    assert_eq!(
        latest(&run(&mut a, vec![copied, export])).len(),
        1,
        "another domain"
    );
}

#[test]
fn a_web_server_parent_raises_the_severity() {
    let f = only(vec![
        start(
            "e1",
            T0,
            "web01",
            "shop",
            P {
                guid: "{w3-sqlcmd}",
                pid: 900,
            },
            SQLCMD,
            P {
                guid: "{w3wp}",
                pid: 800,
            },
            r"C:\Windows\System32\inetsrv\w3wp.exe",
            "sqlcmd -Q \"select * from users\" -o C:\\Windows\\Temp\\u.csv",
        ),
        file(
            "f1",
            T0 + SEC,
            "web01",
            "shop",
            P {
                guid: "{w3-sqlcmd}",
                pid: 900,
            },
            r"C:\Windows\Temp\u.csv",
        ),
    ]);
    assert_eq!(f.severity, Severity::High);
    assert!(
        f.reasons
            .iter()
            .any(|r| r.contains("w3wp.exe (WebServerProcesses): +1 severity")),
        "{:?}",
        f.reasons
    );
}

#[test]
fn names_and_paths_compare_without_case() {
    let mut exec = sqlcmd("e1", T0, "WS01", "Alice", ALICE_SQLCMD);
    exec.process.as_mut().unwrap().name = Some("SqlCmd.EXE".into());
    let f = only(vec![
        exec,
        file(
            "f1",
            T0 + SEC,
            "ws01.CORP.example",
            "ALICE",
            ALICE_SQLCMD,
            r"c:\users\ALICE\Desktop\OUT.CSV",
        ),
    ]);
    assert_eq!(entity(&f, "user"), Some("alice"));
    assert_eq!(f.legs, ["exec", "export"]);
}

#[test]
fn duplicated_events_never_count_twice() {
    let events = vec![
        sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
        file("f1", T0 + 10 * SEC, "ws01", "alice", ALICE_SQLCMD, CSV),
        flow(
            "z1",
            T0 + MIN,
            "ws01",
            "203.0.113.50",
            443,
            51000,
            12_000_000,
        ),
    ];
    let once = only(events.clone());
    let mut twice = events.clone();
    twice.extend(events);
    let again = only(twice);
    assert_eq!(
        once, again,
        "the duplicated 12 MB flow does not reach 20 MB"
    );
    assert_eq!(again.severity, Severity::Medium);

    let mut a = analytic(vec![]);
    let first = run(
        &mut a,
        vec![
            sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
            file("f1", T0 + SEC, "ws01", "alice", ALICE_SQLCMD, CSV),
        ],
    );
    assert_eq!(first.len(), 1);
    assert!(
        a.process(vec![file(
            "f1",
            T0 + SEC,
            "ws01",
            "alice",
            ALICE_SQLCMD,
            CSV
        )])
        .is_empty(),
        "no re-emission"
    );
}

#[test]
fn late_events_within_retention_update_the_finding() {
    let mut a = analytic(vec![]);
    let mut out = a.process(vec![
        sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
        file("f1", T0 + 10 * SEC, "ws01", "alice", ALICE_SQLCMD, CSV),
    ]);
    out.extend(a.advance(T0 + 20 * MIN));
    assert_eq!(out.len(), 1);
    // A connection 5 minutes into the (closed) window arrives 15 minutes late.
    let late = a.process(vec![conn(
        "c1",
        T0 + 5 * MIN,
        "ws01",
        "alice",
        ALICE_CURL,
        "198.51.100.20",
        443,
        50001,
    )]);
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].uid, out[0].uid);
    assert_eq!(late[0].severity, Severity::High);
    // Past LateRetention the window is gone: later evidence is not taken.
    a.advance(T0 + 2 * 60 * MIN);
    assert!(
        a.process(vec![flow(
            "z1",
            T0 + 6 * MIN,
            "ws01",
            "203.0.113.9",
            443,
            1,
            90_000_000
        )])
        .is_empty()
    );
    assert_eq!(a.engine().window_count(), 0);
}
