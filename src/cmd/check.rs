//! `policy-site check`: every finding, in the format asked for; fails when
//! there is any outside the published (locked) versions.

use crate::build::Options;
use crate::check::{self, Format};
use crate::error::Diagnostics;

/// Prints the findings (with `all`, also those in locked versions); `Err`
/// (with nothing more to print) when any must be fixed before publishing.
pub fn run(options: &Options, format: Format, all: bool) -> Result<(), Diagnostics> {
    let found = check::check(options);
    if format == Format::Human {
        for note in &found.notes {
            eprintln!("note: {note}");
        }
    }
    let text = check::format(&found, format, all);
    match (format, found.open.is_empty()) {
        (Format::Human, true) => println!("{text}"),
        (Format::Human, false) => eprintln!("{text}"),
        _ => print!("{text}"),
    }
    if found.open.is_empty() {
        Ok(())
    } else {
        Err(Diagnostics::default())
    }
}
