//! Snapshots of the engine, in format [`FORMAT`]: one entry per pending
//! observation, one per Snowflake user and per Microsoft 365 user with
//! their windows, one per learned (user or role, template) pair, plus the
//! watermark and the start of the learning period. `changes` carries only
//! what changed since the last snapshot (a deleted key as `none`).

use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::log;
use dumpwatch_sdk::state::{SnapshotReader, SnapshotWriter};
use dumpwatch_sdk::types::SnapshotMode;

use super::Engine;
use super::learning::Learned;
use super::windows::{DownloadWindow, ReadWindow};

/// The state format; bump it whenever the encoding of an entry changes.
pub const FORMAT: &str = "an0680/3";
/// Key space of pending observations (slot → observation).
pub const PENDING: u8 = 1;
/// Key space of Snowflake user → read windows.
pub const SNOWFLAKE: u8 = 2;
/// Key space of Microsoft 365 user → download windows.
pub const M365: u8 = 3;
/// Key space of learned templates ((is role, principal), template) → last seen.
pub const LEARNED: u8 = 4;
const WATERMARK: &str = "watermark";
const SWEPT_AT: &str = "swept_at";

impl Engine {
    pub fn snapshot(&mut self, mode: SnapshotMode) -> Vec<u8> {
        let mut writer = SnapshotWriter::new(FORMAT, mode);
        writer.meta(WATERMARK, &self.watermark);
        writer.meta(SWEPT_AT, &self.swept_at);
        self.buffer.snapshot_into(&mut writer, PENDING, mode);
        self.learned.snapshot_into(&mut writer, LEARNED, mode);
        match mode {
            SnapshotMode::Full => {
                self.dirty_snowflake.clear();
                self.dirty_m365.clear();
                for (user, windows) in &self.snowflake {
                    writer.put(SNOWFLAKE, user, Some(windows));
                }
                for (user, windows) in &self.m365 {
                    writer.put(M365, user, Some(windows));
                }
            }
            SnapshotMode::Changes => {
                let mut users = self.dirty_snowflake.take();
                users.sort_unstable();
                for user in users {
                    let windows = self.snowflake.get(&user).filter(|w| !w.is_empty());
                    writer.put(SNOWFLAKE, &user, windows);
                }
                let mut users = self.dirty_m365.take();
                users.sort_unstable();
                for user in users {
                    let windows = self.m365.get(&user).filter(|w| !w.is_empty());
                    writer.put(M365, &user, windows);
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
        *self = Engine::new(config.clone());
        let reader = SnapshotReader::open(entries, FORMAT)?;
        let mut restored = Engine::new(config);
        restored.buffer.restore_from(&reader, PENDING)?;
        restored.learned = Learned::restore_from(&reader, LEARNED)?;
        restored.watermark = reader.meta::<i64>(WATERMARK)?.unwrap_or(i64::MIN);
        restored.swept_at = reader.meta::<i64>(SWEPT_AT)?.unwrap_or(i64::MIN);
        for (user, mut windows) in reader.entries::<Sym, Vec<ReadWindow>>(SNOWFLAKE)? {
            if windows.is_empty() {
                continue;
            }
            windows.sort_by_key(|w| w.anchor);
            restored.window_count += windows.len();
            if windows.iter().any(|w| w.changed) {
                restored.changed_snowflake.push(user.clone());
            }
            restored.snowflake.insert(user, windows);
        }
        for (user, mut windows) in reader.entries::<Sym, Vec<DownloadWindow>>(M365)? {
            if windows.is_empty() {
                continue;
            }
            windows.sort_by_key(|w| w.anchor);
            restored.window_count += windows.len();
            if windows.iter().any(|w| w.changed) {
                restored.changed_m365.push(user.clone());
            }
            restored.m365.insert(user, windows);
        }
        *self = restored;
        Ok(())
    }
}
