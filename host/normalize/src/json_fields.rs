//! Helpers for hand-written struct visitors that fill a record in place
//! and must behave as `#[derive(Deserialize)]` did (the same records
//! accepted, the same errors): a repeated key is an error, and a struct
//! given as an array is read positionally.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

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

/// A record read in place by [`InPlace`]: its struct name and fields as
/// the derive would give them, which key is which field, and how to read
/// one field's value or the whole struct given as an array.
pub(crate) trait Fields<'de> {
    /// The struct's name: serde's errors say "expected struct NAME".
    const NAME: &'static str;
    const FIELDS: &'static [&'static str];
    /// The index in `FIELDS` of a key, `None` for a key to skip.
    fn field(key: &str) -> Option<usize>;
    /// Read the value of field `i` (known, and not seen before).
    fn read_field<A: MapAccess<'de>>(&mut self, i: usize, map: &mut A) -> Result<(), A::Error>;
    /// Read the struct given as an array, positionally.
    fn read_seq<A: SeqAccess<'de>>(&mut self, seq: A) -> Result<(), A::Error>;
}

/// Reads a [`Fields`] record in place, as `#[derive(Deserialize)]` would
/// read it: unknown keys skipped unparsed, a repeated key the
/// duplicate-field error. Generic, so each record gets its own copy of
/// the loop with its `field` and `read_field` inlined.
pub(crate) struct InPlace<'r, T>(pub &'r mut T);

impl<'de, T: Fields<'de>> DeserializeSeed<'de> for InPlace<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct(T::NAME, T::FIELDS, self)
    }
}

impl<'de, T: Fields<'de>> Visitor<'de> for InPlace<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "struct {}", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(FieldKey(T::field))? {
            let Some(i) = key else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            seen.first(i, T::FIELDS)?;
            self.0.read_field(i, &mut map)?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.0.read_seq(seq)
    }
}

/// Reads a value that may be `null` with `seed`, which runs only when the
/// value is there (serde's option layer, without returning anything
/// through it).
pub(crate) struct Nullable<S>(pub S);

impl<'de, S: DeserializeSeed<'de, Value = ()>> DeserializeSeed<'de> for Nullable<S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de, Value = ()>> Visitor<'de> for Nullable<S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("option")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.0.deserialize(d)
    }
}

/// Reads an optional [`Fields`] record in place: `null` (or nothing)
/// leaves it absent, anything else is read into a default one.
pub(crate) struct OptionInPlace<'r, T>(pub &'r mut Option<T>);

impl<'de, T: Fields<'de> + Default> DeserializeSeed<'de> for OptionInPlace<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        Nullable(Present(self.0)).deserialize(d)
    }
}

/// The record of an [`OptionInPlace`] that is there.
struct Present<'r, T>(&'r mut Option<T>);

impl<'de, T: Fields<'de> + Default> DeserializeSeed<'de> for Present<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        InPlace(self.0.insert(T::default())).deserialize(d)
    }
}
