//! `policy-site check`: everything that would make a revision publish
//! something broken or misleading. It compiles the site with `build::compile`
//! (so every build error is a finding too), then runs each check over the
//! model and the compiled pages, collecting every finding with its file and line.
//!
//! Published history is what it is: a finding placed in a file exactly as
//! `policy-site.lock` recorded it is set apart (`Findings::locked`, shown with
//! `--all`) and never fails the check, since fixing it would break the lock.
//! A file added to or changed in a locked version is not history: its
//! findings are open.

mod dates;
mod html;
mod links;
pub mod lock;
mod proof;
mod references;
mod rights;
mod text;
pub mod translations;
mod unwritten;

use crate::build::{self, Options};
use crate::content::{self, Section, Site};
pub use crate::error::Format;
use crate::error::{Diagnostic, Diagnostics};
use std::path::Path;

/// What a check found: `open` fails it; `locked` lies in published versions.
#[derive(Debug, Default)]
pub struct Findings {
    pub open: Diagnostics,
    pub locked: Diagnostics,
    /// What the author should know but need not fix (an unsigned log).
    pub notes: Vec<String>,
}

/// Every finding, sorted by place; `open` is empty when the site may be published.
pub fn check(options: &Options) -> Findings {
    let options = Options {
        minify: Some(false),
        ..options.clone()
    };
    // A build error stops the pages, not the checks of the model: report
    // both, so that one run lists every problem. A build error always fails,
    // wherever it is: the site cannot be built.
    let (site, mut found, build_errors, outputs) = match build::compile(&options) {
        Ok(compiled) => {
            let given = crate::date::build_date(options.date).ok().flatten();
            let today = compiled.site.today(given);
            let found = links::check(&compiled.site, &compiled.outputs, today);
            (
                compiled.site,
                found,
                Diagnostics::default(),
                Some(compiled.outputs),
            )
        }
        Err(build_errors) => {
            let Ok(config) = build::load_config(&options) else {
                return Findings {
                    open: sorted(build_errors, &options.root),
                    ..Findings::default()
                };
            };
            let (site, problems) = content::load_partial(&options.root, config);
            if !problems.is_empty() {
                // Some files did not load: what did is checked file by file.
                return judged(&site, per_file(&site), build_errors);
            }
            (site, Diagnostics::default(), build_errors, None)
        }
    };
    found.extend(references::check(&site));
    found.extend(translations::check(&site));
    found.extend(dates::check(&site));
    found.extend(per_file(&site));
    // The lock's and the publication log's findings are about published
    // versions and always fail.
    let mut always = lock::check(&site);
    let (proof_found, notes) = proof::check(&site, outputs.as_deref());
    always.extend(proof::not_said_by(&always, proof_found, &site.root));
    always.extend(build_errors);
    Findings {
        notes,
        ..judged(&site, found, always)
    }
}

/// The checks that look at one file at a time (a section, a version's
/// `version.yaml`), and so hold on a partial model: what failed to load is
/// only missing from them, never taken for a mistake.
fn per_file(site: &Site) -> Diagnostics {
    let mut found = text::check(site);
    found.extend(html::check(site));
    found.extend(rights::check(site));
    found.extend(unwritten::check(site));
    found
}

/// `found` set apart by the lock: findings in files exactly as published
/// are `locked`; the rest, and every one of `always`, are `open`.
fn judged(site: &Site, found: Diagnostics, always: Diagnostics) -> Findings {
    let published = lock::published(site);
    // Places are compared relative to the root: some are written from it
    // (`content/…`), others joined to it (`--root .` gives `./content/…`).
    let (locked, mut open): (Vec<_>, Vec<_>) = found
        .0
        .into_iter()
        .map(|d| d.relative_to(&site.root))
        .partition(|d| {
            d.file()
                .is_some_and(|f| published.contains(&site.root.join(f)))
        });
    open.extend(always.0);
    Findings {
        open: sorted(Diagnostics(open), &site.root),
        locked: sorted(Diagnostics(locked), &site.root),
        notes: Vec::new(),
    }
}

fn sorted(found: Diagnostics, root: &Path) -> Diagnostics {
    let mut found: Vec<Diagnostic> = found.0.into_iter().map(|d| d.relative_to(root)).collect();
    found.sort_by(|a, b| (&a.place, a.line, &a.message).cmp(&(&b.place, b.line, &b.message)));
    found.dedup();
    Diagnostics(found)
}

/// The findings as text: the open ones, then (with `all`) those in locked
/// versions, marked as such (GitHub: as warnings; JSON: `"locked": true`).
pub fn format(found: &Findings, format: Format, all: bool) -> String {
    let locked: &[Diagnostic] = if all { &found.locked.0 } else { &[] };
    match format {
        Format::Human => human(found, all),
        Format::Github => found
            .open
            .0
            .iter()
            .map(|d| d.annotation("error"))
            .chain(locked.iter().map(|d| d.annotation("warning")))
            .collect(),
        Format::Json => {
            let item = |d: &Diagnostic, locked: bool| {
                let mut item = d.to_json();
                item["locked"] = serde_json::Value::Bool(locked);
                item
            };
            let items: Vec<_> = found
                .open
                .0
                .iter()
                .map(|d| item(d, false))
                .chain(locked.iter().map(|d| item(d, true)))
                .collect();
            serde_json::to_string_pretty(&items).expect("plain JSON") + "\n"
        }
    }
}

fn human(found: &Findings, all: bool) -> String {
    let mut text = if found.open.is_empty() {
        "No problems found.".to_string()
    } else {
        found.open.to_string()
    };
    let n = found.locked.len();
    if n > 0 && all {
        text.push_str(&format!(
            "\n\nIn published versions (recorded in {}; they do not fail the check):\n{}",
            crate::vocabulary::LOCK_FILE,
            found.locked
        ));
    } else if n > 0 {
        text.push_str(&format!(
            "\n{n} more in published versions, which do not fail the check (--all lists them)"
        ));
    }
    text
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
