//! Sandbox test analytic `TEST-FLOOD`: see the `hostile` crate.

hostile::hostile_analytic!(Hostile, "TEST-FLOOD", hostile::Misbehaviour::Flood);
