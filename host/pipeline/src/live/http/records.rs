//! Request bodies to log records: each record becomes one line for the
//! input's decoder, with the host it came from.
//!
//! Shapes accepted (what Vector's `http` sink and Fluent Bit's `http`
//! output send):
//!
//! * a JSON array of records (Fluent Bit `format json`; Vector with
//!   `encoding.codec = "json"` and array framing);
//! * newline-delimited or concatenated JSON (Fluent Bit `json_lines` and
//!   `json_stream`; Vector `framing.method = "newline_delimited"`);
//! * raw text lines (`Content-Type: text/plain`; Vector
//!   `encoding.codec = "text"`).
//!
//! A record is a JSON string (the raw line), or an object. From an object
//! the raw line is the message field when there is one (`message` from
//! Vector, `log` from Fluent Bit's tail input) — except for a JSON format
//! whose records carry a `message` of their own (Winlogbeat), where it is
//! used only when it holds a JSON object as text — else the object itself.
//! Records whose text spans lines (a multi-line Windows XML event) are fed
//! line by line, as a file would be.

use serde_json::value::RawValue;

use dumpwatch_normalize::Format;

/// How records are taken from a body.
#[derive(Clone, Debug, Default)]
pub struct RecordRules {
    /// The field holding the raw line (`None`: `message`, then `log`).
    pub message_field: Option<String>,
    /// The field naming the record's host.
    pub host_field: Option<String>,
}

/// What a body holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Text,
}

/// One record problem (counted; the other records go on).
#[derive(Debug, PartialEq, Eq)]
pub struct RecordProblem {
    pub kind: &'static str,
    pub detail: String,
}

/// The records of a body, handed to `sink` as (host or "", line); a
/// record that cannot be used is reported to `problem`. `Err` when the
/// body as a whole is unusable (not JSON at all): nothing was handed on.
pub fn for_each_record(
    body: &[u8],
    kind: BodyKind,
    format: Format,
    rules: &RecordRules,
    sink: &mut dyn FnMut(&str, &[u8]),
    problem: &mut dyn FnMut(RecordProblem),
) -> Result<usize, String> {
    match kind {
        BodyKind::Text => {
            let mut n = 0;
            for line in body.split(|&b| b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                sink("", line);
                n += 1;
            }
            Ok(n)
        }
        BodyKind::Json => json_records(body, format, rules, sink, problem),
    }
}

fn json_records(
    body: &[u8],
    format: Format,
    rules: &RecordRules,
    sink: &mut dyn FnMut(&str, &[u8]),
    problem: &mut dyn FnMut(RecordProblem),
) -> Result<usize, String> {
    let trimmed = body.trim_ascii_start();
    if trimmed.is_empty() {
        return Ok(0);
    }
    let mut n = 0;
    if trimmed.first() == Some(&b'[') {
        let records: Vec<&RawValue> = serde_json::from_slice(trimmed)
            .map_err(|e| format!("the body is not a JSON array of records: {e}"))?;
        for r in records {
            record(r, format, rules, sink, problem);
            n += 1;
        }
        return Ok(n);
    }
    // Newline-delimited or concatenated values. After a broken value,
    // resume at the next line: one bad line of NDJSON costs one record.
    let mut rest = trimmed;
    let mut broken = 0usize;
    while !rest.is_empty() {
        let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<&RawValue>();
        let mut failed = None;
        for item in stream.by_ref() {
            match item {
                Ok(r) => {
                    record(r, format, rules, sink, problem);
                    n += 1;
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let Some(e) = failed else { break };
        let at = stream.byte_offset();
        broken += 1;
        problem(RecordProblem {
            kind: "invalid JSON",
            detail: format!("record {}: {e}", n + broken),
        });
        match memchr::memchr(b'\n', &rest[at.min(rest.len())..]) {
            Some(nl) => rest = rest[at + nl + 1..].trim_ascii_start(),
            None => break,
        }
    }
    if n == 0 && broken > 0 {
        return Err("the body holds no JSON record".into());
    }
    Ok(n)
}

/// Does this format read JSON records whose own fields include a
/// `message` (so a `message` string is not the raw line)?
fn message_is_a_field(format: Format) -> bool {
    matches!(format, Format::WindowsJson)
}

fn record(
    raw: &RawValue,
    format: Format,
    rules: &RecordRules,
    sink: &mut dyn FnMut(&str, &[u8]),
    problem: &mut dyn FnMut(RecordProblem),
) {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => match serde_json::from_str::<String>(text) {
            Ok(s) => lines(&s, "", sink),
            Err(e) => problem(RecordProblem {
                kind: "invalid JSON",
                detail: e.to_string(),
            }),
        },
        Some(b'{') => object(text, format, rules, sink, problem),
        _ => problem(RecordProblem {
            kind: "not a log record",
            detail: format!(
                "a record must be a JSON object or string, not {}",
                truncate(text, 40)
            ),
        }),
    }
}

fn object(
    text: &str,
    format: Format,
    rules: &RecordRules,
    sink: &mut dyn FnMut(&str, &[u8]),
    problem: &mut dyn FnMut(RecordProblem),
) {
    // Top-level fields only, values left raw: cheap for large records.
    let fields: std::collections::HashMap<std::borrow::Cow<'_, str>, &RawValue> =
        match serde_json::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                problem(RecordProblem {
                    kind: "invalid JSON",
                    detail: e.to_string(),
                });
                return;
            }
        };
    let string_field = |name: &str| -> Option<String> {
        let v = fields.get(name)?;
        serde_json::from_str::<String>(v.get()).ok()
    };
    let host = rules
        .host_field
        .as_deref()
        .and_then(string_field)
        .unwrap_or_default();
    let message = match &rules.message_field {
        Some(f) => match string_field(f) {
            Some(m) => Some(m),
            None => {
                problem(RecordProblem {
                    kind: "no message field",
                    detail: format!("the record has no string field {f:?}"),
                });
                return;
            }
        },
        None => ["message", "log"]
            .into_iter()
            .find_map(string_field)
            .filter(|m| !message_is_a_field(format) || m.trim_start().starts_with('{')),
    };
    match message {
        Some(m) => lines(&m, &host, sink),
        None if text.contains('\n') => {
            // A pretty-printed record: the decoders read one per line.
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) => sink(&host, v.to_string().as_bytes()),
                Err(e) => problem(RecordProblem {
                    kind: "invalid JSON",
                    detail: e.to_string(),
                }),
            }
        }
        None => sink(&host, text.as_bytes()),
    }
}

fn lines(text: &str, host: &str, sink: &mut dyn FnMut(&str, &[u8])) {
    for l in text.split('\n') {
        let l = l.strip_suffix('\r').unwrap_or(l);
        if !l.trim().is_empty() {
            sink(host, l.as_bytes());
        }
    }
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
