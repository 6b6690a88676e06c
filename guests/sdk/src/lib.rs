//! # dumpwatch-sdk: write dumpwatch analytics in Rust
//!
//! A dumpwatch analytic is a WebAssembly component that exports the
//! `detector` interface of `wit/analytic.wit`: the host hands it batches of
//! normalized events it subscribed to, tells it how far event time has
//! progressed (`advance`), and renders the findings it returns as OCSF
//! Detection Findings. This crate holds everything an analytic needs besides
//! its own logic:
//!
//! | module | what it holds |
//! |---|---|
//! | [`types`] | the WIT data model: `Event`, `Finding`, `Manifest` … |
//! | [`Analytic`], [`export_analytic!`] | the trait to implement and the one-line export glue |
//! | [`log`] | logging to the host (stderr on native targets) |
//! | [`tunables`] | declaring tunables and reading them typed and validated, with every error collected |
//! | [`glob`], [`address`], [`schedule`] | glob lists (name vs path patterns), CIDR sets and internal ranges, weekly time windows |
//! | [`wildcard`] | wildcard lists for text that is not a path (ARNs, table names, user agents): `*` crosses every character |
//! | [`reorder`] | a buffer that releases observations in event-time order once the watermark passed them |
//! | [`digest`] | a stable digest of a finding, to emit a re-rendered finding only when it changed |
//! | [`domain`] | domain lists matching a domain and its subdomains (cloud storage, sync services) |
//! | [`event`] | accountable user, process name, class, destination of an event |
//! | [`state`], [`codec`], [`intern`] | keyed state with dirty tracking, `full`/`changes` snapshots packed as state frames with a format check (interned names written once per full snapshot, by the private `names` module), postcard encoding, interned strings |
//! | [`evidence`], [`uid`], [`severity`], [`attack`] | bounded, order-independent evidence; deterministic finding uids; severity raising; ATT&CK constants |
//! | [`subscribe`] | subscription and field-test constructors |
//! | `testing` | event builders for native unit tests (not in components) |
//!
//! ## Rules every analytic follows
//!
//! - **Event time only.** No clock exists in the sandbox. Windows follow
//!   `event.time`; `advance(watermark)` says no event older than the
//!   watermark is expected any more. The same events in any arrival order
//!   (within the allowed lateness) must give the same findings.
//! - **Deterministic uids.** A finding's uid comes from the analytic id, the
//!   entity and the window's anchoring event ([`uid::finding_uid`]);
//!   returning the same uid again updates the finding.
//! - **Bounded state.** Cap windows and evidence; log a warning when a cap
//!   evicts something. Everything in state must be snapshot-able.
//! - **Bad input is normal input.** Never panic on an event's content.
//!
//! ## A minimal analytic
//!
//! An analytic that raises a low finding for every `pg_dump` started by a
//! user outside an allow-list (no windows, so nothing to snapshot):
//!
//! ```
//! use dumpwatch_sdk::prelude::*;
//!
//! #[derive(Default)]
//! pub struct PgDumpWatch {
//!     allowed: Vec<String>,
//! }
//!
//! impl PgDumpWatch {
//!     fn specs() -> Vec<TunableSpec> {
//!         vec![spec::text_list("AllowedUsers", &["postgres"], "Accounts expected to run pg_dump.")]
//!     }
//! }
//!
//! impl Analytic for PgDumpWatch {
//!     fn manifest(&self) -> Manifest {
//!         Manifest {
//!             id: "ACME-DB-001".into(),
//!             name: "pg_dump by an unexpected user".into(),
//!             version: "1.0.0".into(),
//!             description: "Raises a finding for each pg_dump started by a user not in AllowedUsers.".into(),
//!             strategy: None,
//!             attacks: vec![attack::T1213_006.to_wit()],
//!             tunables: Self::specs(),
//!         }
//!     }
//!
//!     fn configure(&mut self, tunables: Vec<Tunable>) -> Result<Vec<Subscription>, Vec<ConfigError>> {
//!         let specs = Self::specs();
//!         let mut set = TunableSet::new(&specs, &tunables);
//!         let allowed = set.text_list("AllowedUsers");
//!         set.finish()?;
//!         self.allowed = allowed;
//!         Ok(vec![subscribe::subscription(
//!             EventClass::ProcessStart,
//!             &[],
//!             vec![subscribe::equals("process.name", ["pg_dump"])],
//!         )])
//!     }
//!
//!     fn process(&mut self, events: Vec<Event>) -> Vec<Finding> {
//!         let mut findings = Vec::new();
//!         for event in &events {
//!             let Some(user) = accountable_user(event) else { continue };
//!             if process_name(event) != Some("pg_dump") || user.is_listed(&self.allowed) {
//!                 continue;
//!             }
//!             let host = hostname(event).unwrap_or("unknown");
//!             let user = user.text();
//!             findings.push(Finding {
//!                 uid: uid::finding_uid("ACME-DB-001", &[host, &user], &event.id),
//!                 title: format!("pg_dump run by {user} on {host}"),
//!                 description: format!("{user} is not in AllowedUsers."),
//!                 severity: Severity::Low,
//!                 reasons: vec![format!("{user} is not in AllowedUsers")],
//!                 entities: vec![
//!                     Entity { kind: "host".into(), value: host.into() },
//!                     Entity { kind: "user".into(), value: user.to_string() },
//!                 ],
//!                 start_time: event.time,
//!                 end_time: event.time,
//!                 attacks: vec![attack::T1213_006.to_wit()],
//!                 legs: vec!["exec".into()],
//!                 evidence: vec![evidence::from_event("exec", event)],
//!                 event_count: 1,
//!             });
//!         }
//!         findings
//!     }
//!
//!     fn advance(&mut self, _watermark: Timestamp) -> Vec<Finding> { Vec::new() }
//!     fn snapshot(&mut self, _mode: SnapshotMode) -> Vec<u8> { Vec::new() }
//!     fn restore(&mut self, _frames: Vec<u8>) -> Result<(), String> { Ok(()) }
//!     fn inspect(&self, _limit: u32) -> Inspection {
//!         Inspection { open_windows: 0, windows: Vec::new() }
//!     }
//! }
//!
//! // The whole export glue (it expands to nothing on native targets, so the
//! // crate's unit tests call the trait directly):
//! dumpwatch_sdk::export_analytic!(PgDumpWatch);
//! # fn main() {}
//! ```
//!
//! The crate is a `cdylib` (plus `rlib` for native tests and benches):
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib", "rlib"]
//!
//! [dependencies]
//! dumpwatch-sdk = "0.1"
//! ```
//!
//! and `cargo build --target wasm32-wasip2 --release` links the component
//! directly. Windowed analytics keep their windows in [`state`] structures,
//! evidence in [`evidence::EvidenceLedger`]s, and follow the event-time rules
//! above; `guests/an0676-linux` is a complete example.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod address;
mod analytic;
pub mod attack;
pub mod bindings;
pub mod codec;
pub mod collections;
pub mod digest;
pub mod domain;
pub mod event;
pub mod evidence;
pub mod glob;
pub mod intern;
pub mod log;
mod names;
pub mod pack;
pub mod reorder;
pub mod schedule;
pub mod severity;
pub mod state;
pub mod subscribe;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod tunables;
pub mod types;
pub mod uid;
pub mod wildcard;

#[doc(hidden)]
pub use analytic::PartsBuffer;
pub use analytic::{Analytic, RestoreParts};

/// What most analytics import: the WIT types, the trait, and the helpers
/// used on every event.
pub mod prelude {
    pub use crate::Analytic;
    pub use crate::attack;
    pub use crate::event::{accountable_user, class_of, hostname, process_name};
    pub use crate::evidence;
    pub use crate::subscribe;
    pub use crate::tunables::{TunableSet, spec};
    pub use crate::types::*;
    pub use crate::uid;
}
