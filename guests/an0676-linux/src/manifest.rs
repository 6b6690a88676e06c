//! What AN0676 is: its id, version, ATT&CK references and every tunable
//! with its default, unit and meaning (the manifest the host shows and
//! fills defaults from).

use dumpwatch_sdk::attack;
use dumpwatch_sdk::tunables::spec;
use dumpwatch_sdk::types::{Manifest, TunableSpec};

pub const ID: &str = "AN0676";
pub const VERSION: &str = "1.0.0";

pub const DB_CLIENT_TOOLS: &str = "DBClientTools";
pub const ALLOWED_DB_CLIENTS: &str = "AllowedDBClients";
pub const DUMP_FILE_PATTERN: &str = "DumpFilePattern";
pub const TIME_WINDOW: &str = "TimeWindow";
pub const REDIRECT_SLACK: &str = "RedirectSlack";
pub const INTERNAL_NETWORKS: &str = "InternalNetworks";
pub const DATABASE_PORTS: &str = "DatabasePorts";
pub const EGRESS_HTTP_METHODS: &str = "EgressHttpMethods";
pub const UPLOAD_BYTES_THRESHOLD: &str = "UploadBytesThreshold";
pub const HOME_DIRECTORIES: &str = "HomeDirectories";
pub const WEB_SERVER_PROCESSES: &str = "WebServerProcesses";
pub const AUTOMATION_WINDOWS: &str = "AutomationWindows";
pub const LATE_RETENTION: &str = "LateRetention";
pub const MAX_OPEN_WINDOWS: &str = "MaxOpenWindows";
pub const MAX_EVIDENCE_PER_LEG: &str = "MaxEvidencePerLeg";
pub const MAX_PENDING_EVENTS: &str = "MaxPendingEvents";

pub const DEFAULT_DB_CLIENT_TOOLS: &[&str] = &[
    "psql",
    "mysql",
    "mariadb",
    "mongo",
    "mongosh",
    "sqlite3",
    "pg_dump",
    "pg_dumpall",
    "mysqldump",
    "mariadb-dump",
    "mongodump",
    "mongoexport",
    "redis-cli",
    "sqlplus",
    "clickhouse-client",
    "cqlsh",
];

pub const DEFAULT_ALLOWED_DB_CLIENTS: &[&str] = &[
    "postgres",
    "mysql",
    "mongodb",
    "redis",
    "clickhouse",
    "cassandra",
];

pub const DEFAULT_DUMP_FILE_PATTERN: &[&str] = &[
    "*.sql",
    "*.sql.gz",
    "*.sql.xz",
    "*.sql.zst",
    "*.sql.bz2",
    "*.dump",
    "*.dump.gz",
    "*.dmp",
    "*.bson",
    "*.rdb",
    "*.csv",
    "*.csv.gz",
    "backup_*.csv",
    "*.sqlite",
    "*.sqlite3",
    "*.db",
];

pub const DEFAULT_TIME_WINDOW_MS: i64 = 10 * 60 * 1000;
pub const DEFAULT_REDIRECT_SLACK_MS: i64 = 5 * 1000;
pub const DEFAULT_DATABASE_PORTS: &[&str] = &[
    "5432", "3306", "33060", "27017", "1433", "1521", "6379", "9042", "8123", "9000",
];
pub const DEFAULT_EGRESS_HTTP_METHODS: &[&str] = &["POST", "PUT"];
pub const DEFAULT_UPLOAD_BYTES_THRESHOLD: i64 = 1_000_000;
pub const DEFAULT_HOME_DIRECTORIES: &[&str] = &["/home/**", "/root/**"];
pub const DEFAULT_WEB_SERVER_PROCESSES: &[&str] = &[
    "nginx", "apache2", "httpd", "php-fpm", "tomcat", "java", "node", "gunicorn", "uwsgi", "caddy",
    "lighttpd",
];
pub const DEFAULT_LATE_RETENTION_MS: i64 = 60 * 60 * 1000;
pub const DEFAULT_MAX_OPEN_WINDOWS: i64 = 1_000_000;
pub const DEFAULT_MAX_EVIDENCE_PER_LEG: i64 = 5;
pub const DEFAULT_MAX_PENDING_EVENTS: i64 = 200_000;

/// Every tunable, with its default and documentation.
pub fn tunable_specs() -> Vec<TunableSpec> {
    vec![
        spec::text_list(
            DB_CLIENT_TOOLS,
            DEFAULT_DB_CLIENT_TOOLS,
            "Executable names (no directory, exact and case-sensitive) of database clients and dump tools. \
             A process start of one of them opens the exec leg.",
        ),
        spec::text_list(
            ALLOWED_DB_CLIENTS,
            DEFAULT_ALLOWED_DB_CLIENTS,
            "Accounts expected to run database clients: user names or numeric uids, matched against the \
             accountable user (the login user from auditd auid; the effective user when auid is unset, as for \
             daemons and cron). The defaults are the service accounts of the database servers themselves \
             (backups, health checks). Add DBAs, backup and automation accounts; add root only if root runs \
             dumps on purpose.",
        ),
        spec::glob_list(
            DUMP_FILE_PATTERN,
            DEFAULT_DUMP_FILE_PATTERN,
            "Files that look like database dumps. A pattern without `/` matches the file name (`*.sql`), one \
             with `/` the whole path (`/srv/backup/**`); `*` does not cross `/`, `**` does; case-sensitive. \
             A create, write, truncate, rename (new path) or close-after-write of a matching file is the dump leg.",
        ),
        spec::duration(
            TIME_WINDOW,
            DEFAULT_TIME_WINDOW_MS,
            "How long after the database client starts the dump and the egress may follow (milliseconds; \
             config `10m`). Counted from the earliest client start of the window; later starts by the same \
             user on the same host within it join the window.",
        ),
        spec::duration(
            REDIRECT_SLACK,
            DEFAULT_REDIRECT_SLACK_MS,
            "How long before the client start a write by the same pid still counts as its dump (milliseconds; \
             config `5s`). With `pg_dump db > out.sql` the shell's child opens the file before it execs the \
             client, so the write is logged first.",
        ),
        spec::cidr_list(
            INTERNAL_NETWORKS,
            dumpwatch_sdk::address::DEFAULT_INTERNAL_NETWORKS,
            "Destinations that are not egress: CIDR networks or single addresses. Default: RFC 1918, loopback, \
             link-local, IPv6 unique-local, link-local and loopback. Add your public ranges, proxies and \
             backup targets.",
        ),
        spec::text_list(
            DATABASE_PORTS,
            DEFAULT_DATABASE_PORTS,
            "Destination ports of database servers (1-65535). A host-side connect to one of them is the client \
             talking to its server, not egress. Not applied to network sensor flows.",
        ),
        spec::text_list(
            EGRESS_HTTP_METHODS,
            DEFAULT_EGRESS_HTTP_METHODS,
            "HTTP methods (any case) that upload: a sensor-seen request with one of them to an external \
             destination is egress.",
        ),
        spec::bytes(
            UPLOAD_BYTES_THRESHOLD,
            DEFAULT_UPLOAD_BYTES_THRESHOLD,
            "Bytes (config `1MB` = 1,000,000). A sensor-seen HTTP request body or network flow (bytes sent by \
             the host) of at least this size to an external destination is egress.",
        ),
        spec::glob_list(
            HOME_DIRECTORIES,
            DEFAULT_HOME_DIRECTORIES,
            "Home directories (path globs). A dump written under one raises the severity one level: dumps \
             for operations go to backup paths, not home directories.",
        ),
        spec::text_list(
            WEB_SERVER_PROCESSES,
            DEFAULT_WEB_SERVER_PROCESSES,
            "Executable names of web servers and application runtimes. A database client whose parent or \
             ancestor is one of them (a web shell, an exploited app) raises the severity one level.",
        ),
        spec::text_list(
            AUTOMATION_WINDOWS,
            &[],
            "Weekly windows when automation runs database clients, like `Mon-Fri 01:00-03:00` (UTC) or \
             `Sun 02:00-04:00 UTC+02:00` (fixed offsets only: no time zone names). A client started outside \
             all of them raises the severity one level. Empty (the default): this factor never applies.",
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
            "Most windows held at once (open or retained, 1 to 100,000,000). Past it the oldest are evicted \
             with a warning. About 0.5 KB of guest memory each with evidence.",
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
            "Most events held while they can still join a window not final yet (client starts waiting for \
             the watermark, dumps and egress waiting for a client start; 1 to 100,000,000). Past it the \
             oldest are dropped with a warning.",
        ),
    ]
}

/// The manifest.
pub fn manifest() -> Manifest {
    Manifest {
        id: ID.to_string(),
        name: "Linux database client run by an unexpected user, dump written, data sent out".to_string(),
        version: VERSION.to_string(),
        description: "Correlates, per host and accountable user, an auditd process start of a database client \
            by a user outside AllowedDBClients, a dump-like file written by that user or the client's process \
            tree within TimeWindow, and an outbound transfer after the dump (auditd connect to an external \
            address, or a network sensor's upload from the host). Client + dump is a medium finding; the \
            egress raises it to high (T1048). A dump under a home directory, a web server ancestor, or a start \
            outside AutomationWindows each raise it one more level."
            .to_string(),
        strategy: Some("DET0242".to_string()),
        attacks: vec![attack::T1213_006.to_wit(), attack::T1048.to_wit()],
        tunables: tunable_specs(),
    }
}
