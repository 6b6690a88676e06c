//! SOCKADDR records: the raw `struct sockaddr` the kernel hex-encodes, or
//! the `{ saddr_fam=inet laddr=… lport=… }` an interpreted rendering
//! prints.
//!
//! In the raw bytes the family is in host byte order (`0200` AF_INET,
//! `0A00` AF_INET6, `0100` AF_UNIX on little-endian machines) and the port
//! is big-endian.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A decoded socket address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum SockAddr {
    Inet(IpAddr, u16),
    Unix,
    /// Another family (netlink, …), by name for the skip count.
    Other(&'static str),
}

/// Decode the raw hex bytes of `saddr=`.
pub(super) fn from_raw(b: &[u8]) -> Option<SockAddr> {
    if b.len() < 2 {
        return None;
    }
    // Host byte order: little-endian on the architectures audited here;
    // a big-endian writer puts the family in the second byte.
    let fam = if b[0] == 0 {
        b[1] as u16
    } else {
        u16::from_le_bytes([b[0], b[1]])
    };
    match fam {
        2 => {
            if b.len() < 8 {
                return None;
            }
            let port = u16::from_be_bytes([b[2], b[3]]);
            let ip = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
            Some(SockAddr::Inet(IpAddr::V4(ip), port))
        }
        10 => {
            if b.len() < 24 {
                return None;
            }
            let port = u16::from_be_bytes([b[2], b[3]]);
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[8..24]);
            let ip = Ipv6Addr::from(a);
            let ip = match ip.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(ip),
            };
            Some(SockAddr::Inet(ip, port))
        }
        1 => Some(SockAddr::Unix),
        16 => Some(SockAddr::Other("netlink")),
        17 => Some(SockAddr::Other("packet")),
        0 => Some(SockAddr::Other("unspec")),
        _ => Some(SockAddr::Other("other")),
    }
}

/// Decode the interpreted `{ saddr_fam=inet laddr=1.2.3.4 lport=80 }`.
pub(super) fn from_interpreted(v: &[u8]) -> Option<SockAddr> {
    let inner = v.strip_prefix(b"{")?;
    let inner = inner.strip_suffix(b"}").unwrap_or(inner);
    let mut fam: &[u8] = b"";
    let mut addr: Option<&[u8]> = None;
    let mut port: Option<u16> = None;
    for tok in inner.split(|&c| c == b' ').filter(|t| !t.is_empty()) {
        let Some(eq) = memchr::memchr(b'=', tok) else {
            continue;
        };
        let (k, val) = (&tok[..eq], &tok[eq + 1..]);
        match k {
            b"saddr_fam" | b"fam" => fam = val,
            b"laddr" => addr = Some(val),
            b"lport" => port = super::fields::parse_dec(val).and_then(|p| u16::try_from(p).ok()),
            _ => {}
        }
    }
    match fam {
        b"inet" | b"inet6" => {
            let ip: IpAddr = std::str::from_utf8(addr?).ok()?.parse().ok()?;
            Some(SockAddr::Inet(ip, port.unwrap_or(0)))
        }
        b"local" | b"unix" | b"file" => Some(SockAddr::Unix),
        b"netlink" => Some(SockAddr::Other("netlink")),
        _ => Some(SockAddr::Other("other")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auditd::fields::decode_hex;

    fn raw(hex: &str) -> Option<SockAddr> {
        from_raw(&decode_hex(hex.as_bytes()).expect("hex"))
    }

    #[test]
    fn raw_families() {
        assert_eq!(
            raw("02000050A9FEA9FE0000000000000000"),
            Some(SockAddr::Inet("169.254.169.254".parse().expect("ip"), 80))
        );
        assert_eq!(
            raw("0A000016000000000000000000000000000000000000000000000000"),
            Some(SockAddr::Inet("::".parse().expect("ip"), 22))
        );
        assert_eq!(
            raw("01007075626C69632F7069636B757000"),
            Some(SockAddr::Unix)
        );
        assert_eq!(
            raw("100000000000000000000000"),
            Some(SockAddr::Other("netlink"))
        );
        assert_eq!(raw("02"), None);
        assert_eq!(raw("0200"), None);
    }

    #[test]
    fn interpreted_form() {
        assert_eq!(
            from_interpreted(b"{ saddr_fam=inet laddr=192.168.79.1 lport=53 }"),
            Some(SockAddr::Inet("192.168.79.1".parse().expect("ip"), 53))
        );
        assert_eq!(
            from_interpreted(b"{ saddr_fam=local path=/run/x }"),
            Some(SockAddr::Unix)
        );
        assert_eq!(from_interpreted(b"nonsense"), None);
    }
}
