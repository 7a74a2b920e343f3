//! Raw HTML the sanitizer removed from a section (see `sanitize`): the page
//! was published safely without it, but it says less than the file, so the
//! author must hear of each removal, at its line.

use crate::content::Site;
use crate::error::{Diagnostic, Diagnostics};

pub fn check(site: &Site) -> Diagnostics {
    let mut found = Diagnostics::default();
    for section in site.sections() {
        for removed in &section.rendered.removed {
            found.push(
                Diagnostic::new(
                    &section.file,
                    format!("{} was removed from the published page", removed.what),
                )
                .at_line(section.body_line + removed.line - 1)
                .with_hint("sections may use harmless formatting only (no scripts, styles, frames, forms, event handlers, or javascript:/data: links); delete it"),
            );
        }
    }
    found
}
