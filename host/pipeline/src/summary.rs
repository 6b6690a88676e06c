//! The end-of-run summary: per input what was normalized, skipped and
//! rejected (with the first errors' positions and reasons), per analytic
//! what it was given and what it found, and the overall rate.

use std::fmt::Write as _;
use std::time::Duration;

use crate::analytics::AnalyticStats;
use crate::flow::{RestoreReport, TimeStats};
use crate::source::InputReport;

/// One analytic's line of the summary.
#[derive(Clone, Debug)]
pub struct AnalyticLine {
    pub id: String,
    pub version: String,
    pub tunables_hash: String,
    pub stats: AnalyticStats,
    /// Quarantined after repeated failures.
    pub quarantined: bool,
}

/// Everything a run reports.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    pub inputs: Vec<(InputReport, TimeStats)>,
    /// Inputs that could not be opened or read: (path, reason).
    pub unreadable: Vec<(String, String)>,
    pub analytics: Vec<AnalyticLine>,
    pub elapsed: Duration,
    pub sink_errors: u64,
    /// What was restored from the checkpoint store at start.
    pub restore: RestoreReport,
    /// Checkpoints written.
    pub checkpoints: u64,
    /// Why the run stopped early, if it did.
    pub fatal: Option<String>,
}

impl RunSummary {
    pub fn total_events(&self) -> u64 {
        self.inputs.iter().map(|(r, _)| r.stats.normalized).sum()
    }

    pub fn total_bytes(&self) -> u64 {
        self.inputs.iter().map(|(r, _)| r.bytes).sum()
    }

    pub fn total_errors(&self) -> u64 {
        self.inputs.iter().map(|(r, _)| r.stats.error_count()).sum()
    }

    /// Human-readable text for standard error.
    pub fn render(&self) -> String {
        let mut s = String::from("dumpwatch summary\n");
        for (id, windows) in &self.restore.restored {
            let _ = writeln!(
                s,
                "  restored {id} from the checkpoint store ({windows} open windows)"
            );
        }
        for (id, why, lost, sample) in &self.restore.rejected {
            let _ = writeln!(
                s,
                "  {id}: stored state rejected by this version ({why}); started empty, {lost} open windows lost{}",
                if sample.is_empty() {
                    String::new()
                } else {
                    format!(" (first keys: {})", sample.join(", "))
                }
            );
        }
        if self.restore.redelivered > 0 {
            let _ = writeln!(
                s,
                "  delivered {} findings of an interrupted checkpoint",
                self.restore.redelivered
            );
        }
        for (r, t) in &self.inputs {
            let fmt = r.format.map_or("unrecognised", |f| f.name());
            let _ = writeln!(
                s,
                "  input {} [{fmt}]: {} normalized, {} skipped, {} errors, {} late, {} absurd time",
                r.path,
                r.stats.normalized,
                r.stats.skipped_count(),
                r.stats.error_count(),
                t.late,
                t.absurd
            );
            if !r.stats.by_class.is_empty() {
                let classes: Vec<String> = r
                    .stats
                    .by_class
                    .iter()
                    .map(|(c, n)| format!("{}={n}", c.as_str()))
                    .collect();
                let _ = writeln!(s, "    events by class: {}", classes.join(", "));
            }
            if !r.stats.skipped.is_empty() {
                let skipped: Vec<String> = r
                    .stats
                    .skipped
                    .iter()
                    .map(|(k, n)| format!("{k}={n}"))
                    .collect();
                let _ = writeln!(s, "    skipped by type: {}", skipped.join(", "));
            }
            if !r.stats.errors.is_empty() {
                let errors: Vec<String> = r
                    .stats
                    .errors
                    .iter()
                    .map(|(k, n)| format!("{k}={n}"))
                    .collect();
                let _ = writeln!(s, "    errors by reason: {}", errors.join(", "));
                for e in &r.first_errors {
                    let _ = writeln!(
                        s,
                        "      {}:{}: {}: {}",
                        r.path, e.pos.line, e.kind, e.detail
                    );
                }
                let more = r.stats.error_count() as usize
                    - r.first_errors.len().min(r.stats.error_count() as usize);
                if more > 0 {
                    let _ = writeln!(s, "      … and {more} more");
                }
            }
        }
        for (path, why) in &self.unreadable {
            let _ = writeln!(s, "  input {path}: UNREADABLE: {why}");
        }
        for a in &self.analytics {
            let st = &a.stats;
            let _ = writeln!(
                s,
                "  analytic {} v{} (tunables {}): {} events routed, {} findings created, {} updated, {} unchanged repeats, {} failed calls{}",
                a.id,
                a.version,
                a.tunables_hash,
                st.routed,
                st.findings_created,
                st.findings_updated,
                st.findings_unchanged,
                st.failures,
                if a.quarantined { ", QUARANTINED" } else { "" }
            );
            if st.findings_dropped > 0 {
                let _ = writeln!(
                    s,
                    "    {} findings dropped: calls returned more than limits.max_findings_per_call",
                    st.findings_dropped
                );
            }
        }
        if self.checkpoints > 0 {
            let _ = writeln!(s, "  checkpoints written: {}", self.checkpoints);
        }
        if let Some(f) = &self.fatal {
            let _ = writeln!(s, "  STOPPED: {f}");
        }
        if self.sink_errors > 0 {
            let _ = writeln!(s, "  sink write errors: {}", self.sink_errors);
        }
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let _ = writeln!(
            s,
            "  total: {} events, {} bytes in {:.3} s ({:.0} events/s, {:.1} MB/s)",
            self.total_events(),
            self.total_bytes(),
            secs,
            self.total_events() as f64 / secs,
            self.total_bytes() as f64 / secs / 1e6
        );
        s
    }
}
