//! Translations. A version's languages are its language folders: the default
//! language is in every version (the loader checks it), a language is offered
//! from the first version that has it and must stay in every later one, and a
//! policy's newest version has every language of the site. So a language can
//! be added to a site with published history: older versions need not have it.
//! A translation has every section of its source (the loader checks it), and
//! each translated section records, in its front matter, the hash of the
//! source it was translated from, so that a source edited since shows up as a
//! stale translation. `mark` writes that hash.

use crate::content::{self, Policy, Section, Site, Version};
use crate::error::{Diagnostic, Diagnostics};
use sha2::{Digest, Sha256};
use std::path::Path;

pub const KEY: &str = "translated_from";

/// The short SHA-256 of a source section's body, as `translated_from` records it.
pub fn source_hash(section: &Section) -> String {
    hash_text(&section.markdown)
}

/// The short SHA-256 of a section body (the text after its front matter).
pub fn hash_text(body: &str) -> String {
    let digest = crate::vocabulary::hex(&Sha256::digest(body.as_bytes()));
    digest[..12].to_string()
}

pub fn check(site: &Site) -> Diagnostics {
    let mut found = Diagnostics::default();
    let default_lang = site.config.default_language();
    for policy in &site.policies {
        for version in &policy.versions {
            let Some(source) = version.translations.get(default_lang) else {
                continue;
            };
            for lang in site.config.languages.iter().skip(1) {
                let Some(translation) = version.translations.get(lang) else {
                    found.0.extend(missing_language(policy, version, lang));
                    continue;
                };
                for section in &translation.sections {
                    let Some(original) =
                        source.sections.iter().find(|s| s.number == section.number)
                    else {
                        continue;
                    };
                    let line = line_of_key(&section.file).unwrap_or(2);
                    let current = source_hash(original);
                    let command = format!(
                        "policy-site translated {} --version {} --lang {lang}",
                        policy.slug, version.date
                    );
                    match &section.translated_from {
                        None => found.push(
                            Diagnostic::new(&section.file, format!(
                                "this translation does not record which text of section {} it was translated from",
                                section.label()
                            ))
                            .at_line(line)
                            .with_hint(format!("once the translation matches the {default_lang} text, run `{command}`")),
                        ),
                        Some(recorded) if *recorded != current => found.push(
                            Diagnostic::new(&section.file, format!(
                                "stale translation: the {default_lang} text of section {} ({}) has changed since this translation was made",
                                section.label(),
                                original.file.file_name().unwrap_or_default().to_string_lossy()
                            ))
                            .at_line(line)
                            .with_hint(format!("bring the translation up to date, then run `{command}`")),
                        ),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    found
}

/// A version without `lang`: fine before the language was added, not after,
/// and not in the newest version.
fn missing_language(policy: &Policy, version: &Version, lang: &str) -> Option<Diagnostic> {
    let file = version.dir.join("version.yaml");
    if let Some(earlier) = policy
        .versions
        .iter()
        .take_while(|v| v.date < version.date)
        .filter(|v| v.translations.contains_key(lang))
        .last()
    {
        return Some(Diagnostic::new(file, format!(
            "version {} of `{}` has no `{lang}` translation, but version {} had one: a language, once offered, stays in every later version",
            version.date, policy.slug, earlier.date
        )).with_hint(format!("translate the sections into `{}/{lang}/`", version.date)));
    }
    if policy
        .versions
        .last()
        .is_some_and(|v| v.date > version.date)
    {
        return None;
    }
    Some(Diagnostic::new(file, format!(
        "the newest version of `{}` ({}) has no `{lang}` translation, and `{lang}` is one of the site's languages",
        policy.slug, version.date
    )).with_hint(format!(
        "translate the sections into `{}/{lang}/`; older versions need not have it: a language is offered from the first version that has its folder",
        version.date
    )))
}

/// What `mark` did: the files it recorded, and the sections it left out
/// with the reason.
#[derive(Debug, Default)]
pub struct Marked {
    pub recorded: Vec<std::path::PathBuf>,
    pub skipped: Vec<(std::path::PathBuf, &'static str)>,
}

/// Records in each translated section of `version` (in `langs`, or every
/// translation; of `numbers`, or every section) the hash of its source. A
/// section that is still its source's text or a stub is not a translation:
/// it is left out unless named in `numbers`.
pub fn mark(
    site: &Site,
    version: &Version,
    langs: &[String],
    numbers: &[u32],
) -> Result<Marked, Diagnostics> {
    let default_lang = site.config.default_language();
    let mut marked = Marked::default();
    let source = version.translations.get(default_lang).ok_or_else(|| {
        Diagnostic::new(
            &version.dir,
            format!("this version has no `{default_lang}` source"),
        )
    })?;
    for (lang, translation) in &version.translations {
        if lang == default_lang || !(langs.is_empty() || langs.contains(lang)) {
            continue;
        }
        for section in &translation.sections {
            let Some(original) = source.sections.iter().find(|s| s.number == section.number) else {
                continue;
            };
            let named = numbers.contains(&section.number);
            if !(numbers.is_empty() || named) {
                continue;
            }
            let hash = source_hash(original);
            if section.translated_from.as_deref() == Some(hash.as_str()) {
                continue;
            }
            let untranslated = if section.markdown.trim() == original.markdown.trim() {
                Some("still the source text, word for word")
            } else if crate::scaffold::is_stub(&section.markdown) {
                Some("still the placeholder `policy-site init` wrote")
            } else {
                None
            };
            if let (Some(why), false) = (untranslated, named) {
                marked.skipped.push((section.file.clone(), why));
                continue;
            }
            let text = std::fs::read_to_string(&section.file)
                .map_err(|e| Diagnostic::new(&section.file, format!("cannot read: {e}")))?;
            let updated = set_front_matter_key(&text, KEY, &hash)
                .ok_or_else(|| Diagnostic::new(&section.file, "the section has no front matter"))?;
            std::fs::write(&section.file, updated)
                .map_err(|e| Diagnostic::new(&section.file, format!("cannot write: {e}")))?;
            marked.recorded.push(section.file.clone());
        }
    }
    Ok(marked)
}

/// `text` with `key: value` set in its front matter (replaced or appended).
fn set_front_matter_key(text: &str, key: &str, value: &str) -> Option<String> {
    let (front, body, _) = content::split_front_matter(text)?;
    let prefix = format!("{key}:");
    let mut lines: Vec<String> = front
        .lines()
        .filter(|l| !l.starts_with(&prefix))
        .map(str::to_string)
        .collect();
    lines.push(format!("{key}: {value}"));
    Some(format!("---\n{}\n---\n{body}", lines.join("\n")))
}

fn line_of_key(file: &Path) -> Option<usize> {
    let text = std::fs::read_to_string(file).ok()?;
    crate::config::line_of(&text, &format!("{KEY}:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_set_in_the_front_matter_and_replaced_later() {
        let once = set_front_matter_key("---\ntitle: A\n---\nBody\n", KEY, "abc").unwrap();
        assert_eq!(once, "---\ntitle: A\ntranslated_from: abc\n---\nBody\n");
        let twice = set_front_matter_key(&once, KEY, "def").unwrap();
        assert_eq!(twice, "---\ntitle: A\ntranslated_from: def\n---\nBody\n");
    }
}
