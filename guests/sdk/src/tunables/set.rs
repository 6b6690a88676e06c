//! Typed, validated reading of a configured tunable set.

use crate::address::NetworkSet;
use crate::glob::GlobList;
use crate::schedule::WeeklySchedule;
use crate::types::{ConfigError, Tunable, TunableSpec, TunableValue};

/// A configured tunable set checked against the manifest's specs.
///
/// Each accessor returns the configured value, or the spec's default when
/// the tunable is absent; when the value is invalid it records a
/// `config-error` and returns the default, so the analytic can finish
/// reading and [`TunableSet::finish`] reports everything at once.
///
/// ```
/// use dumpwatch_sdk::tunables::{TunableSet, spec};
/// use dumpwatch_sdk::types::{Tunable, TunableValue};
///
/// let specs = [spec::duration("TimeWindow", 600_000, "…"), spec::glob_list("Files", &["*.sql"], "…")];
/// let given = [Tunable { name: "TimeWindow".into(), value: TunableValue::Integer(-1) }];
/// let mut set = TunableSet::new(&specs, &given);
/// let window = set.duration_ms("TimeWindow");
/// let files = set.glob_list("Files", false);
/// assert_eq!(window, 600_000); // the default, since -1 was rejected
/// assert!(files.matches("/tmp/x.sql"));
/// let errors = set.finish().unwrap_err();
/// assert_eq!(errors[0].tunable, "TimeWindow");
/// ```
pub struct TunableSet<'a> {
    specs: &'a [TunableSpec],
    given: &'a [Tunable],
    errors: Vec<ConfigError>,
}

impl<'a> TunableSet<'a> {
    /// Check names: a tunable the manifest does not declare, or one given
    /// twice, is an error.
    pub fn new(specs: &'a [TunableSpec], given: &'a [Tunable]) -> TunableSet<'a> {
        let mut set = TunableSet {
            specs,
            given,
            errors: Vec::new(),
        };
        for (index, tunable) in given.iter().enumerate() {
            if !specs.iter().any(|spec| spec.name == tunable.name) {
                let known: Vec<&str> = specs.iter().map(|spec| spec.name.as_str()).collect();
                set.error(
                    &tunable.name,
                    format!(
                        "unknown tunable; this analytic accepts {}",
                        known.join(", ")
                    ),
                );
            } else if given[..index]
                .iter()
                .any(|earlier| earlier.name == tunable.name)
            {
                set.error(&tunable.name, "given more than once".to_string());
            }
        }
        set
    }

    /// Record a problem found by the analytic's own validation.
    pub fn error(&mut self, tunable: &str, message: String) {
        self.errors.push(ConfigError {
            tunable: tunable.to_string(),
            message,
        });
    }

    /// `Ok` when nothing was wrong, else every problem, in reading order.
    pub fn finish(self) -> Result<(), Vec<ConfigError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }

    /// The configured value, or the default; `None` (with an error) when the
    /// analytic asks for a tunable its manifest does not declare.
    fn raw(&mut self, name: &str) -> Option<(&'a TunableValue, &'a TunableValue)> {
        let Some(spec) = self.specs.iter().find(|spec| spec.name == name) else {
            self.error(
                name,
                "read by the analytic but not declared in its manifest".into(),
            );
            return None;
        };
        let value = self
            .given
            .iter()
            .find(|tunable| tunable.name == name)
            .map_or(&spec.default, |tunable| &tunable.value);
        Some((value, &spec.default))
    }

    fn integer_value(&mut self, name: &str, what: &str) -> Option<(i64, i64)> {
        let (value, default) = self.raw(name)?;
        let default = match default {
            TunableValue::Integer(default) => *default,
            _ => 0,
        };
        match value {
            TunableValue::Integer(value) => Some((*value, default)),
            other => {
                self.error(name, format!("expected {what}, got {}", shape(other)));
                Some((default, default))
            }
        }
    }

    fn list_value(&mut self, name: &str, what: &str) -> Option<(Vec<String>, Vec<String>)> {
        let (value, default) = self.raw(name)?;
        let default = match default {
            TunableValue::TextList(list) => list.clone(),
            _ => Vec::new(),
        };
        match value {
            TunableValue::TextList(list) => Some((list.clone(), default)),
            // A single text where a list is expected is a list of one.
            TunableValue::Text(text) => Some((vec![text.clone()], default)),
            other => {
                self.error(name, format!("expected {what}, got {}", shape(other)));
                Some((default.clone(), default))
            }
        }
    }

    /// A flag.
    pub fn flag(&mut self, name: &str) -> bool {
        let Some((value, default)) = self.raw(name) else {
            return false;
        };
        match value {
            TunableValue::Flag(flag) => *flag,
            other => {
                self.error(
                    name,
                    format!("expected true or false, got {}", shape(other)),
                );
                matches!(default, TunableValue::Flag(true))
            }
        }
    }

    /// An integer within `min..=max`.
    pub fn integer(&mut self, name: &str, min: i64, max: i64) -> i64 {
        let Some((value, default)) = self.integer_value(name, "an integer") else {
            return min;
        };
        if (min..=max).contains(&value) {
            value
        } else {
            self.error(
                name,
                format!("{value} is out of range; expected {min} to {max}"),
            );
            default
        }
    }

    /// A duration in milliseconds, at least `min_ms` (≥ 0).
    pub fn duration_ms_at_least(&mut self, name: &str, min_ms: i64) -> i64 {
        let Some((value, default)) = self.integer_value(name, "a duration") else {
            return min_ms;
        };
        if value < 0 {
            self.error(name, format!("a duration cannot be negative ({value} ms)"));
            default
        } else if value < min_ms {
            self.error(
                name,
                format!("{value} ms is too short; the minimum is {min_ms} ms"),
            );
            default
        } else {
            value
        }
    }

    /// A non-negative duration in milliseconds.
    pub fn duration_ms(&mut self, name: &str) -> i64 {
        self.duration_ms_at_least(name, 0)
    }

    /// A non-negative byte count.
    pub fn bytes(&mut self, name: &str) -> u64 {
        let Some((value, default)) = self.integer_value(name, "a byte size") else {
            return 0;
        };
        match u64::try_from(value) {
            Ok(bytes) => bytes,
            Err(_) => {
                self.error(name, format!("a byte size cannot be negative ({value})"));
                u64::try_from(default).unwrap_or(0)
            }
        }
    }

    /// A text.
    pub fn text(&mut self, name: &str) -> String {
        let Some((value, default)) = self.raw(name) else {
            return String::new();
        };
        match value {
            TunableValue::Text(text) => text.clone(),
            other => {
                self.error(name, format!("expected a text, got {}", shape(other)));
                match default {
                    TunableValue::Text(text) => text.clone(),
                    _ => String::new(),
                }
            }
        }
    }

    /// A list of texts, each trimmed; an empty entry is an error.
    pub fn text_list(&mut self, name: &str) -> Vec<String> {
        let Some((list, default)) = self.list_value(name, "a list of texts") else {
            return Vec::new();
        };
        let trimmed: Vec<String> = list.iter().map(|item| item.trim().to_string()).collect();
        if trimmed.iter().any(String::is_empty) {
            self.error(name, "contains an empty entry".into());
            return default;
        }
        trimmed
    }

    /// A list of globs, compiled (see [`crate::glob`]).
    pub fn glob_list(&mut self, name: &str, case_insensitive: bool) -> GlobList {
        let Some((list, default)) = self.list_value(name, "a list of globs") else {
            return GlobList::default();
        };
        match GlobList::compile(&list, case_insensitive) {
            Ok(globs) => globs,
            Err(messages) => {
                for message in messages {
                    self.error(name, message);
                }
                GlobList::compile(&default, case_insensitive).unwrap_or_default()
            }
        }
    }

    /// A list of CIDR networks or addresses.
    pub fn cidr_list(&mut self, name: &str) -> NetworkSet {
        let Some((list, default)) = self.list_value(name, "a list of networks") else {
            return NetworkSet::default();
        };
        match NetworkSet::parse(&list) {
            Ok(set) => set,
            Err(messages) => {
                for message in messages {
                    self.error(name, message);
                }
                NetworkSet::parse(&default).unwrap_or_default()
            }
        }
    }

    /// A list of weekly windows (see [`crate::schedule`]).
    pub fn schedule(&mut self, name: &str) -> WeeklySchedule {
        let Some((list, default)) = self.list_value(name, "a list of weekly windows") else {
            return WeeklySchedule::default();
        };
        match WeeklySchedule::parse(&list) {
            Ok(schedule) => schedule,
            Err(messages) => {
                for message in messages {
                    self.error(name, message);
                }
                WeeklySchedule::parse(&default).unwrap_or_default()
            }
        }
    }

    /// A list of port numbers (1–65535) given as texts.
    pub fn port_list(&mut self, name: &str) -> Vec<u16> {
        let list = self.text_list(name);
        let mut ports = Vec::with_capacity(list.len());
        for item in &list {
            match item.parse::<u16>() {
                Ok(port) if port > 0 => ports.push(port),
                _ => self.error(name, format!("{item:?} is not a port number (1-65535)")),
            }
        }
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

/// How a value is shaped, for messages.
fn shape(value: &TunableValue) -> String {
    match value {
        TunableValue::Flag(flag) => format!("the flag {flag}"),
        TunableValue::Integer(value) => format!("the integer {value}"),
        TunableValue::Text(text) => format!("the text {text:?}"),
        TunableValue::TextList(list) => format!("a list of {} texts", list.len()),
    }
}
