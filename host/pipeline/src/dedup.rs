//! Telling a new finding from an update and from a repeat.
//!
//! Analytics return a finding again whenever it changes, under the same
//! deterministic uid. The host remembers, per uid, a digest of the last
//! content it emitted: an unknown uid is a creation (OCSF activity 1), a
//! known uid with new content an update (activity 2), the same content again
//! nothing at all. Entries are forgotten once event time has passed a
//! finding's end by the retention, which bounds memory.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use dumpwatch_event::{Finding, FindingActivity};
use sha2::{Digest, Sha256};

/// Feeds `Hash` output into SHA-256 (stable, unlike std's default hasher).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// 128-bit digest of a finding's content.
pub fn content_digest(f: &Finding) -> u128 {
    let mut h = ShaHasher(Sha256::new());
    f.hash(&mut h);
    let d = h.0.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    u128::from_le_bytes(b)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    digest: u128,
    end_time: i64,
}

/// The memory of emitted findings.
#[derive(Debug, Default)]
pub struct Dedup {
    seen: HashMap<String, Seen>,
    retention_ms: i64,
    /// Uids changed or forgotten since the last checkpoint.
    dirty: std::collections::BTreeSet<String>,
    /// No entry ends before this: `expire` is called for every batch and
    /// skips the scan until the cutoff passes it.
    earliest_end: i64,
}

impl Dedup {
    pub fn new(retention_ms: i64) -> Dedup {
        Dedup {
            seen: HashMap::new(),
            retention_ms,
            dirty: Default::default(),
            earliest_end: i64::MAX,
        }
    }

    /// Load the memory a checkpoint stored.
    pub fn load(&mut self, entries: impl IntoIterator<Item = (String, u128, i64)>) {
        for (uid, digest, end_time) in entries {
            self.earliest_end = self.earliest_end.min(end_time);
            self.seen.insert(uid, Seen { digest, end_time });
        }
    }

    /// The changes since the last call, for a checkpoint (`None`: forgotten).
    pub fn take_changes(&mut self) -> Vec<(String, Option<(u128, i64)>)> {
        std::mem::take(&mut self.dirty)
            .into_iter()
            .map(|uid| {
                let v = self.seen.get(&uid).map(|s| (s.digest, s.end_time));
                (uid, v)
            })
            .collect()
    }

    /// Classify a finding and remember it; `None` means "unchanged, do not
    /// emit".
    pub fn classify(&mut self, f: &Finding) -> Option<FindingActivity> {
        let digest = content_digest(f);
        let entry = Seen {
            digest,
            end_time: f.end_time,
        };
        self.earliest_end = self.earliest_end.min(f.end_time);
        match self.seen.insert(f.uid.clone(), entry) {
            None => {
                self.dirty.insert(f.uid.clone());
                Some(FindingActivity::Create)
            }
            Some(prev) if prev.digest == digest => None,
            Some(_) => {
                self.dirty.insert(f.uid.clone());
                Some(FindingActivity::Update)
            }
        }
    }

    /// Forget findings whose events ended more than the retention before
    /// `watermark`.
    pub fn expire(&mut self, watermark: i64) {
        if watermark == i64::MAX {
            // End of input: nothing more can update anything.
            return;
        }
        let cutoff = watermark.saturating_sub(self.retention_ms);
        if cutoff <= self.earliest_end {
            return;
        }
        let dirty = &mut self.dirty;
        let mut earliest = i64::MAX;
        self.seen.retain(|uid, s| {
            let keep = s.end_time >= cutoff;
            if keep {
                earliest = earliest.min(s.end_time);
            } else {
                dirty.insert(uid.clone());
            }
            keep
        });
        self.earliest_end = earliest;
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dumpwatch_event::Severity;

    fn finding(uid: &str, sev: Severity, end: i64) -> Finding {
        Finding {
            uid: uid.into(),
            title: "t".into(),
            description: "d".into(),
            severity: sev,
            reasons: vec![],
            entities: vec![],
            start_time: 0,
            end_time: end,
            attacks: vec![],
            legs: vec![],
            evidence: vec![],
            event_count: 1,
        }
    }

    #[test]
    fn create_update_repeat() {
        let mut d = Dedup::new(1000);
        assert_eq!(
            d.classify(&finding("a", Severity::Medium, 10)),
            Some(FindingActivity::Create)
        );
        assert_eq!(d.classify(&finding("a", Severity::Medium, 10)), None);
        assert_eq!(
            d.classify(&finding("a", Severity::High, 10)),
            Some(FindingActivity::Update)
        );
        assert_eq!(
            d.classify(&finding("b", Severity::High, 10)),
            Some(FindingActivity::Create)
        );
        d.expire(2000);
        assert!(d.is_empty());
    }
}
