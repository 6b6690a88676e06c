//! Hash maps and sets with a fixed hasher.
//!
//! std's default `RandomState` asks WASI for a random seed
//! (`wasi:random/insecure-seed`) the first time a map is created. A dumpwatch
//! host grants a fixed seed at most, and the analytic's behaviour must not
//! depend on one anyway: iteration order would differ between runs and
//! findings could come out in a different order. These aliases use foldhash
//! with a fixed seed instead.

use std::hash::Hash;

use foldhash::fast::FixedState;

/// A `HashMap` with a fixed, seedless hasher.
pub type Map<K, V> = std::collections::HashMap<K, V, FixedState>;

/// A `HashSet` with a fixed, seedless hasher.
pub type Set<K> = std::collections::HashSet<K, FixedState>;

/// An empty [`Map`].
pub fn new_map<K: Hash + Eq, V>() -> Map<K, V> {
    Map::with_hasher(FixedState::default())
}

/// An empty [`Set`].
pub fn new_set<K: Hash + Eq>() -> Set<K> {
    Set::with_hasher(FixedState::default())
}
