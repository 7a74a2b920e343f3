//! `policy-site build`: compile the site and write it atomically.

use crate::build::{self, Options};
use crate::error::Diagnostics;

pub fn run(options: &Options, quiet: bool, timings: bool) -> Result<(), Diagnostics> {
    let compiled = build::build(options)?;
    if !quiet {
        println!("{}", compiled.summary());
    }
    if timings {
        println!("{}", compiled.timings.report());
    }
    Ok(())
}
