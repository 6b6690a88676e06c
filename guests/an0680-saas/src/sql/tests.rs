use proptest::prelude::*;

use super::{reads, shape};

#[test]
fn shapes_drop_literals_comments_case_and_spacing() {
    let a = shape(
        "select *\n  from prod_db.crm.customers -- ad hoc\n where region = 'EMEA' and id > 42",
    );
    let b = shape("SELECT * FROM PROD_DB.CRM.CUSTOMERS /* x */ WHERE REGION='APAC' AND ID>7");
    assert_eq!(a, b);
    assert_eq!(
        a,
        "SELECT * FROM PROD_DB . CRM . CUSTOMERS WHERE REGION = ? AND ID > ?"
    );
    assert_eq!(
        shape("select 'it''s', $$raw 'x'$$, 1.5e3"),
        "SELECT ? , ? , ?"
    );
    assert_eq!(
        shape(r#"select "Mixed Case" from t"#),
        r#"SELECT "Mixed Case" FROM T"#
    );
    assert_ne!(shape("select a from t"), shape("select b from t"));
}

#[test]
fn tables_are_resolved_with_the_query_database_and_schema() {
    let r = reads(
        "select * from customers c join crm.orders o on c.id = o.cid",
        Some("prod_db"),
        Some("sales"),
    );
    assert_eq!(r.tables, ["PROD_DB.SALES.CUSTOMERS", "PROD_DB.CRM.ORDERS"]);
    assert!(r.star && !r.filtered && r.whole());
    let r = reads(
        "SELECT id FROM a, b x, other.s.c WHERE a.k = x.k",
        Some("D"),
        Some("S"),
    );
    assert_eq!(r.tables, ["D.S.A", "D.S.B", "OTHER.S.C"]);
    assert!(!r.star && r.filtered && !r.whole());
    let r = reads(r#"select * from "Prod"."Crm"."Customers""#, None, None);
    assert_eq!(r.tables, ["Prod.Crm.Customers"]);
    let r = reads("select * from customers", None, None);
    assert_eq!(r.tables, ["?.?.CUSTOMERS"]);
}

#[test]
fn unloads_sub_queries_and_stages() {
    let text = "COPY INTO @~/exports/customers_\nFROM (SELECT * FROM PROD_DB.CRM.CUSTOMERS)\nFILE_FORMAT = (TYPE = CSV)";
    let r = reads(text, Some("PROD_DB"), Some("CRM"));
    assert_eq!(r.tables, ["PROD_DB.CRM.CUSTOMERS"]);
    assert!(r.whole());
    let r = reads(
        "copy into @stage/x from crm.customers",
        Some("PROD_DB"),
        None,
    );
    assert_eq!(r.tables, ["PROD_DB.CRM.CUSTOMERS"]);
    assert!(r.whole() && !r.star);
    assert!(
        reads(
            "COPY INTO t FROM @~/in/ FILE_FORMAT = (TYPE = CSV)",
            None,
            None
        )
        .tables
        .is_empty()
    );
    assert!(
        reads("select * from table(flatten(input => x))", None, None)
            .tables
            .is_empty()
    );
    let r = reads(
        "with x as (select * from hr.pay) select t.* from x t limit 10",
        Some("D"),
        None,
    );
    assert_eq!(r.tables, ["D.HR.PAY", "D.?.X"]);
    assert!(r.star && r.filtered);
}

#[test]
fn column_froms_and_deletes_are_not_reads() {
    let r = reads(
        "select extract(year from created), trim(both ' ' from name), substring(s from 2) from t where x",
        Some("D"),
        Some("S"),
    );
    assert_eq!(r.tables, ["D.S.T"]);
    assert!(
        reads("DELETE FROM customers WHERE id = 1", Some("D"), Some("S"))
            .tables
            .is_empty()
    );
    assert!(
        reads("show grants to role analyst", None, None)
            .tables
            .is_empty()
    );
}

#[test]
fn strings_and_comments_hide_keywords() {
    let r = reads(
        "select 'from secrets' as x, /* from hr.pay */ y -- from z\n from t",
        Some("D"),
        Some("S"),
    );
    assert_eq!(r.tables, ["D.S.T"]);
}

proptest! {
    #[test]
    fn any_text_is_read_without_panicking(text in "\\PC{0,200}") {
        let _ = shape(&text);
        let _ = reads(&text, Some("D"), None);
    }

    #[test]
    fn literal_values_never_change_the_shape(a in 0u32..1_000_000, b in "[a-z ]{0,12}") {
        prop_assert_eq!(
            shape(&format!("select x from t where n = {a} and s = '{b}'")),
            shape("select x from t where n = 1 and s = 'q'")
        );
    }
}
