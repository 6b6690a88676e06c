//! Sandbox test analytic `TEST-WASI`: see the `hostile` crate.

hostile::hostile_analytic!(Hostile, "TEST-WASI", hostile::Misbehaviour::Wasi);
