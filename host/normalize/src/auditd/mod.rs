//! Linux audit daemon logs to events.
//!
//! Accepted forms (see `docs/formats/linux.md`): raw `audit.log` lines,
//! ENRICHED lines (raw record, 0x1D, upper-case interpreted fields),
//! `ausearch -i` output (local-time header, values in place, `----`
//! between events), the "epoch header, values in place" rendering, the
//! kernel's `type=1300 audit(…)` lines, any of these behind a syslog
//! header and/or `node=`, Sentinel `Syslog` JSON lines carrying them, and
//! Microsoft auoms `AUOMS_EXECVE` records.
//!
//! The records of one event share `audit(TIME:SERIAL)` and may interleave
//! with other events' records, so they are gathered per (host, TIME,
//! SERIAL) and an event is completed when its EOE arrives, when
//! [`REORDER_RECORDS`] records of other events have come since its last
//! record, when its time is [`REORDER_MARGIN_MS`] older than the newest
//! seen on its host (or [`REORDER_ANY_HOST_MARGIN_MS`] older than the
//! newest of any host, once a few other records followed it), at a `----`
//! separator, or at end of input.
//!
//! Counting: an assembled event counts once (normalized, or skipped as
//! `SYSCALL:<name>…`); a record of a type the normalizer does not use
//! (`USER_LOGIN`, `CRED_ACQ`, …) is skipped by its type as it arrives.

mod auoms;
mod build;
mod fields;
mod line;
mod proctable;
mod record;
mod sockaddr;
mod syscalls;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use crate::{DecodeContext, Decoder, Format, Output, RecordPos};

use build::{Origin, Outcome};
use line::{HeaderTime, LineKind, RecordType};
use proctable::ProcTable;
use record::Parts;

/// An event is complete once this many records of other events followed
/// its last record.
pub const REORDER_RECORDS: u64 = 64;
/// … or once a record of its host is this much newer than it.
pub const REORDER_MARGIN_MS: i64 = 2_000;
/// … or once a record of any host is this much newer than it and a few
/// records of other events have followed it (files that interleave hosts:
/// an event of a quiet host must not wait for the record counter).
pub const REORDER_ANY_HOST_MARGIN_MS: i64 = 10_000;
/// Records of other events that must follow before the any-host margin
/// applies.
pub const REORDER_ANY_HOST_RECORDS: u64 = 8;
/// Most events buffered at once; past it the oldest is completed.
pub const MAX_PENDING: usize = 1024;
/// Most hosts whose newest time is tracked.
const MAX_HOSTS: usize = 4096;

/// Whether a sample looks like audit records (any form).
pub(crate) fn sniff(sample: &[u8]) -> bool {
    sample
        .split(|&c| c == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .take(20)
        .any(|l| {
            let l = l.trim_ascii();
            if l.first() == Some(&b'{') {
                return memchr::memmem::find(l, b"\"SyslogMessage\":\"type=").is_some()
                    || (memchr::memmem::find(l, b"type=").is_some()
                        && memchr::memmem::find(l, b" audit(").is_some()
                        && memchr::memmem::find(l, b"\"message\":\"").is_some());
            }
            match line::split_line(l) {
                Some(LineKind::Record(r)) => line::parse_header(r.rest).is_ok(),
                _ => false,
            }
        })
}

/// An event being gathered.
struct Pending {
    host: Option<String>,
    time: i64,
    serial: u64,
    first_pos: RecordPos,
    first_seq: u64,
    last_seq: u64,
    first_type: &'static str,
    parts: Parts,
    /// Hashes of the records added, to recognise a record delivered twice
    /// (a forwarder retry): one event never holds the same record twice.
    record_hashes: Vec<u64>,
}

/// The auditd decoder.
pub struct AuditdDecoder {
    ctx_host: Option<std::sync::Arc<str>>,
    timezone: Option<jiff::tz::TimeZone>,
    pending: Vec<Pending>,
    seq: u64,
    newest: HashMap<String, i64>,
    /// Newest time seen on any host.
    newest_any: i64,
    procs: ProcTable,
}

impl AuditdDecoder {
    pub fn new(ctx: &DecodeContext) -> Self {
        AuditdDecoder {
            ctx_host: ctx.host.as_deref().map(std::sync::Arc::from),
            timezone: ctx.timezone.clone(),
            pending: Vec::new(),
            seq: 0,
            newest: HashMap::new(),
            newest_any: i64::MIN,
            procs: ProcTable::default(),
        }
    }

    fn line(&mut self, line: &[u8], env_host: Option<&str>, pos: RecordPos, out: &mut Output) {
        let Some(kind) = line::split_line(line) else {
            out.error(pos, "not an audit record", "no type= field");
            return;
        };
        let l = match kind {
            LineKind::Ignore => return,
            LineKind::Separator => {
                // `ausearch` prints whole events between separators.
                self.close_all(out);
                return;
            }
            LineKind::Record(l) => l,
        };
        let Some(rtype) = l.rtype else {
            out.skip(std::str::from_utf8(l.type_text).unwrap_or("non-UTF-8 type"));
            return;
        };
        let header = match line::parse_header(l.rest) {
            Ok(h) => h,
            Err(kind) => {
                out.error(pos, kind, "no audit(TIME:SERIAL) header");
                return;
            }
        };
        let time = match header.time {
            HeaderTime::Epoch(t) => line::epoch_ms(t),
            HeaderTime::Local(t) => self.local_ms(t),
        };
        let Some(time) = time else {
            out.error(pos, "invalid time", "audit header time does not parse");
            return;
        };
        let ctx_host = self.ctx_host.clone();
        let host_bytes = l.node.or(l.syslog_host);
        let host_owned;
        let host: Option<&str> = match host_bytes {
            Some(h) => {
                host_owned = String::from_utf8_lossy(h);
                Some(&host_owned)
            }
            None => env_host.or(ctx_host.as_deref()),
        };
        if rtype == RecordType::AuomsExecve {
            let origin = Origin {
                host,
                time,
                serial: header.serial,
            };
            let outcome = auoms::build(header.body, &origin, &mut self.procs);
            emit(outcome, out);
            return;
        }
        self.seq += 1;
        let seq = self.seq;
        let idx = self.pending.iter().rposition(|p| {
            p.serial == header.serial && p.time == time && p.host.as_deref() == host
        });
        if rtype == RecordType::Eoe {
            match idx {
                Some(i) => {
                    let p = self.pending.remove(i);
                    self.complete(p, out);
                }
                None => out.skip("EOE"),
            }
            return;
        }
        let interpreted = matches!(header.time, HeaderTime::Local(_));
        let i = match idx {
            Some(i) => i,
            None => {
                self.pending.push(Pending {
                    host: host.map(str::to_owned),
                    time,
                    serial: header.serial,
                    first_pos: pos,
                    first_seq: seq,
                    last_seq: seq,
                    first_type: rtype.name(),
                    parts: Parts::default(),
                    record_hashes: Vec::new(),
                });
                self.pending.len() - 1
            }
        };
        let p = &mut self.pending[i];
        let record_hash = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            rtype.name().hash(&mut h);
            header.body.hash(&mut h);
            h.finish()
        };
        if p.record_hashes.contains(&record_hash) {
            out.skip("duplicate record");
            return;
        }
        p.record_hashes.push(record_hash);
        p.last_seq = seq;
        record::add(&mut p.parts, rtype, header.body, interpreted);
        let newest = self.note_time(host, time);
        self.close_expired(seq, host, newest, out);
    }

    /// Track the newest time of a host; returns it.
    fn note_time(&mut self, host: Option<&str>, time: i64) -> i64 {
        let key = host.unwrap_or("");
        self.newest_any = self.newest_any.max(time);
        if let Some(t) = self.newest.get_mut(key) {
            *t = (*t).max(time);
            return *t;
        }
        if self.newest.len() >= MAX_HOSTS {
            self.newest.clear();
        }
        self.newest.insert(key.to_owned(), time);
        time
    }

    fn close_expired(&mut self, seq: u64, host: Option<&str>, newest: i64, out: &mut Output) {
        let mut closing: Vec<bool> = self
            .pending
            .iter()
            .map(|p| {
                seq - p.last_seq > REORDER_RECORDS
                    // The event just touched stays open: its next records
                    // usually follow at once, even when its time is old.
                    || (p.last_seq != seq
                        && p.host.as_deref() == host
                        && newest - p.time > REORDER_MARGIN_MS)
                    || (seq - p.last_seq > REORDER_ANY_HOST_RECORDS
                        && self.newest_any - p.time > REORDER_ANY_HOST_MARGIN_MS)
            })
            .collect();
        if self.pending.len() > MAX_PENDING
            && let Some(oldest) = (0..self.pending.len()).min_by_key(|&i| self.pending[i].last_seq)
        {
            closing[oldest] = true;
        }
        if !closing.iter().any(|c| *c) {
            return;
        }
        // auditd writes an event's records together: an event whose
        // records all came before a completed event's first record, and
        // that is not newer than it, is complete too. Completing it now
        // keeps the output in event-time order (a quiet host's last event
        // would otherwise wait for the record counter and arrive late).
        loop {
            let mut grew = false;
            for i in 0..self.pending.len() {
                if closing[i] || self.pending[i].last_seq == seq {
                    continue;
                }
                let p = &self.pending[i];
                if (0..self.pending.len()).any(|j| {
                    closing[j]
                        && p.last_seq < self.pending[j].first_seq
                        && p.time <= self.pending[j].time
                }) {
                    closing[i] = true;
                    grew = true;
                }
            }
            if !grew {
                break;
            }
        }
        let mut done = Vec::new();
        let mut kept = Vec::with_capacity(self.pending.len());
        for (p, c) in std::mem::take(&mut self.pending).into_iter().zip(closing) {
            if c {
                done.push(p);
            } else {
                kept.push(p);
            }
        }
        self.pending = kept;
        done.sort_by_key(|p| (p.time, p.serial));
        for p in done {
            self.complete(p, out);
        }
    }

    fn close_all(&mut self, out: &mut Output) {
        for p in std::mem::take(&mut self.pending) {
            self.complete(p, out);
        }
    }

    fn complete(&mut self, p: Pending, out: &mut Output) {
        let origin = Origin {
            host: p.host.as_deref(),
            time: p.time,
            serial: p.serial,
        };
        let outcome = build::build(p.parts, p.first_type, &origin, &mut self.procs);
        emit(outcome, out);
    }

    /// An `ausearch -i` local date and time in the configured zone.
    fn local_ms(&self, t: &[u8]) -> Option<i64> {
        let (y, mo, d, h, mi, s, ms) = line::local_civil(t)?;
        let dt = jiff::civil::DateTime::new(y, mo, d, h, mi, s, 0).ok()?;
        let ts = match &self.timezone {
            Some(tz) => tz.to_timestamp(dt).ok()?,
            None => jiff::tz::TimeZone::UTC.to_timestamp(dt).ok()?,
        };
        Some(ts.as_millisecond() + ms as i64)
    }
}

fn emit(outcome: Outcome, out: &mut Output) {
    match outcome {
        Outcome::Event(ev) => out.event(*ev),
        Outcome::Skip(kind) => out.skip(&kind),
        Outcome::SkipStatic(kind) => out.skip(kind),
    }
}

impl Decoder for AuditdDecoder {
    fn format(&self) -> Format {
        Format::Auditd
    }

    fn push(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        let trimmed = line.trim_ascii_start();
        if trimmed.first() == Some(&b'{') {
            match serde_json::from_slice::<auoms::Envelope<'_>>(trimmed) {
                Ok(env) => match env.text() {
                    Some(msg) => {
                        let host = env.host().map(str::to_owned);
                        self.line(msg.as_bytes(), host.as_deref(), pos, out);
                    }
                    None => out.error(
                        pos,
                        "not an audit record",
                        "JSON line without SyslogMessage or message",
                    ),
                },
                Err(e) => out.error(pos, "invalid JSON", e.to_string()),
            }
            return;
        }
        self.line(line, None, pos, out);
    }

    fn finish(&mut self, out: &mut Output) {
        self.close_all(out);
    }

    fn flush_idle(&mut self, out: &mut Output) {
        // auditd writes an event's records together: after a quiet spell
        // every buffered event is complete.
        self.close_all(out);
    }

    fn take_state_changes(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.procs.take_changes()
    }

    fn restore_state(&mut self, entries: Vec<(Vec<u8>, Vec<u8>)>) {
        self.procs.restore(entries);
    }

    fn oldest_pending(&self) -> Option<RecordPos> {
        self.pending
            .iter()
            .map(|p| p.first_pos)
            .min_by_key(|p| p.offset)
    }
}
