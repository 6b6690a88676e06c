//! The event flow: enrich → check event time → route through each
//! analytic's prefilter into its batch → call the analytic → dedup →
//! sinks, with watermarks advancing analytics as event time progresses.
//!
//! Single-threaded and deterministic: the same inputs in the same order
//! give the same output bytes.

use dumpwatch_event::{EmittedFinding, Event};
use dumpwatch_runtime::convert::{event_to_wit, finding_from_wit};
use dumpwatch_runtime::{CallError, Runtime, wit};

use crate::analytics::Analytic;
use crate::dedup::Dedup;
use crate::enrich::Inventory;
use crate::sink::Sink;
use crate::watermark::{SourceId, Timeliness, Watermarks};

/// Event-time counters of one source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimeStats {
    /// Events older than the source's watermark when they arrived.
    pub late: u64,
    /// Events with implausible times (far future or decades past).
    pub absurd: u64,
}

/// Settings of the flow.
#[derive(Clone, Debug)]
pub struct FlowSettings {
    /// Events per `process` call.
    pub batch_size: usize,
    /// Smallest watermark step (ms of event time) worth an `advance` call.
    pub advance_step_ms: i64,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            batch_size: 512,
            advance_step_ms: 1000,
        }
    }
}

/// A running pipeline.
pub struct Flow {
    rt: Runtime,
    pub analytics: Vec<Analytic>,
    inventory: Inventory,
    dedup: Dedup,
    sinks: Vec<Box<dyn Sink>>,
    watermarks: Watermarks,
    time_stats: Vec<TimeStats>,
    settings: FlowSettings,
    /// Sink write failures (the finding is still counted; the error is
    /// logged).
    pub sink_errors: u64,
}

impl Flow {
    pub fn new(
        rt: Runtime,
        analytics: Vec<Analytic>,
        inventory: Inventory,
        dedup: Dedup,
        sinks: Vec<Box<dyn Sink>>,
        watermarks: Watermarks,
        settings: FlowSettings,
    ) -> Flow {
        Flow {
            rt,
            analytics,
            inventory,
            dedup,
            sinks,
            watermarks,
            time_stats: Vec::new(),
            settings,
            sink_errors: 0,
        }
    }

    /// Register an input with its allowed lateness.
    pub fn add_source(&mut self, lateness_ms: i64) -> SourceId {
        self.time_stats.push(TimeStats::default());
        self.watermarks.add_source(lateness_ms)
    }

    /// Set a source's allowed lateness once its format is known.
    pub fn set_lateness(&mut self, src: SourceId, lateness_ms: i64) {
        self.watermarks.set_lateness(src, lateness_ms);
    }

    pub fn time_stats(&self, src: SourceId) -> &TimeStats {
        &self.time_stats[src]
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// Take events from a source through enrichment and routing.
    pub fn ingest(&mut self, src: SourceId, events: &mut Vec<Event>) {
        let enrich = !self.inventory.is_empty();
        for mut e in events.drain(..) {
            if enrich {
                self.inventory.enrich(&mut e);
            }
            match self.watermarks.observe(src, e.time) {
                Timeliness::OnTime => {}
                Timeliness::Late => self.time_stats[src].late += 1,
                Timeliness::Absurd => self.time_stats[src].absurd += 1,
            }
            for i in 0..self.analytics.len() {
                if self.analytics[i].prefilter.accepts(&e) {
                    let a = &mut self.analytics[i];
                    a.stats.routed += 1;
                    a.batch.push(event_to_wit(&e));
                    if a.batch.len() >= self.settings.batch_size {
                        self.flush_batch(i);
                    }
                }
            }
        }
        self.advance(false);
    }

    /// A source has delivered everything.
    pub fn finish_source(&mut self, src: SourceId) {
        self.watermarks.finish(src);
    }

    /// Hand every analytic its pending batch and advance it as far as the
    /// watermark allows (`force`: even by less than the step).
    pub fn advance(&mut self, force: bool) {
        let wm = self.watermarks.combined();
        if wm == i64::MIN {
            return;
        }
        for i in 0..self.analytics.len() {
            let last = self.analytics[i].advanced_to;
            let due = wm > last
                && (force
                    || last == i64::MIN
                    || wm.saturating_sub(last) >= self.settings.advance_step_ms);
            if !due {
                continue;
            }
            self.flush_batch(i);
            self.analytics[i].advanced_to = wm;
            self.analytics[i].stats.calls += 1;
            let result = self.analytics[i].instance.advance(wm);
            self.take_findings(i, result);
        }
        self.dedup.expire(wm);
    }

    /// End of all input: process everything, close every window, flush
    /// the sinks.
    pub fn finish(&mut self) {
        for i in 0..self.analytics.len() {
            self.flush_batch(i);
            self.analytics[i].advanced_to = i64::MAX;
            self.analytics[i].stats.calls += 1;
            let result = self.analytics[i].instance.advance(i64::MAX);
            self.take_findings(i, result);
        }
        for s in &mut self.sinks {
            if let Err(e) = s.flush() {
                self.sink_errors += 1;
                tracing::error!(sink = %s.name(), "cannot flush findings: {e}");
            }
        }
    }

    fn flush_batch(&mut self, i: usize) {
        if self.analytics[i].batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.analytics[i].batch);
        self.analytics[i].stats.calls += 1;
        let result = self.analytics[i].instance.process(&batch);
        self.take_findings(i, result);
        // Keep the allocation for the next batch.
        let a = &mut self.analytics[i];
        if a.batch.is_empty() {
            let mut b = batch;
            b.clear();
            a.batch = b;
        }
    }

    fn take_findings(&mut self, i: usize, result: Result<Vec<wit::Finding>, CallError>) {
        let findings = match result {
            Ok(f) => f,
            Err(e) => {
                self.on_failure(i, e);
                return;
            }
        };
        for f in findings {
            let finding = finding_from_wit(f);
            let Some(activity) = self.dedup.classify(&finding) else {
                self.analytics[i].stats.findings_unchanged += 1;
                continue;
            };
            let a = &mut self.analytics[i];
            match activity {
                dumpwatch_event::FindingActivity::Create => a.stats.findings_created += 1,
                dumpwatch_event::FindingActivity::Update => a.stats.findings_updated += 1,
            }
            let emitted = EmittedFinding {
                activity,
                analytic: a.info.clone(),
                finding,
            };
            for s in &mut self.sinks {
                if let Err(e) = s.emit(&emitted) {
                    self.sink_errors += 1;
                    tracing::error!(sink = %s.name(), "cannot write finding: {e}");
                }
            }
        }
    }

    /// A call failed: report it and replace the instance so the other
    /// analytics, and this one, keep running.
    fn on_failure(&mut self, i: usize, e: CallError) {
        let a = &mut self.analytics[i];
        a.stats.failures += 1;
        tracing::error!(analytic = %a.info.id, "analytic call failed: {e}; re-instantiating (its open windows are lost)");
        if let Err(err) = a.reinstantiate(&self.rt) {
            tracing::error!(analytic = %a.info.id, "cannot re-instantiate: {err}");
        }
    }
}
