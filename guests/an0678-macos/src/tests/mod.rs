//! Scenario tests driving the real [`An0678`] through the [`Analytic`]
//! trait with built events shaped like the normalizer's output for
//! eslogger, the unified log, Zeek and Suricata (after the host's
//! inventory named users and hosts).

mod config;
mod oracle;
mod ordering;
mod scenarios;
mod state;

use std::collections::BTreeMap;

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{EventBuilder, ip};
use dumpwatch_sdk::types::*;

use crate::An0678;

/// 2024-01-01 09:00 UTC, a Monday.
pub const T0: i64 = 1_704_099_600_000;
pub const SEC: i64 = 1000;
pub const MIN: i64 = 60 * SEC;

pub const DBEAVER: &str = "/Applications/DBeaver.app/Contents/MacOS/dbeaver";
pub const DBEAVER_JAVA: &str =
    "/Applications/DBeaver.app/Contents/Eclipse/jre/Contents/Home/bin/java";
pub const PSQL: &str = "/opt/homebrew/bin/psql";
pub const ZSH: &str = "/bin/zsh";

/// Who: name (none: only the uid is known), uid, groups.
#[derive(Clone, Copy, Debug)]
pub struct Who {
    pub name: Option<&'static str>,
    pub uid: u32,
    pub groups: &'static [&'static str],
}

pub const ALICE: Who = Who {
    name: Some("alice"),
    uid: 502,
    groups: &["staff"],
};
pub const DEV: Who = Who {
    name: Some("dana"),
    uid: 503,
    groups: &["staff", "dev"],
};
pub const UID_ONLY: Who = Who {
    name: None,
    uid: 777,
    groups: &[],
};

/// An eslogger process: pid and pidversion.
#[derive(Clone, Copy, Debug)]
pub struct P {
    pub pid: u32,
    pub version: u32,
}

impl P {
    pub fn guid(self) -> String {
        format!("{}:{}", self.pid, self.version)
    }
}

fn who(builder: EventBuilder, host: &str, who: Who) -> EventBuilder {
    let builder = builder.host(host).uid(who.uid).groups(who.groups);
    match who.name {
        Some(name) => builder.user_name(name),
        None => builder,
    }
}

/// eslogger exec of `path` as process `process`, child of `parent`.
#[allow(clippy::too_many_arguments)]
pub fn exec(
    id: &str,
    time: i64,
    host: &str,
    user: Who,
    process: P,
    path: &str,
    parent: P,
    parent_path: &str,
) -> Event {
    let name = dumpwatch_sdk::glob::file_name(path);
    who(EventBuilder::exec("eslogger", id, time, name), host, user)
        .process_path(path)
        .pid(process.pid)
        .guid(&process.guid())
        .parent_pid(parent.pid)
        .parent_guid(&parent.guid())
        .parent_path(parent_path)
        .build()
}

/// eslogger file event by `process` (child of `parent`).
#[allow(clippy::too_many_arguments)]
pub fn file(
    id: &str,
    time: i64,
    host: &str,
    user: Who,
    process: P,
    parent: P,
    operation: FileOperation,
    path: &str,
) -> Event {
    who(
        EventBuilder::file("eslogger", id, time, operation, path),
        host,
        user,
    )
    .pid(process.pid)
    .guid(&process.guid())
    .parent_pid(parent.pid)
    .parent_guid(&parent.guid())
    .process_name("whatever")
    .build()
}

/// A unified-log process start: pid only, no guid.
pub fn launch(id: &str, time: i64, host: &str, user: Who, pid: u32, path: &str) -> Event {
    let name = dumpwatch_sdk::glob::file_name(path);
    let name = name.strip_suffix(".app").unwrap_or(name);
    who(
        EventBuilder::exec("unified-log", id, time, name),
        host,
        user,
    )
    .process_path(path)
    .pid(pid)
    .build()
}

/// A sensor's TLS server name from the host to `ip`.
pub fn tls(id: &str, time: i64, host: &str, name: &str, to: &str) -> Event {
    EventBuilder::name("zeek", id, time, NameKind::TlsServerName, name)
        .host(host)
        .name_src(ip("10.1.1.30"), 52000)
        .name_dst(ip(to), 443)
        .build()
}

/// A sensor's DNS query from the host.
pub fn dns(id: &str, time: i64, host: &str, name: &str) -> Event {
    EventBuilder::name("suricata", id, time, NameKind::DnsQuery, name)
        .host(host)
        .name_src(ip("10.1.1.30"), 53000)
        .name_dst(ip("10.1.1.1"), 53)
        .answers(&[ip("162.125.1.14")])
        .build()
}

/// A sensor's HTTP request from the host to `host_header`.
pub fn http(id: &str, time: i64, host: &str, host_header: &str) -> Event {
    EventBuilder::http("zeek", id, time, "PUT", ip("203.0.113.80"), 80)
        .host(host)
        .target(host_header, "/upload")
        .request_bytes(5_000_000)
        .build()
}

/// A configured analytic (defaults plus `tunables`).
pub fn analytic(tunables: Vec<Tunable>) -> An0678 {
    let mut analytic = An0678::default();
    analytic.configure(tunables).unwrap();
    analytic
}

/// Everything emitted by feeding `events` in one batch and then the end of
/// input, as the host signals it: one advance to the largest timestamp.
pub fn run(analytic: &mut An0678, events: Vec<Event>) -> Vec<Finding> {
    let mut out = analytic.process(events);
    out.extend(analytic.advance(i64::MAX));
    out
}

/// The last version of each finding, by uid.
pub fn latest(emitted: &[Finding]) -> BTreeMap<String, Finding> {
    let mut map = BTreeMap::new();
    for finding in emitted {
        map.insert(finding.uid.clone(), finding.clone());
    }
    map
}

/// Findings of a run with the default tunables.
pub fn findings(events: Vec<Event>) -> BTreeMap<String, Finding> {
    let mut a = analytic(vec![]);
    latest(&run(&mut a, events))
}

/// The only finding of a run with the default tunables.
pub fn only(events: Vec<Event>) -> Finding {
    let found = findings(events);
    assert_eq!(found.len(), 1, "{found:#?}");
    found.into_values().next().unwrap()
}

pub fn evidence_ids(finding: &Finding) -> Vec<&str> {
    finding.evidence.iter().map(|e| e.id.as_str()).collect()
}

pub fn entity<'f>(finding: &'f Finding, kind: &str) -> Option<&'f str> {
    finding
        .entities
        .iter()
        .find(|e| e.kind == kind)
        .map(|e| e.value.as_str())
}

pub const FINDER: P = P { pid: 1, version: 1 };
pub const DBEAVER_P: P = P {
    pid: 5200,
    version: 20001,
};
pub const TERMINAL_SHELL: P = P {
    pid: 5300,
    version: 20100,
};
pub const PSQL_P: P = P {
    pid: 5310,
    version: 20111,
};
