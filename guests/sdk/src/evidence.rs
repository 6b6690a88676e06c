//! Evidence: the events a finding shows an analyst.
//!
//! Windows keep evidence for as long as they live, so it is stored compactly
//! ([`StoredEvidence`]: interned strings, only the fields that matter for the
//! event's class) and bounded ([`EvidenceLedger`]: at most N per leg, the
//! earliest by event time). The ledger also remembers every contributing
//! event's key, so a duplicated event is recognised and never counted or
//! shown twice, and it counts all contributing events, kept or not.
//!
//! Keeping the *earliest* N (by time, then id) rather than the first N to
//! arrive makes the evidence independent of arrival order.

use std::cmp::Ordering;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::address::{from_ip, to_ip};
use crate::collections::{Inline, reserve_one_inline};
use crate::event::{accountable_user, class_from_index, class_index, hostname, process_name};
use crate::intern::Sym;
use crate::pack::{Pack, PackError, Packer, Unpacker};
use crate::types::{Activity, Endpoint, Event, Evidence};

/// A network endpoint, compactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEndpoint {
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
    pub hostname: Option<Sym>,
}

impl StoredEndpoint {
    pub fn from_wit(endpoint: &Endpoint) -> StoredEndpoint {
        StoredEndpoint {
            ip: endpoint.ip.as_ref().map(to_ip),
            port: endpoint.port,
            hostname: endpoint.hostname.as_deref().map(Sym::new),
        }
    }

    pub fn to_wit(&self) -> Endpoint {
        Endpoint {
            ip: self.ip.map(from_ip),
            port: self.port,
            hostname: self.hostname.as_ref().map(|name| name.to_string()),
        }
    }
}

/// What is worth showing of an event, by kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Detail {
    /// A process start: what ran, how, from what.
    Process {
        name: Option<Sym>,
        path: Option<Sym>,
        command_line: Option<Box<str>>,
        parent_name: Option<Sym>,
    },
    /// A file written: where, by what, how big.
    File {
        path: Box<str>,
        process_name: Option<Sym>,
        size: Option<u64>,
    },
    /// A connection or request: to where, what, how much.
    Network {
        dst: StoredEndpoint,
        url: Option<Box<str>>,
        bytes: Option<u64>,
        process_name: Option<Sym>,
    },
    /// Cloud, datastore and SaaS file events.
    Data {
        url: Option<Box<str>>,
        query: Option<Box<str>>,
        resource: Option<Box<str>>,
        bytes: Option<u64>,
    },
}

/// One contributing event, compactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvidence {
    /// Index into the analytic's leg names.
    pub leg: u8,
    /// [`class_index`] of the event's class.
    pub class: u8,
    pub time: i64,
    pub source: Sym,
    pub id: Box<str>,
    pub device: Option<Sym>,
    pub user: Option<Sym>,
    pub pid: Option<u32>,
    /// In place: a box would hold a whole `Detail` anyway (its largest
    /// variant's size), and cost an allocation per record on every restore.
    pub detail: Detail,
}

fn boxed(text: Option<&str>) -> Option<Box<str>> {
    text.filter(|text| !text.is_empty()).map(Box::from)
}

fn sym(text: Option<&str>) -> Option<Sym> {
    text.filter(|text| !text.is_empty()).map(Sym::new)
}

impl StoredEvidence {
    /// The evidence of `event` for leg number `leg`. The user is the
    /// accountable user ([`accountable_user`]).
    pub fn from_event(leg: u8, event: &Event) -> StoredEvidence {
        let process = event.process.as_ref();
        let acting = || sym(process_name(event));
        let detail = match &event.activity {
            Activity::ProcessStart(_) => Detail::Process {
                name: acting(),
                path: sym(process.and_then(|p| p.path.as_deref())),
                command_line: boxed(process.and_then(|p| p.command_line.as_deref())),
                parent_name: sym(process.and_then(|p| p.parent_name.as_deref())),
            },
            Activity::File(file) => Detail::File {
                path: Box::from(file.path.as_str()),
                process_name: acting(),
                size: file.size,
            },
            Activity::Network(flow) => Detail::Network {
                dst: StoredEndpoint::from_wit(&flow.dst),
                url: None,
                bytes: flow.bytes_out,
                process_name: acting(),
            },
            Activity::Http(request) => Detail::Network {
                dst: StoredEndpoint::from_wit(&request.dst),
                url: boxed(Some(&http_url(
                    request.host.as_deref(),
                    request.uri.as_deref(),
                    &request.method,
                ))),
                bytes: request.request_bytes,
                process_name: acting(),
            },
            Activity::Name(name) => Detail::Network {
                dst: StoredEndpoint::from_wit(&name.dst),
                url: boxed(Some(&name.name)),
                bytes: None,
                process_name: acting(),
            },
            Activity::CloudApi(call) => Detail::Data {
                url: boxed(call.key.as_deref()),
                query: None,
                resource: boxed(call.resource.as_deref().or(call.bucket.as_deref())),
                bytes: call.bytes_in.or(call.bytes_out),
            },
            Activity::Query(query) => Detail::Data {
                url: None,
                query: boxed(query.text.as_deref()),
                resource: boxed(query.database.as_deref()),
                bytes: query.bytes_scanned,
            },
            Activity::FileAccess(access) => Detail::Data {
                url: boxed(access.path.as_deref().or(access.name.as_deref())),
                query: None,
                resource: boxed(access.site.as_deref()),
                bytes: None,
            },
        };
        StoredEvidence {
            leg,
            class: class_index(crate::event::class_of(event)),
            time: event.time,
            source: Sym::new(&event.source),
            id: Box::from(event.id.as_str()),
            device: sym(hostname(event)),
            user: accountable_user(event).map(|account| Sym::new(&account.text())),
            pid: process.and_then(|p| p.pid),
            detail,
        }
    }

    /// The WIT record; `legs` names the analytic's legs by index.
    pub fn to_wit(&self, legs: &[&str]) -> Evidence {
        let mut evidence = Evidence {
            leg: legs
                .get(usize::from(self.leg))
                .copied()
                .unwrap_or("unknown")
                .to_string(),
            class: class_from_index(self.class),
            source: self.source.to_string(),
            id: self.id.to_string(),
            time: self.time,
            device: self.device.as_ref().map(Sym::to_string),
            user: self.user.as_ref().map(Sym::to_string),
            process_name: None,
            process_path: None,
            pid: self.pid,
            command_line: None,
            parent_name: None,
            file: None,
            dst: None,
            url: None,
            query: None,
            resource: None,
            bytes: None,
        };
        let text = |value: &Option<Box<str>>| value.as_ref().map(|v| v.to_string());
        let name = |value: &Option<Sym>| value.as_ref().map(Sym::to_string);
        match &self.detail {
            Detail::Process {
                name: process,
                path,
                command_line,
                parent_name,
            } => {
                evidence.process_name = name(process);
                evidence.process_path = name(path);
                evidence.command_line = text(command_line);
                evidence.parent_name = name(parent_name);
            }
            Detail::File {
                path,
                process_name,
                size,
            } => {
                evidence.file = Some(path.to_string());
                evidence.process_name = name(process_name);
                evidence.bytes = *size;
            }
            Detail::Network {
                dst,
                url,
                bytes,
                process_name,
            } => {
                evidence.dst = Some(dst.to_wit());
                evidence.url = text(url);
                evidence.bytes = *bytes;
                evidence.process_name = name(process_name);
            }
            Detail::Data {
                url,
                query,
                resource,
                bytes,
            } => {
                evidence.url = text(url);
                evidence.query = text(query);
                evidence.resource = text(resource);
                evidence.bytes = *bytes;
            }
        }
        evidence
    }

    /// Order of evidence in a finding: event time, then id, then source.
    pub fn order(&self, other: &StoredEvidence) -> Ordering {
        (self.time, &*self.id, &*self.source).cmp(&(other.time, &*other.id, &*other.source))
    }
}

/// "POST files.example.com/upload", as much as the request tells.
fn http_url(host: Option<&str>, uri: Option<&str>, method: &str) -> String {
    let target = format!("{}{}", host.unwrap_or(""), uri.unwrap_or(""));
    if target.is_empty() {
        String::new()
    } else {
        format!("{method} {target}")
    }
}

/// The WIT evidence of `event` for the leg named `leg`, for analytics that
/// build findings directly from events.
pub fn from_event(leg: &str, event: &Event) -> Evidence {
    StoredEvidence::from_event(0, event).to_wit(&[leg])
}

/// Contributing events of one window: their keys, their number, and the
/// earliest few per leg as evidence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceLedger {
    /// Kept evidence, sorted by [`StoredEvidence::order`]. Most windows
    /// keep one record, so it is held in place.
    items: Inline<StoredEvidence, 1>,
    /// Keys ([`crate::uid::event_key`]) of every contributing event, sorted.
    seen: Inline<u64, 1>,
}

impl EvidenceLedger {
    pub fn new() -> EvidenceLedger {
        EvidenceLedger::default()
    }

    /// Whether the event with this key already contributed.
    pub fn contains(&self, key: u64) -> bool {
        self.seen.binary_search(&key).is_ok()
    }

    /// Record a contributing event. Returns false (and changes nothing) for
    /// a duplicate. The evidence is built by `make` only when it is kept:
    /// when its leg has fewer than `max_per_leg` items, or when it is earlier
    /// than the latest kept item of its leg, which it then replaces.
    pub fn add(
        &mut self,
        key: u64,
        leg: u8,
        time: i64,
        id: &str,
        max_per_leg: usize,
        make: impl FnOnce() -> StoredEvidence,
    ) -> bool {
        let Err(slot) = self.seen.binary_search(&key) else {
            return false;
        };
        reserve_one_inline(&mut self.seen);
        self.seen.insert(slot, key);
        let mut in_leg = 0;
        let mut latest: Option<usize> = None;
        for (index, item) in self.items.iter().enumerate() {
            if item.leg == leg {
                in_leg += 1;
                latest = Some(index); // items are sorted: the last one is the latest
            }
        }
        if in_leg >= max_per_leg {
            let Some(latest) = latest else { return true };
            let kept = &self.items[latest];
            if (time, id) >= (kept.time, &*kept.id) {
                return true;
            }
            self.items.remove(latest);
        }
        let evidence = make();
        let at = self
            .items
            .partition_point(|item| item.order(&evidence) == Ordering::Less);
        reserve_one_inline(&mut self.items);
        self.items.insert(at, evidence);
        true
    }

    /// Number of contributing events, kept as evidence or not.
    pub fn count(&self) -> u32 {
        u32::try_from(self.seen.len()).unwrap_or(u32::MAX)
    }

    /// Kept evidence in finding order.
    pub fn items(&self) -> &[StoredEvidence] {
        &self.items
    }

    /// The earliest kept evidence of `leg`.
    pub fn first_of(&self, leg: u8) -> Option<&StoredEvidence> {
        self.items.iter().find(|item| item.leg == leg)
    }

    /// Kept evidence as WIT records, in finding order.
    pub fn to_wit(&self, legs: &[&str]) -> Vec<Evidence> {
        self.items.iter().map(|item| item.to_wit(legs)).collect()
    }

    /// Heap bytes held, for memory accounting (none while in place).
    pub fn heap_bytes(&self) -> usize {
        let items = if self.items.spilled() {
            self.items.capacity() * std::mem::size_of::<StoredEvidence>()
        } else {
            0
        };
        let seen = if self.seen.spilled() {
            self.seen.capacity() * std::mem::size_of::<u64>()
        } else {
            0
        };
        items + seen
    }
}

impl Pack for StoredEndpoint {
    fn pack(&self, out: &mut Packer<'_>) {
        out.put(&self.ip);
        out.put(&self.port);
        out.put(&self.hostname);
    }
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        Ok(StoredEndpoint {
            ip: input.get()?,
            port: input.get()?,
            hostname: input.get()?,
        })
    }
}

impl Pack for Detail {
    fn pack(&self, out: &mut Packer<'_>) {
        match self {
            Detail::Process {
                name,
                path,
                command_line,
                parent_name,
            } => {
                out.u8(0);
                out.put(name);
                out.put(path);
                out.put(command_line);
                out.put(parent_name);
            }
            Detail::File {
                path,
                process_name,
                size,
            } => {
                out.u8(1);
                out.put(path);
                out.put(process_name);
                out.put(size);
            }
            Detail::Network {
                dst,
                url,
                bytes,
                process_name,
            } => {
                out.u8(2);
                out.put(dst);
                out.put(url);
                out.put(bytes);
                out.put(process_name);
            }
            Detail::Data {
                url,
                query,
                resource,
                bytes,
            } => {
                out.u8(3);
                out.put(url);
                out.put(query);
                out.put(resource);
                out.put(bytes);
            }
        }
    }
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        Ok(match input.tag(4)? {
            0 => Detail::Process {
                name: input.get()?,
                path: input.get()?,
                command_line: input.get()?,
                parent_name: input.get()?,
            },
            1 => Detail::File {
                path: input.get()?,
                process_name: input.get()?,
                size: input.get()?,
            },
            2 => Detail::Network {
                dst: input.get()?,
                url: input.get()?,
                bytes: input.get()?,
                process_name: input.get()?,
            },
            _ => Detail::Data {
                url: input.get()?,
                query: input.get()?,
                resource: input.get()?,
                bytes: input.get()?,
            },
        })
    }
}

impl Pack for StoredEvidence {
    fn pack(&self, out: &mut Packer<'_>) {
        out.u8(self.leg);
        out.u8(self.class);
        out.i64(self.time);
        out.sym(&self.source);
        out.str(&self.id);
        out.put(&self.device);
        out.put(&self.user);
        out.put(&self.pid);
        out.put(&self.detail);
    }
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        Ok(StoredEvidence {
            leg: input.u8()?,
            class: input.u8()?,
            time: input.i64()?,
            source: input.sym()?,
            id: input.get()?,
            device: input.get()?,
            user: input.get()?,
            pid: input.get()?,
            detail: input.get()?,
        })
    }
}

impl Pack for EvidenceLedger {
    fn pack(&self, out: &mut Packer<'_>) {
        out.put(&self.items);
        out.u64(self.seen.len() as u64);
        for &key in &self.seen {
            out.fixed64(key);
        }
    }
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        let items = input.get()?;
        let len = input.count()?;
        let mut seen = Inline::new();
        if len > 1 {
            seen.reserve_exact(len);
        }
        for _ in 0..len {
            seen.push(input.fixed64()?);
        }
        Ok(EvidenceLedger { items, seen })
    }
}

#[cfg(test)]
mod tests;
