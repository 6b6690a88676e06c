//! Severity arithmetic: findings start at a base level and each aggravating
//! factor raises them one level, capped at critical.

use crate::types::Severity;

const LEVELS: [Severity; 5] = [
    Severity::Informational,
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];

/// 0 (informational) … 4 (critical).
pub fn rank(severity: Severity) -> u8 {
    match severity {
        Severity::Informational => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

/// The severity of `rank`, capped at critical.
pub fn from_rank(rank: u8) -> Severity {
    LEVELS[usize::from(rank.min(4))]
}

/// `severity` raised by `levels`, capped at critical.
pub fn raise(severity: Severity, levels: u8) -> Severity {
    from_rank(rank(severity).saturating_add(levels))
}

/// The higher of two severities.
pub fn max(a: Severity, b: Severity) -> Severity {
    if rank(a) >= rank(b) { a } else { b }
}

/// "medium", "high" …, for reason lines.
pub fn name(severity: Severity) -> &'static str {
    match severity {
        Severity::Informational => "informational",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_caps_at_critical() {
        assert_eq!(raise(Severity::Medium, 0), Severity::Medium);
        assert_eq!(raise(Severity::Medium, 1), Severity::High);
        assert_eq!(raise(Severity::Medium, 2), Severity::Critical);
        assert_eq!(raise(Severity::Medium, 200), Severity::Critical);
        assert_eq!(raise(Severity::Informational, 1), Severity::Low);
    }

    #[test]
    fn ranks_round_trip_and_order() {
        for level in LEVELS {
            assert_eq!(from_rank(rank(level)), level);
        }
        assert_eq!(max(Severity::Low, Severity::High), Severity::High);
        assert_eq!(name(Severity::Critical), "critical");
    }
}
