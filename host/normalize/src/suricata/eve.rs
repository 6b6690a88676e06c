//! The eve.json record shape: the fields dumpwatch reads, borrowed from
//! the line, every other key ignored (alert payloads, stats counters).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::json_fields::{Fields, element};

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

/// A record. Read in place by [`InPlace`](crate::json_fields::InPlace);
/// every field is absent until its key is met.
#[derive(Debug, Default)]
pub(super) struct Eve<'a> {
    pub timestamp: Option<Cow<'a, str>>,
    pub flow_id: Option<u64>,
    pub event_type: Option<Cow<'a, str>>,
    pub src_ip: Option<Cow<'a, str>>,
    pub src_port: Option<u16>,
    pub dest_ip: Option<Cow<'a, str>>,
    pub dest_port: Option<u16>,
    pub proto: Option<Cow<'a, str>>,
    pub app_proto: Option<Cow<'a, str>>,
    pub tx_id: Option<u64>,
    pub direction: Option<Cow<'a, str>>,
    // The larger per-type objects are boxed (a record has at most one):
    // inline they made the record several hundred bytes.
    pub http: Option<Box<EveHttp<'a>>>,
    pub tls: Option<EveTls<'a>>,
    pub flow: Option<Box<EveFlow<'a>>>,
    pub fileinfo: Option<EveFileinfo>,
    pub dns: Option<Box<EveDns<'a>>>,
}

/// Read a record through serde: the path of every record the cursor of
/// [`super::eve_fast`] leaves (and the one that words errors).
pub(super) fn serde_record<'a>(line: &'a [u8], e: &mut Eve<'a>) -> Result<(), serde_json::Error> {
    crate::json_records::parse_seed(line, crate::json_fields::InPlace(e))
}

/// [`opt_str`], [`de_u64`] and [`de_port`] as types, for the record
/// visitor.
struct OptStr<'a>(Option<Cow<'a, str>>);
struct U64(Option<u64>);
struct Port(Option<u16>);

impl<'de> Deserialize<'de> for OptStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        opt_str(d).map(OptStr)
    }
}

impl<'de> Deserialize<'de> for U64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de_u64(d).map(U64)
    }
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de_port(d).map(Port)
    }
}

pub(super) const EVE_FIELDS: &[&str] = &[
    "timestamp",
    "flow_id",
    "event_type",
    "src_ip",
    "src_port",
    "dest_ip",
    "dest_port",
    "proto",
    "app_proto",
    "tx_id",
    "direction",
    "http",
    "tls",
    "flow",
    "fileinfo",
    "dns",
];

/// The index in [`EVE_FIELDS`] of a key.
pub(super) fn eve_field(key: &str) -> Option<usize> {
    Some(match key {
        "timestamp" => 0,
        "flow_id" => 1,
        "event_type" => 2,
        "src_ip" => 3,
        "src_port" => 4,
        "dest_ip" => 5,
        "dest_port" => 6,
        "proto" => 7,
        "app_proto" => 8,
        "tx_id" => 9,
        "direction" => 10,
        "http" => 11,
        "tls" => 12,
        "flow" => 13,
        "fileinfo" => 14,
        "dns" => 15,
        _ => return None,
    })
}

/// Read in place by [`InPlace`](crate::json_fields::InPlace), where it
/// lies, rather than built in a derived visitor and moved out through each
/// layer of return values. It behaves as the derive did: exact keys, others
/// skipped unparsed, a repeated key the duplicate-field error, an array
/// read positionally (the scalar fields then default when missing).
impl<'de> Fields<'de> for Eve<'de> {
    const NAME: &'static str = "Eve";
    const FIELDS: &'static [&'static str] = EVE_FIELDS;

    fn field(key: &str) -> Option<usize> {
        eve_field(key)
    }

    fn read_field<A: MapAccess<'de>>(&mut self, i: usize, map: &mut A) -> Result<(), A::Error> {
        let e = self;
        match i {
            0 => e.timestamp = map.next_value::<OptStr>()?.0,
            1 => e.flow_id = map.next_value::<U64>()?.0,
            2 => e.event_type = map.next_value::<OptStr>()?.0,
            3 => e.src_ip = map.next_value::<OptStr>()?.0,
            4 => e.src_port = map.next_value::<Port>()?.0,
            5 => e.dest_ip = map.next_value::<OptStr>()?.0,
            6 => e.dest_port = map.next_value::<Port>()?.0,
            7 => e.proto = map.next_value::<OptStr>()?.0,
            8 => e.app_proto = map.next_value::<OptStr>()?.0,
            9 => e.tx_id = map.next_value::<U64>()?.0,
            10 => e.direction = map.next_value::<OptStr>()?.0,
            11 => e.http = map.next_value()?,
            12 => e.tls = map.next_value()?,
            13 => e.flow = map.next_value()?,
            14 => e.fileinfo = map.next_value()?,
            _ => e.dns = map.next_value()?,
        }
        Ok(())
    }

    fn read_seq<A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        const EXPECTED: &str = "struct Eve with 16 elements";
        let e = self;
        e.timestamp = seq.next_element::<OptStr>()?.and_then(|v| v.0);
        e.flow_id = seq.next_element::<U64>()?.and_then(|v| v.0);
        e.event_type = seq.next_element::<OptStr>()?.and_then(|v| v.0);
        e.src_ip = seq.next_element::<OptStr>()?.and_then(|v| v.0);
        e.src_port = seq.next_element::<Port>()?.and_then(|v| v.0);
        e.dest_ip = seq.next_element::<OptStr>()?.and_then(|v| v.0);
        e.dest_port = seq.next_element::<Port>()?.and_then(|v| v.0);
        e.proto = seq.next_element::<OptStr>()?.and_then(|v| v.0);
        e.app_proto = seq.next_element::<OptStr>()?.and_then(|v| v.0);
        e.tx_id = seq.next_element::<U64>()?.and_then(|v| v.0);
        e.direction = seq.next_element::<OptStr>()?.and_then(|v| v.0);
        e.http = element(&mut seq, 11, EXPECTED)?;
        e.tls = element(&mut seq, 12, EXPECTED)?;
        e.flow = element(&mut seq, 13, EXPECTED)?;
        e.fileinfo = element(&mut seq, 14, EXPECTED)?;
        e.dns = element(&mut seq, 15, EXPECTED)?;
        Ok(())
    }
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct EveHeader<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub value: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize, Default)]
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

#[derive(Debug, Deserialize, Default)]
pub(super) struct EveTls<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub sni: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize, Default)]
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

#[derive(Debug, Deserialize, Default)]
pub(super) struct EveFileinfo {
    #[serde(default, deserialize_with = "de_u64")]
    pub size: Option<u64>,
    #[serde(default, deserialize_with = "de_u64")]
    pub tx_id: Option<u64>,
    #[serde(default, deserialize_with = "de_u64")]
    pub file_id: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct EveDnsName<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub rrname: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub rdata: Option<Cow<'a, str>>,
}

/// DNS in its three shapes: v1 (one record per answer, `rrname`/`rdata`
/// at this level), v2 (`type` query/answer with an `answers` list) and v3
/// (`type` request/response with `queries` and `answers` lists).
#[derive(Debug, Deserialize, Default)]
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
