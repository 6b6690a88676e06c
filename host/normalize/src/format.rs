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
    /// AWS CloudTrail records: S3 `{"Records":[…]}` files, single records,
    /// one record per line.
    CloudTrail,
    /// AWS VPC Flow Logs, any version, with or without the header line.
    VpcFlow,
    /// Snowflake `ACCOUNT_USAGE.QUERY_HISTORY` exported as CSV or JSON.
    Snowflake,
    /// Microsoft 365 unified audit log records (Management Activity API, or
    /// the Sentinel `OfficeActivity` table).
    M365,
    /// Windows event XML (Security 4688, Sysmon 1/3/11/22): `<Event>` per
    /// line or spread over lines, or an `<Events>` export. Events carry
    /// `source` `windows-security` or `sysmon`, as the WIT contract names
    /// them, not the format name.
    WindowsXml,
    /// Windows events as JSON from NXLog `im_msvistalog` or Winlogbeat (raw
    /// or after its ECS renames). Events carry `source` `windows-security`
    /// or `sysmon`.
    WindowsJson,
    /// macOS Endpoint Security messages as `eslogger` writes them (exec,
    /// create, close-modified, rename, write).
    Eslogger,
    /// The macOS unified log as `log show --style ndjson` or `--style json`
    /// (first-seen processes and app launches).
    UnifiedLog,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: &'static [Format] = &[
        Format::Auditd,
        Format::Zeek,
        Format::Suricata,
        Format::CloudTrail,
        Format::VpcFlow,
        Format::Snowflake,
        Format::M365,
        Format::WindowsXml,
        Format::WindowsJson,
        Format::Eslogger,
        Format::UnifiedLog,
    ];

    /// The name used by `--format`, the config and summaries; also the
    /// event's `source`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auditd => "auditd",
            Format::Zeek => "zeek",
            Format::Suricata => "suricata",
            Format::CloudTrail => "cloudtrail",
            Format::VpcFlow => "vpc-flow",
            Format::Snowflake => "snowflake",
            Format::M365 => "m365",
            Format::WindowsXml => "windows-xml",
            Format::WindowsJson => "windows-json",
            Format::Eslogger => "eslogger",
            Format::UnifiedLog => "unified-log",
        }
    }

    /// One line for `--help`.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Auditd => {
                "Linux auditd log (raw, ENRICHED, ausearch -i, kernel, syslog-wrapped)"
            }
            Format::Zeek => "Zeek conn/http/ssl/dns logs (TSV with #fields header, or JSON lines)",
            Format::Suricata => "Suricata eve.json (http, tls, flow, fileinfo, dns)",
            Format::CloudTrail => {
                "AWS CloudTrail (S3 Records envelope, single records, one per line)"
            }
            Format::VpcFlow => "AWS VPC Flow Logs (any version; header line or default v2 fields)",
            Format::Snowflake => "Snowflake ACCOUNT_USAGE.QUERY_HISTORY (CSV with header, or JSON)",
            Format::M365 => {
                "Microsoft 365 unified audit log (Management API JSON, Sentinel OfficeActivity)"
            }
            Format::WindowsXml => {
                "Windows Security/Sysmon event XML (<Event> per line or multi-line, <Events> export)"
            }
            Format::WindowsJson => {
                "Windows Security/Sysmon JSON (NXLog im_msvistalog, Winlogbeat raw or ECS)"
            }
            Format::Eslogger => {
                "macOS Endpoint Security JSON as eslogger writes it (exec, create, close, rename, write)"
            }
            Format::UnifiedLog => {
                "macOS unified log, log show --style ndjson or json (first-seen processes, app launches)"
            }
        }
    }

    /// The event classes this format can produce, so the host knows which
    /// analytics an input of it can feed (and hold back in event time).
    pub fn event_classes(self) -> &'static [crate::EventClass] {
        use crate::EventClass as C;
        match self {
            Format::Auditd => &[C::ProcessStart, C::File, C::Network],
            Format::Zeek | Format::Suricata => &[C::Network, C::Http, C::Name],
            Format::CloudTrail => &[C::CloudApi],
            Format::VpcFlow => &[C::Network],
            Format::Snowflake => &[C::Query],
            Format::M365 => &[C::FileAccess],
            Format::WindowsXml | Format::WindowsJson => {
                &[C::ProcessStart, C::File, C::Network, C::Name]
            }
            Format::Eslogger => &[C::ProcessStart, C::File],
            Format::UnifiedLog => &[C::ProcessStart],
        }
    }

    /// The `source` names its events carry (Windows events name their
    /// channel's product, the others the format).
    pub fn event_sources(self) -> &'static [&'static str] {
        match self {
            Format::WindowsXml | Format::WindowsJson => &["windows-security", "sysmon"],
            other => match other {
                Format::Auditd => &["auditd"],
                Format::Zeek => &["zeek"],
                Format::Suricata => &["suricata"],
                Format::CloudTrail => &["cloudtrail"],
                Format::VpcFlow => &["vpc-flow"],
                Format::Snowflake => &["snowflake"],
                Format::M365 => &["m365"],
                Format::Eslogger => &["eslogger"],
                _ => &["unified-log"],
            },
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
            Format::CloudTrail => Box::new(crate::cloudtrail::CloudTrailDecoder::new(ctx)),
            Format::VpcFlow => Box::new(crate::vpcflow::VpcFlowDecoder::new(ctx)),
            Format::Snowflake => Box::new(crate::snowflake::SnowflakeDecoder::new(ctx)),
            Format::M365 => Box::new(crate::m365::M365Decoder::new(ctx)),
            Format::WindowsXml => Box::new(crate::windows::WindowsXmlDecoder::new(ctx)),
            Format::WindowsJson => Box::new(crate::windows::WindowsJsonDecoder::new(ctx)),
            Format::Eslogger => Box::new(crate::macos::EsloggerDecoder::new(ctx)),
            Format::UnifiedLog => Box::new(crate::macos::UnifiedLogDecoder::new(ctx)),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
