//! Arrival order must not matter: the same events reversed, shuffled within
//! a lateness bound with watermarks interleaved, or duplicated, give the
//! same final findings as in-order delivery.

use std::collections::BTreeMap;

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{EventBuilder, ip};
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

/// A morning on two workstations: overlapping windows, a redirect, a
/// child, archives with and without password, named cloud egress, sensor
/// volume, noise.
pub(super) fn morning() -> Vec<Event> {
    let shell = P {
        guid: "{shell}",
        pid: 4099,
    };
    let bob_bcp = P {
        guid: "{b-bcp}",
        pid: 6100,
    };
    let bob_child = P {
        guid: "{b-child}",
        pid: 6200,
    };
    vec![
        file(
            "f0",
            T0 - 2 * SEC,
            "ws01",
            "alice",
            shell,
            r"C:\Users\alice\pre.csv",
        ),
        sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
        file(
            "f1",
            T0 + 30 * SEC,
            "ws01",
            "alice",
            ALICE_SQLCMD,
            r"C:\Users\alice\AppData\Local\Temp\c.csv",
        ),
        start(
            "p1",
            T0 + MIN,
            "ws01",
            "alice",
            ALICE_7Z,
            r"C:\Program Files\7-Zip\7z.exe",
            shell,
            CMD,
            r"7z a -hpX C:\Users\alice\c.7z C:\Users\alice\AppData\Local\Temp\c.csv",
        ),
        file(
            "f2",
            T0 + MIN + 5 * SEC,
            "ws01",
            "alice",
            ALICE_7Z,
            r"C:\Users\alice\c.7z",
        ),
        dns(
            "q1",
            T0 + 2 * MIN,
            "ws01",
            "alice",
            ALICE_CURL,
            "content.dropboxapi.com",
            &["162.125.1.14"],
        ),
        conn(
            "c1",
            T0 + 2 * MIN + SEC,
            "ws01",
            "alice",
            ALICE_CURL,
            "162.125.1.14",
            443,
            50100,
        ),
        sqlcmd(
            "e2",
            T0 + 12 * MIN,
            "ws01",
            "alice",
            P {
                guid: "{a-sqlcmd2}",
                pid: 4800,
            },
        ),
        file(
            "f3",
            T0 + 13 * MIN,
            "ws01",
            "alice",
            P {
                guid: "{a-sqlcmd2}",
                pid: 4800,
            },
            r"C:\Users\alice\x.sql",
        ),
        start(
            "e3",
            T0 + 3 * MIN,
            "ws02",
            "bob",
            bob_bcp,
            r"C:\Users\bob\Downloads\bcp.exe",
            P {
                guid: "{b-ps}",
                pid: 6000,
            },
            POWERSHELL,
            r"bcp crm.dbo.customers out C:\Users\bob\c.csv -c -T",
        ),
        start(
            "p2",
            T0 + 3 * MIN + SEC,
            "ws02",
            "system",
            bob_child,
            CMD,
            bob_bcp,
            r"C:\Users\bob\Downloads\bcp.exe",
            "cmd /c copy",
        ),
        file(
            "f4",
            T0 + 3 * MIN + 2 * SEC,
            "ws02",
            "system",
            bob_child,
            r"C:\ProgramData\c.csv",
        ),
        flow(
            "z1",
            T0 + 4 * MIN,
            "ws02",
            "203.0.113.70",
            443,
            52000,
            15_000_000,
        ),
        flow(
            "z2",
            T0 + 5 * MIN,
            "ws02",
            "203.0.113.70",
            443,
            52001,
            15_000_000,
        ),
        flow(
            "z3",
            T0 + 2 * MIN,
            "ws02",
            "203.0.113.70",
            443,
            52002,
            30_000_000,
        ),
        conn(
            "n1",
            T0 + 4 * MIN,
            "ws02",
            "carol",
            P {
                guid: "{c}",
                pid: 1,
            },
            "198.51.100.1",
            443,
            1,
        ),
    ]
}

#[test]
fn the_morning_reference_is_what_the_rules_say() {
    let findings = reference(&morning());
    let by_anchor = |id: &str, host: &str, user: &str| {
        findings
            .get(&dumpwatch_sdk::uid::finding_uid(
                "AN0677",
                &[host, user],
                id,
            ))
            .unwrap_or_else(|| panic!("no finding anchored at {id}"))
            .clone()
    };
    // Redirect, export, password archive, named cloud egress.
    let alice = by_anchor("e1", "ws01", "alice");
    assert_eq!(evidence_ids(&alice), ["f0", "e1", "f1", "p1", "f2", "c1"]);
    assert_eq!(alice.legs, ["exec", "export", "archive", "egress"]);
    assert_eq!(alice.severity, Severity::Critical);
    assert_eq!(techniques(&alice), ["T1213.006", "T1560.001", "T1567.002"]);
    // After the first window: a window of its own, no egress.
    let alice2 = by_anchor("e2", "ws01", "alice");
    assert_eq!(evidence_ids(&alice2), ["e2", "f3"]);
    // The child's copy; z3 came before the export, z1 + z2 make 30 MB.
    let bob = by_anchor("e3", "ws02", "bob");
    assert_eq!(evidence_ids(&bob), ["e3", "f4", "z1", "z2"]);
    assert_eq!(bob.severity, Severity::High);
    assert_eq!(findings.len(), 3);
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
/// advance with watermarks that respect the lateness bound: never past the
/// time of an event still to come.
pub(super) fn deliver(
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
    proptest::collection::vec((0u8..11, 0u8..2, 0u8..2, 0u8..4, 0i64..(25 * 60)), 1..40)
}

fn guid(host: u8, process: u8) -> String {
    format!("{{h{host}-p{process}}}")
}

/// Tool starts (odd parent, copied path, ordinary), children, exports by
/// process or user, archives, password archivers, connections, flows and
/// DNS answers on two hosts, two users, four processes per host, within 25
/// minutes; some duplicated.
pub(super) fn random_events(spec: &Spec, duplicate: bool) -> Vec<Event> {
    let users = ["alice", "bob"];
    let hosts = ["ws01", "ws02"];
    let mut events = Vec::new();
    for (n, &(kind, user, host, process, second)) in spec.iter().enumerate() {
        let user_name = users[usize::from(user)];
        let host_name = hosts[usize::from(host)];
        let time = T0 + second * SEC;
        let id = format!("ev{n}");
        let this = guid(host, process);
        let pid = 1000 + u32::from(host) * 100 + u32::from(process);
        let parent = guid(host, (process + 3) % 4);
        let parent_pid = 1000 + u32::from(host) * 100 + u32::from((process + 3) % 4);
        let base = |b: EventBuilder| b.host(host_name).user_name(user_name).guid(&this).pid(pid);
        let start = |name: &str, path: &str, parent_path: &str, line: &str| {
            base(EventBuilder::exec("sysmon", &id, time, name))
                .process_path(path)
                .parent_guid(&parent)
                .parent_pid(parent_pid)
                .parent_path(parent_path)
                .command_line(line)
                .build()
        };
        let make_file = |path: &str| {
            base(EventBuilder::file(
                "sysmon",
                &id,
                time,
                FileOperation::Create,
                path,
            ))
            .build()
        };
        events.push(match kind {
            0 | 1 => start("sqlcmd.exe", SQLCMD, CMD, "sqlcmd -Q x"),
            2 => start("bcp.exe", r"C:\Temp\bcp.exe", SQLAGENT, "bcp x out y"),
            3 => start("cmd.exe", CMD, SQLCMD, "cmd /c copy"),
            4 => make_file(r"C:\Users\Public\x.csv"),
            5 => make_file(r"C:\Users\Public\x.7z"),
            6 => start(
                "7z.exe",
                r"C:\Program Files\7-Zip\7z.exe",
                CMD,
                r"7z a -pX C:\Users\Public\x.7z",
            ),
            7 => base(EventBuilder::network(
                "sysmon",
                &id,
                time,
                ip("198.51.100.9"),
                443,
            ))
            .src(ip("10.1.1.20"), 50000 + u16::from(process))
            .build(),
            8 => EventBuilder::network("zeek", &id, time, ip("198.51.100.9"), 443)
                .host(host_name)
                .src(ip("10.1.1.20"), 50000 + u16::from(process))
                .bytes_out(11_000_000)
                .build(),
            9 => base(EventBuilder::name(
                "sysmon",
                &id,
                time,
                NameKind::DnsQuery,
                "dl.dropboxusercontent.com",
            ))
            .answers(&[ip("198.51.100.9")])
            .build(),
            _ => start("sqlcmd.exe", SQLCMD, SQLAGENT, "sqlcmd -Q backup"),
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
