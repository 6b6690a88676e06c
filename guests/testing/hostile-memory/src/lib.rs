//! Sandbox test analytic `TEST-MEMORY`: see the `hostile` crate.

hostile::hostile_analytic!(Hostile, "TEST-MEMORY", hostile::Misbehaviour::Memory);
