//! AN0676's tunables, read and validated into a typed [`Config`], and the
//! subscriptions they imply.

use dumpwatch_sdk::address::NetworkSet;
use dumpwatch_sdk::collections::{Set, new_set};
use dumpwatch_sdk::glob::GlobList;
use dumpwatch_sdk::schedule::WeeklySchedule;
use dumpwatch_sdk::subscribe::{self, subscription};
use dumpwatch_sdk::tunables::TunableSet;
use dumpwatch_sdk::types::{ConfigError, EventClass, Subscription, Tunable};

use crate::manifest::*;
use crate::window::MAX_WINDOW_MS;

/// Sources of host-side events (process starts, file writes, connects).
pub const HOST_SOURCES: &[&str] = &["auditd"];
/// Network sensors whose flows and HTTP requests can be the egress leg.
pub const SENSOR_SOURCES: &[&str] = &["zeek", "suricata"];

/// The tunables in force, typed.
#[derive(Clone, Debug)]
pub struct Config {
    pub db_tools: Set<String>,
    /// Kept in manifest order for subscriptions.
    pub db_tool_list: Vec<String>,
    pub allowed: Vec<String>,
    pub dump_files: GlobList,
    pub window_ms: i64,
    pub slack_ms: i64,
    pub internal: NetworkSet,
    pub db_ports: Vec<u16>,
    /// Upper case.
    pub http_methods: Vec<String>,
    pub upload_bytes: u64,
    pub home_dirs: GlobList,
    pub web_servers: Set<String>,
    pub automation: WeeklySchedule,
    pub late_retention_ms: i64,
    pub max_windows: usize,
    pub max_evidence: usize,
    pub max_pending: usize,
}

impl Default for Config {
    fn default() -> Config {
        // The defaults are valid (a unit test checks it); should they ever
        // not be, `read` still returns usable values.
        let specs = tunable_specs();
        let mut set = TunableSet::new(&specs, &[]);
        let config = Config::read(&mut set);
        debug_assert!(set.finish().is_ok());
        config
    }
}

impl Config {
    /// Read and validate a configured tunable set; every problem is
    /// reported.
    pub fn from_tunables(tunables: &[Tunable]) -> Result<Config, Vec<ConfigError>> {
        let specs = tunable_specs();
        let mut set = TunableSet::new(&specs, tunables);
        let config = Config::read(&mut set);
        set.finish()?;
        Ok(config)
    }

    fn read(set: &mut TunableSet<'_>) -> Config {
        let db_tool_list = set.text_list(DB_CLIENT_TOOLS);
        if db_tool_list.is_empty() {
            set.error(
                DB_CLIENT_TOOLS,
                "is empty: the analytic would never fire".into(),
            );
        }
        let allowed = set.text_list(ALLOWED_DB_CLIENTS);
        let dump_files = set.glob_list(DUMP_FILE_PATTERN, false);
        if dump_files.is_empty() {
            set.error(
                DUMP_FILE_PATTERN,
                "is empty: the analytic would never fire".into(),
            );
        }
        let mut window_ms = set.duration_ms_at_least(TIME_WINDOW, 1);
        if window_ms > MAX_WINDOW_MS {
            set.error(
                TIME_WINDOW,
                format!("{window_ms} ms is longer than the longest supported, 24 days"),
            );
            window_ms = MAX_WINDOW_MS;
        }
        let slack_ms = set.duration_ms(REDIRECT_SLACK);
        if slack_ms > window_ms {
            set.error(
                REDIRECT_SLACK,
                format!("{slack_ms} ms is longer than TimeWindow ({window_ms} ms)"),
            );
        }
        let internal = set.cidr_list(INTERNAL_NETWORKS);
        let db_ports = set.port_list(DATABASE_PORTS);
        let http_methods: Vec<String> = set
            .text_list(EGRESS_HTTP_METHODS)
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect();
        let upload_bytes = set.bytes(UPLOAD_BYTES_THRESHOLD);
        if upload_bytes == 0 {
            set.error(
                UPLOAD_BYTES_THRESHOLD,
                "0 would make every flow an upload; use at least 1".into(),
            );
        }
        let home_dirs = set.glob_list(HOME_DIRECTORIES, false);
        let web_servers = set.text_list(WEB_SERVER_PROCESSES);
        let automation = set.schedule(AUTOMATION_WINDOWS);
        let late_retention_ms = set.duration_ms(LATE_RETENTION);
        let max_windows = set.integer(MAX_OPEN_WINDOWS, 1, 100_000_000);
        let max_evidence = set.integer(MAX_EVIDENCE_PER_LEG, 1, 1000);
        let max_pending = set.integer(MAX_PENDING_EVENTS, 1, 100_000_000);
        Config {
            db_tools: to_set(&db_tool_list),
            db_tool_list,
            allowed,
            dump_files,
            window_ms,
            slack_ms,
            internal,
            db_ports,
            http_methods,
            upload_bytes,
            home_dirs,
            web_servers: to_set(&web_servers),
            automation,
            late_retention_ms,
            max_windows: usize::try_from(max_windows).unwrap_or(usize::MAX),
            max_evidence: usize::try_from(max_evidence).unwrap_or(1),
            max_pending: usize::try_from(max_pending).unwrap_or(usize::MAX),
        }
    }

    /// What the host should deliver: exactly the events the analytic can
    /// use, so the other 99 % never cross into the guest.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        let internal = self.internal.texts();
        // A missing field fails a negated test too (docs/contract.md), so
        // this also requires a destination address.
        let external = || vec![subscribe::not_in_cidr("dst.ip", internal)];
        let mut subs = vec![subscription(
            EventClass::ProcessStart,
            HOST_SOURCES,
            vec![subscribe::equals("process.name", &self.db_tool_list)],
        )];
        if !self.dump_files.name_patterns().is_empty() {
            subs.push(subscription(
                EventClass::File,
                HOST_SOURCES,
                vec![subscribe::glob(
                    "file.name",
                    self.dump_files.name_patterns(),
                )],
            ));
        }
        if !self.dump_files.path_patterns().is_empty() {
            subs.push(subscription(
                EventClass::File,
                HOST_SOURCES,
                vec![subscribe::glob(
                    "file.path",
                    self.dump_files.path_patterns(),
                )],
            ));
        }
        let mut connect = external();
        if !self.db_ports.is_empty() {
            connect.push(subscribe::not_equals(
                "dst.port",
                self.db_ports.iter().map(u16::to_string),
            ));
        }
        subs.push(subscription(EventClass::Network, HOST_SOURCES, connect));
        let mut flow = external();
        flow.push(subscribe::at_least("network.bytes_out", self.upload_bytes));
        subs.push(subscription(EventClass::Network, SENSOR_SOURCES, flow));
        if !self.http_methods.is_empty() {
            let mut by_method = external();
            by_method.push(subscribe::equals_nocase("http.method", &self.http_methods));
            subs.push(subscription(EventClass::Http, SENSOR_SOURCES, by_method));
        }
        let mut by_size = external();
        by_size.push(subscribe::at_least("http.request_bytes", self.upload_bytes));
        subs.push(subscription(EventClass::Http, SENSOR_SOURCES, by_size));
        subs
    }
}

fn to_set(items: &[String]) -> Set<String> {
    let mut set = new_set();
    set.extend(items.iter().cloned());
    set
}
