//! A model check: the incremental engine against a direct, batch
//! implementation of the rules in the README (windows formed greedily from
//! sorted tool starts, then each window's exports and cloud traffic picked
//! from the whole event set). Both see the same random streams; the engine
//! must find exactly what the model finds.

use std::collections::BTreeMap;

use dumpwatch_sdk::types::Severity;
use dumpwatch_sdk::uid::finding_uid;
use proptest::prelude::*;

use super::ordering::{Spec, random_events, random_spec, reference};
use crate::config::Config;
use crate::observe::{Candidate, Leg, flag, observe};

/// What the model predicts of a finding.
#[derive(Debug, PartialEq)]
struct Expected {
    severity: Severity,
    legs: Vec<String>,
    event_count: u32,
    evidence: Vec<String>,
    start: i64,
    end: i64,
}

fn model(spec: &Spec, duplicate: bool) -> BTreeMap<String, Expected> {
    let config = Config::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut all: Vec<(String, Candidate)> = Vec::new();
    for event in random_events(spec, duplicate) {
        if let Some((host, candidate)) = observe(&event, &config)
            && seen.insert(candidate.key)
        {
            all.push((host.to_string(), candidate));
        }
    }
    all.sort_by(|a, b| (a.0.as_str(), a.1.order_key()).cmp(&(b.0.as_str(), b.1.order_key())));

    // Greedy windows per (host, user) over starts in (time, id) order.
    let mut windows: Vec<(String, String, Vec<&Candidate>)> = Vec::new();
    for (host, exec) in all.iter().filter(|(_, c)| c.leg == Leg::Exec) {
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
    for (host, user, execs) in windows {
        let anchor = execs[0].time;
        let end = anchor + config.window_ms;
        let on_host = || all.iter().filter(|(h, _)| *h == host).map(|(_, c)| c);
        let exports: Vec<&Candidate> = on_host()
            .filter(|c| c.leg == Leg::Export && c.time <= end)
            .filter(|c| {
                execs.iter().any(|root| {
                    (c.time >= root.time
                        && (root.process.same(&c.process) || root.process.same(&c.parent)))
                        || (c.time >= root.time - config.slack_ms
                            && c.time <= root.time
                            && root.process.same_pid(&c.process))
                })
            })
            .collect();
        let Some(first_export) = exports.iter().map(|c| c.time).min() else {
            continue;
        };
        let egress: Vec<&Candidate> = on_host()
            .filter(|c| c.leg == Leg::Egress && c.time >= first_export && c.time <= end)
            .collect();
        let mut rank = 2; // medium
        if execs.iter().any(|c| c.has(flag::LOW_PRIVILEGE)) {
            rank += config.low_privilege_raise;
        }
        rank += u8::from(!egress.is_empty());
        let mut evidence: Vec<&Candidate> = Vec::new();
        for leg in [&execs, &exports, &egress] {
            let mut sorted = leg.clone();
            sorted.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
            evidence.extend(sorted.into_iter().take(config.max_evidence));
        }
        evidence.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        let contributing: Vec<&&Candidate> = execs.iter().chain(&exports).chain(&egress).collect();
        let mut legs = vec!["exec".to_string(), "export".to_string()];
        if !egress.is_empty() {
            legs.push("egress".to_string());
        }
        out.insert(
            finding_uid("AN0678", &[&host, &user], &execs[0].evidence.id),
            Expected {
                severity: dumpwatch_sdk::severity::from_rank(rank),
                legs,
                event_count: contributing.len() as u32,
                evidence: evidence.iter().map(|c| c.evidence.id.to_string()).collect(),
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
                    evidence: f.evidence.iter().map(|e| e.id.clone()).collect(),
                    start: f.start_time,
                    end: f.end_time,
                };
                (uid, expected)
            })
            .collect();
        prop_assert_eq!(got, expected);
    }
}
