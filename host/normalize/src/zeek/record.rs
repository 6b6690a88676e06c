//! One Zeek log record, whatever its encoding, and its event.
//!
//! The TSV and JSON readers fill a [`Rec`] with the fields dumpwatch uses;
//! [`to_event`] maps conn, http, ssl and dns records to events and names
//! every other log type as a skip.

use std::borrow::Cow;
use std::net::IpAddr;

use dumpwatch_event::{
    Activity, Endpoint, Event, HttpRequest, NameKind, NetworkFlow, NetworkName, Timestamp,
};

use crate::{Output, RecordPos};

/// The log a record belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LogKind {
    Conn,
    Http,
    Ssl,
    Dns,
    Other,
}

impl LogKind {
    pub fn from_path(p: &str) -> LogKind {
        match p {
            "conn" => LogKind::Conn,
            "http" => LogKind::Http,
            "ssl" => LogKind::Ssl,
            "dns" => LogKind::Dns,
            _ => LogKind::Other,
        }
    }

    /// Guess a log type from the field names a record has (bare TSV
    /// headers and JSON without `_path`/`@stream`).
    pub fn infer(has: impl Fn(&str) -> bool) -> LogKind {
        if has("method") || has("trans_depth") && has("uri") {
            LogKind::Http
        } else if has("server_name") || has("cipher") {
            LogKind::Ssl
        } else if has("query") || has("qtype_name") {
            LogKind::Dns
        } else if has("conn_state") || has("orig_ip_bytes") || has("history") {
            LogKind::Conn
        } else {
            LogKind::Other
        }
    }
}

/// The time of a record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Ts {
    Missing,
    /// Present but not a time (`XXXXXXXXXX.XXXXXX` in btest baselines).
    Invalid,
    At(Timestamp),
}

/// The fields of a record dumpwatch uses.
#[derive(Debug, Default)]
pub(super) struct Rec<'a> {
    pub ts: Option<Ts>,
    pub uid: Option<Cow<'a, str>>,
    pub orig_h: Option<IpAddr>,
    pub orig_p: Option<u16>,
    pub resp_h: Option<IpAddr>,
    pub resp_p: Option<u16>,
    pub proto: Option<Cow<'a, str>>,
    pub service: Option<Cow<'a, str>>,
    pub duration: Option<f64>,
    pub orig_bytes: Option<u64>,
    pub resp_bytes: Option<u64>,
    pub orig_ip_bytes: Option<u64>,
    pub trans_depth: Option<u64>,
    pub method: Option<Cow<'a, str>>,
    pub host: Option<Cow<'a, str>>,
    pub uri: Option<Cow<'a, str>>,
    pub user_agent: Option<Cow<'a, str>>,
    pub request_body_len: Option<u64>,
    pub response_body_len: Option<u64>,
    pub status_code: Option<u64>,
    pub server_name: Option<Cow<'a, str>>,
    pub query: Option<Cow<'a, str>>,
    pub trans_id: Option<u64>,
    pub answers: Vec<Cow<'a, str>>,
}

fn protocol_number(p: &str) -> Option<u8> {
    match p {
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        _ => p.parse().ok(),
    }
}

fn non_empty(v: &Option<Cow<'_, str>>) -> Option<String> {
    v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Map a record of a used log (conn, http, ssl, dns; the caller skips
/// the others by name) into `out`: an event, a skip or an error. The event
/// goes straight into `out` (no boxed or returned copy of it on the way).
/// `uid:n`, written at its final size (`format!` grew it for every event).
fn numbered(uid: &str, n: u64) -> String {
    let mut digits = itoa::Buffer::new();
    let n = digits.format(n);
    let mut id = String::with_capacity(uid.len() + 1 + n.len());
    id.push_str(uid);
    id.push(':');
    id.push_str(n);
    id
}

pub(super) fn to_event(kind: LogKind, r: &Rec<'_>, pos: RecordPos, out: &mut Output) {
    match kind {
        LogKind::Ssl if r.server_name.as_deref().is_none_or(str::is_empty) => {
            return out.skip("ssl:no server name");
        }
        LogKind::Http if r.method.as_deref().is_none_or(str::is_empty) => {
            return out.skip("http:no method");
        }
        LogKind::Dns if r.query.as_deref().is_none_or(str::is_empty) => {
            return out.skip("dns:no query");
        }
        _ => {}
    }
    let time = match r.ts {
        Some(Ts::At(t)) => t,
        Some(Ts::Invalid) => return out.error(pos, "missing time", "ts is not a time"),
        Some(Ts::Missing) | None => return out.error(pos, "missing time", "no ts field"),
    };
    let uid = r.uid.as_deref().unwrap_or("");
    let src = Endpoint {
        ip: r.orig_h,
        port: r.orig_p,
        hostname: None,
    };
    let dst = Endpoint {
        ip: r.resp_h,
        port: r.resp_p,
        hostname: None,
    };
    let (id, activity) = match kind {
        LogKind::Conn => {
            // orig_bytes comes from TCP sequence numbers and is 0 on
            // one-sided captures; IP-level bytes are the fallback.
            let bytes_out = match r.orig_bytes {
                Some(n) if n > 0 => Some(n),
                _ => r.orig_ip_bytes.or(r.orig_bytes),
            };
            let end_time = r
                .duration
                .filter(|d| d.is_finite() && *d >= 0.0 && *d < 1e9)
                .map(|d| time + (d * 1000.0).round() as i64);
            (
                uid.to_owned(),
                Activity::Network(NetworkFlow {
                    src,
                    dst,
                    protocol: r.proto.as_deref().and_then(protocol_number),
                    app_protocol: non_empty(&r.service),
                    bytes_out,
                    bytes_in: r.resp_bytes,
                    end_time,
                    ..Default::default()
                }),
            )
        }
        LogKind::Http => (
            numbered(uid, r.trans_depth.unwrap_or(0)),
            Activity::Http(HttpRequest {
                src,
                dst,
                method: r.method.as_deref().unwrap_or("").to_ascii_uppercase(),
                host: non_empty(&r.host),
                uri: non_empty(&r.uri),
                user_agent: non_empty(&r.user_agent),
                request_bytes: r.request_body_len,
                response_bytes: r.response_body_len,
                status: r.status_code.and_then(|s| u16::try_from(s).ok()),
            }),
        ),
        LogKind::Ssl => (
            uid.to_owned(),
            Activity::Name(NetworkName {
                kind: NameKind::TlsServerName,
                name: r.server_name.as_deref().unwrap_or("").to_owned(),
                src,
                dst,
                answers: Vec::new(),
            }),
        ),
        // `Other` never gets here (see the doc comment).
        LogKind::Dns | LogKind::Other => (
            numbered(uid, r.trans_id.unwrap_or(0)),
            Activity::Name(NetworkName {
                kind: NameKind::DnsQuery,
                name: r.query.as_deref().unwrap_or("").to_owned(),
                src,
                dst,
                answers: r.answers.iter().filter_map(|a| a.parse().ok()).collect(),
            }),
        ),
    };
    out.event(Event {
        time,
        source: "zeek",
        id,
        device: Default::default(),
        actor: Default::default(),
        process: None,
        activity,
    });
}
