//! Snapshots of the engine, in format [`FORMAT`]: one entry per pending
//! observation, one per identity (its query windows and uploads), one per
//! database address and destination (its flow windows), one per reported
//! snapshot event, plus the watermark. `changes` carries only what changed
//! since the last snapshot (a deleted key as `none`). Cluster marks are
//! derived from the windows and rebuilt on restore.

use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::log;
use dumpwatch_sdk::state::{SnapshotReader, SnapshotWriter};
use dumpwatch_sdk::types::SnapshotMode;

use super::{Engine, FlowKey, FlowWindow, IdentityState};

/// The state format; bump it whenever the encoding of an entry changes.
pub const FORMAT: &str = "an0679/3";
/// Key space of pending observations (slot → observation).
pub const PENDING: u8 = 1;
/// Key space of identity → windows and uploads.
pub const IDENTITIES: u8 = 2;
/// Key space of (database address, destination) → flow windows.
pub const FLOWS: u8 = 3;
/// Key space of reported snapshot events (event key → event time).
pub const REPORTED: u8 = 4;
const WATERMARK: &str = "watermark";
const SWEPT_AT: &str = "swept_at";

impl Engine {
    pub fn snapshot(&mut self, mode: SnapshotMode) -> Vec<u8> {
        let mut writer = SnapshotWriter::new(FORMAT, mode);
        writer.meta(WATERMARK, &self.watermark);
        writer.meta(SWEPT_AT, &self.swept_at);
        self.buffer.snapshot_into(&mut writer, PENDING, mode);
        match mode {
            SnapshotMode::Full => {
                self.dirty_identities.clear();
                self.dirty_flows.clear();
                self.dirty_reported.clear();
                for (identity, state) in &self.identities {
                    writer.put(IDENTITIES, identity, Some(state));
                }
                for (key, windows) in &self.flows {
                    writer.put(FLOWS, key, Some(windows));
                }
                for (key, time) in &self.reported {
                    writer.put(REPORTED, key, Some(time));
                }
            }
            SnapshotMode::Changes => {
                let mut identities = self.dirty_identities.take();
                identities.sort_unstable();
                for identity in identities {
                    let state = self.identities.get(&identity).filter(|s| !s.is_empty());
                    writer.put(IDENTITIES, &identity, state);
                }
                let mut keys = self.dirty_flows.take();
                keys.sort_unstable();
                for key in keys {
                    let windows = self.flows.get(&key).filter(|w| !w.is_empty());
                    writer.put(FLOWS, &key, windows);
                }
                let mut reported = self.dirty_reported.take();
                reported.sort_unstable();
                for key in reported {
                    writer.put(REPORTED, &key, self.reported.get(&key));
                }
            }
        }
        let (entries, errors) = writer.finish();
        for error in errors {
            log::error(&format!("snapshot entry left out: {error}"));
        }
        entries
    }

    /// Replace all state with `entries`; on error the state is left empty.
    pub fn restore(&mut self, entries: Vec<u8>) -> Result<(), String> {
        let config = self.config.clone();
        *self = Engine::new(config);
        let reader = SnapshotReader::open(entries, FORMAT)?;
        let identities = reader.entries::<Sym, IdentityState>(IDENTITIES)?;
        let flows = reader.entries::<FlowKey, Vec<FlowWindow>>(FLOWS)?;
        let reported = reader.entries::<u64, i64>(REPORTED)?;
        let mut restored = Engine::new(self.config.clone());
        restored.buffer.restore_from(&reader, PENDING)?;
        restored.watermark = reader.meta::<i64>(WATERMARK)?.unwrap_or(i64::MIN);
        restored.swept_at = reader.meta::<i64>(SWEPT_AT)?.unwrap_or(i64::MIN);
        for (identity, mut state) in identities {
            if state.is_empty() {
                continue;
            }
            state.windows.sort_by_key(|w| w.anchor);
            restored.window_count += state.windows.len();
            restored.upload_count += state.uploads.len();
            if state.windows.iter().any(|w| w.changed) {
                restored.changed_identities.push(identity.clone());
            }
            restored.identities.insert(identity, state);
        }
        for (key, mut windows) in flows {
            if windows.is_empty() {
                continue;
            }
            windows.sort_by_key(|w| w.anchor);
            restored.window_count += windows.len();
            if windows.iter().any(|w| w.changed) {
                restored.changed_flows.push(key);
            }
            restored.flows.insert(key, windows);
        }
        restored.reported.extend(reported);
        restored.rebuild_marks();
        *self = restored;
        Ok(())
    }
}
