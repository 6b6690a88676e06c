//! AN0677 (Windows) end to end: Security 4688 and Sysmon events written
//! here as Event XML and NXLog JSON (see `an0677/winlog.rs`), the real
//! sqlcmd 4688 of the corpus, and Zeek logs, replayed through the shipped
//! component.

mod winlog;

use dumpwatch_tests::{Replay, ZeekLog, ms, related_ids, replay, uid};
use proptest::prelude::*;
use serde_json::Value;
use winlog::{Proc, Shape, WinLog};

const WS01: &str = "WS01.corp.example";
const WS02: &str = "WS02.corp.example";
const ALICE: &str = r"CORP\alice";
const BOB: &str = r"CORP\bob";
const SQLCMD: &str =
    r"C:\Program Files\Microsoft SQL Server\Client SDK\ODBC\170\Tools\Binn\SQLCMD.EXE";
const CMD: &str = r"C:\Windows\System32\cmd.exe";
const EXPORT: &str = r"C:\Users\alice\AppData\Local\Temp\customers.csv";
const ARCHIVE: &str = r"C:\Users\alice\AppData\Local\Temp\customers.7z";

const SHELL: Proc = Proc {
    guid: "{6f1d2a3b-5a64-67b4-4b03-000000001100}",
    pid: 8720,
    image: CMD,
};
const TOOL: Proc = Proc {
    guid: "{6f1d2a3b-5a64-67b4-4c03-000000001100}",
    pid: 6716,
    image: SQLCMD,
};
const SEVEN_ZIP: Proc = Proc {
    guid: "{6f1d2a3b-5a80-67b4-5103-000000001100}",
    pid: 7320,
    image: r"C:\Program Files\7-Zip\7z.exe",
};
const RCLONE: Proc = Proc {
    guid: "{6f1d2a3b-5a9a-67b4-5603-000000001100}",
    pid: 7604,
    image: r"C:\Users\alice\Downloads\rclone.exe",
};

/// The inventory: the sensor sees ws01 at 10.0.1.20 and ws02 at 10.0.1.21.
fn config(extra: &str) -> String {
    format!(
        "[inventory.hosts.ws01]\naddresses = [\"10.0.1.20\"]\n[inventory.hosts.ws02]\naddresses = [\"10.0.1.21\"]\n{extra}"
    )
}

/// The ids of the standard scenario's events.
#[derive(Debug, Default)]
struct Ids {
    exec_4688: String,
    exec_sysmon: String,
    export: String,
    archiver: String,
    archive: String,
    connection: String,
}

/// alice on ws01: sqlcmd from cmd.exe writes customers.csv to Temp, 7-Zip
/// packs it with a password, rclone uploads it to Dropbox.
fn attack(w: &mut WinLog, archive: bool, egress: bool) -> Ids {
    let mut ids = Ids {
        exec_4688: w.process_4688(
            60.0,
            WS01,
            ALICE,
            TOOL.pid,
            SQLCMD,
            r#"sqlcmd -S sql01 -E -Q "SELECT * FROM crm.dbo.customers" -s, -W -o C:\Users\alice\AppData\Local\Temp\customers.csv"#,
            SHELL.pid,
            CMD,
        ),
        exec_sysmon: w.sysmon_1(
            60.0,
            WS01,
            ALICE,
            TOOL,
            r#"sqlcmd -S sql01 -E -Q "SELECT * FROM crm.dbo.customers" -s, -W -o C:\Users\alice\AppData\Local\Temp\customers.csv"#,
            SHELL,
        ),
        export: w.sysmon_11(75.0, WS01, Some(ALICE), TOOL, EXPORT),
        ..Ids::default()
    };
    if archive {
        ids.archiver = w.sysmon_1(
            120.0,
            WS01,
            ALICE,
            SEVEN_ZIP,
            r"7z.exe a -t7z -pW1nter2026 -mhe=on C:\Users\alice\AppData\Local\Temp\customers.7z C:\Users\alice\AppData\Local\Temp\customers.csv",
            SHELL,
        );
        ids.archive = w.sysmon_11(124.5, WS01, Some(ALICE), SEVEN_ZIP, ARCHIVE);
    }
    if egress {
        w.sysmon_22(
            170.0,
            WS01,
            ALICE,
            RCLONE,
            "content.dropboxapi.com",
            &["162.125.1.14"],
        );
        ids.connection = w.sysmon_3(
            170.2,
            WS01,
            ALICE,
            RCLONE,
            ("10.0.1.20", 50110),
            ("162.125.1.14", 443),
            "-",
        );
    }
    ids
}

/// What the sensor saw of the upload: 48 MB to Dropbox from ws01.
fn sensor() -> (String, String) {
    let mut conn = ZeekLog::conn();
    conn.flow(
        170.2,
        "CupDropbox",
        "10.0.1.20",
        "162.125.1.14",
        443,
        48_311_522,
        6_214,
    );
    let mut ssl = ZeekLog::ssl();
    ssl.tls(
        170.2,
        "CupDropbox",
        "10.0.1.20",
        "162.125.1.14",
        "content.dropboxapi.com",
    );
    (conn.render(), ssl.render())
}

fn run(log: &str) -> Replay {
    replay(&[("windows.xml", log.to_owned())], &config(""))
}

fn only(r: &Replay) -> Value {
    let latest = r.latest();
    assert_eq!(latest.len(), 1, "findings: {:#?}", r.findings);
    latest.into_values().next().unwrap()
}

fn severity(f: &Value) -> i64 {
    f["severity_id"].as_i64().unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn techniques(f: &Value) -> Vec<String> {
    f["finding_info"]["attacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["sub_technique"]["uid"]
                .as_str()
                .or(a["technique"]["uid"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn evidence_of(f: &Value, leg: &str) -> Vec<Value> {
    f["evidences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == leg)
        .cloned()
        .collect()
}

#[test]
fn the_whole_chain_is_one_critical_finding_in_event_xml_and_in_nxlog_json() {
    let mut w = WinLog::new();
    let ids = attack(&mut w, true, true);
    let (conn, ssl) = sensor();
    let xml = replay(
        &[
            ("windows.xml", w.render(Shape::Xml)),
            ("conn.log", conn.clone()),
            ("ssl.log", ssl.clone()),
        ],
        &config(""),
    );
    assert_eq!(xml.summary.total_errors(), 0);
    let f = only(&xml);
    assert_eq!(xml.creations().values().sum::<usize>(), 1, "created once");
    assert_eq!(f["finding_info"]["analytic"]["uid"], "AN0677");
    assert_eq!(
        severity(&f),
        5,
        "critical: medium + egress + encrypted archive: {f:#}"
    );
    assert_eq!(
        strings(&f["unmapped"]["legs"]),
        ["exec", "export", "archive", "egress"]
    );
    assert_eq!(techniques(&f), ["T1213.006", "T1560.001", "T1567.002"]);
    assert_eq!(f["device"]["hostname"], "ws01");
    assert_eq!(f["unmapped"]["entities"]["user"], "alice");
    assert_eq!(f["unmapped"]["entities"]["file"], EXPORT);
    assert_eq!(
        f["unmapped"]["entities"]["destination"],
        "content.dropboxapi.com"
    );
    let related = related_ids(&f);
    for id in [
        &ids.exec_4688,
        &ids.exec_sysmon,
        &ids.export,
        &ids.archiver,
        &ids.archive,
        &ids.connection,
    ] {
        assert!(related.contains(id), "{id} missing from {related:?}");
    }
    assert!(
        related.contains(&"CupDropbox".to_owned()),
        "the sensor flow: {related:?}"
    );
    assert_eq!(f["start_time"], ms(60.0));
    assert_eq!(f["end_time"], ms(170.2));
    let egress = evidence_of(&f, "egress");
    assert!(
        egress
            .iter()
            .any(|e| e["dst_endpoint"]["hostname"] == "content.dropboxapi.com"),
        "{egress:#?}"
    );
    let risk = f["risk_details"].as_str().unwrap();
    assert!(
        risk.contains("under cmd.exe (OddParentProcesses)"),
        "{risk}"
    );
    assert!(
        risk.contains("password switch (-p)") && !risk.contains("W1nter"),
        "{risk}"
    );
    assert!(risk.contains("48.3 MB"), "{risk}");

    // The same events as NXLog JSON: the same finding, byte for byte.
    let json = replay(
        &[
            ("windows.json", w.render(Shape::Nxlog)),
            ("conn.log", conn),
            ("ssl.log", ssl),
        ],
        &config(""),
    );
    assert_eq!(json.summary.total_errors(), 0);
    assert_eq!(json.latest(), xml.latest());
}

#[test]
fn tool_and_export_alone_are_medium() {
    let mut w = WinLog::new();
    let ids = attack(&mut w, false, false);
    let f = only(&run(&w.render(Shape::Xml)));
    assert_eq!(severity(&f), 3);
    assert_eq!(strings(&f["unmapped"]["legs"]), ["exec", "export"]);
    // Same time: by id, the Sysmon channel sorts before Security.
    assert_eq!(
        related_ids(&f),
        [ids.exec_sysmon, ids.exec_4688, ids.export]
    );
    assert_eq!(f["finding_info"]["related_events_count"], 3);
}

#[test]
fn each_leg_alone_is_not_a_finding() {
    let mut exec = WinLog::new();
    exec.sysmon_1(60.0, WS01, ALICE, TOOL, "sqlcmd -Q x", SHELL);
    let mut export = WinLog::new();
    export.sysmon_11(60.0, WS01, Some(ALICE), TOOL, EXPORT);
    let mut egress = WinLog::new();
    egress.sysmon_3(
        60.0,
        WS01,
        ALICE,
        RCLONE,
        ("10.0.1.20", 50110),
        ("162.125.1.14", 443),
        "-",
    );
    let mut exec_egress = WinLog::new();
    exec_egress.sysmon_1(60.0, WS01, ALICE, TOOL, "sqlcmd -Q x", SHELL);
    exec_egress.sysmon_3(
        70.0,
        WS01,
        ALICE,
        RCLONE,
        ("10.0.1.20", 50110),
        ("162.125.1.14", 443),
        "-",
    );
    for (name, w) in [
        ("exec", exec),
        ("export", export),
        ("egress", egress),
        ("exec+egress", exec_egress),
    ] {
        let r = run(&w.render(Shape::Xml));
        assert!(r.findings.is_empty(), "{name}: {:#?}", r.findings);
        assert!(r.summary.total_events() > 0, "{name}: events were read");
    }
}

#[test]
fn an_export_just_outside_the_window_is_not_a_finding() {
    // Sysmon 11 of the older schema (no `User`): the tree ties it.
    let mut outside = WinLog::new();
    outside.sysmon_1(60.0, WS01, ALICE, TOOL, "sqlcmd -Q x", SHELL);
    outside.sysmon_11(60.0 + 600.5, WS01, None, TOOL, EXPORT);
    assert!(run(&outside.render(Shape::Xml)).findings.is_empty());
    let mut inside = WinLog::new();
    inside.sysmon_1(60.0, WS01, ALICE, TOOL, "sqlcmd -Q x", SHELL);
    inside.sysmon_11(60.0 + 599.0, WS01, None, TOOL, EXPORT);
    assert_eq!(severity(&only(&run(&inside.render(Shape::Xml)))), 3);
}

#[test]
fn another_users_files_and_another_hosts_traffic_do_not_count() {
    let mut w = WinLog::new();
    attack(&mut w, false, false);
    let excel = Proc {
        guid: "{6f1d2a3b-6000-67b4-7003-000000001100}",
        pid: 9100,
        image: r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE",
    };
    // bob's workbook on ws01 (his own process, his own profile).
    w.sysmon_1(80.0, WS01, BOB, excel, "EXCEL.EXE", SHELL);
    w.sysmon_11(
        90.0,
        WS01,
        Some(BOB),
        excel,
        r"C:\Users\bob\Documents\q1.xlsx",
    );
    // alice's rclone on ws02.
    w.sysmon_3(
        170.0,
        WS02,
        ALICE,
        RCLONE,
        ("10.0.1.21", 50110),
        ("162.125.1.14", 443),
        "-",
    );
    let mut conn = ZeekLog::conn();
    conn.flow(
        171.0,
        "Cws02",
        "10.0.1.21",
        "162.125.1.14",
        443,
        90_000_000,
        1_000,
    );
    let r = replay(
        &[
            ("windows.xml", w.render(Shape::Xml)),
            ("conn.log", conn.render()),
        ],
        &config(""),
    );
    let f = only(&r);
    assert_eq!(severity(&f), 3);
    assert_eq!(strings(&f["unmapped"]["legs"]), ["exec", "export"]);
}

#[test]
fn allowed_accounts_and_scheduled_jobs_are_not_the_exec_leg() {
    let mut w = WinLog::new();
    attack(&mut w, false, false);
    let cfg = config("[analytics.AN0677.tunables]\nAllowedAccounts = [\"CORP\\\\alice\"]\n");
    let r = replay(&[("windows.xml", w.render(Shape::Xml))], &cfg);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);

    // The same tool from SQL Server Agent (its normal parent, its normal
    // path) writing a backup to a profile: not an exec.
    let agent = Proc {
        guid: "{6f1d2a3b-0001-67b4-0b00-000000001100}",
        pid: 2300,
        image: r"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\SQLAGENT.EXE",
    };
    let mut job = WinLog::new();
    job.sysmon_1(60.0, WS01, r"CORP\svc-sql", TOOL, "sqlcmd -Q BACKUP", agent);
    job.sysmon_11(
        65.0,
        WS01,
        Some(r"CORP\svc-sql"),
        TOOL,
        r"C:\Users\svc-sql\crm.bak",
    );
    assert!(run(&job.render(Shape::Xml)).findings.is_empty());
}

/// The real sqlcmd 4688 of the corpus (mdecrevoisier/EVTX-to-MITRE-Attack,
/// CC0: `SQLCMD.EXE` from the SQL Server path, parent cmd.exe, pid 0x1204)
/// with a Sysmon 11 written here: the same pid creating an export a minute
/// later on the same host.
#[test]
fn the_real_sqlcmd_4688_with_an_export_by_its_pid_is_a_finding() {
    let corpus = include_str!("../fixtures/corpus/windows/security-4688_sqlcmd_mdecrevoisier.xml");
    let sysmon_11 = "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System><Provider Name=\"Microsoft-Windows-Sysmon\" Guid=\"{5770385f-c22a-43e0-bf4c-06f5698ffbd9}\"/><EventID>11</EventID><Version>2</Version><Level>4</Level><Task>11</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime=\"2021-02-03T15:34:02.5551234Z\"/><EventRecordID>51133</EventRecordID><Correlation/><Execution ProcessID=\"1100\" ThreadID=\"1740\"/><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>mssql01.offsec.lan</Computer><Security UserID=\"S-1-5-18\"/></System><EventData><Data Name=\"RuleName\">-</Data><Data Name=\"UtcTime\">2021-02-03 15:34:02.548</Data><Data Name=\"ProcessGuid\">{7cf65fc7-c18c-601a-1a05-000000001b00}</Data><Data Name=\"ProcessId\">4612</Data><Data Name=\"Image\">C:\\Program Files\\Microsoft SQL Server\\Client SDK\\ODBC\\110\\Tools\\Binn\\SQLCMD.EXE</Data><Data Name=\"TargetFilename\">C:\\Users\\admmig\\Desktop\\logins.csv</Data><Data Name=\"CreationUtcTime\">2021-02-03 15:34:02.548</Data></EventData></Event>\n";
    let r = replay(
        &[
            ("security.xml", corpus.to_owned()),
            ("sysmon.xml", sysmon_11.to_owned()),
        ],
        "",
    );
    assert_eq!(r.summary.total_errors(), 0);
    let f = only(&r);
    assert_eq!(f["device"]["hostname"], "mssql01");
    assert_eq!(f["unmapped"]["entities"]["user"], "admmig");
    assert_eq!(f["unmapped"]["entities"]["process"], "SQLCMD.EXE");
    assert_eq!(
        related_ids(&f),
        [
            "mssql01.offsec.lan:Security:1617340",
            "mssql01.offsec.lan:Microsoft-Windows-Sysmon/Operational:51133"
        ]
    );
    assert!(
        f["risk_details"]
            .as_str()
            .unwrap()
            .contains("under cmd.exe")
    );
}

#[test]
fn sensor_volume_through_the_inventory_is_egress_and_small_flows_are_not() {
    let mut w = WinLog::new();
    attack(&mut w, false, false);
    let mut conn = ZeekLog::conn();
    conn.flow(
        100.0,
        "Csmall",
        "10.0.1.20",
        "203.0.113.80",
        443,
        9_000_000,
        5_000,
    );
    let r = replay(
        &[
            ("windows.xml", w.render(Shape::Xml)),
            ("conn.log", conn.render()),
        ],
        &config(""),
    );
    assert_eq!(severity(&only(&r)), 3, "9 MB is below MaxTransferVolume");
    conn.flow(
        140.0,
        "Cbig",
        "10.0.1.20",
        "203.0.113.80",
        443,
        12_000_000,
        5_000,
    );
    let r = replay(
        &[
            ("windows.xml", w.render(Shape::Xml)),
            ("conn.log", conn.render()),
        ],
        &config(""),
    );
    let f = only(&r);
    assert_eq!(severity(&f), 4, "9 + 12 MB: {f:#}");
    assert_eq!(techniques(&f), ["T1213.006", "T1048"]);
    let egress: Vec<String> = evidence_of(&f, "egress")
        .iter()
        .map(|e| e["uid"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(evidence_of(&f, "egress").len(), 2, "{egress:?}");
    // Without the inventory the flows name no host.
    let r = replay(
        &[
            ("windows.xml", w.render(Shape::Xml)),
            ("conn.log", conn.render()),
        ],
        "",
    );
    assert_eq!(severity(&only(&r)), 3);
    // A higher MaxTransferVolume keeps it medium.
    let cfg = config("[analytics.AN0677.tunables]\nMaxTransferVolume = \"50MB\"\n");
    let r = replay(
        &[
            ("windows.xml", w.render(Shape::Xml)),
            ("conn.log", conn.render()),
        ],
        &cfg,
    );
    assert_eq!(severity(&only(&r)), 3);
}

fn order_independent(w: &WinLog, baseline: &Replay, order: &[usize]) {
    let (conn, ssl) = sensor();
    let r = replay(
        &[
            ("windows.xml", w.render_order(order, Shape::Xml)),
            ("conn.log", conn),
            ("ssl.log", ssl),
        ],
        &config(""),
    );
    assert_eq!(r.latest(), baseline.latest(), "order {order:?}");
    assert!(
        r.creations().values().all(|&n| n == 1),
        "order {order:?}: {:?}",
        r.creations()
    );
}

/// alice's whole chain on ws01 and bob's bcp export on ws02.
fn busy_morning() -> WinLog {
    let mut w = WinLog::new();
    attack(&mut w, true, true);
    let bcp = Proc {
        guid: "{6f1d2a3b-7000-67b4-8003-000000001100}",
        pid: 5100,
        image: r"C:\Users\bob\Downloads\bcp.exe",
    };
    let ps = Proc {
        guid: "{6f1d2a3b-6fff-67b4-8003-000000001100}",
        pid: 5000,
        image: r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
    };
    w.sysmon_1(
        200.0,
        WS02,
        BOB,
        bcp,
        r"bcp crm.dbo.orders out C:\Users\bob\o.csv -c -T -S sql01",
        ps,
    );
    w.sysmon_11(203.0, WS02, Some(BOB), bcp, r"C:\Users\bob\o.csv");
    w.sysmon_1(
        210.0,
        WS02,
        BOB,
        Proc {
            guid: "{n}",
            pid: 1,
            image: r"C:\Windows\notepad.exe",
        },
        "notepad",
        ps,
    );
    w
}

#[test]
fn reversed_and_interleaved_arrival_give_the_same_findings() {
    let w = busy_morning();
    let (conn, ssl) = sensor();
    let baseline = replay(
        &[
            ("windows.xml", w.render(Shape::Xml)),
            ("conn.log", conn),
            ("ssl.log", ssl),
        ],
        &config(""),
    );
    assert_eq!(baseline.latest().len(), 2, "{:#?}", baseline.findings);
    let n = w.len();
    order_independent(&w, &baseline, &(0..n).rev().collect::<Vec<_>>());
    let mut odd_even: Vec<usize> = (0..n).filter(|i| i % 2 == 1).collect();
    odd_even.extend((0..n).filter(|i| i % 2 == 0));
    order_independent(&w, &baseline, &odd_even);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]
    #[test]
    fn any_arrival_order_gives_the_same_findings(order in Just((0..busy_morning().len()).collect::<Vec<usize>>()).prop_shuffle()) {
        let w = busy_morning();
        let (conn, ssl) = sensor();
        let baseline = replay(
            &[("windows.xml", w.render(Shape::Xml)), ("conn.log", conn), ("ssl.log", ssl)],
            &config(""),
        );
        order_independent(&w, &baseline, &order);
    }
}

#[test]
fn duplicated_events_give_no_second_finding_and_no_double_evidence() {
    let mut w = WinLog::new();
    attack(&mut w, true, true);
    let (conn, ssl) = sensor();
    let files = |log: String| {
        replay(
            &[
                ("windows.xml", log),
                ("conn.log", conn.clone()),
                ("ssl.log", ssl.clone()),
            ],
            &config(""),
        )
    };
    let baseline = files(w.render(Shape::Xml));
    let twice: Vec<usize> = (0..w.len()).flat_map(|i| [i, i]).collect();
    let r = files(w.render_order(&twice, Shape::Xml));
    assert_eq!(r.latest(), baseline.latest());
    assert_eq!(r.creations().values().sum::<usize>(), 1);
    let f = only(&r);
    let ids = related_ids(&f);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "no duplicate evidence: {ids:?}");
    assert_eq!(uid(&f), uid(&only(&baseline)));
}

/// The Winlogbeat samples the normalizer's fixtures hold (written from
/// Elastic's documentation, `tests/fixtures/written/windows/README.md`):
/// raw Winlogbeat 8 (bcp to Temp, then PowerShell uploads) and Winlogbeat 7
/// with its modules (ECS: sqlcmd backup to Downloads, rclone to Dropbox).
#[test]
fn the_winlogbeat_samples_raw_and_ecs_are_two_findings() {
    let raw = include_str!("../fixtures/written/windows/winlogbeat-8-raw_bcp-export.jsonl");
    let ecs =
        include_str!("../fixtures/written/windows/winlogbeat-7-ecs_sqlcmd-backup-upload.jsonl");
    let r = replay(
        &[("raw.json", raw.to_owned()), ("ecs.json", ecs.to_owned())],
        "",
    );
    assert_eq!(r.summary.total_errors(), 0);
    let latest = r.latest();
    assert_eq!(latest.len(), 2, "{:#?}", r.findings);
    let mut findings: Vec<&Value> = latest.values().collect();
    findings.sort_by_key(|f| f["start_time"].as_i64());
    let (bcp, sqlcmd) = (findings[0], findings[1]);
    for f in [bcp, sqlcmd] {
        assert_eq!(f["device"]["hostname"], "sqlwks07");
        assert_eq!(f["unmapped"]["entities"]["user"], "jdoe");
        assert_eq!(
            severity(f),
            4,
            "exec + export + egress by jdoe's connection: {f:#}"
        );
    }
    assert_eq!(bcp["unmapped"]["entities"]["process"], "bcp.exe");
    assert_eq!(
        bcp["unmapped"]["entities"]["file"],
        r"C:\Users\jdoe\AppData\Local\Temp\cust.csv"
    );
    assert_eq!(techniques(bcp), ["T1213.006", "T1048"]);
    assert_eq!(
        related_ids(bcp),
        [
            // Sysmon's UtcTime is a millisecond before the 4688.
            "SQLWKS07.corp.example:Microsoft-Windows-Sysmon/Operational:55310",
            "SQLWKS07.corp.example:Security:901187",
            "SQLWKS07.corp.example:Microsoft-Windows-Sysmon/Operational:55318",
            "SQLWKS07.corp.example:Microsoft-Windows-Sysmon/Operational:55334",
        ]
    );
    assert!(
        bcp["risk_details"]
            .as_str()
            .unwrap()
            .contains("under powershell.exe")
    );
    // crm.7z is the first export, so not an archive of one; rclone's DNS
    // answer names the destination Dropbox.
    assert_eq!(
        strings(&sqlcmd["unmapped"]["legs"]),
        ["exec", "export", "egress"]
    );
    assert_eq!(techniques(sqlcmd), ["T1213.006", "T1567.002"]);
    assert_eq!(
        sqlcmd["unmapped"]["entities"]["destination"],
        "content.dropboxapi.com"
    );
}
