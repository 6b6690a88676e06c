//! One audit record, in either shape: the unified audit log schema of the
//! Office 365 Management Activity API, or the Sentinel `OfficeActivity`
//! table that renames its columns. Both spellings are fields of one
//! struct; [`UalRecord`]'s accessors pick whichever is present. Fields
//! dumpwatch does not map (nested `Folders`, `OperationProperties`, …) are
//! skipped unparsed.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::json_stream::JsonText;

#[derive(Deserialize)]
pub(crate) struct UalRecord<'a> {
    #[serde(borrow, rename = "CreationTime")]
    pub creation_time: Option<JsonText<'a>>,
    #[serde(borrow, rename = "TimeGenerated")]
    pub time_generated: Option<JsonText<'a>>,
    #[serde(borrow, rename = "Id")]
    pub id: Option<JsonText<'a>>,
    #[serde(borrow, rename = "OfficeId")]
    pub office_id: Option<JsonText<'a>>,
    #[serde(borrow, rename = "Operation")]
    pub operation: Option<JsonText<'a>>,
    #[serde(borrow, rename = "UserId")]
    pub user_id: Option<JsonText<'a>>,
    #[serde(rename = "UserType")]
    pub user_type: Option<UserType>,
    #[serde(borrow, rename = "OrganizationId")]
    pub organization_id: Option<JsonText<'a>>,
    /// OfficeActivity repeats some columns with a trailing `_`.
    #[serde(borrow, rename = "OrganizationId_")]
    pub organization_id_dup: Option<JsonText<'a>>,
    #[serde(borrow, rename = "ObjectId")]
    pub object_id: Option<JsonText<'a>>,
    #[serde(borrow, rename = "OfficeObjectId")]
    pub office_object_id: Option<JsonText<'a>>,
    #[serde(borrow, rename = "SourceFileName")]
    pub source_file_name: Option<JsonText<'a>>,
    #[serde(borrow, rename = "SiteUrl")]
    pub site_url: Option<JsonText<'a>>,
    #[serde(borrow, rename = "Site_Url")]
    pub site_url_sentinel: Option<JsonText<'a>>,
    #[serde(borrow, rename = "Workload")]
    pub workload: Option<JsonText<'a>>,
    #[serde(borrow, rename = "OfficeWorkload")]
    pub office_workload: Option<JsonText<'a>>,
    #[serde(borrow, rename = "ClientIP")]
    pub client_ip: Option<JsonText<'a>>,
    /// Exchange records of the API.
    #[serde(borrow, rename = "ClientIPAddress")]
    pub client_ip_address: Option<JsonText<'a>>,
    /// Exchange records in `OfficeActivity`.
    #[serde(borrow, rename = "Client_IPAddress")]
    pub client_ip_sentinel: Option<JsonText<'a>>,
    #[serde(borrow, rename = "UserAgent")]
    pub user_agent: Option<JsonText<'a>>,
    #[serde(borrow, rename = "ApplicationId")]
    pub application_id: Option<JsonText<'a>>,
    #[serde(borrow, rename = "AppId")]
    pub app_id: Option<JsonText<'a>>,
}

/// A field's text, if present and not empty.
pub(crate) fn text<'r>(v: &'r Option<JsonText<'_>>) -> Option<&'r str> {
    v.as_deref().filter(|v| !v.is_empty())
}

/// The first of two spellings of a field that has a value.
fn first<'r>(a: &'r Option<JsonText<'_>>, b: &'r Option<JsonText<'_>>) -> Option<&'r str> {
    text(a).or_else(|| text(b))
}

impl UalRecord<'_> {
    /// `CreationTime` (API) or `TimeGenerated` (OfficeActivity), with the
    /// name of the field it came from.
    pub fn time(&self) -> Option<(&'static str, &str)> {
        match (text(&self.creation_time), text(&self.time_generated)) {
            (Some(t), _) => Some(("CreationTime", t)),
            (None, Some(t)) => Some(("TimeGenerated", t)),
            (None, None) => None,
        }
    }
    pub fn id(&self) -> Option<&str> {
        first(&self.id, &self.office_id)
    }
    pub fn organization(&self) -> Option<&str> {
        first(&self.organization_id, &self.organization_id_dup)
    }
    pub fn object(&self) -> Option<&str> {
        first(&self.object_id, &self.office_object_id)
    }
    pub fn site(&self) -> Option<&str> {
        first(&self.site_url, &self.site_url_sentinel)
    }
    pub fn workload(&self) -> Option<&str> {
        first(&self.workload, &self.office_workload)
    }
    pub fn client_ip(&self) -> Option<&str> {
        first(&self.client_ip, &self.client_ip_address).or_else(|| text(&self.client_ip_sentinel))
    }
    pub fn application(&self) -> Option<&str> {
        first(&self.application_id, &self.app_id)
    }
}

/// `UserType`: an integer in the API, a number or a name in a string in
/// exports. Numbers become the names of the API's `UserType` enumeration.
pub(crate) struct UserType(pub Cow<'static, str>);

/// The Management Activity API's `UserType` values, by number.
const USER_TYPES: [&str; 9] = [
    "Regular",
    "Reserved",
    "Admin",
    "DcAdmin",
    "System",
    "Application",
    "ServicePrincipal",
    "CustomPolicy",
    "SystemPolicy",
];

fn user_type_name(n: u64) -> Cow<'static, str> {
    match USER_TYPES.get(n as usize) {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(n.to_string()),
    }
}

impl<'de> Deserialize<'de> for UserType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = UserType;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a user type number or name")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<UserType, E> {
                Ok(UserType(user_type_name(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<UserType, E> {
                Ok(UserType(Cow::Owned(v.to_string())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UserType, E> {
                Ok(UserType(match v.parse::<u64>() {
                    Ok(n) => user_type_name(n),
                    Err(_) => Cow::Owned(v.to_owned()),
                }))
            }
        }
        d.deserialize_any(V)
    }
}
