//! Event-time housekeeping: expiring windows, uploads and reported
//! snapshot events the watermark made useless, and the memory caps
//! (MaxPendingEvents, MaxOpenWindows, MaxOpenUploads), which evict the
//! oldest with a warning.
//!
//! Expiry runs as a sweep over the state at most once per [`SWEEP_EVERY`]
//! of watermark progress (and always at end of input): retention is a
//! lower bound, so a minute of slack costs nothing, while sweeping on every
//! one-second advance would cost a pass over the state each time.

use dumpwatch_sdk::collections::trim;
use dumpwatch_sdk::log;

use super::Engine;
use super::marks::Owner;

/// Watermark progress between two sweeps.
pub const SWEEP_EVERY: i64 = 60_000;

impl Engine {
    /// Drop what the watermark made useless.
    pub(super) fn sweep(&mut self) {
        let watermark = self.watermark;
        if watermark != i64::MAX
            && self.swept_at != i64::MIN
            && watermark < self.swept_at.saturating_add(SWEEP_EVERY)
        {
            return;
        }
        self.swept_at = watermark;
        let config = &self.config;
        let retention = config.late_retention_ms;
        let (mut windows_dropped, mut uploads_dropped) = (0, 0);
        let mut gone: Vec<Owner> = Vec::new();
        for (identity, state) in &mut self.identities {
            let (windows, uploads) = (state.windows.len(), state.uploads.len());
            state.windows.retain(|w| {
                let keep = w.export_end(config).saturating_add(retention) >= watermark;
                if !keep {
                    gone.push(Owner::Query(identity.clone(), w.anchor));
                }
                keep
            });
            // A multipart upload quiet for a TimeWindow is over.
            state
                .uploads
                .retain(|u| u.last.saturating_add(config.window_ms) >= watermark);
            if state.windows.len() != windows || state.uploads.len() != uploads {
                windows_dropped += windows - state.windows.len();
                uploads_dropped += uploads - state.uploads.len();
                self.dirty_identities.mark(identity.clone());
                trim(&mut state.windows);
                trim(&mut state.uploads);
            }
        }
        self.identities.retain(|_, state| !state.is_empty());
        for (key, windows) in &mut self.flows {
            let before = windows.len();
            windows.retain(|w| {
                let keep = w.end.saturating_add(retention) >= watermark;
                if !keep {
                    gone.push(Owner::Flow(*key, w.anchor));
                }
                keep
            });
            if windows.len() != before {
                windows_dropped += before - windows.len();
                self.dirty_flows.mark(*key);
                trim(windows);
            }
        }
        self.flows.retain(|_, windows| !windows.is_empty());
        let dirty_reported = &mut self.dirty_reported;
        self.reported.retain(|key, time| {
            let keep = time.saturating_add(retention) >= watermark;
            if !keep {
                dirty_reported.mark(*key);
            }
            keep
        });
        self.window_count -= windows_dropped;
        self.upload_count -= uploads_dropped;
        if !gone.is_empty() {
            gone.sort();
            self.marks
                .retain(|owner| gone.binary_search(owner).is_err());
        }
    }

    /// Evict past the caps.
    pub(super) fn enforce_caps(&mut self) {
        let config = &self.config;
        if self.buffer.len() > config.max_pending {
            let cap = config.max_pending;
            let excess = self.buffer.len() - (cap - cap / 64);
            let early = self.buffer.release_oldest(excess);
            log::warn(&format!(
                "MaxPendingEvents ({cap}) reached: evaluating the {} oldest events before the watermark \
                 reached them; for these, arrival order may matter",
                early.len()
            ));
            for (_, obs) in early {
                self.handle(obs, false);
            }
        }
        if self.window_count > self.config.max_windows {
            self.evict_windows();
        }
        if self.upload_count > self.config.max_uploads {
            self.evict_uploads();
        }
    }

    /// Evict the oldest windows (by anchor) down to the cap less 1/64.
    fn evict_windows(&mut self) {
        let cap = self.config.max_windows;
        let mut anchors: Vec<i64> = self
            .identities
            .values()
            .flat_map(|s| s.windows.iter().map(|w| w.anchor))
            .chain(
                self.flows
                    .values()
                    .flat_map(|ws| ws.iter().map(|w| w.anchor)),
            )
            .collect();
        // The count is kept in step with the state; trust the state.
        self.window_count = anchors.len();
        if self.window_count <= cap {
            return;
        }
        let excess = self.window_count - (cap - cap / 64);
        let (_, &mut cutoff, _) = anchors.select_nth_unstable(excess - 1);
        let mut at_cutoff = excess - anchors.iter().filter(|&&a| a < cutoff).count();
        let mut evict = |anchor: i64| {
            let out = anchor < cutoff || (anchor == cutoff && at_cutoff > 0);
            if out && anchor == cutoff {
                at_cutoff -= 1;
            }
            out
        };
        let mut evicted = 0;
        let mut gone: Vec<Owner> = Vec::new();
        for (identity, state) in &mut self.identities {
            let before = state.windows.len();
            state.windows.retain(|w| {
                let out = evict(w.anchor);
                if out {
                    gone.push(Owner::Query(identity.clone(), w.anchor));
                }
                !out
            });
            if state.windows.len() != before {
                evicted += before - state.windows.len();
                self.dirty_identities.mark(identity.clone());
            }
        }
        for (key, windows) in &mut self.flows {
            let before = windows.len();
            windows.retain(|w| {
                let out = evict(w.anchor);
                if out {
                    gone.push(Owner::Flow(*key, w.anchor));
                }
                !out
            });
            if windows.len() != before {
                evicted += before - windows.len();
                self.dirty_flows.mark(*key);
            }
        }
        self.identities.retain(|_, s| !s.is_empty());
        self.flows.retain(|_, ws| !ws.is_empty());
        self.window_count -= evicted;
        gone.sort();
        self.marks
            .retain(|owner| gone.binary_search(owner).is_err());
        log::warn(&format!(
            "MaxOpenWindows ({cap}) reached: evicted the {evicted} oldest windows (anchored at or before \
             {cutoff}); their findings will not be updated any more"
        ));
    }

    /// Drop the least recently active uploads down to the cap less 1/64.
    fn evict_uploads(&mut self) {
        let cap = self.config.max_uploads;
        let mut lasts: Vec<i64> = self
            .identities
            .values()
            .flat_map(|s| s.uploads.iter().map(|u| u.last))
            .collect();
        self.upload_count = lasts.len();
        if self.upload_count <= cap {
            return;
        }
        let excess = self.upload_count - (cap - cap / 64);
        let (_, &mut cutoff, _) = lasts.select_nth_unstable(excess - 1);
        let mut at_cutoff = excess - lasts.iter().filter(|&&l| l < cutoff).count();
        let mut dropped = 0;
        for (identity, state) in &mut self.identities {
            let before = state.uploads.len();
            state.uploads.retain(|u| {
                let out = u.last < cutoff || (u.last == cutoff && at_cutoff > 0);
                if out && u.last == cutoff {
                    at_cutoff -= 1;
                }
                !out
            });
            if state.uploads.len() != before {
                dropped += before - state.uploads.len();
                self.dirty_identities.mark(identity.clone());
            }
        }
        self.identities.retain(|_, s| !s.is_empty());
        self.upload_count -= dropped;
        log::warn(&format!(
            "MaxOpenUploads ({cap}) reached: stopped summing the {dropped} least recently active multipart \
             uploads (last part at or before {cutoff})"
        ));
    }
}
