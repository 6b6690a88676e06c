//! The query templates learned per Snowflake user and per role, and the
//! learning period.
//!
//! The learning period starts at the first query the analytic handles
//! (queries are handled in event-time order, so that is the earliest one)
//! and lasts LearningPeriod of event time: meanwhile every template is
//! learned and none is new. After it, a template is new for a query when
//! neither the user nor the user's role has used it before, and
//! BaselineQueryTemplates does not list it; it is learned then too, so it
//! is new only once. Everything learned is part of the snapshot.
//!
//! Memory is bounded by MaxLearnedTemplates (user or role, template)
//! pairs: past it the least recently seen are forgotten. "Last seen" is
//! refreshed at most once a day per pair, so a busy template does not
//! rewrite its state entry on every query.

use dumpwatch_sdk::collections::{Map, new_map};
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::log;
use dumpwatch_sdk::state::{DirtyKeys, SnapshotReader, SnapshotWriter};
use dumpwatch_sdk::types::SnapshotMode;

/// A user (false) or a role (true), by name.
pub type Principal = (bool, Sym);

const DAY_MS: i64 = 86_400_000;
const STARTED: &str = "learning_started";

#[derive(Debug, Default)]
pub struct Learned {
    /// Event time of the first query handled.
    started: Option<i64>,
    /// Template key → last seen, per principal.
    templates: Map<Principal, Map<u64, i64>>,
    count: usize,
    dirty: DirtyKeys<(Principal, u64)>,
}

impl Learned {
    pub fn new() -> Learned {
        Learned {
            started: None,
            templates: new_map(),
            count: 0,
            dirty: DirtyKeys::new(),
        }
    }

    /// Whether `time` falls in the learning period (which starts with the
    /// first query seen).
    pub fn in_learning(&mut self, time: i64, period_ms: i64) -> bool {
        let started = *self.started.get_or_insert(time);
        time < started.saturating_add(period_ms)
    }

    pub fn started(&self) -> Option<i64> {
        self.started
    }

    /// Whether `principal` used `key` before.
    pub fn knows(&self, principal: &Principal, key: u64) -> bool {
        self.templates
            .get(principal)
            .is_some_and(|known| known.contains_key(&key))
    }

    /// Remember that `principal` used `key` at `time`.
    pub fn learn(&mut self, principal: &Principal, key: u64, time: i64) {
        let known = self.templates.entry(principal.clone()).or_default();
        match known.get_mut(&key) {
            Some(last) if time <= last.saturating_add(DAY_MS) => {}
            Some(last) => {
                *last = time;
                self.dirty.mark((principal.clone(), key));
            }
            None => {
                known.insert(key, time);
                self.count += 1;
                self.dirty.mark((principal.clone(), key));
            }
        }
    }

    /// Pairs learned.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Forget the least recently seen pairs down to `cap` less 1/64.
    pub fn enforce_cap(&mut self, cap: usize) {
        if self.count <= cap {
            return;
        }
        let mut lasts: Vec<i64> = self
            .templates
            .values()
            .flat_map(|known| known.values().copied())
            .collect();
        self.count = lasts.len();
        if self.count <= cap {
            return;
        }
        let excess = self.count - (cap - cap / 64);
        let (_, &mut cutoff, _) = lasts.select_nth_unstable(excess - 1);
        let mut at_cutoff = excess - lasts.iter().filter(|&&l| l < cutoff).count();
        let mut forgotten = 0;
        for (principal, known) in &mut self.templates {
            known.retain(|key, last| {
                let out = *last < cutoff || (*last == cutoff && at_cutoff > 0);
                if out {
                    if *last == cutoff {
                        at_cutoff -= 1;
                    }
                    self.dirty.mark((principal.clone(), *key));
                    forgotten += 1;
                }
                !out
            });
        }
        self.templates.retain(|_, known| !known.is_empty());
        self.count -= forgotten;
        log::warn(&format!(
            "MaxLearnedTemplates ({cap}) reached: forgot the {forgotten} least recently seen templates \
             (last seen at or before {cutoff}); they may be reported as new again"
        ));
    }

    /// Write the learned pairs under `space`, and the start of learning.
    pub fn snapshot_into(&mut self, writer: &mut SnapshotWriter, space: u8, mode: SnapshotMode) {
        writer.meta(STARTED, &self.started);
        match mode {
            SnapshotMode::Full => {
                self.dirty.clear();
                for (principal, known) in &self.templates {
                    for (key, last) in known {
                        writer.put(space, &(principal, key), Some(last));
                    }
                }
            }
            SnapshotMode::Changes => {
                let mut keys = self.dirty.take();
                keys.sort_unstable();
                for (principal, key) in keys {
                    let last = self.templates.get(&principal).and_then(|k| k.get(&key));
                    writer.put(space, &(&principal, key), last);
                }
            }
        }
    }

    /// Rebuild from `reader`.
    pub fn restore_from(reader: &SnapshotReader, space: u8) -> Result<Learned, String> {
        let mut learned = Learned::new();
        learned.started = reader.meta::<Option<i64>>(STARTED)?.flatten();
        for ((principal, key), last) in reader.entries::<(Principal, u64), i64>(space)? {
            if learned
                .templates
                .entry(principal)
                .or_default()
                .insert(key, last)
                .is_none()
            {
                learned.count += 1;
            }
        }
        Ok(learned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_starts_with_the_first_query() {
        let mut learned = Learned::new();
        assert!(learned.in_learning(1000, 500));
        assert!(learned.in_learning(1499, 500));
        assert!(!learned.in_learning(1500, 500));
        assert_eq!(learned.started(), Some(1000));
        let mut none = Learned::new();
        assert!(
            !none.in_learning(5, 0),
            "a zero period learns nothing silently"
        );
    }

    #[test]
    fn pairs_are_learned_refreshed_daily_and_capped() {
        let mut learned = Learned::new();
        let alice: Principal = (false, Sym::new("ALICE"));
        let role: Principal = (true, Sym::new("ANALYST"));
        learned.learn(&alice, 1, 0);
        learned.learn(&role, 1, 0);
        learned.learn(&alice, 1, 10);
        assert!(learned.knows(&alice, 1) && learned.knows(&role, 1));
        assert!(!learned.knows(&alice, 2));
        assert_eq!(learned.len(), 2);
        for key in 10..200 {
            learned.learn(&alice, key, key as i64 * DAY_MS);
        }
        learned.learn(&alice, 1, 500 * DAY_MS);
        learned.enforce_cap(64);
        assert!(learned.len() <= 64);
        assert!(learned.knows(&alice, 1), "refreshed recently: kept");
        assert!(!learned.knows(&role, 1), "least recently seen: forgotten");
    }

    #[test]
    fn snapshots_round_trip() {
        let mut learned = Learned::new();
        learned.in_learning(42, 1);
        learned.learn(&(false, Sym::new("U")), 7, 42);
        let mut writer = SnapshotWriter::new("learning-test/1", SnapshotMode::Full);
        learned.snapshot_into(&mut writer, 9, SnapshotMode::Full);
        let reader = SnapshotReader::open(writer.finish().0, "learning-test/1").unwrap();
        let back = Learned::restore_from(&reader, 9).unwrap();
        assert_eq!(back.started(), Some(42));
        assert!(back.knows(&(false, Sym::new("U")), 7));
        assert_eq!(back.len(), 1);
    }
}
