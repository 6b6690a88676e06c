//! From an event to an observation: which leg it can satisfy, on which
//! host, for whom, with the process identity matching needs; or nothing
//! when the event cannot matter (the common case: this runs on every
//! delivered event, so the cheapest checks come first).

use dumpwatch_sdk::domain::host_without_port;
use dumpwatch_sdk::event::{accountable_user, hostname, process_name};
use dumpwatch_sdk::evidence::StoredEvidence;
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::types::{Activity, Event, FileOperation};
use dumpwatch_sdk::uid::event_key;
use serde::{Deserialize, Serialize};

use crate::config::Config;

/// The legs, in the order findings list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Leg {
    Exec = 0,
    Export = 1,
    Egress = 2,
}

pub const LEG_NAMES: [&str; 3] = ["exec", "export", "egress"];
pub const LEGS: [Leg; 3] = [Leg::Exec, Leg::Export, Leg::Egress];

impl Leg {
    pub fn index(self) -> u8 {
        self as u8
    }

    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    pub fn name(self) -> &'static str {
        LEG_NAMES[usize::from(self.index())]
    }
}

/// Host key of host-side events without a host name (eslogger output read
/// without `--host`).
pub const UNKNOWN_HOST: &str = "(unknown host)";
/// User of a tool start without any user information.
pub const UNKNOWN_USER: &str = "(unknown user)";

/// Flags of a [`Candidate`].
pub mod flag {
    /// Exec by a user the inventory names, outside UserPrivilegeLevel.
    pub const LOW_PRIVILEGE: u8 = 1;
    /// Exec by a user known only by uid: the role is unknown.
    pub const UNKNOWN_ROLE: u8 = 2;
    /// Exec matched by DBAppBundles (a GUI application).
    pub const APP: u8 = 4;
}

/// A process identity: the stable id (eslogger's `pid:pidversion`) where
/// the source has one, and the pid. Two identities that both have one
/// compare by it (a pid is reused, and `exec` bumps the pidversion); pids
/// decide only when one side has none (unified-log process starts).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcId {
    pub guid: Option<Sym>,
    pub pid: Option<u32>,
}

impl ProcId {
    pub fn same(&self, other: &ProcId) -> bool {
        match (&self.guid, &other.guid) {
            (Some(a), Some(b)) => a == b,
            _ => self.pid.is_some() && self.pid == other.pid,
        }
    }

    pub fn same_pid(&self, other: &ProcId) -> bool {
        self.pid.is_some() && self.pid == other.pid
    }
}

/// A relevant event, reduced to what matching needs, with its evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub leg: Leg,
    /// [`event_key`] of source and id: tells duplicates apart.
    pub key: u64,
    pub time: i64,
    /// Accountable user; always set for a tool start, never for sensor
    /// traffic.
    pub user: Option<Sym>,
    /// The process started (exec) or writing (export).
    pub process: ProcId,
    /// Its parent.
    pub parent: ProcId,
    /// [`flag`] bits.
    pub flags: u8,
    /// Exec: the user's groups, for the reason line. Egress: the cloud sync
    /// domain matched.
    pub note: Option<Sym>,
    pub evidence: StoredEvidence,
}

impl Candidate {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Order of tool starts when windows are formed: time, then id.
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
                || !config.export_files.matches(&file.path)
                || !config.export_locations.matches(&file.path)
            {
                return None;
            }
            Some((
                host_side_host(event),
                candidate(event, Leg::Export, 0, None),
            ))
        }
        Activity::Name(name) if !is_host_side(event) => {
            let domain = config.cloud.matching(&name.name)?;
            let note = Some(Sym::new(domain));
            Some((sensor_host(event)?, candidate(event, Leg::Egress, 0, note)))
        }
        Activity::Http(request) if !is_host_side(event) => {
            let host = host_without_port(request.host.as_deref()?);
            let domain = config.cloud.matching(host)?;
            let note = Some(Sym::new(domain));
            Some((sensor_host(event)?, candidate(event, Leg::Egress, 0, note)))
        }
        _ => None,
    }
}

fn observe_exec(event: &Event, config: &Config) -> Option<(Sym, Candidate)> {
    let process = event.process.as_ref()?;
    let by_name = process_name(event).is_some_and(|name| config.is_db_tool(name));
    let by_app = !by_name
        && process
            .path
            .as_deref()
            .is_some_and(|path| config.db_apps.matches(path));
    if !by_name && !by_app {
        return None;
    }
    let account = accountable_user(event);
    let name = account.and_then(|account| account.name);
    let groups = &event.actor.groups;
    if name.is_some_and(|name| config.is_privileged(name))
        || groups.iter().any(|group| config.is_privileged(group))
    {
        return None;
    }
    let mut flags = if by_app { flag::APP } else { 0 };
    if name.is_some() || !groups.is_empty() {
        flags |= flag::LOW_PRIVILEGE;
    } else {
        flags |= flag::UNKNOWN_ROLE;
    }
    let note = (!groups.is_empty()).then(|| Sym::new(&groups.join(", ")));
    let mut candidate = candidate(event, Leg::Exec, flags, note);
    let user = match account.map(|account| account.text()) {
        Some(text) if !text.is_empty() => text.into_owned(),
        _ => UNKNOWN_USER.to_string(),
    };
    candidate.user = Some(Sym::new(&user));
    Some((host_side_host(event), candidate))
}

fn candidate(event: &Event, leg: Leg, flags: u8, note: Option<Sym>) -> Candidate {
    let process = event.process.as_ref();
    let ids = |guid: Option<&str>, pid: Option<u32>| ProcId {
        guid: guid.filter(|guid| !guid.is_empty()).map(Sym::new),
        pid,
    };
    Candidate {
        leg,
        key: event_key(&event.source, &event.id),
        time: event.time,
        user: accountable_user(event).map(|account| Sym::new(&account.text())),
        process: ids(
            process.and_then(|p| p.guid.as_deref()),
            process.and_then(|p| p.pid),
        ),
        parent: ids(
            process.and_then(|p| p.parent_guid.as_deref()),
            process.and_then(|p| p.parent_pid),
        ),
        flags,
        note,
        evidence: StoredEvidence::from_event(leg.index(), event),
    }
}

/// An event from the host itself (it names a user or a process), as
/// opposed to a network sensor's view of the host's traffic.
fn is_host_side(event: &Event) -> bool {
    event.process.is_some() || accountable_user(event).is_some()
}

/// Host names compare by their first label, without case (`alice-mbp`,
/// `alice-mbp.local` and `ALICE-MBP.corp.example` are one host). An address
/// stays whole.
pub fn host_key(name: &str) -> Sym {
    let name = name.trim().trim_end_matches('.');
    let short = if name.parse::<std::net::IpAddr>().is_ok() {
        name
    } else {
        name.split('.').next().unwrap_or(name)
    };
    if short.bytes().any(|b| b.is_ascii_uppercase()) {
        Sym::new(&short.to_ascii_lowercase())
    } else {
        Sym::new(short)
    }
}

/// The host of a host-side event; events without one share a key.
fn host_side_host(event: &Event) -> Sym {
    hostname(event).map_or_else(|| Sym::new(UNKNOWN_HOST), host_key)
}

/// The host of a sensor event: the inventory's owner of the local address.
fn sensor_host(event: &Event) -> Option<Sym> {
    hostname(event).map(host_key)
}
