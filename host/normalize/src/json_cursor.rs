//! A validating pull reader of one JSON record: the fast path of the JSON
//! normalizers.
//!
//! serde reads a record through layers a normalizer does not need: every
//! key becomes a value handed to a visitor, every field an `Option` of a
//! scalar type, every skipped value a call through `IgnoredAny`. This
//! cursor walks the record's bytes where they lie: a key is a slice
//! matched in place, a value is read as text only when the normalizer
//! wants it, and everything else is skipped by a scanner that finds the
//! end of a string sixteen bytes at a time.
//!
//! It accepts only what serde_json accepts, with the same meaning: the
//! same whitespace, string escapes, number grammar and literals, and
//! nothing after the value but whitespace. Whatever it is not sure of
//! (a malformed record, an escaped key, a number that is not a plain
//! unsigned integer where text is read, a surrogate escape, deep nesting)
//! it gives up on with [`Bail`], and the caller reads the record again
//! with serde, which decides, and words the error if there is one. So the
//! fast path changes no result, and error texts stay serde_json's.
//!
//! The text must be UTF-8 already (the callers check each record once, in
//! bulk), which is why the cursor takes a `&str`.

use std::borrow::Cow;

/// The cursor gave up: the record goes to the serde path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bail;

/// A fast-path result.
pub(crate) type Fast<T> = Result<T, Bail>;

/// A JSON string as it lies in the input, between its quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Str<'a> {
    raw: &'a str,
    escaped: bool,
}

impl<'a> Str<'a> {
    /// The text between the quotes, escapes undecoded.
    #[cfg(test)]
    pub(crate) fn raw(self) -> &'a str {
        self.raw
    }

    /// The text between the quotes when it has no escapes (so it is the
    /// string's value), else `Bail`: keys are matched this way.
    pub(crate) fn plain(self) -> Fast<&'a str> {
        if self.escaped {
            Err(Bail)
        } else {
            Ok(self.raw)
        }
    }

    /// The string's value: borrowed when it has no escapes, decoded
    /// otherwise. Surrogate escapes bail (serde_json's rules for lone
    /// surrogates are its own to apply).
    pub(crate) fn decode(self) -> Fast<Cow<'a, str>> {
        if !self.escaped {
            return Ok(Cow::Borrowed(self.raw));
        }
        let bytes = self.raw.as_bytes();
        let mut out = String::with_capacity(bytes.len());
        let mut start = 0;
        let mut i = 0;
        while let Some(at) = find_backslash(bytes, i) {
            out.push_str(&self.raw[start..at]);
            // The scanner checked every escape: a character follows each
            // backslash, and four hex digits follow each `\u`.
            let c = match bytes.get(at + 1).copied().ok_or(Bail)? {
                // The escaped character stands for itself: it starts the
                // next run (one copy per escape in a Windows path, not two).
                b'"' | b'\\' | b'/' => {
                    start = at + 1;
                    i = at + 2;
                    continue;
                }
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let hex = self.raw.get(at + 2..at + 6).ok_or(Bail)?;
                    let code = u32::from_str_radix(hex, 16).map_err(|_| Bail)?;
                    i = at + 6;
                    start = i;
                    out.push(char::from_u32(code).ok_or(Bail)?);
                    continue;
                }
                _ => return Err(Bail),
            };
            out.push(c);
            i = at + 2;
            start = i;
        }
        out.push_str(&self.raw[start..]);
        Ok(Cow::Owned(out))
    }
}

/// The reading position in one record.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

/// Deepest nesting the skipper follows; deeper values go to serde.
const MAX_DEPTH: u32 = 128;

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte after whitespace (serde_json's four), not consumed:
    /// what kind of value comes.
    pub(crate) fn peek(&mut self) -> Fast<u8> {
        let b = self.bytes();
        while let Some(&c) = b.get(self.pos) {
            if !matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
                return Ok(c);
            }
            self.pos += 1;
        }
        Err(Bail)
    }

    /// Consume `c` after whitespace.
    fn expect(&mut self, c: u8) -> Fast<()> {
        if self.peek()? == c {
            self.pos += 1;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// Enter an object: `{` after whitespace. Then read its keys with
    /// [`Cursor::next_key`], starting with `first` true.
    pub(crate) fn object(&mut self) -> Fast<()> {
        self.expect(b'{')
    }

    /// Whether the next value is `null`, consuming it if so.
    pub(crate) fn null(&mut self) -> Fast<bool> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Whether another member of the object or element of the array
    /// (closed by `close`) follows, its comma consumed; `false` at the
    /// end (consumed). A comma before the end is an error to serde_json.
    fn next_item(&mut self, first: &mut bool, close: u8) -> Fast<bool> {
        let c = self.peek()?;
        if c == close {
            self.pos += 1;
            return Ok(false);
        }
        if !*first {
            if c != b',' {
                return Err(Bail);
            }
            self.pos += 1;
            if self.peek()? == close {
                return Err(Bail);
            }
        }
        *first = false;
        Ok(true)
    }

    /// The next key of the object being read and its `:`, or `None` at
    /// its end. `first` tracks whether a member was read (the comma).
    pub(crate) fn next_key(&mut self, first: &mut bool) -> Fast<Option<Str<'a>>> {
        if !self.next_item(first, b'}')? {
            return Ok(None);
        }
        self.expect(b'"')?;
        let key = self.string_body()?;
        self.expect(b':')?;
        Ok(Some(key))
    }

    /// [`Cursor::next_key`] through a [`KeyCache`]: the key's code, as
    /// `code` gives it for the key's text (one `code` function per
    /// context: a kept key keeps its code), or `None` at the object's end.
    /// `at` is where the object's keys are (start with
    /// [`KeyCache::chain`]). Where the input holds the key that followed
    /// the previous one one of the last few times, it is taken with a few
    /// word compares, neither scanned nor looked up.
    pub(crate) fn cached_key(
        &mut self,
        first: &mut bool,
        keys: &mut KeyCache,
        at: &mut KeyChain,
        code: impl FnOnce(&str) -> u16,
    ) -> Fast<Option<u16>> {
        if !self.next_item(first, b'}')? {
            return Ok(None);
        }
        for way in 0..KeyCache::WAYS {
            if let Some((next, key)) = keys.predict(*at, way)
                && key.starts(&self.bytes()[self.pos..])
            {
                // The pattern is a whole key without escapes, quotes and
                // colon included: the same bytes are the same, valid,
                // string and its colon.
                self.pos += key.bytes.len();
                let code = key.code;
                if way > 0 {
                    keys.promote(*at, way);
                }
                at.slot = next;
                return Ok(Some(code));
            }
        }
        let start = self.pos;
        self.expect(b'"')?;
        let text = self.string_body()?.plain()?;
        let code = code(text);
        // Kept with its colon when the colon follows at once (as one-line
        // JSON writes it); a key spaced from its colon is not kept.
        if self.bytes().get(self.pos) == Some(&b':') {
            self.pos += 1;
            keys.learn(at, &self.bytes()[start..self.pos], code);
        } else {
            self.expect(b':')?;
            keys.learn(at, &[], code);
        }
        Ok(Some(code))
    }

    /// The members of an object read as `#[derive(Deserialize)]` reads a
    /// struct: `read` gets the index in `names` of each known key, once (a
    /// repeat bails: serde's duplicate-field error); other keys are
    /// skipped. Anything but an object (`null`, the array form) bails.
    /// At most 32 names.
    pub(crate) fn fields(
        &mut self,
        names: &[&str],
        mut read: impl FnMut(&mut Self, usize) -> Fast<()>,
    ) -> Fast<()> {
        debug_assert!(names.len() <= 32);
        self.object()?;
        let mut seen = 0u32;
        let mut first = true;
        while let Some(key) = self.next_key(&mut first)? {
            let key = key.plain()?;
            match names.iter().position(|n| *n == key) {
                Some(i) => {
                    first_time(&mut seen, i)?;
                    read(self, i)?;
                }
                None => self.skip()?,
            }
        }
        Ok(())
    }

    /// [`Cursor::fields`] through a [`KeyCache`], for an object read
    /// often (a record's top level): `code` gives a key's index among
    /// `count` fields (at most 32), or anything from `count` up for a key
    /// to skip; `ctx` is the object's context in `keys`, which `read` gets
    /// back for the objects inside.
    pub(crate) fn cached_fields(
        &mut self,
        keys: &mut KeyCache,
        ctx: usize,
        count: usize,
        code: impl Fn(&str) -> u16,
        mut read: impl FnMut(&mut Self, &mut KeyCache, usize) -> Fast<()>,
    ) -> Fast<()> {
        debug_assert!(count <= 32);
        self.object()?;
        let mut first = true;
        let mut at = KeyCache::chain(ctx);
        let mut seen = 0u32;
        while let Some(i) = self.cached_key(&mut first, keys, &mut at, &code)? {
            let i = usize::from(i);
            if i >= count {
                self.skip()?;
                continue;
            }
            first_time(&mut seen, i)?;
            read(self, keys, i)?;
        }
        Ok(())
    }

    /// [`Cursor::fields`] through a [`KeyCache`] context of its own: the
    /// same reading, with the keys predicted rather than scanned and
    /// matched by name (`read` gets the cache back, for the objects inside).
    pub(crate) fn known_fields(
        &mut self,
        keys: &mut KeyCache,
        ctx: usize,
        names: &[&str],
        read: impl FnMut(&mut Self, &mut KeyCache, usize) -> Fast<()>,
    ) -> Fast<()> {
        let code = |k: &str| {
            names
                .iter()
                .position(|n| *n == k)
                .map_or(u16::MAX, |i| i as u16)
        };
        self.cached_fields(keys, ctx, names.len(), code, read)
    }

    /// An optional value: `None` for `null`, else read by `read` (serde's
    /// `Option<T>`).
    pub(crate) fn optional<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Fast<T>,
    ) -> Fast<Option<T>> {
        if self.null()? {
            return Ok(None);
        }
        read(self).map(Some)
    }

    /// An optional list: `None` for `null`, else an array whose elements
    /// `read` reads (serde's `Option<Vec<T>>`).
    pub(crate) fn list<T>(
        &mut self,
        mut read: impl FnMut(&mut Self) -> Fast<T>,
    ) -> Fast<Option<Vec<T>>> {
        self.optional(|c| {
            let mut items = Vec::new();
            c.array()?;
            let mut first = true;
            while c.next_element(&mut first)? {
                items.push(read(c)?);
            }
            Ok(items)
        })
    }

    /// Enter an array: `[` after whitespace; read its elements with
    /// [`Cursor::next_element`].
    pub(crate) fn array(&mut self) -> Fast<()> {
        self.expect(b'[')
    }

    /// Whether another element follows (its comma consumed), `false` at
    /// the array's end (consumed).
    pub(crate) fn next_element(&mut self, first: &mut bool) -> Fast<bool> {
        self.next_item(first, b']')
    }

    /// The end of the record: nothing but whitespace left.
    pub(crate) fn end(&mut self) -> Fast<()> {
        match self.peek() {
            Err(Bail) => Ok(()),
            Ok(_) => Err(Bail),
        }
    }

    /// A string or `null`, as serde reads an optional string: its value,
    /// or `None` for `null`; any other value bails.
    pub(crate) fn string_or_null(&mut self) -> Fast<Option<Cow<'a, str>>> {
        match self.peek()? {
            b'"' => {
                self.pos += 1;
                Ok(Some(self.string_body()?.decode()?))
            }
            b'n' => self.literal(b"null").map(|()| None),
            _ => Err(Bail),
        }
    }

    /// A string value.
    pub(crate) fn string(&mut self) -> Fast<Str<'a>> {
        self.expect(b'"')?;
        self.string_body()
    }

    /// A scalar read as text, as the normalizers' `Text` reads it and
    /// empty text filtered out: a string's value, `true`/`false`, a plain
    /// unsigned integer's digits; `None` for `null`, an empty string, or
    /// an object or array (skipped). Other numbers bail (their text is
    /// serde_json's to render).
    pub(crate) fn text(&mut self) -> Fast<Option<Cow<'a, str>>> {
        let v = match self.peek()? {
            b'"' => {
                self.pos += 1;
                self.string_body()?.decode()?
            }
            b'n' => {
                self.literal(b"null")?;
                return Ok(None);
            }
            b't' => {
                self.literal(b"true")?;
                Cow::Borrowed("true")
            }
            b'f' => {
                self.literal(b"false")?;
                Cow::Borrowed("false")
            }
            b'0'..=b'9' => Cow::Borrowed(self.unsigned()?.0),
            b'{' | b'[' => {
                self.skip()?;
                return Ok(None);
            }
            _ => return Err(Bail),
        };
        Ok((!v.is_empty()).then_some(v))
    }

    /// A non-negative integer as the normalizers' `Num` reads it: a plain
    /// JSON integer, or a decimal or `0x` hex string; `None` for `null`,
    /// booleans, other strings, objects and arrays. Negative and
    /// fractional numbers bail.
    pub(crate) fn num(&mut self) -> Fast<Option<u64>> {
        Ok(match self.peek()? {
            b'0'..=b'9' => Some(self.unsigned()?.1),
            b'"' => {
                self.pos += 1;
                crate::json_scalar::parse_uint(&self.string_body()?.decode()?)
            }
            b'n' => {
                self.literal(b"null")?;
                None
            }
            b't' => {
                self.literal(b"true")?;
                None
            }
            b'f' => {
                self.literal(b"false")?;
                None
            }
            b'{' | b'[' => {
                self.skip()?;
                None
            }
            _ => return Err(Bail),
        })
    }

    /// A plain unsigned integer (no sign, fraction or exponent, fitting
    /// a `u64`): its digits and value. Anything else bails.
    pub(crate) fn unsigned(&mut self) -> Fast<(&'a str, u64)> {
        self.peek()?;
        let b = self.bytes();
        let start = self.pos;
        let mut end = start;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        let digits = &self.text[start..end];
        // serde_json: one leading zero only; a fraction or exponent makes
        // a float, whose text is not the input's.
        if digits.is_empty()
            || (digits.len() > 1 && digits.starts_with('0'))
            || matches!(b.get(end), Some(b'.' | b'e' | b'E'))
        {
            return Err(Bail);
        }
        let value = digits.parse::<u64>().map_err(|_| Bail)?;
        self.pos = end;
        Ok((digits, value))
    }

    /// A number's text, checked against JSON's grammar.
    pub(crate) fn number(&mut self) -> Fast<&'a str> {
        self.peek()?;
        let start = self.pos;
        self.skip_number()?;
        Ok(&self.text[start..self.pos])
    }

    /// Skip one value of any kind, checking it as serde_json's
    /// `IgnoredAny` does.
    pub(crate) fn skip(&mut self) -> Fast<()> {
        // Open containers, innermost in bit 0: 1 for an object.
        let mut stack: u128 = 0;
        let mut depth: u32 = 0;
        loop {
            // One value.
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    self.string_body()?;
                }
                b'n' => self.literal(b"null")?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'-' | b'0'..=b'9' => self.skip_number()?,
                open @ (b'{' | b'[') => {
                    self.pos += 1;
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(Bail);
                    }
                    stack = (stack << 1) | u128::from(open == b'{');
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.pos += 1;
                        depth -= 1;
                        stack >>= 1;
                    } else {
                        if open == b'{' {
                            self.member_key()?;
                        }
                        continue;
                    }
                }
                _ => return Err(Bail),
            }
            // After a value: a comma and the next member, or closes.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let in_object = stack & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        if in_object {
                            self.member_key()?;
                        }
                        break;
                    }
                    b'}' if in_object => {}
                    b']' if !in_object => {}
                    _ => return Err(Bail),
                }
                self.pos += 1;
                depth -= 1;
                stack >>= 1;
            }
        }
    }

    /// A member's key and colon, inside a skipped object.
    fn member_key(&mut self) -> Fast<()> {
        self.expect(b'"')?;
        self.string_body()?;
        self.expect(b':')
    }

    fn literal(&mut self, word: &[u8]) -> Fast<()> {
        if self.bytes()[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// A number, checked against JSON's grammar (as serde_json's
    /// `ignore_integer` does: no range check for a skipped number).
    fn skip_number(&mut self) -> Fast<()> {
        let b = self.bytes();
        let mut i = self.pos;
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - from
        };
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => {
                i += 1;
                if b.get(i).is_some_and(u8::is_ascii_digit) {
                    return Err(Bail);
                }
            }
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => return Err(Bail),
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if digits(&mut i) == 0 {
                return Err(Bail);
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                return Err(Bail);
            }
        }
        self.pos = i;
        Ok(())
    }

    /// A string's body, the opening quote consumed: up to and past the
    /// closing quote, every escape checked, control characters refused.
    /// Inlined into each caller (the text of a wanted value, a skipped
    /// value, a key the cache missed): as a call it was a seventh of
    /// reading Winlogbeat, and inlined the Windows and CloudTrail readers
    /// ran 5-10 % faster, side by side in one run.
    #[inline(always)]
    fn string_body(&mut self) -> Fast<Str<'a>> {
        let b = self.bytes();
        let start = self.pos;
        let mut i = start;
        let mut escaped = false;
        let end = 'scan: loop {
            if let Some((quote, backslash, control)) = block_masks(b, i) {
                // The block's special bytes in order; an escape takes its
                // character (and a `\u`'s digits) out of the walk, so a
                // string full of escapes is still read a block at a time.
                let mut special = quote | backslash | control;
                let mut next = 16;
                while special != 0 {
                    let k = special.trailing_zeros() as usize;
                    let bit = 1u32 << k;
                    if quote & bit != 0 {
                        break 'scan i + k;
                    }
                    if control & bit != 0 {
                        return Err(Bail);
                    }
                    escaped = true;
                    let after = k + escape_len(b, i + k)?;
                    if after >= 16 {
                        next = after;
                        break;
                    }
                    special &= !((1u32 << after) - 1);
                }
                i += next;
                continue;
            }
            // Fewer than sixteen bytes left.
            match b.get(i) {
                Some(b'"') => break i,
                Some(b'\\') => {
                    escaped = true;
                    i += escape_len(b, i)?;
                }
                Some(&c) if c >= 0x20 => i += 1,
                // A control character, or the end of the input.
                _ => return Err(Bail),
            }
        };
        self.pos = end + 1;
        Ok(Str {
            // Both ends are ASCII quotes: char boundaries.
            raw: &self.text[start..end],
            escaped,
        })
    }
}

/// Whether `bytes` are one JSON value that serde_json accepts (as
/// `IgnoredAny`): `false` may also mean the cursor is unsure (not UTF-8,
/// surrogate escapes, deep nesting), for serde to decide.
pub(crate) fn is_valid(bytes: &[u8]) -> bool {
    crate::utf8::text(bytes).is_some_and(|text| {
        let mut c = Cursor::new(text);
        c.skip().and_then(|()| c.end()).is_ok()
    })
}

/// The keys of the records read so far, and which key followed which: a
/// stream's records mostly repeat their keys in the same order (one
/// exporter, one schema), so the next key is usually the one that followed
/// the previous key last time.
///
/// Keys are kept per *context*: each kind of object a format reads (a
/// record's top level, a nested struct) has its own keys, codes and
/// chains, so the same name in two objects keeps two codes.
///
/// Bounded: past [`KeyCache::MAX_KEYS`] distinct keys (or for keys longer
/// than [`KeyCache::MAX_KEY_LEN`]), keys are read and looked up as usual
/// and no more are kept, whatever the input holds.
pub(crate) struct KeyCache {
    /// Each key kept.
    keys: Vec<KeptKey>,
    /// Per context, those bytes → index in `keys` (boxed: decoders hold
    /// the cache inline).
    index: Box<[KeyIndex; KeyCache::CONTEXTS]>,
    /// The slots of the keys that followed each slot, the latest first
    /// ([`KeyCache::WAYS`] of them: a stream that mixes record types, as
    /// Sysmon's process, file and network events, follows a shared key
    /// with one of a few; with two, 7 % of Sysmon's keys were missed, with
    /// four 3 %): slot
    /// `c` is the start of an object of context `c`, slot `CONTEXTS`
    /// follows a key not kept, slot `FIRST_KEY + i` follows key `i`.
    /// `NONE`: no key yet.
    next: Vec<[u32; KeyCache::WAYS]>,
}

/// A context's kept keys by their bytes (foldhash: a miss hashes the key,
/// and SipHash cost more than the rest of the miss).
type KeyIndex = std::collections::HashMap<Box<[u8]>, u32, foldhash::fast::RandomState>;

/// A key the cache keeps: its bytes in the input, quotes and colon
/// included, and its code.
struct KeptKey {
    bytes: Box<[u8]>,
    code: u16,
    /// The first [`KeptKey::HEAD`] bytes as little-endian words, zero
    /// past the key's end, and which of their bits belong to the key: a
    /// prediction is checked with a few word compares, not a call to
    /// `memcmp` (which, for keys this short, cost more than the compare).
    head: [u64; KeptKey::WORDS],
    mask: [u64; KeptKey::WORDS],
}

impl KeptKey {
    const WORDS: usize = 4;
    const HEAD: usize = Self::WORDS * 8;

    fn new(bytes: &[u8], code: u16) -> Self {
        let mut head = [0u64; Self::WORDS];
        let mut mask = [0u64; Self::WORDS];
        for (w, chunk) in bytes.chunks(8).take(Self::WORDS).enumerate() {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            head[w] = u64::from_le_bytes(word);
            mask[w] = u64::MAX >> (64 - 8 * chunk.len());
        }
        KeptKey {
            bytes: bytes.into(),
            code,
            head,
            mask,
        }
    }

    /// Whether `input` starts with this key.
    #[inline(always)]
    fn starts(&self, input: &[u8]) -> bool {
        let Some(words) = input.first_chunk::<{ Self::HEAD }>() else {
            return input.starts_with(&self.bytes);
        };
        let (words, _) = words.as_chunks::<8>();
        let mut diff = 0;
        for ((word, head), mask) in words.iter().zip(&self.head).zip(&self.mask) {
            diff |= (u64::from_le_bytes(*word) ^ head) & mask;
        }
        diff == 0
            && (self.bytes.len() <= Self::HEAD
                || input
                    .get(Self::HEAD..self.bytes.len())
                    .is_some_and(|tail| tail == &self.bytes[Self::HEAD..]))
    }
}

/// Where an object's keys are being read: its context, and the slot of
/// the key before (see [`KeyCache`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyChain {
    ctx: usize,
    slot: u32,
}

impl KeyCache {
    /// Contexts a cache keeps apart.
    pub(crate) const CONTEXTS: usize = 16;
    /// Guesses kept per slot.
    const WAYS: usize = 4;
    /// The slot after a key that is not kept.
    const UNKEPT: u32 = Self::CONTEXTS as u32;
    /// The slot after key 0.
    const FIRST_KEY: u32 = Self::UNKEPT + 1;
    const NONE: u32 = u32::MAX;
    // A schema has tens to a few hundred keys; the bound keeps a hostile
    // stream of distinct keys to about a third of a megabyte per decoder
    // (each key: its bytes twice, up to 83, its 64 bytes of words and
    // masks, four guesses).
    pub(crate) const MAX_KEYS: usize = 1024;
    pub(crate) const MAX_KEY_LEN: usize = 80;

    pub(crate) fn new() -> Self {
        KeyCache {
            keys: Vec::new(),
            index: Default::default(),
            next: vec![[Self::NONE; Self::WAYS]; Self::FIRST_KEY as usize],
        }
    }

    /// The chain of an object of context `ctx` (below
    /// [`KeyCache::CONTEXTS`]; a format numbers its own), before its first
    /// key.
    pub(crate) fn chain(ctx: usize) -> KeyChain {
        debug_assert!(ctx < Self::CONTEXTS);
        let ctx = ctx.min(Self::CONTEXTS - 1);
        KeyChain {
            ctx,
            slot: ctx as u32,
        }
    }

    /// How many keys are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key predicted after `at`, and its slot.
    #[inline]
    fn predict(&self, at: KeyChain, way: usize) -> Option<(u32, &KeptKey)> {
        let next = self.next.get(at.slot as usize)?[way];
        let key = self.keys.get(next.checked_sub(Self::FIRST_KEY)? as usize)?;
        Some((next, key))
    }

    /// Guess `way` after `at` was right: make it the first.
    fn promote(&mut self, at: KeyChain, way: usize) {
        if let Some(n) = self.next.get_mut(at.slot as usize) {
            to_front(n, way);
        }
    }

    /// Note that `pattern` (a key's bytes, quotes and colon included;
    /// empty for a key not to keep) with `code` followed `at`, and move
    /// `at` past it.
    fn learn(&mut self, at: &mut KeyChain, pattern: &[u8], code: u16) {
        let index = &mut self.index[at.ctx];
        let slot = match index.get(pattern) {
            _ if pattern.is_empty() => Self::UNKEPT,
            Some(&i) => i + Self::FIRST_KEY,
            None if self.keys.len() < Self::MAX_KEYS && pattern.len() <= Self::MAX_KEY_LEN + 3 => {
                let i = self.keys.len() as u32;
                self.keys.push(KeptKey::new(pattern, code));
                index.insert(pattern.into(), i);
                self.next.push([Self::NONE; Self::WAYS]);
                i + Self::FIRST_KEY
            }
            None => Self::UNKEPT,
        };
        if let Some(n) = self.next.get_mut(at.slot as usize)
            && at.slot != Self::UNKEPT
        {
            // Most recent first; the oldest guess falls out.
            let way = n.iter().position(|&s| s == slot).unwrap_or(Self::WAYS - 1);
            n[way] = slot;
            to_front(n, way);
        }
        at.slot = slot;
    }
}

/// Move guess `way` to the front, the guesses before it back by one (a
/// loop over four words: `rotate_right` is a call, 1 % of reading
/// Winlogbeat).
#[inline]
fn to_front(guesses: &mut [u32; KeyCache::WAYS], way: usize) {
    let hit = guesses[way];
    for k in (1..=way).rev() {
        guesses[k] = guesses[k - 1];
    }
    guesses[0] = hit;
}

impl Default for KeyCache {
    fn default() -> Self {
        Self::new()
    }
}

/// Note field `i` of a struct as read; a second time bails (serde's
/// duplicate-field error).
fn first_time(seen: &mut u32, i: usize) -> Fast<()> {
    let bit = 1u32 << i;
    if *seen & bit != 0 {
        return Err(Bail);
    }
    *seen |= bit;
    Ok(())
}

/// The characters that may follow a backslash alone (not `u`).
static SIMPLE_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    let chars = *b"\"\\/bfnrt";
    while i < chars.len() {
        t[chars[i] as usize] = true;
        i += 1;
    }
    t
};

/// The length of the escape at `at` (a backslash): 2, or 6 for `\u`
/// and four hex digits. Unknown escapes, and surrogate escapes (whose
/// rules, pairs and lone halves, are serde_json's to apply), bail.
#[inline(always)]
fn escape_len(b: &[u8], at: usize) -> Fast<usize> {
    let e = *b.get(at + 1).ok_or(Bail)?;
    // A table, not a `match`: the usual escape is one well-predicted
    // branch rather than a jump table.
    if SIMPLE_ESCAPE[usize::from(e)] {
        return Ok(2);
    }
    if e != b'u' {
        return Err(Bail);
    }
    let hex = b.get(at + 2..at + 6).ok_or(Bail)?;
    let surrogate =
        matches!(hex[0], b'd' | b'D') && matches!(hex[1], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F');
    if !hex.iter().all(u8::is_ascii_hexdigit) || surrogate {
        return Err(Bail);
    }
    Ok(6)
}

/// The first backslash at or after `i`, sixteen bytes at a time (the
/// strings decoded are short runs between escapes, Windows paths mostly,
/// where `memchr`'s setup cost more than its scan).
#[inline]
fn find_backslash(b: &[u8], mut i: usize) -> Option<usize> {
    while let Some((_, backslash, _)) = block_masks(b, i) {
        if backslash != 0 {
            return Some(i + backslash.trailing_zeros() as usize);
        }
        i += 16;
    }
    b.get(i..)?.iter().position(|&c| c == b'\\').map(|k| i + k)
}

/// Bit masks of the quotes, backslashes and control characters (below
/// 0x20) among the sixteen bytes at `i` (bit n: byte `i + n`); `None`
/// when fewer than sixteen bytes are left (or off x86_64: the caller
/// then reads byte by byte).
#[inline]
fn block_masks(b: &[u8], i: usize) -> Option<(u32, u32, u32)> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
            _mm_set1_epi8,
        };
        if i.checked_add(16)? > b.len() {
            return None;
        }
        // SAFETY: SSE2 is part of the x86_64 baseline, and the load reads
        // the 16 bytes at `i`, which lie within `b` (checked above).
        unsafe {
            let v = _mm_loadu_si128(b.as_ptr().add(i).cast::<__m128i>());
            let quote = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8)));
            let backslash = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8)));
            // A byte is a control character when min(byte, 0x1f) is the
            // byte itself (an unsigned compare SSE2 lacks).
            let below_space = _mm_set1_epi8(0x1f);
            let control = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, below_space), v));
            Some((quote as u32, backslash as u32, control as u32))
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (b, i);
        None
    }
}

#[cfg(test)]
mod tests;
