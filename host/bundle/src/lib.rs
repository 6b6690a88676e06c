//! The analytics shipped inside the `dumpwatch` binary.
//!
//! `build.rs` compiles each guest crate listed there to a `wasm32-wasip2`
//! component and this crate embeds the bytes, so one file deploys the engine
//! and its content. Third-party analytics are loaded from the modules
//! directory instead and may replace a shipped one by id.

/// One embedded analytic component.
#[derive(Clone, Copy, Debug)]
pub struct Shipped {
    /// The analytic id its manifest declares (checked when loaded).
    pub id: &'static str,
    /// The guest crate it was built from.
    pub crate_name: &'static str,
    /// The component bytes.
    pub wasm: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/guests.rs"));

/// The path of a test-only guest component built by this crate.
pub fn test_guest(name: &str) -> Option<&'static str> {
    TEST_GUESTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| *p)
}
