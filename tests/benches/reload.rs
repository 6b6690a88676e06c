//! Hot-reload cost: the swap of AN0676 with every shipped analytic loaded
//! and 100,000 open windows, and events lost across 1,000 reloads under
//! load (must be zero).
//!
//! A swap is prepared off the engine thread (load, configure, restore from
//! the last checkpoint, make the calls logged since) and committed on it
//! (make the calls logged during the preparation, hand the waiting batch
//! over, swap). The commit is what holds events up; it is measured side by side with the direct
//! handover (full snapshot of the running instance restored into the new
//! one), which a commit falls back to when a checkpoint came between. Each
//! swap follows `DUMPWATCH_SINCE` events (default 5,000) routed to AN0676
//! since the last checkpoint, and `DUMPWATCH_DURING` more (default 1,000)
//! arrive while it is being prepared.
//!
//! Run: `cargo bench -p dumpwatch-tests --bench reload`. Prints the latency
//! percentiles; `DUMPWATCH_SWAPS`, `DUMPWATCH_WINDOWS`, `DUMPWATCH_SINCE`,
//! `DUMPWATCH_DURING` and `DUMPWATCH_RELOADS` override the counts.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dumpwatch_config::Config;
use dumpwatch_event::{Activity, Actor, Device, Event, Process, ProcessStart};
use dumpwatch_pipeline::analytics::ModuleSource;
use dumpwatch_pipeline::reload::{commit, prepare};
use dumpwatch_pipeline::sink::{MemorySink, Sink};
use dumpwatch_pipeline::{StateOptions, build};

const T0: i64 = 1_772_445_600_000;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn exec(k: usize) -> Event {
    dumpwatch_tests::dump_start(
        format!("host-{}", k % 500),
        format!("user{}", k / 500),
        10_000 + (k / 500) as u32,
        1000 + k as u32,
        T0 + k as i64,
        format!("x{k}"),
    )
}

fn marker(k: usize) -> Event {
    Event {
        time: T0 + 10_000_000 + k as i64,
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

/// A component with a custom section appended: another module by digest.
fn variant(bytes: &[u8], n: usize) -> Vec<u8> {
    let payload = format!("dumpwatch-bench build {n}");
    let mut section = vec![14u8];
    section.extend_from_slice(b"dumpwatch-test");
    section.extend_from_slice(payload.as_bytes());
    let mut out = bytes.to_vec();
    out.push(0);
    out.push(section.len() as u8);
    out.extend_from_slice(&section);
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let windows = env("DUMPWATCH_WINDOWS", 100_000);
    let swaps = env("DUMPWATCH_SWAPS", 50);
    let reloads = env("DUMPWATCH_RELOADS", 1000);
    let dir = tempfile::tempdir().unwrap();
    let modules = dir.path().join("modules");
    std::fs::create_dir_all(&modules).unwrap();
    let an0676 = dumpwatch_bundle::SHIPPED
        .iter()
        .find(|s| s.id == "AN0676")
        .unwrap()
        .wasm;
    let swap_v1 = std::fs::read(dumpwatch_bundle::test_guest("swap-v1").unwrap()).unwrap();
    std::fs::write(modules.join("an0676.wasm"), an0676).unwrap();
    std::fs::write(modules.join("swap.wasm"), &swap_v1).unwrap();
    let cfg_path = dir.path().join("pipeline.toml");
    std::fs::write(
        &cfg_path,
        format!(
            "[engine]\nmodules_dir = \"modules\"\ncache_dir = \"{}\"\n[limits]\nmemory = \"2GiB\"\n",
            dir.path().join("cache").display()
        ),
    )
    .unwrap();
    let cfg = Config::load(&cfg_path).unwrap();
    let shipped: Vec<ModuleSource> = dumpwatch_bundle::SHIPPED
        .iter()
        .map(|s| ModuleSource::embedded(s.id, s.wasm))
        .collect();
    let mut sources = shipped.clone();
    sources.extend(dumpwatch_pipeline::config_modules(&cfg).unwrap());
    let found = Arc::new(Mutex::new(Vec::new()));
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(MemorySink {
        findings: found.clone(),
    })];
    let mut flow = build(&cfg, sources, sinks, &StateOptions::default()).unwrap();
    flow.restore().unwrap();
    let src = flow.add_source(0, None);
    let loaded = flow.analytics.len();

    // Open the windows: one client start per (host, user).
    let mut k = 0;
    while k < windows {
        let mut batch: Vec<Event> = (k..(k + 4096).min(windows)).map(exec).collect();
        k += batch.len();
        flow.ingest(src, &mut batch);
    }
    flow.advance(true);
    let open = flow
        .analytics
        .iter_mut()
        .find(|a| a.info.id == "AN0676")
        .unwrap()
        .instance
        .inspect(0)
        .unwrap()
        .open_windows;

    // Checkpoint, as `run` does at its interval.
    let checkpoint = |flow: &mut dumpwatch_pipeline::flow::Flow| {
        let t = Instant::now();
        flow.checkpoint(&mut []).unwrap();
        t.elapsed()
    };
    checkpoint(&mut flow);

    // Events since the checkpoint: new process starts in open windows.
    let since = env("DUMPWATCH_SINCE", 5_000);
    let during = env("DUMPWATCH_DURING", 1_000);
    let mut fed = 0usize;
    let mut feed = |flow: &mut dumpwatch_pipeline::flow::Flow, n: usize| {
        let mut batch: Vec<Event> = (fed..fed + n)
            .map(|j| {
                let mut e = exec(j * 7919 % windows);
                // Within the windows opened above (TimeWindow is 10 min).
                e.time = T0 + windows as i64 + (j / 2) as i64;
                e.id = format!("y{j}");
                if let Some(p) = e.process.as_mut() {
                    p.pid = Some(5_000_000 + j as u32);
                }
                e
            })
            .collect();
        fed += n;
        flow.ingest(src, &mut batch);
    };

    // Each swap: events since the last checkpoint, a new module on disk
    // (precompiled, as the watcher does), the preparation, and the commit.
    // `stale`: a checkpoint comes between preparation and commit, so the
    // commit hands the state over directly.
    let mut variant_no = 0;
    let mut swap = |flow: &mut dumpwatch_pipeline::flow::Flow, stale: bool| {
        feed(flow, since);
        let bytes = variant(an0676, variant_no);
        variant_no += 1;
        dumpwatch_runtime::AnalyticModule::load(flow.runtime(), &bytes, "precompile", flow.cache())
            .unwrap();
        std::fs::write(modules.join("an0676.wasm"), &bytes).unwrap();
        let t = Instant::now();
        let plan = prepare(flow.reload_context(), &cfg_path, &shipped);
        let prep = t.elapsed();
        // Events keep coming while the preparation runs.
        feed(flow, during);
        if stale {
            checkpoint(flow);
        }
        let t = Instant::now();
        let r = commit(flow, plan);
        let took = t.elapsed();
        assert!(r.errors.is_empty(), "{r:?}");
        assert!(
            r.describe()
                .contains(&format!("{open} open windows carried over")),
            "{}",
            r.describe()
        );
        // The first checkpoint after a swap: the new version's changes over
        // the stored entries when it was restored from them, its whole
        // state after a direct handover.
        let after = checkpoint(flow);
        (prep, took, after)
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut prepared = Vec::with_capacity(swaps);
    let mut committed = Vec::with_capacity(swaps);
    let mut direct = Vec::with_capacity(swaps);
    let mut after = Vec::with_capacity(swaps);
    let mut after_direct = Vec::with_capacity(swaps);
    for _ in 0..swaps {
        let (p, c, a) = swap(&mut flow, false);
        prepared.push(p);
        committed.push(c);
        after.push(a);
        let (_, d, a) = swap(&mut flow, true);
        direct.push(d);
        after_direct.push(a);
    }
    for v in [
        &mut prepared,
        &mut committed,
        &mut direct,
        &mut after,
        &mut after_direct,
    ] {
        v.sort();
    }
    println!(
        "swap of AN0676 with {open} open windows, {loaded} analytics loaded, {since} events since the last checkpoint and {during} during the preparation, {swaps} swaps each way"
    );
    for (name, v) in [
        ("commit (events held up)", &committed),
        ("direct handover", &direct),
        ("preparation (off the engine thread)", &prepared),
        ("first checkpoint after a prepared swap", &after),
        ("first checkpoint after a direct handover", &after_direct),
    ] {
        println!(
            "  {name}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            ms(percentile(v, 0.5)),
            ms(percentile(v, 0.99)),
            ms(*v.last().unwrap())
        );
    }
    println!(
        "  commit / direct handover at p99: {:.2}",
        percentile(&committed, 0.99).as_secs_f64() / percentile(&direct, 0.99).as_secs_f64()
    );

    // Events lost across reloads under load: markers fed between reloads
    // of TEST-SWAP, and while each is being prepared; a checkpoint every 50
    // reloads. Every marker must come out exactly once.
    let mut m = 0;
    for n in 0..reloads {
        let mut batch: Vec<Event> = (m..m + 5).map(marker).collect();
        m += 5;
        flow.ingest(src, &mut batch);
        std::fs::write(modules.join("swap.wasm"), variant(&swap_v1, 100_000 + n)).unwrap();
        let plan = prepare(flow.reload_context(), &cfg_path, &shipped);
        let mut batch: Vec<Event> = (m..m + 5).map(marker).collect();
        m += 5;
        flow.ingest(src, &mut batch);
        let r = commit(&mut flow, plan);
        assert!(r.errors.is_empty(), "{r:?}");
        if n % 50 == 49 {
            checkpoint(&mut flow);
        }
    }
    flow.flush_batches();
    let got: std::collections::BTreeSet<String> = found
        .lock()
        .unwrap()
        .iter()
        .filter(|f| f["finding_info"]["analytic"]["uid"] == "TEST-SWAP")
        .map(|f| f["finding_info"]["uid"].as_str().unwrap().to_owned())
        .collect();
    println!(
        "{reloads} reloads under load: {m} events sent, {} processed, {} lost",
        got.len(),
        m - got.len()
    );
    assert_eq!(got.len(), m);
}
