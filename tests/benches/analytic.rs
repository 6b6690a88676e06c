//! The cost of the sandbox: one call into a component, the per-event
//! crossing, and AN0676 compiled to WASM against the same code compiled
//! natively, on the same events (the guest crate's reproducible stream).
//!
//! Also the cost of the sandbox on state: `snapshot(full)` and a restore
//! in parts of 4 MiB (as the host hands a stored state over) of many open
//! windows (`DUMPWATCH_WINDOWS`, default 200,000) in the component against
//! the same code natively. The snapshot is timed on windows opened by
//! events (as a running instance holds them) and on restored ones (laid
//! out in snapshot order), the same on both sides; each restore goes into
//! a fresh instance, whose linear memory is fresh pages, while the native
//! one reuses the pages its allocator got in the rounds before.
//!
//! Run: `cargo bench -p dumpwatch-tests --bench analytic`. Besides
//! criterion's report, prints the WASM/native ratios measured side by side
//! (interleaved rounds) in the same run.

#![allow(clippy::unwrap_used)]

mod sdk_to_host;

use std::hint::black_box;
use std::time::{Duration, Instant};

use an0676_linux::An0676;
use an0676_linux::bench_stream::{CLIENT_START_T0 as T0, client_start};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use dumpwatch_runtime::{AnalyticInstance, AnalyticModule, Limits, Runtime, wit as h};
use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::types as g;

const BATCH: usize = 512;

fn component() -> &'static [u8] {
    dumpwatch_bundle::SHIPPED
        .iter()
        .find(|s| s.id == "AN0676")
        .unwrap()
        .wasm
}

fn host_defaults(m: &h::Manifest) -> Vec<h::Tunable> {
    m.tunables
        .iter()
        .map(|t| h::Tunable {
            name: t.name.clone(),
            value: t.default.clone(),
        })
        .collect()
}

fn guest_defaults(m: &g::Manifest) -> Vec<g::Tunable> {
    m.tunables
        .iter()
        .map(|t| g::Tunable {
            name: t.name.clone(),
            value: t.default.clone(),
        })
        .collect()
}

/// The events AN0676's prefilter passes: DB client starts, dump-like
/// writes, network and HTTP.
fn relevant(e: &g::Event) -> bool {
    const TOOLS: [&str; 5] = ["psql", "pg_dump", "mysqldump", "mongodump", "mysql"];
    match &e.activity {
        g::Activity::ProcessStart(_) => e
            .process
            .as_ref()
            .and_then(|p| p.name.as_deref())
            .is_some_and(|n| TOOLS.contains(&n)),
        g::Activity::File(f) => [".sql", ".csv", ".gz", ".bson"]
            .iter()
            .any(|x| f.path.ends_with(x)),
        g::Activity::Network(_) | g::Activity::Http(_) => true,
        _ => false,
    }
}

struct Stream {
    guest: Vec<Vec<g::Event>>,
    host: Vec<Vec<h::Event>>,
    events: usize,
}

fn stream() -> Stream {
    let all = an0676_linux::bench_stream::generate(42, 400_000);
    let rel: Vec<g::Event> = all.into_iter().filter(relevant).collect();
    let events = rel.len();
    let guest: Vec<Vec<g::Event>> = rel.chunks(BATCH).map(<[g::Event]>::to_vec).collect();
    let host = guest
        .iter()
        .map(|b| b.iter().map(sdk_to_host::event).collect())
        .collect();
    Stream {
        guest,
        host,
        events,
    }
}

fn wasm_instance(rt: &Runtime, module: &AnalyticModule) -> AnalyticInstance {
    let mut inst = module.instantiate(rt).unwrap();
    inst.configure(&host_defaults(&module.manifest))
        .unwrap()
        .unwrap();
    inst
}

fn native_instance() -> An0676 {
    let mut a = An0676::default();
    let m = a.manifest();
    a.configure(guest_defaults(&m)).unwrap();
    a
}

fn run_wasm(inst: &mut AnalyticInstance, s: &Stream) -> usize {
    let mut n = 0;
    for b in &s.host {
        n += inst.process(b).unwrap().len();
        let wm = b.last().map_or(0, |e| e.time) - 60_000;
        n += inst.advance(wm).unwrap().len();
    }
    n + inst.advance(i64::MAX).unwrap().len()
}

fn run_native(a: &mut An0676, s: &Stream) -> usize {
    let mut n = 0;
    for b in &s.guest {
        // The clone is the native counterpart of lowering the batch into
        // the guest.
        n += a.process(b.clone()).len();
        let wm = b.last().map_or(0, |e| e.time) - 60_000;
        n += a.advance(wm).len();
    }
    n + a.advance(i64::MAX).len()
}

fn benches(c: &mut Criterion) {
    let rt = Runtime::new(Limits::default()).unwrap();
    let module = AnalyticModule::load(&rt, component(), "AN0676", None).unwrap();
    let s = stream();

    let mut g = c.benchmark_group("call");
    let mut inst = wasm_instance(&rt, &module);
    g.bench_function("process(empty batch)", |b| {
        b.iter(|| black_box(inst.process(&[]).unwrap()))
    });
    let one = &s.host[0][..1];
    g.bench_function("process(1 event)", |b| {
        b.iter(|| black_box(inst.process(one).unwrap()))
    });
    g.throughput(Throughput::Elements(BATCH as u64));
    let batch = &s.host[1];
    g.bench_function("process(512 events)", |b| {
        b.iter(|| black_box(inst.process(batch).unwrap()))
    });
    g.finish();

    let mut g = c.benchmark_group("an0676");
    g.throughput(Throughput::Elements(s.events as u64));
    g.bench_function("wasm", |b| {
        b.iter_batched(
            || wasm_instance(&rt, &module),
            |mut inst| black_box(run_wasm(&mut inst, &s)),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("native", |b| {
        b.iter_batched(
            native_instance,
            |mut a| black_box(run_native(&mut a, &s)),
            BatchSize::LargeInput,
        )
    });
    g.finish();

    // Side by side: interleaved rounds, best of each (the machine is
    // shared; the minimum is the least disturbed).
    let (mut best_w, mut best_n) = (Duration::MAX, Duration::MAX);
    let (mut fw, mut fnat) = (0, 0);
    for _ in 0..7 {
        let mut inst = wasm_instance(&rt, &module);
        let t = Instant::now();
        fw = run_wasm(&mut inst, &s);
        best_w = best_w.min(t.elapsed());
        let mut a = native_instance();
        let t = Instant::now();
        fnat = run_native(&mut a, &s);
        best_n = best_n.min(t.elapsed());
    }
    assert_eq!(fw, fnat, "both builds must find the same");
    println!(
        "\nAN0676 on {} relevant events ({} findings emitted): WASM {:.2} ms ({:.0} events/s), native {:.2} ms ({:.0} events/s), WASM/native = {:.2}x",
        s.events,
        fw,
        best_w.as_secs_f64() * 1e3,
        s.events as f64 / best_w.as_secs_f64(),
        best_n.as_secs_f64() * 1e3,
        s.events as f64 / best_n.as_secs_f64(),
        best_w.as_secs_f64() / best_n.as_secs_f64()
    );
    state_side_by_side();
}

/// `snapshot(full)` and `restore` of `DUMPWATCH_WINDOWS` open windows,
/// WASM against native, interleaved, best of each.
fn state_side_by_side() {
    // Room for a million windows, the frames a whole `restore` copies in
    // at once and a full snapshot's buffer: above the default cap.
    let rt = Runtime::new(Limits {
        memory_bytes: 4 << 30,
        ..Limits::default()
    })
    .unwrap();
    let module = AnalyticModule::load(&rt, component(), "AN0676", None).unwrap();
    let (rt, module) = (&rt, &module);
    let n: usize = std::env::var("DUMPWATCH_WINDOWS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(200_000);
    // Both sides open the windows from the same events, so each holds
    // them as a running instance does (allocated as events came, among
    // what was freed since).
    let mut native = native_instance();
    let mut wasm = wasm_instance(rt, module);
    let mut k = 0;
    while k < n {
        let batch: Vec<g::Event> = (k..(k + 4096).min(n)).map(client_start).collect();
        k += batch.len();
        // Pending events become windows once the watermark passes them.
        let last = batch.last().map_or(T0, |e| e.time);
        let host: Vec<h::Event> = batch.iter().map(sdk_to_host::event).collect();
        drop(native.process(batch));
        drop(native.advance(last));
        wasm.process(&host).unwrap();
        wasm.advance(last).unwrap();
    }
    drop(native.advance(T0 + (n / 4) as i64 + 1000));
    wasm.advance(T0 + (n / 4) as i64 + 1000).unwrap();
    assert_eq!(wasm.inspect(0).unwrap().open_windows, n as u64);
    let frames = native.snapshot(g::SnapshotMode::Full);
    // Restored in parts of whole frames, as the host hands a stored state
    // over.
    let mut parts: Vec<Vec<u8>> = vec![Vec::new()];
    for frame in dumpwatch_frames::frames(&frames) {
        let frame = frame.unwrap();
        if parts.last().unwrap().len() >= 4 << 20 {
            parts.push(Vec::new());
        }
        dumpwatch_frames::put(parts.last_mut().unwrap(), frame.key, frame.value);
    }
    let snapshots = |wasm: &mut AnalyticInstance, native: &mut An0676| {
        let (mut w, mut n) = (Duration::MAX, Duration::MAX);
        for _ in 0..5 {
            let t = Instant::now();
            black_box(wasm.snapshot(h::SnapshotMode::Full).unwrap());
            w = w.min(t.elapsed());
            let t = Instant::now();
            black_box(native.snapshot(g::SnapshotMode::Full));
            n = n.min(t.elapsed());
        }
        (w, n)
    };
    let (grown_w, grown_n) = snapshots(&mut wasm, &mut native);
    drop(wasm);

    let (mut restore_w, mut restore_n) = (Duration::MAX, Duration::MAX);
    let (mut wasm, mut native) = (None, None);
    for _ in 0..5 {
        let mut fresh = wasm_instance(rt, module);
        let t = Instant::now();
        fresh.restore_begin(frames.len() as u64).unwrap();
        for part in &parts {
            fresh.restore_part(part).unwrap();
        }
        fresh.restore_end().unwrap().unwrap();
        restore_w = restore_w.min(t.elapsed());
        wasm = Some(fresh);
        let mut fresh = native_instance();
        let t = Instant::now();
        let taker = fresh.restore_in_parts().unwrap();
        taker.begin();
        for part in &parts {
            taker.part(part);
        }
        taker.end().unwrap();
        restore_n = restore_n.min(t.elapsed());
        assert_eq!(fresh.inspect(0).open_windows, n as u64);
        native = Some(fresh);
    }
    let (mut wasm, mut native) = (wasm.unwrap(), native.unwrap());
    let (restored_w, restored_n) = snapshots(&mut wasm, &mut native);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let ratio = |w: Duration, n: Duration| w.as_secs_f64() / n.as_secs_f64();
    println!(
        "AN0676 state of {n} open windows ({:.0} MB of frames): snapshot(full) of windows opened by events WASM {:.1} ms, native {:.1} ms, WASM/native = {:.2}x; \
         of restored windows WASM {:.1} ms, native {:.1} ms, WASM/native = {:.2}x; \
         restore in parts into a fresh instance WASM {:.1} ms, native {:.1} ms, WASM/native = {:.2}x",
        frames.len() as f64 / 1e6,
        ms(grown_w),
        ms(grown_n),
        ratio(grown_w, grown_n),
        ms(restored_w),
        ms(restored_n),
        ratio(restored_w, restored_n),
        ms(restore_w),
        ms(restore_n),
        ratio(restore_w, restore_n),
    );
}

criterion_group! {
    name = group;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(group);
