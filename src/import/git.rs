//! Reading a policy's history from a git repository: each top-level
//! `<policy>.md` (default language) or `<policy>.<lang>.md` file is a policy,
//! or the one file `--file` names (`{lang}` in it standing for a language
//! folder, e.g. `{lang}/privacy.md`). Each commit that changes one of its
//! files is a version dated by the commit's date, following the mainline and
//! the file's renames (the last commit of a day wins; their messages make the
//! summary). This runs the `git` command line rather than linking a git
//! library: git is already wherever a policy's history lives, and libgit2 or
//! gix would add a large dependency for a few read-only commands.

use super::{policy_and_lang, History, Selection, Snapshot};
use crate::date::Date;
use crate::error::{Diagnostic, Diagnostics};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// A clone or worktree (its `.git`), or a bare repository (a mirror, as
/// `git clone --mirror` makes): git itself says, when the folder looks like one.
pub fn is_repository(dir: &Path) -> bool {
    if dir.join(".git").exists() {
        return true;
    }
    let looks_bare = dir.join("HEAD").is_file() && dir.join("objects").is_dir();
    looks_bare
        && git(dir, &["rev-parse", "--is-bare-repository"]).is_ok_and(|out| out.trim() == "true")
}

pub fn read(
    repo: &Path,
    default_lang: &str,
    selection: Option<&Selection>,
) -> Result<Vec<History>, Diagnostics> {
    let policies = match selection {
        Some(selection) => selected(repo, selection, default_lang)?,
        None => top_level(repo, default_lang)?,
    };
    let order: BTreeMap<String, usize> =
        git(repo, &["rev-list", "--first-parent", "--reverse", "HEAD"])?
            .lines()
            .enumerate()
            .map(|(i, sha)| (sha.to_string(), i))
            .collect();
    policies
        .into_iter()
        .map(|(policy, files)| history(repo, policy, &files, default_lang, &order))
        .collect()
}

/// Policy → language → the file's path at HEAD, for top-level files.
type Files = BTreeMap<String, BTreeMap<String, String>>;

fn top_level(repo: &Path, default_lang: &str) -> Result<Files, Diagnostics> {
    let files = git(repo, &["ls-tree", "--name-only", "HEAD"])?;
    let mut policies = Files::new();
    for file in files.lines().filter(|f| f.ends_with(".md")) {
        if let Some((policy, lang)) = policy_and_lang(file.trim_end_matches(".md"), default_lang) {
            policies
                .entry(policy.to_string())
                .or_default()
                .insert(lang.to_string(), file.to_string());
        }
    }
    if policies.is_empty() {
        return Err(Diagnostic::new(repo, "this repository has no policy file at its top level")
            .with_hint("name each policy's file `<policy>.md`, and its translations `<policy>.<lang>.md`, e.g. `privacy.fr.md`; or name the file with `--file`, e.g. `--file legal/privacy.md`")
            .into());
    }
    Ok(policies)
}

/// The file `--file` names at HEAD; with `{lang}` in it, one per language found.
fn selected(repo: &Path, selection: &Selection, default_lang: &str) -> Result<Files, Diagnostics> {
    let mut files = BTreeMap::new();
    match selection.file.split_once("{lang}") {
        None => {
            files.insert(default_lang.to_string(), selection.file.clone());
        }
        Some((before, after)) => {
            let all = git(repo, &["ls-tree", "-r", "--name-only", "HEAD"])?;
            for path in all.lines() {
                let lang = path
                    .strip_prefix(before)
                    .and_then(|rest| rest.strip_suffix(after))
                    .filter(|l| !l.contains('/') && crate::config::is_language_code(l));
                if let Some(lang) = lang.filter(|l| {
                    selection.languages.is_empty()
                        || selection.languages.iter().any(|s| s == l)
                        || *l == default_lang
                }) {
                    files.insert(lang.to_string(), path.to_string());
                }
            }
        }
    }
    // A file since removed (a policy retired or replaced) has a history too.
    let file = selection.file.replace("{lang}", default_lang);
    let known = !git(repo, &["log", "-1", "--format=%H", "--", &file])?
        .trim()
        .is_empty();
    if !known {
        return Err(Diagnostic::new(repo, format!("`{file}` is not in the repository, nor in its history"))
            .with_hint("name the policy's file as it is now (or was last), relative to the repository's top; `{lang}` stands for a language folder or part of the name")
            .into());
    }
    files.entry(default_lang.to_string()).or_insert(file);
    let policy = selection.policy.clone().unwrap_or_else(|| {
        let stem = Path::new(&files[default_lang])
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        crate::markdown::slugify(&stem.replace('_', "-"))
    });
    Ok(Files::from([(policy, files)]))
}

/// One commit that changed a policy's file in one language.
struct Commit {
    sha: String,
    date: Date,
    summary: String,
    /// The file's path in that commit (it may have been renamed since).
    path: String,
}

/// The commits on the mainline that changed `path` or one of its earlier
/// names, oldest first. `-m` gives merges their diff against the mainline,
/// which is what lets `--follow` see a rename made on a merged branch.
fn file_log(repo: &Path, path: &str) -> Result<Vec<Commit>, Diagnostics> {
    let log = git(
        repo,
        &[
            "log",
            "--first-parent",
            "-m",
            "--follow",
            "--name-only",
            "--format=%x1e%H%x1f%cs%x1f%s%x1f%b%x1f",
            "--",
            path,
        ],
    )?;
    let mut commits: Vec<Commit> = log
        .split('\x1e')
        .filter_map(|record| {
            let mut parts = record.splitn(5, '\x1f');
            let sha = parts.next()?.to_string();
            let date = parts.next()?.parse().ok()?;
            let subject = parts.next()?.trim();
            let body = parts.next()?.trim();
            let path = parts
                .next()?
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())?
                .to_string();
            Some(Commit {
                sha,
                date,
                summary: summary(subject, body),
                path,
            })
        })
        .collect();
    commits.reverse();
    Ok(commits)
}

/// A commit's subject, or for a merge of a pull request, the request's title
/// (its message's next line), which says what changed.
fn summary(subject: &str, body: &str) -> String {
    let first_body_line = body.lines().map(str::trim).find(|l| !l.is_empty());
    match first_body_line {
        Some(title)
            if subject.starts_with("Merge pull request") || subject.starts_with("Merge branch") =>
        {
            title.to_string()
        }
        _ => subject.to_string(),
    }
}

fn history(
    repo: &Path,
    policy: String,
    files: &BTreeMap<String, String>,
    default_lang: &str,
    order: &BTreeMap<String, usize>,
) -> Result<History, Diagnostics> {
    // Language → (mainline position, commit), oldest first.
    let mut logs: BTreeMap<&str, Vec<(usize, Commit)>> = BTreeMap::new();
    for (lang, file) in files {
        let log = file_log(repo, file)?
            .into_iter()
            .filter_map(|c| Some((*order.get(&c.sha)?, c)))
            .collect();
        logs.insert(lang, log);
    }
    // Every commit that changed one of the files, in mainline order.
    let mut commits: Vec<(usize, &Commit)> =
        logs.values().flatten().map(|(i, c)| (*i, c)).collect();
    commits.sort_by_key(|(i, _)| *i);
    commits.dedup_by_key(|(i, _)| *i);
    let mut snapshots: Vec<Snapshot> = Vec::new();
    // Language → the default-language text when that translation last changed.
    let mut made_from: BTreeMap<String, String> = BTreeMap::new();
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    for (position, commit) in commits {
        let mut texts = BTreeMap::new();
        let mut origins = BTreeMap::new();
        for (lang, log) in &logs {
            // The file's name as of this commit: its latest change up to here.
            let Some((_, named)) = log.iter().rev().find(|(i, _)| *i <= position) else {
                continue;
            };
            if let Ok(text) = git(repo, &["show", &format!("{}:{}", commit.sha, named.path)]) {
                texts.insert(lang.to_string(), text);
                origins.insert(
                    lang.to_string(),
                    format!("{} at {}", named.path, &commit.sha[..7]),
                );
            }
        }
        let Some(source) = texts.get(default_lang).cloned() else {
            continue;
        };
        for (lang, text) in texts.iter().filter(|(l, _)| *l != default_lang) {
            if last.get(lang) != Some(text) {
                made_from.insert(lang.clone(), source.clone());
            }
        }
        last = texts.clone();
        let translated_from = made_from
            .iter()
            .filter(|(l, _)| texts.contains_key(*l))
            .map(|(l, t)| (l.clone(), t.clone()))
            .collect();
        let snapshot = Snapshot {
            date: commit.date,
            summary: commit.summary.clone(),
            texts,
            translated_from,
            origins,
        };
        match snapshots.last_mut() {
            // The same day, or a commit dated before the one it follows (a
            // rebase, a skewed clock): one version, the later text.
            Some(last) if commit.date <= last.date => {
                let summary = format!("{}; {}", last.summary, snapshot.summary);
                *last = Snapshot {
                    summary,
                    date: last.date,
                    ..snapshot
                };
            }
            _ => snapshots.push(snapshot),
        }
    }
    Ok(History { policy, snapshots })
}
fn git(repo: &Path, args: &[&str]) -> Result<String, Diagnostics> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| {
            Diagnostic::new(repo, format!("cannot run git: {e}"))
                .with_hint("install git to import a history from a repository")
        })?;
    if !out.status.success() {
        return Err(Diagnostic::new(
            repo,
            format!(
                "`git {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
