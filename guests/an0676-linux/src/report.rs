//! From a window to the finding an analyst reads: title, description,
//! severity with one reason line per factor, entities, ATT&CK, evidence.
//!
//! Everything here is derived from the window alone (earliest evidence,
//! counts, flags), so the text is the same whatever order the events came
//! in.

use dumpwatch_sdk::attack;
use dumpwatch_sdk::evidence::{Detail, StoredEvidence};
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::schedule::weekday_time_utc;
use dumpwatch_sdk::severity::{self, raise};
use dumpwatch_sdk::types::{Entity, Finding, Severity};

use crate::config::Config;
use crate::observe::{LEG_NAMES, Leg};
use crate::window::{Window, state};

/// The finding of a window with at least the exec and dump legs.
pub fn finding(host: &Sym, user: &Sym, window: &Window, config: &Config) -> Finding {
    let ledger = &window.ledger;
    let exec = ledger.first_of(Leg::Exec.index());
    let dump = ledger.first_of(Leg::Dump.index());
    let egress = ledger.first_of(Leg::Egress.index());
    let tool = exec.and_then(process_name).unwrap_or("a database client");
    let file = dump.and_then(file_path);
    let destination = egress.and_then(destination_text);
    let count = |leg: Leg| window.counts[usize::from(leg.index())];

    let mut severity = Severity::Medium;
    let mut reasons = vec![
        format!("{user} ran {tool} on {host} and is not in AllowedDBClients"),
        format!(
            "{} written within TimeWindow ({}) of the client start{}",
            plural(
                count(Leg::Dump),
                "dump-like file was",
                "dump-like files were"
            ),
            duration_text(window.end() - window.anchor),
            file.map(|path| format!(", first {path}"))
                .unwrap_or_default(),
        ),
    ];
    if window.has_leg(Leg::Egress) {
        severity = raise(severity, 1);
        reasons.push(format!(
            "data left the host after the dump{}: +1 severity",
            destination
                .as_ref()
                .map(|to| format!(", first to {to}"))
                .unwrap_or_default()
        ));
    }
    if window.flags & state::HOME_DUMP != 0 {
        severity = raise(severity, 1);
        let path = window
            .factors
            .as_ref()
            .and_then(|f| f.home_dump.as_ref())
            .map(|(_, _, p)| &**p);
        reasons.push(format!(
            "dump written under HomeDirectories{}: +1 severity",
            path.map(|p| format!(" ({p})")).unwrap_or_default()
        ));
    }
    if window.flags & state::ODD_PARENT != 0 {
        severity = raise(severity, 1);
        let parent = window
            .factors
            .as_ref()
            .and_then(|f| f.odd_parent.as_ref())
            .map(|(_, _, p)| p);
        reasons.push(format!(
            "{tool} was started under a web server process{} (WebServerProcesses): +1 severity",
            parent.map(|p| format!(" ({p})")).unwrap_or_default()
        ));
    }
    if window.flags & state::OUTSIDE_AUTOMATION != 0 {
        severity = raise(severity, 1);
        reasons.push(format!(
            "{tool} started {}, outside AutomationWindows: +1 severity",
            weekday_time_utc(window.anchor)
        ));
    }
    reasons.push(format!("severity {}", severity::name(severity)));

    let mut entities = vec![entity("host", host), entity("user", user)];
    entities.push(entity("process", tool));
    if let Some(path) = file {
        entities.push(entity("file", path));
    }
    if let Some(to) = &destination {
        entities.push(entity("destination", to));
    }

    let mut attacks = vec![attack::T1213_006.to_wit()];
    if window.has_leg(Leg::Egress) {
        attacks.push(attack::T1048.to_wit());
    }
    let legs = [Leg::Exec, Leg::Dump, Leg::Egress]
        .into_iter()
        .filter(|leg| window.has_leg(*leg))
        .map(|leg| LEG_NAMES[usize::from(leg.index())].to_string())
        .collect();

    let title = if window.has_leg(Leg::Egress) {
        format!("Database dump by {user} on {host} followed by outbound transfer")
    } else {
        format!("Database dump by unexpected user {user} on {host}")
    };
    let mut description = format!(
        "{user}, who is not in AllowedDBClients, ran the database client {tool} on {host} \
         ({} in this window). Within {}, {}{}.",
        plural(count(Leg::Exec), "client start", "client starts"),
        duration_text(config.window_ms.min(window.end() - window.anchor)),
        plural(
            count(Leg::Dump),
            "dump-like file was written",
            "dump-like files were written"
        ),
        file.map(|path| format!(" (first: {path})"))
            .unwrap_or_default(),
    );
    if window.has_leg(Leg::Egress) {
        description.push_str(&format!(
            " After the dump, {} left the host{}: the dump may have been sent out.",
            plural(
                count(Leg::Egress),
                "outbound transfer",
                "outbound transfers"
            ),
            destination
                .map(|to| format!(" (first to {to})"))
                .unwrap_or_default(),
        ));
    } else {
        description.push_str(" No outbound transfer was seen after it (yet).");
    }
    description.push_str(" Check whether this account should hold a copy of the data.");

    Finding {
        uid: window.uid_hex(),
        title,
        description,
        severity,
        reasons,
        entities,
        start_time: window.start_time(),
        end_time: window.end_time(),
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

/// "203.0.113.7:443 (files.example.com), POST files.example.com/upload, 5000000 bytes".
fn destination_text(evidence: &StoredEvidence) -> Option<String> {
    let Detail::Network {
        dst, url, bytes, ..
    } = &evidence.detail
    else {
        return None;
    };
    let mut text = dumpwatch_sdk::address::endpoint_text(&dst.to_wit());
    if let Some(url) = url {
        text.push_str(&format!(", {url}"));
    }
    if let Some(bytes) = bytes {
        text.push_str(&format!(", {bytes} bytes"));
    }
    (!text.is_empty()).then_some(text)
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
