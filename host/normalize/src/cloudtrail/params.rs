//! `requestParameters` reduced to what analytics can match on: every
//! top-level scalar (string, number, bool) by name, and every list of
//! scalars joined with `,`. Nested objects, lists holding objects, nulls
//! and empty lists are skipped without being built, so one pass over the
//! JSON with a handful of small strings is all a record costs.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::json_cursor::{Bail, Cursor, Fast};
use crate::json_stream::JsonText;

/// The scalar request parameters of a record, in the order logged.
#[derive(Debug, Default)]
pub(crate) struct RequestParameters(pub Vec<(String, String)>);

impl RequestParameters {
    /// The value of parameter `name`, if present and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

impl<'de> Deserialize<'de> for RequestParameters {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ParamsVisitor)
    }
}

struct ParamsVisitor;

impl<'de> Visitor<'de> for ParamsVisitor {
    type Value = RequestParameters;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("request parameters")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut params = Vec::new();
        while let Some(key) = map.next_key::<JsonText<'de>>()? {
            if let Some(value) = map.next_value::<Param>()?.0 {
                params.push((key.0.into_owned(), value));
            }
        }
        Ok(RequestParameters(params))
    }

    // Anything but an object (CloudTrail never writes one, but the record
    // is still worth its other fields) holds no parameters.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(RequestParameters::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(RequestParameters::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(RequestParameters::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(RequestParameters::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(RequestParameters::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(RequestParameters::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(RequestParameters::default())
    }
}

/// `requestParameters` read with the cursor, as [`ParamsVisitor`] reads
/// it: `null` is none, an object its scalars and lists of scalars. Other
/// values (which CloudTrail never writes) and numbers that are not plain
/// unsigned integers (serde renders those) bail.
pub(crate) fn params_fast(c: &mut Cursor<'_>) -> Fast<Option<RequestParameters>> {
    c.optional(|c| {
        let mut params = Vec::new();
        c.object()?;
        let mut first = true;
        while let Some(key) = c.next_key(&mut first)? {
            let key = key.decode()?;
            let value = match c.peek()? {
                b'[' => list_fast(c)?,
                b'{' => {
                    c.skip()?;
                    None
                }
                _ => scalar_fast(c)?.map(Cow::into_owned),
            };
            if let Some(value) = value {
                params.push((key.into_owned(), value));
            }
        }
        Ok(RequestParameters(params))
    })
}

/// A scalar parameter or list element as text; `None` for `null`.
fn scalar_fast<'a>(c: &mut Cursor<'a>) -> Fast<Option<Cow<'a, str>>> {
    Ok(match c.peek()? {
        b'"' => Some(c.string()?.decode()?),
        b'0'..=b'9' => Some(Cow::Borrowed(c.unsigned()?.0)),
        b'n' => {
            c.null()?;
            None
        }
        b't' | b'f' => c.text()?,
        _ => return Err(Bail),
    })
}

/// A list parameter: its scalars joined with `,` when it holds nothing
/// else and at least one.
fn list_fast(c: &mut Cursor<'_>) -> Fast<Option<String>> {
    c.array()?;
    let mut first = true;
    let mut joined = String::new();
    let mut count = 0usize;
    let mut scalars_only = true;
    while c.next_element(&mut first)? {
        let item = match c.peek()? {
            b'{' | b'[' => {
                c.skip()?;
                None
            }
            _ => scalar_fast(c)?,
        };
        match item {
            Some(t) if scalars_only => {
                if count > 0 {
                    joined.push(',');
                }
                joined.push_str(&t);
                count += 1;
            }
            Some(_) => {}
            None => scalars_only = false,
        }
    }
    Ok((scalars_only && count > 0).then_some(joined))
}

/// One parameter value as text, or `None` when it is not kept.
struct Param(Option<String>);

impl<'de> Deserialize<'de> for Param {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ParamVisitor)
    }
}

struct ParamVisitor;

impl<'de> Visitor<'de> for ParamVisitor {
    type Value = Param;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a parameter value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Param, E> {
        Ok(Param(Some(v.to_owned())))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Param, E> {
        Ok(Param(Some(v.to_string())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Param, E> {
        Ok(Param(Some(itoa::Buffer::new().format(v).to_owned())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Param, E> {
        Ok(Param(Some(itoa::Buffer::new().format(v).to_owned())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Param, E> {
        Ok(Param(Some(ryu::Buffer::new().format(v).to_owned())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Param, E> {
        Ok(Param(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Param, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Param(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Param, A::Error> {
        let mut joined = String::new();
        let mut count = 0usize;
        let mut scalars_only = true;
        while let Some(item) = seq.next_element::<ListItem>()? {
            match item {
                ListItem::Text(t) if scalars_only => {
                    if count > 0 {
                        joined.push(',');
                    }
                    joined.push_str(&t);
                    count += 1;
                }
                ListItem::Text(_) => {}
                ListItem::NotScalar => scalars_only = false,
            }
        }
        Ok(Param((scalars_only && count > 0).then_some(joined)))
    }
}

/// An element of a parameter list.
enum ListItem<'de> {
    Text(Cow<'de, str>),
    NotScalar,
}

impl<'de> Deserialize<'de> for ListItem<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ListItem<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list element")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(ListItem::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ListItem::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(ListItem::Text(Cow::Borrowed(if v {
                    "true"
                } else {
                    "false"
                })))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(ListItem::Text(Cow::Owned(
                    itoa::Buffer::new().format(v).to_owned(),
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(ListItem::Text(Cow::Owned(
                    itoa::Buffer::new().format(v).to_owned(),
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(ListItem::Text(Cow::Owned(
                    ryu::Buffer::new().format(v).to_owned(),
                )))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ListItem::NotScalar)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ListItem::NotScalar)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ListItem::NotScalar)
            }
        }
        d.deserialize_any(V)
    }
}
