//! From windows to the findings an analyst reads: title, description,
//! severity with one reason line per factor, entities, ATT&CK, evidence.
//! Everything is derived from the window (counts, the earliest evidence,
//! the first bulk read, the earliest new templates and off-hours query),
//! so the text is the same whatever order the events came in.

pub mod m365;
pub mod snowflake;

use dumpwatch_sdk::types::{Entity, Finding};

/// A stable digest of a finding's content, to tell a changed finding from
/// an unchanged one (never 0, which means "not emitted yet").
pub fn digest(finding: &Finding) -> u64 {
    dumpwatch_sdk::digest::finding_digest(finding)
}

pub fn entity(kind: &str, value: &str) -> Entity {
    Entity {
        kind: kind.to_string(),
        value: value.to_string(),
    }
}

pub fn plural(count: u32, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// "10 min", "90 s", "1 h 30 min", "250 ms".
pub fn duration_text(ms: i64) -> String {
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let seconds = ms / 1000;
    match (seconds / 3600, seconds % 3600 / 60, seconds % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, 0) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// "18.9 GB (18874368000 bytes)": decimal units as the tunables count them.
pub fn bytes_text(bytes: u64) -> String {
    match bytes {
        0..1_000_000 => format!("{bytes} bytes"),
        1_000_000..1_000_000_000 => {
            let tenths = bytes / 100_000;
            format!("{}.{} MB ({bytes} bytes)", tenths / 10, tenths % 10)
        }
        _ => {
            let tenths = bytes / 100_000_000;
            format!("{}.{} GB ({bytes} bytes)", tenths / 10, tenths % 10)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        assert_eq!(bytes_text(18_874_368_000), "18.8 GB (18874368000 bytes)");
        assert_eq!(bytes_text(6_291_456), "6.2 MB (6291456 bytes)");
        assert_eq!(duration_text(600_000), "10 min");
        assert_eq!(plural(2, "read", "reads"), "2 reads");
    }
}
