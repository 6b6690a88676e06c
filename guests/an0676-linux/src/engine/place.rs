//! Placing observations: client starts into windows (joining or opening),
//! dumps and egress onto the windows of their host, and the rescans of
//! pending events that keep the result independent of arrival order.

use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::uid::finding_uid_bytes;

use super::{Engine, HostState};
use crate::config::Config;
use crate::manifest::ID;
use crate::observe::{Candidate, Leg};
use crate::window::Window;
use dumpwatch_sdk::collections::reserve_one;

/// What placing a final client start did.
pub(super) enum Placement {
    /// It joined an existing window (or was a duplicate of one's start).
    Joined,
    /// It opened a window ending at this time.
    Opened { end: i64 },
}

impl Engine {
    /// A client start arrived.
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

    /// Place a client start that is final (the watermark reached it, or it
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

    /// A dump or egress arrived.
    pub(super) fn on_leg(&mut self, host: Sym, leg: Candidate) {
        let config = &self.config;
        let host_state = self
            .hosts
            .entry(host.clone())
            .or_insert_with(HostState::new);
        for entry in &mut host_state.users {
            let mut touched = false;
            for window in &mut entry.windows {
                if !window.accepts(&entry.user, &leg, config.slack_ms) {
                    continue;
                }
                let first_dump = window.first_dump();
                if window.add(&leg, config.max_evidence) {
                    touched = true;
                    if window.first_dump() < first_dump {
                        rescan(window, &entry.user, &host_state.pending, config, true);
                    }
                }
            }
            if touched {
                self.dirty_windows.mark((host.clone(), entry.user.clone()));
                self.changed.push((host.clone(), entry.user.clone()));
            }
        }
        // Keep it while a window that is not final yet could claim it: one
        // anchored at most RedirectSlack after it.
        let claimable = leg.time.saturating_add(config.slack_ms) >= self.watermark;
        if claimable
            && !host_state
                .pending
                .iter()
                .any(|pending| pending.key == leg.key)
        {
            let expires = leg.time.saturating_add(config.slack_ms).saturating_add(1);
            host_state.pending.push(leg);
            self.pending_count += 1;
            Engine::schedule(&mut self.agenda, &host, host_state, expires);
            self.dirty_pending.mark(host);
        } else if host_state.is_empty() {
            self.hosts.remove(&host);
        }
    }
}

/// Place a final client start of `user` on `host_state`.
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
    let uid = finding_uid_bytes(ID, &[host, user], &exec.evidence.id);
    let mut window = Window::new(uid, &exec, config.window_ms);
    window.add(&exec, config.max_evidence);
    rescan(&mut window, user, &host_state.pending, config, false);
    let end = window.end();
    host_state.earliest_end = host_state.earliest_end.min(end);
    let windows = &mut host_state.users[slot].windows;
    let at = windows.partition_point(|existing| existing.anchor <= window.anchor);
    reserve_one(windows);
    windows.insert(at, window);
    Placement::Opened { end }
}

/// A client start joins window `index` of user `slot`; its pid may claim
/// pending dumps and egress.
fn join(host_state: &mut HostState, slot: usize, index: usize, exec: &Candidate, config: &Config) {
    let entry = &mut host_state.users[slot];
    let window = &mut entry.windows[index];
    if window.add(exec, config.max_evidence) && exec.pid.is_some() {
        rescan(window, &entry.user, &host_state.pending, config, false);
    }
}

/// Give `window` the pending dumps (unless `egress_only`) and then the
/// pending egress it accepts. Dumps go first: they can make egress eligible.
fn rescan(
    window: &mut Window,
    user: &Sym,
    pending: &[Candidate],
    config: &Config,
    egress_only: bool,
) {
    if !egress_only {
        for dump in pending.iter().filter(|c| c.leg == Leg::Dump) {
            if window.accepts(user, dump, config.slack_ms) {
                window.add(dump, config.max_evidence);
            }
        }
    }
    for egress in pending.iter().filter(|c| c.leg == Leg::Egress) {
        if window.accepts(user, egress, config.slack_ms) {
            window.add(egress, config.max_evidence);
        }
    }
}
