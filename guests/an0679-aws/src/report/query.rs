//! The finding of a query window: Data API statements by an identity
//! outside IAMAccessPatterns or above DBQueryVerbosityThreshold, and the
//! S3 exports that followed them.

use dumpwatch_sdk::attack;
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::severity::{self, raise};
use dumpwatch_sdk::types::{Finding, Severity};
use dumpwatch_sdk::uid::to_hex;

use super::{bytes_text, duration_text, entity, plural};
use crate::config::Config;
use crate::engine::QueryWindow;
use crate::engine::marks::ClusterMarks;
use crate::observe::{LEG_NAMES, Leg};

pub fn finding(
    identity: &Sym,
    window: &QueryWindow,
    marks: &ClusterMarks,
    config: &Config,
) -> Finding {
    let who = window
        .ledger
        .first_of(Leg::Query.index())
        .and_then(|e| e.user.as_ref())
        .map(|u| u.to_string())
        .unwrap_or_else(|| identity.to_string());
    let unauthorized = window.unauthorized > 0;
    let verbose = u64::from(window.statements) > config.verbosity;
    let clusters: Vec<&str> = window.clusters.iter().map(|c| &**c).collect();
    let first_object = window.objects.first();
    let objects = window.object_count();
    let export_bytes = window.export_bytes();

    let mut severity = Severity::Medium;
    let mut reasons = Vec::new();
    if unauthorized {
        reasons.push(format!(
            "{} by {identity}, which IAMAccessPatterns does not allow",
            plural(
                window.unauthorized,
                "Data API statement",
                "Data API statements"
            )
        ));
    }
    if verbose {
        reasons.push(format!(
            "{} within TimeWindow ({}), more than DBQueryVerbosityThreshold ({})",
            plural(
                window.statements,
                "Data API statement",
                "Data API statements"
            ),
            duration_text(window.end - window.anchor),
            config.verbosity
        ));
    }
    if let Some(object) = first_object {
        let why = if config.export_files.matches(&object.name) {
            "its key matches ExportFilePatterns".to_string()
        } else {
            format!(
                "more than S3ExportThreshold ({})",
                bytes_text(config.export_bytes)
            )
        };
        reasons.push(format!(
            "{} written to S3 by the same identity within ExportWindow ({}) of a statement, first \
             s3://{}/{} ({}: {why}){}",
            plural(objects, "export", "exports"),
            duration_text(config.export_window_ms),
            object.bucket,
            object.name,
            bytes_text(object.bytes),
            if objects > 1 {
                format!(", {} in all", bytes_text(export_bytes))
            } else {
                String::new()
            }
        ));
    }
    if unauthorized && verbose {
        severity = raise(severity, 1);
        reasons.push(
            "an identity outside IAMAccessPatterns and above the verbosity threshold: +1 severity"
                .into(),
        );
    }
    let corroboration = marks.corroborating(
        &window.clusters,
        true,
        window.anchor,
        window.export_end(config),
    );
    if let Some(mark) = corroboration {
        severity = raise(severity, 1);
        reasons.push(format!(
            "VPC Flow Logs show database egress from the same cluster ({}, finding {}): +1 severity",
            mark.label,
            to_hex(&mark.uid)
        ));
    }
    reasons.push(format!("severity {}", severity::name(severity)));

    let mut entities = vec![entity("identity", identity)];
    if who != **identity {
        entities.push(entity("user", &who));
    }
    for cluster in &clusters {
        entities.push(entity("database", cluster));
    }
    let mut buckets: Vec<&str> = window.objects.iter().map(|o| &*o.bucket).collect();
    buckets.sort_unstable();
    buckets.dedup();
    for bucket in &buckets {
        entities.push(entity("bucket", bucket));
    }
    if let Some(object) = first_object {
        entities.push(entity(
            "file",
            &format!("s3://{}/{}", object.bucket, object.name),
        ));
    }

    let on = if clusters.is_empty() {
        String::new()
    } else {
        format!(" on {}", clusters.join(", "))
    };
    let title = format!("Database read through the RDS Data API by {who}{on}, then exported to S3");
    let mut description = format!(
        "{identity} ran {} through the RDS Data API{on} ({} not allowed by IAMAccessPatterns). CloudTrail logs \
         neither the SQL text nor row counts for the Data API. Within ExportWindow of a statement the same \
         identity wrote {} ({}) to S3",
        plural(window.statements, "statement", "statements"),
        window.unauthorized,
        plural(objects, "export-like object", "export-like objects"),
        bytes_text(export_bytes),
    );
    if let Some(object) = first_object {
        description.push_str(&format!(", first s3://{}/{}", object.bucket, object.name));
    }
    description.push_str(". Check whether this identity should copy database content to S3.");

    let start_time = window
        .objects
        .iter()
        .map(|o| o.first)
        .fold(window.first_statement, i64::min);
    Finding {
        uid: to_hex(&window.uid),
        title,
        description,
        severity,
        reasons,
        entities,
        start_time,
        end_time: window.last_event,
        attacks: vec![attack::T1213_006.to_wit(), attack::T1567_002.to_wit()],
        legs: vec![
            Leg::Query.name().to_string(),
            Leg::Export.name().to_string(),
        ],
        evidence: window.ledger.to_wit(&LEG_NAMES),
        event_count: window.event_count(),
    }
}
