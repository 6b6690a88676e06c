//! Placing observations: tool starts into windows (joining or opening),
//! other candidates onto the windows of their host, names onto the
//! connections they name, and the rescans of pending events that keep the
//! result independent of arrival order.

use dumpwatch_sdk::collections::reserve_one;
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::uid::finding_uid_bytes;

use super::{Engine, HostState};
use crate::config::Config;
use crate::manifest::ID;
use crate::names::NameBook;
use crate::observe::{Answers, Candidate, Kind};
use crate::window::{Window, state};

/// What placing a final tool start did.
pub(super) enum Placement {
    /// It joined an existing window (or was a duplicate of one's start).
    Joined,
    /// It opened a window ending at this time.
    Opened { end: i64 },
}

impl Engine {
    /// A tool start arrived.
    pub(super) fn on_exec(&mut self, host: Sym, exec: Candidate) {
        let Some(user) = exec.user.clone() else {
            return;
        };
        let late = exec.time < self.watermark;
        let host_state = self
            .hosts
            .entry(host.clone())
            .or_insert_with(HostState::new);
        if host_state
            .pending
            .iter()
            .any(|pending| pending.key == exec.key)
        {
            return;
        }
        if let Ok(slot) = host_state
            .users
            .binary_search_by(|entry| entry.user.cmp(&user))
        {
            let windows = &host_state.users[slot].windows;
            if windows
                .iter()
                .any(|window| window.ledger.contains(exec.key))
            {
                return;
            }
            let covering = windows.iter().position(|window| window.covers(exec.time));
            // A late start just before a window it would have anchored
            // joins it: the window's finding may be out already, and one
            // finding per burst beats a second one.
            let reach = exec.time.saturating_add(self.config.window_ms);
            let before = || {
                windows
                    .iter()
                    .position(|window| window.anchor > exec.time && window.anchor <= reach)
            };
            if let Some(index) = covering.or_else(|| if late { before() } else { None }) {
                join(host_state, slot, index, &exec, &self.config);
                self.touch(&host, &user);
                return;
            }
        }
        if late {
            self.place_final(&host, exec);
            return;
        }
        let due = exec.time;
        host_state.pending.push(exec);
        self.pending_count += 1;
        Engine::schedule(&mut self.agenda, &host, host_state, due);
        self.dirty_pending.mark(host);
    }

    /// Place a tool start that is final (the watermark reached it, or it
    /// came late): join the window covering it or open one.
    pub(super) fn place_final(&mut self, host: &Sym, exec: Candidate) {
        let Some(user) = exec.user.clone() else {
            return;
        };
        let host_state = self
            .hosts
            .entry(host.clone())
            .or_insert_with(HostState::new);
        match place(host_state, host, &user, exec, &self.config) {
            Placement::Joined => {}
            Placement::Opened { end } => {
                self.window_count += 1;
                let drop_at = end
                    .saturating_add(self.config.late_retention_ms)
                    .saturating_add(1);
                Engine::schedule(&mut self.agenda, host, host_state, drop_at);
            }
        }
        self.touch(host, &user);
    }

    /// Any other candidate arrived.
    pub(super) fn on_leg(&mut self, host: Sym, candidate: Candidate) {
        let config = &self.config;
        let host_state = self
            .hosts
            .entry(host.clone())
            .or_insert_with(HostState::new);
        let HostState {
            users,
            pending,
            names,
            ..
        } = host_state;
        for entry in users.iter_mut() {
            let mut touched = false;
            for window in &mut entry.windows {
                let outcome = window.offer(&entry.user, &candidate, config, names);
                touched |= outcome.changed;
                if outcome.rescan {
                    rescan(window, &entry.user, pending, config, names);
                }
            }
            if touched {
                self.dirty_windows.mark((host.clone(), entry.user.clone()));
                self.changed.push((host.clone(), entry.user.clone()));
            }
        }
        // Keep it while a window that is not final yet could claim it: one
        // anchored at most RedirectSlack after it.
        let claimable = candidate.time.saturating_add(config.slack_ms) >= self.watermark;
        if claimable && !pending.iter().any(|kept| kept.key == candidate.key) {
            let expires = candidate
                .time
                .saturating_add(config.slack_ms)
                .saturating_add(1);
            pending.push(candidate);
            self.pending_count += 1;
            Engine::schedule(&mut self.agenda, &host, host_state, expires);
            self.dirty_pending.mark(host);
        } else if host_state.is_empty() {
            self.hosts.remove(&host);
        }
    }

    /// Names of cloud destinations arrived: remember them and name again
    /// the connections they apply to.
    pub(super) fn on_answers(&mut self, host: Sym, answers: &Answers) {
        let config = &self.config;
        let host_state = self
            .hosts
            .entry(host.clone())
            .or_insert_with(HostState::new);
        let added = host_state.names.add(answers);
        if added.is_empty() {
            if host_state.is_empty() {
                self.hosts.remove(&host);
            }
            return;
        }
        self.dirty_names.mark(host.clone());
        let forget_at = answers
            .time
            .saturating_add(config.name_retention_ms)
            .saturating_add(config.slack_ms)
            .saturating_add(1);
        Engine::schedule(&mut self.agenda, &host, host_state, forget_at);
        for entry in host_state.users.iter_mut() {
            let mut touched = false;
            for window in &mut entry.windows {
                if window
                    .egress
                    .rename(answers, &added, config.name_retention_ms)
                {
                    window.flags |= state::CHANGED;
                    touched = true;
                }
            }
            if touched {
                self.dirty_windows.mark((host.clone(), entry.user.clone()));
                self.changed.push((host.clone(), entry.user.clone()));
            }
        }
    }
}

/// Place a final tool start of `user` on `host_state`.
pub(super) fn place(
    host_state: &mut HostState,
    host: &Sym,
    user: &Sym,
    exec: Candidate,
    config: &Config,
) -> Placement {
    let slot = host_state.user_slot(user);
    let windows = &host_state.users[slot].windows;
    if let Some(index) = windows.iter().position(|window| window.covers(exec.time)) {
        join(host_state, slot, index, &exec, config);
        return Placement::Joined;
    }
    if windows
        .iter()
        .any(|window| window.ledger.contains(exec.key))
    {
        return Placement::Joined;
    }
    let uid = finding_uid_bytes(ID, &[host, user], exec.id());
    let mut window = Window::new(uid, &exec, config.window_ms);
    window.add_exec(&exec, config);
    rescan(
        &mut window,
        user,
        &host_state.pending,
        config,
        &host_state.names,
    );
    let end = window.end;
    let windows = &mut host_state.users[slot].windows;
    let at = windows.partition_point(|existing| existing.anchor <= window.anchor);
    reserve_one(windows);
    windows.insert(at, window);
    Placement::Opened { end }
}

/// A tool start joins window `index` of user `slot`: a new root, so the
/// pending events are offered again.
fn join(host_state: &mut HostState, slot: usize, index: usize, exec: &Candidate, config: &Config) {
    let HostState {
        users,
        pending,
        names,
        ..
    } = host_state;
    let entry = &mut users[slot];
    let window = &mut entry.windows[index];
    if window.add_exec(exec, config) {
        rescan(window, &entry.user, pending, config, names);
    }
}

/// Offer `window` every pending event, role by role in dependency order:
/// tree members first (their files count), then exports (they move the
/// first export), then archives, then egress (both need the first export).
fn rescan(
    window: &mut Window,
    user: &Sym,
    pending: &[Candidate],
    config: &Config,
    names: &NameBook,
) {
    for candidate in pending.iter().filter(|c| c.kind == Kind::Process) {
        window.offer_member(candidate);
    }
    for candidate in pending.iter().filter(|c| c.kind == Kind::File) {
        window.offer_export(user, candidate, config);
    }
    for candidate in pending
        .iter()
        .filter(|c| matches!(c.kind, Kind::File | Kind::Process))
    {
        window.offer_archive(user, candidate, config);
    }
    for candidate in pending
        .iter()
        .filter(|c| matches!(c.kind, Kind::Connection | Kind::Flow))
    {
        window.offer_egress(user, candidate, config, names);
    }
}
