//! Tunables: config values checked against an analytic's manifest and
//! turned into the contract's `tunable` records, plus the hash stamped on
//! every finding so it can be traced to the exact rule set that produced it.
//!
//! The host checks shapes (a duration is a duration, a list is a list, the
//! name exists); the analytic's `configure` checks meaning (a glob compiles,
//! a window is positive).

use std::collections::BTreeMap;

use dumpwatch_config::units::{parse_bytes, parse_duration};
use dumpwatch_runtime::wit;
use sha2::{Digest, Sha256};

fn kind_name(k: wit::TunableKind) -> &'static str {
    match k {
        wit::TunableKind::Flag => "flag (true/false)",
        wit::TunableKind::Integer => "integer",
        wit::TunableKind::Duration => "duration (\"10m\", \"90s\")",
        wit::TunableKind::Bytes => "size (\"20MB\", \"1GiB\")",
        wit::TunableKind::Text => "text",
        wit::TunableKind::TextList => "list of text",
        wit::TunableKind::GlobList => "list of globs",
        wit::TunableKind::CidrList => "list of CIDR networks",
    }
}

fn convert(kind: wit::TunableKind, v: &toml::Value) -> Result<wit::TunableValue, String> {
    use wit::TunableKind as K;
    let wrong = || format!("expected {}, got {}", kind_name(kind), v);
    match kind {
        K::Flag => v.as_bool().map(wit::TunableValue::Flag).ok_or_else(wrong),
        K::Integer => v
            .as_integer()
            .map(wit::TunableValue::Integer)
            .ok_or_else(wrong),
        K::Duration => {
            let ms = match v {
                toml::Value::String(s) => parse_duration(s)?.as_millis(),
                toml::Value::Integer(i) if *i >= 0 => *i as u128,
                _ => return Err(wrong()),
            };
            i64::try_from(ms)
                .map(wit::TunableValue::Integer)
                .map_err(|_| "duration too large".to_string())
        }
        K::Bytes => {
            let b = match v {
                toml::Value::String(s) => parse_bytes(s)?,
                toml::Value::Integer(i) if *i >= 0 => *i as u64,
                _ => return Err(wrong()),
            };
            i64::try_from(b)
                .map(wit::TunableValue::Integer)
                .map_err(|_| "size too large".to_string())
        }
        K::Text => v
            .as_str()
            .map(|s| wit::TunableValue::Text(s.to_owned()))
            .ok_or_else(wrong),
        K::TextList | K::GlobList | K::CidrList => match v {
            toml::Value::String(s) => Ok(wit::TunableValue::TextList(vec![s.clone()])),
            toml::Value::Array(items) => items
                .iter()
                .map(|i| match i {
                    toml::Value::String(s) => Ok(s.clone()),
                    toml::Value::Integer(n) => Ok(n.to_string()),
                    other => Err(format!("list items must be text, got {other}")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(wit::TunableValue::TextList),
            _ => Err(wrong()),
        },
    }
}

/// The full tunable set for an analytic: every manifest tunable, with the
/// config's value where given and the default otherwise, in manifest order.
/// Every problem (unknown name, wrong shape) is reported.
pub fn resolve(
    manifest: &wit::Manifest,
    values: &BTreeMap<String, toml::Value>,
) -> Result<Vec<wit::Tunable>, Vec<String>> {
    let mut problems = Vec::new();
    for name in values.keys() {
        if !manifest.tunables.iter().any(|t| &t.name == name) {
            let known: Vec<&str> = manifest.tunables.iter().map(|t| t.name.as_str()).collect();
            problems.push(format!(
                "{}: unknown tunable `{name}` (known: {})",
                manifest.id,
                known.join(", ")
            ));
        }
    }
    let mut out = Vec::with_capacity(manifest.tunables.len());
    for spec in &manifest.tunables {
        let value = match values.get(&spec.name) {
            Some(v) => match convert(spec.kind, v) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!("{}: tunable `{}`: {e}", manifest.id, spec.name));
                    continue;
                }
            },
            None => spec.default.clone(),
        };
        out.push(wit::Tunable {
            name: spec.name.clone(),
            value,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Hex SHA-256 of a tunable set in canonical form (sorted by name), so the
/// same effective settings always give the same hash.
pub fn hash(tunables: &[wit::Tunable]) -> String {
    let mut sorted: Vec<&wit::Tunable> = tunables.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut h = Sha256::new();
    for t in sorted {
        h.update(t.name.as_bytes());
        h.update([0]);
        match &t.value {
            wit::TunableValue::Flag(b) => h.update(if *b { b"f1" } else { b"f0" }),
            wit::TunableValue::Integer(i) => {
                h.update(b"i");
                h.update(i.to_le_bytes());
            }
            wit::TunableValue::Text(s) => {
                h.update(b"t");
                h.update(s.as_bytes());
            }
            wit::TunableValue::TextList(items) => {
                h.update(b"l");
                h.update((items.len() as u64).to_le_bytes());
                for i in items {
                    h.update((i.len() as u64).to_le_bytes());
                    h.update(i.as_bytes());
                }
            }
        }
        h.update([0xff]);
    }
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> wit::Manifest {
        let spec = |name: &str, kind, default| wit::TunableSpec {
            name: name.into(),
            kind,
            default,
            description: String::new(),
        };
        wit::Manifest {
            id: "X1".into(),
            name: "x".into(),
            version: "1.0.0".into(),
            description: String::new(),
            strategy: None,
            attacks: vec![],
            tunables: vec![
                spec(
                    "TimeWindow",
                    wit::TunableKind::Duration,
                    wit::TunableValue::Integer(600_000),
                ),
                spec(
                    "Threshold",
                    wit::TunableKind::Bytes,
                    wit::TunableValue::Integer(20_000_000),
                ),
                spec(
                    "Users",
                    wit::TunableKind::TextList,
                    wit::TunableValue::TextList(vec![]),
                ),
            ],
        }
    }

    fn values(t: &str) -> BTreeMap<String, toml::Value> {
        toml::from_str(t).expect("toml")
    }

    #[test]
    fn defaults_and_conversions() {
        let set = resolve(
            &manifest(),
            &values("TimeWindow = \"5m\"\nUsers = \"root\""),
        )
        .expect("valid");
        assert_eq!(set[0].value, wit::TunableValue::Integer(300_000));
        assert_eq!(set[1].value, wit::TunableValue::Integer(20_000_000));
        assert_eq!(
            set[2].value,
            wit::TunableValue::TextList(vec!["root".into()])
        );
        assert_ne!(
            hash(&set),
            hash(&resolve(&manifest(), &values("")).expect("valid"))
        );
        assert_eq!(
            hash(&set),
            hash(&set.iter().rev().cloned().collect::<Vec<_>>())
        );
    }

    #[test]
    fn all_problems_reported() {
        let err = resolve(
            &manifest(),
            &values("TimeWindow = true\nThreshold = \"lots\"\nTimewindow = \"1m\""),
        )
        .expect_err("invalid");
        assert_eq!(err.len(), 3, "{err:?}");
        assert!(
            err.iter()
                .any(|e| e.contains("unknown tunable `Timewindow`"))
        );
    }
}
