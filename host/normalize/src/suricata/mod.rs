//! Suricata eve.json to events: `http` → http, `tls` → name (SNI),
//! `flow` → network, `fileinfo` carrying HTTP metadata → http, `dns`
//! queries → name. Every other event type (alert, stats, ldap, …) is
//! skipped by its `event_type`; `stats` records are stamped at write time
//! and never reach event-time tracking.
//!
//! DNS queries wait up to [`DNS_WINDOW`] records for their answer records
//! (same `flow_id` and DNS id) so the event carries the answered
//! addresses; answer records themselves are counted as skipped
//! (`dns:answer`). See `docs/formats/nsm.md` for the field mapping.

mod eve;
mod eve_fast;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::LazyLock;

use dumpwatch_event::{
    Activity, Endpoint, Event, HttpRequest, NameKind, NetworkFlow, NetworkName, time,
};
use memchr::memmem;

use crate::json_cursor::{self, KeyCache};
use crate::{DecodeContext, Decoder, Format, Output, RecordPos};

use eve::Eve;

/// A DNS query is completed once this many later records have come
/// without more answers for it.
pub const DNS_WINDOW: u64 = 64;
/// Most DNS queries waiting at once.
const MAX_PENDING_DNS: usize = 4096;

/// Whether a sample looks like eve.json.
pub(crate) fn sniff(sample: &[u8]) -> bool {
    sample
        .split(|&c| c == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .take(20)
        .any(|l| {
            l.first() == Some(&b'{')
                && memchr::memmem::find(l, b"\"event_type\":").is_some()
                && memchr::memmem::find(l, b"\"timestamp\":").is_some()
        })
}

/// A DNS query waiting for its answers.
struct PendingDns {
    flow_id: u64,
    dns_id: u64,
    pos: RecordPos,
    last_seq: u64,
    event: Event,
}

/// The eve.json decoder.
#[derive(Default)]
pub struct SuricataDecoder {
    /// Oldest first: queries expire from the front, so a deque takes them
    /// out without moving the rest (each holds a whole event).
    pending: VecDeque<PendingDns>,
    seq: u64,
    /// The records' top-level keys, for the fast path.
    keys: KeyCache,
}

impl SuricataDecoder {
    pub fn new(_ctx: &DecodeContext) -> Self {
        SuricataDecoder::default()
    }

    fn close_stale(&mut self, out: &mut Output) {
        let seq = self.seq;
        let mut i = 0;
        while i < self.pending.len() {
            if seq - self.pending[i].last_seq > DNS_WINDOW || self.pending.len() > MAX_PENDING_DNS {
                let Some(p) = self.pending.remove(i) else {
                    break;
                };
                out.event(p.event);
            } else {
                i += 1;
            }
        }
    }

    fn dns(&mut self, e: &Eve<'_>, time: i64, pos: RecordPos, out: &mut Output) {
        let Some(dns) = e.dns.as_ref() else {
            out.error(pos, "missing field", "dns record without dns object");
            return;
        };
        let flow_id = e.flow_id.unwrap_or(0);
        let dns_id = dns.id.unwrap_or(0);
        let addrs = || -> Vec<IpAddr> {
            let mut v: Vec<IpAddr> = dns
                .rdata
                .as_deref()
                .and_then(|r| r.parse().ok())
                .into_iter()
                .collect();
            if let Some(ans) = &dns.answers {
                v.extend(
                    ans.iter()
                        .filter_map(|a| a.rdata.as_deref()?.parse::<IpAddr>().ok()),
                );
            }
            v
        };
        match dns.kind.as_deref() {
            Some("query") | Some("request") => {
                let name = dns
                    .rrname
                    .as_deref()
                    .or_else(|| dns.queries.as_ref()?.first()?.rrname.as_deref());
                let Some(name) = name.filter(|n| !n.is_empty()) else {
                    out.skip("dns:no query name");
                    return;
                };
                let tx = dns.tx_id.or(e.tx_id).unwrap_or(dns_id);
                let event = Event {
                    time,
                    source: "suricata",
                    id: event_id(flow_id, "dns", &[tx]),
                    device: Default::default(),
                    actor: Default::default(),
                    process: None,
                    activity: Activity::Name(NetworkName {
                        kind: NameKind::DnsQuery,
                        name: name.to_owned(),
                        src: endpoint(&e.src_ip, e.src_port),
                        dst: endpoint(&e.dest_ip, e.dest_port),
                        answers: Vec::new(),
                    }),
                };
                self.pending.push_back(PendingDns {
                    flow_id,
                    dns_id,
                    pos,
                    last_seq: self.seq,
                    event,
                });
            }
            _ => {
                // An answer (v1, v2) or response (v3): fill the query.
                if let Some(p) = self
                    .pending
                    .iter_mut()
                    .rev()
                    .find(|p| p.flow_id == flow_id && p.dns_id == dns_id)
                {
                    p.last_seq = self.seq;
                    if let Activity::Name(n) = &mut p.event.activity {
                        for a in addrs() {
                            if !n.answers.contains(&a) {
                                n.answers.push(a);
                            }
                        }
                    }
                }
                out.skip("dns:answer");
            }
        }
    }
}

fn is_used(event_type: &str) -> bool {
    matches!(event_type, "http" | "tls" | "flow" | "fileinfo" | "dns")
}

/// The `event_type` a line declares, read without parsing it: the value
/// of the first `"event_type":"…"` (no escapes). Suricata writes it at the
/// top level near the start; a line where it is not found this way is
/// parsed in full.
fn declared_type(line: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"event_type\":\"";
    // Built once: `memmem::find` would build a searcher for every line.
    static FINDER: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(KEY));
    let at = FINDER.find(line)? + KEY.len();
    let len = memchr::memchr2(b'"', b'\\', &line[at..])?;
    if line.get(at + len) != Some(&b'"') {
        return None;
    }
    std::str::from_utf8(&line[at..at + len]).ok()
}

fn endpoint(ip: &Option<std::borrow::Cow<'_, str>>, port: Option<u16>) -> Endpoint {
    Endpoint {
        ip: ip.as_deref().and_then(|s| s.parse().ok()),
        port,
        hostname: None,
    }
}

fn protocol_number(p: &str) -> Option<u8> {
    match p {
        "TCP" | "tcp" => Some(6),
        "UDP" | "udp" => Some(17),
        "ICMP" | "icmp" => Some(1),
        "IPv6-ICMP" | "ICMPv6" => Some(58),
        "SCTP" => Some(132),
        _ => p.parse().ok(),
    }
}

fn owned(v: &Option<std::borrow::Cow<'_, str>>) -> Option<String> {
    v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// `flow:kind[:n…]`, written at its final size: `format!` grew these
/// strings two or three times, for every event.
fn event_id(flow: u64, kind: &str, numbers: &[u64]) -> String {
    let mut digits = itoa::Buffer::new();
    let flow = digits.format(flow);
    let mut id = String::with_capacity(flow.len() + 1 + kind.len() + numbers.len() * 21);
    id.push_str(flow);
    id.push(':');
    id.push_str(kind);
    for &n in numbers {
        id.push(':');
        id.push_str(digits.format(n));
    }
    id
}

fn event(time: i64, id: String, activity: Activity) -> Event {
    Event {
        time,
        source: "suricata",
        id,
        device: Default::default(),
        actor: Default::default(),
        process: None,
        activity,
    }
}

impl Decoder for SuricataDecoder {
    fn format(&self) -> Format {
        Format::Suricata
    }

    fn push(&mut self, line: &[u8], pos: RecordPos, out: &mut Output) {
        let line = line.trim_ascii();
        if line.is_empty() {
            return;
        }
        self.seq += 1;
        if !self.pending.is_empty() {
            self.close_stale(out);
        }
        // Records of unused types (alerts, stats: often the bulk of an
        // eve.json) are only validated, never built.
        if let Some(t) = declared_type(line).filter(|t| !is_used(t)) {
            // The cursor where it is sure; serde decides (and words the
            // error) where it is not.
            if json_cursor::is_valid(line) {
                out.skip(t);
                return;
            }
            match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
                Ok(_) => out.skip(t),
                Err(err) => out.error(pos, "invalid JSON", err.to_string()),
            }
            return;
        }
        let mut e = Eve::default();
        if !eve_fast::read(&mut self.keys, line, &mut e) {
            // The cursor bailed: serde decides, and words any error.
            e = Eve::default();
            if let Err(err) = eve::serde_record(line, &mut e) {
                out.error(pos, "invalid JSON", err.to_string());
                return;
            }
        }
        let Some(event_type) = e.event_type.as_deref() else {
            out.error(pos, "missing field", "no event_type");
            return;
        };
        if !is_used(event_type) {
            out.skip(event_type);
            return;
        }
        if event_type == "fileinfo" && e.http.is_none() {
            out.skip("fileinfo:no http");
            return;
        }
        if event_type == "tls"
            && e.tls
                .as_ref()
                .and_then(|t| t.sni.as_deref())
                .is_none_or(str::is_empty)
        {
            out.skip("tls:no sni");
            return;
        }
        let stamp = match event_type {
            "flow" => e
                .flow
                .as_ref()
                .and_then(|f| f.start.as_deref())
                .or(e.timestamp.as_deref()),
            _ => e.timestamp.as_deref(),
        };
        let Some(t) = stamp.and_then(time::parse_datetime) else {
            out.error(pos, "missing time", "no timestamp that parses");
            return;
        };
        let flow = e.flow_id.unwrap_or(0);
        let tx = e.tx_id;
        let src = endpoint(&e.src_ip, e.src_port);
        let dst = endpoint(&e.dest_ip, e.dest_port);
        let ev = match event_type {
            "http" => {
                let h = e.http.as_ref();
                let method = h.and_then(|h| h.http_method.as_deref()).unwrap_or("");
                if method.is_empty() {
                    out.skip("http:no method");
                    return;
                }
                event(
                    t,
                    event_id(flow, "http", &[tx.unwrap_or(0)]),
                    Activity::Http(HttpRequest {
                        src,
                        dst,
                        method: method.to_ascii_uppercase(),
                        host: h.and_then(|h| owned(&h.hostname)),
                        uri: h.and_then(|h| owned(&h.url)),
                        user_agent: h.and_then(|h| owned(&h.http_user_agent)),
                        request_bytes: h.and_then(|h| h.request_content_length()),
                        response_bytes: h.and_then(|h| h.length),
                        status: h.and_then(|h| h.status).and_then(|s| u16::try_from(s).ok()),
                    }),
                )
            }
            "fileinfo" => {
                let h = e.http.as_ref();
                let fi = e.fileinfo.as_ref();
                // fileinfo follows the file's direction: a download is
                // logged from the server. Suricata 7 says so in
                // `direction`; older records are judged by ports.
                let to_client = match e.direction.as_deref() {
                    Some("to_client") => true,
                    Some("to_server") => false,
                    _ => matches!((e.src_port, e.dest_port), (Some(s), Some(d)) if s < d),
                };
                let (src, dst) = if to_client { (dst, src) } else { (src, dst) };
                let size = fi.and_then(|f| f.size);
                let method = h.and_then(|h| h.http_method.as_deref()).unwrap_or("");
                if method.is_empty() {
                    out.skip("fileinfo:no http method");
                    return;
                }
                event(
                    t,
                    event_id(
                        flow,
                        "fileinfo",
                        &[
                            fi.and_then(|f| f.tx_id).or(tx).unwrap_or(0),
                            fi.and_then(|f| f.file_id).unwrap_or(0),
                        ],
                    ),
                    Activity::Http(HttpRequest {
                        src,
                        dst,
                        method: method.to_ascii_uppercase(),
                        host: h.and_then(|h| owned(&h.hostname)),
                        uri: h.and_then(|h| owned(&h.url)),
                        user_agent: h.and_then(|h| owned(&h.http_user_agent)),
                        request_bytes: if to_client { None } else { size },
                        response_bytes: if to_client { size } else { None },
                        status: h.and_then(|h| h.status).and_then(|s| u16::try_from(s).ok()),
                    }),
                )
            }
            "tls" => event(
                t,
                match tx {
                    Some(tx) => event_id(flow, "tls", &[tx]),
                    None => event_id(flow, "tls", &[]),
                },
                Activity::Name(NetworkName {
                    kind: NameKind::TlsServerName,
                    name: e
                        .tls
                        .as_ref()
                        .and_then(|t| owned(&t.sni))
                        .unwrap_or_default(),
                    src,
                    dst,
                    answers: Vec::new(),
                }),
            ),
            "flow" => {
                let f = e.flow.as_ref();
                event(
                    t,
                    event_id(flow, "flow", &[]),
                    Activity::Network(NetworkFlow {
                        src,
                        dst,
                        protocol: e.proto.as_deref().and_then(protocol_number),
                        app_protocol: owned(&e.app_proto),
                        bytes_out: f.and_then(|f| f.bytes_toserver),
                        bytes_in: f.and_then(|f| f.bytes_toclient),
                        end_time: f
                            .and_then(|f| f.end.as_deref())
                            .and_then(time::parse_datetime),
                        ..Default::default()
                    }),
                )
            }
            _ => {
                self.dns(&e, t, pos, out);
                return;
            }
        };
        out.event(ev);
    }

    fn finish(&mut self, out: &mut Output) {
        for p in std::mem::take(&mut self.pending) {
            out.event(p.event);
        }
    }

    fn oldest_pending(&self) -> Option<RecordPos> {
        self.pending.iter().map(|p| p.pos).min_by_key(|p| p.offset)
    }
}
