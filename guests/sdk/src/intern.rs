//! Shared, interned strings for window state.
//!
//! Host names, user names, executable names and event sources repeat across
//! thousands of windows. A [`Sym`] is one reference-counted copy per distinct
//! value and a thin pointer (8 bytes per use, `Option<Sym>` too, instead of a
//! 24-byte `String` plus its own heap copy), which keeps window structs
//! small: the memory target is a few hundred bytes per open window. The
//! extra indirection costs nothing measurable next to that.
//!
//! The interner is per thread: a component has exactly one, and native tests
//! running on several threads each get their own (a `Sym` is not `Send`).
//! Values nobody holds any more are freed by [`sweep`], which analytics call
//! now and then ([`maybe_sweep`] decides when).
//!
//! Each value also has a *serial*, a small number unique among the values
//! alive in this interner (a swept value's serial is reused). A full
//! snapshot writes a name as its serial and the table of serials once
//! ([`crate::names`]), instead of the text in every window that uses it.

use std::borrow::Borrow;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::rc::Rc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::collections::{Set, new_set};

/// One interned value. `Rc<str>` would be a 16-byte fat pointer; the
/// boxed `str` behind an `Rc` keeps [`Sym`] at 8.
struct Named {
    text: Box<str>,
    serial: u32,
}

type Shared = Rc<Named>;

/// A table entry, searchable by `&str`.
struct Entry(Shared);

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.0.text == other.0.text
    }
}

impl Eq for Entry {}

impl Hash for Entry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.text.hash(state);
    }
}

impl Borrow<str> for Entry {
    fn borrow(&self) -> &str {
        &self.0.text
    }
}

/// Serials to hand out: freed ones first, then new ones from `next`.
struct Serials {
    next: u32,
    free: Vec<u32>,
}

thread_local! {
    static TABLE: RefCell<Set<Entry>> = RefCell::new(new_set());
    /// Table size after the last sweep, to sweep only when it has grown.
    static SWEPT_AT: Cell<usize> = const { Cell::new(0) };
    /// Serial 0 is never given (a table of names refuses it).
    static SERIALS: RefCell<Serials> = const { RefCell::new(Serials { next: 1, free: Vec::new() }) };
}

fn take_serial() -> u32 {
    SERIALS.with(|serials| {
        let mut serials = serials.borrow_mut();
        serials.free.pop().unwrap_or_else(|| {
            let serial = serials.next;
            serials.next = serials.next.saturating_add(1);
            serial
        })
    })
}

/// An interned string: cheap to clone, compare and hash.
#[derive(Clone)]
pub struct Sym(Shared);

impl Sym {
    /// The shared copy of `text`, created on first use.
    pub fn new(text: &str) -> Sym {
        TABLE.with(|table| {
            let mut table = table.borrow_mut();
            if let Some(existing) = table.get(text) {
                return Sym(Rc::clone(&existing.0));
            }
            let shared: Shared = Rc::new(Named {
                text: Box::from(text),
                serial: take_serial(),
            });
            table.insert(Entry(Rc::clone(&shared)));
            Sym(shared)
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// This value's serial (see the module docs): unique among this
    /// instance's names and cheap to compare, so a fixed order to sort by
    /// when the order of the text does not matter. It is not stable across
    /// instances (a restore numbers names afresh).
    pub fn serial(&self) -> u32 {
        self.0.serial
    }
}

/// Free every interned value that no [`Sym`] refers to any more; returns how
/// many were freed.
pub fn sweep() -> usize {
    TABLE.with(|table| {
        let mut table = table.borrow_mut();
        let before = table.len();
        SERIALS.with(|serials| {
            let free = &mut serials.borrow_mut().free;
            table.retain(|entry| {
                let held = Rc::strong_count(&entry.0) > 1;
                if !held {
                    free.push(entry.0.serial);
                }
                held
            });
        });
        SWEPT_AT.with(|at| at.set(table.len()));
        before - table.len()
    })
}

/// [`sweep`] when the table has doubled (and holds at least 1024 values)
/// since the last sweep, so the cost stays proportional to growth.
pub fn maybe_sweep() -> usize {
    let (len, at) = (interned(), SWEPT_AT.with(Cell::get));
    if len >= 1024 && len > at.saturating_mul(2) {
        sweep()
    } else {
        0
    }
}

/// Run `f` with the serial and text of every value interned now, by
/// serial (values nobody holds any more included, until a [`sweep`]).
pub(crate) fn with_interned<R>(f: impl FnOnce(&[(u32, &str)]) -> R) -> R {
    TABLE.with(|table| {
        let table = table.borrow();
        let mut names: Vec<(u32, &str)> = table
            .iter()
            .map(|entry| (entry.0.serial, &*entry.0.text))
            .collect();
        names.sort_unstable_by_key(|(serial, _)| *serial);
        f(&names)
    })
}

/// Number of distinct values held.
pub fn interned() -> usize {
    TABLE.with(|table| table.borrow().len())
}

impl PartialEq for Sym {
    fn eq(&self, other: &Sym) -> bool {
        // Interned values are unique, so equal pointers mean equal text; the
        // text comparison keeps this correct for values made across a sweep.
        Rc::ptr_eq(&self.0, &other.0) || self.0.text == other.0.text
    }
}

impl Eq for Sym {}

impl Hash for Sym {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Must hash like `str` so maps keyed by `Sym` can be searched by `&str`.
        self.0.text.hash(state);
    }
}

impl PartialOrd for Sym {
    fn partial_cmp(&self, other: &Sym) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Sym {
    fn cmp(&self, other: &Sym) -> std::cmp::Ordering {
        if Rc::ptr_eq(&self.0, &other.0) {
            return std::cmp::Ordering::Equal;
        }
        cmp_text(&self.0.text, &other.0.text)
    }
}

/// `a.cmp(b)`, eight bytes at a time. In a component `str` comparison is
/// wasi-libc's `memcmp`, a byte loop behind a call; names are compared by
/// every binary search of a window list and every sort of one (a restore
/// sorts each host's users). Big-endian words compare like their bytes in
/// order.
pub fn cmp_text(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let common = a.len().min(b.len());
    let (mut a_words, mut b_words) = (a[..common].chunks_exact(8), b[..common].chunks_exact(8));
    for (x, y) in (&mut a_words).zip(&mut b_words) {
        let (x, y) = (be_word(x), be_word(y));
        if x != y {
            return x.cmp(&y);
        }
    }
    // The tails are equally long (under eight bytes).
    let (x, y) = (be_word(a_words.remainder()), be_word(b_words.remainder()));
    x.cmp(&y).then(a.len().cmp(&b.len()))
}

/// Up to eight bytes as a big-endian number.
#[inline(always)]
fn be_word(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0, |word, &byte| word << 8 | u64::from(byte))
}

impl Deref for Sym {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0.text
    }
}

impl Borrow<str> for Sym {
    fn borrow(&self) -> &str {
        &self.0.text
    }
}

impl AsRef<str> for Sym {
    fn as_ref(&self) -> &str {
        &self.0.text
    }
}

impl fmt::Display for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)
    }
}

impl fmt::Debug for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0.text, f)
    }
}

impl From<&str> for Sym {
    fn from(text: &str) -> Sym {
        Sym::new(text)
    }
}

impl Serialize for Sym {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::names::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for Sym {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Sym, D::Error> {
        crate::names::deserialize(deserializer)
    }
}

/// Slots of the cache of recently decoded values.
const RECENT: usize = 64;

thread_local! {
    /// Values decoded lately, by a cheap hash of their text: a restore
    /// decodes the same host, user and program names in window after window,
    /// and a hit skips the table's lock and full hash. Holding a value here
    /// keeps it from [`sweep`], for at most `RECENT` values.
    static RECENTLY: RefCell<[Option<Sym>; RECENT]> = const { RefCell::new([const { None }; RECENT]) };
}

/// The interned value of `text`, through the cache of recent ones.
pub(crate) fn recent(text: &str) -> Sym {
    let bytes = text.as_bytes();
    let slot = match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => {
            (bytes.len() ^ usize::from(first).wrapping_mul(31) ^ usize::from(last).wrapping_mul(7))
                % RECENT
        }
        _ => 0,
    };
    RECENTLY.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(sym) = &cache[slot]
            && sym.as_str() == text
        {
            return sym.clone();
        }
        let sym = Sym::new(text);
        cache[slot] = Some(sym.clone());
        sym
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sym_is_one_thin_pointer() {
        assert_eq!(std::mem::size_of::<Sym>(), 8);
        assert_eq!(std::mem::size_of::<Option<Sym>>(), 8);
    }

    #[test]
    fn equal_text_shares_one_copy() {
        let a = Sym::new("db-01");
        let b = Sym::new(&String::from("db-01"));
        assert!(Rc::ptr_eq(&a.0, &b.0));
        assert_eq!(a, b);
        assert_ne!(a, Sym::new("db-02"));
    }

    #[test]
    fn sweep_frees_only_unreferenced_values() {
        let kept = Sym::new("kept-value-for-sweep-test");
        drop(Sym::new("dropped-value-for-sweep-test"));
        let freed = sweep();
        assert!(freed >= 1);
        let present = TABLE.with(|t| {
            let t = t.borrow();
            (
                t.contains("kept-value-for-sweep-test"),
                t.contains("dropped-value-for-sweep-test"),
            )
        });
        assert_eq!(present, (true, false));
        assert_eq!(kept.as_str(), "kept-value-for-sweep-test");
    }

    #[test]
    fn serde_round_trip_interns() {
        let original = Sym::new("alice");
        let bytes = postcard::to_allocvec(&original).unwrap();
        let back: Sym = postcard::from_bytes(&bytes).unwrap();
        assert!(Rc::ptr_eq(&original.0, &back.0));
    }

    #[test]
    fn decoding_through_the_recent_cache_gives_the_interned_value() {
        // Same length, first and last byte: the same cache slot.
        let names = ["host-a1", "host-b1", "host-a1", "host-c1", "host-b1"];
        for name in names {
            let bytes = postcard::to_allocvec(&Sym::new(name)).unwrap();
            let back: Sym = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(back.as_str(), name);
            assert!(Rc::ptr_eq(&back.0, &Sym::new(name).0));
        }
        assert_eq!(recent("").as_str(), "");
    }

    #[test]
    fn maps_keyed_by_sym_are_searchable_by_str() {
        let mut map = crate::collections::new_map();
        map.insert(Sym::new("psql"), 1);
        assert_eq!(map.get("psql"), Some(&1));
    }

    #[test]
    fn text_order_is_str_order_at_every_length() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "abcdefg",
            "abcdefgh",
            "abcdefgi",
            "abcdefghi",
            "abcdefgh\u{e9}",
            "user10",
            "user9",
            "user100",
            "b",
            "\u{ff}",
            "zzzzzzzzzzzzzzzz",
        ];
        for a in words {
            for b in words {
                assert_eq!(cmp_text(a, b), a.cmp(b), "{a:?} against {b:?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn text_order_is_str_order(a in "[a-c\u{e9}]{0,20}", b in "[a-c\u{e9}]{0,20}") {
            proptest::prop_assert_eq!(cmp_text(&a, &b), a.cmp(&b));
            let (x, y) = (Sym::new(&a), Sym::new(&b));
            proptest::prop_assert_eq!(x.cmp(&y), a.cmp(&b));
        }
    }
}
