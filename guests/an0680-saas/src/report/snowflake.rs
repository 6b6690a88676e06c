//! The finding of a Snowflake read window: bulk reads, repeated reads and
//! new query templates on sensitive tables by one user.

use dumpwatch_sdk::attack;
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::schedule::weekday_time_utc;
use dumpwatch_sdk::severity::{self, raise};
use dumpwatch_sdk::types::{Finding, Severity};
use dumpwatch_sdk::uid::to_hex;

use super::{bytes_text, duration_text, entity, plural};
use crate::config::Config;
use crate::engine::windows::ReadWindow;
use crate::observe::{LEG_NAMES, Leg};

pub fn finding(user: &Sym, window: &ReadWindow, config: &Config) -> Finding {
    let repeated = window.has_repeated(config);
    let most_read = window.most_read();
    let roles: Vec<&str> = window.roles.iter().map(|r| &**r).collect();
    let mut legs = Vec::new();
    let mut reasons = Vec::new();
    if let Some(bulk) = &window.first_bulk {
        legs.push(Leg::BulkRead);
        let rows = bulk
            .rows
            .map(|r| format!("{r} rows"))
            .unwrap_or_else(|| "rows unknown".into());
        let scanned = bulk
            .bytes
            .map(|b| format!("{} scanned", bytes_text(b)))
            .unwrap_or_else(|| "bytes unknown".into());
        reasons.push(format!(
            "{} of sensitive tables above SensitiveRowsThreshold ({}) or SensitiveBytesThreshold ({}), first \
             {}: {rows}, {scanned}",
            plural(window.bulk, "`SELECT *` or unfiltered read", "`SELECT *` or unfiltered reads"),
            config.rows,
            bytes_text(config.bytes),
            bulk.table,
        ));
    }
    if repeated && let Some(table) = most_read {
        legs.push(Leg::RepeatedRead);
        reasons.push(format!(
            "{} read {} within TimeWindow ({}), more than RepeatedReadThreshold ({})",
            table.table,
            plural(table.reads, "time", "times"),
            duration_text(window.end - window.anchor),
            config.repeated
        ));
    }
    if window.new_templates > 0 {
        legs.push(Leg::NewTemplate);
        let first = window
            .new_labels
            .first()
            .map(|(_, _, label)| format!(", first {label}"))
            .unwrap_or_default();
        let by_role = if roles.is_empty() {
            String::new()
        } else {
            format!(" nor for role {}", roles.join(", "))
        };
        reasons.push(format!(
            "{} never seen for {user}{by_role} and not in BaselineQueryTemplates{first}",
            plural(window.new_templates, "query template", "query templates"),
        ));
    }
    let mut severity = if legs.iter().any(|l| *l != Leg::NewTemplate) {
        Severity::Medium
    } else {
        Severity::Low
    };
    if legs.len() >= 2 {
        severity = raise(severity, 1);
        let names: Vec<&str> = legs.iter().map(|l| l.name()).collect();
        reasons.push(format!("{} together: +1 severity", names.join(" and ")));
    }
    if let Some((time, _)) = &window.off_hours {
        severity = raise(severity, 1);
        reasons.push(format!(
            "a query at {} falls in OffHoursAccessWindow: +1 severity",
            weekday_time_utc(*time)
        ));
    }
    reasons.push(format!("severity {}", severity::name(severity)));

    let mut entities = vec![entity("user", user)];
    for role in &roles {
        entities.push(entity("role", role));
    }
    for table in &window.tables {
        entities.push(entity("table", &table.table));
    }
    let title = match (&window.first_bulk, repeated, most_read) {
        (Some(bulk), _, _) => format!(
            "Bulk read of sensitive Snowflake table {} by {user}",
            bulk.table
        ),
        (None, true, Some(table)) => {
            format!(
                "Repeated reads of sensitive Snowflake table {} by {user}",
                table.table
            )
        }
        _ => format!("Never-seen Snowflake query template by {user}"),
    };
    let tables: Vec<&str> = window.tables.iter().map(|t| &*t.table).collect();
    let mut description = format!(
        "{user} ran {} in Snowflake within {}",
        plural(window.queries, "query that matters", "queries that matter"),
        duration_text(window.end - window.anchor),
    );
    if !tables.is_empty() {
        description.push_str(&format!(
            ", reading the sensitive tables {}",
            tables.join(", ")
        ));
    }
    description.push_str(
        ". ACCOUNT_USAGE.QUERY_HISTORY shows what ran, not where the rows went: check the client, \
         any unload (COPY INTO a stage) and GET that followed.",
    );
    Finding {
        uid: to_hex(&window.uid),
        title,
        description,
        severity,
        reasons,
        entities,
        start_time: window.start_time,
        end_time: window.end_time,
        attacks: vec![attack::T1213_006.to_wit()],
        legs: legs.iter().map(|l| l.name().to_string()).collect(),
        evidence: window.ledger.to_wit(&LEG_NAMES),
        event_count: window.queries,
    }
}
