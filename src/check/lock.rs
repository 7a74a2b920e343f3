//! `policy-site.lock`: the SHA-256 of every published version's sources, and
//! of each of its files, so that a change names the file that changed.
//! A published version is a record of what readers were told, so a change to
//! one is an error; `write_new` adds versions the lock does not know yet and
//! never rewrites one it does.

use crate::content::{Site, Version};
use crate::error::{Diagnostic, Diagnostics};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// policy → version date → what was published.
type Lock = BTreeMap<String, BTreeMap<String, Entry>>;

/// A version's hash, with its files' short hashes (path within the version
/// folder → 16 hex digits). Locks written before files were recorded hold the
/// version's hash alone; they are still read, and `write_new` adds the files
/// of an unchanged one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum Entry {
    Files {
        sha256: String,
        files: BTreeMap<String, String>,
    },
    Version(String),
}

impl Entry {
    fn sha256(&self) -> &str {
        match self {
            Entry::Files { sha256, .. } | Entry::Version(sha256) => sha256,
        }
    }
}

const HEADER: &str = "# The SHA-256 of each published version's sources, written by `policy-site lock`.\n# A published version must not change: start a new one with `policy-site revise`.\n";

fn read(root: &Path) -> Result<Lock, Diagnostics> {
    let file = root.join(crate::vocabulary::LOCK_FILE);
    match std::fs::read_to_string(&file) {
        Ok(text) => crate::yaml::parse(&text, &file, 1).map_err(Diagnostics::from),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Lock::new()),
        Err(e) => Err(Diagnostic::new(&file, format!("cannot read the lock file: {e}")).into()),
    }
}

/// Whether `policy-site.lock` records this version as published.
pub fn is_published(root: &Path, policy: &str, date: crate::date::Date) -> bool {
    read(root).is_ok_and(|lock| {
        lock.get(policy)
            .is_some_and(|v| v.contains_key(&date.to_string()))
    })
}

/// Where published history lies: the folder of each version exactly as
/// locked, and, in a locked version changed since, each file still exactly as
/// the lock recorded it. A file added or changed is not history.
#[derive(Debug, Default)]
pub struct Published {
    dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

impl Published {
    pub fn contains(&self, file: &Path) -> bool {
        self.dirs.iter().any(|dir| file.starts_with(dir)) || self.files.iter().any(|f| f == file)
    }
}

/// The published places of every version the lock records.
pub fn published(site: &Site) -> Published {
    let lock = read(&site.root).unwrap_or_default();
    let mut published = Published::default();
    for policy in &site.policies {
        for version in &policy.versions {
            let entry = lock
                .get(&policy.slug)
                .and_then(|known| known.get(&version.date.to_string()));
            match entry {
                Some(entry) if entry.sha256() == version.sources_sha256 => {
                    published.dirs.push(version.dir.clone());
                }
                Some(Entry::Files { files: locked, .. }) => {
                    published.files.extend(
                        file_hashes(&version.dir)
                            .into_iter()
                            .filter(|(path, hash)| locked.get(path) == Some(hash))
                            .map(|(path, _)| version.dir.join(path)),
                    );
                }
                // Changed, and locked before files were recorded: which
                // file is history cannot be told, so none is.
                Some(Entry::Version(_)) | None => {}
            }
        }
    }
    published
}

pub fn check(site: &Site) -> Diagnostics {
    let lock = match read(&site.root) {
        Ok(lock) => lock,
        Err(found) => return found,
    };
    let file = site.root.join(crate::vocabulary::LOCK_FILE);
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let mut found = Diagnostics::default();
    for (slug, versions) in &lock {
        let policy = site.policy(slug);
        for (date, entry) in versions {
            let version =
                policy.and_then(|p| p.versions.iter().find(|v| v.date.to_string() == *date));
            match version {
                None => found.push(
                    Diagnostic::new(&file, format!(
                        "the published version {date} of `{slug}` has been deleted"
                    ))
                    .at_line(crate::config::line_of(&text, date).unwrap_or(1))
                    .with_hint(format!("restore `content/{slug}/{date}/`: readers were told that text, and the history must keep it")),
                ),
                Some(v) if v.sources_sha256 != entry.sha256() => {
                    found.extend(changed(slug, v, entry));
                }
                Some(_) => {}
            }
        }
    }
    found
}

/// One finding per file changed, added or removed since the version was
/// locked (the version's folder when the lock does not record its files).
fn changed(slug: &str, version: &Version, entry: &Entry) -> Diagnostics {
    let date = version.date;
    let hint = format!(
        "undo the change, and make it in a new version instead: `policy-site revise {slug}`"
    );
    let Entry::Files { files: locked, .. } = entry else {
        return Diagnostic::new(
            &version.dir,
            format!(
                "the published version {date} of `{slug}` has been changed since it was published"
            ),
        )
        .with_hint(hint)
        .into();
    };
    let now = file_hashes(&version.dir);
    let mut found = Diagnostics::default();
    for (path, hash) in &now {
        let what = match locked.get(path) {
            Some(was) if was == hash => continue,
            Some(_) => "has been changed",
            None => "has been added",
        };
        found.push(
            Diagnostic::new(
                version.dir.join(path),
                format!("this file {what} since version {date} of `{slug}` was published"),
            )
            .with_hint(hint.clone()),
        );
    }
    for path in locked.keys().filter(|p| !now.contains_key(*p)) {
        found.push(
            Diagnostic::new(
                version.dir.join(path),
                format!("this file of version {date} of `{slug}` has been deleted since it was published"),
            )
            .with_hint(format!("restore it: {hint}")),
        );
    }
    found
}

/// Path within `dir` → short SHA-256, for every source file of a version.
fn file_hashes(dir: &Path) -> BTreeMap<String, String> {
    crate::proof::log::source_hashes(dir)
        .into_iter()
        .map(|(path, hash)| (path, hash[..16].to_string()))
        .collect()
}

/// Every version the lock records, as `(policy, date)`.
pub fn locked(root: &Path) -> Vec<(String, String)> {
    read(root)
        .unwrap_or_default()
        .into_iter()
        .flat_map(|(policy, versions)| versions.into_keys().map(move |date| (policy.clone(), date)))
        .collect()
}

/// Records every version the lock does not list yet; returns them as `policy date`.
pub fn write_new(site: &Site) -> Result<Vec<String>, Diagnostics> {
    let mut lock = read(&site.root)?;
    let mut added = Vec::new();
    for policy in &site.policies {
        let known = lock.entry(policy.slug.clone()).or_default();
        for version in &policy.versions {
            let date = version.date.to_string();
            let entry = || Entry::Files {
                sha256: version.sources_sha256.clone(),
                files: file_hashes(&version.dir),
            };
            match known.get(&date) {
                None => {
                    known.insert(date.clone(), entry());
                    added.push(format!("{} {date}", policy.slug));
                }
                // An older lock's entry gains its files while they are
                // still exactly what was locked.
                Some(Entry::Version(sha256)) if *sha256 == version.sources_sha256 => {
                    known.insert(date.clone(), entry());
                }
                Some(_) => {}
            }
        }
    }
    let file = site.root.join(crate::vocabulary::LOCK_FILE);
    let yaml = serde_yaml::to_string(&lock).expect("plain maps");
    // Written beside and renamed over, so that a crash leaves the old lock whole.
    let partial = file.with_extension("lock.partial");
    std::fs::write(&partial, format!("{HEADER}{yaml}"))
        .and_then(|()| std::fs::rename(&partial, &file))
        .map_err(|e| Diagnostic::new(&file, format!("cannot write the lock file: {e}")))?;
    Ok(added)
}
