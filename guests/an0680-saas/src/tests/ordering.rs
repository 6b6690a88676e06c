//! Arrival order must not matter: the same events reversed, shuffled
//! within a lateness bound with watermarks interleaved, or duplicated,
//! give the same final findings as in-order delivery. This is where the
//! learning of templates is tested against order: whether a query is the
//! first of its template depends on event time only.

use std::collections::BTreeMap;

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::types::*;
use proptest::prelude::*;

use super::*;

fn reference(events: &[Event]) -> BTreeMap<String, Finding> {
    let mut sorted = events.to_vec();
    sorted.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
    let mut a = analytic(vec![short_learning()]);
    latest(&run(&mut a, sorted))
}

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
    let mut a = analytic(vec![short_learning()]);
    let mut emitted = Vec::new();
    let (mut next, mut round) = (0, 0);
    while next < order.len() {
        let size = batch_sizes[round % batch_sizes.len()].max(1);
        let batch: Vec<Event> = order[next..(next + size).min(order.len())]
            .iter()
            .map(|&(_, i)| events[i].clone())
            .collect();
        next += batch.len();
        emitted.extend(a.process(batch));
        if advance_every[round % advance_every.len()]
            && let Some(safe) = order[next..].iter().map(|&(_, i)| events[i].time).min()
        {
            emitted.extend(a.advance(safe));
        }
        round += 1;
    }
    emitted.extend(a.advance(i64::MAX));
    latest(&emitted)
}

type Spec = Vec<(u8, u8, u8, i64)>;

fn random_spec() -> impl Strategy<Value = Spec> {
    proptest::collection::vec((0u8..8, 0u8..3, 0u8..4, 0i64..(150 * 60)), 1..50)
}

/// Queries by three users in two roles using four templates on sensitive
/// and other tables, bulk reads, downloads bursts by two users, within
/// 150 minutes (across the one-hour learning period); some duplicated.
fn random_events(spec: &Spec, duplicate: bool) -> Vec<Event> {
    let users = [("JSMITH", "ANALYST"), ("ADOE", "ANALYST"), ("SVC", "ETL")];
    let templates = [
        "select id from customers where id = 1",
        "select * from hr.payroll where k = 2",
        "select a, b from prod_db.sales.orders where x = 3",
        "select email from customers where name like 'x'",
    ];
    let mut events = Vec::new();
    for (n, &(kind, who, template, second)) in spec.iter().enumerate() {
        let (user, role) = users[usize::from(who)];
        let time = T0 + second * SEC;
        let id = format!("ev{n}");
        match kind {
            0..=3 => {
                events.push(Query::new(templates[usize::from(template)]).at(&id, time, user, role))
            }
            4 => events.push(
                Query::new("select * from customers")
                    .rows(500_000)
                    .at(&id, time, user, role),
            ),
            5 => events.push(
                Query::new(templates[usize::from(template)])
                    .hash(&format!("{template:x}"))
                    .at(&id, time, user, role),
            ),
            _ => {
                let who = ["jdoe@contoso.com", "mbrown@contoso.com", "jdoe@contoso.com"]
                    [usize::from(who)];
                for k in 0..8 {
                    events.push(download(
                        &format!("{id}-{k}"),
                        time + k * 20 * SEC,
                        who,
                        "FileDownloaded",
                        "f",
                    ));
                }
            }
        }
    }
    if duplicate {
        let copies: Vec<Event> = events.iter().step_by(3).cloned().collect();
        events.extend(copies);
    }
    events
}

#[test]
fn reversed_arrival_gives_the_same_findings() {
    let events = super::state::stream();
    let expected = reference(&events);
    assert_eq!(expected.len(), 3);
    let mut reversed = events.clone();
    reversed.reverse();
    let mut a = analytic(vec![short_learning()]);
    assert_eq!(latest(&run(&mut a, reversed)), expected);
}

#[test]
fn random_streams_produce_findings_of_every_kind() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut legs = std::collections::BTreeSet::new();
    let mut with_findings = 0;
    for _ in 0..100 {
        let spec = random_spec().new_tree(&mut runner).unwrap().current();
        let findings = reference(&random_events(&spec, false));
        with_findings += usize::from(!findings.is_empty());
        for f in findings.values() {
            legs.extend(f.legs.iter().cloned());
        }
    }
    assert!(with_findings > 50, "{with_findings} of 100");
    assert_eq!(
        legs.into_iter().collect::<Vec<_>>(),
        [
            "bulk_download",
            "bulk_read",
            "new_template",
            "repeated_read"
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_streams_in_any_order_give_the_same_findings(
        spec in random_spec(),
        delays in proptest::collection::vec(0i64..(45 * MIN), 1..20),
        batch_sizes in proptest::collection::vec(1usize..6, 1..5),
        advance_every in proptest::collection::vec(any::<bool>(), 1..4),
        duplicate in any::<bool>(),
    ) {
        let events = random_events(&spec, duplicate);
        let expected = reference(&events);
        prop_assert_eq!(deliver(&events, &delays, &batch_sizes, &advance_every), expected);
    }
}
