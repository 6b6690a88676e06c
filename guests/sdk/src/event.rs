//! Reading events: the class of an event, who is accountable for it, what
//! process it names, where it went. Small accessors every analytic needs,
//! written once so they agree on fallbacks (the login user before the
//! effective user; the executable's path when its name is missing).

use std::borrow::Cow;

use crate::glob::file_name;
use crate::types::{Activity, Endpoint, Event, EventClass};

/// The class of the event's activity.
pub fn class_of(event: &Event) -> EventClass {
    match &event.activity {
        Activity::ProcessStart(_) => EventClass::ProcessStart,
        Activity::File(_) => EventClass::File,
        Activity::Network(_) => EventClass::Network,
        Activity::Http(_) => EventClass::Http,
        Activity::Name(_) => EventClass::Name,
        Activity::CloudApi(_) => EventClass::CloudApi,
        Activity::Query(_) => EventClass::Query,
        Activity::FileAccess(_) => EventClass::FileAccess,
    }
}

const CLASSES: [EventClass; 8] = [
    EventClass::ProcessStart,
    EventClass::File,
    EventClass::Network,
    EventClass::Http,
    EventClass::Name,
    EventClass::CloudApi,
    EventClass::Query,
    EventClass::FileAccess,
];

/// A small number for a class, for compact state.
pub fn class_index(class: EventClass) -> u8 {
    CLASSES.iter().position(|&c| c == class).unwrap_or(0) as u8
}

/// The class of [`class_index`]; out-of-range values read as process-start.
pub fn class_from_index(index: u8) -> EventClass {
    CLASSES
        .get(usize::from(index))
        .copied()
        .unwrap_or(EventClass::ProcessStart)
}

/// The account an event is attributed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Account<'a> {
    pub name: Option<&'a str>,
    pub uid: Option<u32>,
}

impl<'a> Account<'a> {
    /// The name, or the numeric id as text when no name is known.
    pub fn text(&self) -> Cow<'a, str> {
        match (self.name, self.uid) {
            (Some(name), _) => Cow::Borrowed(name),
            (None, Some(uid)) => Cow::Owned(uid.to_string()),
            (None, None) => Cow::Borrowed(""),
        }
    }

    /// Whether `entries` (account names or numeric ids) name this account.
    pub fn is_listed<S: AsRef<str>>(&self, entries: &[S]) -> bool {
        entries.iter().any(|entry| {
            let entry = entry.as_ref();
            self.name == Some(entry) || self.uid.is_some_and(|uid| entry.parse::<u32>() == Ok(uid))
        })
    }
}

/// The accountable user: the login user (`actor.user`/`actor.uid`, auditd's
/// auid), or when that is unset (daemons, cron) the effective user.
pub fn accountable_user(event: &Event) -> Option<Account<'_>> {
    let actor = &event.actor;
    let login = Account {
        name: nonempty(actor.user.as_deref()),
        uid: actor.uid,
    };
    if login.name.is_some() || login.uid.is_some() {
        return Some(login);
    }
    let effective = Account {
        name: nonempty(actor.effective_user.as_deref()),
        uid: actor.effective_uid,
    };
    (effective.name.is_some() || effective.uid.is_some()).then_some(effective)
}

fn nonempty(text: Option<&str>) -> Option<&str> {
    text.filter(|text| !text.is_empty())
}

/// The executable name of the event's process, from its path when the name
/// is missing.
pub fn process_name(event: &Event) -> Option<&str> {
    let process = event.process.as_ref()?;
    nonempty(process.name.as_deref()).or_else(|| {
        process
            .path
            .as_deref()
            .map(file_name)
            .filter(|name| !name.is_empty())
    })
}

/// The remote side of a network, HTTP or name event.
pub fn destination(event: &Event) -> Option<&Endpoint> {
    match &event.activity {
        Activity::Network(flow) => Some(&flow.dst),
        Activity::Http(request) => Some(&request.dst),
        Activity::Name(name) => Some(&name.dst),
        _ => None,
    }
}

/// The event's device host name, if any.
pub fn hostname(event: &Event) -> Option<&str> {
    nonempty(event.device.hostname.as_deref())
}
