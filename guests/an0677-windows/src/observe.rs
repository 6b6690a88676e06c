//! From an event to an observation: a candidate for a leg (or a member of
//! a tool's process tree) with its host, user and process identity, or the
//! addresses a DNS answer or TLS server name gives a cloud storage name; or
//! nothing when the event cannot matter (the common case: this runs on
//! every delivered event, so the cheapest checks come first).

use std::net::IpAddr;

use dumpwatch_sdk::address::to_ip;
use dumpwatch_sdk::event::{accountable_user, hostname, process_name};
use dumpwatch_sdk::evidence::StoredEvidence;
use dumpwatch_sdk::glob::file_name;
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::types::{Activity, Endpoint, Event, FileOperation, NameKind};
use dumpwatch_sdk::uid::event_key;
use serde::{Deserialize, Serialize};

use crate::config::Config;

/// The legs, in the order findings list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Leg {
    Exec = 0,
    Export = 1,
    Archive = 2,
    Egress = 3,
}

pub const LEG_NAMES: [&str; 4] = ["exec", "export", "archive", "egress"];
pub const LEGS: [Leg; 4] = [Leg::Exec, Leg::Export, Leg::Archive, Leg::Egress];

impl Leg {
    pub fn index(self) -> u8 {
        self as u8
    }

    pub fn bit(self) -> u16 {
        1 << (self as u16)
    }

    pub fn name(self) -> &'static str {
        LEG_NAMES[usize::from(self.index())]
    }
}

/// Host key of host-side events without a host name.
pub const UNKNOWN_HOST: &str = "(unknown host)";
/// User of a tool start without any user information.
pub const UNKNOWN_USER: &str = "(unknown user)";

/// What a candidate is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// A database tool start that is the exec leg: the window anchor.
    Exec,
    /// Another process start: a child of a database tool
    /// ([`flag::CHILD`]) and/or an archiver with a password switch
    /// ([`flag::PASSWORD`]).
    Process,
    /// A file created under ExportLocations: [`flag::EXPORT`] and/or
    /// [`flag::ARCHIVE`].
    File,
    /// A host-side (Sysmon 3) connection to an external address.
    Connection,
    /// A network sensor's flow from the host to an external address.
    Flow,
}

/// Flags of a [`Candidate`].
pub mod flag {
    /// Exec: started from outside KnownDBToolPaths.
    pub const OUTSIDE_KNOWN_PATH: u8 = 1;
    /// Exec: started by a parent in OddParentProcesses.
    pub const ODD_PARENT: u8 = 2;
    /// Exec: started by a parent in WebServerProcesses.
    pub const WEB_PARENT: u8 = 4;
    /// Process: its parent is a database tool.
    pub const CHILD: u8 = 8;
    /// Process: an archiver with a password switch.
    pub const PASSWORD: u8 = 16;
    /// File: matches ExportExtensionPatterns.
    pub const EXPORT: u8 = 32;
    /// File: matches ArchiveFilePatterns.
    pub const ARCHIVE: u8 = 64;
}

/// A process identity: the stable id (ProcessGuid) where the source has
/// one, and the pid. Windows reuses pids quickly, so two identities with
/// GUIDs compare by GUID only; pids decide only when one side has none
/// (Security 4688 carries no GUID).
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
}

/// The network side of a connection or flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Net {
    pub src_port: Option<u16>,
    pub dst: IpAddr,
    pub port: Option<u16>,
    /// Bytes sent by the host (sensor flows).
    pub bytes: Option<u64>,
    /// The host name the record itself gives the destination (Sysmon
    /// DestinationHostname, a reverse lookup).
    pub hostname: Option<Sym>,
}

/// A relevant event, reduced to what matching needs, with its evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub kind: Kind,
    /// [`event_key`] of source and id: tells duplicates apart.
    pub key: u64,
    pub time: i64,
    /// Accountable user, lower case; always set for an exec, never for a
    /// sensor flow.
    pub user: Option<Sym>,
    /// The process started (exec, process) or acting (file, connection).
    pub process: ProcId,
    /// The parent of a started process.
    pub parent: ProcId,
    /// [`flag`] bits.
    pub flags: u8,
    /// Exec: the odd or web server parent's name. Process: the password
    /// switch (without the password).
    pub note: Option<Sym>,
    pub net: Option<Box<Net>>,
    /// What a finding shows; none for a child process that is only a tree
    /// member.
    pub evidence: Option<Box<StoredEvidence>>,
}

impl Candidate {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Order of tool starts when windows are formed: time, then id.
    pub fn order_key(&self) -> (i64, &str, &str) {
        match &self.evidence {
            Some(evidence) => (self.time, &evidence.id, &evidence.source),
            None => (self.time, "", ""),
        }
    }

    /// The event id, for messages and uids.
    pub fn id(&self) -> &str {
        self.evidence.as_ref().map_or("", |evidence| &evidence.id)
    }
}

/// Addresses that a cloud storage name resolved to (a DNS answer) or was
/// served from (a TLS server name), as seen by one process or the host.
#[derive(Clone, Debug, PartialEq)]
pub struct Answers {
    pub time: i64,
    pub guid: Option<Sym>,
    pub name: Sym,
    pub ips: Vec<IpAddr>,
}

/// What an event tells the analytic.
#[derive(Clone, Debug, PartialEq)]
pub enum Observation {
    Candidate(Sym, Candidate),
    Answers(Sym, Answers),
}

/// The observation an event makes, if any.
pub fn observe(event: &Event, config: &Config) -> Option<Observation> {
    match &event.activity {
        Activity::ProcessStart(_) => observe_start(event, config),
        Activity::File(file) => {
            if matches!(file.operation, FileOperation::Delete)
                || !config.export_locations.matches(&file.path)
            {
                return None;
            }
            let mut flags = 0;
            if config.export_files.matches(&file.path) {
                flags |= flag::EXPORT;
            }
            if config.archive_files.matches(&file.path) {
                flags |= flag::ARCHIVE;
            }
            if flags == 0 {
                return None;
            }
            let leg = if flags & flag::EXPORT != 0 {
                Leg::Export
            } else {
                Leg::Archive
            };
            let candidate = candidate(event, Kind::File, flags, None, Some(leg));
            Some(Observation::Candidate(host_side_host(event), candidate))
        }
        Activity::Network(flow) => {
            let dst = external(event, &flow.dst, config)?;
            let mut net = Net {
                src_port: flow.src.port,
                dst,
                port: flow.dst.port,
                bytes: None,
                hostname: flow
                    .dst
                    .hostname
                    .as_deref()
                    .map(str::trim)
                    .filter(|name| !name.is_empty() && *name != "-")
                    .map(|name| Sym::new(&name.trim_end_matches('.').to_ascii_lowercase())),
            };
            if is_host_side(event) {
                if flow
                    .dst
                    .port
                    .is_some_and(|port| config.db_ports.contains(&port))
                {
                    return None;
                }
                let mut candidate = candidate(event, Kind::Connection, 0, None, Some(Leg::Egress));
                candidate.net = Some(Box::new(net));
                Some(Observation::Candidate(host_side_host(event), candidate))
            } else {
                let bytes = flow.bytes_out.filter(|bytes| *bytes > 0)?;
                let host = sensor_host(event)?;
                net.bytes = Some(bytes);
                let mut candidate = candidate(event, Kind::Flow, 0, None, Some(Leg::Egress));
                candidate.net = Some(Box::new(net));
                Some(Observation::Candidate(host, candidate))
            }
        }
        Activity::Name(name) => {
            if !config.cloud.matches(&name.name) {
                return None;
            }
            let ips: Vec<IpAddr> = match name.kind {
                NameKind::DnsQuery => name.answers.iter().map(to_ip).collect(),
                NameKind::TlsServerName => name.dst.ip.iter().map(to_ip).collect(),
            };
            let mut ips: Vec<IpAddr> = ips
                .into_iter()
                .filter(|ip| !config.internal.contains(*ip))
                .collect();
            ips.sort_unstable();
            ips.dedup();
            if ips.is_empty() {
                return None;
            }
            let host = if is_host_side(event) {
                host_side_host(event)
            } else {
                sensor_host(event)?
            };
            let guid = event
                .process
                .as_ref()
                .and_then(|p| p.guid.as_deref())
                .map(Sym::new);
            let name = Sym::new(name.name.trim_end_matches('.'));
            Some(Observation::Answers(
                host,
                Answers {
                    time: event.time,
                    guid,
                    name,
                    ips,
                },
            ))
        }
        _ => None,
    }
}

fn observe_start(event: &Event, config: &Config) -> Option<Observation> {
    let process = event.process.as_ref()?;
    let name = process_name(event)?;
    let parent_name = process
        .parent_name
        .as_deref()
        .filter(|name| !name.is_empty())
        .or_else(|| process.parent_path.as_deref().map(file_name));
    if config.db_tools.contains(name)
        && let Some(exec) = observe_exec(event, config, parent_name)
    {
        return Some(exec);
    }
    let mut flags = 0;
    let mut note = None;
    if parent_name.is_some_and(|parent| config.db_tools.contains(parent)) {
        flags |= flag::CHILD;
    }
    if config.archivers.contains(name)
        && let Some(switch) =
            password_switch(process.command_line.as_deref(), &process.args, config)
    {
        flags |= flag::PASSWORD;
        note = Some(Sym::new(&switch));
    }
    if flags == 0 {
        return None;
    }
    let leg = (flags & flag::PASSWORD != 0).then_some(Leg::Archive);
    let candidate = candidate(event, Kind::Process, flags, note, leg);
    Some(Observation::Candidate(host_side_host(event), candidate))
}

fn observe_exec(event: &Event, config: &Config, parent_name: Option<&str>) -> Option<Observation> {
    let account = accountable_user(event);
    let user_name = account.and_then(|account| account.name);
    if let Some(user) = user_name
        && config.is_allowed(user, event.device.domain.as_deref())
    {
        return None;
    }
    let mut flags = 0;
    let mut note = None;
    let path = event.process.as_ref().and_then(|p| p.path.as_deref());
    if path.is_some_and(|path| !config.known_paths.matches(path)) {
        flags |= flag::OUTSIDE_KNOWN_PATH;
    }
    if let Some(parent) = parent_name {
        if config.web_servers.matches(parent) {
            flags |= flag::WEB_PARENT;
            note = Some(Sym::new(parent));
        } else if config.odd_parents.matches(parent) {
            flags |= flag::ODD_PARENT;
            note = Some(Sym::new(parent));
        }
    }
    if flags == 0 {
        return None;
    }
    let mut candidate = candidate(event, Kind::Exec, flags, note, Some(Leg::Exec));
    candidate.user = Some(
        candidate
            .user
            .clone()
            .unwrap_or_else(|| Sym::new(UNKNOWN_USER)),
    );
    Some(Observation::Candidate(host_side_host(event), candidate))
}

/// The first password switch on the command line, as the switch alone
/// (`-p`, never the password after it), or none.
fn password_switch(command_line: Option<&str>, args: &[String], config: &Config) -> Option<String> {
    let from_line = command_line.into_iter().flat_map(str::split_whitespace);
    let tokens = args.iter().map(String::as_str).chain(from_line);
    for token in tokens {
        let token = token.trim_matches(['"', '\'']);
        if token.len() > 256 {
            continue;
        }
        let lower = token.to_ascii_lowercase();
        for switch in &config.password_switches {
            if let Some(rest) = lower.strip_prefix(switch.as_str())
                && rest != "-"
            {
                return Some(switch.clone());
            }
        }
    }
    None
}

fn candidate(
    event: &Event,
    kind: Kind,
    flags: u8,
    note: Option<Sym>,
    leg: Option<Leg>,
) -> Candidate {
    let process = event.process.as_ref();
    let ids = |guid: Option<&str>, pid: Option<u32>| ProcId {
        guid: guid.filter(|guid| !guid.is_empty()).map(Sym::new),
        pid,
    };
    let user = accountable_user(event)
        .and_then(|account| {
            account
                .name
                .map(str::to_string)
                .or_else(|| account.uid.map(|uid| uid.to_string()))
        })
        .filter(|name| !name.is_empty())
        .map(|name| Sym::new(&name.to_ascii_lowercase()));
    Candidate {
        kind,
        key: event_key(&event.source, &event.id),
        time: event.time,
        user,
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
        net: None,
        evidence: leg.map(|leg| Box::new(StoredEvidence::from_event(leg.index(), event))),
    }
}

/// An event from the host itself (it names a user or a process), as
/// opposed to a network sensor's view of the host's traffic.
fn is_host_side(event: &Event) -> bool {
    event.process.is_some() || accountable_user(event).is_some()
}

/// The destination address when it is external (outside InternalNetworks
/// and not the host's own address).
fn external(event: &Event, dst: &Endpoint, config: &Config) -> Option<IpAddr> {
    let ip = dst.ip.as_ref()?;
    if config.internal.contains_address(ip) || event.device.ip.as_ref() == Some(ip) {
        return None;
    }
    Some(to_ip(ip))
}

/// Host names compare by their first label, without case: Windows names a
/// host by its FQDN (`SQLWKS07.corp.example`), inventories and sensors
/// often by its short name (`sqlwks07`). An address stays whole.
pub fn host_key(name: &str) -> Sym {
    let name = name.trim().trim_end_matches('.');
    let short = if name.parse::<IpAddr>().is_ok() {
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
/// Without one the event cannot be tied to any window.
fn sensor_host(event: &Event) -> Option<Sym> {
    hostname(event).map(host_key)
}
