//! AN0679 (AWS) end to end: CloudTrail records and VPC Flow Logs lines
//! written here in the shapes AWS delivers them (and the samples written
//! for the normalizer), replayed through the shipped component.

use dumpwatch_tests::{
    APP_ORDERS, AwsCaller, CloudTrail, EVE, MALLORY, Replay, VpcFlowLog, ms, related_ids, replay,
    uid,
};
use proptest::prelude::*;
use serde_json::Value;

const CLUSTER: &str = "arn:aws:rds:us-east-1:111122223333:cluster:orders-prod";
const DROP: &str = "acme-exfil-drop";
const DB_IP: &str = "10.20.3.41";
const OUTSIDE: &str = "203.0.113.200";

fn config(extra: &str) -> String {
    format!("[analytics.AN0679.tunables]\nDatabaseNetworks = [\"{CLUSTER}=10.20.3.0/24\"]\n{extra}")
}

fn run_trail(trail: &str, extra: &str) -> Replay {
    replay(&[("trail.json", trail.to_owned())], &config(extra))
}

fn ours(r: &Replay) -> Vec<Value> {
    let mut out: Vec<Value> = r
        .latest()
        .into_values()
        .filter(|f| f["finding_info"]["analytic"]["uid"] == "AN0679")
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

/// mallory reads the cluster twice through the Data API and puts a CSV
/// in a bucket two minutes later.
fn theft(trail: &mut CloudTrail, who: &AwsCaller) {
    trail
        .statement(60.0, "q1", who, CLUSTER)
        .statement(90.0, "q2", who, CLUSTER)
        .put(180.0, "p1", who, DROP, "dumps/orders.csv", 5_000_000);
}

#[test]
fn query_then_export_is_one_medium_finding_with_its_evidence() {
    let mut trail = CloudTrail::new();
    theft(&mut trail, &MALLORY);
    let r = run_trail(&trail.render_envelope(), "");
    assert_eq!(r.summary.total_errors(), 0);
    let f = only(&r);
    assert_eq!(r.creations().values().sum::<usize>(), 1, "created once");
    assert_eq!(f["class_uid"], 2004);
    assert_eq!(severity(&f), 3, "medium: {f:#}");
    assert_eq!(legs(&f), ["query", "export"]);
    assert_eq!(related_ids(&f), ["q1", "q2", "p1"]);
    assert_eq!(f["start_time"], ms(60.0));
    assert_eq!(f["end_time"], ms(180.0));
    let entities = &f["unmapped"]["entities"];
    assert_eq!(entities["identity"], MALLORY.arn);
    assert_eq!(entities["user"], "mallory");
    assert_eq!(entities["database"], CLUSTER);
    assert_eq!(entities["bucket"], DROP);
    assert_eq!(entities["file"], "s3://acme-exfil-drop/dumps/orders.csv");
    assert_eq!(techniques(&f), ["T1213.006", "T1567.002"]);
    let export = &f["evidences"][2];
    assert_eq!(export["name"], "export");
    assert_eq!(export["url"]["url_string"], "dumps/orders.csv");
    assert_eq!(export["unmapped"]["bytes"], 5_000_000);
}

#[test]
fn a_multipart_upload_is_summed_whatever_the_order_of_its_parts() {
    let mut trail = CloudTrail::new();
    trail
        .statement(60.0, "q1", &MALLORY, CLUSTER)
        .part(
            120.0, "u1", &MALLORY, DROP, "blob.bin", "UPLOAD-1", 1, 8_388_608,
        )
        .part(
            122.0, "u2", &MALLORY, DROP, "blob.bin", "UPLOAD-1", 2, 8_388_608,
        )
        .part(
            124.0, "u3", &MALLORY, DROP, "blob.bin", "UPLOAD-1", 3, 8_388_608,
        )
        .complete(125.0, "c1", &MALLORY, DROP, "blob.bin", "UPLOAD-1");
    let threshold = "S3ExportThreshold = \"20MB\"\n";
    let in_order = run_trail(&trail.render(), threshold);
    let f = only(&in_order);
    assert_eq!(related_ids(&f), ["q1", "u1", "u2", "u3", "c1"]);
    assert_eq!(f["finding_info"]["related_events_count"], 5);
    let reasons = f["unmapped"]["reasons"].to_string();
    assert!(reasons.contains("25.1 MB (25165824 bytes)"), "{reasons}");
    let reversed = run_trail(&trail.render_lines(&[4, 3, 2, 1, 0]), threshold);
    assert_eq!(reversed.latest(), in_order.latest());
    // Two parts are 16.8 MB: not more than 20 MB, and the name is no export.
    let mut short = CloudTrail::new();
    short
        .statement(60.0, "q1", &MALLORY, CLUSTER)
        .part(
            120.0, "u1", &MALLORY, DROP, "blob.bin", "UPLOAD-1", 1, 8_388_608,
        )
        .part(
            122.0, "u2", &MALLORY, DROP, "blob.bin", "UPLOAD-1", 2, 8_388_608,
        );
    assert!(ours(&run_trail(&short.render(), threshold)).is_empty());
}

#[test]
fn near_misses_are_not_findings() {
    // The export six minutes after the last statement.
    let mut late_export = CloudTrail::new();
    late_export.statement(60.0, "q1", &MALLORY, CLUSTER).put(
        60.0 + 6.0 * 60.0,
        "p1",
        &MALLORY,
        DROP,
        "x.csv",
        1_000,
    );
    // Another identity exports.
    let mut other = CloudTrail::new();
    other
        .statement(60.0, "q1", &MALLORY, CLUSTER)
        .put(120.0, "p1", &EVE, DROP, "x.csv", 1_000);
    // The statement failed.
    let mut failed = CloudTrail::new();
    failed
        .statement(60.0, "q1", &MALLORY, CLUSTER)
        .failed("AccessDeniedException")
        .put(120.0, "p1", &MALLORY, DROP, "x.csv", 1_000);
    // A small object that is no export.
    let mut small = CloudTrail::new();
    small.statement(60.0, "q1", &MALLORY, CLUSTER).put(
        120.0,
        "p1",
        &MALLORY,
        DROP,
        "notes.txt",
        1_000,
    );
    for (name, trail) in [
        ("late export", late_export),
        ("other", other),
        ("failed", failed),
        ("small", small),
    ] {
        let r = run_trail(&trail.render(), "");
        assert!(ours(&r).is_empty(), "{name}: {:#?}", r.findings);
        assert!(r.summary.total_events() > 0, "{name}: events were read");
    }
}

#[test]
fn an_allowed_role_is_not_a_finding_unless_it_is_too_verbose() {
    let mut trail = CloudTrail::new();
    theft(&mut trail, &APP_ORDERS);
    let allowed = "IAMAccessPatterns = [\"arn:aws:iam::*:role/app-*\"]\n";
    assert!(ours(&run_trail(&trail.render(), allowed)).is_empty());
    // The default patterns do not allow it.
    assert_eq!(ours(&run_trail(&trail.render(), "")).len(), 1);
    // Allowed, but more statements than the threshold.
    let verbose = format!("{allowed}DBQueryVerbosityThreshold = 1\n");
    let f = only(&run_trail(&trail.render(), &verbose));
    assert!(
        f["unmapped"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("more than DBQueryVerbosityThreshold (1)")
    );
}

#[test]
fn database_egress_and_a_query_export_on_the_same_cluster_raise_each_other() {
    let mut trail = CloudTrail::new();
    theft(&mut trail, &MALLORY);
    let mut flows = VpcFlowLog::new();
    flows
        .flow(240.0, DB_IP, 5432, OUTSIDE, 51544, 24_117_248)
        .flow(300.0, DB_IP, 5432, OUTSIDE, 51544, 15_728_640)
        .flow(300.0, OUTSIDE, 51544, DB_IP, 5432, 501_270)
        .flow(300.0, DB_IP, 5432, "10.9.9.9", 40000, 90_000_000);
    let files = [
        ("trail.json", trail.render()),
        ("flows.log", flows.render()),
    ];
    let r = replay(&files, &config(""));
    let all = ours(&r);
    assert_eq!(all.len(), 2, "{all:#?}");
    let query = &all[0];
    let flow = &all[1];
    assert_eq!(legs(query), ["query", "export"]);
    assert_eq!(legs(flow), ["flow"]);
    assert_eq!(severity(query), 4);
    assert_eq!(severity(flow), 4);
    assert_eq!(related_ids(flow), [flows.id(0), flows.id(1)]);
    assert_eq!(flow["unmapped"]["entities"]["host"], DB_IP);
    assert_eq!(flow["unmapped"]["entities"]["destination"], OUTSIDE);
    assert_eq!(flow["unmapped"]["entities"]["database"], CLUSTER);
    assert_eq!(techniques(flow), ["T1213.006", "T1048"]);
    assert!(
        flow["unmapped"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("39.8 MB")
    );
    assert!(query["unmapped"]["reasons"].to_string().contains(uid(flow)));
    assert!(flow["unmapped"]["reasons"].to_string().contains(uid(query)));
    // Alone, the flow is medium.
    let alone = replay(&[("flows.log", flows.render())], &config(""));
    assert_eq!(severity(&only(&alone)), 3);
    // Without DatabaseNetworks there is no flow leg.
    let off = replay(&[("flows.log", flows.render())], "");
    assert!(ours(&off).is_empty());
}

#[test]
fn snapshot_sharing_and_export_are_findings_on_their_own() {
    let snapshot = "arn:aws:rds:us-east-1:111122223333:cluster-snapshot:orders-prod-2026-03-02";
    let mut trail = CloudTrail::new();
    trail
        .share(60.0, "s1", &MALLORY, snapshot, &["444455556666"])
        .share(120.0, "s2", &MALLORY, snapshot, &["all"])
        .export_task(180.0, "s3", &MALLORY, snapshot, "acme-analytics-landing");
    let all = ours(&run_trail(&trail.render_envelope(), ""));
    assert_eq!(all.len(), 3);
    assert_eq!(all.iter().map(severity).collect::<Vec<_>>(), [4, 5, 3]);
    for f in &all {
        assert_eq!(techniques(f), ["T1213.006", "T1537"]);
        assert_eq!(legs(f), ["snapshot"]);
        assert_eq!(f["unmapped"]["entities"]["database"], snapshot);
        assert_eq!(f["finding_info"]["related_events_count"], 1);
    }
    assert_eq!(
        all[0]["unmapped"]["entities"]["destination"],
        "444455556666"
    );
    assert_eq!(
        all[2]["unmapped"]["entities"]["bucket"],
        "acme-analytics-landing"
    );
}

/// Two identities stealing, a flow, a share, and background noise.
fn busy_day() -> CloudTrail {
    let mut trail = CloudTrail::new();
    theft(&mut trail, &MALLORY);
    trail
        .statement(200.0, "e1", &EVE, CLUSTER)
        .part(
            260.0,
            "e2",
            &EVE,
            DROP,
            "eve.sql.gz",
            "UP-EVE",
            1,
            9_000_000,
        )
        .part(
            262.0,
            "e3",
            &EVE,
            DROP,
            "eve.sql.gz",
            "UP-EVE",
            2,
            9_000_000,
        )
        .complete(263.0, "e4", &EVE, DROP, "eve.sql.gz", "UP-EVE")
        .statement(300.0, "a1", &APP_ORDERS, CLUSTER)
        .put(320.0, "a2", &APP_ORDERS, "app-assets", "logo.png", 30_000)
        .share(400.0, "s1", &EVE, "snap-1", &["all"]);
    trail
}

fn order_independent(trail: &CloudTrail, baseline: &Replay, order: &[usize]) {
    let r = run_trail(&trail.render_lines(order), "");
    assert_eq!(r.latest(), baseline.latest(), "order {order:?}");
    assert!(
        r.creations().values().all(|&n| n == 1),
        "order {order:?}: {:?}",
        r.creations()
    );
}

#[test]
fn reversed_and_shuffled_arrival_give_the_same_findings() {
    let trail = busy_day();
    let baseline = run_trail(&trail.render(), "");
    assert_eq!(ours(&baseline).len(), 3, "{:#?}", baseline.findings);
    let n = trail.len();
    order_independent(&trail, &baseline, &(0..n).rev().collect::<Vec<_>>());
    let mut odd_even: Vec<usize> = (0..n).filter(|i| i % 2 == 1).collect();
    odd_even.extend((0..n).filter(|i| i % 2 == 0));
    order_independent(&trail, &baseline, &odd_even);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    #[test]
    fn any_arrival_order_gives_the_same_findings(order in Just((0..busy_day().len()).collect::<Vec<usize>>()).prop_shuffle()) {
        let trail = busy_day();
        let baseline = run_trail(&trail.render(), "");
        order_independent(&trail, &baseline, &order);
    }
}

#[test]
fn duplicated_records_give_no_second_finding() {
    let trail = busy_day();
    let baseline = run_trail(&trail.render(), "");
    let twice: Vec<usize> = (0..trail.len()).flat_map(|i| [i, i]).collect();
    let r = run_trail(&trail.render_lines(&twice), "");
    assert_eq!(r.latest(), baseline.latest());
    assert!(r.creations().values().all(|&n| n == 1));
    // The whole log delivered twice (two trails on one bucket).
    let again = format!("{}{}", trail.render_envelope(), trail.render_envelope());
    assert_eq!(run_trail(&again, "").latest(), baseline.latest());
}

#[test]
fn records_late_within_the_allowed_lateness_count() {
    // The put is logged 14 minutes before the statements reach the file
    // (CloudTrail delivers per service, minutes apart): within lateness.
    let mut trail = CloudTrail::new();
    theft(&mut trail, &MALLORY);
    trail.statement(60.0 + 14.0 * 60.0, "q3", &MALLORY, CLUSTER);
    let baseline = run_trail(&trail.render(), "");
    let late = run_trail(&trail.render_lines(&[2, 3, 0, 1]), "");
    assert_eq!(late.latest(), baseline.latest());
    assert_eq!(related_ids(&only(&late)), ["q1", "q2", "p1", "q3"]);
}

#[test]
fn the_written_aws_samples_give_the_expected_findings() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/written/");
    let read = |path: &str| std::fs::read_to_string(format!("{dir}{path}")).unwrap();
    let files = [
        (
            "rdsdata.json",
            read("aws-cloudtrail/rdsdata_transaction-batch_s3-envelope.json"),
        ),
        (
            "snapshots.json",
            read("aws-cloudtrail/rds_snapshot-share-and-export_pretty-envelope.json"),
        ),
        (
            "multipart.jsonl",
            read("aws-cloudtrail/s3_multipart-upload_one-per-line.jsonl"),
        ),
        (
            "flows.log",
            read("aws-vpcflow/custom-v8-fields_rds-egress_with-header.log"),
        ),
    ];
    let cfg = "[analytics.AN0679.tunables]\nDatabaseNetworks = [\"arn:aws:rds:us-east-1:111122223333:cluster:orders-aurora-prod=10.20.3.0/24\"]\n";
    let r = replay(&files, cfg);
    assert_eq!(r.summary.total_errors(), 0);
    let all = ours(&r);
    let summary: Vec<(Vec<String>, i64)> = all.iter().map(|f| (legs(f), severity(f))).collect();
    // Three snapshot shares (one to an account, two public), one export
    // task, and the 39.8 MB of Aurora egress. The Data API calls are two
    // hours before the multipart upload: no query-and-export finding.
    let snapshot = || vec!["snapshot".to_owned()];
    assert_eq!(
        summary,
        [
            (snapshot(), 4),
            (snapshot(), 5),
            (snapshot(), 5),
            (vec!["flow".to_owned()], 3),
            (snapshot(), 3),
        ],
        "{all:#?}"
    );
    assert_eq!(
        all[3]["unmapped"]["entities"]["database"],
        "arn:aws:rds:us-east-1:111122223333:cluster:orders-aurora-prod"
    );
}
