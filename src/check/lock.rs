//! `policy-site.lock`: the SHA-256 of every published version's sources.
//! A published version is a record of what readers were told, so a change to
//! one is an error; `write_new` adds versions the lock does not know yet and
//! never rewrites one it does.

use crate::content::Site;
use crate::error::{Diagnostic, Diagnostics};
use std::collections::BTreeMap;
use std::path::Path;

pub const FILE_NAME: &str = "policy-site.lock";

/// policy → version date → SHA-256 of its sources.
type Lock = BTreeMap<String, BTreeMap<String, String>>;

const HEADER: &str = "# The SHA-256 of each published version's sources, written by `policy-site lock`.\n# A published version must not change: start a new one with `policy-site revise`.\n";

fn read(root: &Path) -> Result<Lock, Diagnostics> {
    let file = root.join(FILE_NAME);
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

pub fn check(site: &Site) -> Diagnostics {
    let lock = match read(&site.root) {
        Ok(lock) => lock,
        Err(found) => return found,
    };
    let file = site.root.join(FILE_NAME);
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let mut found = Diagnostics::default();
    for (slug, versions) in &lock {
        let policy = site.policy(slug);
        for (date, hash) in versions {
            let version =
                policy.and_then(|p| p.versions.iter().find(|v| v.date.to_string() == *date));
            let line = crate::config::line_of(&text, date).unwrap_or(1);
            match version {
                None => found.push(
                    Diagnostic::new(&file, format!(
                        "the published version {date} of `{slug}` has been deleted"
                    ))
                    .at_line(line)
                    .with_hint(format!("restore `content/{slug}/{date}/`: readers were told that text, and the history must keep it")),
                ),
                Some(v) if v.sources_sha256 != *hash => found.push(
                    Diagnostic::new(v.dir.join("version.yaml"), format!(
                        "the published version {date} of `{slug}` has been changed since it was published"
                    ))
                    .at_line(1)
                    .with_hint(format!("undo the change, and make it in a new version instead: `policy-site revise {slug}`")),
                ),
                Some(_) => {}
            }
        }
    }
    found
}

/// Records every version the lock does not list yet; returns them as `policy date`.
pub fn write_new(site: &Site) -> Result<Vec<String>, Diagnostics> {
    let mut lock = read(&site.root)?;
    let mut added = Vec::new();
    for policy in &site.policies {
        let known = lock.entry(policy.slug.clone()).or_default();
        for version in &policy.versions {
            let date = version.date.to_string();
            if !known.contains_key(&date) {
                known.insert(date.clone(), version.sources_sha256.clone());
                added.push(format!("{} {date}", policy.slug));
            }
        }
    }
    let file = site.root.join(FILE_NAME);
    let yaml = serde_yaml::to_string(&lock).expect("plain maps");
    std::fs::write(&file, format!("{HEADER}{yaml}"))
        .map_err(|e| Diagnostic::new(&file, format!("cannot write the lock file: {e}")))?;
    Ok(added)
}
