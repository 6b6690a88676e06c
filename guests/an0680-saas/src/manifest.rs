//! What AN0680 is: its id, version, ATT&CK references and every tunable
//! with its default, unit and meaning (the manifest the host shows and
//! fills defaults from).

use dumpwatch_sdk::attack::{self, AttackRef};
use dumpwatch_sdk::tunables::spec;
use dumpwatch_sdk::types::{Manifest, TunableSpec};

pub const ID: &str = "AN0680";
pub const VERSION: &str = "1.0.0";

/// T1213.002 Sharepoint (MITRE's spelling), under T1213: the related
/// sub-technique of bulk SharePoint and OneDrive downloads.
pub const T1213_002: AttackRef = AttackRef {
    sub_technique: Some(("T1213.002", "Sharepoint")),
    ..attack::T1213
};

pub const SENSITIVE_TABLES: &str = "SensitiveTables";
pub const SENSITIVE_ROWS_THRESHOLD: &str = "SensitiveRowsThreshold";
pub const SENSITIVE_BYTES_THRESHOLD: &str = "SensitiveBytesThreshold";
pub const REPEATED_READ_THRESHOLD: &str = "RepeatedReadThreshold";
pub const TIME_WINDOW: &str = "TimeWindow";
pub const BASELINE_QUERY_TEMPLATES: &str = "BaselineQueryTemplates";
pub const LEARNING_PERIOD: &str = "LearningPeriod";
pub const NEW_TEMPLATES_ON_SENSITIVE_ONLY: &str = "NewTemplatesOnSensitiveOnly";
pub const OFF_HOURS_ACCESS_WINDOW: &str = "OffHoursAccessWindow";
pub const BULK_DOWNLOAD_OPERATIONS: &str = "BulkDownloadOperations";
pub const BULK_DOWNLOAD_THRESHOLD: &str = "BulkDownloadThreshold";
pub const BULK_DOWNLOAD_WINDOW: &str = "BulkDownloadWindow";
pub const ALLOWED_APPLICATIONS: &str = "AllowedApplications";
pub const LATE_RETENTION: &str = "LateRetention";
pub const MAX_OPEN_WINDOWS: &str = "MaxOpenWindows";
pub const MAX_LEARNED_TEMPLATES: &str = "MaxLearnedTemplates";
pub const MAX_EVIDENCE_PER_LEG: &str = "MaxEvidencePerLeg";
pub const MAX_PENDING_EVENTS: &str = "MaxPendingEvents";

pub const DEFAULT_SENSITIVE_TABLES: &[&str] = &[
    "*.*.CUSTOMER*",
    "*.*.*PII*",
    "*.*.*PAYROLL*",
    "*.*.*SALARY*",
    "*.*.*SSN*",
    "*.*.*CREDIT_CARD*",
    "*.*.*CARDHOLDER*",
    "*.*.PATIENT*",
    "*.*.EMPLOYEE*",
    "*.*.*PASSWORD*",
];
pub const DEFAULT_SENSITIVE_ROWS_THRESHOLD: i64 = 100_000;
pub const DEFAULT_SENSITIVE_BYTES_THRESHOLD: i64 = 1_000_000_000;
pub const DEFAULT_REPEATED_READ_THRESHOLD: i64 = 3;
pub const DEFAULT_TIME_WINDOW_MS: i64 = 60 * 60 * 1000;
pub const DEFAULT_LEARNING_PERIOD_MS: i64 = 7 * 24 * 60 * 60 * 1000;
pub const DEFAULT_OFF_HOURS: &[&str] = &[
    "Mon-Fri 00:00-07:00 UTC",
    "Mon-Fri 19:00-24:00 UTC",
    "Sat,Sun 00:00-24:00 UTC",
];
pub const DEFAULT_BULK_DOWNLOAD_OPERATIONS: &[&str] = &[
    "FileDownloaded",
    "FileSyncDownloadedFull",
    "FileSyncDownloadedPartial",
];
pub const DEFAULT_BULK_DOWNLOAD_THRESHOLD: i64 = 20;
pub const DEFAULT_BULK_DOWNLOAD_WINDOW_MS: i64 = 10 * 60 * 1000;
pub const DEFAULT_LATE_RETENTION_MS: i64 = 60 * 60 * 1000;
pub const DEFAULT_MAX_OPEN_WINDOWS: i64 = 1_000_000;
pub const DEFAULT_MAX_LEARNED_TEMPLATES: i64 = 1_000_000;
pub const DEFAULT_MAX_EVIDENCE_PER_LEG: i64 = 5;
pub const DEFAULT_MAX_PENDING_EVENTS: i64 = 500_000;

/// Every tunable, with its default and documentation.
pub fn tunable_specs() -> Vec<TunableSpec> {
    vec![
        spec::glob_list(
            SENSITIVE_TABLES,
            DEFAULT_SENSITIVE_TABLES,
            "Snowflake tables whose reads matter, as `DATABASE.SCHEMA.TABLE` wildcards (`*` any characters, \
             dots included; `?` one; `[A-Z]` a class), case-insensitive. Table names in the query text are \
             completed with the query's DATABASE_NAME and SCHEMA_NAME. The defaults are common names of \
             personal and payment data: list your own.",
        ),
        spec::integer(
            SENSITIVE_ROWS_THRESHOLD,
            DEFAULT_SENSITIVE_ROWS_THRESHOLD,
            "Rows (ROWS_PRODUCED): a `SELECT *` or unfiltered read of a sensitive table producing more rows \
             than this is a bulk read. 0 to 10^15.",
        ),
        spec::bytes(
            SENSITIVE_BYTES_THRESHOLD,
            DEFAULT_SENSITIVE_BYTES_THRESHOLD,
            "Bytes (BYTES_SCANNED; config `1GB` = 10^9): a `SELECT *` or unfiltered read of a sensitive table \
             scanning more than this is a bulk read (an unload to a stage produces one row but scans the \
             table).",
        ),
        spec::integer(
            REPEATED_READ_THRESHOLD,
            DEFAULT_REPEATED_READ_THRESHOLD,
            "Reads: more reads of one sensitive table by one user within a TimeWindow than this are repeated \
             reads (a table pulled piece by piece). 1 to 1,000,000.",
        ),
        spec::duration(
            TIME_WINDOW,
            DEFAULT_TIME_WINDOW_MS,
            "Length of a Snowflake window per user, from its first query that reads a sensitive table or \
             uses a new template (config `1h`). At least 1 s.",
        ),
        spec::text_list(
            BASELINE_QUERY_TEMPLATES,
            &[],
            "Known BI and ETL query templates, never new: `VERSION:HASH` for a QUERY_PARAMETERIZED_HASH and \
             its QUERY_PARAMETERIZED_HASH_VERSION (`1:5d41402abc4b2a76b9719d911017c592`; hashes compare only \
             within one version), or `sql:` and the query text (compared by normalized shape: literals, \
             comments, case and spacing ignored). Queries of these templates are expected work and feed no leg.",
        ),
        spec::duration(
            LEARNING_PERIOD,
            DEFAULT_LEARNING_PERIOD_MS,
            "Event time, from the first query seen, during which every template is learned and none is \
             reported as new (config `7d`). Afterwards a template never seen for the user nor for the role is \
             new, and is learned too. Learned templates are kept in the analytic's state.",
        ),
        spec::flag(
            NEW_TEMPLATES_ON_SENSITIVE_ONLY,
            true,
            "Report a new template only when its query reads a sensitive table (true), or for every query \
             (false: noisy where analysts write ad hoc SQL). Templates are learned from every query either way.",
        ),
        spec::text_list(
            OFF_HOURS_ACCESS_WINDOW,
            DEFAULT_OFF_HOURS,
            "Weekly windows outside working hours, like `Mon-Fri 19:00-24:00 UTC+02:00` or \
             `Sat,Sun 00:00-24:00`: days `Mon`…`Sun`, ranges, lists or `*`; end exclusive; an end before the \
             start runs past midnight. Fixed UTC offsets only (`UTC`, `UTC+HH:MM`, `UTC-HH:MM`): guests have \
             no time zone database, so move the offset at daylight saving changes. A finding with a \
             contributing event inside them is raised one level. Empty: never applies.",
        ),
        spec::text_list(
            BULK_DOWNLOAD_OPERATIONS,
            DEFAULT_BULK_DOWNLOAD_OPERATIONS,
            "Microsoft 365 audit operations that copy a file to the user's device. FileSyncDownloadedFull is \
             logged only on the first sync of a library, FileSyncDownloadedPartial afterwards: count both.",
        ),
        spec::integer(
            BULK_DOWNLOAD_THRESHOLD,
            DEFAULT_BULK_DOWNLOAD_THRESHOLD,
            "Files: more downloads than this by one user within a BulkDownloadWindow is a bulk download (the \
             audit schema records no file size, so files are counted). 1 to 1,000,000.",
        ),
        spec::duration(
            BULK_DOWNLOAD_WINDOW,
            DEFAULT_BULK_DOWNLOAD_WINDOW_MS,
            "Length of a download window per user, from its first download (config `10m`). At least 1 s.",
        ),
        spec::glob_list(
            ALLOWED_APPLICATIONS,
            &[],
            "Clients whose downloads never count, matched on the user agent or the application id \
             (wildcards, `*` any characters, case-insensitive): backup and migration tools, managed sync \
             (`*SkyDriveSync*` is the OneDrive sync client; allowing it hides FileSync… operations).",
        ),
        spec::duration(
            LATE_RETENTION,
            DEFAULT_LATE_RETENTION_MS,
            "How long a closed window is kept after its end (config `1h`), so events later than the allowed \
             lateness still update its finding.",
        ),
        spec::integer(
            MAX_OPEN_WINDOWS,
            DEFAULT_MAX_OPEN_WINDOWS,
            "Most Snowflake and download windows held at once (open or retained, 1 to 100,000,000). Past it \
             the oldest are evicted with a warning.",
        ),
        spec::integer(
            MAX_LEARNED_TEMPLATES,
            DEFAULT_MAX_LEARNED_TEMPLATES,
            "Most learned (user or role, template) pairs (1 to 100,000,000). Past it the least recently seen \
             are forgotten with a warning, and may be reported as new again.",
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
            "Most events held until the watermark passes them (1 to 100,000,000): events are evaluated in \
             event-time order once final. Past it the oldest are evaluated early, with a warning.",
        ),
    ]
}

/// The manifest.
pub fn manifest() -> Manifest {
    Manifest {
        id: ID.to_string(),
        name: "SaaS bulk or unusual reads of sensitive Snowflake tables, bulk SharePoint and OneDrive downloads"
            .to_string(),
        version: VERSION.to_string(),
        description: "Per Snowflake user and TimeWindow, from ACCOUNT_USAGE.QUERY_HISTORY: a `SELECT *` or \
            unfiltered read of a SensitiveTables table producing or scanning more than the thresholds (bulk \
            read), more than RepeatedReadThreshold reads of one sensitive table (repeated read), or a query \
            template never seen for the user nor the role after the LearningPeriod and not in \
            BaselineQueryTemplates (new template). Per Microsoft 365 user, more than BulkDownloadThreshold \
            FileDownloaded / FileSyncDownloaded… within BulkDownloadWindow outside AllowedApplications (bulk \
            download, T1213.002). OffHoursAccessWindow raises the severity."
            .to_string(),
        strategy: Some("DET0242".to_string()),
        attacks: vec![attack::T1213_006.to_wit(), T1213_002.to_wit()],
        tunables: tunable_specs(),
    }
}
