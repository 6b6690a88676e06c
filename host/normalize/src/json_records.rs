//! JSON records out of lines, for decoders that keep state between
//! records.
//!
//! The endpoint decoders (Windows JSON, eslogger, unified log) remember
//! things across records (a process's user, the processes already
//! reported), so their handler is a closure over that state, called once
//! per record in input order. `json_stream` serves the stateless cloud
//! decoders with a one-pass reader of whole arrays that may take back what
//! a failed array emitted; state changes cannot be taken back, hence this
//! simpler splitter.
//!
//! Accepted layouts: one object per line (the fast path: the line is
//! parsed where it lies, no copy); an object pretty-printed over many lines
//! (`jq .`); a top-level array of objects on one line or many (`log show
//! --style json`), cut into records as each closes so memory holds one
//! record, never the array. A record over [`MAX_RECORD`] bytes is dropped
//! and counted; a value still open at end of input, or an object still open
//! when a line starting a new record at column 0 (`{"` or `[{`) arrives, is
//! counted as truncated.

use serde_json::value::RawValue;

use crate::{Output, RecordPos};

/// The error category of a serde_json failure, for [`Output::error`].
pub(crate) fn error_kind(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "truncated JSON",
        Category::Data => "invalid record",
        Category::Syntax | Category::Io => "invalid JSON",
    }
}

/// The first bytes of some input, for error details.
pub(crate) fn preview(text: &[u8]) -> String {
    const MAX: usize = 60;
    let cut = text.len().min(MAX);
    let mut s = String::from_utf8_lossy(&text[..cut]).into_owned();
    if text.len() > MAX {
        s.push('…');
    }
    s
}

/// Largest record kept, in bytes.
pub(crate) const MAX_RECORD: usize = 4 << 20;

/// What a decoder does with one record's bytes: parse and emit, or return
/// serde's error (the splitter reports it).
pub(crate) type Handler<'h> =
    dyn FnMut(&[u8], RecordPos, &mut Output) -> Result<(), serde_json::Error> + 'h;

/// Parse one record. The bytes are checked as UTF-8 once, in bulk, and
/// read with `from_str`, which then skips serde_json's check of every
/// string it reads (most of the cost of parsing these records); bytes that
/// are not UTF-8 go through `from_slice` so the error says where.
pub(crate) fn parse<'a, T: serde::Deserialize<'a>>(
    bytes: &'a [u8],
) -> Result<T, serde_json::Error> {
    match crate::utf8::text(bytes) {
        Some(text) => serde_json::from_str(text),
        None => serde_json::from_slice(bytes),
    }
}

/// [`parse`] through a seed, for records read into a value the caller
/// owns rather than returned (and copied) whole; the same checks, the
/// same errors as `from_str` / `from_slice`.
pub(crate) fn parse_seed<'a, S: serde::de::DeserializeSeed<'a>>(
    bytes: &'a [u8],
    seed: S,
) -> Result<S::Value, serde_json::Error> {
    fn run<'a, R: serde_json::de::Read<'a>, S: serde::de::DeserializeSeed<'a>>(
        mut de: serde_json::Deserializer<R>,
        seed: S,
    ) -> Result<S::Value, serde_json::Error> {
        let value = seed.deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
    match crate::utf8::text(bytes) {
        Some(text) => run(serde_json::Deserializer::from_str(text), seed),
        None => run(serde_json::Deserializer::from_slice(bytes), seed),
    }
}

/// Line-fed splitter of JSON records.
#[derive(Default)]
pub(crate) struct JsonRecords {
    /// Inside a top-level value that spans lines.
    open: bool,
    /// The open value is an array (records are its objects).
    array: bool,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Bytes of the record being cut out.
    buf: Vec<u8>,
    collecting: bool,
    oversized: bool,
    value_pos: RecordPos,
    record_pos: RecordPos,
    /// A non-object element was reported since the last separator.
    stray_reported: bool,
}

fn run(handle: &mut Handler<'_>, bytes: &[u8], pos: RecordPos, out: &mut Output) {
    if let Err(e) = handle(bytes, pos, out) {
        out.error(pos, error_kind(&e), e.to_string());
    }
}

impl JsonRecords {
    pub(crate) fn new() -> Self {
        JsonRecords::default()
    }

    /// Feed one line.
    pub(crate) fn push(
        &mut self,
        line: &[u8],
        pos: RecordPos,
        out: &mut Output,
        handle: &mut Handler<'_>,
    ) {
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if self.open {
            // An object left open by a cut line: a new record at column 0
            // cannot continue it (pretty-printers indent inside values).
            // Inside an array, such a line is just the next element.
            if !self.array && (line.starts_with(b"{\"") || line.starts_with(b"[{")) {
                self.abandon(out, &format!("line {} starts a new record", pos.line));
            } else {
                self.scan(line, pos, out, handle);
                return;
            }
        }
        let text = line.trim_ascii();
        match text.first() {
            None => {}
            Some(b'{') => match handle(text, pos, out) {
                Ok(()) => {}
                Err(e) if e.is_eof() => self.scan(line, pos, out, handle),
                Err(e) => out.error(pos, error_kind(&e), e.to_string()),
            },
            Some(b'[') => match serde_json::from_slice::<Vec<&RawValue>>(text) {
                Ok(records) => {
                    for r in records {
                        let bytes = r.get().as_bytes();
                        if bytes.first() == Some(&b'{') {
                            run(handle, bytes, pos, out);
                        } else {
                            out.error(
                                pos,
                                "invalid record",
                                "an array element is not a JSON object",
                            );
                        }
                    }
                }
                Err(_) => self.scan(line, pos, out, handle),
            },
            Some(_) => out.error(
                pos,
                "invalid JSON",
                format!("line does not start a JSON value: {}", preview(text)),
            ),
        }
    }

    /// Track brackets and strings through `line`, cutting out records.
    fn scan(&mut self, line: &[u8], pos: RecordPos, out: &mut Output, handle: &mut Handler<'_>) {
        // Where the part of the current record on this line starts.
        let mut seg = 0usize;
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
            let record_depth = u32::from(self.array);
            let b = line[i];
            match b {
                b'{' | b'[' if !self.open => {
                    self.open = true;
                    self.array = b == b'[';
                    self.depth = 1;
                    self.value_pos = pos;
                    self.stray_reported = false;
                    if !self.array {
                        self.start_record(pos);
                        seg = i;
                    }
                }
                b'{' | b'[' => {
                    if !self.collecting && self.depth == record_depth {
                        if b == b'{' {
                            self.start_record(pos);
                            seg = i;
                        } else {
                            self.stray(pos, out);
                        }
                    }
                    self.depth += 1;
                }
                b'}' | b']' if !self.open => {
                    return out.error(pos, "invalid JSON", "closing bracket outside any value");
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.collecting && self.depth == record_depth {
                        self.keep(&line[seg..=i]);
                        self.emit(out, handle);
                    }
                    if self.depth == 0 {
                        // The value closed; what follows on the line is
                        // scanned as fresh input.
                        self.open = false;
                        self.array = false;
                    }
                }
                b' ' | b'\t' | b'\r' | b'\n' => {}
                _ if !self.open => {
                    return out.error(
                        pos,
                        "invalid JSON",
                        format!("text outside any JSON value: {}", preview(&line[i..])),
                    );
                }
                b'"' => {
                    self.in_string = true;
                    if !self.collecting && self.depth == record_depth {
                        self.stray(pos, out);
                    }
                }
                b',' if self.depth == record_depth => self.stray_reported = false,
                b',' | b':' => {}
                _ => {
                    if !self.collecting && self.depth == record_depth {
                        self.stray(pos, out);
                    }
                }
            }
            i += 1;
        }
        if self.collecting {
            self.keep(&line[seg..]);
            self.keep(b"\n");
        }
    }

    fn start_record(&mut self, pos: RecordPos) {
        self.collecting = true;
        self.oversized = false;
        self.buf.clear();
        self.record_pos = pos;
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

    fn emit(&mut self, out: &mut Output, handle: &mut Handler<'_>) {
        self.collecting = false;
        if std::mem::take(&mut self.oversized) {
            return out.error(
                self.record_pos,
                "record too large",
                format!("JSON record over {MAX_RECORD} bytes"),
            );
        }
        let buf = std::mem::take(&mut self.buf);
        run(handle, &buf, self.record_pos, out);
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

    /// Give up the open value, reporting what was lost.
    fn abandon(&mut self, out: &mut Output, why: &str) {
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
            out.error(
                self.value_pos,
                "truncated JSON",
                format!("array cut off: {why} before it closed (records before were kept)"),
            );
        }
        *self = JsonRecords {
            buf: std::mem::take(&mut self.buf),
            ..JsonRecords::default()
        };
        self.buf.clear();
    }

    /// End of input.
    pub(crate) fn finish(&mut self, out: &mut Output) {
        self.abandon(out, "input ended");
    }

    /// Start of the value still open, if any.
    pub(crate) fn oldest_pending(&self) -> Option<RecordPos> {
        self.open.then_some(self.value_pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `lines`; return each record's text and line, and error kinds.
    fn split(lines: &[&str]) -> (Vec<(String, u64)>, Vec<&'static str>) {
        let mut s = JsonRecords::new();
        let mut out = Output::default();
        let mut got = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let pos = RecordPos {
                line: i as u64 + 1,
                offset: 0,
            };
            s.push(l.as_bytes(), pos, &mut out, &mut |b, pos, _| {
                let v: serde_json::Value = serde_json::from_slice(b)?;
                got.push((v.to_string(), pos.line));
                Ok(())
            });
        }
        s.finish(&mut out);
        assert!(s.oldest_pending().is_none());
        (got, out.errors.iter().map(|e| e.kind).collect())
    }

    #[test]
    fn layouts() {
        let one = r#"{"a":1}"#.to_owned();
        assert_eq!(split(&[&one, "", &one]).0.len(), 2);
        // Pretty-printed object, brackets inside strings.
        let (r, e) = split(&["{", r#"  "a": "}]{[","#, r#"  "b": {"c": [1, 2]}"#, "}"]);
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(r, vec![(r#"{"a":"}]{[","b":{"c":[1,2]}}"#.to_owned(), 1)]);
        // log show --style json: array over lines, "},{" separators.
        let (r, e) = split(&["[{", r#"  "a" : "x\"y""#, "},{", r#"  "a" : 2"#, "}]"]);
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(r.iter().map(|(_, l)| *l).collect::<Vec<_>>(), vec![1, 3]);
        // A one-line array, and a value followed by another on its line.
        assert_eq!(split(&[r#"[{"a":1},{"a":2}]"#]).0.len(), 2);
        assert_eq!(split(&["{", r#""a":1} {"b":"#, "2}"]).0.len(), 2);
    }

    #[test]
    fn damage_is_counted() {
        // A truncated line followed by good lines: only it is lost.
        let (r, e) = split(&[r#"{"a":"#, r#"{"a":2}"#, r#"{"a":3}"#]);
        assert_eq!((r.len(), e), (2, vec!["truncated JSON"]));
        // An array cut off at the end; elements that are not objects.
        let (r, e) = split(&["[", r#"{"a":1},"#, "7,", r#"{"a":2},"#, r#"{"a":"#]);
        assert_eq!((r.len(), e), (2, vec!["invalid record", "truncated JSON"]));
        assert_eq!(split(&["nope"]).1, vec!["invalid JSON"]);
        assert_eq!(split(&["}"]).1, vec!["invalid JSON"]);
        assert_eq!(split(&[r#"{"a":1,}"#]).1, vec!["invalid JSON"]);
        // A record over the limit is dropped, the next one kept.
        let big = format!(r#""{}""#, "x".repeat(MAX_RECORD));
        let (r, e) = split(&["{", r#""a":"#, &big, "}", r#"{"b":1}"#]);
        assert_eq!((r.len(), e), (1, vec!["record too large"]));
    }
}
