//! `policy-site import <from>`: reads a history (git repository or folder of
//! dated files) and writes its versions into the site's `content/`, with a
//! `policy-site.yaml` when the site has none yet.

use crate::config;
use crate::error::{Diagnostic, Diagnostics};
use crate::import;
use std::collections::BTreeSet;
use std::path::Path;

pub fn run(
    root: &Path,
    from: &Path,
    lang: Option<&str>,
    selection: Option<&import::Selection>,
    partial_translations: bool,
) -> Result<(), Diagnostics> {
    let existing = root
        .join(crate::vocabulary::CONFIG_FILE)
        .exists()
        .then(|| config::load(root))
        .transpose()?;
    let default_lang = lang
        .or(existing.as_ref().map(|c| c.default_language()))
        .unwrap_or("en")
        .to_string();
    let mut histories = import::read(from, &default_lang, selection)?;
    if partial_translations {
        for history in &mut histories {
            for note in import::leave_out_unmatched(history, &default_lang) {
                println!("{note}");
            }
        }
    }
    let mut languages = vec![default_lang.clone()];
    let found: BTreeSet<&String> = histories
        .iter()
        .flat_map(|h| h.snapshots.iter().flat_map(|s| s.texts.keys()))
        .collect();
    languages.extend(found.into_iter().filter(|l| **l != default_lang).cloned());
    let unknown = existing
        .as_ref()
        .and_then(|config| languages.iter().find(|l| !config.languages.contains(l)));
    if let Some(lang) = unknown {
        return Err(Diagnostic::new(
            root.join(crate::vocabulary::CONFIG_FILE),
            format!(
                "the history has `{lang}` texts, but `{lang}` is not one of the site's languages"
            ),
        )
        .with_hint(format!("add `{lang}` to `languages`"))
        .into());
    }
    for history in &histories {
        let versions = import::write(root, history, &default_lang)?;
        let date = |d: Option<&crate::date::Date>| d.map(|d| d.to_string()).unwrap_or_default();
        match versions.as_slice() {
            [one] => println!("imported {}: 1 version, {one}", history.policy),
            _ => println!(
                "imported {}: {} versions, {} to {}",
                history.policy,
                versions.len(),
                date(versions.first()),
                date(versions.last()),
            ),
        }
    }
    if existing.is_none() {
        write_config(root, &languages)?;
        let built_in = crate::i18n::built_in();
        for lang in languages.iter().filter(|l| !built_in.contains_key(*l)) {
            println!("policy-site ships no `{lang}` interface strings or rights labels: give them in policy-site.yaml (`strings: {{{lang}: …}}`, and `rights:`) before building; `check` names each one missing.");
        }
    }
    println!("Review the summaries in each version.yaml, then run `policy-site lock` and `policy-site check`.");
    Ok(())
}

fn write_config(root: &Path, languages: &[String]) -> Result<(), Diagnostics> {
    let titles: String = languages
        .iter()
        .map(|l| format!("  {l}: Legal\n"))
        .collect();
    let text = format!(
        "# Written by `policy-site import`: every key is described in the policy-site book, chapter Configuration.\ntitle:\n{titles}base_url: https://example.com/legal\nlanguages: [{}]\n",
        languages.join(", ")
    );
    let file = root.join(crate::vocabulary::CONFIG_FILE);
    std::fs::create_dir_all(root)
        .and_then(|()| std::fs::write(&file, text))
        .map_err(|e| Diagnostic::new(&file, format!("cannot write: {e}")).into())
}
