//! Hostile analytics next to the shipped ones: each a real component built
//! in the workspace (`guests/testing/`), misbehaving on a trigger event.
//! For each: the other analytics keep running and find what they find
//! without it, no event is lost (every marker event is either processed
//! exactly once or recorded in the analytic dead-letter file with the
//! reason), and the failure is reported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use dumpwatch_runtime::convert::event_to_wit;
use dumpwatch_runtime::{AnalyticModule, CallError, Limits, Runtime, wit};
use dumpwatch_tests::{
    Audit, Replay, Who, dump_start, replay, replay_with, scenario_config, test_module,
};
use serde_json::Value;

const DB01: &str = "db01";

/// A stream of `markers` marker process starts on host h1, a trigger at
/// position `trigger` (if any), and alice's dump-and-upload on db01 around
/// them (AN0676 finds it).
fn stream(markers: usize, triggers: &[usize]) -> (String, Vec<String>) {
    let mut a = Audit::new();
    let mut ids = Vec::new();
    let alice = Who::user(1001);
    a.write(
        10.0,
        DB01,
        5210,
        5100,
        alice,
        "/usr/bin/bash",
        "/tmp/shop.sql",
    )
    .exec(
        10.002,
        DB01,
        5210,
        5100,
        alice,
        "/usr/bin/pg_dump",
        &["pg_dump", "shop"],
    );
    for k in 0..markers {
        let t = 20.0 + k as f64 * 0.5;
        if triggers.contains(&k) {
            a.exec(
                t - 0.1,
                "h1",
                90_000 + k as u32,
                1,
                Who::user(3000),
                "/usr/bin/hostile-trigger",
                &["hostile-trigger"],
            );
            ids.push(a.last_id("h1"));
        }
        let exe = format!("/usr/bin/marker-{k}");
        a.exec(
            t,
            "h1",
            70_000 + k as u32,
            1,
            Who::user(3000),
            &exe,
            &[&format!("marker-{k}")],
        );
        ids.push(a.last_id("h1"));
    }
    a.connect(
        20.0 + markers as f64 * 0.5 + 5.0,
        DB01,
        5230,
        5100,
        alice,
        "/usr/bin/curl",
        "203.0.113.50",
        443,
    );
    (a.render(), ids)
}

fn config(dir: &Path, extra: &str) -> String {
    config_with_memory(dir, "64MiB", extra)
}

fn config_with_memory(dir: &Path, memory: &str, extra: &str) -> String {
    scenario_config(&format!(
        "[engine]\nbatch_size = 16\nanalytic_dead_letter = \"{}\"\n[limits]\ncall_timeout = \"1s\"\nmemory = \"{memory}\"\nmax_findings_per_call = 1000\n{extra}",
        dir.join("analytic-dead-letter.ndjson").display()
    ))
}

fn by_analytic(r: &Replay, id: &str) -> BTreeMap<String, Value> {
    r.latest()
        .into_iter()
        .filter(|(_, f)| f["finding_info"]["analytic"]["uid"] == id)
        .collect()
}

fn dead_lettered(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("analytic-dead-letter.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn line<'a>(r: &'a Replay, id: &str) -> &'a dumpwatch_pipeline::summary::AnalyticLine {
    r.summary
        .analytics
        .iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("{id} not loaded"))
}

/// Run the stream with a hostile guest and check the promises.
fn survives(guest: &str, id: &str, reason: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let (log, ids) = stream(60, &[30]);
    let baseline = replay(&[("audit.log", log.clone())], &config(tmp.path(), ""));
    let expected = by_analytic(&baseline, "AN0676");
    assert_eq!(expected.len(), 1);

    let r = replay_with(
        &[("audit.log", log)],
        &config(tmp.path(), ""),
        vec![test_module(guest)],
    );
    assert_eq!(
        by_analytic(&r, "AN0676"),
        expected,
        "{guest}: AN0676 is unaffected"
    );
    let hostile = line(&r, id);
    assert!(
        hostile.stats.failures >= 1,
        "{guest}: the failure is counted"
    );
    assert!(
        !hostile.quarantined,
        "{guest}: one failure is not a crash loop"
    );

    // No event lost: processed exactly once, or dead-lettered with reason.
    let processed: BTreeSet<String> = by_analytic(&r, id).into_keys().collect();
    let dl = dead_lettered(tmp.path());
    assert!(!dl.is_empty(), "{guest}: the failing batch is recorded");
    for d in &dl {
        assert_eq!(d["analytic"], id);
        let why = d["reason"].as_str().unwrap();
        assert!(
            why.contains(reason),
            "{guest}: reason {why:?} should mention {reason:?}"
        );
    }
    let dead: BTreeSet<String> = dl
        .iter()
        .map(|d| d["event"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        processed.is_disjoint(&dead),
        "{guest}: an event both processed and dead-lettered"
    );
    for id_ in &ids {
        if id_.contains("h1") && !processed.contains(id_) && !dead.contains(id_) {
            // The trigger itself yields no finding; everything else must.
            let trigger = dl.iter().any(|d| d["event"]["id"] == id_.as_str());
            assert!(trigger, "{guest}: event {id_} was lost");
        }
    }
    assert!(
        r.creations().values().all(|&n| n == 1),
        "{guest}: a finding was duplicated"
    );
}

#[test]
fn an_infinite_loop_is_stopped_by_the_deadline() {
    survives("hostile-loop", "TEST-LOOP", "deadline");
}

#[test]
fn a_memory_bomb_is_stopped_by_the_cap() {
    survives("hostile-memory", "TEST-MEMORY", "memory");
}

#[test]
fn a_panic_is_a_trap_and_the_analytic_is_rebuilt() {
    survives("hostile-trap", "TEST-TRAP", "trapped");
}

/// `guest`, whose snapshots fail from its trigger on, next to the shipped
/// analytics: a failure counted, not a lost checkpoint. The checkpoint
/// commits for the others, so the run ends normally and AN0676's finding is
/// the same; every marker is processed once, before and after the trigger.
fn snapshot_fails_alone(guest: &str, id: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let (log, ids) = stream(60, &[30]);
    let baseline = replay(&[("audit.log", log.clone())], &config(tmp.path(), ""));
    let r = replay_with(
        &[("audit.log", log)],
        &config(tmp.path(), ""),
        vec![test_module(guest)],
    );
    assert!(r.summary.fatal.is_none(), "{:?}", r.summary.fatal);
    assert_eq!(by_analytic(&r, "AN0676"), by_analytic(&baseline, "AN0676"));
    let l = line(&r, id);
    assert!(
        l.stats.failures >= 1,
        "{guest}: the failed snapshot is counted"
    );
    let processed: BTreeSet<String> = by_analytic(&r, id).into_keys().collect();
    let markers: BTreeSet<String> = ids[..30].iter().chain(&ids[31..]).cloned().collect();
    assert_eq!(processed, markers);
    assert!(
        r.creations().values().all(|&n| n == 1),
        "{guest}: a finding was duplicated"
    );
}

#[test]
fn a_snapshot_that_is_not_state_frames_is_a_failure_not_a_lost_checkpoint() {
    snapshot_fails_alone("hostile-state", "TEST-STATE");
}

#[test]
fn a_part_of_a_snapshot_handed_over_outside_one_is_a_trap() {
    survives("hostile-stray-part", "TEST-STRAY-PART", "outside snapshot");
}

/// A snapshot handed over in parts without end is refused at the memory
/// limit (what a snapshot returned whole could not pass either), like a
/// trap, and the checkpoint commits for the others.
#[test]
fn a_snapshot_in_parts_without_end_is_stopped_at_the_memory_limit() {
    // The instance on its own: the call fails with the limit as reason.
    let rt = Runtime::new(Limits {
        memory_bytes: 64 << 20,
        ..Limits::default()
    })
    .unwrap();
    let source = test_module("hostile-part-flood");
    let module = AnalyticModule::load(&rt, &source.bytes, &source.origin, None).unwrap();
    let mut instance = module.instantiate(&rt).unwrap();
    instance.configure(&[]).unwrap().unwrap();
    let mut trigger = dump_start("h1".into(), "root".into(), 0, 7, 1_000, "t-1".into());
    if let Some(process) = trigger.process.as_mut() {
        process.name = Some("hostile-trigger".into());
    }
    instance.process(&[event_to_wit(&trigger)]).unwrap();
    match instance.snapshot(wit::SnapshotMode::Full) {
        Err(CallError::Trap(why)) => assert!(
            why.contains("more than 67108864 bytes (the memory limit)"),
            "{why}"
        ),
        other => panic!("the flood is refused: {other:?}"),
    }
    assert!(instance.is_poisoned());

    // In a pipeline: like a garbled snapshot, a failure, not a lost
    // checkpoint.
    snapshot_fails_alone("hostile-part-flood", "TEST-PART-FLOOD");
}

#[test]
fn a_flood_of_findings_is_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let (log, _) = stream(20, &[10]);
    // Enough memory for the guest to build its 200,000 findings: what is
    // tested is the host's bound on what it accepts.
    let cfg = config_with_memory(tmp.path(), "1GiB", "");
    let r = replay_with(
        &[("audit.log", log)],
        &cfg,
        vec![test_module("hostile-flood")],
    );
    let l = line(&r, "TEST-FLOOD");
    assert_eq!(l.stats.failures, 0);
    assert!(l.stats.findings_dropped >= 199_000, "{:?}", l.stats);
    let flood = by_analytic(&r, "TEST-FLOOD");
    assert!(
        flood.len() <= 20 + 1000,
        "at most the limit per call: {}",
        flood.len()
    );
    assert_eq!(by_analytic(&r, "AN0676").len(), 1);
    assert!(r.summary.render().contains("findings dropped"));
}

#[test]
fn wasi_grants_no_files_sockets_environment_or_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let (log, _) = stream(4, &[2]);
    let r = replay_with(
        &[("audit.log", log)],
        &config(tmp.path(), ""),
        vec![test_module("hostile-wasi")],
    );
    let probe = &r.latest()["wasi-probe"];
    let title = probe["finding_info"]["title"].as_str().unwrap();
    assert!(title.contains("file denied"), "{title}");
    assert!(title.contains("socket denied"), "{title}");
    assert!(title.contains("env denied"), "{title}");
    assert!(
        title.contains("clock 0"),
        "the clock reveals nothing: {title}"
    );
    assert_eq!(line(&r, "TEST-WASI").stats.failures, 0);
}

#[test]
fn a_crash_loop_is_quarantined_and_the_pipeline_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let triggers: Vec<usize> = (0..60).step_by(3).collect();
    let (log, _) = stream(60, &triggers);
    let cfg = config(tmp.path(), "max_restarts = 3\n");
    let r = replay_with(
        &[("audit.log", log.clone())],
        &cfg,
        vec![test_module("hostile-trap")],
    );
    let l = line(&r, "TEST-TRAP");
    assert!(l.quarantined, "{:?}", l.stats);
    assert!(r.summary.fatal.is_none());
    assert_eq!(
        by_analytic(&r, "AN0676").len(),
        1,
        "the others keep running"
    );
    assert!(r.summary.render().contains("QUARANTINED"));

    // With the stop policy the pipeline stops instead, and says why.
    let cfg = config(
        tmp.path(),
        "max_restarts = 3\n[analytics.TEST-TRAP]\non_failure = \"stop\"\n",
    );
    let r = replay_with(
        &[("audit.log", log)],
        &cfg,
        vec![test_module("hostile-trap")],
    );
    let fatal = r.summary.fatal.as_deref().unwrap_or_default();
    assert!(
        fatal.contains("TEST-TRAP") && fatal.contains("quarantined"),
        "{fatal}"
    );
}

fn build_error(module: dumpwatch_pipeline::analytics::ModuleSource) -> String {
    let cfg = dumpwatch_config::Config::parse("").unwrap();
    let mut modules: Vec<dumpwatch_pipeline::analytics::ModuleSource> = dumpwatch_bundle::SHIPPED
        .iter()
        .map(|s| dumpwatch_pipeline::analytics::ModuleSource::embedded(s.id, s.wasm))
        .collect();
    modules.push(module);
    match dumpwatch_pipeline::build(&cfg, modules, Vec::new(), &Default::default()) {
        Ok(_) => panic!("the module must be refused"),
        Err(p) => p.join("\n"),
    }
}

#[test]
fn a_core_module_and_a_component_of_another_contract_version_are_refused() {
    // The smallest valid core WebAssembly module.
    let core = dumpwatch_pipeline::analytics::ModuleSource {
        origin: "modules/core.wasm".into(),
        bytes: std::borrow::Cow::Borrowed(b"\0asm\x01\0\0\0"),
        shipped: false,
    };
    let e = build_error(core);
    assert!(
        e.contains("modules/core.wasm") && e.contains("core WebAssembly module"),
        "{e}"
    );
    let e = build_error(test_module("world-v2"));
    assert!(
        e.contains("dumpwatch:analytic@0.2.0") && e.contains("0.1.0"),
        "{e}"
    );
}

/// The runtime counts an instance's linear memory: its initial size, its
/// growth as an analytic opens windows, and never past the cap when a
/// guest tries to take more.
#[test]
fn an_instance_linear_memory_is_metered_up_to_the_cap() {
    use dumpwatch_runtime::convert::event_to_wit;
    use dumpwatch_runtime::{AnalyticModule, Limits, Runtime};

    let cap = 64 << 20;
    let rt = Runtime::new(Limits {
        memory_bytes: cap,
        max_instances: 4,
        ..Default::default()
    })
    .unwrap();
    let an0676 = dumpwatch_bundle::SHIPPED
        .iter()
        .find(|s| s.id == "AN0676")
        .unwrap()
        .wasm;
    let module = AnalyticModule::load(&rt, an0676, "AN0676", None).unwrap();
    let mut inst = module.instantiate(&rt).unwrap();
    inst.configure(&[]).unwrap().unwrap();
    let start = inst.memory_bytes();
    assert!(start >= 65_536 && start.is_multiple_of(65_536), "{start}");
    let batch: Vec<_> = (0..20_000u32)
        .map(|k| {
            event_to_wit(&dumpwatch_tests::dump_start(
                format!("host-{}", k % 50),
                format!("user{k}"),
                10_000 + k,
                1000 + k,
                1_772_445_600_000 + i64::from(k),
                format!("x{k}"),
            ))
        })
        .collect();
    inst.process(&batch).unwrap();
    // Client starts are final once the watermark passes them.
    inst.advance(1_772_445_600_000 + 20_000).unwrap();
    assert_eq!(inst.inspect(0).unwrap().open_windows, 20_000);
    let grown = inst.memory_bytes() - start;
    // A window takes a few hundred bytes.
    assert!(
        (2_000_000..40_000_000).contains(&grown),
        "{grown} bytes for 20,000 windows"
    );

    let hostile = test_module("hostile-memory");
    let module = AnalyticModule::load(&rt, &hostile.bytes, "hostile-memory", None).unwrap();
    let mut inst = module.instantiate(&rt).unwrap();
    inst.configure(&[]).unwrap().unwrap();
    let mut trigger =
        dumpwatch_tests::dump_start("h".into(), "u".into(), 1, 1, 1_772_445_600_000, "t".into());
    if let Some(p) = trigger.process.as_mut() {
        p.name = Some("hostile-trigger".into());
    }
    assert!(inst.process(&[event_to_wit(&trigger)]).is_err());
    let used = inst.memory_bytes();
    assert!(
        used <= cap && used > cap / 2,
        "{used} bytes against a cap of {cap}"
    );
}
