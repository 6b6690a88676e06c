//! A findings file rotated by size or age: `findings.ndjson` is renamed to
//! `findings.ndjson.1` (older ones shift up to `.keep`, the oldest is
//! removed) and a new file is started.
//!
//! Rotation happens at a delivery boundary — in `flush`, after the
//! findings of a checkpoint are written and made durable, before their
//! delivery is recorded — so the delivery record (the file's size) always
//! describes one file. If the process dies between the rotation and that
//! record, the record names the rotated file's size while the new file is
//! empty; [`RotatingFileSink::truncate`] sees that and moves the rotated
//! file back before the outbox is delivered again, so no finding ends up
//! in two files. Without a persistent store (no delivery records) files
//! rotate as they fill.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::Sink;

/// How a findings file rotates.
#[derive(Clone, Copy, Debug)]
pub struct Rotation {
    pub max_size: Option<u64>,
    pub max_age: Option<Duration>,
    /// Rotated files kept.
    pub keep: usize,
}

/// NDJSON appended to a file that rotates.
pub struct RotatingFileSink {
    path: PathBuf,
    out: BufWriter<File>,
    rotation: Rotation,
    /// When the current file was started.
    started: SystemTime,
    written: u64,
    /// Deliveries are recorded (a persistent store asked for sizes): rotate
    /// only at delivery boundaries.
    confirmed: bool,
}

fn numbered(path: &Path, n: usize) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

impl RotatingFileSink {
    pub fn open(path: &Path, rotation: Rotation) -> io::Result<RotatingFileSink> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let f = OpenOptions::new().create(true).append(true).open(path)?;
        let meta = f.metadata()?;
        // An existing file is as old as its first write; creation time is
        // not on every file system, so the oldest of the times we have.
        let started = if meta.len() == 0 {
            SystemTime::now()
        } else {
            meta.created()
                .or_else(|_| meta.modified())
                .unwrap_or_else(|_| SystemTime::now())
        };
        Ok(RotatingFileSink {
            path: path.to_path_buf(),
            written: meta.len(),
            out: BufWriter::new(f),
            rotation,
            started,
            confirmed: false,
        })
    }

    fn due(&self) -> bool {
        if self.written == 0 {
            return false;
        }
        let by_size = self.rotation.max_size.is_some_and(|m| self.written >= m);
        let by_age = self.rotation.max_age.is_some_and(|a| {
            SystemTime::now()
                .duration_since(self.started)
                .is_ok_and(|age| age >= a)
        });
        by_size || by_age
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()?;
        let keep = self.rotation.keep.max(1);
        let oldest = numbered(&self.path, keep);
        if oldest.exists() {
            std::fs::remove_file(&oldest)?;
        }
        for n in (1..keep).rev() {
            let from = numbered(&self.path, n);
            if from.exists() {
                std::fs::rename(&from, numbered(&self.path, n + 1))?;
            }
        }
        std::fs::rename(&self.path, numbered(&self.path, 1))?;
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.out = BufWriter::new(f);
        self.written = 0;
        self.started = SystemTime::now();
        tracing::info!(file = %self.path.display(), "findings file rotated");
        Ok(())
    }

    /// Undo a rotation that happened after the last recorded delivery.
    fn unrotate(&mut self) -> io::Result<()> {
        let keep = self.rotation.keep.max(1);
        self.out.flush()?;
        std::fs::rename(numbered(&self.path, 1), &self.path)?;
        for n in 2..=keep {
            let from = numbered(&self.path, n);
            if from.exists() {
                std::fs::rename(&from, numbered(&self.path, n - 1))?;
            }
        }
        let f = OpenOptions::new().append(true).open(&self.path)?;
        self.written = f.metadata()?.len();
        self.out = BufWriter::new(f);
        Ok(())
    }
}

impl Sink for RotatingFileSink {
    fn emit(&mut self, line: &str) -> io::Result<()> {
        if !self.confirmed && self.due() {
            self.rotate()?;
        }
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.written += line.len() as u64 + 1;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()?;
        if self.due() {
            self.rotate()?;
        }
        Ok(())
    }

    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn size(&mut self) -> Option<u64> {
        self.confirmed = true;
        self.out.flush().ok()?;
        self.out.get_ref().metadata().ok().map(|m| m.len())
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.confirmed = true;
        self.out.flush()?;
        let current = self.out.get_ref().metadata()?.len();
        let rotated = numbered(&self.path, 1);
        if current == 0 && len > 0 && std::fs::metadata(&rotated).is_ok_and(|m| m.len() >= len) {
            // Rotated after the last recorded delivery: the record is the
            // rotated file's.
            self.unrotate()?;
        }
        let f = self.out.get_mut();
        if f.metadata()?.len() > len {
            f.set_len(len)?;
            f.seek(SeekFrom::End(0))?;
            f.sync_data()?;
        }
        self.written = f.metadata()?.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn lines(p: &Path) -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn rotates_by_size_at_flush_and_keeps_n() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f.ndjson");
        let rot = Rotation {
            max_size: Some(10),
            max_age: None,
            keep: 2,
        };
        let mut s = RotatingFileSink::open(&p, rot).unwrap();
        s.size(); // a persistent store: rotate at flushes only
        for round in 0..4 {
            s.emit(&format!("{{\"n\":{round}0}}")).unwrap();
            s.emit(&format!("{{\"n\":{round}1}}")).unwrap();
            s.flush().unwrap();
        }
        assert!(lines(&p).is_empty(), "the last round rotated too");
        assert_eq!(lines(&numbered(&p, 1)), ["{\"n\":30}", "{\"n\":31}"]);
        assert_eq!(lines(&numbered(&p, 2)), ["{\"n\":20}", "{\"n\":21}"]);
        assert!(!numbered(&p, 3).exists());
    }

    #[test]
    fn a_crash_between_rotation_and_delivery_record_is_undone() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f.ndjson");
        let rot = Rotation {
            max_size: Some(10),
            max_age: None,
            keep: 3,
        };
        let mut s = RotatingFileSink::open(&p, rot).unwrap();
        s.emit("{\"a\":1}").unwrap();
        s.flush().unwrap();
        let recorded = s.size().unwrap(); // delivery 1 recorded (8 bytes)
        s.emit("{\"b\":2}").unwrap(); // delivery 2…
        s.flush().unwrap(); // …rotates; the process dies before recording
        assert_eq!(recorded, 8);
        assert!(lines(&p).is_empty());
        drop(s);
        // Restart: rewind to the recorded size, then deliver 2 again.
        let mut s = RotatingFileSink::open(&p, rot).unwrap();
        s.truncate(recorded).unwrap();
        s.emit("{\"b\":2}").unwrap();
        s.flush().unwrap();
        let all: Vec<String> = [lines(&numbered(&p, 1)), lines(&p)].concat();
        assert_eq!(all, ["{\"a\":1}", "{\"b\":2}"], "each finding once");
    }

    #[test]
    fn rotates_by_age() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f.ndjson");
        let rot = Rotation {
            max_size: None,
            max_age: Some(Duration::from_millis(1)),
            keep: 1,
        };
        let mut s = RotatingFileSink::open(&p, rot).unwrap();
        s.emit("{}").unwrap();
        std::thread::sleep(Duration::from_millis(5));
        s.flush().unwrap();
        assert_eq!(lines(&numbered(&p, 1)), ["{}"]);
    }
}
