//! Flow windows: bytes sent from one database address to one external
//! address, summed over a TimeWindow anchored at the first flow record of
//! the pair. A window whose sum passes FlowBytesThreshold is a finding.

use std::net::IpAddr;

use dumpwatch_sdk::collections::reserve_one;
use dumpwatch_sdk::evidence::EvidenceLedger;
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::uid::finding_uid_bytes;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::manifest::ID;
use crate::observe::{Leg, Observation};

/// A database address and the external address it sent to.
pub type FlowKey = (IpAddr, IpAddr);

/// One flow window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowWindow {
    #[serde(with = "dumpwatch_sdk::uid::raw")]
    pub uid: [u8; 16],
    pub anchor: i64,
    pub end: i64,
    pub bytes: u64,
    pub records: u32,
    /// The cluster of the database network (an `ARN=CIDR` entry).
    pub cluster: Option<Sym>,
    pub start_time: i64,
    pub end_time: i64,
    pub ledger: EvidenceLedger,
    pub emitted: u64,
    pub changed: bool,
}

impl FlowWindow {
    pub fn is_finding(&self, config: &Config) -> bool {
        self.bytes > config.flow_bytes
    }
}

/// Place a flow record of `key` in `windows` (sorted by anchor). Returns
/// true when it opened a window.
pub fn on_flow(
    windows: &mut Vec<FlowWindow>,
    key: FlowKey,
    obs: &Observation,
    bytes: u64,
    cluster: Option<&Sym>,
    late: bool,
    config: &Config,
) -> bool {
    let time = obs.time;
    let covering = windows
        .iter()
        .position(|w| w.anchor <= time && time <= w.end);
    let reach = time.saturating_add(config.window_ms);
    let before = || {
        late.then(|| {
            windows
                .iter()
                .position(|w| w.anchor > time && w.anchor <= reach)
        })
        .flatten()
    };
    let mut opened = false;
    let index = match covering.or_else(before) {
        Some(index) => index,
        None => {
            if windows.iter().any(|w| w.ledger.contains(obs.key)) {
                return false;
            }
            let (src, dst) = (key.0.to_string(), key.1.to_string());
            let uid = finding_uid_bytes(ID, &["flow", &src, &dst], &obs.evidence.id);
            let window = FlowWindow {
                uid,
                anchor: time,
                end: time.saturating_add(config.window_ms),
                bytes: 0,
                records: 0,
                cluster: cluster.cloned(),
                start_time: time,
                end_time: time,
                ledger: EvidenceLedger::new(),
                emitted: 0,
                changed: false,
            };
            let at = windows.partition_point(|w| w.anchor <= time);
            reserve_one(windows);
            windows.insert(at, window);
            opened = true;
            at
        }
    };
    let window = &mut windows[index];
    let added = window.ledger.add(
        obs.key,
        Leg::Flow.index(),
        time,
        &obs.evidence.id,
        config.max_evidence,
        || obs.evidence.clone(),
    );
    if added {
        window.bytes = window.bytes.saturating_add(bytes);
        window.records = window.records.saturating_add(1);
        window.start_time = window.start_time.min(time);
        window.end_time = window.end_time.max(time);
        if window.cluster.is_none() {
            window.cluster = cluster.cloned();
        }
        window.changed = true;
    }
    opened
}
