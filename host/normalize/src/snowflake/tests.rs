use std::io::BufReader;

use dumpwatch_event::{Activity, DatastoreQuery, Event, EventClass};
use proptest::prelude::*;

use super::row::{Value, timestamp};
use super::*;
use crate::reader::{Line, LineReader};

fn decode(bytes: &[u8]) -> Output {
    let mut dec = SnowflakeDecoder::new(&DecodeContext::default());
    let mut out = Output::default();
    let mut lines = LineReader::new(BufReader::new(bytes), crate::reader::DEFAULT_MAX_LINE);
    while let Some(line) = lines.next_line().expect("in-memory read") {
        match line {
            Line::Data(l, pos) => dec.push(l, pos, &mut out),
            Line::TooLong { pos, .. } => out.error(pos, "line too long", "test input"),
        }
    }
    dec.finish(&mut out);
    out
}

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/../../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn query(ev: &Event) -> &DatastoreQuery {
    match &ev.activity {
        Activity::Query(q) => q,
        other => panic!("not a query: {other:?}"),
    }
}

/// The written CSV and JSON exports hold the same rows and must give the
/// same events.
#[test]
fn csv_and_json_exports_give_the_same_events() {
    let csv_file = "written/snowflake/query_history_unload_with-header.csv";
    let json_file = "written/snowflake/query_history_object-construct.jsonl";
    let csv = decode(&fixture(csv_file));
    let json = decode(&fixture(json_file));
    for out in [&csv, &json] {
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.stats.by_class.get(&EventClass::Query), Some(&7));
    }
    assert_eq!(csv.events, json.events);
    assert_eq!(crate::detect(&fixture(csv_file)), Some(Format::Snowflake));
    assert_eq!(crate::detect(&fixture(json_file)), Some(Format::Snowflake));

    let ev = &csv.events[1];
    assert_eq!(ev.id, "01b2c3d4-0604-8f2e-0000-4b5d00a1c2f2");
    assert_eq!(ev.source, "snowflake");
    assert_eq!(ev.time, 1_706_176_872_123); // 2024-01-25 02:01:12.123 -0800
    assert_eq!(ev.actor.user.as_deref(), Some("JSMITH"));
    assert_eq!(ev.actor.groups, ["ANALYST"]);
    let q = query(ev);
    assert_eq!(q.system, "snowflake");
    assert_eq!(
        q.text.as_deref(),
        Some("SELECT *\nFROM PROD_DB.CRM.CUSTOMERS\n-- full pull for \"ad hoc\" review\n;")
    );
    assert_eq!(q.query_type.as_deref(), Some("SELECT"));
    assert_eq!(q.database.as_deref(), Some("PROD_DB"));
    assert_eq!(q.schema.as_deref(), Some("CRM"));
    assert_eq!(q.warehouse.as_deref(), Some("ANALYST_WH"));
    assert_eq!(q.rows, Some(48_211_377));
    assert_eq!(q.bytes_scanned, Some(18_874_368_000));
    assert_eq!(
        q.template_hash.as_deref(),
        Some("5d41402abc4b2a76b9719d911017c592")
    );
    assert_eq!(q.template_hash_version.as_deref(), Some("1"));
    assert_eq!(q.status.as_deref(), Some("SUCCESS"));
    assert_eq!(q.end_time, Some(1_706_177_027_880));
    // The two per-region reruns share their parameterized hash.
    assert_eq!(
        query(&csv.events[2]).template_hash,
        query(&csv.events[3]).template_hash
    );
    // A NULL ROWS_PRODUCED and a failed query.
    let failed = query(&csv.events[5]);
    assert_eq!(failed.status.as_deref(), Some("FAIL"));
    assert_eq!(failed.rows, None);
    // No USE'd database: absent, not "".
    assert_eq!(query(&csv.events[0]).database, None);
}

#[test]
fn header_in_any_case_and_column_order() {
    let input = "query_text,Start_Time,query_id,user_name,role_name,rows_produced\n\
                 \"select *\r\nfrom t\",2024-01-25T18:11:12Z,q1,ALICE,R,\"10\"\n\
                 ,1706206272,q2,,,\n\
                 x,1706206272123,q3,,,\\N\n";
    let out = decode(input.as_bytes());
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let times: Vec<i64> = out.events.iter().map(|e| e.time).collect();
    assert_eq!(
        times,
        [1_706_206_272_000, 1_706_206_272_000, 1_706_206_272_123]
    );
    // The line reader drops the CR of CRLF, inside quotes too.
    assert_eq!(
        query(&out.events[0]).text.as_deref(),
        Some("select *\nfrom t")
    );
    assert_eq!(query(&out.events[0]).rows, Some(10));
    assert_eq!(out.events[1].actor.groups, Vec::<String>::new());
    assert_eq!(query(&out.events[2]).rows, None);
}

#[test]
fn time_forms() {
    let text = |s: &str| timestamp(&Value::Text(s.into()));
    let t = 1_706_206_272_123; // 2024-01-25T18:11:12.123Z
    assert_eq!(text("2024-01-25 10:11:12.123 -0800"), Some(t));
    assert_eq!(text("2024-01-25 18:11:12.123000000 +0000"), Some(t));
    assert_eq!(text("2024-01-25 19:11:12.123 +01:00"), Some(t));
    assert_eq!(text("2024-01-25T18:11:12.123Z"), Some(t));
    assert_eq!(text("2024-01-25 18:11:12.123"), Some(t));
    assert_eq!(text("1706206272.123"), Some(t));
    assert_eq!(text("1706206272123"), Some(t));
    assert_eq!(timestamp(&Value::Unsigned(1_706_206_272_123_000)), Some(t));
    assert_eq!(
        timestamp(&Value::Unsigned(1_706_206_272_123_000_000)),
        Some(t)
    );
    assert_eq!(timestamp(&Value::Float(1_706_206_272.123)), Some(t));
    assert_eq!(text("Thu, 25 Jan 2024"), None);
    assert_eq!(text("1e9"), None);
    assert_eq!(text(""), None);
}

#[test]
fn bad_input_is_counted() {
    let input = b"no,header,here\n\
        QUERY_ID,START_TIME,ROWS_PRODUCED\n\
        q1,2024-01-25 10:11:12.123 -0800,5\n\
        q2,2024-01-25 10:11:12.123 -0800\n\
        q3,yesterday,5\n\
        ,2024-01-25 10:11:12.123 -0800,5\n\
        q5,2024-01-25 10:11:12.123 -0800,many\n\
        q6,,1\n\
        q\xff,2024-01-25 10:11:12.123 -0800,5\n\
        q8,2024-01-25 10:11:12.123 -0800,8\n\
        q9,\"2024-01-25 10:11:12.123 -0800,9\n\
        q10,2024-01-25 10:11:12.123 -0800,10\n";
    let out = decode(input);
    let ids: Vec<&str> = out.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["q1", "q8"]);
    let kinds: Vec<(u64, &str)> = out.errors.iter().map(|e| (e.pos.line, e.kind)).collect();
    assert_eq!(
        kinds,
        [
            (1, "missing header"),
            (4, "wrong column count"),
            (5, "invalid time"),
            (6, "missing field"),
            (7, "invalid field"),
            (8, "missing time"),
            (9, "invalid field"),
            (11, "truncated CSV"),
        ]
    );
    // JSON: malformed, truncated, wrong types.
    let json = "{\"QUERY_ID\":\"a\",\"START_TIME\":\"2024-01-25 10:11:12 -0800\"}\n\
                {\"QUERY_ID\":\"b\",\"START_TIME\":{\"x\":1}}\n\
                {\"QUERY_ID\":\"c\",\n\
                {\"query_id\":\"d\",\"start_time\":1706206272,\"ROWS_PRODUCED\":-1}\n\
                {\"QUERY_ID\":\"e\",\"START_TIME\":1706206272,\"ROWS_PRODUCED\":2.0}";
    let out = decode(json.as_bytes());
    let ids: Vec<&str> = out.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["a", "e"]);
    let kinds: Vec<(u64, &str)> = out.errors.iter().map(|e| (e.pos.line, e.kind)).collect();
    assert_eq!(
        kinds,
        [
            (2, "invalid record"),
            (3, "truncated JSON"),
            (4, "invalid field")
        ]
    );
}

#[test]
fn an_unclosed_quote_cannot_swallow_the_input() {
    let mut input = b"QUERY_ID,QUERY_TEXT,START_TIME\nq1,\"select 1".to_vec();
    // 5 MiB of lines inside the open quote, then good rows.
    for _ in 0..(5 << 20) / 64 {
        input.extend_from_slice(&[b'x'; 63]);
        input.push(b'\n');
    }
    let resume = input.len();
    input.extend_from_slice(b"q2,select 2,2024-01-25 10:11:12.123 -0800\n");
    let out = decode(&input);
    assert_eq!(out.errors[0].kind, "record too large");
    assert_eq!(out.errors[0].pos.line, 2);
    // After the give-up, later rows are read again (the remaining lines of
    // the open quote are errors of their own, the good row survives).
    assert!(out.events.iter().any(|e| e.id == "q2"), "{resume}");
}

#[test]
fn a_resumed_decoder_gets_the_header_back_from_its_context() {
    let mut dec = SnowflakeDecoder::new(&DecodeContext::default());
    let mut out = Output::default();
    let pos = |line| RecordPos {
        line,
        offset: line * 100,
    };
    dec.push(b"QUERY_ID,START_TIME,QUERY_TEXT", pos(1), &mut out);
    assert_eq!(
        dec.oldest_pending(),
        None,
        "a header is context, not a pending record"
    );
    dec.push(
        b"q1,2024-01-25 10:11:12.123 -0800,\"select",
        pos(2),
        &mut out,
    );
    assert_eq!(
        dec.oldest_pending(),
        Some(pos(2)),
        "a quoted field spans lines"
    );
    dec.push(b"1\"", pos(3), &mut out);
    assert_eq!(out.stats.normalized, 1);
    assert_eq!(dec.oldest_pending(), None);
    // A fresh decoder fed the context reads the rows after the checkpoint.
    let context = dec.resume_context();
    assert_eq!(context, vec![b"QUERY_ID,START_TIME,QUERY_TEXT".to_vec()]);
    let mut resumed = SnowflakeDecoder::new(&DecodeContext::default());
    let mut out2 = Output::default();
    for line in &context {
        resumed.push(line, pos(0), &mut out2);
    }
    resumed.push(
        b"q2,2024-01-25 10:11:13.000 -0800,select 2",
        pos(4),
        &mut out2,
    );
    assert_eq!(out2.events.len(), 1);
    assert_eq!(out2.events[0].id, "q2");
    assert_eq!(out2.stats.error_count(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Any bytes after a header never panic, and every event has an id and
    /// a time from its row.
    #[test]
    fn arbitrary_csv_never_panics(body in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut input = b"QUERY_ID,START_TIME,QUERY_TEXT\n".to_vec();
        input.extend_from_slice(&body);
        let out = decode(&input);
        for ev in &out.events {
            prop_assert!(!ev.id.is_empty());
        }
    }

    /// Rows written by a CSV writer round-trip, whatever their text.
    #[test]
    fn csv_rows_round_trip(texts in prop::collection::vec("[ -~\n\r\"]{0,40}", 1..10)) {
        let mut input = String::from("QUERY_ID,QUERY_TEXT,START_TIME\n");
        for (i, t) in texts.iter().enumerate() {
            input.push_str(&format!("q{i},\"{}\",1706206272\n", t.replace('"', "\"\"")));
        }
        let out = decode(input.as_bytes());
        prop_assert!(out.errors.is_empty(), "{:?}", out.errors);
        prop_assert_eq!(out.events.len(), texts.len());
        for (ev, t) in out.events.iter().zip(&texts) {
            // A CR before a line break is dropped by the line reader; a
            // field that is `\N` alone is Snowflake's NULL.
            let want = if t == "\\N" { String::new() } else { t.replace("\r\n", "\n") };
            prop_assert_eq!(query(ev).text.as_deref().unwrap_or(""), want);
        }
    }
}

/// The JSON export's lines, one record each, as arrays, and mangled:
/// the cursor's reading gives the same events, errors and counts as
/// serde's.
mod fast_path {
    use super::*;
    use crate::json_stream::differential::{assert_agrees, fast_count};
    use crate::test_support::{fixture_lines, mangled};

    fn lines() -> Vec<Vec<u8>> {
        fixture_lines(&["written/snowflake/query_history_object-construct.jsonl"])
    }

    #[test]
    fn every_row_reads_fast_and_as_serde_reads_it() {
        let lines = lines();
        assert!(lines.len() >= 7, "{} rows", lines.len());
        assert_eq!(fast_count::<JsonRow>(&lines, None), lines.len());
        assert_agrees::<JsonRow>(&lines, None);
        // The same rows as one array on one line.
        let mut array = b"[".to_vec();
        array.extend(lines.join(&b","[..]));
        array.push(b']');
        let array = vec![array];
        assert_eq!(fast_count::<JsonRow>(&array, None), 1);
        assert_agrees::<JsonRow>(&array, None);
    }

    #[test]
    fn values_serde_renders_or_refuses_go_to_serde() {
        for line in [
            r#"{"QUERY_ID":"q","START_TIME":"2024-01-01 00:00:00","ROWS_PRODUCED":-1}"#,
            r#"{"QUERY_ID":"q","START_TIME":"2024-01-01 00:00:00","ROWS_PRODUCED":1.5}"#,
            r#"{"QUERY_ID":"q","START_TIME":1704067200.5}"#,
            r#"{"QUERY_ID":{"a":1},"START_TIME":"2024-01-01 00:00:00"}"#,
            r#"{"QUERY_\u0049D":"q","START_TIME":"2024-01-01 00:00:00"}"#,
        ] {
            let lines = vec![line.as_bytes().to_vec()];
            assert_eq!(fast_count::<JsonRow>(&lines, None), 0, "{line}");
            assert_agrees::<JsonRow>(&lines, None);
        }
        // Read fast: null leaves a cell, a repeat wins, booleans are text,
        // lower-case names are columns.
        let line = br#"{"query_id":"a","QUERY_ID":"b","START_TIME":1704067200,"QUERY_TYPE":true,"USER_NAME":null}"#;
        let lines = vec![line.to_vec()];
        assert_eq!(fast_count::<JsonRow>(&lines, None), 1);
        assert_agrees::<JsonRow>(&lines, None);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn mangled_rows_read_as_serde_reads_them(
            mangled in prop::collection::vec(mangled(lines()), 1..6),
        ) {
            assert_agrees::<JsonRow>(&mangled, None);
        }
    }
}
