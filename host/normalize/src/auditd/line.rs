//! One audit line taken apart: the wrapper (syslog header, `node=`), the
//! record type, the `audit(TIME:SERIAL)` header and the body.
//!
//! Lines come as `[syslog header] [node=N] type=T msg=audit(H): body`, as
//! the kernel's `type=1300 audit(H): body` (numeric type, no `msg=`), and
//! as `ausearch -i` output, whose header holds a local date and is
//! followed by ` : `. An ENRICHED line carries, after its raw body, one
//! 0x1D byte and upper-case interpreted fields.

use memchr::memmem;

use super::fields::parse_dec;

/// The record types the decoder assembles into events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RecordType {
    Syscall,
    Execve,
    Path,
    Cwd,
    Proctitle,
    Sockaddr,
    Eoe,
    /// Microsoft auoms: one self-contained exec record.
    AuomsExecve,
}

impl RecordType {
    pub fn name(self) -> &'static str {
        match self {
            RecordType::Syscall => "SYSCALL",
            RecordType::Execve => "EXECVE",
            RecordType::Path => "PATH",
            RecordType::Cwd => "CWD",
            RecordType::Proctitle => "PROCTITLE",
            RecordType::Sockaddr => "SOCKADDR",
            RecordType::Eoe => "EOE",
            RecordType::AuomsExecve => "AUOMS_EXECVE",
        }
    }

    /// The type of a `type=` value: a name, or the kernel's number.
    fn parse(t: &[u8]) -> Option<RecordType> {
        Some(match t {
            b"SYSCALL" | b"1300" => RecordType::Syscall,
            b"EXECVE" | b"1309" => RecordType::Execve,
            b"PATH" | b"1302" => RecordType::Path,
            b"CWD" | b"1307" => RecordType::Cwd,
            b"PROCTITLE" | b"1327" => RecordType::Proctitle,
            b"SOCKADDR" | b"1306" => RecordType::Sockaddr,
            b"EOE" | b"1320" => RecordType::Eoe,
            b"AUOMS_EXECVE" => RecordType::AuomsExecve,
            _ => return None,
        })
    }
}

/// How the header wrote the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum HeaderTime<'a> {
    /// `1581371984.206`: epoch seconds (UTC).
    Epoch(&'a [u8]),
    /// `10/04/2024 16:31:50.464`: `ausearch -i`, local time.
    Local(&'a [u8]),
}

/// A line split into its parts.
#[derive(Debug)]
pub(super) struct Line<'a> {
    /// Host from a syslog header, if any.
    pub syslog_host: Option<&'a [u8]>,
    /// `node=` value, if any.
    pub node: Option<&'a [u8]>,
    /// The `type=` value as written.
    pub type_text: &'a [u8],
    /// The record type, when it is one the decoder uses.
    pub rtype: Option<RecordType>,
    /// Everything after `type=T `, for the header parse.
    pub rest: &'a [u8],
}

/// What a line is.
#[derive(Debug)]
pub(super) enum LineKind<'a> {
    /// Nothing to count: blank, or `time->…` of plain `ausearch`.
    Ignore,
    /// `----`: `ausearch` writes it between events.
    Separator,
    Record(Line<'a>),
}

/// Take a line apart up to the record type. `None`: no `type=` found.
pub(super) fn split_line(line: &[u8]) -> Option<LineKind<'_>> {
    let line = trim_end(line);
    if line.iter().all(|c| c.is_ascii_whitespace()) {
        return Some(LineKind::Ignore);
    }
    if line.starts_with(b"----") && line.iter().all(|&c| c == b'-') {
        return Some(LineKind::Separator);
    }
    if line.starts_with(b"time->") {
        return Some(LineKind::Ignore);
    }
    let (prefix, record) = if line.starts_with(b"type=") || line.starts_with(b"node=") {
        (&line[..0], line)
    } else {
        let p = find_token(line, b"node=").or_else(|| find_token(line, b"type="))?;
        (&line[..p], &line[p..])
    };
    let mut rec = record;
    let mut node = None;
    if let Some(after) = rec.strip_prefix(b"node=") {
        let end = memchr::memchr(b' ', after).unwrap_or(after.len());
        node = Some(&after[..end]).filter(|n| !n.is_empty());
        rec = after[end..].trim_ascii_start();
    }
    let after = rec.strip_prefix(b"type=")?;
    let end = memchr::memchr(b' ', after).unwrap_or(after.len());
    let type_text = &after[..end];
    Some(LineKind::Record(Line {
        syslog_host: syslog_host(prefix),
        node,
        type_text,
        rtype: RecordType::parse(type_text),
        rest: &after[end..],
    }))
}

fn trim_end(mut b: &[u8]) -> &[u8] {
    while let [rest @ .., b'\r' | b'\n'] = b {
        b = rest;
    }
    b
}

/// Position of `needle` at the start of a space-separated token.
fn find_token(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let finder = memmem::Finder::new(needle);
    let mut from = 0;
    while let Some(k) = finder.find(&hay[from..]) {
        let p = from + k;
        if p == 0 || hay[p - 1] == b' ' {
            return Some(p);
        }
        from = p + 1;
    }
    None
}

const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// The host of a syslog header: RFC 3164 (`Oct  4 16:31:50 host tag:`),
/// RFC 5424 (`<14>1 2024-10-04T16:31:50Z host app pid msgid -`) or an
/// ISO-stamped rsyslog line (`2024-10-04T16:31:50+00:00 host tag:`). Kernel
/// ring buffer prefixes (`[1234.5] audit:`) name no host.
fn syslog_host(prefix: &[u8]) -> Option<&[u8]> {
    if prefix.is_empty() {
        return None;
    }
    let mut p = prefix.trim_ascii_start();
    if p.first() == Some(&b'<') {
        let close = memchr::memchr(b'>', p)?;
        p = &p[close + 1..];
    }
    let mut tokens = p.split(|&c| c == b' ').filter(|t| !t.is_empty());
    let first = tokens.next()?;
    let host = if first == b"1" {
        // RFC 5424: VERSION TIMESTAMP HOSTNAME …
        tokens.next()?;
        tokens.next()?
    } else if MONTHS.contains(&first) {
        tokens.next()?; // day
        tokens.next()?; // hh:mm:ss
        tokens.next()?
    } else if first.len() >= 10 && first[4] == b'-' && first[..4].iter().all(u8::is_ascii_digit) {
        tokens.next()?
    } else {
        return None;
    };
    // A tag (`audispd:`, `kernel:`, `audit[1]:`) is not a host.
    if host == b"-" || host.ends_with(b":") || host.contains(&b'[') {
        return None;
    }
    Some(host)
}

/// The header of a record: time and serial, and where the body starts.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Header<'a> {
    pub time: HeaderTime<'a>,
    pub serial: u64,
    pub body: &'a [u8],
}

/// Parse `msg=audit(T:S): body`, `audit(T:S): body` or
/// `msg=audit(DATE TIME:S) : body`.
pub(super) fn parse_header(rest: &[u8]) -> Result<Header<'_>, &'static str> {
    let rest = rest.trim_ascii_start();
    let inner_start = if let Some(r) = rest.strip_prefix(b"msg=audit(") {
        rest.len() - r.len()
    } else if let Some(r) = rest.strip_prefix(b"audit(") {
        rest.len() - r.len()
    } else {
        return Err("missing time");
    };
    let close = memchr::memchr(b')', &rest[inner_start..]).ok_or("malformed header")? + inner_start;
    let inner = &rest[inner_start..close];
    let colon = memchr::memrchr(b':', inner).ok_or("malformed header")?;
    let serial = parse_dec(&inner[colon + 1..]).ok_or("malformed header")?;
    let t = &inner[..colon];
    let time = if t.contains(&b' ') {
        HeaderTime::Local(t)
    } else {
        HeaderTime::Epoch(t)
    };
    let mut body = &rest[close + 1..];
    body = body.trim_ascii_start();
    if let Some(b) = body.strip_prefix(b":") {
        body = b;
    }
    Ok(Header {
        time,
        serial,
        body: body.trim_ascii_start(),
    })
}

/// Epoch seconds with an optional fraction, as milliseconds.
pub(super) fn epoch_ms(t: &[u8]) -> Option<i64> {
    let (int, frac) = match memchr::memchr(b'.', t) {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t, &t[..0]),
    };
    if int.len() > 12 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let secs = parse_dec(int)? as i64;
    let mut ms = 0i64;
    for (i, &c) in frac.iter().take(3).enumerate() {
        ms += ((c - b'0') as i64) * [100, 10, 1][i];
    }
    Some(secs * 1000 + ms)
}

/// The local date and time of an `ausearch -i` header, as civil fields
/// `(year, month, day, hour, minute, second, millisecond)`. `%x` is
/// `MM/DD/YY` in the C locale and `MM/DD/YYYY` in en_US; ISO locales
/// write `YYYY-MM-DD`.
pub(super) fn local_civil(t: &[u8]) -> Option<(i16, i8, i8, i8, i8, i8, i32)> {
    let sp = memchr::memchr(b' ', t)?;
    let (date, time) = (&t[..sp], t[sp + 1..].trim_ascii_start());
    let (y, m, d) = if date.contains(&b'/') {
        let mut it = date.split(|&c| c == b'/');
        let m = parse_dec(it.next()?)?;
        let d = parse_dec(it.next()?)?;
        let yb = it.next()?;
        let y = parse_dec(yb)?;
        let y = if yb.len() == 2 { 2000 + y } else { y };
        (y, m, d)
    } else {
        let mut it = date.split(|&c| c == b'-');
        let y = parse_dec(it.next()?)?;
        let m = parse_dec(it.next()?)?;
        let d = parse_dec(it.next()?)?;
        (y, m, d)
    };
    let (hms, frac) = match memchr::memchr(b'.', time) {
        Some(i) => (&time[..i], &time[i + 1..]),
        None => (time, &time[..0]),
    };
    let mut it = hms.split(|&c| c == b':');
    let h = parse_dec(it.next()?)?;
    let mi = parse_dec(it.next()?)?;
    let s = parse_dec(it.next()?)?;
    let mut ms = 0i32;
    for (i, &c) in frac.iter().take(3).enumerate() {
        if !c.is_ascii_digit() {
            return None;
        }
        ms += ((c - b'0') as i32) * [100, 10, 1][i];
    }
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some((
        y as i16,
        m as i8,
        d as i8,
        h as i8,
        mi as i8,
        s.min(59) as i8,
        ms,
    ))
}
