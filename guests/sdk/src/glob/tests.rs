use super::*;

fn list(patterns: &[&str]) -> GlobList {
    GlobList::compile(patterns, false).unwrap()
}

#[test]
fn names_and_paths() {
    let list = list(&["*.sql", "backup_*.csv", "/home/**", "/srv/*/dump.bin"]);
    assert_eq!(list.name_patterns(), ["*.sql", "backup_*.csv"]);
    assert_eq!(list.path_patterns(), ["/home/**", "/srv/*/dump.bin"]);
    assert!(list.matches("/tmp/users.sql"));
    assert!(list.matches("users.sql"));
    assert!(list.matches("/var/tmp/backup_2024.csv"));
    assert!(!list.matches("/var/tmp/report.csv"));
    assert!(list.matches("/home/alice/notes.txt"));
    assert!(list.matches("/srv/app/dump.bin"));
    assert!(!list.matches("/srv/app/x/dump.bin"));
    assert!(!list.matches("/tmp/users.sql.bak"));
    assert!(!list.matches("/tmp/USERS.SQL"));
    assert!(!list.matches("/tmp/.sqlx"));
}

#[test]
fn star_stays_in_its_component() {
    let list = list(&["/tmp/*.sql"]);
    assert!(list.matches("/tmp/a.sql"));
    assert!(!list.matches("/tmp/x/a.sql"));
    assert!(list.matches("/tmp/.sql"));
}

#[test]
fn globstar_matches_zero_or_more_components() {
    let list = list(&["/srv/**/dump.sql", "**/exports/*.csv"]);
    assert!(list.matches("/srv/dump.sql"));
    assert!(list.matches("/srv/a/b/c/dump.sql"));
    assert!(!list.matches("/srv/a/b/c/dump.sql.gz"));
    assert!(list.matches("/var/lib/exports/x.csv"));
    assert!(list.matches("exports/x.csv"));
    assert!(!list.matches("/var/lib/exports/sub/x.csv"));
    let home = GlobList::compile(&["/home/**"], false).unwrap();
    assert!(home.matches("/home/a"));
    assert!(!home.matches("/homeless/a"));
    assert!(!home.matches("/var/home/a"));
}

#[test]
fn general_tokens_backtrack() {
    let list = list(&["*a*b?c[0-9][!x]"]);
    assert!(list.matches("zzazzbqc5y"));
    assert!(list.matches("aab_c1z"));
    assert!(!list.matches("aab_c1x"));
    assert!(!list.matches("abc12"));
    let many = GlobList::compile(&["*a*a*a*a*a*b"], false).unwrap();
    assert!(!many.matches(&"a".repeat(200)));
    assert!(many.matches(&format!("{}b", "a".repeat(200))));
}

#[test]
fn classes() {
    let list = list(&["[]x]1", "[!a-c]2", "[^0-9]3", "f[-]4", "g[a-]5"]);
    assert!(list.matches("]1") && list.matches("x1") && !list.matches("y1"));
    assert!(list.matches("d2") && !list.matches("b2"));
    assert!(list.matches("a3") && !list.matches("73"));
    assert!(list.matches("f-4"));
    assert!(list.matches("ga5") && list.matches("g-5") && !list.matches("gb5"));
}

#[test]
fn alternatives_expand() {
    let list = list(&["*.{sql,dump}{,.gz}", "/{srv,opt}/{a,b{1,2}}/x"]);
    for yes in [
        "a.sql",
        "a.dump",
        "a.sql.gz",
        "a.dump.gz",
        "/srv/a/x",
        "/opt/b2/x",
    ] {
        assert!(list.matches(yes), "{yes}");
    }
    for no in ["a.sqlgz", "a.csv", "/srv/b/x", "/usr/a/x"] {
        assert!(!list.matches(no), "{no}");
    }
}

#[test]
fn question_mark_takes_one_character_even_multibyte() {
    let list = list(&["r?sum?.csv"]);
    assert!(list.matches("/d/résumé.csv"));
    assert!(!list.matches("/d/rsum.csv"));
}

#[test]
fn case_insensitive_and_windows_paths() {
    let list = GlobList::compile(&["*.sql", "C:\\Users\\*\\Downloads\\**"], true).unwrap();
    assert_eq!(list.path_patterns().len(), 1);
    assert!(list.matches("C:\\Temp\\USERS.SQL"));
    assert!(list.matches("c:\\users\\Bob\\downloads\\x\\y.zip"));
    assert!(!list.matches("c:\\users\\Bob\\Documents\\y.zip"));
    let classes = GlobList::compile(&["[a-c]x"], true).unwrap();
    assert!(classes.matches("Bx"));
}

#[test]
fn every_bad_pattern_is_reported() {
    let errors =
        GlobList::compile(&["*.sql", "[a-", "", "{x,y", "a}", "[z-a]", "]x"], false).unwrap_err();
    assert_eq!(errors.len(), 6, "{errors:?}");
    assert!(errors[0].contains("[a-"), "{errors:?}");
    assert!(errors[4].contains("reversed"), "{errors:?}");
}

#[test]
fn too_many_alternatives_are_refused() {
    let pattern = "{a,b}".repeat(9);
    assert!(GlobList::compile(&[pattern.as_str()], false).is_err());
}

#[test]
fn file_name_of_paths() {
    assert_eq!(file_name("/a/b/c.sql"), "c.sql");
    assert_eq!(file_name("c.sql"), "c.sql");
    assert_eq!(file_name("C:\\x\\y.bak"), "y.bak");
    assert_eq!(file_name("/a/"), "");
}
