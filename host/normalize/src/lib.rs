//! Raw log records in, normalized [`Event`]s out.
//!
//! One module per format (`auditd`, `zeek`, `suricata`, …), each exposing a
//! [`Decoder`] and a sniffing function that [`detect`] uses to recognise the
//! format from the first lines of an input. Decoders are fed one line at a
//! time, which covers every input dumpwatch has (files, stdin, syslog
//! messages, HTTP bodies split into records); formats whose records span
//! lines (auditd events, Windows XML, JSON arrays) assemble them inside
//! their decoder.
//!
//! Every record ends in exactly one of three counts of [`Stats`]:
//! normalized, skipped (a known record this engine does not use, counted by
//! type) or error (malformed: source, line, reason). Nothing here panics on
//! input and nothing reads the wall clock: a record without a usable time
//! is an error.

use std::collections::BTreeMap;

pub use dumpwatch_event::{Event, EventClass};

pub mod auditd;
pub mod cloudtrail;
mod detect;
mod format;
mod ip;
mod json_cursor;
mod json_fields;
mod json_records;
mod json_scalar;
mod json_stream;
pub mod m365;
pub mod macos;
pub mod reader;
mod recent;
pub mod snowflake;
pub mod suricata;
#[cfg(test)]
mod test_support;
mod utf8;
pub mod vpcflow;
pub mod windows;
pub mod zeek;

pub use detect::{SAMPLE_LEN, detect};
pub use format::Format;

/// Where a record came from, for errors and resumable positions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordPos {
    /// 1-based line number in the input.
    pub line: u64,
    /// Byte offset of the start of the line.
    pub offset: u64,
}

/// A malformed record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    pub pos: RecordPos,
    /// Short, stable category used for counting ("invalid JSON", "missing time").
    pub kind: &'static str,
    /// Details for a human: what was wrong and where.
    pub detail: String,
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.pos.line, self.kind, self.detail)
    }
}

/// Cumulative counts for one input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records that became events.
    pub normalized: u64,
    /// Events by class.
    pub by_class: BTreeMap<EventClass, u64>,
    /// Records of a known type that dumpwatch does not use, by type.
    pub skipped: BTreeMap<String, u64>,
    /// Malformed records, by error kind.
    pub errors: BTreeMap<&'static str, u64>,
}

impl Stats {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn skipped_count(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Add another input's counts to these.
    pub fn merge(&mut self, other: &Stats) {
        self.normalized += other.normalized;
        for (k, v) in &other.by_class {
            *self.by_class.entry(*k).or_default() += v;
        }
        for (k, v) in &other.skipped {
            *self.skipped.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }
}

/// What a decoder produced since the caller last drained it.
#[derive(Debug, Default)]
pub struct Output {
    /// New events, in the order the decoder completed them.
    pub events: Vec<Event>,
    /// New record errors.
    pub errors: Vec<RecordError>,
    /// Cumulative counts (never drained).
    pub stats: Stats,
}

impl Output {
    /// Record an event and count it.
    pub fn event(&mut self, ev: Event) {
        self.stats.normalized += 1;
        *self.stats.by_class.entry(ev.class()).or_default() += 1;
        self.events.push(ev);
    }

    /// Count a record of a known type that is not used.
    pub fn skip(&mut self, kind: &str) {
        if let Some(n) = self.stats.skipped.get_mut(kind) {
            *n += 1;
        } else {
            self.stats.skipped.insert(kind.to_owned(), 1);
        }
    }

    /// Record and count a malformed record.
    pub fn error(&mut self, pos: RecordPos, kind: &'static str, detail: impl Into<String>) {
        *self.stats.errors.entry(kind).or_default() += 1;
        self.errors.push(RecordError {
            pos,
            kind,
            detail: detail.into(),
        });
    }
}

/// Settings a decoder needs from the input it reads.
#[derive(Clone, Debug, Default)]
pub struct DecodeContext {
    /// Device host name for records that carry none (auditd without
    /// `node=`, eslogger files). A host name in the record wins.
    pub host: Option<String>,
    /// VPC Flow Logs field list for record streams without a header line
    /// (CloudWatch Logs, Firehose); the default v2 list when absent.
    pub vpc_flow_fields: Option<Vec<String>>,
    /// Zone of local times written without an offset (`ausearch -i`
    /// headers); UTC when absent.
    pub timezone: Option<jiff::tz::TimeZone>,
}

/// A streaming decoder for one input of one format.
pub trait Decoder: Send {
    /// The format this decoder reads.
    fn format(&self) -> Format;

    /// Feed one line, without its line terminator (a trailing `\r` may
    /// remain and is the decoder's to ignore).
    fn push(&mut self, line: &[u8], pos: RecordPos, out: &mut Output);

    /// End of input: complete and emit everything still buffered.
    fn finish(&mut self, out: &mut Output);

    /// A followed input has been quiet for a while: complete what a
    /// quiet input cannot continue any more (an auditd event whose
    /// records all arrived), keeping anything genuinely incomplete (half a
    /// JSON record). Unlike [`Decoder::finish`], reading goes on after it.
    fn flush_idle(&mut self, _out: &mut Output) {}

    /// Position of the oldest line whose record is still buffered (not yet
    /// emitted, skipped or errored), if any. A checkpoint must not resume
    /// past it, or that record would be lost.
    fn oldest_pending(&self) -> Option<RecordPos> {
        None
    }

    /// Lines a fresh decoder must be fed before it resumes reading this
    /// input at a later position: header lines that give meaning to the
    /// records after them (Zeek `#fields`, a VPC Flow Logs header, a CSV
    /// header). Stored with the source's checkpointed position.
    fn resume_context(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }

    /// State the decoder learned that later records depend on (the auditd
    /// process table behind ancestry), as keyed entries changed since the
    /// last call (`None`: forgotten). Checkpointed with the source so a
    /// restarted engine normalizes the next records exactly as before.
    fn take_state_changes(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        Vec::new()
    }

    /// Load state a checkpoint stored (every entry, merged).
    fn restore_state(&mut self, _entries: Vec<(Vec<u8>, Vec<u8>)>) {}
}

/// A decoder for `format` reading an input described by `ctx`.
pub fn decoder(format: Format, ctx: &DecodeContext) -> Box<dyn Decoder> {
    format.decoder(ctx)
}
