//! Hash maps and sets with a fixed hasher, and the small vectors of window
//! state.
//!
//! std's default `RandomState` asks WASI for a random seed
//! (`wasi:random/insecure-seed`) the first time a map is created. A dumpwatch
//! host grants a fixed seed at most, and the analytic's behaviour must not
//! depend on one anyway: iteration order would differ between runs and
//! findings could come out in a different order. These aliases use foldhash
//! with a fixed seed instead.

use std::hash::Hash;

use foldhash::fast::FixedState;
pub use smallvec::SmallVec;

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

/// Make room for one more element, growing a small vector by exactly one.
///
/// `Vec` starts at a capacity of 4 and doubles, which is right for vectors
/// that grow but wasteful for the many tiny ones in window state (a window
/// usually holds one or two evidence records). Up to 8 elements this grows
/// exactly; past that it doubles as usual, so growth stays amortized.
pub fn reserve_one<T>(vec: &mut Vec<T>) {
    if vec.len() == vec.capacity() {
        if vec.len() < 8 {
            vec.reserve_exact(1);
        } else {
            vec.reserve(1);
        }
    }
}

/// A vector that holds up to `N` elements in place and moves to the heap
/// past that. Window state is millions of vectors that hold one element
/// (one client start's pid, one evidence record, one event key): kept in
/// place, each saves an allocation when it is made, restored or freed, and
/// the allocator's overhead. The `union` layout keeps it at the size of a
/// `Vec` when `N` elements fit in two words. It encodes like a `Vec`.
pub type Inline<T, const N: usize> = SmallVec<[T; N]>;

/// [`reserve_one`] for an [`Inline`] vector: once on the heap, it grows
/// exactly up to 8 elements and doubles past that.
pub fn reserve_one_inline<T, const N: usize>(vec: &mut Inline<T, N>) {
    if vec.len() == vec.capacity() {
        if vec.len() < 8 {
            vec.reserve_exact(1);
        } else {
            vec.reserve(1);
        }
    }
}

/// Give back the spare capacity of a vector that shrank: all of it when
/// empty, down to its length when less than half is used.
pub fn trim<T>(vec: &mut Vec<T>) {
    if vec.is_empty() {
        *vec = Vec::new();
    } else if vec.capacity() > 2 * vec.len() + 4 {
        vec.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_vectors_grow_exactly_and_large_ones_double() {
        let mut vec: Vec<u64> = Vec::new();
        for n in 1..=8 {
            reserve_one(&mut vec);
            vec.push(n);
            assert_eq!(vec.capacity(), vec.len());
        }
        reserve_one(&mut vec);
        assert!(vec.capacity() >= 16);
        vec.truncate(2);
        trim(&mut vec);
        assert_eq!(vec.capacity(), 2);
        vec.clear();
        trim(&mut vec);
        assert_eq!(vec.capacity(), 0);
    }

    #[test]
    fn inline_vectors_stay_in_place_then_grow_exactly() {
        // As small as a `Vec` when the element fits in two words.
        assert_eq!(size_of::<Inline<u64, 1>>(), size_of::<Vec<u64>>());
        assert_eq!(size_of::<Inline<(i64, u32), 1>>(), size_of::<Vec<u64>>());
        let mut vec: Inline<u64, 1> = Inline::new();
        reserve_one_inline(&mut vec);
        vec.push(1);
        assert!(!vec.spilled());
        for n in 2..=8 {
            reserve_one_inline(&mut vec);
            vec.push(n);
            assert_eq!(vec.capacity(), vec.len());
        }
        assert!(vec.spilled());
        reserve_one_inline(&mut vec);
        assert!(vec.capacity() >= 16);
        // Encoded exactly like a `Vec`.
        let as_vec: Vec<u64> = vec.to_vec();
        assert_eq!(
            postcard::to_allocvec(&vec).unwrap(),
            postcard::to_allocvec(&as_vec).unwrap()
        );
    }
}
