//! AN0678 (macOS) end to end: eslogger messages and a unified-log launch
//! written here (see `an0678/eslog.rs`) and Zeek logs, with the inventory
//! naming uids, groups and the Mac's address, replayed through the shipped
//! component.

mod eslog;

use dumpwatch_tests::{Replay, ZeekLog, ms, related_ids, replay};
use eslog::{EsLog, Proc, launch_log};
use proptest::prelude::*;
use serde_json::Value;

const MBP: &str = "mbp01";
const ALICE: u32 = 502;
const DANA: u32 = 503;
const CSV: &str = "/Users/alice/Downloads/orders_export.csv";
const PART: &str = "/Users/alice/Downloads/orders_export.csv.part";

const LAUNCHD: Proc = Proc {
    pid: 1,
    version: 1,
    image: "/sbin/launchd",
};
const XPCPROXY: Proc = Proc {
    pid: 5200,
    version: 20000,
    image: "/usr/libexec/xpcproxy",
};
const DBEAVER: Proc = Proc {
    pid: 5200,
    version: 20001,
    image: "/Applications/DBeaver.app/Contents/MacOS/dbeaver",
};
const TERMINAL_ZSH: Proc = Proc {
    pid: 5300,
    version: 20100,
    image: "/bin/zsh",
};
const FORKED_ZSH: Proc = Proc {
    pid: 5310,
    version: 20110,
    image: "/bin/zsh",
};
const PSQL: Proc = Proc {
    pid: 5310,
    version: 20111,
    image: "/opt/homebrew/bin/psql",
};

/// The inventory: mbp01 at 10.0.2.30; alice (502) is staff, dana (503) a
/// developer.
fn config(extra: &str) -> String {
    format!(
        "[inventory.hosts.mbp01]\naddresses = [\"10.0.2.30\"]\n[inventory.hosts.mbp02]\naddresses = [\"10.0.2.31\"]\n\
         [inventory.users]\n502 = \"alice\"\n503 = \"dana\"\n[inventory.groups]\nalice = [\"staff\"]\ndana = [\"staff\", \"dev\"]\n{extra}"
    )
}

struct Ids {
    exec: String,
    export: String,
}

/// DBeaver launched from Finder exports a table into Downloads the way it
/// does: a `.part` file created, written, closed, renamed.
fn dbeaver_export(es: &mut EsLog, at: f64) -> Ids {
    let exec = es.exec(at, XPCPROXY, DBEAVER, LAUNCHD, &[DBEAVER.image]);
    es.create(at + 40.0, DBEAVER, LAUNCHD, PART);
    es.write(at + 40.5, DBEAVER, LAUNCHD, PART);
    es.close_modified(at + 41.0, DBEAVER, LAUNCHD, PART);
    let export = es.rename(at + 41.2, DBEAVER, LAUNCHD, PART, CSV);
    Ids { exec, export }
}

/// The Dropbox client syncing Downloads a minute later, seen by the sensor.
fn dropbox_sync(from: &str, secs: f64) -> String {
    let mut ssl = ZeekLog::ssl();
    ssl.tls(
        secs,
        "CsyncDbx",
        from,
        "162.125.1.14",
        "content.dropboxapi.com",
    );
    ssl.render()
}

fn only(r: &Replay) -> Value {
    let latest = r.latest();
    assert_eq!(latest.len(), 1, "findings: {:#?}", r.findings);
    latest.into_values().next().unwrap()
}

fn severity(f: &Value) -> i64 {
    f["severity_id"].as_i64().unwrap()
}

fn legs(f: &Value) -> Vec<String> {
    f["unmapped"]["legs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_staff_users_dbeaver_export_then_cloud_sync_is_one_critical_finding() {
    let mut es = EsLog::new(Some(MBP), ALICE);
    let ids = dbeaver_export(&mut es, 60.0);
    let r = replay(
        &[
            ("es.jsonl", es.render()),
            ("ssl.log", dropbox_sync("10.0.2.30", 160.0)),
        ],
        &config(""),
    );
    assert_eq!(r.summary.total_errors(), 0);
    let f = only(&r);
    assert_eq!(r.creations().values().sum::<usize>(), 1);
    assert_eq!(f["finding_info"]["analytic"]["uid"], "AN0678");
    assert_eq!(
        severity(&f),
        5,
        "medium + low privilege + cloud sync: {f:#}"
    );
    assert_eq!(legs(&f), ["exec", "export", "egress"]);
    assert_eq!(f["device"]["hostname"], MBP);
    assert_eq!(f["unmapped"]["entities"]["user"], "alice");
    assert_eq!(f["unmapped"]["entities"]["process"], "DBeaver.app");
    assert_eq!(f["unmapped"]["entities"]["file"], CSV);
    assert_eq!(
        f["unmapped"]["entities"]["destination"],
        "content.dropboxapi.com"
    );
    assert_eq!(
        related_ids(&f),
        [ids.exec, ids.export, "CsyncDbx".to_owned()]
    );
    assert_eq!(f["start_time"], ms(60.0));
    assert_eq!(f["end_time"], ms(160.0));
    let attacks: Vec<&str> = f["finding_info"]["attacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["sub_technique"]["uid"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(attacks, ["T1213.006", "T1567.002"]);
    let risk = f["risk_details"].as_str().unwrap();
    assert!(risk.contains("groups: staff"), "{risk}");
}

#[test]
fn tool_and_export_are_raised_for_a_known_low_privilege_user_as_configured() {
    let mut es = EsLog::new(Some(MBP), ALICE);
    dbeaver_export(&mut es, 60.0);
    let f = only(&replay(&[("es.jsonl", es.render())], &config("")));
    assert_eq!(severity(&f), 4, "medium + 1");
    assert_eq!(legs(&f), ["exec", "export"]);
    let cfg = config("[analytics.AN0678.tunables]\nLowPrivilegeRaise = 0\n");
    assert_eq!(
        severity(&only(&replay(&[("es.jsonl", es.render())], &cfg))),
        3
    );
}

#[test]
fn developers_and_privileged_users_are_not_the_exec_leg() {
    let mut dana = EsLog::new(Some(MBP), DANA);
    dbeaver_export(&mut dana, 60.0);
    let r = replay(&[("es.jsonl", dana.render())], &config(""));
    assert!(
        r.findings.is_empty(),
        "dana is in group dev: {:#?}",
        r.findings
    );
    let mut alice = EsLog::new(Some(MBP), ALICE);
    dbeaver_export(&mut alice, 60.0);
    let cfg = config("[analytics.AN0678.tunables]\nUserPrivilegeLevel = [\"admin\", \"alice\"]\n");
    assert!(
        replay(&[("es.jsonl", alice.render())], &cfg)
            .findings
            .is_empty()
    );
}

#[test]
fn a_user_the_inventory_does_not_know_is_medium_with_an_unknown_role() {
    let mut es = EsLog::new(Some(MBP), 777);
    dbeaver_export(&mut es, 60.0);
    let f = only(&replay(&[("es.jsonl", es.render())], &config("")));
    assert_eq!(severity(&f), 3);
    assert_eq!(f["unmapped"]["entities"]["user"], "777");
    assert!(
        f["risk_details"]
            .as_str()
            .unwrap()
            .contains("role of 777 is unknown")
    );
}

#[test]
fn a_shell_redirect_into_desktop_is_psqls_export() {
    // `psql -c "select * from customers" > ~/Desktop/c.sql` in Terminal:
    // the forked zsh opens the file, then execs psql (same pid).
    let mut es = EsLog::new(Some(MBP), ALICE);
    let opened = es.create(59.9, FORKED_ZSH, TERMINAL_ZSH, "/Users/alice/Desktop/c.sql");
    let exec = es.exec(
        60.0,
        FORKED_ZSH,
        PSQL,
        TERMINAL_ZSH,
        &["psql", "-h", "prod-db", "-c", "select * from customers"],
    );
    let closed = es.close_modified(63.0, PSQL, TERMINAL_ZSH, "/Users/alice/Desktop/c.sql");
    let f = only(&replay(&[("es.jsonl", es.render())], &config("")));
    assert_eq!(related_ids(&f), [opened, exec, closed]);
    assert_eq!(f["unmapped"]["entities"]["process"], "psql");
    assert_eq!(f["start_time"], ms(59.9));
}

#[test]
fn a_unified_log_launch_ties_to_eslogger_files_by_pid() {
    // Neither the unified log nor this eslogger output names the host:
    // both fall under the same unknown host.
    let launch = launch_log(
        60.0,
        "/Applications/TablePlus.app",
        "TablePlus",
        5301,
        ALICE,
    );
    let tableplus = Proc {
        pid: 5301,
        version: 20400,
        image: "/Applications/TablePlus.app/Contents/MacOS/TablePlus",
    };
    let mut es = EsLog::new(None, ALICE);
    let export = es.create(
        90.0,
        tableplus,
        LAUNCHD,
        "/Users/alice/Documents/users.xlsx",
    );
    let r = replay(
        &[("unified.ndjson", launch), ("es.jsonl", es.render())],
        &config(""),
    );
    assert_eq!(r.summary.total_errors(), 0);
    let f = only(&r);
    let related = related_ids(&f);
    assert!(related[0].starts_with("launch:"), "{related:?}");
    assert_eq!(related[1], export);
    assert_eq!(f["unmapped"]["entities"]["process"], "TablePlus.app");
}

#[test]
fn partial_chains_other_hosts_and_late_exports_are_not_findings() {
    let mut exec_only = EsLog::new(Some(MBP), ALICE);
    exec_only.exec(60.0, XPCPROXY, DBEAVER, LAUNCHD, &[DBEAVER.image]);
    let mut export_only = EsLog::new(Some(MBP), ALICE);
    export_only.create(60.0, DBEAVER, LAUNCHD, CSV);
    let mut late = EsLog::new(Some(MBP), ALICE);
    late.exec(60.0, XPCPROXY, DBEAVER, LAUNCHD, &[DBEAVER.image]);
    late.create(60.0 + 601.0, DBEAVER, LAUNCHD, CSV);
    let mut other_writer = EsLog::new(Some(MBP), ALICE);
    other_writer.exec(60.0, XPCPROXY, DBEAVER, LAUNCHD, &[DBEAVER.image]);
    let safari = Proc {
        pid: 900,
        version: 10,
        image: "/Applications/Safari.app/Contents/MacOS/Safari",
    };
    other_writer.create(90.0, safari, LAUNCHD, CSV);
    for (name, es) in [
        ("exec", exec_only),
        ("export", export_only),
        ("late", late),
        ("safari", other_writer),
    ] {
        let r = replay(
            &[
                ("es.jsonl", es.render()),
                ("ssl.log", dropbox_sync("10.0.2.30", 200.0)),
            ],
            &config(""),
        );
        assert!(r.findings.is_empty(), "{name}: {:#?}", r.findings);
    }
    // Cloud sync from another Mac does not raise alice's finding.
    let mut es = EsLog::new(Some(MBP), ALICE);
    dbeaver_export(&mut es, 60.0);
    let r = replay(
        &[
            ("es.jsonl", es.render()),
            ("ssl.log", dropbox_sync("10.0.2.31", 160.0)),
        ],
        &config(""),
    );
    assert_eq!(legs(&only(&r)), ["exec", "export"]);
}

/// alice's DBeaver export and sync, plus her psql redirect later.
fn busy_morning() -> EsLog {
    let mut es = EsLog::new(Some(MBP), ALICE);
    dbeaver_export(&mut es, 60.0);
    es.create(
        899.9,
        FORKED_ZSH,
        TERMINAL_ZSH,
        "/Users/alice/Desktop/c.sql",
    );
    es.exec(
        900.0,
        FORKED_ZSH,
        PSQL,
        TERMINAL_ZSH,
        &["psql", "-c", "select 1"],
    );
    es.close_modified(903.0, PSQL, TERMINAL_ZSH, "/Users/alice/Desktop/c.sql");
    es
}

fn order_independent(es: &EsLog, baseline: &Replay, order: &[usize]) {
    let r = replay(
        &[
            ("es.jsonl", es.render_order(order)),
            ("ssl.log", dropbox_sync("10.0.2.30", 160.0)),
        ],
        &config(""),
    );
    assert_eq!(r.latest(), baseline.latest(), "order {order:?}");
    assert!(r.creations().values().all(|&n| n == 1), "order {order:?}");
}

#[test]
fn reversed_and_interleaved_arrival_give_the_same_findings() {
    let es = busy_morning();
    let baseline = replay(
        &[
            ("es.jsonl", es.render()),
            ("ssl.log", dropbox_sync("10.0.2.30", 160.0)),
        ],
        &config(""),
    );
    assert_eq!(baseline.latest().len(), 2, "{:#?}", baseline.findings);
    let n = es.len();
    order_independent(&es, &baseline, &(0..n).rev().collect::<Vec<_>>());
    let mut odd_even: Vec<usize> = (0..n).filter(|i| i % 2 == 1).collect();
    odd_even.extend((0..n).filter(|i| i % 2 == 0));
    order_independent(&es, &baseline, &odd_even);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]
    #[test]
    fn any_arrival_order_gives_the_same_findings(order in Just((0..busy_morning().len()).collect::<Vec<usize>>()).prop_shuffle()) {
        let es = busy_morning();
        let baseline = replay(
            &[("es.jsonl", es.render()), ("ssl.log", dropbox_sync("10.0.2.30", 160.0))],
            &config(""),
        );
        order_independent(&es, &baseline, &order);
    }
}

#[test]
fn duplicated_messages_give_no_second_finding() {
    let es = busy_morning();
    let files = |log: String| {
        replay(
            &[
                ("es.jsonl", log),
                ("ssl.log", dropbox_sync("10.0.2.30", 160.0)),
            ],
            &config(""),
        )
    };
    let baseline = files(es.render());
    let twice: Vec<usize> = (0..es.len()).flat_map(|i| [i, i]).collect();
    let r = files(es.render_order(&twice));
    assert_eq!(r.latest(), baseline.latest());
    assert_eq!(r.creations().values().sum::<usize>(), 2);
    let again = files(format!("{}{}", es.render(), es.render()));
    assert_eq!(again.latest(), baseline.latest());
}
