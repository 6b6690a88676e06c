//! The eve.json record shape: the fields dumpwatch reads, borrowed from
//! the line, every other key ignored (alert payloads, stats counters).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// An optional string borrowed from the line when it has no escapes.
/// serde's own `Option<Cow<str>>` always copies, even with
/// `#[serde(borrow)]` (serde-rs/serde#1497), which made every string field
/// an allocation on the hot path. Non-string values read as absent.
fn opt_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            while m.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
            while s.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// A count written as a number (or, defensively, a string).
pub(super) fn de_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a count")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(u64::try_from(v).ok())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok((v.is_finite() && v >= 0.0).then_some(v as u64))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.parse().ok())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

fn de_port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    Ok(de_u64(d)?.and_then(|p| u16::try_from(p).ok()))
}

#[derive(Deserialize, Default)]
pub(super) struct Eve<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "de_u64")]
    pub flow_id: Option<u64>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub event_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub src_ip: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "de_port")]
    pub src_port: Option<u16>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub dest_ip: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "de_port")]
    pub dest_port: Option<u16>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub proto: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub app_proto: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "de_u64")]
    pub tx_id: Option<u64>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub direction: Option<Cow<'a, str>>,
    // The larger per-type objects are boxed (a record has at most one):
    // inline they made the record several hundred bytes that serde moves
    // through each layer of return values.
    #[serde(borrow)]
    pub http: Option<Box<EveHttp<'a>>>,
    #[serde(borrow)]
    pub tls: Option<EveTls<'a>>,
    #[serde(borrow)]
    pub flow: Option<Box<EveFlow<'a>>>,
    pub fileinfo: Option<EveFileinfo>,
    #[serde(borrow)]
    pub dns: Option<Box<EveDns<'a>>>,
}

#[derive(Deserialize, Default)]
pub(super) struct EveHeader<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub value: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
pub(super) struct EveHttp<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub hostname: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub url: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub http_user_agent: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub http_method: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "de_u64")]
    pub status: Option<u64>,
    /// Response body length.
    #[serde(default, deserialize_with = "de_u64")]
    pub length: Option<u64>,
    /// Present with `dump-all-headers`.
    #[serde(borrow)]
    pub request_headers: Option<Vec<EveHeader<'a>>>,
}

impl EveHttp<'_> {
    /// The request's Content-Length header, when headers were logged.
    pub fn request_content_length(&self) -> Option<u64> {
        self.request_headers.as_ref()?.iter().find_map(|h| {
            let name = h.name.as_deref()?;
            if name.eq_ignore_ascii_case("content-length") {
                h.value.as_deref()?.trim().parse().ok()
            } else {
                None
            }
        })
    }
}

#[derive(Deserialize, Default)]
pub(super) struct EveTls<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub sni: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
pub(super) struct EveFlow<'a> {
    #[serde(default, deserialize_with = "de_u64")]
    pub bytes_toserver: Option<u64>,
    #[serde(default, deserialize_with = "de_u64")]
    pub bytes_toclient: Option<u64>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub start: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub end: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
pub(super) struct EveFileinfo {
    #[serde(default, deserialize_with = "de_u64")]
    pub size: Option<u64>,
    #[serde(default, deserialize_with = "de_u64")]
    pub tx_id: Option<u64>,
    #[serde(default, deserialize_with = "de_u64")]
    pub file_id: Option<u64>,
}

#[derive(Deserialize, Default)]
pub(super) struct EveDnsName<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub rrname: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub rdata: Option<Cow<'a, str>>,
}

/// DNS in its three shapes: v1 (one record per answer, `rrname`/`rdata`
/// at this level), v2 (`type` query/answer with an `answers` list) and v3
/// (`type` request/response with `queries` and `answers` lists).
#[derive(Deserialize, Default)]
pub(super) struct EveDns<'a> {
    #[serde(borrow, default, rename = "type", deserialize_with = "opt_str")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "de_u64")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "de_u64")]
    pub tx_id: Option<u64>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub rrname: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub rdata: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub queries: Option<Vec<EveDnsName<'a>>>,
    #[serde(borrow)]
    pub answers: Option<Vec<EveDnsName<'a>>>,
}
