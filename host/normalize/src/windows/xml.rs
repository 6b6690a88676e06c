//! Windows event XML: one `<Event>` per line, one spread over many lines,
//! or an Event Viewer / `wevtutil` export (`<?xml?><Events>…</Events>`).
//!
//! Lines are searched for `<Event …>` … `</Event>` (memchr's substring
//! search); an event that closes on the line it opens on is parsed where it
//! lies, one that does not is copied into a buffer until it closes. Each
//! `<Event>` is one record, reported at the line its start tag is on. The
//! record is then read with quick-xml's pull reader (no DOM): only the
//! `System` fields and the `EventData` values the mapping uses are kept,
//! borrowed from the record text.
//!
//! Bad input is counted, never fatal: an `<Event>` still open when the next
//! one starts or the input ends ("truncated record"), one over
//! [`MAX_RECORD`] bytes ("record too large"), malformed XML ("invalid
//! XML"), bytes that are not UTF-8 ("invalid UTF-8"), text outside any
//! event ("unexpected content"), an `<Events>` never closed
//! ("truncated document"), and UTF-16 input, which must be converted first.

use std::borrow::Cow;

use std::sync::LazyLock;

use memchr::memmem::{self, Finder};
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event as XmlEvent};
use quick_xml::reader::Reader;

use super::fields::FieldId;
use super::map::Mapper;
use super::record::WinRecord;
use crate::json_records::preview;
use crate::{DecodeContext, Decoder, Format, Output, RecordPos};

/// Substring searchers, built once: building one costs more than running
/// it over a short line, and a multi-line event is searched once per line.
static EVENT_START: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"<Event"));
static EVENT_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"</Event"));

/// Largest `<Event>` kept, in bytes. The longest real ones (4688 with a
/// long command line) are a few KB.
pub const MAX_RECORD: usize = 4 << 20;

/// Decoder for Windows event XML.
pub struct WindowsXmlDecoder {
    mapper: Mapper,
    /// Bytes of an `<Event>` that has not closed yet, from its `<`.
    pending: Vec<u8>,
    /// Line of the pending event's start tag.
    pending_pos: Option<RecordPos>,
    /// Where the next search of `pending` starts.
    scan_from: usize,
    /// An oversized event is being dropped up to its `</Event>`.
    discarding: Option<RecordPos>,
    /// An `<Events>` document element opened and not yet closed.
    document: Option<RecordPos>,
}

impl WindowsXmlDecoder {
    pub fn new(ctx: &DecodeContext) -> Self {
        WindowsXmlDecoder {
            mapper: Mapper::new(ctx),
            pending: Vec::new(),
            pending_pos: None,
            scan_from: 0,
            discarding: None,
            document: None,
        }
    }

    /// Handle text that lies outside any event: declarations, the
    /// `<Events>` wrapper, comments, and the starts of events.
    fn outside(&mut self, data: &[u8], pos: RecordPos, out: &mut Output) {
        let mut rest = data;
        loop {
            rest = rest.trim_ascii_start();
            if rest.is_empty() {
                return;
            }
            let skip_past =
                |rest: &[u8], end: &[u8]| memmem::find(rest, end).map(|i| i + end.len());
            let consumed = if rest.starts_with(b"<?") {
                skip_past(rest, b"?>")
            } else if rest.starts_with(b"<!--") {
                skip_past(rest, b"-->")
            } else if rest.starts_with(b"<!") {
                skip_past(rest, b">")
            } else if is_start_tag(rest, b"Events") {
                self.document = Some(pos);
                skip_past(rest, b">")
            } else if rest.starts_with(b"</Events") {
                self.document = None;
                skip_past(rest, b">")
            } else if is_start_tag(rest, b"Event") {
                Some(self.event_start(rest, pos, out))
            } else {
                out.error(
                    pos,
                    "unexpected content",
                    format!("text outside any <Event>: {}", preview(rest)),
                );
                return;
            };
            match consumed {
                Some(n) => rest = &rest[n.min(rest.len())..],
                // A declaration or comment continued on the next line:
                // nothing in it is a record.
                None => return,
            }
        }
    }

    /// `rest` starts with an `<Event` start tag: parse the event if it
    /// closes within `rest`, else start buffering it. Returns how many
    /// bytes of `rest` were used.
    fn event_start(&mut self, rest: &[u8], pos: RecordPos, out: &mut Output) -> usize {
        if let Some(gt) = memchr::memchr(b'>', rest)
            && rest[gt - 1] == b'/'
        {
            out.error(pos, "invalid XML", "empty <Event/> element");
            return gt + 1;
        }
        match find_event_end(rest, 0) {
            Some(end) if find_event_start(rest, 1).is_none_or(|s| s >= end) => {
                self.record(&rest[..end], pos, out);
                end
            }
            Some(_) | None => {
                // Continued on later lines (or cut short by another start,
                // which `advance_pending` reports).
                self.pending.clear();
                self.pending.extend_from_slice(rest);
                self.pending.push(b'\n');
                self.pending_pos = Some(pos);
                self.scan_from = 1;
                self.advance_pending(pos, out);
                rest.len()
            }
        }
    }

    /// Look for the end of the pending event (or a new start that cuts it
    /// off) in what was buffered so far.
    fn advance_pending(&mut self, pos: RecordPos, out: &mut Output) {
        let Some(start_pos) = self.pending_pos else {
            return;
        };
        let end = find_event_end(&self.pending, self.scan_from);
        let restart = find_event_start(&self.pending, self.scan_from.max(1));
        let end = end.filter(|&e| restart.is_none_or(|r| r >= e));
        match (end, restart) {
            (Some(end), _) => {
                let buf = std::mem::take(&mut self.pending);
                self.pending_pos = None;
                self.record(&buf[..end], start_pos, out);
                let tail = &buf[end..];
                if !tail.trim_ascii().is_empty() {
                    let tail = tail.to_vec();
                    self.outside(&tail, pos, out);
                }
                // Keep the allocation for the next multi-line event.
                if self.pending_pos.is_none() {
                    self.pending = buf;
                    self.pending.clear();
                }
            }
            (_, Some(restart)) => {
                out.error(
                    start_pos,
                    "truncated record",
                    format!(
                        "<Event> not closed before the next <Event> on line {}",
                        pos.line
                    ),
                );
                let tail = self.pending.split_off(restart);
                self.pending.clear();
                self.pending_pos = None;
                self.outside(&tail, pos, out);
            }
            (None, None) => {
                if self.pending.len() > MAX_RECORD {
                    out.error(
                        start_pos,
                        "record too large",
                        format!("<Event> over {MAX_RECORD} bytes"),
                    );
                    self.pending = Vec::new();
                    self.pending_pos = None;
                    self.discarding = Some(start_pos);
                } else {
                    // Resume just before the end, in case a tag straddles
                    // the next line break.
                    self.scan_from = self.pending.len().saturating_sub(8).max(1);
                }
            }
        }
    }

    /// One complete `<Event>…</Event>`.
    fn record(&mut self, bytes: &[u8], pos: RecordPos, out: &mut Output) {
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                return out.error(
                    pos,
                    "invalid UTF-8",
                    format!("byte {} of the event is not UTF-8", e.valid_up_to()),
                );
            }
        };
        match parse_event(text) {
            Ok(mut rec) => self.mapper.map(&mut rec, bytes, pos, out),
            Err(e) => out.error(pos, "invalid XML", e),
        }
    }
}

impl Decoder for WindowsXmlDecoder {
    fn format(&self) -> Format {
        Format::WindowsXml
    }

    fn push(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"\xFF\xFE")
            || line.starts_with(b"\xFE\xFF")
            || memchr::memchr(0, line).is_some()
        {
            return out.error(
                pos,
                "UTF-16 input",
                "NUL bytes: the file looks UTF-16; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)",
            );
        }
        if let Some(start) = self.discarding {
            match find_event_end(line, 0) {
                Some(end) => {
                    self.discarding = None;
                    self.outside(&line[end..], pos, out);
                }
                None if self.document.is_some() && memmem::find(line, b"</Events").is_some() => {
                    // The document ended inside the oversized event.
                    self.discarding = None;
                    self.document = None;
                    let _ = start;
                }
                None => {}
            }
            return;
        }
        if self.pending_pos.is_some() {
            self.pending.extend_from_slice(line);
            self.pending.push(b'\n');
            self.advance_pending(pos, out);
        } else {
            self.outside(line, pos, out);
        }
    }

    fn finish(&mut self, out: &mut Output) {
        if let Some(pos) = self.pending_pos.take() {
            out.error(
                pos,
                "truncated record",
                "<Event> not closed at end of input",
            );
        } else if let Some(pos) = self.document.take() {
            out.error(
                pos,
                "truncated document",
                "<Events> not closed at end of input (every event before was kept)",
            );
        }
        self.pending.clear();
        self.discarding = None;
        self.document = None;
    }

    fn oldest_pending(&self) -> Option<RecordPos> {
        self.pending_pos.or(self.discarding)
    }
}

/// Does `s` start with the start tag `<name` (followed by space, `>` or
/// `/`)?
fn is_start_tag(s: &[u8], name: &[u8]) -> bool {
    s.len() > name.len() + 1
        && s[0] == b'<'
        && s[1..].starts_with(name)
        && matches!(
            s[name.len() + 1],
            b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'
        )
}

/// Offset of the first `<Event` start tag at or after `from`.
fn find_event_start(s: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at < s.len() {
        let i = at + EVENT_START.find(&s[at..])?;
        if is_start_tag(&s[i..], b"Event") {
            return Some(i);
        }
        at = i + 1;
    }
    None
}

/// Offset just past the first `</Event>` (spaces allowed before `>`) at or
/// after `from`.
fn find_event_end(s: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at < s.len() {
        let i = at + EVENT_END.find(&s[at..])?;
        let mut j = i + b"</Event".len();
        while j < s.len() && s[j].is_ascii_whitespace() {
            j += 1;
        }
        if s.get(j) == Some(&b'>') {
            return Some(j + 1);
        }
        at = i + 1;
    }
    None
}

/// Where text inside the record goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    EventId,
    RecordId,
    Channel,
    Computer,
    Data(FieldId),
}

/// Read one `<Event>` element.
pub(crate) fn parse_event(xml: &str) -> Result<WinRecord<'_>, String> {
    let mut reader = Reader::from_str(xml);
    let mut rec = WinRecord::default();
    let mut depth = 0u32;
    // The depth-2 element we are in: System, EventData, or something else.
    let mut in_system = false;
    let mut in_event_data = false;
    let mut slot: Option<Slot> = None;
    let mut text: Option<Cow<'_, str>> = None;
    let mut saw_event = false;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| format!("at byte {}: {e}", reader.error_position()))?;
        match ev {
            XmlEvent::Start(e) | XmlEvent::Empty(e) if depth == 0 && saw_event => {
                let _ = e;
                return Err("content after </Event>".into());
            }
            XmlEvent::Start(e) => {
                depth += 1;
                open(
                    &e,
                    depth,
                    &mut saw_event,
                    &mut in_system,
                    &mut in_event_data,
                    &mut slot,
                    &mut rec,
                )?;
                text = None;
            }
            XmlEvent::Empty(e) => {
                open(
                    &e,
                    depth + 1,
                    &mut saw_event,
                    &mut in_system,
                    &mut in_event_data,
                    &mut slot,
                    &mut rec,
                )?;
                if let Some(s) = slot.take() {
                    store(&mut rec, s, Cow::Borrowed(""));
                }
            }
            XmlEvent::End(_) => {
                if depth == 3
                    && let Some(s) = slot.take()
                {
                    store(&mut rec, s, text.take().unwrap_or(Cow::Borrowed("")));
                }
                if depth == 2 {
                    in_system = false;
                    in_event_data = false;
                }
                depth = depth.saturating_sub(1);
            }
            XmlEvent::Text(t) if slot.is_some() => append(&mut text, t.xml10_content()),
            XmlEvent::CData(c) if slot.is_some() => append(&mut text, c.into_inner()),
            XmlEvent::GeneralRef(r) if slot.is_some() => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Cow::Owned(c.to_string()),
                    Ok(None) => match quick_xml::escape::resolve_predefined_entity(&r) {
                        Some(s) => Cow::Borrowed(s),
                        None => return Err(format!("unknown entity &{};", &*r)),
                    },
                    Err(e) => return Err(format!("bad character reference &{};: {e}", &*r)),
                };
                append(&mut text, resolved);
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    if !saw_event {
        return Err("no <Event> element".into());
    }
    if depth != 0 {
        return Err("element not closed before </Event>".into());
    }
    Ok(rec)
}

/// An element opens at `depth` (1 = the `<Event>` itself).
fn open<'a>(
    e: &BytesStart<'a>,
    depth: u32,
    saw_event: &mut bool,
    in_system: &mut bool,
    in_event_data: &mut bool,
    slot: &mut Option<Slot>,
    rec: &mut WinRecord<'a>,
) -> Result<(), String> {
    let local = e.local_name();
    let name = local.as_ref();
    match depth {
        1 => {
            if name != "Event" {
                return Err(format!("root element is <{name}>, not <Event>"));
            }
            *saw_event = true;
        }
        2 => {
            *in_system = name == "System";
            *in_event_data = name == "EventData";
        }
        3 if *in_system => {
            *slot = match name {
                "EventID" => Some(Slot::EventId),
                "EventRecordID" => Some(Slot::RecordId),
                "Channel" => Some(Slot::Channel),
                "Computer" => Some(Slot::Computer),
                "TimeCreated" => {
                    rec.time_created =
                        attribute(e, "SystemTime")?.map(|v| Cow::Owned(v.into_owned()));
                    None
                }
                "Provider" => {
                    rec.provider = attribute(e, "Name")?.map(|v| Cow::Owned(v.into_owned()));
                    None
                }
                _ => None,
            };
        }
        3 if *in_event_data && name == "Data" => {
            *slot = attribute(e, "Name")?
                .and_then(|n| FieldId::from_name(&n))
                .map(Slot::Data);
        }
        _ => {}
    }
    Ok(())
}

/// The value of attribute `key` of `e`, entities resolved.
fn attribute<'e>(e: &'e BytesStart<'_>, key: &str) -> Result<Option<Cow<'e, str>>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        if a.key.local_name().as_ref() == key {
            return a
                .normalized_value(XmlVersion::Implicit1_0)
                .map(Some)
                .map_err(|err| format!("bad value of {key}: {err}"));
        }
    }
    Ok(None)
}

fn append<'a>(acc: &mut Option<Cow<'a, str>>, piece: Cow<'a, str>) {
    match acc {
        None => *acc = Some(piece),
        Some(a) => a.to_mut().push_str(&piece),
    }
}

fn store<'a>(rec: &mut WinRecord<'a>, slot: Slot, value: Cow<'a, str>) {
    match slot {
        Slot::EventId => rec.event_id = Some(value),
        Slot::RecordId => rec.record_id = Some(value),
        Slot::Channel => rec.channel = Some(value),
        Slot::Computer => rec.computer = Some(value),
        Slot::Data(f) => rec.data.set(f, value),
    }
}
