//! Tera set-up: the default templates ship in the binary; a site's own
//! `templates/` folder overrides any of them by name. Template errors become
//! diagnostics that name the template file and, where Tera knows it, the line.

use crate::error::{Diagnostic, Diagnostics};
use std::path::Path;
use tera::Tera;

pub const TEMPLATES_DIR: &str = "templates";

/// Default templates, by name, as shipped in `templates/`.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("index.html", include_str!("../../templates/index.html")),
    (
        "language.html",
        include_str!("../../templates/language.html"),
    ),
    ("policy.html", include_str!("../../templates/policy.html")),
    ("history.html", include_str!("../../templates/history.html")),
    ("changes.html", include_str!("../../templates/changes.html")),
    ("request.html", include_str!("../../templates/request.html")),
    ("thanks.html", include_str!("../../templates/thanks.html")),
    ("404.html", include_str!("../../templates/404.html")),
    ("feed.xml", include_str!("../../templates/feed.xml")),
    (
        "partials/banner.html",
        include_str!("../../templates/partials/banner.html"),
    ),
    (
        "partials/form.html",
        include_str!("../../templates/partials/form.html"),
    ),
    (
        "partials/cookie_table.html",
        include_str!("../../templates/partials/cookie_table.html"),
    ),
    (
        "partials/icon.html",
        include_str!("../../templates/partials/icon.html"),
    ),
];

/// Loads the built-in templates with the site's overrides on top.
pub fn load(root: &Path) -> Result<Tera, Diagnostics> {
    let dir = root.join(TEMPLATES_DIR);
    let mut sources: Vec<(String, String)> = BUILT_IN
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    let mut found = Diagnostics::default();
    for (name, path) in crate::assets::site_files(&dir) {
        match std::fs::read_to_string(&path) {
            Ok(text) => match sources.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = text,
                None => sources.push((name, text)),
            },
            Err(e) => found.push(Diagnostic::new(
                path,
                format!("cannot read the template: {e}"),
            )),
        }
    }
    // Tera reports the first broken template only; add them one by one to
    // report each broken file, then together so inheritance resolves.
    for (name, text) in &sources {
        if let Err(e) = tera::Template::new(name, None, text) {
            found.push(template_error(&dir, name, &e));
        }
    }
    if !found.is_empty() {
        return Err(found);
    }
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html", ".xml"]);
    tera.add_raw_templates(sources)
        .map_err(|e| Diagnostics::from(template_error(&dir, "", &e)))?;
    Ok(tera)
}

/// A diagnostic for a Tera error, naming the template and the line it gives.
pub fn template_error(dir: &Path, name: &str, error: &tera::Error) -> Diagnostic {
    let message = error_chain(error);
    let name = if name.is_empty() {
        quoted_name(&message).unwrap_or_default()
    } else {
        name.to_string()
    };
    let line = message
        .split("-->")
        .nth(1)
        .and_then(|rest| rest.trim().split(':').next())
        .and_then(|l| l.trim().parse().ok());
    let file = dir.join(&name);
    let mut d = Diagnostic::new(file, tidy(&message)).with_hint("see https://keats.github.io/tera/docs/ for the template syntax; every variable a template uses must be one the page provides");
    if let Some(line) = line {
        d = d.at_line(line);
    }
    d
}

/// Tera nests the useful part of a message in its sources.
pub fn error_chain(error: &tera::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        parts.push(e.to_string());
        source = e.source();
    }
    parts.join(": ")
}

fn quoted_name(message: &str) -> Option<String> {
    let start = message.find('\'')? + 1;
    let end = message[start..].find('\'')? + start;
    Some(message[start..end].to_string())
}

fn tidy(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
