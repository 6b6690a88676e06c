//! Native speed and memory of AN0677.
//!
//! - `process` throughput on a stream shaped like what the host's
//!   prefilter delivers (tool starts and their children, export files,
//!   external connections, sensor flows, cloud names) over 2,000
//!   workstations, in batches of 512 with an `advance` after each, as the
//!   host drives it;
//! - guest memory per window, counted by a global allocator that tracks
//!   live bytes: windows holding a full chain (two tool starts, an export,
//!   an archive, a named connection and a flow). Printed before the timing
//!   runs.
//!
//! Run: `cargo bench -p an0677-windows`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};

use an0677_windows::An0677;
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
const SQLCMD: &str =
    r"C:\Program Files\Microsoft SQL Server\Client SDK\ODBC\170\Tools\Binn\SQLCMD.EXE";
const CMD: &str = r"C:\Windows\System32\cmd.exe";

/// The events of one workstation's chain `n` starting at `time`.
fn chain(n: usize, time: i64) -> Vec<Event> {
    let host = format!("WS{:04}.corp.example", n % 2000);
    let user = format!("user{:02}", n % 7);
    let tool = format!("{{tool-{n}}}");
    let id = |leg: &str| format!("{host}:{leg}:{n}");
    let on = |b: EventBuilder| b.host(&host).user_name(&user).domain("CORP");
    vec![
        on(EventBuilder::exec("sysmon", &id("e1"), time, "SQLCMD.EXE"))
            .process_path(SQLCMD)
            .guid(&tool)
            .pid(4000)
            .parent_guid("{shell}")
            .parent_pid(3999)
            .parent_path(CMD)
            .command_line(r#"sqlcmd -S sql01 -E -Q "SELECT * FROM crm.dbo.customers" -o C:\Users\Public\c.csv"#)
            .build(),
        on(EventBuilder::exec("windows-security", &id("e0"), time, "SQLCMD.EXE"))
            .process_path(SQLCMD)
            .pid(4000)
            .parent_pid(3999)
            .parent_path(CMD)
            .build(),
        on(EventBuilder::file("sysmon", &id("f1"), time + 10_000, FileOperation::Create, r"C:\Users\Public\c.csv"))
            .guid(&tool)
            .pid(4000)
            .build(),
        on(EventBuilder::exec("sysmon", &id("p1"), time + 20_000, "7z.exe"))
            .process_path(r"C:\Program Files\7-Zip\7z.exe")
            .guid("{7z}")
            .pid(4100)
            .parent_path(CMD)
            .command_line(r"7z a -pX C:\Users\Public\c.7z C:\Users\Public\c.csv")
            .build(),
        on(EventBuilder::file("sysmon", &id("f2"), time + 25_000, FileOperation::Create, r"C:\Users\Public\c.7z"))
            .guid("{7z}")
            .pid(4100)
            .build(),
        on(EventBuilder::name("sysmon", &id("q1"), time + 30_000, NameKind::DnsQuery, "content.dropboxapi.com"))
            .guid("{rclone}")
            .answers(&[ip("162.125.1.14")])
            .build(),
        on(EventBuilder::network("sysmon", &id("c1"), time + 31_000, ip("162.125.1.14"), 443))
            .guid("{rclone}")
            .pid(4200)
            .src(ip("10.1.1.20"), 50_000)
            .build(),
        EventBuilder::network("zeek", &id("z1"), time + 31_000, ip("162.125.1.14"), 443)
            .host(&host)
            .src(ip("10.1.1.20"), 50_000)
            .bytes_out(25_000_000)
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

fn analytic() -> An0677 {
    let mut a = An0677::default();
    a.configure(Vec::new()).expect("defaults are valid");
    a
}

fn run(a: &mut An0677, events: &[Event]) -> usize {
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
        "AN0677 memory: {windows} windows (full chains), {} pending, {} names: {} bytes per window",
        a.engine().pending_count(),
        a.engine().name_count(),
        (after - before) / windows as isize
    );
}

fn main() {
    memory();
    let events = stream(4_000);
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("an0677");
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
