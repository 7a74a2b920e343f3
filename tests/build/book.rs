//! The manual: `docs/` builds as an mdBook and every link inside the built
//! book leads to a file and an anchor that exist; the README stays short and
//! its relative links resolve. mdbook is installed by `tests/setup.sh`.

use crate::common::example_root;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

#[test]
fn the_book_builds_and_every_link_inside_it_leads_somewhere() {
    let dest = tempfile::tempdir().unwrap();
    let book = build_book(dest.path());
    let broken = broken_links(&book);
    assert!(
        broken.is_empty(),
        "links in the book that lead nowhere (page: link: problem):\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_link_check_finds_a_missing_page_and_a_missing_anchor() {
    let dest = tempfile::tempdir().unwrap();
    std::fs::write(
        dest.path().join("index.html"),
        r##"<h1 id="top">Top</h1><a href="#top">ok</a><a href="other.html#gone">1</a><img src="missing.png"><a href="https://example.com/x">out</a><code>&lt;a href="nowhere.html"&gt;</code>"##,
    )
    .unwrap();
    std::fs::write(dest.path().join("other.html"), r#"<p id="here">"#).unwrap();
    assert_eq!(
        broken_links(dest.path()),
        [
            "index.html: other.html#gone: no element with id `gone` in other.html",
            "index.html: missing.png: no such file",
        ]
    );
}

#[test]
fn the_readme_is_under_200_lines_and_its_relative_links_resolve() {
    let root = example_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines < 200,
        "README.md has {lines} lines: keep it under 200 and move reference text into the book (docs/src/)"
    );
    let broken: Vec<String> = markdown_links(&readme)
        .into_iter()
        .filter(|link| !is_external(link) && !link.starts_with('#'))
        .filter(|link| {
            let path = link.split('#').next().unwrap_or("");
            !root.join(path).exists()
        })
        .collect();
    assert!(
        broken.is_empty(),
        "links in README.md to files that do not exist: {broken:?}"
    );
}

/// Builds `docs/` into `dest` with mdbook; fails, never skips, when mdbook is
/// missing, since the test command is meant to run every test.
fn build_book(dest: &Path) -> PathBuf {
    let out = Command::new(mdbook())
        .arg("build")
        .arg(example_root().join("docs"))
        .arg("--dest-dir")
        .arg(dest)
        .output()
        .unwrap_or_else(|e| {
            panic!("mdbook could not be run ({e}): run `bash tests/setup.sh`, which installs it")
        });
    assert!(
        out.status.success(),
        "mdbook build docs failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dest.to_path_buf()
}

/// `mdbook` on PATH, else in cargo's bin folder, where `cargo install` puts it
/// even when that folder is not on PATH.
fn mdbook() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("mdbook"))
            .find(|candidate| candidate.is_file())
    });
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    on_path
        .or_else(|| cargo_home.map(|home| home.join("bin/mdbook")))
        .unwrap_or_else(|| PathBuf::from("mdbook"))
}

/// Every internal `href` and `src` of every page under `root` that does not
/// lead to a file, or whose `#fragment` is no element's id in its page, as
/// "page: link: problem".
fn broken_links(root: &Path) -> Vec<String> {
    let mut ids: HashMap<PathBuf, Vec<String>> = HashMap::new();
    let mut broken = Vec::new();
    let mut pages: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .map(|entry| entry.into_path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "html"))
        .collect();
    pages.sort();
    for page in &pages {
        let html = std::fs::read_to_string(page).unwrap();
        let page_tags = tags(&html);
        // mdbook's 404 page sets `<base href="/">`: its links start at the root.
        let base = page_tags
            .iter()
            .filter(|(name, _)| name == "base")
            .find_map(|(_, attributes)| attribute(attributes, "href"))
            .map(|href| root.join(href.trim_start_matches('/')))
            .unwrap_or_else(|| page.parent().unwrap().to_path_buf());
        let name = page.strip_prefix(root).unwrap().display();
        for (_, attributes) in &page_tags {
            for link in ["href", "src"]
                .iter()
                .filter_map(|a| attribute(attributes, a))
            {
                if is_external(link) {
                    continue;
                }
                let (path, fragment) = link.split_once('#').unwrap_or((link, ""));
                let path = path.split('?').next().unwrap_or("");
                let mut target = match path {
                    "" => page.clone(),
                    absolute if absolute.starts_with('/') => {
                        normalize(&root.join(absolute.trim_start_matches('/')))
                    }
                    relative => normalize(&base.join(relative)),
                };
                if target.is_dir() {
                    target = target.join("index.html");
                }
                if !target.is_file() {
                    broken.push(format!("{name}: {link}: no such file"));
                    continue;
                }
                if fragment.is_empty() || target.extension().is_none_or(|ext| ext != "html") {
                    continue;
                }
                let known = ids.entry(target.clone()).or_insert_with(|| {
                    let html = std::fs::read_to_string(&target).unwrap();
                    tags(&html)
                        .iter()
                        .filter_map(|(_, attributes)| attribute(attributes, "id"))
                        .map(str::to_string)
                        .collect()
                });
                if !known.iter().any(|id| id == fragment) {
                    let file = target.strip_prefix(root).unwrap_or(&target).display();
                    broken.push(format!(
                        "{name}: {link}: no element with id `{fragment}` in {file}"
                    ));
                }
            }
        }
    }
    broken
}

fn is_external(link: &str) -> bool {
    let scheme = link.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    });
    scheme || link.starts_with("//")
}

/// `a/b/../c` as `a/c`, without asking the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

type Attributes = Vec<(String, String)>;

/// The start tags of a page with their attributes, entities decoded; comments
/// and the bodies of scripts and styles are passed over, and text (where `<`
/// is always escaped) is never taken for markup.
fn tags(html: &str) -> Vec<(String, Attributes)> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.split_once("-->").map_or("", |(_, after)| after);
            continue;
        }
        let (tag, after) = split_tag(&rest[1..]);
        rest = after;
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        if name == "script" || name == "style" {
            let close = format!("</{name}");
            rest = rest.find(&close).map_or("", |end| &rest[end..]);
        }
        tags.push((name.clone(), parse_attributes(&tag[name.len()..])));
    }
    tags
}

/// The inside of a tag up to its closing `>` (not one inside quotes), and the
/// text after it.
fn split_tag(from: &str) -> (&str, &str) {
    let mut quote = None;
    for (i, c) in from.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            (None, '>') => return (&from[..i], &from[i + 1..]),
            _ => {}
        }
    }
    (from, "")
}

fn parse_attributes(mut text: &str) -> Attributes {
    let mut attributes = Vec::new();
    loop {
        text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if text.is_empty() {
            return attributes;
        }
        let name_end = text
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(text.len());
        let name = text[..name_end].to_ascii_lowercase();
        text = text[name_end..].trim_start();
        let mut value = "";
        if let Some(after) = text.strip_prefix('=') {
            let after = after.trim_start();
            let (v, rest) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => after[1..].split_once(q).unwrap_or((&after[1..], "")),
                _ => after.split_at(after.find(char::is_whitespace).unwrap_or(after.len())),
            };
            value = v;
            text = rest;
        }
        attributes.push((name, decode_entities(value)));
    }
}

fn attribute<'a>(attributes: &'a Attributes, name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, value)| value.as_str())
}

fn decode_entities(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The targets of the markdown links and images in `text` (inline
/// `[text](target)` and reference definitions `[name]: target`), outside
/// fenced code blocks and code spans.
fn markdown_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let trimmed = line.trim_start();
        if let Some((label, target)) = trimmed.split_once("]: ") {
            if label.starts_with('[') && !label.contains('`') {
                links.extend(target.split_whitespace().next().map(str::to_string));
                continue;
            }
        }
        // Code spans are dropped first, so `[a](b)` written as code is no link.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find([')', ' ']).unwrap_or(rest.len());
            links.push(rest[..end].trim_matches(['<', '>']).to_string());
            rest = &rest[end..];
        }
    }
    links
}
