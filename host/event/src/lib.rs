//! The data that flows through dumpwatch, with no I/O: the normalized
//! [`Event`] (the host-side twin of the WIT `event` record in
//! `wit/analytic.wit`), the [`Finding`] an analytic returns, and their JSON
//! renderings: the NDJSON of `dumpwatch normalize` ([`Event`]'s `Serialize`)
//! and the OCSF Detection Finding of every sink ([`ocsf`]).
//!
//! Normalizers produce events, the runtime converts them to the guest's
//! types, and the pipeline turns guest findings back into [`Finding`]s.

mod event;
mod finding;
pub mod ocsf;
pub mod time;

pub use event::*;
pub use finding::*;
