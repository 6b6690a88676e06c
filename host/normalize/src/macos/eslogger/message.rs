//! The parts of an Endpoint Security message (`es_message_t`, as `eslogger`
//! prints it) that the mapping reads. Everything else (stat blocks,
//! environment, file descriptors, code-signing flags) is skipped by serde
//! without being kept.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::json_fields::{Fields, InPlace, OptionInPlace, element};
use crate::json_scalar::{Num, Text};

/// One message. Read in place by [`InPlace`]; every field is absent
/// until its key is met.
#[derive(Default)]
pub(crate) struct EsMessage<'a> {
    /// The process that caused the event (for exec: the image before exec).
    pub process: Option<EsProcess<'a>>,
    pub event: Option<EsEvent<'a>>,
    /// ISO 8601 with nanoseconds and `Z`.
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
    pub host: Option<EsHost<'a>>,
}

/// `es_process_t`.
#[derive(Default)]
pub(crate) struct EsProcess<'a> {
    pub audit_token: Option<AuditToken>,
    pub parent_audit_token: Option<AuditToken>,
    pub ppid: Option<Num>,
    pub original_ppid: Option<Num>,
    pub executable: Option<EsFile<'a>>,
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

/// Read in place by [`InPlace`].
#[derive(Default)]
pub(crate) struct ExecEvent<'a> {
    /// The new program.
    pub target: Option<EsProcess<'a>>,
    pub args: Option<Vec<Text<'a>>>,
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
                        "exec" => {
                            let mut exec = ExecEvent::default();
                            map.next_value_seed(InPlace(&mut exec))?;
                            EsEvent::Exec(exec)
                        }
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

// The `Fields` impls below let `InPlace` fill a message where it lies
// instead of building it in derived visitors and moving it out through
// each layer of return values (a message with an exec is most of a
// kilobyte). They behave as the derive did: exact keys, others skipped
// unparsed, a repeated key the duplicate-field error, an array read
// positionally.

const MESSAGE_FIELDS: &[&str] = &[
    "process",
    "event",
    "time",
    "mach_time",
    "seq_num",
    "global_seq_num",
    "glob_seq_num",
    "action_type",
    "host",
];

/// The index in [`MESSAGE_FIELDS`] of a key.
fn message_field(key: &str) -> Option<usize> {
    Some(match key {
        "process" => 0,
        "event" => 1,
        "time" => 2,
        "mach_time" => 3,
        "seq_num" => 4,
        "global_seq_num" => 5,
        "glob_seq_num" => 6,
        "action_type" => 7,
        "host" => 8,
        _ => return None,
    })
}

impl<'de> Fields<'de> for EsMessage<'de> {
    const NAME: &'static str = "EsMessage";
    const FIELDS: &'static [&'static str] = MESSAGE_FIELDS;

    fn field(key: &str) -> Option<usize> {
        message_field(key)
    }

    fn read_field<A: MapAccess<'de>>(&mut self, i: usize, map: &mut A) -> Result<(), A::Error> {
        let m = self;
        let slot = match i {
            0 => return map.next_value_seed(OptionInPlace(&mut m.process)),
            1 => {
                m.event = map.next_value()?;
                return Ok(());
            }
            2 => {
                m.time = map.next_value()?;
                return Ok(());
            }
            3 => &mut m.mach_time,
            4 => &mut m.seq_num,
            5 => &mut m.global_seq_num,
            6 => &mut m.glob_seq_num,
            7 => &mut m.action_type,
            _ => {
                m.host = map.next_value()?;
                return Ok(());
            }
        };
        *slot = map.next_value()?;
        Ok(())
    }

    fn read_seq<A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        const EXPECTED: &str = "struct EsMessage with 9 elements";
        let m = self;
        seq.next_element_seed(OptionInPlace(&mut m.process))?
            .ok_or_else(|| de::Error::invalid_length(0, &EXPECTED))?;
        m.event = element(&mut seq, 1, EXPECTED)?;
        m.time = element(&mut seq, 2, EXPECTED)?;
        for (i, slot) in [
            &mut m.mach_time,
            &mut m.seq_num,
            &mut m.global_seq_num,
            &mut m.glob_seq_num,
            &mut m.action_type,
        ]
        .into_iter()
        .enumerate()
        {
            *slot = element(&mut seq, 3 + i, EXPECTED)?;
        }
        m.host = element(&mut seq, 8, EXPECTED)?;
        Ok(())
    }
}

const PROCESS_FIELDS: &[&str] = &[
    "audit_token",
    "parent_audit_token",
    "ppid",
    "original_ppid",
    "executable",
    "signing_id",
];

/// The index in [`PROCESS_FIELDS`] of a key.
fn process_field(key: &str) -> Option<usize> {
    Some(match key {
        "audit_token" => 0,
        "parent_audit_token" => 1,
        "ppid" => 2,
        "original_ppid" => 3,
        "executable" => 4,
        "signing_id" => 5,
        _ => return None,
    })
}

impl<'de> Fields<'de> for EsProcess<'de> {
    const NAME: &'static str = "EsProcess";
    const FIELDS: &'static [&'static str] = PROCESS_FIELDS;

    fn field(key: &str) -> Option<usize> {
        process_field(key)
    }

    fn read_field<A: MapAccess<'de>>(&mut self, i: usize, map: &mut A) -> Result<(), A::Error> {
        let p = self;
        match i {
            0 => p.audit_token = map.next_value()?,
            1 => p.parent_audit_token = map.next_value()?,
            2 => p.ppid = map.next_value()?,
            3 => p.original_ppid = map.next_value()?,
            4 => p.executable = map.next_value()?,
            _ => p.signing_id = map.next_value()?,
        }
        Ok(())
    }

    fn read_seq<A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        const EXPECTED: &str = "struct EsProcess with 6 elements";
        let p = self;
        p.audit_token = element(&mut seq, 0, EXPECTED)?;
        p.parent_audit_token = element(&mut seq, 1, EXPECTED)?;
        p.ppid = element(&mut seq, 2, EXPECTED)?;
        p.original_ppid = element(&mut seq, 3, EXPECTED)?;
        p.executable = element(&mut seq, 4, EXPECTED)?;
        p.signing_id = element(&mut seq, 5, EXPECTED)?;
        Ok(())
    }
}

const EXEC_FIELDS: &[&str] = &["target", "args", "cwd"];

impl<'de> Fields<'de> for ExecEvent<'de> {
    const NAME: &'static str = "ExecEvent";
    const FIELDS: &'static [&'static str] = EXEC_FIELDS;

    fn field(key: &str) -> Option<usize> {
        Some(match key {
            "target" => 0,
            "args" => 1,
            "cwd" => 2,
            _ => return None,
        })
    }

    fn read_field<A: MapAccess<'de>>(&mut self, i: usize, map: &mut A) -> Result<(), A::Error> {
        match i {
            0 => map.next_value_seed(OptionInPlace(&mut self.target))?,
            1 => self.args = map.next_value()?,
            _ => self.cwd = map.next_value()?,
        }
        Ok(())
    }

    fn read_seq<A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        const EXPECTED: &str = "struct ExecEvent with 3 elements";
        let e = self;
        seq.next_element_seed(OptionInPlace(&mut e.target))?
            .ok_or_else(|| de::Error::invalid_length(0, &EXPECTED))?;
        e.args = element(&mut seq, 1, EXPECTED)?;
        e.cwd = element(&mut seq, 2, EXPECTED)?;
        Ok(())
    }
}
