//! Hot reload through the real flow and components: a changed module is
//! swapped in with the old state, a tunable change replaces the rule set,
//! a version that rejects the state starts empty and says what it dropped,
//! anything invalid leaves the running version alone, modules come and go,
//! and no event is lost across reloads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use dumpwatch_config::Config;
use dumpwatch_event::{Activity, Actor, Device, Event, Process, ProcessStart};
use dumpwatch_pipeline::analytics::ModuleSource;
use dumpwatch_pipeline::flow::Flow;
use dumpwatch_pipeline::reload::{commit, prepare, reload};
use dumpwatch_pipeline::sink::{MemorySink, Sink};
use dumpwatch_pipeline::{StateOptions, build};
use serde_json::Value;

const T0: i64 = 1_772_445_600_000;

fn marker(k: usize) -> Event {
    Event {
        time: T0 + k as i64,
        source: "auditd",
        id: format!("m{k}"),
        device: Device {
            hostname: Some("h1".into()),
            ..Default::default()
        },
        actor: Actor::default(),
        process: Some(Box::new(Process {
            name: Some(format!("marker-{k}")),
            ..Default::default()
        })),
        activity: Activity::ProcessStart(ProcessStart::default()),
    }
}

fn shipped() -> Vec<ModuleSource> {
    dumpwatch_bundle::SHIPPED
        .iter()
        .map(|s| ModuleSource::embedded(s.id, s.wasm))
        .collect()
}

/// The bytes of a test guest.
fn guest(name: &str) -> Vec<u8> {
    std::fs::read(dumpwatch_bundle::test_guest(name).unwrap()).unwrap()
}

/// A component with a custom section appended: another module by digest,
/// the same analytic by behaviour.
fn variant(bytes: &[u8], tag: &str) -> Vec<u8> {
    let name = b"dumpwatch-test";
    let payload = tag.as_bytes();
    let mut section = Vec::new();
    section.push(name.len() as u8);
    section.extend_from_slice(name);
    section.extend_from_slice(payload);
    let mut out = bytes.to_vec();
    out.push(0); // custom section id
    out.push(section.len() as u8); // LEB128 size (< 128)
    out.extend_from_slice(&section);
    out
}

struct Rig {
    dir: tempfile::TempDir,
    flow: Flow,
    found: Arc<Mutex<Vec<Value>>>,
    src: usize,
}

impl Rig {
    fn config_path(&self) -> PathBuf {
        self.dir.path().join("pipeline.toml")
    }

    fn modules(&self) -> PathBuf {
        self.dir.path().join("modules")
    }

    fn write_config(&self, extra: &str) {
        write_config(self.dir.path(), extra);
    }

    fn new(modules: &[(&str, Vec<u8>)], extra: &str) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("modules")).unwrap();
        for (name, bytes) in modules {
            std::fs::write(dir.path().join("modules").join(name), bytes).unwrap();
        }
        write_config(dir.path(), extra);
        Rig::start(dir, &StateOptions::default())
    }

    /// A pipeline on the config and modules in `dir`, restored from `state`.
    fn start(dir: tempfile::TempDir, state: &StateOptions) -> Rig {
        let cfg = Config::load(&dir.path().join("pipeline.toml")).unwrap();
        let mut sources = shipped();
        sources.extend(dumpwatch_pipeline::config_modules(&cfg).unwrap());
        let found = Arc::new(Mutex::new(Vec::new()));
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(MemorySink {
            findings: found.clone(),
        })];
        let mut flow = build(&cfg, sources, sinks, state).unwrap();
        flow.restore().unwrap();
        let src = flow.add_source(60_000, None);
        Rig {
            dir,
            flow,
            found,
            src,
        }
    }

    /// Open windows of `id`, in full.
    fn windows(&mut self, id: &str) -> String {
        let a = self.analytic(id);
        format!("{:?}", a.instance.inspect(10_000).unwrap())
    }

    fn feed(&mut self, range: std::ops::Range<usize>) {
        let mut events: Vec<Event> = range.map(marker).collect();
        self.flow.ingest(self.src, &mut events);
        self.flow.flush_batches();
    }

    fn reload(&mut self) -> dumpwatch_pipeline::reload::ReloadReport {
        let path = self.config_path();
        reload(&mut self.flow, &path, &shipped())
    }

    /// The running analytic `id`.
    fn analytic(&mut self, id: &str) -> &mut dumpwatch_pipeline::analytics::Analytic {
        self.flow
            .analytics
            .iter_mut()
            .find(|a| a.info.id == id)
            .unwrap()
    }

    fn processed(&mut self) -> u64 {
        self.processed_by("TEST-SWAP")
    }

    /// The count of events a test analytic (`TEST-SWAP`, or one of the
    /// hostile ones) keeps in its state.
    fn processed_by(&mut self, id: &str) -> u64 {
        let a = self.analytic(id);
        let frames = a
            .instance
            .snapshot(dumpwatch_runtime::wit::SnapshotMode::Full)
            .unwrap()
            .concat();
        let processed = dumpwatch_frames::frames(&frames)
            .map(Result::unwrap)
            .find(|e| e.key == b"processed")
            .unwrap();
        let bytes: [u8; 8] = processed.value.unwrap().try_into().unwrap();
        u64::from_le_bytes(bytes)
    }

    fn findings_of(&self, analytic: &str) -> Vec<Value> {
        self.found
            .lock()
            .unwrap()
            .iter()
            .filter(|f| f["finding_info"]["analytic"]["uid"] == analytic)
            .cloned()
            .collect()
    }

    fn version(&self, id: &str) -> Option<(String, String)> {
        self.flow
            .analytics
            .iter()
            .find(|a| a.info.id == id)
            .map(|a| (a.module.digest.clone(), a.info.tunables_hash.clone()))
    }
}

fn write_config(dir: &Path, extra: &str) {
    std::fs::write(
        dir.join("pipeline.toml"),
        format!(
            "[engine]\nmodules_dir = \"modules\"\ncache_dir = \"{}\"\nbatch_size = 8\n{extra}",
            dumpwatch_tests::test_cache_dir().display()
        ),
    )
    .unwrap();
}

fn install(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(tmp, dir.join(name)).unwrap();
}

#[test]
fn a_changed_module_takes_over_the_running_state() {
    let v1 = guest("swap-v1");
    let mut rig = Rig::new(&[("swap.wasm", v1.clone())], "");
    rig.feed(0..20);
    let before = rig.version("TEST-SWAP").unwrap();
    install(&rig.modules(), "swap.wasm", &variant(&v1, "build 2"));
    let r = rig.reload();
    assert!(r.errors.is_empty(), "{r:?}");
    assert!(
        r.describe().contains("TEST-SWAP: module changed"),
        "{}",
        r.describe()
    );
    let after = rig.version("TEST-SWAP").unwrap();
    assert_ne!(before.0, after.0, "the new module runs");
    rig.feed(20..40);
    let ids: Vec<String> = rig
        .findings_of("TEST-SWAP")
        .iter()
        .map(|f| f["finding_info"]["uid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids.len(),
        40,
        "every event processed once across the swap: {ids:?}"
    );
    // The state came along: the counter the analytic keeps survived.
    assert_eq!(rig.processed(), 40);
}

/// A reload is prepared from the last checkpoint (off the engine thread in
/// `run`) and committed by making the calls since that checkpoint again on
/// the new version; one whose checkpoint was overtaken by another hands the
/// running state over directly. Either way the new version holds exactly
/// the running state, and the events that came while it was being prepared
/// are processed once.
#[test]
fn a_prepared_swap_catches_up_from_the_checkpoint_or_hands_the_state_over() {
    let v1 = guest("swap-v1");
    let mut rig = Rig::new(&[("swap.wasm", v1.clone())], "");
    rig.feed(0..10);
    rig.flow.checkpoint(&mut []).unwrap();
    rig.feed(10..15);

    install(&rig.modules(), "swap.wasm", &variant(&v1, "build 2"));
    let plan = prepare(rig.flow.reload_context(), &rig.config_path(), &shipped());
    rig.feed(15..20);
    let r = commit(&mut rig.flow, plan);
    assert!(
        r.errors.is_empty() && r.describe().contains("TEST-SWAP: module changed"),
        "{r:?}"
    );
    assert_eq!(
        rig.processed(),
        20,
        "checkpoint (10) + the calls since (10)"
    );

    install(&rig.modules(), "swap.wasm", &variant(&v1, "build 3"));
    let plan = prepare(rig.flow.reload_context(), &rig.config_path(), &shipped());
    rig.feed(20..25);
    rig.flow.checkpoint(&mut []).unwrap();
    rig.feed(25..30);
    let r = commit(&mut rig.flow, plan);
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!(rig.processed(), 30, "handed over directly");

    rig.feed(30..40);
    let uids: std::collections::BTreeSet<String> = rig
        .findings_of("TEST-SWAP")
        .iter()
        .map(|f| f["finding_info"]["uid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(uids.len(), 40, "every event processed, none twice");
    assert_eq!(rig.findings_of("TEST-SWAP").len(), 40, "no repeat emitted");
    assert_eq!(rig.processed(), 40);
}

/// A database client start of user `k` on one of 7 hosts: AN0676 opens
/// a window per (host, user).
fn client(k: usize, t: i64) -> Event {
    dumpwatch_tests::dump_start(
        format!("db{}", k % 7),
        format!("user{k}"),
        10_000 + k as u32,
        4000 + t as u32,
        T0 + t,
        format!("c{k}-{t}"),
    )
}

/// A rig over a state directory with AN0676 installed as a module (build
/// 1, so it can be replaced), events on time: the shipped component, the
/// state options to start another rig over the same store, and the rig.
fn an0676_rig() -> (&'static [u8], StateOptions, Rig) {
    let an0676 = dumpwatch_bundle::SHIPPED
        .iter()
        .find(|s| s.id == "AN0676")
        .unwrap()
        .wasm;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("modules")).unwrap();
    install(
        &dir.path().join("modules"),
        "an0676.wasm",
        &variant(an0676, "build 1"),
    );
    write_config(dir.path(), "");
    let state = StateOptions {
        dir: Some(dir.path().join("state")),
        reset: false,
    };
    let mut rig = Rig::start(dir, &state);
    rig.flow.set_lateness(rig.src, 0);
    (an0676, state, rig)
}

/// After a swap prepared from the store, the next checkpoint writes only
/// the new version's changes over the entries the old version stored
/// (windows opened since the last checkpoint among them): a restart from
/// that store has every window.
#[test]
fn after_a_prepared_swap_the_stored_changes_restore_every_window() {
    let (an0676, state, mut rig) = an0676_rig();
    let feed = |rig: &mut Rig, users: std::ops::Range<usize>, t: i64| {
        let mut events: Vec<Event> = users.map(|k| client(k, t)).collect();
        rig.flow.ingest(rig.src, &mut events);
        // Up to the newest event: AN0676 holds events back until the
        // watermark passes them.
        rig.flow.advance(true);
    };
    feed(&mut rig, 0..50, 1_000);
    rig.flow.checkpoint(&mut []).unwrap();
    // Since the checkpoint: new windows, and old ones touched again.
    feed(&mut rig, 50..60, 2_000);
    feed(&mut rig, 0..5, 2_500);

    install(&rig.modules(), "an0676.wasm", &variant(an0676, "build 2"));
    let plan = prepare(rig.flow.reload_context(), &rig.config_path(), &shipped());
    feed(&mut rig, 60..63, 3_000);
    let r = commit(&mut rig.flow, plan);
    assert!(
        r.errors.is_empty() && r.describe().contains("AN0676: module changed"),
        "{r:?}"
    );
    assert!(
        rig.analytic("AN0676").checkpointed,
        "the next checkpoint writes changes only"
    );
    feed(&mut rig, 63..65, 4_000);
    rig.flow.checkpoint(&mut []).unwrap();
    let before = rig.windows("AN0676");
    assert!(before.contains("open-windows: 65"), "{before}");

    let Rig { dir, flow, .. } = rig;
    drop(flow);
    let mut again = Rig::start(dir, &state);
    assert_eq!(again.windows("AN0676"), before, "every window restored");
}

/// A stored state of many restore parts and store segments, with changes
/// merged over it, comes back whole through a reload prepared from the
/// store and through a restart: AN0676 decodes each part as it comes.
#[test]
fn a_state_of_many_parts_comes_back_whole_after_a_reload_and_a_restart() {
    let (an0676, state, mut rig) = an0676_rig();
    let feed = |rig: &mut Rig, users: std::ops::Range<usize>, t: i64| {
        for start in users.clone().step_by(4096) {
            let mut events: Vec<Event> = (start..(start + 4096).min(users.end))
                .map(|k| client(k, t))
                .collect();
            rig.flow.ingest(rig.src, &mut events);
        }
        rig.flow.advance(true);
    };
    // About 12 MB of state: three restore parts of 4 MiB and more, cut
    // across store segments.
    let n = 100_000;
    feed(&mut rig, 0..n, 1_000);
    rig.flow.checkpoint(&mut []).unwrap();
    feed(&mut rig, 0..1_000, 2_000);
    feed(&mut rig, n..n + 500, 3_000);
    rig.flow.checkpoint(&mut []).unwrap();
    let size = std::fs::metadata(dumpwatch_pipeline::store_path(
        &rig.dir.path().join("state"),
    ))
    .unwrap()
    .len();
    assert!(size > 12 << 20, "a state of several parts: {size} bytes");
    let before = rig.windows("AN0676");
    assert!(
        before.contains(&format!("open-windows: {}", n + 500)),
        "{}",
        &before[..200]
    );

    install(&rig.modules(), "an0676.wasm", &variant(an0676, "build 2"));
    let plan = prepare(rig.flow.reload_context(), &rig.config_path(), &shipped());
    let r = commit(&mut rig.flow, plan);
    assert!(
        r.errors.is_empty() && r.describe().contains("AN0676: module changed"),
        "{r:?}"
    );
    assert_eq!(
        rig.windows("AN0676"),
        before,
        "every window after the reload"
    );

    let Rig { dir, flow, .. } = rig;
    drop(flow);
    let mut again = Rig::start(dir, &state);
    assert_eq!(
        again.windows("AN0676"),
        before,
        "every window after a restart"
    );

    // The component hands its snapshot over in parts as it writes it:
    // whole frames each, none much over the SDK's part size.
    let parts = again
        .analytic("AN0676")
        .instance
        .snapshot(dumpwatch_runtime::wit::SnapshotMode::Full)
        .unwrap();
    assert!(parts.len() >= 3, "{} parts", parts.len());
    for part in &parts {
        assert!(part.len() < dumpwatch_sdk::state::PART_BYTES + 4096);
        assert!(dumpwatch_frames::frames(part).all(|f| f.is_ok()));
    }
    // A reload overtaken by a checkpoint hands the running state over
    // directly, part by part as the old version's snapshot gave them.
    install(&again.modules(), "an0676.wasm", &variant(an0676, "build 3"));
    let plan = prepare(
        again.flow.reload_context(),
        &again.config_path(),
        &shipped(),
    );
    feed(&mut again, 0..10, 4_000);
    again.flow.checkpoint(&mut []).unwrap();
    let after_checkpoint = again.windows("AN0676");
    let r = commit(&mut again.flow, plan);
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!(
        again.windows("AN0676"),
        after_checkpoint,
        "every window after a direct handover"
    );
}

#[test]
fn a_version_that_rejects_the_state_starts_empty_and_says_so() {
    let mut rig = Rig::new(&[("swap.wasm", guest("swap-v1"))], "");
    rig.feed(0..10);
    // The stored state is what a new version is restored from. (Without a
    // checkpoint yet, the new version is built from the events themselves
    // and has no old state to refuse.)
    rig.flow.checkpoint(&mut []).unwrap();
    install(&rig.modules(), "swap.wasm", &guest("swap-v2"));
    let r = rig.reload();
    let text = r.describe();
    assert!(
        text.contains("rejected the running state") && text.contains("state format 1"),
        "{text}"
    );
    rig.feed(10..15);
    assert_eq!(rig.findings_of("TEST-SWAP").len(), 15);
}

#[test]
fn tunables_are_validated_before_they_replace_the_running_set() {
    let mut rig = Rig::new(&[], "");
    let (digest, hash) = rig.version("AN0676").unwrap();
    rig.write_config("[analytics.AN0676.tunables]\nTimeWindow = \"20m\"\n");
    let r = rig.reload();
    assert!(r.errors.is_empty(), "{r:?}");
    assert!(
        r.describe().contains("AN0676: tunables changed"),
        "{}",
        r.describe()
    );
    let (digest2, hash2) = rig.version("AN0676").unwrap();
    assert_eq!(digest, digest2);
    assert_ne!(hash, hash2, "findings will carry the new tunables hash");

    // An invalid set (a bad glob, a negative window) is refused and the
    // running set stays.
    rig.write_config("[analytics.AN0676.tunables]\nDumpFilePattern = [\"[unclosed\"]\n");
    let r = rig.reload();
    assert!(!r.errors.is_empty());
    assert!(r.describe().contains("DumpFilePattern"), "{}", r.describe());
    assert_eq!(rig.version("AN0676").unwrap().1, hash2);
    // An unreadable config changes nothing either.
    std::fs::write(rig.config_path(), "[engine\nbroken").unwrap();
    let r = rig.reload();
    assert!(r.describe().contains("config"), "{}", r.describe());
    assert_eq!(rig.version("AN0676").unwrap().1, hash2);
}

#[test]
fn modules_come_and_go_and_broken_ones_are_refused() {
    let mut rig = Rig::new(&[], "");
    assert!(rig.version("TEST-SWAP").is_none());
    install(&rig.modules(), "swap.wasm", &guest("swap-v1"));
    let r = rig.reload();
    assert!(
        r.describe().contains("TEST-SWAP: loaded"),
        "{}",
        r.describe()
    );
    rig.feed(0..5);
    assert_eq!(rig.findings_of("TEST-SWAP").len(), 5);
    // A broken file beside it is refused; nothing else changes.
    install(&rig.modules(), "broken.wasm", b"\0asm\x01\0\0\0");
    let r = rig.reload();
    assert!(
        r.describe().contains("core WebAssembly module"),
        "{}",
        r.describe()
    );
    assert!(rig.version("TEST-SWAP").is_some());
    std::fs::remove_file(rig.modules().join("broken.wasm")).unwrap();
    // Removing the file unloads the analytic.
    std::fs::remove_file(rig.modules().join("swap.wasm")).unwrap();
    let r = rig.reload();
    assert!(
        r.describe().contains("TEST-SWAP: module removed"),
        "{}",
        r.describe()
    );
    assert!(rig.version("TEST-SWAP").is_none());
    assert!(rig.version("AN0676").is_some(), "shipped analytics stay");
}

#[test]
fn signatures_are_required_when_the_policy_says_so() {
    let mut rig = Rig::new(&[], "");
    let (private, public) = dumpwatch_pipeline::trust::generate_key([3u8; 32]);
    std::fs::write(rig.dir.path().join("ops.pub"), public).unwrap();
    let trust = "[trust]\nrequire_signatures = true\ntrusted_keys = [\"ops.pub\"]\n";
    rig.write_config(trust);
    let v1 = guest("swap-v1");
    install(&rig.modules(), "swap.wasm", &v1);
    let r = rig.reload();
    assert!(r.describe().contains("unsigned"), "{}", r.describe());
    assert!(rig.version("TEST-SWAP").is_none());
    // A signature for other bytes is refused.
    let sig = dumpwatch_pipeline::trust::sign(&private, b"other bytes").unwrap();
    std::fs::write(rig.modules().join("swap.wasm.sig"), &sig).unwrap();
    let r = rig.reload();
    assert!(r.describe().contains("not valid"), "{}", r.describe());
    // The right signature loads it.
    let sig = dumpwatch_pipeline::trust::sign(&private, &v1).unwrap();
    std::fs::write(rig.modules().join("swap.wasm.sig"), &sig).unwrap();
    let r = rig.reload();
    assert!(
        r.describe().contains("TEST-SWAP: loaded"),
        "{}",
        r.describe()
    );
}

#[test]
fn no_event_is_lost_across_many_reloads() {
    let v1 = guest("swap-v1");
    let mut rig = Rig::new(&[("swap.wasm", v1.clone())], "");
    let mut k = 0;
    for round in 0..20 {
        rig.feed(k..k + 7);
        k += 7;
        install(
            &rig.modules(),
            "swap.wasm",
            &variant(&v1, &format!("build {round}")),
        );
        let r = rig.reload();
        assert!(r.errors.is_empty(), "{r:?}");
    }
    rig.feed(k..k + 3);
    k += 3;
    let uids: std::collections::BTreeSet<String> = rig
        .findings_of("TEST-SWAP")
        .iter()
        .map(|f| f["finding_info"]["uid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(uids.len(), k, "all {k} events processed exactly once");
}

/// An analytic is held back in event time only by the sources that can
/// feed it: a CloudTrail input that has delivered nothing yet must not
/// keep AN0676 (auditd, network sensors) from concluding.
#[test]
fn an_analytic_waits_only_for_the_sources_that_feed_it() {
    let mut rig = Rig::new(&[], "");
    let cloudtrail = rig.flow.add_source(900_000, None);
    rig.flow
        .set_source_format(cloudtrail, dumpwatch_normalize::Format::CloudTrail);
    rig.flow
        .set_source_format(rig.src, dumpwatch_normalize::Format::Auditd);
    let exec = |id: &str, t: i64, name: &str| Event {
        time: T0 + t,
        source: "auditd",
        id: id.into(),
        device: Device {
            hostname: Some("db01".into()),
            ..Default::default()
        },
        actor: Actor {
            user: Some("alice".into()),
            uid: Some(1001),
            ..Default::default()
        },
        process: Some(Box::new(Process {
            pid: Some(42),
            name: Some(name.into()),
            ..Default::default()
        })),
        activity: Activity::ProcessStart(ProcessStart::default()),
    };
    let dump = Event {
        id: "d1".into(),
        activity: Activity::File(dumpwatch_event::FileActivity {
            operation: dumpwatch_event::FileOperation::Create,
            path: "/tmp/shop.sql".into(),
            source_path: None,
            size: None,
        }),
        ..exec("d1", 1_000, "pg_dump")
    };
    let mut events = vec![
        exec("e1", 0, "pg_dump"),
        dump,
        exec("later", 3_600_000, "ls"),
    ];
    rig.flow.ingest(rig.src, &mut events);
    rig.flow.advance(true);
    assert_eq!(
        rig.findings_of("AN0676").len(),
        1,
        "AN0676 concluded although the CloudTrail input is silent"
    );
    // AN0679 (CloudTrail) is still held back by its silent source: it has
    // not been advanced at all.
    let an0679 = rig
        .flow
        .analytics
        .iter()
        .find(|a| a.info.id == "AN0679")
        .unwrap();
    assert_eq!(an0679.advanced_to, i64::MIN);
}

/// A trap just after a checkpoint began, its commit done in the store but
/// not yet taken in by the engine: the rebuild finishes that commit first,
/// restores what it stored and repeats only the calls made since, so every
/// marker is counted once. (Restoring the newer store and repeating the
/// older replay log would count the markers before the checkpoint twice.)
/// The findings of a checkpoint go out only once it is committed.
#[test]
fn a_trap_while_a_checkpoint_commits_rebuilds_from_that_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("modules")).unwrap();
    std::fs::write(
        dir.path().join("modules").join("trap.wasm"),
        guest("hostile-trap"),
    )
    .unwrap();
    write_config(dir.path(), "");
    let state = StateOptions {
        dir: Some(dir.path().join("state")),
        reset: false,
    };
    let mut rig = Rig::start(dir, &state);
    let mut trigger = marker(0);
    trigger.process = Some(Box::new(Process {
        name: Some("hostile-trigger".into()),
        ..Default::default()
    }));
    const ROUNDS: usize = 4;
    for round in 0..ROUNDS {
        let first = round * 25;
        rig.feed(first..first + 20);
        rig.flow.begin_checkpoint(&mut []).unwrap();
        if round == 0 {
            assert!(
                rig.findings_of("TEST-TRAP").is_empty(),
                "findings wait for the commit of their checkpoint"
            );
        }
        rig.feed(first + 20..first + 25);
        trigger.id = format!("trigger-{round}");
        rig.flow.ingest(rig.src, &mut vec![trigger.clone()]);
        // Long enough for the commit to reach the store; the engine does
        // not look at it before the trap.
        std::thread::sleep(std::time::Duration::from_millis(300));
        rig.flow.flush_batches();
    }
    let a = rig.analytic("TEST-TRAP");
    assert_eq!(a.stats.failures, ROUNDS as u64, "one trap per round");
    assert!(!a.quarantined);
    assert_eq!(rig.processed_by("TEST-TRAP"), (ROUNDS * 25) as u64);
    rig.flow.checkpoint(&mut []).unwrap();
    let mut created = BTreeMap::new();
    for f in rig.findings_of("TEST-TRAP") {
        if f["activity_id"] == 1 {
            *created
                .entry(f["finding_info"]["uid"].as_str().unwrap().to_owned())
                .or_insert(0) += 1;
        }
    }
    assert_eq!(created.len(), ROUNDS * 25, "every marker found");
    assert!(
        created.values().all(|&n| n == 1),
        "a finding was created twice"
    );
}

/// A checkpoint due because a replay log is full is not due again while
/// its commit is in flight: the calls that commit covers go when it is
/// taken in.
#[test]
fn a_full_replay_log_asks_for_one_checkpoint_not_two() {
    let mut rig = Rig::new(&[("swap.wasm", guest("swap-v1"))], "replay_limit = 10");
    rig.feed(0..12);
    assert!(rig.flow.checkpoint_due(), "the log holds 12 events");
    rig.flow.begin_checkpoint(&mut []).unwrap();
    assert!(
        !rig.flow.checkpoint_due(),
        "the commit in flight covers them"
    );
    rig.feed(12..20);
    assert!(!rig.flow.checkpoint_due(), "8 events since the checkpoint");
    rig.feed(20..24);
    assert!(rig.flow.checkpoint_due(), "12 events since the checkpoint");
    rig.flow.wait_commit().unwrap();
    assert!(rig.flow.checkpoint_due());
    assert_eq!(rig.flow.checkpoints, 1);
    assert_eq!(rig.processed(), 24);
}
