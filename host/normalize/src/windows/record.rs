//! One Windows event as the decoders hand it to the mapping, whatever the
//! shape it came in (XML, NXLog JSON, Winlogbeat raw or ECS).

use std::borrow::Cow;
use std::net::IpAddr;

use super::fields::EventData;

/// Which log an event belongs to, from its channel or provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogKind {
    /// The Security log (`Microsoft-Windows-Security-Auditing`).
    Security,
    /// Sysmon's operational log (`Microsoft-Windows-Sysmon`).
    Sysmon,
    /// Any other channel (Application, System, BITS …).
    Other,
}

impl LogKind {
    /// Classify by channel name, falling back to the provider name (the
    /// channel is the stable one; forwarded events keep it).
    pub(crate) fn classify(channel: Option<&str>, provider: Option<&str>) -> LogKind {
        let by_channel = channel.map(|c| {
            if c.eq_ignore_ascii_case("Security") {
                LogKind::Security
            } else if c.eq_ignore_ascii_case("Microsoft-Windows-Sysmon/Operational") {
                LogKind::Sysmon
            } else {
                LogKind::Other
            }
        });
        match by_channel {
            Some(LogKind::Other) | None => match provider {
                Some(p) if p.eq_ignore_ascii_case("Microsoft-Windows-Security-Auditing") => {
                    LogKind::Security
                }
                Some(p) if p.eq_ignore_ascii_case("Microsoft-Windows-Sysmon") => LogKind::Sysmon,
                _ => by_channel.unwrap_or(LogKind::Other),
            },
            Some(k) => k,
        }
    }
}

/// Account fields a shape records outside the event data: Winlogbeat's ECS
/// `user.*` (Sysmon `User` split by the module) or `winlog.user`.
#[derive(Debug, Default)]
pub(crate) struct Account<'a> {
    pub name: Option<Cow<'a, str>>,
    pub domain: Option<Cow<'a, str>>,
}

/// Fields Winlogbeat's modules moved out of `winlog.event_data` into ECS
/// (`process.executable`, `destination.ip` …). The mapping puts each back
/// in its event-data slot when that slot is empty; which slot depends on
/// the log (`process.pid` is `NewProcessId` for 4688, `ProcessId` for
/// Sysmon), so the merge happens there, not in the decoder.
#[derive(Debug, Default)]
pub(crate) struct EcsFields<'a> {
    pub process_executable: Option<Cow<'a, str>>,
    pub process_command_line: Option<Cow<'a, str>>,
    pub process_pid: Option<Cow<'a, str>>,
    pub process_entity_id: Option<Cow<'a, str>>,
    pub process_working_directory: Option<Cow<'a, str>>,
    pub parent_executable: Option<Cow<'a, str>>,
    pub parent_pid: Option<Cow<'a, str>>,
    pub parent_entity_id: Option<Cow<'a, str>>,
    pub file_path: Option<Cow<'a, str>>,
    pub source_ip: Option<Cow<'a, str>>,
    pub source_port: Option<Cow<'a, str>>,
    pub destination_ip: Option<Cow<'a, str>>,
    pub destination_port: Option<Cow<'a, str>>,
    pub destination_domain: Option<Cow<'a, str>>,
    pub network_transport: Option<Cow<'a, str>>,
    pub dns_question_name: Option<Cow<'a, str>>,
    /// `user.name` / `user.domain` (the Sysmon module splits `User` there;
    /// the Security module copies the subject there).
    pub user: Account<'a>,
    /// `dns.answers[].data` and `dns.resolved_ip` that are addresses.
    pub answers: Vec<IpAddr>,
}

/// One decoded Windows event.
#[derive(Debug, Default)]
pub(crate) struct WinRecord<'a> {
    /// `Computer` / NXLog `Hostname` / `winlog.computer_name`.
    pub computer: Option<Cow<'a, str>>,
    pub channel: Option<Cow<'a, str>>,
    /// Provider name (`Provider Name=`, NXLog `SourceName`,
    /// `winlog.provider_name`).
    pub provider: Option<Cow<'a, str>>,
    /// Event id as written (number or string).
    pub event_id: Option<Cow<'a, str>>,
    /// `EventRecordID` / NXLog `RecordNumber` / `winlog.record_id`.
    pub record_id: Option<Cow<'a, str>>,
    /// `TimeCreated SystemTime` (XML), NXLog `TimeCreated`,
    /// `winlog.time_created`: when the event was written to the log.
    pub time_created: Option<Cow<'a, str>>,
    /// `@timestamp` of a JSON shipper. Raw Winlogbeat: the log time; after
    /// the Sysmon module: `UtcTime`, moved there.
    pub timestamp: Option<Cow<'a, str>>,
    /// NXLog `EventTime`: local time without a zone (last resort).
    pub event_time: Option<Cow<'a, str>>,
    pub data: EventData<'a>,
    /// Winlogbeat ECS fields (empty for XML and NXLog).
    pub ecs: EcsFields<'a>,
}

impl WinRecord<'_> {
    pub(crate) fn kind(&self) -> LogKind {
        LogKind::classify(self.channel.as_deref(), self.provider.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_channel_then_provider() {
        assert_eq!(LogKind::classify(Some("Security"), None), LogKind::Security);
        assert_eq!(
            LogKind::classify(Some("Microsoft-Windows-Sysmon/Operational"), None),
            LogKind::Sysmon
        );
        assert_eq!(
            LogKind::classify(None, Some("Microsoft-Windows-Sysmon")),
            LogKind::Sysmon
        );
        assert_eq!(
            LogKind::classify(
                Some("ForwardedEvents"),
                Some("Microsoft-Windows-Security-Auditing")
            ),
            LogKind::Security
        );
        assert_eq!(
            LogKind::classify(Some("Microsoft-Windows-Bits-Client/Operational"), None),
            LogKind::Other
        );
        assert_eq!(LogKind::classify(None, None), LogKind::Other);
    }
}
