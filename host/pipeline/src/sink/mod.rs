//! Where findings go: stdout, a file (rotated by size or age when asked),
//! or a webhook; one OCSF JSON object per line, or its ECS view.
//!
//! Findings are rendered once (OCSF JSON) and the same line goes to every
//! sink (an ECS sink converts it as it writes). With a persistent state store, findings are delivered after the
//! checkpoint that produced them commits; a file sink records its size at
//! each delivery, so after a crash the engine cuts off anything written
//! past the last confirmed delivery and writes it again exactly once.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

use dumpwatch_config::{Config, FindingFormat, SinkConfig, SinkKind};
use dumpwatch_event::EmittedFinding;
use dumpwatch_event::ocsf::{self, Product};

pub mod ecs;
pub mod rotating;
#[cfg(test)]
mod tests;
pub mod webhook;

use crate::metrics::Metrics;

/// The product name and version stamped on findings.
pub const PRODUCT: Product<'static> = Product {
    name: "dumpwatch",
    version: env!("CARGO_PKG_VERSION"),
};

/// The OCSF JSON line of a finding.
pub fn render(f: &EmittedFinding) -> String {
    ocsf::detection_finding(f, &PRODUCT).to_string()
}

/// A destination for findings.
pub trait Sink: Send {
    /// Write one finding (a rendered JSON object, without newline).
    fn emit(&mut self, line: &str) -> io::Result<()>;
    /// Make everything written so far durable.
    fn flush(&mut self) -> io::Result<()>;
    /// Name for messages and for the delivery record.
    fn name(&self) -> String;
    /// Bytes in the destination, for sinks that can be rewound (files).
    fn size(&mut self) -> Option<u64> {
        None
    }
    /// Cut the destination back to `len` bytes (files only).
    fn truncate(&mut self, _len: u64) -> io::Result<()> {
        Ok(())
    }
}

/// NDJSON to standard output.
pub struct StdoutSink {
    out: BufWriter<io::Stdout>,
}

impl StdoutSink {
    pub fn new() -> StdoutSink {
        StdoutSink {
            out: BufWriter::new(io::stdout()),
        }
    }
}

impl Default for StdoutSink {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for StdoutSink {
    fn emit(&mut self, line: &str) -> io::Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
    fn name(&self) -> String {
        "stdout".into()
    }
}

/// NDJSON appended to a file.
pub struct FileSink {
    path: String,
    out: BufWriter<File>,
}

impl FileSink {
    pub fn open(path: &Path) -> io::Result<FileSink> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let f = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(FileSink {
            path: path.display().to_string(),
            out: BufWriter::new(f),
        })
    }
}

impl Sink for FileSink {
    fn emit(&mut self, line: &str) -> io::Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()
    }
    fn name(&self) -> String {
        self.path.clone()
    }
    fn size(&mut self) -> Option<u64> {
        self.out.flush().ok()?;
        self.out.get_ref().metadata().ok().map(|m| m.len())
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.out.flush()?;
        let f = self.out.get_mut();
        if f.metadata()?.len() > len {
            f.set_len(len)?;
            f.seek(SeekFrom::End(0))?;
            f.sync_data()?;
        }
        Ok(())
    }
}

/// Findings kept in memory (for embedding and tests).
#[derive(Default)]
pub struct MemorySink {
    pub findings: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
}

impl Sink for MemorySink {
    fn emit(&mut self, line: &str) -> io::Result<()> {
        let v: serde_json::Value = serde_json::from_str(line).map_err(io::Error::other)?;
        match self.findings.lock() {
            Ok(mut g) => g.push(v),
            Err(p) => p.into_inner().push(v),
        }
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn name(&self) -> String {
        "memory".into()
    }
}

/// Read a secret from a file (its first line).
pub fn read_secret(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let t = text.lines().next().unwrap_or("").trim().to_owned();
    if t.is_empty() {
        return Err(format!("{}: the file holds no token", path.display()));
    }
    Ok(t)
}

fn open_one(
    cfg: &Config,
    s: &SinkConfig,
    metrics: Option<&Arc<Metrics>>,
) -> Result<Box<dyn Sink>, String> {
    let sink: Box<dyn Sink> = match s.kind {
        SinkKind::Stdout => Box::new(StdoutSink::new()),
        SinkKind::File => {
            let Some(path) = &s.path else {
                return Err("a file sink needs a path".into());
            };
            let p = cfg.resolve(path);
            if s.max_size.is_some() || s.max_age.is_some() {
                let rotation = rotating::Rotation {
                    max_size: s.max_size.map(|b| b.0),
                    max_age: s.max_age.map(|d| d.0),
                    keep: s.keep.unwrap_or(5),
                };
                Box::new(
                    rotating::RotatingFileSink::open(&p, rotation)
                        .map_err(|e| format!("sink {}: {e}", p.display()))?,
                )
            } else {
                Box::new(FileSink::open(&p).map_err(|e| format!("sink {}: {e}", p.display()))?)
            }
        }
        SinkKind::Webhook => {
            let Some(url) = &s.url else {
                return Err("a webhook sink needs a url".into());
            };
            let token = match (&s.token, &s.token_file) {
                (Some(t), _) => Some(t.clone()),
                (None, Some(f)) => Some(read_secret(&cfg.resolve(f))?),
                (None, None) => None,
            };
            let dead_letter = s.dead_letter.as_ref().map(|p| cfg.resolve(p)).or_else(|| {
                cfg.engine
                    .state_dir
                    .as_ref()
                    .map(|d| cfg.resolve(d).join("webhook-dead-letter.ndjson"))
            });
            let opts = webhook::WebhookOptions {
                url: url.clone(),
                token,
                headers: s.headers.clone().unwrap_or_default(),
                batch_size: s.batch_size.unwrap_or(100),
                timeout: s
                    .timeout
                    .map_or(std::time::Duration::from_secs(10), |d| d.0),
                max_attempts: s.max_attempts.unwrap_or(8),
                retry_backoff: s
                    .retry_backoff
                    .map_or(std::time::Duration::from_millis(500), |d| d.0),
                max_backoff: s
                    .max_backoff
                    .map_or(std::time::Duration::from_secs(30), |d| d.0),
                queue: s.queue.unwrap_or(10_000),
                dead_letter,
                flush_timeout: s
                    .flush_timeout
                    .map_or(std::time::Duration::from_secs(5), |d| d.0),
            };
            Box::new(
                webhook::WebhookSink::start(opts, metrics.cloned())
                    .map_err(|e| format!("sink {url}: {e}"))?,
            )
        }
    };
    Ok(match s.format {
        FindingFormat::Ocsf => sink,
        FindingFormat::Ecs => Box::new(ecs::EcsSink::new(sink)),
    })
}

/// The configured sinks (stdout when none is configured); every problem is
/// reported.
pub fn open(
    cfg: &Config,
    metrics: Option<&Arc<Metrics>>,
) -> Result<Vec<Box<dyn Sink>>, Vec<String>> {
    if cfg.sinks.is_empty() {
        return Ok(vec![Box::new(StdoutSink::new())]);
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for s in &cfg.sinks {
        match open_one(cfg, s, metrics) {
            Ok(sink) => out.push(sink),
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}
