//! State frames: the packed form in which analytic state crosses the
//! component boundary and is stored.
//!
//! `snapshot` returns, and `restore` takes, one `list<u8>` holding a
//! sequence of frames, each one state entry:
//!
//! ```text
//! frame  = varint(key length) key varint(tag) [value]
//! tag    = 0            the key was deleted (only in a `changes` snapshot)
//!        | length + 1   the key holds `length` bytes of value, which follow
//! varint = unsigned LEB128, at most 10 bytes
//! ```
//!
//! One byte list instead of a list of records: a checkpoint of a million
//! windows crossed the boundary as two million separately allocated and
//! copied lists, and that, not the encoding, was most of its cost. The host
//! stores a full snapshot as it came (cut into segments) and never needs
//! to look inside it, except to merge later changes over it by key.

#![cfg_attr(test, allow(clippy::unwrap_used))]

use std::fmt;

/// One entry: a key and its value, or `None` for a deleted key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub key: &'a [u8],
    pub value: Option<&'a [u8]>,
}

/// Why a byte list is not a sequence of frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameError {
    /// Byte offset of the frame that could not be read.
    pub offset: usize,
    pub reason: &'static str,
}

impl FrameError {
    /// Whether the bytes end inside this frame (more bytes may complete
    /// it), rather than hold something that is not a frame.
    pub fn is_cut_short(&self) -> bool {
        self.reason.starts_with("truncated")
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "state frame at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for FrameError {}

/// Append `value` as an unsigned LEB128 varint.
pub fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Append one frame.
pub fn put(out: &mut Vec<u8>, key: &[u8], value: Option<&[u8]>) {
    out.reserve(key.len() + value.map_or(0, <[u8]>::len) + 6);
    write_varint(out, key.len() as u64);
    out.extend_from_slice(key);
    match value {
        None => out.push(0),
        Some(value) => {
            write_varint(out, value.len() as u64 + 1);
            out.extend_from_slice(value);
        }
    }
}

/// The frames of `bytes`, in order. After the first error the iterator
/// ends.
pub fn frames(bytes: &[u8]) -> Frames<'_> {
    Frames { bytes, pos: 0 }
}

/// Iterator over the frames of a byte list.
#[derive(Clone, Debug)]
pub struct Frames<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Frames<'a> {
    /// Byte offset of the next frame.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn varint(&mut self, start: usize) -> Result<u64, FrameError> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err(FrameError {
                    offset: start,
                    reason: "truncated length",
                });
            };
            self.pos += 1;
            if shift == 63 && byte > 1 {
                break;
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(FrameError {
            offset: start,
            reason: "length too large",
        })
    }

    fn take(&mut self, len: u64, start: usize) -> Result<&'a [u8], FrameError> {
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| self.pos.checked_add(len))
            .filter(|&end| end <= self.bytes.len())
            .ok_or(FrameError {
                offset: start,
                reason: "truncated: a length runs past the end",
            })?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn frame(&mut self) -> Result<Frame<'a>, FrameError> {
        let start = self.pos;
        let key_len = self.varint(start)?;
        let key = self.take(key_len, start)?;
        let value = match self.varint(start)? {
            0 => None,
            tag => Some(self.take(tag - 1, start)?),
        };
        Ok(Frame { key, value })
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let result = self.frame();
        if result.is_err() {
            self.pos = self.bytes.len();
        }
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Owned = (Vec<u8>, Option<Vec<u8>>);

    fn collect(bytes: &[u8]) -> Result<Vec<Owned>, FrameError> {
        frames(bytes)
            .map(|f| f.map(|f| (f.key.to_vec(), f.value.map(<[u8]>::to_vec))))
            .collect()
    }

    #[test]
    fn frames_round_trip_with_deletions_and_empty_values() {
        let long = vec![7u8; 300];
        let mut out = Vec::new();
        put(&mut out, b"a", Some(b"one"));
        put(&mut out, b"", Some(b""));
        put(&mut out, b"gone", None);
        put(&mut out, &long, Some(&long));
        assert_eq!(
            collect(&out).unwrap(),
            vec![
                (b"a".to_vec(), Some(b"one".to_vec())),
                (Vec::new(), Some(Vec::new())),
                (b"gone".to_vec(), None),
                (long.clone(), Some(long)),
            ]
        );
        assert!(collect(&[]).unwrap().is_empty());
    }

    #[test]
    fn varints_round_trip_at_every_width() {
        for value in [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            write_varint(&mut out, value);
            let mut it = frames(&out);
            assert_eq!(it.varint(0).unwrap(), value, "{value}");
            assert_eq!(it.offset(), out.len());
        }
    }

    #[test]
    fn truncated_and_oversized_frames_are_errors_at_their_offset() {
        let mut out = Vec::new();
        put(&mut out, b"first", Some(b"value"));
        let second = out.len();
        put(&mut out, b"second", Some(b"value"));
        for cut in second + 1..out.len() {
            let err = collect(&out[..cut]).unwrap_err();
            assert_eq!(err.offset, second, "cut at {cut}");
        }
        let mut huge = Vec::new();
        write_varint(&mut huge, u64::MAX);
        assert!(collect(&huge).unwrap_err().reason.contains("past the end"));
        let eleven = [0xffu8; 11];
        assert_eq!(collect(&eleven).unwrap_err().reason, "length too large");
        // The iterator stops after an error.
        let mut it = frames(&eleven);
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
    }
}
