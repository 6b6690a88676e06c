//! ATT&CK references AN0677 adds to the SDK's constants.

use dumpwatch_sdk::attack::{AttackRef, TA0009_COLLECTION};

/// T1560.001 Archive via Utility, under T1560 Archive Collected Data
/// (Collection): the export archived (7-Zip, RAR, zip) before it leaves.
pub const T1560_001: AttackRef = AttackRef {
    tactic_id: TA0009_COLLECTION.0,
    tactic_name: TA0009_COLLECTION.1,
    technique_id: "T1560",
    technique_name: "Archive Collected Data",
    sub_technique: Some(("T1560.001", "Archive via Utility")),
};
