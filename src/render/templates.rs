//! Tera set-up: the default templates ship in the binary; a site's own
//! `templates/` folder overrides any of them by name. Template errors become
//! diagnostics that name the template file and, where Tera knows it, the line.
//!
//! Two things here are written by hand, each a few lines:
//! - [`unindent`] takes the indentation out of templates (built-in and the
//!   site's own) as they load, so pages come out compact without running
//!   every page through minify-html (which cannot read Tera tags inside
//!   attributes, so it cannot minify the templates themselves).
//! - [`escape`] replaces Tera's default escaping, which also turns every `/`
//!   into `&#x2F;` (six bytes for one in every address) though neither HTML
//!   text nor a quoted attribute needs it.

use crate::error::{Diagnostic, Diagnostics};
use std::path::Path;
use tera::Tera;

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
    (
        "publication-log.html",
        include_str!("../../templates/publication-log.html"),
    ),
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
    let dir = root.join(crate::vocabulary::TEMPLATES_DIR);
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
    tera.set_escape_fn(escape);
    let sources = sources.into_iter().map(|(name, text)| {
        let text = unindent(&text);
        (name, text)
    });
    tera.add_raw_templates(sources)
        .map_err(|e| Diagnostics::from(template_error(&dir, "", &e)))?;
    Ok(tera)
}

/// Removes the indentation of every line of a template, except inside
/// `<pre>` and `<textarea>`, where spaces are content. Line breaks stay, so
/// line numbers in Tera's errors still match the file. Outside those two
/// elements a browser reads a line break and indentation as one space, so
/// pages look the same.
pub fn unindent(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut verbatim = false;
    for line in template.split_inclusive('\n') {
        out.push_str(if verbatim {
            line
        } else {
            line.trim_start_matches([' ', '\t'])
        });
        let lower = line.to_ascii_lowercase();
        for tag in ["pre", "textarea"] {
            let opened = lower.rfind(&format!("<{tag}"));
            let closed = lower.rfind(&format!("</{tag}"));
            match (opened, closed) {
                (Some(o), c) if c.is_none_or(|c| c < o) => verbatim = true,
                (_, Some(_)) => verbatim = false,
                _ => {}
            }
        }
    }
    out
}

/// Escapes text for HTML and XML, in text or a quoted attribute: `&`, `<`,
/// `>`, `"` and `'`, nothing else.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unindenting_keeps_line_breaks_and_the_inside_of_pre_and_textarea() {
        let template = "<ul>\n    <li>a</li>\n\t<li>b</li>\n</ul>\n  <pre>\n  kept\n    </pre>\n  x\n  <textarea\n   rows=2>\n  typed\n  </textarea> <b>y</b>\n  z";
        assert_eq!(
            unindent(template),
            "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<pre>\n  kept\n    </pre>\nx\n<textarea\n   rows=2>\n  typed\n  </textarea> <b>y</b>\nz"
        );
    }

    #[test]
    fn escaping_leaves_slashes_and_escapes_what_html_needs() {
        assert_eq!(
            escape("/a/b?x=1&y=<2> \"q\" 'r'"),
            "/a/b?x=1&amp;y=&lt;2&gt; &quot;q&quot; &#39;r&#39;"
        );
        assert_eq!(escape("plain"), "plain");
    }
}
