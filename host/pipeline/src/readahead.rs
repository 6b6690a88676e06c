//! Reading and decoding an input on its own thread, a few pumps ahead of
//! the engine.
//!
//! Decoding (JSON above all) costs more than the analytics for most
//! streams, so `replay` overlaps the two: this thread reads and normalizes
//! the next pumps of lines while the engine thread routes the previous
//! ones. Each [`Pumped`] carries the reader's position *after* its events,
//! so the engine checkpoints exactly what it has processed, never what was
//! only read ahead. The channel is bounded: a slow engine holds the reader
//! back, and memory stays at a few pumps of events.
//!
//! The thread owns the reader and the dead-letter file and gives them back
//! when it ends. It is not a scoped thread: when the engine stops on a fatal
//! error, a reader blocked on a pipe that may never be written again (stdin)
//! is left behind instead of being waited for.

use std::io;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use dumpwatch_event::Event;
use dumpwatch_state::SourceRecord;

use crate::source::{DeadLetter, InputReader, InputReport};

/// Pumps read ahead of the engine at most (besides the one it processes).
const PUMPS_IN_FLIGHT: usize = 2;

/// One pump of an input: its events in hand-over batches, and the reader's
/// state right after them.
pub(crate) struct Pumped {
    pub batches: Vec<Vec<Event>>,
    pub position: SourceRecord,
    pub state_changes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    pub report: InputReport,
    /// More input may follow.
    pub more: bool,
    /// Reading failed; nothing more follows.
    pub error: Option<io::Error>,
}

/// What the reading thread gives back: the reader's final report, and the
/// dead-letter file for the next input.
pub(crate) type Finished = (InputReport, Option<DeadLetter>);

/// Start reading `reader` on its own thread, `lines` lines per pump.
/// Dropping the receiver stops the thread after its current pump; joining
/// the handle gives the reader's final report and the dead-letter file.
pub(crate) fn spawn(
    mut reader: InputReader,
    mut dead_letter: Option<DeadLetter>,
    lines: usize,
) -> io::Result<(Receiver<Pumped>, JoinHandle<Finished>)> {
    let (tx, rx) = sync_channel::<Pumped>(PUMPS_IN_FLIGHT);
    let handle = std::thread::Builder::new()
        .name("dumpwatch-read".into())
        .spawn(move || {
            loop {
                let mut batches = Vec::new();
                let result = reader.pump(lines, dead_letter.as_mut(), &mut |events| {
                    let next = Vec::with_capacity(events.len());
                    batches.push(std::mem::replace(events, next));
                });
                let (more, error) = match result {
                    Ok(more) => (more, None),
                    Err(e) => (false, Some(e)),
                };
                let pumped = Pumped {
                    batches,
                    position: reader.position(),
                    state_changes: reader.take_state_changes(),
                    report: reader.report(),
                    more,
                    error,
                };
                if tx.send(pumped).is_err() || !more {
                    break;
                }
            }
            (reader.report(), dead_letter)
        })?;
    Ok((rx, handle))
}
