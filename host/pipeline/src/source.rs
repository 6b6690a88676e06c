//! Reading one input: open it (resuming at a checkpointed position when the
//! file is the same one), recognise its format from the first bytes unless
//! told, split it into lines with bounded memory, decode, and hand the
//! events on. Malformed records are counted, kept for the summary (the
//! first few) and written to the dead-letter file when there is one.
//!
//! [`InputReader::pump`] reads a bounded number of lines at a time, so the
//! caller can checkpoint between pumps; [`InputReader::position`] is where
//! a restarted engine must resume so no record is lost.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;

use dumpwatch_event::Event;
use dumpwatch_normalize::reader::{Line, LineReader};
use dumpwatch_normalize::{
    DecodeContext, Decoder, Format, Output, RecordError, RecordPos, Stats, decoder, detect,
};
use dumpwatch_state::{FileIdentity, SourceRecord};
use serde_json::json;

/// Events a reader gathers before handing them to the pipeline.
const EVENTS_PER_HANDOVER: usize = 512;

/// An input to read.
#[derive(Clone, Debug)]
pub struct InputSpec {
    /// A file path, or `-` for standard input.
    pub path: String,
    /// The format, or `None` to detect it.
    pub format: Option<Format>,
    /// Host name for records that carry none.
    pub host: Option<String>,
    pub vpc_flow_fields: Option<Vec<String>>,
}

impl InputSpec {
    /// The key a source's position is stored under: its path (stdin has
    /// no resumable position).
    pub fn key(&self) -> Option<String> {
        (self.path != "-").then(|| self.path.clone())
    }
}

/// What happened to a followed file since it was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileChange {
    Same,
    /// The path names another file now (rename rotation).
    Rotated,
    /// The file is shorter than what was read (copy-truncate rotation).
    Truncated,
}

/// How many malformed records each input keeps for the summary.
const KEPT_ERRORS: usize = 10;

/// What reading one input found.
#[derive(Clone, Debug, Default)]
pub struct InputReport {
    pub path: String,
    /// The format used (`None` when it could not be recognised).
    pub format: Option<Format>,
    pub stats: Stats,
    /// Bytes read in this run.
    pub bytes: u64,
    /// The first malformed records, for the summary.
    pub first_errors: Vec<RecordError>,
    /// Where reading started (non-zero when resumed from a checkpoint).
    pub resumed_at: u64,
}

/// Receives the malformed records of every input as JSON lines.
pub struct DeadLetter {
    out: io::BufWriter<File>,
}

impl DeadLetter {
    pub fn open(path: &Path) -> io::Result<DeadLetter> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(DeadLetter {
            out: io::BufWriter::new(f),
        })
    }

    pub(crate) fn write(&mut self, source: &str, e: &RecordError) -> io::Result<()> {
        let v = json!({
            "source": source,
            "line": e.pos.line,
            "offset": e.pos.offset,
            "kind": e.kind,
            "detail": e.detail,
        });
        serde_json::to_writer(&mut self.out, &v).map_err(io::Error::other)?;
        self.out.write_all(b"\n")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(unix)]
fn identity_of(meta: &std::fs::Metadata) -> Option<FileIdentity> {
    use std::os::unix::fs::MetadataExt;
    Some(FileIdentity {
        dev: meta.dev(),
        inode: meta.ino(),
    })
}

#[cfg(not(unix))]
fn identity_of(_meta: &std::fs::Metadata) -> Option<FileIdentity> {
    None
}

/// Read up to `n` bytes (fewer only at end of input).
fn read_sample(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

type Lines = LineReader<BufReader<Box<dyn Read + Send>>>;

/// One input being read.
pub struct InputReader {
    spec: InputSpec,
    lines: Lines,
    decoder: Option<Box<dyn Decoder>>,
    out: Output,
    report: InputReport,
    identity: Option<FileIdentity>,
    max_line: usize,
    finished: bool,
}

impl InputReader {
    /// Open an input. With `resume`, a file that is still the same file
    /// (device and inode) and at least as long as the stored offset is read
    /// from there, with the stored format and header context; anything else
    /// (a rotated or truncated file) is read from the start.
    pub fn open(
        spec: &InputSpec,
        max_line: usize,
        resume: Option<&SourceRecord>,
        decoder_state: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> io::Result<InputReader> {
        let (mut raw, identity, len): (Box<dyn Read + Send>, _, _) = if spec.path == "-" {
            (Box::new(io::stdin()), None, None)
        } else {
            let f = File::open(&spec.path)?;
            let meta = f.metadata()?;
            (Box::new(f), identity_of(&meta), Some(meta.len()))
        };
        let resume = resume.filter(|r| {
            let same = r.identity.is_some() && r.identity == identity;
            let fits = len.is_some_and(|l| l >= r.offset);
            if !(same && fits) && r.offset > 0 {
                tracing::warn!(
                    input = %spec.path,
                    "the file was rotated, replaced or truncated since the last checkpoint; reading it from the start"
                );
            }
            same && fits
        });
        let format = spec.format.or_else(|| {
            resume
                .and_then(|r| r.format.as_deref())
                .and_then(Format::from_name)
        });
        let mut report = InputReport {
            path: spec.path.clone(),
            format,
            ..Default::default()
        };
        let ctx = DecodeContext {
            host: spec.host.clone(),
            vpc_flow_fields: spec.vpc_flow_fields.clone(),
            ..Default::default()
        };
        let (lines, decoder) = match (resume, format) {
            (Some(r), Some(format)) if r.offset > 0 => {
                // Seek past what the checkpoint covers; feed the header
                // context a fresh decoder needs.
                let mut f = File::open(&spec.path)?;
                f.seek(SeekFrom::Start(r.offset))?;
                let reader: Box<dyn Read + Send> = Box::new(f);
                let lines = LineReader::new(BufReader::with_capacity(256 << 10, reader), max_line)
                    .with_position(r.line, r.offset);
                let mut dec = decoder(format, &ctx);
                let mut scratch = Output::default();
                for l in &r.context {
                    dec.push(l, RecordPos::default(), &mut scratch);
                }
                report.resumed_at = r.offset;
                (lines, Some(dec))
            }
            _ => {
                let sample = read_sample(&mut raw, dumpwatch_normalize::SAMPLE_LEN)?;
                let format = format.or_else(|| detect(&sample));
                report.format = format;
                let chained: Box<dyn Read + Send> = Box::new(Cursor::new(sample).chain(raw));
                let lines = LineReader::new(BufReader::with_capacity(256 << 10, chained), max_line);
                (lines, format.map(|f| decoder(f, &ctx)))
            }
        };
        // What the decoder had learned (the auditd process table) is state
        // of the host, not of the file: restore it even for a rotated file.
        let mut decoder = decoder;
        if let Some(d) = decoder.as_mut()
            && !decoder_state.is_empty()
        {
            d.restore_state(decoder_state);
        }
        Ok(InputReader {
            spec: spec.clone(),
            lines,
            decoder,
            out: Output::default(),
            report,
            identity,
            max_line,
            finished: false,
        })
    }

    pub fn spec(&self) -> &InputSpec {
        &self.spec
    }

    pub fn format(&self) -> Option<Format> {
        self.report.format
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Read up to `max_lines` lines, passing events on. Returns `false`
    /// once the input is exhausted (and the decoder finished).
    pub fn pump(
        &mut self,
        max_lines: usize,
        mut dead_letter: Option<&mut DeadLetter>,
        on_events: &mut dyn FnMut(&mut Vec<Event>),
    ) -> io::Result<bool> {
        if self.finished {
            return Ok(false);
        }
        for _ in 0..max_lines {
            let Some(line) = self.lines.next_line()? else {
                if let Some(dec) = self.decoder.as_mut() {
                    dec.finish(&mut self.out);
                }
                self.finished = true;
                break;
            };
            match (line, self.decoder.as_mut()) {
                (Line::Data(bytes, pos), Some(dec)) => dec.push(bytes, pos, &mut self.out),
                (Line::TooLong { pos, len }, _) => self.out.error(
                    pos,
                    "line too long",
                    format!(
                        "line of {len} bytes exceeds the {}-byte limit; skipped",
                        self.max_line
                    ),
                ),
                (Line::Data(_, pos), None) => self.out.error(
                    pos,
                    "unrecognised format",
                    format!(
                        "no format recognises this input; give one with --format ({})",
                        Format::ALL
                            .iter()
                            .map(|f| f.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            }
            // Hand events on in batches, not per line: each hand-over
            // costs the pipeline a watermark round.
            if self.out.events.len() >= EVENTS_PER_HANDOVER {
                on_events(&mut self.out.events);
            }
            if !self.out.errors.is_empty() {
                self.drain_errors(&mut dead_letter)?;
            }
        }
        if !self.out.events.is_empty() {
            on_events(&mut self.out.events);
        }
        self.drain_errors(&mut dead_letter)?;
        Ok(!self.finished)
    }

    /// Follow mode (a file that grows): decode the complete lines available
    /// now, up to `max_lines`, without finishing the decoder at the end.
    /// Returns the number of lines read (0: nothing new yet).
    pub fn pump_available(
        &mut self,
        max_lines: usize,
        mut dead_letter: Option<&mut DeadLetter>,
        on_events: &mut dyn FnMut(&mut Vec<Event>),
    ) -> io::Result<usize> {
        let mut n = 0;
        while n < max_lines {
            let Some(line) = self.lines.next_complete_line()? else {
                break;
            };
            n += 1;
            match (line, self.decoder.as_mut()) {
                (Line::Data(bytes, pos), Some(dec)) => dec.push(bytes, pos, &mut self.out),
                (Line::TooLong { pos, len }, _) => self.out.error(
                    pos,
                    "line too long",
                    format!(
                        "line of {len} bytes exceeds the {}-byte limit; skipped",
                        self.max_line
                    ),
                ),
                (Line::Data(_, pos), None) => self.out.error(
                    pos,
                    "unrecognised format",
                    "no format recognises this input",
                ),
            }
        }
        if !self.out.events.is_empty() {
            on_events(&mut self.out.events);
        }
        self.drain_errors(&mut dead_letter)?;
        Ok(n)
    }

    /// Follow mode: the input has been quiet; let the decoder complete what
    /// cannot continue (see `Decoder::flush_idle`).
    pub fn flush_idle(&mut self, on_events: &mut dyn FnMut(&mut Vec<Event>)) {
        if let Some(d) = self.decoder.as_mut() {
            d.flush_idle(&mut self.out);
        }
        if !self.out.events.is_empty() {
            on_events(&mut self.out.events);
        }
    }

    /// Has the file at the input's path been rotated (another file now) or
    /// truncated (copy-truncate) since it was opened?
    pub fn file_changed(&self) -> io::Result<FileChange> {
        if self.spec.path == "-" {
            return Ok(FileChange::Same);
        }
        let meta = match std::fs::metadata(&self.spec.path) {
            Ok(m) => m,
            // Moved away and not yet recreated: keep reading the old one.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FileChange::Same),
            Err(e) => return Err(e),
        };
        if identity_of(&meta) != self.identity {
            return Ok(FileChange::Rotated);
        }
        if meta.len() < self.lines.offset() {
            return Ok(FileChange::Truncated);
        }
        Ok(FileChange::Same)
    }

    /// Read the input's path again from its start (after a rotation or a
    /// truncation), keeping the decoder and what it learned.
    pub fn reopen(&mut self) -> io::Result<()> {
        let f = File::open(&self.spec.path)?;
        self.identity = identity_of(&f.metadata()?);
        let reader: Box<dyn Read + Send> = Box::new(f);
        self.lines = LineReader::new(BufReader::with_capacity(256 << 10, reader), self.max_line);
        self.report.resumed_at = 0;
        Ok(())
    }

    fn drain_errors(&mut self, dead_letter: &mut Option<&mut DeadLetter>) -> io::Result<()> {
        for e in self.out.errors.drain(..) {
            if let Some(dl) = dead_letter.as_deref_mut() {
                dl.write(&self.spec.path, &e)?;
            }
            if self.report.first_errors.len() < KEPT_ERRORS {
                self.report.first_errors.push(e);
            }
        }
        Ok(())
    }

    /// Where a restarted engine must resume so that every record not yet
    /// handed on is read again: the oldest record the decoder still holds,
    /// else the next unread line. `max_seen` is filled by the caller.
    pub fn position(&self) -> SourceRecord {
        let (offset, line) = match self.decoder.as_ref().and_then(|d| d.oldest_pending()) {
            Some(p) => (p.offset, p.line),
            None => (self.lines.offset(), self.lines.lines_read() + 1),
        };
        SourceRecord {
            format: self.report.format.map(|f| f.name().to_owned()),
            offset,
            line,
            identity: self.identity,
            max_seen: i64::MIN,
            done: self.finished,
            context: self
                .decoder
                .as_ref()
                .map(|d| d.resume_context())
                .unwrap_or_default(),
        }
    }

    /// Decoder state learned or forgotten since the last call.
    pub fn take_state_changes(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.decoder
            .as_mut()
            .map(|d| d.take_state_changes())
            .unwrap_or_default()
    }

    /// The counts of this run.
    pub fn report(&self) -> InputReport {
        let mut r = self.report.clone();
        r.stats = self.out.stats.clone();
        r.bytes = self.lines.offset().saturating_sub(r.resumed_at);
        r
    }
}
