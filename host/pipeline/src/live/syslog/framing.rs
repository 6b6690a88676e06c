//! Splitting a TCP byte stream into syslog messages (RFC 6587): octet
//! counting (`LEN SP MSG`, what syslog-ng's `syslog()` driver and
//! rsyslog's `TCP_Framing="octet-counted"` send) or non-transparent
//! framing (a message per line, rsyslog's `omfwd` default), detected for
//! every frame by its first byte — a message never starts with a digit,
//! its `<PRI>` does.
//!
//! Memory is bounded by the longest message accepted: a longer message is
//! skipped (and reported) without being buffered.

/// What the framer found.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Message(&'a [u8]),
    /// A message longer than the limit was skipped.
    TooLong(usize),
    /// An octet count that is not a number; the connection cannot be
    /// resynchronised.
    Broken,
}

enum Skip {
    None,
    /// Drop this many more bytes (an oversized octet-counted message).
    Bytes(usize),
    /// Drop up to the next newline (an oversized line).
    Line(usize),
}

/// A TCP connection's framer.
pub struct Framer {
    buf: Vec<u8>,
    max: usize,
    skip: Skip,
    broken: bool,
}

/// Longest octet count accepted as a number.
const MAX_COUNT_DIGITS: usize = 10;

impl Framer {
    pub fn new(max: usize) -> Framer {
        Framer {
            buf: Vec::new(),
            max,
            skip: Skip::None,
            broken: false,
        }
    }

    /// Feed bytes from the connection; complete frames go to `out`.
    pub fn feed(&mut self, mut data: &[u8], out: &mut dyn FnMut(Frame<'_>)) {
        if self.broken {
            return;
        }
        match self.skip {
            Skip::Bytes(n) => {
                let k = n.min(data.len());
                data = &data[k..];
                self.skip = if n > k {
                    Skip::Bytes(n - k)
                } else {
                    Skip::None
                };
                if n > k {
                    return;
                }
            }
            Skip::Line(len) => match memchr::memchr(b'\n', data) {
                Some(i) => {
                    out(Frame::TooLong(len + i));
                    data = &data[i + 1..];
                    self.skip = Skip::None;
                }
                None => {
                    self.skip = Skip::Line(len + data.len());
                    return;
                }
            },
            Skip::None => {}
        }
        self.buf.extend_from_slice(data);
        let mut start = 0;
        loop {
            let b = &self.buf[start..];
            // Separators between frames (a trailing LF after an
            // octet-counted frame, CR LF line ends, NUL from old senders).
            let lead = b
                .iter()
                .take_while(|&&c| c == b'\n' || c == b'\r' || c == 0)
                .count();
            start += lead;
            let b = &self.buf[start..];
            if b.is_empty() {
                break;
            }
            if b[0].is_ascii_digit() {
                let Some(sp) = b.iter().take(MAX_COUNT_DIGITS + 1).position(|&c| c == b' ') else {
                    if b.len() > MAX_COUNT_DIGITS || !b.iter().all(u8::is_ascii_digit) {
                        self.broken = true;
                        out(Frame::Broken);
                        self.buf.clear();
                        return;
                    }
                    break;
                };
                let Some(n) = std::str::from_utf8(&b[..sp])
                    .ok()
                    .and_then(|s| s.parse::<usize>().ok())
                else {
                    self.broken = true;
                    out(Frame::Broken);
                    self.buf.clear();
                    return;
                };
                let body = &b[sp + 1..];
                if n > self.max {
                    out(Frame::TooLong(n));
                    let have = body.len().min(n);
                    start += sp + 1 + have;
                    if have < n {
                        self.skip = Skip::Bytes(n - have);
                        break;
                    }
                    continue;
                }
                if body.len() < n {
                    break;
                }
                out(Frame::Message(&body[..n]));
                start += sp + 1 + n;
            } else {
                match memchr::memchr(b'\n', b) {
                    Some(i) if i > self.max => {
                        out(Frame::TooLong(i));
                        start += i + 1;
                    }
                    Some(i) => {
                        out(Frame::Message(&b[..i]));
                        start += i + 1;
                    }
                    None if b.len() > self.max => {
                        self.skip = Skip::Line(b.len());
                        start = self.buf.len();
                        break;
                    }
                    None => break,
                }
            }
        }
        self.buf.drain(..start);
    }

    /// The connection closed: a last line without its newline is a
    /// message too.
    pub fn finish(&mut self, out: &mut dyn FnMut(Frame<'_>)) {
        if self.broken {
            return;
        }
        let b = std::mem::take(&mut self.buf);
        let t = b.trim_ascii();
        if !t.is_empty() && !t[0].is_ascii_digit() {
            out(Frame::Message(t));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn frames(chunks: &[&[u8]], max: usize) -> Vec<String> {
        let mut f = Framer::new(max);
        let mut got = Vec::new();
        let mut push = |fr: Frame<'_>| {
            got.push(match fr {
                Frame::Message(m) => String::from_utf8_lossy(m).into_owned(),
                Frame::TooLong(n) => format!("TOO LONG {n}"),
                Frame::Broken => "BROKEN".into(),
            })
        };
        for c in chunks {
            f.feed(c, &mut push);
        }
        f.finish(&mut push);
        got
    }

    #[test]
    fn newline_framing_across_reads() {
        assert_eq!(
            frames(&[b"<13>a b\n<13>c", b" d\r\n<13>e"], 1024),
            ["<13>a b", "<13>c d\r", "<13>e"]
        );
    }

    #[test]
    fn octet_counting_across_reads_and_mixed() {
        let m1 = b"<13>hello world";
        let data = [format!("{} ", m1.len()).as_bytes(), &m1[..5]].concat();
        assert_eq!(
            frames(&[&data, &m1[5..], b"7 <13>x\ny<13>line\n"], 1024),
            ["<13>hello world", "<13>x\ny", "<13>line"]
        );
    }

    #[test]
    fn oversized_messages_are_skipped_without_buffering() {
        let long = vec![b'a'; 5000];
        let mut framed = b"5000 ".to_vec();
        framed.extend_from_slice(&long);
        framed.extend_from_slice(b"4 <1>k");
        assert_eq!(
            frames(&[&framed[..100], &framed[100..]], 1024),
            ["TOO LONG 5000", "<1>k"]
        );
        let mut line = long.clone();
        line.extend_from_slice(b"\n<1>ok\n");
        assert_eq!(
            frames(&[&line[..2000], &line[2000..]], 1024),
            ["TOO LONG 5000", "<1>ok"]
        );
    }

    #[test]
    fn a_broken_count_stops_the_connection() {
        assert_eq!(frames(&[b"12345678901234 x"], 1024), ["BROKEN"]);
    }
}
