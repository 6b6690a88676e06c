//! The [`Analytic`] trait and [`export_analytic!`](crate::export_analytic),
//! which turns one implementation into the component's `detector` export.
//!
//! The WIT export functions are free functions; the component holds a
//! single instance of the analytic (created with `Default` on first call) and
//! every export call borrows it. Keeping the logic in a plain Rust type
//! means the same code runs natively in unit tests and benches.

use crate::types::{
    ConfigError, Event, Finding, Inspection, Manifest, SnapshotMode, Subscription, Timestamp,
    Tunable,
};

/// An analytic, as the `detector` interface describes it (see
/// `wit/analytic.wit` for the contract of each function).
pub trait Analytic: Default + 'static {
    /// What the analytic is: id, version, ATT&CK, tunables with defaults.
    /// Must work before `configure`.
    fn manifest(&self) -> Manifest;

    /// Apply a full tunable set; return the subscriptions, or every problem
    /// (keeping the previous tunables).
    fn configure(&mut self, tunables: Vec<Tunable>) -> Result<Vec<Subscription>, Vec<ConfigError>>;

    /// Take a batch of events; return findings created or updated.
    fn process(&mut self, events: Vec<Event>) -> Vec<Finding>;

    /// Event time has reached `watermark`; return findings created or
    /// updated by closing windows.
    fn advance(&mut self, watermark: Timestamp) -> Vec<Finding>;

    /// Export state as state frames ([`crate::state::SnapshotWriter`]
    /// writes them): everything, or what changed since the last call.
    fn snapshot(&mut self, mode: SnapshotMode) -> Vec<u8>;

    /// Replace all state with the entries of `frames`
    /// ([`crate::state::SnapshotReader`] reads them).
    fn restore(&mut self, frames: Vec<u8>) -> Result<(), String>;

    /// List open windows, oldest first, at most `limit`.
    fn inspect(&self, limit: u32) -> Inspection;
}

/// Export an [`Analytic`] implementation as the component's `detector`.
///
/// ```ignore
/// dumpwatch_sdk::export_analytic!(MyAnalytic);
/// ```
///
/// On native targets this expands to nothing, so several analytics can be
/// linked into one test or bench binary and the bindings' import stubs are
/// never reached.
#[macro_export]
macro_rules! export_analytic {
    ($analytic:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::Analytic as _;
            use $crate::bindings::exports::dumpwatch::analytic::detector::Guest;
            use $crate::types as t;

            struct DumpwatchComponent;

            ::std::thread_local! {
                static INSTANCE: ::core::cell::RefCell<$analytic> =
                    ::core::cell::RefCell::new(<$analytic as ::core::default::Default>::default());
            }

            fn with<R>(call: impl FnOnce(&mut $analytic) -> R) -> R {
                INSTANCE.with(|cell| call(&mut cell.borrow_mut()))
            }

            impl Guest for DumpwatchComponent {
                fn describe() -> t::Manifest {
                    with(|a| a.manifest())
                }
                fn configure(
                    tunables: ::std::vec::Vec<t::Tunable>,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<t::Subscription>,
                    ::std::vec::Vec<t::ConfigError>,
                > {
                    with(|a| a.configure(tunables))
                }
                fn process(events: ::std::vec::Vec<t::Event>) -> ::std::vec::Vec<t::Finding> {
                    with(|a| a.process(events))
                }
                fn advance(watermark: t::Timestamp) -> ::std::vec::Vec<t::Finding> {
                    with(|a| a.advance(watermark))
                }
                fn snapshot(mode: t::SnapshotMode) -> t::StateFrames {
                    with(|a| a.snapshot(mode))
                }
                fn restore(
                    frames: t::StateFrames,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    with(|a| a.restore(frames))
                }
                fn inspect(limit: u32) -> t::Inspection {
                    with(|a| a.inspect(limit))
                }
            }

    $crate::bindings::export_detector!(DumpwatchComponent with_types_in $crate::bindings);
        };
    };
}
