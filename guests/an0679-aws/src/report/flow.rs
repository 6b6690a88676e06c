//! The finding of a flow window: more than FlowBytesThreshold sent from a
//! database address to one external address within a TimeWindow.

use dumpwatch_sdk::attack;
use dumpwatch_sdk::severity::{self, raise};
use dumpwatch_sdk::types::{Finding, Severity};
use dumpwatch_sdk::uid::to_hex;

use super::{bytes_text, duration_text, entity, plural};
use crate::config::Config;
use crate::engine::marks::ClusterMarks;
use crate::engine::{FlowKey, FlowWindow};
use crate::observe::{LEG_NAMES, Leg};

pub fn finding(
    key: FlowKey,
    window: &FlowWindow,
    marks: &ClusterMarks,
    config: &Config,
) -> Finding {
    let (src, dst) = (key.0.to_string(), key.1.to_string());
    let cluster = window.cluster.as_deref();
    let of_cluster = cluster.map(|c| format!(" ({c})")).unwrap_or_default();
    let mut severity = Severity::Medium;
    let mut reasons = vec![format!(
        "{} sent from database address {src}{of_cluster} to external address {dst} in {} within TimeWindow \
         ({}), more than FlowBytesThreshold ({})",
        bytes_text(window.bytes),
        plural(window.records, "flow record", "flow records"),
        duration_text(window.end - window.anchor),
        bytes_text(config.flow_bytes),
    )];
    let clusters: Vec<_> = window.cluster.iter().cloned().collect();
    if let Some(mark) = marks.corroborating(&clusters, false, window.anchor, window.end) {
        severity = raise(severity, 1);
        reasons.push(format!(
            "{} read the same cluster through the RDS Data API and exported to S3 (finding {}): +1 severity",
            mark.label,
            to_hex(&mark.uid)
        ));
    }
    reasons.push(format!("severity {}", severity::name(severity)));

    let mut entities = vec![entity("host", &src), entity("destination", &dst)];
    if let Some(cluster) = cluster {
        entities.push(entity("database", cluster));
    }
    Finding {
        uid: to_hex(&window.uid),
        title: format!(
            "Database egress: {} from {src} to {dst}",
            bytes_text(window.bytes)
        ),
        description: format!(
            "VPC Flow Logs record {} sent from the database address {src}{of_cluster} to {dst}, outside \
             InternalNetworks, within {}. A database answering a client outside the network, or a host \
             sending a dump out, looks like this. Check who connected from {dst}.",
            bytes_text(window.bytes),
            duration_text(window.end - window.anchor),
        ),
        severity,
        reasons,
        entities,
        start_time: window.start_time,
        end_time: window.end_time,
        attacks: vec![attack::T1213_006.to_wit(), attack::T1048.to_wit()],
        legs: vec![Leg::Flow.name().to_string()],
        evidence: window.ledger.to_wit(&LEG_NAMES),
        event_count: window.records,
    }
}
