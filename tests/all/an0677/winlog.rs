//! Windows events written here in the shapes Windows and its shippers
//! produce, from one description per event: Event XML one `<Event>` per
//! line (as `wevtutil qe /f:xml` prints it) and NXLog `im_msvistalog`
//! flattened JSON (event data beside `Hostname`, `Channel`, `EventID`,
//! `RecordNumber`, with the `@timestamp` a Logstash stage adds, as in the
//! OTRF exports). Field names and value forms follow the Security 4688
//! documentation and the Sysmon schema (hex pids in 4688, decimal in
//! Sysmon, `UtcTime` without a zone, `QueryResults` with `::ffff:` forms).

use serde_json::{Map, Value, json};

/// Which log an event is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Log {
    Security,
    Sysmon,
}

impl Log {
    fn channel(self) -> &'static str {
        match self {
            Log::Security => "Security",
            Log::Sysmon => "Microsoft-Windows-Sysmon/Operational",
        }
    }

    fn provider(self) -> (&'static str, &'static str) {
        match self {
            Log::Security => (
                "Microsoft-Windows-Security-Auditing",
                "{54849625-5478-4994-a5ba-3e3b0328c30d}",
            ),
            Log::Sysmon => (
                "Microsoft-Windows-Sysmon",
                "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}",
            ),
        }
    }
}

/// One event: where, when, and its `<Data Name=…>` fields in order.
#[derive(Clone, Debug)]
struct WinEvent {
    log: Log,
    id: u16,
    version: u8,
    record: u64,
    /// Milliseconds after 2026-03-02T00:00:00Z.
    day_ms: i64,
    computer: String,
    data: Vec<(&'static str, String)>,
}

/// The shapes a log can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Xml,
    Nxlog,
}

/// A process as Sysmon names it.
#[derive(Clone, Copy, Debug)]
pub struct Proc<'a> {
    pub guid: &'a str,
    pub pid: u32,
    pub image: &'a str,
}

/// Windows events of one or more hosts, in the order written.
#[derive(Clone, Debug, Default)]
pub struct WinLog {
    events: Vec<WinEvent>,
    security_record: u64,
    sysmon_record: u64,
}

fn day_ms(secs: f64) -> i64 {
    // dumpwatch_tests::T0 is 10:00:00 UTC; scenarios stay within the day.
    let ms = 10 * 3_600_000 + (secs * 1000.0).round() as i64;
    assert!(
        (0..86_400_000).contains(&ms),
        "scenario times stay on 2026-03-02"
    );
    ms
}

fn clock(ms: i64) -> (i64, i64, i64, i64) {
    (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// `2026-03-02 10:01:00.123` (Sysmon UtcTime).
fn utc_time(ms: i64) -> String {
    let (h, m, s, milli) = clock(ms);
    format!("2026-03-02 {h:02}:{m:02}:{s:02}.{milli:03}")
}

/// `2026-03-02T10:01:00.1234567Z` (SystemTime, 100 ns digits).
fn system_time(ms: i64) -> String {
    let (h, m, s, milli) = clock(ms);
    format!("2026-03-02T{h:02}:{m:02}:{s:02}.{milli:03}4567Z")
}

/// `2026-03-02T10:01:00.123Z` (`@timestamp`).
fn iso(ms: i64) -> String {
    let (h, m, s, milli) = clock(ms);
    format!("2026-03-02T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn split_user(user: &str) -> (&str, &str) {
    user.split_once('\\').unwrap_or(("", user))
}

impl WinLog {
    pub fn new() -> WinLog {
        WinLog {
            events: Vec::new(),
            security_record: 1_617_300,
            sysmon_record: 48_000,
        }
    }

    fn push(
        &mut self,
        log: Log,
        id: u16,
        version: u8,
        secs: f64,
        computer: &str,
        data: Vec<(&'static str, String)>,
    ) -> String {
        let record = match log {
            Log::Security => {
                self.security_record += 1;
                self.security_record
            }
            Log::Sysmon => {
                self.sysmon_record += 1;
                self.sysmon_record
            }
        };
        self.events.push(WinEvent {
            log,
            id,
            version,
            record,
            day_ms: day_ms(secs),
            computer: computer.to_string(),
            data,
        });
        format!("{computer}:{}:{record}", log.channel())
    }

    /// Security 4688 (version 2): `user` (`DOMAIN\name`) created `image`
    /// (pid `pid`) from `parent_image` (pid `parent_pid`). Returns the id
    /// dumpwatch gives the event.
    #[allow(clippy::too_many_arguments)]
    pub fn process_4688(
        &mut self,
        secs: f64,
        computer: &str,
        user: &str,
        pid: u32,
        image: &str,
        command_line: &str,
        parent_pid: u32,
        parent_image: &str,
    ) -> String {
        let (domain, name) = split_user(user);
        let data = vec![
            (
                "SubjectUserSid",
                "S-1-5-21-1004336348-1177238915-682003330-1107".to_string(),
            ),
            ("SubjectUserName", name.to_string()),
            ("SubjectDomainName", domain.to_string()),
            ("SubjectLogonId", "0x5d1f3a".to_string()),
            ("NewProcessId", format!("{pid:#x}")),
            ("NewProcessName", image.to_string()),
            ("TokenElevationType", "%%1938".to_string()),
            ("ProcessId", format!("{parent_pid:#x}")),
            ("CommandLine", command_line.to_string()),
            ("TargetUserSid", "S-1-0-0".to_string()),
            ("TargetUserName", "-".to_string()),
            ("TargetDomainName", "-".to_string()),
            ("TargetLogonId", "0x0".to_string()),
            ("ParentProcessName", parent_image.to_string()),
            ("MandatoryLabel", "S-1-16-8192".to_string()),
        ];
        self.push(Log::Security, 4688, 2, secs, computer, data)
    }

    /// Sysmon 1: `user` started `process` with `command_line` from
    /// `parent`.
    pub fn sysmon_1(
        &mut self,
        secs: f64,
        computer: &str,
        user: &str,
        process: Proc<'_>,
        command_line: &str,
        parent: Proc<'_>,
    ) -> String {
        let data = vec![
            ("RuleName", "-".to_string()),
            ("UtcTime", utc_time(day_ms(secs))),
            ("ProcessGuid", process.guid.to_string()),
            ("ProcessId", process.pid.to_string()),
            ("Image", process.image.to_string()),
            ("FileVersion", "-".to_string()),
            ("CommandLine", command_line.to_string()),
            (
                "CurrentDirectory",
                format!("C:\\Users\\{}\\", split_user(user).1),
            ),
            ("User", user.to_string()),
            (
                "LogonGuid",
                "{6f1d2a3b-5a60-67b4-3a1f-5d0000000000}".to_string(),
            ),
            ("LogonId", "0x5d1f3a".to_string()),
            ("TerminalSessionId", "1".to_string()),
            ("IntegrityLevel", "Medium".to_string()),
            (
                "Hashes",
                "SHA256=0000000000000000000000000000000000000000000000000000000000000000"
                    .to_string(),
            ),
            ("ParentProcessGuid", parent.guid.to_string()),
            ("ParentProcessId", parent.pid.to_string()),
            ("ParentImage", parent.image.to_string()),
            ("ParentCommandLine", format!("\"{}\"", parent.image)),
        ];
        self.push(Log::Sysmon, 1, 5, secs, computer, data)
    }

    /// Sysmon 3: `process` connected from `src` to `dst`.
    #[allow(clippy::too_many_arguments)]
    pub fn sysmon_3(
        &mut self,
        secs: f64,
        computer: &str,
        user: &str,
        process: Proc<'_>,
        src: (&str, u16),
        dst: (&str, u16),
        dst_hostname: &str,
    ) -> String {
        let data = vec![
            ("RuleName", "-".to_string()),
            ("UtcTime", utc_time(day_ms(secs))),
            ("ProcessGuid", process.guid.to_string()),
            ("ProcessId", process.pid.to_string()),
            ("Image", process.image.to_string()),
            ("User", user.to_string()),
            ("Protocol", "tcp".to_string()),
            ("Initiated", "true".to_string()),
            ("SourceIsIpv6", "false".to_string()),
            ("SourceIp", src.0.to_string()),
            ("SourceHostname", "-".to_string()),
            ("SourcePort", src.1.to_string()),
            ("SourcePortName", "-".to_string()),
            ("DestinationIsIpv6", "false".to_string()),
            ("DestinationIp", dst.0.to_string()),
            ("DestinationHostname", dst_hostname.to_string()),
            ("DestinationPort", dst.1.to_string()),
            ("DestinationPortName", "https".to_string()),
        ];
        // Sysmon logs network events a few seconds after the fact.
        self.push(Log::Sysmon, 3, 5, secs, computer, data)
    }

    /// Sysmon 11: `process` created `target`. `user` is `None` for the
    /// older schema without `User` (the normalizer then takes the user of
    /// the process's earlier event in the stream, if it saw one).
    pub fn sysmon_11(
        &mut self,
        secs: f64,
        computer: &str,
        user: Option<&str>,
        process: Proc<'_>,
        target: &str,
    ) -> String {
        let mut data = vec![
            ("RuleName", "-".to_string()),
            ("UtcTime", utc_time(day_ms(secs))),
            ("ProcessGuid", process.guid.to_string()),
            ("ProcessId", process.pid.to_string()),
            ("Image", process.image.to_string()),
            ("TargetFilename", target.to_string()),
            ("CreationUtcTime", utc_time(day_ms(secs))),
        ];
        if let Some(user) = user {
            data.push(("User", user.to_string()));
        }
        self.push(Log::Sysmon, 11, 2, secs, computer, data)
    }

    /// Sysmon 22: `process` resolved `query` to `addresses` (IPv4, written
    /// as Sysmon does, v4-mapped and `;`-terminated).
    pub fn sysmon_22(
        &mut self,
        secs: f64,
        computer: &str,
        user: &str,
        process: Proc<'_>,
        query: &str,
        addresses: &[&str],
    ) -> String {
        let results: String = addresses.iter().map(|a| format!("::ffff:{a};")).collect();
        let data = vec![
            ("RuleName", "-".to_string()),
            ("UtcTime", utc_time(day_ms(secs))),
            ("ProcessGuid", process.guid.to_string()),
            ("ProcessId", process.pid.to_string()),
            ("QueryName", query.to_string()),
            ("QueryStatus", "0".to_string()),
            ("QueryResults", results),
            ("Image", process.image.to_string()),
            ("User", user.to_string()),
        ];
        self.push(Log::Sysmon, 22, 5, secs, computer, data)
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// The log in `shape`, events in the given order (indices into the
    /// events as written).
    pub fn render_order(&self, order: &[usize], shape: Shape) -> String {
        let mut out = String::new();
        for &i in order {
            let event = &self.events[i];
            out.push_str(&match shape {
                Shape::Xml => xml(event),
                Shape::Nxlog => nxlog(event),
            });
            out.push('\n');
        }
        out
    }

    /// The log in `shape`, in the order written.
    pub fn render(&self, shape: Shape) -> String {
        self.render_order(&(0..self.events.len()).collect::<Vec<_>>(), shape)
    }
}

/// When the record was written: Sysmon writes a few milliseconds after the
/// action (`UtcTime`), the Security log at the action.
fn created_ms(event: &WinEvent) -> i64 {
    match event.log {
        Log::Security => event.day_ms,
        Log::Sysmon => event.day_ms + 7,
    }
}

fn xml(event: &WinEvent) -> String {
    let (provider, guid) = event.log.provider();
    let (keywords, level, task) = match event.log {
        Log::Security => ("0x8020000000000000", 0, 13312),
        Log::Sysmon => ("0x8000000000000000", 4, event.id),
    };
    let security = match event.log {
        Log::Security => "<Security/>".to_string(),
        Log::Sysmon => "<Security UserID=\"S-1-5-18\"/>".to_string(),
    };
    let data: String = event
        .data
        .iter()
        .map(|(name, value)| format!("<Data Name=\"{name}\">{}</Data>", escape(value)))
        .collect();
    format!(
        "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System><Provider Name=\"{provider}\" Guid=\"{guid}\"/><EventID>{}</EventID><Version>{}</Version><Level>{level}</Level><Task>{task}</Task><Opcode>0</Opcode><Keywords>{keywords}</Keywords><TimeCreated SystemTime=\"{}\"/><EventRecordID>{}</EventRecordID><Correlation/><Execution ProcessID=\"1100\" ThreadID=\"1740\"/><Channel>{}</Channel><Computer>{}</Computer>{security}</System><EventData>{data}</EventData></Event>",
        event.id,
        event.version,
        system_time(created_ms(event)),
        event.record,
        event.log.channel(),
        escape(&event.computer),
    )
}

fn nxlog(event: &WinEvent) -> String {
    let (provider, guid) = event.log.provider();
    let created = created_ms(event);
    let mut record = Map::new();
    record.insert("@timestamp".into(), json!(iso(created)));
    record.insert(
        "EventTime".into(),
        json!(utc_time(created)[..19].to_string()),
    );
    record.insert("Hostname".into(), json!(event.computer));
    record.insert(
        "Keywords".into(),
        json!(if event.log == Log::Security {
            "0x8020000000000000"
        } else {
            "0x8000000000000000"
        }),
    );
    record.insert(
        "EventType".into(),
        json!(if event.log == Log::Security {
            "AUDIT_SUCCESS"
        } else {
            "INFO"
        }),
    );
    record.insert("EventID".into(), json!(event.id));
    record.insert("SourceName".into(), json!(provider));
    record.insert("ProviderGuid".into(), json!(guid));
    record.insert("Version".into(), json!(event.version));
    record.insert("RecordNumber".into(), json!(event.record));
    record.insert("Channel".into(), json!(event.log.channel()));
    record.insert("Message".into(), json!("…rendered message omitted…"));
    for (name, value) in &event.data {
        record.insert((*name).to_string(), Value::String(value.clone()));
    }
    record.insert("SourceModuleName".into(), json!("eventlog"));
    record.insert("SourceModuleType".into(), json!("im_msvistalog"));
    Value::Object(record).to_string()
}
