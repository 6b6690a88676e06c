//! The decoding side of one HTTP input: a thread that takes accepted
//! request bodies in arrival order, decompresses and splits them into
//! records, decodes them with the input's per-host decoders, and sends the
//! events to the engine with an acknowledgement; and a thread that waits
//! for those acknowledgements (they come in order, one group commit after
//! another) and answers each request.
//!
//! ```text
//! handler ──try_send(job)──► decoder thread ──send(Msg, Ack)──► engine
//!    ▲        (full: 503)        │ (blocks while the engine is behind)
//!    └────── reply ◄── ack thread ◄──(AckWaiter, reply)──┘
//! ```
//!
//! Decoding happens off the server's async threads (it is CPU work), in one
//! thread per input so a format's decoder state sees requests in arrival
//! order. A full job queue means the engine is behind: the request is
//! answered 503 without having been decoded, so nothing half-done needs
//! undoing and the sender's retry is the only copy.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dumpwatch_normalize::{DecodeContext, Format};
use dumpwatch_state::Entry;

use super::body::{self, Encoding, Refusal};
use super::records::{RecordRules, for_each_record};
use crate::live::hosts::HostDecoders;
use crate::live::message::{Ack, AckWaiter, Msg, SourceHandle};
use crate::source::DeadLetter;

/// How a request ended, for its answer.
#[derive(Debug)]
pub enum Reply {
    /// Its events are durable (or were processed, without a store).
    Accepted {
        records: usize,
        events: usize,
    },
    Refused(Refusal),
}

/// A request body waiting to be decoded.
pub struct Job {
    pub body: Vec<u8>,
    pub encoding: Encoding,
    pub content_type: Option<String>,
    /// The host named by the request (`?host=`), over any record's.
    pub host: Option<String>,
    pub reply: tokio::sync::oneshot::Sender<Reply>,
    /// When the answer is due (the sender gives up after it).
    pub deadline: Instant,
}

/// What one HTTP input needs to decode.
pub struct IngestSpec {
    pub name: String,
    pub format: Format,
    pub ctx: DecodeContext,
    pub rules: RecordRules,
    pub max_hosts: usize,
    pub max_line: usize,
    /// Largest body after decompression.
    pub max_body: usize,
    pub decoder_state: Vec<Entry>,
    pub dead_letter: Option<Arc<Mutex<DeadLetter>>>,
}

/// The queue of one input's decoder thread.
#[derive(Clone)]
pub struct JobQueue {
    tx: SyncSender<Job>,
}

impl JobQueue {
    /// Queue a job; when the queue is full the job comes back (answer
    /// 503).
    pub fn offer(&self, job: Job) -> Result<(), Job> {
        match self.tx.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(j)) | Err(TrySendError::Disconnected(j)) => Err(j),
        }
    }
}

/// Start an input's decoder and acknowledgement threads.
pub fn spawn(
    spec: IngestSpec,
    handle: SourceHandle,
    queue: usize,
) -> std::io::Result<(JobQueue, Vec<JoinHandle<()>>)> {
    let (tx, rx) = mpsc::sync_channel::<Job>(queue.max(1));
    let (ack_tx, ack_rx) = mpsc::channel::<Pending>();
    let name = spec.name.clone();
    let decode = std::thread::Builder::new()
        .name(format!("dumpwatch-http-{name}"))
        .spawn(move || decode_loop(spec, handle, rx, ack_tx))?;
    let acks = std::thread::Builder::new()
        .name(format!("dumpwatch-ack-{name}"))
        .spawn(move || ack_loop(ack_rx))?;
    Ok((JobQueue { tx }, vec![decode, acks]))
}

struct Pending {
    waiter: AckWaiter,
    reply: tokio::sync::oneshot::Sender<Reply>,
    records: usize,
    events: usize,
    deadline: Instant,
}

fn decode_loop(
    spec: IngestSpec,
    handle: SourceHandle,
    jobs: Receiver<Job>,
    acks: mpsc::Sender<Pending>,
) {
    let mut decoders = HostDecoders::new(
        &spec.name,
        spec.format,
        spec.ctx.clone(),
        spec.max_hosts,
        spec.decoder_state,
        spec.dead_letter.clone(),
    );
    // Records held over from before a restart complete with the first
    // request; nothing to send until then.
    while let Ok(job) = jobs.recv() {
        if job.reply.is_closed() || Instant::now() >= job.deadline {
            // The client is gone: decoding now would only create a
            // duplicate of its retry.
            continue;
        }
        let body = match body::decode(job.body, job.encoding, spec.max_body) {
            Ok(b) => b,
            Err(r) => {
                let _ = job.reply.send(Reply::Refused(r));
                continue;
            }
        };
        let kind = match body::kind(job.content_type.as_deref(), &body) {
            Ok(k) => k,
            Err(r) => {
                let _ = job.reply.send(Reply::Refused(r));
                continue;
            }
        };
        decoders.add_bytes(body.len() as u64);
        let forced_host = job.host.as_deref();
        let max_line = spec.max_line;
        let mut too_long = Vec::new();
        let mut problems = Vec::new();
        let records = {
            let d = &mut decoders;
            let mut push = |host: &str, line: &[u8]| {
                if line.len() > max_line {
                    too_long.push(line.len());
                    return;
                }
                d.push(forced_host.unwrap_or(host), line);
            };
            for_each_record(&body, kind, spec.format, &spec.rules, &mut push, &mut |p| {
                problems.push(p)
            })
        };
        for len in too_long {
            decoders.record_error(
                "line too long",
                format!("record of {len} bytes exceeds the {max_line}-byte limit; skipped"),
            );
        }
        for p in problems {
            decoders.record_error(p.kind, p.detail);
        }
        let records = match records {
            Ok(n) => n,
            Err(detail) => {
                // Nothing of the body reached a decoder; the counts of its
                // broken records still go to the engine.
                let (events, state_changes, report) = decoders.take();
                let _ = handle.send(Msg::Events {
                    src: handle.id,
                    events,
                    position: None,
                    state_changes,
                    report: Some(report),
                    ack: None,
                });
                let _ = job
                    .reply
                    .send(Reply::Refused(Refusal::new(400, "not JSON", detail)));
                continue;
            }
        };
        let (events, state_changes, report) = decoders.take();
        let n_events = events.len();
        let (ack, waiter) = Ack::pair();
        let msg = Msg::Events {
            src: handle.id,
            events,
            position: None,
            state_changes,
            report: Some(report),
            ack: Some(ack),
        };
        if handle.send(msg).is_err() {
            let _ = job.reply.send(Reply::Refused(Refusal::new(
                503,
                "engine stopped",
                "the engine is stopping; retry",
            )));
            return;
        }
        let pending = Pending {
            waiter,
            reply: job.reply,
            records,
            events: n_events,
            deadline: job.deadline,
        };
        if acks.send(pending).is_err() {
            return;
        }
    }
}

fn ack_loop(pending: Receiver<Pending>) {
    while let Ok(p) = pending.recv() {
        let left = p
            .deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        let reply = match p.waiter.wait(left) {
            Ok(()) => Reply::Accepted {
                records: p.records,
                events: p.events,
            },
            Err(e) => Reply::Refused(Refusal::new(
                503,
                "not acknowledged",
                format!("the events were not made durable: {e}; retry"),
            )),
        };
        let _ = p.reply.send(reply);
    }
}
