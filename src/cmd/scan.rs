//! `policy-site scan`: scans the site in headless Chromium, prints the
//! findings in the format asked for, writes the report (and, asked, the
//! proposed inventory); fails when any finding is an error.

use crate::error::{Diagnostic, Diagnostics, Format};
use crate::scan::{self, report};
use std::path::PathBuf;

/// What the command line asked for beyond the scan itself.
pub struct Output {
    pub format: Format,
    /// The report's folder (default: `scan-report` under the root).
    pub report: Option<PathBuf>,
    /// Also write `inventory.yaml` into the report's folder.
    pub write_inventory: bool,
}

pub fn run(options: &scan::Options, output: &Output) -> Result<(), Diagnostics> {
    let found = scan::scan(options)?;
    let dir = output
        .report
        .clone()
        .unwrap_or_else(|| options.root.join(report::DEFAULT_DIR));
    let page = report::write(&found, &dir)?;
    let text = scan::format(&found, output.format);
    match (output.format, found.fails()) {
        (Format::Human, false) => println!("{text}"),
        (Format::Human, true) => eprintln!("{text}"),
        _ => print!("{text}"),
    }
    if let Some(note) = &found.cut_short {
        eprintln!("{note}");
    }
    eprintln!("report: {}", page.display());
    if output.write_inventory {
        let file = dir.join("inventory.yaml");
        std::fs::write(&file, report::proposed_inventory(&found))
            .map_err(|e| Diagnostic::new(&file, format!("cannot write: {e}")))?;
        eprintln!("proposed inventory entries: {}", file.display());
    }
    if found.fails() {
        Err(Diagnostics::default())
    } else {
        Ok(())
    }
}
