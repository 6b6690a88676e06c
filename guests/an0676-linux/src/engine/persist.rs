//! Snapshots of the engine: one entry per (host, user) with that user's
//! windows, one per host with its pending events, and the watermark, in
//! format [`FORMAT`]. `changes` carries only what changed since the last
//! snapshot (a deleted key as `none`).

use std::collections::hash_map::Entry;

use dumpwatch_sdk::RestoreParts;
use dumpwatch_sdk::collections::Map;
use dumpwatch_sdk::intern::{Sym, cmp_text};
use dumpwatch_sdk::log;
use dumpwatch_sdk::state::{PartEntry, SnapshotParts, SnapshotWriter};
use dumpwatch_sdk::types::SnapshotMode;

use super::{Engine, HostState, UserWindows};
use crate::observe::Candidate;
use crate::window::{Window, state};

/// The state format; bump it whenever the encoding of a window, a candidate
/// or a key changes.
pub const FORMAT: &str = "an0676/5";
/// Key space of (host, user) → windows.
pub const WINDOWS: u8 = 1;
/// Key space of host → pending events.
pub const PENDING: u8 = 2;
const WATERMARK: &str = "watermark";

impl Engine {
    pub fn snapshot(&mut self, mode: SnapshotMode) -> Vec<u8> {
        let mut writer = SnapshotWriter::new(FORMAT, mode);
        writer.meta(WATERMARK, &self.watermark);
        match mode {
            SnapshotMode::Full => {
                self.dirty_windows.clear();
                self.dirty_pending.clear();
                // Sized from the last full snapshot (or restore) plus a
                // little: an overestimate stays in the instance's memory
                // for good (wasm memory never shrinks; a fixed 192 bytes a
                // window grew it by 60 MB more than the 125 MB snapshot of
                // a million windows needed), and growing a buffer this
                // size copies it. In the component the writer hands its
                // frames over in parts and reserves for one part only.
                let estimate = self.window_count.saturating_mul(self.entry_bytes);
                writer.reserve(estimate.saturating_add(estimate / 32));
                for (host, host_state) in &self.hosts {
                    for entry in &host_state.users {
                        writer.put_packed(WINDOWS, &(host, &entry.user), Some(&entry.windows));
                    }
                    if !host_state.pending.is_empty() {
                        writer.put_packed(PENDING, host, Some(&host_state.pending));
                    }
                }
            }
            SnapshotMode::Changes => {
                // In a fixed order (the store orders keys itself): by
                // serial, which compares without reading the names, and
                // groups each host's users so the host is looked up once.
                let mut keys = self.dirty_windows.take();
                keys.sort_unstable_by_key(|(host, user)| (host.serial(), user.serial()));
                let mut last: Option<(&Sym, Option<&HostState>)> = None;
                for (host, user) in &keys {
                    let host_state = match last {
                        Some((last_host, state)) if last_host == host => state,
                        _ => last.insert((host, self.hosts.get(host))).1,
                    };
                    let windows = host_state.and_then(|host_state| {
                        host_state
                            .users
                            .binary_search_by(|entry| entry.user.cmp(user))
                            .ok()
                            .map(|slot| &host_state.users[slot].windows)
                    });
                    writer.put_packed(WINDOWS, &(host, user), windows.filter(|w| !w.is_empty()));
                }
                let mut hosts = self.dirty_pending.take();
                hosts.sort_unstable();
                for host in hosts {
                    let pending = self.hosts.get(&host).map(|host_state| &host_state.pending);
                    writer.put_packed(PENDING, &host, pending.filter(|p| !p.is_empty()));
                }
            }
        }
        if mode == SnapshotMode::Full {
            self.learn_entry_bytes(writer.written());
        }
        let (entries, errors) = writer.finish();
        for error in errors {
            log::error(&format!("snapshot entry left out: {error}"));
        }
        entries
    }

    /// Replace all state with the entries of `frames`; on error the state is
    /// left empty. A restore in one part.
    pub fn restore(&mut self, frames: Vec<u8>) -> Result<(), String> {
        self.begin();
        self.part(&frames);
        self.end()
    }

    /// Remember the bytes per window of a full snapshot of `len` bytes.
    fn learn_entry_bytes(&mut self, len: usize) {
        if self.window_count > 0 {
            self.entry_bytes = len.div_ceil(self.window_count).max(1);
        }
    }

    /// Take one restored entry. A full snapshot holds each host's users
    /// one after the other: they are gathered in `run` while the host
    /// stays the same, and the run is then added to the hosts at once.
    fn restore_entry(
        &mut self,
        run: &mut Option<(Sym, HostState)>,
        entry: PartEntry<'_>,
    ) -> Result<(), String> {
        match entry.space() {
            WINDOWS => {
                let ((host, user), mut list): ((&str, &str), Vec<Window>) = entry.packed()?;
                if list.is_empty() {
                    return Ok(());
                }
                if run
                    .as_ref()
                    .is_none_or(|(last, _)| cmp_text(last, host).is_ne())
                {
                    if let Some((last, state)) = run.take() {
                        merge_run(&mut self.hosts, last, state);
                    }
                    *run = Some((Sym::new(host), HostState::new()));
                }
                let Some((host, host_state)) = run.as_mut() else {
                    return Ok(());
                };
                let user = Sym::new(user);
                list.sort_by_key(|window| window.anchor);
                self.window_count += list.len();
                if list.iter().any(|window| window.flags & state::CHANGED != 0) {
                    self.changed.push((host.clone(), user.clone()));
                }
                let earliest = list.iter().map(|window| window.end()).min();
                host_state.earliest_end = host_state.earliest_end.min(earliest.unwrap_or(i64::MAX));
                host_state.users.push(UserWindows {
                    user,
                    windows: list,
                });
            }
            PENDING => {
                let (host, list): (Sym, Vec<Candidate>) = entry.packed()?;
                if list.is_empty() {
                    return Ok(());
                }
                self.pending_count += list.len();
                self.hosts
                    .entry(host)
                    .or_insert_with(HostState::new)
                    .pending = list;
            }
            _ => {}
        }
        Ok(())
    }

    /// Conclude a restore: the entries that waited for their table of
    /// names, the last run, the watermark, and the order and agenda the
    /// engine keeps.
    fn conclude(&mut self, restoring: &mut Restoring) -> Result<(), String> {
        if let Some(error) = restoring.failed.take() {
            return Err(error);
        }
        let bytes = restoring.bytes;
        let Restoring { parts, run, .. } = restoring;
        parts.finish(&mut |entry| self.restore_entry(run, entry))?;
        if let Some((host, state)) = run.take() {
            merge_run(&mut self.hosts, host, state);
        }
        self.watermark = parts.meta::<i64>(WATERMARK)?.unwrap_or(i64::MIN);
        self.learn_entry_bytes(bytes);
        // Entries come in any order: each host's users are appended as they
        // come and sorted once (inserting each in place moved half the list
        // every time). Usually they are a long sorted run (a full snapshot
        // writes each host's users in order) and a short one of changes
        // after it: the stable sort finds such runs and merges them in
        // linear time, where the unstable one sorted the whole list again
        // (a sixth to a third of a restore with 1 % of the windows
        // changed).
        for host_state in self.hosts.values_mut() {
            host_state.users.sort_by(|a, b| a.user.cmp(&b.user));
        }
        self.rebuild_agenda();
        Ok(())
    }
}

/// A restore in progress: the snapshot's reader, the run of one host's
/// users gathered so far, the bytes taken, and the first error.
pub struct Restoring {
    parts: SnapshotParts,
    run: Option<(Sym, HostState)>,
    bytes: usize,
    failed: Option<String>,
}

/// A restore in parts decodes each part as it comes: the component never
/// holds the whole snapshot (126 MB for a million windows).
impl RestoreParts for Engine {
    fn begin(&mut self) {
        let config = self.config.clone();
        *self = Engine::new(config);
        self.restoring = Some(Box::new(Restoring {
            parts: SnapshotParts::new(FORMAT),
            run: None,
            bytes: 0,
            failed: None,
        }));
    }

    fn part(&mut self, frames: &[u8]) {
        if self.restoring.is_none() {
            self.begin();
        }
        let Some(mut restoring) = self.restoring.take() else {
            return;
        };
        restoring.bytes += frames.len();
        if restoring.failed.is_none() {
            let Restoring { parts, run, .. } = &mut *restoring;
            if let Err(error) = parts.part(frames, &mut |entry| self.restore_entry(run, entry)) {
                restoring.failed = Some(error);
            }
        }
        self.restoring = Some(restoring);
    }

    fn end(&mut self) -> Result<(), String> {
        if self.restoring.is_none() {
            self.begin();
        }
        let Some(mut restoring) = self.restoring.take() else {
            return Ok(());
        };
        let result = self.conclude(&mut restoring);
        if result.is_err() {
            let config = self.config.clone();
            *self = Engine::new(config);
        }
        result
    }
}

/// Add a run of one host's restored users to `hosts` (a host whose
/// entries were not one run, as a merged `changes` snapshot may hold them,
/// gets several).
fn merge_run(hosts: &mut Map<Sym, HostState>, host: Sym, run: HostState) {
    match hosts.entry(host) {
        Entry::Vacant(slot) => {
            slot.insert(run);
        }
        Entry::Occupied(mut slot) => {
            let state = slot.get_mut();
            state.earliest_end = state.earliest_end.min(run.earliest_end);
            state.users.extend(run.users);
        }
    }
}
