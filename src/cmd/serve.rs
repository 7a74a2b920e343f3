//! `policy-site serve`: the live preview for people editing the policy.

use crate::error::Diagnostics;
use crate::serve::{self, Settings};
use std::path::Path;

pub fn run(root: &Path, port: u16) -> Result<(), Diagnostics> {
    serve::run(Settings {
        root: root.to_path_buf(),
        port,
        quiet: false,
    })
}
