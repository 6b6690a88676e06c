//! Which column of a VPC Flow Logs record holds which field.
//!
//! Columns are mapped by name, never by version number: a custom format
//! may pick any fields in any order, and a record's `version` is only the
//! newest version among the chosen fields. The names come from the header
//! line that starts every file delivered to S3, from the configured field
//! list for streams without one (CloudWatch Logs, Firehose), or else from
//! the default format, which is always version 2.

/// The default (version 2) format, in order.
pub(crate) const DEFAULT_FIELDS: [&str; 14] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

/// Field names AWS documents (versions 2 to 8), used to recognise a header
/// line. Unknown names are still accepted in a header that has at least
/// one of these.
const KNOWN_FIELDS: &[&str] = &[
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "region",
    "az-id",
    "sublocation-type",
    "sublocation-id",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
    "flow-direction",
    "traffic-path",
    "ecs-cluster-arn",
    "ecs-cluster-name",
    "ecs-container-instance-arn",
    "ecs-container-instance-id",
    "ecs-container-id",
    "ecs-second-container-id",
    "ecs-service-name",
    "ecs-task-definition-arn",
    "ecs-task-arn",
    "ecs-task-id",
    "reject-reason",
    "resource-id",
    "encryption-status",
];

/// Positions of the fields dumpwatch maps, for one field list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Columns {
    /// How many columns a record has.
    pub count: usize,
    pub account_id: Option<usize>,
    pub interface_id: Option<usize>,
    pub srcaddr: Option<usize>,
    pub dstaddr: Option<usize>,
    pub srcport: Option<usize>,
    pub dstport: Option<usize>,
    pub protocol: Option<usize>,
    pub bytes: Option<usize>,
    pub start: Option<usize>,
    pub end: Option<usize>,
    pub action: Option<usize>,
    pub log_status: Option<usize>,
}

impl Columns {
    /// Map a field list. Names may be written as in the header
    /// (`srcaddr`), as in a format string (`${srcaddr}`), or with
    /// underscores as Parquet and Athena columns are (`account_id`).
    pub(crate) fn from_names<S: AsRef<str>>(names: &[S]) -> Columns {
        let mut c = Columns {
            count: names.len(),
            ..Columns::default()
        };
        for (i, raw) in names.iter().enumerate() {
            let name = canonical(raw.as_ref());
            let slot = match name.as_str() {
                "account-id" => &mut c.account_id,
                "interface-id" => &mut c.interface_id,
                "srcaddr" => &mut c.srcaddr,
                "dstaddr" => &mut c.dstaddr,
                "srcport" => &mut c.srcport,
                "dstport" => &mut c.dstport,
                "protocol" => &mut c.protocol,
                "bytes" => &mut c.bytes,
                "start" => &mut c.start,
                "end" => &mut c.end,
                "action" => &mut c.action,
                "log-status" => &mut c.log_status,
                _ => continue,
            };
            // The first column of a name wins, should one be repeated.
            slot.get_or_insert(i);
        }
        c
    }

    pub(crate) fn default_v2() -> Columns {
        Columns::from_names(&DEFAULT_FIELDS)
    }
}

fn canonical(name: &str) -> String {
    let name = name.trim();
    let name = name
        .strip_prefix("${")
        .and_then(|n| n.strip_suffix('}'))
        .unwrap_or(name);
    name.to_ascii_lowercase().replace('_', "-")
}

/// Is this line (split into `tokens`) a header? Every token must look like
/// a field name (lower-case letters, digits, `-`, `_`; data rows always
/// hold a number, an address, an upper-case word or `-`) and at least one
/// must be a documented field.
pub(crate) fn is_header(tokens: &[&[u8]]) -> bool {
    let name_like = |t: &&[u8]| {
        t.first().is_some_and(u8::is_ascii_lowercase)
            && t.iter()
                .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    !tokens.is_empty()
        && tokens.iter().all(name_like)
        && tokens.iter().any(|t| {
            std::str::from_utf8(t).is_ok_and(|t| KNOWN_FIELDS.contains(&canonical(t).as_str()))
        })
}
