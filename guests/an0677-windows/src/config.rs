//! AN0677's tunables, read and validated into a typed [`Config`], and the
//! subscriptions they imply.

use dumpwatch_sdk::address::NetworkSet;
use dumpwatch_sdk::collections::{Set, new_set};
use dumpwatch_sdk::domain::DomainList;
use dumpwatch_sdk::glob::GlobList;
use dumpwatch_sdk::subscribe::{self, subscription};
use dumpwatch_sdk::tunables::TunableSet;
use dumpwatch_sdk::types::{ConfigError, EventClass, Subscription, Tunable};

use crate::manifest::*;

/// Sources of host-side events.
pub const HOST_SOURCES: &[&str] = &["windows-security", "sysmon"];
/// The source of file, connection and DNS events on the host.
pub const SYSMON: &[&str] = &["sysmon"];
/// Network sensors: flows with byte counts, DNS and TLS server names.
pub const SENSOR_SOURCES: &[&str] = &["zeek", "suricata"];

/// Executable names compared without case, `.exe` optional: an entry
/// `sqlcmd` matches `SQLCMD.EXE`, an entry `sqlcmd.exe` matches `sqlcmd.exe`
/// and `SqlCmd.Exe` (Windows file names are case-insensitive).
#[derive(Clone, Debug, Default)]
pub struct ExeNames {
    /// Lower case, as configured.
    names: Set<String>,
    /// As configured, plus `name.exe` for entries without an extension:
    /// the values of an `equals-nocase` subscription test.
    values: Vec<String>,
}

impl ExeNames {
    pub fn new(entries: &[String]) -> ExeNames {
        let mut names = new_set();
        let mut values = Vec::new();
        for entry in entries {
            let lower = entry.to_ascii_lowercase();
            values.push(entry.clone());
            if !lower.contains('.') {
                values.push(format!("{entry}.exe"));
            }
            names.insert(lower);
        }
        ExeNames { names, values }
    }

    pub fn contains(&self, name: &str) -> bool {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.contains_lower(&name.to_ascii_lowercase())
        } else {
            self.contains_lower(name)
        }
    }

    fn contains_lower(&self, name: &str) -> bool {
        self.names.contains(name)
            || name
                .strip_suffix(".exe")
                .is_some_and(|stem| self.names.contains(stem))
    }

    pub fn values(&self) -> &[String] {
        &self.values
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// An allowed account: `user`, or `DOMAIN\user`; lower case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub domain: Option<String>,
    pub user: String,
}

/// The tunables in force, typed.
#[derive(Clone, Debug)]
pub struct Config {
    pub db_tools: ExeNames,
    pub known_paths: GlobList,
    pub odd_parents: GlobList,
    pub web_servers: GlobList,
    pub allowed: Vec<Account>,
    pub export_files: GlobList,
    pub export_locations: GlobList,
    pub archive_files: GlobList,
    pub archivers: ExeNames,
    /// Lower case.
    pub password_switches: Vec<String>,
    pub window_ms: i64,
    pub slack_ms: i64,
    pub internal: NetworkSet,
    pub db_ports: Vec<u16>,
    pub max_transfer: u64,
    pub connection_threshold: u32,
    pub cloud: DomainList,
    pub name_retention_ms: i64,
    pub max_names: usize,
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
        let db_tools = ExeNames::new(&set.text_list(DB_CLIENT_TOOLS));
        if db_tools.is_empty() {
            set.error(
                DB_CLIENT_TOOLS,
                "is empty: the analytic would never fire".into(),
            );
        }
        let known_paths = set.glob_list(KNOWN_DB_TOOL_PATHS, true);
        let odd_parents = set.glob_list(ODD_PARENT_PROCESSES, true);
        let web_servers = set.glob_list(WEB_SERVER_PROCESSES, true);
        let allowed = set
            .text_list(ALLOWED_ACCOUNTS)
            .iter()
            .map(|entry| account(entry))
            .collect();
        let export_files = set.glob_list(EXPORT_EXTENSION_PATTERNS, true);
        if export_files.is_empty() {
            set.error(
                EXPORT_EXTENSION_PATTERNS,
                "is empty: the analytic would never fire".into(),
            );
        }
        let export_locations = set.glob_list(EXPORT_LOCATIONS, true);
        if export_locations.is_empty() {
            set.error(
                EXPORT_LOCATIONS,
                "is empty: the analytic would never fire".into(),
            );
        } else if !export_locations.name_patterns().is_empty() {
            set.error(
                EXPORT_LOCATIONS,
                format!(
                    "{} has no `\\` or `/`: locations are path globs such as `?:\\Users\\**`",
                    export_locations.name_patterns().join(", ")
                ),
            );
        }
        let archive_files = set.glob_list(ARCHIVE_FILE_PATTERNS, true);
        let archivers = ExeNames::new(&set.text_list(ARCHIVER_TOOLS));
        let password_switches: Vec<String> = set
            .text_list(ARCHIVE_PASSWORD_SWITCHES)
            .iter()
            .map(|switch| switch.to_ascii_lowercase())
            .collect();
        for switch in &password_switches {
            if !switch.starts_with(['-', '/'])
                || switch.contains(['*', '?', '[', ']', '{', '}', ' '])
            {
                set.error(
                    ARCHIVE_PASSWORD_SWITCHES,
                    format!("{switch:?} is not a switch: it must start with `-` or `/` and hold no spaces or glob characters"),
                );
            }
        }
        let window_ms = set.duration_ms_at_least(TIME_WINDOW, 1);
        let slack_ms = set.duration_ms(REDIRECT_SLACK);
        if slack_ms > window_ms {
            set.error(
                REDIRECT_SLACK,
                format!("{slack_ms} ms is longer than TimeWindow ({window_ms} ms)"),
            );
        }
        let internal = set.cidr_list(INTERNAL_NETWORKS);
        let db_ports = set.port_list(DATABASE_PORTS);
        let max_transfer = set.bytes(MAX_TRANSFER_VOLUME);
        if max_transfer == 0 {
            set.error(
                MAX_TRANSFER_VOLUME,
                "0 would make every flow egress; use at least 1".into(),
            );
        }
        let connection_threshold = set.integer(EGRESS_CONNECTION_THRESHOLD, 1, 1_000_000);
        let cloud = set.domain_list(CLOUD_STORAGE_DOMAINS);
        let name_retention_ms = set.duration_ms(NAME_RETENTION);
        let max_names = set.integer(MAX_NAMES_PER_HOST, 1, 1_000_000);
        let late_retention_ms = set.duration_ms(LATE_RETENTION);
        let max_windows = set.integer(MAX_OPEN_WINDOWS, 1, 100_000_000);
        let max_evidence = set.integer(MAX_EVIDENCE_PER_LEG, 1, 1000);
        let max_pending = set.integer(MAX_PENDING_EVENTS, 1, 100_000_000);
        Config {
            db_tools,
            known_paths,
            odd_parents,
            web_servers,
            allowed,
            export_files,
            export_locations,
            archive_files,
            archivers,
            password_switches,
            window_ms,
            slack_ms,
            internal,
            db_ports,
            max_transfer,
            connection_threshold: u32::try_from(connection_threshold).unwrap_or(1),
            cloud,
            name_retention_ms,
            max_names: usize::try_from(max_names).unwrap_or(1024),
            late_retention_ms,
            max_windows: usize::try_from(max_windows).unwrap_or(usize::MAX),
            max_evidence: usize::try_from(max_evidence).unwrap_or(1),
            max_pending: usize::try_from(max_pending).unwrap_or(usize::MAX),
        }
    }

    /// Whether `user` (in `domain`) is in AllowedAccounts.
    pub fn is_allowed(&self, user: &str, domain: Option<&str>) -> bool {
        self.allowed.iter().any(|account| {
            account.user.eq_ignore_ascii_case(user)
                && account
                    .domain
                    .as_deref()
                    .is_none_or(|d| domain.is_some_and(|domain| d.eq_ignore_ascii_case(domain)))
        })
    }

    /// What the host should deliver: exactly the events the analytic can
    /// use, so the rest never crosses into the guest.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        let internal = self.internal.texts();
        let mut subs = vec![
            // Database tool starts, and the processes they start (their
            // process tree).
            subscription(
                EventClass::ProcessStart,
                HOST_SOURCES,
                vec![subscribe::equals_nocase(
                    "process.name",
                    self.db_tools.values(),
                )],
            ),
            subscription(
                EventClass::ProcessStart,
                HOST_SOURCES,
                vec![subscribe::equals_nocase(
                    "process.parent_name",
                    self.db_tools.values(),
                )],
            ),
        ];
        if !self.archivers.is_empty() && !self.password_switches.is_empty() {
            subs.push(subscription(
                EventClass::ProcessStart,
                HOST_SOURCES,
                vec![
                    subscribe::equals_nocase("process.name", self.archivers.values()),
                    subscribe::glob_nocase(
                        "process.command_line",
                        self.password_switches.iter().map(|s| format!("*{s}*")),
                    ),
                ],
            ));
        }
        // Exports and archives: a name pattern and a location must both
        // match; path patterns in the file lists get a subscription of
        // their own.
        let locations =
            || subscribe::glob_nocase("file.path", self.export_locations.path_patterns());
        let mut names: Vec<&String> = self.export_files.name_patterns().iter().collect();
        names.extend(self.archive_files.name_patterns());
        if !names.is_empty() {
            subs.push(subscription(
                EventClass::File,
                SYSMON,
                vec![subscribe::glob_nocase("file.name", names), locations()],
            ));
        }
        let mut paths: Vec<&String> = self.export_files.path_patterns().iter().collect();
        paths.extend(self.archive_files.path_patterns());
        if !paths.is_empty() {
            subs.push(subscription(
                EventClass::File,
                SYSMON,
                vec![subscribe::glob_nocase("file.path", paths), locations()],
            ));
        }
        // Connections out of the host. A missing field fails a negated
        // test too (docs/contract.md): these also require a destination.
        let mut connect = vec![subscribe::not_in_cidr("dst.ip", internal)];
        if !self.db_ports.is_empty() {
            connect.push(subscribe::not_equals(
                "dst.port",
                self.db_ports.iter().map(u16::to_string),
            ));
        }
        subs.push(subscription(EventClass::Network, SYSMON, connect));
        subs.push(subscription(
            EventClass::Network,
            SENSOR_SOURCES,
            vec![
                subscribe::exists("device.hostname"),
                subscribe::not_in_cidr("dst.ip", internal),
                subscribe::at_least("network.bytes_out", 1),
            ],
        ));
        // Names of cloud storage destinations only: naming every
        // destination would hold every DNS answer of every host.
        if !self.cloud.is_empty() {
            let cloud = || subscribe::suffix_nocase("name.name", self.cloud.suffixes());
            subs.push(subscription(EventClass::Name, SYSMON, vec![cloud()]));
            subs.push(subscription(
                EventClass::Name,
                SENSOR_SOURCES,
                vec![subscribe::exists("device.hostname"), cloud()],
            ));
        }
        subs
    }
}

fn account(entry: &str) -> Account {
    match entry.split_once('\\') {
        Some((domain, user)) if !domain.is_empty() => Account {
            domain: Some(domain.to_ascii_lowercase()),
            user: user.to_ascii_lowercase(),
        },
        Some((_, user)) => Account {
            domain: None,
            user: user.to_ascii_lowercase(),
        },
        None => Account {
            domain: None,
            user: entry.to_ascii_lowercase(),
        },
    }
}
