//! Sandbox test analytic `TEST-STATE`: see the `hostile` crate.

hostile::hostile_analytic!(Hostile, "TEST-STATE", hostile::Misbehaviour::GarbledState);
