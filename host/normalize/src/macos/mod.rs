//! macOS endpoint logs: Endpoint Security messages as `eslogger` writes
//! them (`eslogger`) and the unified log as `log show` exports it
//! (`unified-log`). `docs/formats/macos.md` gives the rules.
//!
//! * [`eslogger`]: exec, create, close (modified), rename and write events,
//!   with the actor from the audit token;
//! * [`unified_log`]: a bounded, first-seen process-start signal and app
//!   launches out of a stream that has no exec record.

pub mod eslogger;
pub mod unified_log;

pub use eslogger::EsloggerDecoder;
pub use unified_log::UnifiedLogDecoder;

use memchr::memmem;

/// Does the sample look like eslogger (or Jamf Protect ES) JSON?
pub(crate) fn sniff_eslogger(sample: &[u8]) -> bool {
    if sample.first() != Some(&b'{') {
        return false;
    }
    let has = |k: &[u8]| memmem::find(sample, k).is_some();
    has(b"\"event_type\"")
        && has(b"\"event\"")
        && (has(b"\"mach_time\"") || has(b"\"audit_token\""))
}

/// Does the sample look like `log show --style ndjson` or `--style json`?
pub(crate) fn sniff_unified_log(sample: &[u8]) -> bool {
    if !matches!(sample.first(), Some(b'{' | b'[')) {
        return false;
    }
    let has = |k: &[u8]| memmem::find(sample, k).is_some();
    has(b"\"eventMessage\"") && (has(b"\"processImagePath\"") || has(b"\"machTimestamp\""))
}

#[cfg(test)]
mod tests;
