//! Zeek's ASCII (TSV) logs: `#` directives, then rows.
//!
//! The header names the separator (`#separator \x09`, escaped), the
//! set separator, the unset (`-`) and empty (`(empty)`) markers, the log
//! type (`#path`) and the columns (`#fields`). Columns vary by Zeek
//! version and site, so fields are found by name, never by position.
//! `zeek-cut`-style output has one bare header line (`ts<TAB>uid<TAB>…`)
//! and no directives; the log type is then inferred from the columns.
//! Values escape bytes as `\xNN`.

use std::borrow::Cow;

use super::record::{LogKind, Rec, Ts};

/// The record fields a column can fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Ts,
    Uid,
    OrigH,
    OrigP,
    RespH,
    RespP,
    Proto,
    Service,
    Duration,
    OrigBytes,
    RespBytes,
    OrigIpBytes,
    TransDepth,
    Method,
    Host,
    Uri,
    UserAgent,
    RequestBodyLen,
    ResponseBodyLen,
    StatusCode,
    ServerName,
    Query,
    TransId,
    Answers,
}

fn want_of(name: &str) -> Option<Want> {
    Some(match name {
        "ts" => Want::Ts,
        "uid" => Want::Uid,
        "id.orig_h" | "id_orig_h" => Want::OrigH,
        "id.orig_p" | "id_orig_p" => Want::OrigP,
        "id.resp_h" | "id_resp_h" => Want::RespH,
        "id.resp_p" | "id_resp_p" => Want::RespP,
        "proto" => Want::Proto,
        "service" => Want::Service,
        "duration" => Want::Duration,
        "orig_bytes" => Want::OrigBytes,
        "resp_bytes" => Want::RespBytes,
        "orig_ip_bytes" => Want::OrigIpBytes,
        "trans_depth" => Want::TransDepth,
        "method" => Want::Method,
        "host" => Want::Host,
        "uri" => Want::Uri,
        "user_agent" => Want::UserAgent,
        "request_body_len" => Want::RequestBodyLen,
        "response_body_len" => Want::ResponseBodyLen,
        "status_code" => Want::StatusCode,
        "server_name" => Want::ServerName,
        "query" => Want::Query,
        "trans_id" => Want::TransId,
        "answers" => Want::Answers,
        _ => return None,
    })
}

/// The header state of a TSV log.
pub(super) struct TsvHeader {
    sep: Vec<u8>,
    set_sep: Vec<u8>,
    empty: Vec<u8>,
    unset: Vec<u8>,
    path: Option<String>,
    /// What each column fills, by position.
    cols: Vec<Option<Want>>,
    names: Vec<String>,
    kind: LogKind,
}

impl Default for TsvHeader {
    fn default() -> Self {
        TsvHeader {
            sep: b"\t".to_vec(),
            set_sep: b",".to_vec(),
            empty: b"(empty)".to_vec(),
            unset: b"-".to_vec(),
            path: None,
            cols: Vec::new(),
            names: Vec::new(),
            kind: LogKind::Other,
        }
    }
}

/// Decode `\xNN` escapes (Zeek's escaping of separators and
/// non-printable bytes).
fn unescape(v: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\\', v).is_none() {
        return Cow::Borrowed(v);
    }
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\'
            && i + 3 < v.len()
            && v.get(i + 1) == Some(&b'x')
            && let Some(b) = std::str::from_utf8(&v[i + 2..i + 4])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 4;
            continue;
        }
        out.push(v[i]);
        i += 1;
    }
    Cow::Owned(out)
}

fn text(v: &[u8]) -> Cow<'_, str> {
    match unescape(v) {
        Cow::Borrowed(b) => String::from_utf8_lossy(b),
        Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
    }
}

fn num(v: &[u8]) -> Option<u64> {
    std::str::from_utf8(v).ok()?.parse().ok()
}

pub(super) fn parse_ts(v: &str) -> Ts {
    dumpwatch_event::time::parse_epoch_seconds(v)
        .or_else(|| dumpwatch_event::time::parse_datetime(v))
        .map_or(Ts::Invalid, Ts::At)
}

impl TsvHeader {
    /// The log type of the current section and its name.
    pub fn kind(&self) -> (LogKind, &str) {
        (self.kind, self.path.as_deref().unwrap_or("unknown log"))
    }

    /// Whether a `#fields` (or bare) header has been read.
    pub fn has_fields(&self) -> bool {
        !self.cols.is_empty()
    }

    /// Read a `#` directive line.
    pub fn directive(&mut self, line: &[u8]) {
        let body = &line[1..];
        if let Some(v) = body.strip_prefix(b"separator ") {
            // The first line of a log file: a new section starts, and
            // nothing of the previous header carries over.
            *self = TsvHeader::default();
            let v = unescape(v.trim_ascii()).into_owned();
            if !v.is_empty() {
                self.sep = v;
            }
            return;
        }
        let (name, value) = match memchr::memmem::find(body, &self.sep) {
            Some(i) => (&body[..i], &body[i + self.sep.len()..]),
            None => match memchr::memchr(b' ', body) {
                Some(i) => (&body[..i], &body[i + 1..]),
                None => (body, &body[..0]),
            },
        };
        match name {
            b"set_separator" => self.set_sep = unescape(value).into_owned(),
            b"empty_field" => self.empty = unescape(value).into_owned(),
            b"unset_field" => self.unset = unescape(value).into_owned(),
            b"path" => {
                let p = String::from_utf8_lossy(value).into_owned();
                self.kind = LogKind::from_path(&p);
                self.path = Some(p);
            }
            b"fields" => self.set_fields(value),
            _ => {}
        }
    }

    /// A bare header line (`ts<TAB>uid<TAB>…`) of zeek-cut output.
    pub fn is_bare_header(line: &[u8]) -> bool {
        line.starts_with(b"ts\t") && memchr::memmem::find(line, b"\tuid").is_some()
    }

    pub fn bare_header(&mut self, line: &[u8]) {
        *self = TsvHeader::default();
        self.set_fields(line);
    }

    fn set_fields(&mut self, value: &[u8]) {
        self.names = split(value, &self.sep)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        self.cols = self.names.iter().map(|n| want_of(n)).collect();
        if self.path.is_none() {
            let names = &self.names;
            self.kind = LogKind::infer(|f| names.iter().any(|n| n == f));
        }
    }

    /// Fill a record from a row.
    pub fn row<'a>(&self, line: &'a [u8]) -> Rec<'a> {
        let mut r = Rec::default();
        for (i, v) in split(line, &self.sep).enumerate() {
            let Some(Some(w)) = self.cols.get(i) else {
                continue;
            };
            if v == self.unset.as_slice() {
                if *w == Want::Ts {
                    r.ts = Some(Ts::Missing);
                }
                continue;
            }
            if v == self.empty.as_slice() {
                continue;
            }
            match w {
                Want::Ts => r.ts = Some(std::str::from_utf8(v).map_or(Ts::Invalid, parse_ts)),
                Want::Uid => r.uid = Some(text(v)),
                Want::OrigH => r.orig_h = std::str::from_utf8(v).ok().and_then(crate::ip::parse),
                Want::OrigP => r.orig_p = num(v).and_then(|n| u16::try_from(n).ok()),
                Want::RespH => r.resp_h = std::str::from_utf8(v).ok().and_then(crate::ip::parse),
                Want::RespP => r.resp_p = num(v).and_then(|n| u16::try_from(n).ok()),
                Want::Proto => r.proto = Some(text(v)),
                Want::Service => r.service = Some(text(v)),
                Want::Duration => {
                    r.duration = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok())
                }
                Want::OrigBytes => r.orig_bytes = num(v),
                Want::RespBytes => r.resp_bytes = num(v),
                Want::OrigIpBytes => r.orig_ip_bytes = num(v),
                Want::TransDepth => r.trans_depth = num(v),
                Want::Method => r.method = Some(text(v)),
                Want::Host => r.host = Some(text(v)),
                Want::Uri => r.uri = Some(text(v)),
                Want::UserAgent => r.user_agent = Some(text(v)),
                Want::RequestBodyLen => r.request_body_len = num(v),
                Want::ResponseBodyLen => r.response_body_len = num(v),
                Want::StatusCode => r.status_code = num(v),
                Want::ServerName => r.server_name = Some(text(v)),
                Want::Query => r.query = Some(text(v)),
                Want::TransId => r.trans_id = num(v),
                Want::Answers => r.answers = split(v, &self.set_sep).map(text).collect(),
            }
        }
        r
    }
}

/// Split on a separator of one or more bytes.
fn split<'a, 'b>(s: &'a [u8], sep: &'b [u8]) -> impl Iterator<Item = &'a [u8]> + use<'a, 'b> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        let found = if sep.len() == 1 {
            memchr::memchr(sep[0], r)
        } else {
            memchr::memmem::find(r, sep)
        };
        match found {
            Some(i) if !sep.is_empty() => {
                rest = Some(&r[i + sep.len()..]);
                Some(&r[..i])
            }
            _ => {
                rest = None;
                Some(r)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_splitting() {
        assert_eq!(unescape(br"a\x09b\x5c").as_ref(), b"a\tb\\");
        assert_eq!(unescape(br"bad\x0").as_ref(), br"bad\x0");
        assert_eq!(unescape(br"\xZZ").as_ref(), br"\xZZ");
        let parts: Vec<&[u8]> = split(b"a\tb\t\tc", b"\t").collect();
        assert_eq!(parts, vec![&b"a"[..], b"b", b"", b"c"]);
        let parts: Vec<&[u8]> = split(b"a::b", b"::").collect();
        assert_eq!(parts, vec![&b"a"[..], b"b"]);
    }
}
