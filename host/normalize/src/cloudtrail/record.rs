//! The CloudTrail record as serde reads it: only the fields dumpwatch maps,
//! borrowed from the input where no JSON escape forces a copy; everything
//! else (responseElements, tlsDetails, …) is skipped unparsed.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::params::RequestParameters;
use crate::json_stream::JsonText;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Record<'a> {
    #[serde(borrow)]
    pub event_time: Option<JsonText<'a>>,
    /// Where a forwarder moved eventTime (Logstash's date filter does).
    #[serde(borrow, rename = "@timestamp")]
    pub forwarder_timestamp: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub event_source: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub event_name: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub event_type: Option<JsonText<'a>>,
    #[serde(borrow, rename = "eventID")]
    pub event_id: Option<JsonText<'a>>,
    #[serde(borrow, rename = "requestID")]
    pub request_id: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub aws_region: Option<JsonText<'a>>,
    #[serde(borrow, rename = "sourceIPAddress")]
    pub source_ip_address: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub user_agent: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub error_code: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub recipient_account_id: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub user_identity: Option<UserIdentity<'a>>,
    pub request_parameters: Option<RequestParameters>,
    pub additional_event_data: Option<AdditionalEventData>,
    #[serde(borrow)]
    pub resources: Option<Vec<Resource<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserIdentity<'a> {
    #[serde(borrow, rename = "type")]
    pub kind: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub user_name: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub arn: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub account_id: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub access_key_id: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub principal_id: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub invoked_by: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub session_context: Option<SessionContext<'a>>,
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
