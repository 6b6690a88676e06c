//! Decoders per host for inputs that have no replayable position: HTTP
//! ingest, syslog and standard input.
//!
//! A file resumes at a byte offset; a pushed stream cannot be read again.
//! Its durability comes from acknowledging the sender only after the
//! checkpoint that holds its events (the sender resends whatever was not
//! acknowledged). What a decoder still holds when that checkpoint is taken
//! — the records of an auditd event whose EOE has not come yet, the Zeek
//! `#fields` header that gives meaning to later lines, the auditd process
//! table behind ancestry — has to be in the same checkpoint, or a crash
//! after the acknowledgement would lose it. So every host's decoder state
//! travels in the source's decoder-state entries, committed with the
//! events:
//!
//! * `h\0<host>\0d<key>`: the decoder's own state (auditd process table);
//! * `h\0<host>\0p`: the raw lines from the oldest record the decoder
//!   still holds, and the header context lines — a restarted engine feeds
//!   them to a fresh decoder, exactly as a file resumes at
//!   `oldest_pending` with its context.
//!
//! Decoders are per host because multi-line assembly and headers are per
//! sender (two hosts' auditd serials must not meet in one assembler), and
//! the host name is the device for records that carry none.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use dumpwatch_event::Event;
use dumpwatch_normalize::{DecodeContext, Decoder, Format, Output, RecordPos, decoder};
use dumpwatch_state::{Entry, EntryChange};

use crate::source::{DeadLetter, InputReport};

/// Raw lines kept per host for a restart, at most; past it the oldest are
/// dropped (counted) — a decoder holding this much is misfed.
const MAX_PENDING_LINES: usize = 100_000;
/// …and bytes.
const MAX_PENDING_BYTES: usize = 16 << 20;
/// Malformed records kept for the summary.
const KEPT_ERRORS: usize = 10;

struct HostStream {
    decoder: Box<dyn Decoder>,
    /// (stream line number, raw line) from the oldest held record on.
    pending: VecDeque<(u64, Vec<u8>)>,
    pending_bytes: usize,
    /// What was last stored under the host's `p` key (to skip rewrites).
    stored: Option<Vec<u8>>,
    touched: bool,
}

/// The decoders of one input, by host.
pub struct HostDecoders {
    name: String,
    format: Format,
    ctx: DecodeContext,
    max_hosts: usize,
    hosts: HashMap<String, HostStream>,
    /// Stored entries of hosts whose decoder is not built yet.
    stored: HashMap<String, Vec<Entry>>,
    out: Output,
    changes: Vec<EntryChange>,
    line_no: u64,
    report: InputReport,
    dead_letter: Option<Arc<Mutex<DeadLetter>>>,
}

fn host_prefix(host: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(host.len() + 3);
    k.extend_from_slice(b"h\0");
    k.extend_from_slice(host.as_bytes());
    k.push(0);
    k
}

/// The number of context lines (u32 LE), then every context and pending
/// line as (u32 LE length, bytes).
fn encode_lines(context: &[Vec<u8>], pending: &VecDeque<(u64, Vec<u8>)>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(context.len() as u32).to_le_bytes());
    for l in context.iter().chain(pending.iter().map(|(_, l)| l)) {
        out.extend_from_slice(&(l.len() as u32).to_le_bytes());
        out.extend_from_slice(l);
    }
    out
}

/// Raw lines.
type Lines = Vec<Vec<u8>>;

/// (context lines, pending lines); `None` when the bytes are not ours.
fn decode_lines(mut b: &[u8]) -> Option<(Lines, Lines)> {
    fn u32_at(b: &[u8]) -> Option<usize> {
        Some(u32::from_le_bytes(b.get(..4)?.try_into().ok()?) as usize)
    }
    let n_ctx = u32_at(b)?;
    b = &b[4..];
    let mut lines = Vec::new();
    while !b.is_empty() {
        let n = u32_at(b)?;
        let l = b.get(4..4 + n)?;
        lines.push(l.to_vec());
        b = &b[4 + n..];
    }
    if n_ctx > lines.len() {
        return None;
    }
    let pending = lines.split_off(n_ctx);
    Some((lines, pending))
}

impl HostDecoders {
    /// Decoders for input `name` of `format`; `stored` is the source's
    /// decoder state from the last checkpoint. Hosts with held records are
    /// rebuilt at once, so their records complete as before the restart.
    pub fn new(
        name: &str,
        format: Format,
        ctx: DecodeContext,
        max_hosts: usize,
        stored: Vec<Entry>,
        dead_letter: Option<Arc<Mutex<DeadLetter>>>,
    ) -> HostDecoders {
        let mut by_host: HashMap<String, Vec<Entry>> = HashMap::new();
        for (k, v) in stored {
            let Some(rest) = k.strip_prefix(b"h\0") else {
                continue;
            };
            let Some(sep) = rest.iter().position(|&c| c == 0) else {
                continue;
            };
            let host = String::from_utf8_lossy(&rest[..sep]).into_owned();
            by_host
                .entry(host)
                .or_default()
                .push((rest[sep + 1..].to_vec(), v));
        }
        let mut d = HostDecoders {
            name: name.to_owned(),
            format,
            ctx,
            max_hosts,
            hosts: HashMap::new(),
            stored: by_host,
            out: Output::default(),
            changes: Vec::new(),
            line_no: 0,
            report: InputReport {
                path: name.to_owned(),
                format: Some(format),
                ..Default::default()
            },
            dead_letter,
        };
        let with_pending: Vec<String> = d
            .stored
            .iter()
            .filter(|(_, es)| es.iter().any(|(k, _)| k == b"p"))
            .map(|(h, _)| h.clone())
            .collect();
        for h in with_pending {
            d.stream(&h);
        }
        d
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The host's decoder, built (and restored from the store) on first
    /// use; `None` past `max_hosts`.
    fn stream(&mut self, host: &str) -> Option<&mut HostStream> {
        if !self.hosts.contains_key(host) {
            if self.hosts.len() >= self.max_hosts {
                return None;
            }
            let mut ctx = self.ctx.clone();
            if !host.is_empty() {
                ctx.host = Some(host.to_owned());
            }
            let mut dec = decoder(self.format, &ctx);
            let mut pending = VecDeque::new();
            let mut pending_bytes = 0;
            let mut stored_value = None;
            if let Some(entries) = self.stored.remove(host) {
                let mut state = Vec::new();
                let mut lines = None;
                for (k, v) in entries {
                    if k == b"p" {
                        lines = decode_lines(&v);
                        if lines.is_none() {
                            tracing::warn!(input = %self.name, host, "stored held lines are unreadable; dropped");
                        }
                        stored_value = Some(v);
                    } else if let Some(dk) = k.strip_prefix(b"d") {
                        state.push((dk.to_vec(), v));
                    }
                }
                if !state.is_empty() {
                    dec.restore_state(state);
                }
                if let Some((context, held)) = lines {
                    let mut scratch = Output::default();
                    for l in &context {
                        dec.push(l, RecordPos::default(), &mut scratch);
                    }
                    for l in held {
                        self.line_no += 1;
                        let pos = RecordPos {
                            line: self.line_no,
                            offset: self.line_no,
                        };
                        dec.push(&l, pos, &mut self.out);
                        pending_bytes += l.len();
                        pending.push_back((self.line_no, l));
                    }
                }
            }
            let s = HostStream {
                touched: !pending.is_empty() || stored_value.is_some(),
                decoder: dec,
                pending,
                pending_bytes,
                stored: stored_value,
            };
            self.hosts.insert(host.to_owned(), s);
        }
        self.hosts.get_mut(host)
    }

    /// Decode one line of `host` (`""`: the input's own host setting).
    pub fn push(&mut self, host: &str, line: &[u8]) {
        self.line_no += 1;
        let pos = RecordPos {
            line: self.line_no,
            offset: self.line_no,
        };
        let max_hosts = self.max_hosts;
        if self.stream(host).is_none() {
            self.out.error(
                pos,
                "too many hosts",
                format!("more than {max_hosts} hosts on this input (max_hosts); record of {host:?} dropped"),
            );
            return;
        }
        let Some(s) = self.hosts.get_mut(host) else {
            return;
        };
        s.decoder.push(line, pos, &mut self.out);
        s.pending_bytes += line.len();
        s.pending.push_back((pos.line, line.to_vec()));
        s.touched = true;
    }

    /// Count a record that never reached a decoder (not JSON, no message
    /// field…).
    pub fn record_error(&mut self, kind: &'static str, detail: String) {
        self.line_no += 1;
        let pos = RecordPos {
            line: self.line_no,
            offset: self.line_no,
        };
        self.out.error(pos, kind, detail);
    }

    /// End of a batch (a request, a read): trim each touched host's held
    /// lines to its oldest held record and collect the state changes.
    fn settle(&mut self) {
        for (host, s) in self.hosts.iter_mut() {
            if !s.touched {
                continue;
            }
            s.touched = false;
            match s.decoder.oldest_pending() {
                Some(p) => {
                    while s.pending.front().is_some_and(|(n, _)| *n < p.line) {
                        if let Some((_, l)) = s.pending.pop_front() {
                            s.pending_bytes -= l.len();
                        }
                    }
                }
                None => {
                    s.pending.clear();
                    s.pending_bytes = 0;
                }
            }
            let mut dropped = 0u64;
            while s.pending.len() > MAX_PENDING_LINES || s.pending_bytes > MAX_PENDING_BYTES {
                if let Some((_, l)) = s.pending.pop_front() {
                    s.pending_bytes -= l.len();
                    dropped += 1;
                }
            }
            if dropped > 0 {
                tracing::warn!(input = %self.name, host = %host, dropped, "a decoder holds too many lines; the oldest are not kept for a restart");
            }
            let prefix = host_prefix(host);
            for (k, v) in s.decoder.take_state_changes() {
                let mut key = prefix.clone();
                key.push(b'd');
                key.extend_from_slice(&k);
                self.changes.push((key, v));
            }
            let context = s.decoder.resume_context();
            let value = (!(context.is_empty() && s.pending.is_empty()))
                .then(|| encode_lines(&context, &s.pending));
            if value != s.stored {
                let mut key = prefix;
                key.push(b'p');
                self.changes.push((key, value.clone()));
                s.stored = value;
            }
        }
    }

    /// Everything decoded since the last call: events, decoder-state
    /// changes for the checkpoint, and the input's counts.
    pub fn take(&mut self) -> (Vec<Event>, Vec<EntryChange>, InputReport) {
        self.settle();
        let mut dl = self.dead_letter.as_ref().map(|d| d.lock());
        for e in self.out.errors.drain(..) {
            if let Some(Ok(d)) = dl.as_mut()
                && let Err(err) = d.write(&self.name, &e)
            {
                tracing::error!("dead-letter file: {err}");
            }
            if self.report.first_errors.len() < KEPT_ERRORS {
                self.report.first_errors.push(e);
            }
        }
        drop(dl);
        let mut report = self.report.clone();
        report.stats = self.out.stats.clone();
        (
            std::mem::take(&mut self.out.events),
            std::mem::take(&mut self.changes),
            report,
        )
    }

    /// End of input: every decoder completes what it holds.
    pub fn finish(&mut self) {
        for s in self.hosts.values_mut() {
            s.decoder.finish(&mut self.out);
            s.touched = true;
        }
    }

    /// Count bytes received (for the summary).
    pub fn add_bytes(&mut self, n: u64) {
        self.report.bytes += n;
    }

    /// Hosts with a decoder.
    pub fn hosts(&self) -> usize {
        self.hosts.len()
    }
}

#[cfg(test)]
mod tests;
