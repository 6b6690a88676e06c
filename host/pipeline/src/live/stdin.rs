//! Standard input: raw lines from a pipe, from syslog-ng's `program()`
//! destination, or from rsyslog's `omprog` action speaking its
//! confirmation protocol.
//!
//! With `protocol = "omprog"` (rsyslog `confirmMessages="on"`), stdout is
//! the confirmation channel: `OK` once at start (ready), then for each
//! message `OK` only after a checkpoint made it durable — rsyslog keeps a
//! message that was not confirmed in its queue and sends it again. With
//! `useTransactions="on"` as well, messages inside a transaction are
//! answered `DEFER_COMMIT` and the `COMMIT TRANSACTION` mark `OK` once the
//! whole transaction is durable: one group commit per batch instead of
//! one per message. Anything else written back is an error line, and
//! rsyslog retries.
//!
//! End of input: with a persistent state store it stops the run like a
//! signal (rsyslog and syslog-ng close the pipe when they stop or restart
//! the program; the next start continues with every window still open);
//! without one it ends the input, and windows are flushed.

use std::io::{BufRead, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use dumpwatch_normalize::{DecodeContext, Format};
use dumpwatch_state::Entry;

use crate::live::hosts::HostDecoders;
use crate::live::message::{Ack, Msg, SourceHandle};
use crate::source::DeadLetter;

/// rsyslog's default transaction marks.
const BEGIN: &[u8] = b"BEGIN TRANSACTION";
const COMMIT: &[u8] = b"COMMIT TRANSACTION";
/// Lines per message to the engine in `lines` mode.
const BATCH: usize = 1024;

/// How the stdin input reads.
pub struct StdinSpec {
    pub name: String,
    pub format: Format,
    pub ctx: DecodeContext,
    pub omprog: bool,
    pub max_line: usize,
    /// A persistent store: end of input stops the run instead of ending
    /// the input.
    pub persistent: bool,
    /// Longest lines wait before going to the engine (`lines` mode).
    pub flush_delay: Duration,
    /// Longest a confirmation waits for its checkpoint.
    pub ack_timeout: Duration,
    pub decoder_state: Vec<Entry>,
    pub dead_letter: Option<Arc<Mutex<DeadLetter>>>,
}

/// Where confirmations go (stdout; a buffer in tests).
pub type Confirm = Box<dyn Write + Send>;

/// Start reading `input` (stdin in `run`); the handle returned is the
/// worker's, which ends at end of input or when `stop` is set.
pub fn spawn(
    spec: StdinSpec,
    input: Box<dyn BufRead + Send>,
    confirm: Confirm,
    handle: SourceHandle,
    stop: Arc<AtomicBool>,
) -> std::io::Result<Vec<JoinHandle<()>>> {
    let (tx, rx) = mpsc::sync_channel::<Option<Vec<u8>>>(BATCH * 4);
    let max_line = spec.max_line;
    // The reader blocks in `read` until the pipe closes: it is not joined
    // (a run stopped by a signal must not wait for the writer to close).
    std::thread::Builder::new()
        .name("dumpwatch-stdin-read".into())
        .spawn(move || read_lines(input, tx, max_line))?;
    let worker = std::thread::Builder::new()
        .name("dumpwatch-stdin".into())
        .spawn(move || {
            let r = if spec.omprog {
                omprog(spec, rx, confirm, &handle, &stop)
            } else {
                lines(spec, rx, &handle, &stop)
            };
            if let Err(e) = r {
                handle.failed(e);
            }
        })?;
    Ok(vec![worker])
}

/// Lines to the channel; `None` marks a line over the limit. The channel
/// closes at end of input.
fn read_lines(
    mut input: Box<dyn BufRead + Send>,
    tx: mpsc::SyncSender<Option<Vec<u8>>>,
    max_line: usize,
) {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match (&mut input)
            .take(max_line as u64 + 1)
            .read_until(b'\n', &mut buf)
        {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => {
                tracing::error!("stdin: {e}");
                return;
            }
        }
        let item = if buf.len() > max_line && buf.last() != Some(&b'\n') {
            // Skip the rest of the over-long line.
            let mut sink = Vec::new();
            let _ = input.read_until(b'\n', &mut sink);
            None
        } else {
            let l = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            Some(l.to_vec())
        };
        if tx.send(item).is_err() {
            return;
        }
    }
}

fn end_of_input(
    decoders: &mut HostDecoders,
    handle: &SourceHandle,
    persistent: bool,
    stop: &AtomicBool,
) {
    if persistent {
        let (events, state_changes, report) = decoders.take();
        let _ = handle.send(Msg::Events {
            src: handle.id,
            events,
            position: None,
            state_changes,
            report: Some(report.clone()),
            ack: None,
        });
        tracing::info!("standard input closed; stopping (state is kept for the next start)");
        stop.store(true, Ordering::Relaxed);
    } else {
        decoders.finish();
        let (events, state_changes, report) = decoders.take();
        let _ = handle.send(Msg::Events {
            src: handle.id,
            events,
            position: None,
            state_changes,
            report: Some(report.clone()),
            ack: None,
        });
        handle.done(report);
    }
}

fn push_line(decoders: &mut HostDecoders, line: Option<Vec<u8>>, max_line: usize) {
    match line {
        Some(l) => {
            decoders.add_bytes(l.len() as u64 + 1);
            if !l.iter().all(u8::is_ascii_whitespace) {
                decoders.push("", &l);
            }
        }
        None => decoders.record_error(
            "line too long",
            format!("line exceeds the {max_line}-byte limit; skipped"),
        ),
    }
}

fn lines(
    spec: StdinSpec,
    rx: Receiver<Option<Vec<u8>>>,
    handle: &SourceHandle,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut decoders = new_decoders(&spec);
    let mut pending = 0usize;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        match rx.recv_timeout(spec.flush_delay) {
            Ok(line) => {
                push_line(&mut decoders, line, spec.max_line);
                pending += 1;
                if pending < BATCH {
                    continue;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if pending == 0 {
                    continue;
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                end_of_input(&mut decoders, handle, spec.persistent, stop);
                return Ok(());
            }
        }
        pending = 0;
        let (events, state_changes, report) = decoders.take();
        let msg = Msg::Events {
            src: handle.id,
            events,
            position: None,
            state_changes,
            report: Some(report),
            ack: None,
        };
        if handle.send(msg).is_err() {
            return Ok(());
        }
    }
}

fn new_decoders(spec: &StdinSpec) -> HostDecoders {
    HostDecoders::new(
        &spec.name,
        spec.format,
        spec.ctx.clone(),
        1,
        spec.decoder_state.clone(),
        spec.dead_letter.clone(),
    )
}

/// Send what was decoded with an acknowledgement and wait for it.
fn commit(
    decoders: &mut HostDecoders,
    handle: &SourceHandle,
    timeout: Duration,
) -> Result<(), String> {
    let (events, state_changes, report) = decoders.take();
    let (ack, waiter) = Ack::pair();
    handle
        .send(Msg::Events {
            src: handle.id,
            events,
            position: None,
            state_changes,
            report: Some(report),
            ack: Some(ack),
        })
        .map_err(|_| "the engine stopped".to_string())?;
    waiter.wait(timeout)
}

fn answer(out: &mut Confirm, word: &[u8]) -> Result<(), String> {
    out.write_all(word)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(|e| format!("writing confirmations to stdout: {e}"))
}

/// An error line for rsyslog (one line, never `OK`).
fn error_line(e: &str) -> Vec<u8> {
    let one: String = e
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("error: {one}").into_bytes()
}

fn omprog(
    spec: StdinSpec,
    rx: Receiver<Option<Vec<u8>>>,
    mut out: Confirm,
    handle: &SourceHandle,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut decoders = new_decoders(&spec);
    // Ready: rsyslog waits for this before it sends anything.
    answer(&mut out, b"OK")?;
    let mut in_transaction = false;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let line = match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(l) => l,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => {
                end_of_input(&mut decoders, handle, spec.persistent, stop);
                return Ok(());
            }
        };
        match line.as_deref() {
            Some(BEGIN) => {
                in_transaction = true;
                answer(&mut out, b"OK")?;
            }
            Some(COMMIT) => {
                in_transaction = false;
                match commit(&mut decoders, handle, spec.ack_timeout) {
                    Ok(()) => answer(&mut out, b"OK")?,
                    Err(e) => answer(&mut out, &error_line(&e))?,
                }
            }
            _ => {
                push_line(&mut decoders, line, spec.max_line);
                if in_transaction {
                    answer(&mut out, b"DEFER_COMMIT")?;
                } else {
                    match commit(&mut decoders, handle, spec.ack_timeout) {
                        Ok(()) => answer(&mut out, b"OK")?,
                        Err(e) => answer(&mut out, &error_line(&e))?,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
