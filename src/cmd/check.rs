//! `policy-site check`: every finding, in the format asked for; fails when there is any.

use crate::build::Options;
use crate::check::{self, Format};
use crate::error::Diagnostics;

/// Prints the findings; `Err` (with nothing more to print) when there are any.
pub fn run(options: &Options, format: Format) -> Result<(), Diagnostics> {
    let found = check::check(options);
    let text = check::format(&found, format);
    if found.is_empty() {
        if format == Format::Human {
            println!("{text}");
        } else {
            print!("{text}");
        }
        return Ok(());
    }
    match format {
        Format::Human => eprintln!("{text}"),
        _ => print!("{text}"),
    }
    Err(Diagnostics::default())
}
