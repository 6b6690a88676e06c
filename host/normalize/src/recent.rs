//! A bounded memory of recently seen keys, for decoders that join records
//! or remember what they already reported.
//!
//! Endpoint logs need small joins inside one stream: a Sysmon file event
//! without `User` borrows the user of its process's earlier process-create
//! event, an eslogger exec learns its parent's path from the parent's own
//! exec, and the unified log reports each process once. Inputs are
//! unbounded, so the memory must be too: [`RecentMap`] keeps two
//! generations of at most `capacity / 2` entries each; when the young one
//! fills, the old one is dropped and the young one becomes old. Lookups see
//! both, so an entry lives at least `capacity / 2` insertions, memory never
//! exceeds `capacity` entries, and nothing is ever scanned or sorted.

use std::borrow::Borrow;
use std::hash::Hash;

/// A map hashed by foldhash: the keys are short (GUIDs, pids), looked up
/// once or twice per record, and SipHash cost more than the lookup.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A map that forgets its oldest entries past a fixed size.
#[derive(Debug)]
pub(crate) struct RecentMap<K, V> {
    young: HashMap<K, V>,
    old: HashMap<K, V>,
    generation_len: usize,
}

impl<K: Hash + Eq, V> RecentMap<K, V> {
    /// A map holding at most `capacity` entries (at least 2).
    pub(crate) fn new(capacity: usize) -> Self {
        RecentMap {
            young: HashMap::default(),
            old: HashMap::default(),
            generation_len: (capacity / 2).max(1),
        }
    }

    /// The value for `key`, if still remembered.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.young.get(key).or_else(|| self.old.get(key))
    }

    pub(crate) fn contains<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key).is_some()
    }

    /// Remember `key` (refreshing it if it was old).
    pub(crate) fn insert(&mut self, key: K, value: V) {
        if !self.young.contains_key(&key) && self.young.len() >= self.generation_len {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, value);
    }

    /// Number of entries remembered (both generations; a key refreshed
    /// from the old generation may count twice).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_recent_keys_and_forgets_old_ones() {
        let mut m = RecentMap::new(4);
        for k in 0..3u32 {
            m.insert(k, k * 10);
        }
        // 0 and 1 filled the first generation; 2 started the second.
        assert_eq!(m.get(&0), Some(&0));
        assert_eq!(m.get(&2), Some(&20));
        m.insert(3, 30);
        m.insert(4, 40); // young {2,3} full: {0,1} dropped
        assert_eq!(m.get(&0), None);
        assert_eq!(m.get(&1), None);
        assert!(m.contains(&2) && m.contains(&3) && m.contains(&4));
        assert!(m.len() <= 4);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut m = RecentMap::new(100);
        for k in 0..10_000u32 {
            m.insert(k, ());
            assert!(m.len() <= 100);
        }
        assert!(m.contains(&9_999));
    }
}
