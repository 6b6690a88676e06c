//! Tests of the macOS decoders on the samples written for them
//! (`tests/fixtures/written/macos`), on bad input, and by fuzzing.

use serde_json::Value;

use crate::windows::tests::{decode_all, fixture};
use crate::{DecodeContext, Format, Output};

fn written(name: &str) -> Vec<u8> {
    fixture(&format!("written/macos/{name}"))
}

fn ctx() -> DecodeContext {
    DecodeContext {
        host: Some("alice-mbp".into()),
        ..Default::default()
    }
}

/// Counts by name.
type Tally = Vec<(String, u64)>;

fn counts(out: &Output) -> (Tally, Tally) {
    (
        out.stats
            .by_class
            .iter()
            .map(|(c, n)| (c.as_str().to_owned(), *n))
            .collect(),
        out.stats
            .skipped
            .iter()
            .map(|(k, n)| (k.clone(), *n))
            .collect(),
    )
}

fn owned(pairs: &[(&str, u64)]) -> Tally {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

fn json(out: &Output) -> Vec<Value> {
    out.events
        .iter()
        .map(|e| serde_json::to_value(e).expect("events serialize"))
        .collect()
}

#[test]
fn eslogger_db_export_scenario() {
    let bytes = written("eslogger_db-export-scenario.jsonl");
    assert_eq!(crate::detect(&bytes), Some(Format::Eslogger));
    let out = decode_all(Format::Eslogger, &bytes, &ctx());
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(
        counts(&out),
        (
            owned(&[("process_start", 5), ("file", 9)]),
            owned(&[
                ("eslogger:close (not modified)", 1),
                ("eslogger:exit", 2),
                ("eslogger:fork", 1),
                ("eslogger:open", 1),
            ])
        )
    );
    let v = json(&out);
    // The Terminal's login shell: /usr/bin/login exec'd zsh.
    assert_eq!(v[0]["process"]["path"], "/bin/zsh");
    assert_eq!(v[0]["process"]["command_line"], "-zsh");
    // exec: the target, not the caller (git, not zsh).
    assert_eq!(v[1]["process"]["path"], "/usr/bin/git");
    assert_eq!(
        v[1]["process"]["args"],
        serde_json::json!(["git", "status"])
    );
    assert_eq!(v[1]["process"]["command_line"], "git status");
    assert_eq!(v[1]["process"]["guid"], "4410:13202");
    assert_eq!(v[1]["process"]["parent_pid"], 3120);
    assert_eq!(v[1]["process"]["cwd"], "/Users/alice/src/website");
    assert_eq!(v[1]["device"]["hostname"], "alice-mbp");
    assert_eq!(v[1]["source"], "eslogger");
    // DBeaver started by launchd via xpcproxy: the parent image is known
    // from launchd's own token only if seen; here it is not.
    let dbeaver = &v[2];
    assert_eq!(dbeaver["process"]["name"], "dbeaver");
    assert_eq!(
        dbeaver["process"]["signing_id"],
        "org.jkiss.dbeaver.core.product"
    );
    assert_eq!(dbeaver["actor"]["uid"], 502);
    assert_eq!(dbeaver["actor"]["effective_uid"], 502);
    assert_eq!(dbeaver["time_iso"], "2025-03-11T09:20:11.509Z");
    // create (existing_file), create (new_path), write, close modified, rename.
    assert_eq!(v[3]["file"]["operation"], "create");
    assert_eq!(
        v[3]["file"]["path"],
        "/Users/alice/Library/DBeaverData/workspace6/.metadata/.lock"
    );
    assert_eq!(
        v[4]["file"]["path"],
        "/Users/alice/Downloads/.orders_export.csv.part"
    );
    assert_eq!(v[5]["file"]["operation"], "write");
    assert_eq!(v[6]["file"]["operation"], "close_modified");
    assert_eq!(v[7]["file"]["operation"], "rename");
    assert_eq!(
        v[7]["file"]["path"],
        "/Users/alice/Downloads/orders_export.csv"
    );
    assert_eq!(
        v[7]["file"]["source_path"],
        "/Users/alice/Downloads/.orders_export.csv.part"
    );
    assert_eq!(v[7]["process"]["name"], "dbeaver");
    assert_eq!(v[7]["actor"]["uid"], 502);
    // psql: parent is the Terminal shell, whose image an earlier exec
    // message showed (zsh).
    let psql = &v[8];
    assert_eq!(psql["process"]["name"], "psql");
    assert_eq!(psql["process"]["parent_guid"], "3120:9911");
    assert_eq!(psql["process"]["parent_path"], "/bin/zsh");
    assert_eq!(psql["process"]["args"][0], "psql");
    assert_eq!(v[9]["file"]["path"], "/Users/alice/Downloads/customers.csv");
    assert_eq!(v[11]["file"]["operation"], "close_modified");
    assert_eq!(
        v[11]["file"]["path"],
        "/Users/alice/Downloads/customers.csv"
    );
    // The root daemon: auid unset → no uid, euid 0.
    let md = v.last().expect("events");
    assert!(md["actor"].get("uid").is_none(), "{md}");
    assert_eq!(md["actor"]["effective_uid"], 0);
    // Ids: global_seq_num:mach_time, unique.
    let mut ids: Vec<&str> = v.iter().map(|e| e["id"].as_str().expect("id")).collect();
    assert!(ids[1].starts_with("7341:"), "{}", ids[1]);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), v.len());
}

#[test]
fn eslogger_variants_and_bad_input() {
    let bytes = written("eslogger_db-export-scenario.jsonl");
    let text = String::from_utf8(bytes).expect("utf-8");
    let exec = text.lines().nth(11).expect("psql exec");
    // Jamf's renames: glob_seq_num and a host object.
    let jamf = exec
        .replacen("\"global_seq_num\"", "\"glob_seq_num\"", 1)
        .replacen(
            "{",
            "{\"host\":{\"hostname\":\"MacBookPro\",\"os\":\"14.5\"},",
            1,
        );
    let out = decode_all(Format::Eslogger, jamf.as_bytes(), &ctx());
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let v = json(&out);
    assert_eq!(v[0]["device"]["hostname"], "MacBookPro");
    assert!(v[0]["id"].as_str().expect("id").starts_with("7351:"));
    // No global sequence number: name:seq_num:mach_time.
    let no_global = exec.replacen("\"global_seq_num\"", "\"other_num\"", 1);
    let out = decode_all(Format::Eslogger, no_global.as_bytes(), &ctx());
    assert!(
        json(&out)[0]["id"]
            .as_str()
            .expect("id")
            .starts_with("exec:")
    );
    // AUTH messages are skipped.
    let auth = exec.replacen("\"action_type\":1", "\"action_type\":0", 1);
    let out = decode_all(Format::Eslogger, auth.as_bytes(), &ctx());
    assert_eq!(out.stats.skipped.get("eslogger:auth"), Some(&1));

    let kinds = |input: &[u8]| {
        let out = decode_all(Format::Eslogger, input, &ctx());
        (
            out.stats.normalized,
            out.errors.iter().map(|e| e.kind).collect::<Vec<_>>(),
        )
    };
    let cut = &exec[..exec.len() / 3];
    assert_eq!(
        kinds(format!("{exec}\n{cut}").as_bytes()),
        (1, vec!["truncated JSON"])
    );
    assert_eq!(
        kinds(b"{\"event\":{\"exec\":{}},\"time\":\"2025-01-01T00:00:00Z\"}\n"),
        (0, vec!["missing field"])
    );
    assert_eq!(
        kinds(b"{\"event\":{\"write\":{\"target\":{\"path\":\"/x\"}}}}\n"),
        (0, vec!["missing time"])
    );
    assert_eq!(
        kinds(b"{\"event\":{\"write\":{\"target\":{\"path\":\"/x\"}}},\"time\":\"soon\"}\n"),
        (0, vec!["invalid time"])
    );
    assert_eq!(kinds(b"not json\n"), (0, vec!["invalid JSON"]));
    assert_eq!(kinds(b"{\"event\":{}}\n"), (0, vec!["missing field"]));
    let mut latin1 = exec.as_bytes().to_vec();
    let at = latin1.windows(4).position(|w| w == b"psql").expect("psql");
    latin1[at] = 0xE9;
    assert_eq!(kinds(&latin1), (0, vec!["invalid JSON"]));
    // A 10 MB line is refused by the reader; the next record is kept.
    let huge = format!(
        "{{\"event\":{{\"write\":{{\"target\":{{\"path\":\"{}\"}}}}}}}}",
        "a".repeat(10 << 20)
    );
    let out = decode_all(
        Format::Eslogger,
        format!("{huge}\n{exec}\n").as_bytes(),
        &ctx(),
    );
    assert_eq!(out.stats.normalized, 1);
    assert_eq!(
        out.errors.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec!["line too long"]
    );
    // Pretty-printed (jq .) messages are read too.
    let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(exec).expect("json"))
        .expect("pretty");
    assert_eq!(kinds(pretty.as_bytes()), (1, vec![]));
}

#[test]
fn unified_log_ndjson_scenario() {
    let bytes = written("unified-log_ndjson_db-export-scenario.ndjson");
    assert_eq!(crate::detect(&bytes), Some(Format::UnifiedLog));
    let out = decode_all(Format::UnifiedLog, &bytes, &ctx());
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(
        counts(&out),
        (
            owned(&[("process_start", 6)]),
            owned(&[
                ("trailer", 1),
                ("unified-log:no process", 1),
                ("unified-log:seen process", 3),
            ])
        )
    );
    let v = json(&out);
    let names: Vec<&str> = v
        .iter()
        .map(|e| e["process"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "launchd",
            "TablePlus",
            "runningboardd",
            "dbeaver",
            "psql",
            "bird"
        ]
    );
    // launchd's userID fill pattern is not a user.
    assert!(v[0].get("actor").is_none(), "{}", v[0]);
    // The RunningBoard launch: the app, its pid and user.
    assert_eq!(
        v[1]["process"]["path"],
        "/Applications/TablePlus.app/Contents/MacOS/TablePlus"
    );
    assert_eq!(v[1]["process"]["pid"], 5301);
    assert_eq!(v[1]["actor"]["uid"], 502);
    assert!(
        v[1]["id"]
            .as_str()
            .expect("id")
            .starts_with("launch:6D3F1B52-9A0E-4C7B-B1F4-2E5C8A7D9013:5301:")
    );
    // First log line of DBeaver and psql.
    assert_eq!(v[3]["process"]["pid"], 5012);
    assert_eq!(v[3]["actor"]["uid"], 502);
    assert!(v[3]["id"].as_str().expect("id").starts_with("first-log:"));
    assert_eq!(v[3]["time_iso"], "2025-03-11T09:20:11.633Z");
    assert_eq!(
        v[4]["process"]["path"],
        "/opt/homebrew/Cellar/libpq/17.2/bin/psql"
    );
    assert_eq!(v[4]["device"]["hostname"], "alice-mbp");
}

#[test]
fn unified_log_json_array_style() {
    let bytes = written("unified-log_json_db-tools.json");
    assert_eq!(crate::detect(&bytes), Some(Format::UnifiedLog));
    let out = decode_all(Format::UnifiedLog, &bytes, &DecodeContext::default());
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(
        counts(&out),
        (
            owned(&[("process_start", 2)]),
            owned(&[("unified-log:seen process", 2)])
        )
    );
    let v = json(&out);
    // LaunchServices names the bundle only: the app's name is the bundle's.
    assert_eq!(v[0]["process"]["path"], "/Applications/DBeaver.app");
    assert_eq!(v[0]["process"]["name"], "DBeaver");
    assert_eq!(v[0]["process"]["pid"], 7731);
    assert_eq!(v[0]["actor"]["uid"], 503);
    assert_eq!(v[0]["time_iso"], "2024-11-02T13:03:11.870Z");
    // mysql without userID.
    assert_eq!(v[1]["process"]["name"], "mysql");
    assert!(v[1].get("actor").is_none());
}

#[test]
fn unified_log_bad_input() {
    let bytes = written("unified-log_json_db-tools.json");
    let text = String::from_utf8(bytes).expect("utf-8");
    let kinds = |input: &[u8]| {
        let out = decode_all(Format::UnifiedLog, input, &DecodeContext::default());
        (
            out.stats.normalized,
            out.errors.iter().map(|e| e.kind).collect::<Vec<_>>(),
        )
    };
    // The array cut off inside its third element: two records kept.
    let cut = &text[..text.find("JLI").expect("third record")];
    assert_eq!(kinds(cut.as_bytes()), (1, vec!["truncated JSON"]));
    // Cut between elements: the array never closes.
    let between = &text[..text.rfind("},{").expect("separator") + 1];
    assert_eq!(kinds(between.as_bytes()), (1, vec!["truncated JSON"]));
    // A bad timestamp and a record without one.
    let ndjson =
        String::from_utf8(written("unified-log_ndjson_db-export-scenario.ndjson")).expect("utf-8");
    let line = ndjson.lines().nth(4).expect("dbeaver line");
    let bad = line.replace("2025-03-11 05:20:11.633049-0400", "11/03/2025");
    assert_eq!(kinds(bad.as_bytes()), (0, vec!["invalid time"]));
    assert_eq!(
        kinds(b"{\"eventMessage\":\"x\",\"processID\":5}\n"),
        (0, vec!["missing time"])
    );
    assert_eq!(
        kinds(b"{\"eventMessage\":\"x\"\n"),
        (0, vec!["truncated JSON"])
    );
}

#[test]
fn unified_log_seen_memory_is_bounded() {
    use std::fmt::Write as _;
    // More distinct processes than the memory holds, then the first again:
    // it is reported a second time (forgotten), memory stayed bounded.
    let n = crate::macos::unified_log::SEEN_CAPACITY + 10;
    let mut input = String::new();
    for pid in 1..=n {
        let _ = writeln!(
            input,
            "{{\"timestamp\":\"2025-01-01 00:00:00.000000+0000\",\"processID\":{pid},\"processImagePath\":\"/bin/p\",\"eventMessage\":\"m\"}}"
        );
    }
    input.push_str("{\"timestamp\":\"2025-01-01 00:00:01.000000+0000\",\"processID\":1,\"processImagePath\":\"/bin/p\",\"eventMessage\":\"m\"}\n");
    input.push_str(&format!("{{\"timestamp\":\"2025-01-01 00:00:01.000000+0000\",\"processID\":{n},\"processImagePath\":\"/bin/p\",\"eventMessage\":\"m\"}}\n"));
    let out = decode_all(
        Format::UnifiedLog,
        input.as_bytes(),
        &DecodeContext::default(),
    );
    assert_eq!(out.stats.normalized, n as u64 + 1);
    assert_eq!(out.stats.skipped.get("unified-log:seen process"), Some(&1));
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    fn run(format: Format, lines: &[Vec<u8>]) {
        let mut dec = format.decoder(&DecodeContext::default());
        let mut out = Output::default();
        for (i, l) in lines.iter().enumerate() {
            let pos = crate::RecordPos {
                line: i as u64 + 1,
                offset: 0,
            };
            dec.push(l, pos, &mut out);
        }
        dec.finish(&mut out);
        assert!(dec.oldest_pending().is_none());
    }

    fn mangled(name: &'static str) -> impl Strategy<Value = Vec<Vec<u8>>> {
        let text = String::from_utf8(written(name)).expect("utf-8");
        let lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
        proptest::collection::vec(
            (0..lines.len(), 0usize..3000, any::<u8>(), any::<bool>()),
            1..40,
        )
        .prop_map(move |edits| {
            edits
                .into_iter()
                .map(|(i, cut, byte, garble)| {
                    let mut l = lines[i].clone();
                    if garble && !l.is_empty() {
                        let at = cut % l.len();
                        l[at] = byte;
                    } else {
                        l.truncate(cut.min(l.len()));
                    }
                    l
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn eslogger_never_panics(lines in mangled("eslogger_db-export-scenario.jsonl")) {
            run(Format::Eslogger, &lines);
        }

        #[test]
        fn unified_log_never_panics(lines in mangled("unified-log_json_db-tools.json")) {
            run(Format::UnifiedLog, &lines);
        }

        #[test]
        fn ndjson_never_panics(lines in mangled("unified-log_ndjson_db-export-scenario.ndjson")) {
            run(Format::UnifiedLog, &lines);
        }

        #[test]
        fn launch_parser_never_panics(msg in ".{0,200}") {
            let _ = super::super::unified_log::launch_probe(&msg);
        }

        #[test]
        fn arbitrary_bytes_never_panic(lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..20)) {
            run(Format::Eslogger, &lines);
            run(Format::UnifiedLog, &lines);
        }
    }
}
