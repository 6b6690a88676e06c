//! Splitting an audit record body into `key=value` fields, and decoding
//! the values the kernel encodes.
//!
//! Three renderings reach us. Raw records never hold an unquoted space in
//! a value (the kernel writes a value with spaces, quotes or control bytes
//! as upper-case hex), so [`RawFields`] splits on spaces, honouring `"…"`,
//! `'…'` and `{ … }`. Interpreted renderings (`ausearch -i`, and the
//! "epoch header, values in place" form) print decoded values with their
//! spaces, so [`InterpFields`] ends a value only where the next field
//! name followed by `=` starts; which names count is the caller's choice
//! per record type. ENRICHED tails (after the 0x1D byte) are split by
//! [`RawFields`] too: their values are quoted or braced.

use std::borrow::Cow;

/// One `key=value` field of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Field<'a> {
    pub key: &'a [u8],
    /// The value without its quotes (braces are kept).
    pub value: &'a [u8],
    /// Whether the value was written inside double quotes.
    pub quoted: bool,
}

/// Fields of a raw record (or an ENRICHED tail), in order.
pub(super) struct RawFields<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> RawFields<'a> {
    pub fn new(s: &'a [u8]) -> Self {
        RawFields { s, i: 0 }
    }
}

impl<'a> Iterator for RawFields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        let s = self.s;
        loop {
            while self.i < s.len() && s[self.i] == b' ' {
                self.i += 1;
            }
            if self.i >= s.len() {
                return None;
            }
            let start = self.i;
            // The key runs to '=' or to a space (a bare word such as the
            // "user" of USER_CMD or the "tty" of TTY: skipped).
            let mut j = start;
            while j < s.len() && s[j] != b'=' && s[j] != b' ' {
                j += 1;
            }
            if j >= s.len() || s[j] == b' ' {
                self.i = j;
                continue;
            }
            let key = &s[start..j];
            let vstart = j + 1;
            let (value, quoted, end) = match s.get(vstart) {
                Some(&q @ (b'"' | b'\'')) => {
                    match memchr::memchr(q, &s[vstart + 1..]) {
                        Some(k) => {
                            let close = vstart + 1 + k;
                            // Anything glued after the closing quote (a
                            // stray quote, an ENRICHED-less "x"ARCH=…) is
                            // dropped up to the next space.
                            let end =
                                memchr::memchr(b' ', &s[close..]).map_or(s.len(), |k| close + k);
                            (&s[vstart + 1..close], q == b'"', end)
                        }
                        // An unterminated quote: the rest of the line.
                        None => (&s[vstart + 1..], q == b'"', s.len()),
                    }
                }
                Some(b'{') => {
                    let end =
                        memchr::memchr(b'}', &s[vstart..]).map_or(s.len(), |k| vstart + k + 1);
                    (&s[vstart..end], false, end)
                }
                _ => {
                    let end = memchr::memchr(b' ', &s[vstart..]).map_or(s.len(), |k| vstart + k);
                    (&s[vstart..end], false, end)
                }
            };
            self.i = end;
            return Some(Field { key, value, quoted });
        }
    }
}

/// Fields of an interpreted record, where values may hold spaces.
pub(super) struct InterpFields<'a> {
    s: &'a [u8],
    i: usize,
    is_key: fn(&[u8]) -> bool,
}

impl<'a> InterpFields<'a> {
    /// `is_key` says which names may start the next field; a value runs
    /// until a space followed by such a name and `=`.
    pub fn new(s: &'a [u8], is_key: fn(&[u8]) -> bool) -> Self {
        InterpFields { s, i: 0, is_key }
    }

    /// The start of the next field at or after `from` (its key), or the
    /// end of the input.
    fn next_field_start(&self, from: usize) -> usize {
        let s = self.s;
        let mut at = from;
        while let Some(k) = memchr::memchr(b' ', &s[at..]) {
            let sp = at + k;
            let kstart = sp + 1;
            let mut j = kstart;
            while j < s.len() && s[j] != b'=' && s[j] != b' ' {
                j += 1;
            }
            if j < s.len() && s[j] == b'=' && j > kstart && (self.is_key)(&s[kstart..j]) {
                return sp;
            }
            at = kstart;
        }
        s.len()
    }
}

impl<'a> Iterator for InterpFields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        let s = self.s;
        loop {
            while self.i < s.len() && s[self.i] == b' ' {
                self.i += 1;
            }
            if self.i >= s.len() {
                return None;
            }
            let start = self.i;
            let mut j = start;
            while j < s.len() && s[j] != b'=' && s[j] != b' ' {
                j += 1;
            }
            if j >= s.len() || s[j] == b' ' {
                self.i = j;
                continue;
            }
            let key = &s[start..j];
            let vstart = j + 1;
            let end = if s.get(vstart) == Some(&b'{') {
                memchr::memchr(b'}', &s[vstart..]).map_or(s.len(), |k| vstart + k + 1)
            } else {
                self.next_field_start(vstart)
            };
            self.i = end;
            let mut value = &s[vstart..end];
            while let [rest @ .., b' '] = value {
                value = rest;
            }
            let quoted = value.len() >= 2 && value[0] == b'"' && value[value.len() - 1] == b'"';
            if quoted {
                value = &value[1..value.len() - 1];
            }
            return Some(Field { key, value, quoted });
        }
    }
}

/// The fields of a body in either rendering, without boxing.
pub(super) enum Fields<'a> {
    Raw(RawFields<'a>),
    Interp(InterpFields<'a>),
}

impl<'a> Fields<'a> {
    /// Raw splitting, or interpreted splitting where `is_key` names the
    /// fields that may follow a value with spaces.
    pub fn new(body: &'a [u8], interpreted: bool, is_key: fn(&[u8]) -> bool) -> Self {
        if interpreted {
            Fields::Interp(InterpFields::new(body, is_key))
        } else {
            Fields::Raw(RawFields::new(body))
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        match self {
            Fields::Raw(f) => f.next(),
            Fields::Interp(f) => f.next(),
        }
    }
}

/// Field names of interpreted records in general: a lower-case letter,
/// then letters, digits, `_`, `-`, and an optional `[n]` index.
pub(super) fn is_generic_key(k: &[u8]) -> bool {
    matches!(k.first(), Some(b'a'..=b'z'))
        && k.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'[' | b']'))
}

/// Field names of EXECVE records: `argc`, `aN`, `aN_len`, `aN[i]`. An
/// argument holding ` a3=` would still be cut there, but ` x=` is not.
pub(super) fn is_execve_key(k: &[u8]) -> bool {
    if k == b"argc" {
        return true;
    }
    parse_arg_key(k).is_some()
}

/// Keys of single-field records (PROCTITLE, CWD): nothing ends a value.
pub(super) fn is_no_key(_k: &[u8]) -> bool {
    false
}

/// What an EXECVE field name says: argument N, whole (`aN`), its length
/// (`aN_len`) or chunk i (`aN[i]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ArgKey {
    Whole(usize),
    Len(usize),
    Chunk(usize, usize),
}

pub(super) fn parse_arg_key(k: &[u8]) -> Option<ArgKey> {
    let rest = k.strip_prefix(b"a")?;
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let n = parse_dec(&rest[..digits])? as usize;
    let tail = &rest[digits..];
    if tail.is_empty() {
        return Some(ArgKey::Whole(n));
    }
    if tail == b"_len" {
        return Some(ArgKey::Len(n));
    }
    let idx = tail.strip_prefix(b"[")?.strip_suffix(b"]")?;
    if idx.is_empty() || idx.len() > 9 {
        return None;
    }
    Some(ArgKey::Chunk(n, parse_dec(idx)? as usize))
}

/// A decimal number (no sign).
pub(super) fn parse_dec(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// A signed decimal number.
pub(super) fn parse_signed(b: &[u8]) -> Option<i64> {
    match b.strip_prefix(b"-") {
        Some(rest) => parse_dec(rest)
            .and_then(|v| i64::try_from(v).ok())
            .map(|v| -v),
        None => parse_dec(b).and_then(|v| i64::try_from(v).ok()),
    }
}

/// A hexadecimal number, with or without `0x`.
pub(super) fn parse_hex_num(b: &[u8]) -> Option<u64> {
    let b = b
        .strip_prefix(b"0x")
        .or_else(|| b.strip_prefix(b"0X"))
        .unwrap_or(b);
    if b.is_empty() || b.len() > 16 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        v = (v << 4) | hex_digit(c)? as u64;
    }
    Some(v)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Whether a value is the kernel's hex encoding of a string: an even
/// number of upper-case hex digits.
pub(super) fn is_kernel_hex(b: &[u8]) -> bool {
    !b.is_empty()
        && b.len().is_multiple_of(2)
        && b.iter().all(|c| matches!(c, b'0'..=b'9' | b'A'..=b'F'))
}

/// Decode hex digits into bytes; `None` if any pair is not hex.
pub(super) fn decode_hex(b: &[u8]) -> Option<Vec<u8>> {
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks_exact(2) {
        out.push((hex_digit(pair[0])? << 4) | hex_digit(pair[1])?);
    }
    Some(out)
}

/// The bytes an encoded string field (exe, comm, cwd, name, aN,
/// proctitle …) stands for. Quoted values are literal; unquoted values are
/// hex in raw records and literal in interpreted ones; `(null)` and
/// `(none)` are absent.
pub(super) fn decode_value<'a>(f: &Field<'a>, interpreted: bool) -> Option<Cow<'a, [u8]>> {
    if f.quoted {
        return Some(Cow::Borrowed(f.value));
    }
    if f.value == b"(null)" || f.value == b"(none)" || f.value.is_empty() {
        return None;
    }
    if !interpreted
        && is_kernel_hex(f.value)
        && let Some(bytes) = decode_hex(f.value)
    {
        return Some(Cow::Owned(bytes));
    }
    Some(Cow::Borrowed(f.value))
}

/// Bytes as text, replacing invalid UTF-8.
pub(super) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
