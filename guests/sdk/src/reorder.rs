//! Event-time reordering: hold observations until the watermark has passed
//! them, then hand them out in (time, source, id) order.
//!
//! An analytic that processes its observations through a [`ReorderBuffer`]
//! sees one sorted stream whatever order the events arrived in (within the
//! allowed lateness), so every decision it takes in order — which event
//! anchors a window, whether a query template was seen before, when a sum
//! crosses a threshold — is the same for every arrival order, and its
//! findings are too. The price is latency: an observation is released
//! only when `advance` moves the watermark past its time, that is the
//! allowed lateness after it. The contract allows events *at* the
//! watermark to arrive still, so only times strictly below it are
//! released; `advance(i64::MAX)` (end of input) releases everything.
//!
//! An event older than the watermark when it arrives is late: it cannot
//! wait for anything, and the analytic evaluates it at once against the
//! state it kept ([`ReorderBuffer::is_late`] tells which).
//!
//! Entries are keyed by (time, source, id): a duplicate of a pending event
//! is refused, and a `changes` snapshot carries only the entries added or
//! released since the previous snapshot, one state entry each.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::state::{DirtyKeys, SnapshotReader, SnapshotWriter};
use crate::types::SnapshotMode;

/// Where an observation sorts: event time, then source and id (joined by
/// a unit separator so `("ab","c")` and `("a","bc")` differ).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Slot {
    pub time: i64,
    pub order: Box<str>,
}

impl Slot {
    pub fn new(time: i64, source: &str, id: &str) -> Slot {
        let mut order = String::with_capacity(source.len() + 1 + id.len());
        order.push_str(source);
        order.push('\u{1f}');
        order.push_str(id);
        Slot {
            time,
            order: order.into_boxed_str(),
        }
    }
}

/// Observations waiting for the watermark, sorted by [`Slot`].
#[derive(Debug)]
pub struct ReorderBuffer<T> {
    items: BTreeMap<Slot, T>,
    dirty: DirtyKeys<Slot>,
}

impl<T> Default for ReorderBuffer<T> {
    fn default() -> Self {
        ReorderBuffer {
            items: BTreeMap::new(),
            dirty: DirtyKeys::new(),
        }
    }
}

impl<T> ReorderBuffer<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether an event at `time` is late for `watermark`: it must be
    /// evaluated now instead of waiting.
    pub fn is_late(time: i64, watermark: i64) -> bool {
        time < watermark
    }

    /// Hold `item` at `slot`. False (and nothing changes) when that slot is
    /// already held: a duplicate of a pending event.
    pub fn insert(&mut self, slot: Slot, item: T) -> bool {
        if self.items.contains_key(&slot) {
            return false;
        }
        self.dirty.mark(slot.clone());
        self.items.insert(slot, item);
        true
    }

    /// Take every observation the watermark has passed (time strictly below
    /// it; everything at `i64::MAX`), in slot order.
    pub fn release(&mut self, watermark: i64) -> Vec<(Slot, T)> {
        let kept = if watermark == i64::MAX {
            BTreeMap::new()
        } else {
            self.items.split_off(&Slot {
                time: watermark,
                order: Box::from(""),
            })
        };
        let released = std::mem::replace(&mut self.items, kept);
        for slot in released.keys() {
            self.dirty.mark(slot.clone());
        }
        released.into_iter().collect()
    }

    /// Take the `count` oldest observations regardless of the watermark
    /// (for a memory cap), in slot order.
    pub fn release_oldest(&mut self, count: usize) -> Vec<(Slot, T)> {
        let mut out = Vec::with_capacity(count.min(self.items.len()));
        while out.len() < count {
            let Some((slot, item)) = self.items.pop_first() else {
                break;
            };
            self.dirty.mark(slot.clone());
            out.push((slot, item));
        }
        out
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Time of the oldest held observation.
    pub fn oldest_time(&self) -> Option<i64> {
        self.items.keys().next().map(|slot| slot.time)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Slot, &T)> {
        self.items.iter()
    }

    /// Number of slots changed since the last snapshot.
    pub fn dirty_len(&self) -> usize {
        self.dirty.len()
    }
}

impl<T: Serialize + DeserializeOwned> ReorderBuffer<T> {
    /// Write the held observations into `writer` under `space`, one entry
    /// per slot: all for `full`; for `changes` the ones added since the
    /// last snapshot and the released ones as deletions.
    pub fn snapshot_into(&mut self, writer: &mut SnapshotWriter, space: u8, mode: SnapshotMode) {
        match mode {
            SnapshotMode::Full => {
                self.dirty.clear();
                for (slot, item) in &self.items {
                    writer.put(space, slot, Some(item));
                }
            }
            SnapshotMode::Changes => {
                let mut slots = self.dirty.take();
                slots.sort_unstable();
                for slot in slots {
                    writer.put(space, &slot, self.items.get(&slot));
                }
            }
        }
    }

    /// Replace the content with the entries of `space` in `reader`.
    pub fn restore_from(&mut self, reader: &SnapshotReader, space: u8) -> Result<(), String> {
        let entries = reader.entries::<Slot, T>(space)?;
        self.items = entries.into_iter().collect();
        self.dirty.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dumpwatch_frames::{Frame, frames};

    fn slot(time: i64, id: &str) -> Slot {
        Slot::new(time, "src", id)
    }

    #[test]
    fn releases_below_the_watermark_in_order() {
        let mut buffer = ReorderBuffer::new();
        for (time, id) in [(30, "c"), (10, "b"), (20, "a"), (10, "a"), (40, "z")] {
            assert!(buffer.insert(slot(time, id), format!("{time}{id}")));
        }
        assert!(!buffer.insert(slot(10, "a"), "dup".into()), "duplicate");
        assert_eq!(buffer.oldest_time(), Some(10));
        let first: Vec<String> = buffer.release(30).into_iter().map(|(_, v)| v).collect();
        assert_eq!(first, ["10a", "10b", "20a"], "30 is at the watermark: kept");
        assert!(buffer.release(30).is_empty());
        assert_eq!(buffer.len(), 2);
        let rest: Vec<String> = buffer
            .release(i64::MAX)
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(rest, ["30c", "40z"]);
        assert!(buffer.is_empty());
        assert!(ReorderBuffer::<u8>::is_late(5, 6) && !ReorderBuffer::<u8>::is_late(6, 6));
    }

    #[test]
    fn source_and_id_boundaries_are_kept() {
        assert_ne!(Slot::new(1, "ab", "c"), Slot::new(1, "a", "bc"));
        assert!(Slot::new(1, "z", "a") < Slot::new(2, "a", "a"));
    }

    #[test]
    fn release_oldest_ignores_the_watermark() {
        let mut buffer = ReorderBuffer::new();
        for time in [5, 3, 9] {
            buffer.insert(slot(time, "x"), time);
        }
        let out: Vec<i64> = buffer
            .release_oldest(2)
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(out, [3, 5]);
        assert_eq!(buffer.release_oldest(10).len(), 1);
    }

    fn snapshot(buffer: &mut ReorderBuffer<u32>, mode: SnapshotMode) -> Vec<u8> {
        let mut writer = SnapshotWriter::new("reorder-test/1", mode);
        buffer.snapshot_into(&mut writer, 3, mode);
        writer.finish().0
    }

    #[test]
    fn snapshots_round_trip_and_changes_carry_releases_as_deletions() {
        let mut buffer = ReorderBuffer::new();
        buffer.insert(slot(1, "a"), 1u32);
        buffer.insert(slot(2, "b"), 2u32);
        let full = snapshot(&mut buffer, SnapshotMode::Full);
        let reader = SnapshotReader::open(full, "reorder-test/1").unwrap();
        let mut restored: ReorderBuffer<u32> = ReorderBuffer::new();
        restored.restore_from(&reader, 3).unwrap();
        assert_eq!(restored.iter().map(|(_, v)| *v).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(restored.dirty_len(), 0);

        assert!(
            frames(&snapshot(&mut buffer, SnapshotMode::Changes)).all(|e| e.unwrap().key[0] == 0),
            "nothing changed"
        );
        buffer.release(2);
        buffer.insert(slot(7, "c"), 7u32);
        let changes = snapshot(&mut buffer, SnapshotMode::Changes);
        let user: Vec<Frame> = frames(&changes)
            .map(Result::unwrap)
            .filter(|e| e.key[0] == 3)
            .collect();
        assert_eq!(user.len(), 2);
        assert_eq!(user.iter().filter(|e| e.value.is_none()).count(), 1);
    }
}
