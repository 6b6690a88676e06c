//! Aggravating factors: each raises one level, with its reason line.

use dumpwatch_sdk::testing::{EventBuilder, texts, tunable};
use dumpwatch_sdk::types::*;

use super::*;

fn severity_of(tunables: Vec<Tunable>, events: Vec<Event>) -> Finding {
    let mut a = analytic(tunables);
    latest(&run(&mut a, events)).into_values().next().unwrap()
}

#[test]
fn dump_under_a_home_directory_raises_one_level() {
    let finding = severity_of(
        vec![],
        vec![
            exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
            dump(
                "d1",
                T0 + SEC,
                "db-01",
                "alice",
                1001,
                500,
                "/home/alice/crm.sql",
            ),
        ],
    );
    assert_eq!(finding.severity, Severity::High);
    assert!(
        finding
            .reasons
            .iter()
            .any(|r| r.contains("HomeDirectories") && r.contains("/home/alice/crm.sql"))
    );
}

#[test]
fn web_server_ancestor_raises_one_level() {
    let web_shell = EventBuilder::exec("auditd", "e1", T0, "mysql")
        .host("web-01")
        .user("www-data", 33)
        .pid(500)
        .parent("sh", 499)
        .ancestry(&["sh", "php-fpm", "systemd"])
        .build();
    let finding = severity_of(
        vec![],
        vec![
            web_shell,
            dump(
                "d1",
                T0 + SEC,
                "web-01",
                "www-data",
                33,
                500,
                "/var/www/html/x.csv",
            ),
        ],
    );
    assert_eq!(finding.severity, Severity::High);
    assert!(
        finding
            .reasons
            .iter()
            .any(|r| r.contains("web server") && r.contains("php-fpm")),
        "{:?}",
        finding.reasons
    );
}

#[test]
fn start_outside_automation_windows_raises_one_level() {
    let events = vec![
        exec("e1", T0, "db-01", "alice", 1001, 500, "pg_dump"),
        dump("d1", T0 + SEC, "db-01", "alice", 1001, 500, "/srv/x.sql"),
    ];
    // T0 is Monday 09:00 UTC.
    let inside = severity_of(
        vec![tunable(
            "AutomationWindows",
            texts(&["Mon-Fri 08:00-10:00"]),
        )],
        events.clone(),
    );
    assert_eq!(inside.severity, Severity::Medium);
    let outside = severity_of(
        vec![tunable(
            "AutomationWindows",
            texts(&["Mon-Fri 01:00-03:00"]),
        )],
        events.clone(),
    );
    assert_eq!(outside.severity, Severity::High);
    assert!(
        outside
            .reasons
            .iter()
            .any(|r| r.contains("Mon 09:00 UTC") && r.contains("AutomationWindows"))
    );
    // 10:30 at UTC+02:00 is 08:30 UTC: inside.
    let offset = severity_of(
        vec![tunable(
            "AutomationWindows",
            texts(&["Mon 10:30-11:30 UTC+02:00"]),
        )],
        events.clone(),
    );
    assert_eq!(offset.severity, Severity::Medium);
    // Empty list: the factor never applies.
    assert_eq!(severity_of(vec![], events).severity, Severity::Medium);
}

#[test]
fn factors_add_up_and_cap_at_critical() {
    let start = EventBuilder::exec("auditd", "e1", T0, "pg_dump")
        .host("db-01")
        .user("alice", 1001)
        .pid(500)
        .parent("node", 499)
        .build();
    let finding = severity_of(
        vec![tunable("AutomationWindows", texts(&["Sun 01:00-02:00"]))],
        vec![
            start,
            dump("d1", T0 + SEC, "db-01", "alice", 1001, 500, "/root/all.sql"),
            nsm_post("g1", T0 + 2 * SEC, "db-01", "203.0.113.7"),
        ],
    );
    assert_eq!(finding.severity, Severity::Critical);
    let raises = finding
        .reasons
        .iter()
        .filter(|r| r.contains("+1 severity"))
        .count();
    assert_eq!(raises, 4, "{:?}", finding.reasons);
}
