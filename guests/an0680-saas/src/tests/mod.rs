//! Scenario tests driving the real [`An0680`] through the [`Analytic`]
//! trait with built events (Snowflake QUERY_HISTORY rows and Microsoft 365
//! audit records as the normalizer produces them).

mod config;
mod m365;
mod ordering;
mod snowflake;
mod state;

use std::collections::BTreeMap;

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::EventBuilder;
use dumpwatch_sdk::types::*;

use crate::An0680;

/// 2024-01-01 09:00 UTC, a Monday morning: working hours by default.
pub const T0: i64 = 1_704_099_600_000;
pub const SEC: i64 = 1000;
pub const MIN: i64 = 60 * SEC;
pub const HOUR: i64 = 60 * MIN;
pub const DAY: i64 = 24 * HOUR;

/// A Snowflake query by `user` with `role`.
pub struct Query {
    pub text: String,
    pub database: Option<&'static str>,
    pub schema: Option<&'static str>,
    pub hash: Option<String>,
    pub rows: u64,
    pub bytes: u64,
    pub status: &'static str,
}

impl Query {
    pub fn new(text: &str) -> Query {
        Query {
            text: text.to_string(),
            database: Some("PROD_DB"),
            schema: Some("CRM"),
            hash: None,
            rows: 10,
            bytes: 1_000,
            status: "SUCCESS",
        }
    }

    pub fn rows(mut self, rows: u64) -> Query {
        self.rows = rows;
        self
    }

    pub fn bytes(mut self, bytes: u64) -> Query {
        self.bytes = bytes;
        self
    }

    pub fn hash(mut self, hash: &str) -> Query {
        self.hash = Some(hash.to_string());
        self
    }

    pub fn failed(mut self) -> Query {
        self.status = "FAIL";
        self
    }

    pub fn at(self, id: &str, time: i64, user: &str, role: &str) -> Event {
        let mut event = EventBuilder::new(
            "snowflake",
            id,
            time,
            Activity::Query(DatastoreQuery {
                system: "snowflake".into(),
                text: Some(self.text),
                query_type: Some("SELECT".into()),
                database: self.database.map(str::to_string),
                schema: self.schema.map(str::to_string),
                warehouse: Some("ANALYST_WH".into()),
                template_hash: self.hash,
                template_hash_version: Some("1".into()),
                rows: Some(self.rows),
                bytes_scanned: Some(self.bytes),
                status: Some(self.status.into()),
                end_time: Some(time + 5 * SEC),
            }),
        )
        .build();
        event.actor.user = Some(user.into());
        event.actor.groups = vec![role.into()];
        event
    }
}

/// A Microsoft 365 file download.
pub fn download(id: &str, time: i64, user: &str, operation: &str, file: &str) -> Event {
    let site = "https://contoso.sharepoint.com/sites/Finance/";
    let mut event = EventBuilder::new(
        "m365",
        id,
        time,
        Activity::FileAccess(FileAccess {
            operation: operation.into(),
            path: Some(format!("{site}Shared Documents/{file}")),
            name: Some(file.into()),
            site: Some(site.into()),
            workload: Some("SharePoint".into()),
            client_ip: Some("203.0.113.77".into()),
            user_agent: Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/124.0".into()),
            application: None,
        }),
    )
    .build();
    event.actor.user = Some(user.into());
    event.actor.identity_type = Some("Regular".into());
    event.device.domain = Some("7c1f5d2e-3a4b-4c6d-8e9f-0a1b2c3d4e5f".into());
    event
}

/// `count` downloads by `user`, `gap` apart from `start`, ids `prefix0…`.
pub fn downloads(prefix: &str, start: i64, gap: i64, count: i64, user: &str) -> Vec<Event> {
    (0..count)
        .map(|n| {
            download(
                &format!("{prefix}{n}"),
                start + n * gap,
                user,
                "FileDownloaded",
                &format!("Customer_Export_{n:02}.xlsx"),
            )
        })
        .collect()
}

/// A configured analytic (defaults plus `tunables`).
pub fn analytic(tunables: Vec<Tunable>) -> An0680 {
    let mut analytic = An0680::default();
    analytic.configure(tunables).unwrap();
    analytic
}

/// Everything emitted by feeding `events` in one batch and then the end of
/// input: one advance to the largest timestamp.
pub fn run(analytic: &mut An0680, events: Vec<Event>) -> Vec<Finding> {
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

/// Findings of a run (latest versions) by start time.
pub fn findings(tunables: Vec<Tunable>, events: Vec<Event>) -> Vec<Finding> {
    let mut a = analytic(tunables);
    let mut all: Vec<Finding> = latest(&run(&mut a, events)).into_values().collect();
    all.sort_by(|a, b| (a.start_time, &a.uid).cmp(&(b.start_time, &b.uid)));
    all
}

pub fn evidence_ids(finding: &Finding) -> Vec<&str> {
    finding.evidence.iter().map(|e| e.id.as_str()).collect()
}

pub fn entities<'f>(finding: &'f Finding, kind: &str) -> Vec<&'f str> {
    finding
        .entities
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.value.as_str())
        .collect()
}

pub fn techniques(finding: &Finding) -> Vec<String> {
    finding
        .attacks
        .iter()
        .map(|a| {
            a.sub_technique_id
                .clone()
                .unwrap_or_else(|| a.technique_id.clone())
        })
        .collect()
}

/// A learning period of one hour (instead of a week).
pub fn short_learning() -> Tunable {
    dumpwatch_sdk::testing::tunable("LearningPeriod", TunableValue::Integer(HOUR))
}
