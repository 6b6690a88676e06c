//! Keyed analytic state and its snapshots.
//!
//! The host checkpoints an analytic as entries, one per key, packed into one
//! byte list of state frames ([`dumpwatch_frames`]), and merges `changes`
//! snapshots into the last `full` one by key (a `none` value deletes the
//! key). This module gives that shape a structure:
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
//!   state is one flat map;
//! - interned names ([`Sym`](crate::intern::Sym)) in values are written by
//!   serial, with the table of the names used stored once per snapshot
//!   (see [`crate::names`]). A full snapshot's table is the meta entry
//!   `names`; a `changes` snapshot's is `names/N`, numbered on from every
//!   table the instance wrote or restored, and each value starts with the
//!   number of its table (0 for `names`). The host merges `changes`
//!   entries over the full snapshot's by key and never drops a meta entry
//!   until the next full snapshot, so every value finds its table. A
//!   million windows repeat a few thousand host, user and program names:
//!   the tables make a full snapshot and a `changes` snapshot about a
//!   quarter smaller than names as text, and a restore resolves names by index
//!   instead of hashing their text. Keys always hold names as text, so
//!   the same key has the same bytes in every snapshot and later changes
//!   replace it;
//! - values are encoded with serde and postcard ([`SnapshotWriter::put`]),
//!   or, for the values an analytic holds by the million (windows and
//!   their evidence), with the hand-written [`Pack`] encoding
//!   ([`SnapshotWriter::put_packed`], [`SnapshotReader::for_each_packed`]):
//!   same frames, keys, table numbers and names by serial, about a quarter
//!   less time to encode inside a component.

use std::cell::Cell;
use std::hash::Hash;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use dumpwatch_frames::{Frame, frames};

use crate::codec::{self, CodecError};
use crate::collections::{Map, Set, new_map, new_set};
use crate::names::{NameCoding, NameTable, NamesUsed};
use crate::pack::{Pack, Packer, UnpackKey, Unpacker};
use crate::types::SnapshotMode;

mod parts;
pub use parts::{PartEntry, SnapshotParts};

/// The meta space.
const META: u8 = 0;
/// Name of the meta entry that holds the state format.
const FORMAT: &str = "format";
/// Name of the meta entry that holds a full snapshot's table of names;
/// a `changes` snapshot's is `names/N`.
const NAMES: &str = "names";

thread_local! {
    /// The number the next `changes` snapshot gives its table of names:
    /// above every table this instance wrote or restored, so a new table
    /// never replaces one that merged entries still refer to.
    static NEXT_TABLE: Cell<u32> = const { Cell::new(1) };

    /// Where the first [`SnapshotWriter`] made during the component's
    /// `snapshot` call hands its frames over in parts ([`in_parts`]).
    static PART_SINK: Cell<Option<PartSink>> = const { Cell::new(None) };
}

/// Where a snapshot's parts go: the host's `state-part` in a component.
pub type PartSink = fn(&[u8]);

/// About how many bytes of frames a [`SnapshotWriter`] holds before it
/// hands them over, when it does ([`in_parts`]).
pub const PART_BYTES: usize = 4 << 20;

/// Run `snapshot` with the first [`SnapshotWriter`] it makes handing its
/// frames to `sink` whenever it holds [`PART_BYTES`] or more, so the
/// frames of a large state are never all in memory at once. What the
/// writer still holds at the end is what it returns. The component's
/// `snapshot` export runs the analytic's snapshot this way with
/// `host.state-part` as the sink ([`crate::export_analytic!`]); a writer
/// made outside it, natively for one, keeps everything.
///
/// Only the first writer hands over, so a snapshot assembled from the
/// frames of several writers stays whole frames in each part; every frame
/// is an entry by key, so their order does not matter to a restore.
pub fn in_parts<R>(sink: PartSink, snapshot: impl FnOnce() -> R) -> R {
    PART_SINK.with(|slot| slot.set(Some(sink)));
    let result = snapshot();
    PART_SINK.with(|slot| slot.set(None));
    result
}

/// `bytes` read by `read`, which must take all of them.
fn whole<'a, T>(
    bytes: &'a [u8],
    names: &'a NameTable,
    read: impl FnOnce(&mut Unpacker<'a>) -> Result<T, crate::pack::PackError>,
) -> Result<T, String> {
    let mut input = Unpacker::new(bytes, names);
    let value = read(&mut input).map_err(|err| err.to_string())?;
    match input.remaining() {
        0 => Ok(value),
        n => Err(format!("{n} unexpected trailing bytes")),
    }
}

/// The meta name of table `number`.
fn table_name(number: u32) -> String {
    match number {
        0 => NAMES.to_string(),
        n => format!("{NAMES}/{n}"),
    }
}

/// The number of the table of names that meta entry `name` holds, if it
/// is one.
fn table_number(name: &[u8]) -> Option<u32> {
    if name == NAMES.as_bytes() {
        return Some(0);
    }
    let number = name.strip_prefix(NAMES.as_bytes())?.strip_prefix(b"/")?;
    std::str::from_utf8(number)
        .ok()?
        .parse()
        .ok()
        .filter(|&n| n > 0)
}

/// Refuse a snapshot whose format entry is missing or another than
/// `format`.
fn check_format(found: Option<String>, format: &str) -> Result<(), String> {
    match found {
        Some(found) if found == format => Ok(()),
        Some(found) => Err(format!(
            "incompatible state format: the snapshot holds {found:?}, this analytic reads {format:?}"
        )),
        None => Err(format!(
            "incompatible state: the snapshot has no format entry (expected {format:?})"
        )),
    }
}

/// Decode table of names `number` from its meta value (`None`, a deleted
/// entry: an empty table) into `tables`, in place of one of the same
/// number.
fn add_table(
    tables: &mut Vec<(u32, Rc<NameTable>)>,
    number: u32,
    value: Option<&[u8]>,
) -> Result<(), String> {
    let pairs: Vec<(u32, String)> = match value {
        Some(value) => {
            codec::decode(value).map_err(|err| format!("table of names #{number}: {err}"))?
        }
        None => Vec::new(),
    };
    let table = NameTable::new(pairs).map_err(|err| format!("#{number}: {err}"))?;
    tables.retain(|(n, _)| *n != number);
    tables.push((number, Rc::new(table)));
    Ok(())
}

/// Number the tables written from now on after every one of `tables`.
fn number_tables_after(tables: &[(u32, Rc<NameTable>)]) {
    let last = tables.iter().map(|(n, _)| *n).max().unwrap_or(0);
    NEXT_TABLE.with(|next| next.set(next.get().max(last.saturating_add(1))));
}

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

/// Builds the frames of a snapshot.
pub struct SnapshotWriter {
    frames: Vec<u8>,
    /// Scratch buffers for one key and one value: each is encoded here
    /// first, since a frame starts with its length.
    key: Vec<u8>,
    value: Vec<u8>,
    /// The number of this snapshot's table of names (0 for a full one).
    table: u32,
    /// The names written by serial so far.
    names: NameCoding,
    /// Whether a value was written: its number then names a table, which
    /// must exist even when no value used a name.
    wrote_values: bool,
    /// Whether the table of names was written already (a full snapshot's
    /// comes first).
    table_written: bool,
    /// Where the frames go in parts, if they do ([`in_parts`]).
    sink: Option<PartSink>,
    /// Bytes of frames handed over in parts so far.
    handed: usize,
    errors: Vec<CodecError>,
}

impl SnapshotWriter {
    /// Start a `mode` snapshot of state in `format` (for example
    /// `"an0676/1"`; change it whenever the encoding of any entry changes).
    pub fn new(format: &str, mode: SnapshotMode) -> SnapshotWriter {
        let table = match mode {
            SnapshotMode::Full => 0,
            SnapshotMode::Changes => NEXT_TABLE.with(|next| {
                let number = next.get();
                next.set(number.saturating_add(1));
                number
            }),
        };
        let mut writer = SnapshotWriter {
            frames: Vec::new(),
            key: Vec::new(),
            value: Vec::new(),
            table,
            names: NameCoding::Serial(NamesUsed::default()),
            wrote_values: false,
            table_written: false,
            sink: PART_SINK.with(Cell::take),
            handed: 0,
            errors: Vec::new(),
        };
        writer.meta(FORMAT, format);
        if mode == SnapshotMode::Full {
            // A full snapshot's table comes first, so a restore in parts
            // decodes each value as it comes (`parts`): every name a value
            // can hold is interned, so the table of every interned name
            // holds them all.
            crate::intern::with_interned(|names| writer.meta(NAMES, names));
            writer.table_written = true;
        }
        writer
    }

    /// Reserve room for about `bytes` more bytes of frames (a full snapshot
    /// of a large state then grows its buffer once).
    pub fn reserve(&mut self, bytes: usize) {
        let bytes = match self.sink {
            // A part ends with the frame that fills it: room for a frame
            // more, so the buffer does not grow (copy) at the end.
            Some(_) => bytes.min(PART_BYTES + PART_BYTES / 8),
            None => bytes,
        };
        self.frames.reserve(bytes);
    }

    /// Write the key buffer's frame, with the value buffer or as a
    /// deletion; hand the frames over once they are a part.
    fn frame(&mut self, deletion: bool) {
        let value = (!deletion).then_some(self.value.as_slice());
        dumpwatch_frames::put(&mut self.frames, &self.key, value);
        if let Some(sink) = self.sink
            && self.frames.len() >= PART_BYTES
        {
            sink(&self.frames);
            self.handed = self.handed.saturating_add(self.frames.len());
            self.frames.clear();
        }
    }

    /// Bytes of frames written so far, handed over in parts or not.
    pub fn written(&self) -> usize {
        self.handed.saturating_add(self.frames.len())
    }

    /// Write meta entry `name`.
    pub fn meta<V: Serialize + ?Sized>(&mut self, name: &str, value: &V) {
        self.key.clear();
        self.key.push(META);
        self.key.extend_from_slice(name.as_bytes());
        self.value.clear();
        match codec::encode_into(value, &mut self.value) {
            Ok(()) => self.frame(false),
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
        let Some(value) = self.key_or_deletion(space, key, value) else {
            return;
        };
        let out = &mut self.value;
        let tagged = (self.table, value);
        match self.names.scope(|| codec::encode_into(&tagged, out)) {
            Ok(()) => self.frame(false),
            Err(err) => self.errors.push(err),
        }
    }

    /// [`SnapshotWriter::put`] for a value with a hand-written encoding
    /// ([`Pack`]): the same frame, key and table number, the value packed.
    /// A reader decodes it with [`SnapshotReader::for_each_packed`].
    pub fn put_packed<K: Serialize + ?Sized, V: Pack>(
        &mut self,
        space: u8,
        key: &K,
        value: Option<&V>,
    ) {
        let Some(value) = self.key_or_deletion(space, key, value) else {
            return;
        };
        // Only `finish` changes the coding, and it consumes the writer.
        let NameCoding::Serial(used) = &mut self.names else {
            return;
        };
        let mut out = Packer::new(&mut self.value, used);
        out.u64(u64::from(self.table));
        value.pack(&mut out);
        self.frame(false);
    }

    /// Encode `key` in `space` into the key buffer. Without a value, write
    /// the key's deletion and return `None`; with one, clear the value
    /// buffer for it and return it. A key that cannot be encoded is
    /// recorded as an error and `None` returned.
    fn key_or_deletion<'v, K: Serialize + ?Sized, V: ?Sized>(
        &mut self,
        space: u8,
        key: &K,
        value: Option<&'v V>,
    ) -> Option<&'v V> {
        debug_assert_ne!(space, META, "space 0 is reserved for meta entries");
        self.key.clear();
        self.key.push(space);
        if let Err(err) = codec::encode_into(key, &mut self.key) {
            self.errors.push(err);
            return None;
        }
        let Some(value) = value else {
            self.frame(true);
            return None;
        };
        self.value.clear();
        self.wrote_values = true;
        Some(value)
    }

    /// The frames, and the encoding errors of entries left out (should be
    /// none; an analytic logs them). A `changes` snapshot's end with the
    /// table of the names its values used (none without values); a full
    /// one's table came first.
    pub fn finish(mut self) -> (Vec<u8>, Vec<CodecError>) {
        if let NameCoding::Serial(used) = std::mem::replace(&mut self.names, NameCoding::Text)
            && !self.table_written
            && (self.table == 0 || self.wrote_values)
        {
            self.meta(&table_name(self.table), &used.table());
        }
        (self.frames, self.errors)
    }
}

/// Reads the frames of a snapshot (full, or merged from several).
pub struct SnapshotReader {
    frames: Vec<u8>,
    /// The meta entries: (name, value) as byte ranges of `frames`.
    meta: Vec<(std::ops::Range<usize>, Option<std::ops::Range<usize>>)>,
    /// The tables of names, by number: serials in values are resolved
    /// through the table their value names.
    tables: Vec<(u32, Rc<NameTable>)>,
}

impl SnapshotReader {
    /// Check the framing, the format entry and the tables of names, and
    /// keep the frames. An empty list is a valid empty state; a list
    /// without a format entry, or with another format, is rejected.
    pub fn open(frames: Vec<u8>, format: &str) -> Result<SnapshotReader, String> {
        let mut meta = Vec::new();
        let start = frames.as_ptr() as usize;
        let range = |part: &[u8]| {
            let from = part.as_ptr() as usize - start;
            from..from + part.len()
        };
        for frame in dumpwatch_frames::frames(&frames) {
            let frame = frame.map_err(|err| err.to_string())?;
            if let Some((&META, name)) = frame.key.split_first() {
                meta.push((range(name), frame.value.map(range)));
            }
        }
        let mut reader = SnapshotReader {
            frames,
            meta,
            tables: Vec::new(),
        };
        if reader.frames.is_empty() {
            return Ok(reader);
        }
        check_format(reader.meta::<String>(FORMAT)?, format)?;
        for (name, value) in &reader.meta {
            let Some(number) = table_number(&reader.frames[name.clone()]) else {
                continue;
            };
            let value = value.clone().map(|value| &reader.frames[value]);
            add_table(&mut reader.tables, number, value)?;
        }
        number_tables_after(&reader.tables);
        Ok(reader)
    }

    /// The frames; [`SnapshotReader::open`] checked that they parse.
    fn frames(&self) -> impl Iterator<Item = Frame<'_>> {
        frames(&self.frames).filter_map(Result::ok)
    }

    /// Decode meta entry `name`, if present (the last one, as the host's
    /// merge would keep).
    pub fn meta<V: DeserializeOwned>(&self, name: &str) -> Result<Option<V>, String> {
        let entry = self
            .meta
            .iter()
            .rev()
            .find(|(key, _)| &self.frames[key.clone()] == name.as_bytes());
        match entry.and_then(|(_, value)| value.clone()) {
            None => Ok(None),
            Some(value) => codec::decode(&self.frames[value])
                .map(Some)
                .map_err(|err| format!("state entry {name:?}: {err}")),
        }
    }

    /// Decode every present entry of `space` in turn, handing each to
    /// `each`; deleted (`none`) entries are skipped. The first undecodable
    /// entry is an error. A key may borrow from the snapshot (`&str` for
    /// a name, which the analytic can then look up only when it differs
    /// from the last one).
    pub fn for_each<'a, K: Deserialize<'a>, V: DeserializeOwned>(
        &'a self,
        space: u8,
        mut each: impl FnMut(K, V),
    ) -> Result<(), String> {
        // The coding of the last table used: consecutive values almost
        // always share one.
        let mut current: Option<(u32, NameCoding)> = None;
        for entry in self.values(space) {
            let (key, number, value) = entry?;
            let key: K =
                codec::decode(key).map_err(|err| format!("state key in space {space}: {err}"))?;
            let names = match &mut current {
                Some((n, names)) if *n == number => names,
                _ => {
                    let table = self.table(space, number)?;
                    &mut current
                        .insert((number, NameCoding::Lookup(table.clone())))
                        .1
                }
            };
            let value: V = names.scope(|| codec::decode(value)).map_err(|err| {
                let missing = match names {
                    NameCoding::Lookup(table) => table.take_missing(),
                    _ => None,
                };
                match missing {
                    Some(serial) => format!(
                        "state value in space {space}: name #{serial} is not in the snapshot's table of names"
                    ),
                    None => format!("state value in space {space}: {err}"),
                }
            })?;
            each(key, value);
        }
        Ok(())
    }

    /// [`SnapshotReader::for_each`] for values written with
    /// [`SnapshotWriter::put_packed`]. Keys are read without serde, from
    /// the same bytes ([`UnpackKey`]).
    pub fn for_each_packed<'a, K: UnpackKey<'a>, V: Pack>(
        &'a self,
        space: u8,
        mut each: impl FnMut(K, V),
    ) -> Result<(), String> {
        let mut current: Option<(u32, &NameTable)> = None;
        for entry in self.values(space) {
            let (key, number, value) = entry?;
            let names = match current {
                Some((n, names)) if n == number => names,
                _ => current.insert((number, self.table(space, number)?)).1,
            };
            let key = whole(key, names, K::unpack_key)
                .map_err(|err| format!("state key in space {space}: {err}"))?;
            let value = whole(value, names, V::unpack)
                .map_err(|err| format!("state value in space {space}: {err}"))?;
            each(key, value);
        }
        Ok(())
    }

    /// The present entries of `space`: each key's bytes, the number of the
    /// table of names its value was written with, and the value's bytes
    /// after that number.
    fn values<'a>(
        &'a self,
        space: u8,
    ) -> impl Iterator<Item = Result<(&'a [u8], u32, &'a [u8]), String>> + 'a {
        self.frames().filter_map(move |frame| {
            let (Some((&first, key)), Some(value)) = (frame.key.split_first(), frame.value) else {
                return None;
            };
            if first != space {
                return None;
            }
            let entry = postcard::take_from_bytes::<u32>(value)
                .map(|(number, value)| (key, number, value))
                .map_err(|err| format!("state value in space {space}: {err}"));
            Some(entry)
        })
    }

    /// Table of names `number`.
    fn table(&self, space: u8, number: u32) -> Result<&Rc<NameTable>, String> {
        self.tables
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, table)| table)
            .ok_or_else(|| {
                format!(
                    "state value in space {space}: table of names #{number} is not in the snapshot"
                )
            })
    }

    /// Decode every present entry of `space`; see [`SnapshotReader::for_each`].
    pub fn entries<K: DeserializeOwned, V: DeserializeOwned>(
        &self,
        space: u8,
    ) -> Result<Vec<(K, V)>, String> {
        let mut out = Vec::new();
        self.for_each(space, |key, value| out.push((key, value)))?;
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
    use crate::intern::Sym;

    fn snapshot(store: &mut KeyedStore<String, u32>, mode: SnapshotMode) -> Vec<u8> {
        let mut writer = SnapshotWriter::new("test/1", mode);
        store.snapshot_into(&mut writer, 1, mode);
        let (entries, errors) = writer.finish();
        assert!(errors.is_empty());
        entries
    }

    fn user_entries(entries: &[u8]) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut out: Vec<_> = frames(entries)
            .map(Result::unwrap)
            .filter(|e| e.key[0] != 0)
            .map(|e| (e.key.to_vec(), e.value.map(<[u8]>::to_vec)))
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
        assert_eq!(
            deleted[0].0,
            [&[1u8][..], &codec::encode("c").unwrap()].concat()
        );
    }

    thread_local! {
        /// What the test sink of [`in_parts`] was handed.
        static HANDED: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    fn sink(part: &[u8]) {
        HANDED.with(|handed| handed.borrow_mut().push(part.to_vec()));
    }

    #[test]
    fn a_snapshot_in_parts_hands_over_whole_frames_that_join_into_the_whole() {
        let mut store: KeyedStore<String, String> = KeyedStore::new();
        // About 15 MB of frames: three parts and the rest.
        for k in 0..60_000 {
            store.insert(format!("key-{k}"), "v".repeat(k % 500));
        }
        let written = Cell::new(0);
        let write = |store: &mut KeyedStore<String, String>| {
            let mut writer = SnapshotWriter::new("test/1", SnapshotMode::Full);
            writer.reserve(64 << 20);
            if writer.sink.is_some() {
                // Room for a part, not for the whole snapshot.
                assert!(writer.frames.capacity() < 2 * PART_BYTES);
            }
            store.snapshot_into(&mut writer, 1, SnapshotMode::Full);
            // A second writer in the same snapshot keeps its frames.
            let mut second = SnapshotWriter::new("test/1", SnapshotMode::Full);
            store.snapshot_into(&mut second, 1, SnapshotMode::Full);
            written.set(writer.written());
            let (rest, errors) = writer.finish();
            assert!(errors.is_empty());
            (rest, second.finish().0)
        };
        let (whole, _) = write(&mut store);
        let (rest, second) = in_parts(sink, || write(&mut store));
        let mut parts = HANDED.with(|handed| handed.take());
        assert!(parts.len() >= 2, "{} parts", parts.len());
        for part in &parts {
            assert!(part.len() >= PART_BYTES, "only the last part is short");
            assert!(part.len() < PART_BYTES + 1024, "a frame over the size");
            assert!(frames(part).all(|frame| frame.is_ok()));
        }
        parts.push(rest);
        assert_eq!(parts.concat(), whole, "the parts joined are the whole");
        assert_eq!(written.get(), whole.len(), "written() counts the parts");
        assert_eq!(second, whole, "the second writer handed nothing over");
        // Outside `in_parts`, a writer keeps everything again.
        let (after, _) = write(&mut store);
        assert_eq!(after, whole);
        assert!(HANDED.with(|handed| handed.borrow().is_empty()));
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
        let mut stray = Vec::new();
        dumpwatch_frames::put(&mut stray, &[1, 1, b'x'], Some(&[7]));
        assert!(SnapshotReader::open(stray, "test/1").is_err());
        assert!(SnapshotReader::open(Vec::new(), "test/1").is_ok());
    }

    #[test]
    fn truncated_frames_are_rejected_with_their_offset() {
        let mut store = KeyedStore::new();
        store.insert("x".to_string(), 7);
        let mut entries = snapshot(&mut store, SnapshotMode::Full);
        entries.pop();
        let err = SnapshotReader::open(entries, "test/1").err().unwrap();
        assert!(
            err.contains("state frame at byte") && err.contains("truncated"),
            "{err}"
        );
    }

    #[test]
    fn undecodable_value_is_an_error() {
        let mut writer = SnapshotWriter::new("test/1", SnapshotMode::Full);
        writer.put(1, "k", Some(&String::from("not a number")));
        let (entries, _) = writer.finish();
        // Give the value a length its bytes do not have, so it no longer
        // decodes as a string.
        let mut broken = Vec::new();
        for frame in frames(&entries) {
            let frame = frame.unwrap();
            let value = if frame.key[0] == 1 {
                Some(&[200u8][..])
            } else {
                frame.value
            };
            dumpwatch_frames::put(&mut broken, frame.key, value);
        }
        let entries = broken;
        let reader = SnapshotReader::open(entries, "test/1").unwrap();
        assert!(reader.entries::<String, String>(1).is_err());
    }

    type Named = KeyedStore<(Sym, u32), Vec<Sym>>;
    type NamedEntries = Vec<((Sym, u32), Vec<Sym>)>;

    fn named_snapshot(store: &mut Named, mode: SnapshotMode) -> Vec<u8> {
        let mut writer = SnapshotWriter::new("names/1", mode);
        store.snapshot_into(&mut writer, 1, mode);
        let (entries, errors) = writer.finish();
        assert!(errors.is_empty());
        entries
    }

    fn restored(frames: Vec<u8>) -> Result<NamedEntries, String> {
        let mut entries = SnapshotReader::open(frames, "names/1")?.entries(1)?;
        entries.sort_by_key(|((_, n), _)| *n);
        Ok(entries)
    }

    /// 100 entries, each naming the same two programs and its own host.
    fn named_store() -> Named {
        let mut store = Named::new();
        for n in 0..100 {
            let host = Sym::new(&format!("names-test-host-{}", n % 10));
            let programs = vec![Sym::new("names-test-pg_dump"), Sym::new("names-test-bash")];
            store.insert((host, n), programs);
        }
        store
    }

    #[test]
    fn a_full_snapshot_writes_each_name_once() {
        let mut store = named_store();
        let full = named_snapshot(&mut store, SnapshotMode::Full);
        let text = |needle: &str| {
            full.windows(needle.len())
                .filter(|w| *w == needle.as_bytes())
                .count()
        };
        // In the table only: values refer to it by serial.
        assert_eq!(text("names-test-pg_dump"), 1);
        assert_eq!(text("names-test-bash"), 1);
        // Keys keep their text, one per entry, and the table (which holds
        // every interned name) has it once more.
        assert_eq!(text("names-test-host-3"), 11);
        let back = restored(full).unwrap();
        assert_eq!(back.len(), 100);
        for ((host, n), programs) in &back {
            assert_eq!(host.as_str(), format!("names-test-host-{}", n % 10));
            assert_eq!(programs[0], Sym::new("names-test-pg_dump"));
            assert_eq!(programs[1].as_str(), "names-test-bash");
        }
    }

    /// What the host's store reads back: `base` with the entries of each
    /// of `changes` merged over it in turn (the last entry of a key wins,
    /// meta entries included; deletions drop the key).
    fn merged(base: &[u8], changes: &[&[u8]]) -> Vec<u8> {
        let mut entries: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
        for snapshot in std::iter::once(base).chain(changes.iter().copied()) {
            for frame in frames(snapshot).map(Result::unwrap) {
                let value = frame.value.map(<[u8]>::to_vec);
                match entries.iter_mut().find(|(key, _)| key == frame.key) {
                    Some(entry) => entry.1 = value,
                    None => entries.push((frame.key.to_vec(), value)),
                }
            }
        }
        let mut out = Vec::new();
        for (key, value) in &entries {
            if value.is_some() {
                dumpwatch_frames::put(&mut out, key, value.as_deref());
            }
        }
        out
    }

    /// Add `program` to entry `n` of `store`.
    fn add_program(store: &mut Named, n: u32, program: &str) {
        let host = Sym::new(&format!("names-test-host-{}", n % 10));
        store.get_mut(&(host, n)).unwrap().push(Sym::new(program));
    }

    fn programs_of(back: &NamedEntries, n: u32) -> Vec<&str> {
        let entry = back.iter().find(|((_, m), _)| *m == n).unwrap();
        entry.1.iter().map(Sym::as_str).collect()
    }

    #[test]
    fn changes_merged_over_a_full_snapshot_decode_both_ways() {
        let mut store = named_store();
        let full = named_snapshot(&mut store, SnapshotMode::Full);
        add_program(&mut store, 7, "names-test-new-program");
        add_program(&mut store, 5, "names-test-new-program");
        store.remove(&(Sym::new("names-test-host-8"), 8));
        let changes = named_snapshot(&mut store, SnapshotMode::Changes);
        let count = |needle: &[u8]| {
            changes
                .windows(needle.len())
                .filter(|w| *w == needle)
                .count()
        };
        // Two changed entries use each program: its text is written once,
        // in the changes snapshot's own table.
        assert_eq!(count(b"names-test-bash"), 1);
        assert_eq!(count(b"names-test-new-program"), 1);
        let back = restored(merged(&full, &[&changes])).unwrap();
        assert_eq!(back.len(), 99);
        let grown = [
            "names-test-pg_dump",
            "names-test-bash",
            "names-test-new-program",
        ];
        assert_eq!(programs_of(&back, 7), grown);
        assert_eq!(programs_of(&back, 5), grown);
        assert_eq!(programs_of(&back, 6), grown[..2]);
        assert!(back.iter().all(|((_, n), _)| *n != 8));
    }

    #[test]
    fn tables_of_changes_after_a_restore_do_not_replace_older_ones() {
        let mut store = named_store();
        let full = named_snapshot(&mut store, SnapshotMode::Full);
        add_program(&mut store, 1, "names-test-first-change");
        let first = named_snapshot(&mut store, SnapshotMode::Changes);
        // A restart: the stored state is restored into a new instance,
        // which numbers its tables on from the ones it restored.
        let stored = merged(&full, &[&first]);
        NEXT_TABLE.with(|next| next.set(1));
        let mut again = Named::new();
        again
            .restore_from(&SnapshotReader::open(stored.clone(), "names/1").unwrap(), 1)
            .unwrap();
        add_program(&mut again, 2, "names-test-second-change");
        let second = named_snapshot(&mut again, SnapshotMode::Changes);
        let tables = |snapshot: &[u8]| -> Vec<Vec<u8>> {
            frames(snapshot)
                .map(Result::unwrap)
                .filter(|f| f.key[0] == META && table_number(&f.key[1..]).is_some_and(|n| n > 0))
                .map(|f| f.key.to_vec())
                .collect()
        };
        let (old, new) = (tables(&first), tables(&second));
        assert_eq!(old.len(), 1);
        assert_eq!(new.len(), 1);
        assert_ne!(old, new, "the second table must not replace the first");
        let back = restored(merged(&full, &[&first, &second])).unwrap();
        assert_eq!(
            programs_of(&back, 1),
            [
                "names-test-pg_dump",
                "names-test-bash",
                "names-test-first-change"
            ]
        );
        assert_eq!(
            programs_of(&back, 2),
            [
                "names-test-pg_dump",
                "names-test-bash",
                "names-test-second-change"
            ]
        );
    }

    /// `stored` read by [`SnapshotParts`] in parts of `every` frames; with
    /// `meta_last`, the meta entries come after every value (the order of
    /// full snapshots written before their table came first).
    fn restored_in_parts(
        stored: &[u8],
        every: usize,
        meta_last: bool,
    ) -> Result<NamedEntries, String> {
        let all: Vec<Frame<'_>> = frames(stored).map(Result::unwrap).collect();
        let (meta, values): (Vec<Frame<'_>>, Vec<Frame<'_>>) =
            all.iter().partition(|frame| frame.key[0] == META);
        let ordered: Vec<Frame<'_>> = if meta_last {
            values.into_iter().chain(meta).collect()
        } else {
            all
        };
        let mut reader = SnapshotParts::new("names/1");
        let mut out: NamedEntries = Vec::new();
        let mut each = |entry: PartEntry<'_>| -> Result<(), String> {
            if entry.space() == 1 {
                out.push(entry.decoded()?);
            }
            Ok(())
        };
        for chunk in ordered.chunks(every) {
            let mut part = Vec::new();
            for frame in chunk {
                dumpwatch_frames::put(&mut part, frame.key, frame.value);
            }
            reader.part(&part, &mut each)?;
        }
        reader.finish(&mut each)?;
        out.sort_by_key(|((_, n), _)| *n);
        Ok(out)
    }

    /// `stored` without its meta entry `name`.
    fn without_meta(stored: &[u8], name: &str) -> Vec<u8> {
        let key = [&[META][..], name.as_bytes()].concat();
        let mut out = Vec::new();
        for frame in frames(stored).map(Result::unwrap) {
            if frame.key != key {
                dumpwatch_frames::put(&mut out, frame.key, frame.value);
            }
        }
        out
    }

    #[test]
    fn a_snapshot_in_parts_restores_what_it_does_whole_in_any_order() {
        let mut store = named_store();
        let full = named_snapshot(&mut store, SnapshotMode::Full);
        // A full snapshot's table of names comes right after its format,
        // so the values after it decode as they come.
        let first: Vec<Vec<u8>> = frames(&full)
            .take(2)
            .map(|frame| frame.unwrap().key.to_vec())
            .collect();
        assert_eq!(
            first,
            [
                [&[META][..], FORMAT.as_bytes()].concat(),
                [&[META][..], NAMES.as_bytes()].concat()
            ]
        );
        add_program(&mut store, 7, "names-test-parts-program");
        store.remove(&(Sym::new("names-test-host-8"), 8));
        let changes = named_snapshot(&mut store, SnapshotMode::Changes);
        for stored in [full.clone(), merged(&full, &[&changes])] {
            let whole = restored(stored.clone()).unwrap();
            assert!(whole.len() >= 99);
            for every in [1, 7, 1000] {
                for meta_last in [false, true] {
                    assert_eq!(
                        restored_in_parts(&stored, every, meta_last).unwrap(),
                        whole,
                        "parts of {every} frames, meta last: {meta_last}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_snapshot_in_parts_refuses_what_a_whole_one_does() {
        let mut store = named_store();
        let full = named_snapshot(&mut store, SnapshotMode::Full);
        let err = SnapshotParts::new("names/2")
            .part(&full, &mut |_| Ok(()))
            .unwrap_err();
        assert!(err.contains("incompatible state format"), "{err}");
        // Nothing is decoded before the format entry, and a snapshot
        // without one is refused at the end.
        let mut reader = SnapshotParts::new("names/1");
        reader
            .part(&without_meta(&full, FORMAT), &mut |_| {
                Err("decoded before the format".into())
            })
            .unwrap();
        let err = reader.finish(&mut |_| Ok(())).unwrap_err();
        assert!(err.contains("no format entry"), "{err}");
        let err = restored_in_parts(&without_meta(&full, NAMES), 5, false).unwrap_err();
        assert!(
            err.contains("table of names #0 is not in the snapshot"),
            "{err}"
        );
        // No entries at all are an empty state.
        SnapshotParts::new("names/1")
            .finish(&mut |_| Err("no entry".into()))
            .unwrap();
        let err = SnapshotParts::new("names/1")
            .part(&full[..full.len() - 1], &mut |_| Ok(()))
            .unwrap_err();
        assert!(err.contains("state frame"), "{err}");
    }

    #[test]
    fn changes_whose_values_hold_no_name_restore() {
        // Neither keys nor values hold a `Sym`: the changes snapshot's
        // table is empty, but its values name it and it must be there.
        let mut store = KeyedStore::new();
        store.insert("a".to_string(), 10);
        store.insert("b".to_string(), 20);
        let full = snapshot(&mut store, SnapshotMode::Full);
        store.insert("b".to_string(), 21);
        store.insert("c".to_string(), 30);
        let changes = snapshot(&mut store, SnapshotMode::Changes);
        let nothing = snapshot(&mut store, SnapshotMode::Changes);
        let merged = merged(&full, &[&changes, &nothing]);
        let reader = SnapshotReader::open(merged, "test/1").unwrap();
        let mut back: Vec<(String, u32)> = reader.entries(1).unwrap();
        back.sort();
        assert_eq!(back, [("a".into(), 10), ("b".into(), 21), ("c".into(), 30)]);
    }

    #[test]
    fn a_missing_table_or_serial_is_an_error() {
        let mut store = named_store();
        let full = named_snapshot(&mut store, SnapshotMode::Full);
        let names_key = [&[META][..], NAMES.as_bytes()].concat();
        let mut without = Vec::new();
        let mut emptied = Vec::new();
        for frame in frames(&full).map(Result::unwrap) {
            if frame.key == names_key {
                let empty = codec::encode(&Vec::<(u32, String)>::new()).unwrap();
                dumpwatch_frames::put(&mut emptied, frame.key, Some(&empty));
            } else {
                dumpwatch_frames::put(&mut without, frame.key, frame.value);
                dumpwatch_frames::put(&mut emptied, frame.key, frame.value);
            }
        }
        let err = restored(without).unwrap_err();
        assert!(
            err.contains("table of names #0 is not in the snapshot"),
            "{err}"
        );
        let err = restored(emptied).unwrap_err();
        assert!(
            err.contains("is not in the snapshot's table of names"),
            "{err}"
        );
    }

    #[test]
    fn a_swept_names_serial_is_reused_and_snapshots_stay_consistent() {
        let swept = Sym::new("names-test-swept");
        let freed = swept.serial();
        drop(swept);
        crate::intern::sweep();
        // The next new name takes the freed serial; the table must map it
        // to the new text, not the swept one.
        let reused = Sym::new("names-test-reused");
        assert_eq!(reused.serial(), freed);
        let mut store = Named::new();
        store.insert((Sym::new("names-test-after-sweep"), 1), vec![reused]);
        let back = restored(named_snapshot(&mut store, SnapshotMode::Full)).unwrap();
        assert_eq!(back[0].1[0].as_str(), "names-test-reused");
    }

    /// Packed values (windows' evidence) go through a full snapshot and
    /// `changes` merged over it, each with its own table of names, and
    /// come back whole; a damaged one is an error naming its space.
    #[test]
    fn packed_values_through_full_and_changes_snapshots() {
        use crate::evidence::{Detail, EvidenceLedger, StoredEvidence};
        let evidence = |n: u32, program: &str| StoredEvidence {
            leg: 0,
            class: 1,
            time: 1_700_000_000_000 + i64::from(n),
            source: Sym::new("packed-test-auditd"),
            id: format!("e{n}").into(),
            device: Some(Sym::new(&format!("packed-test-host-{}", n % 3))),
            user: None,
            pid: Some(n),
            detail: Detail::Process {
                name: Some(Sym::new(program)),
                path: None,
                command_line: Some("pg_dump -d crm".into()),
                parent_name: Some(Sym::new("packed-test-bash")),
            },
        };
        let ledger = |n: u32, program: &str| {
            let mut ledger = EvidenceLedger::new();
            let item = evidence(n, program);
            ledger.add(u64::from(n), 0, item.time, &item.id.clone(), 4, || item);
            ledger
        };
        let write = |mode, entries: &[(u32, Option<EvidenceLedger>)]| {
            let mut writer = SnapshotWriter::new("packed/1", mode);
            for (n, value) in entries {
                writer.put_packed(1, &format!("k{n}"), value.as_ref());
            }
            let (frames, errors) = writer.finish();
            assert!(errors.is_empty());
            frames
        };
        let full = write(
            SnapshotMode::Full,
            &(0..6)
                .map(|n| (n, Some(ledger(n, "packed-test-pg_dump"))))
                .collect::<Vec<_>>(),
        );
        // One entry changed (a name only this snapshot's table holds), one
        // deleted.
        let changes = write(
            SnapshotMode::Changes,
            &[(2, Some(ledger(2, "packed-test-mysqldump"))), (4, None)],
        );
        let reader = SnapshotReader::open(merged(&full, &[&changes]), "packed/1").unwrap();
        let mut back = Vec::new();
        reader
            .for_each_packed::<String, EvidenceLedger>(1, |key, value| back.push((key, value)))
            .unwrap();
        let keys: Vec<&str> = back.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["k0", "k1", "k2", "k3", "k5"]);
        for (key, value) in &back {
            let n: u32 = key[1..].parse().unwrap();
            let program = if n == 2 {
                "packed-test-mysqldump"
            } else {
                "packed-test-pg_dump"
            };
            assert_eq!(value, &ledger(n, program), "{key}");
        }

        // A value cut short.
        let mut damaged = Vec::new();
        for frame in frames(&full).map(Result::unwrap) {
            let value = match (frame.key.first(), frame.value) {
                (Some(1), Some(value)) => &value[..value.len() - 1],
                (_, value) => value.unwrap_or_default(),
            };
            dumpwatch_frames::put(&mut damaged, frame.key, Some(value));
        }
        let reader = SnapshotReader::open(damaged, "packed/1").unwrap();
        let err = reader
            .for_each_packed::<String, EvidenceLedger>(1, |_, _| {})
            .unwrap_err();
        assert_eq!(err, "state value in space 1: value ends early");
    }

    #[test]
    fn meta_round_trip() {
        let mut writer = SnapshotWriter::new("test/1", SnapshotMode::Changes);
        writer.meta("watermark", &-5i64);
        let (entries, _) = writer.finish();
        let reader = SnapshotReader::open(entries, "test/1").unwrap();
        assert_eq!(reader.meta::<i64>("watermark").unwrap(), Some(-5));
        assert_eq!(reader.meta::<i64>("absent").unwrap(), None);
    }
}
