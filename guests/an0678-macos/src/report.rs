//! From a window to the finding an analyst reads: title, description,
//! severity with one reason line per factor, entities, ATT&CK, evidence.
//!
//! Everything here is derived from the window alone (earliest evidence,
//! counts, flags), so the text is the same whatever order the events came
//! in.

use dumpwatch_sdk::attack;
use dumpwatch_sdk::evidence::{Detail, StoredEvidence};
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::severity::{self, raise};
use dumpwatch_sdk::types::{Entity, Finding, Severity};

use crate::config::Config;
use crate::observe::{LEG_NAMES, LEGS, Leg};
use crate::window::{Window, state};

/// The finding of a window with at least the exec and export legs.
pub fn finding(host: &Sym, user: &Sym, window: &Window, config: &Config) -> Finding {
    let ledger = &window.ledger;
    let exec = ledger.first_of(Leg::Exec.index());
    let tool = exec
        .and_then(tool_name)
        .unwrap_or_else(|| "a database tool".to_string());
    let export = ledger.first_of(Leg::Export.index()).and_then(file_path);
    let egress = ledger.first_of(Leg::Egress.index());
    let factors = window.factors.as_deref();
    let domain = factors.and_then(|f| f.domain.as_ref()).map(|(_, _, d)| d);
    let count = |leg: Leg| window.counts[usize::from(leg.index())];

    let mut severity = Severity::Medium;
    let mut reasons = vec![format!(
        "{user} ran {tool} on {host} and is not in UserPrivilegeLevel (admins, developers)"
    )];
    if window.flags & state::LOW_PRIVILEGE != 0 {
        let groups = factors.and_then(|f| f.groups.as_ref()).map(|(_, _, g)| g);
        let raise_by = config.low_privilege_raise;
        severity = raise(severity, raise_by);
        reasons.push(format!(
            "{user} is a known low-privilege user{}: {}",
            groups
                .map(|g| format!(" (groups: {g})"))
                .unwrap_or_default(),
            match raise_by {
                0 => "no severity change (LowPrivilegeRaise 0)".to_string(),
                n => format!("+{n} severity (LowPrivilegeRaise)"),
            }
        ));
    } else if window.flags & state::UNKNOWN_ROLE != 0 {
        reasons.push(format!(
            "the role of {user} is unknown (no user name or groups in the inventory): no severity change"
        ));
    }
    reasons.push(format!(
        "{} to Downloads, Documents or Desktop by {tool} within TimeWindow ({}) of its start{}",
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
    if window.has_leg(Leg::Egress) {
        severity = raise(severity, 1);
        reasons.push(format!(
            "{host} talked to the cloud sync service {} after the export ({}): +1 severity",
            domain.map_or("(CloudSyncDomainList)", |d| d.as_str()),
            plural(count(Leg::Egress), "network record", "network records"),
        ));
    }
    reasons.push(format!("severity {}", severity::name(severity)));

    let mut entities = vec![
        entity("host", host),
        entity("user", user),
        entity("process", &tool),
    ];
    if let Some(path) = export {
        entities.push(entity("file", path));
    }
    if let Some(name) = egress.and_then(destination_name) {
        entities.push(entity("destination", &name));
    }

    let mut attacks = vec![attack::T1213_006.to_wit()];
    if window.has_leg(Leg::Egress) {
        attacks.push(attack::T1567_002.to_wit());
    }
    let legs = LEGS
        .into_iter()
        .filter(|leg| window.has_leg(*leg))
        .map(|leg| leg.name().to_string())
        .collect();

    let title = if window.has_leg(Leg::Egress) {
        format!("Database export by {user} on {host} followed by cloud sync traffic")
    } else {
        format!("Database export by {user} on {host} with {tool}")
    };
    let mut description = format!(
        "{user}, who is not in UserPrivilegeLevel, ran the database tool {tool} on {host} ({}). Within {}, it \
         wrote {}{}.",
        plural(
            count(Leg::Exec),
            "start in this window",
            "starts in this window"
        ),
        duration_text(config.window_ms.min(window.end - window.anchor)),
        plural(count(Leg::Export), "export-like file", "export-like files"),
        export
            .map(|path| format!(" (first: {path})"))
            .unwrap_or_default(),
    );
    if window.has_leg(Leg::Egress) {
        description.push_str(&format!(
            " After the export, the host talked to {}: the export may have been synced or uploaded to cloud \
             storage.",
            domain.map_or("a cloud sync service", |d| d.as_str())
        ));
    } else {
        description.push_str(" No cloud sync traffic was seen after it (yet).");
    }
    description.push_str(" Check whether this user should hold a copy of the data.");

    Finding {
        uid: window.uid_hex(),
        title,
        description,
        severity,
        reasons,
        entities,
        start_time: window.start_time,
        end_time: window.end_time,
        attacks,
        legs,
        evidence: ledger.to_wit(&LEG_NAMES),
        event_count: ledger.count(),
    }
}

fn entity(kind: &str, value: &str) -> Entity {
    Entity {
        kind: kind.to_string(),
        value: value.to_string(),
    }
}

/// The tool's name: the application bundle (`DBeaver.app`) when the
/// executable sits in one, else the executable name.
fn tool_name(evidence: &StoredEvidence) -> Option<String> {
    let Detail::Process { name, path, .. } = &evidence.detail else {
        return None;
    };
    let bundle = path.as_deref().and_then(|path| {
        path.split('/')
            .find(|part| part.len() > 4 && part.to_ascii_lowercase().ends_with(".app"))
    });
    bundle
        .map(str::to_string)
        .or_else(|| name.as_ref().map(Sym::to_string))
}

fn file_path(evidence: &StoredEvidence) -> Option<&str> {
    match &evidence.detail {
        Detail::File { path, .. } => Some(path),
        _ => None,
    }
}

/// The name the sensor saw: the TLS server name or DNS query, or the HTTP
/// request's host.
fn destination_name(evidence: &StoredEvidence) -> Option<String> {
    let Detail::Network { dst, url, .. } = &evidence.detail else {
        return None;
    };
    match url.as_deref() {
        // An HTTP request renders as "METHOD host/uri".
        Some(url) if url.contains(' ') => url
            .split_once(' ')
            .map(|(_, target)| target.split('/').next().unwrap_or(target).to_string()),
        Some(name) => Some(name.to_string()),
        None => dst.hostname.as_ref().map(Sym::to_string),
    }
}

fn plural(count: u16, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
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
