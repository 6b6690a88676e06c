//! One live analytic: its store and typed calls.
//!
//! Every call sets the epoch deadline first (the deadline is relative to the
//! current epoch and a call without one fails at once), drains the guest's
//! captured output into the host log afterwards, and turns a trap into a
//! [`CallError`]. A trap leaves the instance's memory in an unknown state,
//! so the instance is poisoned: the pipeline re-instantiates it and restores
//! the last snapshot.

use wasmtime::{Store, Trap};

use crate::bindings::Analytic;
use crate::engine::Limits;
use crate::sandbox::HostState;
use crate::{CallError, wit};

/// A live analytic instance.
pub struct AnalyticInstance {
    store: Store<HostState>,
    bindings: Analytic,
    poisoned: bool,
    deadline_ticks: u64,
    timeout_ms: u64,
    max_findings: usize,
    /// Findings dropped by the per-call bound, in total.
    pub findings_dropped: u64,
}

impl AnalyticInstance {
    pub(crate) fn new(store: Store<HostState>, bindings: Analytic, limits: &Limits) -> Self {
        AnalyticInstance {
            store,
            bindings,
            poisoned: false,
            deadline_ticks: limits.deadline_ticks(),
            timeout_ms: limits.call_timeout.as_millis() as u64,
            max_findings: limits.max_findings_per_call,
            findings_dropped: 0,
        }
    }

    /// Findings dropped by the per-call bound since the last call of this.
    pub fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.findings_dropped)
    }

    /// Bytes of linear memory the guest has grown to (all its memories).
    /// Linear memory never shrinks: this is the instance's high-water mark,
    /// what the host process gives it at most.
    pub fn memory_bytes(&self) -> usize {
        self.store.data().limits.memory_bytes
    }

    /// True once a call has failed; the instance must then be replaced.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Tag log lines with this label (the analytic id).
    pub fn set_label(&mut self, label: &str) {
        self.store.data_mut().label = label.to_owned();
    }

    fn call<R>(
        &mut self,
        f: impl FnOnce(
            &crate::bindings::exports::dumpwatch::analytic::detector::Guest,
            &mut Store<HostState>,
        ) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        if self.poisoned {
            return Err(CallError::Poisoned);
        }
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = f(self.bindings.dumpwatch_analytic_detector(), &mut self.store);
        self.store.data_mut().after_call();
        result.map_err(|e| {
            self.poisoned = true;
            classify(e, self.timeout_ms)
        })
    }

    fn bound(&mut self, mut findings: Vec<wit::Finding>) -> Vec<wit::Finding> {
        if findings.len() > self.max_findings {
            let dropped = findings.len() - self.max_findings;
            self.findings_dropped += dropped as u64;
            tracing::warn!(
                analytic = %self.store.data().label,
                dropped,
                limit = self.max_findings,
                "call returned more findings than allowed; the excess was dropped"
            );
            findings.truncate(self.max_findings);
        }
        findings
    }

    pub fn manifest(&mut self) -> Result<wit::Manifest, CallError> {
        self.call(|g, s| g.call_describe(s))
    }

    pub fn configure(
        &mut self,
        tunables: &[wit::Tunable],
    ) -> Result<Result<Vec<wit::Subscription>, Vec<wit::ConfigError>>, CallError> {
        self.call(|g, s| g.call_configure(s, tunables))
    }

    pub fn process(&mut self, events: &[wit::Event]) -> Result<Vec<wit::Finding>, CallError> {
        let f = self.call(|g, s| g.call_process(s, events))?;
        Ok(self.bound(f))
    }

    pub fn advance(&mut self, watermark: i64) -> Result<Vec<wit::Finding>, CallError> {
        let f = self.call(|g, s| g.call_advance(s, watermark))?;
        Ok(self.bound(f))
    }

    /// The analytic's state as state frames (`dumpwatch_frames`), in the
    /// parts it came in: those handed over during the call
    /// (`host.state-part`), then the one returned. Empty parts are left
    /// out. The guest's parts are its to cut: the host checks that each
    /// holds whole frames.
    pub fn snapshot(&mut self, mode: wit::SnapshotMode) -> Result<Vec<Vec<u8>>, CallError> {
        self.store.data_mut().begin_snapshot();
        let last = self.call(|g, s| g.call_snapshot(s, mode));
        let mut parts = self.store.data_mut().end_snapshot();
        let last = last?;
        if !last.is_empty() {
            parts.push(last);
        }
        Ok(parts)
    }

    /// Replace the analytic's state with the entries of `frames`.
    // The bindings take the WIT alias `state-frames` as `&Vec<u8>`.
    #[allow(clippy::ptr_arg)]
    pub fn restore(&mut self, frames: &Vec<u8>) -> Result<Result<(), String>, CallError> {
        self.call(|g, s| g.call_restore(s, frames))
    }

    /// Start a restore handed over in parts: `size` bytes of entries in
    /// all, given by [`AnalyticInstance::restore_part`] and concluded by
    /// [`AnalyticInstance::restore_end`].
    pub fn restore_begin(&mut self, size: u64) -> Result<(), CallError> {
        self.call(|g, s| g.call_restore_begin(s, size))
    }

    /// The next part of a restore: whole frames.
    #[allow(clippy::ptr_arg)]
    pub fn restore_part(&mut self, frames: &Vec<u8>) -> Result<(), CallError> {
        self.call(|g, s| g.call_restore_part(s, frames))
    }

    /// Conclude a restore in parts: what [`AnalyticInstance::restore`]
    /// returns for all of them.
    pub fn restore_end(&mut self) -> Result<Result<(), String>, CallError> {
        self.call(|g, s| g.call_restore_end(s))
    }

    pub fn inspect(&mut self, limit: u32) -> Result<wit::Inspection, CallError> {
        self.call(|g, s| g.call_inspect(s, limit))
    }
}

fn classify(e: wasmtime::Error, timeout_ms: u64) -> CallError {
    if let Some(trap) = e.downcast_ref::<Trap>()
        && *trap == Trap::Interrupt
    {
        return CallError::Timeout(timeout_ms);
    }
    let msg = format!("{e:#}");
    if msg.contains("growing memory") || msg.contains("memory size limit") {
        return CallError::MemoryLimit(msg);
    }
    CallError::Trap(msg)
}
