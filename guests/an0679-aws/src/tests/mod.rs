//! Scenario tests driving the real [`An0679`] through the [`Analytic`]
//! trait with built events (CloudTrail calls and VPC flow records as the
//! normalizer produces them).

mod config;
mod ordering;
mod scenarios;
mod state;

use std::collections::BTreeMap;

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{EventBuilder, ip, texts, tunable};
use dumpwatch_sdk::types::*;

use crate::An0679;

/// 2024-06-03 09:00 UTC, a Monday.
pub const T0: i64 = 1_717_405_200_000;
pub const SEC: i64 = 1000;
pub const MIN: i64 = 60 * SEC;
pub const MB: u64 = 1_000_000;

pub const CLUSTER: &str = "arn:aws:rds:us-east-1:111122223333:cluster:orders-prod";
pub const OTHER_CLUSTER: &str = "arn:aws:rds:us-east-1:111122223333:cluster:hr-prod";
pub const MALLORY: &str = "arn:aws:iam::111122223333:user/mallory";
pub const APP_SESSION: &str = "arn:aws:sts::111122223333:assumed-role/app-orders/i-0a1b2c";
pub const APP_ROLE: &str = "arn:aws:iam::111122223333:role/app-orders";
pub const EVE: &str = "arn:aws:iam::111122223333:user/eve";

/// Who made a CloudTrail call.
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    pub arn: &'static str,
    pub issuer: Option<&'static str>,
    pub key: &'static str,
    pub user: &'static str,
}

pub const MALLORY_CALLER: Caller = Caller {
    arn: MALLORY,
    issuer: None,
    key: "AKIAQXAMPLE5USERKEY",
    user: "mallory",
};

pub const APP_CALLER: Caller = Caller {
    arn: APP_SESSION,
    issuer: Some(APP_ROLE),
    key: "ASIAQXAMPLE7HN4V2C3D",
    user: "i-0a1b2c",
};

pub const EVE_CALLER: Caller = Caller {
    arn: EVE,
    issuer: None,
    key: "AKIAQXAMPLEEVEKEY01",
    user: "eve",
};

/// A successful CloudTrail call by `who`.
pub fn call(
    id: &str,
    time: i64,
    who: Caller,
    service: &str,
    operation: &str,
    resource: Option<&str>,
    parameters: &[(&str, &str)],
) -> Event {
    let mut event = EventBuilder::new(
        "cloudtrail",
        id,
        time,
        Activity::CloudApi(CloudApiCall {
            provider: "aws".into(),
            service: service.into(),
            operation: operation.into(),
            region: Some("us-east-1".into()),
            source_ip: Some("198.51.100.77".into()),
            user_agent: Some("aws-cli/2.15.30".into()),
            error: None,
            resource: resource.map(str::to_string),
            bucket: None,
            key: None,
            bytes_in: None,
            bytes_out: None,
            parameters: parameters
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }),
    )
    .build();
    event.actor.user = Some(who.user.into());
    event.actor.arn = Some(who.arn.into());
    event.actor.issuer_arn = who.issuer.map(str::to_string);
    event.actor.access_key_id = Some(who.key.into());
    event.actor.identity_type = Some(
        if who.issuer.is_some() {
            "AssumedRole"
        } else {
            "IAMUser"
        }
        .into(),
    );
    event.device.domain = Some("111122223333".into());
    event
}

fn cloud(event: &mut Event) -> &mut CloudApiCall {
    match &mut event.activity {
        Activity::CloudApi(call) => call,
        _ => unreachable!("built as a cloud call"),
    }
}

/// A Data API ExecuteStatement on `cluster`.
pub fn statement(id: &str, time: i64, who: Caller, cluster: &str) -> Event {
    call(
        id,
        time,
        who,
        "rdsdata.amazonaws.com",
        "ExecuteStatement",
        Some(cluster),
        &[("resourceArn", cluster), ("sql", "**********")],
    )
}

/// The same call failing.
pub fn failed(mut event: Event) -> Event {
    cloud(&mut event).error = Some("AccessDeniedException".into());
    event
}

#[allow(clippy::too_many_arguments)]
fn s3(
    id: &str,
    time: i64,
    who: Caller,
    operation: &str,
    bucket: &str,
    key: &str,
    bytes: u64,
    params: &[(&str, &str)],
) -> Event {
    let arn = format!("arn:aws:s3:::{bucket}/{key}");
    let mut parameters = vec![("bucketName", bucket), ("key", key)];
    parameters.extend_from_slice(params);
    let mut event = call(
        id,
        time,
        who,
        "s3.amazonaws.com",
        operation,
        Some(&arn),
        &parameters,
    );
    let c = cloud(&mut event);
    c.bucket = Some(bucket.into());
    c.key = Some(key.into());
    c.bytes_in = Some(bytes);
    c.bytes_out = Some(0);
    event
}

pub fn put(id: &str, time: i64, who: Caller, bucket: &str, key: &str, bytes: u64) -> Event {
    s3(id, time, who, "PutObject", bucket, key, bytes, &[])
}

#[allow(clippy::too_many_arguments)]
pub fn part(
    id: &str,
    time: i64,
    who: Caller,
    bucket: &str,
    key: &str,
    upload: &str,
    number: &str,
    bytes: u64,
) -> Event {
    s3(
        id,
        time,
        who,
        "UploadPart",
        bucket,
        key,
        bytes,
        &[("uploadId", upload), ("partNumber", number)],
    )
}

pub fn complete(id: &str, time: i64, who: Caller, bucket: &str, key: &str, upload: &str) -> Event {
    s3(
        id,
        time,
        who,
        "CompleteMultipartUpload",
        bucket,
        key,
        412,
        &[("uploadId", upload)],
    )
}

pub fn share(id: &str, time: i64, who: Caller, snapshot: &str, accounts: &str) -> Event {
    call(
        id,
        time,
        who,
        "rds.amazonaws.com",
        "ModifyDBClusterSnapshotAttribute",
        Some(snapshot),
        &[
            ("dBClusterSnapshotIdentifier", snapshot),
            ("attributeName", "restore"),
            ("valuesToAdd", accounts),
        ],
    )
}

pub fn export_task(id: &str, time: i64, who: Caller, snapshot: &str, bucket: &str) -> Event {
    call(
        id,
        time,
        who,
        "rds.amazonaws.com",
        "StartExportTask",
        Some(snapshot),
        &[
            ("sourceArn", snapshot),
            ("s3BucketName", bucket),
            ("exportTaskIdentifier", "x"),
        ],
    )
}

/// A VPC flow record of `bytes` from `src` to `dst`.
pub fn flow(id: &str, time: i64, src: &str, dst: &str, bytes: u64) -> Event {
    let mut event = EventBuilder::network("vpc-flow", id, time, ip(dst), 51544)
        .src(ip(src), 5432)
        .bytes_out(bytes)
        .build();
    if let Activity::Network(flow) = &mut event.activity {
        flow.end_time = Some(time + MIN);
        flow.allowed = Some(true);
        flow.interface_id = Some("eni-0f1e2d3c4b5a69788".into());
    }
    event.device.domain = Some("111122223333".into());
    event
}

/// DatabaseNetworks tying 10.20.3.0/24 to CLUSTER.
pub fn with_networks() -> Vec<Tunable> {
    vec![tunable(
        "DatabaseNetworks",
        texts(&[&format!("{CLUSTER}=10.20.3.0/24"), "10.30.0.0/16"]),
    )]
}

/// A configured analytic (defaults plus `tunables`).
pub fn analytic(tunables: Vec<Tunable>) -> An0679 {
    let mut analytic = An0679::default();
    analytic.configure(tunables).unwrap();
    analytic
}

/// Everything emitted by feeding `events` in one batch and then the end of
/// input, as the host signals it: one advance to the largest timestamp.
pub fn run(analytic: &mut An0679, events: Vec<Event>) -> Vec<Finding> {
    let mut out = analytic.process(events);
    out.extend(analytic.advance(i64::MAX));
    out
}

/// The last version of each finding, by uid.
pub fn latest(emitted: &[Finding]) -> BTreeMap<String, Finding> {
    let mut map = BTreeMap::new();
    for finding in emitted {
        map.insert(finding.uid.clone(), finding.clone());
    }
    map
}

/// Findings of a run with default tunables plus `tunables`, latest
/// versions, by start time.
pub fn findings(tunables: Vec<Tunable>, events: Vec<Event>) -> Vec<Finding> {
    let mut a = analytic(tunables);
    let mut all: Vec<Finding> = latest(&run(&mut a, events)).into_values().collect();
    all.sort_by(|a, b| (a.start_time, &a.uid).cmp(&(b.start_time, &b.uid)));
    all
}

pub fn evidence_ids(finding: &Finding) -> Vec<&str> {
    finding.evidence.iter().map(|e| e.id.as_str()).collect()
}

pub fn entity<'f>(finding: &'f Finding, kind: &str) -> Option<&'f str> {
    finding
        .entities
        .iter()
        .find(|e| e.kind == kind)
        .map(|e| e.value.as_str())
}

pub fn techniques(finding: &Finding) -> Vec<String> {
    finding
        .attacks
        .iter()
        .map(|a| {
            a.sub_technique_id
                .clone()
                .unwrap_or_else(|| a.technique_id.clone())
        })
        .collect()
}
