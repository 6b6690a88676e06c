//! Analytic state in the store: each analytic's last full snapshot, kept
//! as the state frames it came as (cut into segments), and the entries
//! changed since, one row per key; read back as one merged frame list.

use std::collections::HashSet;

use foldhash::fast::RandomState;

use dumpwatch_frames::{FrameError, frames, put};
use redb::{ReadableTable, WriteTransaction};

use super::{
    ANALYTIC_BASE, ANALYTIC_CHANGES, ANALYTIC_SIZES, DELETED, PRESENT, SEGMENT, StateSize,
};

/// The analytic state tables, open in a write transaction.
pub(crate) struct AnalyticState<'txn> {
    base: redb::Table<'txn, (&'static str, u32), &'static [u8]>,
    changes: redb::Table<'txn, (&'static str, &'static [u8]), &'static [u8]>,
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
        remove_changes(&mut self.changes, id)?;
        self.sizes.remove(id)?;
        Ok(())
    }

    /// Replace everything stored for `id` with the full snapshot `frames`.
    pub(crate) fn replace(&mut self, id: &str, bytes: &[u8]) -> Result<StateSize, String> {
        check(bytes).map_err(|e| e.to_string())?;
        self.remove(id).map_err(|e| e.to_string())?;
        // Cut anywhere: the segments are only ever read back joined.
        for (n, segment) in bytes.chunks(SEGMENT).enumerate() {
            let n = u32::try_from(n).map_err(|_| "full snapshot too large".to_owned())?;
            self.base
                .insert((id, n), segment)
                .map_err(|e| e.to_string())?;
        }
        let size = StateSize {
            base: bytes.len() as u64,
            changes: 0,
        };
        self.sizes
            .insert(id, (size.base, size.changes))
            .map_err(|e| e.to_string())?;
        Ok(size)
    }

    /// Record the changes `frames` for `id`, over what is stored.
    pub(crate) fn apply(&mut self, id: &str, bytes: &[u8]) -> Result<StateSize, String> {
        check(bytes).map_err(|e| e.to_string())?;
        let (base, mut changes) = self
            .sizes
            .get(id)
            .map_err(|e| e.to_string())?
            .map_or((0, 0), |v| v.value());
        let mut row = Vec::new();
        for frame in frames(bytes) {
            let frame = frame.map_err(|e| e.to_string())?;
            row.clear();
            match frame.value {
                Some(value) => {
                    row.push(PRESENT);
                    row.extend_from_slice(value);
                }
                None => row.push(DELETED),
            }
            let old = self
                .changes
                .insert((id, frame.key), row.as_slice())
                .map_err(|e| e.to_string())?
                .map_or(0, |old| (frame.key.len() + old.value().len()) as u64);
            changes = changes.saturating_sub(old) + (frame.key.len() + row.len()) as u64;
        }
        self.sizes
            .insert(id, (base, changes))
            .map_err(|e| e.to_string())?;
        Ok(StateSize { base, changes })
    }
}

/// Check that `bytes` is a sequence of whole frames.
fn check(bytes: &[u8]) -> Result<(), FrameError> {
    frames(bytes).try_for_each(|frame| frame.map(drop))
}

/// Remove the change rows of `id` in one pass over its key range: from
/// `(id, [])` up to `(id + "\0", [])`, the first key of any longer id, so
/// other analytics' rows are never visited.
fn remove_changes(
    changes: &mut redb::Table<(&str, &[u8]), &[u8]>,
    id: &str,
) -> Result<(), redb::StorageError> {
    let next = format!("{id}\0");
    let lo: (&str, &[u8]) = (id, &[]);
    let hi: (&str, &[u8]) = (next.as_str(), &[]);
    changes.retain_in(lo..hi, |_, _| false)
}

/// The stored state of `id` as frames for `restore`: the full snapshot
/// with the changes merged over it, each key once and no deletions. With
/// no changes the segments are returned as they were written.
pub(crate) fn read_frames(txn: &redb::ReadTransaction, id: &str) -> Result<Vec<u8>, String> {
    let sizes = txn.open_table(ANALYTIC_SIZES).map_err(|e| e.to_string())?;
    let (base_len, _) = sizes
        .get(id)
        .map_err(|e| e.to_string())?
        .map_or((0, 0), |v| v.value());
    let base_table = txn.open_table(ANALYTIC_BASE).map_err(|e| e.to_string())?;
    // Sized once: growing a buffer of hundreds of MB by doubling copies it
    // again at every step.
    let mut base = Vec::with_capacity(usize::try_from(base_len).unwrap_or(0));
    for item in base_table
        .range((id, 0)..=(id, u32::MAX))
        .map_err(|e| e.to_string())?
    {
        let (_, segment) = item.map_err(|e| e.to_string())?;
        base.extend_from_slice(segment.value());
    }
    let changes = read_changes(txn, id)?;
    if changes.is_empty() {
        check(&base).map_err(|e| format!("stored state of {id}: {e}"))?;
        return Ok(base);
    }
    // Drop the frames of changed keys in place (each kept frame moves down
    // over the dropped ones), then append the changed values.
    let changed: HashSet<&[u8], RandomState> =
        changes.iter().map(|(key, _)| key.as_slice()).collect();
    let mut kept = 0;
    let mut it = frames(&base);
    let mut dropped = Vec::new();
    loop {
        let start = it.offset();
        let Some(frame) = it.next() else { break };
        let frame = frame.map_err(|e| format!("stored state of {id}: {e}"))?;
        if changed.contains(frame.key) {
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
    for (key, value) in &changes {
        if let Some(value) = value {
            put(&mut base, key, Some(value));
        }
    }
    Ok(base)
}

/// The change rows of `id` in key order: key and value, `None` for a
/// deletion.
fn read_changes(txn: &redb::ReadTransaction, id: &str) -> Result<Vec<crate::EntryChange>, String> {
    super::read_rows(txn, ANALYTIC_CHANGES, id, |row| match row.split_first() {
        Some((&PRESENT, value)) => Ok(Some(value.to_vec())),
        Some((&DELETED, [])) => Ok(None),
        _ => Err(format!("stored state of {id}: a change row is corrupt")),
    })
}
