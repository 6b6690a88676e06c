//! The event-data fields the Windows mapping reads, by their Windows names.
//!
//! Every shape carries the same `EventData` names (`<Data Name="Image">`,
//! NXLog's top-level `"Image"`, Winlogbeat's `winlog.event_data.Image`), so
//! each decoder looks a name up once in [`FieldId::from_name`] and stores
//! the value in a fixed slot of [`EventData`]; names the mapping does not
//! use are skipped without being kept. Values borrow from the input where
//! the input allows it.

use std::borrow::Cow;

macro_rules! fields {
    ($($id:ident),* $(,)?) => {
        /// An event-data field the mapping reads; the variant name is the
        /// Windows field name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(clippy::enum_variant_names)]
        pub(crate) enum FieldId { $($id),* }

        impl FieldId {
            /// Every field, in declaration order (`f as usize` is its index).
            pub(crate) const ALL: [FieldId; FIELD_COUNT] = [$(FieldId::$id),*];

            /// The field of a Windows event-data name, if the mapping uses it.
            pub(crate) fn from_name(name: &str) -> Option<FieldId> {
                match name {
                    $(stringify!($id) => Some(FieldId::$id),)*
                    _ => None,
                }
            }

            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(FieldId::$id => stringify!($id),)*
                }
            }
        }

        const FIELD_COUNT: usize = [$(stringify!($id)),*].len();
    };
}

fields! {
    // Security 4688
    SubjectUserName,
    SubjectDomainName,
    SubjectLogonId,
    NewProcessId,
    NewProcessName,
    TokenElevationType,
    TargetUserName,
    TargetDomainName,
    ParentProcessName,
    MandatoryLabel,
    // both (4688: the creator's pid, in hex; Sysmon: the process's, decimal)
    ProcessId,
    CommandLine,
    // Sysmon
    UtcTime,
    ProcessGuid,
    Image,
    CurrentDirectory,
    User,
    LogonId,
    IntegrityLevel,
    ParentProcessGuid,
    ParentProcessId,
    ParentImage,
    Protocol,
    SourceIp,
    SourcePort,
    DestinationIp,
    DestinationHostname,
    DestinationPort,
    TargetFilename,
    QueryName,
    QueryResults,
}

/// The used event-data values of one record.
#[derive(Debug)]
pub(crate) struct EventData<'a> {
    values: [Option<Cow<'a, str>>; FIELD_COUNT],
}

impl Default for EventData<'_> {
    fn default() -> Self {
        EventData {
            values: [const { None }; FIELD_COUNT],
        }
    }
}

impl<'a> EventData<'a> {
    pub(crate) fn set(&mut self, f: FieldId, v: Cow<'a, str>) {
        self.values[f as usize] = Some(v);
    }

    /// Set `f` only if the record had no value for it: the ECS copy of a
    /// field fills in for an event-data field a pipeline moved away.
    pub(crate) fn fill(&mut self, f: FieldId, v: Option<Cow<'a, str>>) {
        // The value first: a shape without ECS fields gives none, and
        // reading the slot trims its text.
        if let Some(v) = v
            && self.get(f).is_none()
        {
            self.values[f as usize] = Some(v);
        }
    }

    /// Take the value of `f` out (as [`EventData::get`] reads it), without
    /// copying it when it was already owned (every JSON string with a
    /// backslash, i.e. every Windows path).
    pub(crate) fn take(&mut self, f: FieldId) -> Option<String> {
        self.get(f)?;
        self.values[f as usize].take().map(Cow::into_owned)
    }

    /// The value of `f`, or `None` when absent, empty, or Windows' `-`
    /// placeholder ("not applicable", e.g. `TargetUserName` of a process
    /// created in the creator's own logon, `DestinationHostname` without a
    /// reverse lookup).
    pub(crate) fn get(&self, f: FieldId) -> Option<&str> {
        let v = self.values[f as usize].as_deref()?;
        let t = v.trim_ascii();
        (!t.is_empty() && t != "-").then_some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_placeholders_read_as_absent() {
        assert_eq!(FieldId::from_name("Image"), Some(FieldId::Image));
        assert_eq!(FieldId::Image.name(), "Image");
        assert_eq!(FieldId::from_name("image"), None);
        assert_eq!(FieldId::from_name("Hashes"), None);
        let mut d = EventData::default();
        d.set(FieldId::TargetUserName, "-".into());
        d.set(FieldId::CommandLine, "".into());
        d.set(FieldId::Image, "C:\\x.exe".into());
        assert_eq!(d.get(FieldId::TargetUserName), None);
        assert_eq!(d.get(FieldId::CommandLine), None);
        assert_eq!(d.get(FieldId::Image), Some("C:\\x.exe"));
        d.fill(FieldId::Image, Some("other".into()));
        d.fill(FieldId::CommandLine, Some("cmd /c".into()));
        assert_eq!(d.get(FieldId::Image), Some("C:\\x.exe"));
        assert_eq!(d.get(FieldId::CommandLine), Some("cmd /c"));
    }
}
