//! Keyed analytic state and its snapshots.
//!
//! The host checkpoints an analytic as a list of `state-entry`s, one per key,
//! and merges `changes` snapshots into the last `full` one by key (a `none`
//! value deletes the key). This module gives that shape a structure:
//!
//! - keys live in *spaces* (one byte, 1–255) so an analytic can keep several
//!   kinds of entries (windows per host and user, pending events per host);
//!   the key bytes are the space followed by the postcard encoding of the key;
//! - space 0 holds *meta* entries by name, among them the `format` entry
//!   written by [`SnapshotWriter::new`] and checked by
//!   [`SnapshotReader::open`], so a snapshot from an incompatible state layout
//!   is rejected with a clear error instead of being misread;
//! - [`DirtyKeys`] remembers which keys changed since the last snapshot, so a
//!   `changes` snapshot carries only those (and deletions as `none`);
//! - [`KeyedStore`] combines a map with dirty tracking for analytics whose
//!   state is one flat map.

use std::hash::Hash;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::{self, CodecError};
use crate::collections::{Map, Set, new_map, new_set};
use crate::types::{SnapshotMode, StateEntry};

/// The meta space.
const META: u8 = 0;
/// Name of the meta entry that holds the state format.
const FORMAT: &str = "format";

/// Keys changed since the last snapshot.
#[derive(Debug)]
pub struct DirtyKeys<K> {
    keys: Set<K>,
}

impl<K: Hash + Eq> Default for DirtyKeys<K> {
    fn default() -> Self {
        DirtyKeys { keys: new_set() }
    }
}

impl<K: Hash + Eq> DirtyKeys<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remember that `key` changed (or was deleted).
    pub fn mark(&mut self, key: K) {
        self.keys.insert(key);
    }

    pub fn is_dirty(&self, key: &K) -> bool {
        self.keys.contains(key)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The changed keys, clearing the set. The set's table is given back
    /// too: after a burst it would otherwise stay at its largest size.
    pub fn take(&mut self) -> Vec<K> {
        std::mem::replace(&mut self.keys, new_set())
            .into_iter()
            .collect()
    }

    pub fn clear(&mut self) {
        self.keys = new_set();
    }
}

/// Builds the entry list of a snapshot.
pub struct SnapshotWriter {
    entries: Vec<StateEntry>,
    errors: Vec<CodecError>,
}

impl SnapshotWriter {
    /// Start a snapshot of state in `format` (for example `"an0676/1"`;
    /// change it whenever the encoding of any entry changes).
    pub fn new(format: &str) -> SnapshotWriter {
        let mut writer = SnapshotWriter {
            entries: Vec::new(),
            errors: Vec::new(),
        };
        writer.meta(FORMAT, format);
        writer
    }

    /// Write meta entry `name`.
    pub fn meta<V: Serialize + ?Sized>(&mut self, name: &str, value: &V) {
        let mut key = vec![META];
        key.extend_from_slice(name.as_bytes());
        match codec::encode(value) {
            Ok(bytes) => self.entries.push(StateEntry {
                key,
                value: Some(bytes),
            }),
            Err(err) => self.errors.push(err),
        }
    }

    /// Write `key` in `space` with `value`, or its deletion when `None`.
    pub fn put<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        space: u8,
        key: &K,
        value: Option<&V>,
    ) {
        debug_assert_ne!(space, META, "space 0 is reserved for meta entries");
        let key_bytes = match encode_key(space, key) {
            Ok(bytes) => bytes,
            Err(err) => {
                self.errors.push(err);
                return;
            }
        };
        let value = match value.map(codec::encode).transpose() {
            Ok(value) => value,
            Err(err) => {
                self.errors.push(err);
                return;
            }
        };
        self.entries.push(StateEntry {
            key: key_bytes,
            value,
        });
    }

    /// The entries, and the encoding errors of entries left out (should be
    /// none; an analytic logs them).
    pub fn finish(self) -> (Vec<StateEntry>, Vec<CodecError>) {
        (self.entries, self.errors)
    }
}

fn encode_key<K: Serialize + ?Sized>(space: u8, key: &K) -> Result<Vec<u8>, CodecError> {
    let mut bytes = vec![space];
    bytes.extend(codec::encode(key)?);
    Ok(bytes)
}

/// Reads the entries of a snapshot (full, or merged from several).
pub struct SnapshotReader {
    entries: Vec<StateEntry>,
}

impl SnapshotReader {
    /// Check the format entry and keep the entries. An empty list is a valid
    /// empty state; a list without a format entry, or with another format, is
    /// rejected.
    pub fn open(entries: Vec<StateEntry>, format: &str) -> Result<SnapshotReader, String> {
        let reader = SnapshotReader { entries };
        if reader.entries.is_empty() {
            return Ok(reader);
        }
        match reader.meta::<String>(FORMAT)? {
            Some(found) if found == format => Ok(reader),
            Some(found) => Err(format!(
                "incompatible state format: the snapshot holds {found:?}, this analytic reads {format:?}"
            )),
            None => Err(format!(
                "incompatible state: the snapshot has no format entry (expected {format:?})"
            )),
        }
    }

    /// Decode meta entry `name`, if present.
    pub fn meta<V: DeserializeOwned>(&self, name: &str) -> Result<Option<V>, String> {
        let entry = self
            .entries
            .iter()
            .find(|entry| entry.key.first() == Some(&META) && &entry.key[1..] == name.as_bytes());
        match entry.and_then(|entry| entry.value.as_deref()) {
            None => Ok(None),
            Some(bytes) => codec::decode(bytes)
                .map(Some)
                .map_err(|err| format!("state entry {name:?}: {err}")),
        }
    }

    /// Decode every present entry of `space`; deleted (`none`) entries are
    /// skipped. The first undecodable entry is an error.
    pub fn entries<K: DeserializeOwned, V: DeserializeOwned>(
        &self,
        space: u8,
    ) -> Result<Vec<(K, V)>, String> {
        let mut out = Vec::new();
        for entry in &self.entries {
            let (Some((&first, key)), Some(value)) = (entry.key.split_first(), &entry.value) else {
                continue;
            };
            if first != space {
                continue;
            }
            let key: K =
                codec::decode(key).map_err(|err| format!("state key in space {space}: {err}"))?;
            let value: V = codec::decode(value)
                .map_err(|err| format!("state value in space {space}: {err}"))?;
            out.push((key, value));
        }
        Ok(out)
    }
}

/// A map whose changes are tracked for `changes` snapshots.
///
/// Mutating access ([`KeyedStore::get_mut`], [`KeyedStore::insert`],
/// [`KeyedStore::remove`] …) marks the key dirty; reading does not.
pub struct KeyedStore<K, V> {
    entries: Map<K, V>,
    dirty: DirtyKeys<K>,
}

impl<K: Hash + Eq + Clone, V> Default for KeyedStore<K, V> {
    fn default() -> Self {
        KeyedStore {
            entries: new_map(),
            dirty: DirtyKeys::new(),
        }
    }
}

impl<K: Hash + Eq + Clone, V> KeyedStore<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// Mutable access; marks the key dirty when present.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let value = self.entries.get_mut(key)?;
        self.dirty.mark(key.clone());
        Some(value)
    }

    /// The value of `key`, inserted with `make` when absent; marks it dirty.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        self.dirty.mark(key.clone());
        self.entries.entry(key).or_insert_with(make)
    }

    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.dirty.mark(key.clone());
        self.entries.insert(key, value)
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let old = self.entries.remove(key)?;
        self.dirty.mark(key.clone());
        Some(old)
    }

    /// Keep the entries for which `keep` is true; removed ones are dirty.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let dirty = &mut self.dirty;
        self.entries.retain(|key, value| {
            let kept = keep(key, value);
            if !kept {
                dirty.mark(key.clone());
            }
            kept
        });
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter()
    }

    /// Number of keys changed since the last snapshot.
    pub fn dirty_len(&self) -> usize {
        self.dirty.len()
    }
}

impl<K, V> KeyedStore<K, V>
where
    K: Hash + Eq + Clone + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    /// Write this store's entries into `writer` under `space`: all of them
    /// for `full`, the changed and deleted ones for `changes`. Clears the
    /// dirty set either way.
    pub fn snapshot_into(&mut self, writer: &mut SnapshotWriter, space: u8, mode: SnapshotMode) {
        match mode {
            SnapshotMode::Full => {
                self.dirty.clear();
                for (key, value) in &self.entries {
                    writer.put(space, key, Some(value));
                }
            }
            SnapshotMode::Changes => {
                for key in self.dirty.take() {
                    writer.put(space, &key, self.entries.get(&key));
                }
            }
        }
    }

    /// Replace the content with the entries of `space` in `reader`.
    pub fn restore_from(&mut self, reader: &SnapshotReader, space: u8) -> Result<(), String> {
        let restored = reader.entries::<K, V>(space)?;
        self.entries.clear();
        self.dirty.clear();
        self.entries.extend(restored);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(store: &mut KeyedStore<String, u32>, mode: SnapshotMode) -> Vec<StateEntry> {
        let mut writer = SnapshotWriter::new("test/1");
        store.snapshot_into(&mut writer, 1, mode);
        let (entries, errors) = writer.finish();
        assert!(errors.is_empty());
        entries
    }

    fn user_entries(entries: &[StateEntry]) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut out: Vec<_> = entries
            .iter()
            .filter(|e| e.key[0] != 0)
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn changes_carry_only_touched_keys_and_deletions() {
        let mut store = KeyedStore::new();
        store.insert("a".to_string(), 1);
        store.insert("b".to_string(), 2);
        store.insert("c".to_string(), 3);
        assert_eq!(
            user_entries(&snapshot(&mut store, SnapshotMode::Full)).len(),
            3
        );
        assert!(user_entries(&snapshot(&mut store, SnapshotMode::Changes)).is_empty());

        *store.get_mut(&"b".to_string()).unwrap() = 20;
        store.remove(&"c".to_string());
        let _ = store.get(&"a".to_string());
        let changes = user_entries(&snapshot(&mut store, SnapshotMode::Changes));
        assert_eq!(changes.len(), 2);
        let deleted: Vec<_> = changes.iter().filter(|(_, v)| v.is_none()).collect();
        assert_eq!(deleted.len(), 1);
        assert_eq!(deleted[0].0, encode_key(1, "c").unwrap());
    }

    #[test]
    fn restore_rebuilds_the_map() {
        let mut store = KeyedStore::new();
        store.insert("x".to_string(), 7);
        store.insert("y".to_string(), 8);
        let entries = snapshot(&mut store, SnapshotMode::Full);
        let reader = SnapshotReader::open(entries, "test/1").unwrap();
        let mut restored: KeyedStore<String, u32> = KeyedStore::new();
        restored.restore_from(&reader, 1).unwrap();
        assert_eq!(restored.len(), 2);
        assert_eq!(restored.get(&"y".to_string()), Some(&8));
        assert_eq!(restored.dirty_len(), 0);
    }

    #[test]
    fn a_snapshot_of_another_format_is_rejected() {
        let mut store: KeyedStore<String, u32> = KeyedStore::new();
        store.insert("x".to_string(), 7);
        let entries = snapshot(&mut store, SnapshotMode::Full);
        let err = SnapshotReader::open(entries, "test/2").err().unwrap();
        assert!(err.contains("incompatible state format"), "{err}");
        assert!(err.contains("test/1") && err.contains("test/2"), "{err}");
    }

    #[test]
    fn entries_without_format_are_rejected_but_empty_state_is_fine() {
        let stray = vec![StateEntry {
            key: vec![1, 1, b'x'],
            value: Some(vec![7]),
        }];
        assert!(SnapshotReader::open(stray, "test/1").is_err());
        assert!(SnapshotReader::open(Vec::new(), "test/1").is_ok());
    }

    #[test]
    fn undecodable_value_is_an_error() {
        let mut writer = SnapshotWriter::new("test/1");
        writer.put(1, "k", Some(&String::from("not a number")));
        let (mut entries, _) = writer.finish();
        // Cut the value short so it no longer decodes as a string.
        entries[1].value = Some(vec![200]);
        let reader = SnapshotReader::open(entries, "test/1").unwrap();
        assert!(reader.entries::<String, String>(1).is_err());
    }

    #[test]
    fn meta_round_trip() {
        let mut writer = SnapshotWriter::new("test/1");
        writer.meta("watermark", &-5i64);
        let (entries, _) = writer.finish();
        let reader = SnapshotReader::open(entries, "test/1").unwrap();
        assert_eq!(reader.meta::<i64>("watermark").unwrap(), Some(-5));
        assert_eq!(reader.meta::<i64>("absent").unwrap(), None);
    }
}
