//! `policy-site import`: brings a policy's existing history into `content/`.
//! A source (`git`: one markdown file per policy, each commit a version;
//! `dated`: a folder of dated files) reads into a `History` of snapshots;
//! `sections` cuts each snapshot at its `##` headings and keeps section ids
//! stable across versions; `write` lays the versions out as `content/` does.

mod anchors;
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
#[derive(Debug, Default, Clone)]
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

/// Which file of a git repository holds the policy, when it is not a
/// top-level `<policy>.md` (`--file`, `--policy`, `--translation`).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Path from the repository's top at its latest commit; `{lang}` stands
    /// for a language code (a folder, or part of the name).
    pub file: String,
    /// The policy's folder name (default: from the file's name).
    pub policy: Option<String>,
    /// With `{lang}`: only these translations (default: every one found).
    pub languages: Vec<String>,
}

/// Reads every policy of `from`: a git repository (a clone, a worktree or a
/// bare mirror), else a folder of dated files.
pub fn read(
    from: &Path,
    default_lang: &str,
    selection: Option<&Selection>,
) -> Result<Vec<History>, Diagnostics> {
    if git::is_repository(from) {
        git::read(from, default_lang, selection)
    } else if selection.is_some() {
        Err(Diagnostic::new(
            from,
            "`--file` names a file of a git repository, and this is not one",
        )
        .with_hint("a folder of dated files is imported whole: `policy-site import FOLDER`")
        .into())
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

/// Leaves each translation out of the versions up to the last one whose
/// `##` sections do not match its source's, so that the language is offered
/// from the first version from which every later one matches (a language,
/// once offered, stays). Returns what was left out, in plain words.
pub fn leave_out_unmatched(history: &mut History, default_lang: &str) -> Vec<String> {
    let shape = |text: &str| sections::shape(&sections::split(text).1);
    let mut last_unmatched: BTreeMap<String, usize> = BTreeMap::new();
    for (i, snapshot) in history.snapshots.iter().enumerate() {
        let Some(source) = snapshot.texts.get(default_lang) else {
            continue;
        };
        let n = shape(source);
        for (lang, text) in snapshot.texts.iter().filter(|(l, _)| *l != default_lang) {
            if shape(text) != n {
                last_unmatched.insert(lang.clone(), i);
            }
        }
    }
    let mut notes = Vec::new();
    for (lang, last) in last_unmatched {
        let dropped = history.snapshots[..=last]
            .iter_mut()
            .filter_map(|s| s.texts.remove(&lang).map(|_| s.date))
            .count();
        let from = history.snapshots[last + 1..]
            .iter()
            .find(|s| s.texts.contains_key(&lang))
            .map_or("not offered at all".to_string(), |s| {
                format!("offered from {} on", s.date)
            });
        notes.push(format!(
            "{}: the `{lang}` text of {dropped} versions up to {} was left out, its `##` sections not matching the `{default_lang}` text's; `{lang}` is {from}",
            history.policy, history.snapshots[last].date
        ));
    }
    notes
}

/// Writes `history` under `root/content/<policy>/`, which must not exist
/// yet; returns the dates of the versions it wrote. Every problem is found before
/// anything is written, and the policy's folder appears whole or not at all.
pub fn write(root: &Path, history: &History, default_lang: &str) -> Result<Vec<Date>, Diagnostics> {
    let content = root.join(crate::vocabulary::CONTENT_DIR);
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

/// Files to write: (path, text).
type Files = Vec<(PathBuf, String)>;

/// Every file of the policy's folder (path within it), and the dates of its
/// versions; or every problem found.
fn plan(history: &History, default_lang: &str) -> Result<(Files, Vec<Date>), Diagnostics> {
    let mut found = Diagnostics::default();
    let mut titles: BTreeMap<String, String> = BTreeMap::new();
    let mut ids = sections::Ids::default();
    let mut files = Vec::new();
    let mut versions = Vec::new();
    // The previous version's sections: a commit that changed nothing they
    // hold (front matter, heading markup) is not a new version of the text.
    let mut previous: Files = Vec::new();
    for snapshot in &history.snapshots {
        if !snapshot.texts.contains_key(default_lang) {
            continue;
        }
        let sections = version_sections(snapshot, default_lang, &mut ids, &mut titles, &mut found);
        if sections == previous {
            continue;
        }
        versions.push(snapshot.date);
        let vdir = PathBuf::from(snapshot.date.to_string());
        files.push((vdir.join("version.yaml"), version_yaml(snapshot)));
        files.extend(
            sections
                .iter()
                .map(|(path, text)| (vdir.join(path), text.clone())),
        );
        previous = sections;
    }
    // A file with no title of its own is named after the policy's file.
    titles
        .entry(default_lang.to_string())
        .or_insert_with(|| title_from_name(&history.policy));
    let title: String = titles
        .iter()
        .map(|(lang, t)| format!("  {lang}: {}\n", yaml_string(t)))
        .collect();
    files.push((PathBuf::from("policy.yaml"), format!("title:\n{title}")));
    found.into_result((files, versions))
}

/// `privacy-policy` → "Privacy policy".
fn title_from_name(policy: &str) -> String {
    let words = policy.replace(['-', '_'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Policy".into(),
    }
}

/// One version's section files (path within the version's folder, text).
fn version_sections(
    snapshot: &Snapshot,
    default_lang: &str,
    ids: &mut sections::Ids,
    titles: &mut BTreeMap<String, String>,
    found: &mut Diagnostics,
) -> Files {
    let (title, mut source) = sections::split(&snapshot.texts[default_lang]);
    titles.extend(title.map(|t| (default_lang.to_string(), t)));
    let source_ids = ids.assign(&source);
    anchors::rewrite(&mut source, &source_ids, &source_ids);
    let mut files = section_files(Path::new(default_lang), &source, &source_ids, None);
    for (lang, text) in snapshot.texts.iter().filter(|(l, _)| *l != default_lang) {
        let (title, mut translated) = sections::split(text);
        titles.extend(title.map(|t| (lang.clone(), t)));
        if sections::shape(&translated) != sections::shape(&source) {
            let describe = |s: &[Section]| match sections::shape(s) {
                (true, n) => format!("an introduction and {n} sections"),
                (false, n) => format!("{n} sections"),
            };
            found.push(Diagnostic::new(&snapshot.origins[lang], format!(
                "on {}, the `{lang}` text has {} and the `{default_lang}` text {}: sections are matched across languages by number",
                snapshot.date, describe(&translated), describe(&source)
            )).with_hint("give the translation the same `##` headings as its source, or import with `--partial-translations` to offer it only from the version from which it always matches"));
            continue;
        }
        let prefixes: Vec<String> = translated.iter().map(file_slug).collect();
        anchors::rewrite(&mut translated, &source_ids, &prefixes);
        // As the source's text is written: with its links made to work.
        let (_, mut made_from) = sections::split(&snapshot.translated_from[lang]);
        if made_from.len() == source_ids.len() {
            anchors::rewrite(&mut made_from, &source_ids, &source_ids);
        }
        let hashes: Vec<Option<String>> = (0..translated.len())
            .map(|i| made_from.get(i).map(|s| translations::hash_text(&s.body)))
            .collect();
        files.extend(section_files(
            Path::new(lang),
            &translated,
            &source_ids,
            Some(&hashes),
        ));
    }
    files
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
            let slug = file_slug(s);
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

/// The name a section's file takes after its number, which is also the
/// loader's id for a section whose front matter gives none.
fn file_slug(section: &Section) -> String {
    let slug = crate::markdown::slugify(section.title.as_deref().unwrap_or("Introduction"));
    if slug.is_empty() {
        "section".into()
    } else {
        slug
    }
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
