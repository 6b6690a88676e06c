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
//! Records are deserialized in one pass by a map visitor that dispatches
//! each key: the few system keys, the nested Winlogbeat objects, event-data
//! names the mapping uses (borrowed, no copy unless escaped), and nothing
//! else (skipped without allocation).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

use super::fields::{EventData, FieldId};
use super::map::{Mapper, parse_ip};
use super::record::{Account, EcsFields, WinRecord};
use crate::json_records::JsonRecords;
use crate::json_scalar::{Num, Text};
use crate::{DecodeContext, Decoder, Format, Output, RecordPos};

/// Decoder for NXLog and Winlogbeat JSON.
pub struct WindowsJsonDecoder {
    mapper: Mapper,
    stream: JsonRecords,
}

impl WindowsJsonDecoder {
    pub fn new(ctx: &DecodeContext) -> Self {
        WindowsJsonDecoder {
            mapper: Mapper::new(ctx),
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
        self.stream.push(line, pos, out, &mut |bytes, pos, out| {
            let rec: JsonRecord = crate::json_records::parse(bytes)?;
            mapper.map(rec.0, bytes, pos, out);
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

/// A Windows JSON record of any of the three shapes.
pub(crate) struct JsonRecord<'a>(pub WinRecord<'a>);

impl<'de> Deserialize<'de> for JsonRecord<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RecordVisitor)
    }
}

fn text<'a>(t: Option<Text<'a>>) -> Option<Cow<'a, str>> {
    t.map(Text::into_cow).filter(|c| !c.is_empty())
}

fn num_text(n: Option<Num>) -> Option<Cow<'static, str>> {
    n.and_then(Num::get).map(|v| Cow::Owned(v.to_string()))
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = JsonRecord<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Windows event as a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut r = WinRecord::default();
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
                "winlog" => {
                    let w: Winlog<'de> = map.next_value()?;
                    r.computer = r.computer.or(text(w.computer_name));
                    r.channel = r.channel.or(text(w.channel));
                    r.provider = r.provider.or(text(w.provider_name));
                    r.event_id = r.event_id.or(text(w.event_id));
                    r.record_id = r.record_id.or(text(w.record_id));
                    r.time_created = r.time_created.or(text(w.time_created));
                    if let Some(data) = w.event_data {
                        r.data.absorb(data.0);
                    }
                }
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
        r.computer = r.computer.or(shipper_host);
        Ok(JsonRecord(r))
    }
}

fn take_dns<'a>(ecs: &mut EcsFields<'a>, d: EcsDns<'a>) {
    if let Some(q) = d.question {
        ecs.dns_question_name = text(q.name);
    }
    let mut push = |s: &str| {
        if let Some(ip) = parse_ip(s)
            && !ecs.answers.contains(&ip)
        {
            ecs.answers.push(ip);
        }
    };
    for a in d.answers.into_iter().flatten() {
        if let Some(data) = a.data {
            push(data.as_str());
        }
    }
    for ip in d.resolved_ip.into_iter().flatten() {
        push(ip.as_str());
    }
}

/// `winlog.event_data`: the same names as NXLog's top level.
struct DataMap<'a>(EventData<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for DataMap<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DataMap<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an event_data object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DataMap<'de>, A::Error> {
                let mut data = EventData::default();
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    match FieldId::from_name(key.as_str()) {
                        Some(f) => {
                            if let Some(v) = text(map.next_value()?) {
                                data.set(f, v);
                            }
                        }
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(DataMap(data))
            }
        }
        d.deserialize_map(V).map(|m| DataMap(m.0))
    }
}

#[derive(Deserialize)]
struct Winlog<'a> {
    #[serde(borrow)]
    channel: Option<Text<'a>>,
    #[serde(borrow)]
    computer_name: Option<Text<'a>>,
    #[serde(borrow)]
    provider_name: Option<Text<'a>>,
    #[serde(borrow)]
    event_id: Option<Text<'a>>,
    #[serde(borrow)]
    record_id: Option<Text<'a>>,
    #[serde(borrow)]
    time_created: Option<Text<'a>>,
    #[serde(borrow)]
    event_data: Option<DataMap<'a>>,
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
