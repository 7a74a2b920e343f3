//! The commands: each orchestrates the shared stages and prints; none
//! re-implements loading or rendering.

pub mod build;
pub mod diff;
