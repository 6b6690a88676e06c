//! Recognising a format from the first bytes of an input.
//!
//! Each format module offers `sniff(sample) -> bool` over a sample of the
//! input's first lines; they are asked in an order where the more specific
//! formats come first. `--format` overrides detection.

use crate::Format;

/// A format's test of an input sample.
type Sniff = fn(&[u8]) -> bool;

/// How many bytes of an input [`detect`] wants to see.
pub const SAMPLE_LEN: usize = 64 * 1024;

/// The format of an input, judged from its first bytes; `None` when no
/// format recognises it.
pub fn detect(sample: &[u8]) -> Option<Format> {
    // Skip a UTF-8 byte order mark and leading blank lines.
    let sample = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    let start = sample
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(sample.len());
    let sample = &sample[start..];
    if sample.is_empty() {
        return None;
    }
    let checks: &[(Format, Sniff)] = &[
        (Format::Auditd, crate::auditd::sniff),
        (Format::WindowsXml, crate::windows::sniff_xml),
        (Format::WindowsJson, crate::windows::sniff_json),
        (Format::Eslogger, crate::macos::sniff_eslogger),
        (Format::UnifiedLog, crate::macos::sniff_unified_log),
        (Format::CloudTrail, crate::cloudtrail::sniff),
        (Format::M365, crate::m365::sniff),
        (Format::Snowflake, crate::snowflake::sniff),
        (Format::VpcFlow, crate::vpcflow::sniff),
        (Format::Suricata, crate::suricata::sniff),
        (Format::Zeek, crate::zeek::sniff),
    ];
    checks
        .iter()
        .find(|(_, sniff)| sniff(sample))
        .map(|(f, _)| *f)
}
