//! JSON records out of a stream of lines, whatever the layout.
//!
//! Cloud and SaaS exports put JSON records on lines in four ways: one
//! record per line (forwarders, the Sentinel export), one array of records
//! on one line (an M365 content blob, a CloudTrail `{"Records":[…]}` file
//! as S3 delivers it), a single record pretty-printed over many lines, and
//! a pretty-printed array or envelope. [`JsonStream`] accepts all of them;
//! a format says how to read and emit one record through [`JsonRecord`].
//!
//! * A line that holds a whole record, array or envelope is read where it
//!   lies, in one pass, each record parsed straight into the format's
//!   borrowed struct (the fast path, and the common case). The line's UTF-8
//!   is checked once, so serde_json does not check every string again.
//!   A format that reads its records with the [`Cursor`] too
//!   ([`JsonRecord::read_fast`]) has the line read that way first, and by
//!   serde only where the cursor bails.
//! * A line that ends inside a value, or an array or envelope with a bad
//!   record in it, goes to [`JsonSplitter`], which tracks brackets and
//!   strings across lines and cuts out each record as soon as it closes: a
//!   pretty-printed envelope of any size needs only one record's worth of
//!   memory, and a malformed record fails alone, its neighbours kept.
//!
//! The splitter only tracks bracket depth and strings, so a record whose
//! inside is malformed is still cut at the right place. A record that never
//! closes (a truncated line in a one-per-line stream) is given up when a
//! line starting a new record at column 0 arrives (`{"…` or `[{…`:
//! pretty-printers indent everything inside a value, so such a line never
//! continues one), or at end of input.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::json_cursor::{Bail, Cursor, Fast, KeyCache};
use crate::{Output, RecordPos, Stats};

/// Largest record kept, in bytes. A CloudTrail record is a few KB; the
/// biggest legitimate ones (large request parameters) stay far below this.
pub(crate) const MAX_RECORD: usize = 8 << 20;

/// The short error category of a serde_json failure, for [`Output::error`].
pub(crate) fn error_kind(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "truncated JSON",
        Category::Data => "invalid record",
        Category::Syntax | Category::Io => "invalid JSON",
    }
}

/// A format's JSON record: how to read one, and what it becomes.
///
/// A record is read into a value the caller owns (an empty `Default` to
/// start), not returned: the record structs are hundreds of bytes, and
/// moving them out through each layer of serde's return values cost a
/// noticeable share of the parse.
pub(crate) trait JsonRecord {
    /// The record as serde reads it, borrowing from the input.
    type Record<'de>: Default;
    /// Read one record (a JSON value) into `rec`, which is empty.
    fn read<'de, D: Deserializer<'de>>(d: D, rec: &mut Self::Record<'de>) -> Result<(), D::Error>;
    /// Emit what a parsed record becomes (an event, a skip or an error).
    fn emit(rec: &mut Self::Record<'_>, pos: RecordPos, out: &mut Output);
    /// Whether the format reads records with [`JsonRecord::read_fast`];
    /// a format without it pays nothing for the fast path.
    const FAST: bool = false;
    /// Read one record with the [`Cursor`] (the fast path), into `rec`,
    /// which is empty; `Bail` sends the record to [`JsonRecord::read`]
    /// (with `rec` emptied again). `keys` is the stream's cache of the
    /// records' keys. By default every record goes to serde.
    fn read_fast<'a>(
        _c: &mut Cursor<'a>,
        _keys: &mut KeyCache,
        _rec: &mut Self::Record<'a>,
    ) -> Fast<()> {
        Err(Bail)
    }
}

/// Seed reading one record through [`JsonRecord::read`].
struct ReadSeed<'r, 'de, R: JsonRecord>(&'r mut R::Record<'de>);

impl<'de, R: JsonRecord> DeserializeSeed<'de> for ReadSeed<'_, 'de, R> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        R::read(d, self.0)
    }
}

/// Parse `text` as one whole record (`from_str`'s checks: one value, then
/// only whitespace) and emit it; the parse error otherwise.
fn parse_emit<R: JsonRecord>(
    text: &str,
    keys: &mut KeyCache,
    pos: RecordPos,
    out: &mut Output,
) -> Result<(), serde_json::Error> {
    if R::FAST {
        let mut rec = R::Record::default();
        let mut c = Cursor::new(text);
        if R::read_fast(&mut c, keys, &mut rec)
            .and_then(|()| c.end())
            .is_ok()
        {
            R::emit(&mut rec, pos, out);
            return Ok(());
        }
    }
    parse_emit_serde::<R>(text, pos, out)
}

/// [`parse_emit`] by serde alone.
fn parse_emit_serde<R: JsonRecord>(
    text: &str,
    pos: RecordPos,
    out: &mut Output,
) -> Result<(), serde_json::Error> {
    let mut rec = R::Record::default();
    let mut de = serde_json::Deserializer::from_str(text);
    R::read(&mut de, &mut rec)?;
    de.end()?;
    R::emit(&mut rec, pos, out);
    Ok(())
}

/// A JSON string borrowed from the input unless escapes force a copy
/// (serde's `Cow<str>` copies always, and inside `Option` even with
/// `#[serde(borrow)]`). Derefs to `str`.
#[derive(Debug)]
pub(crate) struct JsonText<'a>(pub Cow<'a, str>);

impl std::ops::Deref for JsonText<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for JsonText<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = JsonText<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(JsonText(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(JsonText(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}

/// Reads an optional string straight into its slot (`null` leaves it
/// empty): what `*slot = map.next_value::<Option<JsonText>>()?` does, with
/// the same errors, without returning the value through serde's option
/// layer first.
pub(crate) struct TextSlot<'r, 'a>(pub &'r mut Option<JsonText<'a>>);

impl<'de> DeserializeSeed<'de> for TextSlot<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for TextSlot<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("option")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(TextValue(self.0))
    }
}

/// The string of a [`TextSlot`].
struct TextValue<'r, 'a>(&'r mut Option<JsonText<'a>>);

impl<'de> Visitor<'de> for TextValue<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        *self.0 = Some(JsonText(Cow::Borrowed(v)));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        *self.0 = Some(JsonText(Cow::Owned(v.to_owned())));
        Ok(())
    }
}

/// Line-fed JSON record stream: fast path for whole lines, [`JsonSplitter`]
/// for the rest.
pub(crate) struct JsonStream {
    splitter: JsonSplitter,
    envelope_key: Option<&'static str>,
    /// The records' top-level keys, for the fast path.
    keys: KeyCache,
}

impl JsonStream {
    /// `envelope_key`: the key of an object whose array value holds the
    /// records (`Records` for CloudTrail), if the format has one.
    pub(crate) fn new(envelope_key: Option<&'static str>) -> Self {
        JsonStream {
            splitter: JsonSplitter::new(envelope_key),
            envelope_key,
            keys: KeyCache::new(),
        }
    }

    /// Feed one line.
    pub(crate) fn push<R: JsonRecord>(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        // A byte order mark can only start an input, but costs nothing to
        // drop wherever it is.
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if self.splitter.is_open() && self.splitter.push_line::<R>(line, pos, out) {
            return;
        }
        let bytes = line.trim_ascii();
        let Some(&first) = bytes.first() else {
            return;
        };
        if first != b'{' && first != b'[' {
            let detail = format!("line does not start a JSON value: {}", preview(bytes));
            return out.error(pos, "invalid JSON", detail);
        }
        // Validating the whole line once is far cheaper than serde_json
        // validating every string it reads; a line that is not UTF-8 goes
        // to the splitter, which reports each record it holds.
        let Some(text) = crate::utf8::text(bytes) else {
            return self.fallback::<R>(line, pos, out);
        };
        if first == b'{' && !self.envelope_key.is_some_and(|k| starts_with_key(bytes, k)) {
            match parse_emit::<R>(text, &mut self.keys, pos, out) {
                Ok(()) => {}
                Err(e) if e.is_eof() => self.fallback::<R>(line, pos, out),
                Err(e) => out.error(pos, error_kind(&e), e.to_string()),
            }
            return;
        }
        // An envelope or array on one line, read in one pass. Should any
        // record in it fail to parse, what it emitted is taken back and
        // the splitter goes over the line record by record instead, so the
        // others are kept and the bad one is reported alone; if the line
        // ends inside the value, the splitter continues on the next lines.
        let mark = Mark::new(out);
        if R::FAST {
            let envelope = first == b'{';
            let keys = &mut self.keys;
            if fast_records::<R>(text, envelope, self.envelope_key, keys, pos, out).is_ok() {
                return;
            }
            mark.rewind(out);
        }
        let seed = Records::<R> {
            pos,
            out: &mut *out,
            key: self.envelope_key,
            _record: PhantomData,
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed = if first == b'{' {
            de.deserialize_map(seed)
        } else {
            de.deserialize_seq(seed)
        };
        if parsed.and_then(|()| de.end()).is_err() {
            mark.rewind(out);
            self.fallback::<R>(line, pos, out);
        }
    }

    fn fallback<R: JsonRecord>(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        // The splitter is closed here, so it takes the whole line.
        let taken = self.splitter.push_line::<R>(line, pos, out);
        debug_assert!(taken);
    }

    /// End of input: report a value left open.
    pub(crate) fn finish(&mut self, out: &mut Output) {
        self.splitter.abandon(out, "input ended");
    }

    /// Start of the top-level value still open, if any.
    pub(crate) fn oldest_pending(&self) -> Option<RecordPos> {
        self.splitter.oldest_pending()
    }
}

/// An envelope or array of records on one line, read with the cursor,
/// each record emitted as it is read: the same records and the same
/// events as the serde reading of [`Records`]. On `Bail` the caller takes
/// back what was emitted and reads the line with serde.
fn fast_records<R: JsonRecord>(
    text: &str,
    envelope: bool,
    key: Option<&str>,
    keys: &mut KeyCache,
    pos: RecordPos,
    out: &mut Output,
) -> Fast<()> {
    let mut c = Cursor::new(text);
    if envelope {
        c.object()?;
        let mut first = true;
        while let Some(k) = c.next_key(&mut first)? {
            if Some(k.plain()?) == key {
                fast_array::<R>(&mut c, keys, pos, out)?;
            } else {
                c.skip()?;
            }
        }
    } else {
        fast_array::<R>(&mut c, keys, pos, out)?;
    }
    c.end()
}

/// The records of an array, read with the cursor and emitted.
fn fast_array<R: JsonRecord>(
    c: &mut Cursor<'_>,
    keys: &mut KeyCache,
    pos: RecordPos,
    out: &mut Output,
) -> Fast<()> {
    c.array()?;
    let mut first = true;
    while c.next_element(&mut first)? {
        let mut rec = R::Record::default();
        R::read_fast(c, keys, &mut rec)?;
        R::emit(&mut rec, pos, out);
    }
    Ok(())
}

/// What an [`Output`] held before a one-pass parse, to take back what the
/// parse emitted if it fails.
struct Mark {
    events: usize,
    errors: usize,
    stats: Stats,
}

impl Mark {
    fn new(out: &Output) -> Mark {
        Mark {
            events: out.events.len(),
            errors: out.errors.len(),
            stats: out.stats.clone(),
        }
    }

    fn rewind(&self, out: &mut Output) {
        out.events.truncate(self.events);
        out.errors.truncate(self.errors);
        out.stats.clone_from(&self.stats);
    }
}

/// Seed reading an envelope (`{"<key>": [records], …}`) or an array of
/// records, emitting each record as it is parsed.
struct Records<'o, R> {
    pos: RecordPos,
    out: &'o mut Output,
    key: Option<&'static str>,
    _record: PhantomData<R>,
}

impl<'de, R: JsonRecord> DeserializeSeed<'de> for Records<'_, R> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, R: JsonRecord> Visitor<'de> for Records<'_, R> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records, or an envelope holding one")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Records { pos, out, key, .. } = self;
        while let Some(k) = map.next_key::<JsonText<'de>>()? {
            if Some(&*k) == key {
                map.next_value_seed(Records::<R> {
                    pos,
                    out: &mut *out,
                    key: None,
                    _record: PhantomData,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let mut rec = R::Record::default();
            if seq.next_element_seed(ReadSeed::<R>(&mut rec))?.is_none() {
                return Ok(());
            }
            R::emit(&mut rec, self.pos, self.out);
        }
    }
}

/// Parse and emit one record cut out by the splitter.
fn run<R: JsonRecord>(bytes: &[u8], pos: RecordPos, out: &mut Output) {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return out.error(
                pos,
                "invalid UTF-8",
                format!("record bytes are not UTF-8: {e}"),
            );
        }
    };
    // Records cut out of pretty-printed input: serde alone (the key cache
    // serves streams of whole-line records).
    if let Err(e) = parse_emit_serde::<R>(text, pos, out) {
        out.error(pos, error_kind(&e), e.to_string());
    }
}

/// Does the object `text` (starting with `{`) open with the key `key`?
fn starts_with_key(text: &[u8], key: &str) -> bool {
    let rest = text[1..].trim_ascii_start();
    rest.strip_prefix(b"\"")
        .and_then(|r| r.strip_prefix(key.as_bytes()))
        .is_some_and(|r| r.starts_with(b"\""))
}

/// The first bytes of a line, for error messages.
pub(crate) fn preview(text: &[u8]) -> String {
    const MAX: usize = 60;
    let cut = text.len().min(MAX);
    let mut s = String::from_utf8_lossy(&text[..cut]).into_owned();
    if text.len() > MAX {
        s.push('…');
    }
    s
}

/// How the records sit in the open top-level value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// A top-level object whose first key has not been seen yet: a record,
    /// or the envelope.
    Undecided,
    /// The top-level object is one record.
    Single,
    /// The envelope: records are the objects at depth 2.
    Envelope,
    /// A top-level array: records are the objects at depth 1.
    Array,
}

/// Cuts JSON records out of lines, across line boundaries.
pub(crate) struct JsonSplitter {
    envelope_key: Option<&'static str>,
    /// Inside a top-level value.
    open: bool,
    mode: Mode,
    /// Bracket depth; 1 inside the top-level value.
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Collecting a record's bytes into `buf`.
    collecting: bool,
    /// The record outgrew [`MAX_RECORD`]: its bytes are no longer kept.
    oversized: bool,
    buf: Vec<u8>,
    value_pos: RecordPos,
    record_pos: RecordPos,
    /// Something that is not a record was met at record depth since the
    /// last separator (reported once).
    stray_reported: bool,
}

impl JsonSplitter {
    pub(crate) fn new(envelope_key: Option<&'static str>) -> Self {
        JsonSplitter {
            envelope_key,
            open: false,
            mode: Mode::Single,
            depth: 0,
            in_string: false,
            escaped: false,
            collecting: false,
            oversized: false,
            buf: Vec::new(),
            value_pos: RecordPos::default(),
            record_pos: RecordPos::default(),
            stray_reported: false,
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open
    }

    pub(crate) fn oldest_pending(&self) -> Option<RecordPos> {
        self.open.then_some(self.value_pos)
    }

    /// The depth at which records open, for the current mode.
    fn record_depth(&self) -> u32 {
        match self.mode {
            Mode::Envelope => 2,
            Mode::Array => 1,
            Mode::Undecided | Mode::Single => 0,
        }
    }

    /// Feed a line. Returns `false`, having reported the open value as
    /// truncated, when the line starts a new record at column 0 while a
    /// value is open: the caller then treats the line as fresh input.
    pub(crate) fn push_line<R: JsonRecord>(
        &mut self,
        line: &[u8],
        pos: RecordPos,
        out: &mut Output,
    ) -> bool {
        if self.open
            && (line.starts_with(b"{\"") || line.starts_with(b"[{"))
            && !self.resync(line, pos, out)
        {
            return false;
        }
        if self.collecting {
            self.keep(b"\n");
        }
        let mut seg_start = 0usize;
        let mut i = 0usize;
        while i < line.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                match memchr::memchr2(b'"', b'\\', &line[i..]) {
                    None => i = line.len(),
                    Some(k) => {
                        i += k;
                        if line[i] == b'\\' {
                            self.escaped = true;
                        } else {
                            self.in_string = false;
                        }
                        i += 1;
                    }
                }
                continue;
            }
            let b = line[i];
            match b {
                b'"' => {
                    self.in_string = true;
                    if self.open && !self.collecting && self.depth == self.record_depth() {
                        self.stray(pos, out);
                    }
                }
                b'{' | b'[' => {
                    if !self.open {
                        self.begin_value(b, pos);
                        seg_start = i;
                    } else if self.mode == Mode::Undecided && self.depth == 1 {
                        // The first value of the top-level object decides
                        // whether it is the envelope.
                        if b == b'[' && self.is_envelope_prefix(&line[seg_start..i]) {
                            self.mode = Mode::Envelope;
                            self.collecting = false;
                            self.buf.clear();
                        } else {
                            self.mode = Mode::Single;
                        }
                    } else if !self.collecting && self.depth == self.record_depth() {
                        if b == b'{' {
                            self.collecting = true;
                            self.oversized = false;
                            self.buf.clear();
                            self.record_pos = pos;
                            seg_start = i;
                        } else {
                            self.stray(pos, out);
                        }
                    }
                    self.depth += 1;
                }
                b'}' | b']' => {
                    if !self.open {
                        out.error(pos, "invalid JSON", "closing bracket outside any value");
                        return true;
                    } else {
                        self.depth -= 1;
                        if self.collecting && self.depth == self.record_depth() {
                            self.keep(&line[seg_start..=i]);
                            self.emit::<R>(out);
                        }
                        if self.depth == 0 {
                            self.open = false;
                        }
                    }
                }
                b',' if self.open => {
                    if self.mode == Mode::Undecided && self.depth == 1 {
                        self.mode = Mode::Single;
                    } else if self.depth == self.record_depth() {
                        self.stray_reported = false;
                    }
                }
                b' ' | b'\t' | b'\r' | b'\n' | b',' | b':' => {}
                _ => {
                    if !self.open {
                        out.error(
                            pos,
                            "invalid JSON",
                            format!("text outside any JSON value: {}", preview(&line[i..])),
                        );
                        return true;
                    }
                    if !self.collecting && self.depth == self.record_depth() {
                        self.stray(pos, out);
                    }
                }
            }
            i += 1;
        }
        if self.collecting {
            self.keep(&line[seg_start..]);
        }
        true
    }

    /// A line starting at column 0 with `{"` or `[{` arrived while a value
    /// is open. Pretty-printers indent whatever is inside a value, so such
    /// a line cannot continue an open record: that record was cut off.
    /// Inside an array or envelope of compact records (`[` then one
    /// `{"…"},` per line) the line is the next element and the container
    /// stays open; otherwise the open value is given up and `false` says
    /// the line starts afresh.
    fn resync(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) -> bool {
        // A container whose record in progress began on the container's own
        // line is a compact one-line array or envelope that was cut off.
        let compact = self.collecting && self.record_pos.line == self.value_pos.line;
        let in_container = matches!(self.mode, Mode::Array | Mode::Envelope) && !compact;
        let new_envelope = self.envelope_key.is_some_and(|k| starts_with_key(line, k));
        if !in_container || line.starts_with(b"[") || new_envelope {
            self.abandon(out, &format!("line {} starts a new record", pos.line));
            return false;
        }
        if self.collecting {
            out.error(
                self.record_pos,
                "truncated JSON",
                format!("record cut off: line {} starts a new record", pos.line),
            );
            self.collecting = false;
            self.oversized = false;
            self.buf.clear();
        }
        self.depth = self.record_depth();
        self.in_string = false;
        self.escaped = false;
        true
    }

    fn begin_value(&mut self, bracket: u8, pos: RecordPos) {
        self.open = true;
        self.depth = 0;
        self.value_pos = pos;
        self.stray_reported = false;
        self.mode = match (bracket, self.envelope_key) {
            (b'[', _) => Mode::Array,
            (_, Some(_)) => Mode::Undecided,
            (_, None) => Mode::Single,
        };
        // A top-level object is (or may be) the record itself.
        self.collecting = self.mode != Mode::Array;
        self.oversized = false;
        self.buf.clear();
        self.record_pos = pos;
    }

    /// Is what was read of the top-level object, plus `tail` of the current
    /// line, exactly `{"<envelope key>":` (whitespace aside)?
    fn is_envelope_prefix(&self, tail: &[u8]) -> bool {
        let Some(key) = self.envelope_key else {
            return false;
        };
        let mut want = b"{\"".iter().chain(key.as_bytes()).chain(b"\":");
        for &c in self.buf.iter().chain(tail) {
            if c.is_ascii_whitespace() {
                continue;
            }
            if want.next() != Some(&c) {
                return false;
            }
        }
        want.next().is_none()
    }

    fn keep(&mut self, bytes: &[u8]) {
        if self.oversized {
            return;
        }
        if self.buf.len() + bytes.len() > MAX_RECORD {
            self.oversized = true;
            self.buf = Vec::new();
        } else {
            self.buf.extend_from_slice(bytes);
        }
    }

    fn emit<R: JsonRecord>(&mut self, out: &mut Output) {
        self.collecting = false;
        if self.oversized {
            self.oversized = false;
            out.error(
                self.record_pos,
                "record too large",
                format!("JSON record over {MAX_RECORD} bytes"),
            );
            return;
        }
        let buf = std::mem::take(&mut self.buf);
        run::<R>(&buf, self.record_pos, out);
        self.buf = buf;
        self.buf.clear();
    }

    fn stray(&mut self, pos: RecordPos, out: &mut Output) {
        if !self.stray_reported {
            self.stray_reported = true;
            out.error(
                pos,
                "invalid record",
                "an array element is not a JSON object",
            );
        }
    }

    /// Give up the open value (it will not be completed), reporting what
    /// was lost; `why` says what cut it off.
    pub(crate) fn abandon(&mut self, out: &mut Output, why: &str) {
        if !self.open {
            return;
        }
        if self.collecting {
            out.error(
                self.record_pos,
                "truncated JSON",
                format!("record cut off: {why} before it closed"),
            );
        } else {
            let what = match self.mode {
                Mode::Envelope => "envelope",
                _ => "array",
            };
            out.error(
                self.value_pos,
                "truncated JSON",
                format!("{what} cut off: {why} before it closed (records before were kept)"),
            );
        }
        self.open = false;
        self.collecting = false;
        self.oversized = false;
        self.in_string = false;
        self.escaped = false;
        self.depth = 0;
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests;

/// What the fast path must not change, checked by each format that has
/// one: a format's records read by serde alone ([`SerdeOnly`]) give the
/// same output as with its cursor reader.
#[cfg(test)]
pub(crate) mod differential {
    use std::marker::PhantomData;

    use super::*;

    /// `R` without its fast path.
    pub(crate) struct SerdeOnly<R>(PhantomData<R>);

    impl<R: JsonRecord> JsonRecord for SerdeOnly<R> {
        type Record<'de> = R::Record<'de>;
        fn read<'de, D: Deserializer<'de>>(
            d: D,
            rec: &mut Self::Record<'de>,
        ) -> Result<(), D::Error> {
            R::read(d, rec)
        }
        fn emit(rec: &mut Self::Record<'_>, pos: RecordPos, out: &mut Output) {
            R::emit(rec, pos, out)
        }
    }

    /// `lines` through a stream of `R`, as the output's debug text.
    fn run<R: JsonRecord>(lines: &[Vec<u8>], envelope: Option<&'static str>) -> String {
        let mut stream = JsonStream::new(envelope);
        let mut out = Output::default();
        let mut pos = RecordPos::default();
        for line in lines {
            pos.line += 1;
            stream.push::<R>(line, pos, &mut out);
            pos.offset += line.len() as u64 + 1;
        }
        stream.finish(&mut out);
        format!("{out:#?}")
    }

    /// The same output with and without the fast path.
    pub(crate) fn assert_agrees<R: JsonRecord>(lines: &[Vec<u8>], envelope: Option<&'static str>) {
        let fast = run::<R>(lines, envelope);
        let slow = run::<SerdeOnly<R>>(lines, envelope);
        if fast != slow {
            let text: Vec<_> = lines.iter().map(|l| String::from_utf8_lossy(l)).collect();
            panic!("fast path differs on {text:#?}\nfast: {fast}\nserde: {slow}");
        }
    }

    /// How many of `lines` the fast path reads whole (as one record, or
    /// as an array or envelope of records), for tests that must exercise it.
    pub(crate) fn fast_count<R: JsonRecord>(lines: &[Vec<u8>], envelope: Option<&str>) -> usize {
        assert!(R::FAST, "a format tested for its fast path must turn it on");
        lines
            .iter()
            .filter_map(|l| std::str::from_utf8(l.trim_ascii()).ok())
            .filter(|text| {
                let keys = &mut KeyCache::new();
                let mut out = Output::default();
                let pos = RecordPos::default();
                match text.as_bytes().first() {
                    Some(b'{')
                        if !envelope.is_some_and(|k| starts_with_key(text.as_bytes(), k)) =>
                    {
                        let mut rec = R::Record::default();
                        let mut c = Cursor::new(text);
                        R::read_fast(&mut c, keys, &mut rec)
                            .and_then(|()| c.end())
                            .is_ok()
                    }
                    Some(b'{') => {
                        fast_records::<R>(text, true, envelope, keys, pos, &mut out).is_ok()
                    }
                    Some(b'[') => {
                        fast_records::<R>(text, false, envelope, keys, pos, &mut out).is_ok()
                    }
                    _ => false,
                }
            })
            .count()
    }
}
