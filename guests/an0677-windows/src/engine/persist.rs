//! Snapshots of the engine: one entry per (host, user) with that user's
//! windows, one per host with its pending events, one per host with its
//! names, and the watermark, in format [`FORMAT`]. `changes` carries only
//! what changed since the last snapshot (a deleted key as `none`).

use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::log;
use dumpwatch_sdk::state::{SnapshotReader, SnapshotWriter};
use dumpwatch_sdk::types::SnapshotMode;

use super::{Engine, HostState, UserWindows};
use crate::names::NameBook;
use crate::observe::Candidate;
use crate::window::{Window, state};

/// The state format; bump it whenever the encoding of a window, a
/// candidate, a name book or a key changes.
pub const FORMAT: &str = "an0677/3";
/// Key space of (host, user) → windows.
pub const WINDOWS: u8 = 1;
/// Key space of host → pending events.
pub const PENDING: u8 = 2;
/// Key space of host → names of cloud destinations.
pub const NAMES: u8 = 3;
const WATERMARK: &str = "watermark";

impl Engine {
    pub fn snapshot(&mut self, mode: SnapshotMode) -> Vec<u8> {
        let mut writer = SnapshotWriter::new(FORMAT, mode);
        writer.meta(WATERMARK, &self.watermark);
        match mode {
            SnapshotMode::Full => {
                self.dirty_windows.clear();
                self.dirty_pending.clear();
                self.dirty_names.clear();
                for (host, host_state) in &self.hosts {
                    for entry in &host_state.users {
                        writer.put(WINDOWS, &(host, &entry.user), Some(&entry.windows));
                    }
                    if !host_state.pending.is_empty() {
                        writer.put(PENDING, host, Some(&host_state.pending));
                    }
                    if !host_state.names.is_empty() {
                        writer.put(NAMES, host, Some(&host_state.names));
                    }
                }
            }
            SnapshotMode::Changes => {
                let mut keys = self.dirty_windows.take();
                keys.sort_unstable();
                for (host, user) in keys {
                    let windows = self.hosts.get(&host).and_then(|host_state| {
                        host_state
                            .users
                            .binary_search_by(|entry| entry.user.cmp(&user))
                            .ok()
                            .map(|slot| &host_state.users[slot].windows)
                    });
                    writer.put(WINDOWS, &(&host, &user), windows.filter(|w| !w.is_empty()));
                }
                let mut hosts = self.dirty_pending.take();
                hosts.sort_unstable();
                for host in hosts {
                    let pending = self.hosts.get(&host).map(|host_state| &host_state.pending);
                    writer.put(PENDING, &host, pending.filter(|p| !p.is_empty()));
                }
                let mut hosts = self.dirty_names.take();
                hosts.sort_unstable();
                for host in hosts {
                    let names = self.hosts.get(&host).map(|host_state| &host_state.names);
                    writer.put(NAMES, &host, names.filter(|n| !n.is_empty()));
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
        let watermark = reader.meta::<i64>(WATERMARK)?.unwrap_or(i64::MIN);
        let windows = reader.entries::<(Sym, Sym), Vec<Window>>(WINDOWS)?;
        let pending = reader.entries::<Sym, Vec<Candidate>>(PENDING)?;
        let names = reader.entries::<Sym, NameBook>(NAMES)?;
        self.watermark = watermark;
        for ((host, user), mut list) in windows {
            if list.is_empty() {
                continue;
            }
            list.sort_by_key(|window| window.anchor);
            self.window_count += list.len();
            if list.iter().any(|window| window.flags & state::CHANGED != 0) {
                self.changed.push((host.clone(), user.clone()));
            }
            let host_state = self.hosts.entry(host).or_insert_with(HostState::new);
            let slot = match host_state
                .users
                .binary_search_by(|entry| entry.user.cmp(&user))
            {
                Ok(slot) | Err(slot) => slot,
            };
            host_state.users.insert(
                slot,
                UserWindows {
                    user,
                    windows: list,
                },
            );
        }
        for (host, list) in pending {
            if list.is_empty() {
                continue;
            }
            self.pending_count += list.len();
            self.hosts
                .entry(host)
                .or_insert_with(HostState::new)
                .pending = list;
        }
        for (host, book) in names {
            if book.is_empty() {
                continue;
            }
            self.hosts.entry(host).or_insert_with(HostState::new).names = book;
        }
        self.rebuild_agenda();
        Ok(())
    }
}
