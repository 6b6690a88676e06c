//! Configuration: defaults, validation with every error, subscriptions.

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{texts, tunable};
use dumpwatch_sdk::types::*;

use crate::An0679;
use crate::config::Config;
use crate::manifest;

#[test]
fn manifest_declares_every_tunable_and_the_readme_documents_it() {
    let manifest = An0679::default().manifest();
    assert_eq!(manifest.id, "AN0679");
    assert_eq!(manifest.strategy.as_deref(), Some("DET0242"));
    let names: Vec<&str> = manifest.tunables.iter().map(|t| t.name.as_str()).collect();
    for required in [
        "IAMAccessPatterns",
        "S3ExportThreshold",
        "DBQueryVerbosityThreshold",
    ] {
        assert!(names.contains(&required), "{required}");
    }
    assert!(manifest.tunables.iter().all(|t| t.description.len() > 60));
    let readme = include_str!("../../README.md");
    for name in names {
        assert!(readme.contains(&format!("`{name}`")), "README lacks {name}");
    }
    let techniques: Vec<String> = manifest
        .attacks
        .iter()
        .map(|a| a.sub_technique_id.clone().unwrap_or(a.technique_id.clone()))
        .collect();
    assert_eq!(techniques, ["T1213.006", "T1567.002", "T1048", "T1537"]);
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
    assert_eq!(config.window_ms, 3_600_000);
    assert_eq!(config.export_window_ms, 300_000);
    assert_eq!(config.export_bytes, 100_000_000);
    assert_eq!(config.flow_bytes, 20_000_000);
    assert_eq!(config.verbosity, 1000);
    assert!(config.databases.is_empty());
    assert!(config.export_files.matches("dumps/Orders.CSV"));
    assert!(config.export_files.matches("a/b/c.sql.gz"));
    assert!(!config.export_files.matches("logo.png"));
    assert!(
        config
            .identities
            .allows(
                Some("arn:aws:sts::1:assumed-role/AWSServiceRoleForRDS/x"),
                Some("arn:aws:iam::1:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS"),
                None
            )
            .is_some()
    );
}

#[test]
fn every_problem_is_reported_and_the_old_config_stays() {
    let mut a = An0679::default();
    a.configure(vec![tunable(
        "TimeWindow",
        TunableValue::Integer(7_200_000),
    )])
    .unwrap();
    let errors = a
        .configure(vec![
            tunable(
                "IAMAccessPatterns",
                texts(&["arn:aws:iam::*:role/[oops", "AKIA{x}"]),
            ),
            tunable(
                "DatabaseNetworks",
                texts(&[
                    "10.0.0.0/33",
                    "cluster=10.0.0.0/8",
                    "arn:aws:rds:x=10.1.0.0/16",
                ]),
            ),
            tunable("InternalNetworks", texts(&["nope"])),
            tunable("ExportFilePatterns", texts(&["[x"])),
            tunable("TimeWindow", TunableValue::Integer(-5)),
            tunable("ExportWindow", TunableValue::Integer(-1)),
            tunable("S3ExportThreshold", TunableValue::Integer(0)),
            tunable("FlowBytesThreshold", TunableValue::Integer(-3)),
            tunable("DBQueryVerbosityThreshold", TunableValue::Integer(0)),
            tunable("DataApiOperations", texts(&[])),
            tunable("Bogus", TunableValue::Flag(true)),
        ])
        .unwrap_err();
    let count = |name: &str| errors.iter().filter(|e| e.tunable == name).count();
    assert_eq!(count("IAMAccessPatterns"), 2, "{errors:?}");
    assert_eq!(count("DatabaseNetworks"), 2, "{errors:?}");
    for name in [
        "InternalNetworks",
        "ExportFilePatterns",
        "TimeWindow",
        "ExportWindow",
        "S3ExportThreshold",
        "FlowBytesThreshold",
        "DBQueryVerbosityThreshold",
        "DataApiOperations",
        "Bogus",
    ] {
        assert!(count(name) >= 1, "{name} missing from {errors:?}");
    }
    assert_eq!(
        a.engine().config.window_ms,
        7_200_000,
        "the previous tunables stay"
    );
}

#[test]
fn export_window_longer_than_the_time_window_is_refused() {
    let errors = Config::from_tunables(&[
        tunable("TimeWindow", TunableValue::Integer(60_000)),
        tunable("ExportWindow", TunableValue::Integer(120_000)),
    ])
    .unwrap_err();
    assert_eq!(errors[0].tunable, "ExportWindow");
}

#[test]
fn database_networks_map_addresses_to_clusters_most_specific_first() {
    let config = Config::from_tunables(&[tunable(
        "DatabaseNetworks",
        texts(&[
            "10.0.0.0/8",
            "arn:aws:rds:us-east-1:1:cluster:a=10.0.1.0/24",
            "10.0.1.7",
        ]),
    )])
    .unwrap();
    let of = |ip: &str| {
        config
            .database_of(ip.parse().unwrap())
            .map(|d| d.cluster.clone())
    };
    assert_eq!(
        of("10.0.1.7"),
        Some(None),
        "the single address is most specific"
    );
    assert_eq!(
        of("10.0.1.8"),
        Some(Some("arn:aws:rds:us-east-1:1:cluster:a".into()))
    );
    assert_eq!(of("10.9.9.9"), Some(None));
    assert_eq!(
        of("::ffff:10.0.1.8"),
        Some(Some("arn:aws:rds:us-east-1:1:cluster:a".into()))
    );
    assert_eq!(of("192.168.0.1"), None);
}

#[test]
fn subscriptions_are_tight() {
    let subs = Config::default().subscriptions();
    assert_eq!(
        subs.len(),
        3,
        "no flow subscription without DatabaseNetworks"
    );
    for sub in &subs {
        assert_eq!(sub.class, EventClass::CloudApi);
        assert_eq!(sub.sources, ["cloudtrail"]);
        let error = sub.tests.iter().find(|t| t.field == "cloud.error").unwrap();
        assert!(error.negate && error.op == MatchOp::Exists);
        assert!(
            sub.tests
                .iter()
                .any(|t| t.field == "cloud.service" && t.op == MatchOp::Equals)
        );
        assert!(
            sub.tests
                .iter()
                .any(|t| t.field == "cloud.operation" && t.op == MatchOp::Equals)
        );
    }
    assert!(
        subs[0].tests[1]
            .values
            .contains(&"BatchExecuteStatement".to_string())
    );
    assert!(subs[1].tests[1].values.contains(&"UploadPart".to_string()));
    assert!(
        subs[2].tests[1]
            .values
            .contains(&"ModifyDBClusterSnapshotAttribute".to_string())
    );
    let config = Config::from_tunables(&[tunable(
        "DatabaseNetworks",
        texts(&["arn:aws:rds:us-east-1:1:cluster:a=10.0.1.0/24"]),
    )])
    .unwrap();
    let subs = config.subscriptions();
    let flow = subs
        .iter()
        .find(|s| s.class == EventClass::Network)
        .unwrap();
    assert_eq!(flow.sources, ["vpc-flow"]);
    assert_eq!(flow.tests[0].field, "src.ip");
    assert_eq!(flow.tests[0].values, ["10.0.1.0/24"]);
    assert!(flow.tests[1].field == "dst.ip" && flow.tests[1].negate);
}
