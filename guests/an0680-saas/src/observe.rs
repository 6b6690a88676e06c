//! From an event to an observation: a Snowflake query reduced to its
//! user, role, template and the sensitive tables it reads, or an M365
//! download reduced to its user and site; nothing for failed queries,
//! other operations and allowed applications. Observations wait in the
//! reorder buffer until the watermark passes them, so they are compact:
//! a query that reads no sensitive table keeps no evidence unless every
//! new template is reported.

use dumpwatch_sdk::evidence::{Detail, StoredEvidence};
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::types::{Activity, DatastoreQuery, Event, FileAccess};
use dumpwatch_sdk::uid::event_key;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::{sql, template};

/// Legs, in the order findings list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Leg {
    BulkRead = 0,
    RepeatedRead = 1,
    NewTemplate = 2,
    BulkDownload = 3,
}

pub const LEG_NAMES: [&str; 4] = [
    "bulk_read",
    "repeated_read",
    "new_template",
    "bulk_download",
];

impl Leg {
    pub fn index(self) -> u8 {
        self as u8
    }

    pub fn name(self) -> &'static str {
        LEG_NAMES[usize::from(self.index())]
    }
}

/// Longest query text kept as evidence (QUERY_TEXT may hold 100,000
/// characters).
pub const MAX_EVIDENCE_TEXT: usize = 2000;

/// A successful Snowflake query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueryFact {
    pub user: Sym,
    pub role: Option<Sym>,
    /// [`template::Template`] key, and the shape key when there is text.
    pub template: u64,
    pub shape: Option<u64>,
    /// The template as an analyst recognises it; only for queries that
    /// may be reported.
    pub label: Option<Box<str>>,
    /// Sensitive tables read, `DATABASE.SCHEMA.TABLE`.
    pub tables: Vec<Box<str>>,
    /// `SELECT *` or unfiltered.
    pub whole: bool,
    /// Above SensitiveRowsThreshold or SensitiveBytesThreshold.
    pub large: bool,
    pub rows: Option<u64>,
    pub bytes: Option<u64>,
}

/// The part of an event that matters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Fact {
    Query(Box<QueryFact>),
    /// A download by `user` from `site`.
    Download {
        user: Sym,
        site: Option<Sym>,
        /// SharePoint or OneDrive (T1213.002 applies).
        sharepoint: bool,
    },
}

/// A relevant event, reduced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// [`event_key`] of source and id: tells duplicates apart.
    pub key: u64,
    pub time: i64,
    pub fact: Fact,
    /// What an analyst sees, for events that may become evidence.
    pub evidence: Option<StoredEvidence>,
    /// Source and id, for ordering (also in the evidence when kept).
    pub source: Sym,
    pub id: Box<str>,
}

/// The observation an event makes, if any.
pub fn observe(event: &Event, config: &Config) -> Option<Observation> {
    let (fact, evidence) = match &event.activity {
        Activity::Query(query) => query_fact(event, query, config)?,
        Activity::FileAccess(access) => download_fact(event, access, config)?,
        _ => return None,
    };
    Some(Observation {
        key: event_key(&event.source, &event.id),
        time: event.time,
        fact,
        evidence,
        source: Sym::new(&event.source),
        id: Box::from(event.id.as_str()),
    })
}

fn query_fact(
    event: &Event,
    query: &DatastoreQuery,
    config: &Config,
) -> Option<(Fact, Option<StoredEvidence>)> {
    if query.system != "snowflake" {
        return None;
    }
    // Failed or cancelled queries read nothing and teach nothing.
    if query
        .status
        .as_deref()
        .is_some_and(|s| !s.eq_ignore_ascii_case("SUCCESS"))
    {
        return None;
    }
    let user = Sym::new(text(&event.actor.user)?);
    let role = event
        .actor
        .groups
        .first()
        .filter(|r| !r.is_empty())
        .map(|r| Sym::new(r));
    let template = template::of_query(query)?;
    let reads = query
        .text
        .as_deref()
        .map(|text| sql::reads(text, query.database.as_deref(), query.schema.as_deref()))
        .unwrap_or_default();
    let tables: Vec<Box<str>> = reads
        .tables
        .iter()
        .filter(|t| config.sensitive.matches(t))
        .map(|t| Box::from(t.as_str()))
        .collect();
    let large = query.rows.is_some_and(|r| r > config.rows)
        || query.bytes_scanned.is_some_and(|b| b > config.bytes);
    let reportable = !tables.is_empty() || !config.new_on_sensitive_only;
    let evidence = reportable.then(|| {
        let mut evidence = StoredEvidence::from_event(0, event);
        if let Detail::Data {
            query: text,
            resource,
            bytes,
            ..
        } = &mut evidence.detail
        {
            if let Some(text) = text
                && text.len() > MAX_EVIDENCE_TEXT
            {
                let cut = (0..=MAX_EVIDENCE_TEXT)
                    .rev()
                    .find(|&at| text.is_char_boundary(at))
                    .unwrap_or(0);
                *text = format!("{}…", &text[..cut]).into_boxed_str();
            }
            if let Some(table) = tables.first() {
                *resource = Some(table.clone());
            }
            *bytes = query.bytes_scanned;
        }
        evidence
    });
    let fact = QueryFact {
        user,
        role,
        template: template.key,
        shape: template.shape,
        label: reportable.then(|| template.label.into_boxed_str()),
        tables,
        whole: reads.whole(),
        large,
        rows: query.rows,
        bytes: query.bytes_scanned,
    };
    Some((Fact::Query(Box::new(fact)), evidence))
}

fn download_fact(
    event: &Event,
    access: &FileAccess,
    config: &Config,
) -> Option<(Fact, Option<StoredEvidence>)> {
    if !config
        .download_operations
        .iter()
        .any(|op| op == &access.operation)
    {
        return None;
    }
    let allowed = |value: &Option<String>| {
        value
            .as_deref()
            .is_some_and(|v| config.allowed_apps.matches(v))
    };
    if allowed(&access.user_agent) || allowed(&access.application) {
        return None;
    }
    // UPNs compare without regard to case.
    let user = Sym::new(&text(&event.actor.user)?.to_lowercase());
    let sharepoint = access.workload.as_deref().is_some_and(|w| {
        w.eq_ignore_ascii_case("SharePoint") || w.eq_ignore_ascii_case("OneDrive")
    });
    let fact = Fact::Download {
        user,
        site: text(&access.site).map(Sym::new),
        sharepoint,
    };
    Some((
        fact,
        Some(StoredEvidence::from_event(Leg::BulkDownload.index(), event)),
    ))
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}
