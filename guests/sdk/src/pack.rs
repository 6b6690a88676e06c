//! A hand-written binary encoding for the values a snapshot holds by the
//! million: windows and their evidence.
//!
//! serde with postcard costs one call per field, byte or integer, and names
//! ([`Sym`]) find their table through a thread-local around each one.
//! Inside a component each of those calls costs about 9 ns; a window has
//! some forty, so a full snapshot of a million windows took over a second
//! to encode (a restore is held more by its allocations and fresh pages
//! than by decoding). [`Pack`] writes the same things in one pass with the
//! table of names in hand:
//!
//! - integers as LEB128 varints (signed ones zigzagged first), each put
//!   together in a register and written as one 8-byte store;
//! - strings and byte strings as their length and their bytes;
//! - `Option` as a byte 0 or 1 and the value; lists as their length and
//!   their items;
//! - names as their serial in the snapshot's table of names
//!   ([`crate::names`]), as serde does inside snapshot values;
//! - hashes and event keys as eight fixed bytes (a varint would take ten).
//!
//! Decoding reads a varint of up to eight bytes from one word, and short
//! ASCII text from a few word loads. It never trusts the bytes: a
//! truncated value, a length past the end, text that is not UTF-8, an
//! unknown tag or a serial missing from the table is a [`PackError`], never
//! a panic or an allocation the size of a bogus length. A type that
//! implements [`Pack`] usually keeps its serde derives too, for the
//! analytics that store it with serde.
//!
//! State keys stay serde's (postcard's) bytes, which every reader of a
//! snapshot understands; [`UnpackKey`] reads the common key types back
//! from those bytes without serde, borrowing strings from the snapshot.

use std::net::IpAddr;

use crate::collections::Inline;
use crate::intern::Sym;
use crate::names::{NameTable, NamesUsed};

/// Longest slice written as whole words rather than by a slice copy.
pub(crate) const SHORT: usize = 16;

/// Why a packed value could not be decoded. Small and `Copy`: every read
/// returns it in its `Result`, and in a component a larger error (a
/// `String`) made each of those reads slower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackError {
    /// The value ends before what it holds.
    Truncated,
    /// A varint longer than 64 bits.
    TooLarge,
    /// An integer too large for its field.
    OutOfRange,
    /// A length past the end of the value.
    PastEnd(u64),
    /// Text that is not UTF-8.
    NotUtf8,
    /// A tag byte no variant has.
    UnknownTag(u8),
    /// A name serial missing from the snapshot's table of names.
    MissingName(u32),
}

impl std::fmt::Display for PackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PackError::Truncated => f.write_str("value ends early"),
            PackError::TooLarge => f.write_str("integer too large"),
            PackError::OutOfRange => f.write_str("integer out of range"),
            PackError::PastEnd(len) => write!(f, "length {len} past the end of the value"),
            PackError::NotUtf8 => f.write_str("text is not UTF-8"),
            PackError::UnknownTag(tag) => write!(f, "unknown tag {tag}"),
            PackError::MissingName(serial) => {
                write!(f, "name #{serial} is not in the snapshot's table of names")
            }
        }
    }
}

impl std::error::Error for PackError {}

/// A value with a packed encoding.
pub trait Pack: Sized {
    fn pack(&self, out: &mut Packer<'_>);
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError>;
}

/// The first eight bytes of `bytes` (at least eight) as a word.
#[inline(always)]
fn word(bytes: &[u8]) -> u64 {
    let mut head = [0u8; 8];
    head.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(head)
}

/// `bytes` as text. Short ASCII text (ids, names, most command lines of a
/// snapshot) is recognised from a few word loads; `from_utf8` walks short
/// slices byte by byte, which was a twentieth of a restore.
#[inline(always)]
fn text(bytes: &[u8]) -> Result<&str, PackError> {
    let len = bytes.len();
    // Loads that may overlap cover every byte at least once.
    let ascii = match len {
        0 => true,
        1..=3 => (bytes[0] | bytes[len / 2] | bytes[len - 1]) < 0x80,
        4..=7 => {
            let head = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let tail = &bytes[len - 4..];
            let tail = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
            (head | tail) & 0x8080_8080 == 0
        }
        8..=SHORT => (word(bytes) | word(&bytes[len - 8..])) & 0x8080_8080_8080_8080 == 0,
        _ => false,
    };
    if ascii {
        // SAFETY: every byte is below 0x80, and ASCII is valid UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes).map_err(|_| PackError::NotUtf8)
    }
}

/// Append `data` (at most [`SHORT`] bytes) as one or two whole words,
/// then cut the vector back to the bytes of `data`. Each word is put
/// together from loads that may overlap (two for 4–16 bytes, three single
/// bytes below), so there is no loop and no copy of a length only known
/// at run time. In a component such a copy is `memory.copy`, which
/// wasmtime runs as a call out to the host; a byte-by-byte loop stores the
/// vector's length after every byte.
#[inline]
pub(crate) fn extend_short(out: &mut Vec<u8>, data: &[u8]) {
    let len = data.len();
    let end = out.len() + len;
    out.reserve(SHORT);
    let low = match len {
        0 => return,
        1..=3 => {
            let (a, b, c) = (data[0], data[len / 2], data[len - 1]);
            u64::from(a) | u64::from(b) << (8 * (len / 2)) | u64::from(c) << (8 * (len - 1))
        }
        4..=7 => {
            let head = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
            let tail = &data[len - 4..];
            let tail = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
            u64::from(head) | u64::from(tail) << (8 * (len - 4))
        }
        _ => word(data),
    };
    out.extend_from_slice(&low.to_le_bytes());
    if len > 8 {
        // Bytes 8..len are the top `len - 8` bytes of the last word.
        let high = word(&data[len - 8..]) >> (8 * (16 - len));
        out.extend_from_slice(&high.to_le_bytes());
    }
    out.truncate(end);
}

/// Append `data`, short or long.
#[inline]
fn extend(out: &mut Vec<u8>, data: &[u8]) {
    if data.len() <= SHORT {
        extend_short(out, data);
    } else {
        out.extend_from_slice(data);
    }
}

/// Writes packed values at the end of a buffer, names by serial.
pub struct Packer<'a> {
    out: &'a mut Vec<u8>,
    names: &'a mut NamesUsed,
}

impl<'a> Packer<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>, names: &'a mut NamesUsed) -> Packer<'a> {
        Packer { out, names }
    }

    /// An unsigned integer as a varint.
    #[inline]
    pub fn u64(&mut self, mut value: u64) {
        if value < 1 << 56 {
            // Up to eight groups of seven bits: one word.
            let mut bytes = 0u64;
            let mut len = 0;
            loop {
                let group = value & 0x7f;
                value >>= 7;
                if value == 0 {
                    bytes |= group << (8 * len);
                    len += 1;
                    break;
                }
                bytes |= (group | 0x80) << (8 * len);
                len += 1;
            }
            let end = self.out.len() + len;
            self.out.extend_from_slice(&bytes.to_le_bytes());
            self.out.truncate(end);
        } else {
            while value >= 0x80 {
                self.out.push((value as u8) | 0x80);
                value >>= 7;
            }
            self.out.push(value as u8);
        }
    }

    /// A signed integer, zigzagged, as a varint.
    #[inline]
    pub fn i64(&mut self, value: i64) {
        self.u64(((value << 1) ^ (value >> 63)) as u64);
    }

    #[inline]
    pub fn u8(&mut self, value: u8) {
        self.out.push(value);
    }

    /// A byte string: its length and its bytes.
    #[inline]
    pub fn bytes(&mut self, data: &[u8]) {
        self.u64(data.len() as u64);
        extend(self.out, data);
    }

    #[inline]
    pub fn str(&mut self, text: &str) {
        self.bytes(text.as_bytes());
    }

    /// A name, by its serial in this snapshot's table of names.
    #[inline]
    pub fn sym(&mut self, name: &Sym) {
        self.names.mark(name);
        self.u64(u64::from(name.serial()));
    }

    /// Sixteen bytes as they are.
    #[inline]
    pub fn raw16(&mut self, data: &[u8; 16]) {
        extend_short(self.out, data);
    }

    /// A 64-bit value as eight bytes: for hashes and keys, whose varint
    /// would take ten.
    #[inline]
    pub fn fixed64(&mut self, value: u64) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    /// Any packed value.
    #[inline]
    pub fn put<T: Pack>(&mut self, value: &T) {
        value.pack(self);
    }
}

/// Reads packed values from a byte slice, names through a table.
pub struct Unpacker<'a> {
    bytes: &'a [u8],
    names: &'a NameTable,
}

impl<'a> Unpacker<'a> {
    pub(crate) fn new(bytes: &'a [u8], names: &'a NameTable) -> Unpacker<'a> {
        Unpacker { bytes, names }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    /// A varint. Up to eight bytes are decoded from one word, with no loop
    /// and no branch per byte: the first clear top bit ends the varint,
    /// and three shift-and-mask steps close the gaps the continuation bits
    /// leave. Inlined at every use: a call returning a `Result` goes
    /// through the stack in memory in a component, which cost more than
    /// the decoding. Longer or cut varints take the byte loop.
    #[inline(always)]
    pub fn u64(&mut self) -> Result<u64, PackError> {
        if self.bytes.len() >= 8 {
            let raw = word(self.bytes);
            let ends = !raw & 0x8080_8080_8080_8080;
            if ends != 0 {
                let len = (ends.trailing_zeros() as usize + 1) / 8;
                let mut value = raw & (u64::MAX >> (64 - 8 * len)) & 0x7f7f_7f7f_7f7f_7f7f;
                value = (value & 0x007f_007f_007f_007f) | (value & 0x7f00_7f00_7f00_7f00) >> 1;
                value = (value & 0x0000_3fff_0000_3fff) | (value & 0x3fff_0000_3fff_0000) >> 2;
                value = (value & 0x0000_0000_0fff_ffff) | (value & 0x0fff_ffff_0000_0000) >> 4;
                self.bytes = &self.bytes[len..];
                return Ok(value);
            }
        }
        self.slow_u64()
    }

    /// A varint read byte by byte: nine or ten bytes, or fewer than eight
    /// left.
    #[cold]
    #[inline(never)]
    fn slow_u64(&mut self) -> Result<u64, PackError> {
        let mut value = 0u64;
        for (index, &byte) in self.bytes.iter().enumerate().take(10) {
            // The tenth group holds the top bit only.
            if index == 9 && byte > 1 {
                return Err(PackError::TooLarge);
            }
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                self.bytes = &self.bytes[index + 1..];
                return Ok(value);
            }
        }
        Err(if self.bytes.len() < 10 {
            PackError::Truncated
        } else {
            PackError::TooLarge
        })
    }

    #[inline(always)]
    pub fn i64(&mut self) -> Result<i64, PackError> {
        let value = self.u64()?;
        Ok(((value >> 1) as i64) ^ -((value & 1) as i64))
    }

    /// An unsigned integer that must fit in `T`.
    #[inline(always)]
    pub fn int<T: TryFrom<u64>>(&mut self) -> Result<T, PackError> {
        T::try_from(self.u64()?).map_err(|_| PackError::OutOfRange)
    }

    /// A signed integer that must fit in `T`.
    #[inline(always)]
    pub fn signed<T: TryFrom<i64>>(&mut self) -> Result<T, PackError> {
        T::try_from(self.i64()?).map_err(|_| PackError::OutOfRange)
    }

    #[inline(always)]
    pub fn u8(&mut self) -> Result<u8, PackError> {
        let (&first, rest) = self.bytes.split_first().ok_or(PackError::Truncated)?;
        self.bytes = rest;
        Ok(first)
    }

    /// `n` bytes as they are.
    #[inline(always)]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], PackError> {
        if n > self.bytes.len() {
            return Err(PackError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// A length, checked against the bytes left (each counted thing takes
    /// at least a byte), so a bogus one cannot make a huge allocation.
    #[inline(always)]
    pub fn count(&mut self) -> Result<usize, PackError> {
        let len = self.u64()?;
        match usize::try_from(len) {
            Ok(len) if len <= self.bytes.len() => Ok(len),
            _ => Err(PackError::PastEnd(len)),
        }
    }

    #[inline(always)]
    pub fn bytes(&mut self) -> Result<&'a [u8], PackError> {
        let len = self.count()?;
        self.take(len)
    }

    #[inline(always)]
    pub fn str(&mut self) -> Result<&'a str, PackError> {
        text(self.bytes()?)
    }

    #[inline(always)]
    pub fn sym(&mut self) -> Result<Sym, PackError> {
        let serial = self.int::<u32>()?;
        self.names.get(serial).ok_or(PackError::MissingName(serial))
    }

    #[inline(always)]
    pub fn raw16(&mut self) -> Result<[u8; 16], PackError> {
        let mut out = [0u8; 16];
        out.copy_from_slice(self.take(16)?);
        Ok(out)
    }

    #[inline(always)]
    pub fn fixed64(&mut self) -> Result<u64, PackError> {
        Ok(word(self.take(8)?))
    }

    /// Any packed value.
    #[inline(always)]
    pub fn get<T: Pack>(&mut self) -> Result<T, PackError> {
        T::unpack(self)
    }

    /// A tag byte below `count`.
    #[inline(always)]
    pub fn tag(&mut self, count: u8) -> Result<u8, PackError> {
        match self.u8()? {
            tag if tag < count => Ok(tag),
            tag => Err(PackError::UnknownTag(tag)),
        }
    }
}

/// [`Pack`] for integers, written as a varint through `$write` (widening
/// to `$wide`) and read back checked by `$read`. An integer key reads the
/// same bytes postcard wrote for it, so it is an [`UnpackKey`] too.
macro_rules! pack_int {
    ($wide:ty, $write:ident, $read:ident: $($t:ty),*) => {$(
        impl Pack for $t {
            #[inline]
            fn pack(&self, out: &mut Packer<'_>) {
                out.$write(<$wide>::from(*self));
            }
            #[inline]
            fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
                input.$read()
            }
        }

        impl<'a> UnpackKey<'a> for $t {
            #[inline]
            fn unpack_key(input: &mut Unpacker<'a>) -> Result<Self, PackError> {
                input.$read()
            }
        }
    )*};
}

pack_int!(u64, u64, int: u16, u32, u64);
pack_int!(i64, i64, signed: i32, i64);

/// A state key read back without serde: from the bytes postcard wrote for
/// it, which for these types are the packed ones (a string is its length
/// and text, a tuple its fields in order). Strings are borrowed from the
/// snapshot; names are interned from their text (keys hold text, not
/// serials: a key must read the same in every snapshot).
pub trait UnpackKey<'a>: Sized {
    fn unpack_key(input: &mut Unpacker<'a>) -> Result<Self, PackError>;
}

// Key types whose bytes one `Unpacker` read gives.

impl<'a> UnpackKey<'a> for &'a str {
    #[inline]
    fn unpack_key(input: &mut Unpacker<'a>) -> Result<Self, PackError> {
        input.str()
    }
}

impl<'a> UnpackKey<'a> for String {
    #[inline]
    fn unpack_key(input: &mut Unpacker<'a>) -> Result<Self, PackError> {
        input.str().map(str::to_owned)
    }
}

impl<'a> UnpackKey<'a> for u8 {
    #[inline]
    fn unpack_key(input: &mut Unpacker<'a>) -> Result<Self, PackError> {
        input.u8()
    }
}

impl<'a> UnpackKey<'a> for Sym {
    #[inline]
    fn unpack_key(input: &mut Unpacker<'a>) -> Result<Self, PackError> {
        input.str().map(crate::intern::recent)
    }
}

impl<'a, A: UnpackKey<'a>, B: UnpackKey<'a>> UnpackKey<'a> for (A, B) {
    #[inline]
    fn unpack_key(input: &mut Unpacker<'a>) -> Result<Self, PackError> {
        Ok((A::unpack_key(input)?, B::unpack_key(input)?))
    }
}

impl Pack for u8 {
    #[inline]
    fn pack(&self, out: &mut Packer<'_>) {
        out.u8(*self);
    }
    #[inline]
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        input.u8()
    }
}

impl Pack for Sym {
    #[inline]
    fn pack(&self, out: &mut Packer<'_>) {
        out.sym(self);
    }
    #[inline]
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        input.sym()
    }
}

impl Pack for Box<str> {
    #[inline]
    fn pack(&self, out: &mut Packer<'_>) {
        out.str(self);
    }
    #[inline]
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        input.str().map(Box::from)
    }
}

impl<T: Pack> Pack for Option<T> {
    #[inline]
    fn pack(&self, out: &mut Packer<'_>) {
        match self {
            None => out.u8(0),
            Some(value) => {
                out.u8(1);
                value.pack(out);
            }
        }
    }
    #[inline]
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        match input.tag(2)? {
            0 => Ok(None),
            _ => T::unpack(input).map(Some),
        }
    }
}

impl<T: Pack> Pack for Box<T> {
    #[inline]
    fn pack(&self, out: &mut Packer<'_>) {
        (**self).pack(out);
    }
    #[inline]
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        T::unpack(input).map(Box::new)
    }
}

impl<A: Pack, B: Pack> Pack for (A, B) {
    #[inline]
    fn pack(&self, out: &mut Packer<'_>) {
        self.0.pack(out);
        self.1.pack(out);
    }
    #[inline]
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        Ok((A::unpack(input)?, B::unpack(input)?))
    }
}

impl<A: Pack, B: Pack, C: Pack> Pack for (A, B, C) {
    #[inline]
    fn pack(&self, out: &mut Packer<'_>) {
        self.0.pack(out);
        self.1.pack(out);
        self.2.pack(out);
    }
    #[inline]
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        Ok((A::unpack(input)?, B::unpack(input)?, C::unpack(input)?))
    }
}

impl<T: Pack> Pack for Vec<T> {
    fn pack(&self, out: &mut Packer<'_>) {
        out.u64(self.len() as u64);
        for item in self {
            item.pack(out);
        }
    }
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        let len = input.count()?;
        let mut list = Vec::with_capacity(len);
        for _ in 0..len {
            list.push(T::unpack(input)?);
        }
        Ok(list)
    }
}

impl<T: Pack, const N: usize> Pack for Inline<T, N>
where
    [T; N]: smallvec::Array<Item = T>,
{
    fn pack(&self, out: &mut Packer<'_>) {
        out.u64(self.len() as u64);
        for item in self {
            item.pack(out);
        }
    }
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        let len = input.count()?;
        // In place up to N; exactly `len` on the heap past that, as the
        // window state grows them ([`crate::collections::reserve_one_inline`]).
        let mut list = Inline::new();
        if len > N {
            list.reserve_exact(len);
        }
        for _ in 0..len {
            list.push(T::unpack(input)?);
        }
        Ok(list)
    }
}

impl Pack for IpAddr {
    fn pack(&self, out: &mut Packer<'_>) {
        match self {
            IpAddr::V4(ip) => {
                out.u8(4);
                out.u64(u64::from(u32::from(*ip)));
            }
            IpAddr::V6(ip) => {
                out.u8(6);
                out.raw16(&ip.octets());
            }
        }
    }
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        match input.u8()? {
            4 => Ok(IpAddr::from(input.int::<u32>()?.to_be_bytes())),
            6 => Ok(IpAddr::from(input.raw16()?)),
            tag => Err(PackError::UnknownTag(tag)),
        }
    }
}

#[cfg(test)]
mod tests;
