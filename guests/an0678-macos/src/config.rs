//! AN0678's tunables, read and validated into a typed [`Config`], and the
//! subscriptions they imply.

use dumpwatch_sdk::collections::{Set, new_set};
use dumpwatch_sdk::domain::DomainList;
use dumpwatch_sdk::glob::GlobList;
use dumpwatch_sdk::subscribe::{self, subscription};
use dumpwatch_sdk::tunables::TunableSet;
use dumpwatch_sdk::types::{ConfigError, EventClass, Subscription, Tunable};

use crate::manifest::*;

/// Sources of host-side events: Endpoint Security and the unified log.
pub const HOST_SOURCES: &[&str] = &["eslogger", "unified-log"];
/// The only source of file events.
pub const ESLOGGER: &[&str] = &["eslogger"];
/// Network sensors: TLS server names, HTTP Host headers, DNS queries.
pub const SENSOR_SOURCES: &[&str] = &["zeek", "suricata"];

/// The tunables in force, typed.
#[derive(Clone, Debug)]
pub struct Config {
    /// Lower case.
    pub db_tools: Set<String>,
    /// As configured, for subscriptions.
    pub db_tool_list: Vec<String>,
    pub db_apps: GlobList,
    /// Lower case.
    pub privileged: Set<String>,
    pub low_privilege_raise: u8,
    pub export_files: GlobList,
    pub export_locations: GlobList,
    pub cloud: DomainList,
    pub window_ms: i64,
    pub slack_ms: i64,
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
        let db_tool_list = set.text_list(DB_TOOLS);
        let db_apps = set.glob_list(DB_APP_BUNDLES, true);
        if db_tool_list.is_empty() && db_apps.is_empty() {
            set.error(
                DB_TOOLS,
                "DBTools and DBAppBundles are both empty: the analytic would never fire".into(),
            );
        }
        let privileged = lower_set(&set.text_list(USER_PRIVILEGE_LEVEL));
        let low_privilege_raise = set.integer(LOW_PRIVILEGE_RAISE, 0, 4);
        let export_files = set.glob_list(EXPORT_FILE_PATTERNS, true);
        if export_files.is_empty() {
            set.error(
                EXPORT_FILE_PATTERNS,
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
                    "{} has no `/`: locations are path globs such as `/Users/*/Downloads/**`",
                    export_locations.name_patterns().join(", ")
                ),
            );
        }
        let cloud = set.domain_list(CLOUD_SYNC_DOMAIN_LIST);
        let window_ms = set.duration_ms_at_least(TIME_WINDOW, 1);
        let slack_ms = set.duration_ms(REDIRECT_SLACK);
        if slack_ms > window_ms {
            set.error(
                REDIRECT_SLACK,
                format!("{slack_ms} ms is longer than TimeWindow ({window_ms} ms)"),
            );
        }
        let late_retention_ms = set.duration_ms(LATE_RETENTION);
        let max_windows = set.integer(MAX_OPEN_WINDOWS, 1, 100_000_000);
        let max_evidence = set.integer(MAX_EVIDENCE_PER_LEG, 1, 1000);
        let max_pending = set.integer(MAX_PENDING_EVENTS, 1, 100_000_000);
        Config {
            db_tools: lower_set(&db_tool_list),
            db_tool_list,
            db_apps,
            privileged,
            low_privilege_raise: u8::try_from(low_privilege_raise).unwrap_or(1),
            export_files,
            export_locations,
            cloud,
            window_ms,
            slack_ms,
            late_retention_ms,
            max_windows: usize::try_from(max_windows).unwrap_or(usize::MAX),
            max_evidence: usize::try_from(max_evidence).unwrap_or(1),
            max_pending: usize::try_from(max_pending).unwrap_or(usize::MAX),
        }
    }

    /// Whether an executable name is one of DBTools (any case).
    pub fn is_db_tool(&self, name: &str) -> bool {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.db_tools.contains(&name.to_ascii_lowercase())
        } else {
            self.db_tools.contains(name)
        }
    }

    /// Whether `name` (a user or a group) is in UserPrivilegeLevel.
    pub fn is_privileged(&self, name: &str) -> bool {
        self.privileged.contains(&name.to_ascii_lowercase())
    }

    /// What the host should deliver: exactly the events the analytic can
    /// use, so the rest never crosses into the guest.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        let mut subs = Vec::new();
        if !self.db_tool_list.is_empty() {
            subs.push(subscription(
                EventClass::ProcessStart,
                HOST_SOURCES,
                vec![subscribe::equals_nocase("process.name", &self.db_tool_list)],
            ));
        }
        if !self.db_apps.is_empty() {
            subs.push(subscription(
                EventClass::ProcessStart,
                HOST_SOURCES,
                vec![subscribe::glob_nocase(
                    "process.path",
                    host_globs(&self.db_apps),
                )],
            ));
        }
        let locations =
            || subscribe::glob_nocase("file.path", self.export_locations.path_patterns());
        if !self.export_files.name_patterns().is_empty() {
            subs.push(subscription(
                EventClass::File,
                ESLOGGER,
                vec![
                    subscribe::glob_nocase("file.name", self.export_files.name_patterns()),
                    locations(),
                ],
            ));
        }
        if !self.export_files.path_patterns().is_empty() {
            subs.push(subscription(
                EventClass::File,
                ESLOGGER,
                vec![
                    subscribe::glob_nocase("file.path", self.export_files.path_patterns()),
                    locations(),
                ],
            ));
        }
        if !self.cloud.is_empty() {
            let located = || subscribe::exists("device.hostname");
            subs.push(subscription(
                EventClass::Name,
                SENSOR_SOURCES,
                vec![
                    located(),
                    subscribe::suffix_nocase("name.name", self.cloud.suffixes()),
                ],
            ));
            // A Host header may carry a port: `*dropbox.com` and
            // `*dropbox.com:*` (domains hold no glob characters).
            let hosts = self
                .cloud
                .domains()
                .iter()
                .flat_map(|domain| [format!("*{domain}"), format!("*{domain}:*")]);
            subs.push(subscription(
                EventClass::Http,
                SENSOR_SOURCES,
                vec![located(), subscribe::glob_nocase("http.host", hosts)],
            ));
        }
        subs
    }
}

fn lower_set(items: &[String]) -> Set<String> {
    let mut set = new_set();
    set.extend(items.iter().map(|item| item.to_ascii_lowercase()));
    set
}

/// The bundle globs for the host's prefilter: each as given plus, for one
/// ending in `/**`, the same without it, so a unified-log launch that names
/// only the bundle (`/Applications/TablePlus.app`) passes whatever the
/// host's glob engine makes of a trailing `/**`.
fn host_globs(globs: &GlobList) -> Vec<String> {
    let mut out = Vec::new();
    for pattern in globs.path_patterns() {
        out.push(pattern.clone());
        if let Some(bundle) = pattern.strip_suffix("/**") {
            out.push(bundle.to_string());
        }
    }
    // A pattern without `/` matches the executable's file name; the host
    // matches the whole path, where `*` crosses `/`.
    for pattern in globs.name_patterns() {
        out.push(format!("*/{pattern}"));
    }
    out
}
