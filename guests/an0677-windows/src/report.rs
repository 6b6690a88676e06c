//! From a window to the finding an analyst reads: title, description,
//! severity with one reason line per factor, entities, ATT&CK, evidence.
//!
//! Everything here is derived from the window alone (earliest evidence,
//! counts, sums, flags), so the text is the same whatever order the events
//! came in.

use dumpwatch_sdk::address::endpoint_text;
use dumpwatch_sdk::attack;
use dumpwatch_sdk::evidence::{Detail, StoredEvidence};
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::severity::{self, raise};
use dumpwatch_sdk::types::{Endpoint, Entity, Evidence, Finding, Severity};
use dumpwatch_sdk::uid::event_key;

use crate::attacks;
use crate::config::Config;
use crate::observe::{LEG_NAMES, LEGS, Leg};
use crate::window::egress::{EgressBasis, EgressItem};
use crate::window::{Window, state};

/// The finding of a window with at least the exec and export legs.
pub fn finding(host: &Sym, user: &Sym, window: &Window, config: &Config) -> Finding {
    let ledger = &window.ledger;
    let exec = ledger.first_of(Leg::Exec.index());
    let tool = exec.and_then(process_name).unwrap_or("a database tool");
    let export = ledger.first_of(Leg::Export.index()).and_then(file_path);
    let archive = window.archive.first_of(Leg::Archive.index());
    let egress = window.egress.met(config);
    let first_item = window.egress.items.first();
    let destination = egress.and(first_item).map(destination_text);
    let cloud = egress.and_then(|_| window.egress.cloud(config));
    let factors = window.factors.as_deref();
    let count = |leg: Leg| window.counts[usize::from(leg.index())];

    let mut severity = Severity::Medium;
    let mut reasons = Vec::new();
    let mut why = Vec::new();
    if window.flags & state::OUTSIDE_KNOWN_PATH != 0 {
        let path = factors
            .and_then(|f| f.outside_path.as_ref())
            .map(|(_, _, p)| &**p);
        why.push(format!(
            "from outside KnownDBToolPaths{}",
            path.filter(|p| !p.is_empty())
                .map(|p| format!(" ({p})"))
                .unwrap_or_default()
        ));
    }
    if window.flags & state::ODD_PARENT != 0 {
        let parent = factors
            .and_then(|f| f.odd_parent.as_ref())
            .map(|(_, _, p)| p);
        why.push(format!(
            "under {} (OddParentProcesses)",
            parent.map_or("an odd parent", |p| p.as_str())
        ));
    }
    reasons.push(format!(
        "{user} started {tool} on {host}{}",
        if why.is_empty() {
            String::new()
        } else {
            format!(" {}", why.join(" and "))
        }
    ));
    if window.flags & state::WEB_PARENT != 0 {
        severity = raise(severity, 1);
        let parent = factors
            .and_then(|f| f.web_parent.as_ref())
            .map(|(_, _, p)| p);
        reasons.push(format!(
            "{tool} was started by the web server or application runtime {} (WebServerProcesses): +1 severity",
            parent.map_or("process", |p| p.as_str())
        ));
    }
    reasons.push(format!(
        "{} in a user or temp location within TimeWindow ({}) of the tool start{}",
        plural(
            count(Leg::Export),
            "export file was written",
            "export files were written"
        ),
        duration_text(window.end - window.anchor),
        export
            .map(|path| format!(", first {path}"))
            .unwrap_or_default(),
    ));
    if window.has_leg(Leg::Archive) {
        reasons.push(format!(
            "{} after the export{}",
            plural(
                count(Leg::Archive),
                "archive step followed",
                "archive steps followed"
            ),
            archive
                .and_then(archive_text)
                .map(|text| format!(", first {text}"))
                .unwrap_or_default(),
        ));
        if window.flags & state::ENCRYPTED != 0 {
            severity = raise(severity, 1);
            let switch = factors.and_then(|f| f.password.as_ref()).map(|(_, _, s)| s);
            reasons.push(format!(
                "an archiver ran with a password switch ({}): the archive is encrypted: +1 severity",
                switch.map_or("ArchivePasswordSwitches", |s| s.as_str())
            ));
        }
    }
    if let Some(basis) = egress {
        severity = raise(severity, 1);
        let to = destination
            .as_ref()
            .map(|to| format!(", first to {to}"))
            .unwrap_or_default();
        reasons.push(match basis {
            EgressBasis::Volume(bytes) => format!(
                "{} sent from {host} to external addresses after the export (MaxTransferVolume {}, seen by a network sensor){to}: +1 severity",
                bytes_text(bytes),
                bytes_text(config.max_transfer),
            ),
            EgressBasis::Connections(n) => format!(
                "{} to external addresses by the tool's process tree or {user} after the export (EgressConnectionThreshold {}){to}: +1 severity",
                plural_u32(n, "connection", "connections"),
                config.connection_threshold,
            ),
        });
        if let Some((_, name)) = cloud {
            reasons.push(format!(
                "{name} is cloud storage (CloudStorageDomains): exfiltration to cloud storage"
            ));
        }
    }
    reasons.push(format!("severity {}", severity::name(severity)));

    let mut entities = vec![
        entity("host", host),
        entity("user", user),
        entity("process", tool),
    ];
    if let Some(path) = export {
        entities.push(entity("file", path));
    }
    if let Some(to) = egress.and(first_item) {
        let name = cloud
            .map(|(_, name)| name.to_string())
            .or_else(|| to.best_name().map(Sym::to_string))
            .unwrap_or_else(|| to.dst.to_string());
        entities.push(entity("destination", &name));
    }

    let mut attacks = vec![attack::T1213_006.to_wit()];
    if window.has_leg(Leg::Archive) {
        attacks.push(attacks::T1560_001.to_wit());
    }
    if egress.is_some() {
        attacks.push(if cloud.is_some() {
            attack::T1567_002.to_wit()
        } else {
            attack::T1048.to_wit()
        });
    }
    let legs = LEGS
        .into_iter()
        .filter(|leg| match leg {
            Leg::Egress => egress.is_some(),
            _ => window.has_leg(*leg),
        })
        .map(|leg| leg.name().to_string())
        .collect();

    let title = match (egress.is_some(), cloud.is_some()) {
        (true, true) => format!("Database export by {user} on {host} sent to cloud storage"),
        (true, false) => {
            format!("Database export by {user} on {host} followed by outbound transfer")
        }
        _ => format!("Database export by {user} on {host} with {tool}"),
    };
    let mut description = format!(
        "{user} ran the database tool {tool} on {host} ({}), {}. Within {}, {}{}.",
        plural(
            count(Leg::Exec),
            "start in this window",
            "starts in this window"
        ),
        if why.is_empty() {
            "unexpectedly".to_string()
        } else {
            why.join(" and ")
        },
        duration_text(config.window_ms.min(window.end - window.anchor)),
        plural(
            count(Leg::Export),
            "export-like file was written",
            "export-like files were written"
        ),
        export
            .map(|path| format!(" (first: {path})"))
            .unwrap_or_default(),
    );
    if window.has_leg(Leg::Archive) {
        description.push_str(if window.flags & state::ENCRYPTED != 0 {
            " It was then archived with a password."
        } else {
            " It was then archived."
        });
    }
    match egress {
        Some(_) => description.push_str(&format!(
            " After the export, data left the host{}{}.",
            destination
                .map(|to| format!(" (first to {to})"))
                .unwrap_or_default(),
            if cloud.is_some() {
                ", to cloud storage"
            } else {
                ""
            },
        )),
        None => description.push_str(" No outbound transfer was seen after it (yet)."),
    }
    description.push_str(" Check whether this account should hold a copy of the data.");

    let start_time = if egress.is_some() {
        window.start_time.min(window.egress.first)
    } else {
        window.start_time
    };
    let end_time = if egress.is_some() {
        window.end_time.max(window.egress.last)
    } else {
        window.end_time
    };
    Finding {
        uid: window.uid_hex(),
        title,
        description,
        severity,
        reasons,
        entities,
        start_time,
        end_time,
        attacks,
        legs,
        evidence: evidence(window, egress.is_some()),
        event_count: window.event_count(egress.is_some()),
    }
}

/// Evidence of every leg in (time, id) order. An archive file that is also
/// an export shows once, as the archive; egress evidence shows only once
/// the leg is met, its destinations named by the host's answers.
fn evidence(window: &Window, egress_met: bool) -> Vec<Evidence> {
    let archived: Vec<(&str, &str)> = window
        .archive
        .items()
        .iter()
        .map(|item| (&*item.source, &*item.id))
        .collect();
    let mut out: Vec<Evidence> = window
        .ledger
        .items()
        .iter()
        .filter(|item| !archived.contains(&(&*item.source, &*item.id)))
        .chain(window.archive.items())
        .map(|item| item.to_wit(&LEG_NAMES))
        .collect();
    if egress_met {
        for item in window.egress.ledger.items() {
            let mut evidence = item.to_wit(&LEG_NAMES);
            if let (Some(dst), Some(kept)) = (
                evidence.dst.as_mut(),
                window.egress.item(event_key(&item.source, &item.id)),
            ) && let Some(name) = kept.best_name()
            {
                dst.hostname = Some(name.to_string());
            }
            out.push(evidence);
        }
    }
    out.sort_by(|a, b| (a.time, &a.id, &a.source).cmp(&(b.time, &b.id, &b.source)));
    out
}

fn entity(kind: &str, value: &str) -> Entity {
    Entity {
        kind: kind.to_string(),
        value: value.to_string(),
    }
}

fn process_name(evidence: &StoredEvidence) -> Option<&str> {
    match &evidence.detail {
        Detail::Process { name, .. } => name.as_deref(),
        _ => None,
    }
}

fn file_path(evidence: &StoredEvidence) -> Option<&str> {
    match &evidence.detail {
        Detail::File { path, .. } => Some(path),
        _ => None,
    }
}

/// The archive file, or the archiver that ran.
fn archive_text(evidence: &StoredEvidence) -> Option<String> {
    match &evidence.detail {
        Detail::File { path, .. } => Some(path.to_string()),
        Detail::Process { name, .. } => name.as_ref().map(|name| format!("{name} with a password")),
        _ => None,
    }
}

/// "203.0.113.7:443 (content.dropboxapi.com)".
fn destination_text(item: &EgressItem) -> String {
    endpoint_text(&Endpoint {
        ip: Some(dumpwatch_sdk::address::from_ip(item.dst)),
        port: item.port,
        hostname: item.best_name().map(Sym::to_string),
    })
}

fn plural(count: u16, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

fn plural_u32(count: u32, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// "48.3 MB (48311522 bytes)", "950 bytes"; MB = 10^6 bytes, one decimal
/// (truncated; integer arithmetic keeps float formatting out of the
/// component).
fn bytes_text(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{bytes} bytes")
    } else {
        format!(
            "{}.{} MB ({bytes} bytes)",
            bytes / 1_000_000,
            bytes % 1_000_000 / 100_000
        )
    }
}

/// "10 min", "90 s", "1 h 30 min", "250 ms".
fn duration_text(ms: i64) -> String {
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let seconds = ms / 1000;
    match (seconds / 3600, seconds % 3600 / 60, seconds % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, 0) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}
