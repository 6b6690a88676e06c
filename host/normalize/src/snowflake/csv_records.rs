//! CSV records assembled from lines.
//!
//! Decoders are fed lines, but a CSV record may span many: QUERY_TEXT
//! keeps the newlines of the SQL, inside a quoted field. `csv-core` (the
//! push parser under the `csv` crate) is fed each line with its newline
//! back and says when a record is complete, quoting rules and all
//! (RFC 4180: `"` encloses, `""` inside is a quote). Line readers drop the
//! `\r` of a CRLF, so a CRLF inside a quoted field comes back as LF. A record that grows
//! past [`MAX_RECORD`] is almost always a quote that never closes; it is
//! reported and the parser starts over at the next line, so one bad quote
//! cannot swallow the rest of the input.

use csv_core::{ReadRecordResult, Reader, ReaderBuilder, Terminator};

use crate::RecordPos;

/// Largest record kept. QUERY_TEXT is cut at 100,000 characters by
/// Snowflake, so a real record stays well under this.
pub(crate) const MAX_RECORD: usize = 4 << 20;

/// Most fields a record may have.
const MAX_FIELDS: usize = 4096;

/// What [`CsvRecords::push_line`] produced.
pub(crate) enum CsvItem<'a> {
    /// A complete record: its fields, and the position of its first line.
    Record(Fields<'a>, RecordPos),
    /// A record given up: it outgrew [`MAX_RECORD`] or `MAX_FIELDS`.
    TooLarge(RecordPos),
    /// The input ended inside a quoted field.
    Truncated(RecordPos),
}

/// The fields of one record.
pub(crate) struct Fields<'a> {
    data: &'a [u8],
    ends: &'a [usize],
}

impl<'a> Fields<'a> {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn get(&self, i: usize) -> Option<&'a [u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.data.get(start..end)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// Line-fed CSV record assembler.
pub(crate) struct CsvRecords {
    reader: Reader,
    out: Vec<u8>,
    out_len: usize,
    ends: Vec<usize>,
    n_ends: usize,
    /// Position of the first line of the record in progress.
    start: Option<RecordPos>,
}

impl CsvRecords {
    pub(crate) fn new() -> Self {
        CsvRecords {
            // Lines arrive without their terminator and get `\n` back; a
            // `\r` inside a line is data, not a record break.
            reader: ReaderBuilder::new()
                .terminator(Terminator::Any(b'\n'))
                .build(),
            out: vec![0; 4096],
            out_len: 0,
            ends: vec![0; 64],
            n_ends: 0,
            start: None,
        }
    }

    /// Position of the first line of a record still incomplete.
    pub(crate) fn pending(&self) -> Option<RecordPos> {
        self.start
    }

    /// Feed one line (without its terminator); `emit` gets each record it
    /// completes.
    pub(crate) fn push_line(
        &mut self,
        line: &[u8],
        pos: RecordPos,
        emit: &mut dyn FnMut(CsvItem<'_>),
    ) {
        if self.start.is_none() {
            if line.is_empty() {
                return; // a blank line between records
            }
            self.start = Some(pos);
        }
        // An empty slice would tell csv-core the input ended.
        if !line.is_empty() {
            self.feed(line, pos, emit);
        }
        if self.start.is_some() {
            self.feed(b"\n", pos, emit);
        }
    }

    /// End of input. Every line ends a record unless a quoted field is
    /// open, so a record still pending was cut off.
    pub(crate) fn finish(&mut self, emit: &mut dyn FnMut(CsvItem<'_>)) {
        if let Some(pos) = self.start.take() {
            self.reader.reset();
            self.out_len = 0;
            self.n_ends = 0;
            emit(CsvItem::Truncated(pos));
        }
    }

    fn feed(&mut self, mut input: &[u8], pos: RecordPos, emit: &mut dyn FnMut(CsvItem<'_>)) {
        loop {
            let (res, nin, nout, nend) = self.reader.read_record(
                input,
                &mut self.out[self.out_len..],
                &mut self.ends[self.n_ends..],
            );
            input = &input[nin..];
            self.out_len += nout;
            self.n_ends += nend;
            match res {
                ReadRecordResult::InputEmpty => return,
                ReadRecordResult::OutputFull => {
                    if self.out.len() >= MAX_RECORD {
                        self.give_up(emit);
                        return;
                    }
                    let len = (self.out.len() * 2).min(MAX_RECORD);
                    self.out.resize(len, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() >= MAX_FIELDS {
                        self.give_up(emit);
                        return;
                    }
                    let len = (self.ends.len() * 2).min(MAX_FIELDS);
                    self.ends.resize(len, 0);
                }
                ReadRecordResult::Record => {
                    let first = self.start.take().unwrap_or(pos);
                    emit(CsvItem::Record(
                        Fields {
                            data: &self.out[..self.out_len],
                            ends: &self.ends[..self.n_ends],
                        },
                        first,
                    ));
                    self.out_len = 0;
                    self.n_ends = 0;
                    if input.is_empty() {
                        return;
                    }
                    self.start = Some(pos);
                }
                ReadRecordResult::End => {
                    self.reader.reset();
                    return;
                }
            }
        }
    }

    fn give_up(&mut self, emit: &mut dyn FnMut(CsvItem<'_>)) {
        let pos = self.start.take().unwrap_or_default();
        self.reader.reset();
        self.out_len = 0;
        self.n_ends = 0;
        emit(CsvItem::TooLarge(pos));
    }
}
