//! Builders for endpoint telemetry details: stable process ids (Windows
//! ProcessGuid, macOS pid:pidversion) and parents, groups and domains, and
//! name events (DNS queries with their answers, TLS server names).
//!
//! ```
//! use dumpwatch_sdk::testing::{EventBuilder, ip};
//! use dumpwatch_sdk::types::{Activity, NameKind};
//! let query = EventBuilder::name("sysmon", "h:22:1", 1_000, NameKind::DnsQuery, "files.example.com")
//!     .host("ws01").guid("{a}").answers(&[ip("203.0.113.7")]).build();
//! let Activity::Name(name) = &query.activity else { unreachable!() };
//! assert_eq!(name.answers, [ip("203.0.113.7")]);
//! let child = EventBuilder::exec("sysmon", "h:1:2", 2_000, "cmd.exe")
//!     .guid("{b}").parent_guid("{a}").parent_path("C:\\Tools\\sqlcmd.exe")
//!     .groups(&["dev"]).domain("CORP").build();
//! let process = child.process.unwrap();
//! assert_eq!(process.parent_name.as_deref(), Some("sqlcmd.exe"));
//! assert_eq!(child.actor.groups, ["dev"]);
//! ```

use super::{EventBuilder, empty_endpoint};
use crate::glob::file_name;
use crate::types::*;

impl EventBuilder {
    /// A name event: a DNS query or a TLS server name, without answers or
    /// endpoints.
    pub fn name(
        source: &str,
        id: &str,
        time: Timestamp,
        kind: NameKind,
        name: &str,
    ) -> EventBuilder {
        EventBuilder::new(
            source,
            id,
            time,
            Activity::Name(NetworkName {
                kind,
                name: name.to_string(),
                src: empty_endpoint(),
                dst: empty_endpoint(),
                answers: Vec::new(),
            }),
        )
    }

    /// The addresses a DNS query was answered with.
    pub fn answers(mut self, addresses: &[IpAddress]) -> Self {
        if let Activity::Name(name) = &mut self.event.activity {
            name.answers = addresses.to_vec();
        }
        self
    }

    /// The server side of a name event (a TLS server name's address).
    pub fn name_dst(mut self, address: IpAddress, port: u16) -> Self {
        if let Activity::Name(name) = &mut self.event.activity {
            name.dst = Endpoint {
                ip: Some(address),
                port: Some(port),
                hostname: None,
            };
        }
        self
    }

    /// The client side of a name event.
    pub fn name_src(mut self, address: IpAddress, port: u16) -> Self {
        if let Activity::Name(name) = &mut self.event.activity {
            name.src = Endpoint {
                ip: Some(address),
                port: Some(port),
                hostname: None,
            };
        }
        self
    }

    /// The stable process id (Windows ProcessGuid, macOS pid:pidversion).
    pub fn guid(mut self, guid: &str) -> Self {
        self.process().guid = Some(guid.to_string());
        self
    }

    /// The parent's stable process id.
    pub fn parent_guid(mut self, guid: &str) -> Self {
        self.process().parent_guid = Some(guid.to_string());
        self
    }

    /// The parent's executable path; also its name (and the first ancestor)
    /// when those are unset.
    pub fn parent_path(mut self, path: &str) -> Self {
        let process = self.process();
        process.parent_path = Some(path.to_string());
        let name = file_name(path).to_string();
        if process.ancestry.is_empty() {
            process.ancestry.push(name.clone());
        }
        process.parent_name.get_or_insert(name);
        self
    }

    /// Groups or roles of the actor.
    pub fn groups(mut self, groups: &[&str]) -> Self {
        self.event.actor.groups = groups.iter().map(|group| group.to_string()).collect();
        self
    }

    /// The device's domain (Windows domain, cloud account).
    pub fn domain(mut self, domain: &str) -> Self {
        self.event.device.domain = Some(domain.to_string());
        self
    }

    /// The login user by name only (sources without numeric ids, such as
    /// Windows).
    pub fn user_name(mut self, name: &str) -> Self {
        self.event.actor.user = Some(name.to_string());
        self
    }

    /// The login user's numeric id only (eslogger before the inventory
    /// named it).
    pub fn uid(mut self, uid: u32) -> Self {
        self.event.actor.uid = Some(uid);
        self
    }

    /// Make a file event a rename from `source` (its path is the new
    /// name).
    pub fn renamed_from(mut self, source: &str) -> Self {
        if let Activity::File(file) = &mut self.event.activity {
            file.operation = FileOperation::Rename;
            file.source_path = Some(source.to_string());
        }
        self
    }
}
