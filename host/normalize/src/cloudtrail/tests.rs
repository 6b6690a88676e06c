use std::io::BufReader;

use dumpwatch_event::{Activity, CloudApiCall, Event, EventClass};

use super::*;
use crate::reader::{Line, LineReader};

/// Decode `bytes` as an input is read: line by line, then finish.
fn decode(bytes: &[u8]) -> Output {
    let mut dec = CloudTrailDecoder::new(&DecodeContext::default());
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

fn call(ev: &Event) -> &CloudApiCall {
    match &ev.activity {
        Activity::CloudApi(c) => c,
        other => panic!("not a cloud API call: {other:?}"),
    }
}

fn param<'a>(c: &'a CloudApiCall, name: &str) -> Option<&'a str> {
    c.parameters
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn by_id<'a>(out: &'a Output, id: &str) -> &'a Event {
    out.events
        .iter()
        .find(|e| e.id == id)
        .unwrap_or_else(|| panic!("no event {id}"))
}

/// Every event is a cloud API call and nothing failed.
fn assert_clean(out: &Output, events: u64) {
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.stats.normalized, events);
    assert_eq!(out.stats.by_class.get(&EventClass::CloudApi), Some(&events));
}

#[test]
fn corpus_files_normalize_without_errors() {
    for (file, events) in [
        (
            "corpus/aws-cloudtrail/awsdocs-aurora_rds_CreateDBInstance_event.json",
            1,
        ),
        (
            "corpus/aws-cloudtrail/awsdocs-aurora_rdsdata_ExecuteStatement_event.json",
            1,
        ),
        (
            "corpus/aws-cloudtrail/awsdocs-cloudtrail_Records_CreateUser.json",
            1,
        ),
        (
            "corpus/aws-cloudtrail/awsdocs-cloudtrail_Records_StartInstances.json",
            1,
        ),
        (
            "corpus/aws-cloudtrail/awsdocs-s3-outposts_PutObject_event.json",
            1,
        ),
        (
            "corpus/aws-cloudtrail/awsdocs-s3_Records_ListBuckets-PutBucketAcl-GetBucketVersioning.json",
            3,
        ),
        (
            "corpus/aws-cloudtrail/otrf_ec2_proxy_s3_exfiltration_2020-09-14011940.jsonl",
            103,
        ),
        (
            "written/aws-cloudtrail/rdsdata_transaction-batch_s3-envelope.json",
            5,
        ),
        (
            "written/aws-cloudtrail/rds_snapshot-share-and-export_pretty-envelope.json",
            4,
        ),
        (
            "written/aws-cloudtrail/s3_multipart-upload_one-per-line.jsonl",
            7,
        ),
    ] {
        let out = decode(&fixture(file));
        assert!(out.errors.is_empty(), "{file}: {:?}", out.errors);
        assert_eq!(out.stats.normalized, events, "{file}");
        assert_eq!(out.stats.skipped_count(), 0, "{file}");
        assert!(
            out.events
                .iter()
                .all(|e| e.source == "cloudtrail" && !e.id.is_empty())
        );
    }
}

#[test]
fn rds_data_execute_statement_identity_and_cluster() {
    let out = decode(&fixture(
        "corpus/aws-cloudtrail/awsdocs-aurora_rdsdata_ExecuteStatement_event.json",
    ));
    assert_clean(&out, 1);
    let ev = &out.events[0];
    assert_eq!(ev.id, "a2c7a357-ee8e-4755-a0d0-aed11ed4253a");
    assert_eq!(ev.time, 1_576_630_174_000); // 2019-12-18T00:49:34Z
    assert_eq!(ev.actor.user.as_deref(), Some("johndoe"));
    assert_eq!(
        ev.actor.arn.as_deref(),
        Some("arn:aws:iam::123456789012:user/johndoe")
    );
    assert_eq!(
        ev.actor.access_key_id.as_deref(),
        Some("AKIAI44QH8DHBEXAMPLE")
    );
    assert_eq!(ev.actor.identity_type.as_deref(), Some("IAMUser"));
    assert_eq!(ev.device.domain.as_deref(), Some("123456789012"));
    let c = call(ev);
    assert_eq!(c.provider, "aws");
    assert_eq!(c.service, "rdsdata.amazonaws.com");
    assert_eq!(c.operation, "ExecuteStatement");
    assert_eq!(c.region.as_deref(), Some("us-east-1"));
    assert_eq!(c.source_ip.as_deref(), Some("192.0.2.0"));
    assert_eq!(
        c.resource.as_deref(),
        Some("arn:aws:rds:us-east-1:123456789012:cluster:my-database-1")
    );
    assert_eq!(
        param(c, "secretArn"),
        Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:dataapisecret-ABC123")
    );
    assert_eq!(param(c, "database"), Some("**********"));
    assert_eq!(param(c, "continueAfterTimeout"), Some("false"));
    // An empty list of (object) parameters carries nothing.
    assert_eq!(param(c, "parameters"), None);
    assert_eq!(c.error, None);
}

#[test]
fn s3_outposts_put_object_bytes_in() {
    let out = decode(&fixture(
        "corpus/aws-cloudtrail/awsdocs-s3-outposts_PutObject_event.json",
    ));
    assert_clean(&out, 1);
    let ev = &out.events[0];
    let c = call(ev);
    assert_eq!(c.service, "s3-outposts.amazonaws.com");
    assert_eq!(c.operation, "PutObject");
    assert_eq!(c.bytes_in, Some(10));
    assert_eq!(c.bytes_out, Some(20));
    assert_eq!(c.bucket.as_deref(), Some("DOC-EXAMPLE-BUCKET1"));
    assert_eq!(c.key.as_deref(), Some("path/upload.sh"));
    assert_eq!(
        c.resource.as_deref(),
        Some(
            "arn:aws:s3-outposts:us-east-1:YYY:outpost/op-01ac5d28a6a232904/bucket/path/upload.sh"
        )
    );
    assert_eq!(param(c, "Content-Length"), Some("10"));
    // recipientAccountId wins over the identity's account.
    assert_eq!(ev.device.domain.as_deref(), Some("444455556666"));
}

#[test]
fn otrf_get_object_by_the_assumed_role() {
    let out = decode(&fixture(
        "corpus/aws-cloudtrail/otrf_ec2_proxy_s3_exfiltration_2020-09-14011940.jsonl",
    ));
    assert_clean(&out, 103);
    let gets: Vec<&Event> = out
        .events
        .iter()
        .filter(|e| call(e).operation == "GetObject")
        .collect();
    assert_eq!(gets.len(), 2);
    let ev = by_id(&out, "771299cb-e200-4926-9604-c85358b30499");
    assert_eq!(ev.time, 1_600_045_354_000); // eventTime, not @timestamp
    assert_eq!(ev.actor.user.as_deref(), Some("i-0317f6c6b66ae9c40"));
    assert_eq!(ev.actor.identity_type.as_deref(), Some("AssumedRole"));
    assert_eq!(
        ev.actor.issuer_arn.as_deref(),
        Some("arn:aws:iam::123456789123:role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0")
    );
    assert_eq!(
        ev.actor.access_key_id.as_deref(),
        Some("ASIA5FLZVX4OPVKKVBMX")
    );
    let c = call(ev);
    assert_eq!(
        c.bucket.as_deref(),
        Some("mordors3stack-s3bucket-llp2yingx64a")
    );
    assert_eq!(c.key.as_deref(), Some("ring.txt"));
    assert_eq!(
        c.resource.as_deref(),
        Some("arn:aws:s3:::mordors3stack-s3bucket-llp2yingx64a/ring.txt")
    );
    assert_eq!(c.bytes_out, Some(89)); // logged as 89.0
    assert_eq!(c.source_ip.as_deref(), Some("1.2.3.4"));
    // The AWS service principal that assumed the role.
    let assume = out
        .events
        .iter()
        .find(|e| call(e).operation == "AssumeRole")
        .expect("AssumeRole");
    assert_eq!(assume.actor.user.as_deref(), Some("ec2.amazonaws.com"));
    assert_eq!(
        call(assume).resource.as_deref(),
        Some(
            "arn:aws:iam::123456789123:role/MordorLogCollectorStack-LogCollectorRole-1JJTG88NNY4KN"
        )
    );
}

#[test]
fn envelope_records_count_one_by_one_and_old_records_get_stable_ids() {
    let bytes = fixture(
        "corpus/aws-cloudtrail/awsdocs-s3_Records_ListBuckets-PutBucketAcl-GetBucketVersioning.json",
    );
    let out = decode(&bytes);
    assert_clean(&out, 3);
    let ops: Vec<&str> = out
        .events
        .iter()
        .map(|e| call(e).operation.as_str())
        .collect();
    assert_eq!(ops, ["ListBuckets", "PutBucketAcl", "GetBucketVersioning"]);
    // An empty sourceIPAddress is absent, not "".
    assert_eq!(call(&out.events[1]).source_ip, None);
    assert_eq!(param(call(&out.events[1]), "acl"), Some(""));

    // eventVersion 1.0 records have no eventID: the id is a hash of the
    // record, the same on every read.
    let v1 = fixture("corpus/aws-cloudtrail/awsdocs-cloudtrail_Records_CreateUser.json");
    let a = decode(&v1);
    let b = decode(&v1);
    assert_clean(&a, 1);
    assert!(a.events[0].id.starts_with("fnv1a:"));
    assert_eq!(a.events[0].id, b.events[0].id);
    assert_eq!(param(call(&a.events[0]), "userName"), Some("Bob"));
    assert_eq!(a.events[0].actor.user.as_deref(), Some("Alice"));
}

#[test]
fn written_rds_data_batch_and_transactions() {
    let out = decode(&fixture(
        "written/aws-cloudtrail/rdsdata_transaction-batch_s3-envelope.json",
    ));
    assert_clean(&out, 5);
    let cluster = "arn:aws:rds:us-east-1:111122223333:cluster:orders-aurora-prod";
    for ev in &out.events {
        let c = call(ev);
        assert_eq!(c.service, "rdsdata.amazonaws.com", "{}", c.operation);
        assert_eq!(c.resource.as_deref(), Some(cluster));
    }
    let batch = by_id(&out, "7c2e4d3f-9e5b-4d70-8f32-1b8c4e6d0f12");
    assert_eq!(call(batch).operation, "BatchExecuteStatement");
    assert_eq!(batch.actor.user.as_deref(), Some("alice@example.com"));
    assert_eq!(
        batch.actor.arn.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/db-maintenance/alice@example.com")
    );
    assert_eq!(
        batch.actor.issuer_arn.as_deref(),
        Some("arn:aws:iam::111122223333:role/db-maintenance")
    );
    assert_eq!(
        param(call(batch), "transactionId"),
        Some("AQC5SRDIm0zo3lV1F8Zr2xK9")
    );
    // The EventBridge spelling is folded into the CloudTrail one.
    let exec = by_id(&out, "9e4a6f51-b07d-4f92-a154-3dae6f8f2134");
    assert_eq!(call(exec).operation, "ExecuteStatement");
    assert_eq!(param(call(exec), "includeResultMetadata"), Some("true"));
    let rollback = by_id(&out, "af5b7062-c18e-4fa3-b265-4ebf7a903245");
    assert_eq!(call(rollback).error.as_deref(), Some("BadRequestException"));
}

#[test]
fn written_rds_snapshot_sharing_and_export() {
    let out = decode(&fixture(
        "written/aws-cloudtrail/rds_snapshot-share-and-export_pretty-envelope.json",
    ));
    assert_clean(&out, 4);
    let to_account = call(by_id(&out, "b06c8173-d29f-4ab4-8376-5fc08ba14356"));
    assert_eq!(to_account.operation, "ModifyDBClusterSnapshotAttribute");
    assert_eq!(
        to_account.resource.as_deref(),
        Some("orders-aurora-prod-2024-06-03")
    );
    assert_eq!(param(to_account, "attributeName"), Some("restore"));
    assert_eq!(param(to_account, "valuesToAdd"), Some("444455556666"));
    let public = call(by_id(&out, "c17d9284-e3a0-4bc5-9487-60d19cb25467"));
    assert_eq!(param(public, "valuesToAdd"), Some("all"));
    assert_eq!(
        public.resource.as_deref(),
        Some("arn:aws:rds:us-east-1:111122223333:cluster-snapshot:orders-aurora-prod-2024-06-03")
    );
    let instance = by_id(&out, "d28ea395-f4b1-4cd6-a598-71e2adc36578");
    assert_eq!(call(instance).operation, "ModifyDBSnapshotAttribute");
    assert_eq!(
        call(instance).resource.as_deref(),
        Some("legacy-mysql-final-snapshot")
    );
    assert_eq!(instance.actor.user.as_deref(), Some("i-0a1b2c3d4e5f60718"));
    let export = call(by_id(&out, "e39fb4a6-05c2-4de7-b6b9-82f3bef47689"));
    assert_eq!(export.operation, "StartExportTask");
    assert_eq!(
        export.resource.as_deref(),
        Some("arn:aws:rds:us-east-1:111122223333:cluster-snapshot:orders-aurora-prod-2024-06-03")
    );
    assert_eq!(
        param(export, "s3BucketName"),
        Some("acme-analytics-landing")
    );
    assert_eq!(
        param(export, "exportTaskIdentifier"),
        Some("orders-export-20240603")
    );
    assert_eq!(
        param(export, "iamRoleArn"),
        Some("arn:aws:iam::111122223333:role/rds-s3-export")
    );
    assert_eq!(
        param(export, "exportOnly"),
        Some("orders.public.customers,orders.public.payment_methods")
    );
}

#[test]
fn written_multipart_upload() {
    let out = decode(&fixture(
        "written/aws-cloudtrail/s3_multipart-upload_one-per-line.jsonl",
    ));
    assert_clean(&out, 7);
    let key = "dumps/orders_2024-06-03.sql.gz";
    let upload_id = "VXBsb2FkIElEIGZvciBvcmRlcnMgZHVtcCBleGFtcGxlLg--";
    let parts: Vec<&CloudApiCall> = out
        .events
        .iter()
        .map(call)
        .filter(|c| c.operation == "UploadPart")
        .collect();
    assert_eq!(parts.len(), 3);
    let total: u64 = parts.iter().filter_map(|c| c.bytes_in).sum();
    assert_eq!(total, 8_388_608 * 2 + 3_145_728);
    for (i, c) in parts.iter().enumerate() {
        assert_eq!(c.key.as_deref(), Some(key));
        assert_eq!(param(c, "uploadId"), Some(upload_id));
        assert_eq!(param(c, "partNumber"), Some((i + 1).to_string().as_str()));
        assert_eq!(
            c.resource.as_deref(),
            Some("arn:aws:s3:::acme-exfil-drop/dumps/orders_2024-06-03.sql.gz")
        );
    }
    assert!(
        !out.events
            .iter()
            .any(|e| call(e).operation == "PutObject" && call(e).key.as_deref() == Some(key))
    );
    // PutObject with the key only in resources[].
    let put = call(by_id(&out, "49f51a0c-6b28-4d4d-dc12-e8f9145adc45"));
    assert_eq!(put.key.as_deref(), Some("exports/customers.csv"));
    assert_eq!(put.bytes_in, Some(52_428));
    let get = call(by_id(&out, "5a062b1d-7c39-4e5e-ed23-f90a256bed56"));
    assert_eq!(get.bytes_out, Some(19_922_944));
}

#[test]
fn time_rule_and_required_fields() {
    let line = |t: &str| {
        format!(
            r#"{{"eventTime":{t},"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"x"}}"#
        )
    };
    let input = [
        line("\"2024-06-03T11:02:00Z\""),
        line("\"2024-06-03T11:02:00.250Z\""),
        line("\"yesterday\""),
        line("null"),
        line("17"),
        r#"{"eventTime":"2024-06-03T11:02:00Z","eventName":"GetObject"}"#.to_owned(),
        r#"{"eventTime":"2024-06-03T11:02:00Z","eventSource":"s3.amazonaws.com","eventName":"X","eventType":"AwsCloudTrailInsight"}"#.to_owned(),
    ]
    .join("\n");
    let out = decode(input.as_bytes());
    let times: Vec<i64> = out.events.iter().map(|e| e.time).collect();
    assert_eq!(times, [1_717_412_520_000, 1_717_412_520_250]);
    let kinds: Vec<(u64, &str)> = out.errors.iter().map(|e| (e.pos.line, e.kind)).collect();
    assert_eq!(
        kinds,
        [
            (3, "invalid time"),
            (4, "missing time"),
            (5, "invalid record"),
            (6, "missing field"),
        ]
    );
    assert_eq!(out.stats.skipped.get("AwsCloudTrailInsight"), Some(&1));
}

#[test]
fn bad_input_is_counted_and_the_rest_survives() {
    let good = String::from_utf8(fixture(
        "corpus/aws-cloudtrail/otrf_ec2_proxy_s3_exfiltration_2020-09-14011940.jsonl",
    ))
    .expect("utf-8");
    let lines: Vec<&str> = good.lines().collect();
    let mut input = Vec::new();
    input.extend_from_slice(lines[0].as_bytes());
    input.push(b'\n');
    // Truncated record, then a good one.
    input.extend_from_slice(&lines[1].as_bytes()[..200]);
    input.push(b'\n');
    input.extend_from_slice(lines[2].as_bytes());
    input.push(b'\n');
    // Not UTF-8 inside a string.
    input.extend_from_slice(&lines[3].as_bytes()[..40]);
    input.extend_from_slice(b"\xff\xfe");
    input.extend_from_slice(&lines[3].as_bytes()[40..]);
    input.push(b'\n');
    // Syntax error.
    input.extend_from_slice(lines[4].replacen("\":", "\" ", 1).as_bytes());
    input.push(b'\n');
    // A 10 MB line of garbage that looks like the start of an object.
    input.extend_from_slice(b"{\"eventName\": \"");
    input.extend(std::iter::repeat_n(b'a', 10 << 20));
    input.push(b'\n');
    input.extend_from_slice(lines[5].as_bytes());
    input.push(b'\n');
    // A cut-off envelope at the end of the input.
    input.extend_from_slice(b"{\"Records\":[");
    input.extend_from_slice(lines[6].as_bytes());
    input.push(b',');
    input.extend_from_slice(&lines[7].as_bytes()[..300]);
    let out = decode(&input);
    let ids: Vec<&str> = out.events.iter().map(|e| e.id.as_str()).collect();
    let want = |i: usize| {
        let v: serde_json::Value = serde_json::from_str(lines[i]).expect("corpus line");
        v["eventID"].as_str().expect("eventID").to_owned()
    };
    assert_eq!(ids, [want(0), want(2), want(5), want(6)]);
    let kinds: Vec<(u64, &str)> = out.errors.iter().map(|e| (e.pos.line, e.kind)).collect();
    assert_eq!(
        kinds,
        [
            (2, "truncated JSON"),
            (4, "invalid UTF-8"),
            (5, "invalid JSON"),
            (6, "line too long"),
            (8, "truncated JSON"),
        ]
    );
}

#[test]
fn sniffs_every_form() {
    for file in [
        "corpus/aws-cloudtrail/awsdocs-aurora_rdsdata_ExecuteStatement_event.json",
        "corpus/aws-cloudtrail/awsdocs-cloudtrail_Records_CreateUser.json",
        "corpus/aws-cloudtrail/awsdocs-s3_Records_ListBuckets-PutBucketAcl-GetBucketVersioning.json",
        "corpus/aws-cloudtrail/otrf_ec2_proxy_s3_exfiltration_2020-09-14011940.jsonl",
        "written/aws-cloudtrail/rdsdata_transaction-batch_s3-envelope.json",
    ] {
        assert_eq!(
            crate::detect(&fixture(file)),
            Some(Format::CloudTrail),
            "{file}"
        );
    }
    assert!(!sniff(b"{\"eventName\": \"x\"}"));
    assert!(!sniff(b"2 123456789010 eni-1 - - - - - - - 1 2 - NODATA"));
}

#[test]
fn a_huge_line_pushed_directly_is_bounded_and_counted() {
    // Without a line reader in front (one 10 MB line straight in).
    let mut dec = CloudTrailDecoder::new(&DecodeContext::default());
    let mut out = Output::default();
    let mut huge = b"{\"Records\":[{\"eventName\":\"".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 10 << 20));
    dec.push(&huge, RecordPos { line: 1, offset: 0 }, &mut out);
    let good = fixture("corpus/aws-cloudtrail/awsdocs-aurora_rdsdata_ExecuteStatement_event.json");
    let compact =
        serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(&good).expect("json"))
            .expect("json");
    dec.push(&compact, RecordPos { line: 2, offset: 0 }, &mut out);
    dec.finish(&mut out);
    assert_eq!(out.stats.normalized, 1);
    let kinds: Vec<(u64, &str)> = out.errors.iter().map(|e| (e.pos.line, e.kind)).collect();
    assert_eq!(kinds, [(1, "truncated JSON")]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, ..Default::default() })]

    /// Real records with mutated ones between them: every untouched record
    /// still becomes its event, whatever the mutation did, and nothing
    /// panics.
    #[test]
    fn mutated_records_do_not_take_neighbours_down(
        picks in proptest::collection::vec((0usize..103, 0usize..3000, proptest::prelude::any::<u8>(), 0u8..3), 1..12),
    ) {
        let text = String::from_utf8(fixture(
            "corpus/aws-cloudtrail/otrf_ec2_proxy_s3_exfiltration_2020-09-14011940.jsonl",
        )).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        let mut input = Vec::new();
        let mut want = Vec::new();
        for (i, &(n, at, byte, how)) in picks.iter().enumerate() {
            let good = lines[(n + i) % lines.len()];
            input.extend_from_slice(good.as_bytes());
            input.push(b'\n');
            want.push(serde_json::from_str::<serde_json::Value>(good).expect("corpus")["eventID"]
                .as_str().expect("eventID").to_owned());
            let bad = lines[n];
            let at = at % bad.len();
            match how {
                0 => input.extend_from_slice(&bad.as_bytes()[..at]),
                1 => {
                    input.extend_from_slice(&bad.as_bytes()[..at]);
                    input.push(byte);
                    input.extend_from_slice(&bad.as_bytes()[at..]);
                }
                _ => {
                    input.extend_from_slice(b"{\"Records\":[");
                    input.extend_from_slice(&bad.as_bytes()[..at]);
                }
            }
            input.push(b'\n');
        }
        let out = decode(&input);
        let got: std::collections::HashSet<&str> = out.events.iter().map(|e| e.id.as_str()).collect();
        for id in &want {
            proptest::prop_assert!(got.contains(id.as_str()), "lost {}", id);
        }
    }
}

/// Every record of the fixtures, one per line and as envelopes, and
/// mangled: the cursor's reading gives the same events, errors and counts
/// as serde's.
mod fast_path {
    use proptest::prelude::*;

    use super::*;
    use crate::json_stream::differential::{assert_agrees, fast_count};
    use crate::test_support::mangled;

    const FILES: [&str; 10] = [
        "corpus/aws-cloudtrail/awsdocs-aurora_rds_CreateDBInstance_event.json",
        "corpus/aws-cloudtrail/awsdocs-aurora_rdsdata_ExecuteStatement_event.json",
        "corpus/aws-cloudtrail/awsdocs-cloudtrail_Records_CreateUser.json",
        "corpus/aws-cloudtrail/awsdocs-cloudtrail_Records_StartInstances.json",
        "corpus/aws-cloudtrail/awsdocs-s3-outposts_PutObject_event.json",
        "corpus/aws-cloudtrail/awsdocs-s3_Records_ListBuckets-PutBucketAcl-GetBucketVersioning.json",
        "corpus/aws-cloudtrail/otrf_ec2_proxy_s3_exfiltration_2020-09-14011940.jsonl",
        "written/aws-cloudtrail/rds_snapshot-share-and-export_pretty-envelope.json",
        "written/aws-cloudtrail/rdsdata_transaction-batch_s3-envelope.json",
        "written/aws-cloudtrail/s3_multipart-upload_one-per-line.jsonl",
    ];

    /// Every record of every file, compact, one per line.
    fn records() -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for f in FILES {
            let text = fixture(f);
            let values: Vec<serde_json::Value> = serde_json::Deserializer::from_slice(&text)
                .into_iter()
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("{f}: {e}"));
            for v in values {
                let records = match v.get("Records") {
                    Some(serde_json::Value::Array(rs)) => rs.clone(),
                    _ => vec![v],
                };
                for r in records {
                    out.push(serde_json::to_vec(&r).expect("serializable"));
                }
            }
        }
        out
    }

    #[test]
    fn every_record_reads_fast_and_as_serde_reads_it() {
        let lines = records();
        assert!(lines.len() >= 40, "{} records", lines.len());
        assert_eq!(
            fast_count::<CloudTrailRecord>(&lines, Some("Records")),
            lines.len()
        );
        assert_agrees::<CloudTrailRecord>(&lines, Some("Records"));
        // All of them in one S3 envelope on one line, and as an array.
        let joined = lines.join(&b","[..]);
        let envelope = [b"{\"Records\":[".as_slice(), &joined, b"]}"].concat();
        let array = [b"[".as_slice(), &joined, b"]"].concat();
        for line in [envelope, array] {
            let lines = vec![line];
            assert_eq!(fast_count::<CloudTrailRecord>(&lines, Some("Records")), 1);
            assert_agrees::<CloudTrailRecord>(&lines, Some("Records"));
        }
    }

    #[test]
    fn shapes_serde_renders_or_refuses_go_to_serde() {
        let base = r#"{"eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","eventID":"e1","#;
        for tail in [
            r#""eventName":"again"}"#,
            r#""requestParameters":{"n":-1}}"#,
            r#""requestParameters":{"n":1.5}}"#,
            r#""requestParameters":"text"}"#,
            r#""additionalEventData":{"bytesTransferredIn":1.5}}"#,
            r#""additionalEventData":{"bytesTransferredIn":1e3}}"#,
            r#""additionalEventData":{"bytesTransferredIn":18446744073709551616}}"#,
            r#""additionalEventData":{"bytesTransferredIn":-1}}"#,
            r#""additionalEventData":{"bytesTransferredIn":"x"}}"#,
            r#""resources":[{"ARN":"a","arn":"b"}]}"#,
            r#""resources":[null]}"#,
            r#""userIdentity":{"type":"IAMUser","type":"Root"}}"#,
            r#""userIdentity":["IAMUser"]}"#,
            r#""awsRegion":7}"#,
        ] {
            let lines = vec![format!("{base}{tail}").into_bytes()];
            assert_eq!(fast_count::<CloudTrailRecord>(&lines, None), 0, "{tail}");
            assert_agrees::<CloudTrailRecord>(&lines, None);
        }
        // Read fast: lists of scalars joined, other lists and objects
        // dropped, nulls, escaped parameter names, counts as strings.
        let tail = r#""requestParameters":{"a\u0062":["x",2,true],"mixed":["x",{}],"empty":[],"o":{"k":1},"z":null,"e":""},"additionalEventData":{"bytesTransferredIn":" 12 ","bytesTransferredOut":500.00},"resources":[{"type":"AWS::S3::Object","arn":"arn:x"}],"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"arn":"arn:role"}}}}"#;
        let lines = vec![format!("{base}{tail}").into_bytes()];
        assert_eq!(fast_count::<CloudTrailRecord>(&lines, None), 1);
        assert_agrees::<CloudTrailRecord>(&lines, None);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn mangled_records_read_as_serde_reads_them(
            mangled in prop::collection::vec(mangled(records()), 1..6),
            envelope in any::<bool>(),
        ) {
            let lines = if envelope {
                vec![[b"{\"Records\":[".as_slice(), &mangled.join(&b","[..]), b"]}"].concat()]
            } else {
                mangled
            };
            assert_agrees::<CloudTrailRecord>(&lines, Some("Records"));
        }
    }
}
