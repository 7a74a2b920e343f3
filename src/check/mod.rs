//! `policy-site check`: everything that would make a revision publish
//! something broken or misleading. It compiles the site with `build::compile`
//! (so every build error is a finding too), then runs each check over the
//! model and the compiled pages, collecting every finding with its file and line.

mod dates;
mod html;
mod links;
pub mod lock;
mod references;
mod rights;
mod text;
pub mod translations;

use crate::build::{self, Options};
use crate::content::{Section, Site};
use crate::error::{Diagnostic, Diagnostics};

/// Every finding, sorted by place; empty when the site may be published.
pub fn check(options: &Options) -> Diagnostics {
    let options = Options {
        minify: Some(false),
        ..options.clone()
    };
    let compiled = match build::compile(&options) {
        Ok(compiled) => compiled,
        Err(found) => return found,
    };
    let site = &compiled.site;
    let mut found = Diagnostics::default();
    found.extend(references::check(site));
    found.extend(translations::check(site));
    found.extend(lock::check(site));
    found.extend(dates::check(site));
    found.extend(text::check(site));
    found.extend(html::check(site));
    found.extend(rights::check(site));
    found.extend(links::check(site, &compiled.outputs));
    let mut found = Diagnostics(
        found
            .0
            .into_iter()
            .map(|d| d.relative_to(&site.root))
            .collect(),
    );
    found
        .0
        .sort_by(|a, b| (&a.file, a.line, &a.message).cmp(&(&b.file, b.line, &b.message)));
    found.0.dedup();
    found
}

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `file:line: error: message` and a hint, for people.
    Human,
    /// `::error file=…,line=…::message`, which GitHub Actions shows on the diff.
    Github,
    /// One JSON array of `{file, line, message, hint}`.
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "human" => Ok(Format::Human),
            "github" => Ok(Format::Github),
            "json" => Ok(Format::Json),
            _ => Err(format!("`{s}` is not a format: use human, github or json")),
        }
    }
}

pub fn format(found: &Diagnostics, format: Format) -> String {
    match format {
        Format::Human if found.is_empty() => "No problems found.".into(),
        Format::Human => found.to_string(),
        Format::Github => found
            .0
            .iter()
            .map(|d| {
                let mut message = d.message.clone();
                if let Some(hint) = &d.hint {
                    message.push_str(&format!(" (hint: {hint})"));
                }
                let line = d.line.map(|l| format!(",line={l}")).unwrap_or_default();
                format!(
                    "::error file={}{line}::{}\n",
                    escape_property(&d.file.to_string_lossy()),
                    escape_data(&message)
                )
            })
            .collect(),
        Format::Json => {
            let items: Vec<_> = found
                .0
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "file": d.file.to_string_lossy().replace('\\', "/"),
                        "line": d.line,
                        "message": d.message,
                        "hint": d.hint,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&items).expect("plain JSON") + "\n"
        }
    }
}

/// Workflow-command escaping, as GitHub's toolkit does it.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A finding at a place in a section's markdown body (byte offset into it).
fn at_offset(section: &Section, offset: usize, message: impl Into<String>) -> Diagnostic {
    let line = section.markdown[..offset.min(section.markdown.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count();
    Diagnostic::new(&section.file, message).at_line(section.body_line + line)
}

/// Every section of every version and language, with what it belongs to.
fn sections(site: &Site) -> impl Iterator<Item = Located<'_>> {
    site.policies.iter().flat_map(|policy| {
        policy.versions.iter().flat_map(move |version| {
            version.translations.values().flat_map(move |translation| {
                translation.sections.iter().map(move |section| Located {
                    translation,
                    section,
                })
            })
        })
    })
}

struct Located<'a> {
    translation: &'a crate::content::Translation,
    section: &'a Section,
}
