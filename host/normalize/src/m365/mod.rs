//! Microsoft 365 unified audit log records to `file_access` events.
//!
//! One format for both shapes the records come in: the Office 365
//! Management Activity API's (content blobs are JSON arrays; forwarders
//! write one record per line) and the Sentinel `OfficeActivity` table's,
//! which renames columns (`TimeGenerated`, `OfficeId`, `OfficeObjectId`,
//! `OfficeWorkload`, `Site_Url`, `Client_IPAddress`) and stringifies
//! numbers. They describe the same events, so one decoder reads both and
//! tells them apart per record, by field name. SharePoint and OneDrive file
//! operations (every `File…` operation: FileDownloaded,
//! FileSyncDownloadedFull/Partial, FileAccessed, FileUploaded, FileModified
//! …) become events; every other operation is skipped, counted by name.
//! `docs/formats/saas.md` has the mapping.

mod record;

use dumpwatch_event::time::parse_datetime;
use dumpwatch_event::{Activity, Actor, Device, Event, FileAccess};

use crate::json_stream::{JsonRecord, JsonStream};
use crate::{DecodeContext, Decoder, Format, Output, RecordPos};
use record::{UalRecord, text};

/// The event's `source`.
const SOURCE: &str = "m365";

/// Recognise audit records from the first bytes: JSON holding `Operation`
/// and either `CreationTime` with `Workload` or `RecordType` (API), or
/// `OfficeWorkload`/`OfficeId` (OfficeActivity).
pub(crate) fn sniff(sample: &[u8]) -> bool {
    if !matches!(sample.first(), Some(b'{' | b'[')) {
        return false;
    }
    let head = &sample[..sample.len().min(16 * 1024)];
    let has = |k: &str| memchr::memmem::find(head, k.as_bytes()).is_some();
    has("\"Operation\"")
        && ((has("\"CreationTime\"") && (has("\"Workload\"") || has("\"RecordType\"")))
            || has("\"OfficeWorkload\"")
            || has("\"OfficeId\""))
}

/// Is `op` a SharePoint/OneDrive file operation (`File` then a capital)?
fn is_file_operation(op: &str) -> bool {
    op.strip_prefix("File")
        .and_then(|rest| rest.bytes().next())
        .is_some_and(|b| b.is_ascii_uppercase())
}

/// Streaming M365 audit decoder.
pub struct M365Decoder {
    stream: JsonStream,
}

impl M365Decoder {
    pub fn new(_ctx: &DecodeContext) -> Self {
        M365Decoder {
            stream: JsonStream::new(None),
        }
    }
}

/// An audit record read from JSON.
struct AuditRecord;

impl JsonRecord for AuditRecord {
    type Record<'de> = UalRecord<'de>;

    fn read<'de, D: serde::Deserializer<'de>>(
        d: D,
        rec: &mut UalRecord<'de>,
    ) -> Result<(), D::Error> {
        serde::de::DeserializeSeed::deserialize(crate::json_fields::InPlace(rec), d)
    }

    fn emit(rec: &mut UalRecord<'_>, pos: RecordPos, out: &mut Output) {
        emit(rec, pos, out);
    }
}

fn emit(rec: &UalRecord<'_>, pos: RecordPos, out: &mut Output) {
    let Some(operation) = text(&rec.operation) else {
        out.error(pos, "missing field", "no Operation");
        return;
    };
    if !is_file_operation(operation) {
        // Counted by name; a value that is not an operation name is not
        // allowed to grow the table of skip kinds with arbitrary text.
        let plausible =
            operation.len() <= 64 && operation.bytes().all(|b| b.is_ascii_alphanumeric());
        out.skip(if plausible {
            operation
        } else {
            "unrecognised operation"
        });
        return;
    }
    let Some((field, time_text)) = rec.time() else {
        out.error(pos, "missing time", "no CreationTime or TimeGenerated");
        return;
    };
    let Some(time) = parse_datetime(time_text) else {
        out.error(pos, "invalid time", format!("{field} {time_text:?}"));
        return;
    };
    let Some(id) = rec.id() else {
        out.error(pos, "missing field", "no Id or OfficeId");
        return;
    };
    let owned = |s: Option<&str>| s.map(str::to_owned);
    out.event(Event {
        time,
        source: SOURCE,
        id: id.to_owned(),
        device: Device {
            domain: owned(rec.organization()),
            ..Default::default()
        },
        actor: Actor {
            user: owned(text(&rec.user_id)),
            identity_type: rec.user_type.as_ref().map(|t| t.0.clone().into_owned()),
            ..Default::default()
        },
        process: None,
        activity: Activity::FileAccess(FileAccess {
            operation: operation.to_owned(),
            path: owned(rec.object()),
            name: owned(text(&rec.source_file_name)),
            site: owned(rec.site()),
            workload: owned(rec.workload()),
            client_ip: owned(rec.client_ip()),
            user_agent: owned(text(&rec.user_agent)),
            application: owned(rec.application()),
        }),
    });
}

impl Decoder for M365Decoder {
    fn format(&self) -> Format {
        Format::M365
    }

    fn push(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        self.stream.push::<AuditRecord>(line, pos, out);
    }

    fn finish(&mut self, out: &mut Output) {
        self.stream.finish(out);
    }

    fn oldest_pending(&self) -> Option<RecordPos> {
        self.stream.oldest_pending()
    }
}

#[cfg(test)]
mod tests;
