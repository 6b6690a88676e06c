//! Windows events as JSON, one object per line (or pretty-printed, or in an
//! array: `json_stream` cuts the records out):
//!
//! * NXLog `im_msvistalog` flattened JSON: the event-data fields at top
//!   level beside `Hostname`, `Channel`, `SourceName`, `EventID` (a number),
//!   `RecordNumber`, `TimeCreated` / `@timestamp` / `EventTime` (the OTRF
//!   datasets are this shape);
//! * Winlogbeat, raw: `winlog.event_data.*`, `winlog.event_id` (a string in
//!   8.x, a number in 7.x), `winlog.computer_name`, `winlog.record_id`,
//!   `winlog.channel`, `@timestamp`;
//! * Winlogbeat after its modules or ingest pipelines moved key fields to
//!   ECS (`process.executable`, `file.path`, `destination.ip`,
//!   `dns.question.name`, `user.name` …): read field by field, so a record
//!   with some fields moved and some not is read whole.
//!
//! Records are read by the cursor of [`super::json_fast`] where it can, and
//! otherwise (a malformed record, a shape it leaves to serde) by serde.
//! The serde path deserializes a record in one pass by a map visitor that dispatches
//! each key: the few system keys, the nested Winlogbeat objects, event-data
//! names the mapping uses (borrowed, no copy unless escaped), and nothing
//! else (skipped without allocation). The visitors write into one
//! [`WinRecord`] the decoder owns (seeds, not returned values): the record
//! is over a kilobyte, and moving it through every layer of serde's return
//! values cost more than the mapping.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::fields::{EventData, FieldId};
use super::map::{Mapper, parse_ip};
use super::record::{Account, EcsFields, WinRecord};
use crate::json_cursor::KeyCache;
use crate::json_fields::Nullable;
use crate::json_records::JsonRecords;
use crate::json_scalar::{Num, Text};
use crate::{DecodeContext, Decoder, Format, Output, RecordPos};

/// Decoder for NXLog and Winlogbeat JSON.
pub struct WindowsJsonDecoder {
    mapper: Mapper,
    /// The records' top-level keys, for the fast path.
    keys: KeyCache,
    stream: JsonRecords,
}

impl WindowsJsonDecoder {
    pub fn new(ctx: &DecodeContext) -> Self {
        WindowsJsonDecoder {
            mapper: Mapper::new(ctx),
            keys: KeyCache::new(),
            stream: JsonRecords::new(),
        }
    }
}

impl Decoder for WindowsJsonDecoder {
    fn format(&self) -> Format {
        Format::WindowsJson
    }

    fn push(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        let mapper = &mut self.mapper;
        let keys = &mut self.keys;
        self.stream.push(line, pos, out, &mut |bytes, pos, out| {
            let mut rec = WinRecord::default();
            if !super::json_fast::read(keys, bytes, &mut rec) {
                // The cursor bailed: serde decides, and words any error.
                rec = WinRecord::default();
                serde_record(bytes, &mut rec)?;
            }
            mapper.map(&mut rec, bytes, pos, out);
            Ok(())
        });
    }

    fn finish(&mut self, out: &mut Output) {
        self.stream.finish(out);
    }

    fn oldest_pending(&self) -> Option<RecordPos> {
        self.stream.oldest_pending()
    }
}

/// Read a record through serde: the path of every record the cursor
/// leaves (and the one that words errors).
pub(super) fn serde_record<'a>(
    bytes: &'a [u8],
    rec: &mut WinRecord<'a>,
) -> Result<(), serde_json::Error> {
    crate::json_records::parse_seed(bytes, RecordSeed(rec))
}

/// Reads a Windows JSON record of any of the three shapes into the
/// record it holds.
struct RecordSeed<'r, 'a>(&'r mut WinRecord<'a>);

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

fn text<'a>(t: Option<Text<'a>>) -> Option<Cow<'a, str>> {
    t.map(Text::into_cow).filter(|c| !c.is_empty())
}

fn num_text(n: Option<Num>) -> Option<Cow<'static, str>> {
    n.and_then(Num::get).map(|v| Cow::Owned(v.to_string()))
}

impl<'de> Visitor<'de> for RecordSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Windows event as a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let r = self.0;
        let mut shipper_host = None;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.as_str() {
                // NXLog system fields.
                "Hostname" => r.computer = text(map.next_value()?),
                "Channel" => r.channel = text(map.next_value()?),
                "SourceName" | "ProviderName" => r.provider = text(map.next_value()?),
                "EventID" => r.event_id = text(map.next_value()?),
                "RecordNumber" | "EventRecordID" => r.record_id = text(map.next_value()?),
                "TimeCreated" => r.time_created = text(map.next_value()?),
                "EventTime" => r.event_time = text(map.next_value()?),
                // Shared by every shipper.
                "@timestamp" => r.timestamp = text(map.next_value()?),
                // Winlogbeat.
                "winlog" => map.next_value_seed(WinlogSeed(&mut *r))?,
                "process" => {
                    let p: EcsProcess<'de> = map.next_value()?;
                    let e = &mut r.ecs;
                    e.process_executable = text(p.executable);
                    e.process_command_line = text(p.command_line);
                    e.process_pid = num_text(p.pid);
                    e.process_entity_id = text(p.entity_id);
                    e.process_working_directory = text(p.working_directory);
                    if let Some(parent) = p.parent {
                        e.parent_executable = text(parent.executable);
                        e.parent_pid = num_text(parent.pid);
                        e.parent_entity_id = text(parent.entity_id);
                    }
                }
                "file" => r.ecs.file_path = text(map.next_value::<EcsFile>()?.path),
                "source" => {
                    let s: EcsEndpoint<'de> = map.next_value()?;
                    r.ecs.source_ip = text(s.ip);
                    r.ecs.source_port = num_text(s.port);
                }
                "destination" => {
                    let s: EcsEndpoint<'de> = map.next_value()?;
                    r.ecs.destination_ip = text(s.ip);
                    r.ecs.destination_port = num_text(s.port);
                    r.ecs.destination_domain = text(s.domain);
                }
                "network" => {
                    r.ecs.network_transport = text(map.next_value::<EcsNetwork>()?.transport)
                }
                "dns" => {
                    let d: EcsDns<'de> = map.next_value()?;
                    take_dns(&mut r.ecs, d);
                }
                "user" => {
                    let u: EcsUser<'de> = map.next_value()?;
                    r.ecs.user = Account {
                        name: text(u.name),
                        domain: text(u.domain),
                    };
                }
                // The shipper's host: the event's computer unless the
                // event says otherwise (forwarded events do).
                "host" => {
                    let h: EcsHost<'de> = map.next_value()?;
                    shipper_host = text(h.hostname).or(text(h.name));
                }
                // NXLog event-data fields at top level.
                other => match FieldId::from_name(other) {
                    Some(f) => {
                        if let Some(v) = text(map.next_value()?) {
                            r.data.set(f, v);
                        }
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                },
            }
        }
        if r.computer.is_none() {
            r.computer = shipper_host;
        }
        Ok(())
    }
}

fn take_dns<'a>(ecs: &mut EcsFields<'a>, d: EcsDns<'a>) {
    if let Some(q) = d.question {
        ecs.dns_question_name = text(q.name);
    }
    for a in d.answers.into_iter().flatten() {
        if let Some(data) = a.data {
            add_answer(ecs, data.as_str());
        }
    }
    for ip in d.resolved_ip.into_iter().flatten() {
        add_answer(ecs, ip.as_str());
    }
}

/// Keep a DNS answer that is an address, once.
pub(super) fn add_answer(ecs: &mut EcsFields<'_>, s: &str) {
    if let Some(ip) = parse_ip(s)
        && !ecs.answers.contains(&ip)
    {
        ecs.answers.push(ip);
    }
}

/// `winlog`: the system fields (where the top level has none) and
/// `event_data`, read like the derived struct it replaces (`Option` fields,
/// unknown keys skipped, a repeated key an error, the array form by
/// position), but writing into the record.
struct WinlogSeed<'r, 'a>(&'r mut WinRecord<'a>);

/// `winlog`'s fields, in declaration order (the array form's order):
/// the six system fields, then `event_data`.
pub(super) const WINLOG_FIELDS: &[&str] = &[
    "channel",
    "computer_name",
    "provider_name",
    "event_id",
    "record_id",
    "time_created",
    "event_data",
];

/// The system fields of `winlog`, as read.
#[derive(Default)]
struct WinlogSystem<'a> {
    channel: Option<Option<Text<'a>>>,
    computer_name: Option<Option<Text<'a>>>,
    provider_name: Option<Option<Text<'a>>>,
    event_id: Option<Option<Text<'a>>>,
    record_id: Option<Option<Text<'a>>>,
    time_created: Option<Option<Text<'a>>>,
}

impl<'a> WinlogSystem<'a> {
    /// Fill the record's system fields it lacks.
    fn apply(self, r: &mut WinRecord<'a>) {
        let or = |slot: &mut Option<Cow<'a, str>>, v: Option<Option<Text<'a>>>| {
            if slot.is_none() {
                *slot = text(v.flatten());
            }
        };
        or(&mut r.computer, self.computer_name);
        or(&mut r.channel, self.channel);
        or(&mut r.provider, self.provider_name);
        or(&mut r.event_id, self.event_id);
        or(&mut r.record_id, self.record_id);
        or(&mut r.time_created, self.time_created);
    }
}

impl<'de> DeserializeSeed<'de> for WinlogSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("Winlog", WINLOG_FIELDS, self)
    }
}

impl<'de> Visitor<'de> for WinlogSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct Winlog")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let r = self.0;
        let mut sys = WinlogSystem::default();
        let mut seen_data = false;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let slot = match key.as_str() {
                "channel" => &mut sys.channel,
                "computer_name" => &mut sys.computer_name,
                "provider_name" => &mut sys.provider_name,
                "event_id" => &mut sys.event_id,
                "record_id" => &mut sys.record_id,
                "time_created" => &mut sys.time_created,
                "event_data" => {
                    if std::mem::replace(&mut seen_data, true) {
                        return Err(de::Error::duplicate_field("event_data"));
                    }
                    map.next_value_seed(event_data(&mut r.data))?;
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if slot.is_some() {
                let name = WINLOG_FIELDS
                    .iter()
                    .find(|n| **n == key.as_str())
                    .copied()
                    .unwrap_or("winlog field");
                return Err(de::Error::duplicate_field(name));
            }
            *slot = Some(map.next_value()?);
        }
        sys.apply(r);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let r = self.0;
        let mut sys = WinlogSystem::default();
        let slots = [
            &mut sys.channel,
            &mut sys.computer_name,
            &mut sys.provider_name,
            &mut sys.event_id,
            &mut sys.record_id,
            &mut sys.time_created,
        ];
        for (i, slot) in slots.into_iter().enumerate() {
            match seq.next_element()? {
                Some(v) => *slot = Some(v),
                None => {
                    return Err(de::Error::invalid_length(
                        i,
                        &"struct Winlog with 7 elements",
                    ));
                }
            }
        }
        if seq.next_element_seed(event_data(&mut r.data))?.is_none() {
            return Err(de::Error::invalid_length(
                6,
                &"struct Winlog with 7 elements",
            ));
        }
        sys.apply(r);
        Ok(())
    }
}

/// `winlog.event_data` (or `null`): the same names as NXLog's top level,
/// stored in the record's event data as they come.
fn event_data<'r, 'a>(data: &'r mut EventData<'a>) -> Nullable<DataMap<'r, 'a>> {
    Nullable(DataMap(data))
}

/// The `event_data` object itself.
struct DataMap<'r, 'a>(&'r mut EventData<'a>);

impl<'de> DeserializeSeed<'de> for DataMap<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataMap<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event_data object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match FieldId::from_name(key.as_str()) {
                Some(f) => {
                    if let Some(v) = text(map.next_value()?) {
                        self.0.set(f, v);
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct EcsProcess<'a> {
    #[serde(borrow)]
    executable: Option<Text<'a>>,
    #[serde(borrow)]
    command_line: Option<Text<'a>>,
    pid: Option<Num>,
    #[serde(borrow)]
    entity_id: Option<Text<'a>>,
    #[serde(borrow)]
    working_directory: Option<Text<'a>>,
    #[serde(borrow)]
    parent: Option<EcsParent<'a>>,
}

#[derive(Deserialize)]
struct EcsParent<'a> {
    #[serde(borrow)]
    executable: Option<Text<'a>>,
    pid: Option<Num>,
    #[serde(borrow)]
    entity_id: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct EcsFile<'a> {
    #[serde(borrow)]
    path: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct EcsEndpoint<'a> {
    #[serde(borrow)]
    ip: Option<Text<'a>>,
    port: Option<Num>,
    #[serde(borrow)]
    domain: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct EcsNetwork<'a> {
    #[serde(borrow)]
    transport: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct EcsDns<'a> {
    #[serde(borrow)]
    question: Option<EcsQuestion<'a>>,
    #[serde(borrow)]
    answers: Option<Vec<EcsAnswer<'a>>>,
    #[serde(borrow)]
    resolved_ip: Option<Vec<Text<'a>>>,
}

#[derive(Deserialize)]
struct EcsQuestion<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct EcsAnswer<'a> {
    #[serde(borrow)]
    data: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct EcsUser<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    domain: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct EcsHost<'a> {
    #[serde(borrow)]
    hostname: Option<Text<'a>>,
    #[serde(borrow)]
    name: Option<Text<'a>>,
}
