//! Native speed and memory of AN0676.
//!
//! - `process` throughput on the shared benchmark stream
//!   (`an0676_linux::bench_stream`, 1 % relevant), in batches of 1000 with an
//!   `advance` after each, as the host drives it;
//! - guest memory per window, counted by a global allocator that tracks
//!   live bytes: windows with only a client start, and full exec → dump →
//!   egress chains, with the size of one client-start evidence for
//!   reference. Printed before the timing runs.
//!
//! Run: `cargo bench -p an0676-linux`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};

use an0676_linux::An0676;
use an0676_linux::bench_stream::{self, STEP_MS};
use criterion::{BatchSize, Criterion, Throughput};
use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::evidence::StoredEvidence;
use dumpwatch_sdk::testing::{EventBuilder, ip};
use dumpwatch_sdk::types::{Event, FileOperation, SnapshotMode};

/// Counts live heap bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

const T0: i64 = 1_704_099_600_000;

fn client_start(n: usize, time: i64) -> Event {
    let (host, user) = (format!("host-{:04}", n / 10), format!("user{:02}", n % 10));
    EventBuilder::exec(
        "auditd",
        &format!("host-{:04}:{time}:{n}", n / 10),
        time,
        "pg_dump",
    )
    .host(&host)
    .user(&user, 1000 + (n % 10) as u32)
    .pid(10_000 + n as u32)
    .parent("bash", 9_999 + n as u32)
    .command_line("pg_dump -h db.internal -U app -d crm")
    .build()
}

fn chain(n: usize, time: i64) -> Vec<Event> {
    let host = format!("host-{:04}", n / 10);
    let user = format!("user{:02}", n % 10);
    let pid = 10_000 + n as u32;
    vec![
        client_start(n, time),
        EventBuilder::file(
            "auditd",
            &format!("{host}:{time}:d{n}"),
            time + 1_000,
            FileOperation::Create,
            "/var/tmp/crm.sql",
        )
        .host(&host)
        .user(&user, 1000 + (n % 10) as u32)
        .pid(pid)
        .process_name("pg_dump")
        .build(),
        // Host-side egress: a sensor upload has no user and would count
        // for all ten users' windows on the host.
        EventBuilder::network(
            "auditd",
            &format!("{host}:{time}:c{n}"),
            time + 2_000,
            ip("203.0.113.7"),
            443,
        )
        .host(&host)
        .user(&user, 1000 + (n % 10) as u32)
        .pid(pid)
        .process_name("curl")
        .build(),
    ]
}

/// Live bytes per window after opening `windows` windows built by `make`.
/// Also returns the bytes per window of change tracking held until the
/// next snapshot.
fn bytes_per_window(windows: usize, make: impl Fn(usize, i64) -> Vec<Event>) -> (f64, f64) {
    // Counted from before the input exists: `process` consumes and frees
    // it, so what stays is the analytic's state.
    let before = live();
    let mut analytic = An0676::default();
    let events: Vec<Event> = (0..windows).flat_map(|n| make(n, T0 + n as i64)).collect();
    let end = events.iter().map(|e| e.time).max().unwrap_or(T0);
    let findings = analytic.process(events);
    drop(findings);
    // Make the pending client starts final without expiring windows.
    let findings = analytic.advance(end);
    drop(findings);
    let unsnapshotted = live();
    // A checkpoint clears the change tracking, as the host does periodically.
    drop(analytic.snapshot(SnapshotMode::Changes));
    let after = live();
    assert_eq!(analytic.engine().window_count(), windows);
    black_box(&analytic);
    let per = |bytes: isize| bytes as f64 / windows as f64;
    (per(after - before), per(unsnapshotted - after))
}

fn memory_report() {
    const N: usize = 20_000;
    let (exec_only, tracking) = bytes_per_window(N, |n, t| vec![client_start(n, t)]);
    let (full, _) = bytes_per_window(N, chain);
    let sample = client_start(1, T0);
    let before = live();
    let evidence = StoredEvidence::from_event(0, &sample);
    let evidence_heap = live() - before;
    let evidence_bytes = std::mem::size_of::<StoredEvidence>() as isize + evidence_heap;
    drop(evidence);
    println!("memory per window ({N} windows, 2000 hosts x 10 users):");
    println!("  client start only (1 evidence):  {exec_only:.0} bytes");
    println!("  exec + dump + egress (3 evidence): {full:.0} bytes");
    println!(
        "  one client-start evidence:        {evidence_bytes} bytes (struct {} + heap {evidence_heap})",
        std::mem::size_of::<StoredEvidence>()
    );
    println!(
        "  window without its evidence:      {:.0} bytes",
        exec_only - evidence_bytes as f64
    );
    println!("  change tracking until the next snapshot: +{tracking:.0} bytes");
    println!(
        "  size_of Window = {} bytes",
        std::mem::size_of::<an0676_linux::window::Window>()
    );
}

fn throughput(c: &mut Criterion) {
    const COUNT: usize = 100_000;
    const BATCH: usize = 1_000;
    let events = bench_stream::generate(42, COUNT);
    let mut group = c.benchmark_group("an0676");
    group.throughput(Throughput::Elements(COUNT as u64));
    group.sample_size(20);
    group.bench_function("process_1pct_relevant", |b| {
        b.iter_batched(
            || events.clone(),
            |events| {
                let mut analytic = An0676::default();
                let mut findings = 0usize;
                let mut batch = Vec::with_capacity(BATCH);
                for event in events {
                    batch.push(event);
                    if batch.len() == BATCH {
                        let watermark = batch[BATCH - 1].time - 10 * STEP_MS;
                        findings += analytic.process(std::mem::take(&mut batch)).len();
                        findings += analytic.advance(watermark).len();
                    }
                }
                findings += analytic.process(batch).len();
                black_box(findings)
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn main() {
    memory_report();
    let mut criterion = Criterion::default().configure_from_args();
    throughput(&mut criterion);
    criterion.final_summary();
}
