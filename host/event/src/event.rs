//! The normalized event. Field for field the WIT `event` record; see
//! `wit/analytic.wit` for what each field holds per source.
//!
//! The JSON rendering (used by `dumpwatch normalize`, documented in
//! `docs/contract.md`) uses snake_case names, omits absent values and empty
//! lists, writes addresses as text and adds `class` and an RFC 3339 copy of
//! the time for people reading it.

use std::net::IpAddr;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// Milliseconds since the Unix epoch, UTC; always event time.
pub type Timestamp = i64;

/// One side of a network conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
}

impl Endpoint {
    pub fn is_empty(&self) -> bool {
        self.ip.is_none() && self.port.is_none() && self.hostname.is_none()
    }
}

/// The host an event happened on or was observed from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Device {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// Who did it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Actor {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_uid: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_type: Option<String>,
}

/// A process: the one started (process start) or the one acting.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Process {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_line: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_guid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_path: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ancestry: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_id: Option<String>,
}

/// A program started; the new process is [`Event::process`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProcessStart {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elevation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
}

/// What happened to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOperation {
    Create,
    Write,
    Truncate,
    Rename,
    CloseModified,
    Delete,
}

/// A file created, written, renamed or deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileActivity {
    pub operation: FileOperation,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A network connection or flow; the event time is its start.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NetworkFlow {
    #[serde(skip_serializing_if = "Endpoint::is_empty")]
    pub src: Endpoint,
    #[serde(skip_serializing_if = "Endpoint::is_empty")]
    pub dst: Endpoint,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_out: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
}

/// An HTTP request seen on the wire.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HttpRequest {
    #[serde(skip_serializing_if = "Endpoint::is_empty")]
    pub src: Endpoint,
    #[serde(skip_serializing_if = "Endpoint::is_empty")]
    pub dst: Endpoint,
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// Where a network name was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameKind {
    TlsServerName,
    DnsQuery,
}

/// A host name asked for or connected to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkName {
    pub kind: NameKind,
    pub name: String,
    #[serde(skip_serializing_if = "Endpoint::is_empty")]
    pub src: Endpoint,
    #[serde(skip_serializing_if = "Endpoint::is_empty")]
    pub dst: Endpoint,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<IpAddr>,
}

/// A call to a cloud provider API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CloudApiCall {
    pub provider: String,
    pub service: String,
    pub operation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_out: Option<u64>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "serialize_pairs"
    )]
    pub parameters: Vec<(String, String)>,
}

/// A query run against a data store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DatastoreQuery {
    pub system: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_hash_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_scanned: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
}

/// A file in a SaaS store read, downloaded or synced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileAccess {
    pub operation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
}

/// The class of an event, as subscriptions name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventClass {
    ProcessStart,
    File,
    Network,
    Http,
    Name,
    CloudApi,
    Query,
    FileAccess,
}

impl EventClass {
    pub const ALL: [EventClass; 8] = [
        EventClass::ProcessStart,
        EventClass::File,
        EventClass::Network,
        EventClass::Http,
        EventClass::Name,
        EventClass::CloudApi,
        EventClass::Query,
        EventClass::FileAccess,
    ];

    /// The snake_case name used in JSON, the docs and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            EventClass::ProcessStart => "process_start",
            EventClass::File => "file",
            EventClass::Network => "network",
            EventClass::Http => "http",
            EventClass::Name => "name",
            EventClass::CloudApi => "cloud_api",
            EventClass::Query => "query",
            EventClass::FileAccess => "file_access",
        }
    }

    /// OCSF class uid and activity-level type name of this class, for the
    /// `related_events` of a finding.
    pub fn ocsf_type(self) -> (u32, &'static str) {
        match self {
            EventClass::ProcessStart => (100701, "Process Activity: Launch"),
            EventClass::File => (100199, "File System Activity: Other"),
            EventClass::Network => (400101, "Network Activity: Open"),
            EventClass::Http => (400200, "HTTP Activity: Unknown"),
            EventClass::Name => (400301, "DNS Activity: Query"),
            EventClass::CloudApi => (600399, "API Activity: Other"),
            EventClass::Query => (600502, "Datastore Activity: Read"),
            EventClass::FileAccess => (600601, "File Hosting Activity: Upload"),
        }
    }
}

/// What the event is, with the fields of its class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Activity {
    ProcessStart(ProcessStart),
    File(FileActivity),
    Network(NetworkFlow),
    Http(HttpRequest),
    Name(NetworkName),
    CloudApi(CloudApiCall),
    Query(DatastoreQuery),
    FileAccess(FileAccess),
}

impl Activity {
    pub fn class(&self) -> EventClass {
        match self {
            Activity::ProcessStart(_) => EventClass::ProcessStart,
            Activity::File(_) => EventClass::File,
            Activity::Network(_) => EventClass::Network,
            Activity::Http(_) => EventClass::Http,
            Activity::Name(_) => EventClass::Name,
            Activity::CloudApi(_) => EventClass::CloudApi,
            Activity::Query(_) => EventClass::Query,
            Activity::FileAccess(_) => EventClass::FileAccess,
        }
    }
}

/// One normalized event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub time: Timestamp,
    /// The format that produced it (`auditd`, `zeek`, …).
    pub source: &'static str,
    /// The id the source gave the event.
    pub id: String,
    pub device: Device,
    pub actor: Actor,
    pub process: Option<Box<Process>>,
    pub activity: Activity,
}

impl Event {
    pub fn class(&self) -> EventClass {
        self.activity.class()
    }

    /// The addresses that identify the local host of a network sensor
    /// record (the initiator side), used by inventory enrichment.
    pub fn local_ip(&self) -> Option<IpAddr> {
        match &self.activity {
            Activity::Network(f) => f.src.ip,
            Activity::Http(h) => h.src.ip,
            Activity::Name(n) => n.src.ip,
            _ => None,
        }
    }
}

fn serialize_pairs<S: Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        let class = self.class();
        map.serialize_entry("class", class.as_str())?;
        map.serialize_entry("time", &self.time)?;
        map.serialize_entry("time_iso", &crate::time::format_rfc3339_ms(self.time))?;
        map.serialize_entry("source", self.source)?;
        map.serialize_entry("id", &self.id)?;
        if self.device != Device::default() {
            map.serialize_entry("device", &self.device)?;
        }
        if self.actor != Actor::default() {
            map.serialize_entry("actor", &self.actor)?;
        }
        if let Some(p) = &self.process {
            map.serialize_entry("process", p)?;
        }
        match &self.activity {
            Activity::ProcessStart(a) => {
                if *a != ProcessStart::default() {
                    map.serialize_entry(class.as_str(), a)?
                }
            }
            Activity::File(a) => map.serialize_entry(class.as_str(), a)?,
            Activity::Network(a) => map.serialize_entry(class.as_str(), a)?,
            Activity::Http(a) => map.serialize_entry(class.as_str(), a)?,
            Activity::Name(a) => map.serialize_entry(class.as_str(), a)?,
            Activity::CloudApi(a) => map.serialize_entry(class.as_str(), a)?,
            Activity::Query(a) => map.serialize_entry(class.as_str(), a)?,
            Activity::FileAccess(a) => map.serialize_entry(class.as_str(), a)?,
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rendering_names_the_class_and_omits_absent_fields() {
        let ev = Event {
            time: 1_581_371_984_206,
            source: "auditd",
            id: "db01:1581371984.206:579393".into(),
            device: Device {
                hostname: Some("db01".into()),
                ..Default::default()
            },
            actor: Actor {
                user: Some("alice".into()),
                uid: Some(1000),
                ..Default::default()
            },
            process: Some(Box::new(Process {
                pid: Some(42),
                name: Some("pg_dump".into()),
                ..Default::default()
            })),
            activity: Activity::ProcessStart(ProcessStart::default()),
        };
        let v: serde_json::Value = serde_json::to_value(&ev).expect("serializes");
        assert_eq!(v["class"], "process_start");
        assert_eq!(v["time_iso"], "2020-02-10T21:59:44.206Z");
        assert_eq!(v["actor"]["uid"], 1000);
        assert_eq!(v["process"]["name"], "pg_dump");
        assert!(v["process"].get("args").is_none());
        assert!(v.get("process_start").is_none());
    }
}
