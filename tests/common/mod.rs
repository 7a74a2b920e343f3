//! Test helpers: small fixture sites written from inline files, and ways to
//! read what a build produced.
#![allow(dead_code)]

use policy_site::build::{self, Compiled, Options};
use policy_site::error::Diagnostics;
use std::path::{Path, PathBuf};

/// A site in a temporary folder, built up file by file.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

pub const CONFIG: &str = "title: {en: Example Inc., fr: Exemple inc.}\nbase_url: https://example.com\nlanguages: [en, fr]\n";

pub fn section(title: &str, body: &str) -> String {
    format!("---\ntitle: {title}\n---\n{body}\n")
}

pub fn section_with_id(title: &str, id: &str, body: &str) -> String {
    format!("---\ntitle: {title}\nid: {id}\n---\n{body}\n")
}

impl Fixture {
    pub fn empty() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A valid two-language site: one policy, two versions of two sections.
    pub fn minimal() -> Fixture {
        Fixture::empty()
            .file("policy-site.yaml", CONFIG)
            .file(
                "content/privacy/policy.yaml",
                "title: {en: Privacy Policy, fr: Politique de confidentialité}\n",
            )
            .version("2024-01-10", false, "First version.", "Première version.")
            .file(
                "content/privacy/2024-01-10/en/01-collection.md",
                &section("Data collection", "We collect your name."),
            )
            .file(
                "content/privacy/2024-01-10/en/02-retention.md",
                &section("Retention", "We keep data for 90 days."),
            )
            .file(
                "content/privacy/2024-01-10/fr/01-collecte.md",
                &section("Collecte", "Nous recueillons votre nom."),
            )
            .file(
                "content/privacy/2024-01-10/fr/02-conservation.md",
                &section("Conservation", "Nous conservons les données 90 jours."),
            )
            .version(
                "2025-01-30",
                true,
                "Shorter retention.",
                "Conservation plus courte.",
            )
            .file(
                "content/privacy/2025-01-30/en/01-collection.md",
                &section("Data collection", "We collect your name."),
            )
            .file(
                "content/privacy/2025-01-30/en/02-retention.md",
                &section("Retention", "We keep data for 60 days."),
            )
            .file(
                "content/privacy/2025-01-30/fr/01-collecte.md",
                &section("Collecte", "Nous recueillons votre nom."),
            )
            .file(
                "content/privacy/2025-01-30/fr/02-conservation.md",
                &section("Conservation", "Nous conservons les données 60 jours."),
            )
    }

    pub fn version(self, date: &str, material: bool, en: &str, fr: &str) -> Fixture {
        let yaml = format!("material: {material}\nsummary:\n  en: {en}\n  fr: {fr}\n");
        self.file(&format!("content/privacy/{date}/version.yaml"), &yaml)
    }

    pub fn file(self, path: &str, text: &str) -> Fixture {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
        self
    }

    pub fn remove(self, path: &str) -> Fixture {
        let full = self.dir.path().join(path);
        if full.is_dir() {
            std::fs::remove_dir_all(full).unwrap();
        } else {
            std::fs::remove_file(full).unwrap();
        }
        self
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn options(&self) -> Options {
        Options {
            root: self.root().to_path_buf(),
            ..Default::default()
        }
    }

    pub fn build(&self) -> Result<Compiled, Diagnostics> {
        build::build(&self.options())
    }

    pub fn out(&self, path: &str) -> PathBuf {
        self.root().join("public").join(path)
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.out(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}

/// The text a reader sees: tags dropped, entities decoded, white space folded.
pub fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let tag = &rest[lt..];
        let skip_to = if tag.starts_with("<script") {
            tag.find("</script>").map(|i| i + 9)
        } else if tag.starts_with("<style") {
            tag.find("</style>").map(|i| i + 8)
        } else {
            tag.find('>').map(|i| i + 1)
        };
        let end = skip_to.unwrap_or(tag.len());
        // Block-level boundaries separate words; inline tags do not.
        let name: String = tag[1..]
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if matches!(
            name.as_str(),
            "p" | "div"
                | "li"
                | "br"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "td"
                | "th"
                | "tr"
                | "section"
                | "header"
                | "footer"
                | "nav"
                | "main"
                | "ul"
                | "ol"
                | "dt"
                | "dd"
                | "title"
                | "summary"
                | "details"
                | "fieldset"
                | "legend"
                | "option"
                | "figure"
                | "figcaption"
                | "article"
                | "dl"
                | "table"
                | "form"
                | "select"
                | "textarea"
                | "dialog"
        ) {
            out.push(' ');
        }
        rest = &tag[end..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", "\u{a0}")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The repository's own folder: the bundled example site.
pub fn example_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the bundled example in a temporary folder.
pub fn example_copy() -> Fixture {
    let fixture = Fixture::empty();
    let root = example_root();
    for entry in ["policy-site.yaml", "content", "templates", "static"] {
        copy_tree(&root.join(entry), &fixture.root().join(entry));
    }
    fixture
}

pub fn copy_tree(from: &Path, to: &Path) {
    if from.is_file() {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
        return;
    }
    for entry in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = entry.path().strip_prefix(from).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file under `dir`, relative, sorted, with its bytes.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Every value of the attribute `name` in `html`, quoted or not (minified).
pub fn attribute_values(html: &str, name: &str) -> Vec<String> {
    let needle = format!(" {name}=");
    let mut values = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&needle) {
        rest = &rest[at + needle.len()..];
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
            _ => rest
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        };
        values.push(value.replace("&amp;", "&"));
    }
    values
}
