//! `[inventory]`: the hosts dumpwatch knows, their addresses and users.
//!
//! Network sensors (Zeek, Suricata) see addresses, host logs see host
//! names; the inventory joins them so every analytic sees the same identity
//! for a host. It also maps numeric uids to names for logs that carry only
//! numbers.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::Deserialize;

/// `[inventory]`
#[derive(Clone, Debug, Default, Deserialize)]
pub struct InventoryConfig {
    /// Hosts by name.
    #[serde(default)]
    pub hosts: BTreeMap<String, HostConfig>,
    /// uid → user name for every host (a host's own `users` win).
    #[serde(default)]
    pub users: BTreeMap<String, String>,
    /// user name → groups or roles (`alice = ["dev", "dba"]`).
    #[serde(default)]
    pub groups: BTreeMap<String, Vec<String>>,
}

/// `[inventory.hosts.<name>]`
#[derive(Clone, Debug, Default, Deserialize)]
pub struct HostConfig {
    /// Addresses of the host: single IPs or CIDR networks.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// uid → user name on this host.
    #[serde(default)]
    pub users: BTreeMap<String, String>,
}

/// Parse an address or network; a single address becomes a /32 or /128.
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let t = s.trim();
    if let Ok(n) = t.parse::<IpNet>() {
        return Ok(n);
    }
    t.parse::<std::net::IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("{s:?} is neither an IP address nor a CIDR network"))
}

impl InventoryConfig {
    pub(crate) fn check(&self, p: &mut Vec<String>) {
        for (name, h) in &self.hosts {
            for a in &h.addresses {
                if let Err(e) = parse_net(a) {
                    p.push(format!("inventory.hosts.{name}.addresses: {e}"));
                }
            }
            for uid in h.users.keys() {
                if uid.parse::<u32>().is_err() {
                    p.push(format!(
                        "inventory.hosts.{name}.users: key {uid:?} is not a numeric uid"
                    ));
                }
            }
        }
        for uid in self.users.keys() {
            if uid.parse::<u32>().is_err() {
                p.push(format!("inventory.users: key {uid:?} is not a numeric uid"));
            }
        }
    }

    /// Every host's networks, parsed (invalid entries were reported by
    /// `check` and are skipped here).
    pub fn networks(&self) -> Vec<(IpNet, String)> {
        let mut out = Vec::new();
        for (name, h) in &self.hosts {
            for a in &h.addresses {
                if let Ok(n) = parse_net(a) {
                    out.push((n, name.clone()));
                }
            }
        }
        out
    }
}
