//! Microsoft 365: bulk downloads per user, allowed applications, off hours.

use dumpwatch_sdk::testing::{texts, tunable};
use dumpwatch_sdk::types::*;
use dumpwatch_sdk::uid::finding_uid;

use super::*;

const JDOE: &str = "jdoe@contoso.com";

#[test]
fn more_downloads_than_the_threshold_in_the_window_is_a_finding() {
    let events = downloads("d", T0, 7 * SEC, 25, JDOE);
    let out = findings(vec![], events);
    assert_eq!(out.len(), 1);
    let f = &out[0];
    assert_eq!(f.uid, finding_uid("AN0680", &["m365", JDOE], "d0"));
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.legs, ["bulk_download"]);
    assert_eq!(f.event_count, 25);
    assert_eq!(
        evidence_ids(f),
        ["d0", "d1", "d2", "d3", "d4"],
        "the earliest MaxEvidencePerLeg"
    );
    assert_eq!(
        f.evidence[0].url.as_deref(),
        Some(
            "https://contoso.sharepoint.com/sites/Finance/Shared Documents/Customer_Export_00.xlsx"
        )
    );
    assert_eq!(entities(f, "user"), [JDOE]);
    assert_eq!(
        entities(f, "site"),
        ["https://contoso.sharepoint.com/sites/Finance/"]
    );
    assert_eq!(techniques(f), ["T1213.006", "T1213.002"]);
    assert_eq!((f.start_time, f.end_time), (T0, T0 + 24 * 7 * SEC));
    assert!(
        f.reasons[0].contains("25 files downloaded")
            && f.reasons[0].contains("more than BulkDownloadThreshold (20)"),
        "{:?}",
        f.reasons
    );
}

#[test]
fn at_the_threshold_spread_out_or_split_between_users_is_not() {
    assert!(findings(vec![], downloads("d", T0, 7 * SEC, 20, JDOE)).is_empty());
    // 25 downloads, one a minute: at most 11 in any 10-minute window.
    assert!(findings(vec![], downloads("d", T0, MIN, 25, JDOE)).is_empty());
    let mut split = downloads("a", T0, SEC, 15, JDOE);
    split.extend(downloads("b", T0, SEC, 15, "mbrown@contoso.com"));
    assert!(findings(vec![], split).is_empty());
    // The same user in another case is the same user.
    let mut cased = downloads("a", T0, SEC, 15, JDOE);
    cased.extend(downloads("b", T0, SEC, 15, "JDoe@Contoso.com"));
    assert_eq!(findings(vec![], cased).len(), 1);
}

#[test]
fn sync_operations_count_and_other_operations_do_not() {
    let mut events: Vec<Event> = (0..12)
        .map(|n| {
            download(
                &format!("f{n}"),
                T0 + n * SEC,
                JDOE,
                "FileSyncDownloadedFull",
                "x",
            )
        })
        .collect();
    events.extend((0..12).map(|n| {
        download(
            &format!("p{n}"),
            T0 + n * SEC,
            JDOE,
            "FileSyncDownloadedPartial",
            "y",
        )
    }));
    assert_eq!(findings(vec![], events.clone()).len(), 1);
    let previews: Vec<Event> = (0..30)
        .map(|n| download(&format!("v{n}"), T0 + n * SEC, JDOE, "FilePreviewed", "z"))
        .collect();
    assert!(findings(vec![], previews).is_empty());
}

#[test]
fn allowed_applications_match_the_user_agent_or_the_application_id() {
    let mut by_app: Vec<Event> = downloads("d", T0, SEC, 25, JDOE);
    for event in &mut by_app {
        if let Activity::FileAccess(access) = &mut event.activity {
            access.user_agent = Some("Microsoft SkyDriveSync 24.086.0428.0003 ship".into());
            access.application = Some("ab9b8c07-8f02-4f72-87fa-80105867a763".into());
        }
    }
    assert_eq!(findings(vec![], by_app.clone()).len(), 1);
    let by_agent = vec![tunable("AllowedApplications", texts(&["*skydrivesync*"]))];
    assert!(findings(by_agent, by_app.clone()).is_empty());
    let by_id = vec![tunable(
        "AllowedApplications",
        texts(&["AB9B8C07-8F02-4F72-87FA-80105867A763"]),
    )];
    assert!(findings(by_id, by_app).is_empty());
}

#[test]
fn off_hours_downloads_are_raised() {
    // 2024-06-03 02:14 UTC, a Monday night.
    let night = 1_717_380_840_000;
    let out = findings(vec![], downloads("d", night, 7 * SEC, 25, JDOE));
    assert_eq!(out[0].severity, Severity::High);
    assert!(
        out[0].reasons[1].contains("Mon 02:14 UTC"),
        "{:?}",
        out[0].reasons
    );
}

#[test]
fn duplicates_never_count_twice() {
    let events = downloads("d", T0, SEC, 15, JDOE);
    let mut twice = events.clone();
    twice.extend(events);
    assert!(
        findings(vec![], twice).is_empty(),
        "15 distinct downloads, sent twice"
    );
}
