//! Host-side enrichment, so every analytic sees the same identities.
//!
//! * A network sensor event (Zeek, Suricata) names addresses, not hosts:
//!   when its initiator address belongs to an inventory host, the event's
//!   device becomes that host (and its address).
//! * Logs that carry only numeric uids get names from the inventory's user
//!   map (a host's own map first, then the global one); both the login user
//!   and the effective user are resolved. Groups come from the inventory's
//!   group map.
//!
//! Names already in the record are never overwritten.

use std::collections::HashMap;
use std::net::IpAddr;

use dumpwatch_config::InventoryConfig;
use dumpwatch_event::Event;
use ipnet::IpNet;

/// The compiled inventory.
#[derive(Default)]
pub struct Inventory {
    /// Single addresses, the common case, looked up in O(1).
    exact: HashMap<IpAddr, String>,
    /// Networks, most specific first.
    nets: Vec<(IpNet, String)>,
    users: HashMap<u32, String>,
    host_users: HashMap<String, HashMap<u32, String>>,
    groups: HashMap<String, Vec<String>>,
}

impl Inventory {
    pub fn new(cfg: &InventoryConfig) -> Inventory {
        let mut inv = Inventory::default();
        for (net, host) in cfg.networks() {
            if net.prefix_len() == net.max_prefix_len() {
                inv.exact.insert(net.addr(), host);
            } else {
                inv.nets.push((net, host));
            }
        }
        inv.nets
            .sort_by_key(|n| std::cmp::Reverse(n.0.prefix_len()));
        let parse = |m: &std::collections::BTreeMap<String, String>| {
            m.iter()
                .filter_map(|(k, v)| k.parse::<u32>().ok().map(|uid| (uid, v.clone())))
                .collect::<HashMap<_, _>>()
        };
        inv.users = parse(&cfg.users);
        for (name, h) in &cfg.hosts {
            if !h.users.is_empty() {
                inv.host_users.insert(name.clone(), parse(&h.users));
            }
        }
        inv.groups = cfg
            .groups
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        inv
    }

    /// The inventory host that owns an address.
    pub fn host_of(&self, ip: IpAddr) -> Option<&str> {
        if let Some(h) = self.exact.get(&ip) {
            return Some(h);
        }
        self.nets
            .iter()
            .find(|(n, _)| n.contains(&ip))
            .map(|(_, h)| h.as_str())
    }

    fn user_name(&self, host: Option<&str>, uid: u32) -> Option<&str> {
        host.and_then(|h| self.host_users.get(h))
            .and_then(|m| m.get(&uid))
            .or_else(|| self.users.get(&uid))
            .map(String::as_str)
    }

    /// Fill what the inventory knows into an event.
    pub fn enrich(&self, e: &mut Event) {
        if e.device.hostname.is_none()
            && let Some(ip) = e.local_ip()
            && let Some(h) = self.host_of(ip)
        {
            e.device.hostname = Some(h.to_owned());
            e.device.ip = Some(ip);
        }
        let host = e.device.hostname.as_deref();
        if e.actor.user.is_none()
            && let Some(uid) = e.actor.uid
            && let Some(name) = self.user_name(host, uid)
        {
            e.actor.user = Some(name.to_owned());
        }
        if e.actor.effective_user.is_none()
            && let Some(uid) = e.actor.effective_uid
            && let Some(name) = self.user_name(host, uid)
        {
            e.actor.effective_user = Some(name.to_owned());
        }
        if e.actor.groups.is_empty()
            && let Some(g) = e.actor.user.as_ref().and_then(|u| self.groups.get(u))
        {
            e.actor.groups = g.clone();
        }
    }

    /// True when there is nothing to enrich with (skips the per-event work).
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
            && self.nets.is_empty()
            && self.users.is_empty()
            && self.host_users.is_empty()
            && self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dumpwatch_event::{Activity, Actor, Device, Endpoint, HttpRequest};

    fn inventory() -> Inventory {
        let cfg: InventoryConfig = toml::from_str(
            r#"
            [hosts.db01]
            addresses = ["10.0.0.5", "10.0.1.0/28"]
            users = { 1000 = "alice" }
            [hosts.web01]
            addresses = ["10.0.0.0/16"]
            [users]
            1000 = "someone-else"
            1001 = "bob"
            [groups]
            alice = ["dev"]
            "#,
        )
        .expect("valid inventory");
        Inventory::new(&cfg)
    }

    #[test]
    fn most_specific_network_wins() {
        let inv = inventory();
        assert_eq!(inv.host_of("10.0.0.5".parse().expect("ip")), Some("db01"));
        assert_eq!(inv.host_of("10.0.1.3".parse().expect("ip")), Some("db01"));
        assert_eq!(inv.host_of("10.0.7.1".parse().expect("ip")), Some("web01"));
        assert_eq!(inv.host_of("192.0.2.1".parse().expect("ip")), None);
    }

    #[test]
    fn sensor_events_get_their_host_and_users_their_names() {
        let inv = inventory();
        let mut e = Event {
            time: 0,
            source: "zeek",
            id: "C1".into(),
            device: Device::default(),
            actor: Actor {
                uid: Some(1000),
                effective_uid: Some(1001),
                ..Default::default()
            },
            process: None,
            activity: Activity::Http(HttpRequest {
                src: Endpoint {
                    ip: "10.0.1.2".parse().ok(),
                    ..Default::default()
                },
                method: "POST".into(),
                ..Default::default()
            }),
        };
        inv.enrich(&mut e);
        assert_eq!(e.device.hostname.as_deref(), Some("db01"));
        assert_eq!(e.actor.user.as_deref(), Some("alice"), "host map wins");
        assert_eq!(e.actor.effective_user.as_deref(), Some("bob"));
        assert_eq!(e.actor.groups, vec!["dev".to_string()]);
    }
}
