//! Text still to write: a version without a summary in one of its languages
//! (the history page and the feed would show an empty "what changed"), and a
//! section that is still the stub `policy-site init` wrote.

use crate::content::Site;
use crate::error::{Diagnostic, Diagnostics};
use crate::scaffold;

pub fn check(site: &Site) -> Diagnostics {
    let mut found = Diagnostics::default();
    for policy in &site.policies {
        for version in &policy.versions {
            let file = version.dir.join("version.yaml");
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for lang in version.translations.keys() {
                if version
                    .summary
                    .get(lang)
                    .is_some_and(|s| !s.trim().is_empty())
                {
                    continue;
                }
                let line = summary_line(&text, lang);
                found.push(
                    Diagnostic::new(&file, format!("version {} of `{}` has no `{lang}` summary", version.date, policy.slug))
                        .at_line(line)
                        .with_hint(format!("say what changed in a sentence or two under `summary:` as `{lang}: …`: readers see it in the history and the feed")),
                );
            }
        }
    }
    for section in site.sections() {
        if scaffold::is_stub(&section.markdown) {
            found.push(
                Diagnostic::new(
                    &section.file,
                    "this section is still the placeholder `policy-site init` wrote",
                )
                .at_line(section.body_line)
                .with_hint("replace the placeholder with the policy's own text"),
            );
        }
    }
    found
}

/// The `<lang>:` line under `summary:`, else `summary:`, else line 1.
fn summary_line(text: &str, lang: &str) -> usize {
    let Some(start) = crate::config::line_of(text, "summary:") else {
        return 1;
    };
    text.lines()
        .enumerate()
        .skip(start)
        .take_while(|(_, l)| l.starts_with(char::is_whitespace))
        .find(|(_, l)| l.trim_start().starts_with(&format!("{lang}:")))
        .map_or(start, |(i, _)| i + 1)
}
