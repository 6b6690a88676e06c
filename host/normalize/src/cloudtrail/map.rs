//! A parsed CloudTrail record to a `cloud_api` event: the identity, the
//! call, and what the database-theft analytics need per service (the RDS
//! Data API cluster, the RDS snapshot or export, the S3 object and bytes).

use dumpwatch_event::time::parse_datetime;
use dumpwatch_event::{Activity, Actor, CloudApiCall, Device, Event};

use super::params::RequestParameters;
use super::record::{Record, Resource, UserIdentity};
use crate::{Output, RecordPos};

/// The event's `source`.
pub(crate) const SOURCE: &str = "cloudtrail";

/// The RDS Data API's eventSource. EventBridge documents
/// `rdsdataapi.amazonaws.com` for the same calls; it is folded into this.
const RDS_DATA: &str = "rdsdata.amazonaws.com";
const RDS_DATA_ALIAS: &str = "rdsdataapi.amazonaws.com";

/// Map one record into `out`: an event, a skip (CloudTrail Insights
/// events, which are not API calls) or an error.
pub(crate) fn map(rec: &mut Record<'_>, pos: RecordPos, out: &mut Output) {
    if rec.event_type.as_deref() == Some("AwsCloudTrailInsight") {
        return out.skip("AwsCloudTrailInsight");
    }
    // eventTime; a forwarder that moved it to @timestamp leaves only that.
    let (field, text) = match (
        non_empty(rec.event_time.as_deref()),
        rec.forwarder_timestamp.as_deref(),
    ) {
        (Some(t), _) => ("eventTime", t),
        (None, Some(t)) if !t.is_empty() => ("@timestamp", t),
        _ => return out.error(pos, "missing time", "no eventTime"),
    };
    let Some(time) = parse_datetime(text) else {
        return out.error(pos, "invalid time", format!("{field} {text:?}"));
    };
    let Some(service) = non_empty(rec.event_source.as_deref()) else {
        return out.error(pos, "missing field", "no eventSource");
    };
    let Some(operation) = non_empty(rec.event_name.as_deref()) else {
        return out.error(pos, "missing field", "no eventName");
    };
    let service = if service == RDS_DATA_ALIAS {
        RDS_DATA
    } else {
        service
    };

    let params = rec.request_parameters.take().unwrap_or_default();
    let resources = rec.resources.as_deref().unwrap_or_default();
    let mut call = CloudApiCall {
        provider: "aws".to_owned(),
        service: service.to_owned(),
        operation: operation.to_owned(),
        region: owned(rec.aws_region.as_deref()),
        source_ip: owned(rec.source_ip_address.as_deref()),
        user_agent: owned(rec.user_agent.as_deref()),
        error: owned(rec.error_code.as_deref()),
        ..Default::default()
    };
    match service {
        RDS_DATA => call.resource = params.get("resourceArn").map(str::to_owned),
        "rds.amazonaws.com" => rds(&mut call, operation, &params, resources),
        "s3.amazonaws.com" | "s3-outposts.amazonaws.com" => s3(&mut call, &params, resources),
        _ => {}
    }
    if call.resource.is_none() {
        call.resource = resources
            .iter()
            .find_map(|r| non_empty(r.arn.as_deref()))
            .map(str::to_owned);
    }
    if let Some(extra) = &rec.additional_event_data {
        call.bytes_in = extra.bytes_transferred_in;
        call.bytes_out = extra.bytes_transferred_out;
    }
    let id = match non_empty(rec.event_id.as_deref()) {
        Some(id) => id.to_owned(),
        None => fallback_id(rec, time, &params),
    };
    call.parameters = params.0;

    let identity = rec.user_identity.as_ref();
    let domain = non_empty(rec.recipient_account_id.as_deref())
        .or_else(|| identity.and_then(|i| non_empty(i.account_id.as_deref())));
    out.event(Event {
        time,
        source: SOURCE,
        id,
        device: Device {
            domain: domain.map(str::to_owned),
            ..Default::default()
        },
        actor: identity.map(actor).unwrap_or_default(),
        process: None,
        activity: Activity::CloudApi(call),
    });
}

fn actor(id: &UserIdentity<'_>) -> Actor {
    let kind = non_empty(id.kind.as_deref());
    let arn = non_empty(id.arn.as_deref());
    Actor {
        user: user_name(id, kind, arn),
        arn: arn.map(str::to_owned),
        issuer_arn: id
            .session_context
            .as_ref()
            .and_then(|c| c.session_issuer.as_ref())
            .and_then(|i| non_empty(i.arn.as_deref()))
            .map(str::to_owned),
        access_key_id: owned(id.access_key_id.as_deref()),
        identity_type: kind.map(str::to_owned),
        ..Default::default()
    }
}

/// `userName` when logged, else the name part of the principal: the
/// session of an assumed role (`assumed-role/ROLE/SESSION`), the name of a
/// federated user, `root` for the account root, the service for
/// `AWSService`, and otherwise the last segment of the ARN or principal id.
fn user_name(id: &UserIdentity<'_>, kind: Option<&str>, arn: Option<&str>) -> Option<String> {
    if let Some(name) = non_empty(id.user_name.as_deref()) {
        return Some(name.to_owned());
    }
    if kind == Some("AWSService") {
        return owned(id.invoked_by.as_deref());
    }
    if let Some(arn) = arn {
        // arn:partition:service:region:account:resource
        let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
        let name = resource.rsplit('/').next().unwrap_or(resource);
        return non_empty(Some(name)).map(str::to_owned);
    }
    let principal = non_empty(id.principal_id.as_deref())?;
    // AssumedRole principal ids are `ROLEID:SESSION`.
    Some(principal.rsplit(':').next().unwrap_or(principal).to_owned())
}

/// RDS: the export source, or the snapshot being shared.
fn rds(
    call: &mut CloudApiCall,
    operation: &str,
    params: &RequestParameters,
    resources: &[Resource],
) {
    let snapshot = match operation {
        "StartExportTask" => {
            call.resource = params.get("sourceArn").map(str::to_owned);
            return;
        }
        "ModifyDBSnapshotAttribute" => ("dBSnapshotIdentifier", ":snapshot:"),
        "ModifyDBClusterSnapshotAttribute" => ("dBClusterSnapshotIdentifier", ":cluster-snapshot:"),
        _ => return,
    };
    let (param, arn_part) = snapshot;
    call.resource = resources
        .iter()
        .filter_map(|r| non_empty(r.arn.as_deref()))
        .find(|arn| arn.contains(arn_part))
        .or_else(|| params.get(param))
        .map(str::to_owned);
}

/// S3: bucket, key and the object's ARN.
fn s3(call: &mut CloudApiCall, params: &RequestParameters, resources: &[Resource]) {
    let bucket = params.get("bucketName");
    let object_arn = resource_arn(resources, |t| t.ends_with("::Object"));
    let key = params
        .get("key")
        .or_else(|| params.get("Key"))
        .or_else(|| object_arn.and_then(|arn| s3_key_from_arn(arn, bucket)));
    call.bucket = bucket.map(str::to_owned);
    call.key = key.map(str::to_owned);
    call.resource = match (object_arn, bucket, key) {
        (Some(arn), _, _) => Some(arn.to_owned()),
        (None, Some(b), Some(k)) => Some(format!("arn:aws:s3:::{b}/{k}")),
        (None, Some(b), None) => Some(
            resource_arn(resources, |t| t.ends_with("::Bucket"))
                .map(str::to_owned)
                .unwrap_or_else(|| format!("arn:aws:s3:::{b}")),
        ),
        (None, None, _) => None,
    };
}

fn resource_arn<'r>(resources: &'r [Resource], kind: impl Fn(&str) -> bool) -> Option<&'r str> {
    resources
        .iter()
        .find(|r| r.kind.as_deref().is_some_and(&kind))
        .and_then(|r| non_empty(r.arn.as_deref()))
}

/// The key of `arn:PARTITION:s3:::BUCKET/KEY` (only the plain S3 form: an
/// Outposts or access-point ARN has more path before the key).
fn s3_key_from_arn<'r>(arn: &'r str, bucket: Option<&str>) -> Option<&'r str> {
    let (_, rest) = arn.split_once(":s3:::")?;
    let (arn_bucket, key) = rest.split_once('/')?;
    if bucket.is_some_and(|b| b != arn_bucket) {
        return None;
    }
    non_empty(Some(key))
}

/// A stable id for a record without `eventID` (eventVersion 1.0
/// records): FNV-1a over its time, source, name, identity, address, agent
/// and request parameters, so the same record gets the same id however it
/// is laid out.
fn fallback_id(rec: &Record<'_>, time: i64, params: &RequestParameters) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes.iter().chain(b"\x1f") {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    feed(&time.to_le_bytes());
    for field in [
        &rec.event_source,
        &rec.event_name,
        &rec.request_id,
        &rec.source_ip_address,
        &rec.user_agent,
        &rec.error_code,
    ] {
        feed(field.as_deref().unwrap_or_default().as_bytes());
    }
    if let Some(id) = &rec.user_identity {
        feed(id.arn.as_deref().unwrap_or_default().as_bytes());
        feed(id.principal_id.as_deref().unwrap_or_default().as_bytes());
    }
    for (k, v) in &params.0 {
        feed(k.as_bytes());
        feed(v.as_bytes());
    }
    format!("fnv1a:{h:016x}")
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

fn owned(s: Option<&str>) -> Option<String> {
    non_empty(s).map(str::to_owned)
}
