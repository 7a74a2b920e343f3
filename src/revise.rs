//! Starting the next version of a policy: its latest version's folder is
//! copied to a new dated folder, with a `version.yaml` that asks for the
//! summary and for the decision whether the change is material.

use crate::content::{self, Policy, Site};
use crate::date::Date;
use crate::error::{Diagnostic, Diagnostics};
use std::path::{Path, PathBuf};

/// Copies the latest version of `policy` to `date`; returns the new folder.
pub fn revise(site: &Site, policy: &Policy, date: Date) -> Result<PathBuf, Diagnostics> {
    let latest = policy
        .versions
        .last()
        .expect("a loaded policy has a version");
    if date <= latest.date {
        return Err(Diagnostic::new(
            &latest.dir,
            format!(
                "a new version must be dated after the latest one ({}), not {date}",
                latest.date
            ),
        )
        .with_hint("pass a later --date")
        .into());
    }
    let dir = latest.dir.with_file_name(date.to_string());
    copy_sources(&latest.dir, &dir)?;
    let notice = site.config.notice_period_days.unwrap_or(0);
    let summaries: String = site
        .config
        .languages
        .iter()
        .map(|lang| format!("  {lang}: \"\"\n"))
        .collect();
    let text = format!(
        "# What changed since {previous}, in a sentence or two per language:\n\
         # readers see it in the history and the feed.\n\
         summary:\n{summaries}\
         # Material: does the change affect readers' rights or obligations? If so,\n\
         # set `material: true` and an `effective:` date at least {notice} days after\n\
         # {date}, so that readers are notified in advance.\n\
         material: false\n",
        previous = latest.date
    );
    let file = dir.join("version.yaml");
    std::fs::write(&file, text)
        .map_err(|e| Diagnostic::new(&file, format!("cannot write: {e}")))?;
    Ok(dir)
}

fn copy_sources(from: &Path, to: &Path) -> Result<(), Diagnostics> {
    if to.exists() {
        return Err(Diagnostic::new(to, "this version folder already exists").into());
    }
    for entry in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let name = entry.file_name().to_string_lossy();
        if content::is_editor_litter(&name) || name == "version.yaml" {
            continue;
        }
        let target = to.join(entry.path().strip_prefix(from).expect("walked from there"));
        let result = if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)
        } else {
            std::fs::copy(entry.path(), &target).map(drop)
        };
        result.map_err(|e| Diagnostic::new(&target, format!("cannot copy: {e}")))?;
    }
    Ok(())
}
