//! Hot-reload cost: the swap of AN0676 (snapshot the running instance,
//! restore into the new version, replace it at a batch boundary) with every
//! shipped analytic loaded and 100,000 open windows; and events lost across
//! 1,000 reloads under load (must be zero).
//!
//! Run: `cargo bench -p dumpwatch-tests --bench reload`. Prints the swap
//! latency percentiles; `DUMPWATCH_SWAPS` and `DUMPWATCH_WINDOWS` override
//! the counts.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dumpwatch_config::Config;
use dumpwatch_event::{Activity, Actor, Device, Event, Process, ProcessStart};
use dumpwatch_pipeline::analytics::ModuleSource;
use dumpwatch_pipeline::reload::reload;
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
    Event {
        time: T0 + k as i64,
        source: "auditd",
        id: format!("x{k}"),
        device: Device {
            hostname: Some(format!("host-{}", k % 500)),
            ..Default::default()
        },
        actor: Actor {
            user: Some(format!("user{}", k / 500)),
            uid: Some(10_000 + (k / 500) as u32),
            ..Default::default()
        },
        process: Some(Box::new(Process {
            pid: Some(1000 + k as u32),
            name: Some("pg_dump".into()),
            path: Some("/usr/bin/pg_dump".into()),
            command_line: Some("pg_dump crm".into()),
            parent_pid: Some(999),
            ..Default::default()
        })),
        activity: Activity::ProcessStart(ProcessStart::default()),
    }
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

    // Swap latency: change on disk, then the reload (load from the cache,
    // instantiate, configure, snapshot the old instance, restore into the
    // new, replace).
    let mut lat = Vec::with_capacity(swaps);
    for n in 0..swaps {
        let bytes = variant(an0676, n);
        // Precompile as the watcher does, off the engine thread.
        {
            let rt = flow.runtime();
            dumpwatch_runtime::AnalyticModule::load(rt, &bytes, "precompile", flow.cache())
                .unwrap();
        }
        std::fs::write(modules.join("an0676.wasm"), &bytes).unwrap();
        let t = Instant::now();
        let r = reload(&mut flow, &cfg_path, &shipped);
        lat.push(t.elapsed());
        assert!(r.errors.is_empty(), "{r:?}");
        assert!(
            r.describe()
                .contains(&format!("{open} open windows carried over")),
            "{}",
            r.describe()
        );
    }
    lat.sort();
    println!(
        "swap of AN0676 with {open} open windows, {loaded} analytics loaded, {swaps} swaps: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3
    );

    // Events lost across reloads under load: markers fed between reloads
    // of TEST-SWAP; every one must come out exactly once.
    let mut m = 0;
    for n in 0..reloads {
        let mut batch: Vec<Event> = (m..m + 5).map(marker).collect();
        m += 5;
        flow.ingest(src, &mut batch);
        std::fs::write(modules.join("swap.wasm"), variant(&swap_v1, n)).unwrap();
        let r = reload(&mut flow, &cfg_path, &shipped);
        assert!(r.errors.is_empty(), "{r:?}");
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
