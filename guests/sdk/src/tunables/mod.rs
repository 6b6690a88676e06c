//! Tunables: declaring them in the manifest ([`spec`]) and reading a
//! configured set into typed, validated values ([`TunableSet`]).
//!
//! The host parses the config by the declared kind: durations arrive as
//! integer milliseconds, byte sizes as integer bytes, glob and CIDR lists as
//! text lists. [`TunableSet`] checks shapes and values, compiles globs and
//! networks, and collects *every* problem as a `config-error` instead of
//! stopping at the first, so an operator fixes a config in one round.

mod set;
pub mod spec;

#[cfg(test)]
mod tests;

pub use set::TunableSet;
