//! Zeek JSON logs (`LogAscii::use_json`): one flat object per line.
//!
//! Keys keep their dots (`"id.orig_h"`); OTRF's exports spell them with
//! underscores (`id_orig_h`) and add `@stream`/`@system`/`@proc`. `ts` is
//! an epoch float by default and an ISO 8601 string with
//! `JSON::TS_ISO8601`. The log type comes from `_path` or `@stream` when
//! present, else from the fields the record has. Records are read into a
//! struct of borrowed fields; unknown keys are ignored.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::record::{LogKind, Rec, Ts};

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

/// `ts` as a number or a string.
fn de_ts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Ts>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Ts>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("epoch seconds or an ISO 8601 time")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(
                dumpwatch_event::time::from_epoch_f64(v).map_or(Ts::Invalid, Ts::At),
            ))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            self.visit_f64(v as f64)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            self.visit_f64(v as f64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(super::tsv::parse_ts(v)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Some(Ts::Missing))
        }
    }
    d.deserialize_any(V)
}

/// An address, or nothing when it does not parse.
fn de_ip<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IpAddr>, D::Error> {
    Ok(opt_str(d)?.and_then(|s| crate::ip::parse(&s)))
}

/// A number that may also be written as a string or be out of range.
fn de_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
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

/// A Zeek JSON record (conn, http, ssl and dns fields).
#[derive(Deserialize, Default)]
pub(super) struct JsonRec<'a> {
    #[serde(borrow, default, rename = "_path", deserialize_with = "opt_str")]
    pub path: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "@stream", deserialize_with = "opt_str")]
    pub stream: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "de_ts")]
    pub ts: Option<Ts>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub uid: Option<Cow<'a, str>>,
    #[serde(
        default,
        rename = "id.orig_h",
        alias = "id_orig_h",
        deserialize_with = "de_ip"
    )]
    pub orig_h: Option<IpAddr>,
    #[serde(
        default,
        rename = "id.orig_p",
        alias = "id_orig_p",
        deserialize_with = "de_port"
    )]
    pub orig_p: Option<u16>,
    #[serde(
        default,
        rename = "id.resp_h",
        alias = "id_resp_h",
        deserialize_with = "de_ip"
    )]
    pub resp_h: Option<IpAddr>,
    #[serde(
        default,
        rename = "id.resp_p",
        alias = "id_resp_p",
        deserialize_with = "de_port"
    )]
    pub resp_p: Option<u16>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub proto: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub service: Option<Cow<'a, str>>,
    pub duration: Option<f64>,
    #[serde(default, deserialize_with = "de_u64")]
    pub orig_bytes: Option<u64>,
    #[serde(default, deserialize_with = "de_u64")]
    pub resp_bytes: Option<u64>,
    #[serde(default, deserialize_with = "de_u64")]
    pub orig_ip_bytes: Option<u64>,
    pub conn_state: Option<de::IgnoredAny>,
    #[serde(default, deserialize_with = "de_u64")]
    pub trans_depth: Option<u64>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub method: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub host: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub uri: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub user_agent: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "de_u64")]
    pub request_body_len: Option<u64>,
    #[serde(default, deserialize_with = "de_u64")]
    pub response_body_len: Option<u64>,
    #[serde(default, deserialize_with = "de_u64")]
    pub status_code: Option<u64>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub server_name: Option<Cow<'a, str>>,
    pub cipher: Option<de::IgnoredAny>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub query: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "de_u64")]
    pub trans_id: Option<u64>,
    #[serde(borrow, default)]
    pub answers: Option<Vec<Cow<'a, str>>>,
}

impl<'a> JsonRec<'a> {
    /// The log type: from `_path`/`@stream`, else from the fields.
    pub fn kind(&self) -> LogKind {
        if let Some(p) = self.path.as_deref().or(self.stream.as_deref()) {
            return LogKind::from_path(p);
        }
        if self.method.is_some() {
            LogKind::Http
        } else if self.server_name.is_some() || self.cipher.is_some() {
            LogKind::Ssl
        } else if self.query.is_some() {
            LogKind::Dns
        } else if self.conn_state.is_some() || self.orig_ip_bytes.is_some() {
            LogKind::Conn
        } else {
            LogKind::Other
        }
    }

    /// The log type's name, for the skip count.
    pub fn log_name(&self) -> &str {
        self.path
            .as_deref()
            .or(self.stream.as_deref())
            .unwrap_or("unknown log")
    }

    pub fn into_rec(self) -> Rec<'a> {
        Rec {
            ts: self.ts,
            uid: self.uid,
            orig_h: self.orig_h,
            orig_p: self.orig_p,
            resp_h: self.resp_h,
            resp_p: self.resp_p,
            proto: self.proto,
            service: self.service,
            duration: self.duration,
            orig_bytes: self.orig_bytes,
            resp_bytes: self.resp_bytes,
            orig_ip_bytes: self.orig_ip_bytes,
            trans_depth: self.trans_depth,
            method: self.method,
            host: self.host,
            uri: self.uri,
            user_agent: self.user_agent,
            request_body_len: self.request_body_len,
            response_body_len: self.response_body_len,
            status_code: self.status_code,
            server_name: self.server_name,
            query: self.query,
            trans_id: self.trans_id,
            answers: self.answers.unwrap_or_default(),
        }
    }
}
