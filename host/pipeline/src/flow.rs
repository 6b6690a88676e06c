//! The event flow: enrich → check event time → route through each
//! analytic's prefilter into its batch → call the analytic → dedup →
//! sinks, with watermarks advancing analytics as event time progresses and
//! checkpoints making all of it survive a crash.
//!
//! Single-threaded and deterministic: the same inputs in the same order
//! give the same output bytes.
//!
//! Failure handling: a call that traps, times out or hits the memory cap
//! poisons the instance. The analytic is re-instantiated, restored from its
//! last checkpoint, and the calls made since (kept in its replay log) are
//! made again — except the batch that failed, which goes to the analytic
//! dead-letter file with the reason. An analytic that keeps failing is
//! quarantined or stops the pipeline, per its `on_failure` policy.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dumpwatch_event::{EmittedFinding, Event, FindingActivity};
use dumpwatch_runtime::cache::ArtifactCache;
use dumpwatch_runtime::convert::{event_to_wit, finding_from_wit};
use dumpwatch_runtime::{CallError, Runtime, wit};
use dumpwatch_state::{
    AnalyticRecord, AnalyticUpdate, Checkpoint, Committed, Entry, EntryChange, SourceRecord,
    StateSize, Store, StoreError,
};

use crate::analytics::{Analytic, FailurePolicy, ReplayOp};
use crate::dedup::Dedup;
use crate::enrich::Inventory;
use crate::handover::{Restored, checked, restore_stored};
use crate::sink::{Sink, render};
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
    /// Checkpoint after this many events…
    pub checkpoint_events: u64,
    /// …or this much wall-clock time.
    pub checkpoint_interval: Duration,
    /// Events per analytic kept for rebuilding; past it, checkpoint.
    pub replay_limit: usize,
    /// Failures without a successful checkpoint before the policy applies.
    pub max_restarts: u32,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            batch_size: 512,
            advance_step_ms: 1000,
            checkpoint_events: 100_000,
            checkpoint_interval: Duration::from_secs(10),
            replay_limit: 100_000,
            max_restarts: 5,
        }
    }
}

/// What restoring from the store found.
#[derive(Clone, Debug, Default)]
pub struct RestoreReport {
    /// Stored positions by source key.
    pub sources: BTreeMap<String, SourceRecord>,
    /// Analytics restored: (id, open windows).
    pub restored: Vec<(String, u64)>,
    /// Analytics whose stored state their new version rejected:
    /// (id, reason, windows lost, sample of lost window keys).
    pub rejected: Vec<(String, String, u64, Vec<String>)>,
    /// Findings delivered from the outbox of an interrupted checkpoint.
    pub redelivered: usize,
}

/// A source's part of a checkpoint.
#[derive(Clone, Debug, Default)]
pub struct SourceCheckpoint {
    pub id: SourceId,
    /// Key its position is stored under (`None`: not resumable, stdin).
    pub key: Option<String>,
    /// Where to resume.
    pub record: SourceRecord,
    /// Decoder state changes not yet stored.
    pub state_changes: Vec<EntryChange>,
}

/// Why the flow stopped.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("checkpoint failed: {0}")]
    Checkpoint(String),
    #[error("{0}")]
    Stopped(String),
}

/// A checkpoint whose commit runs on its own thread.
struct PendingCommit {
    commit: std::thread::JoinHandle<Result<(Committed, Checkpoint), StoreError>>,
    /// Where each analytic's replay log stood at its snapshot.
    marks: Vec<ReplayMark>,
}

/// An analytic's replay log at the snapshot of a checkpoint: the calls up
/// to it can go once that checkpoint is committed.
struct ReplayMark {
    id: String,
    calls: usize,
    events: usize,
    advanced_to: i64,
}

/// A running pipeline.
pub struct Flow {
    /// Shared with reload preparations, which instantiate new versions on
    /// their own thread.
    pub(crate) rt: Arc<Runtime>,
    pub analytics: Vec<Analytic>,
    inventory: Inventory,
    dedup: Dedup,
    sinks: Vec<Box<dyn Sink>>,
    watermarks: Watermarks,
    /// Each source's format once known: an analytic is held back only by
    /// the sources that can feed it.
    source_formats: Vec<Option<dumpwatch_normalize::Format>>,
    time_stats: Vec<TimeStats>,
    settings: FlowSettings,
    /// Shared with the thread that commits a checkpoint.
    pub(crate) store: Arc<Store>,
    /// The checkpoint being committed, if any: at most one at a time.
    pending: Option<PendingCommit>,
    /// Findings wait for the checkpoint that produced them (persistent
    /// store) instead of going out at once.
    outbox_mode: bool,
    staged: Vec<String>,
    events_since_checkpoint: u64,
    last_checkpoint: Instant,
    analytic_dead_letter: Option<std::io::BufWriter<std::fs::File>>,
    /// Set when an analytic with the `stop` policy gave up.
    stop: Option<String>,
    /// Compiled-component cache (reloads load through it).
    cache: Option<ArtifactCache>,
    /// Analytics unloaded since the last checkpoint: their stored state
    /// goes with the next one.
    dropped: Vec<String>,
    /// Checkpoints written by this run.
    pub checkpoints: u64,
    /// Reloads applied, and reloads with a refused change.
    pub reloads: u64,
    pub reload_failures: u64,
    /// Sink write failures (the error is logged).
    pub sink_errors: u64,
}

impl Flow {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rt: Runtime,
        analytics: Vec<Analytic>,
        inventory: Inventory,
        dedup: Dedup,
        sinks: Vec<Box<dyn Sink>>,
        watermarks: Watermarks,
        settings: FlowSettings,
        store: Store,
        analytic_dead_letter: Option<std::fs::File>,
        cache: Option<ArtifactCache>,
    ) -> Flow {
        let outbox_mode = store.is_persistent();
        Flow {
            rt: Arc::new(rt),
            analytics,
            inventory,
            dedup,
            sinks,
            watermarks,
            source_formats: Vec::new(),
            time_stats: Vec::new(),
            settings,
            store: Arc::new(store),
            pending: None,
            outbox_mode,
            staged: Vec::new(),
            events_since_checkpoint: 0,
            last_checkpoint: Instant::now(),
            analytic_dead_letter: analytic_dead_letter.map(std::io::BufWriter::new),
            stop: None,
            cache,
            dropped: Vec::new(),
            checkpoints: 0,
            reloads: 0,
            reload_failures: 0,
            sink_errors: 0,
        }
    }

    /// Restore analytics, dedup memory and undelivered findings from the
    /// store; return the stored source positions.
    pub fn restore(&mut self) -> Result<RestoreReport, FlowError> {
        let err = |e: dumpwatch_state::StoreError| FlowError::Checkpoint(e.to_string());
        let loaded = self.store.load().map_err(err)?;
        let mut report = RestoreReport {
            sources: loaded.sources.clone(),
            ..Default::default()
        };
        self.dedup.load(loaded.dedup.iter().cloned());
        let mut drop_ids = Vec::new();
        for (id, rec) in &loaded.analytics {
            let Some(i) = self.analytics.iter().position(|a| &a.info.id == id) else {
                // No longer loaded: its state would never be used.
                tracing::warn!(analytic = %id, windows = rec.open_windows, "stored state of an analytic that is no longer loaded is dropped");
                drop_ids.push(id.clone());
                continue;
            };
            let (restored, sample) = restore_from_store(&self.store, &mut self.analytics[i])?;
            let a = &mut self.analytics[i];
            match restored {
                Ok(Ok(())) => {
                    a.advanced_to = rec.advanced_to;
                    a.checkpoint_advanced_to = rec.advanced_to;
                    a.checkpointed = true;
                    a.rebuild_from_store = true;
                    report.restored.push((id.clone(), rec.open_windows));
                }
                Ok(Err(reason)) => {
                    tracing::error!(
                        analytic = %id,
                        windows_lost = rec.open_windows,
                        "stored state does not fit this version ({} → {}): {reason}; starting empty",
                        rec.version,
                        a.info.version
                    );
                    report
                        .rejected
                        .push((id.clone(), reason, rec.open_windows, sample));
                    drop_ids.push(id.clone());
                    if let Err(e) = a.reinstantiate(&self.rt) {
                        return Err(FlowError::Stopped(format!("{id}: {e}")));
                    }
                }
                Err(e) => {
                    return Err(FlowError::Stopped(format!(
                        "{id}: restoring its state failed: {e}"
                    )));
                }
            }
        }
        if !drop_ids.is_empty() {
            self.store
                .commit(&Checkpoint {
                    drop_analytics: drop_ids,
                    ..Default::default()
                })
                .map_err(err)?;
        }
        // Findings of a checkpoint that committed but whose delivery was
        // not confirmed: cut file sinks back to their last confirmed size
        // and deliver them (again).
        if !loaded.outbox.is_empty() {
            for s in &mut self.sinks {
                if let Some(len) = loaded.delivered.get(&s.name())
                    && let Err(e) = s.truncate(*len)
                {
                    tracing::error!(sink = %s.name(), "cannot rewind to the last delivery: {e}");
                }
            }
            let upto = loaded.outbox.last().map_or(0, |(k, _)| *k);
            let lines: Vec<String> = loaded.outbox.into_iter().map(|(_, l)| l).collect();
            report.redelivered = lines.len();
            self.deliver(&lines);
            self.confirm_delivery(upto)?;
        }
        let baselines: Vec<(String, u64)> = self
            .sinks
            .iter_mut()
            .filter(|s| !loaded.delivered.contains_key(&s.name()))
            .filter_map(|s| s.size().map(|len| (s.name(), len)))
            .collect();
        if !baselines.is_empty() {
            self.store.sink_baselines(&baselines).map_err(err)?;
        }
        Ok(report)
    }

    /// The decoder state stored for a source.
    pub fn decoder_state(&self, key: &str) -> Result<Vec<Entry>, FlowError> {
        self.store
            .decoder_entries(key)
            .map_err(|e| FlowError::Checkpoint(e.to_string()))
    }

    /// Register an input with its allowed lateness and, when resumed, the
    /// highest event time it had delivered.
    pub fn add_source(&mut self, lateness_ms: i64, restored_max_seen: Option<i64>) -> SourceId {
        self.time_stats.push(TimeStats::default());
        self.source_formats.push(None);
        let id = self.watermarks.add_source(lateness_ms);
        if let Some(t) = restored_max_seen {
            self.watermarks.restore_max_seen(id, t);
        }
        id
    }

    /// Set a source's allowed lateness once its format is known.
    pub fn set_lateness(&mut self, src: SourceId, lateness_ms: i64) {
        self.watermarks.set_lateness(src, lateness_ms);
    }

    /// A source's format became known (detected when it was opened).
    pub fn set_source_format(&mut self, src: SourceId, format: dumpwatch_normalize::Format) {
        self.source_formats[src] = Some(format);
    }

    /// The watermark of one analytic: the minimum over the sources that
    /// can feed it (a source of unknown format might: it counts). With no
    /// such source nothing more can arrive for it.
    fn watermark_of(&self, i: usize) -> i64 {
        let p = &self.analytics[i].prefilter;
        (0..self.source_formats.len())
            .filter(|&s| self.source_formats[s].is_none_or(|f| p.wants(f)))
            .map(|s| self.watermarks.of(s))
            .min()
            .unwrap_or(i64::MAX)
    }

    pub fn time_stats(&self, src: SourceId) -> &TimeStats {
        &self.time_stats[src]
    }

    pub fn max_seen(&self, src: SourceId) -> i64 {
        self.watermarks.max_seen(src)
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// Count a reload (`ok`: nothing was refused).
    pub fn note_reload(&mut self, ok: bool) {
        self.reloads += 1;
        if !ok {
            self.reload_failures += 1;
        }
    }

    /// The runtime analytics are instantiated in.
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// The compiled-component cache, if any.
    pub fn cache(&self) -> Option<&ArtifactCache> {
        self.cache.as_ref()
    }

    /// Add a configured analytic (a module that appeared on reload).
    pub fn add_analytic(&mut self, a: Analytic) {
        tracing::info!(analytic = %a.info.id, version = %a.info.version, "analytic loaded");
        self.dropped.retain(|id| id != &a.info.id);
        self.analytics.push(a);
    }

    /// Unload an analytic after processing what it was given; its stored
    /// state goes with the next checkpoint.
    pub fn remove_analytic(&mut self, id: &str) -> Option<Analytic> {
        let i = self.analytics.iter().position(|a| a.info.id == id)?;
        self.flush_batch(i);
        let a = self.analytics.remove(i);
        self.dropped.push(id.to_owned());
        tracing::info!(analytic = %id, "analytic unloaded");
        Some(a)
    }

    /// Findings wait for checkpoints, which survive restarts.
    pub fn is_persistent(&self) -> bool {
        self.outbox_mode
    }

    /// Set when an analytic with the `stop` policy gave up.
    pub fn stopped(&self) -> Option<&str> {
        self.stop.as_deref()
    }

    /// Take events from a source through enrichment and routing.
    pub fn ingest(&mut self, src: SourceId, events: &mut Vec<Event>) {
        self.poll_commit();
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
            let mut routed = false;
            for i in 0..self.analytics.len() {
                let a = &mut self.analytics[i];
                if a.quarantined || !a.prefilter.accepts(&e) {
                    continue;
                }
                routed = true;
                a.stats.routed += 1;
                a.batch.push(e.clone());
                if a.batch.len() >= self.settings.batch_size {
                    self.flush_batch(i);
                }
            }
            // Only events an analytic took count towards the next
            // checkpoint: what the prefilter drops changes no state, and
            // counting it made a busy source checkpoint many times a second.
            self.events_since_checkpoint += u64::from(routed);
        }
        self.advance(false);
    }

    /// Live sources: advance idle sources' watermarks with the wall clock,
    /// then the analytics.
    pub fn tick(&mut self, now_ms: i64, idle_ms: i64) {
        self.poll_commit();
        self.watermarks.tick(now_ms, idle_ms);
        self.advance(false);
    }

    /// A live source delivered events now.
    pub fn touch(&mut self, src: SourceId, now_ms: i64) {
        self.watermarks.touch(src, now_ms);
    }

    /// Hand every analytic its partial batch (the batch delay expired).
    pub fn flush_batches(&mut self) {
        for i in 0..self.analytics.len() {
            self.flush_batch(i);
        }
    }

    /// A source has delivered everything.
    pub fn finish_source(&mut self, src: SourceId) {
        self.watermarks.finish(src);
    }

    /// Hand every analytic its pending batch and advance it as far as the
    /// watermark allows (`force`: even by less than the step).
    pub fn advance(&mut self, force: bool) {
        for i in 0..self.analytics.len() {
            let wm = self.watermark_of(i);
            if wm == i64::MIN {
                continue;
            }
            let last = self.analytics[i].advanced_to;
            let due = wm > last
                && (force
                    || last == i64::MIN
                    || wm == i64::MAX
                    || wm.saturating_sub(last) >= self.settings.advance_step_ms);
            if due && !self.analytics[i].quarantined {
                self.flush_batch(i);
                self.call_advance(i, wm);
            }
        }
        let wm = self.watermarks.combined();
        if wm != i64::MIN {
            self.dedup.expire(wm);
        }
    }

    fn call_advance(&mut self, i: usize, wm: i64) {
        let a = &mut self.analytics[i];
        if a.quarantined || wm <= a.advanced_to {
            return;
        }
        a.stats.calls += 1;
        match a.instance.advance(wm) {
            Ok(findings) => {
                a.advanced_to = wm;
                a.replay.push(ReplayOp::Advance(wm));
                self.take_findings(i, findings);
            }
            Err(e) => {
                self.recover(i, e, None);
                // The watermark still has to get there: try once more on
                // the rebuilt instance.
                let a = &mut self.analytics[i];
                if !a.quarantined
                    && wm > a.advanced_to
                    && let Ok(findings) = a.instance.advance(wm)
                {
                    a.advanced_to = wm;
                    a.replay.push(ReplayOp::Advance(wm));
                    self.take_findings(i, findings);
                }
            }
        }
    }

    /// Is a checkpoint due (events, time, or an analytic's replay log
    /// full)? The calls a commit in flight covers do not count towards the
    /// log: they go when it is taken in.
    pub fn checkpoint_due(&self) -> bool {
        let covered = |id: &str| {
            self.pending
                .iter()
                .flat_map(|p| &p.marks)
                .find(|m| m.id == id)
                .map_or(0, |m| m.events)
        };
        self.events_since_checkpoint >= self.settings.checkpoint_events
            || self.last_checkpoint.elapsed() >= self.settings.checkpoint_interval
            || self.analytics.iter().any(|a| {
                a.replay_events.saturating_sub(covered(&a.info.id)) >= self.settings.replay_limit
            })
    }

    /// Write a checkpoint and wait until it is committed: every batch
    /// processed, every analytic's state changes, the sources' positions
    /// (with their watermarks), the dedup changes and the findings produced
    /// since the last one, in one transaction; then deliver those findings.
    pub fn checkpoint(&mut self, sources: &mut [SourceCheckpoint]) -> Result<(), FlowError> {
        self.begin_checkpoint(sources)?;
        self.wait_commit()
    }

    /// Take a checkpoint and commit it on a thread of its own, so the
    /// engine goes on while the store writes it: the same checkpoint as
    /// [`Flow::checkpoint`], durable only once the commit ends. Until then
    /// the store holds the previous one, and the replay log keeps the calls
    /// since that one (a rebuild after a trap reads the store), its
    /// findings wait, and the next checkpoint or a reload waits for it.
    /// [`Flow::ingest`] and [`Flow::tick`] finish it when it is done.
    pub fn begin_checkpoint(&mut self, sources: &mut [SourceCheckpoint]) -> Result<(), FlowError> {
        self.wait_commit()?;
        for i in 0..self.analytics.len() {
            self.flush_batch(i);
        }
        let mut cp = Checkpoint::default();
        for i in 0..self.analytics.len() {
            if self.analytics[i].quarantined {
                continue;
            }
            let full = !self.analytics[i].checkpointed;
            let mode = if full {
                wit::SnapshotMode::Full
            } else {
                wit::SnapshotMode::Changes
            };
            let snap = match self.analytics[i].instance.snapshot(mode).and_then(checked) {
                Ok(s) => Ok(s),
                Err(e) => {
                    self.recover(i, e, None);
                    // A rebuilt instance starts from the stored state:
                    // only a full snapshot is right now.
                    let a = &mut self.analytics[i];
                    if a.quarantined {
                        continue;
                    }
                    a.instance
                        .snapshot(wit::SnapshotMode::Full)
                        .and_then(checked)
                        .map_err(|e| e.to_string())
                        .inspect(|_| a.checkpointed = false)
                }
            };
            let a = &mut self.analytics[i];
            let frames = match snap {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(analytic = %a.info.id, "snapshot failed again, its state is not in this checkpoint: {e}");
                    continue;
                }
            };
            let open_windows = a
                .instance
                .inspect(0)
                .map(|x| x.open_windows)
                .unwrap_or_default();
            cp.analytics.push(AnalyticUpdate {
                id: a.info.id.clone(),
                record: AnalyticRecord {
                    module_digest: a.module.digest.clone(),
                    version: a.info.version.clone(),
                    tunables_hash: a.info.tunables_hash.clone(),
                    advanced_to: a.advanced_to,
                    open_windows,
                },
                full: !a.checkpointed,
                frames,
            });
        }
        for src in sources.iter_mut() {
            if let Some(key) = &src.key {
                let mut rec = src.record.clone();
                rec.max_seen = self.watermarks.max_seen(src.id);
                cp.sources.push((key.clone(), rec));
                if !src.state_changes.is_empty() {
                    cp.decoder_state
                        .push((key.clone(), std::mem::take(&mut src.state_changes)));
                }
            } else {
                src.state_changes.clear();
            }
        }
        cp.drop_analytics = std::mem::take(&mut self.dropped);
        cp.dedup = self.dedup.take_changes();
        cp.outbox = std::mem::take(&mut self.staged);
        let marks = cp
            .analytics
            .iter()
            .filter_map(|u| {
                let a = self.analytics.iter().find(|a| a.info.id == u.id)?;
                Some(ReplayMark {
                    id: u.id.clone(),
                    calls: a.replay.len(),
                    events: a.replay_events,
                    advanced_to: a.advanced_to,
                })
            })
            .collect();
        let store = self.store.clone();
        let commit = std::thread::Builder::new()
            .name("checkpoint-commit".into())
            .spawn(move || store.commit(&cp).map(|committed| (committed, cp)))
            .map_err(|e| FlowError::Checkpoint(format!("cannot start the commit: {e}")))?;
        self.pending = Some(PendingCommit { commit, marks });
        self.events_since_checkpoint = 0;
        self.last_checkpoint = Instant::now();
        Ok(())
    }

    /// Finish the checkpoint being committed, if any: wait for the store,
    /// then let each analytic's replay log start from it and deliver its
    /// findings. A failed commit stops the flow: the changed-only snapshots
    /// after it would not describe the stored state.
    pub fn wait_commit(&mut self) -> Result<(), FlowError> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        self.take_in_commit(pending).inspect_err(|e| {
            self.stop.get_or_insert_with(|| e.to_string());
        })
    }

    fn take_in_commit(&mut self, pending: PendingCommit) -> Result<(), FlowError> {
        let PendingCommit { commit, marks } = pending;
        let (committed, cp) = commit
            .join()
            .map_err(|_| FlowError::Checkpoint("the commit thread panicked".into()))?
            .map_err(|e| FlowError::Checkpoint(e.to_string()))?;
        self.checkpoints += 1;
        for mark in marks {
            let Some(a) = self.analytics.iter_mut().find(|a| a.info.id == mark.id) else {
                continue;
            };
            a.checkpointed = !committed
                .sizes
                .get(&mark.id)
                .is_some_and(StateSize::rebase_due);
            a.rebuild_from_store = true;
            // The calls up to the snapshot are in the store now.
            let upto = mark.calls.min(a.replay.len());
            a.replay.drain(..upto);
            a.replay_events = a.replay_events.saturating_sub(mark.events);
            a.checkpoint_advanced_to = mark.advanced_to;
            a.consecutive_failures = 0;
        }
        if let Some(&upto) = committed.seqs.last() {
            self.deliver(&cp.outbox);
            self.confirm_delivery(upto)?;
        }
        Ok(())
    }

    /// Finish the commit in flight if it is done (a failed one stops the
    /// flow, see [`Flow::wait_commit`]).
    fn poll_commit(&mut self) {
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.commit.is_finished())
            && let Err(e) = self.wait_commit()
        {
            tracing::error!("{e}");
        }
    }

    /// End of all input: process everything, advance as far as the
    /// sources allow (everything, when they are all finished), checkpoint
    /// and flush the sinks.
    pub fn finish(&mut self, sources: &mut [SourceCheckpoint]) -> Result<(), FlowError> {
        for i in 0..self.analytics.len() {
            self.flush_batch(i);
        }
        self.advance(true);
        self.checkpoint(sources)?;
        for s in &mut self.sinks {
            if let Err(e) = s.flush() {
                self.sink_errors += 1;
                tracing::error!(sink = %s.name(), "cannot flush findings: {e}");
            }
        }
        if let Some(d) = self.analytic_dead_letter.as_mut()
            && let Err(e) = d.flush()
        {
            tracing::error!("analytic dead-letter file: {e}");
        }
        Ok(())
    }

    pub(crate) fn flush_batch(&mut self, i: usize) {
        if self.analytics[i].batch.is_empty() || self.analytics[i].quarantined {
            return;
        }
        let batch = std::mem::take(&mut self.analytics[i].batch);
        let wit_batch: Vec<wit::Event> = batch.iter().map(event_to_wit).collect();
        let a = &mut self.analytics[i];
        a.stats.calls += 1;
        match a.instance.process(&wit_batch) {
            Ok(findings) => {
                a.replay_events += batch.len();
                a.replay.push(ReplayOp::Process(Arc::new(batch)));
                self.take_findings(i, findings);
            }
            Err(e) => self.recover(i, e, Some(batch)),
        }
    }

    pub(crate) fn take_findings(&mut self, i: usize, findings: Vec<wit::Finding>) {
        let dropped = self.analytics[i].instance.take_dropped();
        self.analytics[i].stats.findings_dropped += dropped;
        // One call may return a finding several times as it grows: only
        // its last version of the call goes out.
        let mut last = std::collections::HashMap::with_capacity(findings.len());
        for (n, f) in findings.iter().enumerate() {
            last.insert(f.uid.clone(), n);
        }
        let findings = findings
            .into_iter()
            .enumerate()
            .filter(|(n, f)| last.get(&f.uid) == Some(n))
            .map(|(_, f)| f);
        for f in findings {
            let finding = finding_from_wit(f);
            let Some(activity) = self.dedup.classify(&finding) else {
                self.analytics[i].stats.findings_unchanged += 1;
                continue;
            };
            let a = &mut self.analytics[i];
            match activity {
                FindingActivity::Create => a.stats.findings_created += 1,
                FindingActivity::Update => a.stats.findings_updated += 1,
            }
            let line = render(&EmittedFinding {
                activity,
                analytic: a.info.clone(),
                finding,
            });
            if self.outbox_mode {
                self.staged.push(line);
            } else {
                self.deliver(std::slice::from_ref(&line));
            }
        }
    }

    fn deliver(&mut self, lines: &[String]) {
        for s in &mut self.sinks {
            for l in lines {
                if let Err(e) = s.emit(l) {
                    self.sink_errors += 1;
                    tracing::error!(sink = %s.name(), "cannot write finding: {e}");
                }
            }
        }
    }

    fn confirm_delivery(&mut self, upto: u64) -> Result<(), FlowError> {
        let mut sizes = Vec::new();
        for s in &mut self.sinks {
            if let Err(e) = s.flush() {
                self.sink_errors += 1;
                tracing::error!(sink = %s.name(), "cannot flush findings: {e}");
            }
            if let Some(len) = s.size() {
                sizes.push((s.name(), len));
            }
        }
        self.store
            .delivered(upto, &sizes)
            .map_err(|e| FlowError::Checkpoint(e.to_string()))
    }

    fn dead_letter_batch(&mut self, id: &str, reason: &str, batch: &[Event]) {
        let Some(out) = self.analytic_dead_letter.as_mut() else {
            tracing::error!(analytic = %id, events = batch.len(), "the failed batch is dropped (no analytic dead-letter file configured)");
            return;
        };
        for e in batch {
            let v = serde_json::json!({ "analytic": id, "reason": reason, "event": e });
            let r = serde_json::to_writer(&mut *out, &v)
                .map_err(std::io::Error::other)
                .and_then(|()| out.write_all(b"\n"));
            if let Err(err) = r {
                tracing::error!("analytic dead-letter file: {err}");
                return;
            }
        }
        let _ = out.flush();
    }

    /// A call failed: dead-letter the batch that caused it, rebuild the
    /// analytic from its last checkpoint and the calls made since, or apply
    /// its failure policy when it keeps failing.
    fn recover(&mut self, i: usize, e: CallError, failed: Option<Vec<Event>>) {
        let id = self.analytics[i].info.id.clone();
        let reason = e.to_string();
        if let Some(batch) = failed {
            self.dead_letter_batch(&id, &reason, &batch);
        }
        let mut attempt = 0;
        loop {
            let a = &mut self.analytics[i];
            a.stats.failures += 1;
            a.consecutive_failures += 1;
            if a.consecutive_failures > self.settings.max_restarts {
                a.quarantined = true;
                a.batch.clear();
                let msg = format!(
                    "analytic {id} failed {} times without a successful checkpoint (last: {reason}); quarantined",
                    a.consecutive_failures
                );
                tracing::error!("{msg}");
                if a.on_failure == FailurePolicy::Stop {
                    self.stop = Some(msg);
                }
                return;
            }
            // Back off a little on repeated failures (bounded).
            let delay = Duration::from_millis(10u64 << a.consecutive_failures.min(6));
            tracing::error!(analytic = %id, "call failed: {reason}; rebuilding from the last checkpoint (attempt {})", a.consecutive_failures);
            std::thread::sleep(delay);
            match self.rebuild(i) {
                Ok(()) => return,
                Err(err) => {
                    attempt += 1;
                    tracing::error!(analytic = %id, "rebuild failed: {err}");
                    if attempt > self.settings.max_restarts as usize {
                        self.analytics[i].quarantined = true;
                        return;
                    }
                }
            }
        }
    }

    /// Fresh instance, last checkpoint restored, calls since replayed.
    fn rebuild(&mut self, i: usize) -> Result<(), String> {
        // The stored state and the replay log must describe the same
        // checkpoint: a commit in flight may or may not be in the store yet.
        self.wait_commit().map_err(|e| e.to_string())?;
        let a = &mut self.analytics[i];
        a.reinstantiate(&self.rt)?;
        if a.rebuild_from_store {
            let (answer, _) = restore_from_store(&self.store, a).map_err(|e| e.to_string())?;
            match answer {
                Ok(Ok(())) => {}
                Ok(Err(r)) => return Err(format!("restore rejected its own state: {r}")),
                Err(e) => return Err(format!("restore failed: {e}")),
            }
        }
        a.advanced_to = a.checkpoint_advanced_to;
        let ops = std::mem::take(&mut a.replay);
        let replayed = a.replay_calls(&ops);
        a.replay = ops;
        let findings = replayed
            .map_err(|e| format!("replaying the calls since the checkpoint failed: {e}"))?;
        self.take_findings(i, findings);
        Ok(())
    }
}

/// Restore `a` from the state `store` holds for it; see [`restore_stored`].
fn restore_from_store(store: &Store, a: &mut Analytic) -> Result<Restored, FlowError> {
    let view = store
        .view()
        .map_err(|e| FlowError::Checkpoint(e.to_string()))?;
    restore_stored(&mut a.instance, &a.info.id, &view).map_err(FlowError::Checkpoint)
}

impl Drop for Flow {
    /// A commit in flight completes before the store closes (a flow
    /// dropped without `finish` leaves a store another flow may open).
    fn drop(&mut self) {
        if let Some(p) = self.pending.take()
            && !matches!(p.commit.join(), Ok(Ok(_)))
        {
            tracing::error!("the last checkpoint's commit failed; the one before it stands");
        }
    }
}
