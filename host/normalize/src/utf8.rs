//! The UTF-8 check of whole records, done once per record before a
//! reader that takes `&str` walks it.

/// `bytes` as text when they are UTF-8. The check is simdutf8's, several
/// times faster than std's on long ASCII records; on failure it says no
/// more than that, and callers that report where the bad byte is ask std.
#[inline]
pub(crate) fn text(bytes: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The same verdict and text as std on any bytes.
        #[test]
        fn agrees_with_std(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(super::text(&bytes), std::str::from_utf8(&bytes).ok());
        }
    }
}
