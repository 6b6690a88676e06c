//! Helpers the decoders' tests share: fixture lines, and records mangled
//! for the differential and fuzz tests of the fast paths.

use proptest::prelude::*;

/// The non-blank lines (trimmed) of fixture files under
/// `tests/fixtures`.
pub(crate) fn fixture_lines(files: &[&str]) -> Vec<Vec<u8>> {
    files
        .iter()
        .flat_map(|f| {
            let path = format!("{}/../../tests/fixtures/{f}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            text.split(|&b| b == b'\n')
                .map(<[u8]>::trim_ascii)
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One of `lines` with one to three edits: a byte replaced by, or a few
/// printable bytes inserted at, any position.
pub(crate) fn mangled(lines: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    (
        any::<prop::sample::Index>(),
        prop::collection::vec(
            (any::<prop::sample::Index>(), "[ -~]{0,4}", any::<bool>()),
            1..4,
        ),
    )
        .prop_map(move |(pick, edits)| {
            let mut line = pick.get(&lines).clone();
            for (at, insert, replace) in edits {
                let at = at.index(line.len() + 1);
                let end = if replace {
                    (at + 1).min(line.len())
                } else {
                    at
                };
                line.splice(at..end, insert.bytes());
            }
            line
        })
}
