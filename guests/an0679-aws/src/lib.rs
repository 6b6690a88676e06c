//! # AN0679 — AWS: database read through the RDS Data API and exported, database egress, snapshot theft
//!
//! MITRE ATT&CK detection strategy DET0242 (T1213.006 Databases), AWS
//! analytic, over CloudTrail and VPC Flow Logs:
//!
//! 1. **query + export** — per identity, RDS Data API statements
//!    (`rdsdata.amazonaws.com` ExecuteStatement, BatchExecuteStatement) by a
//!    caller outside `IAMAccessPatterns`, or more than
//!    `DBQueryVerbosityThreshold` of them in a TimeWindow, followed within
//!    `ExportWindow` by an S3 write of an export-like object or of more than
//!    `S3ExportThreshold` bytes (multipart parts summed per upload id);
//! 2. **flow** — VPC Flow Logs bytes from a database address to one
//!    external address summed over a TimeWindow, above `FlowBytesThreshold`;
//! 3. **snapshot** — an RDS snapshot export (StartExportTask) or a snapshot
//!    shared with another account or made public (T1537).
//!
//! A query-and-export finding and a flow finding on the same cluster raise
//! each other. `README.md` beside this crate documents every tunable and
//! the event-time behaviour.
//!
//! Modules: [`manifest`] (id, tunables), [`config`] (typed tunables,
//! subscriptions), [`observe`] (event → observation), [`engine`] (reorder
//! buffer, windows, uploads, event time, snapshots), [`report`] (window →
//! finding).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod config;
pub mod engine;
pub mod manifest;
pub mod observe;
pub mod report;

#[cfg(test)]
mod tests;

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::types::{
    ConfigError, Event, Finding, Inspection, Manifest, SnapshotMode, Subscription, Timestamp,
    Tunable,
};

use crate::config::Config;
use crate::engine::Engine;

/// The analytic: the engine behind the `detector` interface.
#[derive(Default)]
pub struct An0679 {
    engine: Engine,
}

impl An0679 {
    /// The engine, for tests that look inside.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl Analytic for An0679 {
    fn manifest(&self) -> Manifest {
        manifest::manifest()
    }

    fn configure(&mut self, tunables: Vec<Tunable>) -> Result<Vec<Subscription>, Vec<ConfigError>> {
        let config = Config::from_tunables(&tunables)?;
        let subscriptions = config.subscriptions();
        self.engine.reconfigure(config);
        Ok(subscriptions)
    }

    fn process(&mut self, events: Vec<Event>) -> Vec<Finding> {
        self.engine.process(&events)
    }

    fn advance(&mut self, watermark: Timestamp) -> Vec<Finding> {
        self.engine.advance(watermark)
    }

    fn snapshot(&mut self, mode: SnapshotMode) -> Vec<u8> {
        self.engine.snapshot(mode)
    }

    fn restore(&mut self, entries: Vec<u8>) -> Result<(), String> {
        self.engine.restore(entries)
    }

    fn inspect(&self, limit: u32) -> Inspection {
        self.engine.inspect(limit)
    }
}

dumpwatch_sdk::export_analytic!(An0679);
