//! IP addresses: conversion between the WIT `ip-address` and std's
//! `IpAddr`, network lists (CIDR) and the default "internal" ranges.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::types::{Endpoint, IpAddress};

/// RFC 1918, loopback and link-local for IPv4; loopback, unique local
/// (RFC 4193) and link-local for IPv6.
pub const DEFAULT_INTERNAL_NETWORKS: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
];

/// The WIT address as std's.
pub fn to_ip(address: &IpAddress) -> IpAddr {
    match *address {
        IpAddress::Ipv4((a, b, c, d)) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => {
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h))
        }
    }
}

/// std's address as the WIT's.
pub fn from_ip(ip: IpAddr) -> IpAddress {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            IpAddress::Ipv4((a, b, c, d))
        }
        IpAddr::V6(v6) => {
            let [a, b, c, d, e, f, g, h] = v6.segments();
            IpAddress::Ipv6((a, b, c, d, e, f, g, h))
        }
    }
}

/// "203.0.113.7:443 (files.example.com)", leaving out what is unknown; empty
/// when nothing is.
pub fn endpoint_text(endpoint: &Endpoint) -> String {
    let mut text = match (endpoint.ip.as_ref().map(to_ip), endpoint.port) {
        (Some(IpAddr::V6(ip)), Some(port)) => format!("[{ip}]:{port}"),
        (Some(ip), Some(port)) => format!("{ip}:{port}"),
        (Some(ip), None) => ip.to_string(),
        (None, Some(port)) => format!("port {port}"),
        (None, None) => String::new(),
    };
    if let Some(name) = endpoint.hostname.as_deref().filter(|name| !name.is_empty()) {
        if text.is_empty() {
            text = name.to_string();
        } else {
            text = format!("{text} ({name})");
        }
    }
    text
}

/// A set of IP networks, tested by containment. IPv4-mapped IPv6 addresses
/// (`::ffff:10.0.0.1`) are tested as the IPv4 address they carry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetworkSet {
    v4: Vec<Ipv4Net>,
    v6: Vec<Ipv6Net>,
    texts: Vec<String>,
}

impl NetworkSet {
    /// Parse CIDR networks or single addresses. Host bits are cleared
    /// (`10.1.2.3/8` is `10.0.0.0/8`). Every bad entry is reported, one
    /// message each.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<NetworkSet, Vec<String>> {
        let mut set = NetworkSet::default();
        let mut errors = Vec::new();
        for entry in entries {
            let text = entry.as_ref().trim();
            let net = if text.contains('/') {
                text.parse::<IpNet>().map(|net| net.trunc()).map_err(|_| ())
            } else {
                text.parse::<IpAddr>().map(IpNet::from).map_err(|_| ())
            };
            match net {
                Ok(IpNet::V4(net)) => set.v4.push(net),
                Ok(IpNet::V6(net)) => set.v6.push(net),
                Err(()) => {
                    errors.push(format!(
                        "{text:?} is not an IP network in CIDR notation (10.0.0.0/8, fd00::/8) or an IP address"
                    ));
                    continue;
                }
            }
            set.texts.push(text.to_string());
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    /// The default internal networks ([`DEFAULT_INTERNAL_NETWORKS`]).
    pub fn default_internal() -> NetworkSet {
        // The constant list is valid; an empty set would only make more
        // addresses count as external, never panic.
        NetworkSet::parse(DEFAULT_INTERNAL_NETWORKS).unwrap_or_default()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip.to_canonical() {
            IpAddr::V4(ip) => self.v4.iter().any(|net| net.contains(&ip)),
            IpAddr::V6(ip) => self.v6.iter().any(|net| net.contains(&ip)),
        }
    }

    /// Whether the WIT address is inside one of the networks.
    pub fn contains_address(&self, address: &IpAddress) -> bool {
        self.contains(to_ip(address))
    }

    /// The entries as given (trimmed), for subscriptions and messages.
    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn wit_round_trip() {
        for text in ["203.0.113.7", "::1", "2001:db8::42", "0.0.0.0"] {
            assert_eq!(to_ip(&from_ip(ip(text))), ip(text));
        }
    }

    #[test]
    fn default_internal_ranges() {
        let internal = NetworkSet::default_internal();
        for inside in [
            "10.1.2.3",
            "172.31.255.255",
            "192.168.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "::1",
            "fd12::1",
            "fe80::1",
            "::ffff:10.0.0.5",
        ] {
            assert!(internal.contains(ip(inside)), "{inside}");
        }
        for outside in [
            "172.32.0.1",
            "8.8.8.8",
            "203.0.113.7",
            "2001:db8::1",
            "::ffff:8.8.8.8",
            "100.64.0.1",
        ] {
            assert!(!internal.contains(ip(outside)), "{outside}");
        }
    }

    #[test]
    fn parse_collects_every_bad_entry() {
        let errors = NetworkSet::parse(&[
            "10.0.0.0/8",
            "300.1.1.1",
            "10.0.0.0/33",
            " 192.0.2.1 ",
            "nope",
        ])
        .unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("300.1.1.1"));
    }

    #[test]
    fn single_addresses_and_host_bits() {
        let set = NetworkSet::parse(&["192.0.2.1", "10.1.2.3/8"]).unwrap();
        assert!(set.contains(ip("192.0.2.1")));
        assert!(!set.contains(ip("192.0.2.2")));
        assert!(set.contains(ip("10.200.0.1")));
    }

    #[test]
    fn endpoint_rendering() {
        let endpoint = Endpoint {
            ip: Some(from_ip(ip("203.0.113.7"))),
            port: Some(443),
            hostname: Some("files.example.com".into()),
        };
        assert_eq!(
            endpoint_text(&endpoint),
            "203.0.113.7:443 (files.example.com)"
        );
        let v6 = Endpoint {
            ip: Some(from_ip(ip("2001:db8::1"))),
            port: Some(80),
            hostname: None,
        };
        assert_eq!(endpoint_text(&v6), "[2001:db8::1]:80");
        let name_only = Endpoint {
            ip: None,
            port: None,
            hostname: Some("x.example".into()),
        };
        assert_eq!(endpoint_text(&name_only), "x.example");
    }
}
