//! From an event to an observation: which leg it can satisfy, on which
//! host, for whom, and the little state matching needs, or nothing when the
//! event cannot matter (the common case: this runs on every delivered event,
//! so the checks are ordered cheapest first).

use dumpwatch_sdk::event::{Account, accountable_user, hostname, process_name};
use dumpwatch_sdk::evidence::StoredEvidence;
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::pack::{Pack, PackError, Packer, Unpacker};
use dumpwatch_sdk::types::{Activity, Endpoint, Event, FileOperation};
use dumpwatch_sdk::uid::event_key;
use serde::{Deserialize, Serialize};

use crate::config::Config;

/// The legs, in the order findings list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Leg {
    Exec = 0,
    Dump = 1,
    Egress = 2,
}

pub const LEG_NAMES: [&str; 3] = ["exec", "dump", "egress"];

impl Pack for Leg {
    fn pack(&self, out: &mut Packer<'_>) {
        out.u8(self.index());
    }
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        Ok(match input.tag(3)? {
            0 => Leg::Exec,
            1 => Leg::Dump,
            _ => Leg::Egress,
        })
    }
}

impl Leg {
    pub fn index(self) -> u8 {
        self as u8
    }

    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Host key of events without a host name (host-side events only).
pub const UNKNOWN_HOST: &str = "(unknown host)";
/// User of a client start without any user information.
pub const UNKNOWN_USER: &str = "(unknown user)";

/// Flags of a [`Candidate`].
pub mod flag {
    /// A dump under HomeDirectories.
    pub const HOME_DUMP: u8 = 1;
    /// A client start with a web server ancestor.
    pub const ODD_PARENT: u8 = 2;
    /// A client start outside AutomationWindows.
    pub const OUTSIDE_AUTOMATION: u8 = 4;
    /// Egress seen by a network sensor: no user or process, so it applies
    /// to every window of its host.
    pub const SENSOR: u8 = 8;
}

/// A relevant event, reduced to what matching needs, with its evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub leg: Leg,
    /// [`event_key`] of source and id: tells duplicates apart.
    pub key: u64,
    pub time: i64,
    /// Accountable user; always set for client starts, never for sensor
    /// events.
    pub user: Option<Sym>,
    pub pid: Option<u32>,
    pub ppid: Option<u32>,
    /// [`flag`] bits.
    pub flags: u8,
    /// The web server ancestor of an [`flag::ODD_PARENT`] client start.
    pub note: Option<Sym>,
    pub evidence: StoredEvidence,
}

impl Pack for Candidate {
    fn pack(&self, out: &mut Packer<'_>) {
        out.put(&self.leg);
        out.fixed64(self.key);
        out.i64(self.time);
        out.put(&self.user);
        out.put(&self.pid);
        out.put(&self.ppid);
        out.u8(self.flags);
        out.put(&self.note);
        out.put(&self.evidence);
    }
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        Ok(Candidate {
            leg: input.get()?,
            key: input.fixed64()?,
            time: input.i64()?,
            user: input.get()?,
            pid: input.get()?,
            ppid: input.get()?,
            flags: input.u8()?,
            note: input.get()?,
            evidence: input.get()?,
        })
    }
}

impl Candidate {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Order of client starts when windows are formed: time, then id.
    pub fn order_key(&self) -> (i64, &str, &str) {
        (self.time, &self.evidence.id, &self.evidence.source)
    }
}

/// The observation an event makes, if any: its host key and candidate.
pub fn observe(event: &Event, config: &Config) -> Option<(Sym, Candidate)> {
    match &event.activity {
        Activity::ProcessStart(_) => observe_exec(event, config),
        Activity::File(file) => {
            if matches!(file.operation, FileOperation::Delete)
                || !config.dump_files.matches(&file.path)
            {
                return None;
            }
            let mut flags = 0;
            if config.home_dirs.matches(&file.path) {
                flags |= flag::HOME_DUMP;
            }
            Some(candidate(
                event,
                Leg::Dump,
                host_side_host(event),
                flags,
                None,
            ))
        }
        Activity::Network(flow) => {
            if !is_external(event, &flow.dst, config) {
                return None;
            }
            if is_host_side(event) {
                if flow
                    .dst
                    .port
                    .is_some_and(|port| config.db_ports.contains(&port))
                {
                    return None;
                }
                Some(candidate(
                    event,
                    Leg::Egress,
                    host_side_host(event),
                    0,
                    None,
                ))
            } else {
                if flow
                    .bytes_out
                    .is_none_or(|bytes| bytes < config.upload_bytes)
                {
                    return None;
                }
                Some(candidate(
                    event,
                    Leg::Egress,
                    sensor_host(event)?,
                    flag::SENSOR,
                    None,
                ))
            }
        }
        Activity::Http(request) => {
            if !is_external(event, &request.dst, config) {
                return None;
            }
            let uploads = config
                .http_methods
                .iter()
                .any(|m| m.eq_ignore_ascii_case(&request.method))
                || request
                    .request_bytes
                    .is_some_and(|bytes| bytes >= config.upload_bytes);
            if !uploads {
                return None;
            }
            if is_host_side(event) {
                Some(candidate(
                    event,
                    Leg::Egress,
                    host_side_host(event),
                    0,
                    None,
                ))
            } else {
                Some(candidate(
                    event,
                    Leg::Egress,
                    sensor_host(event)?,
                    flag::SENSOR,
                    None,
                ))
            }
        }
        _ => None,
    }
}

fn observe_exec(event: &Event, config: &Config) -> Option<(Sym, Candidate)> {
    let name = process_name(event)?;
    if !config.db_tools.contains(name) {
        return None;
    }
    let account = accountable_user(event);
    if account.is_some_and(|account| account.is_listed(&config.allowed)) {
        return None;
    }
    let mut flags = 0;
    let note = web_server_ancestor(event, config);
    if note.is_some() {
        flags |= flag::ODD_PARENT;
    }
    if !config.automation.is_empty() && !config.automation.contains(event.time) {
        flags |= flag::OUTSIDE_AUTOMATION;
    }
    let user = Some(Sym::new(&user_text(account)));
    let mut candidate = candidate(event, Leg::Exec, host_side_host(event), flags, note);
    candidate.1.user = user;
    Some(candidate)
}

fn candidate(event: &Event, leg: Leg, host: Sym, flags: u8, note: Option<Sym>) -> (Sym, Candidate) {
    let process = event.process.as_ref();
    let user = accountable_user(event).map(|account| Sym::new(&account.text()));
    (
        host,
        Candidate {
            leg,
            key: event_key(&event.source, &event.id),
            time: event.time,
            user,
            pid: process.and_then(|p| p.pid),
            ppid: process.and_then(|p| p.parent_pid),
            flags,
            note,
            evidence: StoredEvidence::from_event(leg.index(), event),
        },
    )
}

/// The first ancestor (parent first) that is a web server process.
fn web_server_ancestor(event: &Event, config: &Config) -> Option<Sym> {
    let process = event.process.as_ref()?;
    process
        .parent_name
        .iter()
        .chain(process.ancestry.iter())
        .find(|name| config.web_servers.contains(name.as_str()))
        .map(|name| Sym::new(name))
}

fn user_text(account: Option<Account<'_>>) -> String {
    match account.map(|account| account.text()) {
        Some(text) if !text.is_empty() => text.into_owned(),
        _ => UNKNOWN_USER.to_string(),
    }
}

/// An event from the host itself (it names a user or a process), as
/// opposed to a network sensor's view of the host's traffic.
fn is_host_side(event: &Event) -> bool {
    event.process.is_some() || accountable_user(event).is_some()
}

/// Whether the destination address is external (outside InternalNetworks
/// and not the host's own address).
fn is_external(event: &Event, dst: &Endpoint, config: &Config) -> bool {
    dst.ip.as_ref().is_some_and(|ip| {
        !config.internal.contains_address(ip) && event.device.ip.as_ref() != Some(ip)
    })
}

/// Host names compare case-insensitively (DNS), so keys are lower case.
fn host_key(name: &str) -> Sym {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Sym::new(&name.to_ascii_lowercase())
    } else {
        Sym::new(name)
    }
}

/// The host of a host-side event; events without one share a key.
fn host_side_host(event: &Event) -> Sym {
    host_key(hostname(event).unwrap_or(UNKNOWN_HOST))
}

/// The host of a sensor event: the inventory's owner of the local address.
/// Without one the event cannot be tied to any window.
fn sensor_host(event: &Event) -> Option<Sym> {
    hostname(event).map(host_key)
}
