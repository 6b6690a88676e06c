//! Addresses from text, with a fast path for the dotted quads that most
//! records carry.
//!
//! std's parser is general (it tries IPv4, then IPv6, through a
//! backtracking reader); it was a tenth of mapping a Sysmon network event.
//! The fast path takes only what std reads as the same address (four
//! decimal octets, no leading zeros, at most 255), so its answers are
//! std's; anything else goes to std.

use std::net::{IpAddr, Ipv4Addr};

/// `s` as an address, exactly as `s.parse::<IpAddr>()` reads it.
#[inline]
pub(crate) fn parse(s: &str) -> Option<IpAddr> {
    match dotted_quad(s.as_bytes()) {
        Some(v4) => Some(IpAddr::V4(v4)),
        None => s.parse().ok(),
    }
}

/// Four canonical decimal octets separated by dots, or `None` (also for
/// forms std may still accept, which the caller then gives to std).
fn dotted_quad(b: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v: u32 = 0;
        while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
            v = v * 10 + u32::from(d - b'0');
            i += 1;
            if i - start > 3 {
                return None;
            }
        }
        let len = i - start;
        // No digits, a leading zero, or past 255: std's to judge.
        if len == 0 || (len > 1 && b[start] == b'0') {
            return None;
        }
        *octet = u8::try_from(v).ok()?;
    }
    (i == b.len()).then(|| Ipv4Addr::from(octets))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn reads_what_std_reads() {
        for s in [
            "10.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.1.1.1",
            "1.1.1",
            "1.1.1.1.",
            "1.1.1.1 ",
            "1..1.1",
            "::1",
            "::ffff:10.0.0.1",
            "fe80::1%12",
            "",
            "1.2.3.4x",
            "1234.1.1.1",
        ] {
            assert_eq!(parse(s), s.parse().ok(), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_std_on_any_text(s in "[0-9.:a-f%]{0,20}") {
            prop_assert_eq!(parse(&s), s.parse().ok());
        }

        #[test]
        fn agrees_with_std_on_quads(a in 0u32..400, b in 0u32..400, c in 0u32..300, d in 0u32..300, zero in any::<bool>()) {
            let s = if zero { format!("{a}.0{b}.{c}.{d}") } else { format!("{a}.{b}.{c}.{d}") };
            prop_assert_eq!(parse(&s), s.parse().ok());
        }
    }
}
