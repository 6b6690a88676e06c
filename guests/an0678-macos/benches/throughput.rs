//! Native speed and memory of AN0678.
//!
//! - `process` throughput on a stream shaped like what the host's
//!   prefilter delivers (tool starts, export writes, cloud sync names) over
//!   2,000 Macs, in batches of 512 with an `advance` after each, as the host
//!   drives it;
//! - guest memory per window, counted by a global allocator that tracks
//!   live bytes: windows holding a full chain (a GUI start, its Java
//!   runtime, a `.part` create and the rename to the export, a TLS name).
//!   Printed before the timing runs.
//!
//! Run: `cargo bench -p an0678-macos`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};

use an0678_macos::An0678;
use criterion::{BatchSize, Criterion, Throughput};
use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{EventBuilder, ip};
use dumpwatch_sdk::types::{Event, FileOperation, NameKind, SnapshotMode};

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

const T0: i64 = 1_704_099_600_000;
const DBEAVER: &str = "/Applications/DBeaver.app/Contents/MacOS/dbeaver";
const JAVA: &str = "/Applications/DBeaver.app/Contents/Eclipse/jre/Contents/Home/bin/java";

/// The events of one Mac's chain `n` starting at `time`.
fn chain(n: usize, time: i64) -> Vec<Event> {
    let host = format!("mbp{:04}", n % 2000);
    let user = format!("user{:02}", n % 7);
    let tool = format!("{}:1", 5000 + n);
    let id = |leg: &str| format!("{n}{leg}:{time}");
    let on = |b: EventBuilder| {
        b.host(&host)
            .user_name(&user)
            .uid(500 + (n % 7) as u32)
            .groups(&["staff"])
    };
    let csv = format!("/Users/{user}/Downloads/export-{n}.csv");
    vec![
        on(EventBuilder::exec("eslogger", &id("e1"), time, "dbeaver"))
            .process_path(DBEAVER)
            .guid(&tool)
            .pid(5000 + n as u32)
            .parent_guid("1:1")
            .parent_pid(1)
            .build(),
        on(EventBuilder::exec(
            "eslogger",
            &id("e2"),
            time + 500,
            "java",
        ))
        .process_path(JAVA)
        .guid("77:1")
        .pid(77)
        .parent_guid(&tool)
        .build(),
        on(EventBuilder::file(
            "eslogger",
            &id("f1"),
            time + 10_000,
            FileOperation::Create,
            &format!("{csv}.part"),
        ))
        .guid(&tool)
        .pid(5000 + n as u32)
        .build(),
        on(EventBuilder::file(
            "eslogger",
            &id("f2"),
            time + 11_000,
            FileOperation::Create,
            &csv,
        ))
        .renamed_from(&format!("{csv}.part"))
        .guid(&tool)
        .pid(5000 + n as u32)
        .build(),
        EventBuilder::name(
            "zeek",
            &id("z1"),
            time + 30_000,
            NameKind::TlsServerName,
            "content.dropboxapi.com",
        )
        .host(&host)
        .name_dst(ip("162.125.1.14"), 443)
        .build(),
    ]
}

/// `chains` chains spread over 2,000 hosts, one starting every 50 ms, in
/// time order.
fn stream(chains: usize) -> Vec<Event> {
    let mut events: Vec<Event> = (0..chains)
        .flat_map(|n| chain(n, T0 + n as i64 * 50))
        .collect();
    events.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
    events
}

fn analytic() -> An0678 {
    let mut a = An0678::default();
    a.configure(Vec::new()).expect("defaults are valid");
    a
}

fn run(a: &mut An0678, events: &[Event]) -> usize {
    let mut findings = 0;
    for batch in events.chunks(512) {
        findings += a.process(batch.to_vec()).len();
        if let Some(last) = batch.last() {
            findings += a.advance(last.time - 60_000).len();
        }
    }
    findings + a.advance(i64::MAX).len()
}

fn memory() {
    let chains = 20_000;
    let events = stream(chains);
    let mut a = analytic();
    let before = LIVE.load(Ordering::Relaxed);
    for batch in events.chunks(512) {
        black_box(a.process(batch.to_vec()));
    }
    // Every start final, nothing expired yet; a checkpoint clears the
    // change tracking as the host's would.
    let last = events.last().map_or(T0, |e| e.time);
    black_box(a.advance(last));
    black_box(a.snapshot(SnapshotMode::Full));
    let windows = a.engine().window_count().max(1);
    let after = LIVE.load(Ordering::Relaxed);
    println!(
        "AN0678 memory: {windows} windows (full chains), {} pending: {} bytes per window",
        a.engine().pending_count(),
        (after - before) / windows as isize
    );
}

fn main() {
    memory();
    let events = stream(4_000);
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("an0678");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("process_delivered_stream", |b| {
        b.iter_batched(
            analytic,
            |mut a| black_box(run(&mut a, &events)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
    criterion.final_summary();
}
