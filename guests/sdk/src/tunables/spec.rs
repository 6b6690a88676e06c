//! Constructors for `tunable-spec`s: one line per tunable in a manifest.

use crate::types::{TunableKind, TunableSpec, TunableValue};

fn make(name: &str, kind: TunableKind, default: TunableValue, description: &str) -> TunableSpec {
    TunableSpec {
        name: name.to_string(),
        kind,
        default,
        description: description.to_string(),
    }
}

fn texts(values: &[&str]) -> TunableValue {
    TunableValue::TextList(values.iter().map(|value| value.to_string()).collect())
}

/// A boolean.
pub fn flag(name: &str, default: bool, description: &str) -> TunableSpec {
    make(
        name,
        TunableKind::Flag,
        TunableValue::Flag(default),
        description,
    )
}

/// An integer.
pub fn integer(name: &str, default: i64, description: &str) -> TunableSpec {
    make(
        name,
        TunableKind::Integer,
        TunableValue::Integer(default),
        description,
    )
}

/// A duration, in milliseconds (config: `10m`, `5s`, `1h`).
pub fn duration(name: &str, default_ms: i64, description: &str) -> TunableSpec {
    make(
        name,
        TunableKind::Duration,
        TunableValue::Integer(default_ms),
        description,
    )
}

/// A byte size, in bytes (config: `1MB` = 10^6, `1MiB` = 2^20).
pub fn bytes(name: &str, default: i64, description: &str) -> TunableSpec {
    make(
        name,
        TunableKind::Bytes,
        TunableValue::Integer(default),
        description,
    )
}

/// A text.
pub fn text(name: &str, default: &str, description: &str) -> TunableSpec {
    make(
        name,
        TunableKind::Text,
        TunableValue::Text(default.to_string()),
        description,
    )
}

/// A list of texts.
pub fn text_list(name: &str, default: &[&str], description: &str) -> TunableSpec {
    make(name, TunableKind::TextList, texts(default), description)
}

/// A list of globs (see [`crate::glob`] for name vs path patterns).
pub fn glob_list(name: &str, default: &[&str], description: &str) -> TunableSpec {
    make(name, TunableKind::GlobList, texts(default), description)
}

/// A list of CIDR networks or addresses.
pub fn cidr_list(name: &str, default: &[&str], description: &str) -> TunableSpec {
    make(name, TunableKind::CidrList, texts(default), description)
}
