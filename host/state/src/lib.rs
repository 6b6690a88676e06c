//! The checkpoint store.
//!
//! Everything the engine needs to resume after a crash, a restart or a
//! reload lives here, written in **one transaction** per checkpoint so the
//! pieces always agree:
//!
//! * each analytic's state (its `snapshot`, as state frames): the last full
//!   snapshot as it came, cut into segments, and the changed-only snapshots
//!   since, likewise, merged over it on read; and a record of the module,
//!   version, tunables and watermark they belong to;
//! * each source's resumable position (byte offset and line of the oldest
//!   record not yet fully processed), its file identity and the highest
//!   event time it delivered;
//! * the dedup memory (finding uid → digest of the last emitted content);
//! * the outbox: findings produced since the previous checkpoint, delivered
//!   to the sinks only after the checkpoint that produced them committed,
//!   and the sinks' sizes after the last delivery, so a crash never loses
//!   a finding and never emits one twice.
//!
//! Storage is redb (embedded, ACID, crash-safe). A store file that cannot
//! be read is an error, never silently replaced.
//!
//! Why snapshots are kept whole: a million open windows written as a
//! million rows took 1.6 s to commit and 0.6 s to read back; as segments
//! they are one large copy each way. A changed-only snapshot is appended
//! whole as well, after the full one and the changes before it (150,000
//! changed windows took 0.29 s to write as one row per key, most of a
//! checkpoint's store time); reading merges them, a later entry of a key
//! replacing an earlier one. Once the changes outgrow half the full
//! snapshot, [`StateSize::rebase_due`] asks for a full one again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use redb::backends::InMemoryBackend;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

/// A stored key and value (decoder state).
pub type Entry = (Vec<u8>, Vec<u8>);
/// A change to a stored key: `None` deletes it.
pub type EntryChange = (Vec<u8>, Option<Vec<u8>>);

/// Version of the store layout; a store of another version is refused.
pub const FORMAT_VERSION: u32 = 3;

/// Largest segment of a stored snapshot. Just under 4 MiB: redb gives
/// each value a power-of-two run of pages, and a segment of exactly 4 MiB
/// plus its page header took 8 MiB, so a full snapshot wrote (and synced)
/// twice its size.
const SEGMENT: usize = (4 << 20) - (64 << 10);
/// Changes smaller than this never ask for a new full snapshot.
const REBASE_FLOOR: u64 = 4 << 20;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const ANALYTICS: TableDefinition<&str, &[u8]> = TableDefinition::new("analytics");
/// (analytic, segment number) → bytes of its last full snapshot's frames.
const ANALYTIC_BASE: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("analytic_base");
/// (analytic, piece number) → bytes of the changed-only snapshots written
/// since that full snapshot, in the order they came, cut into segments.
const ANALYTIC_CHANGES: TableDefinition<(&str, u32), &[u8]> =
    TableDefinition::new("analytic_changes");
/// analytic → (bytes of its full snapshot, bytes of the changes since).
const ANALYTIC_SIZES: TableDefinition<&str, (u64, u64)> = TableDefinition::new("analytic_sizes");
const SOURCES: TableDefinition<&str, &[u8]> = TableDefinition::new("sources");
const DECODER_STATE: TableDefinition<(&str, &[u8]), &[u8]> = TableDefinition::new("decoder_state");
const DEDUP: TableDefinition<&str, (u128, i64)> = TableDefinition::new("dedup");
const OUTBOX: TableDefinition<u64, &str> = TableDefinition::new("outbox");
const DELIVERY: TableDefinition<&str, u64> = TableDefinition::new("delivery");

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "state store {path} cannot be opened: {reason}. Refusing to start over it; \
         run with --reset-state to discard it"
    )]
    Unreadable { path: String, reason: String },
    #[error("state store {path} is held by another dumpwatch process")]
    Locked { path: String },
    #[error(
        "state store {path} has layout version {found}, this dumpwatch uses {expected}; \
         run with --reset-state to discard it"
    )]
    Version {
        path: String,
        found: u32,
        expected: u32,
    },
    #[error("state store {path}: {reason}")]
    Io { path: String, reason: String },
}

/// What the store holds for one analytic besides its entries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalyticRecord {
    /// SHA-256 of the component that wrote the entries.
    pub module_digest: String,
    pub version: String,
    pub tunables_hash: String,
    /// The watermark the analytic had been advanced to.
    pub advanced_to: i64,
    /// Open windows at the checkpoint (from `inspect`).
    pub open_windows: u64,
}

/// Identity of a file, to tell a resumed file from a rotated or replaced
/// one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileIdentity {
    pub dev: u64,
    pub inode: u64,
}

/// Where a source stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// Format name the source was read with.
    pub format: Option<String>,
    /// Byte offset to resume reading at.
    pub offset: u64,
    /// Line number (1-based) of the line at `offset`.
    pub line: u64,
    pub identity: Option<FileIdentity>,
    /// Highest plausible event time delivered (restores the watermark).
    pub max_seen: i64,
    /// The source was read to its end (a file input).
    pub done: bool,
    /// Header lines a fresh decoder must see before resuming at `offset`.
    #[serde(default)]
    pub context: Vec<Vec<u8>>,
}

/// One analytic's part of a checkpoint.
#[derive(Clone, Debug, Default)]
pub struct AnalyticUpdate {
    pub id: String,
    pub record: AnalyticRecord,
    /// `frames` is a full snapshot that replaces everything stored, instead
    /// of changes to apply.
    pub full: bool,
    /// The snapshot's state frames (`dumpwatch_frames`), in the parts it
    /// came in, each of whole frames; a deleted key only in changes.
    pub frames: Vec<Vec<u8>>,
}

/// How much state the store holds for one analytic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateSize {
    /// Bytes of its last full snapshot.
    pub base: u64,
    /// Bytes of the changed-only snapshots written since (a key changed in
    /// two of them counts twice: both are stored and read).
    pub changes: u64,
}

impl StateSize {
    /// The changes have grown past half the full snapshot (and past a few
    /// MB): reading the state would now cost more merging than a new full
    /// snapshot costs once.
    pub fn rebase_due(&self) -> bool {
        self.changes > REBASE_FLOOR && self.changes.saturating_mul(2) > self.base
    }
}

/// What a committed checkpoint reports back.
#[derive(Clone, Debug, Default)]
pub struct Committed {
    /// Outbox sequence numbers given to its findings, in order.
    pub seqs: Vec<u64>,
    /// State held per analytic it wrote.
    pub sizes: BTreeMap<String, StateSize>,
}

/// Everything one checkpoint writes.
#[derive(Clone, Debug, Default)]
pub struct Checkpoint {
    pub analytics: Vec<AnalyticUpdate>,
    /// Analytics whose stored state must go (unloaded, or rejected by a
    /// new version).
    pub drop_analytics: Vec<String>,
    pub sources: Vec<(String, SourceRecord)>,
    /// Decoder state changes per source (`None` deletes the key).
    pub decoder_state: Vec<(String, Vec<EntryChange>)>,
    /// Dedup memory changes: `None` forgets the uid.
    pub dedup: Vec<(String, Option<(u128, i64)>)>,
    /// Findings (rendered JSON lines) to deliver once this commits.
    pub outbox: Vec<String>,
}

/// What a store holds, minus the analytic entries (read on demand).
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub analytics: BTreeMap<String, AnalyticRecord>,
    pub sources: BTreeMap<String, SourceRecord>,
    pub dedup: Vec<(String, u128, i64)>,
    /// Undelivered findings, in order.
    pub outbox: Vec<(u64, String)>,
    /// Sink sizes after the last delivery.
    pub delivered: BTreeMap<String, u64>,
    /// Number of checkpoints committed.
    pub checkpoints: u64,
}

/// Counts for `dumpwatch state show`.
#[derive(Clone, Debug, Default)]
pub struct Sizes {
    pub file_bytes: Option<u64>,
    /// Per analytic: its entries, their bytes as merged frames, and how
    /// they are held (full snapshot, changes since).
    pub entries_by_analytic: BTreeMap<String, (u64, u64, StateSize)>,
    pub dedup: u64,
    pub outbox: u64,
}

/// The checkpoint store.
pub struct Store {
    db: Database,
    path: Option<PathBuf>,
}

fn label(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map_or_else(|| "(in memory)".to_owned(), |p| p.display().to_string())
}

impl Store {
    fn io<E: std::fmt::Display>(&self, e: E) -> StoreError {
        StoreError::Io {
            path: label(&self.path),
            reason: e.to_string(),
        }
    }

    /// Open (or create) the store file `path`. A corrupt or foreign file is
    /// an error; with `reset` it is deleted and a new store created.
    pub fn open(path: &Path, reset: bool) -> Result<Store, StoreError> {
        let display = path.display().to_string();
        if reset && path.exists() {
            std::fs::remove_file(path).map_err(|e| StoreError::Io {
                path: display.clone(),
                reason: format!("cannot remove for --reset-state: {e}"),
            })?;
        }
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Io {
                path: display.clone(),
                reason: e.to_string(),
            })?;
        }
        if !path.exists() {
            create_atomically(path)?;
        }
        let db = match Database::create(path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(StoreError::Locked { path: display });
            }
            Err(e) => {
                return Err(StoreError::Unreadable {
                    path: display,
                    reason: e.to_string(),
                });
            }
        };
        let store = Store {
            db,
            path: Some(path.to_path_buf()),
        };
        store.init()?;
        Ok(store)
    }

    /// A store that lives in memory (replay without `--state`): checkpoints
    /// still feed trap recovery, nothing survives the process.
    pub fn in_memory() -> Result<Store, StoreError> {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .map_err(|e| StoreError::Io {
                path: "(in memory)".into(),
                reason: e.to_string(),
            })?;
        let store = Store { db, path: None };
        store.init()?;
        Ok(store)
    }

    pub fn is_persistent(&self) -> bool {
        self.path.is_some()
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Create the tables and check the layout version.
    fn init(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.io(e))?;
        {
            let mut meta = txn.open_table(META).map_err(|e| self.io(e))?;
            let found = meta.get("format").map_err(|e| self.io(e))?.map(|v| {
                let b = v.value();
                u32::from_le_bytes([
                    b.first().copied().unwrap_or(0),
                    b.get(1).copied().unwrap_or(0),
                    b.get(2).copied().unwrap_or(0),
                    b.get(3).copied().unwrap_or(0),
                ])
            });
            match found {
                Some(v) if v != FORMAT_VERSION => {
                    return Err(StoreError::Version {
                        path: label(&self.path),
                        found: v,
                        expected: FORMAT_VERSION,
                    });
                }
                Some(_) => {}
                None => {
                    meta.insert("format", FORMAT_VERSION.to_le_bytes().as_slice())
                        .map_err(|e| self.io(e))?;
                }
            }
            txn.open_table(ANALYTICS).map_err(|e| self.io(e))?;
            txn.open_table(ANALYTIC_BASE).map_err(|e| self.io(e))?;
            txn.open_table(ANALYTIC_CHANGES).map_err(|e| self.io(e))?;
            txn.open_table(ANALYTIC_SIZES).map_err(|e| self.io(e))?;
            txn.open_table(SOURCES).map_err(|e| self.io(e))?;
            txn.open_table(DECODER_STATE).map_err(|e| self.io(e))?;
            txn.open_table(DEDUP).map_err(|e| self.io(e))?;
            txn.open_table(OUTBOX).map_err(|e| self.io(e))?;
            txn.open_table(DELIVERY).map_err(|e| self.io(e))?;
        }
        txn.commit().map_err(|e| self.io(e))
    }

    /// Everything but the analytic entries.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.io(e))?;
        let mut out = Loaded::default();
        let analytics = txn.open_table(ANALYTICS).map_err(|e| self.io(e))?;
        for item in analytics.iter().map_err(|e| self.io(e))? {
            let (k, v) = item.map_err(|e| self.io(e))?;
            let rec: AnalyticRecord = serde_json::from_slice(v.value())
                .map_err(|e| self.io(format!("analytic record {}: {e}", k.value())))?;
            out.analytics.insert(k.value().to_owned(), rec);
        }
        let sources = txn.open_table(SOURCES).map_err(|e| self.io(e))?;
        for item in sources.iter().map_err(|e| self.io(e))? {
            let (k, v) = item.map_err(|e| self.io(e))?;
            let rec: SourceRecord = serde_json::from_slice(v.value())
                .map_err(|e| self.io(format!("source record {}: {e}", k.value())))?;
            out.sources.insert(k.value().to_owned(), rec);
        }
        let dedup = txn.open_table(DEDUP).map_err(|e| self.io(e))?;
        for item in dedup.iter().map_err(|e| self.io(e))? {
            let (k, v) = item.map_err(|e| self.io(e))?;
            let (digest, end) = v.value();
            out.dedup.push((k.value().to_owned(), digest, end));
        }
        let outbox = txn.open_table(OUTBOX).map_err(|e| self.io(e))?;
        for item in outbox.iter().map_err(|e| self.io(e))? {
            let (k, v) = item.map_err(|e| self.io(e))?;
            out.outbox.push((k.value(), v.value().to_owned()));
        }
        let delivery = txn.open_table(DELIVERY).map_err(|e| self.io(e))?;
        for item in delivery.iter().map_err(|e| self.io(e))? {
            let (k, v) = item.map_err(|e| self.io(e))?;
            out.delivered.insert(k.value().to_owned(), v.value());
        }
        let meta = txn.open_table(META).map_err(|e| self.io(e))?;
        out.checkpoints = meta
            .get("checkpoints")
            .map_err(|e| self.io(e))?
            .map(|v| {
                let mut b = [0u8; 8];
                let s = v.value();
                b[..s.len().min(8)].copy_from_slice(&s[..s.len().min(8)]);
                u64::from_le_bytes(b)
            })
            .unwrap_or(0);
        Ok(out)
    }

    /// An analytic's stored state as state frames for `restore`: its last
    /// full snapshot with the changes since merged over it (each key once,
    /// no deletions).
    pub fn frames(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        self.view()?.frames(id)
    }

    /// A source's stored decoder state, in key order.
    pub fn decoder_entries(&self, source: &str) -> Result<Vec<Entry>, StoreError> {
        self.keyed(DECODER_STATE, source)
    }

    fn keyed(
        &self,
        def: TableDefinition<(&str, &[u8]), &[u8]>,
        id: &str,
    ) -> Result<Vec<Entry>, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.io(e))?;
        read_keyed(&txn, def, id).map_err(|e| self.io(e))
    }

    /// How an analytic's state is held: its full snapshot and the changes
    /// since (zero for an analytic with nothing stored).
    pub fn state_size(&self, id: &str) -> Result<StateSize, StoreError> {
        self.view()?.state_size(id)
    }

    /// A read-only view of the store as it is now, unaffected by later
    /// checkpoints, that can be read on another thread (a reload restores
    /// new versions from it off the engine thread).
    pub fn view(&self) -> Result<StoreView, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.io(e))?;
        Ok(StoreView {
            txn,
            label: label(&self.path),
        })
    }

    /// Write a checkpoint in one transaction. Returns the outbox sequence
    /// numbers given to its findings and the state each analytic now holds.
    pub fn commit(&self, cp: &Checkpoint) -> Result<Committed, StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.io(e))?;
        let mut committed = Committed {
            seqs: Vec::with_capacity(cp.outbox.len()),
            sizes: BTreeMap::new(),
        };
        {
            let mut analytics = txn.open_table(ANALYTICS).map_err(|e| self.io(e))?;
            let mut state = AnalyticState::open(&txn).map_err(|e| self.io(e))?;
            for id in &cp.drop_analytics {
                analytics.remove(id.as_str()).map_err(|e| self.io(e))?;
                state.remove(id).map_err(|e| self.io(e))?;
            }
            for a in &cp.analytics {
                let rec = serde_json::to_vec(&a.record).map_err(|e| self.io(e))?;
                analytics
                    .insert(a.id.as_str(), rec.as_slice())
                    .map_err(|e| self.io(e))?;
                let size = if a.full {
                    state.replace(&a.id, &a.frames)
                } else {
                    state.apply(&a.id, &a.frames)
                }
                .map_err(|e| self.io(format!("analytic {}: {e}", a.id)))?;
                committed.sizes.insert(a.id.clone(), size);
            }
            let mut sources = txn.open_table(SOURCES).map_err(|e| self.io(e))?;
            for (k, rec) in &cp.sources {
                let v = serde_json::to_vec(rec).map_err(|e| self.io(e))?;
                sources
                    .insert(k.as_str(), v.as_slice())
                    .map_err(|e| self.io(e))?;
            }
            let mut decoder = txn.open_table(DECODER_STATE).map_err(|e| self.io(e))?;
            for (src, changes) in &cp.decoder_state {
                for (k, v) in changes {
                    match v {
                        Some(v) => {
                            decoder
                                .insert((src.as_str(), k.as_slice()), v.as_slice())
                                .map_err(|e| self.io(e))?;
                        }
                        None => {
                            decoder
                                .remove((src.as_str(), k.as_slice()))
                                .map_err(|e| self.io(e))?;
                        }
                    }
                }
            }
            let mut dedup = txn.open_table(DEDUP).map_err(|e| self.io(e))?;
            for (uid, v) in &cp.dedup {
                match v {
                    Some(v) => {
                        dedup.insert(uid.as_str(), *v).map_err(|e| self.io(e))?;
                    }
                    None => {
                        dedup.remove(uid.as_str()).map_err(|e| self.io(e))?;
                    }
                }
            }
            let mut outbox = txn.open_table(OUTBOX).map_err(|e| self.io(e))?;
            let mut next = outbox
                .last()
                .map_err(|e| self.io(e))?
                .map_or(0, |(k, _)| k.value() + 1);
            let mut meta = txn.open_table(META).map_err(|e| self.io(e))?;
            let floor = meta
                .get("outbox_next")
                .map_err(|e| self.io(e))?
                .map(|v| read_u64(v.value()))
                .unwrap_or(0);
            next = next.max(floor);
            for line in &cp.outbox {
                outbox.insert(next, line.as_str()).map_err(|e| self.io(e))?;
                committed.seqs.push(next);
                next += 1;
            }
            meta.insert("outbox_next", next.to_le_bytes().as_slice())
                .map_err(|e| self.io(e))?;
            let count = meta
                .get("checkpoints")
                .map_err(|e| self.io(e))?
                .map(|v| read_u64(v.value()))
                .unwrap_or(0)
                + 1;
            meta.insert("checkpoints", count.to_le_bytes().as_slice())
                .map_err(|e| self.io(e))?;
        }
        txn.commit().map_err(|e| self.io(e))?;
        Ok(committed)
    }

    /// The findings up to `upto` (inclusive) reached the sinks, whose sizes
    /// are now `sinks`.
    pub fn delivered(&self, upto: u64, sinks: &[(String, u64)]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.io(e))?;
        {
            let mut outbox = txn.open_table(OUTBOX).map_err(|e| self.io(e))?;
            outbox.retain(|k, _| k > upto).map_err(|e| self.io(e))?;
            let mut delivery = txn.open_table(DELIVERY).map_err(|e| self.io(e))?;
            for (name, len) in sinks {
                delivery
                    .insert(name.as_str(), *len)
                    .map_err(|e| self.io(e))?;
            }
        }
        txn.commit().map_err(|e| self.io(e))
    }

    /// Record the size of sinks the store has no delivery record for yet
    /// (a fresh store): a crash between the first delivery and its
    /// confirmation then rewinds them to this size instead of leaving the
    /// findings in them to be delivered a second time.
    pub fn sink_baselines(&self, sinks: &[(String, u64)]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.io(e))?;
        {
            let mut delivery = txn.open_table(DELIVERY).map_err(|e| self.io(e))?;
            for (name, len) in sinks {
                let known = delivery
                    .get(name.as_str())
                    .map_err(|e| self.io(e))?
                    .is_some();
                if !known {
                    delivery
                        .insert(name.as_str(), *len)
                        .map_err(|e| self.io(e))?;
                }
            }
        }
        txn.commit().map_err(|e| self.io(e))
    }

    /// Sizes for `state show`.
    pub fn sizes(&self) -> Result<Sizes, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.io(e))?;
        let mut s = Sizes {
            file_bytes: self
                .path
                .as_ref()
                .and_then(|p| std::fs::metadata(p).ok())
                .map(|m| m.len()),
            ..Sizes::default()
        };
        let sizes = txn.open_table(ANALYTIC_SIZES).map_err(|e| self.io(e))?;
        let held: Vec<(String, StateSize)> = sizes
            .iter()
            .map_err(|e| self.io(e))?
            .map(|item| {
                item.map(|(k, v)| {
                    let (base, changes) = v.value();
                    (k.value().to_owned(), StateSize { base, changes })
                })
            })
            .collect::<Result<_, _>>()
            .map_err(|e| self.io(e))?;
        for (id, size) in held {
            let frames = read_frames(&txn, &id).map_err(|e| self.io(e))?;
            let count = dumpwatch_frames::frames(&frames).count() as u64;
            s.entries_by_analytic
                .insert(id, (count, frames.len() as u64, size));
        }
        s.dedup = txn
            .open_table(DEDUP)
            .map_err(|e| self.io(e))?
            .len()
            .map_err(|e| self.io(e))?;
        s.outbox = txn
            .open_table(OUTBOX)
            .map_err(|e| self.io(e))?
            .len()
            .map_err(|e| self.io(e))?;
        Ok(s)
    }
}

fn read_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    let n = b.len().min(8);
    a[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(a)
}

/// A consistent, read-only view of the store at one moment.
pub struct StoreView {
    txn: redb::ReadTransaction,
    label: String,
}

impl StoreView {
    fn io(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Io {
            path: self.label.clone(),
            reason: e.to_string(),
        }
    }

    /// An analytic's stored state as of this view; see [`Store::frames`].
    pub fn frames(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        read_frames(&self.txn, id).map_err(|e| self.io(e))
    }

    /// An analytic's stored state as [`StoreView::frames`] gives it,
    /// handed to `emit` in parts of whole frames of about `part` bytes, in
    /// order (the parts joined are what [`StoreView::frames`] returns). The
    /// full snapshot is read a segment at a time: `emit` can pass a part on
    /// while the next is read, and nothing holds the whole state. `emit`
    /// returns false to stop. An error may come after some parts were
    /// emitted.
    pub fn frame_parts(
        &self,
        id: &str,
        part: usize,
        emit: impl FnMut(Vec<u8>) -> bool,
    ) -> Result<(), StoreError> {
        read_frame_parts(&self.txn, id, part, emit).map_err(|e| self.io(e))
    }

    /// [`Store::state_size`] as of this view.
    pub fn state_size(&self, id: &str) -> Result<StateSize, StoreError> {
        state_size(&self.txn, id).map_err(|e| self.io(e))
    }
}

/// The entries of `id` in a table keyed by (id, key), in key order.
fn read_keyed(
    txn: &redb::ReadTransaction,
    def: TableDefinition<(&str, &[u8]), &[u8]>,
    id: &str,
) -> Result<Vec<Entry>, String> {
    read_rows(txn, def, id, |value| Ok(value.to_vec()))
}

/// The rows of `id` in a table keyed by (id, key), in key order, each value
/// read by `value`.
fn read_rows<T>(
    txn: &redb::ReadTransaction,
    def: TableDefinition<(&str, &[u8]), &[u8]>,
    id: &str,
    value: impl Fn(&[u8]) -> Result<T, String>,
) -> Result<Vec<(Vec<u8>, T)>, String> {
    let table = txn.open_table(def).map_err(|e| e.to_string())?;
    let lo: (&str, &[u8]) = (id, &[]);
    let mut out = Vec::new();
    for item in table.range(lo..).map_err(|e| e.to_string())? {
        let (k, v) = item.map_err(|e| e.to_string())?;
        let (kid, key) = k.value();
        if kid != id {
            break;
        }
        out.push((key.to_vec(), value(v.value())?));
    }
    Ok(out)
}

/// Create a new store file as a whole: built and initialised under a
/// temporary name beside `path`, then renamed into place. A process killed
/// while creating its store (as the crash test does, a few milliseconds
/// after start) must not leave a half-written file that the next start
/// rightly refuses as corrupt.
fn create_atomically(path: &Path) -> Result<(), StoreError> {
    let io = |reason: String| StoreError::Io {
        path: path.display().to_string(),
        reason,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".new");
    let tmp = PathBuf::from(tmp);
    // A leftover of an earlier interrupted creation holds nothing.
    if tmp.exists() {
        std::fs::remove_file(&tmp)
            .map_err(|e| io(format!("cannot remove {}: {e}", tmp.display())))?;
    }
    {
        let db = Database::create(&tmp)
            .map_err(|e| io(format!("cannot create {}: {e}", tmp.display())))?;
        Store {
            db,
            path: Some(tmp.clone()),
        }
        .init()?;
    }
    std::fs::rename(&tmp, path)
        .map_err(|e| io(format!("cannot rename {} into place: {e}", tmp.display())))?;
    // Make the rename itself durable; best effort where directories cannot
    // be opened.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

mod analytic_state;
use analytic_state::{AnalyticState, read_frame_parts, read_frames, state_size};

#[cfg(test)]
mod tests;
