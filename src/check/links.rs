//! Links and anchors: every internal link (`href`, `src`) in the compiled
//! pages leads to a file of the site and, with a `#fragment`, to an element
//! with that id. A broken link written in a section is reported at the line
//! that writes it, in the version the page shows (each page is mapped back to
//! the versions it was rendered from, and their markdown to the links it
//! holds); one from a template, at the output file.

use crate::content::{Section, Site, Translation};
use crate::date::Date;
use crate::error::{Diagnostic, Diagnostics};
use crate::markdown;
use crate::render::{Output, Urls};
use pulldown_cmark::{Event, Parser, Tag};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub fn check(site: &Site, outputs: &[Output], today: Date) -> Diagnostics {
    let sources = sources_of_pages(site, today);
    let files: BTreeMap<&str, &Output> = outputs.iter().map(|o| (o.file.as_str(), o)).collect();
    let mut ids_of: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut found = Diagnostics::default();
    let base_url = site.config.base_url_trimmed();
    let base_path = site.config.base_path();
    for page in outputs.iter().filter(|o| o.is_html()) {
        let html = String::from_utf8_lossy(&page.bytes);
        for href in attribute_values(&html, &["href", "src"]) {
            let Some((target, fragment)) = resolve(&page.file, &href, base_url, &base_path) else {
                continue;
            };
            let problem = match files.get(target.as_str()) {
                None => Some(format!("there is no page `{}` in the site", target)),
                Some(output) => fragment.filter(|f| !f.is_empty()).and_then(|fragment| {
                    let ids = ids_of.entry(output.file.as_str()).or_insert_with(|| {
                        attribute_values(&String::from_utf8_lossy(&output.bytes), &["id"])
                            .into_iter()
                            .collect()
                    });
                    (!ids.contains(&fragment)).then(|| {
                        format!("there is no anchor `#{fragment}` on the page it points to")
                    })
                }),
            };
            if let Some(problem) = problem {
                let shown = sources
                    .get(page.file.as_str())
                    .map_or(&[][..], Vec::as_slice);
                let link = Link {
                    page: &page.file,
                    href: &href,
                    base_url,
                    base_path: &base_path,
                };
                found.extend(place(site, shown, &link, &problem));
            }
        }
    }
    found
}

/// A link found on a built page.
struct Link<'a> {
    page: &'a str,
    href: &'a str,
    base_url: &'a str,
    base_path: &'a str,
}

impl Link<'_> {
    /// Whether `dest`, written in text published on the page `from`, is this
    /// link: the same text, or (a redline points a section's links at the
    /// version page they come from) the same place.
    fn is(&self, dest: &str, from: &str) -> bool {
        dest == self.href || {
            let target = resolve(self.page, self.href, self.base_url, self.base_path);
            target.is_some() && target == resolve(from, dest, self.base_url, self.base_path)
        }
    }
}

/// Where the link is written: each line of the page's own sections that
/// writes it, named as written there (a redline's copy of a broken link is
/// the same finding as the version page's); else (a template wrote it) the
/// output file.
fn place(site: &Site, shown: &[Shown], link: &Link, problem: &str) -> Diagnostics {
    let mut found = Diagnostics::default();
    // The newest version shown first: on a redline, its text is what the
    // reader follows, and what can still be corrected.
    for shown in shown.iter().rev() {
        for section in &shown.translation.sections {
            for (dest, offset) in
                written_links(section).filter(|(dest, _)| link.is(dest, &shown.page))
            {
                let message = format!("the link `{dest}` leads nowhere: {problem}");
                found.push(super::at_offset(section, offset, message)
                    .with_hint("correct the link: a section's anchor is its `id`, a sub-heading's is the section id and the heading's words joined by dashes"));
            }
        }
        if !found.is_empty() {
            return found;
        }
    }
    let out = Path::new(&site.config.output).join(link.page);
    let message = format!("the link `{}` leads nowhere: {problem}", link.href);
    Diagnostic::new(out, message)
        .with_hint("the link comes from a template: correct it in templates/")
        .into()
}

/// The links and images a section's markdown writes, with their offsets.
fn written_links(section: &Section) -> impl Iterator<Item = (String, usize)> + '_ {
    Parser::new_ext(&section.markdown, markdown::options())
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some((dest_url.to_string(), range.start))
            }
            _ => None,
        })
}

/// A translation whose sections a page shows, and the output file of its
/// version's own page, where its relative links are written for.
struct Shown<'a> {
    translation: &'a Translation,
    page: String,
}

/// Output file → the translations whose sections the page shows (oldest
/// first): a version's own page, the current page, and redlines.
fn sources_of_pages(site: &Site, today: Date) -> BTreeMap<String, Vec<Shown<'_>>> {
    let urls = Urls {
        base: site.config.base_path(),
    };
    let mut sources: BTreeMap<String, Vec<Shown>> = BTreeMap::new();
    for policy in &site.policies {
        let slug = &policy.slug;
        for (i, version) in policy.versions.iter().enumerate() {
            for (lang, translation) in &version.translations {
                let current = policy.shown_index(lang, today);
                let own = urls.file_of(&urls.version(lang, slug, version.date));
                let mut pages = vec![own.clone()];
                if Some(i) == current {
                    pages.push(urls.file_of(&urls.policy(lang, slug)));
                }
                for page in pages {
                    sources.entry(page).or_default().push(Shown {
                        translation,
                        page: own.clone(),
                    });
                }
            }
        }
        for (from, to) in
            crate::diff::published_pairs(policy, today, site.config.redlines_to_current)
        {
            let (Some(a), Some(b)) = (policy.version(from), policy.version(to)) else {
                continue;
            };
            let successive = a.date < b.date
                && policy
                    .versions
                    .windows(2)
                    .any(|w| w[0].date == from && w[1].date == to);
            for (lang, old) in &a.translations {
                let Some(new) = b.translations.get(lang) else {
                    continue;
                };
                let mut pages = vec![urls.changes_between(lang, slug, from, to)];
                if successive {
                    pages.push(urls.changes(lang, slug, to));
                }
                let shown = |translation, date| Shown {
                    translation,
                    page: urls.file_of(&urls.version(lang, slug, date)),
                };
                for page in pages {
                    sources.insert(urls.file_of(&page), vec![shown(old, from), shown(new, to)]);
                }
            }
        }
    }
    sources
}

/// The output file and fragment a link points to, when it is internal.
fn resolve(
    page: &str,
    href: &str,
    base_url: &str,
    base_path: &str,
) -> Option<(String, Option<String>)> {
    let (path, fragment) = match href.split_once('#') {
        Some((p, f)) => (p, Some(f.to_string())),
        None => (href, None),
    };
    let path = path.split('?').next().unwrap_or("");
    let within = if path.is_empty() {
        return Some((page.to_string(), fragment));
    } else if let Some(rest) = path.strip_prefix(base_url) {
        rest.to_string()
    } else if path.starts_with("//") || path.contains(':') {
        return None;
    } else if path.starts_with('/') {
        // Another part of the same host (the site lives under `base_path`),
        // which the build does not write and cannot check.
        match path.strip_prefix(base_path) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.to_string(),
            _ => return None,
        }
    } else {
        let dir = page
            .rsplit_once('/')
            .map(|(d, _)| format!("/{d}/"))
            .unwrap_or_else(|| "/".into());
        normalize(&format!("{dir}{path}"))
    };
    let mut file = within.trim_start_matches('/').to_string();
    if file.is_empty() || file.ends_with('/') {
        file.push_str("index.html");
    }
    Some((file, fragment))
}

fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "." => {}
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// Values of the given attributes, entity-decoded, in document order.
fn attribute_values(html: &str, names: &[&str]) -> Vec<String> {
    let mut values = Vec::new();
    let bytes = html.as_bytes();
    for name in names {
        let needle = format!("{name}=");
        let mut from = 0;
        while let Some(at) = html[from..].find(&needle) {
            let start = from + at;
            from = start + needle.len();
            if start == 0 || !bytes[start - 1].is_ascii_whitespace() {
                continue;
            }
            let rest = &html[from..];
            let value = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
                _ => rest
                    .split(|c: char| c.is_ascii_whitespace() || c == '>')
                    .next()
                    .unwrap_or(""),
            };
            values.push(decode_entities(value));
        }
    }
    values
}

fn decode_entities(text: &str) -> String {
    text.replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_links_resolve_to_output_files() {
        let r = |href| {
            resolve(
                "en/privacy/index.html",
                href,
                "https://x.org/legal",
                "/legal",
            )
        };
        assert_eq!(
            r("#a"),
            Some(("en/privacy/index.html".into(), Some("a".into())))
        );
        assert_eq!(r("/legal/fr/"), Some(("fr/index.html".into(), None)));
        assert_eq!(
            r("https://x.org/legal/site.css"),
            Some(("site.css".into(), None))
        );
        assert_eq!(
            r("history/#v1"),
            Some(("en/privacy/history/index.html".into(), Some("v1".into())))
        );
        assert_eq!(r("mailto:a@b.c"), None);
        // The same host outside the site's path: not the site's to check.
        assert_eq!(r("/articles/a/"), None);
        assert_eq!(r("/legalese/"), None);
        assert_eq!(r("/legal"), Some(("index.html".into(), None)));
        assert_eq!(r("https://other.org/"), None);
    }
}
