//! A file input in its own thread: read once, or followed as it grows,
//! across rename and copy-truncate rotation, resuming at the checkpointed
//! position.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use dumpwatch_event::Event;
use dumpwatch_state::{Entry, SourceRecord};

use super::message::{Msg, SourceHandle};
use crate::source::{DeadLetter, FileChange, InputReader, InputSpec};

/// Lines decoded per message to the engine.
const LINES_PER_MESSAGE: usize = 4096;

/// How a file input is read.
pub struct FileInput {
    pub spec: InputSpec,
    pub follow: bool,
    pub max_line: usize,
    pub resume: Option<SourceRecord>,
    pub decoder_state: Vec<Entry>,
    /// How often a followed file is checked for growth and rotation.
    pub poll: Duration,
}

/// Start reading; the thread ends at end of input (not followed), when
/// `stop` is set, or when the engine is gone.
pub fn spawn(
    input: FileInput,
    handle: SourceHandle,
    dead_letter: Option<Arc<Mutex<DeadLetter>>>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("dumpwatch-input-{}", handle.id))
        .spawn(move || {
            if let Err(e) = read(input, &handle, dead_letter, &stop) {
                handle.failed(e);
            }
        })
}

fn read(
    input: FileInput,
    handle: &SourceHandle,
    dead_letter: Option<Arc<Mutex<DeadLetter>>>,
    stop: &AtomicBool,
) -> Result<(), String> {
    let path = input.spec.path.clone();
    let mut reader = InputReader::open(
        &input.spec,
        input.max_line,
        input.resume.as_ref(),
        input.decoder_state,
    )
    .map_err(|e| format!("{path}: {e}"))?;
    let resumable = input.spec.key().is_some();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut batch: Vec<Event> = Vec::new();
        let mut collect = |events: &mut Vec<Event>| batch.append(events);
        let mut dl = dead_letter.as_ref().map(|d| d.lock());
        let dl_ref = match dl.as_mut() {
            Some(Ok(g)) => Some(&mut **g),
            _ => None,
        };
        let (progress, more) = if input.follow {
            let n = reader
                .pump_available(LINES_PER_MESSAGE, dl_ref, &mut collect)
                .map_err(|e| format!("{path}: {e}"))?;
            (n > 0, true)
        } else {
            let more = reader
                .pump(LINES_PER_MESSAGE, dl_ref, &mut collect)
                .map_err(|e| format!("{path}: {e}"))?;
            (true, more)
        };
        drop(dl);
        if (progress || !batch.is_empty())
            && handle
                .send(events_msg(handle, &mut reader, batch, resumable))
                .is_err()
        {
            return Ok(());
        }
        if !more {
            handle.done(reader.report());
            return Ok(());
        }
        if input.follow && !progress {
            // Quiet: complete what the decoder holds (an auditd event whose
            // records all arrived) so it is not held until the next write.
            let mut idle: Vec<Event> = Vec::new();
            reader.flush_idle(&mut |e| idle.append(e));
            if !idle.is_empty()
                && handle
                    .send(events_msg(handle, &mut reader, idle, resumable))
                    .is_err()
            {
                return Ok(());
            }
            match reader.file_changed().map_err(|e| format!("{path}: {e}"))? {
                FileChange::Same => std::thread::sleep(input.poll),
                FileChange::Rotated => {
                    // Finish what the old file still holds, then switch.
                    let mut dl = dead_letter.as_ref().map(|d| d.lock());
                    let dl_ref = match dl.as_mut() {
                        Some(Ok(g)) => Some(&mut **g),
                        _ => None,
                    };
                    let mut rest: Vec<Event> = Vec::new();
                    reader
                        .pump_available(usize::MAX, dl_ref, &mut |e| rest.append(e))
                        .map_err(|e| format!("{path}: {e}"))?;
                    drop(dl);
                    tracing::info!(input = %path, "file rotated; reading the new file from its start");
                    reader.reopen().map_err(|e| format!("{path}: {e}"))?;
                    if handle
                        .send(events_msg(handle, &mut reader, rest, resumable))
                        .is_err()
                    {
                        return Ok(());
                    }
                }
                FileChange::Truncated => {
                    tracing::info!(input = %path, "file truncated (copy-truncate rotation); reading it from its start");
                    reader.reopen().map_err(|e| format!("{path}: {e}"))?;
                }
            }
        }
    }
}

/// Events for the engine with the reader's state right after them: its
/// resume position (for a resumable input), decoder state changes and
/// counts.
fn events_msg(
    handle: &SourceHandle,
    reader: &mut InputReader,
    events: Vec<Event>,
    resumable: bool,
) -> Msg {
    Msg::Events {
        src: handle.id,
        events,
        position: resumable.then(|| reader.position()),
        state_changes: reader.take_state_changes(),
        report: Some(reader.report()),
        ack: None,
    }
}
