//! # AN0676 — Linux: database client by an unexpected user → dump → egress
//!
//! MITRE ATT&CK detection strategy DET0242 (T1213.006 Databases), Linux
//! analytic. Per host and accountable user, within TimeWindow of a database
//! client start:
//!
//! 1. **exec** — auditd process start of a client in `DBClientTools` by a
//!    user not in `AllowedDBClients`;
//! 2. **dump** — a file matching `DumpFilePattern` written by that user or
//!    the client's process tree (including the shell-redirection case where
//!    the file is opened just before the exec);
//! 3. **egress** — after the dump, an auditd connect to an external address
//!    (not a database port), or a network sensor's upload from the host.
//!
//! exec + dump is a medium finding; the egress raises the same finding to
//! high and adds T1048; a dump under a home directory, a web server
//! ancestor and a start outside automation windows each raise it one more
//! level. `README.md` beside this crate documents every tunable and the
//! event-time behaviour.
//!
//! Modules: [`manifest`] (id, tunables), [`config`] (typed tunables,
//! subscriptions), [`observe`] (event → leg candidate), [`window`]
//! (attribution rules), [`engine`] (windows, pending events, event time,
//! snapshots), [`report`] (window → finding).

#![cfg_attr(test, allow(clippy::unwrap_used))]

#[cfg(not(target_arch = "wasm32"))]
pub mod bench_stream;
pub mod config;
pub mod engine;
pub mod manifest;
pub mod observe;
pub mod report;
pub mod window;

#[cfg(test)]
mod tests;

use dumpwatch_sdk::types::{
    ConfigError, Event, Finding, Inspection, Manifest, SnapshotMode, Subscription, Timestamp,
    Tunable,
};
use dumpwatch_sdk::{Analytic, RestoreParts};

use crate::config::Config;
use crate::engine::Engine;

/// The analytic: the engine behind the `detector` interface.
#[derive(Default)]
pub struct An0676 {
    engine: Engine,
}

impl An0676 {
    /// The engine, for tests and benches that look inside.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl Analytic for An0676 {
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

    fn restore_in_parts(&mut self) -> Option<&mut dyn RestoreParts> {
        Some(&mut self.engine)
    }
}

dumpwatch_sdk::export_analytic!(An0676);
