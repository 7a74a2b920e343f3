//! Reading a policy's history from a folder of dated files:
//! `privacy-2021-03-04.md` (default language) and `privacy-2021-03-04.fr.md`,
//! one version per date; translations of a date are taken as made from the
//! same date's default-language text.

use super::{policy_and_lang, History, Snapshot};
use crate::date::Date;
use crate::error::{Diagnostic, Diagnostics};
use std::collections::BTreeMap;
use std::path::Path;

pub fn read(dir: &Path, default_lang: &str) -> Result<Vec<History>, Diagnostics> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Diagnostic::new(dir, format!("cannot read this folder: {e}")))?;
    // Policy → date → language → text.
    let mut found: BTreeMap<String, BTreeMap<Date, BTreeMap<String, String>>> = BTreeMap::new();
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .collect();
    names.sort();
    for name in names {
        let Some((policy, date, lang)) = parse_name(&name, default_lang) else {
            continue;
        };
        let path = dir.join(&name);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Diagnostic::new(&path, format!("cannot read: {e}")))?;
        found
            .entry(policy)
            .or_default()
            .entry(date)
            .or_default()
            .insert(lang, text);
    }
    if found.is_empty() {
        return Err(Diagnostic::new(dir, "this folder has no dated policy file")
            .with_hint("name each file `<policy>-<YYYY-MM-DD>.md`, and its translations `<policy>-<YYYY-MM-DD>.<lang>.md`")
            .into());
    }
    Ok(found
        .into_iter()
        .map(|(policy, dates)| History {
            snapshots: dates
                .into_iter()
                .map(|(date, texts)| {
                    let source = texts.get(default_lang).cloned().unwrap_or_default();
                    let translated_from = texts
                        .keys()
                        .filter(|l| *l != default_lang)
                        .map(|l| (l.clone(), source.clone()))
                        .collect();
                    let origins = texts
                        .keys()
                        .map(|l| match l.as_str() {
                            l if l == default_lang => {
                                (l.to_string(), format!("{policy}-{date}.md"))
                            }
                            l => (l.to_string(), format!("{policy}-{date}.{l}.md")),
                        })
                        .collect();
                    Snapshot {
                        date,
                        summary: format!("Imported from {policy}-{date}.md"),
                        texts,
                        translated_from,
                        origins,
                    }
                })
                .collect(),
            policy,
        })
        .collect())
}

/// `privacy-2021-03-04.fr.md` → (privacy, 2021-03-04, fr).
fn parse_name(name: &str, default_lang: &str) -> Option<(String, Date, String)> {
    let stem = name.strip_suffix(".md")?;
    let (dated, lang) = match stem.split_once('.') {
        Some((dated, lang)) => (dated, lang),
        None => (stem, default_lang),
    };
    let (policy, date) = dated.split_at(dated.len().checked_sub(11)?);
    let date: Date = date.strip_prefix('-')?.parse().ok()?;
    let (policy, lang) = policy_and_lang(&format!("{policy}.{lang}"), default_lang)
        .map(|(p, l)| (p.to_string(), l.to_string()))?;
    Some((policy, date, lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dated_file_names_give_policy_date_and_language() {
        let d: Date = "2021-03-04".parse().unwrap();
        assert_eq!(
            parse_name("privacy-2021-03-04.md", "en"),
            Some(("privacy".into(), d, "en".into()))
        );
        assert_eq!(
            parse_name("terms-of-use-2021-03-04.fr.md", "en"),
            Some(("terms-of-use".into(), d, "fr".into()))
        );
        assert_eq!(parse_name("notes.md", "en"), None);
    }
}
