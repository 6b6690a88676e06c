//! Arrival order must not matter: the same events reversed, shuffled within
//! a lateness bound with watermarks interleaved, or duplicated, give the
//! same final findings as in-order delivery.

use std::collections::BTreeMap;

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::EventBuilder;
use dumpwatch_sdk::types::*;
use proptest::prelude::*;

use super::*;

/// The reference: every event in time order in one batch, then the end.
pub(super) fn reference(events: &[Event]) -> BTreeMap<String, Finding> {
    let mut sorted = events.to_vec();
    sorted.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
    let mut a = analytic(vec![]);
    latest(&run(&mut a, sorted))
}

/// A morning on two Macs: DBeaver and psql exports, a redirect, a child
/// writer, sync traffic before and after, a developer, noise.
pub(super) fn morning() -> Vec<Event> {
    let forked = P {
        pid: PSQL_P.pid,
        version: PSQL_P.version - 1,
    };
    let helper = P {
        pid: 5400,
        version: 20300,
    };
    let dana_psql = P {
        pid: 8100,
        version: 3,
    };
    vec![
        exec(
            "e1",
            T0,
            "mbp-a",
            ALICE,
            DBEAVER_P,
            DBEAVER,
            FINDER,
            "/sbin/launchd",
        ),
        tls(
            "z0",
            T0 + 10 * SEC,
            "mbp-a",
            "content.dropboxapi.com",
            "162.125.1.14",
        ),
        file(
            "f1",
            T0 + MIN,
            "mbp-a",
            ALICE,
            helper,
            DBEAVER_P,
            FileOperation::Write,
            "/Users/alice/Documents/db.sql",
        ),
        dns("z1", T0 + 2 * MIN, "mbp-a", "www.dropbox.com"),
        file(
            "f2",
            T0 + 3 * MIN - SEC,
            "mbp-a",
            ALICE,
            forked,
            TERMINAL_SHELL,
            FileOperation::Create,
            "/Users/alice/Desktop/c.csv",
        ),
        exec(
            "e2",
            T0 + 3 * MIN,
            "mbp-a",
            ALICE,
            PSQL_P,
            PSQL,
            TERMINAL_SHELL,
            ZSH,
        ),
        exec(
            "e3",
            T0 + 20 * MIN,
            "mbp-a",
            ALICE,
            P {
                pid: 9000,
                version: 1,
            },
            PSQL,
            TERMINAL_SHELL,
            ZSH,
        ),
        file(
            "f3",
            T0 + 21 * MIN,
            "mbp-a",
            ALICE,
            P {
                pid: 9000,
                version: 1,
            },
            TERMINAL_SHELL,
            FileOperation::Create,
            "/Users/alice/Downloads/x.json",
        ),
        launch(
            "launch:B:7731:1",
            T0 + MIN,
            "mbp-b",
            UID_ONLY,
            7731,
            "/Applications/TablePlus.app",
        ),
        file(
            "f4",
            T0 + 2 * MIN,
            "mbp-b",
            UID_ONLY,
            P {
                pid: 7731,
                version: 4,
            },
            FINDER,
            FileOperation::Create,
            "/Users/kim/Documents/users.xlsx",
        ),
        http("z2", T0 + 4 * MIN, "mbp-b", "upload.box.com"),
        exec(
            "e4",
            T0 + MIN,
            "mbp-b",
            DEV,
            dana_psql,
            PSQL,
            TERMINAL_SHELL,
            ZSH,
        ),
        file(
            "f5",
            T0 + 2 * MIN,
            "mbp-b",
            DEV,
            dana_psql,
            TERMINAL_SHELL,
            FileOperation::Create,
            "/Users/dana/Downloads/dev.csv",
        ),
    ]
}

#[test]
fn the_morning_reference_is_what_the_rules_say() {
    let findings = reference(&morning());
    let by_anchor = |id: &str, host: &str, user: &str| {
        findings
            .get(&dumpwatch_sdk::uid::finding_uid(
                "AN0678",
                &[host, user],
                id,
            ))
            .unwrap_or_else(|| panic!("no finding anchored at {id}"))
            .clone()
    };
    // DBeaver's child writes; psql joins the window (its redirect counts);
    // the sync before the export does not count, the one after does.
    let alice = by_anchor("e1", "mbp-a", "alice");
    assert_eq!(evidence_ids(&alice), ["e1", "f1", "z1", "f2", "e2"]);
    assert_eq!(alice.severity, Severity::Critical);
    let alice2 = by_anchor("e3", "mbp-a", "alice");
    assert_eq!(evidence_ids(&alice2), ["e3", "f3"]);
    assert_eq!(alice2.severity, Severity::High);
    let kim = by_anchor("launch:B:7731:1", "mbp-b", "777");
    assert_eq!(evidence_ids(&kim), ["launch:B:7731:1", "f4", "z2"]);
    assert_eq!(
        kim.severity,
        Severity::High,
        "unknown role: medium, + cloud sync"
    );
    assert_eq!(findings.len(), 3, "dana is a developer");
}

#[test]
fn reversed_arrival_gives_the_same_findings() {
    let events = morning();
    let expected = reference(&events);
    let mut reversed = events.clone();
    reversed.sort_by(|a, b| (b.time, &b.id).cmp(&(a.time, &a.id)));
    let mut a = analytic(vec![]);
    assert_eq!(latest(&run(&mut a, reversed)), expected);
}

/// Deliver `events` in arrival order (time + delay), in batches, calling
/// advance with watermarks that respect the lateness bound.
fn deliver(
    events: &[Event],
    delays: &[i64],
    batch_sizes: &[usize],
    advance_every: &[bool],
) -> BTreeMap<String, Finding> {
    let mut order: Vec<(i64, usize)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.time + delays[i % delays.len()], i))
        .collect();
    order.sort();
    let mut a = analytic(vec![]);
    let mut emitted = Vec::new();
    let mut next = 0;
    let mut round = 0;
    while next < order.len() {
        let size = batch_sizes[round % batch_sizes.len()].max(1);
        let batch: Vec<Event> = order[next..(next + size).min(order.len())]
            .iter()
            .map(|&(_, i)| events[i].clone())
            .collect();
        next += batch.len();
        emitted.extend(a.process(batch));
        if advance_every[round % advance_every.len()] {
            let safe = order[next..].iter().map(|&(_, i)| events[i].time).min();
            if let Some(safe) = safe {
                emitted.extend(a.advance(safe - 1));
            }
        }
        round += 1;
    }
    emitted.extend(a.advance(i64::MAX));
    latest(&emitted)
}

/// What [`random_events`] builds from: per event its kind, user, host,
/// process and second.
pub(super) type Spec = Vec<(u8, u8, u8, u8, i64)>;

pub(super) fn random_spec() -> impl Strategy<Value = Spec> {
    proptest::collection::vec((0u8..8, 0u8..3, 0u8..2, 0u8..4, 0i64..(25 * 60)), 1..40)
}

/// Tool starts (CLI, GUI, unified log), exports by the process, a child,
/// the same pid just before, or someone else, and sync traffic, on two
/// hosts, three users (one a developer), four processes; some duplicated.
pub(super) fn random_events(spec: &Spec, duplicate: bool) -> Vec<Event> {
    let users = [ALICE, UID_ONLY, DEV];
    let hosts = ["mbp-a", "mbp-b"];
    let mut events = Vec::new();
    for (n, &(kind, user, host, process, second)) in spec.iter().enumerate() {
        let user = users[usize::from(user)];
        let host = hosts[usize::from(host)];
        let time = T0 + second * SEC;
        let id = format!("ev{n}");
        let this = P {
            pid: 100 + u32::from(process),
            version: 2,
        };
        let before = P {
            pid: this.pid,
            version: 1,
        };
        let parent = P {
            pid: 100 + u32::from((process + 1) % 4),
            version: 2,
        };
        let path = "/Users/u/Downloads/x.csv";
        events.push(match kind {
            0 => exec(&id, time, host, user, this, PSQL, parent, ZSH),
            1 => exec(
                &id,
                time,
                host,
                user,
                this,
                DBEAVER,
                parent,
                "/sbin/launchd",
            ),
            2 => launch(
                &id,
                time,
                host,
                user,
                this.pid,
                "/Applications/Sequel Ace.app",
            ),
            3 => file(
                &id,
                time,
                host,
                user,
                this,
                parent,
                FileOperation::Create,
                path,
            ),
            4 => file(
                &id,
                time,
                host,
                user,
                before,
                parent,
                FileOperation::Create,
                path,
            ),
            5 => file(
                &id,
                time,
                host,
                user,
                P {
                    pid: 999,
                    version: 9,
                },
                this,
                FileOperation::CloseModified,
                path,
            ),
            6 => tls(&id, time, host, "content.dropboxapi.com", "162.125.1.14"),
            _ => EventBuilder::name("zeek", &id, time, NameKind::DnsQuery, "drive.google.com")
                .host(host)
                .build(),
        });
    }
    if duplicate {
        let copies: Vec<Event> = events.iter().step_by(3).cloned().collect();
        events.extend(copies);
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn shuffled_arrival_with_watermarks_gives_the_same_findings(
        delays in proptest::collection::vec(0i64..(5 * MIN), 1..40),
        batch_sizes in proptest::collection::vec(1usize..6, 1..8),
        advance_every in proptest::collection::vec(any::<bool>(), 1..5),
    ) {
        let events = morning();
        let expected = reference(&events);
        prop_assert_eq!(deliver(&events, &delays, &batch_sizes, &advance_every), expected);
    }

    #[test]
    fn random_streams_in_any_order_give_the_same_findings(
        spec in random_spec(),
        delays in proptest::collection::vec(0i64..(3 * MIN), 1..20),
        batch_sizes in proptest::collection::vec(1usize..5, 1..5),
        advance_every in proptest::collection::vec(any::<bool>(), 1..4),
        duplicate in any::<bool>(),
    ) {
        let events = random_events(&spec, duplicate);
        let expected = reference(&events);
        prop_assert_eq!(deliver(&events, &delays, &batch_sizes, &advance_every), expected);
    }
}
