//! The wasmtime side of dumpwatch.
//!
//! * [`engine`]: one [`Runtime`] per process — the wasmtime engine with the
//!   pooling allocator and epoch interruption, the ticker thread that drives
//!   call deadlines, and the limits every instance gets.
//! * [`cache`]: compiled components on disk, keyed by wasmtime's
//!   compatibility hash and a digest of the component bytes.
//! * [`module`]: a loaded component, checked against the contract
//!   (component, world, version) before anything runs, ready to instantiate.
//! * [`instance`]: one live analytic — its store, the sandboxed WASI context
//!   and the typed calls, each under a deadline, with traps reported, never
//!   propagated as panics.
//! * [`sandbox`]: the WASI context that grants nothing, and the capture of
//!   guest stdout/stderr into the host log.
//! * [`convert`]: host events to guest records and guest findings back.
//!
//! Nothing here knows about pipelines, files or configs; the pipeline crate
//! decides what to load and when to call.

pub mod cache;
pub mod convert;
pub mod engine;
mod error;
pub mod instance;
pub mod module;
pub mod sandbox;

mod bindings {
    wasmtime::component::bindgen!({
        world: "analytic",
        path: "../../wit",
        additional_derives: [PartialEq],
        // A part handed over outside a snapshot, or past the limit, fails
        // the call.
        imports: { "dumpwatch:analytic/host.state-part": trappable },
    });
}

/// The contract's types (event, finding, manifest, subscription, tunable …)
/// as generated from `wit/analytic.wit`.
pub use bindings::dumpwatch::analytic::types as wit;

pub use engine::{Limits, Runtime};
pub use error::{CallError, LoadError};
pub use instance::AnalyticInstance;
pub use module::AnalyticModule;

/// The contract version this host speaks (`dumpwatch:analytic@…`).
pub const CONTRACT_VERSION: &str = "0.1.0";
