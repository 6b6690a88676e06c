//! One audit record, in either shape: the unified audit log schema of the
//! Office 365 Management Activity API, or the Sentinel `OfficeActivity`
//! table that renames its columns. Both spellings are fields of one
//! struct; [`UalRecord`]'s accessors pick whichever is present. Fields
//! dumpwatch does not map (nested `Folders`, `OperationProperties`, …) are
//! skipped unparsed.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::json_fields::{Fields, element};
use crate::json_stream::{JsonText, TextSlot};

/// The fields of a record, in both spellings. Read in place by
/// [`InPlace`](crate::json_fields::InPlace); every field is absent until
/// its key is met.
#[derive(Default)]
pub(crate) struct UalRecord<'a> {
    pub creation_time: Option<JsonText<'a>>,
    pub time_generated: Option<JsonText<'a>>,
    pub id: Option<JsonText<'a>>,
    pub office_id: Option<JsonText<'a>>,
    pub operation: Option<JsonText<'a>>,
    pub user_id: Option<JsonText<'a>>,
    pub user_type: Option<UserType>,
    pub organization_id: Option<JsonText<'a>>,
    /// OfficeActivity repeats some columns with a trailing `_`.
    pub organization_id_dup: Option<JsonText<'a>>,
    pub object_id: Option<JsonText<'a>>,
    pub office_object_id: Option<JsonText<'a>>,
    pub source_file_name: Option<JsonText<'a>>,
    pub site_url: Option<JsonText<'a>>,
    pub site_url_sentinel: Option<JsonText<'a>>,
    pub workload: Option<JsonText<'a>>,
    pub office_workload: Option<JsonText<'a>>,
    pub client_ip: Option<JsonText<'a>>,
    /// Exchange records of the API.
    pub client_ip_address: Option<JsonText<'a>>,
    /// Exchange records in `OfficeActivity`.
    pub client_ip_sentinel: Option<JsonText<'a>>,
    pub user_agent: Option<JsonText<'a>>,
    pub application_id: Option<JsonText<'a>>,
    pub app_id: Option<JsonText<'a>>,
}

const FIELDS: &[&str] = &[
    "CreationTime",
    "TimeGenerated",
    "Id",
    "OfficeId",
    "Operation",
    "UserId",
    "UserType",
    "OrganizationId",
    "OrganizationId_",
    "ObjectId",
    "OfficeObjectId",
    "SourceFileName",
    "SiteUrl",
    "Site_Url",
    "Workload",
    "OfficeWorkload",
    "ClientIP",
    "ClientIPAddress",
    "Client_IPAddress",
    "UserAgent",
    "ApplicationId",
    "AppId",
];

/// The index in [`FIELDS`] of a key (a `match`: compiled to a switch on
/// the length and a comparison or two).
fn field_index(key: &str) -> Option<usize> {
    Some(match key {
        "CreationTime" => 0,
        "TimeGenerated" => 1,
        "Id" => 2,
        "OfficeId" => 3,
        "Operation" => 4,
        "UserId" => 5,
        "UserType" => 6,
        "OrganizationId" => 7,
        "OrganizationId_" => 8,
        "ObjectId" => 9,
        "OfficeObjectId" => 10,
        "SourceFileName" => 11,
        "SiteUrl" => 12,
        "Site_Url" => 13,
        "Workload" => 14,
        "OfficeWorkload" => 15,
        "ClientIP" => 16,
        "ClientIPAddress" => 17,
        "Client_IPAddress" => 18,
        "UserAgent" => 19,
        "ApplicationId" => 20,
        "AppId" => 21,
        _ => return None,
    })
}

/// Read in place by [`InPlace`](crate::json_fields::InPlace), as the
/// derive did (exact keys, others skipped unparsed, a repeated key an
/// error, an array read positionally).
impl<'de> Fields<'de> for UalRecord<'de> {
    const NAME: &'static str = "UalRecord";
    const FIELDS: &'static [&'static str] = FIELDS;

    fn field(key: &str) -> Option<usize> {
        field_index(key)
    }

    fn read_field<A: MapAccess<'de>>(&mut self, i: usize, map: &mut A) -> Result<(), A::Error> {
        let r = self;
        let slot = match i {
            0 => &mut r.creation_time,
            1 => &mut r.time_generated,
            2 => &mut r.id,
            3 => &mut r.office_id,
            4 => &mut r.operation,
            5 => &mut r.user_id,
            7 => &mut r.organization_id,
            8 => &mut r.organization_id_dup,
            9 => &mut r.object_id,
            10 => &mut r.office_object_id,
            11 => &mut r.source_file_name,
            12 => &mut r.site_url,
            13 => &mut r.site_url_sentinel,
            14 => &mut r.workload,
            15 => &mut r.office_workload,
            16 => &mut r.client_ip,
            17 => &mut r.client_ip_address,
            18 => &mut r.client_ip_sentinel,
            19 => &mut r.user_agent,
            20 => &mut r.application_id,
            21 => &mut r.app_id,
            _ => {
                r.user_type = map.next_value()?;
                return Ok(());
            }
        };
        map.next_value_seed(TextSlot(slot))
    }

    fn read_seq<A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        const EXPECTED: &str = "struct UalRecord with 22 elements";
        let r = self;
        for (i, slot) in [
            &mut r.creation_time,
            &mut r.time_generated,
            &mut r.id,
            &mut r.office_id,
            &mut r.operation,
            &mut r.user_id,
        ]
        .into_iter()
        .enumerate()
        {
            *slot = element(&mut seq, i, EXPECTED)?;
        }
        r.user_type = element(&mut seq, 6, EXPECTED)?;
        for (i, slot) in [
            &mut r.organization_id,
            &mut r.organization_id_dup,
            &mut r.object_id,
            &mut r.office_object_id,
            &mut r.source_file_name,
            &mut r.site_url,
            &mut r.site_url_sentinel,
            &mut r.workload,
            &mut r.office_workload,
            &mut r.client_ip,
            &mut r.client_ip_address,
            &mut r.client_ip_sentinel,
            &mut r.user_agent,
            &mut r.application_id,
            &mut r.app_id,
        ]
        .into_iter()
        .enumerate()
        {
            *slot = element(&mut seq, 6 + 1 + i, EXPECTED)?;
        }
        Ok(())
    }
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
