//! `policy-site translated <policy>`: declare a version's translations up to
//! date with their source, by recording its hash in their front matter.
//! Sections that are still the source text or a stub are left out, and said so.

use crate::build::{self, Options};
use crate::check::translations;
use crate::content;
use crate::date::Date;
use crate::error::{Diagnostic, Diagnostics};

pub fn run(
    options: &Options,
    policy: &str,
    version: Option<Date>,
    langs: &[String],
    sections: &[u32],
) -> Result<(), Diagnostics> {
    let site = content::load(&options.root, build::load_config(options)?)?;
    let place = "policy-site translated";
    let policy = site
        .policy(policy)
        .ok_or_else(|| Diagnostic::command(place, format!("there is no policy `{policy}`")))?;
    let version = match version {
        Some(date) => policy.version(date).ok_or_else(|| {
            Diagnostic::new(
                place,
                format!("`{}` has no version dated {date}", policy.slug),
            )
        })?,
        None => policy
            .versions
            .last()
            .expect("a loaded policy has a version"),
    };
    let marked = translations::mark(&site, version, langs, sections)?;
    let shown = |file: &std::path::Path| {
        file.strip_prefix(&site.root)
            .unwrap_or(file)
            .display()
            .to_string()
    };
    for file in &marked.recorded {
        println!("recorded the source of {}", shown(file));
    }
    for (file, why) in &marked.skipped {
        println!(
            "not recorded: {} is {why} (translate it, or name it with --section if it is right as it is)",
            shown(file)
        );
    }
    if marked.recorded.is_empty() && marked.skipped.is_empty() {
        println!(
            "every translation of {} already records its source",
            version.date
        );
    }
    Ok(())
}
