//! The fast path of the eve.json decoder: a record read with the
//! [`Cursor`] into the same [`Eve`] its serde reading fills, field for
//! field with the same rules (`opt_str`: a string, or absent for any other
//! scalar, object or array; `de_u64`: a count as a number or a digit
//! string; a repeated field an error).
//!
//! Whatever this path is unsure of bails, and the decoder reads the record
//! through serde, which decides and words any error: structs given as
//! arrays, escaped keys, negative or fractional numbers, a count given as
//! a boolean, object or array.

use std::borrow::Cow;

use super::eve::{
    EVE_FIELDS, Eve, EveDns, EveDnsName, EveFileinfo, EveFlow, EveHeader, EveHttp, EveTls,
    eve_field,
};
use crate::json_cursor::{Bail, Cursor, Fast, KeyCache};

/// Read `bytes` into `eve` (a default record), taking the top-level keys
/// through `keys`; `false` when the record must go through serde (`eve`
/// is then partly filled, to be reset).
pub(super) fn read<'a>(keys: &mut KeyCache, bytes: &'a [u8], eve: &mut Eve<'a>) -> bool {
    match crate::utf8::text(bytes) {
        Some(text) => {
            let mut c = Cursor::new(text);
            record(keys, &mut c, eve).and_then(|()| c.end()).is_ok()
        }
        None => false,
    }
}

fn record<'a>(keys: &mut KeyCache, c: &mut Cursor<'a>, e: &mut Eve<'a>) -> Fast<()> {
    let code = |k: &str| eve_field(k).map_or(u16::MAX, |i| i as u16);
    c.cached_fields(keys, 0, EVE_FIELDS.len(), code, |c, _, i| {
        match i {
            0 => e.timestamp = opt_str(c)?,
            1 => e.flow_id = count(c)?,
            2 => e.event_type = opt_str(c)?,
            3 => e.src_ip = opt_str(c)?,
            4 => e.src_port = port(c)?,
            5 => e.dest_ip = opt_str(c)?,
            6 => e.dest_port = port(c)?,
            7 => e.proto = opt_str(c)?,
            8 => e.app_proto = opt_str(c)?,
            9 => e.tx_id = count(c)?,
            10 => e.direction = opt_str(c)?,
            11 => e.http = c.optional(http)?.map(Box::new),
            12 => e.tls = c.optional(tls)?,
            13 => e.flow = c.optional(flow)?.map(Box::new),
            14 => e.fileinfo = c.optional(fileinfo)?,
            _ => e.dns = c.optional(dns)?.map(Box::new),
        }
        Ok(())
    })
}

/// `opt_str`: a string's value; absent for `null`, booleans, numbers,
/// objects and arrays. Numbers serde would not read as a `u64` bail (it
/// parses them, and may refuse one out of range).
fn opt_str<'a>(c: &mut Cursor<'a>) -> Fast<Option<Cow<'a, str>>> {
    match c.peek()? {
        b'"' => Ok(Some(c.string()?.decode()?)),
        b'0'..=b'9' => c.unsigned().map(|_| None),
        b'n' | b't' | b'f' | b'{' | b'[' => c.skip().map(|()| None),
        _ => Err(Bail),
    }
}

/// `de_u64`: a count as a plain integer or a string of digits (`None`
/// when the string is not one), absent for `null`.
fn count(c: &mut Cursor<'_>) -> Fast<Option<u64>> {
    match c.peek()? {
        b'0'..=b'9' => Ok(Some(c.unsigned()?.1)),
        b'"' => Ok(c.string()?.decode()?.parse().ok()),
        b'n' => c.skip().map(|()| None),
        _ => Err(Bail),
    }
}

/// `de_port`: a count that fits a port.
fn port(c: &mut Cursor<'_>) -> Fast<Option<u16>> {
    Ok(count(c)?.and_then(|p| u16::try_from(p).ok()))
}

fn http<'a>(c: &mut Cursor<'a>) -> Fast<EveHttp<'a>> {
    const NAMES: [&str; 7] = [
        "hostname",
        "url",
        "http_user_agent",
        "http_method",
        "status",
        "length",
        "request_headers",
    ];
    let mut h = EveHttp::default();
    c.fields(&NAMES, |c, i| {
        match i {
            0 => h.hostname = opt_str(c)?,
            1 => h.url = opt_str(c)?,
            2 => h.http_user_agent = opt_str(c)?,
            3 => h.http_method = opt_str(c)?,
            4 => h.status = count(c)?,
            5 => h.length = count(c)?,
            _ => h.request_headers = c.list(header)?,
        }
        Ok(())
    })?;
    Ok(h)
}

fn header<'a>(c: &mut Cursor<'a>) -> Fast<EveHeader<'a>> {
    let mut h = EveHeader::default();
    c.fields(&["name", "value"], |c, i| {
        let v = opt_str(c)?;
        if i == 0 {
            h.name = v;
        } else {
            h.value = v;
        }
        Ok(())
    })?;
    Ok(h)
}

fn tls<'a>(c: &mut Cursor<'a>) -> Fast<EveTls<'a>> {
    let mut t = EveTls::default();
    c.fields(&["sni"], |c, _| {
        t.sni = opt_str(c)?;
        Ok(())
    })?;
    Ok(t)
}

fn flow<'a>(c: &mut Cursor<'a>) -> Fast<EveFlow<'a>> {
    let mut f = EveFlow::default();
    c.fields(
        &["bytes_toserver", "bytes_toclient", "start", "end"],
        |c, i| {
            match i {
                0 => f.bytes_toserver = count(c)?,
                1 => f.bytes_toclient = count(c)?,
                2 => f.start = opt_str(c)?,
                _ => f.end = opt_str(c)?,
            }
            Ok(())
        },
    )?;
    Ok(f)
}

fn fileinfo(c: &mut Cursor<'_>) -> Fast<EveFileinfo> {
    let mut f = EveFileinfo::default();
    c.fields(&["size", "tx_id", "file_id"], |c, i| {
        let v = count(c)?;
        match i {
            0 => f.size = v,
            1 => f.tx_id = v,
            _ => f.file_id = v,
        }
        Ok(())
    })?;
    Ok(f)
}

fn dns<'a>(c: &mut Cursor<'a>) -> Fast<EveDns<'a>> {
    const NAMES: [&str; 7] = [
        "type", "id", "tx_id", "rrname", "rdata", "queries", "answers",
    ];
    let mut d = EveDns::default();
    c.fields(&NAMES, |c, i| {
        match i {
            0 => d.kind = opt_str(c)?,
            1 => d.id = count(c)?,
            2 => d.tx_id = count(c)?,
            3 => d.rrname = opt_str(c)?,
            4 => d.rdata = opt_str(c)?,
            5 => d.queries = c.list(dns_name)?,
            _ => d.answers = c.list(dns_name)?,
        }
        Ok(())
    })?;
    Ok(d)
}

fn dns_name<'a>(c: &mut Cursor<'a>) -> Fast<EveDnsName<'a>> {
    let mut n = EveDnsName::default();
    c.fields(&["rrname", "rdata"], |c, i| {
        let v = opt_str(c)?;
        if i == 0 {
            n.rrname = v;
        } else {
            n.rdata = v;
        }
        Ok(())
    })?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::suricata::eve::serde_record;
    use crate::test_support::{fixture_lines, mangled};

    const FILES: [&str; 7] = [
        "corpus/suricata/suricata-verify_alert-testmyids_eve.json",
        "corpus/suricata/suricata-verify_detect-engine-state-03_eve.json",
        "corpus/suricata/suricata-verify_detect-ldap-operation_eve.json",
        "corpus/suricata/suricata-verify_dns-tcp-www-google-com_eve.json",
        "corpus/suricata/suricata-verify_output-eve-fileinfo_eve.json",
        "corpus/suricata/suricata-verify_tls-json-output-ids_eve.json",
        "written/suricata/eve_v2_v3.json",
    ];

    fn lines() -> Vec<Vec<u8>> {
        fixture_lines(&FILES)
    }

    /// The fast path's record (through `keys`), if it did not bail,
    /// beside serde's (or its error), both as text.
    fn both(keys: &mut KeyCache, line: &[u8]) -> (Option<String>, Result<String, String>) {
        let mut fast = Eve::default();
        let fast = read(keys, line, &mut fast).then(|| format!("{fast:?}"));
        let mut slow = Eve::default();
        let slow = serde_record(line, &mut slow)
            .map(|()| format!("{slow:?}"))
            .map_err(|e| e.to_string());
        (fast, slow)
    }

    #[test]
    fn every_fixture_record_reads_fast_and_as_serde_reads_it() {
        let lines = lines();
        assert!(lines.len() >= 30, "{} lines", lines.len());
        let mut keys = KeyCache::new();
        for _ in 0..2 {
            for line in &lines {
                let (fast, slow) = both(&mut keys, line);
                let slow = slow.expect("fixture records are valid");
                assert_eq!(
                    fast.as_ref(),
                    Some(&slow),
                    "{}",
                    String::from_utf8_lossy(line)
                );
                assert!(crate::json_cursor::is_valid(line));
            }
        }
    }

    #[test]
    fn values_serde_renders_or_refuses_go_to_serde() {
        let mut keys = KeyCache::new();
        for line in [
            r#"{"event_type":"flow","flow_id":-1}"#,
            r#"{"event_type":"flow","flow_id":1.5}"#,
            r#"{"event_type":"flow","flow_id":true}"#,
            r#"{"event_type":"flow","src_port":[]}"#,
            r#"{"event_type":"flow","proto":-6}"#,
            r#"{"event_type":"flow","flow":{"bytes_toserver":1,"bytes_toserver":2}}"#,
            r#"{"event_type":"http","http":["h"]}"#,
            r#"{"event_type":"dns","dns":{"answers":[null]}}"#,
            r#"{"event_typ\u0065":"dns"}"#,
        ] {
            let (fast, _) = both(&mut keys, line.as_bytes());
            assert_eq!(fast, None, "{line}");
        }
        // Read fast: numbers and booleans where strings go are absent,
        // counts as digit strings, nulls, nested objects where strings go.
        let line = br#"{"event_type":"http","proto":6,"app_proto":true,"flow_id":"17","tx_id":null,"src_port":"x","http":{"hostname":{"a":1},"status":"200","request_headers":[{"name":"Content-Length","value":"5"}]},"flow":null}"#;
        let (fast, slow) = both(&mut keys, line);
        assert!(fast.is_some());
        assert_eq!(fast.as_ref(), slow.as_ref().ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

        /// Whatever the fast path reads, serde reads the same; whatever
        /// the cursor calls valid, serde accepts.
        #[test]
        fn mangled_records_read_as_serde_reads_them(line in mangled(lines())) {
            let (fast, slow) = both(&mut KeyCache::new(), &line);
            if let Some(fast) = fast {
                prop_assert_eq!(Ok(fast), slow, "{}", String::from_utf8_lossy(&line));
            }
            if crate::json_cursor::is_valid(&line) {
                prop_assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&line).is_ok());
            }
        }
    }
}
