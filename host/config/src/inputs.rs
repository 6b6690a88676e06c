//! `[[inputs]]`: where `dumpwatch run` reads raw log lines.
//!
//! One flat struct with a `type` discriminator (default `file`) rather than
//! a tagged enum: serde's internally tagged enums buffer their content,
//! which hides unknown keys from the unknown-key report, and a key that
//! belongs to another input type must be reported with the input's index
//! and type. [`InputConfig::check`] does that.

use serde::Deserialize;

use crate::units::{ByteSize, DurationSetting};

/// What kind of source an input is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// Files, directories or globs, read once or followed.
    #[default]
    File,
    /// Standard input (rsyslog `omprog`, syslog-ng `program()`).
    Stdin,
    /// RFC 3164 / RFC 5424 syslog over TCP or UDP.
    Syslog,
    /// JSON or raw lines posted to the HTTP server (`POST /ingest/<name>`).
    Http,
}

impl InputKind {
    pub fn name(self) -> &'static str {
        match self {
            InputKind::File => "file",
            InputKind::Stdin => "stdin",
            InputKind::Syslog => "syslog",
            InputKind::Http => "http",
        }
    }
}

/// How lines on standard input are confirmed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StdinProtocol {
    /// Plain lines; nothing is written back (syslog-ng `program()`, pipes).
    #[default]
    Lines,
    /// rsyslog `omprog` with `confirmMessages="on"`: `OK` on stdout once a
    /// line (or, with `useTransactions="on"`, a transaction) is durable.
    Omprog,
}

/// Transport of a syslog input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogTransport {
    /// TCP: RFC 6587 octet counting or newline framing, detected per frame.
    #[default]
    Tcp,
    /// UDP: one message per datagram.
    Udp,
}

/// `[[inputs]]`: a source of raw log lines for `dumpwatch run`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct InputConfig {
    /// `file` (default), `stdin`, `syslog` or `http`.
    #[serde(rename = "type", default)]
    pub kind: InputKind,
    /// Name of the input: its key in the checkpoint store and metrics, and
    /// for `http` the last part of its path (`/ingest/<name>`). Defaults:
    /// the path (file), `stdin`, `syslog-<listen>`, the format (http).
    pub name: Option<String>,
    /// file: a file, a directory (every log file under it) or a glob
    /// (`/var/log/audit/audit.log*`); `-` for standard input.
    pub path: Option<String>,
    /// Format name (see `dumpwatch replay --help`); detected when absent
    /// (file inputs only; required for stdin, syslog and http).
    pub format: Option<String>,
    /// Host name for records that carry none.
    pub host: Option<String>,
    /// VPC Flow Logs field list for streams without a header line.
    pub vpc_flow_fields: Option<Vec<String>>,
    /// file: keep reading files as they grow, following rotation (rename
    /// and copy-truncate); directories and globs are rescanned for new
    /// files. `dumpwatch run` then runs until stopped.
    #[serde(default)]
    pub follow: bool,
    /// file with `follow`: how often files are checked for growth,
    /// rotation and (directories, globs) new files.
    pub poll_interval: Option<DurationSetting>,
    /// stdin: `lines` (default) or `omprog` (rsyslog's confirmation
    /// protocol on stdout).
    pub protocol: Option<StdinProtocol>,
    /// syslog: address to listen on (`0.0.0.0:6514`, `[::]:514`).
    pub listen: Option<String>,
    /// syslog: `tcp` (default) or `udp`.
    pub transport: Option<SyslogTransport>,
    /// syslog (tcp): most connections served at once; further ones wait
    /// in the kernel's backlog.
    pub max_connections: Option<usize>,
    /// syslog (tcp): a connection silent this long is closed.
    pub idle_timeout: Option<DurationSetting>,
    /// http: the bearer token senders must present
    /// (`Authorization: Bearer <token>`). Prefer `token_file`.
    pub token: Option<String>,
    /// http: file holding the bearer token (first line).
    pub token_file: Option<std::path::PathBuf>,
    /// http: JSON field of a record holding the raw log line (Vector:
    /// `message`, Fluent Bit tail: `log`). Default: `message`, then `log`,
    /// for text formats; a JSON format takes the record itself unless the
    /// field holds a JSON object as text.
    pub message_field: Option<String>,
    /// http: JSON field of a record naming its host (Vector sets `host`);
    /// the `host` query parameter of the request wins over it.
    pub host_field: Option<String>,
    /// http, syslog: decoders kept per host at most (the auditd assembler
    /// and Zeek headers are per host); records of further hosts are
    /// counted as errors.
    pub max_hosts: Option<usize>,
    /// syslog: longest message accepted (default `engine.max_line_bytes`).
    pub max_message_bytes: Option<ByteSize>,
}

/// Keys that only some input types take: (key, is set, types).
fn specific_keys(i: &InputConfig) -> [(&'static str, bool, &'static [InputKind]); 14] {
    use InputKind::*;
    [
        ("path", i.path.is_some(), &[File]),
        ("follow", i.follow, &[File]),
        ("poll_interval", i.poll_interval.is_some(), &[File]),
        ("protocol", i.protocol.is_some(), &[Stdin]),
        ("listen", i.listen.is_some(), &[Syslog]),
        ("transport", i.transport.is_some(), &[Syslog]),
        ("max_connections", i.max_connections.is_some(), &[Syslog]),
        ("idle_timeout", i.idle_timeout.is_some(), &[Syslog]),
        ("token", i.token.is_some(), &[Http]),
        ("token_file", i.token_file.is_some(), &[Http]),
        ("message_field", i.message_field.is_some(), &[Http]),
        ("host_field", i.host_field.is_some(), &[Http]),
        ("max_hosts", i.max_hosts.is_some(), &[Http, Syslog]),
        (
            "max_message_bytes",
            i.max_message_bytes.is_some(),
            &[Syslog],
        ),
    ]
}

impl InputConfig {
    /// Most per-host decoders of an http or syslog input.
    pub fn max_hosts(&self) -> usize {
        self.max_hosts.unwrap_or(10_000)
    }

    /// The name an input is known by (store key, metrics label, http path).
    pub fn display_name(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        match self.kind {
            InputKind::File => self.path.clone().unwrap_or_default(),
            InputKind::Stdin => "stdin".into(),
            InputKind::Syslog => format!(
                "syslog-{}-{}",
                match self.transport.unwrap_or_default() {
                    SyslogTransport::Tcp => "tcp",
                    SyslogTransport::Udp => "udp",
                },
                self.listen.as_deref().unwrap_or("")
            ),
            InputKind::Http => self.format.clone().unwrap_or_default(),
        }
    }

    pub(crate) fn check(&self, i: usize, p: &mut Vec<String>) {
        let kind = self.kind.name();
        for (key, set, kinds) in specific_keys(self) {
            if set && !kinds.contains(&self.kind) {
                let takes: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
                p.push(format!(
                    "inputs[{i}].{key} does not apply to a {kind} input (only {})",
                    takes.join(", ")
                ));
            }
        }
        match self.kind {
            InputKind::File => match &self.path {
                Some(path) if !path.trim().is_empty() => {}
                _ => p.push(format!("inputs[{i}].path is required for a file input")),
            },
            InputKind::Stdin | InputKind::Http => {
                if self.format.is_none() {
                    p.push(format!("inputs[{i}].format is required for a {kind} input"));
                }
            }
            InputKind::Syslog => {
                if self.format.is_none() {
                    p.push(format!(
                        "inputs[{i}].format (of the message payload) is required for a syslog input"
                    ));
                }
                match &self.listen {
                    Some(a) if a.parse::<std::net::SocketAddr>().is_ok() => {}
                    Some(a) => p.push(format!(
                        "inputs[{i}].listen: {a:?} is not an address with a port (\"0.0.0.0:6514\")"
                    )),
                    None => p.push(format!("inputs[{i}].listen is required for a syslog input")),
                }
            }
        }
        if self.kind == InputKind::Http {
            if self.token.is_some() && self.token_file.is_some() {
                p.push(format!("inputs[{i}]: give token or token_file, not both"));
            }
            let name = self.display_name();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            {
                p.push(format!(
                    "inputs[{i}].name {name:?} must be letters, digits, '-', '_' or '.' (it is the path /ingest/<name>)"
                ));
            }
        }
        if self.max_hosts == Some(0) {
            p.push(format!("inputs[{i}].max_hosts must be positive"));
        }
        if self.max_connections == Some(0) {
            p.push(format!("inputs[{i}].max_connections must be positive"));
        }
        if let Some(b) = self.max_message_bytes
            && b.0 < 1024
        {
            p.push(format!(
                "inputs[{i}].max_message_bytes must be at least 1KiB"
            ));
        }
    }
}
