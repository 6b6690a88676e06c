//! What AN0679 is: its id, version, ATT&CK references and every tunable
//! with its default, unit and meaning (the manifest the host shows and
//! fills defaults from).

use dumpwatch_sdk::attack;
use dumpwatch_sdk::tunables::spec;
use dumpwatch_sdk::types::{Manifest, TunableSpec};

pub const ID: &str = "AN0679";
pub const VERSION: &str = "1.0.0";

pub const IAM_ACCESS_PATTERNS: &str = "IAMAccessPatterns";
pub const DATA_API_OPERATIONS: &str = "DataApiOperations";
pub const DB_QUERY_VERBOSITY_THRESHOLD: &str = "DBQueryVerbosityThreshold";
pub const TIME_WINDOW: &str = "TimeWindow";
pub const EXPORT_WINDOW: &str = "ExportWindow";
pub const EXPORT_FILE_PATTERNS: &str = "ExportFilePatterns";
pub const S3_EXPORT_THRESHOLD: &str = "S3ExportThreshold";
pub const DATABASE_NETWORKS: &str = "DatabaseNetworks";
pub const INTERNAL_NETWORKS: &str = "InternalNetworks";
pub const FLOW_BYTES_THRESHOLD: &str = "FlowBytesThreshold";
pub const LATE_RETENTION: &str = "LateRetention";
pub const MAX_OPEN_WINDOWS: &str = "MaxOpenWindows";
pub const MAX_OPEN_UPLOADS: &str = "MaxOpenUploads";
pub const MAX_EVIDENCE_PER_LEG: &str = "MaxEvidencePerLeg";
pub const MAX_PENDING_EVENTS: &str = "MaxPendingEvents";

/// AWS service-linked roles act for AWS services, never for a person.
pub const DEFAULT_IAM_ACCESS_PATTERNS: &[&str] = &["arn:aws:iam::*:role/aws-service-role/*"];
pub const DEFAULT_DATA_API_OPERATIONS: &[&str] =
    &["ExecuteStatement", "BatchExecuteStatement", "ExecuteSql"];
pub const DEFAULT_DB_QUERY_VERBOSITY_THRESHOLD: i64 = 1000;
pub const DEFAULT_TIME_WINDOW_MS: i64 = 60 * 60 * 1000;
pub const DEFAULT_EXPORT_WINDOW_MS: i64 = 5 * 60 * 1000;
pub const DEFAULT_EXPORT_FILE_PATTERNS: &[&str] = &[
    "*.sql",
    "*.sql.gz",
    "*.sql.zst",
    "*.dump",
    "*.dmp",
    "*.bak",
    "*.csv",
    "*.csv.gz",
    "*.tsv",
    "*.gz",
    "*.zst",
    "*.zip",
    "*.7z",
    "*.tar",
    "*.parquet",
    "*.avro",
    "*.orc",
    "*.jsonl",
    "*.ndjson",
];
pub const DEFAULT_S3_EXPORT_THRESHOLD: i64 = 100_000_000;
pub const DEFAULT_FLOW_BYTES_THRESHOLD: i64 = 20_000_000;
pub const DEFAULT_LATE_RETENTION_MS: i64 = 60 * 60 * 1000;
pub const DEFAULT_MAX_OPEN_WINDOWS: i64 = 1_000_000;
pub const DEFAULT_MAX_OPEN_UPLOADS: i64 = 100_000;
pub const DEFAULT_MAX_EVIDENCE_PER_LEG: i64 = 5;
pub const DEFAULT_MAX_PENDING_EVENTS: i64 = 200_000;

/// Every tunable, with its default and documentation.
pub fn tunable_specs() -> Vec<TunableSpec> {
    vec![
        spec::glob_list(
            IAM_ACCESS_PATTERNS,
            DEFAULT_IAM_ACCESS_PATTERNS,
            "Identities expected to query databases through the RDS Data API. A pattern starting with `arn:` \
             matches the caller's identity ARN (CloudTrail userIdentity.arn) or the ARN of the role that issued \
             its session (sessionContext.sessionIssuer.arn), so `arn:aws:iam::*:role/app-*` allows every session \
             of those roles; any other pattern matches the access key id (`AKIA…` long-term, `ASIA…` \
             temporary). `*` matches any characters including `/` and `:`, `?` one character, `[a-z]` a class; \
             case-sensitive. Statements by anyone else are the query leg.",
        ),
        spec::text_list(
            DATA_API_OPERATIONS,
            DEFAULT_DATA_API_OPERATIONS,
            "RDS Data API operations (CloudTrail eventName of rdsdata.amazonaws.com) that run SQL and count as \
             statements. Transaction calls (BeginTransaction, CommitTransaction) run none. Only successful calls \
             count (no errorCode).",
        ),
        spec::integer(
            DB_QUERY_VERBOSITY_THRESHOLD,
            DEFAULT_DB_QUERY_VERBOSITY_THRESHOLD,
            "Statements: more than this many successful Data API statements by one identity within a TimeWindow \
             make the query leg even for an identity IAMAccessPatterns allows (CloudTrail records no row counts \
             for the Data API, so volume is counted in calls). Set it above your applications' busiest hour. \
             1 to 1,000,000,000.",
        ),
        spec::duration(
            TIME_WINDOW,
            DEFAULT_TIME_WINDOW_MS,
            "Length of a query window, counted from an identity's first statement (config `1h`); later \
             statements of the identity within it join it. Also the window over which VPC flow bytes are \
             summed per database address and destination, from the first flow record. At least 1 s.",
        ),
        spec::duration(
            EXPORT_WINDOW,
            DEFAULT_EXPORT_WINDOW_MS,
            "How long after one of its statements an S3 write by the same identity is the export leg of the \
             window (config `5m`); a multipart upload counts from its first part. At most TimeWindow.",
        ),
        spec::glob_list(
            EXPORT_FILE_PATTERNS,
            DEFAULT_EXPORT_FILE_PATTERNS,
            "Object keys that look like a database export: a pattern without `/` matches the key's last \
             component (`*.csv`), one with `/` the whole key (`exports/**`); case-insensitive. A PutObject or \
             multipart upload of a matching key is an export whatever its size.",
        ),
        spec::bytes(
            S3_EXPORT_THRESHOLD,
            DEFAULT_S3_EXPORT_THRESHOLD,
            "Bytes (config `100MB` = 100,000,000). An S3 write larger than this is an export whatever its key: \
             a PutObject's bytesTransferredIn, or a multipart upload's UploadPart bytes summed per upload id. \
             At least 1.",
        ),
        spec::text_list(
            DATABASE_NETWORKS,
            &[],
            "Addresses of the databases in VPC Flow Logs: CIDR networks or single addresses, each optionally \
             tied to a cluster as `ARN=CIDR` (`arn:aws:rds:us-east-1:111122223333:cluster:prod-db=10.0.1.0/24`) \
             so a flow and a Data API query on the same cluster raise each other. Empty (the default): the \
             flow leg is off.",
        ),
        spec::cidr_list(
            INTERNAL_NETWORKS,
            dumpwatch_sdk::address::DEFAULT_INTERNAL_NETWORKS,
            "Destinations that are not egress for the flow leg: CIDR networks or single addresses. Default: \
             RFC 1918, loopback, link-local, IPv6 unique-local and link-local. Add your public ranges, VPN and \
             partner networks, and AWS ranges you trust (S3 gateway endpoints are private already).",
        ),
        spec::bytes(
            FLOW_BYTES_THRESHOLD,
            DEFAULT_FLOW_BYTES_THRESHOLD,
            "Bytes (config `20MB` = 20,000,000). More bytes than this sent from one database address to one \
             external destination within a TimeWindow (VPC Flow Logs `bytes`, accepted records) is a finding. \
             At least 1.",
        ),
        spec::duration(
            LATE_RETENTION,
            DEFAULT_LATE_RETENTION_MS,
            "How long a closed window is kept after its end (config `1h`), so events that arrive later than \
             the allowed lateness still update its finding, and duplicated snapshot events are recognised.",
        ),
        spec::integer(
            MAX_OPEN_WINDOWS,
            DEFAULT_MAX_OPEN_WINDOWS,
            "Most query and flow windows held at once (open or retained, 1 to 100,000,000). Past it the oldest \
             are evicted with a warning.",
        ),
        spec::integer(
            MAX_OPEN_UPLOADS,
            DEFAULT_MAX_OPEN_UPLOADS,
            "Most S3 multipart uploads tracked at once (1 to 100,000,000): their parts are summed until the \
             upload goes quiet for a TimeWindow. Past it the least recently active are dropped with a warning.",
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
        name: "AWS database read through the RDS Data API and exported, database egress, snapshot export or \
               sharing"
            .to_string(),
        version: VERSION.to_string(),
        description: "Per identity, RDS Data API statements (CloudTrail rdsdata.amazonaws.com) by an identity \
            outside IAMAccessPatterns, or more than DBQueryVerbosityThreshold of them in a TimeWindow, followed \
            within ExportWindow by an S3 write of an export-like object or of more than S3ExportThreshold bytes \
            (multipart parts summed): medium, T1567.002. Per database address and external destination, VPC \
            Flow Logs bytes summed over a TimeWindow above FlowBytesThreshold: medium, T1048. Both on the same \
            cluster raise each other one level. An RDS snapshot export (StartExportTask) is medium, a snapshot \
            shared with another account high and with everyone (public) critical: T1537."
            .to_string(),
        strategy: Some("DET0242".to_string()),
        attacks: vec![
            attack::T1213_006.to_wit(),
            attack::T1567_002.to_wit(),
            attack::T1048.to_wit(),
            attack::T1537.to_wit(),
        ],
        tunables: tunable_specs(),
    }
}
