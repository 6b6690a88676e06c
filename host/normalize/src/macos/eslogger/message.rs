//! The parts of an Endpoint Security message (`es_message_t`, as `eslogger`
//! prints it) that the mapping reads. Everything else (stat blocks,
//! environment, file descriptors, code-signing flags) is skipped by serde
//! without being kept.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::json_scalar::{Num, Text};

/// One message.
#[derive(Deserialize)]
pub(crate) struct EsMessage<'a> {
    /// The process that caused the event (for exec: the image before exec).
    #[serde(borrow)]
    pub process: Option<EsProcess<'a>>,
    #[serde(borrow)]
    pub event: Option<EsEvent<'a>>,
    /// ISO 8601 with nanoseconds and `Z`.
    #[serde(borrow)]
    pub time: Option<Text<'a>>,
    pub mach_time: Option<Num>,
    /// Sequence number per event type.
    pub seq_num: Option<Num>,
    pub global_seq_num: Option<Num>,
    /// Jamf Protect's name for `global_seq_num`.
    pub glob_seq_num: Option<Num>,
    /// 0 AUTH (a request, may be denied), 1 NOTIFY (done).
    pub action_type: Option<Num>,
    /// Jamf Protect adds the host; eslogger itself writes none.
    #[serde(borrow)]
    pub host: Option<EsHost<'a>>,
}

/// `es_process_t`.
#[derive(Deserialize)]
pub(crate) struct EsProcess<'a> {
    pub audit_token: Option<AuditToken>,
    pub parent_audit_token: Option<AuditToken>,
    pub ppid: Option<Num>,
    pub original_ppid: Option<Num>,
    #[serde(borrow)]
    pub executable: Option<EsFile<'a>>,
    #[serde(borrow)]
    pub signing_id: Option<Text<'a>>,
}

/// `audit_token_t` as eslogger expands it.
#[derive(Clone, Copy, Deserialize)]
pub(crate) struct AuditToken {
    pub pid: Option<Num>,
    pub pidversion: Option<Num>,
    pub auid: Option<Num>,
    pub euid: Option<Num>,
}

/// `es_file_t`.
#[derive(Deserialize)]
pub(crate) struct EsFile<'a> {
    #[serde(borrow)]
    pub path: Option<Text<'a>>,
}

/// The payload under `event`, by its key (the lower-case event name).
pub(crate) enum EsEvent<'a> {
    Exec(ExecEvent<'a>),
    Create(CreateEvent<'a>),
    Close(CloseEvent<'a>),
    Rename(RenameEvent<'a>),
    Write(WriteEvent<'a>),
    /// Any other event, by name.
    Other(Text<'a>),
    /// `event` was empty.
    Empty,
}

#[derive(Deserialize)]
pub(crate) struct ExecEvent<'a> {
    /// The new program.
    #[serde(borrow)]
    pub target: Option<EsProcess<'a>>,
    #[serde(borrow)]
    pub args: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    pub cwd: Option<EsFile<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct CreateEvent<'a> {
    pub destination_type: Option<Num>,
    #[serde(borrow)]
    pub destination: Option<Destination<'a>>,
}

/// A create or rename destination: an existing file (type 0), or a
/// directory and a name (type 1).
#[derive(Deserialize)]
pub(crate) struct Destination<'a> {
    #[serde(borrow)]
    pub existing_file: Option<EsFile<'a>>,
    #[serde(borrow)]
    pub new_path: Option<NewPath<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct NewPath<'a> {
    #[serde(borrow)]
    pub dir: Option<EsFile<'a>>,
    #[serde(borrow)]
    pub filename: Option<Text<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct CloseEvent<'a> {
    pub modified: Option<bool>,
    #[serde(borrow)]
    pub target: Option<EsFile<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct RenameEvent<'a> {
    #[serde(borrow)]
    pub source: Option<EsFile<'a>>,
    pub destination_type: Option<Num>,
    #[serde(borrow)]
    pub destination: Option<Destination<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct WriteEvent<'a> {
    #[serde(borrow)]
    pub target: Option<EsFile<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for EsEvent<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EsEvent<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object keyed by the event name")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EsEvent<'de>, A::Error> {
                let mut ev = EsEvent::Empty;
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    if !matches!(ev, EsEvent::Empty) {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    ev = match key.as_str() {
                        "exec" => EsEvent::Exec(map.next_value()?),
                        "create" => EsEvent::Create(map.next_value()?),
                        "close" => EsEvent::Close(map.next_value()?),
                        "rename" => EsEvent::Rename(map.next_value()?),
                        "write" => EsEvent::Write(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            EsEvent::Other(key)
                        }
                    };
                }
                Ok(ev)
            }
        }
        d.deserialize_map(V)
    }
}

/// `host`: a name, or Jamf's object with `hostname`.
pub(crate) struct EsHost<'a>(pub Option<Text<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for EsHost<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EsHost<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a host name or an object with hostname")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<EsHost<'de>, E> {
                Ok(EsHost(Some(Text(v.into()))))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EsHost<'de>, E> {
                Ok(EsHost(Some(Text(v.to_owned().into()))))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<EsHost<'de>, E> {
                Ok(EsHost(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EsHost<'de>, A::Error> {
                let mut name = None;
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    if key.as_str() == "hostname" {
                        name = map.next_value::<Option<Text<'de>>>()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(EsHost(name))
            }
        }
        d.deserialize_any(V)
    }
}
