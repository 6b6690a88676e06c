//! The finding of an RDS snapshot event: an export to S3
//! (StartExportTask) or a snapshot shared with another account or made
//! public (`restore` attribute). Each event is a finding of its own.

use dumpwatch_sdk::attack;
use dumpwatch_sdk::severity;
use dumpwatch_sdk::types::{Finding, Severity};
use dumpwatch_sdk::uid::finding_uid;

use dumpwatch_sdk::intern::Sym;

use super::entity;
use crate::manifest::ID;
use crate::observe::{LEG_NAMES, Observation, SnapshotAction};

/// The finding of the snapshot event `obs`, by `identity` on `resource`.
pub fn finding(
    obs: &Observation,
    identity: &Sym,
    resource: &str,
    action: &SnapshotAction,
) -> Finding {
    let who = obs
        .evidence
        .user
        .as_ref()
        .map(|u| u.to_string())
        .unwrap_or_else(|| identity.to_string());
    let mut entities = vec![entity("database", resource), entity("identity", identity)];
    let (title, description, severity, mut reasons) = match action {
        SnapshotAction::Export { bucket } => {
            let to = bucket
                .as_deref()
                .map(|b| format!(" to s3://{b}"))
                .unwrap_or_default();
            if let Some(bucket) = bucket {
                entities.push(entity("bucket", bucket));
            }
            (
                format!("RDS snapshot {resource} exported{to} by {who}"),
                format!(
                    "{identity} started an export task (StartExportTask) of {resource}{to}: the database \
                     content is written to S3 as Parquet files. Check that this export is expected and who \
                     can read the bucket."
                ),
                Severity::Medium,
                vec![format!("StartExportTask of {resource}{to} by {identity}")],
            )
        }
        SnapshotAction::Share { accounts, public } => {
            entities.push(entity("destination", accounts));
            if *public {
                (
                    format!("RDS snapshot {resource} made public by {who}"),
                    format!(
                        "{identity} added `all` to the restore attribute of {resource}: any AWS account can \
                         now copy or restore the snapshot, and with it the database."
                    ),
                    Severity::Critical,
                    vec![
                        format!(
                            "restore permission on {resource} given to {accounts} by {identity}"
                        ),
                        "shared with all (public): +1 severity".to_string(),
                    ],
                )
            } else {
                (
                    format!("RDS snapshot {resource} shared with account {accounts} by {who}"),
                    format!(
                        "{identity} gave account {accounts} the restore permission on {resource}: that \
                         account can now copy or restore the snapshot, and with it the database. Check \
                         that the account is yours."
                    ),
                    Severity::High,
                    vec![format!(
                        "restore permission on {resource} given to {accounts} by {identity}"
                    )],
                )
            }
        }
    };
    reasons.push(format!("severity {}", severity::name(severity)));
    Finding {
        uid: finding_uid(ID, &["snapshot", resource], &obs.evidence.id),
        title,
        description,
        severity,
        reasons,
        entities,
        start_time: obs.time,
        end_time: obs.time,
        attacks: vec![attack::T1213_006.to_wit(), attack::T1537.to_wit()],
        legs: vec!["snapshot".to_string()],
        evidence: vec![obs.evidence.to_wit(&LEG_NAMES)],
        event_count: 1,
    }
}
