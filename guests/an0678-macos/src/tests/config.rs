//! Configuration: the manifest and README agree, defaults are valid, every
//! problem is reported at once, subscriptions are tight.

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{texts, tunable};
use dumpwatch_sdk::types::*;

use crate::An0678;
use crate::config::Config;
use crate::manifest;

/// Subscription fields of docs/contract.md this analytic may use.
const CONTRACT_FIELDS: &[&str] = &[
    "device.hostname",
    "process.name",
    "process.path",
    "file.name",
    "file.path",
    "name.name",
    "http.host",
];

#[test]
fn manifest_declares_every_tunable_and_the_readme_documents_it() {
    let manifest = An0678::default().manifest();
    assert_eq!(manifest.id, "AN0678");
    assert_eq!(manifest.strategy.as_deref(), Some("DET0242"));
    let names: Vec<&str> = manifest.tunables.iter().map(|t| t.name.as_str()).collect();
    for mitre in ["CloudSyncDomainList", "UserPrivilegeLevel"] {
        assert!(names.contains(&mitre), "{mitre}");
    }
    assert!(manifest.tunables.iter().all(|t| t.description.len() > 60));
    let readme = include_str!("../../README.md");
    for name in &names {
        assert!(readme.contains(&format!("`{name}`")), "README lacks {name}");
    }
    let table = readme.split("## Tunables").nth(1).unwrap();
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let documented = line.split('`').nth(1).unwrap();
        assert!(
            names.contains(&documented),
            "README documents unknown {documented}"
        );
    }
}

#[test]
fn defaults_are_valid_and_mean_what_the_readme_says() {
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
    assert_eq!(config.low_privilege_raise, 1);
    assert!(config.is_db_tool("PSQL") && config.is_db_tool("mongosh"));
    for app in [
        "/Applications/DBeaver.app/Contents/MacOS/dbeaver",
        "/Applications/DBeaver.app",
        "/Users/alice/Applications/Postico 2.app/Contents/MacOS/Postico 2",
        "/Applications/Beekeeper Studio.app/Contents/Frameworks/Beekeeper Studio Helper.app/Contents/MacOS/Beekeeper Studio Helper",
        "/applications/tableplus.app/Contents/MacOS/TablePlus",
    ] {
        assert!(config.db_apps.matches(app), "{app}");
    }
    assert!(
        !config
            .db_apps
            .matches("/Applications/Safari.app/Contents/MacOS/Safari")
    );
    assert!(
        config
            .export_locations
            .matches("/Users/alice/Downloads/a/b.csv")
    );
    assert!(
        !config
            .export_locations
            .matches("/Users/alice/Library/x.csv")
    );
    assert!(config.is_privileged("Admin") && config.is_privileged("root"));
    assert!(config.cloud.matches("content.dropboxapi.com"));
}

#[test]
fn every_problem_is_reported_and_the_old_config_stays() {
    let mut a = An0678::default();
    a.configure(vec![tunable("TimeWindow", TunableValue::Integer(120_000))])
        .unwrap();
    let errors = a
        .configure(vec![
            tunable("DBAppBundles", texts(&["**/[oops.app/**"])),
            tunable("ExportLocations", texts(&["Downloads"])),
            tunable(
                "CloudSyncDomainList",
                texts(&["dropbox.com", "drop box.com"]),
            ),
            tunable("LowPrivilegeRaise", TunableValue::Integer(5)),
            tunable("TimeWindow", TunableValue::Integer(-1)),
            tunable("RedirectSlack", TunableValue::Text("soon".into())),
            tunable("Bogus", TunableValue::Flag(true)),
        ])
        .unwrap_err();
    let names: Vec<&str> = errors.iter().map(|e| e.tunable.as_str()).collect();
    for expected in [
        "Bogus",
        "DBAppBundles",
        "ExportLocations",
        "CloudSyncDomainList",
        "LowPrivilegeRaise",
        "TimeWindow",
        "RedirectSlack",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {errors:#?}"
        );
    }
    assert_eq!(
        a.engine().config.window_ms,
        120_000,
        "the previous tunables stay"
    );
    let both_empty = Config::from_tunables(&[
        tunable("DBTools", texts(&[])),
        tunable("DBAppBundles", texts(&[])),
    ])
    .unwrap_err();
    assert!(
        both_empty[0].message.contains("never fire"),
        "{both_empty:?}"
    );
}

#[test]
fn subscriptions_are_tight_and_use_contract_fields() {
    let subs = Config::default().subscriptions();
    for sub in &subs {
        assert!(!sub.sources.is_empty());
        assert!(!sub.tests.is_empty(), "no subscription takes a whole class");
        for test in &sub.tests {
            assert!(
                CONTRACT_FIELDS.contains(&test.field.as_str()),
                "{}",
                test.field
            );
        }
    }
    let find = |class: EventClass, field: &str| -> Vec<&FieldTest> {
        subs.iter()
            .filter(|s| s.class == class)
            .flat_map(|s| s.tests.iter())
            .filter(|t| t.field == field)
            .collect()
    };
    let names = find(EventClass::ProcessStart, "process.name");
    assert_eq!(names[0].op, MatchOp::EqualsNocase);
    assert!(names[0].values.contains(&"psql".to_string()));
    let apps = find(EventClass::ProcessStart, "process.path");
    assert_eq!(apps[0].op, MatchOp::GlobNocase);
    assert!(apps[0].values.contains(&"**/DBeaver.app/**".to_string()));
    assert!(
        apps[0].values.contains(&"**/DBeaver.app".to_string()),
        "bundle-only launches"
    );
    let files = find(EventClass::File, "file.name");
    assert!(files[0].values.contains(&"*.parquet".to_string()));
    assert!(
        find(EventClass::File, "file.path")[0]
            .values
            .contains(&"/Users/*/Desktop/**".to_string())
    );
    let names = find(EventClass::Name, "name.name");
    assert_eq!(names[0].op, MatchOp::SuffixNocase);
    let hosts = find(EventClass::Http, "http.host");
    assert!(hosts[0].values.contains(&"*dropbox.com:*".to_string()));
    assert!(
        subs.iter()
            .filter(|s| matches!(s.class, EventClass::Name | EventClass::Http))
            .all(|s| s.sources == ["zeek", "suricata"]
                && s.tests.iter().any(|t| t.field == "device.hostname"))
    );
}
