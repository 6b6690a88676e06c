//! Configuration: defaults, validation with every error, subscriptions.

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{texts, tunable};
use dumpwatch_sdk::types::*;

use crate::An0676;
use crate::config::Config;
use crate::manifest;

#[test]
fn manifest_declares_every_tunable_with_a_documented_default() {
    let manifest = An0676::default().manifest();
    assert_eq!(manifest.id, "AN0676");
    assert_eq!(manifest.strategy.as_deref(), Some("DET0242"));
    let names: Vec<&str> = manifest.tunables.iter().map(|t| t.name.as_str()).collect();
    for required in [
        "DBClientTools",
        "AllowedDBClients",
        "DumpFilePattern",
        "TimeWindow",
        "RedirectSlack",
        "InternalNetworks",
        "DatabasePorts",
        "EgressHttpMethods",
        "UploadBytesThreshold",
        "HomeDirectories",
        "WebServerProcesses",
        "AutomationWindows",
        "LateRetention",
        "MaxOpenWindows",
        "MaxEvidencePerLeg",
        "MaxPendingEvents",
    ] {
        assert!(names.contains(&required), "{required}");
    }
    assert!(
        manifest.tunables.iter().all(|t| t.description.len() > 60),
        "every tunable is documented"
    );
    // The README documents every tunable too.
    let readme = include_str!("../../README.md");
    for name in names {
        assert!(readme.contains(&format!("`{name}`")), "README lacks {name}");
    }
}

#[test]
fn defaults_are_valid() {
    let specs = manifest::tunable_specs();
    let given: Vec<Tunable> = specs
        .iter()
        .map(|s| Tunable {
            name: s.name.clone(),
            value: s.default.clone(),
        })
        .collect();
    let config = Config::from_tunables(&given).unwrap();
    assert_eq!(config.window_ms, 600_000);
    assert_eq!(config.slack_ms, 5_000);
    assert_eq!(config.upload_bytes, 1_000_000);
    assert_eq!(config.late_retention_ms, 3_600_000);
    assert_eq!(config.max_evidence, 5);
    assert!(
        config.dump_files.matches("/x/backup_1.csv") && config.dump_files.matches("/x/a.sql.zst")
    );
    assert!(config.home_dirs.matches("/root/x.sql"));
    assert!(config.automation.is_empty());
}

#[test]
fn every_problem_is_reported_and_the_old_config_stays() {
    let mut a = An0676::default();
    a.configure(vec![tunable("TimeWindow", TunableValue::Integer(120_000))])
        .unwrap();
    let errors = a
        .configure(vec![
            tunable("DumpFilePattern", texts(&["*.sql", "[oops"])),
            tunable("InternalNetworks", texts(&["10.0.0.0/8", "not-a-net"])),
            tunable("TimeWindow", TunableValue::Integer(-1)),
            tunable("DatabasePorts", texts(&["5432", "99999"])),
            tunable(
                "AutomationWindows",
                texts(&["Mon 01:00-03:00 Europe/Paris"]),
            ),
            tunable("UploadBytesThreshold", TunableValue::Integer(0)),
            tunable("Bogus", TunableValue::Flag(true)),
        ])
        .unwrap_err();
    let names: Vec<&str> = errors.iter().map(|e| e.tunable.as_str()).collect();
    for expected in [
        "Bogus",
        "DumpFilePattern",
        "InternalNetworks",
        "TimeWindow",
        "DatabasePorts",
        "AutomationWindows",
        "UploadBytesThreshold",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {errors:?}"
        );
    }
    assert!(errors.iter().any(|e| e.message.contains("[oops")));
    assert_eq!(
        a.engine().config.window_ms,
        120_000,
        "a rejected set leaves the previous tunables"
    );
}

#[test]
fn redirect_slack_longer_than_the_window_is_refused() {
    let errors = Config::from_tunables(&[
        tunable("TimeWindow", TunableValue::Integer(1000)),
        tunable("RedirectSlack", TunableValue::Integer(5000)),
    ])
    .unwrap_err();
    assert_eq!(errors[0].tunable, "RedirectSlack");
}

#[test]
fn a_window_longer_than_its_offsets_can_hold_is_refused() {
    let longest = crate::window::MAX_WINDOW_MS;
    let config =
        Config::from_tunables(&[tunable("TimeWindow", TunableValue::Integer(longest))]).unwrap();
    assert_eq!(config.window_ms, longest);
    let errors =
        Config::from_tunables(&[tunable("TimeWindow", TunableValue::Integer(longest + 1))])
            .unwrap_err();
    assert_eq!(errors[0].tunable, "TimeWindow");
    assert!(
        errors[0].message.contains("24 days"),
        "{}",
        errors[0].message
    );
}

#[test]
fn subscriptions_are_tight() {
    let subs = Config::default().subscriptions();
    let find = |class: EventClass, field: &str| {
        subs.iter()
            .filter(|s| s.class == class)
            .flat_map(|s| s.tests.iter())
            .find(|t| t.field == field)
            .unwrap_or_else(|| panic!("{class:?} {field}"))
            .clone()
    };
    let names = find(EventClass::ProcessStart, "process.name");
    assert_eq!(names.op, MatchOp::Equals);
    assert!(names.values.contains(&"pg_dump".to_string()) && names.values.len() == 16);
    let files = find(EventClass::File, "file.name");
    assert_eq!(files.op, MatchOp::Glob);
    assert!(files.values.contains(&"*.sql".to_string()));
    let dst = find(EventClass::Network, "dst.ip");
    assert!(
        subs.iter()
            .filter(|s| s.class == EventClass::Network || s.class == EventClass::Http)
            .all(|s| {
                s.tests
                    .iter()
                    .any(|t| t.field == "dst.ip" && t.op == MatchOp::InCidr && t.negate)
            })
    );
    let _ = dst;
    let ports = find(EventClass::Network, "dst.port");
    assert!(ports.negate && ports.values.contains(&"5432".to_string()));
    assert_eq!(
        find(EventClass::Network, "network.bytes_out").values,
        ["1000000"]
    );
    assert_eq!(
        find(EventClass::Http, "http.method").values,
        ["POST", "PUT"]
    );
    assert_eq!(
        find(EventClass::Http, "http.request_bytes").op,
        MatchOp::AtLeast
    );
    for sub in &subs {
        assert!(
            !sub.sources.is_empty(),
            "every subscription names its sources"
        );
    }
    // Path patterns go to a file.path test.
    let config = Config::from_tunables(&[tunable(
        "DumpFilePattern",
        texts(&["*.sql", "/srv/exports/**"]),
    )])
    .unwrap();
    let path_sub = config
        .subscriptions()
        .into_iter()
        .find(|s| s.tests.iter().any(|t| t.field == "file.path"))
        .unwrap();
    assert_eq!(path_sub.tests[0].values, ["/srv/exports/**"]);
}
