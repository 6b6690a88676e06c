//! What AN0677 is: its id, version, ATT&CK references and every tunable
//! with its default, unit and meaning (the manifest the host shows and
//! fills defaults from).

use dumpwatch_sdk::attack;
use dumpwatch_sdk::tunables::spec;
use dumpwatch_sdk::types::{Manifest, TunableSpec};

use crate::attacks;

pub const ID: &str = "AN0677";
pub const VERSION: &str = "1.0.0";

pub const DB_CLIENT_TOOLS: &str = "DBClientTools";
pub const KNOWN_DB_TOOL_PATHS: &str = "KnownDBToolPaths";
pub const ODD_PARENT_PROCESSES: &str = "OddParentProcesses";
pub const WEB_SERVER_PROCESSES: &str = "WebServerProcesses";
pub const ALLOWED_ACCOUNTS: &str = "AllowedAccounts";
pub const EXPORT_EXTENSION_PATTERNS: &str = "ExportExtensionPatterns";
pub const EXPORT_LOCATIONS: &str = "ExportLocations";
pub const ARCHIVE_FILE_PATTERNS: &str = "ArchiveFilePatterns";
pub const ARCHIVER_TOOLS: &str = "ArchiverTools";
pub const ARCHIVE_PASSWORD_SWITCHES: &str = "ArchivePasswordSwitches";
pub const TIME_WINDOW: &str = "TimeWindow";
pub const REDIRECT_SLACK: &str = "RedirectSlack";
pub const INTERNAL_NETWORKS: &str = "InternalNetworks";
pub const DATABASE_PORTS: &str = "DatabasePorts";
pub const MAX_TRANSFER_VOLUME: &str = "MaxTransferVolume";
pub const EGRESS_CONNECTION_THRESHOLD: &str = "EgressConnectionThreshold";
pub const CLOUD_STORAGE_DOMAINS: &str = "CloudStorageDomains";
pub const NAME_RETENTION: &str = "NameRetention";
pub const MAX_NAMES_PER_HOST: &str = "MaxNamesPerHost";
pub const LATE_RETENTION: &str = "LateRetention";
pub const MAX_OPEN_WINDOWS: &str = "MaxOpenWindows";
pub const MAX_EVIDENCE_PER_LEG: &str = "MaxEvidencePerLeg";
pub const MAX_PENDING_EVENTS: &str = "MaxPendingEvents";

pub const DEFAULT_DB_CLIENT_TOOLS: &[&str] = &[
    "sqlcmd.exe",
    "osql.exe",
    "isql.exe",
    "bcp.exe",
    "sqlpackage.exe",
    "sqlplus.exe",
    "exp.exe",
    "expdp.exe",
    "psql.exe",
    "pg_dump.exe",
    "pg_dumpall.exe",
    "mysql.exe",
    "mysqldump.exe",
    "mysqlsh.exe",
    "mongo.exe",
    "mongosh.exe",
    "mongodump.exe",
    "mongoexport.exe",
    "sqlite3.exe",
];

pub const DEFAULT_KNOWN_DB_TOOL_PATHS: &[&str] = &[
    r"?:\Program Files\Microsoft SQL Server\**",
    r"?:\Program Files (x86)\Microsoft SQL Server\**",
    r"?:\Program Files\SqlCmd\**",
    r"?:\Program Files\PostgreSQL\**",
    r"?:\Program Files (x86)\PostgreSQL\**",
    r"?:\Program Files\MySQL\**",
    r"?:\Program Files (x86)\MySQL\**",
    r"?:\Program Files\MariaDB*\**",
    r"?:\Program Files\MongoDB\**",
    r"?:\app\*\product\**",
    r"?:\oracle\**",
];

pub const DEFAULT_ODD_PARENT_PROCESSES: &[&str] = &[
    "explorer.exe",
    "cmd.exe",
    "powershell.exe",
    "pwsh.exe",
    "powershell_ise.exe",
    "wscript.exe",
    "cscript.exe",
    "mshta.exe",
    "rundll32.exe",
    "regsvr32.exe",
    "wmiprvse.exe",
    "wsmprovhost.exe",
    "winrshost.exe",
];

pub const DEFAULT_WEB_SERVER_PROCESSES: &[&str] = &[
    "w3wp.exe",
    "httpd.exe",
    "nginx.exe",
    "tomcat*.exe",
    "java.exe",
    "javaw.exe",
    "php-cgi.exe",
    "php.exe",
    "node.exe",
];

pub const DEFAULT_EXPORT_EXTENSION_PATTERNS: &[&str] = &[
    "*.sql", "*.bak", "*.trn", "*.bacpac", "*.mdf", "*.ndf", "*.ldf", "*.dmp", "*.dump", "*.bson",
    "*.csv", "*.tsv", "*.xlsx", "*.xls", "*.gz", "*.zip", "*.7z", "*.rar",
];

pub const DEFAULT_EXPORT_LOCATIONS: &[&str] = &[
    r"?:\Users\**",
    r"?:\Windows\Temp\**",
    r"?:\Temp\**",
    r"?:\ProgramData\**",
    r"?:\PerfLogs\**",
    r"?:\$Recycle.Bin\**",
];

pub const DEFAULT_ARCHIVE_FILE_PATTERNS: &[&str] = &["*.7z", "*.zip", "*.rar"];

pub const DEFAULT_ARCHIVER_TOOLS: &[&str] = &[
    "7z.exe",
    "7za.exe",
    "7zr.exe",
    "7zg.exe",
    "rar.exe",
    "winrar.exe",
    "zip.exe",
];

pub const DEFAULT_ARCHIVE_PASSWORD_SWITCHES: &[&str] = &["-p", "-hp", "--password"];

pub const DEFAULT_TIME_WINDOW_MS: i64 = 10 * 60 * 1000;
pub const DEFAULT_REDIRECT_SLACK_MS: i64 = 5 * 1000;
pub const DEFAULT_DATABASE_PORTS: &[&str] = &[
    "1433", "1434", "3306", "33060", "5432", "1521", "27017", "6379", "9042", "50000",
];
/// 20 MB (10^6 bytes per MB).
pub const DEFAULT_MAX_TRANSFER_VOLUME: i64 = 20_000_000;
pub const DEFAULT_EGRESS_CONNECTION_THRESHOLD: i64 = 1;

pub const DEFAULT_CLOUD_STORAGE_DOMAINS: &[&str] = &[
    "dropbox.com",
    "dropboxapi.com",
    "dropboxusercontent.com",
    "drive.google.com",
    "storage.googleapis.com",
    "googleusercontent.com",
    "onedrive.live.com",
    "onedrive.com",
    "1drv.com",
    "1drv.ms",
    "sharepoint.com",
    "blob.core.windows.net",
    "s3.amazonaws.com",
    "box.com",
    "boxcloud.com",
    "icloud.com",
    "icloud-content.com",
    "mega.nz",
    "mega.co.nz",
    "mega.io",
    "wetransfer.com",
    "we.tl",
    "pcloud.com",
    "mediafire.com",
    "sendspace.com",
    "filemail.com",
    "transfer.sh",
    "file.io",
    "gofile.io",
];

pub const DEFAULT_NAME_RETENTION_MS: i64 = 10 * 60 * 1000;
pub const DEFAULT_MAX_NAMES_PER_HOST: i64 = 1024;
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
            "Executable names of database clients and export tools (no directory, any case; `sqlcmd` also \
             matches `sqlcmd.exe`). A process start of one, from outside KnownDBToolPaths or under a parent in \
             OddParentProcesses or WebServerProcesses, opens the exec leg.",
        ),
        spec::glob_list(
            KNOWN_DB_TOOL_PATHS,
            DEFAULT_KNOWN_DB_TOOL_PATHS,
            "Where the database tools legitimately live (path globs, any case; `?:` stands for any drive, `**` \
             for any number of directories). A tool started from anywhere else (a copy in Temp, Downloads, a \
             share) is the exec leg whatever its parent.",
        ),
        spec::glob_list(
            ODD_PARENT_PROCESSES,
            DEFAULT_ODD_PARENT_PROCESSES,
            "Parent processes (executable name globs, any case) that make a database tool start the exec leg \
             even from KnownDBToolPaths: interactive shells, script hosts, LOLBins, WMI and WinRM hosts. Jobs \
             started by SQL Agent, services or the task scheduler have none of these parents.",
        ),
        spec::glob_list(
            WEB_SERVER_PROCESSES,
            DEFAULT_WEB_SERVER_PROCESSES,
            "Web servers and application runtimes (executable name globs, any case). A database tool started \
             by one is the exec leg and raises the severity one level: a web shell or an exploited application.",
        ),
        spec::text_list(
            ALLOWED_ACCOUNTS,
            &[],
            "Accounts whose database tool starts are never the exec leg (any case): `user` matches that name in \
             any domain, `DOMAIN\\user` only in that domain. Add backup and automation accounts. Empty by default.",
        ),
        spec::glob_list(
            EXPORT_EXTENSION_PATTERNS,
            DEFAULT_EXPORT_EXTENSION_PATTERNS,
            "Files that look like database exports, backups or their archives (name globs, any case). A Sysmon \
             FileCreate (event 11) of one under ExportLocations, by the exec's process tree or user, is the \
             export leg. `*.json` and `*.txt` are left out by default (applications write them constantly); \
             add them if mongoexport or sqlcmd -o output matters to you.",
        ),
        spec::glob_list(
            EXPORT_LOCATIONS,
            DEFAULT_EXPORT_LOCATIONS,
            "User profile, temp and staging locations (path globs, any case; Sysmon writes full paths, so \
             `%TEMP%` is `?:\\Users\\*\\AppData\\Local\\Temp\\**` here). Exports and archives count only here.",
        ),
        spec::glob_list(
            ARCHIVE_FILE_PATTERNS,
            DEFAULT_ARCHIVE_FILE_PATTERNS,
            "Archives (name globs, any case). One created under ExportLocations after the first export, by the \
             same process tree or user, is the archive leg.",
        ),
        spec::text_list(
            ARCHIVER_TOOLS,
            DEFAULT_ARCHIVER_TOOLS,
            "Executable names of archivers (any case; `7z` also matches `7z.exe`). A start of one with a password \
             switch after the first export, by the same process tree or user, marks the archive as encrypted.",
        ),
        spec::text_list(
            ARCHIVE_PASSWORD_SWITCHES,
            DEFAULT_ARCHIVE_PASSWORD_SWITCHES,
            "Command-line switches that set an archive password (prefixes, any case): 7-Zip and RAR `-p…`, RAR \
             `-hp…` (also encrypts names), Info-ZIP `-P`/`--password`. `-p-` and `-hp-` (no password) do not \
             count.",
        ),
        spec::duration(
            TIME_WINDOW,
            DEFAULT_TIME_WINDOW_MS,
            "How long after the window's first database tool start the export, archive and egress may follow \
             (milliseconds; config `10m`). Later starts by the same user on the same host within it join the \
             window.",
        ),
        spec::duration(
            REDIRECT_SLACK,
            DEFAULT_REDIRECT_SLACK_MS,
            "How long before a tool start a file created by its parent still counts as its export \
             (milliseconds; config `5s`): with `sqlcmd … > out.csv` cmd.exe creates the file before it starts \
             sqlcmd. At most TimeWindow.",
        ),
        spec::cidr_list(
            INTERNAL_NETWORKS,
            dumpwatch_sdk::address::DEFAULT_INTERNAL_NETWORKS,
            "Destinations that are not egress: CIDR networks or single addresses. Default: RFC 1918, loopback, \
             link-local, IPv6 unique-local, link-local and loopback. Add your public ranges, proxies and \
             servers with public addresses (their inbound connections look outbound: see README).",
        ),
        spec::text_list(
            DATABASE_PORTS,
            DEFAULT_DATABASE_PORTS,
            "Destination ports of database servers (1-65535). A host-side connection to one is a client talking \
             to its server (Azure SQL, RDS), not egress.",
        ),
        spec::bytes(
            MAX_TRANSFER_VOLUME,
            DEFAULT_MAX_TRANSFER_VOLUME,
            "Bytes (config `20MB` = 20,000,000). Network sensor flows (Zeek, Suricata) from the host to external \
             addresses after the first export and within the window are summed (bytes sent by the host); at \
             this total the egress leg is met. At least 1.",
        ),
        spec::integer(
            EGRESS_CONNECTION_THRESHOLD,
            DEFAULT_EGRESS_CONNECTION_THRESHOLD,
            "Where no byte count exists: this many Sysmon network connections (event 3) to external addresses \
             by the exec's process tree or user, after the first export and within the window, meet the egress \
             leg (1 to 1,000,000). A connection that a sensor flow also saw is judged by its bytes instead.",
        ),
        spec::text_list(
            CLOUD_STORAGE_DOMAINS,
            DEFAULT_CLOUD_STORAGE_DOMAINS,
            "Cloud storage and file-sharing domains (each with its subdomains). Egress to a destination named \
             within one (by Sysmon DNS queries, sensor DNS or TLS server names, or the connection's host name) \
             is tagged T1567.002 Exfiltration to Cloud Storage instead of T1048.",
        ),
        spec::duration(
            NAME_RETENTION,
            DEFAULT_NAME_RETENTION_MS,
            "How long a DNS answer or TLS server name names connections to its address (milliseconds; config \
             `10m`): the DNS query usually comes just before the connection, a cached answer can be older.",
        ),
        spec::integer(
            MAX_NAMES_PER_HOST,
            DEFAULT_MAX_NAMES_PER_HOST,
            "Most (address, name) answers remembered per host to name destinations (1 to 1,000,000); past it the \
             oldest are forgotten. Only external addresses are kept.",
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
             watermark; exports, archives, child processes and connections waiting for a tool start; 1 to \
             100,000,000). Past it the oldest are dropped with a warning.",
        ),
    ]
}

/// The manifest.
pub fn manifest() -> Manifest {
    Manifest {
        id: ID.to_string(),
        name: "Windows database tool from an odd path or parent, export staged in a user location, sent out"
            .to_string(),
        version: VERSION.to_string(),
        description: "Correlates, per host and user, a Security 4688 or Sysmon 1 start of a database tool \
            (DBClientTools) from outside KnownDBToolPaths or under an odd parent, a Sysmon 11 file created with an \
            ExportExtensionPatterns extension in a user or temp location by the tool's process tree or user \
            within TimeWindow, an archive of it, and outbound transfer after it (Sysmon 3 connections by the \
            tree or user, or sensor flows summing to MaxTransferVolume). Tool + export is a medium finding; the \
            egress raises it (T1048, or T1567.002 to cloud storage), a password-protected archive and a web \
            server parent each raise it one more level."
            .to_string(),
        strategy: Some("DET0242".to_string()),
        attacks: vec![
            attack::T1213_006.to_wit(),
            attacks::T1560_001.to_wit(),
            attack::T1048.to_wit(),
            attack::T1567_002.to_wit(),
        ],
        tunables: tunable_specs(),
    }
}
