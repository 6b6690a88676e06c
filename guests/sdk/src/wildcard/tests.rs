use proptest::prelude::*;

use super::Wildcards;

fn list(patterns: &[&str]) -> Wildcards {
    Wildcards::compile(patterns, false).unwrap()
}

#[test]
fn star_crosses_every_character() {
    let arns = list(&[
        "arn:aws:iam::*:role/app-*",
        "arn:aws:sts::*:assumed-role/app-*",
    ]);
    assert!(arns.matches("arn:aws:iam::111122223333:role/app-reader"));
    assert!(arns.matches("arn:aws:sts::111122223333:assumed-role/app-reader/i-0abc"));
    assert!(!arns.matches("arn:aws:iam::111122223333:role/db-maintenance"));
    assert!(!arns.matches("arn:aws:iam::111122223333:user/app-x"));
    let tables = list(&["PROD_DB.CRM.*", "*.*.PAYROLL"]);
    assert!(tables.matches("PROD_DB.CRM.CUSTOMERS"));
    assert!(tables.matches("HR.PUBLIC.PAYROLL"));
    assert!(!tables.matches("HR.PUBLIC.PAYROLL_2024"));
}

#[test]
fn question_marks_and_classes() {
    let keys = list(&["AKIA????????????????", "ASIA[A-Z0-9]*"]);
    assert!(keys.matches("AKIAQXAMPLE5USERKEY1"));
    assert!(!keys.matches("AKIAQXAMPLE5USERKEY"), "one character short");
    assert!(keys.matches("ASIAQXAMPLE7HN4V2C3D"));
    assert!(!keys.matches("ASIA-x"));
    let negated = list(&["v[!0-9]*", "[]x]"]);
    assert!(negated.matches("vx1"));
    assert!(!negated.matches("v1x"));
    assert!(negated.matches("]"));
    assert!(negated.matches("x"));
}

#[test]
fn case_folding_is_optional() {
    let strict = list(&["*SkyDriveSync*"]);
    assert!(strict.matches("Microsoft SkyDriveSync 24.086"));
    assert!(!strict.matches("microsoft skydrivesync 24.086"));
    let folded = Wildcards::compile(&["prod_db.crm.*", "[A-C]X"], true).unwrap();
    assert!(folded.matches("PROD_DB.CRM.CUSTOMERS"));
    assert!(folded.matches("bx"));
    assert_eq!(folded.first_match("Prod_Db.Crm.X"), Some("prod_db.crm.*"));
    assert_eq!(folded.first_match("other"), None);
}

#[test]
fn backtracking_finds_the_right_split() {
    let p = list(&["*a*b?c"]);
    assert!(p.matches("xxaxxbxbyc"));
    assert!(!p.matches("xxaxxbxbc"));
    assert!(list(&["*"]).matches(""));
    assert!(list(&["**"]).matches("anything/at:all"));
    assert!(!list(&["?"]).matches(""));
    assert!(list(&["a*"]).matches("a"));
    assert!(list(&["é*"]).matches("été"));
}

#[test]
fn every_bad_pattern_is_reported() {
    let errors =
        Wildcards::compile(&["ok*", "", "[abc", "x{a,b}", "[z-a]", "  "], false).unwrap_err();
    assert_eq!(errors.len(), 5, "{errors:?}");
    assert!(errors[1].contains("[abc") && errors[1].contains("not closed"));
    assert!(errors[2].contains("alternatives"));
    assert!(errors[3].contains("backwards"));
}

#[test]
fn an_empty_list_matches_nothing() {
    let empty = Wildcards::compile::<&str>(&[], false).unwrap();
    assert!(empty.is_empty());
    assert!(!empty.matches(""));
    assert_eq!(list(&[" a* "]).patterns(), ["a*"]);
}

/// A direct recursive definition of the same language, as an oracle.
fn oracle(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|skip| oracle(rest, &text[skip..])),
        Some(('?', rest)) => !text.is_empty() && oracle(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && oracle(rest, &text[1..]),
    }
}

proptest! {
    #[test]
    fn agrees_with_the_recursive_definition(
        pattern in "[ab*?]{0,8}",
        text in "[ab]{0,10}",
    ) {
        let compiled = Wildcards::compile(&[pattern.as_str()], false);
        if pattern.is_empty() {
            prop_assert!(compiled.is_err());
        } else {
            let p: Vec<char> = pattern.chars().collect();
            let t: Vec<char> = text.chars().collect();
            prop_assert_eq!(compiled.unwrap().matches(&text), oracle(&p, &t));
        }
    }
}

#[test]
fn tunable_sets_read_wildcards_and_report_bad_ones() {
    use crate::tunables::{TunableSet, spec};
    use crate::types::{Tunable, TunableValue};
    let specs = [spec::glob_list(
        "Identities",
        &["arn:aws:iam::*:role/app-*"],
        "…",
    )];
    let mut set = TunableSet::new(&specs, &[]);
    assert!(
        set.wildcards("Identities", false)
            .matches("arn:aws:iam::1:role/app-x")
    );
    assert!(set.finish().is_ok());
    let given = [Tunable {
        name: "Identities".into(),
        value: TunableValue::TextList(vec!["ok".into(), "[bad".into()]),
    }];
    let mut set = TunableSet::new(&specs, &given);
    let _ = set.wildcards("Identities", false);
    let errors = set.finish().unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].tunable, "Identities");
}
