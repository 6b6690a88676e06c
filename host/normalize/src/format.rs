//! The formats dumpwatch reads, by the names `--format` takes.

use crate::{DecodeContext, Decoder};

/// A log format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Linux audit daemon logs (raw, ENRICHED, interpreted, kernel and
    /// syslog-wrapped lines).
    Auditd,
    /// Zeek logs (conn, http, ssl, dns), TSV with a header or JSON lines.
    Zeek,
    /// Suricata eve.json.
    Suricata,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: &'static [Format] = &[Format::Auditd, Format::Zeek, Format::Suricata];

    /// The name used by `--format`, the config and summaries; also the
    /// event's `source`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auditd => "auditd",
            Format::Zeek => "zeek",
            Format::Suricata => "suricata",
        }
    }

    /// One line for `--help`.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Auditd => "Linux auditd log (raw, ENRICHED, ausearch -i, kernel, syslog-wrapped)",
            Format::Zeek => "Zeek conn/http/ssl/dns logs (TSV with #fields header, or JSON lines)",
            Format::Suricata => "Suricata eve.json (http, tls, flow, fileinfo, dns)",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.name() == name)
    }

    pub(crate) fn decoder(self, ctx: &DecodeContext) -> Box<dyn Decoder> {
        match self {
            Format::Auditd => Box::new(crate::auditd::AuditdDecoder::new(ctx)),
            Format::Zeek => Box::new(crate::zeek::ZeekDecoder::new(ctx)),
            Format::Suricata => Box::new(crate::suricata::SuricataDecoder::new(ctx)),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
