//! Reading a snapshot handed over in parts (WIT `restore-begin`,
//! `restore-part`, `restore-end`), entry by entry as the parts come, so a
//! restore never holds the whole snapshot in the component's memory: for
//! a million windows that is 126 MB of fresh pages spared, and memory
//! that would stay with the instance for good.
//!
//! A value can be decoded once the snapshot's `format` entry and the table
//! of names it was written with have come. A full snapshot writes both
//! first ([`super::SnapshotWriter`]), and the host's merge keeps a changed
//! entry in the place of the full snapshot's, so nearly every entry is
//! decoded from the part it came in (a changed one may wait for its
//! `changes` snapshot's table, which comes after it). Entries that come before what they
//! need (a snapshot written before the tables came first) are kept and
//! decoded at the end: any order restores the same state.

use std::rc::Rc;

use dumpwatch_frames::{Frame, frames};
use serde::de::DeserializeOwned;

use super::{FORMAT, META, add_table, check_format, number_tables_after, table_number, whole};
use crate::codec;
use crate::names::{NameCoding, NameTable};
use crate::pack::{Pack, UnpackKey};

/// The state of a restore in parts; see the module docs.
pub struct SnapshotParts {
    format: String,
    /// Whether any frame came (an empty state needs no format entry).
    any: bool,
    /// Whether the format entry came (and matched).
    format_seen: bool,
    /// The meta entries so far (name, value), the last of each name.
    meta: Vec<(Vec<u8>, Vec<u8>)>,
    tables: Vec<(u32, Rc<NameTable>)>,
    /// Frames of entries that came before their table or the format.
    deferred: Vec<u8>,
}

/// One present entry of a snapshot, with the table of names its value
/// was written with.
pub struct PartEntry<'a> {
    space: u8,
    key: &'a [u8],
    names: &'a Rc<NameTable>,
    value: &'a [u8],
}

impl<'a> PartEntry<'a> {
    /// The entry's key space.
    pub fn space(&self) -> u8 {
        self.space
    }

    /// The key and the value of an entry written with
    /// [`super::SnapshotWriter::put_packed`].
    pub fn packed<K: UnpackKey<'a>, V: Pack>(&self) -> Result<(K, V), String> {
        let key = whole(self.key, self.names, K::unpack_key)
            .map_err(|err| format!("state key in space {}: {err}", self.space))?;
        let value = whole(self.value, self.names, V::unpack)
            .map_err(|err| format!("state value in space {}: {err}", self.space))?;
        Ok((key, value))
    }

    /// The key and the value of an entry written with
    /// [`super::SnapshotWriter::put`] (serde).
    pub fn decoded<K: DeserializeOwned, V: DeserializeOwned>(&self) -> Result<(K, V), String> {
        let space = self.space;
        let key: K =
            codec::decode(self.key).map_err(|err| format!("state key in space {space}: {err}"))?;
        let mut coding = NameCoding::Lookup(self.names.clone());
        let value: V = coding.scope(|| codec::decode(self.value)).map_err(|err| {
            match self.names.take_missing() {
                Some(serial) => format!(
                    "state value in space {space}: name #{serial} is not in the snapshot's table of names"
                ),
                None => format!("state value in space {space}: {err}"),
            }
        })?;
        Ok((key, value))
    }
}

impl SnapshotParts {
    /// Start reading a snapshot of state in `format`.
    pub fn new(format: &str) -> SnapshotParts {
        SnapshotParts {
            format: format.to_owned(),
            any: false,
            format_seen: false,
            meta: Vec::new(),
            tables: Vec::new(),
            deferred: Vec::new(),
        }
    }

    /// Take one part (whole frames): meta entries are kept, and every
    /// present entry whose table of names is known is handed to `each`;
    /// the others wait for [`SnapshotParts::finish`]. An error (frames
    /// that do not parse, another format, an entry `each` refuses) ends
    /// the restore.
    pub fn part(
        &mut self,
        bytes: &[u8],
        each: &mut dyn FnMut(PartEntry<'_>) -> Result<(), String>,
    ) -> Result<(), String> {
        for frame in frames(bytes) {
            let frame = frame.map_err(|err| err.to_string())?;
            self.any = true;
            let (Some((&space, key)), Some(value)) = (frame.key.split_first(), frame.value) else {
                continue;
            };
            if space == META {
                self.take_meta(key, value)?;
                continue;
            }
            if !self.format_seen {
                self.defer(frame);
                continue;
            }
            let (number, value) = table_of(space, value)?;
            match self.tables.iter().find(|(n, _)| *n == number) {
                Some((_, names)) => each(PartEntry {
                    space,
                    key,
                    names,
                    value,
                })?,
                None => self.defer(frame),
            }
        }
        Ok(())
    }

    /// After the last part: check that the snapshot had its format entry
    /// (unless it was empty), and hand the entries that waited to `each`.
    pub fn finish(
        &mut self,
        each: &mut dyn FnMut(PartEntry<'_>) -> Result<(), String>,
    ) -> Result<(), String> {
        if self.any && !self.format_seen {
            return Err(format!(
                "incompatible state: the snapshot has no format entry (expected {:?})",
                self.format
            ));
        }
        let deferred = std::mem::take(&mut self.deferred);
        for frame in frames(&deferred) {
            let frame = frame.map_err(|err| err.to_string())?;
            let (Some((&space, key)), Some(value)) = (frame.key.split_first(), frame.value) else {
                continue;
            };
            let (number, value) = table_of(space, value)?;
            let Some((_, names)) = self.tables.iter().find(|(n, _)| *n == number) else {
                return Err(format!(
                    "state value in space {space}: table of names #{number} is not in the snapshot"
                ));
            };
            each(PartEntry {
                space,
                key,
                names,
                value,
            })?;
        }
        number_tables_after(&self.tables);
        Ok(())
    }

    /// Decode meta entry `name`, if it came (the last one).
    pub fn meta<V: DeserializeOwned>(&self, name: &str) -> Result<Option<V>, String> {
        let entry = self.meta.iter().find(|(key, _)| key == name.as_bytes());
        match entry {
            None => Ok(None),
            Some((_, value)) => codec::decode(value)
                .map(Some)
                .map_err(|err| format!("state entry {name:?}: {err}")),
        }
    }

    fn take_meta(&mut self, name: &[u8], value: &[u8]) -> Result<(), String> {
        if name == FORMAT.as_bytes() {
            let found: String =
                codec::decode(value).map_err(|err| format!("state entry {FORMAT:?}: {err}"))?;
            check_format(Some(found), &self.format)?;
            self.format_seen = true;
        }
        if let Some(number) = table_number(name) {
            add_table(&mut self.tables, number, Some(value))?;
        }
        match self.meta.iter_mut().find(|(key, _)| key == name) {
            Some(entry) => entry.1 = value.to_vec(),
            None => self.meta.push((name.to_vec(), value.to_vec())),
        }
        Ok(())
    }

    fn defer(&mut self, frame: Frame<'_>) {
        dumpwatch_frames::put(&mut self.deferred, frame.key, frame.value);
    }
}

/// The number of the table of names a value was written with, and the
/// value after it.
fn table_of(space: u8, value: &[u8]) -> Result<(u32, &[u8]), String> {
    postcard::take_from_bytes::<u32>(value)
        .map_err(|err| format!("state value in space {space}: {err}"))
}
