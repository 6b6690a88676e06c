//! Event builders for native unit tests and benches (not compiled into
//! components), so analytic tests read like the scenario they describe:
//!
//! ```
//! use dumpwatch_sdk::testing::{EventBuilder, ip};
//! let exec = EventBuilder::exec("auditd", "db-01:1:1", 1_000, "pg_dump")
//!     .host("db-01").user("alice", 1001).pid(4242).parent("bash", 4000)
//!     .command_line("pg_dump -d crm -f /tmp/crm.sql").build();
//! let upload = EventBuilder::http("zeek", "C1", 2_000, "POST", ip("203.0.113.7"), 443)
//!     .host("db-01").request_bytes(5_000_000).build();
//! assert_eq!(exec.process.unwrap().pid, Some(4242));
//! assert!(upload.actor.user.is_none());
//! ```

use std::net::IpAddr;

mod endpoint;
pub mod state;

use crate::address::from_ip;
use crate::types::*;

/// Parse an address for a test; panics on a typo (tests only).
pub fn ip(text: &str) -> IpAddress {
    from_ip(
        text.parse::<IpAddr>()
            .unwrap_or_else(|_| panic!("bad test address {text:?}")),
    )
}

/// A tunable for a test.
pub fn tunable(name: &str, value: TunableValue) -> Tunable {
    Tunable {
        name: name.to_string(),
        value,
    }
}

/// A text-list tunable value.
pub fn texts(items: &[&str]) -> TunableValue {
    TunableValue::TextList(items.iter().map(|item| item.to_string()).collect())
}

fn empty_endpoint() -> Endpoint {
    Endpoint {
        ip: None,
        port: None,
        hostname: None,
    }
}

fn empty_process() -> Process {
    Process {
        pid: None,
        guid: None,
        name: None,
        path: None,
        command_line: None,
        args: Vec::new(),
        cwd: None,
        parent_pid: None,
        parent_guid: None,
        parent_name: None,
        parent_path: None,
        ancestry: Vec::new(),
        signing_id: None,
    }
}

/// Builds one [`Event`].
#[derive(Clone, Debug)]
pub struct EventBuilder {
    event: Event,
}

impl EventBuilder {
    /// An event of any activity, with nothing else set.
    pub fn new(source: &str, id: &str, time: Timestamp, activity: Activity) -> EventBuilder {
        EventBuilder {
            event: Event {
                time,
                source: source.to_string(),
                id: id.to_string(),
                device: Device {
                    hostname: None,
                    ip: None,
                    domain: None,
                },
                actor: Actor {
                    user: None,
                    uid: None,
                    effective_user: None,
                    effective_uid: None,
                    groups: Vec::new(),
                    session: None,
                    arn: None,
                    issuer_arn: None,
                    access_key_id: None,
                    identity_type: None,
                },
                process: None,
                activity,
            },
        }
    }

    /// A process start of executable `name` (path `/usr/bin/<name>`).
    pub fn exec(source: &str, id: &str, time: Timestamp, name: &str) -> EventBuilder {
        EventBuilder::new(
            source,
            id,
            time,
            Activity::ProcessStart(ProcessStart {
                elevation: None,
                integrity: None,
            }),
        )
        .process_name(name)
        .process_path(&format!("/usr/bin/{name}"))
    }

    /// A file event.
    pub fn file(
        source: &str,
        id: &str,
        time: Timestamp,
        operation: FileOperation,
        path: &str,
    ) -> EventBuilder {
        EventBuilder::new(
            source,
            id,
            time,
            Activity::File(FileActivity {
                operation,
                path: path.to_string(),
                source_path: None,
                size: None,
            }),
        )
    }

    /// A network connection or flow to `dst:port`.
    pub fn network(
        source: &str,
        id: &str,
        time: Timestamp,
        dst: IpAddress,
        port: u16,
    ) -> EventBuilder {
        EventBuilder::new(
            source,
            id,
            time,
            Activity::Network(NetworkFlow {
                src: empty_endpoint(),
                dst: Endpoint {
                    ip: Some(dst),
                    port: Some(port),
                    hostname: None,
                },
                protocol: Some(6),
                app_protocol: None,
                bytes_out: None,
                bytes_in: None,
                end_time: None,
                allowed: None,
                interface_id: None,
            }),
        )
    }

    /// An HTTP request to `dst:port`.
    pub fn http(
        source: &str,
        id: &str,
        time: Timestamp,
        method: &str,
        dst: IpAddress,
        port: u16,
    ) -> EventBuilder {
        EventBuilder::new(
            source,
            id,
            time,
            Activity::Http(HttpRequest {
                src: empty_endpoint(),
                dst: Endpoint {
                    ip: Some(dst),
                    port: Some(port),
                    hostname: None,
                },
                method: method.to_string(),
                host: None,
                uri: None,
                user_agent: None,
                request_bytes: None,
                response_bytes: None,
                status: None,
            }),
        )
    }

    pub fn host(mut self, hostname: &str) -> Self {
        self.event.device.hostname = Some(hostname.to_string());
        self
    }

    pub fn device_ip(mut self, address: IpAddress) -> Self {
        self.event.device.ip = Some(address);
        self
    }

    /// The login user and its id.
    pub fn user(mut self, name: &str, uid: u32) -> Self {
        self.event.actor.user = Some(name.to_string());
        self.event.actor.uid = Some(uid);
        self
    }

    /// The effective user and its id.
    pub fn effective_user(mut self, name: &str, uid: u32) -> Self {
        self.event.actor.effective_user = Some(name.to_string());
        self.event.actor.effective_uid = Some(uid);
        self
    }

    fn process(&mut self) -> &mut Process {
        self.event.process.get_or_insert_with(empty_process)
    }

    pub fn pid(mut self, pid: u32) -> Self {
        self.process().pid = Some(pid);
        self
    }

    pub fn process_name(mut self, name: &str) -> Self {
        self.process().name = Some(name.to_string());
        self
    }

    pub fn process_path(mut self, path: &str) -> Self {
        self.process().path = Some(path.to_string());
        self
    }

    pub fn command_line(mut self, command_line: &str) -> Self {
        self.process().command_line = Some(command_line.to_string());
        self
    }

    /// Parent name and pid; also the first ancestor.
    pub fn parent(mut self, name: &str, pid: u32) -> Self {
        let process = self.process();
        process.parent_name = Some(name.to_string());
        process.parent_pid = Some(pid);
        if process.ancestry.is_empty() {
            process.ancestry.push(name.to_string());
        }
        self
    }

    pub fn parent_pid(mut self, pid: u32) -> Self {
        self.process().parent_pid = Some(pid);
        self
    }

    /// Ancestor names, nearest first.
    pub fn ancestry(mut self, names: &[&str]) -> Self {
        self.process().ancestry = names.iter().map(|name| name.to_string()).collect();
        self
    }

    /// Bytes sent by the initiator of a network flow.
    pub fn bytes_out(mut self, bytes: u64) -> Self {
        if let Activity::Network(flow) = &mut self.event.activity {
            flow.bytes_out = Some(bytes);
        }
        self
    }

    /// Request body size of an HTTP request.
    pub fn request_bytes(mut self, bytes: u64) -> Self {
        if let Activity::Http(request) = &mut self.event.activity {
            request.request_bytes = Some(bytes);
        }
        self
    }

    /// Host header and URI of an HTTP request.
    pub fn target(mut self, host: &str, uri: &str) -> Self {
        if let Activity::Http(request) = &mut self.event.activity {
            request.host = Some(host.to_string());
            request.uri = Some(uri.to_string());
        }
        self
    }

    /// Remote host name of a network or HTTP event.
    pub fn dst_hostname(mut self, name: &str) -> Self {
        match &mut self.event.activity {
            Activity::Network(flow) => flow.dst.hostname = Some(name.to_string()),
            Activity::Http(request) => request.dst.hostname = Some(name.to_string()),
            _ => {}
        }
        self
    }

    /// Local side of a network or HTTP event.
    pub fn src(mut self, address: IpAddress, port: u16) -> Self {
        let endpoint = Endpoint {
            ip: Some(address),
            port: Some(port),
            hostname: None,
        };
        match &mut self.event.activity {
            Activity::Network(flow) => flow.src = endpoint,
            Activity::Http(request) => request.src = endpoint,
            _ => {}
        }
        self
    }

    /// File size of a file event.
    pub fn size(mut self, bytes: u64) -> Self {
        if let Activity::File(file) = &mut self.event.activity {
            file.size = Some(bytes);
        }
        self
    }

    pub fn build(self) -> Event {
        self.event
    }
}
