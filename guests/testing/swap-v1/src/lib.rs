//! Reload test analytic `TEST-SWAP` writing state format 1 (and refusing
//! any other): see the `hostile` crate.

hostile::hostile_analytic!(Swap, "TEST-SWAP", hostile::Misbehaviour::StateFormat(1));
