//! MITRE ATT&CK references the shipped analytics use, as constants, so every
//! analytic names techniques and tactics the same way.

use crate::types::Attack;

/// A technique (and optional sub-technique) under a tactic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttackRef {
    pub tactic_id: &'static str,
    pub tactic_name: &'static str,
    pub technique_id: &'static str,
    pub technique_name: &'static str,
    pub sub_technique: Option<(&'static str, &'static str)>,
}

impl AttackRef {
    /// The WIT record.
    pub fn to_wit(&self) -> Attack {
        Attack {
            tactic_id: self.tactic_id.to_string(),
            tactic_name: self.tactic_name.to_string(),
            technique_id: self.technique_id.to_string(),
            technique_name: self.technique_name.to_string(),
            sub_technique_id: self.sub_technique.map(|(id, _)| id.to_string()),
            sub_technique_name: self.sub_technique.map(|(_, name)| name.to_string()),
        }
    }
}

pub const TA0009_COLLECTION: (&str, &str) = ("TA0009", "Collection");
pub const TA0010_EXFILTRATION: (&str, &str) = ("TA0010", "Exfiltration");

/// T1213 Data from Information Repositories (Collection).
pub const T1213: AttackRef = AttackRef {
    tactic_id: TA0009_COLLECTION.0,
    tactic_name: TA0009_COLLECTION.1,
    technique_id: "T1213",
    technique_name: "Data from Information Repositories",
    sub_technique: None,
};

/// T1213.006 Databases, under T1213 (Collection): every DET0242 analytic.
pub const T1213_006: AttackRef = AttackRef {
    sub_technique: Some(("T1213.006", "Databases")),
    ..T1213
};

/// T1048 Exfiltration Over Alternative Protocol (Exfiltration).
pub const T1048: AttackRef = AttackRef {
    tactic_id: TA0010_EXFILTRATION.0,
    tactic_name: TA0010_EXFILTRATION.1,
    technique_id: "T1048",
    technique_name: "Exfiltration Over Alternative Protocol",
    sub_technique: None,
};

/// T1567 Exfiltration Over Web Service (Exfiltration).
pub const T1567: AttackRef = AttackRef {
    tactic_id: TA0010_EXFILTRATION.0,
    tactic_name: TA0010_EXFILTRATION.1,
    technique_id: "T1567",
    technique_name: "Exfiltration Over Web Service",
    sub_technique: None,
};

/// T1567.002 Exfiltration to Cloud Storage, under T1567.
pub const T1567_002: AttackRef = AttackRef {
    sub_technique: Some(("T1567.002", "Exfiltration to Cloud Storage")),
    ..T1567
};

/// T1537 Transfer Data to Cloud Account (Exfiltration).
pub const T1537: AttackRef = AttackRef {
    tactic_id: TA0010_EXFILTRATION.0,
    tactic_name: TA0010_EXFILTRATION.1,
    technique_id: "T1537",
    technique_name: "Transfer Data to Cloud Account",
    sub_technique: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases_sub_technique() {
        let attack = T1213_006.to_wit();
        assert_eq!(attack.tactic_id, "TA0009");
        assert_eq!(attack.technique_id, "T1213");
        assert_eq!(attack.sub_technique_id.as_deref(), Some("T1213.006"));
        assert_eq!(attack.sub_technique_name.as_deref(), Some("Databases"));
        assert_eq!(T1048.to_wit().sub_technique_id, None);
        assert_eq!(T1567_002.to_wit().technique_id, "T1567");
        assert_eq!(T1537.tactic_id, "TA0010");
    }
}
