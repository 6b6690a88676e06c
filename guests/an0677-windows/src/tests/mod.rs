//! Scenario tests driving the real [`An0677`] through the [`Analytic`]
//! trait with built events shaped like the normalizer's output for
//! Security 4688, Sysmon 1/3/11/22 and Zeek conn.

mod config;
mod oracle;
mod ordering;
mod scenarios;
mod state;
mod tree;

use std::collections::BTreeMap;

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{EventBuilder, ip};
use dumpwatch_sdk::types::*;

use crate::An0677;

/// 2024-01-01 09:00 UTC, a Monday.
pub const T0: i64 = 1_704_099_600_000;
pub const SEC: i64 = 1000;
pub const MIN: i64 = 60 * SEC;

pub const SQLCMD: &str =
    r"C:\Program Files\Microsoft SQL Server\Client SDK\ODBC\170\Tools\Binn\SQLCMD.EXE";
pub const BCP: &str =
    r"C:\Program Files\Microsoft SQL Server\Client SDK\ODBC\170\Tools\Binn\bcp.exe";
pub const CMD: &str = r"C:\Windows\System32\cmd.exe";
pub const POWERSHELL: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
pub const SQLAGENT: &str =
    r"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\SQLAGENT.EXE";

/// A process as Sysmon names it.
#[derive(Clone, Copy, Debug)]
pub struct P {
    pub guid: &'static str,
    pub pid: u32,
}

fn base(builder: EventBuilder, host: &str, user: &str) -> EventBuilder {
    builder.host(host).user_name(user).domain("CORP")
}

/// Sysmon 1: `path` started by `parent` (its image `parent_path`).
#[allow(clippy::too_many_arguments)]
pub fn start(
    id: &str,
    time: i64,
    host: &str,
    user: &str,
    process: P,
    path: &str,
    parent: P,
    parent_path: &str,
    command_line: &str,
) -> Event {
    let name = dumpwatch_sdk::glob::file_name(path);
    base(EventBuilder::exec("sysmon", id, time, name), host, user)
        .process_path(path)
        .guid(process.guid)
        .pid(process.pid)
        .parent_guid(parent.guid)
        .parent_pid(parent.pid)
        .parent_path(parent_path)
        .command_line(command_line)
        .build()
}

/// Sysmon 1 of sqlcmd (installed path) from cmd.exe: an exec (odd parent).
pub fn sqlcmd(id: &str, time: i64, host: &str, user: &str, process: P) -> Event {
    start(
        id,
        time,
        host,
        user,
        process,
        SQLCMD,
        P {
            guid: "{shell}",
            pid: process.pid - 1,
        },
        CMD,
        r#"sqlcmd -S sql01 -E -Q "SELECT * FROM crm.dbo.customers" -o C:\Users\Public\c.csv"#,
    )
}

/// Security 4688: no GUID; pids only.
#[allow(clippy::too_many_arguments)]
pub fn start_4688(
    id: &str,
    time: i64,
    host: &str,
    user: &str,
    pid: u32,
    path: &str,
    parent_pid: u32,
    parent_path: &str,
) -> Event {
    let name = dumpwatch_sdk::glob::file_name(path);
    base(
        EventBuilder::exec("windows-security", id, time, name),
        host,
        user,
    )
    .process_path(path)
    .pid(pid)
    .parent_pid(parent_pid)
    .parent_path(parent_path)
    .build()
}

/// Sysmon 11: `process` created `path`.
pub fn file(id: &str, time: i64, host: &str, user: &str, process: P, path: &str) -> Event {
    base(
        EventBuilder::file("sysmon", id, time, FileOperation::Create, path),
        host,
        user,
    )
    .guid(process.guid)
    .pid(process.pid)
    .process_name("whatever.exe")
    .build()
}

/// Sysmon 3: `process` connected to `to:port` from local port `src_port`.
#[allow(clippy::too_many_arguments)]
pub fn conn(
    id: &str,
    time: i64,
    host: &str,
    user: &str,
    process: P,
    to: &str,
    port: u16,
    src_port: u16,
) -> Event {
    base(
        EventBuilder::network("sysmon", id, time, ip(to), port),
        host,
        user,
    )
    .src(ip("10.1.1.20"), src_port)
    .guid(process.guid)
    .pid(process.pid)
    .process_name("curl.exe")
    .build()
}

/// A Zeek conn record from the host (named by the inventory).
pub fn flow(
    id: &str,
    time: i64,
    host: &str,
    to: &str,
    port: u16,
    src_port: u16,
    bytes: u64,
) -> Event {
    EventBuilder::network("zeek", id, time, ip(to), port)
        .host(host)
        .src(ip("10.1.1.20"), src_port)
        .bytes_out(bytes)
        .build()
}

/// Sysmon 22: `process` resolved `name` to `answers`.
pub fn dns(
    id: &str,
    time: i64,
    host: &str,
    user: &str,
    process: P,
    name: &str,
    answers: &[&str],
) -> Event {
    let answers: Vec<IpAddress> = answers.iter().map(|a| ip(a)).collect();
    base(
        EventBuilder::name("sysmon", id, time, NameKind::DnsQuery, name),
        host,
        user,
    )
    .guid(process.guid)
    .pid(process.pid)
    .answers(&answers)
    .build()
}

/// A configured analytic (defaults plus `tunables`).
pub fn analytic(tunables: Vec<Tunable>) -> An0677 {
    let mut analytic = An0677::default();
    analytic.configure(tunables).unwrap();
    analytic
}

/// Everything emitted by feeding `events` in one batch and then the end of
/// input, as the host signals it: one advance to the largest timestamp.
pub fn run(analytic: &mut An0677, events: Vec<Event>) -> Vec<Finding> {
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

/// The only finding of a run with the default tunables.
pub fn only(events: Vec<Event>) -> Finding {
    let mut a = analytic(vec![]);
    let findings = latest(&run(&mut a, events));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    findings.into_values().next().unwrap()
}

/// Findings of a run with the default tunables.
pub fn findings(events: Vec<Event>) -> BTreeMap<String, Finding> {
    let mut a = analytic(vec![]);
    latest(&run(&mut a, events))
}

pub fn evidence_ids(finding: &Finding) -> Vec<&str> {
    finding.evidence.iter().map(|e| e.id.as_str()).collect()
}

pub fn evidence_of<'f>(finding: &'f Finding, leg: &str) -> Vec<&'f str> {
    finding
        .evidence
        .iter()
        .filter(|e| e.leg == leg)
        .map(|e| e.id.as_str())
        .collect()
}

pub fn entity<'f>(finding: &'f Finding, kind: &str) -> Option<&'f str> {
    finding
        .entities
        .iter()
        .find(|e| e.kind == kind)
        .map(|e| e.value.as_str())
}

pub fn techniques(finding: &Finding) -> Vec<&str> {
    finding
        .attacks
        .iter()
        .map(|a| a.sub_technique_id.as_deref().unwrap_or(&a.technique_id))
        .collect()
}

pub const ALICE_SQLCMD: P = P {
    guid: "{a-sqlcmd}",
    pid: 4100,
};
pub const ALICE_CURL: P = P {
    guid: "{a-curl}",
    pid: 4200,
};
pub const ALICE_7Z: P = P {
    guid: "{a-7z}",
    pid: 4300,
};
