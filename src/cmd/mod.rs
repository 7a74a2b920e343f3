//! The commands: each orchestrates the shared stages and prints; none
//! re-implements loading or rendering.

pub mod build;
pub mod check;
pub mod diff;
pub mod import;
pub mod init;
pub mod lock;
pub mod operators;
pub mod receive;
pub mod requests;
pub mod revise;
pub mod scan;
pub mod serve;
pub mod translated;
pub mod verify;
