//! What a request body is (content type) and how it is compressed
//! (content encoding): gzip (Vector, Fluent Bit), zstd (Vector), deflate
//! (zlib, Vector), or none. Decompression is bounded: a body that expands
//! past the limit is refused (413), so a small compressed bomb cannot
//! exhaust memory.

use std::io::Read;

use super::records::BodyKind;

/// A request the server refuses, with its status code.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: u16,
    /// Short reason, for counting.
    pub reason: &'static str,
    pub detail: String,
}

impl Refusal {
    pub fn new(code: u16, reason: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal {
            code,
            reason,
            detail: detail.into(),
        }
    }
}

/// How a body is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Zstd,
    Deflate,
}

/// Read `Content-Encoding`.
pub fn encoding(header: Option<&str>) -> Result<Encoding, Refusal> {
    let Some(h) = header else {
        return Ok(Encoding::Identity);
    };
    match h.trim().to_ascii_lowercase().as_str() {
        "" | "identity" => Ok(Encoding::Identity),
        "gzip" | "x-gzip" => Ok(Encoding::Gzip),
        "zstd" => Ok(Encoding::Zstd),
        "deflate" => Ok(Encoding::Deflate),
        other => Err(Refusal::new(
            415,
            "unsupported encoding",
            format!("Content-Encoding {other:?} is not supported (gzip, zstd, deflate or none)"),
        )),
    }
}

/// Read `Content-Type`: JSON of any flavour, or plain text lines. A
/// missing type is taken as JSON (the body's first byte decides).
pub fn kind(header: Option<&str>, body: &[u8]) -> Result<BodyKind, Refusal> {
    let Some(h) = header else {
        let first = body.trim_ascii_start().first();
        return Ok(match first {
            Some(b'[' | b'{' | b'"') => BodyKind::Json,
            _ => BodyKind::Text,
        });
    };
    let mime = h
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "application/json"
        | "application/x-ndjson"
        | "application/ndjson"
        | "application/jsonlines"
        | "application/x-jsonlines"
        | "application/json-lines"
        | "application/json-seq"
        | "application/stream+json" => Ok(BodyKind::Json),
        "text/plain" | "application/octet-stream" => Ok(BodyKind::Text),
        m if m.ends_with("+json") => Ok(BodyKind::Json),
        "application/msgpack" | "application/x-msgpack" => Err(Refusal::new(
            415,
            "unsupported content type",
            "MessagePack bodies are not read: set Fluent Bit's `Format json_lines` (or `json`)",
        )),
        other => Err(Refusal::new(
            415,
            "unsupported content type",
            format!(
                "Content-Type {other:?} is not read: send application/json, application/x-ndjson or text/plain"
            ),
        )),
    }
}

/// Decompress `body`, refusing anything that expands past `limit`.
pub fn decode(body: Vec<u8>, enc: Encoding, limit: usize) -> Result<Vec<u8>, Refusal> {
    let reader: Box<dyn Read + '_> = match enc {
        Encoding::Identity => return Ok(body),
        Encoding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(&body[..])),
        Encoding::Deflate => Box::new(flate2::read::ZlibDecoder::new(&body[..])),
        Encoding::Zstd => match zstd::stream::read::Decoder::new(&body[..]) {
            Ok(d) => Box::new(d),
            Err(e) => return Err(Refusal::new(400, "bad compression", format!("zstd: {e}"))),
        },
    };
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let read = reader.take(limit as u64 + 1).read_to_end(&mut out);
    match read {
        Ok(_) if out.len() > limit => Err(Refusal::new(
            413,
            "body too large",
            format!("the body expands past the {limit}-byte limit"),
        )),
        Ok(_) => Ok(out),
        Err(e) => Err(Refusal::new(
            400,
            "bad compression",
            format!("the body does not decompress as {enc:?}: {e}"),
        )),
    }
}
