//! The egress leg of one window: the connections and flows after the first
//! export, and the rule that decides whether they add up to egress.
//!
//! - **Volume**: network sensor flows from the host to external addresses
//!   are summed (bytes the host sent). Sensors cannot tell users apart, so
//!   every flow of the host counts for every window of the host. At
//!   MaxTransferVolume the leg is met.
//! - **Connections**: where no byte count exists, Sysmon connections by the
//!   tool's process tree or user are counted; at EgressConnectionThreshold
//!   the leg is met. A connection that a sensor flow also saw (same
//!   destination address and port, same source port, starting within
//!   [`FLOW_MATCH_MS`]) is *measured*: its bytes are in the volume, so it is
//!   not counted again as a connection.
//!
//! Everything here is a function of the set of items (sums, the earliest
//! [`MAX_ITEMS`] kept), never of arrival order.

use std::net::IpAddr;

use dumpwatch_sdk::collections::reserve_one;
use dumpwatch_sdk::evidence::EvidenceLedger;
use dumpwatch_sdk::intern::Sym;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::names::{Answer, NameBook};
use crate::observe::{Answers, Candidate, Kind, Leg};

/// Most connections and flows a window keeps for matching and naming (the
/// earliest); the sums and counts still cover all of them.
pub const MAX_ITEMS: usize = 256;
/// How far apart a Sysmon connection and a sensor flow of the same
/// connection may start.
pub const FLOW_MATCH_MS: i64 = 10_000;

/// One connection or flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EgressItem {
    pub key: u64,
    pub time: i64,
    pub flow: bool,
    pub src_port: Option<u16>,
    pub dst: IpAddr,
    pub port: Option<u16>,
    pub bytes: Option<u64>,
    /// The acting process (connections).
    pub guid: Option<Sym>,
    /// The record's own name for the destination (reverse lookup).
    pub hostname: Option<Sym>,
    /// The answer from the host's DNS and TLS answers ([`NameBook`]) that
    /// names the destination.
    pub named_by: Option<Answer>,
}

impl EgressItem {
    /// The destination's best name: the one asked for, else the record's.
    pub fn best_name(&self) -> Option<&Sym> {
        self.name().or(self.hostname.as_ref())
    }

    /// The name the host's answers give the destination.
    pub fn name(&self) -> Option<&Sym> {
        self.named_by.as_ref().map(|answer| &answer.name)
    }
}

/// The egress of one window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Egress {
    /// The earliest items, sorted by (time, key).
    pub items: Vec<EgressItem>,
    /// Evidence of the earliest events, duplicate detection, the count.
    pub ledger: EvidenceLedger,
    /// Bytes sent in all flows (saturating).
    pub bytes: u64,
    /// Connections and flows in total.
    pub connections: u32,
    pub flows: u32,
    /// Connections not kept in `items`: counted as unmeasured.
    pub connections_not_kept: u32,
    /// Earliest and latest event times.
    pub first: i64,
    pub last: i64,
}

impl Egress {
    /// Add a connection or flow; false when it already counted.
    pub fn add(&mut self, candidate: &Candidate, book: &NameBook, config: &Config) -> bool {
        // Connections and flows always carry both (see `observe`).
        let (Some(net), Some(evidence)) = (&candidate.net, &candidate.evidence) else {
            return false;
        };
        let added = self.ledger.add(
            candidate.key,
            Leg::Egress.index(),
            candidate.time,
            candidate.id(),
            config.max_evidence,
            || (**evidence).clone(),
        );
        if !added {
            return false;
        }
        let flow = candidate.kind == Kind::Flow;
        if flow {
            self.flows = self.flows.saturating_add(1);
            self.bytes = self.bytes.saturating_add(net.bytes.unwrap_or(0));
        } else {
            self.connections = self.connections.saturating_add(1);
        }
        if self.ledger.count() == 1 {
            (self.first, self.last) = (candidate.time, candidate.time);
        } else {
            self.first = self.first.min(candidate.time);
            self.last = self.last.max(candidate.time);
        }
        let guid = candidate.process.guid.clone();
        let item = EgressItem {
            key: candidate.key,
            time: candidate.time,
            flow,
            src_port: net.src_port,
            dst: net.dst,
            port: net.port,
            bytes: net.bytes,
            named_by: book.resolve(
                net.dst,
                candidate.time,
                guid.as_ref(),
                config.name_retention_ms,
            ),
            guid,
            hostname: net.hostname.clone(),
        };
        let at = self
            .items
            .partition_point(|kept| (kept.time, kept.key) < (item.time, item.key));
        if self.items.len() < MAX_ITEMS {
            reserve_one(&mut self.items);
            self.items.insert(at, item);
        } else if at < MAX_ITEMS {
            self.items.insert(at, item);
            if let Some(out) = self.items.pop()
                && !out.flow
            {
                self.connections_not_kept = self.connections_not_kept.saturating_add(1);
            }
        } else if !flow {
            self.connections_not_kept = self.connections_not_kept.saturating_add(1);
        }
        true
    }

    /// Offer a new answer (for the addresses in `ips`) to the items it
    /// may name; true when a name changed. An item keeps its answer unless
    /// the new one ranks higher ([`Answer::rank`]).
    pub fn rename(&mut self, answers: &Answers, ips: &[IpAddr], retention_ms: i64) -> bool {
        let answer = Answer {
            time: answers.time,
            name: answers.name.clone(),
            guid: answers.guid.clone(),
        };
        let mut changed = false;
        for item in &mut self.items {
            if !ips.contains(&item.dst) || !answer.names_at(item.time, retention_ms) {
                continue;
            }
            let guid = item.guid.as_ref();
            let better = item
                .named_by
                .as_ref()
                .is_none_or(|kept| answer.rank(guid) > kept.rank(guid));
            if better {
                item.named_by = Some(answer.clone());
                changed = true;
            }
        }
        changed
    }

    /// Whether a connection was also seen as a sensor flow.
    fn is_measured(&self, connection: &EgressItem) -> bool {
        connection.src_port.is_some()
            && self.items.iter().any(|flow| {
                flow.flow
                    && flow.dst == connection.dst
                    && flow.port == connection.port
                    && flow.src_port == connection.src_port
                    && (flow.time - connection.time).abs() <= FLOW_MATCH_MS
            })
    }

    /// Connections no sensor flow measured.
    pub fn unmeasured(&self) -> u32 {
        let kept = self
            .items
            .iter()
            .filter(|item| !item.flow && !self.is_measured(item))
            .count();
        u32::try_from(kept)
            .unwrap_or(u32::MAX)
            .saturating_add(self.connections_not_kept)
    }

    /// Why the leg is met, or none when it is not.
    pub fn met(&self, config: &Config) -> Option<EgressBasis> {
        if self.bytes >= config.max_transfer {
            return Some(EgressBasis::Volume(self.bytes));
        }
        let unmeasured = self.unmeasured();
        (unmeasured >= config.connection_threshold).then_some(EgressBasis::Connections(unmeasured))
    }

    /// The earliest item whose destination is cloud storage, with the
    /// matching name.
    pub fn cloud<'a>(&'a self, config: &Config) -> Option<(&'a EgressItem, &'a Sym)> {
        self.items.iter().find_map(|item| {
            [item.name(), item.hostname.as_ref()]
                .into_iter()
                .flatten()
                .find(|name| config.cloud.matches(name))
                .map(|name| (item, name))
        })
    }

    /// The item of an event key, if kept.
    pub fn item(&self, key: u64) -> Option<&EgressItem> {
        self.items.iter().find(|item| item.key == key)
    }
}

/// What made the egress leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EgressBasis {
    /// Bytes sent, seen by a sensor.
    Volume(u64),
    /// Unmeasured connections.
    Connections(u32),
}
