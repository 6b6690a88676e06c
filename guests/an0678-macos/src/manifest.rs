//! What AN0678 is: its id, version, ATT&CK references and every tunable
//! with its default, unit and meaning (the manifest the host shows and
//! fills defaults from).

use dumpwatch_sdk::attack;
use dumpwatch_sdk::tunables::spec;
use dumpwatch_sdk::types::{Manifest, TunableSpec};

pub const ID: &str = "AN0678";
pub const VERSION: &str = "1.0.0";

pub const DB_TOOLS: &str = "DBTools";
pub const DB_APP_BUNDLES: &str = "DBAppBundles";
pub const USER_PRIVILEGE_LEVEL: &str = "UserPrivilegeLevel";
pub const LOW_PRIVILEGE_RAISE: &str = "LowPrivilegeRaise";
pub const EXPORT_FILE_PATTERNS: &str = "ExportFilePatterns";
pub const EXPORT_LOCATIONS: &str = "ExportLocations";
pub const CLOUD_SYNC_DOMAIN_LIST: &str = "CloudSyncDomainList";
pub const TIME_WINDOW: &str = "TimeWindow";
pub const REDIRECT_SLACK: &str = "RedirectSlack";
pub const LATE_RETENTION: &str = "LateRetention";
pub const MAX_OPEN_WINDOWS: &str = "MaxOpenWindows";
pub const MAX_EVIDENCE_PER_LEG: &str = "MaxEvidencePerLeg";
pub const MAX_PENDING_EVENTS: &str = "MaxPendingEvents";

pub const DEFAULT_DB_TOOLS: &[&str] = &[
    "mysql",
    "mysqldump",
    "mysqlsh",
    "mariadb",
    "mariadb-dump",
    "psql",
    "pg_dump",
    "pg_dumpall",
    "mongo",
    "mongosh",
    "mongodump",
    "mongoexport",
    "sqlite3",
    "sqlcmd",
    "bcp",
    "redis-cli",
    "clickhouse",
    "duckdb",
];

pub const DEFAULT_DB_APP_BUNDLES: &[&str] = &[
    "**/DBeaver.app/**",
    "**/Beekeeper Studio.app/**",
    "**/TablePlus.app/**",
    "**/Sequel Ace.app/**",
    "**/Sequel Pro.app/**",
    "**/Postico*.app/**",
    "**/DataGrip*.app/**",
    "**/MongoDB Compass*.app/**",
    "**/pgAdmin*.app/**",
    "**/MySQLWorkbench.app/**",
    "**/Navicat*.app/**",
    "**/DbVisualizer.app/**",
    "**/Azure Data Studio.app/**",
    "**/Studio 3T.app/**",
    "**/DB Browser for SQLite.app/**",
];

pub const DEFAULT_USER_PRIVILEGE_LEVEL: &[&str] = &["admin", "dev", "developers", "dba", "root"];
pub const DEFAULT_LOW_PRIVILEGE_RAISE: i64 = 1;

pub const DEFAULT_EXPORT_FILE_PATTERNS: &[&str] = &[
    "*.sql",
    "*.csv",
    "*.tsv",
    "*.xlsx",
    "*.xls",
    "*.json",
    "*.jsonl",
    "*.ndjson",
    "*.parquet",
    "*.sqlite",
    "*.dump",
    "*.bak",
    "*.bson",
    "*.gz",
    "*.zip",
];

pub const DEFAULT_EXPORT_LOCATIONS: &[&str] = &[
    "/Users/*/Downloads/**",
    "/Users/*/Documents/**",
    "/Users/*/Desktop/**",
];

pub const DEFAULT_CLOUD_SYNC_DOMAIN_LIST: &[&str] = &[
    "dropbox.com",
    "dropboxapi.com",
    "dropboxusercontent.com",
    "icloud.com",
    "icloud-content.com",
    "drive.google.com",
    "googleusercontent.com",
    "onedrive.live.com",
    "onedrive.com",
    "1drv.com",
    "sharepoint.com",
    "box.com",
    "boxcloud.com",
    "mega.nz",
    "mega.io",
    "wetransfer.com",
    "we.tl",
    "pcloud.com",
];

pub const DEFAULT_TIME_WINDOW_MS: i64 = 10 * 60 * 1000;
pub const DEFAULT_REDIRECT_SLACK_MS: i64 = 5 * 1000;
pub const DEFAULT_LATE_RETENTION_MS: i64 = 60 * 60 * 1000;
pub const DEFAULT_MAX_OPEN_WINDOWS: i64 = 1_000_000;
pub const DEFAULT_MAX_EVIDENCE_PER_LEG: i64 = 5;
pub const DEFAULT_MAX_PENDING_EVENTS: i64 = 200_000;

/// Every tunable, with its default and documentation.
pub fn tunable_specs() -> Vec<TunableSpec> {
    vec![
        spec::text_list(
            DB_TOOLS,
            DEFAULT_DB_TOOLS,
            "Executable names (no directory, any case) of database command-line clients and dump tools. A \
             process start of one by a user outside UserPrivilegeLevel is the exec leg.",
        ),
        spec::glob_list(
            DB_APP_BUNDLES,
            DEFAULT_DB_APP_BUNDLES,
            "Database GUI applications as path globs over the started executable (any case; `**` spans \
             directories). `**/DBeaver.app/**` matches DBeaver's launcher and the Java runtime inside its \
             bundle; an unified-log launch naming only the bundle (`/Applications/TablePlus.app`) matches too.",
        ),
        spec::text_list(
            USER_PRIVILEGE_LEVEL,
            DEFAULT_USER_PRIVILEGE_LEVEL,
            "Users and groups (any case) whose role is to use database tools: admins and developers. A tool \
             started by a user named here, or in a group named here, is not the exec leg. Users and groups \
             come from the host's inventory (eslogger and the unified log record numeric uids only).",
        ),
        spec::integer(
            LOW_PRIVILEGE_RAISE,
            DEFAULT_LOW_PRIVILEGE_RAISE,
            "Severity levels (0 to 4) a known low-privilege user adds: a user the inventory names who is \
             neither in UserPrivilegeLevel nor in a group there. A user known only by uid adds nothing (the \
             role is unknown).",
        ),
        spec::glob_list(
            EXPORT_FILE_PATTERNS,
            DEFAULT_EXPORT_FILE_PATTERNS,
            "Files that look like data exports (name globs, any case). One written under ExportLocations by \
             the tool's process or a child of it is the export leg.",
        ),
        spec::glob_list(
            EXPORT_LOCATIONS,
            DEFAULT_EXPORT_LOCATIONS,
            "Where exports land for a user to carry away (path globs, any case): Downloads, Documents, Desktop. \
             Path patterns only.",
        ),
        spec::text_list(
            CLOUD_SYNC_DOMAIN_LIST,
            DEFAULT_CLOUD_SYNC_DOMAIN_LIST,
            "Cloud sync and file-sharing domains, each with its subdomains (`dropbox.com` matches \
             `content.dropbox.com`, not `notdropbox.com`). A network sensor's TLS server name, HTTP Host or DNS \
             query within one, from the host's address after the export, is the egress leg (T1567.002).",
        ),
        spec::duration(
            TIME_WINDOW,
            DEFAULT_TIME_WINDOW_MS,
            "How long after the window's first tool start the export and the egress may follow (milliseconds; \
             config `10m`). Later starts by the same user on the same host within it join the window.",
        ),
        spec::duration(
            REDIRECT_SLACK,
            DEFAULT_REDIRECT_SLACK_MS,
            "How long before a tool start a file written by the same pid still counts as its export \
             (milliseconds; config `5s`): with `psql … > ~/Downloads/x.csv` the shell's child opens the file \
             before it execs psql. At most TimeWindow.",
        ),
        spec::duration(
            LATE_RETENTION,
            DEFAULT_LATE_RETENTION_MS,
            "How long a closed window is kept after its end (milliseconds; config `1h`), so evidence that \
             arrives late still updates its finding instead of being lost.",
        ),
        spec::integer(
            MAX_OPEN_WINDOWS,
            DEFAULT_MAX_OPEN_WINDOWS,
            "Most windows held at once (open or retained, 1 to 100,000,000). Past it the oldest are evicted with \
             a warning.",
        ),
        spec::integer(
            MAX_EVIDENCE_PER_LEG,
            DEFAULT_MAX_EVIDENCE_PER_LEG,
            "Most evidence events kept per leg of a finding (1 to 1000); the earliest are kept. The finding's \
             event count still counts every contributing event.",
        ),
        spec::integer(
            MAX_PENDING_EVENTS,
            DEFAULT_MAX_PENDING_EVENTS,
            "Most events held while they can still join a window not final yet (tool starts waiting for the \
             watermark, exports and cloud traffic waiting for a tool start; 1 to 100,000,000). Past it the \
             oldest are dropped with a warning.",
        ),
    ]
}

/// The manifest.
pub fn manifest() -> Manifest {
    Manifest {
        id: ID.to_string(),
        name: "macOS database tool run by a non-admin user, export saved for the user, cloud sync after it"
            .to_string(),
        version: VERSION.to_string(),
        description: "Correlates, per host and user, an Endpoint Security (eslogger) or unified-log start of a \
            database GUI or CLI tool (DBTools, DBAppBundles) by a user outside UserPrivilegeLevel, an export \
            file (ExportFilePatterns) written under Downloads, Documents or Desktop by that tool or its child \
            within TimeWindow, and traffic to a cloud sync domain (CloudSyncDomainList) from the host after the \
            export, seen by a network sensor. Tool + export is a medium finding; a known low-privilege user \
            raises it by LowPrivilegeRaise levels; the cloud traffic raises it one more level (T1567.002)."
            .to_string(),
        strategy: Some("DET0242".to_string()),
        attacks: vec![attack::T1213_006.to_wit(), attack::T1567_002.to_wit()],
        tunables: tunable_specs(),
    }
}
