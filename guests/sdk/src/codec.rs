//! The binary encoding of analytic state: postcard (serde), compact varints
//! and no schema on the wire. Format changes are caught by the format entry
//! of [`crate::state`], not by the codec.

use serde::{Deserialize, Serialize};

use crate::pack::{SHORT, extend_short};

/// Why state could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct CodecError(pub String);

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CodecError {}

/// Encode `value`.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    postcard::to_allocvec(value).map_err(|err| CodecError(format!("cannot encode state: {err}")))
}

/// Encode `value` at the end of `out` (no allocation once `out` has room:
/// a snapshot encodes every entry into the same scratch buffer).
pub fn encode_into<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
    postcard::serialize_with_flavor(value, Append(out))
        .map_err(|err| CodecError(format!("cannot encode state: {err}")))
}

/// A postcard output that appends to a borrowed `Vec`.
struct Append<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Append<'_> {
    type Output = ();

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    /// postcard writes every integer as a varint of 1 to 10 bytes, and
    /// every string, through here. In a component a slice copy of unknown
    /// length is `memory.copy`, which wasmtime runs as a call out to the
    /// host; for a few bytes that call costs more than the copy, and a
    /// snapshot makes tens of millions of them. Short slices are written
    /// as whole words instead ([`extend_short`]).
    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        if data.len() <= SHORT {
            extend_short(self.0, data);
        } else {
            self.0.extend_from_slice(data);
        }
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Decode a `T` from `bytes` (it may borrow from them); trailing bytes are
/// an error (they mean the bytes were written by a different layout).
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, CodecError> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(CodecError(format!(
            "cannot decode state: {} unexpected trailing bytes",
            rest.len()
        ))),
        Err(err) => Err(CodecError(format!("cannot decode state: {err}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use postcard::ser_flavors::Flavor;

    #[test]
    fn round_trip() {
        let value = (42u32, String::from("x"), Some(-7i64), vec![1u8, 2, 3]);
        let bytes = encode(&value).unwrap();
        assert_eq!(
            decode::<(u32, String, Option<i64>, Vec<u8>)>(&bytes).unwrap(),
            value
        );
    }

    #[test]
    fn encode_into_appends_what_encode_returns() {
        let value = (7u16, String::from("abc"));
        let mut out = vec![9u8];
        encode_into(&value, &mut out).unwrap();
        assert_eq!(out[0], 9);
        assert_eq!(out[1..], encode(&value).unwrap()[..]);
    }

    #[test]
    fn short_slices_of_every_length_are_appended_whole() {
        let data: Vec<u8> = (1..=SHORT as u8 + 1).collect();
        for n in 0..=data.len() {
            let mut out = vec![0xAA];
            Append(&mut out).try_extend(&data[..n]).unwrap();
            assert_eq!(out[0], 0xAA);
            assert_eq!(&out[1..], &data[..n], "length {n}");
        }
    }

    #[test]
    fn truncated_and_trailing_bytes_are_errors() {
        let bytes = encode(&(1u64 << 40, String::from("hello"))).unwrap();
        assert!(decode::<(u64, String)>(&bytes[..bytes.len() - 2]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        let err = decode::<(u64, String)>(&longer).unwrap_err();
        assert!(err.0.contains("trailing"), "{err}");
    }
}
