//! The fast path of the Windows JSON decoder: NXLog and Winlogbeat records
//! read with the [`Cursor`] into the same [`WinRecord`] the serde visitors
//! of [`super::json`] fill, key for key with the same rules (which key
//! wins, which repeat is an error, what reads as absent).
//!
//! Whatever this path is unsure of bails, and the decoder reads the record
//! again through serde, which decides and words any error: structs given
//! as arrays, escaped keys, repeated fields of a struct, numbers that are
//! not plain unsigned integers where text is read.

use std::borrow::Cow;

use super::fields::{EventData, FieldId};
use super::json::{WINLOG_FIELDS, add_answer};
use super::record::{Account, WinRecord};
use crate::json_cursor::{Bail, Cursor, Fast, KeyCache};

/// A top-level key the fast path reads, as its key code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
enum Key {
    Computer,
    Channel,
    Provider,
    EventId,
    RecordId,
    TimeCreated,
    EventTime,
    Timestamp,
    Winlog,
    Process,
    File,
    Source,
    Destination,
    Network,
    User,
    Host,
    Dns,
}

/// The keys by code (`Key as u16`).
const KEYS: [Key; 17] = [
    Key::Computer,
    Key::Channel,
    Key::Provider,
    Key::EventId,
    Key::RecordId,
    Key::TimeCreated,
    Key::EventTime,
    Key::Timestamp,
    Key::Winlog,
    Key::Process,
    Key::File,
    Key::Source,
    Key::Destination,
    Key::Network,
    Key::User,
    Key::Host,
    Key::Dns,
];

/// Codes of NXLog's top-level event-data fields: this plus the field.
const DATA: u16 = 256;

/// The code of a top-level key: a [`Key`], `DATA` plus an event-data
/// field, or `u16::MAX` for a key not read.
fn key_code(name: &str) -> u16 {
    let key = match name {
        // NXLog system fields.
        "Hostname" => Key::Computer,
        "Channel" => Key::Channel,
        "SourceName" | "ProviderName" => Key::Provider,
        "EventID" => Key::EventId,
        "RecordNumber" | "EventRecordID" => Key::RecordId,
        "TimeCreated" => Key::TimeCreated,
        "EventTime" => Key::EventTime,
        // Shared by every shipper.
        "@timestamp" => Key::Timestamp,
        // Winlogbeat.
        "winlog" => Key::Winlog,
        "process" => Key::Process,
        "file" => Key::File,
        "source" => Key::Source,
        "destination" => Key::Destination,
        "network" => Key::Network,
        "user" => Key::User,
        "host" => Key::Host,
        "dns" => Key::Dns,
        // NXLog event-data fields at top level.
        other => return FieldId::from_name(other).map_or(u16::MAX, |f| DATA + f as u16),
    };
    key as u16
}

/// Read `bytes` into `rec` (a default record), taking the top-level keys
/// through `keys`; `false` when the record must go through serde (`rec` is
/// then partly filled, to be reset).
pub(super) fn read<'a>(keys: &mut KeyCache, bytes: &'a [u8], rec: &mut WinRecord<'a>) -> bool {
    match crate::utf8::text(bytes) {
        Some(text) => record(keys, &mut Cursor::new(text), rec).is_ok(),
        None => false,
    }
}

fn record<'a>(keys: &mut KeyCache, c: &mut Cursor<'a>, r: &mut WinRecord<'a>) -> Fast<()> {
    c.object()?;
    let mut shipper_host = None;
    let mut first = true;
    let mut at = KeyCache::chain(TOP);
    while let Some(code) = c.cached_key(&mut first, keys, &mut at, key_code)? {
        let Some(&key) = KEYS.get(usize::from(code)) else {
            match code
                .checked_sub(DATA)
                .and_then(|i| FieldId::ALL.get(usize::from(i)))
            {
                Some(&f) => {
                    if let Some(v) = c.text()? {
                        r.data.set(f, v);
                    }
                }
                None => c.skip()?,
            }
            continue;
        };
        match key {
            Key::Computer => r.computer = c.text()?,
            Key::Channel => r.channel = c.text()?,
            Key::Provider => r.provider = c.text()?,
            Key::EventId => r.event_id = c.text()?,
            Key::RecordId => r.record_id = c.text()?,
            Key::TimeCreated => r.time_created = c.text()?,
            Key::EventTime => r.event_time = c.text()?,
            Key::Timestamp => r.timestamp = c.text()?,
            Key::Winlog => winlog(keys, c, r)?,
            Key::Process => process(keys, c, r)?,
            Key::File => {
                let [path] = texts(keys, FILE, c, &["path"])?;
                r.ecs.file_path = path;
            }
            Key::Source => {
                let (ip, port, _) = endpoint(keys, c)?;
                r.ecs.source_ip = ip;
                r.ecs.source_port = port;
            }
            Key::Destination => {
                let (ip, port, domain) = endpoint(keys, c)?;
                r.ecs.destination_ip = ip;
                r.ecs.destination_port = port;
                r.ecs.destination_domain = domain;
            }
            Key::Network => {
                let [transport] = texts(keys, NETWORK, c, &["transport"])?;
                r.ecs.network_transport = transport;
            }
            Key::User => {
                let [name, domain] = texts(keys, USER, c, &["name", "domain"])?;
                r.ecs.user = Account { name, domain };
            }
            Key::Host => {
                let [hostname, name] = texts(keys, HOST, c, &["hostname", "name"])?;
                shipper_host = hostname.or(name);
            }
            Key::Dns => dns(keys, c, r)?,
        }
    }
    c.end()?;
    if r.computer.is_none() {
        r.computer = shipper_host;
    }
    Ok(())
}

/// A struct of `N` text fields, each absent unless given; its keys are
/// context `ctx` of the cache.
fn texts<'a, const N: usize>(
    keys: &mut KeyCache,
    ctx: usize,
    c: &mut Cursor<'a>,
    names: &[&str; N],
) -> Fast<[Option<Cow<'a, str>>; N]> {
    let mut out = [const { None }; N];
    c.known_fields(keys, ctx, names, |c, _, i| {
        out[i] = c.text()?;
        Ok(())
    })?;
    Ok(out)
}

/// A number field, as its text (`num_text` of the serde path).
fn num_text(c: &mut Cursor<'_>) -> Fast<Option<Cow<'static, str>>> {
    Ok(c.num()?.map(|v| Cow::Owned(v.to_string())))
}

/// ECS `source` / `destination`: ip, port, domain.
#[allow(clippy::type_complexity)]
fn endpoint<'a>(
    keys: &mut KeyCache,
    c: &mut Cursor<'a>,
) -> Fast<(
    Option<Cow<'a, str>>,
    Option<Cow<'a, str>>,
    Option<Cow<'a, str>>,
)> {
    let (mut ip, mut port, mut domain) = (None, None, None);
    c.known_fields(keys, ENDPOINT, &["ip", "port", "domain"], |c, _, i| {
        match i {
            0 => ip = c.text()?,
            1 => port = num_text(c)?,
            _ => domain = c.text()?,
        }
        Ok(())
    })?;
    Ok((ip, port, domain))
}

/// ECS `process`, with its `parent`.
fn process<'a>(keys: &mut KeyCache, c: &mut Cursor<'a>, r: &mut WinRecord<'a>) -> Fast<()> {
    const NAMES: [&str; 6] = [
        "executable",
        "command_line",
        "pid",
        "entity_id",
        "working_directory",
        "parent",
    ];
    let [
        mut executable,
        mut command_line,
        mut entity_id,
        mut working_directory,
    ] = [const { None }; 4];
    let mut pid = None;
    let mut parent = None;
    c.known_fields(keys, PROCESS, &NAMES, |c, keys, i| {
        match i {
            0 => executable = c.text()?,
            1 => command_line = c.text()?,
            2 => pid = num_text(c)?,
            3 => entity_id = c.text()?,
            4 => working_directory = c.text()?,
            _ => {
                parent = c.optional(|c| {
                    let (mut exe, mut ppid, mut id) = (None, None, None);
                    let names = ["executable", "pid", "entity_id"];
                    c.known_fields(keys, PARENT, &names, |c, _, i| {
                        match i {
                            0 => exe = c.text()?,
                            1 => ppid = num_text(c)?,
                            _ => id = c.text()?,
                        }
                        Ok(())
                    })?;
                    Ok((exe, ppid, id))
                })?
            }
        }
        Ok(())
    })?;
    let e = &mut r.ecs;
    e.process_executable = executable;
    e.process_command_line = command_line;
    e.process_pid = pid;
    e.process_entity_id = entity_id;
    e.process_working_directory = working_directory;
    if let Some((exe, ppid, id)) = parent {
        e.parent_executable = exe;
        e.parent_pid = ppid;
        e.parent_entity_id = id;
    }
    Ok(())
}

/// ECS `dns`: the question's name, and the answers that are addresses
/// (`answers[].data`, then `resolved_ip[]`, whatever their order here).
fn dns<'a>(keys: &mut KeyCache, c: &mut Cursor<'a>, r: &mut WinRecord<'a>) -> Fast<()> {
    let mut question = None;
    let mut answers = None;
    let mut resolved = None;
    let names = ["question", "answers", "resolved_ip"];
    c.known_fields(keys, DNS, &names, |c, keys, i| {
        match i {
            0 => {
                question =
                    c.optional(|c| texts(keys, DNS_QUESTION, c, &["name"]).map(|[name]| name))?
            }
            1 => answers = c.list(|c| texts(keys, DNS_ANSWER, c, &["data"]).map(|[data]| data))?,
            _ => resolved = c.list(Cursor::text)?,
        }
        Ok(())
    })?;
    let ecs = &mut r.ecs;
    if let Some(name) = question {
        ecs.dns_question_name = name;
    }
    for ip in answers.iter().chain(&resolved).flatten().flatten() {
        add_answer(ecs, ip);
    }
    Ok(())
}

/// The key code of `winlog.event_data`: its index in [`WINLOG_FIELDS`],
/// after the six system fields.
const EVENT_DATA_CODE: usize = 6;

/// Key cache contexts: the record's top level, `winlog`, `event_data`,
/// and the ECS objects.
const TOP: usize = 0;
const WINLOG: usize = 1;
const EVENT_DATA: usize = 2;
const PROCESS: usize = 3;
const PARENT: usize = 4;
/// `source` and `destination`.
const ENDPOINT: usize = 5;
const USER: usize = 6;
const HOST: usize = 7;
const FILE: usize = 8;
const NETWORK: usize = 9;
const DNS: usize = 10;
const DNS_QUESTION: usize = 11;
const DNS_ANSWER: usize = 12;

/// The key code of a `winlog` key: its index in [`WINLOG_FIELDS`].
fn winlog_code(name: &str) -> u16 {
    WINLOG_FIELDS
        .iter()
        .position(|n| *n == name)
        .map_or(u16::MAX, |i| i as u16)
}

/// `winlog`: its system fields fill those the record lacks once the
/// object is read; `event_data` goes to the record's event data.
fn winlog<'a>(keys: &mut KeyCache, c: &mut Cursor<'a>, r: &mut WinRecord<'a>) -> Fast<()> {
    // Each system field: unread, or read (and maybe absent).
    let mut sys: [Option<Option<Cow<'a, str>>>; 6] = [const { None }; 6];
    let mut seen_data = false;
    c.object()?;
    let mut first = true;
    let mut at = KeyCache::chain(WINLOG);
    while let Some(code) = c.cached_key(&mut first, keys, &mut at, winlog_code)? {
        match usize::from(code) {
            EVENT_DATA_CODE => {
                if std::mem::replace(&mut seen_data, true) {
                    return Err(Bail);
                }
                if !c.null()? {
                    event_data(keys, c, &mut r.data)?;
                }
            }
            i if i < EVENT_DATA_CODE => {
                if sys[i].is_some() {
                    return Err(Bail);
                }
                sys[i] = Some(c.text()?);
            }
            _ => c.skip()?,
        }
    }
    let [
        channel,
        computer,
        provider,
        event_id,
        record_id,
        time_created,
    ] = sys;
    let or = |slot: &mut Option<Cow<'a, str>>, v: Option<Option<Cow<'a, str>>>| {
        if slot.is_none() {
            *slot = v.flatten();
        }
    };
    or(&mut r.computer, computer);
    or(&mut r.channel, channel);
    or(&mut r.provider, provider);
    or(&mut r.event_id, event_id);
    or(&mut r.record_id, record_id);
    or(&mut r.time_created, time_created);
    Ok(())
}

/// `winlog.event_data`: the names the mapping uses, as they come.
fn event_data<'a>(keys: &mut KeyCache, c: &mut Cursor<'a>, data: &mut EventData<'a>) -> Fast<()> {
    c.object()?;
    let mut first = true;
    let mut at = KeyCache::chain(EVENT_DATA);
    let code = |k: &str| FieldId::from_name(k).map_or(u16::MAX, |f| f as u16);
    while let Some(code) = c.cached_key(&mut first, keys, &mut at, code)? {
        match FieldId::ALL.get(usize::from(code)) {
            Some(&f) => {
                if let Some(v) = c.text()? {
                    data.set(f, v);
                }
            }
            None => c.skip()?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::test_support::{fixture_lines, mangled};
    use crate::windows::json::serde_record;

    const FILES: [&str; 4] = [
        "corpus/windows/otrf_bitsadmin-download_sysmon-security_subset.jsonl",
        "corpus/windows/otrf_psh-python-webserver_sysmon-security_subset.jsonl",
        "written/windows/winlogbeat-8-raw_bcp-export.jsonl",
        "written/windows/winlogbeat-7-ecs_sqlcmd-backup-upload.jsonl",
    ];

    /// The fast path's record, if it did not bail, beside serde's (or its
    /// error), both as text.
    fn both(line: &[u8]) -> (Option<String>, Result<String, String>) {
        let mut fast = WinRecord::default();
        let fast = read(&mut KeyCache::new(), line, &mut fast).then(|| format!("{fast:?}"));
        let mut slow = WinRecord::default();
        let slow = serde_record(line, &mut slow)
            .map(|()| format!("{slow:?}"))
            .map_err(|e| e.to_string());
        (fast, slow)
    }

    fn lines() -> Vec<Vec<u8>> {
        fixture_lines(&FILES)
    }

    #[test]
    fn every_fixture_record_reads_as_serde_reads_it_without_bailing() {
        let lines = lines();
        assert!(lines.len() >= 60, "{} lines", lines.len());
        for line in &lines {
            let (fast, slow) = both(line);
            let slow = slow.expect("fixture records are valid");
            assert_eq!(
                fast.as_ref(),
                Some(&slow),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn key_codes_name_their_keys() {
        for (i, key) in KEYS.iter().enumerate() {
            assert_eq!(*key as usize, i);
        }
        assert_eq!(key_code("SourceName"), Key::Provider as u16);
        assert_eq!(key_code("dns"), Key::Dns as u16);
        for f in FieldId::ALL {
            assert_eq!(key_code(f.name()), DATA + f as u16);
        }
        assert_eq!(key_code("Message"), u16::MAX);
        assert_eq!(WINLOG_FIELDS[EVENT_DATA_CODE], "event_data");
        assert_eq!(winlog_code("time_created"), 5);
    }

    /// Records through one key cache, as the decoder reads them: the
    /// cache's predictions change nothing.
    #[test]
    fn a_shared_key_cache_reads_as_serde_reads() {
        let mut keys = KeyCache::new();
        for _ in 0..3 {
            for line in lines() {
                let mut fast = WinRecord::default();
                assert!(read(&mut keys, &line, &mut fast));
                let (_, slow) = both(&line);
                assert_eq!(Ok(format!("{fast:?}")), slow);
            }
        }
    }

    #[test]
    fn shapes_left_to_serde_bail_and_repeats_follow_serde() {
        for line in [
            // A struct as an array, an escaped key, a repeated struct
            // field, a negative or fractional event id, an answer that is
            // not an object.
            r#"{"winlog":{"event_id":22},"dns":{"answers":[null]}}"#,
            r#"{"winlog":["Security","h","p",4688,1,"t",{}]}"#,
            r#"{"Host\u006eame":"h","EventID":1}"#,
            r#"{"winlog":{"channel":"a","channel":"b"}}"#,
            r#"{"process":{"pid":1,"pid":2}}"#,
            r#"{"EventID":-1}"#,
            r#"{"EventID":1.5}"#,
        ] {
            let (fast, _) = both(line.as_bytes());
            assert_eq!(fast, None, "{line}");
        }
        // A repeated top-level key: the last one wins on both paths.
        let line = br#"{"Hostname":"a","Image":"x","Hostname":"b","Image":"y"}"#;
        let (fast, slow) = both(line);
        assert!(fast.as_deref().is_some_and(|f| f.contains("\"b\"")));
        assert_eq!(fast.as_ref(), slow.as_ref().ok());
        // The top level's system fields win over `winlog`'s, in any order.
        for line in [
            r#"{"Channel":"Security","winlog":{"channel":"System","record_id":7}}"#,
            r#"{"winlog":{"channel":"System","record_id":7},"Channel":"Security"}"#,
        ] {
            let (fast, slow) = both(line.as_bytes());
            assert_eq!(fast.as_ref(), slow.as_ref().ok(), "{line}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

        /// Whatever the fast path reads, serde reads the same; whatever it
        /// does not, serde decides.
        #[test]
        fn mangled_records_read_as_serde_reads_them(line in mangled(lines())) {
            let (fast, slow) = both(&line);
            if let Some(fast) = fast {
                prop_assert_eq!(Ok(fast), slow, "{}", String::from_utf8_lossy(&line));
            }
        }
    }
}
