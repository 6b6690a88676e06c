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

    /// Replace everything stored for `id` with the full snapshot `frames`.
    pub(crate) fn replace(&mut self, id: &str, bytes: &[u8]) -> Result<StateSize, String> {
        check(bytes).map_err(|e| e.to_string())?;
        self.remove(id).map_err(|e| e.to_string())?;
        write_pieces(&mut self.base, id, 0, bytes, "full snapshot too large")?;
        self.set_size(
            id,
            StateSize {
                base: bytes.len() as u64,
                changes: 0,
            },
        )
    }

    /// Record the changes `frames` for `id`, over what is stored: appended
    /// after the changes before them.
    pub(crate) fn apply(&mut self, id: &str, bytes: &[u8]) -> Result<StateSize, String> {
        check(bytes).map_err(|e| e.to_string())?;
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
        write_pieces(&mut self.changes, id, first, bytes, too_many)?;
        self.set_size(
            id,
            StateSize {
                base,
                changes: changes.saturating_add(bytes.len() as u64),
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

/// Write `bytes` into `table` as pieces of at most [`SEGMENT`] bytes,
/// numbered from `first`. Cut anywhere: pieces are only ever read back
/// joined ([`read_pieces`]).
fn write_pieces(
    table: &mut redb::Table<'_, (&'static str, u32), &'static [u8]>,
    id: &str,
    first: u32,
    bytes: &[u8],
    too_many: &str,
) -> Result<(), String> {
    for (n, piece) in bytes.chunks(SEGMENT).enumerate() {
        let n = u32::try_from(n)
            .ok()
            .and_then(|n| first.checked_add(n))
            .ok_or_else(|| too_many.to_owned())?;
        table.insert((id, n), piece).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Check that `bytes` is a sequence of whole frames.
fn check(bytes: &[u8]) -> Result<(), FrameError> {
    frames(bytes).try_for_each(|frame| frame.map(drop))
}

/// The stored state of `id` as frames for `restore`: the full snapshot
/// with the changes merged over it, each key once and no deletions. With
/// no changes the segments are returned as they were written.
pub(crate) fn read_frames(txn: &redb::ReadTransaction, id: &str) -> Result<Vec<u8>, String> {
    let sizes = txn.open_table(ANALYTIC_SIZES).map_err(|e| e.to_string())?;
    let (base_len, changes_len) = sizes
        .get(id)
        .map_err(|e| e.to_string())?
        .map_or((0, 0), |v| v.value());
    // Room for the changed values too, which are appended after the base:
    // growing a buffer of hundreds of MB copies it into fresh memory, and
    // that (the copy and the kernel zeroing the new pages) took as long as
    // reading it.
    let mut base = read_pieces(txn, ANALYTIC_BASE, id, base_len.saturating_add(changes_len))?;
    let changes = read_pieces(txn, ANALYTIC_CHANGES, id, changes_len)?;
    if changes.is_empty() {
        check(&base).map_err(|e| format!("stored state of {id}: {e}"))?;
        return Ok(base);
    }
    // The last entry of each changed key, in the order the keys first
    // changed (so the result does not depend on hashing).
    let mut latest: Vec<(&[u8], Option<&[u8]>)> = Vec::new();
    let mut slot: HashMap<&[u8], usize, RandomState> = HashMap::default();
    for frame in frames(&changes) {
        let frame = frame.map_err(|e| format!("stored changes of {id}: {e}"))?;
        match slot.get(frame.key) {
            Some(&at) => latest[at].1 = frame.value,
            None => {
                slot.insert(frame.key, latest.len());
                latest.push((frame.key, frame.value));
            }
        }
    }
    // Drop the frames of changed keys in place (each kept frame moves down
    // over the dropped ones), then append the changed values.
    let mut kept = 0;
    let mut it = frames(&base);
    let mut dropped = Vec::new();
    loop {
        let start = it.offset();
        let Some(frame) = it.next() else { break };
        let frame = frame.map_err(|e| format!("stored state of {id}: {e}"))?;
        if slot.contains_key(frame.key) {
            dropped.push(start..it.offset());
        }
    }
    let mut read = 0;
    for range in dropped {
        base.copy_within(read..range.start, kept);
        kept += range.start - read;
        read = range.end;
    }
    base.copy_within(read.., kept);
    kept += base.len() - read;
    base.truncate(kept);
    for (key, value) in latest {
        if let Some(value) = value {
            put(&mut base, key, Some(value));
        }
    }
    Ok(base)
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
    // again at every step.
    let mut out = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    for item in table
        .range((id, 0)..=(id, u32::MAX))
        .map_err(|e| e.to_string())?
    {
        let (_, piece) = item.map_err(|e| e.to_string())?;
        out.extend_from_slice(piece.value());
    }
    Ok(out)
}
