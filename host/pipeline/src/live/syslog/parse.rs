//! Syslog messages as rsyslog and syslog-ng forward them: RFC 5424
//! (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`) and the BSD form of
//! RFC 3164 (`<PRI>Mmm dd hh:mm:ss HOST TAG: MSG`, also with an RFC 3339
//! timestamp as rsyslog's `RSYSLOG_ForwardFormat` writes it).
//!
//! Only what dumpwatch needs is taken: the sending host (it names the
//! device when the payload does not) and the payload (an auditd line, a
//! JSON event), which goes to the input's decoder. The payload's own
//! times are what count (event time), so the header's timestamp is
//! skipped, not interpreted.

/// The parts of a syslog message dumpwatch uses.
#[derive(Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// HOSTNAME (`None` for the nil value `-` or a missing header).
    pub host: Option<&'a str>,
    /// APP-NAME / TAG without its `[pid]`.
    pub app: Option<&'a str>,
    pub payload: &'a [u8],
}

fn token(b: &[u8]) -> (&[u8], &[u8]) {
    let end = b.iter().position(|&c| c == b' ').unwrap_or(b.len());
    let rest = b.get(end + 1..).unwrap_or(&[]);
    (&b[..end], rest)
}

fn as_str(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b)
        .ok()
        .filter(|s| !s.is_empty() && *s != "-")
}

/// Parse one message. Text without a `<PRI>` header is taken as a bare
/// payload (some forwarders strip the header).
pub fn parse(msg: &[u8]) -> Message<'_> {
    let msg = msg.strip_suffix(b"\r").unwrap_or(msg);
    let msg = msg.strip_suffix(b"\n").unwrap_or(msg);
    let Some(rest) = pri(msg) else {
        return Message {
            host: None,
            app: None,
            payload: msg,
        };
    };
    if let Some(r) = rest.strip_prefix(b"1 ") {
        return rfc5424(r);
    }
    rfc3164(rest)
}

/// Skip `<PRI>` (1–3 digits).
fn pri(b: &[u8]) -> Option<&[u8]> {
    let b = b.strip_prefix(b"<")?;
    let close = b.iter().take(4).position(|&c| c == b'>')?;
    if close == 0 || !b[..close].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(&b[close + 1..])
}

fn rfc5424(b: &[u8]) -> Message<'_> {
    let (_ts, b) = token(b);
    let (host, b) = token(b);
    let (app, b) = token(b);
    let (_procid, b) = token(b);
    let (_msgid, b) = token(b);
    let payload = skip_structured_data(b);
    let payload = payload.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(payload);
    Message {
        host: as_str(host),
        app: as_str(app),
        payload,
    }
}

/// Skip `-` or `[id k="v" …][…]` (with `\]` and `\"` escapes in values).
fn skip_structured_data(b: &[u8]) -> &[u8] {
    if let Some(r) = b.strip_prefix(b"-") {
        return r.strip_prefix(b" ").unwrap_or(r);
    }
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut in_value = false;
        i += 1;
        while i < b.len() {
            match b[i] {
                b'\\' if in_value => i += 1,
                b'"' => in_value = !in_value,
                b']' if !in_value => break,
                _ => {}
            }
            i += 1;
        }
        i += 1; // past ']'
    }
    let r = b.get(i..).unwrap_or(&[]);
    r.strip_prefix(b" ").unwrap_or(r)
}

const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn rfc3164(b: &[u8]) -> Message<'_> {
    // "Mmm dd hh:mm:ss " (dd space-padded), or an RFC 3339 token.
    let after_ts = if b.len() >= 16 && MONTHS.contains(&&b[..3]) && b[3] == b' ' && b[15] == b' ' {
        &b[16..]
    } else if b.first().is_some_and(u8::is_ascii_digit)
        && b.get(4) == Some(&b'-')
        && b.get(10) == Some(&b'T')
    {
        token(b).1
    } else {
        // No timestamp: the rest is the message (RFC 3164 section 4.3.3).
        return Message {
            host: None,
            app: None,
            payload: b,
        };
    };
    let (host, rest) = token(after_ts);
    let (app, payload) = tag(rest);
    Message {
        host: as_str(host),
        app,
        payload,
    }
}

/// `TAG[pid]: ` or `TAG: ` at the start of the message, if there is one.
fn tag(b: &[u8]) -> (Option<&str>, &[u8]) {
    let (first, rest) = token(b);
    let Some(name) = first.strip_suffix(b":") else {
        return (None, b);
    };
    let name = match name.iter().position(|&c| c == b'[') {
        Some(i) if name.ends_with(b"]") => &name[..i],
        Some(_) => return (None, b),
        None => name,
    };
    if name.is_empty()
        || name.len() > 48
        || !name
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"-_./".contains(&c))
    {
        return (None, b);
    }
    (std::str::from_utf8(name).ok(), rest)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const AUDIT: &[u8] = b"type=SYSCALL msg=audit(1700000000.000:5): arch=c000003e syscall=59";

    #[test]
    fn rfc3164_traditional_forward_format() {
        let m = b"<14>Nov 27 22:30:01 db01 auditd: type=SYSCALL msg=audit(1700000000.000:5): arch=c000003e syscall=59";
        let p = parse(m);
        assert_eq!(p.host, Some("db01"));
        assert_eq!(p.app, Some("auditd"));
        assert_eq!(p.payload, AUDIT);
        let m = b"<14>Nov  7 02:03:04 db02 audisp[42]: type=SYSCALL msg=audit(1700000000.000:5): arch=c000003e syscall=59";
        let p = parse(m);
        assert_eq!(
            (p.host, p.app, p.payload),
            (Some("db02"), Some("audisp"), AUDIT)
        );
    }

    #[test]
    fn rfc3164_with_rfc3339_timestamp() {
        let m = b"<13>2026-11-27T22:30:01.123456+00:00 db03 auditd: type=SYSCALL msg=audit(1700000000.000:5): arch=c000003e syscall=59\n";
        let p = parse(m);
        assert_eq!((p.host, p.payload), (Some("db03"), AUDIT));
    }

    #[test]
    fn rfc5424_with_and_without_structured_data() {
        let m = b"<165>1 2026-11-27T22:30:01.003Z db04 auditd 1234 - - type=SYSCALL msg=audit(1700000000.000:5): arch=c000003e syscall=59";
        let p = parse(m);
        assert_eq!(
            (p.host, p.app, p.payload),
            (Some("db04"), Some("auditd"), AUDIT)
        );
        let m = br#"<165>1 2026-11-27T22:30:01Z db05 app - ID47 [exampleSDID@32473 iut="3" x="a\]b"][y@1 z="q"] {"event_type":"http"}"#;
        let p = parse(m);
        assert_eq!(
            (p.host, p.payload),
            (Some("db05"), &br#"{"event_type":"http"}"#[..])
        );
        let m = b"<165>1 - - - - - - \xEF\xBB\xBFhello";
        let p = parse(m);
        assert_eq!((p.host, p.app, p.payload), (None, None, &b"hello"[..]));
    }

    #[test]
    fn no_header_or_no_tag() {
        assert_eq!(parse(AUDIT).payload, AUDIT);
        assert_eq!(parse(AUDIT).host, None);
        let p = parse(b"<14>Nov 27 22:30:01 db01 {\"a\":1}");
        assert_eq!(
            (p.host, p.app, p.payload),
            (Some("db01"), None, &b"{\"a\":1}"[..])
        );
        // Not a PRI: payload as is.
        assert_eq!(parse(b"<abc>x").payload, b"<abc>x");
    }
}
