//! AN0680's tunables, read and validated into a typed [`Config`], and the
//! subscriptions they imply.

use dumpwatch_sdk::collections::{Set, new_set};
use dumpwatch_sdk::schedule::WeeklySchedule;
use dumpwatch_sdk::subscribe::{self, subscription};
use dumpwatch_sdk::tunables::TunableSet;
use dumpwatch_sdk::types::{ConfigError, EventClass, Subscription, Tunable};
use dumpwatch_sdk::wildcard::Wildcards;

use crate::manifest::*;
use crate::template;

/// The tunables in force, typed.
#[derive(Clone, Debug)]
pub struct Config {
    pub sensitive: Wildcards,
    pub rows: u64,
    pub bytes: u64,
    pub repeated: u32,
    pub window_ms: i64,
    /// Template keys of BaselineQueryTemplates (see [`template`]).
    pub baseline: Set<u64>,
    pub learning_ms: i64,
    pub new_on_sensitive_only: bool,
    pub off_hours: WeeklySchedule,
    pub download_operations: Vec<String>,
    pub downloads: u32,
    pub download_window_ms: i64,
    pub allowed_apps: Wildcards,
    pub late_retention_ms: i64,
    pub max_windows: usize,
    pub max_learned: usize,
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
        let sensitive = set.wildcards(SENSITIVE_TABLES, true);
        let rows = set.integer(SENSITIVE_ROWS_THRESHOLD, 0, 1_000_000_000_000_000);
        let bytes = set.bytes(SENSITIVE_BYTES_THRESHOLD);
        let repeated = set.integer(REPEATED_READ_THRESHOLD, 1, 1_000_000);
        let window_ms = set.duration_ms_at_least(TIME_WINDOW, 1000);
        let mut baseline = new_set();
        for entry in set.text_list(BASELINE_QUERY_TEMPLATES) {
            match template::baseline_key(&entry) {
                Ok(key) => {
                    baseline.insert(key);
                }
                Err(message) => {
                    set.error(BASELINE_QUERY_TEMPLATES, format!("{entry:?}: {message}"))
                }
            }
        }
        let learning_ms = set.duration_ms(LEARNING_PERIOD);
        let new_on_sensitive_only = set.flag(NEW_TEMPLATES_ON_SENSITIVE_ONLY);
        let off_hours = set.schedule(OFF_HOURS_ACCESS_WINDOW);
        let download_operations = set.text_list(BULK_DOWNLOAD_OPERATIONS);
        let downloads = set.integer(BULK_DOWNLOAD_THRESHOLD, 1, 1_000_000);
        let download_window_ms = set.duration_ms_at_least(BULK_DOWNLOAD_WINDOW, 1000);
        let allowed_apps = set.wildcards(ALLOWED_APPLICATIONS, true);
        let late_retention_ms = set.duration_ms(LATE_RETENTION);
        let max_windows = set.integer(MAX_OPEN_WINDOWS, 1, 100_000_000);
        let max_learned = set.integer(MAX_LEARNED_TEMPLATES, 1, 100_000_000);
        let max_evidence = set.integer(MAX_EVIDENCE_PER_LEG, 1, 1000);
        let max_pending = set.integer(MAX_PENDING_EVENTS, 1, 100_000_000);
        Config {
            sensitive,
            rows: u64::try_from(rows).unwrap_or(0),
            bytes,
            repeated: u32::try_from(repeated).unwrap_or(1),
            window_ms,
            baseline,
            learning_ms,
            new_on_sensitive_only,
            off_hours,
            download_operations,
            downloads: u32::try_from(downloads).unwrap_or(1),
            download_window_ms,
            allowed_apps,
            late_retention_ms,
            max_windows: usize::try_from(max_windows).unwrap_or(usize::MAX),
            max_learned: usize::try_from(max_learned).unwrap_or(usize::MAX),
            max_evidence: usize::try_from(max_evidence).unwrap_or(1),
            max_pending: usize::try_from(max_pending).unwrap_or(usize::MAX),
        }
    }

    /// What the host should deliver. Every Snowflake query is needed (the
    /// template baseline learns from all of them); M365 only the download
    /// operations.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        let mut subs = vec![subscription(
            EventClass::Query,
            &["snowflake"],
            vec![subscribe::equals("query.system", ["snowflake"])],
        )];
        if !self.download_operations.is_empty() {
            subs.push(subscription(
                EventClass::FileAccess,
                &["m365"],
                vec![subscribe::equals(
                    "file_access.operation",
                    &self.download_operations,
                )],
            ));
        }
        subs
    }
}
