//! AWS VPC Flow Logs records to `network` events.
//!
//! Plain-text records, fields separated by runs of spaces (one of AWS's own
//! examples has a doubled space). Columns are mapped by the names of the
//! header line (any version, custom order, fields newer than v5), by
//! [`DecodeContext::vpc_flow_fields`] for streams without a header, or by
//! the default v2 list; a header met mid-stream (files concatenated) takes
//! over from there. NODATA and SKIPDATA records are skipped by
//! `log-status`. `docs/formats/aws.md` has the mapping and the id rule.

mod columns;

use std::net::IpAddr;

use dumpwatch_event::{Activity, Device, Endpoint, Event, NetworkFlow};

use crate::{DecodeContext, Decoder, Format, Output, RecordPos};
use columns::Columns;

/// The event's `source`.
const SOURCE: &str = "vpc-flow";

/// Recognise VPC Flow Logs from the first line: a header naming `srcaddr`
/// and `dstaddr`, or a default-format record (14 fields: version, account,
/// `eni-…`, …, log-status).
pub(crate) fn sniff(sample: &[u8]) -> bool {
    let first = sample.split(|&b| b == b'\n').next().unwrap_or_default();
    let tokens: Vec<&[u8]> = split_fields(first).collect();
    if columns::is_header(&tokens) {
        return tokens.contains(&&b"srcaddr"[..]) && tokens.contains(&&b"dstaddr"[..]);
    }
    tokens.len() == columns::DEFAULT_FIELDS.len()
        && tokens[0].iter().all(u8::is_ascii_digit)
        && (tokens[2].starts_with(b"eni-") || tokens[2] == b"-")
        && matches!(tokens[13], b"OK" | b"NODATA" | b"SKIPDATA")
}

/// Fields of a line: runs of spaces or tabs separate them.
fn split_fields(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&b| b == b' ' || b == b'\t' || b == b'\r')
        .filter(|t| !t.is_empty())
}

/// Streaming VPC Flow Logs decoder.
pub struct VpcFlowDecoder {
    columns: Columns,
    /// Where the header in force was read: rows after it are mapped by it,
    /// so a checkpoint must not resume past it.
    /// The header line that named the columns (fed again on resume).
    header_line: Option<Vec<u8>>,
    /// Field spans of the current line, reused between lines.
    spans: Vec<(usize, usize)>,
}

impl VpcFlowDecoder {
    pub fn new(ctx: &DecodeContext) -> Self {
        let columns = match &ctx.vpc_flow_fields {
            Some(names) if !names.is_empty() => Columns::from_names(names),
            _ => Columns::default_v2(),
        };
        VpcFlowDecoder {
            columns,
            header_line: None,
            spans: Vec::new(),
        }
    }

    fn record(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        self.spans.clear();
        let mut start = None;
        for (i, &b) in line.iter().enumerate() {
            let sep = b == b' ' || b == b'\t' || b == b'\r';
            match (sep, start) {
                (false, None) => start = Some(i),
                (true, Some(s)) => {
                    self.spans.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            self.spans.push((s, line.len()));
        }
        if self.spans.is_empty() {
            return;
        }
        let first = &line[self.spans[0].0..self.spans[0].1];
        if first.first().is_some_and(u8::is_ascii_lowercase) {
            let tokens: Vec<&[u8]> = self.spans.iter().map(|&(s, e)| &line[s..e]).collect();
            if columns::is_header(&tokens) {
                let names: Vec<String> = tokens
                    .iter()
                    .map(|t| String::from_utf8_lossy(t).into_owned())
                    .collect();
                self.columns = Columns::from_names(&names);
                self.header_line = Some(line.to_vec());
                return;
            }
        }
        if self.spans.len() != self.columns.count {
            out.error(
                pos,
                "wrong column count",
                format!(
                    "{} fields where the field list has {}",
                    self.spans.len(),
                    self.columns.count
                ),
            );
            return;
        }
        // Records are ASCII; checking the line once lets every field be
        // sliced as text without checking it again.
        let Ok(text) = std::str::from_utf8(line) else {
            return out.error(pos, "invalid UTF-8", "record is not UTF-8");
        };
        match self.to_event(text) {
            Ok(ev) => out.event(ev),
            Err(FieldError::Skip(status)) => out.skip(status),
            Err(FieldError::Bad(kind, detail)) => out.error(pos, kind, detail),
        }
    }

    /// The text of column `col`, or `None` when the column is absent from
    /// the field list or holds `-` (not applicable).
    fn field<'l>(&self, line: &'l str, col: Option<usize>) -> Option<&'l str> {
        let (s, e) = self.spans[col?];
        line.get(s..e).filter(|f| *f != "-")
    }

    fn parsed<T: std::str::FromStr>(
        &self,
        line: &str,
        col: Option<usize>,
        name: &str,
    ) -> Result<Option<T>, FieldError> {
        match self.field(line, col) {
            None => Ok(None),
            Some(t) => t
                .parse()
                .map(Some)
                .map_err(|_| FieldError::Bad("invalid field", format!("{name} {t:?}"))),
        }
    }

    fn to_event(&self, line: &str) -> Result<Event, FieldError> {
        let c = &self.columns;
        let status = self.field(line, c.log_status);
        match status {
            Some("NODATA") => return Err(FieldError::Skip("NODATA")),
            Some("SKIPDATA") => return Err(FieldError::Skip("SKIPDATA")),
            _ => {}
        }
        let Some(start) = self.parsed::<u32>(line, c.start, "start")? else {
            return Err(FieldError::Bad("missing time", "no start".into()));
        };
        let end = self.parsed::<u32>(line, c.end, "end")?;
        let src: Option<IpAddr> = self.parsed(line, c.srcaddr, "srcaddr")?;
        let dst: Option<IpAddr> = self.parsed(line, c.dstaddr, "dstaddr")?;
        let (Some(src), Some(dst)) = (src, dst) else {
            return Err(FieldError::Bad(
                "missing field",
                "no srcaddr or dstaddr".into(),
            ));
        };
        let sport: Option<u16> = self.parsed(line, c.srcport, "srcport")?;
        let dport: Option<u16> = self.parsed(line, c.dstport, "dstport")?;
        let protocol: Option<u8> = self.parsed(line, c.protocol, "protocol")?;
        let bytes: Option<u64> = self.parsed(line, c.bytes, "bytes")?;
        let action = self.field(line, c.action);
        let interface = self.field(line, c.interface_id);
        let account = self.field(line, c.account_id);

        // interface/start/end/protocol/srcaddr/srcport/dstaddr/dstport/
        // action, as written in the record: one record per interface,
        // capture window, 5-tuple and verdict.
        let mut id = String::with_capacity(112);
        for col in [
            c.interface_id,
            c.start,
            c.end,
            c.protocol,
            c.srcaddr,
            c.srcport,
            c.dstaddr,
            c.dstport,
        ] {
            id.push_str(self.field(line, col).unwrap_or("-"));
            id.push('/');
        }
        id.push_str(action.unwrap_or("-"));
        let flow = NetworkFlow {
            src: Endpoint {
                ip: Some(src),
                port: sport,
                hostname: None,
            },
            dst: Endpoint {
                ip: Some(dst),
                port: dport,
                hostname: None,
            },
            protocol,
            app_protocol: None,
            bytes_out: bytes,
            bytes_in: None,
            end_time: end.map(|e| i64::from(e) * 1000),
            allowed: match action {
                Some("ACCEPT") => Some(true),
                Some("REJECT") => Some(false),
                _ => None,
            },
            interface: interface.map(str::to_owned),
        };
        Ok(Event {
            time: i64::from(start) * 1000,
            source: SOURCE,
            id,
            device: Device {
                domain: account.map(str::to_owned),
                ..Default::default()
            },
            actor: Default::default(),
            process: None,
            activity: Activity::Network(flow),
        })
    }
}

enum FieldError {
    /// A record of a known kind that carries no flow.
    Skip(&'static str),
    /// Malformed: error kind and detail.
    Bad(&'static str, String),
}

impl Decoder for VpcFlowDecoder {
    fn format(&self) -> Format {
        Format::VpcFlow
    }

    fn push(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        self.record(line, pos, out);
    }

    fn finish(&mut self, _out: &mut Output) {}

    fn resume_context(&self) -> Vec<Vec<u8>> {
        self.header_line.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests;
