//! What the normalizer benches share: the ratio of a normalizer to its
//! baseline over the same bytes, measured so that this shared, noisy
//! machine disturbs it least.
//!
//! Each pair runs in alternation (normalizer, baseline, normalizer, …) so
//! both sides see the same machine, timed in thread CPU time (which does
//! not count waiting for a core), and each side's best run is kept: the
//! run the machine disturbed least. `DUMPWATCH_TABLE_ONLY=1` skips
//! criterion's own runs and prints the table alone.

use std::hint::black_box;
use std::time::Duration;

/// Alternating runs per pair.
const ROUNDS: usize = 11;

/// CPU time of the calling thread.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given, which
    // lives on this stack frame for the whole call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Best thread CPU time of `norm` and of `base` over alternating runs,
/// and the last count `norm` returned.
pub fn paired(mut norm: impl FnMut() -> u64, mut base: impl FnMut() -> u64) -> (f64, f64, u64) {
    let mut best = [Duration::MAX; 2];
    let mut count = 0;
    for _ in 0..ROUNDS {
        let t = thread_cpu_time();
        count = black_box(norm());
        best[0] = best[0].min(thread_cpu_time().saturating_sub(t));
        let t = thread_cpu_time();
        black_box(base());
        best[1] = best[1].min(thread_cpu_time().saturating_sub(t));
    }
    (best[0].as_secs_f64(), best[1].as_secs_f64(), count)
}

/// Whether to print the table alone, without criterion's runs.
pub fn table_only() -> bool {
    std::env::var_os("DUMPWATCH_TABLE_ONLY").is_some()
}

/// Whether this is a full run, which ends with the table: not one with a
/// filter, `--profile-time`, `--list` or `--test` (a profile of one
/// benchmark must not hold the table's runs of every stream).
pub fn full_run() -> bool {
    std::env::args().skip(1).all(|a| a == "--bench")
}

/// The table's header.
pub fn header() {
    println!();
    println!(
        "{:<22} {:>6} {:>8} {:>10} {:>10} {:>10} {:>7}   (best thread CPU time of {ROUNDS} alternating runs each)",
        "stream", "MB", "events", "norm MB/s", "events/s", "base MB/s", "ratio"
    );
}

/// One row: `bytes` normalized into `events` in `norm` seconds, the
/// baseline over the same bytes in `base` seconds.
pub fn row(name: &str, bytes: usize, events: u64, norm: f64, base: f64, baseline: &str) {
    let mb = bytes as f64 / 1e6;
    println!(
        "{:<22} {:>6.1} {:>8} {:>10.0} {:>10.0} {:>10.0} {:>6.2}x   (baseline: {baseline})",
        name,
        mb,
        events,
        mb / norm,
        events as f64 / norm,
        mb / base,
        base / norm,
    );
}
