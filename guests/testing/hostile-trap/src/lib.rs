//! Sandbox test analytic `TEST-TRAP`: see the `hostile` crate.

hostile::hostile_analytic!(Hostile, "TEST-TRAP", hostile::Misbehaviour::Trap);
