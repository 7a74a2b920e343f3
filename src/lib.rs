//! policy-site compiles versioned, multilingual policy sources into a static
//! site. The pipeline is the architecture:
//! `config` → `content` (with `markdown`) → `diff` → `render` → `output`,
//! orchestrated by `build`; the commands in `cmd` are thin layers over it.
//! Imports go one way only, down the order in the README's "Architecture",
//! which `architecture` (a test) enforces.

pub mod assets;
pub mod build;
pub mod check;
pub mod cmd;
pub mod config;
pub mod consent;
pub mod content;
pub mod corpus;
pub mod date;
pub mod diff;
pub mod error;
pub mod i18n;
pub mod import;
pub mod markdown;
pub mod output;
pub mod proof;
pub mod receive;
pub mod render;
pub mod revise;
pub mod rights;
pub mod sanitize;
pub mod scaffold;
pub mod scan;
pub mod serve;
pub mod server;
pub mod vocabulary;
pub mod yaml;

#[cfg(test)]
mod architecture;
