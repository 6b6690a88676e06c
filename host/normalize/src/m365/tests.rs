use std::io::BufReader;

use dumpwatch_event::{Activity, Event, EventClass, FileAccess};
use proptest::prelude::*;

use super::*;
use crate::reader::{Line, LineReader};

fn decode(bytes: &[u8]) -> Output {
    let mut dec = M365Decoder::new(&DecodeContext::default());
    let mut out = Output::default();
    let mut lines = LineReader::new(BufReader::new(bytes), crate::reader::DEFAULT_MAX_LINE);
    while let Some(line) = lines.next_line().expect("in-memory read") {
        match line {
            Line::Data(l, pos) => dec.push(l, pos, &mut out),
            Line::TooLong { pos, .. } => out.error(pos, "line too long", "test input"),
        }
    }
    dec.finish(&mut out);
    out
}

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/../../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn access(ev: &Event) -> &FileAccess {
    match &ev.activity {
        Activity::FileAccess(f) => f,
        other => panic!("not a file access: {other:?}"),
    }
}

fn ops(out: &Output) -> Vec<&str> {
    out.events
        .iter()
        .map(|e| access(e).operation.as_str())
        .collect()
}

#[test]
fn office_activity_mail_access_is_skipped_by_operation() {
    let out = decode(&fixture(
        "corpus/m365/otrf_GoldenSAMLADFSMailAccess_OfficeActivityEvents.json",
    ));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.stats.normalized, 0);
    assert_eq!(out.stats.skipped.get("MailItemsAccessed"), Some(&1));
    assert_eq!(
        crate::detect(&fixture(
            "corpus/m365/otrf_GoldenSAMLADFSMailAccess_OfficeActivityEvents.json",
        )),
        Some(Format::M365)
    );
}

#[test]
fn content_blob_download_burst() {
    let file = "written/m365/ual_sharepoint_filedownloaded-burst_content-blob.json";
    let out = decode(&fixture(file));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.stats.by_class.get(&EventClass::FileAccess), Some(&27));
    assert_eq!(out.stats.skipped.get("PageViewed"), Some(&1));
    assert_eq!(out.stats.skipped.get("SearchQueryPerformed"), Some(&1));
    let downloads: Vec<&Event> = out
        .events
        .iter()
        .filter(|e| access(e).operation == "FileDownloaded")
        .collect();
    assert_eq!(downloads.len(), 25);
    let ev = downloads[0];
    assert_eq!(ev.time, 1_717_380_840_000); // 2024-06-03T02:14:00, UTC
    assert_eq!(ev.actor.user.as_deref(), Some("jdoe@contoso.com"));
    assert_eq!(ev.actor.identity_type.as_deref(), Some("Regular"));
    assert_eq!(
        ev.device.domain.as_deref(),
        Some("7c1f5d2e-3a4b-4c6d-8e9f-0a1b2c3d4e5f")
    );
    let a = access(ev);
    assert_eq!(
        a.path.as_deref(),
        Some(
            "https://contoso.sharepoint.com/sites/Finance/Shared Documents/Customers/Customer_Export_01.xlsx"
        )
    );
    assert_eq!(a.name.as_deref(), Some("Customer_Export_01.xlsx"));
    assert_eq!(
        a.site.as_deref(),
        Some("https://contoso.sharepoint.com/sites/Finance/")
    );
    assert_eq!(a.workload.as_deref(), Some("SharePoint"));
    assert_eq!(a.client_ip.as_deref(), Some("203.0.113.77"));
    assert!(
        a.user_agent
            .as_deref()
            .is_some_and(|u| u.contains("Edg/124"))
    );
    assert_eq!(crate::detect(&fixture(file)), Some(Format::M365));
    // Ids are the records' own and unique.
    let mut ids: Vec<&str> = out.events.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 27);
}

#[test]
fn pretty_array_sync_full_and_partial() {
    let file = "written/m365/ual_onedrive_filesync-full-and-partial_pretty-array.json";
    let out = decode(&fixture(file));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.stats.normalized, 10);
    assert_eq!(out.stats.skipped.get("UserLoggedIn"), Some(&1));
    let all = ops(&out);
    assert_eq!(
        all.iter()
            .filter(|o| **o == "FileSyncDownloadedFull")
            .count(),
        6
    );
    assert_eq!(
        all.iter()
            .filter(|o| **o == "FileSyncDownloadedPartial")
            .count(),
        3
    );
    assert_eq!(all.last(), Some(&"FileUploaded"));
    let dump = out
        .events
        .iter()
        .find(|e| access(e).name.as_deref() == Some("pg_dump_prod_20240601.sql.gz"))
        .expect("dump sync");
    let a = access(dump);
    assert_eq!(a.workload.as_deref(), Some("OneDrive"));
    assert_eq!(
        a.application.as_deref(),
        Some("ab9b8c07-8f02-4f72-87fa-80105867a763")
    );
    assert_eq!(dump.actor.user.as_deref(), Some("mbrown@contoso.com"));
    assert_eq!(crate::detect(&fixture(file)), Some(Format::M365));
}

#[test]
fn office_activity_renamed_columns() {
    let file = "written/m365/officeactivity_file-downloads_one-per-line.json";
    let out = decode(&fixture(file));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.stats.normalized, 4);
    assert_eq!(out.stats.skipped.get("Send"), Some(&1));
    let ev = &out.events[0];
    assert_eq!(ev.time, 1_717_380_840_000); // TimeGenerated 2024-06-03T02:14:00Z
    assert_eq!(ev.actor.identity_type.as_deref(), Some("Regular"));
    let a = access(ev);
    assert_eq!(a.workload.as_deref(), Some("SharePoint"));
    assert_eq!(
        a.site.as_deref(),
        Some("https://contoso.sharepoint.com/sites/Finance/")
    );
    assert!(
        a.path
            .as_deref()
            .is_some_and(|p| p.ends_with("/Customer_Export_01.xlsx"))
    );
    // RecordType "6", UserType "0" and AppId on the sync row.
    let sync = &out.events[3];
    assert_eq!(access(sync).operation, "FileSyncDownloadedFull");
    assert_eq!(sync.actor.identity_type.as_deref(), Some("Regular"));
    assert_eq!(
        access(sync).application.as_deref(),
        Some("ab9b8c07-8f02-4f72-87fa-80105867a763")
    );
    assert_eq!(crate::detect(&fixture(file)), Some(Format::M365));
}

#[test]
fn time_rule_and_bad_records() {
    let rec = |extra: &str| {
        format!(r#"{{"Id":"a","Operation":"FileDownloaded","UserId":"u","UserType":2{extra}}}"#)
    };
    let input = [
        rec(r#","CreationTime":"2020-02-07T16:44:07""#),
        rec(r#","CreationTime":"2020-02-07T16:44:07.5Z""#),
        rec(r#","TimeGenerated":"2020-02-07T16:44:07Z""#),
        rec(""),
        rec(r#","CreationTime":"07/02/2020 16:44""#),
        r#"{"Id":"b","CreationTime":"2020-02-07T16:44:07"}"#.to_owned(),
        r#"{"Operation":"FileDownloaded","CreationTime":"2020-02-07T16:44:07"}"#.to_owned(),
        rec(r#","UserType":1.5"#),
        "[{\"Id\":\"c\",".to_owned(),
    ]
    .join("\n");
    let out = decode(input.as_bytes());
    let times: Vec<i64> = out.events.iter().map(|e| e.time).collect();
    assert_eq!(
        times,
        [1_581_093_847_000, 1_581_093_847_500, 1_581_093_847_000]
    );
    assert_eq!(out.events[0].actor.identity_type.as_deref(), Some("Admin"));
    let kinds: Vec<(u64, &str)> = out.errors.iter().map(|e| (e.pos.line, e.kind)).collect();
    assert_eq!(
        kinds,
        [
            (4, "missing time"),
            (5, "invalid time"),
            (6, "missing field"),
            (7, "missing field"),
            (8, "invalid record"),
            (9, "truncated JSON"),
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Good records survive any garbage lines between them (garbage that
    /// cannot open a JSON value), and nothing panics.
    #[test]
    fn good_records_survive_garbage(garbage in prop::collection::vec("[^{\\[\n]{0,60}", 0..8), seed in any::<u64>()) {
        let blob = String::from_utf8(fixture("written/m365/officeactivity_file-downloads_one-per-line.json")).expect("utf-8");
        let good: Vec<&str> = blob.lines().take(4).collect();
        let mut input = String::new();
        for (i, g) in garbage.iter().enumerate() {
            input.push_str(good[(seed as usize + i) % good.len()]);
            input.push('\n');
            input.push_str(g);
            input.push('\n');
        }
        let out = decode(input.as_bytes());
        prop_assert_eq!(out.stats.normalized, garbage.len() as u64);
        let non_blank = garbage.iter().filter(|g| !g.strip_prefix('\u{feff}').unwrap_or(g).trim_ascii().is_empty()).count() as u64;
        prop_assert_eq!(out.stats.error_count(), non_blank);
    }

    /// Arbitrary bytes, cut anywhere, never panic.
    #[test]
    fn arbitrary_input_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400), cut in 0usize..3000) {
        let blob = fixture("written/m365/ual_onedrive_filesync-full-and-partial_pretty-array.json");
        let mut input = blob[..cut.min(blob.len())].to_vec();
        input.extend_from_slice(&bytes);
        let out = decode(&input);
        prop_assert!(out.stats.normalized <= 11);
    }
}
