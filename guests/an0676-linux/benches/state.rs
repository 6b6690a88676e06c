//! Native cost of AN0676's checkpoints: `snapshot(full)` and `restore` of
//! many open windows (one per host and user, each with its client-start
//! evidence, as in the host's checkpoint bench), per window, without the
//! component boundary. The host-side figures (`cargo bench -p
//! dumpwatch-tests --bench checkpoint`) add the copy across it and the store.
//!
//! Run: `cargo bench -p an0676-linux --bench state`. `DUMPWATCH_WINDOWS`
//! sets the number of windows (default 200,000).

use std::hint::black_box;

use an0676_linux::An0676;
use criterion::{BatchSize, Criterion, Throughput};
use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::types::{Event, SnapshotMode};

use an0676_linux::bench_stream::{CLIENT_START_T0 as T0, client_start};

fn windows() -> usize {
    std::env::var("DUMPWATCH_WINDOWS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(200_000)
}

/// An analytic with `n` open windows and its change tracking cleared.
fn opened(n: usize) -> An0676 {
    let mut analytic = An0676::default();
    let mut k = 0;
    while k < n {
        let batch: Vec<Event> = (k..(k + 4096).min(n)).map(client_start).collect();
        k += batch.len();
        let last = batch.last().map_or(T0, |e| e.time);
        drop(analytic.process(batch));
        drop(analytic.advance(last));
    }
    drop(analytic.advance(T0 + (n / 4) as i64 + 1000));
    assert_eq!(analytic.engine().window_count(), n);
    drop(analytic.snapshot(SnapshotMode::Full));
    analytic
}

fn state(c: &mut Criterion) {
    let n = windows();
    let mut analytic = opened(n);
    let entries = analytic.snapshot(SnapshotMode::Full);
    let mut group = c.benchmark_group("an0676_state");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(10);
    group.bench_function("snapshot_full", |b| {
        b.iter(|| black_box(analytic.snapshot(SnapshotMode::Full)))
    });
    group.bench_function("restore", |b| {
        b.iter_batched(
            || entries.clone(),
            |entries| {
                let mut fresh = An0676::default();
                fresh.restore(entries).expect("restore");
                fresh
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    state(&mut criterion);
    criterion.final_summary();
}
