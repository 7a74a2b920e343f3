//! Reading a policy's history from a git repository: each top-level
//! `<policy>.md` (default language) or `<policy>.<lang>.md` file is a policy,
//! and each commit that changes one of its files is a version dated by the
//! commit's date, following the mainline (the last commit of a day wins;
//! their messages make the summary). This runs the `git` command line rather than linking a git
//! library: git is already wherever a policy's history lives, and libgit2 or
//! gix would add a large dependency for three read-only commands.

use super::{policy_and_lang, History, Snapshot};
use crate::date::Date;
use crate::error::{Diagnostic, Diagnostics};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

pub fn read(repo: &Path, default_lang: &str) -> Result<Vec<History>, Diagnostics> {
    let files = git(repo, &["ls-tree", "--name-only", "HEAD"])?;
    let mut policies: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
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
            .with_hint("name each policy's file `<policy>.md`, and its translations `<policy>.<lang>.md`, e.g. `privacy.fr.md`")
            .into());
    }
    policies
        .into_iter()
        .map(|(policy, files)| history(repo, policy, &files, default_lang))
        .collect()
}

/// One commit that changed a policy's files.
struct Commit {
    sha: String,
    date: Date,
    subject: String,
}

fn history(
    repo: &Path,
    policy: String,
    files: &BTreeMap<String, String>,
    default_lang: &str,
) -> Result<History, Diagnostics> {
    // The mainline only: what was published, not the branches merged into it.
    let mut args = vec![
        "log",
        "--first-parent",
        "--reverse",
        "--format=%H %cs %s",
        "--",
    ];
    args.extend(files.values().map(String::as_str));
    let log = git(repo, &args)?;
    let commits: Vec<Commit> = log
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ' ');
            let sha = parts.next()?.to_string();
            let date = parts.next()?.parse().ok()?;
            let subject = parts.next().unwrap_or("").trim().to_string();
            Some(Commit { sha, date, subject })
        })
        .collect();
    let mut snapshots: Vec<Snapshot> = Vec::new();
    // Language → the default-language text when that translation last changed.
    let mut made_from: BTreeMap<String, String> = BTreeMap::new();
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    for commit in &commits {
        let mut texts = BTreeMap::new();
        let mut origins = BTreeMap::new();
        for (lang, file) in files {
            if let Ok(text) = git(repo, &["show", &format!("{}:{file}", commit.sha)]) {
                texts.insert(lang.clone(), text);
                origins.insert(lang.clone(), format!("{file} at {}", &commit.sha[..7]));
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
            summary: commit.subject.clone(),
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
