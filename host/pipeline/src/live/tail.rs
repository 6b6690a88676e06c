//! A followed directory or glob (`/var/log/audit/audit.log*`,
//! `/var/log/zeek/current`): every matching file is read as it grows, new
//! files are picked up as they appear, and each file's position is
//! checkpointed.
//!
//! The group is one engine source (one watermark: the files of a pattern
//! are one log and its rotations, or one sensor's logs). Each file's
//! position and decoder state travel in the group's decoder-state entries,
//! committed with the events:
//!
//! * `f\0<path>`: the file's [`SourceRecord`] (offset, identity, header
//!   context) as JSON;
//! * `d\0<path>\0<key>`: its decoder's state.
//!
//! Rotation by rename inside the pattern (`audit.log` → `audit.log.1`)
//! must not read the renamed file twice: the reader of `audit.log`
//! finishes the old file and records where it ended, by file identity
//! (device, inode); when the rescan finds that identity under its new
//! name it resumes there. A path whose identity another reader still holds
//! is left for a later scan. Copy-truncate rotation is seen by the reader
//! of the path (the file shrank) and read again from its start.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dumpwatch_event::Event;
use dumpwatch_normalize::Format;
use dumpwatch_state::{Entry, EntryChange, FileIdentity, SourceRecord};
use globset::{GlobBuilder, GlobMatcher};

use super::message::{Msg, SourceHandle};
use crate::source::{DeadLetter, FileChange, InputReader, InputReport, InputSpec};

/// Lines read per file per round.
const LINES_PER_ROUND: usize = 4096;
/// Deepest directory level searched under the pattern's base.
const MAX_DEPTH: usize = 8;

/// What a tail group follows.
#[derive(Clone, Debug)]
pub struct TailSpec {
    /// Name of the group (its store key and metrics label).
    pub name: String,
    /// A directory (every log file under it) or a glob.
    pub pattern: String,
    pub format: Option<Format>,
    pub host: Option<String>,
    pub vpc_flow_fields: Option<Vec<String>>,
    pub max_line: usize,
    pub poll: Duration,
    /// How often the pattern is searched for new files.
    pub rescan: Duration,
}

/// Is `p` a pattern (glob characters) rather than a path?
pub fn is_glob(p: &str) -> bool {
    p.contains(['*', '?', '[', '{'])
}

/// Files a directory scan reads: not hidden, not documentation or
/// dumpwatch's own files.
pub fn is_log_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with('.') || name.starts_with("README") {
        return false;
    }
    !matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("md" | "toml" | "wasm" | "sig" | "cwasm" | "redb")
    )
}

/// The files a directory or glob names now, sorted (for inputs read once).
pub fn expand_pattern(pattern: &str) -> Result<Vec<PathBuf>, String> {
    Ok(Pattern::new(pattern)?.scan())
}

/// Where to search and what must match.
struct Pattern {
    base: PathBuf,
    matcher: Option<GlobMatcher>,
}

impl Pattern {
    fn new(pattern: &str) -> Result<Pattern, String> {
        if !is_glob(pattern) {
            return Ok(Pattern {
                base: PathBuf::from(pattern),
                matcher: None,
            });
        }
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("{pattern}: {e}"))?;
        let mut base = PathBuf::new();
        for c in Path::new(pattern).components() {
            let s = c.as_os_str().to_string_lossy();
            if is_glob(&s) {
                break;
            }
            base.push(c);
        }
        Ok(Pattern {
            base,
            matcher: Some(glob.compile_matcher()),
        })
    }

    /// Matching files, sorted.
    fn scan(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        walk(&self.base, 0, &mut out);
        out.retain(|p| match &self.matcher {
            Some(m) => m.is_match(p),
            None => is_log_file(p),
        });
        out.sort();
        out
    }
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if ft.is_dir() {
            if depth < MAX_DEPTH && !hidden {
                walk(&p, depth + 1, out);
            }
        } else if ft.is_file() {
            out.push(p);
        }
    }
}

#[cfg(unix)]
fn identity(p: &Path) -> Option<FileIdentity> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).ok()?;
    Some(FileIdentity {
        dev: m.dev(),
        inode: m.ino(),
    })
}

#[cfg(not(unix))]
fn identity(_p: &Path) -> Option<FileIdentity> {
    None
}

fn key(prefix: u8, path: &str) -> Vec<u8> {
    let mut k = vec![prefix, 0];
    k.extend_from_slice(path.as_bytes());
    k
}

struct Tailed {
    reader: InputReader,
    /// The stored record, to write only changes.
    stored: Option<SourceRecord>,
}

/// The group's state, owned by its thread.
struct Group {
    spec: TailSpec,
    pattern: Pattern,
    files: BTreeMap<String, Tailed>,
    /// Stored entries of files not opened yet, by path.
    stored_positions: HashMap<String, SourceRecord>,
    stored_state: HashMap<String, Vec<Entry>>,
    /// Where a rotated-away file was finished, by identity (device,
    /// inode).
    finished: HashMap<(u64, u64), SourceRecord>,
    changes: Vec<EntryChange>,
    /// Counts of files that are gone, kept for the report.
    closed: InputReport,
}

fn split_stored(
    entries: Vec<Entry>,
) -> (HashMap<String, SourceRecord>, HashMap<String, Vec<Entry>>) {
    let mut positions = HashMap::new();
    let mut state: HashMap<String, Vec<Entry>> = HashMap::new();
    for (k, v) in entries {
        if let Some(path) = k.strip_prefix(b"f\0") {
            match serde_json::from_slice::<SourceRecord>(&v) {
                Ok(r) => {
                    positions.insert(String::from_utf8_lossy(path).into_owned(), r);
                }
                Err(e) => tracing::warn!(
                    "a stored file position is unreadable ({e}); that file is read from its start"
                ),
            }
        } else if let Some(rest) = k.strip_prefix(b"d\0")
            && let Some(sep) = rest.iter().position(|&c| c == 0)
        {
            let path = String::from_utf8_lossy(&rest[..sep]).into_owned();
            state
                .entry(path)
                .or_default()
                .push((rest[sep + 1..].to_vec(), v));
        }
    }
    (positions, state)
}

impl Group {
    fn open_new_files(&mut self) {
        let held: Vec<FileIdentity> = self
            .files
            .values()
            .filter_map(|t| t.reader.position().identity)
            .collect();
        for path in self.pattern.scan() {
            let p = path.display().to_string();
            if self.files.contains_key(&p) {
                continue;
            }
            let id = identity(&path);
            if id.is_some_and(|i| held.contains(&i)) {
                // Renamed while its reader still holds it: next scan.
                continue;
            }
            // A renamed file resumes where its reader left it; its position
            // is stored under the new name (so `stored` starts empty).
            let (resume, stored) = match id.and_then(|i| self.finished.remove(&(i.dev, i.inode))) {
                Some(r) => (Some(r), None),
                None => {
                    let r = self.stored_positions.remove(&p);
                    (r.clone(), r)
                }
            };
            let spec = InputSpec {
                path: p.clone(),
                format: self.spec.format,
                host: self.spec.host.clone(),
                vpc_flow_fields: self.spec.vpc_flow_fields.clone(),
            };
            let state = self.stored_state.remove(&p).unwrap_or_default();
            match InputReader::open(&spec, self.spec.max_line, resume.as_ref(), state) {
                Ok(reader) => {
                    tracing::info!(input = %self.spec.name, file = %p, "following a new file");
                    self.files.insert(p, Tailed { reader, stored });
                }
                Err(e) => tracing::warn!(input = %self.spec.name, file = %p, "cannot open: {e}"),
            }
        }
    }

    /// One round over every file; returns whether anything was read.
    fn read_round(
        &mut self,
        dead_letter: Option<&Arc<Mutex<DeadLetter>>>,
        events: &mut Vec<Event>,
    ) -> Result<bool, String> {
        let mut progress = false;
        let mut gone = Vec::new();
        for (path, t) in self.files.iter_mut() {
            let mut dl = dead_letter.map(|d| d.lock());
            let dl_ref = match dl.as_mut() {
                Some(Ok(g)) => Some(&mut **g),
                _ => None,
            };
            let n = t
                .reader
                .pump_available(LINES_PER_ROUND, dl_ref, &mut |e| events.append(e))
                .map_err(|e| format!("{path}: {e}"))?;
            drop(dl);
            if n > 0 {
                progress = true;
                continue;
            }
            match t
                .reader
                .file_changed()
                .map_err(|e| format!("{path}: {e}"))?
            {
                FileChange::Same => {
                    if !Path::new(path).exists() {
                        gone.push(path.clone());
                    }
                }
                FileChange::Rotated => {
                    // Finish the old file, remember where it ended (its new
                    // name may match the pattern), then read the new one.
                    let mut dl = dead_letter.map(|d| d.lock());
                    let dl_ref = match dl.as_mut() {
                        Some(Ok(g)) => Some(&mut **g),
                        _ => None,
                    };
                    t.reader
                        .pump_available(usize::MAX, dl_ref, &mut |e| events.append(e))
                        .map_err(|e| format!("{path}: {e}"))?;
                    drop(dl);
                    let ended = t.reader.position();
                    if let Some(id) = ended.identity {
                        self.finished.insert((id.dev, id.inode), ended);
                    }
                    tracing::info!(file = %path, "file rotated; reading the new file from its start");
                    t.reader.reopen().map_err(|e| format!("{path}: {e}"))?;
                    progress = true;
                }
                FileChange::Truncated => {
                    tracing::info!(file = %path, "file truncated (copy-truncate rotation); reading it from its start");
                    t.reader.reopen().map_err(|e| format!("{path}: {e}"))?;
                    progress = true;
                }
            }
        }
        for path in gone {
            if let Some(t) = self.files.remove(&path) {
                self.changes.push((key(b'f', &path), None));
                let r = t.reader.report();
                self.closed.stats.merge(&r.stats);
                self.closed.bytes += r.bytes;
            }
        }
        Ok(progress)
    }

    /// Positions and decoder states changed since the last call.
    fn take_changes(&mut self) -> Vec<EntryChange> {
        for (path, t) in self.files.iter_mut() {
            for (k, v) in t.reader.take_state_changes() {
                let mut full = key(b'd', path);
                full.push(0);
                full.extend_from_slice(&k);
                self.changes.push((full, v));
            }
            let pos = t.reader.position();
            if t.stored.as_ref() != Some(&pos) {
                match serde_json::to_vec(&pos) {
                    Ok(v) => self.changes.push((key(b'f', path), Some(v))),
                    Err(e) => tracing::error!("encoding a file position: {e}"),
                }
                t.stored = Some(pos);
            }
        }
        std::mem::take(&mut self.changes)
    }

    fn report(&self) -> InputReport {
        let mut r = InputReport {
            path: self.spec.name.clone(),
            format: self.spec.format,
            ..self.closed.clone()
        };
        for t in self.files.values() {
            let fr = t.reader.report();
            r.stats.merge(&fr.stats);
            r.bytes += fr.bytes;
            if r.format.is_none() {
                r.format = fr.format;
            }
            for e in fr.first_errors {
                if r.first_errors.len() < 10 {
                    r.first_errors.push(e);
                }
            }
        }
        r
    }
}

/// Start following; the thread ends when `stop` is set or the engine is
/// gone.
pub fn spawn(
    spec: TailSpec,
    stored: Vec<Entry>,
    handle: SourceHandle,
    dead_letter: Option<Arc<Mutex<DeadLetter>>>,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<()>, String> {
    let pattern = Pattern::new(&spec.pattern)?;
    let (stored_positions, stored_state) = split_stored(stored);
    let mut group = Group {
        spec,
        pattern,
        files: BTreeMap::new(),
        stored_positions,
        stored_state,
        finished: HashMap::new(),
        changes: Vec::new(),
        closed: InputReport::default(),
    };
    std::thread::Builder::new()
        .name(format!("dumpwatch-tail-{}", handle.id))
        .spawn(move || {
            if let Err(e) = follow(&mut group, &handle, dead_letter.as_ref(), &stop) {
                handle.failed(e);
            }
        })
        .map_err(|e| e.to_string())
}

fn follow(
    group: &mut Group,
    handle: &SourceHandle,
    dead_letter: Option<&Arc<Mutex<DeadLetter>>>,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut last_scan: Option<Instant> = None;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if last_scan.is_none_or(|t| t.elapsed() >= group.spec.rescan) {
            group.open_new_files();
            last_scan = Some(Instant::now());
        }
        let mut events = Vec::new();
        let progress = group.read_round(dead_letter, &mut events)?;
        let changes = group.take_changes();
        if !events.is_empty() || !changes.is_empty() {
            let msg = Msg::Events {
                src: handle.id,
                events,
                position: None,
                state_changes: changes,
                report: Some(group.report()),
                ack: None,
            };
            if handle.send(msg).is_err() {
                return Ok(());
            }
        }
        if !progress {
            std::thread::sleep(group.spec.poll);
        }
    }
}

#[cfg(test)]
mod tests;
