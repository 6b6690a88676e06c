//! # AN0680 — SaaS: bulk or unusual reads of sensitive Snowflake tables, bulk SharePoint and OneDrive downloads
//!
//! MITRE ATT&CK detection strategy DET0242 (T1213.006 Databases), SaaS
//! analytic:
//!
//! - **Snowflake** (`ACCOUNT_USAGE.QUERY_HISTORY`), per user and
//!   TimeWindow: a `SELECT *` or unfiltered read of a table in
//!   `SensitiveTables` above the row or byte thresholds (bulk read); more
//!   than `RepeatedReadThreshold` reads of one sensitive table (repeated
//!   read); a query template (QUERY_PARAMETERIZED_HASH with its version, or
//!   the normalized query shape) never seen for the user nor the role after
//!   the learning period and not in `BaselineQueryTemplates` (new
//!   template);
//! - **Microsoft 365** (unified audit log), per user: more than
//!   `BulkDownloadThreshold` FileDownloaded / FileSyncDownloaded… within
//!   `BulkDownloadWindow`, outside `AllowedApplications` (T1213.002).
//!
//! `OffHoursAccessWindow` raises either one level. `README.md` beside this
//! crate documents every tunable and the event-time behaviour.
//!
//! Modules: [`manifest`] (id, tunables), [`config`] (typed tunables,
//! subscriptions), [`sql`] (query text: shape, tables read), [`template`]
//! (template keys), [`observe`] (event → observation), [`engine`] (reorder
//! buffer, windows, learning, event time, snapshots), [`report`] (window →
//! finding).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod config;
pub mod engine;
pub mod manifest;
pub mod observe;
pub mod report;
pub mod sql;
pub mod template;

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
pub struct An0680 {
    engine: Engine,
}

impl An0680 {
    /// The engine, for tests that look inside.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl Analytic for An0680 {
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

dumpwatch_sdk::export_analytic!(An0680);
