//! Event-time progress per source.
//!
//! A source's watermark is the highest event time it has delivered minus
//! its allowed lateness: no event older than that is expected from it any
//! more. Analytics are advanced with the minimum over the sources, so a
//! window closes only when every source that could still add to it has
//! moved past it. A source that has not delivered yet holds the watermark
//! back; a finished source no longer does. Event times implausibly far in
//! the future (clock skew beyond the budget, a corrupt record) are counted
//! and never advance a watermark — one bad record must not close every
//! window.

/// Index of a source in a [`Watermarks`].
pub type SourceId = usize;

#[derive(Clone, Debug)]
struct SourceClock {
    lateness_ms: i64,
    max_seen: i64,
    done: bool,
    /// Wall clock of the last event delivered (live sources).
    last_activity_ms: i64,
    /// Watermark granted by the wall clock while the source is idle.
    idle_floor: i64,
}

/// What the tracker concluded about one event's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeliness {
    /// At or after the source's watermark.
    OnTime,
    /// Older than the source's watermark: later than its allowed lateness.
    Late,
    /// Beyond the clock-skew budget in the future, or decades in the past.
    Absurd,
}

/// Watermarks of every source of a pipeline.
#[derive(Clone, Debug)]
pub struct Watermarks {
    sources: Vec<SourceClock>,
    /// Upper bound for plausible event times (wall clock + skew budget).
    future_limit: i64,
    /// Lower bound for plausible event times.
    past_limit: i64,
}

/// Event times before this are absurd for any log dumpwatch reads
/// (2000-01-01T00:00:00Z).
const PAST_LIMIT_MS: i64 = 946_684_800_000;

impl Watermarks {
    /// `now_ms` is the wall clock, used only to recognise absurd future
    /// times.
    pub fn new(now_ms: i64, clock_skew_ms: i64) -> Watermarks {
        Watermarks {
            sources: Vec::new(),
            future_limit: now_ms.saturating_add(clock_skew_ms),
            past_limit: PAST_LIMIT_MS,
        }
    }

    pub fn add_source(&mut self, lateness_ms: i64) -> SourceId {
        self.sources.push(SourceClock {
            lateness_ms,
            max_seen: i64::MIN,
            done: false,
            last_activity_ms: i64::MIN,
            idle_floor: i64::MIN,
        });
        self.sources.len() - 1
    }

    /// Restore the highest event time a source had delivered before a
    /// restart.
    pub fn restore_max_seen(&mut self, id: SourceId, max_seen: i64) {
        self.sources[id].max_seen = max_seen;
    }

    /// The highest plausible event time a source has delivered.
    pub fn max_seen(&self, id: SourceId) -> i64 {
        self.sources[id].max_seen
    }

    /// Change a source's allowed lateness (once its format is known).
    pub fn set_lateness(&mut self, id: SourceId, lateness_ms: i64) {
        self.sources[id].lateness_ms = lateness_ms;
    }

    /// The source's current watermark.
    pub fn of(&self, id: SourceId) -> i64 {
        let s = &self.sources[id];
        if s.done {
            i64::MAX
        } else if s.max_seen == i64::MIN {
            s.idle_floor
        } else {
            s.max_seen.saturating_sub(s.lateness_ms).max(s.idle_floor)
        }
    }

    /// Live sources: a source that delivered nothing for `idle_ms` of wall
    /// clock must not hold every window open forever, so its watermark
    /// follows the wall clock (less its lateness) until it speaks again.
    pub fn tick(&mut self, now_ms: i64, idle_ms: i64) {
        for s in &mut self.sources {
            if s.done {
                continue;
            }
            if s.last_activity_ms == i64::MIN {
                // Never spoke: idle since it was registered.
                s.last_activity_ms = now_ms;
                continue;
            }
            if now_ms.saturating_sub(s.last_activity_ms) >= idle_ms {
                s.idle_floor = s.idle_floor.max(now_ms.saturating_sub(s.lateness_ms));
            }
        }
    }

    /// A live source delivered events at wall-clock `now_ms`.
    pub fn touch(&mut self, id: SourceId, now_ms: i64) {
        self.sources[id].last_activity_ms = now_ms;
    }

    /// Record an event time from a source and classify it.
    pub fn observe(&mut self, id: SourceId, time: i64) -> Timeliness {
        if time > self.future_limit || time < self.past_limit {
            return Timeliness::Absurd;
        }
        let wm = self.of(id);
        let s = &mut self.sources[id];
        if time > s.max_seen {
            s.max_seen = time;
        }
        if time < wm {
            Timeliness::Late
        } else {
            Timeliness::OnTime
        }
    }

    /// The source will deliver nothing more.
    pub fn finish(&mut self, id: SourceId) {
        self.sources[id].done = true;
    }

    /// The minimum over all sources: how far every analytic may advance.
    pub fn combined(&self) -> i64 {
        (0..self.sources.len())
            .map(|i| self.of(i))
            .min()
            .unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;

    #[test]
    fn minimum_over_sources_with_lateness() {
        let mut w = Watermarks::new(T0 + 86_400_000, 300_000);
        let a = w.add_source(60_000);
        let b = w.add_source(900_000);
        assert_eq!(w.combined(), i64::MIN, "b has not delivered");
        assert_eq!(w.observe(a, T0), Timeliness::OnTime);
        assert_eq!(w.observe(b, T0 + 1_000_000), Timeliness::OnTime);
        assert_eq!(w.combined(), T0 - 60_000);
        assert_eq!(w.observe(a, T0 + 120_000), Timeliness::OnTime);
        assert_eq!(
            w.observe(a, T0),
            Timeliness::Late,
            "older than max - lateness"
        );
        assert_eq!(w.combined(), T0 + 60_000);
        w.finish(a);
        assert_eq!(w.combined(), T0 + 100_000);
        w.finish(b);
        assert_eq!(w.combined(), i64::MAX);
    }

    #[test]
    fn an_idle_source_follows_the_wall_clock() {
        let mut w = Watermarks::new(T0 + 86_400_000, 300_000);
        let busy = w.add_source(60_000);
        let quiet = w.add_source(60_000);
        w.tick(T0, 300_000);
        w.observe(busy, T0);
        w.touch(busy, T0);
        assert_eq!(w.combined(), i64::MIN, "the quiet source holds it");
        w.tick(T0 + 100_000, 300_000);
        assert_eq!(w.combined(), i64::MIN, "not idle long enough");
        w.tick(T0 + 400_000, 300_000);
        assert_eq!(w.of(quiet), T0 + 340_000, "wall clock less lateness");
        // The busy source, idle too by now, moved with the clock as well.
        assert_eq!(w.combined(), T0 + 340_000);
    }

    #[test]
    fn absurd_times_do_not_advance() {
        let mut w = Watermarks::new(T0, 300_000);
        let a = w.add_source(0);
        assert_eq!(w.observe(a, T0 + 10 * 365 * 86_400_000), Timeliness::Absurd);
        assert_eq!(w.observe(a, 0), Timeliness::Absurd);
        assert_eq!(w.of(a), i64::MIN);
        assert_eq!(w.observe(a, T0), Timeliness::OnTime);
        assert_eq!(w.of(a), T0);
    }
}
