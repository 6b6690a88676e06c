//! Zeek logs to events: conn → network, http → http, ssl → name (TLS
//! server name), dns → name (query). Other logs (files, mysql,
//! postgresql, …) are skipped by their log type.
//!
//! TSV logs (with `#` directives, or zeek-cut's bare header line) and
//! JSON lines are both read, and may alternate in one input: a `#fields`
//! line starts a new TSV section, a `{` line is JSON. Event time is `ts`
//! (the flow or transaction start); a record without a usable `ts`
//! (btest baselines mask it as `XXXXXXXXXX.XXXXXX`) is an error "missing
//! time". The device is left empty: the host fills it from its inventory
//! by the local address.

mod json;
mod record;
#[cfg(test)]
mod tests;
mod tsv;

use crate::{DecodeContext, Decoder, Format, Output, RecordPos};

use record::{LogKind, Rec};
use tsv::TsvHeader;

/// Whether a sample looks like Zeek logs.
pub(crate) fn sniff(sample: &[u8]) -> bool {
    let mut lines = sample
        .split(|&c| c == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .take(20);
    lines.any(|l| {
        l.starts_with(b"#separator")
            || l.starts_with(b"#fields")
            || TsvHeader::is_bare_header(l)
            || (l.first() == Some(&b'{')
                && memchr::memmem::find(l, b"\"uid\":").is_some()
                && (memchr::memmem::find(l, b"\"id.orig_h\"").is_some()
                    || memchr::memmem::find(l, b"\"id_orig_h\"").is_some()))
    })
}

/// The Zeek decoder.
#[derive(Default)]
pub struct ZeekDecoder {
    header: TsvHeader,
    /// The current TSV section's header lines (fed again on resume).
    context: Vec<Vec<u8>>,
}

impl ZeekDecoder {
    pub fn new(_ctx: &DecodeContext) -> Self {
        ZeekDecoder::default()
    }
}

fn emit<'a>(
    kind: LogKind,
    name: &str,
    rec: impl FnOnce() -> Rec<'a>,
    pos: RecordPos,
    out: &mut Output,
) {
    if kind == LogKind::Other {
        out.skip(name);
        return;
    }
    record::to_event(kind, &rec(), pos, out);
}

impl Decoder for ZeekDecoder {
    fn format(&self) -> Format {
        Format::Zeek
    }

    fn push(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.trim_ascii().is_empty() {
            return;
        }
        match line[0] {
            b'#' => {
                self.header.directive(line);
                if line.starts_with(b"#separator") {
                    self.context.clear();
                }
                if !line.starts_with(b"#close") && !line.starts_with(b"#open") {
                    self.context.push(line.to_vec());
                }
                return;
            }
            b'{' => {
                match crate::json_records::parse::<json::JsonRec<'_>>(line) {
                    Ok(j) => {
                        let kind = j.kind();
                        if kind == LogKind::Other {
                            out.skip(j.log_name());
                            return;
                        }
                        emit(kind, "", || j.into_rec(), pos, out);
                    }
                    Err(e) => out.error(pos, "invalid JSON", e.to_string()),
                }
                return;
            }
            _ => {}
        }
        if TsvHeader::is_bare_header(line) {
            self.header.bare_header(line);
            self.context = vec![line.to_vec()];
            return;
        }
        if !self.header.has_fields() {
            out.error(pos, "no header", "a TSV row before any #fields header");
            return;
        }
        let (kind, name) = self.header.kind();
        let rec = self.header.row(line);
        emit(kind, name, || rec, pos, out);
    }

    fn finish(&mut self, _out: &mut Output) {}

    fn resume_context(&self) -> Vec<Vec<u8>> {
        self.context.clone()
    }
}
