//! Snapshots of the engine: one entry per (host, user) with that user's
//! windows, one per host with its pending events, and the watermark, in
//! format [`FORMAT`]. `changes` carries only what changed since the last
//! snapshot (a deleted key as `none`).

use std::collections::hash_map::Entry;

use dumpwatch_sdk::collections::Map;
use dumpwatch_sdk::intern::{Sym, cmp_text};
use dumpwatch_sdk::log;
use dumpwatch_sdk::state::{SnapshotReader, SnapshotWriter};
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
                // size copies it.
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
        let (entries, errors) = writer.finish();
        if mode == SnapshotMode::Full {
            self.learn_entry_bytes(entries.len());
        }
        for error in errors {
            log::error(&format!("snapshot entry left out: {error}"));
        }
        entries
    }

    /// Replace all state with the entries of `frames`; on error the state is
    /// left empty.
    pub fn restore(&mut self, frames: Vec<u8>) -> Result<(), String> {
        let config = self.config.clone();
        *self = Engine::new(config);
        let frames_len = frames.len();
        let reader = SnapshotReader::open(frames, FORMAT)?;
        let watermark = reader.meta::<i64>(WATERMARK)?.unwrap_or(i64::MIN);
        let result = self.restore_entries(&reader);
        if result.is_err() {
            let config = self.config.clone();
            *self = Engine::new(config);
            return result;
        }
        self.watermark = watermark;
        self.learn_entry_bytes(frames_len);
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

    /// Remember the bytes per window of a full snapshot of `len` bytes.
    fn learn_entry_bytes(&mut self, len: usize) {
        if self.window_count > 0 {
            self.entry_bytes = len.div_ceil(self.window_count).max(1);
        }
    }

    fn restore_entries(&mut self, reader: &SnapshotReader) -> Result<(), String> {
        // A full snapshot holds each host's users one after the other:
        // they are gathered per run of one host, which is then looked up
        // once.
        let mut run: Option<(Sym, HostState)> = None;
        let hosts = &mut self.hosts;
        let (window_count, changed) = (&mut self.window_count, &mut self.changed);
        reader.for_each_packed::<(&str, &str), Vec<Window>>(
            WINDOWS,
            |(host, user), mut list| {
                if list.is_empty() {
                    return;
                }
                if run
                    .as_ref()
                    .is_none_or(|(last, _)| cmp_text(last, host).is_ne())
                {
                    if let Some((last, state)) = run.take() {
                        merge_run(hosts, last, state);
                    }
                    run = Some((Sym::new(host), HostState::new()));
                }
                let Some((host, host_state)) = run.as_mut() else {
                    return;
                };
                let user = Sym::new(user);
                list.sort_by_key(|window| window.anchor);
                *window_count += list.len();
                if list.iter().any(|window| window.flags & state::CHANGED != 0) {
                    changed.push((host.clone(), user.clone()));
                }
                let earliest = list.iter().map(|window| window.end()).min();
                host_state.earliest_end = host_state.earliest_end.min(earliest.unwrap_or(i64::MAX));
                host_state.users.push(UserWindows {
                    user,
                    windows: list,
                });
            },
        )?;
        if let Some((last, state)) = run.take() {
            merge_run(hosts, last, state);
        }
        reader.for_each_packed::<Sym, Vec<Candidate>>(PENDING, |host, list| {
            if list.is_empty() {
                return;
            }
            self.pending_count += list.len();
            self.hosts
                .entry(host)
                .or_insert_with(HostState::new)
                .pending = list;
        })
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
