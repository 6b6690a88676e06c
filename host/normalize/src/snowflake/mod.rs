//! Snowflake `ACCOUNT_USAGE.QUERY_HISTORY` exports to `query` events.
//!
//! Two export shapes, told apart by the first non-blank line: CSV with a
//! header row (an unload, a client's "download as CSV"; quoted fields may
//! hold newlines, see [`csv_records`]), or JSON (one object per line, an
//! array, or pretty-printed; see [`crate::json_stream`]). Either way the
//! columns are Snowflake's, matched without regard to case, and each row
//! becomes one event ([`row`]). `docs/formats/saas.md` has the mapping.

mod csv_records;
mod row;

use crate::json_cursor::{Cursor, Fast, KeyCache};
use crate::json_stream::{JsonRecord, JsonStream};
use crate::{DecodeContext, Decoder, Format, Output, RecordPos};
use csv_records::{CsvItem, CsvRecords, Fields};
use row::{Col, Row};

/// Recognise a QUERY_HISTORY export: a CSV header or JSON keys naming both
/// QUERY_ID and START_TIME (any case).
pub(crate) fn sniff(sample: &[u8]) -> bool {
    let first_line = sample.split(|&b| b == b'\n').next().unwrap_or_default();
    let head = if matches!(sample.first(), Some(b'{' | b'[')) {
        &sample[..sample.len().min(16 * 1024)]
    } else {
        first_line
    };
    let upper = head.to_ascii_uppercase();
    let has = |k: &[u8]| memchr::memmem::find(&upper, k).is_some();
    if matches!(sample.first(), Some(b'{' | b'[')) {
        has(b"\"QUERY_ID\"") && has(b"\"START_TIME\"")
    } else {
        has(b"QUERY_ID") && has(b"START_TIME") && first_line.contains(&b',')
    }
}

/// The header of a CSV export: the mapped column of each position (rows
/// cannot be read without it, so it is part of the resume context).
struct Header {
    columns: Vec<Option<Col>>,
}

impl Header {
    /// A record is a header when it names QUERY_ID and START_TIME.
    fn parse(fields: &Fields) -> Option<Header> {
        let columns: Vec<Option<Col>> = fields
            .iter()
            .map(|f| std::str::from_utf8(f).ok().and_then(row::column))
            .collect();
        let names = |c| columns.contains(&Some(c));
        (names(Col::QueryId) && names(Col::StartTime)).then_some(Header { columns })
    }
}

enum Shape {
    /// Nothing but blank lines yet.
    Unknown,
    Csv {
        /// Boxed: the parser's state tables are large.
        records: Box<CsvRecords>,
        header: Option<Header>,
    },
    Json(JsonStream),
}

/// Streaming QUERY_HISTORY decoder.
pub struct SnowflakeDecoder {
    shape: Shape,
    /// The CSV header line (fed again on resume).
    header_line: Option<Vec<u8>>,
}

impl SnowflakeDecoder {
    pub fn new(_ctx: &DecodeContext) -> Self {
        SnowflakeDecoder {
            shape: Shape::Unknown,
            header_line: None,
        }
    }
}

/// A QUERY_HISTORY row read from JSON.
struct JsonRow;

impl JsonRecord for JsonRow {
    type Record<'de> = Row<'de>;

    fn read<'de, D: serde::Deserializer<'de>>(
        d: D,
        rec: &mut Self::Record<'de>,
    ) -> Result<(), D::Error> {
        row::RowSeed(rec).read(d)
    }

    fn emit(row: &mut Row<'_>, pos: RecordPos, out: &mut Output) {
        emit(row, pos, out);
    }

    const FAST: bool = true;

    fn read_fast<'a>(c: &mut Cursor<'a>, keys: &mut KeyCache, row: &mut Row<'a>) -> Fast<()> {
        row::read_fast(c, keys, row)
    }
}

fn emit(row: &mut Row, pos: RecordPos, out: &mut Output) {
    match row::to_event(row) {
        Ok(ev) => out.event(ev),
        Err(row::RowError(kind, detail)) => out.error(pos, kind, detail),
    }
}

/// Handle one assembled CSV record: a header, or a row under the header.
fn csv_item(item: CsvItem<'_>, header: &mut Option<Header>, out: &mut Output) {
    let (fields, pos) = match item {
        CsvItem::Record(fields, pos) => (fields, pos),
        CsvItem::TooLarge(pos) => {
            let detail = format!(
                "CSV record over {} bytes (a quote that never closes?); parsing restarts at the next line",
                csv_records::MAX_RECORD
            );
            return out.error(pos, "record too large", detail);
        }
        CsvItem::Truncated(pos) => {
            return out.error(pos, "truncated CSV", "input ended inside a quoted field");
        }
    };
    if let Some(h) = Header::parse(&fields) {
        *header = Some(h);
        return;
    }
    let Some(h) = header.as_ref() else {
        return out.error(
            pos,
            "missing header",
            "CSV row before any header naming QUERY_ID and START_TIME",
        );
    };
    if fields.len() != h.columns.len() {
        let detail = format!(
            "{} fields where the header has {}",
            fields.len(),
            h.columns.len()
        );
        return out.error(pos, "wrong column count", detail);
    }
    let mut row = Row::default();
    for (i, col) in h.columns.iter().enumerate() {
        let (Some(col), Some(raw)) = (col, fields.get(i)) else {
            continue;
        };
        match std::str::from_utf8(raw) {
            Ok(text) => row.set(*col, row::Value::Text(text.into())),
            Err(_) => {
                return out.error(pos, "invalid field", format!("{col:?} is not UTF-8"));
            }
        }
    }
    emit(&mut row, pos, out);
}

impl Decoder for SnowflakeDecoder {
    fn format(&self) -> Format {
        Format::Snowflake
    }

    fn push(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        if let Shape::Unknown = self.shape {
            let text = line
                .strip_prefix(b"\xEF\xBB\xBF")
                .unwrap_or(line)
                .trim_ascii();
            self.shape = match text.first() {
                None => return,
                Some(b'{' | b'[') => Shape::Json(JsonStream::new(None)),
                Some(_) => Shape::Csv {
                    records: Box::new(CsvRecords::new()),
                    header: None,
                },
            };
        }
        match &mut self.shape {
            Shape::Unknown => {}
            Shape::Json(stream) => stream.push::<JsonRow>(line, pos, out),
            Shape::Csv { records, header } => {
                let had_header = header.is_some();
                records.push_line(line, pos, &mut |item| csv_item(item, header, out));
                if !had_header && header.is_some() {
                    self.header_line = Some(line.to_vec());
                }
            }
        }
    }

    fn resume_context(&self) -> Vec<Vec<u8>> {
        self.header_line.iter().cloned().collect()
    }

    fn finish(&mut self, out: &mut Output) {
        match &mut self.shape {
            Shape::Unknown => {}
            Shape::Json(stream) => stream.finish(out),
            Shape::Csv { records, header } => {
                records.finish(&mut |item| csv_item(item, header, out))
            }
        }
    }

    fn oldest_pending(&self) -> Option<RecordPos> {
        match &self.shape {
            Shape::Unknown => None,
            Shape::Json(stream) => stream.oldest_pending(),
            Shape::Csv { records, .. } => records.pending(),
        }
    }
}

#[cfg(test)]
mod tests;
