//! Interned names in snapshot values.
//!
//! Outside a snapshot value (keys, meta entries, anything else) a [`Sym`]
//! is encoded as its text, like any string. Inside one it is the name's
//! serial ([`Sym::serial`]) into a table of names stored once with the
//! snapshot: a full snapshot stores every interned name first (so a
//! restore in parts decodes each value as it comes); a `changes` one
//! records the names it used ([`NamesUsed`]) and stores their table at the
//! end. A reader resolves serials through it ([`NameTable`]). Every snapshot, full or `changes`, stores its own
//! table under its own number, and each value says which table it was
//! written with (see [`crate::state`]): the host merges `changes` entries
//! over a full snapshot's, so an entry may only refer to a table that is
//! kept as long as the entry is. serde passes no context to `Serialize`,
//! so the [`state`](crate::state) writer and reader set the current
//! [`NameCoding`] around each value ([`NameCoding::scope`]).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde::de;
use serde::{Deserialize, Deserializer, Serializer};

use crate::intern::{Sym, recent};

/// [`Sym`]'s `Serialize`.
pub(crate) fn serialize<S: Serializer>(sym: &Sym, serializer: S) -> Result<S::Ok, S::Error> {
    match CODING.with(|coding| coding.borrow_mut().encode(sym)) {
        Encoded::Text => serializer.serialize_str(sym.as_str()),
        Encoded::Serial(serial) => serializer.serialize_u32(serial),
    }
}

/// [`Sym`]'s `Deserialize`.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Sym, D::Error> {
    let by_serial = CODING.with(|coding| !matches!(*coding.borrow(), NameCoding::Text));
    if by_serial {
        let serial = u32::deserialize(deserializer)?;
        // postcard drops custom messages: the table remembers the miss
        // for the reader's error.
        return CODING
            .with(|coding| coding.borrow().resolve(serial))
            .ok_or_else(|| de::Error::custom("a name is not in the snapshot's table of names"));
    }
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    Ok(recent(&text))
}

/// How [`Sym`]s are encoded and decoded at the moment (see the module
/// docs).
pub(crate) enum NameCoding {
    /// Plain text: outside snapshot values.
    Text,
    /// Encoding by serial.
    Serial(NamesUsed),
    /// Decoding, serials resolved through a snapshot's table.
    Lookup(Rc<NameTable>),
}

/// What [`NameCoding::encode`] tells the serializer to write.
enum Encoded {
    Text,
    Serial(u32),
}

impl NameCoding {
    fn encode(&mut self, sym: &Sym) -> Encoded {
        match self {
            // Nothing encodes a snapshot value while decoding one.
            NameCoding::Text | NameCoding::Lookup(_) => Encoded::Text,
            NameCoding::Serial(used) => {
                used.mark(sym);
                Encoded::Serial(sym.serial())
            }
        }
    }

    fn resolve(&self, serial: u32) -> Option<Sym> {
        match self {
            NameCoding::Lookup(table) => {
                let found = table.get(serial);
                if found.is_none() {
                    table.missing.set(Some(serial));
                }
                found
            }
            _ => None,
        }
    }

    /// Run `f` with `self` as the current coding, then put the previous one
    /// back (also when `f` panics).
    pub(crate) fn scope<R>(&mut self, f: impl FnOnce() -> R) -> R {
        struct Restore<'a>(&'a mut NameCoding);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                CODING.with(|coding| std::mem::swap(&mut *coding.borrow_mut(), self.0));
            }
        }
        CODING.with(|coding| std::mem::swap(&mut *coding.borrow_mut(), self));
        let _restore = Restore(self);
        f()
    }
}

thread_local! {
    static CODING: RefCell<NameCoding> = const { RefCell::new(NameCoding::Text) };
}

/// The names a snapshot wrote by serial.
#[derive(Default)]
pub(crate) struct NamesUsed {
    /// Bit per serial.
    seen: Vec<u64>,
    names: Vec<Sym>,
}

impl NamesUsed {
    pub(crate) fn mark(&mut self, sym: &Sym) {
        let serial = sym.serial() as usize;
        let (word, bit) = (serial / 64, 1u64 << (serial % 64));
        if word >= self.seen.len() {
            self.seen.resize(word + 1, 0);
        }
        if self.seen[word] & bit == 0 {
            self.seen[word] |= bit;
            self.names.push(sym.clone());
        }
    }

    /// The table to store: (serial, text), by serial.
    pub(crate) fn table(&self) -> Vec<(u32, &str)> {
        let mut table: Vec<(u32, &str)> = self
            .names
            .iter()
            .map(|sym| (sym.serial(), sym.as_str()))
            .collect();
        table.sort_unstable_by_key(|(serial, _)| *serial);
        table
    }
}

/// A snapshot's table of names, by the serials it was written with.
pub(crate) struct NameTable {
    slots: Slots,
    /// The last serial looked up and not found.
    missing: Cell<Option<u32>>,
}

enum Slots {
    /// Indexed by serial (the usual case: serials are dense).
    Dense(Vec<Option<Sym>>),
    Sparse(crate::collections::Map<u32, Sym>),
}

impl NameTable {
    /// The table of `(serial, text)` pairs; a serial given twice, or 0, is
    /// an error.
    pub(crate) fn new(pairs: Vec<(u32, String)>) -> Result<NameTable, String> {
        let max = pairs.iter().map(|(serial, _)| *serial).max().unwrap_or(0) as usize;
        let mut slots = if max <= pairs.len().saturating_mul(2) + 4096 {
            Slots::Dense(vec![None; max + 1])
        } else {
            Slots::Sparse(crate::collections::new_map())
        };
        for (serial, text) in pairs {
            let sym = Sym::new(&text);
            let fresh = match &mut slots {
                _ if serial == 0 => false,
                Slots::Dense(slots) => slots[serial as usize].replace(sym).is_none(),
                Slots::Sparse(map) => map.insert(serial, sym).is_none(),
            };
            if !fresh {
                return Err(format!(
                    "table of names: serial {serial} is invalid or repeated"
                ));
            }
        }
        Ok(NameTable {
            slots,
            missing: Cell::new(None),
        })
    }

    pub(crate) fn get(&self, serial: u32) -> Option<Sym> {
        match &self.slots {
            Slots::Dense(slots) => slots.get(serial as usize)?.clone(),
            Slots::Sparse(map) => map.get(&serial).cloned(),
        }
    }

    /// Take the last serial looked up and not found.
    pub(crate) fn take_missing(&self) -> Option<u32> {
        self.missing.take()
    }
}
