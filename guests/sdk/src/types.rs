//! The WIT data model (events, findings, manifest, tunables, state entries)
//! under short names, so an analytic writes `use dumpwatch_sdk::types::*;`
//! instead of the generated module path.

pub use crate::bindings::dumpwatch::analytic::host::Level;
pub use crate::bindings::dumpwatch::analytic::types::*;
