//! Where findings go: stdout or a file, one OCSF JSON object per line.
//!
//! Findings are rendered once (OCSF JSON) and the same line goes to every
//! sink. With a persistent state store, findings are delivered after the
//! checkpoint that produced them commits; a file sink records its size at
//! each delivery, so after a crash the engine cuts off anything written
//! past the last confirmed delivery and writes it again exactly once.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use dumpwatch_event::EmittedFinding;
use dumpwatch_event::ocsf::{self, Product};

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
