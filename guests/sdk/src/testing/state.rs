//! State frames as owned entries, for tests that look into snapshots, merge
//! them or tamper with them.

/// One state entry; `None` is a deletion.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

/// The entries of `frames`, in order. Panics on frames that do not parse.
pub fn unpack(frames: &[u8]) -> Vec<Entry> {
    dumpwatch_frames::frames(frames)
        .map(|frame| match frame {
            Ok(frame) => Entry {
                key: frame.key.to_vec(),
                value: frame.value.map(<[u8]>::to_vec),
            },
            Err(err) => panic!("{err}"),
        })
        .collect()
}

/// `entries` as frames.
pub fn pack(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        dumpwatch_frames::put(&mut out, &entry.key, entry.value.as_deref());
    }
    out
}
