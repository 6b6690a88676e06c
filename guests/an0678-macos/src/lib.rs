//! # AN0678 — macOS: database tool run by a non-admin user → export saved for the user → cloud sync
//!
//! MITRE ATT&CK detection strategy DET0242 (T1213.006 Databases), macOS
//! analytic. Per host and user, within TimeWindow of a database tool start:
//!
//! 1. **exec** — Endpoint Security (`eslogger`) exec or unified-log process
//!    start of a CLI tool in `DBTools` or a GUI application matching
//!    `DBAppBundles` (DBeaver and the Java runtime in its bundle,
//!    TablePlus, Sequel Ace …), by a user who is neither in
//!    `UserPrivilegeLevel` nor in a group there;
//! 2. **export** — a file matching `ExportFilePatterns` written under
//!    Downloads, Documents or Desktop (`ExportLocations`) by that tool's
//!    process or a child of it (eslogger create, write, close-modified,
//!    rename);
//! 3. **egress** — after the export, a network sensor's TLS server name,
//!    HTTP Host or DNS query from the host within `CloudSyncDomainList`.
//!
//! exec + export is a medium finding; a known low-privilege user raises it
//! by `LowPrivilegeRaise` levels, the cloud traffic by one more (T1567.002).
//! `README.md` beside this crate documents every tunable and the event-time
//! behaviour.
//!
//! Modules: [`manifest`] (id, tunables), [`config`] (typed tunables,
//! subscriptions), [`observe`] (event → leg candidate), [`window`]
//! (attribution rules), [`engine`] (windows, pending events, event time,
//! snapshots), [`report`] (window → finding).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod config;
pub mod engine;
pub mod manifest;
pub mod observe;
pub mod report;
pub mod window;

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
pub struct An0678 {
    engine: Engine,
}

impl An0678 {
    /// The engine, for tests that look inside.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl Analytic for An0678 {
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

dumpwatch_sdk::export_analytic!(An0678);
