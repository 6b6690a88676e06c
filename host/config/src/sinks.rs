//! `[[sinks]]`: where findings go.
//!
//! A flat struct with a `type` discriminator, like `[[inputs]]`, so unknown
//! keys and keys of another sink type are all reported with the sink's
//! index.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::units::{ByteSize, DurationSetting};

/// Output rendering of findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingFormat {
    /// OCSF Detection Finding (class 2004) JSON, one per line.
    #[default]
    Ocsf,
    /// An Elastic Common Schema view of the same finding (`event.kind:
    /// alert`, `rule.*`, `threat.*`, `host.*`, `user.*`).
    Ecs,
}

/// What kind of destination a sink is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    /// Standard output, one JSON object per line.
    #[default]
    Stdout,
    /// A file, appended to, one JSON object per line; rotated by size or
    /// age when asked.
    File,
    /// HTTP POST of findings (NDJSON batches) to a URL: Vector's
    /// `http_server` source, a SIEM's HTTP collector.
    Webhook,
}

impl SinkKind {
    pub fn name(self) -> &'static str {
        match self {
            SinkKind::Stdout => "stdout",
            SinkKind::File => "file",
            SinkKind::Webhook => "webhook",
        }
    }
}

/// `[[sinks]]`
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SinkConfig {
    /// `stdout`, `file` or `webhook`.
    #[serde(rename = "type")]
    pub kind: SinkKind,
    /// `ocsf` (default) or `ecs`.
    #[serde(default)]
    pub format: FindingFormat,
    /// file: where findings are appended.
    pub path: Option<PathBuf>,
    /// file: rotate once the file is this large…
    pub max_size: Option<ByteSize>,
    /// file: …or this old (since it was started).
    pub max_age: Option<DurationSetting>,
    /// file: rotated files kept (`findings.ndjson.1` … `.N`); default 5.
    pub keep: Option<usize>,
    /// webhook: the URL findings are posted to.
    pub url: Option<String>,
    /// webhook: bearer token sent as `Authorization: Bearer <token>`.
    /// Prefer `token_file`.
    pub token: Option<String>,
    /// webhook: file holding the bearer token (first line).
    pub token_file: Option<PathBuf>,
    /// webhook: extra request headers.
    pub headers: Option<BTreeMap<String, String>>,
    /// webhook: findings per request (NDJSON body); default 100.
    pub batch_size: Option<usize>,
    /// webhook: longest a request may take; default 10s.
    pub timeout: Option<DurationSetting>,
    /// webhook: attempts per batch before it goes to the dead-letter
    /// file; default 8.
    pub max_attempts: Option<u32>,
    /// webhook: first retry delay, doubled per attempt; default 500ms.
    pub retry_backoff: Option<DurationSetting>,
    /// webhook: longest retry delay; default 30s.
    pub max_backoff: Option<DurationSetting>,
    /// webhook: findings waiting to be sent at most; past it new findings
    /// go to the dead-letter file at once (the engine never waits on the
    /// network). Default 10000.
    pub queue: Option<usize>,
    /// webhook: where findings that could not be delivered are appended
    /// (NDJSON with the reason). Default: `webhook-dead-letter.ndjson` in
    /// the state directory, if there is one.
    pub dead_letter: Option<PathBuf>,
    /// webhook: longest the engine waits at each checkpoint for the queue
    /// to drain before it goes on (the rest is sent in the background);
    /// default 5s.
    pub flush_timeout: Option<DurationSetting>,
}

fn specific_keys(s: &SinkConfig) -> [(&'static str, bool, &'static [SinkKind]); 16] {
    use SinkKind::*;
    [
        ("path", s.path.is_some(), &[File]),
        ("max_size", s.max_size.is_some(), &[File]),
        ("max_age", s.max_age.is_some(), &[File]),
        ("keep", s.keep.is_some(), &[File]),
        ("url", s.url.is_some(), &[Webhook]),
        ("token", s.token.is_some(), &[Webhook]),
        ("token_file", s.token_file.is_some(), &[Webhook]),
        ("headers", s.headers.is_some(), &[Webhook]),
        ("batch_size", s.batch_size.is_some(), &[Webhook]),
        ("timeout", s.timeout.is_some(), &[Webhook]),
        ("max_attempts", s.max_attempts.is_some(), &[Webhook]),
        ("retry_backoff", s.retry_backoff.is_some(), &[Webhook]),
        ("max_backoff", s.max_backoff.is_some(), &[Webhook]),
        ("queue", s.queue.is_some(), &[Webhook]),
        ("dead_letter", s.dead_letter.is_some(), &[Webhook]),
        ("flush_timeout", s.flush_timeout.is_some(), &[Webhook]),
    ]
}

impl SinkConfig {
    pub(crate) fn check(&self, i: usize, p: &mut Vec<String>) {
        let kind = self.kind.name();
        for (key, set, kinds) in specific_keys(self) {
            if set && !kinds.contains(&self.kind) {
                let takes: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
                p.push(format!(
                    "sinks[{i}].{key} does not apply to a {kind} sink (only {})",
                    takes.join(", ")
                ));
            }
        }
        match self.kind {
            SinkKind::Stdout => {}
            SinkKind::File => {
                if self.path.is_none() {
                    p.push(format!("sinks[{i}].path is required for a file sink"));
                }
                if self.keep == Some(0) {
                    p.push(format!("sinks[{i}].keep must be at least 1"));
                }
                if self.max_size.is_some_and(|s| s.0 < 4096) {
                    p.push(format!("sinks[{i}].max_size must be at least 4KiB"));
                }
            }
            SinkKind::Webhook => {
                match &self.url {
                    Some(u) if u.starts_with("http://") || u.starts_with("https://") => {}
                    Some(u) => p.push(format!(
                        "sinks[{i}].url {u:?} must start with http:// or https://"
                    )),
                    None => p.push(format!("sinks[{i}].url is required for a webhook sink")),
                }
                if self.token.is_some() && self.token_file.is_some() {
                    p.push(format!("sinks[{i}]: give token or token_file, not both"));
                }
                if self.batch_size == Some(0) || self.queue == Some(0) {
                    p.push(format!("sinks[{i}]: batch_size and queue must be positive"));
                }
                if self.max_attempts == Some(0) {
                    p.push(format!("sinks[{i}].max_attempts must be at least 1"));
                }
            }
        }
    }
}
