//! AN0679's tunables, read and validated into a typed [`Config`], and the
//! subscriptions they imply.

use std::net::IpAddr;

use dumpwatch_sdk::address::NetworkSet;
use dumpwatch_sdk::glob::GlobList;
use dumpwatch_sdk::subscribe::{self, subscription};
use dumpwatch_sdk::tunables::TunableSet;
use dumpwatch_sdk::types::{ConfigError, EventClass, FieldTest, MatchOp, Subscription, Tunable};
use dumpwatch_sdk::wildcard::Wildcards;
use ipnet::IpNet;

use crate::manifest::*;

/// CloudTrail's name for the RDS Data API (the normalizer folds the
/// EventBridge alias `rdsdataapi.amazonaws.com` into it; both are accepted).
pub const DATA_API_SERVICES: &[&str] = &["rdsdata.amazonaws.com", "rdsdataapi.amazonaws.com"];
pub const S3_SERVICES: &[&str] = &["s3.amazonaws.com", "s3-outposts.amazonaws.com"];
pub const RDS_SERVICE: &str = "rds.amazonaws.com";
/// S3 data events that write object data (CreateMultipartUpload carries
/// neither bytes nor, in requestParameters, the upload id).
pub const S3_WRITES: &[&str] = &["PutObject", "UploadPart", "CompleteMultipartUpload"];
pub const SNAPSHOT_EXPORT: &str = "StartExportTask";
pub const SNAPSHOT_SHARES: &[&str] = &[
    "ModifyDBSnapshotAttribute",
    "ModifyDBClusterSnapshotAttribute",
];

/// Who may use the Data API: `arn:` patterns for identity and issuer ARNs,
/// the rest for access key ids.
#[derive(Clone, Debug, Default)]
pub struct IdentityPolicy {
    pub arns: Wildcards,
    pub keys: Wildcards,
}

impl IdentityPolicy {
    /// The pattern allowing this caller, if any.
    pub fn allows(
        &self,
        arn: Option<&str>,
        issuer: Option<&str>,
        key: Option<&str>,
    ) -> Option<&str> {
        arn.and_then(|a| self.arns.first_match(a))
            .or_else(|| issuer.and_then(|i| self.arns.first_match(i)))
            .or_else(|| key.and_then(|k| self.keys.first_match(k)))
    }
}

/// One DatabaseNetworks entry.
#[derive(Clone, Debug, PartialEq)]
pub struct DatabaseNetwork {
    pub net: IpNet,
    /// The cluster ARN of an `ARN=CIDR` entry.
    pub cluster: Option<String>,
}

/// The tunables in force, typed.
#[derive(Clone, Debug)]
pub struct Config {
    pub identities: IdentityPolicy,
    pub operations: Vec<String>,
    pub verbosity: u64,
    pub window_ms: i64,
    pub export_window_ms: i64,
    pub export_files: GlobList,
    pub export_bytes: u64,
    /// Most specific first.
    pub databases: Vec<DatabaseNetwork>,
    pub internal: NetworkSet,
    pub flow_bytes: u64,
    pub late_retention_ms: i64,
    pub max_windows: usize,
    pub max_uploads: usize,
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
        let patterns = set.text_list(IAM_ACCESS_PATTERNS);
        let (arns, keys): (Vec<&String>, Vec<&String>) =
            patterns.iter().partition(|p| p.starts_with("arn:"));
        let mut compile = |list: Vec<&String>| match Wildcards::compile(&list, false) {
            Ok(compiled) => compiled,
            Err(messages) => {
                for message in messages {
                    set.error(IAM_ACCESS_PATTERNS, message);
                }
                Wildcards::default()
            }
        };
        let identities = IdentityPolicy {
            arns: compile(arns),
            keys: compile(keys),
        };
        let operations = set.text_list(DATA_API_OPERATIONS);
        if operations.is_empty() {
            set.error(
                DATA_API_OPERATIONS,
                "is empty: the query leg would never fire".into(),
            );
        }
        let verbosity = set.integer(DB_QUERY_VERBOSITY_THRESHOLD, 1, 1_000_000_000);
        let window_ms = set.duration_ms_at_least(TIME_WINDOW, 1000);
        let export_window_ms = set.duration_ms(EXPORT_WINDOW);
        if export_window_ms > window_ms {
            set.error(
                EXPORT_WINDOW,
                format!("{export_window_ms} ms is longer than TimeWindow ({window_ms} ms)"),
            );
        }
        let export_files = set.glob_list(EXPORT_FILE_PATTERNS, true);
        let export_bytes = set.bytes(S3_EXPORT_THRESHOLD);
        if export_bytes == 0 {
            set.error(
                S3_EXPORT_THRESHOLD,
                "0 would make every S3 write an export; use at least 1".into(),
            );
        }
        let databases = parse_databases(set);
        let internal = set.cidr_list(INTERNAL_NETWORKS);
        let flow_bytes = set.bytes(FLOW_BYTES_THRESHOLD);
        if flow_bytes == 0 {
            set.error(
                FLOW_BYTES_THRESHOLD,
                "0 would make every flow a finding; use at least 1".into(),
            );
        }
        let late_retention_ms = set.duration_ms(LATE_RETENTION);
        let max_windows = set.integer(MAX_OPEN_WINDOWS, 1, 100_000_000);
        let max_uploads = set.integer(MAX_OPEN_UPLOADS, 1, 100_000_000);
        let max_evidence = set.integer(MAX_EVIDENCE_PER_LEG, 1, 1000);
        let max_pending = set.integer(MAX_PENDING_EVENTS, 1, 100_000_000);
        Config {
            identities,
            operations,
            verbosity: u64::try_from(verbosity).unwrap_or(1),
            window_ms,
            export_window_ms,
            export_files,
            export_bytes,
            databases,
            internal,
            flow_bytes,
            late_retention_ms,
            max_windows: usize::try_from(max_windows).unwrap_or(usize::MAX),
            max_uploads: usize::try_from(max_uploads).unwrap_or(usize::MAX),
            max_evidence: usize::try_from(max_evidence).unwrap_or(1),
            max_pending: usize::try_from(max_pending).unwrap_or(usize::MAX),
        }
    }

    /// The database network holding `ip` (the most specific one), if any.
    pub fn database_of(&self, ip: IpAddr) -> Option<&DatabaseNetwork> {
        let ip = ip.to_canonical();
        self.databases.iter().find(|entry| entry.net.contains(&ip))
    }

    /// What the host should deliver: exactly the events the analytic can
    /// use.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        // A negated `exists` is the one test that passes on a missing
        // field: failed calls (with an errorCode) never cross.
        let succeeded = || FieldTest {
            field: "cloud.error".into(),
            op: MatchOp::Exists,
            values: Vec::new(),
            negate: true,
        };
        let trail = &["cloudtrail"];
        let mut subs = vec![
            subscription(
                EventClass::CloudApi,
                trail,
                vec![
                    subscribe::equals("cloud.service", DATA_API_SERVICES),
                    subscribe::equals("cloud.operation", &self.operations),
                    succeeded(),
                ],
            ),
            subscription(
                EventClass::CloudApi,
                trail,
                vec![
                    subscribe::equals("cloud.service", S3_SERVICES),
                    subscribe::equals("cloud.operation", S3_WRITES),
                    succeeded(),
                ],
            ),
            subscription(
                EventClass::CloudApi,
                trail,
                vec![
                    subscribe::equals("cloud.service", [RDS_SERVICE]),
                    subscribe::equals(
                        "cloud.operation",
                        std::iter::once(SNAPSHOT_EXPORT).chain(SNAPSHOT_SHARES.iter().copied()),
                    ),
                    succeeded(),
                ],
            ),
        ];
        if !self.databases.is_empty() {
            let nets: Vec<String> = self.databases.iter().map(|d| d.net.to_string()).collect();
            subs.push(subscription(
                EventClass::Network,
                &["vpc-flow"],
                vec![
                    subscribe::in_cidr("src.ip", &nets),
                    subscribe::not_in_cidr("dst.ip", self.internal.texts()),
                    subscribe::at_least("network.bytes_out", 1),
                ],
            ));
        }
        subs
    }
}

/// DatabaseNetworks: `CIDR`, a single address, or `ARN=CIDR`; every bad
/// entry reported. Sorted most specific first so lookups take the
/// narrowest network.
fn parse_databases(set: &mut TunableSet<'_>) -> Vec<DatabaseNetwork> {
    let mut out = Vec::new();
    for entry in set.text_list(DATABASE_NETWORKS) {
        let (cluster, net) = match entry.rsplit_once('=') {
            Some((arn, net)) => (Some(arn.trim()), net.trim()),
            None => (None, entry.as_str()),
        };
        if let Some(arn) = cluster
            && !(arn.starts_with("arn:") && arn.len() > 4)
        {
            set.error(
                DATABASE_NETWORKS,
                format!(
                    "{entry:?}: the part before `=` must be a cluster ARN (arn:aws:rds:REGION:ACCOUNT:cluster:NAME)"
                ),
            );
            continue;
        }
        let parsed = if net.contains('/') {
            net.parse::<IpNet>().map(|n| n.trunc()).ok()
        } else {
            net.parse::<IpAddr>().ok().map(IpNet::from)
        };
        match parsed {
            Some(net) => out.push(DatabaseNetwork {
                net,
                cluster: cluster.map(str::to_string),
            }),
            None => set.error(
                DATABASE_NETWORKS,
                format!(
                    "{entry:?}: {net:?} is not an IP network in CIDR notation (10.0.1.0/24) or an IP address"
                ),
            ),
        }
    }
    out.sort_by_key(|entry| std::cmp::Reverse(entry.net.prefix_len()));
    out
}
