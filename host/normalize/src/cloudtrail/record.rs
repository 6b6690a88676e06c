//! The CloudTrail record as serde reads it: only the fields dumpwatch maps,
//! borrowed from the input where no JSON escape forces a copy; everything
//! else (responseElements, tlsDetails, …) is skipped unparsed.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::params::RequestParameters;
use super::params::params_fast;
use crate::json_cursor::{Bail, Cursor, Fast, KeyCache};
use crate::json_fields::{Fields, OptionInPlace, element};
use crate::json_stream::{JsonText, TextSlot};

/// The fields of a record. Read in place by
/// [`InPlace`](crate::json_fields::InPlace); every field is
/// absent until its key is met.
#[derive(Default)]
pub(crate) struct Record<'a> {
    pub event_time: Option<JsonText<'a>>,
    /// Where a forwarder moved eventTime (Logstash's date filter does).
    pub forwarder_timestamp: Option<JsonText<'a>>,
    pub event_source: Option<JsonText<'a>>,
    pub event_name: Option<JsonText<'a>>,
    pub event_type: Option<JsonText<'a>>,
    pub event_id: Option<JsonText<'a>>,
    pub request_id: Option<JsonText<'a>>,
    pub aws_region: Option<JsonText<'a>>,
    pub source_ip_address: Option<JsonText<'a>>,
    pub user_agent: Option<JsonText<'a>>,
    pub error_code: Option<JsonText<'a>>,
    pub recipient_account_id: Option<JsonText<'a>>,
    pub user_identity: Option<UserIdentity<'a>>,
    pub request_parameters: Option<RequestParameters>,
    pub additional_event_data: Option<AdditionalEventData>,
    pub resources: Option<Vec<Resource<'a>>>,
}

#[derive(Default)]
pub(crate) struct UserIdentity<'a> {
    pub kind: Option<JsonText<'a>>,
    pub user_name: Option<JsonText<'a>>,
    pub arn: Option<JsonText<'a>>,
    pub account_id: Option<JsonText<'a>>,
    pub access_key_id: Option<JsonText<'a>>,
    pub principal_id: Option<JsonText<'a>>,
    pub invoked_by: Option<JsonText<'a>>,
    pub session_context: Option<SessionContext<'a>>,
}

const RECORD_FIELDS: &[&str] = &[
    "eventTime",
    "@timestamp",
    "eventSource",
    "eventName",
    "eventType",
    "eventID",
    "requestID",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "recipientAccountId",
    "userIdentity",
    "requestParameters",
    "additionalEventData",
    "resources",
];

/// The index in [`RECORD_FIELDS`] of a key.
fn record_field(key: &str) -> Option<usize> {
    Some(match key {
        "eventTime" => 0,
        "@timestamp" => 1,
        "eventSource" => 2,
        "eventName" => 3,
        "eventType" => 4,
        "eventID" => 5,
        "requestID" => 6,
        "awsRegion" => 7,
        "sourceIPAddress" => 8,
        "userAgent" => 9,
        "errorCode" => 10,
        "recipientAccountId" => 11,
        "userIdentity" => 12,
        "requestParameters" => 13,
        "additionalEventData" => 14,
        "resources" => 15,
        _ => return None,
    })
}

impl<'a> Record<'a> {
    /// The string field of index `i` in [`RECORD_FIELDS`] (the first
    /// twelve), or `None` for the others.
    fn text_slot(&mut self, i: usize) -> Option<&mut Option<JsonText<'a>>> {
        Some(match i {
            0 => &mut self.event_time,
            1 => &mut self.forwarder_timestamp,
            2 => &mut self.event_source,
            3 => &mut self.event_name,
            4 => &mut self.event_type,
            5 => &mut self.event_id,
            6 => &mut self.request_id,
            7 => &mut self.aws_region,
            8 => &mut self.source_ip_address,
            9 => &mut self.user_agent,
            10 => &mut self.error_code,
            11 => &mut self.recipient_account_id,
            _ => return None,
        })
    }
}

/// Read in place by [`InPlace`](crate::json_fields::InPlace), as the
/// derive did: keys matched exactly, other keys skipped unparsed, a
/// repeated key an error, and an array read positionally.
impl<'de> Fields<'de> for Record<'de> {
    const NAME: &'static str = "Record";
    const FIELDS: &'static [&'static str] = RECORD_FIELDS;

    fn field(key: &str) -> Option<usize> {
        record_field(key)
    }

    fn read_field<A: MapAccess<'de>>(&mut self, i: usize, map: &mut A) -> Result<(), A::Error> {
        let r = self;
        if let Some(slot) = r.text_slot(i) {
            return map.next_value_seed(TextSlot(slot));
        }
        match i {
            12 => map.next_value_seed(OptionInPlace(&mut r.user_identity)),
            13 => {
                r.request_parameters = map.next_value()?;
                Ok(())
            }
            14 => {
                r.additional_event_data = map.next_value()?;
                Ok(())
            }
            _ => {
                r.resources = map.next_value()?;
                Ok(())
            }
        }
    }

    fn read_seq<A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        const EXPECTED: &str = "struct Record with 16 elements";
        let r = self;
        for (i, slot) in [
            &mut r.event_time,
            &mut r.forwarder_timestamp,
            &mut r.event_source,
            &mut r.event_name,
            &mut r.event_type,
            &mut r.event_id,
            &mut r.request_id,
            &mut r.aws_region,
            &mut r.source_ip_address,
            &mut r.user_agent,
            &mut r.error_code,
            &mut r.recipient_account_id,
        ]
        .into_iter()
        .enumerate()
        {
            *slot = element(&mut seq, i, EXPECTED)?;
        }
        seq.next_element_seed(OptionInPlace(&mut r.user_identity))?
            .ok_or_else(|| de::Error::invalid_length(12, &EXPECTED))?;
        r.request_parameters = element(&mut seq, 13, EXPECTED)?;
        r.additional_event_data = element(&mut seq, 14, EXPECTED)?;
        r.resources = element(&mut seq, 15, EXPECTED)?;
        Ok(())
    }
}

/// Key cache contexts: the record's top level, `userIdentity`, and the
/// objects inside.
const TOP: usize = 0;
const IDENTITY: usize = 1;
const SESSION: usize = 2;
const ISSUER: usize = 3;
const ADDITIONAL: usize = 4;
const RESOURCE: usize = 5;

/// Reads a record with the cursor, as [`InPlace`] reads it: the top
/// level's strings here, a repeated key bailing (serde's duplicate-field
/// error); the nested parts (identity, request parameters, additional
/// data, resources) each read by serde from the text of its value alone.
///
/// [`InPlace`]: crate::json_fields::InPlace
pub(crate) fn read_fast<'a>(
    c: &mut Cursor<'a>,
    keys: &mut KeyCache,
    r: &mut Record<'a>,
) -> Fast<()> {
    let code = |k: &str| record_field(k).map_or(u16::MAX, |i| i as u16);
    c.cached_fields(keys, TOP, RECORD_FIELDS.len(), code, |c, keys, i| {
        if let Some(slot) = r.text_slot(i) {
            *slot = c.string_or_null()?.map(JsonText);
            return Ok(());
        }
        match i {
            12 => {
                if !c.null()? {
                    identity_fast(c, keys, r.user_identity.insert(UserIdentity::default()))?;
                }
            }
            13 => r.request_parameters = params_fast(c)?,
            14 => r.additional_event_data = additional_fast(c, keys)?,
            _ => r.resources = resources_fast(c, keys)?,
        }
        Ok(())
    })
}

/// `userIdentity` (not `null`), as [`UserIdentity`]'s `Fields` read it.
fn identity_fast<'a>(
    c: &mut Cursor<'a>,
    keys: &mut KeyCache,
    id: &mut UserIdentity<'a>,
) -> Fast<()> {
    let code = |k: &str| identity_field(k).map_or(u16::MAX, |i| i as u16);
    c.cached_fields(keys, IDENTITY, IDENTITY_FIELDS.len(), code, |c, keys, i| {
        match id.text_slot(i) {
            Some(slot) => *slot = c.string_or_null()?.map(JsonText),
            None => id.session_context = session_fast(c, keys)?,
        }
        Ok(())
    })
}

/// `sessionContext`, as the derived [`SessionContext`] reads it.
fn session_fast<'a>(c: &mut Cursor<'a>, keys: &mut KeyCache) -> Fast<Option<SessionContext<'a>>> {
    c.optional(|c| {
        let mut session_issuer = None;
        c.known_fields(keys, SESSION, &["sessionIssuer"], |c, keys, _| {
            session_issuer = c.optional(|c| {
                let mut arn = None;
                c.known_fields(keys, ISSUER, &["arn"], |c, _, _| {
                    arn = c.string_or_null()?.map(JsonText);
                    Ok(())
                })?;
                Ok(SessionIssuer { arn })
            })?;
            Ok(())
        })?;
        Ok(SessionContext { session_issuer })
    })
}

/// `additionalEventData`, as the derived [`AdditionalEventData`] reads
/// it; byte counts other than plain integers and digit strings bail.
fn additional_fast(c: &mut Cursor<'_>, keys: &mut KeyCache) -> Fast<Option<AdditionalEventData>> {
    c.optional(|c| {
        let mut data = AdditionalEventData {
            bytes_transferred_in: None,
            bytes_transferred_out: None,
        };
        let names = ["bytesTransferredIn", "bytesTransferredOut"];
        c.known_fields(keys, ADDITIONAL, &names, |c, _, i| {
            let count = match c.peek()? {
                b'n' => {
                    c.null()?;
                    None
                }
                b'0'..=b'9' => Some(whole_count(c.number()?)?),
                b'"' => Some(c.string()?.decode()?.trim().parse().map_err(|_| Bail)?),
                _ => return Err(Bail),
            };
            if i == 0 {
                data.bytes_transferred_in = count;
            } else {
                data.bytes_transferred_out = count;
            }
            Ok(())
        })?;
        Ok(data)
    })
}

/// A byte count written as a number: an integer, or a float whose
/// fraction is zeros (`500.0`, as forwarders re-encode counts) below 2^53,
/// which every float parser reads exactly; any other number bails
/// (serde's float reading decides it).
fn whole_count(text: &str) -> Fast<u64> {
    match text.split_once('.') {
        None if !text.contains(['e', 'E']) => text.parse().map_err(|_| Bail),
        Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => {
            let n: u64 = whole.parse().map_err(|_| Bail)?;
            if n < 1 << 53 { Ok(n) } else { Err(Bail) }
        }
        _ => Err(Bail),
    }
}

/// `resources`, as `Option<Vec<Resource>>` reads it (`ARN` or `arn`, not
/// both).
fn resources_fast<'a>(c: &mut Cursor<'a>, keys: &mut KeyCache) -> Fast<Option<Vec<Resource<'a>>>> {
    c.list(|c| {
        let (mut kind, mut arn) = (None, None);
        // `arn` is an alias of `ARN`: both in one element is serde's
        // duplicate-field error.
        let mut arn_seen = false;
        c.known_fields(keys, RESOURCE, &["type", "ARN", "arn"], |c, _, i| {
            let v = c.string_or_null()?.map(JsonText);
            if i == 0 {
                kind = v;
            } else if std::mem::replace(&mut arn_seen, true) {
                return Err(Bail);
            } else {
                arn = v;
            }
            Ok(())
        })?;
        Ok(Resource { kind, arn })
    })
}

const IDENTITY_FIELDS: &[&str] = &[
    "type",
    "userName",
    "arn",
    "accountId",
    "accessKeyId",
    "principalId",
    "invokedBy",
    "sessionContext",
];

/// The index in [`IDENTITY_FIELDS`] of a key.
fn identity_field(key: &str) -> Option<usize> {
    Some(match key {
        "type" => 0,
        "userName" => 1,
        "arn" => 2,
        "accountId" => 3,
        "accessKeyId" => 4,
        "principalId" => 5,
        "invokedBy" => 6,
        "sessionContext" => 7,
        _ => return None,
    })
}

impl<'a> UserIdentity<'a> {
    /// The string field of index `i` in [`IDENTITY_FIELDS`] (all but
    /// `sessionContext`), or `None` for that one.
    fn text_slot(&mut self, i: usize) -> Option<&mut Option<JsonText<'a>>> {
        Some(match i {
            0 => &mut self.kind,
            1 => &mut self.user_name,
            2 => &mut self.arn,
            3 => &mut self.account_id,
            4 => &mut self.access_key_id,
            5 => &mut self.principal_id,
            6 => &mut self.invoked_by,
            _ => return None,
        })
    }
}

impl<'de> Fields<'de> for UserIdentity<'de> {
    const NAME: &'static str = "UserIdentity";
    const FIELDS: &'static [&'static str] = IDENTITY_FIELDS;

    fn field(key: &str) -> Option<usize> {
        identity_field(key)
    }

    fn read_field<A: MapAccess<'de>>(&mut self, i: usize, map: &mut A) -> Result<(), A::Error> {
        let id = self;
        match id.text_slot(i) {
            Some(slot) => map.next_value_seed(TextSlot(slot)),
            None => {
                id.session_context = map.next_value()?;
                Ok(())
            }
        }
    }

    fn read_seq<A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        const EXPECTED: &str = "struct UserIdentity with 8 elements";
        let id = self;
        for (i, slot) in [
            &mut id.kind,
            &mut id.user_name,
            &mut id.arn,
            &mut id.account_id,
            &mut id.access_key_id,
            &mut id.principal_id,
            &mut id.invoked_by,
        ]
        .into_iter()
        .enumerate()
        {
            *slot = element(&mut seq, i, EXPECTED)?;
        }
        id.session_context = element(&mut seq, 7, EXPECTED)?;
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionContext<'a> {
    #[serde(borrow)]
    pub session_issuer: Option<SessionIssuer<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct SessionIssuer<'a> {
    #[serde(borrow)]
    pub arn: Option<JsonText<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdditionalEventData {
    #[serde(default, deserialize_with = "lenient_u64")]
    pub bytes_transferred_in: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub bytes_transferred_out: Option<u64>,
}

#[derive(Deserialize)]
pub(crate) struct Resource<'a> {
    #[serde(borrow, rename = "type")]
    pub kind: Option<JsonText<'a>>,
    #[serde(borrow, rename = "ARN", alias = "arn")]
    pub arn: Option<JsonText<'a>>,
}

/// A byte count written as an integer, a float (`89.0`, as some
/// forwarders re-encode numbers) or a string of digits; `None` for null.
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a non-negative byte count")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map(Some)
                .map_err(|_| E::custom(format!("negative byte count {v}")))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.is_finite() && v >= 0.0 && v < u64::MAX as f64 {
                Ok(Some(v as u64))
            } else {
                Err(E::custom(format!("invalid byte count {v}")))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.trim()
                .parse()
                .map(Some)
                .map_err(|_| E::custom(format!("invalid byte count {v:?}")))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(V)
        }
    }
    d.deserialize_option(V)
}
