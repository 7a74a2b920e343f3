//! `policy-site init [DIR]`: scaffold a new site.

use crate::date::{self, Date};
use crate::error::{Diagnostic, Diagnostics};
use crate::scaffold;
use std::path::Path;

pub fn run(dir: &Path, date: Option<Date>) -> Result<(), Diagnostics> {
    let today = date::authoring_today(date).map_err(|e| Diagnostic::env("SOURCE_DATE_EPOCH", e))?;
    scaffold::init(dir, today)?;
    println!(
        "Created a site in {}: run `policy-site serve --root {}` and open the address it prints.",
        dir.display(),
        dir.display()
    );
    Ok(())
}
