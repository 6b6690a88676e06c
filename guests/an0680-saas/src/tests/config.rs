//! Configuration: defaults, validation with every error, subscriptions.

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{texts, tunable};
use dumpwatch_sdk::types::*;

use crate::An0680;
use crate::config::Config;
use crate::manifest;

#[test]
fn manifest_declares_every_tunable_and_the_readme_documents_it() {
    let manifest = An0680::default().manifest();
    assert_eq!(manifest.id, "AN0680");
    assert_eq!(manifest.strategy.as_deref(), Some("DET0242"));
    let names: Vec<&str> = manifest.tunables.iter().map(|t| t.name.as_str()).collect();
    for required in [
        "BaselineQueryTemplates",
        "OffHoursAccessWindow",
        "SensitiveTables",
    ] {
        assert!(names.contains(&required), "{required}");
    }
    assert!(manifest.tunables.iter().all(|t| t.description.len() > 60));
    let readme = include_str!("../../README.md");
    for name in names {
        assert!(readme.contains(&format!("`{name}`")), "README lacks {name}");
    }
    assert_eq!(
        manifest.attacks[0].sub_technique_id.as_deref(),
        Some("T1213.006")
    );
    assert_eq!(
        manifest.attacks[1].sub_technique_id.as_deref(),
        Some("T1213.002")
    );
    assert_eq!(
        manifest.attacks[1].sub_technique_name.as_deref(),
        Some("Sharepoint")
    );
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
    assert_eq!(config.rows, 100_000);
    assert_eq!(config.bytes, 1_000_000_000);
    assert_eq!(config.repeated, 3);
    assert_eq!(config.downloads, 20);
    assert_eq!(config.download_window_ms, 600_000);
    assert_eq!(config.learning_ms, 7 * 24 * 3_600_000);
    assert!(config.new_on_sensitive_only);
    assert!(config.sensitive.matches("prod_db.crm.customers"));
    assert!(config.sensitive.matches("HR.PUBLIC.EMPLOYEES"));
    assert!(!config.sensitive.matches("PROD_DB.SALES.ORDERS"));
    // Saturday noon UTC and Monday 09:00 UTC.
    assert!(config.off_hours.contains(1_704_542_400_000));
    assert!(!config.off_hours.contains(1_704_099_600_000));
}

#[test]
fn every_problem_is_reported_and_the_old_config_stays() {
    let mut a = An0680::default();
    a.configure(vec![tunable(
        "BulkDownloadThreshold",
        TunableValue::Integer(50),
    )])
    .unwrap();
    let errors = a
        .configure(vec![
            tunable("SensitiveTables", texts(&["PROD.[X", "ok.*.*"])),
            tunable(
                "BaselineQueryTemplates",
                texts(&["5d41402abc", "1:zz", "sql:select 1"]),
            ),
            tunable(
                "OffHoursAccessWindow",
                texts(&["Sat 00:00-24:00 Europe/Paris"]),
            ),
            tunable("AllowedApplications", texts(&["{a,b}"])),
            tunable("RepeatedReadThreshold", TunableValue::Integer(0)),
            tunable("BulkDownloadThreshold", TunableValue::Integer(-1)),
            tunable("TimeWindow", TunableValue::Integer(10)),
            tunable("LearningPeriod", TunableValue::Integer(-1)),
            tunable(
                "NewTemplatesOnSensitiveOnly",
                TunableValue::Text("yes".into()),
            ),
            tunable("Nope", TunableValue::Flag(true)),
        ])
        .unwrap_err();
    let count = |name: &str| errors.iter().filter(|e| e.tunable == name).count();
    assert_eq!(count("BaselineQueryTemplates"), 2, "{errors:?}");
    for name in [
        "SensitiveTables",
        "OffHoursAccessWindow",
        "AllowedApplications",
        "RepeatedReadThreshold",
        "BulkDownloadThreshold",
        "TimeWindow",
        "LearningPeriod",
        "NewTemplatesOnSensitiveOnly",
        "Nope",
    ] {
        assert_eq!(count(name), 1, "{name} in {errors:?}");
    }
    assert!(
        errors.iter().any(|e| e.message.contains("time zone")),
        "{errors:?}"
    );
    assert_eq!(
        a.engine().config.downloads,
        50,
        "the previous tunables stay"
    );
}

#[test]
fn subscriptions_are_tight() {
    let subs = Config::default().subscriptions();
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0].class, EventClass::Query);
    assert_eq!(subs[0].sources, ["snowflake"]);
    assert_eq!(subs[0].tests[0].field, "query.system");
    assert_eq!(subs[1].class, EventClass::FileAccess);
    assert_eq!(subs[1].sources, ["m365"]);
    assert_eq!(subs[1].tests[0].field, "file_access.operation");
    assert_eq!(subs[1].tests[0].op, MatchOp::Equals);
    assert_eq!(
        subs[1].tests[0].values,
        [
            "FileDownloaded",
            "FileSyncDownloadedFull",
            "FileSyncDownloadedPartial"
        ]
    );
}
