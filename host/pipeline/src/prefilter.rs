//! The native prefilter: an analytic's subscriptions compiled into tests
//! the host runs on every event, so only the events an analytic wants cross
//! into its sandbox (a crossing costs far more than these tests).
//!
//! Field names are the contract's (`docs/contract.md` lists them); an
//! unknown field or a pattern that does not compile is a configuration
//! error reported when the analytic is loaded, never a silent match-all.

use std::collections::HashSet;
use std::net::IpAddr;

use dumpwatch_event::{Activity, Event, EventClass};
use dumpwatch_runtime::convert::class_from_wit;
use dumpwatch_runtime::wit;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use ipnet::IpNet;

/// A field an analytic can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Source,
    Id,
    DeviceHostname,
    DeviceDomain,
    ActorUser,
    ActorUid,
    ActorEffectiveUser,
    ActorGroups,
    ActorArn,
    ActorIssuerArn,
    ActorAccessKeyId,
    ActorIdentityType,
    ProcessName,
    ProcessPath,
    ProcessCommandLine,
    ProcessParentName,
    ProcessParentPath,
    ProcessAncestry,
    FilePath,
    FileName,
    FileOperation,
    SrcIp,
    SrcPort,
    DstIp,
    DstPort,
    DstHostname,
    NetworkBytesOut,
    NetworkBytesIn,
    NetworkAppProtocol,
    NetworkProtocol,
    HttpMethod,
    HttpHost,
    HttpUri,
    HttpUserAgent,
    HttpRequestBytes,
    HttpResponseBytes,
    NameName,
    NameKind,
    CloudProvider,
    CloudService,
    CloudOperation,
    CloudResource,
    CloudBucket,
    CloudKey,
    CloudBytesIn,
    CloudError,
    CloudParameters,
    NetworkAllowed,
    QueryStatus,
    QuerySystem,
    QueryText,
    QueryType,
    QueryDatabase,
    QueryRows,
    QueryBytesScanned,
    FileAccessOperation,
    FileAccessName,
    FileAccessPath,
    FileAccessWorkload,
    FileAccessUserAgent,
    FileAccessApplication,
}

/// Every field name, for docs and error messages.
pub const FIELD_NAMES: &[(&str, Field)] = &[
    ("source", Field::Source),
    ("id", Field::Id),
    ("device.hostname", Field::DeviceHostname),
    ("device.domain", Field::DeviceDomain),
    ("actor.user", Field::ActorUser),
    ("actor.uid", Field::ActorUid),
    ("actor.effective_user", Field::ActorEffectiveUser),
    ("actor.groups", Field::ActorGroups),
    ("actor.arn", Field::ActorArn),
    ("actor.issuer_arn", Field::ActorIssuerArn),
    ("actor.access_key_id", Field::ActorAccessKeyId),
    ("actor.identity_type", Field::ActorIdentityType),
    ("process.name", Field::ProcessName),
    ("process.path", Field::ProcessPath),
    ("process.command_line", Field::ProcessCommandLine),
    ("process.parent_name", Field::ProcessParentName),
    ("process.parent_path", Field::ProcessParentPath),
    ("process.ancestry", Field::ProcessAncestry),
    ("file.path", Field::FilePath),
    ("file.name", Field::FileName),
    ("file.operation", Field::FileOperation),
    ("src.ip", Field::SrcIp),
    ("src.port", Field::SrcPort),
    ("dst.ip", Field::DstIp),
    ("dst.port", Field::DstPort),
    ("dst.hostname", Field::DstHostname),
    ("network.bytes_out", Field::NetworkBytesOut),
    ("network.bytes_in", Field::NetworkBytesIn),
    ("network.app_protocol", Field::NetworkAppProtocol),
    ("network.protocol", Field::NetworkProtocol),
    ("http.method", Field::HttpMethod),
    ("http.host", Field::HttpHost),
    ("http.uri", Field::HttpUri),
    ("http.user_agent", Field::HttpUserAgent),
    ("http.request_bytes", Field::HttpRequestBytes),
    ("http.response_bytes", Field::HttpResponseBytes),
    ("name.name", Field::NameName),
    ("name.kind", Field::NameKind),
    ("cloud.provider", Field::CloudProvider),
    ("cloud.service", Field::CloudService),
    ("cloud.operation", Field::CloudOperation),
    ("cloud.resource", Field::CloudResource),
    ("cloud.bucket", Field::CloudBucket),
    ("cloud.key", Field::CloudKey),
    ("cloud.bytes_in", Field::CloudBytesIn),
    ("cloud.error", Field::CloudError),
    ("cloud.parameters", Field::CloudParameters),
    ("network.allowed", Field::NetworkAllowed),
    ("query.status", Field::QueryStatus),
    ("query.system", Field::QuerySystem),
    ("query.text", Field::QueryText),
    ("query.query_type", Field::QueryType),
    ("query.database", Field::QueryDatabase),
    ("query.rows", Field::QueryRows),
    ("query.bytes_scanned", Field::QueryBytesScanned),
    ("file_access.operation", Field::FileAccessOperation),
    ("file_access.name", Field::FileAccessName),
    ("file_access.path", Field::FileAccessPath),
    ("file_access.workload", Field::FileAccessWorkload),
    ("file_access.user_agent", Field::FileAccessUserAgent),
    ("file_access.application", Field::FileAccessApplication),
];

/// A field's value in one event.
enum Value<'a> {
    Str(&'a str),
    Num(u64),
    Ip(IpAddr),
    List(&'a [String]),
    /// Name/value pairs, matched as `name=value`.
    Pairs(&'a [(String, String)]),
    Missing,
}

fn s(v: &Option<String>) -> Value<'_> {
    v.as_deref().map_or(Value::Missing, Value::Str)
}
fn n<T: Into<u64> + Copy>(v: Option<T>) -> Value<'static> {
    v.map_or(Value::Missing, |x| Value::Num(x.into()))
}
fn ip(v: Option<IpAddr>) -> Value<'static> {
    v.map_or(Value::Missing, Value::Ip)
}

fn basename(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

impl Field {
    fn get(self, e: &Event) -> Value<'_> {
        let p = e.process.as_deref();
        let endpoints = match &e.activity {
            Activity::Network(f) => Some((&f.src, &f.dst)),
            Activity::Http(h) => Some((&h.src, &h.dst)),
            Activity::Name(x) => Some((&x.src, &x.dst)),
            _ => None,
        };
        match self {
            Field::Source => Value::Str(e.source),
            Field::Id => Value::Str(&e.id),
            Field::DeviceHostname => s(&e.device.hostname),
            Field::DeviceDomain => s(&e.device.domain),
            Field::ActorUser => s(&e.actor.user),
            Field::ActorUid => n(e.actor.uid),
            Field::ActorEffectiveUser => s(&e.actor.effective_user),
            Field::ActorGroups => Value::List(&e.actor.groups),
            Field::ActorArn => s(&e.actor.arn),
            Field::ActorIssuerArn => s(&e.actor.issuer_arn),
            Field::ActorAccessKeyId => s(&e.actor.access_key_id),
            Field::ActorIdentityType => s(&e.actor.identity_type),
            Field::ProcessName => p.map_or(Value::Missing, |p| s(&p.name)),
            Field::ProcessPath => p.map_or(Value::Missing, |p| s(&p.path)),
            Field::ProcessCommandLine => p.map_or(Value::Missing, |p| s(&p.command_line)),
            Field::ProcessParentName => p.map_or(Value::Missing, |p| s(&p.parent_name)),
            Field::ProcessParentPath => p.map_or(Value::Missing, |p| s(&p.parent_path)),
            Field::ProcessAncestry => p.map_or(Value::Missing, |p| Value::List(&p.ancestry)),
            Field::FilePath | Field::FileName | Field::FileOperation => match &e.activity {
                Activity::File(f) => match self {
                    Field::FilePath => Value::Str(&f.path),
                    Field::FileName => Value::Str(basename(&f.path)),
                    _ => Value::Str(file_op_name(f.operation)),
                },
                _ => Value::Missing,
            },
            Field::SrcIp => endpoints.map_or(Value::Missing, |(src, _)| ip(src.ip)),
            Field::SrcPort => endpoints.map_or(Value::Missing, |(src, _)| n(src.port)),
            Field::DstIp => endpoints.map_or(Value::Missing, |(_, dst)| ip(dst.ip)),
            Field::DstPort => endpoints.map_or(Value::Missing, |(_, dst)| n(dst.port)),
            Field::DstHostname => endpoints.map_or(Value::Missing, |(_, dst)| s(&dst.hostname)),
            Field::NetworkBytesOut
            | Field::NetworkBytesIn
            | Field::NetworkAppProtocol
            | Field::NetworkProtocol
            | Field::NetworkAllowed => match &e.activity {
                Activity::Network(f) => match self {
                    Field::NetworkBytesOut => n(f.bytes_out),
                    Field::NetworkBytesIn => n(f.bytes_in),
                    Field::NetworkAppProtocol => s(&f.app_protocol),
                    Field::NetworkAllowed => f.allowed.map_or(Value::Missing, |a| {
                        Value::Str(if a { "true" } else { "false" })
                    }),
                    _ => n(f.protocol),
                },
                _ => Value::Missing,
            },
            Field::HttpMethod
            | Field::HttpHost
            | Field::HttpUri
            | Field::HttpUserAgent
            | Field::HttpRequestBytes
            | Field::HttpResponseBytes => match &e.activity {
                Activity::Http(h) => match self {
                    Field::HttpMethod => Value::Str(&h.method),
                    Field::HttpHost => s(&h.host),
                    Field::HttpUri => s(&h.uri),
                    Field::HttpUserAgent => s(&h.user_agent),
                    Field::HttpRequestBytes => n(h.request_bytes),
                    _ => n(h.response_bytes),
                },
                _ => Value::Missing,
            },
            Field::NameName | Field::NameKind => match &e.activity {
                Activity::Name(x) => match self {
                    Field::NameName => Value::Str(&x.name),
                    _ => Value::Str(match x.kind {
                        dumpwatch_event::NameKind::TlsServerName => "tls_server_name",
                        dumpwatch_event::NameKind::DnsQuery => "dns_query",
                    }),
                },
                _ => Value::Missing,
            },
            Field::CloudProvider
            | Field::CloudService
            | Field::CloudOperation
            | Field::CloudResource
            | Field::CloudBucket
            | Field::CloudKey
            | Field::CloudBytesIn
            | Field::CloudError
            | Field::CloudParameters => match &e.activity {
                Activity::CloudApi(c) => match self {
                    Field::CloudProvider => Value::Str(&c.provider),
                    Field::CloudService => Value::Str(&c.service),
                    Field::CloudOperation => Value::Str(&c.operation),
                    Field::CloudResource => s(&c.resource),
                    Field::CloudBucket => s(&c.bucket),
                    Field::CloudKey => s(&c.key),
                    Field::CloudBytesIn => n(c.bytes_in),
                    Field::CloudParameters => Value::Pairs(&c.parameters),
                    _ => s(&c.error),
                },
                _ => Value::Missing,
            },
            Field::QuerySystem
            | Field::QueryText
            | Field::QueryType
            | Field::QueryDatabase
            | Field::QueryRows
            | Field::QueryBytesScanned
            | Field::QueryStatus => match &e.activity {
                Activity::Query(q) => match self {
                    Field::QuerySystem => Value::Str(&q.system),
                    Field::QueryText => s(&q.text),
                    Field::QueryType => s(&q.query_type),
                    Field::QueryDatabase => s(&q.database),
                    Field::QueryRows => n(q.rows),
                    Field::QueryStatus => s(&q.status),
                    _ => n(q.bytes_scanned),
                },
                _ => Value::Missing,
            },
            Field::FileAccessOperation
            | Field::FileAccessName
            | Field::FileAccessPath
            | Field::FileAccessWorkload
            | Field::FileAccessUserAgent
            | Field::FileAccessApplication => match &e.activity {
                Activity::FileAccess(f) => match self {
                    Field::FileAccessOperation => Value::Str(&f.operation),
                    Field::FileAccessName => s(&f.name),
                    Field::FileAccessPath => s(&f.path),
                    Field::FileAccessWorkload => s(&f.workload),
                    Field::FileAccessUserAgent => s(&f.user_agent),
                    _ => s(&f.application),
                },
                _ => Value::Missing,
            },
        }
    }
}

fn file_op_name(op: dumpwatch_event::FileOperation) -> &'static str {
    use dumpwatch_event::FileOperation as F;
    match op {
        F::Create => "create",
        F::Write => "write",
        F::Truncate => "truncate",
        F::Rename => "rename",
        F::CloseModified => "close_modified",
        F::Delete => "delete",
    }
}

/// How a compiled test matches.
enum Matcher {
    Equals(HashSet<String>),
    EqualsNoCase(HashSet<String>),
    Glob(GlobSet),
    SuffixNoCase(Vec<String>),
    Cidr(Vec<IpNet>),
    AtLeast(u64),
    Exists,
}

struct Test {
    field: Field,
    matcher: Matcher,
    negate: bool,
}

fn str_matches(m: &Matcher, v: &str) -> bool {
    match m {
        Matcher::Equals(set) => set.contains(v),
        Matcher::EqualsNoCase(set) => set.contains(&v.to_ascii_lowercase()),
        Matcher::Glob(g) => g.is_match(v),
        Matcher::SuffixNoCase(sfx) => {
            let b = v.as_bytes();
            sfx.iter().any(|x| {
                b.len() >= x.len() && b[b.len() - x.len()..].eq_ignore_ascii_case(x.as_bytes())
            })
        }
        Matcher::Cidr(nets) => v
            .parse::<IpAddr>()
            .is_ok_and(|ip| nets.iter().any(|n| n.contains(&ip))),
        Matcher::AtLeast(min) => v.parse::<u64>().is_ok_and(|x| x >= *min),
        Matcher::Exists => true,
    }
}

impl Test {
    /// A missing field fails the test whether or not it is negated (an
    /// event without a destination address is not "outside the internal
    /// ranges"); only a negated `exists` passes on a missing field.
    fn matches(&self, e: &Event) -> bool {
        let hit = match (self.field.get(e), &self.matcher) {
            (Value::Missing, m) => return matches!(m, Matcher::Exists) && self.negate,
            (_, Matcher::Exists) => true,
            (Value::Str(v), m) => str_matches(m, v),
            (Value::List(items), m) => items.iter().any(|v| str_matches(m, v)),
            (Value::Pairs(pairs), m) => pairs
                .iter()
                .any(|(k, v)| str_matches(m, &format!("{k}={v}"))),
            (Value::Num(x), Matcher::AtLeast(min)) => x >= *min,
            (Value::Num(x), m) => str_matches(m, &x.to_string()),
            (Value::Ip(ip), Matcher::Cidr(nets)) => nets.iter().any(|n| n.contains(&ip)),
            (Value::Ip(ip), m) => str_matches(m, &ip.to_string()),
        };
        hit != self.negate
    }
}

struct Sub {
    sources: Option<HashSet<String>>,
    tests: Vec<Test>,
}

/// Compiled subscriptions of one analytic.
pub struct Prefilter {
    by_class: [Vec<Sub>; 8],
}

fn class_index(c: EventClass) -> usize {
    EventClass::ALL.iter().position(|x| *x == c).unwrap_or(0)
}

fn compile_test(t: &wit::FieldTest) -> Result<Test, String> {
    let field = FIELD_NAMES
        .iter()
        .find(|(name, _)| *name == t.field)
        .map(|(_, f)| *f)
        .ok_or_else(|| format!("unknown subscription field `{}`", t.field))?;
    let matcher = match t.op {
        wit::MatchOp::Equals => Matcher::Equals(t.values.iter().cloned().collect()),
        wit::MatchOp::EqualsNocase => {
            Matcher::EqualsNoCase(t.values.iter().map(|v| v.to_ascii_lowercase()).collect())
        }
        wit::MatchOp::Glob | wit::MatchOp::GlobNocase => {
            let mut b = GlobSetBuilder::new();
            for v in &t.values {
                let g = GlobBuilder::new(v)
                    .case_insensitive(t.op == wit::MatchOp::GlobNocase)
                    .literal_separator(false)
                    .backslash_escape(false)
                    .build()
                    .map_err(|e| format!("field `{}`: invalid glob {v:?}: {e}", t.field))?;
                b.add(g);
            }
            Matcher::Glob(b.build().map_err(|e| format!("field `{}`: {e}", t.field))?)
        }
        wit::MatchOp::SuffixNocase => {
            Matcher::SuffixNoCase(t.values.iter().map(|v| v.to_ascii_lowercase()).collect())
        }
        wit::MatchOp::InCidr => {
            let mut nets = Vec::new();
            for v in &t.values {
                nets.push(
                    dumpwatch_config::parse_net(v)
                        .map_err(|e| format!("field `{}`: {e}", t.field))?,
                );
            }
            Matcher::Cidr(nets)
        }
        wit::MatchOp::AtLeast => {
            let v = t
                .values
                .first()
                .ok_or_else(|| format!("field `{}`: at-least needs a value", t.field))?;
            Matcher::AtLeast(v.trim().parse().map_err(|_| {
                format!("field `{}`: at-least value {v:?} is not a number", t.field)
            })?)
        }
        wit::MatchOp::Exists => Matcher::Exists,
    };
    Ok(Test {
        field,
        matcher,
        negate: t.negate,
    })
}

impl Prefilter {
    /// Compile an analytic's subscriptions; every problem is reported.
    pub fn compile(subs: &[wit::Subscription]) -> Result<Prefilter, Vec<String>> {
        let mut by_class: [Vec<Sub>; 8] = Default::default();
        let mut problems = Vec::new();
        for sub in subs {
            let mut tests = Vec::new();
            for t in &sub.tests {
                match compile_test(t) {
                    Ok(t) => tests.push(t),
                    Err(e) => problems.push(e),
                }
            }
            let sources = if sub.sources.is_empty() {
                None
            } else {
                Some(sub.sources.iter().cloned().collect())
            };
            by_class[class_index(class_from_wit(sub.class))].push(Sub { sources, tests });
        }
        if problems.is_empty() {
            Ok(Prefilter { by_class })
        } else {
            Err(problems)
        }
    }

    /// Does the analytic want this event?
    pub fn accepts(&self, e: &Event) -> bool {
        self.by_class[class_index(e.class())].iter().any(|sub| {
            sub.sources.as_ref().is_none_or(|s| s.contains(e.source))
                && sub.tests.iter().all(|t| t.matches(e))
        })
    }

    /// Can an input of `format` produce an event this analytic wants?
    pub fn wants(&self, format: dumpwatch_normalize::Format) -> bool {
        let sources = format.event_sources();
        format.event_classes().iter().any(|c| {
            self.by_class[class_index(*c)].iter().any(|sub| {
                sub.sources
                    .as_ref()
                    .is_none_or(|set| sources.iter().any(|s| set.contains(*s)))
            })
        })
    }

    /// The classes any subscription names.
    pub fn classes(&self) -> Vec<EventClass> {
        EventClass::ALL
            .iter()
            .copied()
            .filter(|c| !self.by_class[class_index(*c)].is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dumpwatch_event::{Device, Endpoint, FileActivity, FileOperation, NetworkFlow, Process};

    fn sub(class: wit::EventClass, tests: Vec<wit::FieldTest>) -> wit::Subscription {
        wit::Subscription {
            class,
            sources: vec![],
            tests,
        }
    }

    fn test(field: &str, op: wit::MatchOp, values: &[&str], negate: bool) -> wit::FieldTest {
        wit::FieldTest {
            field: field.into(),
            op,
            values: values.iter().map(|v| v.to_string()).collect(),
            negate,
        }
    }

    fn event(activity: Activity, process: Option<Process>) -> Event {
        Event {
            time: 0,
            source: "auditd",
            id: "1".into(),
            device: Device::default(),
            actor: Default::default(),
            process: process.map(Box::new),
            activity,
        }
    }

    #[test]
    fn file_glob_and_cidr_negation() {
        let pf = Prefilter::compile(&[
            sub(
                wit::EventClass::File,
                vec![test(
                    "file.path",
                    wit::MatchOp::Glob,
                    &["*.sql", "/tmp/**/x.csv"],
                    false,
                )],
            ),
            sub(
                wit::EventClass::Network,
                vec![test("dst.ip", wit::MatchOp::InCidr, &["10.0.0.0/8"], true)],
            ),
        ])
        .expect("compiles");
        let file = |p: &str| {
            event(
                Activity::File(FileActivity {
                    operation: FileOperation::Create,
                    path: p.into(),
                    source_path: None,
                    size: None,
                }),
                None,
            )
        };
        assert!(pf.accepts(&file("/home/a/db.sql")));
        assert!(pf.accepts(&file("/tmp/a/b/x.csv")));
        assert!(!pf.accepts(&file("/home/a/db.txt")));
        let flow = |ip: &str| {
            event(
                Activity::Network(NetworkFlow {
                    dst: Endpoint {
                        ip: ip.parse().ok(),
                        ..Default::default()
                    },
                    ..Default::default()
                }),
                None,
            )
        };
        assert!(pf.accepts(&flow("8.8.8.8")));
        assert!(!pf.accepts(&flow("10.1.2.3")));
        // A missing address is not "outside the internal ranges".
        assert!(!pf.accepts(&flow("not-an-ip")));
    }

    #[test]
    fn names_and_unknown_fields() {
        let pf = Prefilter::compile(&[sub(
            wit::EventClass::ProcessStart,
            vec![test(
                "process.name",
                wit::MatchOp::Equals,
                &["pg_dump"],
                false,
            )],
        )])
        .expect("compiles");
        let start = |name: &str| {
            event(
                Activity::ProcessStart(Default::default()),
                Some(Process {
                    name: Some(name.into()),
                    ..Default::default()
                }),
            )
        };
        assert!(pf.accepts(&start("pg_dump")));
        assert!(!pf.accepts(&start("bash")));
        let err = Prefilter::compile(&[sub(
            wit::EventClass::File,
            vec![test("file.size", wit::MatchOp::AtLeast, &["1"], false)],
        )])
        .err()
        .expect("unknown field");
        assert!(err[0].contains("file.size"));
    }
}
