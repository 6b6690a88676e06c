//! Scenario tests driving the real [`An0676`] through the [`Analytic`]
//! trait with built events.

mod config;
mod factors;
mod oracle;
mod ordering;
mod scenarios;
mod state;

use std::collections::BTreeMap;

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{EventBuilder, ip};
use dumpwatch_sdk::types::*;

use crate::An0676;

/// 2024-01-01 09:00 UTC, a Monday.
pub const T0: i64 = 1_704_099_600_000;
pub const SEC: i64 = 1000;
pub const MIN: i64 = 60 * SEC;

pub fn exec(id: &str, time: i64, host: &str, user: &str, uid: u32, pid: u32, tool: &str) -> Event {
    EventBuilder::exec("auditd", id, time, tool)
        .host(host)
        .user(user, uid)
        .pid(pid)
        .parent("bash", pid - 1)
        .command_line(&format!("{tool} -d crm"))
        .build()
}

pub fn dump(id: &str, time: i64, host: &str, user: &str, uid: u32, pid: u32, path: &str) -> Event {
    EventBuilder::file("auditd", id, time, FileOperation::Create, path)
        .host(host)
        .user(user, uid)
        .pid(pid)
        .parent_pid(pid - 1)
        .process_name("bash")
        .build()
}

/// An auditd connect by `who` (user name, uid).
pub fn connect(
    id: &str,
    time: i64,
    host: &str,
    who: (&str, u32),
    pid: u32,
    to: &str,
    port: u16,
) -> Event {
    EventBuilder::network("auditd", id, time, ip(to), port)
        .host(host)
        .user(who.0, who.1)
        .pid(pid)
        .process_name("curl")
        .build()
}

pub fn nsm_post(id: &str, time: i64, host: &str, to: &str) -> Event {
    EventBuilder::http("zeek", id, time, "POST", ip(to), 443)
        .host(host)
        .target("files.example.com", "/upload")
        .request_bytes(20_000)
        .build()
}

pub fn nsm_flow(id: &str, time: i64, host: &str, to: &str, bytes: u64) -> Event {
    EventBuilder::network("zeek", id, time, ip(to), 22)
        .host(host)
        .bytes_out(bytes)
        .build()
}

/// A configured analytic (defaults plus `tunables`).
pub fn analytic(tunables: Vec<Tunable>) -> An0676 {
    let mut analytic = An0676::default();
    analytic.configure(tunables).unwrap();
    analytic
}

/// Everything emitted by feeding `events` in one batch and then the end of
/// input, as the host signals it: an advance to the largest timestamp
/// (which makes every start final and ends every retention in one call).
pub fn run(analytic: &mut An0676, events: Vec<Event>) -> Vec<Finding> {
    let mut out = analytic.process(events);
    out.extend(analytic.advance(i64::MAX));
    out
}

/// Everything emitted by feeding `events` in one batch and advancing the
/// watermark to the newest of them (input continues afterwards).
pub fn feed(analytic: &mut An0676, events: Vec<Event>) -> Vec<Finding> {
    let newest = events.iter().map(|e| e.time).max().unwrap_or(0);
    let mut out = analytic.process(events);
    out.extend(analytic.advance(newest));
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
