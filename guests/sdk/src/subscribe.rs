//! Constructors for subscriptions and field tests.
//!
//! The host evaluates subscriptions natively before an event crosses into
//! the guest, so they should be as tight as the analytic's own first checks
//! (the analytic still re-checks: a host may prefilter more loosely). Field
//! names are those of `docs/contract.md` (`process.name`, `file.path`,
//! `dst.ip`, `http.method` …).

use crate::types::{EventClass, FieldTest, MatchOp, Subscription};

fn test<S: AsRef<str>>(
    field: &str,
    op: MatchOp,
    values: impl IntoIterator<Item = S>,
    negate: bool,
) -> FieldTest {
    FieldTest {
        field: field.to_string(),
        op,
        values: values.into_iter().map(|v| v.as_ref().to_string()).collect(),
        negate,
    }
}

/// A subscription to `class` from `sources` (empty: all) whose `tests` must
/// all pass.
pub fn subscription(class: EventClass, sources: &[&str], tests: Vec<FieldTest>) -> Subscription {
    Subscription {
        class,
        sources: sources.iter().map(|source| source.to_string()).collect(),
        tests,
    }
}

/// The field equals one of `values`.
pub fn equals<S: AsRef<str>>(field: &str, values: impl IntoIterator<Item = S>) -> FieldTest {
    test(field, MatchOp::Equals, values, false)
}

/// The field equals none of `values`.
pub fn not_equals<S: AsRef<str>>(field: &str, values: impl IntoIterator<Item = S>) -> FieldTest {
    test(field, MatchOp::Equals, values, true)
}

/// The field equals one of `values`, ignoring ASCII case.
pub fn equals_nocase<S: AsRef<str>>(field: &str, values: impl IntoIterator<Item = S>) -> FieldTest {
    test(field, MatchOp::EqualsNocase, values, false)
}

/// The field matches one of the globs.
pub fn glob<S: AsRef<str>>(field: &str, patterns: impl IntoIterator<Item = S>) -> FieldTest {
    test(field, MatchOp::Glob, patterns, false)
}

/// The field matches one of the globs, ignoring ASCII case.
pub fn glob_nocase<S: AsRef<str>>(field: &str, patterns: impl IntoIterator<Item = S>) -> FieldTest {
    test(field, MatchOp::GlobNocase, patterns, false)
}

/// The field ends with one of `suffixes`, ignoring ASCII case.
pub fn suffix_nocase<S: AsRef<str>>(
    field: &str,
    suffixes: impl IntoIterator<Item = S>,
) -> FieldTest {
    test(field, MatchOp::SuffixNocase, suffixes, false)
}

/// The field is an address inside one of the networks.
pub fn in_cidr<S: AsRef<str>>(field: &str, networks: impl IntoIterator<Item = S>) -> FieldTest {
    test(field, MatchOp::InCidr, networks, false)
}

/// The field is an address outside all of the networks.
pub fn not_in_cidr<S: AsRef<str>>(field: &str, networks: impl IntoIterator<Item = S>) -> FieldTest {
    test(field, MatchOp::InCidr, networks, true)
}

/// The field is a number at least `minimum`.
pub fn at_least(field: &str, minimum: u64) -> FieldTest {
    test(field, MatchOp::AtLeast, [minimum.to_string()], false)
}

/// The field is present.
pub fn exists(field: &str) -> FieldTest {
    test(field, MatchOp::Exists, std::iter::empty::<&str>(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let sub = subscription(
            EventClass::Network,
            &["auditd"],
            vec![
                exists("dst.ip"),
                not_in_cidr("dst.ip", ["10.0.0.0/8"]),
                at_least("network.bytes_out", 1_000_000),
            ],
        );
        assert_eq!(sub.sources, ["auditd"]);
        assert_eq!(sub.tests[0].op, MatchOp::Exists);
        assert!(sub.tests[0].values.is_empty());
        assert!(sub.tests[1].negate && sub.tests[1].op == MatchOp::InCidr);
        assert_eq!(sub.tests[2].values, ["1000000"]);
        assert!(not_equals("dst.port", ["5432"]).negate);
    }
}
