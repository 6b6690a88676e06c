//! Analytic state in the store: each analytic's last full snapshot and the
//! changed-only snapshots since, each kept as the state frames it came as
//! (cut into segments); read back as one merged frame list.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use dumpwatch_frames::{FrameError, frames, put};
use redb::{ReadableTable, WriteTransaction};

use super::{ANALYTIC_BASE, ANALYTIC_CHANGES, ANALYTIC_SIZES, SEGMENT, StateSize};

/// The analytic state tables, open in a write transaction.
pub(crate) struct AnalyticState<'txn> {
    base: redb::Table<'txn, (&'static str, u32), &'static [u8]>,
    changes: redb::Table<'txn, (&'static str, u32), &'static [u8]>,
    sizes: redb::Table<'txn, &'static str, (u64, u64)>,
}

impl<'txn> AnalyticState<'txn> {
    pub(crate) fn open(txn: &'txn WriteTransaction) -> Result<Self, redb::TableError> {
        Ok(AnalyticState {
            base: txn.open_table(ANALYTIC_BASE)?,
            changes: txn.open_table(ANALYTIC_CHANGES)?,
            sizes: txn.open_table(ANALYTIC_SIZES)?,
        })
    }

    /// Forget everything stored for `id`.
    pub(crate) fn remove(&mut self, id: &str) -> Result<(), redb::StorageError> {
        self.base
            .retain_in((id, 0)..=(id, u32::MAX), |_, _| false)?;
        self.changes
            .retain_in((id, 0)..=(id, u32::MAX), |_, _| false)?;
        self.sizes.remove(id)?;
        Ok(())
    }

    /// Replace everything stored for `id` with the full snapshot `parts`.
    pub(crate) fn replace(&mut self, id: &str, parts: &[Vec<u8>]) -> Result<StateSize, String> {
        let bytes = check(parts).map_err(|e| e.to_string())?;
        self.remove(id).map_err(|e| e.to_string())?;
        write_pieces(&mut self.base, id, 0, parts, "full snapshot too large")?;
        self.set_size(
            id,
            StateSize {
                base: bytes,
                changes: 0,
            },
        )
    }

    /// Record the changes `parts` for `id`, over what is stored: appended
    /// after the changes before them.
    pub(crate) fn apply(&mut self, id: &str, parts: &[Vec<u8>]) -> Result<StateSize, String> {
        let bytes = check(parts).map_err(|e| e.to_string())?;
        let (base, changes) = self
            .sizes
            .get(id)
            .map_err(|e| e.to_string())?
            .map_or((0, 0), |v| v.value());
        let last = self
            .changes
            .range((id, 0)..=(id, u32::MAX))
            .map_err(|e| e.to_string())?
            .next_back()
            .transpose()
            .map_err(|e| e.to_string())?
            .map(|(k, _)| k.value().1);
        let too_many = "too many changed-only snapshots";
        let first = last
            .map_or(Some(0), |n| n.checked_add(1))
            .ok_or_else(|| too_many.to_owned())?;
        write_pieces(&mut self.changes, id, first, parts, too_many)?;
        self.set_size(
            id,
            StateSize {
                base,
                changes: changes.saturating_add(bytes),
            },
        )
    }

    fn set_size(&mut self, id: &str, size: StateSize) -> Result<StateSize, String> {
        self.sizes
            .insert(id, (size.base, size.changes))
            .map_err(|e| e.to_string())?;
        Ok(size)
    }
}

/// Write `parts` into `table` as pieces of at most [`SEGMENT`] bytes,
/// numbered from `first`. Each part is cut on its own, anywhere: pieces
/// are only ever read back joined ([`read_pieces`]).
fn write_pieces(
    table: &mut redb::Table<'_, (&'static str, u32), &'static [u8]>,
    id: &str,
    first: u32,
    parts: &[Vec<u8>],
    too_many: &str,
) -> Result<(), String> {
    let pieces = parts.iter().flat_map(|part| part.chunks(SEGMENT));
    for (n, piece) in pieces.enumerate() {
        let n = u32::try_from(n)
            .ok()
            .and_then(|n| first.checked_add(n))
            .ok_or_else(|| too_many.to_owned())?;
        table.insert((id, n), piece).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Check that each of `parts` is a sequence of whole frames; their bytes
/// in all.
fn check(parts: &[Vec<u8>]) -> Result<u64, FrameError> {
    for part in parts {
        frames(part).try_for_each(|frame| frame.map(drop))?;
    }
    Ok(parts.iter().map(|part| part.len() as u64).sum())
}

/// The stored state of `id` as frames for `restore`: the full snapshot
/// with the changes merged over it, each key once and no deletions (see
/// [`read_frame_parts`] for the order), in one buffer.
pub(crate) fn read_frames(txn: &redb::ReadTransaction, id: &str) -> Result<Vec<u8>, String> {
    let (base_len, changes_len) = stored_sizes(txn, id)?;
    // One part, sized once: growing a buffer of hundreds of MB copies it
    // into fresh memory, and that (the copy and the kernel zeroing the new
    // pages) took as long as reading it.
    let whole = usize::try_from(base_len.saturating_add(changes_len)).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    read_frame_parts(txn, id, whole.max(1), |part| {
        out = part;
        true
    })?;
    Ok(out)
}

/// (bytes of the full snapshot, bytes of the changes since) stored for
/// `id`.
fn stored_sizes(txn: &redb::ReadTransaction, id: &str) -> Result<(u64, u64), String> {
    let sizes = txn.open_table(ANALYTIC_SIZES).map_err(|e| e.to_string())?;
    Ok(sizes
        .get(id)
        .map_err(|e| e.to_string())?
        .map_or((0, 0), |v| v.value()))
}

/// What is stored for `id`, as [`StateSize`].
pub(crate) fn state_size(txn: &redb::ReadTransaction, id: &str) -> Result<StateSize, String> {
    let (base, changes) = stored_sizes(txn, id)?;
    Ok(StateSize { base, changes })
}

/// The changes stored for `id` (changed-only snapshots in the order they
/// came), reduced to the last value of each key.
struct Merge<'a> {
    /// Each changed key with its last value (`None`: deleted), in the
    /// order the keys first changed (so nothing depends on hashing).
    latest: Vec<(&'a [u8], Option<&'a [u8]>)>,
    /// Where each key sits in `latest`.
    slot: HashMap<&'a [u8], usize, RandomState>,
    /// Whether the key's value was written already (in the place of its
    /// frame in the full snapshot).
    written: Vec<bool>,
}

impl<'a> Merge<'a> {
    fn new(changes: &'a [u8], id: &str) -> Result<Merge<'a>, String> {
        let mut latest: Vec<(&[u8], Option<&[u8]>)> = Vec::new();
        let mut slot: HashMap<&[u8], usize, RandomState> = HashMap::default();
        for frame in frames(changes) {
            let frame = frame.map_err(|e| format!("stored changes of {id}: {e}"))?;
            match slot.get(frame.key) {
                Some(&at) => latest[at].1 = frame.value,
                None => {
                    slot.insert(frame.key, latest.len());
                    latest.push((frame.key, frame.value));
                }
            }
        }
        let written = vec![false; latest.len()];
        Ok(Merge {
            latest,
            slot,
            written,
        })
    }

    /// Write the frame of the full snapshot that starts `bytes` (its
    /// `key`, ending at `end`) to `out`, or the key's changed value in its
    /// place, or nothing for a deleted key (or a key written already).
    fn base_frame<E: FnMut(Vec<u8>) -> bool>(
        &mut self,
        key: &[u8],
        bytes: &[u8],
        end: usize,
        out: &mut PartWriter<'_, E>,
    ) {
        match self.slot.get(key) {
            None => out.frame(|buf| buf.extend_from_slice(&bytes[..end])),
            Some(&at) => {
                if !std::mem::replace(&mut self.written[at], true)
                    && let Some(value) = self.latest[at].1
                {
                    out.frame(|buf| put(buf, key, Some(value)));
                }
            }
        }
    }

    /// Write the changed keys the full snapshot did not hold.
    fn rest<E: FnMut(Vec<u8>) -> bool>(&self, out: &mut PartWriter<'_, E>) {
        for ((key, value), written) in self.latest.iter().zip(&self.written) {
            if let (false, Some(value)) = (written, value) {
                out.frame(|buf| put(buf, key, Some(value)));
            }
        }
    }
}

/// The stored state of `id` (the full snapshot with the changes since
/// merged over it: each key once, no deletions), handed to `emit` in parts
/// of whole frames of about `part` bytes, in order. A changed key keeps
/// the place of its frame in the full snapshot, so what an analytic wrote
/// first (its format, its tables) still comes first; keys the full
/// snapshot did not hold come last, in the order they first changed. The
/// full snapshot is read one stored segment at a time, so the caller can
/// pass a part on while the next is read, and no buffer holds the whole
/// state. `emit` returns false to stop early (its receiver is gone). A
/// stored state that does not parse is an error, which may come after
/// some parts were emitted.
pub(crate) fn read_frame_parts(
    txn: &redb::ReadTransaction,
    id: &str,
    part: usize,
    mut emit: impl FnMut(Vec<u8>) -> bool,
) -> Result<(), String> {
    let (_, changes_len) = stored_sizes(txn, id)?;
    let changes = read_pieces(txn, ANALYTIC_CHANGES, id, changes_len)?;
    let mut merge = Merge::new(&changes, id)?;
    let mut out = PartWriter {
        part,
        buf: Vec::new(),
        emit: &mut emit,
        stopped: false,
    };
    // The bytes of a frame cut by a segment boundary, completed from the
    // next segment.
    let mut carry: Vec<u8> = Vec::new();
    let base = txn.open_table(ANALYTIC_BASE).map_err(|e| e.to_string())?;
    let corrupt = |e: FrameError| format!("stored state of {id}: {e}");
    for item in base
        .range((id, 0)..=(id, u32::MAX))
        .map_err(|e| e.to_string())?
    {
        let (_, piece) = item.map_err(|e| e.to_string())?;
        let mut bytes = piece.value();
        // Finish the cut frame first: grow the carry from this segment
        // (doubling, so a large frame costs a bounded number of tries)
        // until what it holds parses to its end.
        while !carry.is_empty() && !bytes.is_empty() {
            let take = bytes.len().min(carry.len().max(4096));
            carry.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            let parsed = whole_frames(&carry, &mut merge, &mut out).map_err(corrupt)?;
            carry.drain(..parsed);
        }
        let parsed = whole_frames(bytes, &mut merge, &mut out).map_err(corrupt)?;
        carry.extend_from_slice(&bytes[parsed..]);
        if out.stopped {
            return Ok(());
        }
    }
    if !carry.is_empty() {
        return Err(format!(
            "stored state of {id}: the last frame is cut short ({} bytes)",
            carry.len()
        ));
    }
    merge.rest(&mut out);
    out.flush();
    Ok(())
}

/// Parts of about `part` bytes, handed to `emit` as they fill.
struct PartWriter<'e, E: FnMut(Vec<u8>) -> bool> {
    part: usize,
    buf: Vec<u8>,
    emit: &'e mut E,
    stopped: bool,
}

impl<E: FnMut(Vec<u8>) -> bool> PartWriter<'_, E> {
    /// Append one frame with `write`; pass the part on once it is full.
    fn frame(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        if self.buf.capacity() == 0 {
            // A part ends with the frame that fills it: room for a frame
            // more, so the buffer is not grown (copied) at the end. The
            // size comes from the store: one that cannot be had (a damaged
            // size record) leaves the buffer to grow as frames come.
            let _ = self
                .buf
                .try_reserve(self.part.saturating_add(self.part / 8));
        }
        write(&mut self.buf);
        if self.buf.len() >= self.part {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() && !self.stopped {
            self.stopped = !(self.emit)(std::mem::take(&mut self.buf));
        }
    }
}

/// Write the whole frames at the start of `bytes` to `out`, merged
/// ([`Merge::base_frame`]); return how many bytes they took. A frame cut
/// short by the end of `bytes` stops it there; any other error is one.
fn whole_frames<E: FnMut(Vec<u8>) -> bool>(
    bytes: &[u8],
    merge: &mut Merge<'_>,
    out: &mut PartWriter<'_, E>,
) -> Result<usize, FrameError> {
    let mut it = frames(bytes);
    loop {
        let start = it.offset();
        match it.next() {
            None => return Ok(start),
            Some(Ok(frame)) => {
                merge.base_frame(frame.key, &bytes[start..], it.offset() - start, out);
            }
            Some(Err(e)) if e.is_cut_short() => return Ok(start),
            Some(Err(e)) => return Err(e),
        }
    }
}

/// The pieces of `id` in `table` joined in order, in a buffer with room
/// for `capacity` bytes.
fn read_pieces(
    txn: &redb::ReadTransaction,
    table: redb::TableDefinition<(&str, u32), &[u8]>,
    id: &str,
    capacity: u64,
) -> Result<Vec<u8>, String> {
    let table = txn.open_table(table).map_err(|e| e.to_string())?;
    // Sized once: growing a buffer of hundreds of MB by doubling copies it
    // again at every step. (A size that cannot be had, from a damaged size
    // record, leaves it to grow.)
    let mut out = Vec::new();
    let _ = out.try_reserve_exact(usize::try_from(capacity).unwrap_or(0));
    for item in table
        .range((id, 0)..=(id, u32::MAX))
        .map_err(|e| e.to_string())?
    {
        let (_, piece) = item.map_err(|e| e.to_string())?;
        out.extend_from_slice(piece.value());
    }
    Ok(out)
}
