//! `policy-site import`: brings a policy's existing history into `content/`.
//! A source (`git`: one markdown file per policy, each commit a version;
//! `dated`: a folder of dated files) reads into a `History` of snapshots;
//! `sections` cuts each snapshot at its `##` headings and keeps section ids
//! stable across versions; `write` lays the versions out as `content/` does.

mod dated;
mod git;
mod sections;

use crate::check::translations;
use crate::date::Date;
use crate::error::{Diagnostic, Diagnostics};
use sections::Section;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One policy's history, oldest first.
#[derive(Debug, Default)]
pub struct History {
    pub policy: String,
    pub snapshots: Vec<Snapshot>,
}

/// The policy as it stood on one date.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub date: Date,
    /// What changed, from the commit messages or the file names.
    pub summary: String,
    /// Language → the whole markdown file.
    pub texts: BTreeMap<String, String>,
    /// Language (other than the default) → the default-language file as it
    /// stood when this translation last changed: what it was translated from.
    pub translated_from: BTreeMap<String, String>,
    /// Language → where the text came from (`privacy.fr.md at 1a2b3c4`), for errors.
    pub origins: BTreeMap<String, String>,
}

/// Reads every policy of `from`: a git repository, else a folder of dated files.
pub fn read(from: &Path, default_lang: &str) -> Result<Vec<History>, Diagnostics> {
    if from.join(".git").exists() {
        git::read(from, default_lang)
    } else {
        dated::read(from, default_lang)
    }
}

/// `privacy.md` → (privacy, default), `privacy.fr.md` → (privacy, fr).
fn policy_and_lang<'a>(stem: &'a str, default_lang: &'a str) -> Option<(&'a str, &'a str)> {
    let (policy, lang) = match stem.rsplit_once('.') {
        Some((policy, lang)) => (policy, lang),
        None => (stem, default_lang),
    };
    let slug = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    (slug(policy) && slug(lang)).then_some((policy, lang))
}

/// Writes `history` under `root/content/<policy>/`, which must not exist
/// yet; returns how many versions it wrote. Every problem is found before
/// anything is written, and the policy's folder appears whole or not at all.
pub fn write(root: &Path, history: &History, default_lang: &str) -> Result<usize, Diagnostics> {
    let content = root.join(crate::content::CONTENT_DIR);
    let dir = content.join(&history.policy);
    if dir.exists() {
        return Err(Diagnostic::new(&dir, "this policy already exists")
            .with_hint("import into a site without it, or remove the folder first")
            .into());
    }
    let (files, versions) = plan(history, default_lang)?;
    // A dot folder, which the loader ignores, renamed into place at the end.
    let staging = content.join(format!(".{}.importing", history.policy));
    let _ = std::fs::remove_dir_all(&staging);
    for (path, text) in &files {
        write_file(&staging.join(path), text)?;
    }
    std::fs::rename(&staging, &dir).map_err(|e| {
        Diagnostic::new(
            &dir,
            format!("cannot move the imported policy into place: {e}"),
        )
    })?;
    Ok(versions)
}

/// Every file of the policy's folder (path within it, text), and the number
/// of versions; or every problem found.
fn plan(
    history: &History,
    default_lang: &str,
) -> Result<(Vec<(PathBuf, String)>, usize), Diagnostics> {
    let mut found = Diagnostics::default();
    let mut titles: BTreeMap<String, String> = BTreeMap::new();
    let mut ids = sections::Ids::default();
    let mut files = Vec::new();
    let mut versions = 0;
    for snapshot in &history.snapshots {
        let vdir = PathBuf::from(snapshot.date.to_string());
        let Some(source_text) = snapshot.texts.get(default_lang) else {
            continue;
        };
        versions += 1;
        let (title, source) = sections::split(source_text);
        titles.extend(title.map(|t| (default_lang.to_string(), t)));
        let source_ids = ids.assign(&source);
        files.push((vdir.join("version.yaml"), version_yaml(snapshot)));
        files.extend(section_files(
            &vdir.join(default_lang),
            &source,
            &source_ids,
            None,
        ));
        for (lang, text) in snapshot.texts.iter().filter(|(l, _)| *l != default_lang) {
            let (title, translated) = sections::split(text);
            titles.extend(title.map(|t| (lang.clone(), t)));
            if translated.len() != source.len() {
                found.push(Diagnostic::new(&snapshot.origins[lang], format!(
                    "on {}, the `{lang}` text has {} sections and the `{default_lang}` text {}: sections are matched across languages by number",
                    snapshot.date, translated.len(), source.len()
                )).with_hint("give the translation the same `##` headings as its source"));
                continue;
            }
            let (_, made_from) = sections::split(&snapshot.translated_from[lang]);
            let hashes: Vec<Option<String>> = (0..translated.len())
                .map(|i| made_from.get(i).map(|s| translations::hash_text(&s.body)))
                .collect();
            files.extend(section_files(
                &vdir.join(lang),
                &translated,
                &source_ids,
                Some(&hashes),
            ));
        }
    }
    let title: String = titles
        .iter()
        .map(|(lang, t)| format!("  {lang}: {}\n", yaml_string(t)))
        .collect();
    files.push((PathBuf::from("policy.yaml"), format!("title:\n{title}")));
    found.into_result((files, versions))
}

fn section_files(
    dir: &Path,
    sections: &[Section],
    ids: &[String],
    translated_from: Option<&[Option<String>]>,
) -> Vec<(PathBuf, String)> {
    sections
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let number = if sections[0].title.is_none() {
                i
            } else {
                i + 1
            };
            let title = s.title.clone().unwrap_or_else(|| "Introduction".into());
            let slug = crate::markdown::slugify(&title);
            let slug = if slug.is_empty() {
                "section".into()
            } else {
                slug
            };
            let mut front = format!("title: {}\n", yaml_string(&title));
            match translated_from {
                None => front.push_str(&format!("id: {}\n", ids[i])),
                Some(hashes) => {
                    if let Some(hash) = &hashes[i] {
                        front.push_str(&format!("{}: {hash}\n", translations::KEY));
                    }
                }
            }
            (
                dir.join(format!("{number:02}-{slug}.md")),
                format!("---\n{front}---\n{}", s.body),
            )
        })
        .collect()
}

fn version_yaml(snapshot: &Snapshot) -> String {
    let summary: String = snapshot
        .texts
        .keys()
        .map(|lang| format!("  {lang}: {}\n", yaml_string(&snapshot.summary)))
        .collect();
    format!("# Imported by `policy-site import`; the summary comes from the history.\nsummary:\n{summary}")
}

/// A YAML double-quoted string.
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string")
}

fn write_file(path: &Path, text: &str) -> Result<(), Diagnostics> {
    path.parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(path, text))
        .map_err(|e| Diagnostic::new(path, format!("cannot write: {e}")).into())
}
