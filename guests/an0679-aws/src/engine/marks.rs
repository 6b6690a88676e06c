//! Which clusters have a finding of each kind, so a query-and-export
//! finding and a flow finding on the same cluster, at overlapping times,
//! raise each other.
//!
//! Marks are derived from the windows (a window that is a finding marks each
//! of its clusters), so they are not part of snapshots: `restore` rebuilds
//! them. Adding a mark names the windows of the other kind it now
//! corroborates, so they are rendered again.

use dumpwatch_sdk::collections::{Map, new_map};
use dumpwatch_sdk::intern::Sym;

use super::flow::FlowKey;

/// The window a mark belongs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    /// A query window: identity and anchor.
    Query(Sym, i64),
    /// A flow window: database and destination address, anchor.
    Flow(FlowKey, i64),
}

impl Owner {
    fn is_query(&self) -> bool {
        matches!(self, Owner::Query(..))
    }
}

/// A finding on a cluster over a span of event time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub owner: Owner,
    pub start: i64,
    pub end: i64,
    pub uid: [u8; 16],
    /// What an analyst reads: the identity, or `src to dst`.
    pub label: Box<str>,
}

impl Mark {
    fn overlaps(&self, start: i64, end: i64) -> bool {
        self.start <= end && start <= self.end
    }
}

#[derive(Debug, Default)]
pub struct ClusterMarks {
    by_cluster: Map<Sym, Vec<Mark>>,
}

impl ClusterMarks {
    pub fn new() -> ClusterMarks {
        ClusterMarks {
            by_cluster: new_map(),
        }
    }

    /// Mark `cluster`; returns the owners of the other kind whose findings
    /// this mark now corroborates (none when it was marked already).
    pub fn add(&mut self, cluster: &Sym, mark: Mark) -> Vec<Owner> {
        let marks = self.by_cluster.entry(cluster.clone()).or_default();
        if marks.iter().any(|m| m.owner == mark.owner) {
            return Vec::new();
        }
        let others = marks
            .iter()
            .filter(|m| {
                m.owner.is_query() != mark.owner.is_query() && m.overlaps(mark.start, mark.end)
            })
            .map(|m| m.owner.clone())
            .collect();
        marks.push(mark);
        others
    }

    /// The earliest finding of the other kind than `query` (a query window
    /// when false) on one of `clusters`, overlapping `start..=end`.
    pub fn corroborating(
        &self,
        clusters: &[Sym],
        query: bool,
        start: i64,
        end: i64,
    ) -> Option<&Mark> {
        clusters
            .iter()
            .filter_map(|cluster| self.by_cluster.get(cluster))
            .flatten()
            .filter(|m| m.owner.is_query() != query && m.overlaps(start, end))
            .min_by(|a, b| (a.start, &a.owner).cmp(&(b.start, &b.owner)))
    }

    /// Forget the marks of windows that are gone.
    pub fn retain(&mut self, mut keep: impl FnMut(&Owner) -> bool) {
        for marks in self.by_cluster.values_mut() {
            marks.retain(|m| keep(&m.owner));
        }
        self.by_cluster.retain(|_, marks| !marks.is_empty());
    }

    pub fn clear(&mut self) {
        self.by_cluster = new_map();
    }
}
