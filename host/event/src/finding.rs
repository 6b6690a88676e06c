//! A finding as the host holds it: what the analytic returned, plus what
//! the host knows about the analytic that returned it (id, version, the hash
//! of the tunables in force) and whether it creates or updates a finding.

use std::net::IpAddr;
use std::sync::Arc;

use crate::{EventClass, Timestamp};

/// OCSF severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// OCSF `severity_id`.
    pub fn id(self) -> u8 {
        match self {
            Severity::Informational => 1,
            Severity::Low => 2,
            Severity::Medium => 3,
            Severity::High => 4,
            Severity::Critical => 5,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Informational => "Informational",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }
}

/// A MITRE ATT&CK reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Attack {
    pub tactic_id: String,
    pub tactic_name: String,
    pub technique_id: String,
    pub technique_name: String,
    pub sub_technique_id: Option<String>,
    pub sub_technique_name: Option<String>,
}

/// Something a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entity {
    pub kind: String,
    pub value: String,
}

/// A remote endpoint in evidence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct EvidenceEndpoint {
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
    pub hostname: Option<String>,
}

/// One contributing event and its artifacts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Evidence {
    pub leg: String,
    pub class: EventClass,
    pub source: String,
    pub id: String,
    pub time: Timestamp,
    pub device: Option<String>,
    pub user: Option<String>,
    pub process_name: Option<String>,
    pub process_path: Option<String>,
    pub pid: Option<u32>,
    pub command_line: Option<String>,
    pub parent_name: Option<String>,
    pub file: Option<String>,
    pub dst: Option<EvidenceEndpoint>,
    pub url: Option<String>,
    pub query: Option<String>,
    pub resource: Option<String>,
    pub bytes: Option<u64>,
}

/// A finding as the analytic returned it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Finding {
    pub uid: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub reasons: Vec<String>,
    pub entities: Vec<Entity>,
    pub start_time: Timestamp,
    pub end_time: Timestamp,
    pub attacks: Vec<Attack>,
    pub legs: Vec<String>,
    pub evidence: Vec<Evidence>,
    pub event_count: u32,
}

/// The analytic a finding came from, as loaded at the time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnalyticInfo {
    pub id: String,
    pub name: String,
    pub version: String,
    /// Detection strategy (DET0242).
    pub strategy: Option<String>,
    /// Hex SHA-256 of the canonical tunable set in force.
    pub tunables_hash: String,
}

/// Whether a finding is new or updates one already emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingActivity {
    Create,
    Update,
}

impl FindingActivity {
    /// OCSF `activity_id`.
    pub fn id(self) -> u8 {
        match self {
            FindingActivity::Create => 1,
            FindingActivity::Update => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FindingActivity::Create => "Create",
            FindingActivity::Update => "Update",
        }
    }
}

/// A finding ready for a sink.
#[derive(Clone, Debug)]
pub struct EmittedFinding {
    pub activity: FindingActivity,
    pub analytic: Arc<AnalyticInfo>,
    pub finding: Finding,
}
