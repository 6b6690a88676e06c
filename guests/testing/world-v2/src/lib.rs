//! A component of the *next* contract version (`dumpwatch:analytic@0.2.0`,
//! here a copy of the 0.1 WIT with the version raised): a 0.1 host must
//! refuse it at load, naming both versions.

wit_bindgen::generate!({
    world: "analytic",
    path: "wit",
});

use dumpwatch::analytic::types::*;
use exports::dumpwatch::analytic::detector::Guest;

struct Next;

impl Guest for Next {
    fn describe() -> Manifest {
        Manifest {
            id: "TEST-WORLD-V2".into(),
            name: "next contract version".into(),
            version: "0.0.1".into(),
            description: String::new(),
            strategy: None,
            attacks: Vec::new(),
            tunables: Vec::new(),
        }
    }
    fn configure(_t: Vec<Tunable>) -> Result<Vec<Subscription>, Vec<ConfigError>> {
        Ok(Vec::new())
    }
    fn process(_e: Vec<Event>) -> Vec<Finding> {
        Vec::new()
    }
    fn advance(_w: Timestamp) -> Vec<Finding> {
        Vec::new()
    }
    fn snapshot(_m: SnapshotMode) -> Vec<StateEntry> {
        Vec::new()
    }
    fn restore(_e: Vec<StateEntry>) -> Result<(), String> {
        Ok(())
    }
    fn inspect(_l: u32) -> Inspection {
        Inspection {
            open_windows: 0,
            windows: Vec::new(),
        }
    }
}

// The export symbols carry the WIT names (with ':' and '@'), which a native
// shared-library link rejects; only the wasm build exports them.
#[cfg(target_arch = "wasm32")]
export!(Next);
