//! Event-time housekeeping: expiring windows the watermark made useless,
//! and the memory caps (MaxPendingEvents, MaxOpenWindows,
//! MaxLearnedTemplates), which evict the oldest with a warning. Expiry runs
//! as a sweep at most once per [`SWEEP_EVERY`] of watermark progress (and
//! always at end of input): retention is a lower bound.

use dumpwatch_sdk::collections::trim;
use dumpwatch_sdk::log;

use super::Engine;

/// Watermark progress between two sweeps.
pub const SWEEP_EVERY: i64 = 60_000;

impl Engine {
    /// Drop the windows past their end plus LateRetention.
    pub(super) fn sweep(&mut self) {
        let watermark = self.watermark;
        if watermark != i64::MAX
            && self.swept_at != i64::MIN
            && watermark < self.swept_at.saturating_add(SWEEP_EVERY)
        {
            return;
        }
        self.swept_at = watermark;
        let retention = self.config.late_retention_ms;
        let mut dropped = 0;
        for (user, windows) in &mut self.snowflake {
            let before = windows.len();
            windows.retain(|w| w.end.saturating_add(retention) >= watermark);
            if windows.len() != before {
                dropped += before - windows.len();
                self.dirty_snowflake.mark(user.clone());
                trim(windows);
            }
        }
        self.snowflake.retain(|_, windows| !windows.is_empty());
        for (user, windows) in &mut self.m365 {
            let before = windows.len();
            windows.retain(|w| w.end.saturating_add(retention) >= watermark);
            if windows.len() != before {
                dropped += before - windows.len();
                self.dirty_m365.mark(user.clone());
                trim(windows);
            }
        }
        self.m365.retain(|_, windows| !windows.is_empty());
        self.window_count -= dropped;
    }

    /// Evict past the caps.
    pub(super) fn enforce_caps(&mut self) {
        let cap = self.config.max_pending;
        if self.buffer.len() > cap {
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
        self.learned.enforce_cap(self.config.max_learned);
    }

    /// Evict the oldest windows (by anchor) down to the cap less 1/64.
    fn evict_windows(&mut self) {
        let cap = self.config.max_windows;
        let mut anchors: Vec<i64> = self
            .snowflake
            .values()
            .flat_map(|ws| ws.iter().map(|w| w.anchor))
            .chain(
                self.m365
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
        for (user, windows) in &mut self.snowflake {
            let before = windows.len();
            windows.retain(|w| !evict(w.anchor));
            if windows.len() != before {
                evicted += before - windows.len();
                self.dirty_snowflake.mark(user.clone());
            }
        }
        for (user, windows) in &mut self.m365 {
            let before = windows.len();
            windows.retain(|w| !evict(w.anchor));
            if windows.len() != before {
                evicted += before - windows.len();
                self.dirty_m365.mark(user.clone());
            }
        }
        self.snowflake.retain(|_, ws| !ws.is_empty());
        self.m365.retain(|_, ws| !ws.is_empty());
        self.window_count -= evicted;
        log::warn(&format!(
            "MaxOpenWindows ({cap}) reached: evicted the {evicted} oldest windows (anchored at or before \
             {cutoff}); their findings will not be updated any more"
        ));
    }
}
