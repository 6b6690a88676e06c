//! Swapping a new version of an analytic in, in two phases.
//!
//! A new version (module or tunables) must take over the running version's
//! state. Handing it over directly — a full `snapshot` of the running
//! instance restored into the new one — holds the engine thread for as long
//! as both take, which grows with the open windows (about 0.35 s at
//! 100,000). But the running state is also, by construction, the last
//! checkpoint plus the calls made since (the replay log that trap recovery
//! rebuilds from). So a swap is *prepared* off the engine thread: the new
//! version is restored from a read-only view of the store taken when the
//! reload began, and given the calls the log held then ([`ReloadContext`]).
//! It is *committed* on the engine thread at a batch boundary
//! ([`Flow::commit_swap`]): only the calls made while it was being prepared
//! are made again on it, and the events waiting in the running version's
//! batch are handed to it unprocessed.
//!
//! The commit checks that the preparation is still current: no checkpoint
//! since the view was taken (a checkpoint starts a new log), and the same
//! running version. When it is not, or when the store could not be read, it
//! falls back to the direct handover ([`Flow::replace_analytic`]), which is
//! always right, only slower.

use std::sync::Arc;

use dumpwatch_event::AnalyticInfo;
use dumpwatch_runtime::cache::ArtifactCache;
use dumpwatch_runtime::{AnalyticModule, Runtime, wit};
use dumpwatch_state::StoreView;

use crate::analytics::{Analytic, ReplayOp};
use crate::flow::Flow;
use crate::handover::{restore_snapshot, restore_stored};

/// What a swap did.
#[derive(Clone, Debug)]
pub struct SwapOutcome {
    pub id: String,
    pub from: String,
    pub to: String,
    /// Open windows the new version took over.
    pub windows_carried: u64,
    /// The new version rejected the state: why, and how many windows went.
    pub dropped: Option<(String, u64)>,
}

/// A running analytic as a reload preparation sees it.
pub struct RunningAnalytic {
    pub info: Arc<AnalyticInfo>,
    pub module: Arc<AnalyticModule>,
    /// Its state is the stored checkpoint plus its replay log (false: an
    /// empty instance plus its replay log).
    pub from_store: bool,
    /// The watermark at that checkpoint.
    pub checkpoint_advanced_to: i64,
    /// Its replay log when the context was taken (the events are shared,
    /// not copied).
    pub calls: Vec<ReplayOp>,
}

/// What a reload preparation needs from the running flow. Taken on the
/// engine thread in microseconds; used on another.
pub struct ReloadContext {
    pub rt: Arc<Runtime>,
    pub cache: Option<ArtifactCache>,
    pub running: Vec<RunningAnalytic>,
    /// The store as the last checkpoint left it, or why it cannot be read.
    view: Result<StoreView, String>,
    /// The flow's checkpoint count when the view was taken.
    generation: u64,
}

/// The state a prepared new version holds.
pub enum PreparedState {
    /// The last checkpoint's entries, restored.
    Restored,
    /// Nothing: the running state starts from an empty instance too.
    Empty,
    /// Nothing: the new version refused the stored state (why).
    Rejected(String),
    /// Nothing: the stored state could not be read (why); the commit hands
    /// the state over directly.
    Unavailable(String),
}

/// A new version brought up to where the running one stood when the
/// reload began, waiting to be swapped in.
pub struct PreparedSwap {
    pub new: Analytic,
    /// The running version it replaces, as the preparation saw it.
    replaces: Arc<AnalyticInfo>,
    generation: u64,
    state: PreparedState,
    /// Calls of the replay log already made on the new version.
    caught_up: usize,
    /// Its open windows then (counted here, off the engine thread).
    windows: u64,
    /// The findings they returned (dedup happens on the engine thread).
    findings: Vec<wit::Finding>,
}

impl ReloadContext {
    /// Bring `new`, the next version of `running`, to where `running` stood
    /// when this context was taken: the last checkpoint restored, the calls
    /// made since made again. Runs off the engine thread. An error (a trap
    /// in `restore` or in those calls) refuses the change.
    pub fn prepare(
        &self,
        running: &RunningAnalytic,
        mut new: Analytic,
    ) -> Result<PreparedSwap, String> {
        let id = &running.info.id;
        let state = if !running.from_store {
            PreparedState::Empty
        } else {
            let restored = self
                .view
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|view| restore_stored(&mut new.instance, &new.info.id, view));
            match restored {
                Err(e) => {
                    // A restore begun and not concluded: start the new
                    // version afresh.
                    new.reinstantiate(&self.rt)?;
                    PreparedState::Unavailable(e)
                }
                Ok((Ok(Ok(())), _)) => PreparedState::Restored,
                Ok((Ok(Err(reason)), _)) => {
                    new.reinstantiate(&self.rt)?;
                    PreparedState::Rejected(reason)
                }
                Ok((Err(e), _)) => {
                    return Err(format!("{id}: restore into the new version failed: {e}"));
                }
            }
        };
        let mut findings = Vec::new();
        let mut caught_up = 0;
        if matches!(state, PreparedState::Restored | PreparedState::Empty) {
            new.advanced_to = running.checkpoint_advanced_to;
            findings = new.replay_calls(&running.calls).map_err(|e| {
                format!("{id}: the new version failed on the calls since the last checkpoint: {e}")
            })?;
            caught_up = running.calls.len();
        }
        let windows = open_windows(&mut new);
        Ok(PreparedSwap {
            new,
            replaces: running.info.clone(),
            generation: self.generation,
            state,
            caught_up,
            windows,
            findings,
        })
    }
}

impl Flow {
    /// Where the running analytics stand, for a reload prepared on another
    /// thread. A commit in flight is finished first, so the stored state and
    /// the calls since it describe the same checkpoint.
    pub fn reload_context(&mut self) -> ReloadContext {
        let committed = self.wait_commit().map_err(|e| e.to_string());
        ReloadContext {
            rt: self.rt.clone(),
            cache: self.cache().cloned(),
            running: self
                .analytics
                .iter()
                .map(|a| RunningAnalytic {
                    info: a.info.clone(),
                    module: a.module.clone(),
                    from_store: a.rebuild_from_store,
                    checkpoint_advanced_to: a.checkpoint_advanced_to,
                    calls: a.replay.clone(),
                })
                .collect(),
            view: committed.and_then(|()| self.store.view().map_err(|e| e.to_string())),
            generation: self.checkpoints,
        }
    }

    /// Swap a prepared new version in at a batch boundary: the calls the
    /// running version received while it was being prepared are made again
    /// on it, the events waiting in the running version's batch are handed
    /// to it, and it takes the running version's place. A stale preparation
    /// falls back to the direct handover.
    pub fn commit_swap(&mut self, prepared: PreparedSwap) -> Result<SwapOutcome, String> {
        let PreparedSwap {
            mut new,
            replaces,
            generation,
            state,
            caught_up,
            windows: prepared_windows,
            mut findings,
        } = prepared;
        let id = new.info.id.clone();
        let Some(i) = self.analytics.iter().position(|a| a.info.id == id) else {
            return Err(format!("{id}: not loaded"));
        };
        // A checkpoint clears the replay log and moves the stored state on;
        // a trap rebuild keeps both. So the same checkpoint count and the
        // same running version mean the log has only grown since.
        let current = generation == self.checkpoints
            && Arc::ptr_eq(&self.analytics[i].info, &replaces)
            && !self.analytics[i].quarantined
            && self.analytics[i].replay.len() >= caught_up;
        let state = match state {
            PreparedState::Unavailable(why) => {
                tracing::warn!(analytic = %id, "the stored state could not be read ({why}); handing the running state over directly");
                None
            }
            s => Some(s).filter(|_| current),
        };
        let Some(state) = state else {
            new.reinstantiate(&self.rt)?;
            return self.replace_analytic(new);
        };
        let mut outcome = SwapOutcome {
            id: id.clone(),
            from: self.analytics[i].info.version.clone(),
            to: new.info.version.clone(),
            windows_carried: 0,
            dropped: None,
        };
        let from_store = matches!(state, PreparedState::Restored);
        let kept = match state {
            PreparedState::Rejected(reason) => {
                let windows = open_windows(&mut self.analytics[i]);
                tracing::error!(analytic = %id, windows, "the new version rejects the running state ({reason}); it starts empty and {windows} open windows are dropped");
                outcome.dropped = Some((reason, windows));
                findings.clear();
                false
            }
            _ => {
                let since = &self.analytics[i].replay[caught_up..];
                findings.extend(new.replay_calls(since).map_err(|e| {
                    format!(
                        "{id}: the new version failed on the calls since the last checkpoint: {e}"
                    )
                })?);
                outcome.windows_carried = prepared_windows;
                true
            }
        };
        // Events routed but not yet processed go to the new version.
        new.batch = std::mem::take(&mut self.analytics[i].batch);
        let old = std::mem::replace(&mut self.analytics[i], new);
        carry_over(&mut self.analytics[i], old, kept);
        // Restored from the stored entries, it accepted them, and its changes
        // since then are the calls made since: the next checkpoint writes
        // those changes over the stored entries, as after a trap rebuild.
        // (Otherwise it writes the new version's state in full.)
        self.analytics[i].checkpointed = from_store;
        // Findings the old version already emitted come again unchanged and
        // are recognised as repeats; what the new rules see differently in
        // these events goes out as creations or updates.
        self.take_findings(i, findings);
        Ok(outcome)
    }

    /// Swap a new version in by handing the running state over directly:
    /// the old instance processes what it was given, its full snapshot is
    /// restored into the new one in the parts it came out in, and the new
    /// one takes its place. A new version that rejects the old state starts
    /// empty, and the windows dropped are reported.
    pub fn replace_analytic(&mut self, mut new: Analytic) -> Result<SwapOutcome, String> {
        let id = new.info.id.clone();
        let Some(i) = self.analytics.iter().position(|a| a.info.id == id) else {
            return Err(format!("{id}: not loaded"));
        };
        self.flush_batch(i);
        let old = &mut self.analytics[i];
        let windows = open_windows(old);
        let parts = old
            .instance
            .snapshot(wit::SnapshotMode::Full)
            .map_err(|e| format!("{id}: cannot snapshot the running version: {e}"))?;
        let mut outcome = SwapOutcome {
            id: id.clone(),
            from: old.info.version.clone(),
            to: new.info.version.clone(),
            windows_carried: 0,
            dropped: None,
        };
        let kept = match restore_snapshot(&mut new.instance, parts) {
            Ok(Ok(())) => {
                outcome.windows_carried = windows;
                true
            }
            Ok(Err(reason)) => {
                tracing::error!(analytic = %id, windows, "the new version rejects the running state ({reason}); it starts empty and {windows} open windows are dropped");
                new.reinstantiate(&self.rt)?;
                outcome.dropped = Some((reason, windows));
                false
            }
            Err(e) => return Err(format!("{id}: restore into the new version failed: {e}")),
        };
        let old = std::mem::replace(&mut self.analytics[i], new);
        carry_over(&mut self.analytics[i], old, kept);
        Ok(outcome)
    }
}

fn open_windows(a: &mut Analytic) -> u64 {
    a.instance
        .inspect(0)
        .map(|x| x.open_windows)
        .unwrap_or_default()
}

/// Move the bookkeeping of the replaced version to the new one. `kept`:
/// the new version holds the old state, so the stored checkpoint plus the
/// old replay log still rebuild it after a trap. Otherwise it starts empty
/// here and now, and a rebuild does the same.
fn carry_over(new: &mut Analytic, mut old: Analytic, kept: bool) {
    new.stats = std::mem::take(&mut old.stats);
    // The new instance's changes are not relative to the stored entries
    // (it took a snapshot, or nothing): the next checkpoint writes it in
    // full.
    new.checkpointed = false;
    if kept {
        new.rebuild_from_store = old.rebuild_from_store;
        new.checkpoint_advanced_to = old.checkpoint_advanced_to;
        new.advanced_to = old.advanced_to;
        new.replay = std::mem::take(&mut old.replay);
        new.replay_events = old.replay_events;
    } else {
        new.rebuild_from_store = false;
        new.checkpoint_advanced_to = i64::MIN;
        new.advanced_to = i64::MIN;
    }
    retire(old);
}

/// Drop a replaced instance on a thread of its own: giving back a large
/// linear memory takes milliseconds the engine thread need not wait for.
fn retire(old: Analytic) {
    // When no thread can be started, the instance is dropped here, with the
    // closure that was to own it.
    let _ = std::thread::Builder::new()
        .name("dumpwatch-retire".into())
        .spawn(move || drop(old));
}
