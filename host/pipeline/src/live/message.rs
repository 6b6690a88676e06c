//! What live sources send the engine thread, and how they learn that what
//! they sent is durable.
//!
//! Sources decode in their own threads and send events with the position
//! a restart would resume from. The channel is bounded: a source that
//! outruns the engine blocks (files, stdin) or answers "busy" (HTTP), so
//! memory stays bounded and nothing is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::Duration;

use dumpwatch_event::Event;
use dumpwatch_state::{EntryChange, SourceRecord};

use crate::reload::ReloadPlan;
use crate::source::InputReport;
use crate::watermark::SourceId;

/// A one-shot reply: the events of a message are durable (checkpointed),
/// or why they could not be made so.
pub struct Ack(SyncSender<Result<(), String>>);

/// The waiting side of an [`Ack`].
pub struct AckWaiter(Receiver<Result<(), String>>);

impl Ack {
    pub fn pair() -> (Ack, AckWaiter) {
        let (tx, rx) = mpsc::sync_channel(1);
        (Ack(tx), AckWaiter(rx))
    }

    pub fn send(self, r: Result<(), String>) {
        // The waiter may have given up (client gone): nothing to do.
        let _ = self.0.send(r);
    }
}

impl AckWaiter {
    /// Wait for the engine's verdict, at most `timeout`.
    pub fn wait(&self, timeout: Duration) -> Result<(), String> {
        match self.0.recv_timeout(timeout) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => Err("not acknowledged in time".into()),
            Err(RecvTimeoutError::Disconnected) => Err("the engine stopped".into()),
        }
    }
}

/// A message to the engine thread.
pub enum Msg {
    /// Events from a source, with where to resume after them.
    Events {
        src: SourceId,
        events: Vec<Event>,
        /// Resume position after these events (`None`: not resumable).
        position: Option<SourceRecord>,
        /// Decoder state learned while producing them.
        state_changes: Vec<EntryChange>,
        /// The source's counts so far.
        report: Option<InputReport>,
        /// Reply once the events are durable.
        ack: Option<Ack>,
    },
    /// The source delivered everything it will.
    Done { src: SourceId, report: InputReport },
    /// The source cannot go on (unreadable input).
    Failed { src: SourceId, error: String },
    /// An operator's request (admin endpoint, SIGHUP, file watcher).
    Control(Control),
}

/// Where the outcome of a reload goes.
pub type ReloadReply = SyncSender<Result<String, String>>;

/// Operator requests the engine thread serves between batches.
pub enum Control {
    /// Reload modules and tunables now; the reply says what changed or why
    /// nothing did.
    Reload(ReloadReply),
    /// A reload prepared off the engine thread, ready to apply.
    Apply(Box<ReloadPlan>),
}

/// The engine is gone; the message was not delivered.
#[derive(Debug)]
pub struct Closed;

/// The channel is full: the engine is behind (HTTP answers 503).
#[derive(Debug)]
pub enum TrySendErr {
    Full,
    Closed,
}

/// The sending side for operator requests.
#[derive(Clone)]
pub struct ControlHandle {
    tx: SyncSender<Msg>,
}

impl ControlHandle {
    pub(crate) fn new(tx: SyncSender<Msg>) -> ControlHandle {
        ControlHandle { tx }
    }

    /// Ask for a reload and wait for its outcome.
    pub fn reload(&self, timeout: Duration) -> Result<String, String> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.tx
            .send(Msg::Control(Control::Reload(tx)))
            .map_err(|_| "the engine stopped".to_string())?;
        match rx.recv_timeout(timeout) {
            Ok(r) => r,
            Err(_) => Err("no answer from the engine in time".into()),
        }
    }
}

/// A source's sending side.
#[derive(Clone)]
pub struct SourceHandle {
    pub id: SourceId,
    tx: SyncSender<Msg>,
    /// Messages sent and not yet received by the engine (the queue-depth
    /// metric; the engine decrements it).
    queued: Arc<AtomicI64>,
}

impl SourceHandle {
    pub(crate) fn new(id: SourceId, tx: SyncSender<Msg>, queued: Arc<AtomicI64>) -> SourceHandle {
        SourceHandle { id, tx, queued }
    }

    fn sent(&self) {
        self.queued.fetch_add(1, Ordering::Relaxed);
    }

    /// Send (blocking while the engine is behind).
    pub fn send(&self, msg: Msg) -> Result<(), Closed> {
        self.tx.send(msg).map_err(|_| Closed)?;
        self.sent();
        Ok(())
    }

    /// Send unless the engine is behind.
    pub fn try_send(&self, msg: Msg) -> Result<(), TrySendErr> {
        self.tx.try_send(msg).map_err(|e| match e {
            TrySendError::Full(_) => TrySendErr::Full,
            TrySendError::Disconnected(_) => TrySendErr::Closed,
        })?;
        self.sent();
        Ok(())
    }

    pub fn done(&self, report: InputReport) {
        let _ = self.send(Msg::Done {
            src: self.id,
            report,
        });
    }

    pub fn failed(&self, error: String) {
        let _ = self.send(Msg::Failed {
            src: self.id,
            error,
        });
    }
}
