//! Checkpoint cost with many open windows: guest memory per open AN0676
//! window, the time of a full checkpoint (of the windows as the pipeline
//! opened them from events, and of restored ones), of a changed-only one
//! and of a restore with 1,000,000 open windows (targets: under 1 s each),
//! and the throughput cost of checkpointing while events stream through
//! the pipeline (target: under 5 % at the default interval).
//!
//! Run: `cargo bench -p dumpwatch-tests --bench checkpoint`. Prints a
//! report. `DUMPWATCH_WINDOWS` (open windows, default 1,000,000),
//! `DUMPWATCH_CHANGED` (windows changed before the second checkpoint,
//! default 1 % of them), `DUMPWATCH_STREAM_WINDOWS` (windows open while the
//! throughput is measured, default `DUMPWATCH_WINDOWS`), `DUMPWATCH_EVENTS`
//! (events streamed per throughput run, default 30,000,000: a run must
//! last past the 10 s interval several times), `DUMPWATCH_CHECKPOINT_EVENTS`
//! (the forced every-N-events configuration, default the config default
//! 100,000) and `DUMPWATCH_ROUNDS` (throughput runs per configuration,
//! alternating, default 3; 0 skips the throughput part) override the sizes.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dumpwatch_config::Config;
use dumpwatch_event::{
    Activity, Actor, Device, Endpoint, Event, FileActivity, FileOperation, NetworkFlow, Process,
    ProcessStart,
};
use dumpwatch_pipeline::analytics::{Analytic, ModuleSource};
use dumpwatch_pipeline::flow::Flow;
use dumpwatch_pipeline::sink::{MemorySink, Sink};
use dumpwatch_pipeline::watermark::SourceId;
use dumpwatch_pipeline::{StateOptions, build, store_path};
use dumpwatch_runtime::convert::event_to_wit;
use dumpwatch_runtime::{AnalyticInstance, wit};
use dumpwatch_state::{AnalyticRecord, AnalyticUpdate, Checkpoint, Store};

// The allocator the dumpwatch binary uses, so the host's share of a
// checkpoint and a restore (buffers of hundreds of MB, the store's read
// buffers) is measured as the product runs it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const T0: i64 = 1_772_445_600_000;
/// Events per `ingest` call (what a reader pump hands over).
const PUMP: usize = 4096;
/// Event time between consecutive window-opening client starts (ms per
/// event, as a divisor): 1,000,000 windows open over 250 s of event time,
/// well inside AN0676's 10-minute TimeWindow, so none closes.
const OPEN_PER_MS: usize = 4;
/// Streamed events per millisecond of event time.
const STREAM_PER_MS: usize = 200;
/// One streamed event in this many is relevant to AN0676.
const RELEVANT_EVERY: usize = 100;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// A database client start by entity `k` (host `k % 500`, user `k / 500`):
/// each distinct `k` opens one AN0676 window.
fn exec(k: usize, time: i64, id: String, pid: u32) -> Event {
    dumpwatch_tests::dump_start(
        format!("host-{}", k % 500),
        format!("user{}", k / 500),
        10_000 + (k / 500) as u32,
        pid,
        time,
        id,
    )
}

/// The window-opening start of entity `k`.
fn open_exec(k: usize) -> Event {
    exec(
        k,
        T0 + (k / OPEN_PER_MS) as i64,
        format!("x{k}"),
        1000 + k as u32,
    )
}

/// Event time after every opening start.
fn after_open(n: usize) -> i64 {
    T0 + (n / OPEN_PER_MS) as i64 + 1000
}

/// Events AN0676's prefilter drops (and no other shipped analytic takes):
/// ordinary process starts, writes of non-dump files, connections to
/// internal addresses.
fn noise(i: usize) -> Event {
    const TOOLS: [&str; 8] = [
        "bash",
        "ls",
        "grep",
        "sshd",
        "cron",
        "python3",
        "systemctl",
        "tar",
    ];
    let host = format!("host-{}", i % 500);
    let user = format!("user{}", (i / 7) % 2000);
    let process = Some(Box::new(Process {
        pid: Some(50_000 + (i % 30_000) as u32),
        name: Some(TOOLS[i % TOOLS.len()].into()),
        path: Some(format!("/usr/bin/{}", TOOLS[i % TOOLS.len()])),
        command_line: Some(format!("{} -x {i}", TOOLS[i % TOOLS.len()])),
        parent_pid: Some(1),
        ..Default::default()
    }));
    let activity = match i % 10 {
        0 => Activity::File(FileActivity {
            operation: FileOperation::Write,
            path: format!("/var/log/app/{}.log", i % 64),
            source_path: None,
            size: Some(4096),
        }),
        1 => Activity::Network(NetworkFlow {
            src: Endpoint {
                ip: Some(IpAddr::V4(Ipv4Addr::new(10, 0, (i % 200) as u8, 5))),
                port: Some(40_000),
                hostname: None,
            },
            dst: Endpoint {
                ip: Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, (i % 250) as u8))),
                port: Some(443),
                hostname: None,
            },
            protocol: Some(6),
            ..Default::default()
        }),
        _ => Activity::ProcessStart(ProcessStart::default()),
    };
    Event {
        time: 0,
        source: "auditd",
        id: format!("n{i}"),
        device: Device {
            hostname: Some(host),
            ..Default::default()
        },
        actor: Actor {
            user: Some(user),
            ..Default::default()
        },
        process,
        activity,
    }
}

/// `count` distinct entities out of `0..n`, spread over the key space.
fn spread(n: usize, count: usize, seed: u64) -> Vec<usize> {
    let mut seen = HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    let mut x = seed;
    while out.len() < count.min(n) {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let k = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64) as usize;
        if seen.insert(k) {
            out.push(k);
        }
    }
    out
}

/// CPU time this thread has run so far, in user and in kernel mode
/// (Linux, in clock ticks of 10 ms; zero elsewhere). A restore runs on the
/// calling thread: its CPU time next to its wall time shows how much of
/// the latter was waiting for a CPU on a shared machine, and its kernel
/// time is mostly the first touch of fresh pages (the kernel zeroing them).
#[derive(Clone, Copy, Default)]
struct CpuTime {
    user: Duration,
    kernel: Duration,
}

impl CpuTime {
    fn now() -> CpuTime {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
        // Fields after the command name (which may hold spaces), from the
        // state: utime and stime are the 12th and 13th.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let tick = |i: usize| {
            let ticks = fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0);
            Duration::from_millis(ticks * 10)
        };
        CpuTime {
            user: tick(11),
            kernel: tick(12),
        }
    }

    fn since(self, start: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_sub(start.user),
            kernel: self.kernel.saturating_sub(start.kernel),
        }
    }

    fn total(self) -> Duration {
        self.user + self.kernel
    }
}

impl std::fmt::Display for CpuTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2} s of CPU: {:.2} s user, {:.2} s kernel",
            secs(self.total()),
            secs(self.user),
            secs(self.kernel)
        )
    }
}

fn mb(b: u64) -> f64 {
    b as f64 / 1e6
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

struct Setup {
    dir: tempfile::TempDir,
    shipped: Vec<ModuleSource>,
}

impl Setup {
    /// A config file with `engine` lines added to the common settings.
    fn config(&self, name: &str, engine: &str, windows: usize) -> Config {
        let path = self.dir.path().join(format!("{name}.toml"));
        // The default cap (1,000,000) holds the default count exactly;
        // more needs a higher cap.
        let cap = if windows > 1_000_000 {
            format!(
                "[analytics.AN0676.tunables]\nMaxOpenWindows = {}\n",
                windows * 2
            )
        } else {
            String::new()
        };
        std::fs::write(
            &path,
            format!(
                "[engine]\ncache_dir = \"{}\"\n{engine}\n[limits]\nmemory = \"4GiB\"\n{cap}",
                self.dir.path().join("cache").display()
            ),
        )
        .unwrap();
        Config::load(&path).unwrap()
    }

    fn flow(&self, cfg: &Config, state: Option<&Path>) -> Flow {
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(MemorySink {
            findings: Arc::new(Mutex::new(Vec::new())),
        })];
        let opts = StateOptions {
            dir: state.map(Path::to_path_buf),
            reset: false,
        };
        build(cfg, self.shipped.clone(), sinks, &opts).unwrap()
    }
}

fn an0676(flow: &mut Flow) -> &mut Analytic {
    flow.analytics
        .iter_mut()
        .find(|a| a.info.id == "AN0676")
        .unwrap()
}

fn open_windows(flow: &mut Flow) -> u64 {
    an0676(flow).instance.inspect(0).unwrap().open_windows
}

/// Checkpoints taken while opening windows: count, total and slowest time.
#[derive(Default)]
struct Taken {
    count: u64,
    total: Duration,
    slowest: Duration,
}

/// Open `n` windows: one client start per (host, user). With `checkpoint`,
/// checkpoint whenever one is due, as `run_inputs` does after each pump of
/// lines, and at least every 102,400 events: the store then fills with
/// changed-only snapshots, the way a running pipeline accumulates windows.
fn open(flow: &mut Flow, src: SourceId, n: usize, checkpoint: bool) -> Taken {
    let mut taken = Taken::default();
    let mut k = 0;
    while k < n {
        let mut batch: Vec<Event> = (k..(k + PUMP).min(n)).map(open_exec).collect();
        k += batch.len();
        flow.ingest(src, &mut batch);
        // At least every 25 pumps (102,400 events) whatever the config:
        // a store that was kept up to date while the windows opened, not
        // one first written in full with most of them open already.
        if checkpoint && (flow.checkpoint_due() || (k / PUMP).is_multiple_of(25)) {
            let t = Instant::now();
            flow.checkpoint(&mut []).unwrap();
            let d = t.elapsed();
            taken.count += 1;
            taken.total += d;
            taken.slowest = taken.slowest.max(d);
        }
    }
    flow.advance(true);
    if checkpoint {
        flow.checkpoint(&mut []).unwrap();
        taken.count += 1;
    }
    let a = an0676(flow);
    assert_eq!(a.stats.failures, 0, "AN0676 failed while opening windows");
    taken
}

/// Guest memory per window: the growth of the linear memory of a bare
/// AN0676 instance (same module, same tunables, no pipeline around it to
/// keep events) while it opens `n` windows. Linear memory is what the guest
/// asked the host for, free space of its allocator included; the process's
/// resident memory is not a measure of it, since the host's allocator
/// returns memory to the system while the guest grows.
fn guest_memory(flow: &mut Flow, n: usize) -> (AnalyticInstance, u64, u64) {
    let (module, tunables) = {
        let a = an0676(flow);
        (a.module.clone(), a.tunables.clone())
    };
    let mut inst = module.instantiate(flow.runtime()).unwrap();
    inst.configure(&tunables).unwrap().unwrap();
    let before = inst.memory_bytes() as u64;
    let mut k = 0;
    while k < n {
        let batch: Vec<_> = (k..(k + 512).min(n))
            .map(|k| event_to_wit(&open_exec(k)))
            .collect();
        k += batch.len();
        inst.process(&batch).unwrap();
        inst.advance(batch.last().unwrap().time).unwrap();
    }
    let open = inst.inspect(0).unwrap().open_windows;
    let grown = (inst.memory_bytes() as u64).saturating_sub(before);
    (inst, open, grown)
}

/// The guest's full snapshot on the bare instance (encode in the guest,
/// copy out to the host), alone.
fn bare_snapshot(mut inst: AnalyticInstance) {
    let t = Instant::now();
    let r = inst.snapshot(wit::SnapshotMode::Full);
    let d = t.elapsed();
    match r {
        Ok(parts) => {
            let count: usize = parts
                .iter()
                .map(|part| dumpwatch_frames::frames(part).count())
                .sum();
            let bytes: usize = parts.iter().map(Vec::len).sum();
            println!(
                "  guest snapshot(full) alone: {:.2} s ({count} entries, {:.0} MB of state frames in {} parts, {:.0} bytes per entry; the instance's linear memory {:.0} MB after it)",
                secs(d),
                mb(bytes as u64),
                parts.len(),
                bytes as f64 / count as f64,
                mb(inst.memory_bytes() as u64)
            );
        }
        Err(e) => println!(
            "  guest snapshot(full) alone: FAILED after {:.2} s: {e}",
            secs(d)
        ),
    }
}

/// The parts of a restore and of a full checkpoint's store write, from the
/// stored state: reading it, the guest's restore (copy in, decode) on a
/// fresh instance, and committing it all as a full replacement into a new
/// store.
fn breakdown(flow: &Flow, store: &Path, scratch: &Path) {
    let s = Store::open(store, false).unwrap();
    let held = s.state_size("AN0676").unwrap();
    let t = Instant::now();
    let frames = s.frames("AN0676").unwrap();
    let read = t.elapsed();
    drop(s);
    let count = dumpwatch_frames::frames(&frames).count();
    let cp = Checkpoint {
        analytics: vec![AnalyticUpdate {
            id: "AN0676".into(),
            record: AnalyticRecord::default(),
            full: true,
            frames: vec![frames.clone()],
        }],
        ..Default::default()
    };
    let path = scratch.join("breakdown.redb");
    let s = Store::open(&path, true).unwrap();
    let t = Instant::now();
    s.commit(&cp).unwrap();
    let commit = t.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    drop(s);
    drop(cp);
    std::fs::remove_file(&path).unwrap();
    let a = flow
        .analytics
        .iter()
        .find(|a| a.info.id == "AN0676")
        .unwrap();
    let mut fresh = a.module.instantiate(flow.runtime()).unwrap();
    fresh.configure(&a.tunables).unwrap().unwrap();
    let (t, cpu) = (Instant::now(), CpuTime::now());
    fresh.restore(&frames).unwrap().unwrap();
    let (restore, restore_cpu) = (t.elapsed(), CpuTime::now().since(cpu));
    let back = fresh.inspect(0).unwrap().open_windows;
    println!(
        "  breakdown: store read of {count} entries ({:.0} MB of state frames, {:.0} bytes per entry; \
         stored as a full snapshot of {:.0} MB and {:.0} MB of changes since) {:.2} s; guest restore {:.2} s ({restore_cpu}; {back} windows); store commit of them as one full replacement {:.2} s ({:.0} MB file)",
        mb(frames.len() as u64),
        frames.len() as f64 / count as f64,
        mb(held.base),
        mb(held.changes),
        secs(read),
        secs(restore),
        secs(commit),
        mb(size)
    );
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// In-memory store, no checkpoint while streaming.
    None,
    /// Persistent store, checkpoint when due with checkpoint_events and
    /// replay_limit out of the way: every 10 s of pipeline time.
    Interval,
    /// Persistent store, checkpoint when due with the engine defaults:
    /// every 10 s of pipeline time or every `checkpoint_events` events,
    /// whichever first.
    Events,
}

struct Run {
    events: usize,
    /// Time in `ingest` and `checkpoint`.
    pipeline: Duration,
    /// Events and pipeline time up to the end of the last checkpoint: a
    /// run's tail after it holds no checkpoint, so rates and shares taken
    /// over the whole run would understate the steady-state cost.
    at_last_checkpoint: Option<(usize, Duration)>,
    /// The whole run, building the batches included: the checkpoint
    /// interval runs on this clock.
    wall: Duration,
    in_checkpoints: Duration,
    checkpoints: u64,
    slowest: Duration,
}

impl Run {
    /// Events per second of pipeline time; for a checkpointing run, up to
    /// its last checkpoint.
    fn rate(&self) -> f64 {
        let (events, pipeline) = self
            .at_last_checkpoint
            .unwrap_or((self.events, self.pipeline));
        events as f64 / secs(pipeline)
    }

    /// Share of pipeline time spent in checkpoints, up to the last one.
    fn checkpoint_share(&self) -> f64 {
        self.at_last_checkpoint
            .map_or(0.0, |(_, p)| secs(self.in_checkpoints) / secs(p))
    }
}

/// Stream `events` events (1 in 100 a client start by an existing entity
/// picked uniformly, which joins its open window; the rest dropped by the
/// prefilter) through
/// a fresh flow with `windows` open windows, checkpointing per `mode` and
/// every `interval` of pipeline time. Times `ingest` and `checkpoint` only
/// (not building the batches).
fn stream(
    setup: &Setup,
    cfg: &Config,
    mode: Mode,
    interval: Duration,
    windows: usize,
    events: usize,
) -> Run {
    let state = tempfile::tempdir_in(setup.dir.path()).unwrap();
    let mut flow = setup.flow(cfg, (mode != Mode::None).then(|| state.path()));
    flow.restore().unwrap();
    let src = flow.add_source(0, None);
    // Checkpointing flows fill their store as a running pipeline does
    // (changed-only snapshots); not part of the timed stream.
    open(&mut flow, src, windows, mode != Mode::None);
    let pool: Vec<Event> = (0..PUMP * 4 + 1).map(noise).collect();
    let base = after_open(windows) + 10_000;
    let (mut pipeline, mut in_checkpoints, mut slowest) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let start_checkpoints = flow.checkpoints;
    let started = Instant::now();
    // Pipeline time at the last checkpoint.
    let mut last = Duration::ZERO;
    let mut at_last_checkpoint = None;
    let mut i = 0;
    while i < events {
        let end = (i + PUMP).min(events);
        let mut batch: Vec<Event> = (i..end)
            .map(|j| {
                let time = base + (j / STREAM_PER_MS) as i64;
                if j.is_multiple_of(RELEVANT_EVERY) {
                    // Any open window, uniformly.
                    let k = ((j / RELEVANT_EVERY) as u64)
                        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                        .rotate_left(29) as usize
                        % windows;
                    exec(k, time, format!("s{j}"), 2_000_000 + (j % 1_000_000) as u32)
                } else {
                    let mut e = pool[j % pool.len()].clone();
                    e.time = time;
                    e
                }
            })
            .collect();
        i = end;
        let t = Instant::now();
        flow.ingest(src, &mut batch);
        pipeline += t.elapsed();
        if mode != Mode::None && (flow.checkpoint_due() || pipeline - last >= interval) {
            // As the engine's loops do: the commit runs beside the engine,
            // and the next checkpoint waits for it (timed here too).
            let t = Instant::now();
            flow.begin_checkpoint(&mut []).unwrap();
            let d = t.elapsed();
            pipeline += d;
            last = pipeline;
            at_last_checkpoint = Some((end, pipeline));
            in_checkpoints += d;
            slowest = slowest.max(d);
        }
    }
    let t = Instant::now();
    flow.wait_commit().unwrap();
    let d = t.elapsed();
    in_checkpoints += d;
    if let Some((_, at)) = &mut at_last_checkpoint {
        *at += d;
    }
    pipeline += d;
    let t = Instant::now();
    flow.flush_batches();
    flow.advance(true);
    pipeline += t.elapsed();
    let a = an0676(&mut flow);
    assert_eq!(a.stats.failures, 0, "AN0676 failed while streaming");
    assert!(!a.quarantined);
    let open_after = open_windows(&mut flow);
    assert_eq!(
        open_after, windows as u64,
        "the stream changed the window count"
    );
    Run {
        events,
        pipeline,
        at_last_checkpoint,
        wall: started.elapsed(),
        in_checkpoints,
        checkpoints: flow.checkpoints - start_checkpoints,
        slowest,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let n = env("DUMPWATCH_WINDOWS", 1_000_000);
    let changed = env("DUMPWATCH_CHANGED", n / 100).min(n);
    let stream_windows = env("DUMPWATCH_STREAM_WINDOWS", n);
    let stream_events = env("DUMPWATCH_EVENTS", 30_000_000);
    let every = env("DUMPWATCH_CHECKPOINT_EVENTS", 100_000);
    let rounds = env("DUMPWATCH_ROUNDS", 3);
    let setup = Setup {
        dir: tempfile::tempdir().unwrap(),
        shipped: dumpwatch_bundle::SHIPPED
            .iter()
            .map(|s| ModuleSource::embedded(s.id, s.wasm))
            .collect(),
    };
    let cfg = setup.config("default", "", n.max(stream_windows));
    println!(
        "engine defaults: checkpoint_interval {:?}, checkpoint_events {}, replay_limit {}",
        cfg.engine.checkpoint_interval.0, cfg.engine.checkpoint_events, cfg.engine.replay_limit
    );

    // 1. A persistent flow with n open windows, checkpointed when due
    // while they opened.
    let state = setup.dir.path().join("state");
    let store = store_path(&state);
    let mut flow = setup.flow(&cfg, Some(&state));
    flow.restore().unwrap();
    let src = flow.add_source(0, None);
    let t = Instant::now();
    let taken = open(&mut flow, src, n, true);
    let open_time = t.elapsed();
    let t = Instant::now();
    let open_n = open_windows(&mut flow);
    let inspect_time = t.elapsed();
    assert_eq!(open_n, n as u64, "every client start opens a window");
    println!(
        "opened {open_n} windows in {:.2} s through the pipeline, checkpointing when due or every 102,400 events: {} checkpoints, {:.2} s in them, slowest {:.2} s; \
         store {:.0} MB; inspect(0) takes {:.3} s",
        secs(open_time),
        taken.count,
        secs(taken.total),
        secs(taken.slowest),
        mb(std::fs::metadata(&store).unwrap().len()),
        secs(inspect_time)
    );
    let (bare, bare_open, grown) = guest_memory(&mut flow, n);
    assert_eq!(bare_open, n as u64);
    println!(
        "guest memory: {:.0} MB for {bare_open} open windows = {:.0} bytes per window \
         (linear memory growth of a bare AN0676 instance while it opened them)",
        mb(grown),
        grown as f64 / bare_open as f64
    );
    bare_snapshot(bare);

    // 2. A full checkpoint of the windows as the pipeline opened them (a
    // running instance's, as when its changes outgrow its full snapshot),
    // then changed-only checkpoints.
    // The engine thread takes the snapshot, the store commits it on a
    // thread of its own: both are timed, the whole until it is durable.
    an0676(&mut flow).checkpointed = false;
    let t = Instant::now();
    flow.begin_checkpoint(&mut []).unwrap();
    let full_running_engine = t.elapsed();
    flow.wait_commit().unwrap();
    let full_running = t.elapsed();
    assert!(an0676(&mut flow).checkpointed);
    let t = Instant::now();
    flow.checkpoint(&mut []).unwrap();
    let unchanged = t.elapsed();
    let entities = spread(n, changed, 0x0123_4567_89ab_cdef);
    let at = after_open(n);
    let mut k = 0;
    while k < entities.len() {
        let mut batch: Vec<Event> = entities[k..(k + PUMP).min(entities.len())]
            .iter()
            .enumerate()
            .map(|(j, &e)| {
                let j = k + j;
                exec(
                    e,
                    at + (j / OPEN_PER_MS) as i64,
                    format!("c{j}"),
                    3_000_000 + j as u32,
                )
            })
            .collect();
        k += batch.len();
        flow.ingest(src, &mut batch);
    }
    flow.advance(true);
    assert_eq!(
        open_windows(&mut flow),
        open_n,
        "the changes joined windows"
    );
    let t = Instant::now();
    flow.checkpoint(&mut []).unwrap();
    let changes = t.elapsed();
    let size_changes = std::fs::metadata(&store).unwrap().len();
    assert_eq!(an0676(&mut flow).stats.failures, 0);
    assert!(an0676(&mut flow).checkpointed);
    drop(flow);

    // 3. Restore into a new flow over the same store.
    breakdown(&setup.flow(&cfg, None), &store, setup.dir.path());
    let mut flow = setup.flow(&cfg, Some(&state));
    let (t, cpu) = (Instant::now(), CpuTime::now());
    let report = flow.restore().unwrap();
    let (restore, restore_cpu) = (t.elapsed(), CpuTime::now().since(cpu));
    let windows_after = open_windows(&mut flow);
    let restored_memory = an0676(&mut flow).instance.memory_bytes() as u64;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(windows_after, open_n, "every window restored");
    let recorded = report
        .restored
        .iter()
        .find(|(id, _)| id == "AN0676")
        .map(|(_, w)| *w);
    assert_eq!(recorded, Some(open_n));

    // A full checkpoint: what the first checkpoint after a reload (or a
    // recovery, or with a fresh store) does. Every stored entry removed,
    // every entry written.
    an0676(&mut flow).checkpointed = false;
    let t = Instant::now();
    let r = flow.checkpoint(&mut []);
    let full = t.elapsed();
    let size_full = std::fs::metadata(&store).unwrap().len();
    let a = an0676(&mut flow);
    let full_ok = r.is_ok() && a.checkpointed && a.stats.failures == 0;
    let checkpointed_memory = a.instance.memory_bytes() as u64;
    let full_text = if full_ok {
        format!("{:.2} s", secs(full))
    } else {
        format!(
            "FAILED ({:.2} s: {}; AN0676 failures {}, quarantined {}; see below)",
            secs(full),
            r.err().map_or_else(
                || "flow.checkpoint returned Ok".to_owned(),
                |e| e.to_string()
            ),
            a.stats.failures,
            a.quarantined
        )
    };
    // After a failed full snapshot the analytic is still to be written in
    // full: see what the next checkpoints do to it.
    let mut aftermath = String::new();
    if !full_ok {
        aftermath.push_str(&format!(
            "\n  open windows in the running AN0676 right after it: {}",
            open_windows(&mut flow)
        ));
        let src = flow.add_source(0, None);
        let at = after_open(n) + 60_000;
        let mut more = 0;
        while more < 2 && !an0676(&mut flow).quarantined {
            let mut batch: Vec<Event> = (0..100)
                .map(|j| {
                    let j = more * 100 + j;
                    exec(
                        j * 7 % n,
                        at + j as i64,
                        format!("f{j}"),
                        4_000_000 + j as u32,
                    )
                })
                .collect();
            flow.ingest(src, &mut batch);
            flow.advance(true);
            let t = Instant::now();
            let r = flow.checkpoint(&mut []);
            let d = t.elapsed();
            more += 1;
            let a = an0676(&mut flow);
            aftermath.push_str(&format!(
                "\n  checkpoint {more} after it: {} in {:.2} s; AN0676 failures {}, checkpointed {}, quarantined {}, replay log {} events",
                if r.is_ok() { "Ok" } else { "Err" },
                secs(d),
                a.stats.failures,
                a.checkpointed,
                a.quarantined,
                a.replay_events
            ));
        }
    }
    drop(flow);
    if !full_ok {
        let frames = Store::open(&store, false)
            .unwrap()
            .frames("AN0676")
            .unwrap();
        let stored = dumpwatch_frames::frames(&frames).count();
        aftermath.push_str(&format!("\n  AN0676 entries left in the store: {stored}"));
    }

    println!(
        "checkpoint with {open_n} open windows: full {full_text} (restored windows), {:.2} s (windows opened by events: {:.2} s on the engine thread, then the store's commit), nothing changed {:.2} s, changed-only ({changed} windows, {:.1} %) {:.2} s",
        secs(full_running),
        secs(full_running_engine),
        secs(unchanged),
        changed as f64 * 100.0 / n as f64,
        secs(changes),
    );
    if !aftermath.is_empty() {
        println!("after the failed full checkpoint:{aftermath}");
    }
    println!(
        "store: {:.0} MB after the changed-only checkpoints, {:.0} MB after the full one",
        mb(size_changes),
        mb(size_full)
    );
    println!(
        "restore: {:.2} s, {restore_cpu} ({windows_after} windows back; the instance's linear memory {:.0} MB after it, {:.0} MB after the full checkpoint)",
        secs(restore),
        mb(restored_memory),
        mb(checkpointed_memory),
    );
    println!(
        "targets: checkpoint < 1 s: full {} (restored windows), {} (opened by events), changed-only {}; restore < 1 s: {}",
        if full_ok { yes(full) } else { "FAILED" },
        yes(full_running),
        yes(changes),
        yes(restore)
    );

    // 4. Throughput.
    if rounds == 0 {
        return;
    }
    // Building the batches takes about as long as the pipeline takes to
    // process them, and the flow's interval runs on the wall clock: a
    // 10 s interval would checkpoint twice as often per second of
    // pipeline as in a real one. The runs therefore put the flow's own
    // interval out of the way and checkpoint every `interval` of pipeline
    // time, with the engine's other rules (events, replay limit) as they
    // are.
    let interval = cfg.engine.checkpoint_interval.0;
    let interval_cfg = setup.config(
        "interval",
        "checkpoint_interval = \"100h\"\ncheckpoint_events = 1000000000000\nreplay_limit = 1000000000",
        stream_windows,
    );
    let events_cfg = setup.config(
        "events",
        &format!("checkpoint_interval = \"100h\"\ncheckpoint_events = {every}"),
        stream_windows,
    );
    let modes = [
        (
            Mode::None,
            &cfg,
            "no checkpoints (in-memory store)".to_owned(),
        ),
        (
            Mode::Interval,
            &interval_cfg,
            format!("checkpoint every {interval:?} only"),
        ),
        (
            Mode::Events,
            &events_cfg,
            format!("checkpoint every {interval:?} or {every} events (engine defaults)"),
        ),
    ];
    let mut runs: Vec<Vec<Run>> = modes.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        for (m, (mode, cfg, label)) in modes.iter().enumerate() {
            let r = stream(&setup, cfg, *mode, interval, stream_windows, stream_events);
            println!(
                "  round {round} {label}: {:.3} M ev/s up to the last checkpoint ({:.1} s in the pipeline, {:.1} s with building the batches, {} checkpoints, {:.2} s in them, slowest {:.3} s)",
                r.rate() / 1e6,
                secs(r.pipeline),
                secs(r.wall),
                r.checkpoints,
                secs(r.in_checkpoints),
                secs(r.slowest)
            );
            runs[m].push(r);
        }
    }
    let best = |m: usize| runs[m].iter().map(Run::rate).fold(0.0, f64::max);
    let med = |m: usize| median(runs[m].iter().map(Run::rate).collect());
    println!(
        "throughput with {stream_windows} open windows, {stream_events} events per run (1 in {RELEVANT_EVERY} to AN0676), {rounds} runs each (best / median):"
    );
    for (m, (_, _, label)) in modes.iter().enumerate() {
        let share = median(
            runs[m]
                .iter()
                .map(|r| r.checkpoint_share() * 100.0)
                .collect(),
        );
        let taken: u64 = runs[m].iter().map(|r| r.checkpoints).sum();
        let mean =
            runs[m].iter().map(|r| secs(r.in_checkpoints)).sum::<f64>() / taken.max(1) as f64;
        let per_interval = if modes[m].0 == Mode::Interval {
            let every = secs(interval);
            format!(
                ", {:.1} % of each {every:.0} s interval",
                mean / every * 100.0
            )
        } else {
            String::new()
        };
        let cost = if m == 0 {
            String::new()
        } else {
            format!(
                " (cost {:.1} % best, {:.1} % median; {:.1} % of the time spent in checkpoints up to the last one; {taken} checkpoints of {:.3} s on average{per_interval})",
                (1.0 - best(m) / best(0)) * 100.0,
                (1.0 - med(m) / med(0)) * 100.0,
                share,
                mean
            )
        };
        println!(
            "  {label}: {:.3} / {:.3} M ev/s{cost}",
            best(m) / 1e6,
            med(m) / 1e6
        );
    }
}

fn yes(d: Duration) -> &'static str {
    if d < Duration::from_secs(1) {
        "met"
    } else {
        "NOT met"
    }
}
