//! Where findings go: stdout or a file, one OCSF JSON object per line.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use dumpwatch_event::EmittedFinding;
use dumpwatch_event::ocsf::{self, Product};

/// The product name and version stamped on findings.
pub const PRODUCT: Product<'static> = Product {
    name: "dumpwatch",
    version: env!("CARGO_PKG_VERSION"),
};

/// A destination for findings.
pub trait Sink: Send {
    fn emit(&mut self, f: &EmittedFinding) -> io::Result<()>;
    fn flush(&mut self) -> io::Result<()>;
    /// Name for messages.
    fn name(&self) -> String;
}

fn write_line(w: &mut impl Write, f: &EmittedFinding) -> io::Result<()> {
    let v = ocsf::detection_finding(f, &PRODUCT);
    serde_json::to_writer(&mut *w, &v).map_err(io::Error::other)?;
    w.write_all(b"\n")
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
    fn emit(&mut self, f: &EmittedFinding) -> io::Result<()> {
        write_line(&mut self.out, f)
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
    fn emit(&mut self, f: &EmittedFinding) -> io::Result<()> {
        write_line(&mut self.out, f)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()
    }
    fn name(&self) -> String {
        self.path.clone()
    }
}

/// Findings kept in memory (for embedding and tests).
#[derive(Default)]
pub struct MemorySink {
    pub findings: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
}

impl Sink for MemorySink {
    fn emit(&mut self, f: &EmittedFinding) -> io::Result<()> {
        let v = ocsf::detection_finding(f, &PRODUCT);
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
