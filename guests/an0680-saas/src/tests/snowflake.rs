//! Snowflake: bulk reads, repeated reads, new templates, off hours.

use dumpwatch_sdk::Analytic;
use dumpwatch_sdk::testing::{texts, tunable};
use dumpwatch_sdk::types::*;
use dumpwatch_sdk::uid::finding_uid;

use super::*;
use crate::template;

const SELECT_ALL: &str = "SELECT *\nFROM PROD_DB.CRM.CUSTOMERS\n-- full pull\n;";

#[test]
fn a_bulk_select_star_of_a_sensitive_table_is_a_medium_finding() {
    let mut a = analytic(vec![]);
    let events = vec![
        Query::new("USE WAREHOUSE ANALYST_WH").at("q0", T0, "JSMITH", "ANALYST"),
        Query::new(SELECT_ALL)
            .rows(48_211_377)
            .bytes(18_874_368_000)
            .at("q1", T0 + MIN, "JSMITH", "ANALYST"),
    ];
    assert!(a.process(events).is_empty());
    let out = a.advance(T0 + MIN + 1);
    assert_eq!(out.len(), 1);
    let f = &out[0];
    assert_eq!(f.uid, finding_uid("AN0680", &["snowflake", "JSMITH"], "q1"));
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.legs, ["bulk_read"]);
    assert_eq!(evidence_ids(f), ["q1"]);
    assert_eq!(f.evidence[0].leg, "bulk_read");
    assert_eq!(
        f.evidence[0].resource.as_deref(),
        Some("PROD_DB.CRM.CUSTOMERS")
    );
    assert_eq!(f.evidence[0].query.as_deref(), Some(SELECT_ALL));
    assert_eq!(f.evidence[0].bytes, Some(18_874_368_000));
    assert_eq!(f.entities[0].kind, "user");
    assert_eq!(entities(f, "user"), ["JSMITH"]);
    assert_eq!(entities(f, "role"), ["ANALYST"]);
    assert_eq!(entities(f, "table"), ["PROD_DB.CRM.CUSTOMERS"]);
    assert_eq!(techniques(f), ["T1213.006"]);
    assert!(f.reasons[0].contains("48211377 rows"), "{:?}", f.reasons);
    assert!(f.reasons[0].contains("18.8 GB"), "{:?}", f.reasons);
    assert_eq!(
        f.reasons.last().map(String::as_str),
        Some("severity medium")
    );
    assert!(
        f.title.contains("PROD_DB.CRM.CUSTOMERS") && f.title.contains("JSMITH"),
        "{}",
        f.title
    );
    assert!(a.advance(i64::MAX).is_empty(), "no repeat at the end");
}

#[test]
fn small_filtered_or_non_sensitive_reads_are_not_bulk() {
    let q = |text: &str, rows: u64| {
        Query::new(text)
            .rows(rows)
            .at("q1", T0, "JSMITH", "ANALYST")
    };
    // Below both thresholds.
    assert!(findings(vec![], vec![q(SELECT_ALL, 100)]).is_empty());
    // Filtered and not SELECT *.
    let filtered = "select id, email from customers where region = 'EMEA'";
    assert!(findings(vec![], vec![q(filtered, 5_000_000)]).is_empty());
    // Not a sensitive table.
    assert!(
        findings(
            vec![],
            vec![q("select * from prod_db.sales.orders", 5_000_000)]
        )
        .is_empty()
    );
    // Failed queries read nothing.
    let failed = Query::new(SELECT_ALL)
        .rows(5_000_000)
        .failed()
        .at("q1", T0, "JSMITH", "ANALYST");
    assert!(findings(vec![], vec![failed]).is_empty());
    // An unfiltered column list is a whole-table read; unqualified names
    // resolve with the query's database and schema.
    let out = findings(
        vec![],
        vec![q("select id, email from customers", 5_000_000)],
    );
    assert_eq!(out.len(), 1);
    assert_eq!(entities(&out[0], "table"), ["PROD_DB.CRM.CUSTOMERS"]);
}

#[test]
fn an_unload_scanning_the_table_is_a_bulk_read() {
    let unload = Query::new(
        "COPY INTO @~/exports/customers_\nFROM (SELECT * FROM PROD_DB.CRM.CUSTOMERS)\nFILE_FORMAT = (TYPE = CSV)",
    )
    .rows(1)
    .bytes(18_874_368_000)
    .at("u1", T0, "JSMITH", "ANALYST");
    let out = findings(vec![], vec![unload]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].legs, ["bulk_read"]);
}

#[test]
fn repeated_reads_of_one_table_by_one_user_are_a_finding() {
    let read = |id: &str, minute: i64, user: &str, table: &str| {
        Query::new(&format!(
            "select id from {table} where region = 'R{minute}'"
        ))
        .at(id, T0 + minute * MIN, user, "ANALYST")
    };
    let four: Vec<Event> = (0..4)
        .map(|n| read(&format!("r{n}"), n * 5, "JSMITH", "customers"))
        .collect();
    let out = findings(vec![], four.clone());
    assert_eq!(out.len(), 1);
    let f = &out[0];
    assert_eq!(f.legs, ["repeated_read"]);
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.event_count, 4);
    assert_eq!(evidence_ids(f), ["r0", "r1", "r2", "r3"]);
    assert!(f.reasons[0].contains("read 4 times"), "{:?}", f.reasons);
    // Three reads are not more than three.
    assert!(findings(vec![], four[..3].to_vec()).is_empty());
    // Split over two users or two tables, or past the TimeWindow: nothing.
    let split = vec![
        read("r0", 0, "JSMITH", "customers"),
        read("r1", 1, "JSMITH", "customers"),
        read("r2", 2, "ADOE", "customers"),
        read("r3", 3, "JSMITH", "employees"),
        read("r4", 61, "JSMITH", "customers"),
        read("r5", 62, "JSMITH", "customers"),
    ];
    assert!(findings(vec![], split).is_empty());
}

#[test]
fn new_templates_are_reported_after_the_learning_period_and_learned() {
    let known = "select id from customers where id = 1";
    let odd = "select ssn, card from customers where name like 'A%'";
    let events = vec![
        // During the learning hour: learned, never new.
        Query::new(known).at("l1", T0, "JSMITH", "ANALYST"),
        Query::new("select * from hr.payroll where id = 2").at(
            "l2",
            T0 + 10 * MIN,
            "BOB",
            "ANALYST",
        ),
        // After it: the known shape again (other literal), not new.
        Query::new("select id from customers where id = 99").at(
            "k1",
            T0 + 2 * HOUR,
            "JSMITH",
            "ANALYST",
        ),
        // A role-mate's template: not new for JSMITH either.
        Query::new("select * from hr.payroll where id = 7").at(
            "k2",
            T0 + 2 * HOUR + MIN,
            "JSMITH",
            "ANALYST",
        ),
        // Never seen: new, once.
        Query::new(odd).at("n1", T0 + 2 * HOUR + 2 * MIN, "JSMITH", "ANALYST"),
        Query::new(odd).at("n2", T0 + 2 * HOUR + 3 * MIN, "JSMITH", "ANALYST"),
    ];
    let mut a = analytic(vec![short_learning()]);
    let out: Vec<Finding> = latest(&run(&mut a, events)).into_values().collect();
    assert_eq!(out.len(), 1, "{out:#?}");
    let f = &out[0];
    assert_eq!(f.legs, ["new_template"]);
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(
        f.uid,
        finding_uid("AN0680", &["snowflake", "JSMITH"], "k1"),
        "anchored at the first sensitive read"
    );
    let new: Vec<&str> = f
        .evidence
        .iter()
        .filter(|e| e.leg == "new_template")
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(new, ["n1"]);
    assert!(
        f.reasons[0].contains("1 query template never seen for JSMITH nor for role ANALYST"),
        "{:?}",
        f.reasons
    );
    assert!(
        f.reasons[0].contains("SELECT SSN , CARD FROM CUSTOMERS WHERE NAME LIKE ?"),
        "{:?}",
        f.reasons
    );
    assert!(a.engine().has_learned("JSMITH", template::shape_key(odd)));
    assert!(a.engine().learned_count() >= 4);
}

#[test]
fn baselines_hash_versions_and_scope() {
    let after = T0 + 2 * HOUR;
    let hashed = |id: &str, hash: &str| {
        Query::new("select * from customers where id = 3")
            .hash(hash)
            .at(id, after, "JSMITH", "ANALYST")
    };
    let warmup = Query::new("select 1").at("w", T0, "SVC", "ETL");
    // A baseline hash is never new.
    let baseline = vec![
        short_learning(),
        tunable(
            "BaselineQueryTemplates",
            texts(&["1:5D41402ABC4B2A76B9719D911017C592"]),
        ),
    ];
    assert!(
        findings(
            baseline,
            vec![
                warmup.clone(),
                hashed("h1", "5d41402abc4b2a76b9719d911017c592")
            ]
        )
        .is_empty()
    );
    // A `sql:` baseline entry matches a hashed query by its shape.
    let by_text = vec![
        short_learning(),
        tunable(
            "BaselineQueryTemplates",
            texts(&["sql:SELECT * FROM customers WHERE id = 1"]),
        ),
    ];
    assert!(findings(by_text, vec![warmup.clone(), hashed("h1", "aa")]).is_empty());
    // A hash learned under version 1 is new under version 2.
    let mut v2 = hashed("h2", "bb");
    if let Activity::Query(q) = &mut v2.activity {
        q.template_hash_version = Some("2".into());
        q.text = Some("select email from customers where id = 1".into());
    }
    let learned_then_v2 = vec![
        Query::new("select * from customers where id = 3")
            .hash("bb")
            .at("h0", T0, "JSMITH", "ANALYST"),
        v2,
    ];
    let out = findings(vec![short_learning()], learned_then_v2);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].legs, ["new_template"]);
    // New templates on non-sensitive tables count only when asked for.
    let plain = vec![
        warmup,
        Query::new("select * from prod_db.sales.orders").at("p1", after, "JSMITH", "ANALYST"),
    ];
    assert!(findings(vec![short_learning()], plain.clone()).is_empty());
    let everywhere = vec![
        short_learning(),
        tunable("NewTemplatesOnSensitiveOnly", TunableValue::Flag(false)),
    ];
    assert_eq!(findings(everywhere, plain).len(), 1);
}

#[test]
fn baseline_templates_feed_no_leg() {
    let etl = "select * from customers where updated_at > '2024-01-01'";
    let events: Vec<Event> = (0..5)
        .map(|n| {
            Query::new(etl)
                .rows(9_000_000)
                .at(&format!("e{n}"), T0 + n * MIN, "SVC_ETL", "ETL")
        })
        .collect();
    assert_eq!(
        findings(vec![], events.clone()).len(),
        1,
        "bulk and repeated without a baseline"
    );
    let baseline = vec![tunable(
        "BaselineQueryTemplates",
        texts(&[&format!("sql:{etl}")]),
    )];
    assert!(findings(baseline, events).is_empty());
}

#[test]
fn legs_together_and_off_hours_raise_the_severity() {
    // Saturday 2024-01-06 02:01 UTC: off hours by default.
    let saturday = T0 + 5 * DAY - 7 * HOUR + MIN;
    let bulk = |id: &str, time: i64| {
        Query::new(&format!("select * from customers where region = '{id}'"))
            .rows(11_020_455)
            .at(id, time, "JSMITH", "ANALYST")
    };
    let events: Vec<Event> = (0..4)
        .map(|n| bulk(&format!("b{n}"), T0 + n * MIN))
        .collect();
    let out = findings(vec![], events);
    assert_eq!(out[0].legs, ["bulk_read", "repeated_read"]);
    assert_eq!(out[0].severity, Severity::High);
    let events: Vec<Event> = (0..4)
        .map(|n| bulk(&format!("b{n}"), saturday + n * MIN))
        .collect();
    let out = findings(vec![], events);
    assert_eq!(out[0].severity, Severity::Critical);
    assert!(
        out[0]
            .reasons
            .iter()
            .any(|r| r.contains("Sat 02:01 UTC") && r.contains("OffHoursAccessWindow")),
        "{:?}",
        out[0].reasons
    );
    // With the office in UTC+10:00, 02:01 UTC Saturday is 12:01 Saturday:
    // still off hours; Monday 09:00 UTC is 19:00 local: off hours too.
    let sydney = vec![tunable(
        "OffHoursAccessWindow",
        texts(&[
            "Mon-Fri 00:00-07:00 UTC+10:00",
            "Mon-Fri 19:00-24:00 UTC+10:00",
            "Sat,Sun 00:00-24:00 UTC+10:00",
        ]),
    )];
    let out = findings(sydney, vec![bulk("b0", T0)]);
    assert_eq!(out[0].severity, Severity::High);
    // No off hours at all.
    let never = vec![tunable("OffHoursAccessWindow", texts(&[]))];
    assert_eq!(
        findings(never, vec![bulk("b0", saturday)])[0].severity,
        Severity::Medium
    );
}

#[test]
fn a_late_query_joins_the_window_it_would_have_anchored() {
    let mut a = analytic(vec![]);
    let bulk = |id: &str, time: i64| {
        Query::new(SELECT_ALL)
            .rows(1_000_000)
            .at(id, time, "JSMITH", "ANALYST")
    };
    a.process(vec![bulk("q2", T0 + 10 * MIN)]);
    let first = a.advance(T0 + 30 * MIN);
    assert_eq!(first.len(), 1);
    let update = a.process(vec![bulk("q1", T0)]);
    assert_eq!(update.len(), 1);
    assert_eq!(update[0].uid, first[0].uid);
    assert_eq!(update[0].event_count, 2);
    assert_eq!(update[0].start_time, T0);
    // A duplicate, late, changes nothing.
    assert!(a.process(vec![bulk("q1", T0)]).is_empty());
}

#[test]
fn inspect_lists_open_windows() {
    let mut a = analytic(vec![]);
    a.process(vec![
        Query::new("select id from customers where id = 1").at("r1", T0, "JSMITH", "ANALYST"),
        download(
            "d1",
            T0 + MIN,
            "jdoe@contoso.com",
            "FileDownloaded",
            "a.xlsx",
        ),
    ]);
    a.advance(T0 + 2 * MIN);
    let inspection = a.inspect(10);
    assert_eq!(inspection.open_windows, 2);
    assert_eq!(inspection.windows[0].entity, "snowflake/JSMITH");
    assert_eq!(inspection.windows[0].finding, None);
    assert_eq!(inspection.windows[1].entity, "m365/jdoe@contoso.com");
    assert_eq!(inspection.windows[1].events, 1);
}

#[test]
fn caps_bound_windows_learned_templates_and_pending_events() {
    let caps = vec![
        tunable("MaxOpenWindows", TunableValue::Integer(3)),
        tunable("MaxLearnedTemplates", TunableValue::Integer(10)),
        tunable("MaxPendingEvents", TunableValue::Integer(5)),
    ];
    let mut a = analytic(caps);
    let events: Vec<Event> = (0..20)
        .map(|n| {
            Query::new(&format!("select c{n} from customers where id = 1")).at(
                &format!("q{n}"),
                T0 + n * 2 * HOUR,
                &format!("U{n}"),
                "ANALYST",
            )
        })
        .collect();
    a.process(events);
    assert!(a.engine().pending_count() <= 5);
    assert!(
        a.engine().window_count() <= 3,
        "{}",
        a.engine().window_count()
    );
    assert!(
        a.engine().learned_count() <= 10,
        "{}",
        a.engine().learned_count()
    );
    a.advance(i64::MAX);
    assert_eq!(a.engine().window_count(), 0);
    assert!(a.engine().learned_count() <= 10);
}
