//! Splitting an input into lines, safely.
//!
//! Inputs are untrusted: a line may be 10 MB long, end without a newline,
//! use CRLF, or hold bytes that are not UTF-8. [`LineReader`] hands out
//! each line with its position, never buffers more than the configured
//! maximum for one line (the rest of an oversized line is read and
//! discarded), and reports oversized lines so they can be counted.

use std::io::{self, BufRead};

use crate::RecordPos;

/// The default longest line kept: 4 MiB.
pub const DEFAULT_MAX_LINE: usize = 4 << 20;

/// One item from [`LineReader::next_line`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line, without `\n` (and without a trailing `\r`).
    Data(&'a [u8], RecordPos),
    /// A line longer than the maximum; its bytes were discarded.
    TooLong { pos: RecordPos, len: u64 },
}

/// Reads lines from a buffered reader with bounded memory.
pub struct LineReader<R> {
    inner: R,
    max_len: usize,
    buf: Vec<u8>,
    line: u64,
    offset: u64,
    /// A line begun but not yet ended (follow mode keeps it across calls):
    /// its start offset, bytes seen, and whether it overflowed.
    partial: Option<(u64, u64, bool)>,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, max_len: usize) -> Self {
        LineReader {
            inner,
            max_len,
            buf: Vec::new(),
            line: 0,
            offset: 0,
            partial: None,
        }
    }

    /// Start numbering from a resumed position (line number and byte offset
    /// of the next line to read).
    pub fn with_position(mut self, next_line: u64, offset: u64) -> Self {
        self.line = next_line.saturating_sub(1);
        self.offset = offset;
        self
    }

    /// Byte offset of the next unread line (in follow mode, of the line
    /// begun but not yet ended).
    pub fn offset(&self) -> u64 {
        self.partial.map_or(self.offset, |(start, _, _)| start)
    }

    /// Number of lines handed out so far (including discarded ones).
    pub fn lines_read(&self) -> u64 {
        self.line
    }

    /// The next line, or `None` at end of input. A last line without a
    /// newline (a truncated file) is still a line.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        if self.read_until_newline()? {
            return Ok(Some(self.take_line()));
        }
        if self.partial.is_none() {
            return Ok(None);
        }
        Ok(Some(self.take_line()))
    }

    /// For inputs that grow (a followed file): the next complete line, or
    /// `None` when the input has no more *complete* line yet. A line being
    /// written is kept and continued by the next call, and [`offset`]
    /// points at its start.
    ///
    /// [`offset`]: LineReader::offset
    pub fn next_complete_line(&mut self) -> io::Result<Option<Line<'_>>> {
        if self.read_until_newline()? {
            Ok(Some(self.take_line()))
        } else {
            Ok(None)
        }
    }

    /// Read into the current line until a newline (true) or the end of
    /// what is available (false).
    fn read_until_newline(&mut self) -> io::Result<bool> {
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok(false);
            }
            let (start, mut total, mut too_long) = match self.partial {
                Some(p) => p,
                None => {
                    self.buf.clear();
                    (self.offset, 0, false)
                }
            };
            let (chunk, found) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..i], Some(i)),
                None => (available, None),
            };
            if !too_long {
                if self.buf.len() + chunk.len() > self.max_len {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            total += chunk.len() as u64;
            let consumed = match found {
                Some(i) => i + 1,
                None => chunk.len(),
            };
            self.inner.consume(consumed);
            self.offset += consumed as u64;
            self.partial = Some((start, total, too_long));
            if found.is_some() {
                return Ok(true);
            }
        }
    }

    fn take_line(&mut self) -> Line<'_> {
        let (start, total, too_long) = self.partial.take().unwrap_or((self.offset, 0, false));
        self.line += 1;
        self.finish_line(start, total, too_long)
    }

    fn finish_line(&mut self, start: u64, total: u64, too_long: bool) -> Line<'_> {
        let pos = RecordPos {
            line: self.line,
            offset: start,
        };
        if too_long {
            return Line::TooLong { pos, len: total };
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Line::Data(&self.buf, pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize) -> Vec<String> {
        let mut r = LineReader::new(io::BufReader::with_capacity(4, input), max);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().expect("reads") {
            out.push(match l {
                Line::Data(b, pos) => {
                    format!("{}@{}:{}", String::from_utf8_lossy(b), pos.line, pos.offset)
                }
                Line::TooLong { pos, len } => format!("TOOLONG {len}@{}:{}", pos.line, pos.offset),
            });
        }
        out
    }

    #[test]
    fn splits_lines_with_positions() {
        assert_eq!(
            collect(b"ab\r\ncd\n\nlast", 100),
            vec!["ab@1:0", "cd@2:4", "@3:7", "last@4:8"]
        );
    }

    #[test]
    fn oversized_lines_are_reported_and_skipped() {
        assert_eq!(
            collect(b"short\n0123456789abcdef\nok\n", 8),
            vec!["short@1:0", "TOOLONG 16@2:6", "ok@3:23"]
        );
    }

    #[test]
    fn follow_mode_waits_for_the_end_of_a_line() {
        use std::io::{Seek, SeekFrom, Write};
        let dir = std::env::temp_dir().join(format!("dw-follow-{}", std::process::id()));
        let mut w = std::fs::File::create(&dir).expect("create");
        w.write_all(b"one\ntw").expect("write");
        let f = std::fs::File::open(&dir).expect("open");
        let mut r = LineReader::new(io::BufReader::new(f), 100);
        match r.next_complete_line().expect("read") {
            Some(Line::Data(b, pos)) => assert_eq!((b, pos.offset), (&b"one"[..], 0)),
            other => panic!("{other:?}"),
        }
        assert!(
            r.next_complete_line().expect("read").is_none(),
            "\"tw\" is not complete"
        );
        assert_eq!(r.offset(), 4, "positions point at the unfinished line");
        w.write_all(b"o\nthree\n").expect("write");
        w.seek(SeekFrom::End(0)).expect("seek");
        match r.next_complete_line().expect("read") {
            Some(Line::Data(b, pos)) => assert_eq!((b, pos.offset, pos.line), (&b"two"[..], 4, 2)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            r.next_complete_line().expect("read"),
            Some(Line::Data(b"three", _))
        ));
        assert!(r.next_complete_line().expect("read").is_none());
        let _ = std::fs::remove_file(&dir);
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert!(collect(b"", 10).is_empty());
    }
}
