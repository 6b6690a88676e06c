//! Lenient, borrowing JSON scalars for record structs.
//!
//! The same field arrives as a string from one shipper and a number from
//! another (Winlogbeat 7 writes `winlog.event_id` as a number, 8 as a
//! string; NXLog writes `EventID` as a number and Sysmon's `ProcessId` as a
//! string; the ECS pipelines turn pids into numbers). [`Text`] takes any
//! scalar as text and [`Num`] any integer-looking scalar as a number, so a
//! record is not rejected over a representation choice.
//!
//! Both borrow from the input when they can: serde's own `Cow<str>` always
//! copies inside an `Option` (serde-rs/serde#1497), and these types are on
//! the hot path of every JSON normalizer. Objects and arrays where a scalar
//! was expected are skipped and read as absent rather than failing the
//! whole record.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A JSON scalar as text; empty for an object or array in its place.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl<'a> Text<'a> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn into_cow(self) -> Cow<'a, str> {
        self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor(PhantomData))
    }
}

struct TextVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
    type Value = Text<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(itoa::Buffer::new().format(v).to_owned())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(itoa::Buffer::new().format(v).to_owned())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v.to_string())))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(if v { "true" } else { "false" })))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Text::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Text::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text::default())
    }
}

/// A non-negative integer written as a JSON number, a decimal string or a
/// `0x` hex string (Windows writes pids and logon ids in hex); `None` for
/// anything else.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Num(pub Option<u64>);

impl Num {
    pub(crate) fn get(self) -> Option<u64> {
        self.0
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumVisitor)
    }
}

struct NumVisitor;

impl<'de> Visitor<'de> for NumVisitor {
    type Value = Num;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a non-negative integer")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
        Ok(Num(Some(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
        Ok(Num(u64::try_from(v).ok()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
        let ok = v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1.8e19;
        Ok(Num(ok.then_some(v as u64)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
        Ok(Num(parse_uint(v)))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Num, E> {
        Ok(Num(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Num, E> {
        Ok(Num(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Num, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Num(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Num, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Num(None))
    }
}

/// Parse a decimal or `0x`-prefixed hex unsigned integer, surrounding
/// spaces allowed.
pub(crate) fn parse_uint(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() => u64::from_str_radix(hex, 16).ok(),
        Some(_) => None,
        None if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        t: Option<Text<'a>>,
        n: Option<Num>,
    }

    fn probe(json: &str) -> (Option<String>, Option<u64>, bool) {
        let p: Probe = serde_json::from_str(json).expect("valid probe JSON");
        let borrowed = matches!(p.t, Some(Text(Cow::Borrowed(_))));
        (
            p.t.map(|t| t.as_str().to_owned()),
            p.n.and_then(Num::get),
            borrowed,
        )
    }

    #[test]
    fn text_takes_any_scalar_and_borrows_plain_strings() {
        assert_eq!(probe(r#"{"t":"abc"}"#), (Some("abc".into()), None, true));
        assert_eq!(probe(r#"{"t":"a\/b"}"#), (Some("a/b".into()), None, false));
        assert_eq!(probe(r#"{"t":4688}"#).0.as_deref(), Some("4688"));
        assert_eq!(probe(r#"{"t":true}"#).0.as_deref(), Some("true"));
        assert_eq!(probe(r#"{"t":{"x":[1]}}"#).0.as_deref(), Some(""));
        assert_eq!(probe(r#"{"t":null}"#).0, None);
    }

    #[test]
    fn num_reads_numbers_decimal_and_hex_strings() {
        assert_eq!(probe(r#"{"n":42}"#).1, Some(42));
        assert_eq!(probe(r#"{"n":"42"}"#).1, Some(42));
        assert_eq!(probe(r#"{"n":"0x9e4"}"#).1, Some(0x9e4));
        assert_eq!(probe(r#"{"n":-1}"#).1, None);
        assert_eq!(probe(r#"{"n":"x"}"#).1, None);
        assert_eq!(probe(r#"{"n":[1]}"#).1, None);
        assert_eq!(parse_uint("0x"), None);
        assert_eq!(parse_uint(" 7 "), Some(7));
    }
}
