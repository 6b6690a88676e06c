//! AN0680 (SaaS) end to end: Snowflake QUERY_HISTORY exports and
//! Microsoft 365 audit records written here in the shapes the services
//! deliver (and the samples written for the normalizer), replayed through
//! the shipped component.

use dumpwatch_tests::{AuditLog365, QueryHistory, Replay, ms, related_ids, replay, uid};
use proptest::prelude::*;
use serde_json::Value;

const SELECT_ALL: &str =
    "SELECT *\nFROM PROD_DB.CRM.CUSTOMERS\n-- full pull for \"ad hoc\" review\n;";
const JDOE: &str = "jdoe@contoso.com";

fn ours(r: &Replay) -> Vec<Value> {
    let mut out: Vec<Value> = r
        .latest()
        .into_values()
        .filter(|f| f["finding_info"]["analytic"]["uid"] == "AN0680")
        .collect();
    out.sort_by_key(|f| (f["start_time"].as_i64(), uid(f).to_owned()));
    out
}

fn only(r: &Replay) -> Value {
    let all = ours(r);
    assert_eq!(all.len(), 1, "findings: {all:#?}");
    all.into_iter().next().unwrap()
}

fn severity(f: &Value) -> i64 {
    f["severity_id"].as_i64().unwrap()
}

fn legs(f: &Value) -> Vec<String> {
    f["unmapped"]["legs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn techniques(f: &Value) -> Vec<String> {
    f["finding_info"]["attacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["sub_technique"]["uid"]
                .as_str()
                .or(a["technique"]["uid"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn tunables(lines: &str) -> String {
    format!("[analytics.AN0680.tunables]\n{lines}")
}

/// JSMITH pulls the customer table whole, then piece by piece by region.
fn pull(history: &mut QueryHistory) {
    history
        .query(60.0, "q1", "JSMITH", "ANALYST", SELECT_ALL, 48_211_377, 18_874_368_000)
        .query(300.0, "q2", "JSMITH", "ANALYST", "select * from customers where region = 'EMEA'", 11_020_455, 6_291_456_000)
        .query(360.0, "q3", "JSMITH", "ANALYST", "select * from customers where region = 'APAC'", 7_433_019, 4_194_304_000)
        .query(
            480.0,
            "q4",
            "JSMITH",
            "ANALYST",
            "COPY INTO @~/exports/customers_\nFROM (SELECT * FROM PROD_DB.CRM.CUSTOMERS)\nFILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)",
            1,
            18_874_368_000,
        );
}

#[test]
fn bulk_and_repeated_reads_of_a_sensitive_table_are_one_high_finding() {
    let mut history = QueryHistory::new();
    history.query(
        0.0,
        "q0",
        "SVC_DBT",
        "TRANSFORMER",
        "SHOW GRANTS TO ROLE ANALYST",
        14,
        0,
    );
    pull(&mut history);
    let r = replay(&[("query_history.csv", history.render_csv())], "");
    assert_eq!(r.summary.total_errors(), 0);
    let f = only(&r);
    assert_eq!(f["finding_info"]["analytic"]["uid"], "AN0680");
    assert_eq!(legs(&f), ["bulk_read", "repeated_read"]);
    assert_eq!(severity(&f), 4, "medium, +1 for two legs: {f:#}");
    assert_eq!(related_ids(&f), ["q1", "q2", "q3", "q4"]);
    assert_eq!(f["start_time"], ms(60.0));
    assert_eq!(f["end_time"], ms(480.0));
    let entities = &f["unmapped"]["entities"];
    assert_eq!(entities["user"], "JSMITH");
    assert_eq!(entities["role"], "ANALYST");
    assert_eq!(entities["table"], "PROD_DB.CRM.CUSTOMERS");
    assert_eq!(techniques(&f), ["T1213.006"]);
    let first = &f["evidences"][0];
    assert_eq!(first["name"], "bulk_read");
    assert_eq!(first["data"]["query"], SELECT_ALL);
    assert_eq!(first["resources"][0]["uid"], "PROD_DB.CRM.CUSTOMERS");
    let reasons = f["unmapped"]["reasons"].to_string();
    assert!(
        reasons.contains("48211377 rows") && reasons.contains("read 4 times"),
        "{reasons}"
    );
    // The same rows as JSON lines give the same finding.
    let json = replay(&[("query_history.jsonl", history.render_jsonl())], "");
    assert_eq!(json.latest(), r.latest());
}

#[test]
fn near_misses_are_not_findings() {
    let cases: Vec<(&str, QueryHistory)> = vec![
        ("small", {
            let mut h = QueryHistory::new();
            h.query(60.0, "q1", "JSMITH", "ANALYST", SELECT_ALL, 500, 90_000);
            h
        }),
        ("not sensitive", {
            let mut h = QueryHistory::new();
            h.query(
                60.0,
                "q1",
                "JSMITH",
                "ANALYST",
                "select * from prod_db.sales.orders",
                9_000_000,
                9_000_000_000,
            );
            h
        }),
        ("failed", {
            let mut h = QueryHistory::new();
            h.query(
                60.0,
                "q1",
                "JSMITH",
                "ANALYST",
                SELECT_ALL,
                9_000_000,
                9_000_000_000,
            );
            h.last().status = "FAIL".into();
            h
        }),
        ("three reads", {
            let mut h = QueryHistory::new();
            for (n, region) in ["EMEA", "APAC", "AMER"].iter().enumerate() {
                let text = format!("select id from customers where region = '{region}'");
                h.query(
                    60.0 * (n as f64 + 1.0),
                    &format!("q{n}"),
                    "JSMITH",
                    "ANALYST",
                    &text,
                    10,
                    10_000,
                );
            }
            h
        }),
    ];
    for (name, history) in cases {
        let r = replay(&[("qh.csv", history.render_csv())], "");
        assert!(ours(&r).is_empty(), "{name}: {:#?}", r.findings);
        assert!(r.summary.total_events() > 0, "{name}: events were read");
    }
}

#[test]
fn new_templates_after_learning_baselines_and_off_hours() {
    let mut history = QueryHistory::new();
    history
        // Learning hour: both analysts' usual queries.
        .query(
            0.0,
            "l1",
            "JSMITH",
            "ANALYST",
            "select id, name from customers where id = 7",
            1,
            100,
        )
        .query(
            600.0,
            "l2",
            "ADOE",
            "ANALYST",
            "select email from customers where id = 9",
            1,
            100,
        )
        // Known to JSMITH, and to the role: not new.
        .query(
            7200.0,
            "k1",
            "JSMITH",
            "ANALYST",
            "select id, name from customers where id = 8",
            1,
            100,
        )
        .query(
            7260.0,
            "k2",
            "JSMITH",
            "ANALYST",
            "select email from customers where id = 1",
            1,
            100,
        )
        // Never seen.
        .query(
            7320.0,
            "n1",
            "JSMITH",
            "ANALYST",
            "select ssn, card_number from customers where name like 'A%'",
            1,
            100,
        )
        // A BI template from the baseline: expected, feeds nothing.
        .query(
            7380.0,
            "b1",
            "JSMITH",
            "ANALYST",
            "select count(*) from employees where region = 'X'",
            1,
            100,
        );
    let baseline = format!(
        "LearningPeriod = \"1h\"\nBaselineQueryTemplates = [\"1:{}\"]\n",
        dumpwatch_tests::parameterized_hash("select count(*) from employees where region = 'X'")
    );
    let r = replay(&[("qh.csv", history.render_csv())], &tunables(&baseline));
    let f = only(&r);
    assert_eq!(legs(&f), ["new_template"]);
    assert_eq!(severity(&f), 2, "low: {f:#}");
    let legs_of: Vec<&str> = f["evidences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        legs_of,
        ["repeated_read", "repeated_read", "new_template"],
        "the baseline query feeds nothing"
    );
    assert!(
        f["unmapped"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("never seen for JSMITH nor for role ANALYST")
    );
    assert_eq!(related_ids(&f), ["k1", "k2", "n1"]);
    // In an office at UTC-06:00, 12:00 UTC is 06:00: before work.
    let night = format!("{baseline}OffHoursAccessWindow = [\"Mon-Fri 00:00-07:00 UTC-06:00\"]\n");
    let r = replay(&[("qh.csv", history.render_csv())], &tunables(&night));
    assert_eq!(severity(&only(&r)), 3);
    assert!(
        only(&r)["unmapped"]["reasons"]
            .to_string()
            .contains("OffHoursAccessWindow")
    );
}

#[test]
fn bulk_downloads_are_counted_per_user_outside_allowed_applications() {
    let mut log = AuditLog365::new();
    log.downloads(840.0, 7.0, 25, "d", JDOE)
        .downloads(840.0, 7.0, 9, "m", "mbrown@contoso.com");
    let r = replay(&[("audit.json", log.render_blob())], "");
    let f = only(&r);
    assert_eq!(legs(&f), ["bulk_download"]);
    assert_eq!(severity(&f), 3);
    assert_eq!(f["finding_info"]["related_events_count"], 25);
    assert_eq!(related_ids(&f), ["d0", "d1", "d2", "d3", "d4"]);
    assert_eq!(f["unmapped"]["entities"]["user"], JDOE);
    assert_eq!(f["unmapped"]["entities"]["site"], AuditLog365::SITE);
    assert_eq!(techniques(&f), ["T1213.006", "T1213.002"]);
    // The same downloads by an allowed client are not counted.
    let allowed = tunables("AllowedApplications = [\"*Edg/124*\"]\n");
    assert!(ours(&replay(&[("audit.json", log.render_blob())], &allowed)).is_empty());
}

#[test]
fn the_written_saas_samples_give_the_expected_findings() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/written/");
    let read = |path: &str| std::fs::read_to_string(format!("{dir}{path}")).unwrap();
    let files = [
        (
            "qh.csv",
            read("snowflake/query_history_unload_with-header.csv"),
        ),
        (
            "blob.json",
            read("m365/ual_sharepoint_filedownloaded-burst_content-blob.json"),
        ),
        (
            "sync.json",
            read("m365/ual_onedrive_filesync-full-and-partial_pretty-array.json"),
        ),
    ];
    let r = replay(&files, "");
    assert_eq!(r.summary.total_errors(), 0);
    let all = ours(&r);
    assert_eq!(all.len(), 2, "{all:#?}");
    // jdoe: 25 FileDownloaded in 3 minutes at 02:14 UTC on a Monday: off
    // hours by default. mbrown's 9 sync downloads stay below 20.
    let downloads = all.iter().find(|f| legs(f) == ["bulk_download"]).unwrap();
    assert_eq!(severity(downloads), 4);
    assert_eq!(downloads["finding_info"]["related_events_count"], 25);
    // JSMITH: SELECT * of 48 M rows, then three more reads of the table
    // (two by region, an unload), at 10:01-10:08 UTC on a Thursday.
    let reads = all.iter().find(|f| legs(f) != ["bulk_download"]).unwrap();
    assert_eq!(legs(reads), ["bulk_read", "repeated_read"]);
    assert_eq!(severity(reads), 4);
    assert_eq!(reads["unmapped"]["entities"]["user"], "JSMITH");
    assert_eq!(reads["finding_info"]["related_events_count"], 4);
}

/// Two users pulling data, one downloading in bulk, and noise.
fn busy_history() -> QueryHistory {
    let mut history = QueryHistory::new();
    pull(&mut history);
    history
        .query(
            30.0,
            "x1",
            "SVC_DBT",
            "TRANSFORMER",
            "select * from prod_db.sales.orders",
            900_000,
            1_000,
        )
        .query(
            400.0,
            "y1",
            "ADOE",
            "HR",
            "select * from hr.payroll",
            250_000,
            1_000,
        )
        .query(
            410.0,
            "y2",
            "ADOE",
            "HR",
            "select id from hr.payroll where id = 3",
            1,
            10,
        );
    history
}

fn order_independent(
    history: &QueryHistory,
    log: &AuditLog365,
    baseline: &Replay,
    order: &[usize],
) {
    let log_order: Vec<usize> = (0..log.len()).rev().collect();
    let r = replay(
        &[
            ("qh.csv", history.render_csv_order(order)),
            ("audit.json", log.render_lines(&log_order)),
        ],
        "",
    );
    assert_eq!(r.latest(), baseline.latest(), "order {order:?}");
    assert!(
        r.creations().values().all(|&n| n == 1),
        "order {order:?}: {:?}",
        r.creations()
    );
}

fn busy_log() -> AuditLog365 {
    let mut log = AuditLog365::new();
    log.downloads(100.0, 5.0, 22, "d", JDOE);
    log
}

#[test]
fn reversed_and_shuffled_arrival_give_the_same_findings() {
    let (history, log) = (busy_history(), busy_log());
    let baseline = replay(
        &[
            ("qh.csv", history.render_csv()),
            ("audit.json", log.render()),
        ],
        "",
    );
    assert_eq!(ours(&baseline).len(), 3, "{:#?}", baseline.findings);
    let n = history.len();
    order_independent(&history, &log, &baseline, &(0..n).rev().collect::<Vec<_>>());
    let mut odd_even: Vec<usize> = (0..n).filter(|i| i % 2 == 1).collect();
    odd_even.extend((0..n).filter(|i| i % 2 == 0));
    order_independent(&history, &log, &baseline, &odd_even);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    #[test]
    fn any_arrival_order_gives_the_same_findings(order in Just((0..busy_history().len()).collect::<Vec<usize>>()).prop_shuffle()) {
        let (history, log) = (busy_history(), busy_log());
        let baseline = replay(&[("qh.csv", history.render_csv()), ("audit.json", log.render())], "");
        order_independent(&history, &log, &baseline, &order);
    }
}

#[test]
fn duplicated_records_give_no_second_finding() {
    let (history, log) = (busy_history(), busy_log());
    let baseline = replay(
        &[
            ("qh.csv", history.render_csv()),
            ("audit.json", log.render()),
        ],
        "",
    );
    let twice: Vec<usize> = (0..history.len()).flat_map(|i| [i, i]).collect();
    let log_twice: Vec<usize> = (0..log.len()).flat_map(|i| [i, i]).collect();
    let r = replay(
        &[
            ("qh.csv", history.render_csv_order(&twice)),
            ("audit.json", log.render_lines(&log_twice)),
        ],
        "",
    );
    assert_eq!(r.latest(), baseline.latest());
    assert!(r.creations().values().all(|&n| n == 1));
}

#[test]
fn records_late_within_the_allowed_lateness_count() {
    // QUERY_HISTORY rows are not exported in START_TIME order: a row 40
    // minutes older than the one before it is still on time.
    let mut history = QueryHistory::new();
    pull(&mut history);
    history.query(
        2700.0,
        "q5",
        "JSMITH",
        "ANALYST",
        "select id from customers where id = 1",
        1,
        10,
    );
    let baseline = replay(&[("qh.csv", history.render_csv())], "");
    let late = replay(
        &[("qh.csv", history.render_csv_order(&[4, 1, 2, 3, 0]))],
        "",
    );
    assert_eq!(late.latest(), baseline.latest());
    assert_eq!(related_ids(&only(&late)), ["q1", "q2", "q3", "q4", "q5"]);
}
