//! # AN0677 — Windows: database tool from an odd path or parent → export staged → sent out
//!
//! MITRE ATT&CK detection strategy DET0242 (T1213.006 Databases), Windows
//! analytic. Per host and user, within TimeWindow of a database tool start:
//!
//! 1. **exec** — Security 4688 or Sysmon 1 start of a tool in
//!    `DBClientTools` (sqlcmd, bcp, osql …) from outside `KnownDBToolPaths`
//!    or under a parent in `OddParentProcesses` / `WebServerProcesses`;
//! 2. **export** — Sysmon 11 creation of a file matching
//!    `ExportExtensionPatterns` under `ExportLocations`, by the tool's
//!    process tree (ProcessGuid, or pid for 4688), its user, or its parent
//!    shell just before it started (redirection);
//! 3. **archive** — after the export, an archive (`.7z`, `.zip`, `.rar`)
//!    by the tree or user, encrypted when an archiver ran with a password
//!    switch;
//! 4. **egress** — after the export, sensor flows from the host summing to
//!    `MaxTransferVolume`, or Sysmon 3 connections by the tree or user (no
//!    sensor measured them) reaching `EgressConnectionThreshold`; named by
//!    the process's DNS answers or the sensor's TLS server names.
//!
//! exec + export is a medium finding; egress raises it (T1048, or
//! T1567.002 when the destination is cloud storage), an encrypted archive
//! and a web server parent each raise it one more level. `README.md` beside
//! this crate documents every tunable and the event-time behaviour.
//!
//! Modules: [`manifest`] (id, tunables), [`config`] (typed tunables,
//! subscriptions), [`observe`] (event → candidate or answers), [`names`]
//! (cloud destination names per host), [`window`] (attribution rules and
//! the egress decision), [`engine`] (windows, pending events, event time,
//! snapshots), [`report`] (window → finding).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod attacks;
pub mod config;
pub mod engine;
pub mod manifest;
pub mod names;
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
pub struct An0677 {
    engine: Engine,
}

impl An0677 {
    /// The engine, for tests that look inside.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl Analytic for An0677 {
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

dumpwatch_sdk::export_analytic!(An0677);
