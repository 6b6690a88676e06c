//! Sandbox test analytic `TEST-PART-FLOOD`: see the `hostile` crate.

hostile::hostile_analytic!(Hostile, "TEST-PART-FLOOD", hostile::Misbehaviour::PartFlood);
