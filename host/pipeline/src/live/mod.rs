//! `dumpwatch run`: live inputs, each decoding in its own thread, feeding
//! one engine thread that owns the [`Flow`].
//!
//! ```text
//! file / stdin / syslog / HTTP threads ──(bounded channel: Msg)──► engine thread
//!        decode, positions                                 ingest, batch delay, idle
//!                                                          watermarks, checkpoints, acks
//! ```
//!
//! The engine thread wakes at least every tick to hand partial batches to
//! the analytics once the batch delay expires, to let idle sources'
//! watermarks follow the wall clock, and to checkpoint. Events sent with an
//! [`Ack`] are acknowledged only after a checkpoint made them durable
//! (group commit: one checkpoint acknowledges everything pending); without
//! a persistent store they are acknowledged once processed.

pub mod file;
pub mod hosts;
pub mod http;
pub mod message;
pub mod stdin;
pub mod syslog;
pub mod tail;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dumpwatch_state::SourceRecord;

pub use message::{
    Ack, AckWaiter, Closed, Control, ControlHandle, Msg, ReloadReply, SourceHandle, TrySendErr,
};

use crate::flow::{Flow, RestoreReport, SourceCheckpoint};
use crate::metrics::{EngineObserver, Metrics};
use crate::reload::{self, ReloadPlan};
use crate::source::InputReport;
use crate::summary::{AnalyticLine, RunSummary};
use crate::swap::ReloadContext;

/// How often the engine's counts are copied to the metrics.
const OBSERVE_EVERY: Duration = Duration::from_millis(500);

/// Timing of the engine thread.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Longest an event waits in a partial batch.
    pub batch_delay: Duration,
    /// A source silent this long stops holding windows open.
    pub idle_timeout: Duration,
    /// Longest an acknowledgement waits for its group commit.
    pub ack_delay: Duration,
    /// Messages the channel holds before sources wait.
    pub channel_capacity: usize,
    /// Allowed lateness by format name, for sources whose format is
    /// detected when they open.
    pub lateness: std::collections::HashMap<String, i64>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            batch_delay: Duration::from_millis(200),
            idle_timeout: Duration::from_secs(300),
            ack_delay: Duration::from_millis(50),
            channel_capacity: 64,
            lateness: std::collections::HashMap::new(),
        }
    }
}

struct LiveSource {
    /// The flow knows the source's format.
    format_known: bool,
    checkpoint: SourceCheckpoint,
    report: InputReport,
    done: bool,
    failed: Option<String>,
}

/// The engine thread's state.
pub struct LiveEngine {
    flow: Flow,
    opts: LiveOptions,
    tx: SyncSender<Msg>,
    rx: Receiver<Msg>,
    sources: Vec<LiveSource>,
    restored: RestoreReport,
    reloader: Option<Reloader>,
    /// Requests answered by the reload being prepared, if one is.
    reload_in_flight: Option<Vec<ReloadReply>>,
    /// Requests that came in meanwhile: they get the next reload, which
    /// sees every change made until then.
    reload_waiting: Vec<ReloadReply>,
    // metrics hook: messages in the channel, and the copier of counts.
    queued: Arc<AtomicI64>,
    observer: Option<EngineObserver>,
}

/// How a reload is prepared (off the engine thread) from where the running
/// analytics stand.
pub type Reloader = Arc<dyn Fn(ReloadContext) -> ReloadPlan + Send + Sync>;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl LiveEngine {
    /// Restore the flow from its store; register sources afterwards.
    pub fn new(mut flow: Flow, opts: LiveOptions) -> Result<LiveEngine, String> {
        let restored = flow.restore().map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::sync_channel(opts.channel_capacity.max(1));
        Ok(LiveEngine {
            flow,
            opts,
            tx,
            rx,
            sources: Vec::new(),
            restored,
            reloader: None,
            reload_in_flight: None,
            reload_waiting: Vec::new(),
            queued: Arc::new(AtomicI64::new(0)),
            observer: None,
        })
    }

    /// Stored positions and what the restore found.
    pub fn restored(&self) -> &RestoreReport {
        &self.restored
    }

    /// A handle for operator requests (reload).
    pub fn control(&self) -> ControlHandle {
        ControlHandle::new(self.tx.clone())
    }

    /// The stored position of a source key.
    pub fn stored_position(&self, key: &str) -> Option<&SourceRecord> {
        self.restored.sources.get(key)
    }

    /// The stored decoder state of a source key.
    pub fn decoder_state(&self, key: &str) -> Result<Vec<dumpwatch_state::Entry>, String> {
        self.flow.decoder_state(key).map_err(|e| e.to_string())
    }

    /// Register a source: its key (for positions; `None` for sources that
    /// cannot resume), allowed lateness and display name.
    pub fn register(&mut self, key: Option<String>, lateness_ms: i64, name: &str) -> SourceHandle {
        let restored_max = key
            .as_ref()
            .and_then(|k| self.restored.sources.get(k))
            .map(|r| r.max_seen);
        let id = self.flow.add_source(lateness_ms, restored_max);
        let record = key
            .as_ref()
            .and_then(|k| self.restored.sources.get(k))
            .cloned()
            .unwrap_or_default();
        self.sources.push(LiveSource {
            format_known: false,
            checkpoint: SourceCheckpoint {
                id,
                key,
                record,
                state_changes: Vec::new(),
            },
            report: InputReport {
                path: name.to_owned(),
                ..Default::default()
            },
            done: false,
            failed: None,
        });
        SourceHandle::new(id, self.tx.clone(), self.queued.clone())
    }

    fn checkpoints(&mut self) -> Vec<SourceCheckpoint> {
        self.sources
            .iter_mut()
            .map(|s| SourceCheckpoint {
                id: s.checkpoint.id,
                key: s.checkpoint.key.clone(),
                record: s.checkpoint.record.clone(),
                state_changes: std::mem::take(&mut s.checkpoint.state_changes),
            })
            .collect()
    }

    /// An operator asked for a reload: prepare one on its own thread,
    /// unless one is being prepared already (the request then waits for the
    /// next).
    fn request_reload(&mut self, reply: ReloadReply) {
        if self.reloader.is_none() {
            let _ = reply.send(Err("this engine was started without a reload source".into()));
        } else if self.reload_in_flight.is_some() {
            self.reload_waiting.push(reply);
        } else {
            self.start_reload(vec![reply]);
        }
    }

    fn start_reload(&mut self, replies: Vec<ReloadReply>) {
        let Some(prepare) = self.reloader.clone() else {
            return;
        };
        let ctx = self.flow.reload_context();
        let tx = self.tx.clone();
        let spawned = std::thread::Builder::new()
            .name("dumpwatch-reload".into())
            .spawn(move || {
                // A panic must still answer: the engine waits for a plan
                // before it starts the next reload.
                let plan = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| prepare(ctx)))
                    .unwrap_or_else(|_| {
                        ReloadPlan::refused("the reload preparation panicked".into())
                    });
                // The engine may have stopped meanwhile: nothing to apply.
                let _ = tx.send(Msg::Control(Control::Apply(Box::new(plan))));
            });
        match spawned {
            Ok(_) => self.reload_in_flight = Some(replies),
            Err(e) => {
                for r in replies {
                    let _ = r.send(Err(format!("cannot start the reload: {e}")));
                }
            }
        }
    }

    /// A prepared reload arrived: apply it at this batch boundary, answer
    /// its requests, and start the next one if requests are waiting.
    fn apply_reload(&mut self, plan: ReloadPlan) {
        let report = reload::commit(&mut self.flow, plan);
        let ok = report.errors.is_empty();
        self.flow.note_reload(ok);
        let mut outcome = if ok {
            Ok(report.describe())
        } else {
            Err(report.describe())
        };
        // The stored checkpoint plus the calls since still rebuild a new
        // version that took the running state, after a trap or a crash, so
        // no checkpoint is needed for it. One that started empty is not
        // described by the stored state any more: checkpoint now.
        if report.state_dropped
            && let Err(e) = self.checkpoint()
        {
            outcome = Err(format!(
                "reload applied, but the checkpoint after it failed: {e}"
            ));
        }
        if let Some(o) = &self.observer {
            o.reload(outcome.is_ok());
        }
        for r in self.reload_in_flight.take().unwrap_or_default() {
            let _ = r.send(outcome.clone());
        }
        if !self.reload_waiting.is_empty() {
            let waiting = std::mem::take(&mut self.reload_waiting);
            self.start_reload(waiting);
        }
    }

    /// Publish the engine's counts to `metrics` (every observation tick).
    pub fn set_metrics(&mut self, metrics: Arc<Metrics>) {
        self.observer = Some(EngineObserver::new(metrics));
    }

    fn observe(&mut self) {
        if let Some(o) = self.observer.as_mut() {
            let flow = &self.flow;
            let sources = self
                .sources
                .iter()
                .map(|s| (&s.report, flow.time_stats(s.checkpoint.id)));
            o.observe(flow, sources, self.queued.load(Ordering::Relaxed));
        }
    }

    /// Install what a reload does: re-read the config and modules and swap
    /// what changed into the flow.
    pub fn set_reloader(&mut self, r: Reloader) {
        self.reloader = Some(r);
    }

    fn checkpoint(&mut self) -> Result<(), String> {
        let mut cps = self.checkpoints();
        self.flow.checkpoint(&mut cps).map_err(|e| e.to_string())
    }

    /// Run until every source is done, `stop` is set, or an analytic with
    /// the `stop` policy gives up. Ends with a final checkpoint.
    pub fn run(mut self, stop: &AtomicBool) -> RunSummary {
        let started = Instant::now();
        let mut summary = RunSummary {
            restore: self.restored.clone(),
            ..Default::default()
        };
        let tick = self
            .opts
            .batch_delay
            .min(self.opts.ack_delay)
            .max(Duration::from_millis(5));
        let idle_ms = i64::try_from(self.opts.idle_timeout.as_millis()).unwrap_or(i64::MAX);
        let mut pending_acks: Vec<Ack> = Vec::new();
        let mut oldest_ack: Option<Instant> = None;
        let mut last_flush = Instant::now();
        let persistent = self.flow.is_persistent();
        let mut last_observed = Instant::now();
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if !self.sources.is_empty() && self.sources.iter().all(|s| s.done) {
                break;
            }
            let received = self.rx.recv_timeout(tick);
            if matches!(
                received,
                Ok(Msg::Events { .. } | Msg::Done { .. } | Msg::Failed { .. })
            ) {
                self.queued.fetch_sub(1, Ordering::Relaxed);
            }
            match received {
                Ok(Msg::Events {
                    src,
                    mut events,
                    position,
                    state_changes,
                    report,
                    ack,
                }) => {
                    if !events.is_empty() {
                        self.flow.touch(src, now_ms());
                    }
                    if !self.sources[src].format_known
                        && let Some(f) = report.as_ref().and_then(|r| r.format)
                    {
                        // Detected when the input was opened: its lateness
                        // and which analytics it can feed follow.
                        self.flow.set_source_format(src, f);
                        if let Some(l) = self.opts.lateness.get(f.name()) {
                            self.flow.set_lateness(src, *l);
                        }
                        self.sources[src].format_known = true;
                    }
                    self.flow.ingest(src, &mut events);
                    let s = &mut self.sources[src];
                    if let Some(p) = position {
                        s.checkpoint.record = p;
                    }
                    s.checkpoint.state_changes.extend(state_changes);
                    if let Some(r) = report {
                        s.report = r;
                    }
                    if let Some(a) = ack {
                        if persistent {
                            oldest_ack.get_or_insert_with(Instant::now);
                            pending_acks.push(a);
                        } else {
                            a.send(Ok(()));
                        }
                    }
                }
                Ok(Msg::Done { src, report }) => {
                    self.sources[src].report = report;
                    self.sources[src].done = true;
                    self.sources[src].checkpoint.record.done = true;
                    self.flow.finish_source(src);
                }
                Ok(Msg::Failed { src, error }) => {
                    tracing::error!("input {}: {error}", self.sources[src].report.path);
                    self.sources[src].failed = Some(error);
                    self.sources[src].done = true;
                    self.flow.finish_source(src);
                }
                Ok(Msg::Control(Control::Reload(reply))) => self.request_reload(reply),
                Ok(Msg::Control(Control::Apply(plan))) => self.apply_reload(*plan),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if let Some(msg) = self.flow.stopped() {
                summary.fatal = Some(msg.to_owned());
                break;
            }
            if last_flush.elapsed() >= self.opts.batch_delay {
                self.flow.flush_batches();
                self.flow.tick(now_ms(), idle_ms);
                last_flush = Instant::now();
            }
            if last_observed.elapsed() >= OBSERVE_EVERY {
                self.observe();
                last_observed = Instant::now();
            }
            let acks_due = oldest_ack.is_some_and(|t| t.elapsed() >= self.opts.ack_delay);
            if self.flow.checkpoint_due() || acks_due {
                // Acknowledged input must be durable first; otherwise the
                // commit runs beside the engine.
                let r = if pending_acks.is_empty() {
                    let mut cps = self.checkpoints();
                    self.flow
                        .begin_checkpoint(&mut cps)
                        .map_err(|e| e.to_string())
                } else {
                    self.checkpoint()
                };
                for a in pending_acks.drain(..) {
                    a.send(r.clone());
                }
                oldest_ack = None;
                if let Err(e) = r {
                    summary.fatal = Some(e);
                    break;
                }
            }
        }
        // Final: everything ingested so far becomes durable. Windows are
        // flushed only when every source finished (a live run stopped by a
        // signal keeps them open for the next start).
        let all_done = self.sources.iter().all(|s| s.done);
        let mut cps = self.checkpoints();
        let r = if all_done {
            self.flow.finish(&mut cps)
        } else {
            self.flow.flush_batches();
            self.flow.checkpoint(&mut cps)
        };
        let r = r.map_err(|e| e.to_string());
        for a in pending_acks.drain(..) {
            a.send(r.clone());
        }
        if let Err(e) = r {
            summary.fatal.get_or_insert(e);
        }
        // Anything still queued was not ingested: tell its senders.
        while let Ok(m) = self.rx.try_recv() {
            if let Msg::Events { ack: Some(a), .. } = m {
                a.send(Err("the engine stopped before processing it".into()));
            }
        }
        let unanswered = self.reload_in_flight.take().unwrap_or_default();
        for r in unanswered.into_iter().chain(self.reload_waiting.drain(..)) {
            let _ = r.send(Err(
                "the engine stopped before the reload was applied".into()
            ));
        }
        for s in &self.sources {
            if let Some(e) = &s.failed {
                summary.unreadable.push((s.report.path.clone(), e.clone()));
            }
            summary.inputs.push((
                s.report.clone(),
                self.flow.time_stats(s.checkpoint.id).clone(),
            ));
        }
        summary.analytics = self
            .flow
            .analytics
            .iter()
            .map(|a| AnalyticLine {
                id: a.info.id.clone(),
                version: a.info.version.clone(),
                tunables_hash: a.info.tunables_hash.clone(),
                stats: a.stats.clone(),
                quarantined: a.quarantined,
            })
            .collect();
        self.observe();
        if let Some(o) = &self.observer {
            o.stopped();
        }
        summary.sink_errors = self.flow.sink_errors;
        summary.checkpoints = self.flow.checkpoints;
        summary.elapsed = started.elapsed();
        summary
    }
}
