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
    /// writes them): everything, or what changed since the last call. In
    /// the component, the writer hands its frames to the host in parts as
    /// it goes ([`crate::state::in_parts`]) and the frames returned are the
    /// last part.
    fn snapshot(&mut self, mode: SnapshotMode) -> Vec<u8>;

    /// Replace all state with the entries of `frames`
    /// ([`crate::state::SnapshotReader`] reads them). A restore the host
    /// hands over in parts comes here too, the parts gathered
    /// ([`PartsBuffer`]).
    fn restore(&mut self, frames: Vec<u8>) -> Result<(), String>;

    /// List open windows, oldest first, at most `limit`.
    fn inspect(&self, limit: u32) -> Inspection;

    /// Where a restore handed over in parts goes part by part, decoded as
    /// it comes ([`crate::state::SnapshotParts`] reads it), so the whole
    /// snapshot is never held in the component. `None` (the default)
    /// gathers the parts for [`Analytic::restore`].
    fn restore_in_parts(&mut self) -> Option<&mut dyn RestoreParts> {
        None
    }
}

/// A restore handed over in parts (WIT `restore-begin`, `restore-part`,
/// `restore-end`): `begin` drops all state, each `part` holds whole
/// frames, and `end` answers as [`Analytic::restore`] would for all of
/// them. A part has no answer of its own: an error is kept for `end`,
/// which then leaves the state empty.
pub trait RestoreParts {
    fn begin(&mut self);
    fn part(&mut self, frames: &[u8]);
    fn end(&mut self) -> Result<(), String>;
}

/// The parts of a restore handed over in parts (`restore-begin`,
/// `restore-part`, `restore-end`), gathered for [`Analytic::restore`] when
/// the analytic does not take them one by one
/// ([`Analytic::restore_in_parts`]).
/// The host reads each part from its store while the component copies in
/// the one before, so the store read no longer comes before the whole
/// restore; the gathered buffer is the one copy a single `restore` call
/// would have lowered.
#[derive(Default)]
pub struct PartsBuffer {
    frames: Vec<u8>,
}

impl PartsBuffer {
    /// Start over, with room for `size` bytes when the memory is there
    /// (otherwise the buffer grows as parts come).
    pub fn begin(&mut self, size: u64) {
        self.frames = Vec::new();
        if let Ok(size) = usize::try_from(size) {
            let _ = self.frames.try_reserve_exact(size);
        }
    }

    pub fn part(&mut self, frames: &[u8]) {
        self.frames.extend_from_slice(frames);
    }

    /// The gathered frames; the buffer is left empty.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.frames)
    }
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

            ::std::thread_local! {
                static PARTS: ::core::cell::RefCell<$crate::PartsBuffer> =
                    ::core::cell::RefCell::new(::core::default::Default::default());
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
                    // The frames go to the host in parts as they are
                    // written, so a large state's snapshot is never whole
                    // in the component.
                    fn hand_over(entries: &[u8]) {
                        $crate::bindings::dumpwatch::analytic::host::state_part(entries);
                    }
                    with(|a| $crate::state::in_parts(hand_over, || a.snapshot(mode)))
                }
                fn restore(
                    frames: t::StateFrames,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    with(|a| a.restore(frames))
                }
                fn restore_begin(size: u64) {
                    let taken = with(|a| a.restore_in_parts().map(|r| r.begin()));
                    if taken.is_none() {
                        PARTS.with(|parts| parts.borrow_mut().begin(size));
                    }
                }
                fn restore_part(frames: t::StateFrames) {
                    let taken = with(|a| a.restore_in_parts().map(|r| r.part(&frames)));
                    if taken.is_none() {
                        PARTS.with(|parts| parts.borrow_mut().part(&frames));
                    }
                }
                fn restore_end() -> ::core::result::Result<(), ::std::string::String> {
                    with(|a| match a.restore_in_parts().map(|r| r.end()) {
                        Some(answer) => answer,
                        None => {
                            let frames = PARTS.with(|parts| parts.borrow_mut().take());
                            a.restore(frames)
                        }
                    })
                }
                fn inspect(limit: u32) -> t::Inspection {
                    with(|a| a.inspect(limit))
                }
            }

    $crate::bindings::export_detector!(DumpwatchComponent with_types_in $crate::bindings);
        };
    };
}
