//! Helpers for hand-written struct visitors that fill a record in place
//! and must behave as `#[derive(Deserialize)]` did (the same records
//! accepted, the same errors): a repeated key is an error, and a struct
//! given as an array is read positionally.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

/// The keys of a struct already read, by field index (a bit each: structs
/// of at most 32 fields; the largest, M365's, has 22).
#[derive(Default)]
pub(crate) struct Seen(u32);

impl Seen {
    /// Note field `i` of `fields` as read; a second time is the derive's
    /// duplicate-field error.
    pub(crate) fn first<E: de::Error>(
        &mut self,
        i: usize,
        fields: &[&'static str],
    ) -> Result<(), E> {
        let bit = 1u32 << i;
        if self.0 & bit != 0 {
            return Err(E::duplicate_field(fields[i]));
        }
        self.0 |= bit;
        Ok(())
    }
}

/// Element `i` of a struct read as an array; too few elements is the
/// derive's invalid-length error (`expected` names the struct and its
/// field count, as the derive does: "struct X with N elements").
pub(crate) fn element<'de, A: SeqAccess<'de>, T: Deserialize<'de>>(
    seq: &mut A,
    i: usize,
    expected: &'static str,
) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| de::Error::invalid_length(i, &expected))
}

/// A map key read as a known field (`None` for any other key), matched
/// where it lies in the input: no text is built for it, as
/// `#[derive(Deserialize)]`'s field identifiers do. `F` maps a key to its
/// field.
pub(crate) struct FieldKey<F>(pub F);

impl<'de, T, F: FnOnce(&str) -> Option<T>> DeserializeSeed<'de> for FieldKey<F> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de, T, F: FnOnce(&str) -> Option<T>> Visitor<'de> for FieldKey<F> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<T>, E> {
        Ok((self.0)(v))
    }
}
