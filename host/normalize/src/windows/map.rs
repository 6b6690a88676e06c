//! Windows events to normalized events: Security 4688 and Sysmon 1, 3, 11
//! and 22, whatever shape they came in; everything else is skipped by log
//! and id.
//!
//! Rules (documented in `docs/formats/windows.md`):
//!
//! * **Time.** Sysmon events: `UtcTime`, the moment Sysmon saw the action
//!   (UTC by definition; the log's `TimeCreated` is when the record was
//!   written, seconds later for network events, and shippers have been
//!   seen stamping it in local time with a `Z`). Security events:
//!   `TimeCreated`, the only time they carry. Fallbacks in order:
//!   `@timestamp`, NXLog `EventTime`.
//! * **Id.** `Computer:Channel:EventRecordID`; a shape without a record
//!   number (OTRF's flattened exports) gets `Computer:Channel:EventID:h` and
//!   a 64-bit FNV-1a hash of the record's bytes, so byte-identical
//!   duplicates share an id.
//! * **Actor.** 4688: the subject (creator); `TargetUserName` is `-` when the
//!   process runs in the creator's logon, and otherwise becomes the
//!   effective user. Sysmon: `User` (`DOMAIN\user`); events without it (file
//!   and DNS events of older schemas) take the user of the same
//!   `ProcessGuid`'s process-create event seen earlier in the stream. The
//!   log's own `Security UserID` is never used for Sysmon: it is Sysmon's
//!   service account (SYSTEM) on every event.

use std::fmt::Write as _;
use std::net::IpAddr;

use dumpwatch_event::time::parse_datetime;
use dumpwatch_event::{
    Activity, Actor, Device, Endpoint, Event, FileActivity, FileOperation, NameKind, NetworkFlow,
    NetworkName, Process, ProcessStart,
};

use super::fields::{EventData, FieldId as F};
use super::record::{EcsFields, LogKind, WinRecord};
use crate::json_scalar::parse_uint;
use crate::recent::RecentMap;
use crate::{DecodeContext, Output, RecordPos};

/// Event `source` of Security-log events (the WIT contract's name).
pub const SOURCE_SECURITY: &str = "windows-security";
/// Event `source` of Sysmon events.
pub const SOURCE_SYSMON: &str = "sysmon";

/// How many process GUIDs the user join remembers.
const USER_JOIN_CAPACITY: usize = 32 * 1024;
/// Distinct skip counters for channels other than Security and Sysmon;
/// past this, further channels share one counter.
const MAX_OTHER_SKIP_KINDS: usize = 256;

/// An account: name and Windows domain.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Account {
    user: String,
    domain: Option<String>,
}

/// The shape-independent half of the Windows decoders.
pub(crate) struct Mapper {
    host: Option<String>,
    /// ProcessGuid → user of that process (from Sysmon events that name
    /// both).
    users: RecentMap<String, Account>,
    other_channels: usize,
    scratch: String,
}

/// Why a record did not become an event.
enum Fail {
    Skip,
    Error(&'static str, String),
}

impl Mapper {
    pub(crate) fn new(ctx: &DecodeContext) -> Self {
        Mapper {
            host: ctx.host.clone(),
            users: RecentMap::new(USER_JOIN_CAPACITY),
            other_channels: 0,
            scratch: String::new(),
        }
    }

    /// Map one record; `raw` is its bytes (for the id of records without a
    /// record number). The record is taken by reference (and its values
    /// moved out): it is over a kilobyte, and copying it costs.
    pub(crate) fn map(
        &mut self,
        rec: &mut WinRecord<'_>,
        raw: &[u8],
        pos: RecordPos,
        out: &mut Output,
    ) {
        let kind = rec.kind();
        let id = match rec.event_id.as_deref().map(str::trim) {
            None | Some("") => return out.error(pos, "missing EventID", "record has no event id"),
            Some(s) => match s.parse::<u16>() {
                Ok(id) => id,
                Err(_) => return out.error(pos, "invalid EventID", format!("event id {s:?}")),
            },
        };
        merge_ecs(rec, kind);
        if kind == LogKind::Sysmon {
            self.learn_user(rec);
        }
        let result = match (kind, id) {
            (LogKind::Security, 4688) => self.process_4688(rec, raw, id),
            (LogKind::Sysmon, 1 | 3 | 11 | 22) => self.sysmon(rec, raw, id),
            _ => Err(Fail::Skip),
        };
        match result {
            Ok(ev) => out.event(ev),
            Err(Fail::Error(kind, detail)) => out.error(pos, kind, detail),
            Err(Fail::Skip) => self.skip(kind, id, rec.channel.as_deref(), out),
        }
    }

    fn skip(&mut self, kind: LogKind, id: u16, channel: Option<&str>, out: &mut Output) {
        self.scratch.clear();
        // Writing to a String cannot fail.
        let _ = match kind {
            LogKind::Security => write!(self.scratch, "security:{id}"),
            LogKind::Sysmon => write!(self.scratch, "sysmon:{id}"),
            LogKind::Other => {
                let channel = channel.map(str::trim).filter(|c| !c.is_empty());
                match channel {
                    Some(c) if self.other_channels < MAX_OTHER_SKIP_KINDS => {
                        let c: String = c.chars().take(80).collect();
                        write!(self.scratch, "channel:{c}")
                    }
                    Some(_) => write!(self.scratch, "channel:(other)"),
                    None => write!(self.scratch, "channel:(none)"),
                }
            }
        };
        if kind == LogKind::Other && !out.stats.skipped.contains_key(&self.scratch) {
            self.other_channels += 1;
        }
        out.skip(&self.scratch);
    }

    /// Remember the user of a Sysmon event's process, for later events of
    /// the same process that lack one.
    fn learn_user(&mut self, rec: &WinRecord<'_>) {
        if let Some(guid) = rec.data.get(F::ProcessGuid)
            && !self.users.contains(guid)
            && let Some(account) = own_account(rec)
        {
            self.users.insert(guid.to_owned(), account);
        }
    }

    fn device(&self, rec: &WinRecord<'_>, domain: Option<&str>) -> Device {
        Device {
            hostname: rec
                .computer
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .or_else(|| self.host.clone()),
            ip: None,
            domain: domain
                .filter(|d| !is_builtin_authority(d))
                .map(str::to_owned),
        }
    }

    fn event_id(&self, rec: &WinRecord<'_>, raw: &[u8], id: u16) -> String {
        let computer = rec
            .computer
            .as_deref()
            .or(self.host.as_deref())
            .unwrap_or("-");
        let channel = rec.channel.as_deref().unwrap_or("-");
        let record = rec
            .record_id
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        // Sized up front: `format!` starts from a guess and grows the
        // string twice or three times for ids like these.
        let tail = record.map_or(24, str::len);
        let mut s = String::with_capacity(computer.len() + channel.len() + tail + 2);
        s.push_str(computer);
        s.push(':');
        s.push_str(channel);
        s.push(':');
        match record {
            Some(r) => s.push_str(r),
            // Writing to a String cannot fail.
            None => {
                let _ = write!(s, "{id}:h{:016x}", fnv1a64(raw));
            }
        }
        s
    }

    fn process_4688(
        &mut self,
        rec: &mut WinRecord<'_>,
        raw: &[u8],
        id: u16,
    ) -> Result<Event, Fail> {
        let time = time_of(rec, LogKind::Security)?;
        let d = &rec.data;
        let name = basename(required(d, F::NewProcessName)?);
        let (user, domain) = match d.get(F::SubjectUserName) {
            Some(u) => (Some(u), d.get(F::SubjectDomainName)),
            None => (rec.ecs.user.name.as_deref(), rec.ecs.user.domain.as_deref()),
        };
        let actor = Actor {
            user: user.map(str::to_owned),
            effective_user: d.get(F::TargetUserName).map(str::to_owned),
            session: d.get(F::SubjectLogonId).map(str::to_owned),
            ..Default::default()
        };
        let device = self.device(rec, domain);
        let event_id = self.event_id(rec, raw, id);
        let start = ProcessStart {
            elevation: d.get(F::TokenElevationType).map(elevation),
            integrity: d.get(F::MandatoryLabel).map(integrity_of_label),
        };
        let pid_new = pid(d.get(F::NewProcessId));
        let parent_pid = pid(d.get(F::ProcessId));
        let parent_name = d.get(F::ParentProcessName).and_then(basename);
        let d = &mut rec.data;
        let process = Process {
            pid: pid_new,
            name,
            path: d.take(F::NewProcessName),
            command_line: d.take(F::CommandLine),
            parent_pid,
            parent_name,
            parent_path: d.take(F::ParentProcessName),
            ..Default::default()
        };
        Ok(Event {
            time,
            source: SOURCE_SECURITY,
            id: event_id,
            device,
            actor,
            process: Some(Box::new(process)),
            activity: Activity::ProcessStart(start),
        })
    }

    fn sysmon(&mut self, rec: &mut WinRecord<'_>, raw: &[u8], id: u16) -> Result<Event, Fail> {
        let time = time_of(rec, LogKind::Sysmon)?;
        let (user, domain) = match self.account_of(rec) {
            Some(a) => (Some(a.user), a.domain),
            None => (None, None),
        };
        let actor = Actor {
            user,
            session: if id == 1 {
                rec.data.get(F::LogonId).map(str::to_owned)
            } else {
                None
            },
            ..Default::default()
        };
        let device = self.device(rec, domain.as_deref());
        let event_id = self.event_id(rec, raw, id);
        let d = &rec.data;
        let mut process = Process {
            pid: pid(d.get(F::ProcessId)),
            name: d.get(F::Image).and_then(basename),
            ..Default::default()
        };
        let activity = match id {
            1 => {
                required(d, F::Image)?;
                process.parent_pid = pid(d.get(F::ParentProcessId));
                process.parent_name = d.get(F::ParentImage).and_then(basename);
                let integrity = d.get(F::IntegrityLevel).map(str::to_owned);
                let d = &mut rec.data;
                process.command_line = d.take(F::CommandLine);
                process.cwd = d.take(F::CurrentDirectory);
                process.parent_guid = d.take(F::ParentProcessGuid);
                process.parent_path = d.take(F::ParentImage);
                Activity::ProcessStart(ProcessStart {
                    elevation: None,
                    integrity,
                })
            }
            3 => Activity::Network(network(d)?),
            11 => {
                required(d, F::TargetFilename)?;
                Activity::File(FileActivity {
                    operation: FileOperation::Create,
                    path: rec.data.take(F::TargetFilename).unwrap_or_default(),
                    source_path: None,
                    size: None,
                })
            }
            _ => Activity::Name(dns_query(d, &rec.ecs)?),
        };
        process.path = rec.data.take(F::Image);
        process.guid = rec.data.take(F::ProcessGuid);
        Ok(Event {
            time,
            source: SOURCE_SYSMON,
            id: event_id,
            device,
            actor,
            process: Some(Box::new(process)),
            activity,
        })
    }

    /// The user of a Sysmon event: its own, or the user of its process
    /// seen earlier.
    fn account_of(&self, rec: &WinRecord<'_>) -> Option<Account> {
        own_account(rec).or_else(|| self.users.get(rec.data.get(F::ProcessGuid)?).cloned())
    }
}

/// The user a Sysmon event names: `User` (`DOMAIN\user`), or the ECS
/// `user.name`/`user.domain` the Sysmon module split it into.
fn own_account(rec: &WinRecord<'_>) -> Option<Account> {
    if let Some(u) = rec.data.get(F::User) {
        let (domain, name) = split_account(u);
        return Some(Account {
            user: name.to_owned(),
            domain: domain.map(str::to_owned),
        });
    }
    let name = rec
        .ecs
        .user
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())?;
    Some(Account {
        user: name.to_owned(),
        domain: rec.ecs.user.domain.as_deref().map(str::to_owned),
    })
}

/// Put ECS copies of moved fields back into their event-data slots.
fn merge_ecs<'a>(rec: &mut WinRecord<'a>, kind: LogKind) {
    let e = std::mem::take(&mut rec.ecs.process_executable);
    let d = &mut rec.data;
    let ecs = &mut rec.ecs;
    match kind {
        LogKind::Security => {
            d.fill(F::NewProcessName, e);
            d.fill(F::NewProcessId, ecs.process_pid.take());
            d.fill(F::ParentProcessName, ecs.parent_executable.take());
            d.fill(F::CommandLine, ecs.process_command_line.take());
        }
        LogKind::Sysmon => {
            d.fill(F::Image, e);
            d.fill(F::ProcessId, ecs.process_pid.take());
            d.fill(F::ProcessGuid, ecs.process_entity_id.take());
            d.fill(F::CommandLine, ecs.process_command_line.take());
            d.fill(F::CurrentDirectory, ecs.process_working_directory.take());
            d.fill(F::ParentImage, ecs.parent_executable.take());
            d.fill(F::ParentProcessId, ecs.parent_pid.take());
            d.fill(F::ParentProcessGuid, ecs.parent_entity_id.take());
            d.fill(F::TargetFilename, ecs.file_path.take());
            d.fill(F::SourceIp, ecs.source_ip.take());
            d.fill(F::SourcePort, ecs.source_port.take());
            d.fill(F::DestinationIp, ecs.destination_ip.take());
            d.fill(F::DestinationPort, ecs.destination_port.take());
            d.fill(F::DestinationHostname, ecs.destination_domain.take());
            d.fill(F::Protocol, ecs.network_transport.take());
            d.fill(F::QueryName, ecs.dns_question_name.take());
        }
        LogKind::Other => {}
    }
}

/// The event time by the rule in the module docs. The first field present
/// decides: a present but unreadable time is an error, not a fallback.
fn time_of(rec: &WinRecord<'_>, kind: LogKind) -> Result<i64, Fail> {
    let utc = match kind {
        LogKind::Sysmon => rec.data.get(F::UtcTime).map(|v| (F::UtcTime.name(), v)),
        _ => None,
    };
    let candidates = [
        utc,
        rec.time_created.as_deref().map(|v| ("TimeCreated", v)),
        rec.timestamp.as_deref().map(|v| ("@timestamp", v)),
        rec.event_time.as_deref().map(|v| ("EventTime", v)),
    ];
    // After the Sysmon module, `@timestamp` *is* UtcTime and the log time
    // is gone; prefer it over nothing but never over UtcTime itself.
    let order: &[usize] = match kind {
        LogKind::Sysmon if utc.is_none() => &[2, 1, 3],
        _ => &[0, 1, 2, 3],
    };
    let (name, value) = order
        .iter()
        .find_map(|&i| candidates[i].filter(|(_, v)| !v.trim().is_empty()))
        .ok_or_else(|| {
            Fail::Error(
                "missing time",
                "no UtcTime, TimeCreated or @timestamp".into(),
            )
        })?;
    parse_datetime(value).ok_or_else(|| {
        Fail::Error(
            "invalid time",
            format!("{name} {value:?} is not a date-time"),
        )
    })
}

fn required<'d>(d: &'d EventData<'_>, f: F) -> Result<&'d str, Fail> {
    d.get(f)
        .ok_or_else(|| Fail::Error("missing field", format!("{} is missing or empty", f.name())))
}

fn network(d: &EventData<'_>) -> Result<NetworkFlow, Fail> {
    let dst_ip = required(d, F::DestinationIp)?;
    let dst_ip = parse_ip(dst_ip).ok_or_else(|| {
        Fail::Error(
            "invalid field",
            format!("DestinationIp {dst_ip:?} is not an address"),
        )
    })?;
    let protocol = d.get(F::Protocol).and_then(|p| match p.trim() {
        t if t.eq_ignore_ascii_case("tcp") => Some(6),
        t if t.eq_ignore_ascii_case("udp") => Some(17),
        _ => None,
    });
    Ok(NetworkFlow {
        src: Endpoint {
            ip: d.get(F::SourceIp).and_then(parse_ip),
            port: port(d.get(F::SourcePort)),
            hostname: None,
        },
        dst: Endpoint {
            ip: Some(dst_ip),
            port: port(d.get(F::DestinationPort)),
            hostname: d.get(F::DestinationHostname).map(|h| h.trim().to_owned()),
        },
        protocol,
        ..Default::default()
    })
}

fn dns_query(d: &EventData<'_>, ecs: &EcsFields<'_>) -> Result<NetworkName, Fail> {
    let name = required(d, F::QueryName)?;
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let mut answers = match d.get(F::QueryResults) {
        Some(results) => query_results(results),
        None => Vec::new(),
    };
    for a in &ecs.answers {
        if !answers.contains(a) {
            answers.push(*a);
        }
    }
    Ok(NetworkName {
        kind: NameKind::DnsQuery,
        name,
        src: Endpoint::default(),
        dst: Endpoint::default(),
        answers,
    })
}

/// The addresses in Sysmon's `QueryResults`: `;`-separated items, where
/// `type:  5 name` items are CNAMEs (skipped) and IPv4 answers are written
/// v4-mapped (`::ffff:1.2.3.4`).
pub(crate) fn query_results(results: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for item in results.split(';') {
        let item = item.trim();
        if item.is_empty() || item.starts_with("type:") {
            continue;
        }
        if let Some(ip) = parse_ip(item)
            && !out.contains(&ip)
        {
            out.push(ip);
        }
    }
    out
}

/// An address as Windows writes it: plain, v4-mapped IPv6 (unmapped to
/// IPv4), or IPv6 with a `%zone` suffix (dropped).
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let s = match memchr::memchr(b'%', s.as_bytes()) {
        // `%` is ASCII: a char boundary.
        Some(at) => &s[..at],
        None => s,
    };
    let ip = crate::ip::parse(s)?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

fn port(s: Option<&str>) -> Option<u16> {
    s.and_then(|p| p.trim().parse().ok())
}

/// A pid written in decimal (Sysmon) or hex (`0x9e4`, Security).
fn pid(s: Option<&str>) -> Option<u32> {
    s.and_then(parse_uint).and_then(|v| u32::try_from(v).ok())
}

/// The file name of a Windows (or POSIX) path.
pub(crate) fn basename(path: &str) -> Option<String> {
    let b = path.as_bytes();
    let end = b.len()
        - b.iter()
            .rev()
            .take_while(|&&c| c == b'\\' || c == b'/')
            .count();
    let start = memchr::memrchr2(b'\\', b'/', &b[..end]).map_or(0, |i| i + 1);
    // Both ends are at ASCII separators or the string's ends: char
    // boundaries.
    (start < end).then(|| path[start..end].to_owned())
}

/// `DOMAIN\user` → (Some(DOMAIN), user); a bare name has no domain.
fn split_account(s: &str) -> (Option<&str>, &str) {
    match s.trim().rsplit_once('\\') {
        Some((d, u)) if !d.is_empty() => (Some(d), u),
        Some((_, u)) => (None, u),
        None => (None, s.trim()),
    }
}

/// Logon "domains" that are Windows' own authorities, not a domain the
/// device belongs to.
fn is_builtin_authority(domain: &str) -> bool {
    const BUILTIN: &[&str] = &[
        "NT AUTHORITY",
        "NT SERVICE",
        "BUILTIN",
        "Window Manager",
        "Font Driver Host",
        "IIS APPPOOL",
        "NT VIRTUAL MACHINE",
        "-",
    ];
    let d = domain.trim();
    d.is_empty() || BUILTIN.iter().any(|b| b.eq_ignore_ascii_case(d))
}

/// `TokenElevationType` to the contract's words: `%%1936` default (type 1),
/// `%%1937` full (type 2, elevated), `%%1938` limited (type 3). Renderings
/// that name the type (`TokenElevationTypeFull (2)`) are read too; anything
/// else is kept as recorded.
fn elevation(v: &str) -> String {
    let t = v.trim();
    let word = if t.contains("1936") || t.contains("Default") || t.contains("(1)") {
        "default"
    } else if t.contains("1937") || t.contains("Full") || t.contains("(2)") {
        "full"
    } else if t.contains("1938") || t.contains("Limited") || t.contains("(3)") {
        "limited"
    } else {
        return t.to_owned();
    };
    word.to_owned()
}

/// 4688 `MandatoryLabel` (an integrity SID) to the level names Sysmon's
/// `IntegrityLevel` uses, so both sources speak one vocabulary; unknown
/// labels are kept as recorded.
fn integrity_of_label(v: &str) -> String {
    let name = match v.trim() {
        "S-1-16-0" => "Untrusted",
        "S-1-16-4096" => "Low",
        "S-1-16-8192" => "Medium",
        "S-1-16-8448" => "MediumPlus",
        "S-1-16-12288" => "High",
        "S-1-16-16384" => "System",
        "S-1-16-20480" => "Protected",
        other => return other.to_owned(),
    };
    name.to_owned()
}

/// 64-bit FNV-1a: a fixed, documented hash, so record ids built from it are
/// the same on every build (std's hasher promises no such thing).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_results_keep_addresses_only() {
        let r = "type:  5 f2.taboola.map.fastly.net;::ffff:151.101.66.2;::ffff:151.101.130.2;2a04:4e42::2;;";
        let ips = query_results(r);
        assert_eq!(
            ips,
            vec![
                "151.101.66.2".parse::<IpAddr>().expect("ip"),
                "151.101.130.2".parse().expect("ip"),
                "2a04:4e42::2".parse().expect("ip"),
            ]
        );
        assert!(query_results("type:  5 x.example;").is_empty());
    }

    proptest::proptest! {
        /// The byte scan names the same file as splitting on either
        /// separator does.
        #[test]
        fn basename_is_the_last_path_component(path in "[a-zA-Z\\\\/é. ]{0,16}") {
            let split = path
                .trim_end_matches(['\\', '/'])
                .rsplit(['\\', '/'])
                .next()
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            proptest::prop_assert_eq!(basename(&path), split);
        }
    }

    #[test]
    fn small_helpers() {
        assert_eq!(
            basename("C:\\Windows\\System32\\cmd.exe").as_deref(),
            Some("cmd.exe")
        );
        assert_eq!(basename("sqlcmd").as_deref(), Some("sqlcmd"));
        assert_eq!(basename("C:\\dir\\").as_deref(), Some("dir"));
        assert_eq!(basename(""), None);
        assert_eq!(split_account("OFFSEC\\admmig"), (Some("OFFSEC"), "admmig"));
        assert_eq!(split_account("admmig"), (None, "admmig"));
        assert_eq!(pid(Some("0x9e4")), Some(0x9e4));
        assert_eq!(pid(Some("3504")), Some(3504));
        assert_eq!(pid(Some("0x1ffffffff")), None);
        assert_eq!(elevation("%%1937"), "full");
        assert_eq!(elevation("%%1936"), "default");
        assert_eq!(elevation("%%1938"), "limited");
        assert_eq!(elevation("odd"), "odd");
        assert_eq!(integrity_of_label("S-1-16-12288"), "High");
        assert_eq!(integrity_of_label("S-1-16-99"), "S-1-16-99");
        assert_eq!(parse_ip("fe80::1%12"), Some("fe80::1".parse().expect("ip")));
        assert_eq!(
            parse_ip("::ffff:10.0.0.1"),
            Some("10.0.0.1".parse().expect("ip"))
        );
        assert!(is_builtin_authority("NT AUTHORITY"));
        assert!(!is_builtin_authority("OFFSEC"));
        // FNV-1a test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
