//! Reading one input: open it, recognise its format from the first bytes
//! (unless told), split it into lines with bounded memory, decode, and hand
//! the events on. Malformed records are counted, kept for the summary
//! (the first few) and written to the dead-letter file when there is one.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Write};
use std::path::Path;

use dumpwatch_event::Event;
use dumpwatch_normalize::reader::{Line, LineReader};
use dumpwatch_normalize::{DecodeContext, Format, Output, RecordError, Stats, decoder, detect};
use serde_json::json;

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

/// How many malformed records each input keeps for the summary.
const KEPT_ERRORS: usize = 10;

/// What reading one input found.
#[derive(Clone, Debug, Default)]
pub struct InputReport {
    pub path: String,
    /// The format used (`None` when it could not be recognised).
    pub format: Option<Format>,
    pub stats: Stats,
    pub bytes: u64,
    /// The first malformed records, for the summary.
    pub first_errors: Vec<RecordError>,
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

    fn write(&mut self, source: &str, e: &RecordError) -> io::Result<()> {
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

fn open(path: &str) -> io::Result<Box<dyn Read>> {
    if path == "-" {
        Ok(Box::new(io::stdin()))
    } else {
        Ok(Box::new(File::open(path)?))
    }
}

/// Read up to `n` bytes (fewer only at end of input).
fn read_sample(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Read an input to its end, passing events to `on_events` as they come.
/// Only failing to open or read the input is an error; every problem with
/// its content is counted in the report.
pub fn read_input(
    spec: &InputSpec,
    max_line: usize,
    mut dead_letter: Option<&mut DeadLetter>,
    on_events: &mut dyn FnMut(&mut Vec<Event>),
) -> io::Result<InputReport> {
    let mut raw = open(&spec.path)?;
    let sample = read_sample(&mut raw, dumpwatch_normalize::SAMPLE_LEN)?;
    let format = spec.format.or_else(|| detect(&sample));
    let mut report = InputReport {
        path: spec.path.clone(),
        format,
        ..Default::default()
    };
    let reader = BufReader::with_capacity(256 << 10, Cursor::new(sample).chain(raw));
    let mut lines = LineReader::new(reader, max_line);
    let mut out = Output::default();
    let Some(format) = format else {
        // Unrecognised: every line is a malformed record, so nothing is
        // silently ignored.
        while let Some(line) = lines.next_line()? {
            let pos = match line {
                Line::Data(_, pos) | Line::TooLong { pos, .. } => pos,
            };
            out.error(
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
            );
            drain_errors(&mut out, &mut report, &spec.path, &mut dead_letter)?;
        }
        report.bytes = lines.offset();
        report.stats = out.stats;
        return Ok(report);
    };
    let ctx = DecodeContext {
        host: spec.host.clone(),
        vpc_flow_fields: spec.vpc_flow_fields.clone(),
        ..Default::default()
    };
    let mut dec = decoder(format, &ctx);
    while let Some(line) = lines.next_line()? {
        match line {
            Line::Data(bytes, pos) => dec.push(bytes, pos, &mut out),
            Line::TooLong { pos, len } => out.error(
                pos,
                "line too long",
                format!("line of {len} bytes exceeds the {max_line}-byte limit; skipped"),
            ),
        }
        if !out.events.is_empty() {
            on_events(&mut out.events);
        }
        if !out.errors.is_empty() {
            drain_errors(&mut out, &mut report, &spec.path, &mut dead_letter)?;
        }
    }
    dec.finish(&mut out);
    if !out.events.is_empty() {
        on_events(&mut out.events);
    }
    drain_errors(&mut out, &mut report, &spec.path, &mut dead_letter)?;
    report.bytes = lines.offset();
    report.stats = out.stats;
    Ok(report)
}

fn drain_errors(
    out: &mut Output,
    report: &mut InputReport,
    source: &str,
    dead_letter: &mut Option<&mut DeadLetter>,
) -> io::Result<()> {
    for e in out.errors.drain(..) {
        if let Some(dl) = dead_letter.as_deref_mut() {
            dl.write(source, &e)?;
        }
        if report.first_errors.len() < KEPT_ERRORS {
            report.first_errors.push(e);
        }
    }
    Ok(())
}
