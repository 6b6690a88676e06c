//! Logging to the host's log.
//!
//! In a component these call the imported `host.log`, which tags the line
//! with the analytic id. On native targets (unit tests, benches) the import
//! is a stub that must never be called, so warnings and errors go to stderr
//! and lower levels are dropped.

use crate::types::Level;

/// Write `message` at `level`.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::bindings::dumpwatch::analytic::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    if level >= Level::Warn {
        eprintln!("[{level:?}] {message}");
    }
}

/// Very detailed tracing; dropped natively.
pub fn trace(message: &str) {
    log(Level::Trace, message);
}

/// Debugging detail; dropped natively.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Normal operation worth a line; dropped natively.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Something was dropped or capped; processing goes on.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// Something failed; processing goes on where it can.
pub fn error(message: &str) {
    log(Level::Error, message);
}
