//! From an event to an observation: which leg it can feed, for which
//! identity or flow, and what matching needs, with its evidence; or
//! nothing when the event cannot matter. Observations wait in the reorder
//! buffer until the watermark passes them, so they are compact and
//! serialisable.

use std::net::IpAddr;

use dumpwatch_sdk::address::to_ip;
use dumpwatch_sdk::evidence::{Detail, StoredEvidence};
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::types::{Activity, CloudApiCall, Event, NetworkFlow};
use dumpwatch_sdk::uid::event_key;
use serde::{Deserialize, Serialize};

use crate::config::{
    Config, DATA_API_SERVICES, RDS_SERVICE, S3_SERVICES, SNAPSHOT_EXPORT, SNAPSHOT_SHARES,
};

/// Legs, in the order findings list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Leg {
    Query = 0,
    Export = 1,
    Flow = 2,
    Snapshot = 3,
}

pub const LEG_NAMES: [&str; 4] = ["query", "export", "flow", "snapshot"];

impl Leg {
    pub fn index(self) -> u8 {
        self as u8
    }

    pub fn name(self) -> &'static str {
        LEG_NAMES[usize::from(self.index())]
    }
}

/// What an RDS snapshot call did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SnapshotAction {
    /// StartExportTask to this bucket.
    Export { bucket: Option<Box<str>> },
    /// `restore` permission added for these accounts (`all`: public).
    Share { accounts: Box<str>, public: bool },
}

/// The part of an event that matters, by leg.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Fact {
    /// A successful Data API statement.
    Statement {
        identity: Sym,
        /// Not allowed by IAMAccessPatterns.
        unauthorized: bool,
        cluster: Option<Sym>,
    },
    /// A successful S3 write: a PutObject, an UploadPart or the completion
    /// of a multipart upload.
    Write {
        identity: Sym,
        bucket: Sym,
        object: Option<Box<str>>,
        /// Upload id of a multipart upload's part or completion.
        upload: Option<Box<str>>,
        /// Object bytes received (0 for a completion).
        bytes: u64,
        /// The key matches ExportFilePatterns.
        named: bool,
    },
    /// Bytes sent from a database address to an external one.
    Flow {
        src: IpAddr,
        dst: IpAddr,
        bytes: u64,
        cluster: Option<Sym>,
    },
    /// An RDS snapshot export or share.
    Snapshot {
        identity: Sym,
        resource: Box<str>,
        action: SnapshotAction,
    },
}

/// A relevant event, reduced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// [`event_key`] of source and id: tells duplicates apart.
    pub key: u64,
    pub time: i64,
    pub fact: Fact,
    pub evidence: StoredEvidence,
}

/// The observation an event makes, if any.
pub fn observe(event: &Event, config: &Config) -> Option<Observation> {
    let (fact, leg) = match &event.activity {
        Activity::CloudApi(call) => cloud_fact(event, call, config)?,
        Activity::Network(flow) => (flow_fact(flow, config)?, Leg::Flow),
        _ => return None,
    };
    let mut evidence = StoredEvidence::from_event(leg.index(), event);
    if let (Fact::Write { bytes: 0, .. }, Detail::Data { bytes, .. }) =
        (&fact, &mut evidence.detail)
    {
        // A completion's bytesTransferredIn is its XML part list, not data.
        *bytes = None;
    }
    Some(Observation {
        key: event_key(&event.source, &event.id),
        time: event.time,
        fact,
        evidence,
    })
}

fn cloud_fact(event: &Event, call: &CloudApiCall, config: &Config) -> Option<(Fact, Leg)> {
    if call.error.as_deref().is_some_and(|e| !e.is_empty()) {
        return None;
    }
    let service = call.service.as_str();
    let operation = call.operation.as_str();
    if DATA_API_SERVICES.contains(&service) {
        if !config.operations.iter().any(|op| op == operation) {
            return None;
        }
        let actor = &event.actor;
        let allowed = config.identities.allows(
            text(&actor.arn),
            text(&actor.issuer_arn),
            text(&actor.access_key_id),
        );
        let fact = Fact::Statement {
            identity: identity(event)?,
            unauthorized: allowed.is_none(),
            cluster: text(&call.resource).map(Sym::new),
        };
        return Some((fact, Leg::Query));
    }
    if S3_SERVICES.contains(&service) {
        let upload = param(call, "uploadId").map(Box::from);
        let bytes = match operation {
            "PutObject" | "UploadPart" => call.bytes_in.unwrap_or(0),
            "CompleteMultipartUpload" if upload.is_some() => 0,
            _ => return None,
        };
        let object = text(&call.key);
        let named = object.is_some_and(|key| config.export_files.matches(key));
        // A single PutObject that is neither named like an export nor big
        // enough can never become one; parts are summed first.
        if upload.is_none() && !named && bytes <= config.export_bytes {
            return None;
        }
        let bucket = text(&call.bucket).or_else(|| bucket_of(text(&call.resource)?))?;
        let fact = Fact::Write {
            identity: identity(event)?,
            bucket: Sym::new(bucket),
            object: object.map(Box::from),
            upload,
            bytes,
            named,
        };
        return Some((fact, Leg::Export));
    }
    if service == RDS_SERVICE {
        let action = if operation == SNAPSHOT_EXPORT {
            SnapshotAction::Export {
                bucket: param(call, "s3BucketName").map(Box::from),
            }
        } else if SNAPSHOT_SHARES.contains(&operation) {
            if !param(call, "attributeName").is_some_and(|a| a.eq_ignore_ascii_case("restore")) {
                return None;
            }
            let accounts = param(call, "valuesToAdd")?;
            let public = accounts
                .split(',')
                .any(|value| value.trim().eq_ignore_ascii_case("all"));
            SnapshotAction::Share {
                accounts: Box::from(accounts),
                public,
            }
        } else {
            return None;
        };
        let resource = text(&call.resource)
            .or_else(|| param(call, "sourceArn"))
            .or_else(|| param(call, "dBClusterSnapshotIdentifier"))
            .or_else(|| param(call, "dBSnapshotIdentifier"))
            .unwrap_or("(unnamed snapshot)");
        let fact = Fact::Snapshot {
            identity: identity(event)?,
            resource: Box::from(resource),
            action,
        };
        return Some((fact, Leg::Snapshot));
    }
    None
}

fn flow_fact(flow: &NetworkFlow, config: &Config) -> Option<Fact> {
    if config.databases.is_empty() || flow.allowed == Some(false) {
        return None;
    }
    let bytes = flow.bytes_out.filter(|&b| b > 0)?;
    let src = to_ip(flow.src.ip.as_ref()?).to_canonical();
    let dst = to_ip(flow.dst.ip.as_ref()?).to_canonical();
    if config.internal.contains(dst) {
        return None;
    }
    let database = config.database_of(src)?;
    Some(Fact::Flow {
        src,
        dst,
        bytes,
        cluster: database.cluster.as_deref().map(Sym::new),
    })
}

/// The caller: identity ARN, else access key id, else user name.
fn identity(event: &Event) -> Option<Sym> {
    let actor = &event.actor;
    text(&actor.arn)
        .or_else(|| text(&actor.access_key_id))
        .or_else(|| text(&actor.user))
        .map(Sym::new)
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

fn param<'a>(call: &'a CloudApiCall, name: &str) -> Option<&'a str> {
    call.parameters
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .filter(|v| !v.is_empty())
}

/// The bucket of an S3 ARN (`arn:aws:s3:::bucket/key`).
fn bucket_of(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:aws:s3:::")?;
    let bucket = rest.split('/').next()?;
    (!bucket.is_empty()).then_some(bucket)
}
