//! A model check: the incremental engine against a direct, batch
//! implementation of the rules in the README (windows formed greedily from
//! sorted tool starts; each window's tree, exports, archives and egress
//! picked from the whole event set; the egress rule of bytes where they
//! exist and connections otherwise). Both see the same random streams; the
//! engine must find exactly what the model finds.

use std::collections::BTreeMap;

use dumpwatch_sdk::types::Severity;
use dumpwatch_sdk::uid::finding_uid;
use proptest::prelude::*;

use super::ordering::{Spec, random_events, random_spec, reference};
use crate::config::Config;
use crate::observe::{Candidate, Kind, Observation, ProcId, flag, observe};
use crate::window::egress::FLOW_MATCH_MS;

/// What the model predicts of a finding.
#[derive(Debug, PartialEq)]
struct Expected {
    severity: Severity,
    legs: Vec<String>,
    event_count: u32,
    evidence: Vec<(String, String)>,
    start: i64,
    end: i64,
}

fn sorted(mut list: Vec<&Candidate>) -> Vec<&Candidate> {
    list.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    list
}

fn model(spec: &Spec, duplicate: bool) -> BTreeMap<String, Expected> {
    let config = Config::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut all: Vec<(String, Candidate)> = Vec::new();
    for event in random_events(spec, duplicate) {
        if let Some(Observation::Candidate(host, candidate)) = observe(&event, &config)
            && seen.insert(candidate.key)
        {
            all.push((host.to_string(), candidate));
        }
    }
    all.sort_by(|a, b| (a.0.as_str(), a.1.order_key()).cmp(&(b.0.as_str(), b.1.order_key())));

    let mut windows: Vec<(String, String, Vec<&Candidate>)> = Vec::new();
    for (host, exec) in all.iter().filter(|(_, c)| c.kind == Kind::Exec) {
        let user = exec
            .user
            .as_ref()
            .map(|u| u.to_string())
            .unwrap_or_default();
        let open = windows
            .iter_mut()
            .rev()
            .find(|(h, u, _)| h == host && *u == user);
        match open {
            Some((_, _, execs)) if exec.time <= execs[0].time + config.window_ms => {
                execs.push(exec)
            }
            _ => windows.push((host.clone(), user, vec![exec])),
        }
    }

    let mut out = BTreeMap::new();
    for (host, user, roots) in windows {
        let anchor = roots[0].time;
        let end = anchor + config.window_ms;
        let on_host = || all.iter().filter(|(h, _)| *h == host).map(|(_, c)| c);
        let members: Vec<&Candidate> = on_host()
            .filter(|c| c.kind == Kind::Process && c.has(flag::CHILD) && c.time <= end)
            .filter(|c| {
                roots
                    .iter()
                    .any(|r| c.time >= r.time && r.process.same(&c.parent))
            })
            .collect();
        let in_tree = |p: &ProcId, t: i64| {
            roots.iter().any(|r| t >= r.time && r.process.same(p))
                || members.iter().any(|m| t >= m.time && m.process.same(p))
        };
        let by_user = |c: &Candidate| c.time >= anchor && c.user.as_deref() == Some(user.as_str());
        let exports = sorted(
            on_host()
                .filter(|c| c.kind == Kind::File && c.has(flag::EXPORT) && c.time <= end)
                .filter(|c| {
                    in_tree(&c.process, c.time)
                        || by_user(c)
                        || roots.iter().any(|r| {
                            c.time >= r.time - config.slack_ms
                                && c.time <= r.time
                                && r.parent.same(&c.process)
                        })
                })
                .collect(),
        );
        // The first export is the earliest by (time, event key): ties
        // within a millisecond are broken by the key, as in the engine.
        let Some(first) = exports.iter().map(|c| (c.time, c.key)).min() else {
            continue;
        };
        let after = |c: &Candidate| c.time >= first.0 && c.key != first.1 && c.time <= end;
        let archives = sorted(
            on_host()
                .filter(|c| after(c))
                .filter(|c| match c.kind {
                    Kind::File => {
                        c.has(flag::ARCHIVE) && (in_tree(&c.process, c.time) || by_user(c))
                    }
                    Kind::Process => {
                        c.has(flag::PASSWORD)
                            && (in_tree(&c.process, c.time)
                                || in_tree(&c.parent, c.time)
                                || by_user(c))
                    }
                    _ => false,
                })
                .collect(),
        );
        let egress = sorted(
            on_host()
                .filter(|c| after(c))
                .filter(|c| match c.kind {
                    Kind::Flow => true,
                    Kind::Connection => in_tree(&c.process, c.time) || by_user(c),
                    _ => false,
                })
                .collect(),
        );
        let net = |c: &Candidate| c.net.as_deref().cloned();
        let bytes: u64 = egress
            .iter()
            .filter(|c| c.kind == Kind::Flow)
            .filter_map(|c| net(c)?.bytes)
            .sum();
        let unmeasured = egress
            .iter()
            .filter(|c| c.kind == Kind::Connection)
            .filter(|conn| {
                let conn_net = net(conn).unwrap();
                !egress.iter().any(|flow| {
                    let flow_net = net(flow).unwrap();
                    flow.kind == Kind::Flow
                        && conn_net.src_port.is_some()
                        && flow_net.dst == conn_net.dst
                        && flow_net.port == conn_net.port
                        && flow_net.src_port == conn_net.src_port
                        && (flow.time - conn.time).abs() <= FLOW_MATCH_MS
                })
            })
            .count() as u32;
        let met = bytes >= config.max_transfer || unmeasured >= config.connection_threshold;

        let mut rank = 2u8;
        rank += u8::from(met);
        rank += u8::from(archives.iter().any(|c| c.has(flag::PASSWORD)));
        rank += u8::from(roots.iter().any(|c| c.has(flag::WEB_PARENT)));
        let max = config.max_evidence;
        let id = |c: &&Candidate| {
            (
                c.id().to_string(),
                c.evidence.as_ref().unwrap().source.to_string(),
            )
        };
        let kept_archives: Vec<&Candidate> = archives.iter().copied().take(max).collect();
        let mut evidence: Vec<(i64, (String, String))> = Vec::new();
        for c in sorted(roots.clone()).iter().take(max) {
            evidence.push((c.time, id(c)));
        }
        for c in exports.iter().take(max) {
            if !kept_archives.iter().any(|a| a.key == c.key) {
                evidence.push((c.time, id(c)));
            }
        }
        for c in &kept_archives {
            evidence.push((c.time, id(c)));
        }
        if met {
            for c in egress.iter().take(max) {
                evidence.push((c.time, id(c)));
            }
        }
        evidence.sort();
        let archive_only = archives
            .iter()
            .filter(|a| !exports.iter().any(|e| e.key == a.key))
            .count();
        let mut contributing: Vec<&Candidate> = roots
            .iter()
            .chain(&exports)
            .chain(&archives)
            .copied()
            .collect();
        if met {
            contributing.extend(&egress);
        }
        let mut legs = vec!["exec".to_string(), "export".to_string()];
        if !archives.is_empty() {
            legs.push("archive".to_string());
        }
        if met {
            legs.push("egress".to_string());
        }
        out.insert(
            finding_uid("AN0677", &[&host, &user], roots[0].id()),
            Expected {
                severity: dumpwatch_sdk::severity::from_rank(rank),
                legs,
                event_count: (roots.len()
                    + exports.len()
                    + archive_only
                    + if met { egress.len() } else { 0 }) as u32,
                evidence: evidence.into_iter().map(|(_, id)| id).collect(),
                start: contributing.iter().map(|c| c.time).min().unwrap_or(anchor),
                end: contributing.iter().map(|c| c.time).max().unwrap_or(anchor),
            },
        );
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_finds_what_the_rules_say(spec in random_spec(), duplicate in any::<bool>()) {
        let expected = model(&spec, duplicate);
        let got: BTreeMap<String, Expected> = reference(&random_events(&spec, duplicate))
            .into_iter()
            .map(|(uid, f)| {
                let expected = Expected {
                    severity: f.severity,
                    legs: f.legs.clone(),
                    event_count: f.event_count,
                    evidence: f.evidence.iter().map(|e| (e.id.clone(), e.source.clone())).collect(),
                    start: f.start_time,
                    end: f.end_time,
                };
                (uid, expected)
            })
            .collect();
        prop_assert_eq!(got, expected);
    }
}
