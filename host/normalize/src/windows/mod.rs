//! Windows Security and Sysmon events, in the shapes they reach a
//! collector: event XML (`windows-xml`) and JSON from NXLog or Winlogbeat
//! (`windows-json`).
//!
//! Every shape is decoded into one [`record::WinRecord`] (system fields plus
//! the event-data values the mapping uses) and mapped by [`map`]: Security
//! 4688 and Sysmon 1 to process starts, Sysmon 3 to network flows, 11 to
//! file creations, 22 to DNS queries; every other event is skipped and
//! counted by log and id (`security:4624`, `sysmon:7`,
//! `channel:Application`). `docs/formats/windows.md` gives the rules.
//!
//! * [`xml`]: `<Event>` records on one line or many, bare or in an
//!   `<Events>` document;
//! * [`json`]: NXLog `im_msvistalog`, raw Winlogbeat and Winlogbeat after
//!   its ECS renames, field by field;
//! * [`json_fast`]: the same records read with the JSON cursor, where it
//!   can (serde decides the rest);
//! * [`fields`]: the event-data names the mapping reads;
//! * [`record`]: the decoded record;
//! * [`map`]: record → event.

pub mod fields;
pub mod json;
mod json_fast;
pub mod map;
pub mod record;
pub mod xml;

pub use json::WindowsJsonDecoder;
pub use xml::WindowsXmlDecoder;

use memchr::memmem;

/// Does the sample look like Windows event XML?
pub(crate) fn sniff_xml(sample: &[u8]) -> bool {
    let starts_xml = sample.starts_with(b"<?xml")
        || sample.starts_with(b"<Events")
        || sample.starts_with(b"<Event");
    starts_xml
        && memmem::find(sample, b"<Event").is_some()
        && (memmem::find(sample, b"schemas.microsoft.com/win/2004/08/events/event").is_some()
            || memmem::find(sample, b"<System>").is_some())
}

/// Does the sample look like NXLog or Winlogbeat JSON of Windows events?
pub(crate) fn sniff_json(sample: &[u8]) -> bool {
    if !matches!(sample.first(), Some(b'{' | b'[')) {
        return false;
    }
    let has = |k: &[u8]| memmem::find(sample, k).is_some();
    let nxlog = has(b"\"EventID\"") && (has(b"\"Channel\"") || has(b"\"SourceName\""));
    let winlogbeat = has(b"\"winlog\"") && (has(b"\"event_id\"") || has(b"\"channel\""));
    nxlog || winlogbeat
}

#[cfg(test)]
pub(crate) mod tests;
