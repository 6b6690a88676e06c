//! One module per subcommand.

pub mod bench;
pub mod inspect;
pub mod normalize;
pub mod replay;
pub mod run;
pub mod sign;
pub mod state;
pub mod validate;
