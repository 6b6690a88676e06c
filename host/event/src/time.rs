//! Event-time parsing and formatting shared by every normalizer.
//!
//! Log formats write time in a dozen ways (see `docs/formats.md`); each
//! normalizer picks its field, and these functions turn the text into
//! [`Timestamp`] milliseconds. They are on the hot path (one call per
//! record), so the common civil forms are parsed by hand rather than through
//! a general date library; a value that does not parse is `None`, never the
//! wall clock.

use crate::Timestamp;

/// Days from 1970-01-01 to the given proleptic Gregorian date
/// (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Format as `2020-02-10T21:59:44.206Z`.
pub fn format_rfc3339_ms(ts: Timestamp) -> String {
    let days = ts.div_euclid(86_400_000);
    let ms_of_day = ts.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let h = ms_of_day / 3_600_000;
    let mi = (ms_of_day / 60_000) % 60;
    let s = (ms_of_day / 1000) % 60;
    let ms = ms_of_day % 1000;
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u32 = 0;
    for &c in b {
        v = v.checked_mul(10)?.checked_add((c - b'0') as u32)?;
    }
    Some(v)
}

/// Parse epoch seconds with an optional fraction (`1581371984.206`,
/// `1418530010`) into milliseconds. Digits beyond milliseconds are
/// truncated.
pub fn parse_epoch_seconds(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() || int.len() > 12 || !int.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let mut ms = 0i64;
    for (i, c) in frac.bytes().take(3).enumerate() {
        ms += ((c - b'0') as i64) * [100, 10, 1][i];
    }
    let v = secs * 1000 + ms;
    Some(if neg { -v } else { v })
}

/// Parse epoch milliseconds written as an integer.
pub fn parse_epoch_millis(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() || s.len() > 16 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Epoch seconds as a JSON float (Zeek `ts`), into milliseconds.
pub fn from_epoch_f64(secs: f64) -> Option<Timestamp> {
    if !secs.is_finite() || secs.abs() > 1e12 {
        return None;
    }
    Some((secs * 1000.0).floor() as Timestamp)
}

/// Parse a civil date-time with an optional zone, the forms logs use:
///
/// * RFC 3339 / ISO 8601: `2019-02-01T03:18:19Z`, `2021-02-03T15:33:16.1076519Z`,
///   `2025-01-01T10:00:00+02:00`;
/// * offset without colon: `2023-12-27T08:54:54.668726+0000` (Suricata),
///   `2025-07-27 15:47:10.504275-0400` (macOS `log show`);
/// * space separator and no zone: `2021-12-04 21:10:40.723` (Sysmon UtcTime);
/// * no zone at all: `2020-02-07T16:44:07` (M365 CreationTime).
///
/// A value without a zone is read as UTC; callers whose format has local
/// time without a zone must not use this.
pub fn parse_datetime(s: &str) -> Option<Timestamp> {
    let b = s.trim().as_bytes();
    if b.len() < 19 {
        return None;
    }
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ' || b[10] == b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let y = digits(&b[0..4])? as i64;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    let h = digits(&b[11..13])?;
    let mi = digits(&b[14..16])?;
    let sec = digits(&b[17..19])?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut ms = 0i64;
    if i < b.len() && (b[i] == b'.' || b[i] == b',') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                ms += ((b[i] - b'0') as i64) * [100, 10, 1][i - start];
            }
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let mut offset_min: i64 = 0;
    if i < b.len() {
        let rest = &b[i..];
        let rest = if rest[0] == b' ' { &rest[1..] } else { rest };
        match rest.first() {
            Some(b'Z') | Some(b'z') if rest.len() == 1 => {}
            Some(&sign @ (b'+' | b'-')) => {
                let tz = &rest[1..];
                let (hh, mm) = match tz.len() {
                    2 => (digits(tz)?, 0),
                    4 => (digits(&tz[0..2])?, digits(&tz[2..4])?),
                    5 if tz[2] == b':' => (digits(&tz[0..2])?, digits(&tz[3..5])?),
                    _ => return None,
                };
                if hh > 23 || mm > 59 {
                    return None;
                }
                offset_min = (hh * 60 + mm) as i64;
                if sign == b'-' {
                    offset_min = -offset_min;
                }
            }
            _ => return None,
        }
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + (h as i64) * 3600 + (mi as i64) * 60 + sec.min(59) as i64;
    Some(secs * 1000 + ms - offset_min * 60_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-719_468i64, -1, 0, 1, 18_302, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn epoch_forms() {
        assert_eq!(
            parse_epoch_seconds("1581371984.206"),
            Some(1_581_371_984_206)
        );
        assert_eq!(parse_epoch_seconds("1418530010"), Some(1_418_530_010_000));
        assert_eq!(
            parse_epoch_seconds("1600000000.123456"),
            Some(1_600_000_000_123)
        );
        assert_eq!(parse_epoch_seconds("XXXXXXXXXX.XXXXXX"), None);
        assert_eq!(parse_epoch_seconds(""), None);
        assert_eq!(parse_epoch_millis("1700000000123"), Some(1_700_000_000_123));
        assert_eq!(from_epoch_f64(1_600_000_000.5), Some(1_600_000_000_500));
    }

    #[test]
    fn civil_forms() {
        let base = 1_548_991_099_000; // 2019-02-01T03:18:19Z
        assert_eq!(parse_datetime("2019-02-01T03:18:19Z"), Some(base));
        assert_eq!(parse_datetime("2019-02-01T03:18:19"), Some(base));
        assert_eq!(parse_datetime("2019-02-01 03:18:19.000"), Some(base));
        assert_eq!(
            parse_datetime("2019-02-01T03:18:19.1076519Z"),
            Some(base + 107)
        );
        assert_eq!(
            parse_datetime("2019-02-01T05:18:19.5+02:00"),
            Some(base + 500)
        );
        assert_eq!(
            parse_datetime("2019-01-31T23:18:19.504275-0400"),
            Some(base + 504)
        );
        assert_eq!(parse_datetime("2019-02-01 03:18:19+0000"), Some(base));
        assert_eq!(parse_datetime("2019-02-01T03:18"), None);
        assert_eq!(parse_datetime("2019-13-01T03:18:19Z"), None);
        assert_eq!(parse_datetime("2019-02-01T03:18:19Q"), None);
        assert_eq!(format_rfc3339_ms(base + 5), "2019-02-01T03:18:19.005Z");
    }
}
