//! Sandbox test analytic `TEST-LOOP`: see the `hostile` crate.

hostile::hostile_analytic!(Hostile, "TEST-LOOP", hostile::Misbehaviour::Loop);
