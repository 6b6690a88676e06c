//! AWS CloudTrail records to `cloud_api` events.
//!
//! Accepts the S3 delivery form (`{"Records":[…]}`, one line or
//! pretty-printed), single records (pretty-printed or not), one record per
//! line as forwarders write them (with extras such as `@timestamp`), and
//! arrays of records; [`crate::json_stream`] finds the records, each record
//! of an envelope counts on its own. `docs/formats/aws.md` has the field
//! mapping; in short: provider `aws`, service = eventSource, operation =
//! eventName, time = eventTime, id = eventID, the identity in the actor,
//! the account in `device.domain`, every scalar request parameter, and per
//! service the resource (RDS Data API cluster, RDS snapshot or export
//! source, S3 object) and S3 byte counts.

mod map;
mod params;
mod record;

use crate::json_cursor::{Cursor, Fast, KeyCache};
use crate::json_stream::{JsonRecord, JsonStream};
use crate::{DecodeContext, Decoder, Format, Output, RecordPos};

/// Recognise CloudTrail from the first bytes of an input: a JSON value
/// with `eventVersion`, `eventSource` and `eventName`, or the envelope.
pub(crate) fn sniff(sample: &[u8]) -> bool {
    let Some(&first) = sample.first() else {
        return false;
    };
    if first != b'{' && first != b'[' {
        return false;
    }
    let head = &sample[..sample.len().min(16 * 1024)];
    if head[1..].trim_ascii_start().starts_with(b"\"Records\"") {
        return true;
    }
    ["\"eventVersion\"", "\"eventSource\"", "\"eventName\""]
        .iter()
        .all(|k| memchr::memmem::find(head, k.as_bytes()).is_some())
}

/// Streaming CloudTrail decoder.
pub struct CloudTrailDecoder {
    stream: JsonStream,
}

impl CloudTrailDecoder {
    pub fn new(_ctx: &DecodeContext) -> Self {
        CloudTrailDecoder {
            stream: JsonStream::new(Some("Records")),
        }
    }
}

/// A CloudTrail record read from JSON.
struct CloudTrailRecord;

impl JsonRecord for CloudTrailRecord {
    type Record<'de> = record::Record<'de>;

    fn read<'de, D: serde::Deserializer<'de>>(
        d: D,
        rec: &mut record::Record<'de>,
    ) -> Result<(), D::Error> {
        serde::de::DeserializeSeed::deserialize(crate::json_fields::InPlace(rec), d)
    }

    fn emit(rec: &mut record::Record<'_>, pos: RecordPos, out: &mut Output) {
        map::map(rec, pos, out);
    }

    const FAST: bool = true;

    fn read_fast<'a>(
        c: &mut Cursor<'a>,
        keys: &mut KeyCache,
        rec: &mut record::Record<'a>,
    ) -> Fast<()> {
        record::read_fast(c, keys, rec)
    }
}

impl Decoder for CloudTrailDecoder {
    fn format(&self) -> Format {
        Format::CloudTrail
    }

    fn push(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        self.stream.push::<CloudTrailRecord>(line, pos, out);
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
