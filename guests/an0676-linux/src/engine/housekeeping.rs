//! Event-time housekeeping: making pending client starts final, expiring
//! pending events and retained windows, keeping the agenda, and enforcing
//! the memory caps (MaxOpenWindows, MaxPendingEvents) by evicting the
//! oldest with a warning.

use dumpwatch_sdk::collections::trim;
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::log;

use super::{Engine, HostState};
use crate::observe::Leg;

impl Engine {
    /// First half of what is due for `host` at the current watermark (it
    /// was just taken off the agenda): place the client starts the
    /// watermark made final. The windows this opens or changes are emitted
    /// before [`Engine::housekeep`] may drop them — at end of input the
    /// watermark is the largest timestamp, which places a start and ends its
    /// retention in the same call.
    pub(super) fn finalize_starts(&mut self, host: &Sym) {
        let watermark = self.watermark;
        let Some(host_state) = self.hosts.get_mut(host) else {
            return;
        };
        host_state.due = i64::MAX;

        // 1. Client starts the watermark made final, in (time, id) order.
        let mut finals = Vec::new();
        let mut index = 0;
        while index < host_state.pending.len() {
            let candidate = &host_state.pending[index];
            if candidate.leg == Leg::Exec && candidate.time <= watermark {
                finals.push(host_state.pending.swap_remove(index));
            } else {
                index += 1;
            }
        }
        if !finals.is_empty() {
            self.pending_count -= finals.len();
            self.dirty_pending.mark(host.clone());
            finals.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
            for exec in finals {
                self.place_final(host, exec);
            }
        }
    }

    /// Second half: drop what the watermark made useless and put the host
    /// back on the agenda.
    pub(super) fn housekeep(&mut self, host: &Sym) {
        let watermark = self.watermark;
        let Some(host_state) = self.hosts.get_mut(host) else {
            return;
        };
        // 2. Retained windows past LateRetention. Only walked when one may
        // be (`earliest_end` is a lower bound of the windows' ends), so a
        // host visited for its pending events, with thousands of windows
        // open, costs what its pending events cost.
        let retention = self.config.late_retention_ms;
        if host_state.earliest_end.saturating_add(retention) < watermark {
            let mut dropped = 0;
            let mut earliest_end = i64::MAX;
            for entry in &mut host_state.users {
                let before = entry.windows.len();
                entry.windows.retain(|window| {
                    let keep = window.end().saturating_add(retention) >= watermark;
                    if keep {
                        earliest_end = earliest_end.min(window.end());
                    }
                    keep
                });
                if entry.windows.len() != before {
                    dropped += before - entry.windows.len();
                    self.dirty_windows.mark((host.clone(), entry.user.clone()));
                    trim(&mut entry.windows);
                }
            }
            host_state.users.retain(|entry| !entry.windows.is_empty());
            host_state.earliest_end = earliest_end;
            self.window_count -= dropped;
            trim(&mut host_state.users);
        }

        // 3. Pending dumps and egress no window can claim any more.
        let slack = self.config.slack_ms;
        let before = host_state.pending.len();
        host_state.pending.retain(|candidate| {
            candidate.leg == Leg::Exec || candidate.time.saturating_add(slack) >= watermark
        });
        if host_state.pending.len() != before {
            self.pending_count -= before - host_state.pending.len();
            self.dirty_pending.mark(host.clone());
        }
        trim(&mut host_state.pending);

        // 4. Back on the agenda, or gone.
        if host_state.is_empty() {
            self.hosts.remove(host);
        } else {
            let due = next_due(host_state, slack, retention);
            Engine::schedule(&mut self.agenda, host, host_state, due);
        }
    }

    /// Recompute every host's due time (after restore or reconfigure).
    pub(super) fn rebuild_agenda(&mut self) {
        self.agenda.clear();
        let (slack, retention) = (self.config.slack_ms, self.config.late_retention_ms);
        for (host, host_state) in &mut self.hosts {
            host_state.due = i64::MAX;
            let due = next_due(host_state, slack, retention);
            if due != i64::MAX {
                Engine::schedule(&mut self.agenda, host, host_state, due);
            }
        }
    }

    /// Evict the oldest windows and pending events past the caps.
    pub(super) fn enforce_caps(&mut self) {
        if self.window_count > self.config.max_windows {
            self.evict_windows();
        }
        if self.pending_count > self.config.max_pending {
            self.evict_pending();
        }
    }

    /// Evict the oldest windows (by anchor) down to the cap less 1/64 of
    /// it, so a stream at the cap does not evict on every batch.
    fn evict_windows(&mut self) {
        let cap = self.config.max_windows;
        let target = cap - cap / 64;
        let excess = self.window_count - target;
        let mut anchors: Vec<i64> = self
            .hosts
            .values()
            .flat_map(|host_state| host_state.users.iter())
            .flat_map(|entry| entry.windows.iter().map(|window| window.anchor))
            .collect();
        let (_, &mut cutoff, _) = anchors.select_nth_unstable(excess - 1);
        // Windows anchored before the cutoff go; at the cutoff only as many
        // as still needed (in no particular order among equals).
        let mut at_cutoff = excess - anchors.iter().filter(|&&anchor| anchor < cutoff).count();
        let mut evicted = 0;
        for (host, host_state) in &mut self.hosts {
            for entry in &mut host_state.users {
                let before = entry.windows.len();
                entry.windows.retain(|window| {
                    let evict =
                        window.anchor < cutoff || (window.anchor == cutoff && at_cutoff > 0);
                    if window.anchor == cutoff && evict {
                        at_cutoff -= 1;
                    }
                    !evict
                });
                if entry.windows.len() != before {
                    evicted += before - entry.windows.len();
                    self.dirty_windows.mark((host.clone(), entry.user.clone()));
                }
            }
            host_state.users.retain(|entry| !entry.windows.is_empty());
        }
        self.window_count -= evicted;
        self.hosts.retain(|_, host_state| !host_state.is_empty());
        self.rebuild_agenda();
        log::warn(&format!(
            "MaxOpenWindows ({cap}) reached: evicted the {evicted} oldest windows (anchored at or before {cutoff}); \
             their findings will not be updated any more"
        ));
    }

    /// Drop the oldest pending events down to the cap less 1/64 of it.
    fn evict_pending(&mut self) {
        let cap = self.config.max_pending;
        let target = cap - cap / 64;
        let excess = self.pending_count - target;
        let mut times: Vec<i64> = self
            .hosts
            .values()
            .flat_map(|host_state| host_state.pending.iter().map(|candidate| candidate.time))
            .collect();
        let (_, &mut cutoff, _) = times.select_nth_unstable(excess - 1);
        let mut at_cutoff = excess - times.iter().filter(|&&time| time < cutoff).count();
        let mut dropped = 0;
        for (host, host_state) in &mut self.hosts {
            let before = host_state.pending.len();
            host_state.pending.retain(|candidate| {
                let drop = candidate.time < cutoff || (candidate.time == cutoff && at_cutoff > 0);
                if candidate.time == cutoff && drop {
                    at_cutoff -= 1;
                }
                !drop
            });
            if host_state.pending.len() != before {
                dropped += before - host_state.pending.len();
                self.dirty_pending.mark(host.clone());
            }
            trim(&mut host_state.pending);
        }
        self.pending_count -= dropped;
        self.hosts.retain(|_, host_state| !host_state.is_empty());
        self.rebuild_agenda();
        log::warn(&format!(
            "MaxPendingEvents ({cap}) reached: dropped the {dropped} oldest pending events (at or before {cutoff}); \
             windows not final yet may miss them"
        ));
    }
}

/// The next time `host_state` needs attention: a pending start becoming
/// final, a pending event expiring, a retained window expiring. For the
/// windows it reads the lower bound of their ends: at worst the host is
/// visited early, and that visit walks the windows and makes the bound
/// exact.
fn next_due(host_state: &HostState, slack: i64, retention: i64) -> i64 {
    let pending = host_state
        .pending
        .iter()
        .map(|candidate| match candidate.leg {
            Leg::Exec => candidate.time,
            Leg::Dump | Leg::Egress => candidate.time.saturating_add(slack).saturating_add(1),
        })
        .min()
        .unwrap_or(i64::MAX);
    let windows = if host_state.users.is_empty() {
        i64::MAX
    } else {
        host_state
            .earliest_end
            .saturating_add(retention)
            .saturating_add(1)
    };
    pending.min(windows)
}
