//! Configuration: the manifest and README agree, defaults are valid, every
//! problem is reported at once, subscriptions are tight.

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{texts, tunable};
use dumpwatch_sdk::types::*;

use crate::An0677;
use crate::config::Config;
use crate::manifest;

/// Subscription fields of docs/contract.md this analytic may use.
const CONTRACT_FIELDS: &[&str] = &[
    "device.hostname",
    "process.name",
    "process.parent_name",
    "process.command_line",
    "file.name",
    "file.path",
    "dst.ip",
    "dst.port",
    "network.bytes_out",
    "name.name",
];

#[test]
fn manifest_declares_every_tunable_and_the_readme_documents_it() {
    let manifest = An0677::default().manifest();
    assert_eq!(manifest.id, "AN0677");
    assert_eq!(manifest.strategy.as_deref(), Some("DET0242"));
    let names: Vec<&str> = manifest.tunables.iter().map(|t| t.name.as_str()).collect();
    for mitre in [
        "KnownDBToolPaths",
        "ExportExtensionPatterns",
        "MaxTransferVolume",
    ] {
        assert!(names.contains(&mitre), "{mitre}");
    }
    assert!(
        manifest.tunables.iter().all(|t| t.description.len() > 60),
        "every tunable is documented"
    );
    let readme = include_str!("../../README.md");
    for name in &names {
        assert!(readme.contains(&format!("`{name}`")), "README lacks {name}");
    }
    // And the README documents nothing the manifest lacks.
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
    assert_eq!(config.max_transfer, 20_000_000);
    assert_eq!(config.connection_threshold, 1);
    assert!(config.db_tools.contains("SQLCMD.EXE") && config.db_tools.contains("bcp.exe"));
    assert!(
        !config.db_tools.contains("sqlcmd"),
        "entries with .exe need it"
    );
    assert!(config.known_paths.matches(
        r"D:\Program Files\Microsoft SQL Server\Client SDK\ODBC\170\Tools\Binn\SQLCMD.EXE"
    ));
    assert!(
        !config
            .known_paths
            .matches(r"C:\Users\x\Downloads\sqlcmd.exe")
    );
    assert!(
        config.odd_parents.matches("PowerShell.exe") && config.web_servers.matches("tomcat9.exe")
    );
    assert!(
        config
            .export_locations
            .matches(r"C:\Users\x\AppData\Local\Temp\a.csv")
    );
    assert!(config.export_locations.matches(r"c:\windows\temp\a.csv"));
    assert!(!config.export_locations.matches(r"D:\Backups\a.bak"));
    assert!(config.export_files.matches("A.BACPAC") && !config.export_files.matches("a.json"));
    assert!(config.cloud.matches("content.dropboxapi.com"));
    assert!(!config.is_allowed("x", None));
}

#[test]
fn bare_tool_names_match_with_and_without_exe() {
    let config =
        Config::from_tunables(&[tunable("DBClientTools", texts(&["sqlcmd", "Bcp.EXE"]))]).unwrap();
    for yes in ["sqlcmd", "SQLCMD.EXE", "bcp.exe", "BCP.EXE"] {
        assert!(config.db_tools.contains(yes), "{yes}");
    }
    assert!(!config.db_tools.contains("bcp"));
    assert_eq!(
        config.db_tools.values(),
        ["sqlcmd", "sqlcmd.exe", "Bcp.EXE"]
    );
}

#[test]
fn every_problem_is_reported_and_the_old_config_stays() {
    let mut a = An0677::default();
    a.configure(vec![tunable("TimeWindow", TunableValue::Integer(120_000))])
        .unwrap();
    let errors = a
        .configure(vec![
            tunable("KnownDBToolPaths", texts(&[r"C:\Program Files\[oops"])),
            tunable("ExportLocations", texts(&["Temp"])),
            tunable("InternalNetworks", texts(&["10.0.0.0/8", "not-a-net"])),
            tunable("TimeWindow", TunableValue::Integer(-1)),
            tunable("DatabasePorts", texts(&["1433", "99999"])),
            tunable("MaxTransferVolume", TunableValue::Integer(0)),
            tunable("EgressConnectionThreshold", TunableValue::Integer(0)),
            tunable(
                "CloudStorageDomains",
                texts(&["dropbox.com", "https://mega.nz/"]),
            ),
            tunable("ArchivePasswordSwitches", texts(&["-p", "p*"])),
            tunable("Bogus", TunableValue::Flag(true)),
        ])
        .unwrap_err();
    let names: Vec<&str> = errors.iter().map(|e| e.tunable.as_str()).collect();
    for expected in [
        "Bogus",
        "KnownDBToolPaths",
        "ExportLocations",
        "InternalNetworks",
        "TimeWindow",
        "DatabasePorts",
        "MaxTransferVolume",
        "EgressConnectionThreshold",
        "CloudStorageDomains",
        "ArchivePasswordSwitches",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {errors:#?}"
        );
    }
    assert!(errors.iter().any(|e| e.message.contains("[oops")));
    assert!(errors.iter().any(|e| e.message.contains("path globs")));
    assert_eq!(
        a.engine().config.window_ms,
        120_000,
        "a rejected set leaves the previous tunables"
    );
}

#[test]
fn subscriptions_are_tight_and_use_contract_fields() {
    let subs = Config::default().subscriptions();
    for sub in &subs {
        assert!(
            !sub.sources.is_empty(),
            "every subscription names its sources"
        );
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
    assert!(names.iter().all(|t| t.op == MatchOp::EqualsNocase));
    assert!(names[0].values.contains(&"sqlcmd.exe".to_string()));
    assert_eq!(
        find(EventClass::ProcessStart, "process.parent_name")[0].values,
        names[0].values
    );
    let line = find(EventClass::ProcessStart, "process.command_line");
    assert_eq!(line[0].values, ["*-p*", "*-hp*", "*--password*"]);
    let files = find(EventClass::File, "file.name");
    assert_eq!(files[0].op, MatchOp::GlobNocase);
    assert!(
        files[0].values.contains(&"*.bak".to_string())
            && files[0].values.contains(&"*.7z".to_string())
    );
    let locations = find(EventClass::File, "file.path");
    assert!(locations[0].values.contains(&r"?:\Users\**".to_string()));
    let network = subs.iter().filter(|s| s.class == EventClass::Network);
    for sub in network {
        assert!(
            sub.tests
                .iter()
                .any(|t| t.field == "dst.ip" && t.op == MatchOp::InCidr && t.negate)
        );
    }
    assert!(find(EventClass::Network, "dst.port")[0].negate);
    assert_eq!(
        find(EventClass::Network, "network.bytes_out")[0].values,
        ["1"]
    );
    let cloud = find(EventClass::Name, "name.name");
    assert_eq!(cloud.len(), 2);
    assert!(
        cloud[0].op == MatchOp::SuffixNocase
            && cloud[0].values.contains(&"dropboxapi.com".to_string())
    );
    // No cloud domains: no name subscriptions at all.
    let config = Config::from_tunables(&[tunable("CloudStorageDomains", texts(&[]))]).unwrap();
    assert!(
        config
            .subscriptions()
            .iter()
            .all(|s| s.class != EventClass::Name)
    );
}
