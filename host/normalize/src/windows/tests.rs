//! Tests of the Windows decoders: every corpus file, the shapes written
//! here (Winlogbeat raw and ECS), bad input, and fuzzing.

use std::io::BufReader;

use crate::reader::{DEFAULT_MAX_LINE, Line, LineReader};
use crate::{DecodeContext, Format, Output};

/// Run `format`'s decoder over `input` the way the pipeline does.
pub(crate) fn decode_all(format: Format, input: &[u8], ctx: &DecodeContext) -> Output {
    let mut dec = format.decoder(ctx);
    let mut out = Output::default();
    let mut lines = LineReader::new(BufReader::with_capacity(1 << 16, input), DEFAULT_MAX_LINE);
    while let Some(line) = lines.next_line().expect("reading a slice cannot fail") {
        match line {
            Line::Data(bytes, pos) => dec.push(bytes, pos, &mut out),
            Line::TooLong { pos, len } => {
                out.error(pos, "line too long", format!("{len} bytes"));
            }
        }
    }
    dec.finish(&mut out);
    assert!(
        dec.oldest_pending().is_none(),
        "nothing pending after finish"
    );
    out
}

pub(crate) fn fixture(rel: &str) -> Vec<u8> {
    let path = format!("{}/../../tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn corpus(name: &str) -> Vec<u8> {
    fixture(&format!("corpus/windows/{name}"))
}

type Counts<'a> = &'a [(&'a str, u64)];

/// Decode a fixture with the format detection picks (asserting it is
/// `format`), and check the counts: no errors, events per class, skips.
fn check(rel: &str, format: Format, classes: Counts, skipped: Counts) -> Output {
    let bytes = fixture(rel);
    assert_eq!(
        crate::detect(&bytes),
        Some(format),
        "{rel}: detected format"
    );
    let out = decode_all(format, &bytes, &DecodeContext::default());
    assert!(out.errors.is_empty(), "{rel}: {:?}", out.errors);
    let by_class: Vec<(&str, u64)> = out
        .stats
        .by_class
        .iter()
        .map(|(c, n)| (c.as_str(), *n))
        .collect();
    assert_eq!(by_class, classes, "{rel}: events by class");
    let skips: Vec<(&str, u64)> = out
        .stats
        .skipped
        .iter()
        .map(|(k, n)| (k.as_str(), *n))
        .collect();
    assert_eq!(skips, skipped, "{rel}: skipped");
    out
}

fn json(ev: &dumpwatch_event::Event) -> serde_json::Value {
    serde_json::to_value(ev).expect("events serialize")
}

#[test]
fn every_corpus_file_normalizes_without_errors() {
    use Format::{WindowsJson as J, WindowsXml as X};
    let ps = "process_start";
    let cases: &[(&str, Format, Counts, Counts)] = &[
        (
            "bits-client-3-59-60_bits-job_mdecrevoisier.xml",
            X,
            &[],
            &[("channel:Microsoft-Windows-Bits-Client/Operational", 5)],
        ),
        (
            "mssql-15457_xp_cmdshell-enabled_mdecrevoisier.xml",
            X,
            &[],
            &[("channel:Application", 2)],
        ),
        (
            "mssql-33205_audit-create-login_mdecrevoisier.xml",
            X,
            &[],
            &[("channel:Application", 1)],
        ),
        (
            "otrf_bitsadmin-download_sysmon-security_subset.jsonl",
            J,
            &[(ps, 4), ("file", 6), ("network", 8)],
            &[
                ("security:4689", 2),
                ("security:5156", 12),
                ("security:5158", 6),
            ],
        ),
        (
            "otrf_psh-python-webserver_sysmon-security_subset.jsonl",
            J,
            &[(ps, 6), ("file", 4)],
            &[("security:5154", 1), ("security:5156", 4)],
        ),
        (
            "security-4688_mssql-single-user-mode_mdecrevoisier.xml",
            X,
            &[(ps, 4)],
            &[],
        ),
        ("security-4688_sqlcmd_mdecrevoisier.xml", X, &[(ps, 1)], &[]),
        (
            "security-4688_sqlservr-spawns-cmd_mdecrevoisier.xml",
            X,
            &[(ps, 140)],
            &[],
        ),
        (
            "sysmon-11_lsass-dmp-created_mdecrevoisier.xml",
            X,
            &[("file", 1)],
            &[],
        ),
        (
            "sysmon-11_mimilsa-log-created_mdecrevoisier.xml",
            X,
            &[("file", 1)],
            &[],
        ),
        (
            "sysmon-1_setspn-discovery_mdecrevoisier.xml",
            X,
            &[(ps, 1)],
            &[],
        ),
        ("sysmon-1_wmiexec_mdecrevoisier.xml", X, &[(ps, 1)], &[]),
        (
            "sysmon-3-7-10_powershell-443_mdecrevoisier.xml",
            X,
            &[("network", 2)],
            &[("sysmon:10", 1), ("sysmon:7", 2)],
        ),
    ];
    for (name, format, classes, skipped) in cases {
        check(&format!("corpus/windows/{name}"), *format, classes, skipped);
    }
    // Every file of the corpus folder is in the table.
    let dir = format!(
        "{}/../../tests/fixtures/corpus/windows",
        env!("CARGO_MANIFEST_DIR")
    );
    let files = std::fs::read_dir(dir)
        .expect("corpus folder")
        .filter(|e| {
            !e.as_ref()
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .ends_with(".md")
        })
        .count();
    assert_eq!(files, cases.len());
}

#[test]
fn sqlcmd_4688_spot_check() {
    let out = check(
        "corpus/windows/security-4688_sqlcmd_mdecrevoisier.xml",
        Format::WindowsXml,
        &[("process_start", 1)],
        &[],
    );
    let v = json(&out.events[0]);
    assert_eq!(v["source"], "windows-security");
    assert_eq!(v["id"], "mssql01.offsec.lan:Security:1617340");
    assert_eq!(v["time_iso"], "2021-02-03T15:33:16.107Z");
    assert_eq!(v["device"]["hostname"], "mssql01.offsec.lan");
    assert_eq!(v["device"]["domain"], "OFFSEC");
    assert_eq!(v["actor"]["user"], "admmig");
    assert!(
        v["actor"].get("effective_user").is_none(),
        "TargetUserName '-' is no user"
    );
    assert_eq!(v["actor"]["session"], "0x372a4");
    let p = &v["process"];
    assert_eq!(
        p["path"],
        r"C:\Program Files\Microsoft SQL Server\Client SDK\ODBC\110\Tools\Binn\SQLCMD.EXE"
    );
    assert_eq!(p["name"], "SQLCMD.EXE");
    assert_eq!(p["command_line"], r"sqlcmd  -S .\RADAR,2020");
    assert_eq!(p["pid"], 0x1204);
    assert_eq!(p["parent_pid"], 0x9e4);
    assert_eq!(p["parent_path"], r"C:\Windows\System32\cmd.exe");
    assert_eq!(p["parent_name"], "cmd.exe");
    assert_eq!(v["process_start"]["elevation"], "full");
    assert_eq!(v["process_start"]["integrity"], "High");
}

#[test]
fn sysmon_11_dump_file_spot_check() {
    let out = check(
        "corpus/windows/sysmon-11_lsass-dmp-created_mdecrevoisier.xml",
        Format::WindowsXml,
        &[("file", 1)],
        &[],
    );
    let v = json(&out.events[0]);
    assert_eq!(v["source"], "sysmon");
    assert_eq!(v["file"]["operation"], "create");
    assert_eq!(
        v["file"]["path"],
        r"C:\Users\admmig\AppData\Local\Temp\lsass (4).DMP"
    );
    assert_eq!(v["process"]["name"], "Taskmgr.exe");
    assert_eq!(v["process"]["pid"], 3504);
    assert_eq!(
        v["process"]["guid"],
        "{a57649d1-d6b1-61ab-a5e4-d70100000000}"
    );
    // UtcTime, not TimeCreated (…40.7235999Z).
    assert_eq!(v["time_iso"], "2021-12-04T21:10:40.723Z");
    // Schema 2 has no User, and the log's UserID is Sysmon's own account.
    assert!(v.get("actor").is_none(), "{v}");
}

#[test]
fn otrf_bitsadmin_spot_checks() {
    let out = decode_all(
        Format::WindowsJson,
        &corpus("otrf_bitsadmin-download_sysmon-security_subset.jsonl"),
        &DecodeContext::default(),
    );
    let all: Vec<serde_json::Value> = out.events.iter().map(json).collect();
    let sec = all
        .iter()
        .find(|v| v["source"] == "windows-security" && v["process"]["name"] == "bitsadmin.exe")
        .expect("the 4688 of bitsadmin");
    assert_eq!(
        sec["process"]["command_line"],
        r"bitsadmin.exe  /transfer /Download /priority Foreground https://raw.githubusercontent.com/redcanaryco/atomic-red-team/master/atomics/T1197/T1197.md C:\Users\wardog\AppData\Local\Temp\bitsadmin1_flag.ps1"
    );
    assert_eq!(sec["process"]["pid"], 0x242c);
    assert_eq!(sec["process"]["parent_pid"], 0x273c);
    assert_eq!(sec["actor"]["user"], "wardog");
    assert_eq!(sec["process_start"]["elevation"], "default");
    // No RecordNumber in this export: the id falls back to a content hash.
    let id = sec["id"].as_str().expect("id");
    assert!(id.starts_with("WORKSTATION5:Security:4688:h"), "{id}");
    // Sysmon 3: svchost → 151.101.208.133:443.
    let net = all
        .iter()
        .find(|v| v["network"]["dst"]["ip"] == "151.101.208.133")
        .expect("the svchost connection");
    assert_eq!(net["network"]["dst"]["port"], 443);
    assert_eq!(net["network"]["protocol"], 6);
    assert_eq!(net["network"]["src"]["ip"], "192.168.2.5");
    assert_eq!(net["network"]["src"]["port"], 61091);
    assert!(
        net["network"]["dst"].get("hostname").is_none(),
        "DestinationHostname '-'"
    );
    assert_eq!(net["process"]["path"], r"C:\windows\System32\svchost.exe");
    assert_eq!(net["actor"]["user"], "SYSTEM");
    assert!(
        net["device"].get("domain").is_none(),
        "NT AUTHORITY is no domain"
    );
    assert_eq!(net["time_iso"], "2020-10-23T06:36:42.882Z");
    // Sysmon 11 without User gets the user of its process's Sysmon 1.
    let tmp = all
        .iter()
        .find(|v| v["file"]["path"] == r"C:\Users\wardog\AppData\Local\Temp\BIT9584.tmp")
        .expect("the BITS temp file");
    assert_eq!(tmp["actor"]["user"], "SYSTEM");
    // Ids are unique.
    let mut ids: Vec<&str> = all.iter().map(|v| v["id"].as_str().expect("id")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all.len());
}

#[test]
fn winlogbeat_raw_and_ecs_shapes() {
    let raw = check(
        "written/windows/winlogbeat-8-raw_bcp-export.jsonl",
        Format::WindowsJson,
        &[
            ("process_start", 2),
            ("file", 1),
            ("network", 1),
            ("name", 1),
        ],
        &[("security:4624", 1), ("sysmon:7", 1)],
    );
    let v: Vec<_> = raw.events.iter().map(json).collect();
    assert_eq!(v[0]["id"], "SQLWKS07.corp.example:Security:901187");
    assert_eq!(v[0]["process"]["name"], "bcp.exe");
    assert_eq!(v[0]["process_start"]["elevation"], "limited");
    assert_eq!(v[0]["process_start"]["integrity"], "Medium");
    // Sysmon 11 without User: joined to its Sysmon 1 by ProcessGuid, not
    // taken from winlog.user (SYSTEM, Sysmon's own account).
    assert_eq!(
        v[2]["file"]["path"],
        r"C:\Users\jdoe\AppData\Local\Temp\cust.csv"
    );
    assert_eq!(v[2]["actor"]["user"], "jdoe");
    assert_eq!(v[3]["name"]["name"], "transfer.example-share.net");
    assert_eq!(
        v[3]["name"]["answers"],
        serde_json::json!(["203.0.113.40", "203.0.113.41"])
    );
    assert_eq!(v[4]["network"]["dst"]["hostname"], "edge.example-share.net");
    assert_eq!(
        v[4]["time_iso"], "2025-02-18T10:06:29.001Z",
        "UtcTime, not @timestamp"
    );

    let ecs = check(
        "written/windows/winlogbeat-7-ecs_sqlcmd-backup-upload.jsonl",
        Format::WindowsJson,
        &[
            ("process_start", 2),
            ("file", 1),
            ("network", 1),
            ("name", 1),
        ],
        &[],
    );
    let v: Vec<_> = ecs.events.iter().map(json).collect();
    // 4688 with NewProcessName/NewProcessId moved to process.*.
    assert_eq!(v[0]["source"], "windows-security");
    assert_eq!(v[0]["process"]["pid"], 7140);
    assert_eq!(v[0]["process"]["name"], "SQLCMD.EXE");
    assert_eq!(
        v[0]["process"]["parent_path"],
        r"C:\Windows\System32\cmd.exe"
    );
    assert_eq!(v[0]["process"]["parent_pid"], 0x2210);
    assert_eq!(v[0]["actor"]["user"], "jdoe");
    // Sysmon 1 entirely in ECS; time is @timestamp (UtcTime moved there).
    assert_eq!(
        v[1]["process"]["guid"],
        "{6f1d2a3b-9c22-67b4-7a05-000000001100}"
    );
    assert_eq!(
        v[1]["process"]["parent_guid"],
        "{6f1d2a3b-9c01-67b4-7805-000000001100}"
    );
    assert_eq!(v[1]["process"]["cwd"], r"C:\Users\jdoe\");
    assert_eq!(v[1]["actor"]["user"], "jdoe");
    assert_eq!(v[1]["device"]["domain"], "CORP");
    assert_eq!(v[1]["time_iso"], "2025-02-18T11:40:02.329Z");
    assert_eq!(v[2]["file"]["path"], r"C:\Users\jdoe\Downloads\crm.7z");
    assert_eq!(
        v[2]["actor"]["user"], "jdoe",
        "joined through the ECS user of Sysmon 1"
    );
    assert_eq!(v[3]["name"]["name"], "content.dropboxapi.com");
    assert_eq!(
        v[3]["name"]["answers"],
        serde_json::json!(["198.51.100.23"])
    );
    assert_eq!(v[4]["network"]["dst"]["ip"], "198.51.100.23");
    assert_eq!(v[4]["network"]["dst"]["port"], 443);
    assert_eq!(v[4]["network"]["dst"]["hostname"], "content.dropboxapi.com");
    assert_eq!(v[4]["network"]["protocol"], 6);
}

/// The sqlcmd event with its `<Event>` on one line, and the whole document
/// on one line.
#[test]
fn xml_layouts_one_line_and_many() {
    let doc = corpus("security-4688_sqlcmd_mdecrevoisier.xml");
    let text = String::from_utf8(doc).expect("utf-8");
    let start = text.find("<Event ").expect("event");
    let end = text.find("</Event>").expect("end") + "</Event>".len();
    let event = &text[start..end];
    let one_line: String = event.lines().map(str::trim).collect();
    let reference = decode_all(
        Format::WindowsXml,
        text.as_bytes(),
        &DecodeContext::default(),
    );
    for input in [
        format!("{one_line}\n{one_line}\n"),
        format!("<?xml version=\"1.0\"?><Events>{one_line}{one_line}</Events>"),
        format!("<Events>\n{event}\n{one_line}</Events>\n"),
    ] {
        let out = decode_all(
            Format::WindowsXml,
            input.as_bytes(),
            &DecodeContext::default(),
        );
        assert!(out.errors.is_empty(), "{input}: {:?}", out.errors);
        assert_eq!(out.events.len(), 2, "{input}");
        assert_eq!(out.events[1].process, reference.events[0].process);
        assert_eq!(out.events[1].time, reference.events[0].time);
    }
}

#[test]
fn bad_xml_is_counted_not_fatal() {
    let good =
        String::from_utf8(corpus("sysmon-11_lsass-dmp-created_mdecrevoisier.xml")).expect("utf-8");
    let start = good.find("<Event ").expect("event");
    let end = good.find("</Event>").expect("end") + 8;
    let event = &good[start..end];
    let cut = &event[..event.len() / 2];
    let ctx = DecodeContext::default();
    let kinds = |input: &[u8]| {
        let out = decode_all(Format::WindowsXml, input, &ctx);
        (
            out.stats.normalized,
            out.errors.iter().map(|e| e.kind).collect::<Vec<_>>(),
        )
    };
    // Unclosed <Events> at end of input: the events before are kept.
    assert_eq!(
        kinds(format!("<Events>\n{event}\n").as_bytes()),
        (1, vec!["truncated document"])
    );
    // An event cut off by the next one, and one cut off by the end.
    assert_eq!(
        kinds(format!("{cut}\n{event}\n{cut}").as_bytes()),
        (1, vec!["truncated record", "truncated record"])
    );
    // Malformed inside: mismatched tags.
    let broken = event.replace("</Computer>", "</Computr>");
    assert_eq!(kinds(broken.as_bytes()), (0, vec!["invalid XML"]));
    // Not UTF-8.
    let mut latin1 = event.replace("Taskmgr", "Task\u{e9}mgr").into_bytes();
    let at = latin1
        .windows(2)
        .position(|w| w == [0xC3, 0xA9])
        .expect("é");
    latin1.splice(at..at + 2, [0xE9]);
    assert_eq!(kinds(&latin1), (0, vec!["invalid UTF-8"]));
    // UTF-16 input.
    let utf16: Vec<u8> = event.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let (n, errs) = kinds(&[&[0xFF, 0xFE][..], &utf16].concat());
    assert_eq!(n, 0);
    assert!(
        !errs.is_empty() && errs.iter().all(|k| *k == "UTF-16 input"),
        "{errs:?}"
    );
    // Text outside any event; an empty event; a missing EventID.
    assert_eq!(kinds(b"hello\n"), (0, vec!["unexpected content"]));
    assert_eq!(kinds(b"<Event/>\n"), (0, vec!["invalid XML"]));
    let no_id = event.replace("<EventID>11</EventID>", "");
    assert_eq!(kinds(no_id.as_bytes()), (0, vec!["missing EventID"]));
    let bad_time = event.replace("2021-12-04 21:10:40.723", "yesterday");
    assert_eq!(kinds(bad_time.as_bytes()), (0, vec!["invalid time"]));
    let no_target = event.replace("TargetFilename", "Other");
    assert_eq!(kinds(no_target.as_bytes()), (0, vec!["missing field"]));
}

#[test]
fn huge_xml_record_is_dropped_and_the_next_one_kept() {
    let good =
        String::from_utf8(corpus("sysmon-11_lsass-dmp-created_mdecrevoisier.xml")).expect("utf-8");
    let start = good.find("<Event ").expect("event");
    let end = good.find("</Event>").expect("end") + 8;
    let event = &good[start..end];
    // A 10 MB line inside an event, as the line reader hands it over
    // (its own cap is 4 MiB, so feed the decoder directly).
    let (head, tail) = event.split_at(event.find("<EventData>").expect("data"));
    let filler = format!("<Data Name=\"Pad\">{}</Data>", "A".repeat(10 << 20));
    let mut dec = Format::WindowsXml.decoder(&DecodeContext::default());
    let mut out = Output::default();
    let mut pos = crate::RecordPos::default();
    for line in [head, &filler, tail, event] {
        pos.line += 1;
        dec.push(line.as_bytes(), pos, &mut out);
    }
    dec.finish(&mut out);
    assert_eq!(out.stats.normalized, 1);
    assert_eq!(
        out.errors.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec!["record too large"]
    );
    assert_eq!(
        out.errors[0].pos.line, 1,
        "reported at the event's first line"
    );
}

#[test]
fn oldest_pending_points_at_the_open_event() {
    let good =
        String::from_utf8(corpus("sysmon-11_lsass-dmp-created_mdecrevoisier.xml")).expect("utf-8");
    let mut dec = Format::WindowsXml.decoder(&DecodeContext::default());
    let mut out = Output::default();
    let mut offset = 0u64;
    for (i, line) in good.lines().enumerate() {
        let pos = crate::RecordPos {
            line: i as u64 + 1,
            offset,
        };
        offset += line.len() as u64 + 1;
        dec.push(line.as_bytes(), pos, &mut out);
        if line.starts_with("<Event ") {
            assert_eq!(dec.oldest_pending().map(|p| p.line), Some(3));
        }
        if line.starts_with("</Event>") {
            assert_eq!(dec.oldest_pending(), None);
        }
    }
    assert_eq!(out.stats.normalized, 1);
}

#[test]
fn bad_json_is_counted_not_fatal() {
    let line = String::from_utf8(corpus(
        "otrf_bitsadmin-download_sysmon-security_subset.jsonl",
    ))
    .expect("utf-8");
    let first = line.lines().nth(1).expect("the 4688");
    let ctx = DecodeContext::default();
    let kinds = |input: &[u8]| {
        let out = decode_all(Format::WindowsJson, input, &ctx);
        (
            out.stats.normalized,
            out.errors.iter().map(|e| e.kind).collect::<Vec<_>>(),
        )
    };
    assert_eq!(kinds(format!("{first}\n{first}\n").as_bytes()).0, 2);
    // Truncated last line (no newline, cut mid-record).
    let cut = &first[..first.len() / 2];
    assert_eq!(
        kinds(format!("{first}\n{cut}").as_bytes()),
        (1, vec!["truncated JSON"])
    );
    // Malformed, wrong type, not UTF-8.
    assert_eq!(
        kinds(b"{\"EventID\": 4688,, }\n"),
        (0, vec!["invalid JSON"])
    );
    assert_eq!(kinds(b"[1,2]\n").0, 0);
    let mut bad = first.as_bytes().to_vec();
    let at = bad.windows(8).position(|w| w == b"bitsadmi").expect("name");
    bad[at] = 0xFF;
    assert_eq!(kinds(&bad), (0, vec!["invalid JSON"]));
    // A 10 MB line: the reader refuses it, the next record is kept.
    let huge = format!("{{\"CommandLine\":\"{}\"}}", "x".repeat(10 << 20));
    let out = decode_all(
        Format::WindowsJson,
        format!("{huge}\n{first}\n").as_bytes(),
        &ctx,
    );
    assert_eq!(out.stats.normalized, 1);
    assert_eq!(
        out.errors.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec!["line too long"]
    );
    // Records without id or time.
    assert_eq!(
        kinds(b"{\"Channel\":\"Security\"}\n"),
        (0, vec!["missing EventID"])
    );
    assert_eq!(
        kinds(b"{\"Channel\":\"Security\",\"EventID\":4688,\"NewProcessName\":\"a.exe\"}\n"),
        (0, vec!["missing time"])
    );
    assert_eq!(
        kinds(b"{\"Channel\":\"Security\",\"EventID\":99999}\n"),
        (0, vec!["invalid EventID"])
    );
}

#[test]
fn detection_tells_the_shapes_apart() {
    assert_eq!(crate::detect(b"<?xml version=\"1.0\"?>\n<Events>\n<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System>"), Some(Format::WindowsXml));
    assert_eq!(
        crate::detect(b"{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\"}\n"),
        Some(Format::WindowsJson)
    );
    assert_eq!(
        crate::detect(b"{\"@timestamp\":\"x\",\"winlog\":{\"event_id\":\"1\"}}\n"),
        Some(Format::WindowsJson)
    );
    assert!(!super::sniff_json(
        b"{\"eventID\":\"abc\",\"eventSource\":\"s3.amazonaws.com\"}"
    ));
    assert!(!super::sniff_xml(b"<html><body>"));
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    fn run(format: Format, lines: &[Vec<u8>]) {
        let mut dec = format.decoder(&DecodeContext::default());
        let mut out = Output::default();
        for (i, l) in lines.iter().enumerate() {
            let pos = crate::RecordPos {
                line: i as u64 + 1,
                offset: 0,
            };
            dec.push(l, pos, &mut out);
        }
        dec.finish(&mut out);
        assert!(dec.oldest_pending().is_none());
        let total = out.stats.normalized + out.stats.skipped_count() + out.stats.error_count();
        assert!(total <= lines.len() as u64 * 4 + 1);
    }

    /// Lines of a real record, each possibly cut or garbled.
    fn mangled(source: &'static str) -> impl Strategy<Value = Vec<Vec<u8>>> {
        let text = String::from_utf8(corpus(source)).expect("utf-8");
        let lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
        proptest::collection::vec(
            (0..lines.len(), 0usize..400, any::<u8>(), any::<bool>()),
            1..60,
        )
        .prop_map(move |edits| {
            edits
                .into_iter()
                .map(|(i, cut, byte, garble)| {
                    let mut l = lines[i].clone();
                    if garble && !l.is_empty() {
                        let at = cut % l.len();
                        l[at] = byte;
                    } else {
                        l.truncate(cut.min(l.len()));
                    }
                    l
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn xml_never_panics(lines in mangled("sysmon-3-7-10_powershell-443_mdecrevoisier.xml")) {
            run(Format::WindowsXml, &lines);
        }

        #[test]
        fn json_never_panics(lines in mangled("otrf_bitsadmin-download_sysmon-security_subset.jsonl")) {
            run(Format::WindowsJson, &lines);
        }

        #[test]
        fn arbitrary_bytes_never_panic(lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..20)) {
            run(Format::WindowsXml, &lines);
            run(Format::WindowsJson, &lines);
        }
    }
}
