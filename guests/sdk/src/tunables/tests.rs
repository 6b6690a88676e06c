use super::{TunableSet, spec};
use crate::types::{Tunable, TunableSpec, TunableValue};

fn specs() -> Vec<TunableSpec> {
    vec![
        spec::flag("Enabled", true, "on/off"),
        spec::integer("MaxOpenWindows", 1000, "cap"),
        spec::duration("TimeWindow", 600_000, "window"),
        spec::bytes("Threshold", 1_000_000, "bytes"),
        spec::text("Mode", "strict", "mode"),
        spec::text_list("Users", &["postgres"], "users"),
        spec::glob_list("Files", &["*.sql", "/home/**"], "files"),
        spec::cidr_list("Internal", &["10.0.0.0/8"], "nets"),
        spec::text_list("Windows", &[], "automation windows"),
        spec::text_list("Ports", &["5432"], "ports"),
    ]
}

fn given(pairs: Vec<(&str, TunableValue)>) -> Vec<Tunable> {
    pairs
        .into_iter()
        .map(|(name, value)| Tunable {
            name: name.to_string(),
            value,
        })
        .collect()
}

fn list(items: &[&str]) -> TunableValue {
    TunableValue::TextList(items.iter().map(|s| s.to_string()).collect())
}

#[test]
fn defaults_fill_what_is_not_given() {
    let specs = specs();
    let mut set = TunableSet::new(&specs, &[]);
    assert!(set.flag("Enabled"));
    assert_eq!(set.integer("MaxOpenWindows", 1, 10_000), 1000);
    assert_eq!(set.duration_ms("TimeWindow"), 600_000);
    assert_eq!(set.bytes("Threshold"), 1_000_000);
    assert_eq!(set.text("Mode"), "strict");
    assert_eq!(set.text_list("Users"), ["postgres"]);
    assert!(set.glob_list("Files", false).matches("/srv/x.sql"));
    assert!(
        set.cidr_list("Internal")
            .contains("10.9.9.9".parse().unwrap())
    );
    assert!(set.schedule("Windows").is_empty());
    assert_eq!(set.port_list("Ports"), [5432]);
    assert!(set.finish().is_ok());
}

#[test]
fn configured_values_win() {
    let specs = specs();
    let given = given(vec![
        ("TimeWindow", TunableValue::Integer(60_000)),
        ("Users", list(&[" alice ", "1001"])),
        ("Files", list(&["*.bak"])),
        ("Windows", list(&["Mon-Fri 01:00-03:00"])),
        ("Ports", list(&["3306", "5432", "3306"])),
    ]);
    let mut set = TunableSet::new(&specs, &given);
    assert_eq!(set.duration_ms("TimeWindow"), 60_000);
    assert_eq!(set.text_list("Users"), ["alice", "1001"]);
    let files = set.glob_list("Files", false);
    assert!(files.matches("/x.bak") && !files.matches("/x.sql"));
    assert!(!set.schedule("Windows").is_empty());
    assert_eq!(set.port_list("Ports"), [3306, 5432]);
    assert!(set.finish().is_ok());
}

#[test]
fn every_problem_is_collected() {
    let specs = specs();
    let given = given(vec![
        ("TimeWindow", TunableValue::Integer(-5)),
        ("Threshold", TunableValue::Text("big".into())),
        ("Files", list(&["*.sql", "[oops", "{a,b"])),
        ("Internal", list(&["10.0.0.0/8", "10.0.0.0/40"])),
        ("Windows", list(&["Someday 01:00-02:00"])),
        ("Ports", list(&["5432", "http", "70000"])),
        ("MaxOpenWindows", TunableValue::Integer(0)),
        ("Nonsense", TunableValue::Flag(true)),
        ("Users", list(&["ok", "  "])),
    ]);
    let mut set = TunableSet::new(&specs, &given);
    let window = set.duration_ms("TimeWindow");
    let threshold = set.bytes("Threshold");
    let files = set.glob_list("Files", false);
    let internal = set.cidr_list("Internal");
    set.schedule("Windows");
    set.port_list("Ports");
    let max = set.integer("MaxOpenWindows", 1, 10_000);
    let users = set.text_list("Users");
    // Invalid values fall back to the defaults so reading can go on.
    assert_eq!((window, threshold, max), (600_000, 1_000_000, 1000));
    assert!(files.matches("/home/a/b") && internal.contains("10.1.1.1".parse().unwrap()));
    assert_eq!(users, ["postgres"]);
    let errors = set.finish().unwrap_err();
    let names: Vec<&str> = errors.iter().map(|e| e.tunable.as_str()).collect();
    assert_eq!(
        names,
        [
            "Nonsense",
            "TimeWindow",
            "Threshold",
            "Files",
            "Files",
            "Internal",
            "Windows",
            "Ports",
            "Ports",
            "MaxOpenWindows",
            "Users"
        ],
        "{errors:?}"
    );
    assert!(errors[1].message.contains("negative"), "{errors:?}");
    assert!(errors[3].message.contains("[oops"), "{errors:?}");
    assert!(errors[5].message.contains("10.0.0.0/40"), "{errors:?}");
}

#[test]
fn duplicates_and_undeclared_reads_are_errors() {
    let specs = specs();
    let given = given(vec![
        ("Mode", TunableValue::Text("a".into())),
        ("Mode", TunableValue::Text("b".into())),
    ]);
    let mut set = TunableSet::new(&specs, &given);
    assert_eq!(set.text("Mode"), "a");
    set.flag("NotDeclared");
    let errors = set.finish().unwrap_err();
    assert_eq!(errors.len(), 2);
    assert!(errors[0].message.contains("more than once"));
    assert!(errors[1].message.contains("not declared"));
}

#[test]
fn single_text_counts_as_list_of_one() {
    let specs = specs();
    let given = given(vec![("Users", TunableValue::Text("bob".into()))]);
    let mut set = TunableSet::new(&specs, &given);
    assert_eq!(set.text_list("Users"), ["bob"]);
    assert!(set.finish().is_ok());
}
