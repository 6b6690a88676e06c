//! The finding of a Microsoft 365 download window: more files than
//! BulkDownloadThreshold downloaded or synced by one user.

use dumpwatch_sdk::attack;
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::schedule::weekday_time_utc;
use dumpwatch_sdk::severity::{self, raise};
use dumpwatch_sdk::types::{Finding, Severity};
use dumpwatch_sdk::uid::to_hex;

use super::{duration_text, entity, plural};
use crate::config::Config;
use crate::engine::windows::DownloadWindow;
use crate::manifest::T1213_002;
use crate::observe::{LEG_NAMES, Leg};

pub fn finding(user: &Sym, window: &DownloadWindow, config: &Config) -> Finding {
    let sites: Vec<&str> = window.sites.iter().map(|s| &**s).collect();
    let from = if sites.is_empty() {
        String::new()
    } else {
        format!(" from {}", sites.join(", "))
    };
    let mut severity = Severity::Medium;
    let mut reasons = vec![format!(
        "{} ({}) within BulkDownloadWindow ({}){from}, more than BulkDownloadThreshold ({})",
        plural(window.downloads, "file downloaded", "files downloaded"),
        config.download_operations.join(", "),
        duration_text(window.end - window.anchor),
        config.downloads,
    )];
    if let Some((time, _)) = &window.off_hours {
        severity = raise(severity, 1);
        reasons.push(format!(
            "a download at {} falls in OffHoursAccessWindow: +1 severity",
            weekday_time_utc(*time)
        ));
    }
    reasons.push(format!("severity {}", severity::name(severity)));
    let mut entities = vec![entity("user", user)];
    for site in &sites {
        entities.push(entity("site", site));
    }
    let mut attacks = vec![attack::T1213_006.to_wit()];
    if window.sharepoint {
        attacks.push(T1213_002.to_wit());
    }
    Finding {
        uid: to_hex(&window.uid),
        title: format!(
            "Bulk download of {} from SharePoint or OneDrive by {user}",
            plural(window.downloads, "file", "files")
        ),
        description: format!(
            "{user} downloaded or synced {}{from} within {}, outside AllowedApplications. The audit log \
             records no file sizes. A user copying a document library or exported data to a device looks \
             like this; check the device and what the files hold.",
            plural(window.downloads, "file", "files"),
            duration_text(window.end - window.anchor),
        ),
        severity,
        reasons,
        entities,
        start_time: window.start_time,
        end_time: window.end_time,
        attacks,
        legs: vec![Leg::BulkDownload.name().to_string()],
        evidence: window.ledger.to_wit(&LEG_NAMES),
        event_count: window.downloads,
    }
}
