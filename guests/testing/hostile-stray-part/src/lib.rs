//! Sandbox test analytic `TEST-STRAY-PART`: see the `hostile` crate.

hostile::hostile_analytic!(Hostile, "TEST-STRAY-PART", hostile::Misbehaviour::StrayPart);
