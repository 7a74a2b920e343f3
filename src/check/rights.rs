//! Rights and forms agree: in the rights section (a section holding a form,
//! or whose id mentions rights), every right of the catalogue the text names
//! has its form, and every form's right is named in the text. A policy with
//! no form in any version gets one finding, not one per right it names; one
//! whose requests go through another channel (`requests: elsewhere` in its
//! `policy.yaml`) is not asked for forms.
//!
//! "Named" is read per language from the catalogue's label: its distinctive
//! words ("Right to data portability" → portability; "Droit à l'effacement" →
//! effacement), each matched by its first five letters, accents folded, so
//! that "erasure", "Right of refusal" or "d'accès" count, all of them within
//! one passage (the text under one heading). Common wordings that do not use
//! the label's words ("erase", "delete", "limit", "receive … in a
//! machine-readable format") name their right too (`WORDINGS`).

use super::at_offset;
use crate::content::{Policy, Requests, Section, Site};
use crate::error::{Diagnostic, Diagnostics};
use crate::markdown::{slugify, DIRECTIVE_SCHEME};
use crate::rights::Catalogue;

const STEM: usize = 5;
const GENERIC: &[&str] = &[
    "right", "rights", "the", "data", "about", "your", "droit", "droits", "des", "les", "aux",
    "relatifs", "son", "ses", "une",
];

/// Other ways of naming a right, per language: each a set of word stems
/// (first five letters, accents folded) that must all appear in a passage.
const WORDINGS: &[(&str, &str, &[&str])] = &[
    ("erasure", "en", &["erase"]),
    ("erasure", "en", &["delet"]),
    ("erasure", "fr", &["suppr"]),
    ("erasure", "fr", &["effac"]),
    ("restriction", "en", &["limit"]),
    ("restriction", "fr", &["limit"]),
    ("portability", "en", &["machi", "reada"]),
    ("portability", "fr", &["lisib", "machi"]),
    ("rectification", "en", &["corre"]),
    ("rectification", "fr", &["corri"]),
    ("marketing-opt-out", "en", &["marke", "unsub"]),
    ("marketing-opt-out", "fr", &["prosp", "desin"]),
];

/// A passage under one heading: its words (with the offset of their line)
/// and the forms it holds.
struct Passage {
    words: Vec<(String, usize)>,
    forms: Vec<(String, usize)>,
}

pub fn check(site: &Site) -> Diagnostics {
    let catalogue = site.config.rights.catalogue();
    let mut found = Diagnostics::default();
    for policy in &site.policies {
        let sections: Vec<(&str, &Section, Vec<Passage>)> = policy
            .versions
            .iter()
            .flat_map(|v| v.translations.values())
            .flat_map(|t| {
                t.sections
                    .iter()
                    .map(move |s| (t.lang.as_str(), s, passages(s)))
            })
            .collect();
        let has_forms = sections
            .iter()
            .any(|(_, _, ps)| ps.iter().any(|p| !p.forms.is_empty()));
        if has_forms {
            for (lang, section, passages) in &sections {
                in_section(
                    &catalogue,
                    lang,
                    section,
                    passages,
                    policy.requests,
                    &mut found,
                );
            }
        } else if policy.requests == Requests::Forms {
            if let Some(finding) = without_forms(site, &catalogue, policy) {
                found.push(finding);
            }
        }
    }
    found
}

/// A policy with a form somewhere: in each rights section, every form is
/// announced by its text and (unless its requests go elsewhere) every right
/// the text names has its form.
fn in_section(
    catalogue: &Catalogue,
    lang: &str,
    section: &Section,
    passages: &[Passage],
    requests: Requests,
    found: &mut Diagnostics,
) {
    let forms: Vec<&(String, usize)> = passages.iter().flat_map(|p| &p.forms).collect();
    if forms.is_empty() && !section.id.contains("rights") {
        return;
    }
    for (right, offset) in &forms {
        let Some(entry) = catalogue.get(right) else {
            continue;
        };
        let wordings = wordings(entry, lang);
        if !passages
            .iter()
            .any(|p| wordings.iter().any(|w| names(p, w).is_some()))
        {
            found.push(
                at_offset(section, *offset, format!(
                    "the form for the {} is not announced: no passage of this section names that right",
                    label(catalogue, right, lang)
                ))
                .with_hint("describe the right in the text before its form, or remove the form"),
            );
        }
    }
    if requests == Requests::Elsewhere {
        return;
    }
    for entry in &catalogue.rights {
        if forms.iter().any(|(r, _)| *r == entry.id) {
            continue;
        }
        if let Some(offset) = named_at(passages, entry, lang) {
            found.push(
                at_offset(section, offset, format!(
                    "the text names the {}, but this section has no form for it",
                    label(catalogue, &entry.id, lang)
                ))
                .with_hint(format!(
                    "add a paragraph `[Make a request]({DIRECTIVE_SCHEME}form/{})` after the passage",
                    entry.id
                )),
            );
        }
    }
}

/// A policy with no form in any version: one finding for the policy, at the
/// first right its newest version's rights sections name in the default
/// language, listing every right named and the two ways to settle it.
fn without_forms(site: &Site, catalogue: &Catalogue, policy: &Policy) -> Option<Diagnostic> {
    let lang = site.config.default_language();
    let newest = policy.versions.last()?.translations.get(lang)?;
    let mut first: Option<(&Section, usize)> = None;
    // The rights named, in the order the text first names them.
    let mut named: Vec<&str> = Vec::new();
    for section in newest.sections.iter().filter(|s| s.id.contains("rights")) {
        let passages = passages(section);
        let mut here: Vec<(usize, &str)> = catalogue
            .rights
            .iter()
            .filter_map(|entry| Some((named_at(&passages, entry, lang)?, entry.id.as_str())))
            .collect();
        here.sort();
        if let Some(&(offset, _)) = here.first() {
            first.get_or_insert((section, offset));
        }
        for (_, id) in here {
            if !named.contains(&id) {
                named.push(id);
            }
        }
    }
    let (section, offset) = first?;
    let policy_file = std::path::Path::new(crate::vocabulary::CONTENT_DIR)
        .join(&policy.slug)
        .join("policy.yaml");
    Some(
        at_offset(section, offset, format!(
            "this policy names the rights of {} but none of its versions has a form to exercise them",
            named.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
        ))
        .with_hint(format!(
            "add a paragraph `[Make a request]({DIRECTIVE_SCHEME}form/{})` after the passage that names each right; or, if requests about this policy go through another channel (an address, a portal), add `requests: elsewhere` to {}",
            named[0],
            policy_file.display()
        )),
    )
}

/// Where a passage of the section first names the right, if one does.
fn named_at(passages: &[Passage], right: &crate::rights::Right, lang: &str) -> Option<usize> {
    let wordings = wordings(right, lang);
    passages
        .iter()
        .find_map(|p| wordings.iter().find_map(|w| names(p, w)))
}

fn label(catalogue: &Catalogue, right: &str, lang: &str) -> String {
    let text = catalogue
        .get(right)
        .and_then(|r| r.label.get(lang))
        .map(|l| l.to_lowercase())
        .unwrap_or_else(|| right.to_string());
    format!("{text} (`{right}`)")
}

/// Each way `lang` names a right: its label's distinctive stems, then `WORDINGS`.
fn wordings(right: &crate::rights::Right, lang: &str) -> Vec<Vec<String>> {
    let also = WORDINGS
        .iter()
        .filter(|(id, l, _)| *id == right.id && *l == lang)
        .map(|(_, _, stems)| stems.iter().map(|s| s.to_string()).collect());
    std::iter::once(stems(&right.label, lang))
        .chain(also)
        .collect()
}

/// The distinctive word stems of a right's label in `lang`.
fn stems(label: &crate::config::Localized, lang: &str) -> Vec<String> {
    let text = label.get(lang).map(String::as_str).unwrap_or("");
    words(text)
        .into_iter()
        .filter(|w| w.len() > 2 && !GENERIC.contains(&w.as_str()))
        .map(|w| w.chars().take(STEM).collect())
        .collect()
}

/// Where the passage has named the right (the line of the last of its
/// words to appear), if it does.
fn names(passage: &Passage, stems: &[String]) -> Option<usize> {
    if stems.is_empty() {
        return None;
    }
    let mut at = 0;
    for stem in stems {
        let (_, offset) = passage
            .words
            .iter()
            .find(|(w, _)| w.starts_with(stem.as_str()))?;
        at = at.max(*offset);
    }
    Some(at)
}

/// Lowercase ASCII words, accents folded (the anchor slug's rules).
fn words(text: &str) -> Vec<String> {
    slugify(text).split('-').map(str::to_string).collect()
}

fn passages(section: &Section) -> Vec<Passage> {
    let mut out = vec![Passage {
        words: Vec::new(),
        forms: Vec::new(),
    }];
    let mut offset = 0;
    for line in section.markdown.split_inclusive('\n') {
        if line.starts_with('#') {
            out.push(Passage {
                words: Vec::new(),
                forms: Vec::new(),
            });
        }
        let passage = out.last_mut().expect("one at least");
        let marker = format!("]({DIRECTIVE_SCHEME}form/");
        match line.find(&marker) {
            Some(at) => {
                let right = line[at + marker.len()..]
                    .split(')')
                    .next()
                    .unwrap_or("")
                    .to_string();
                passage.forms.push((right, offset));
            }
            None => passage
                .words
                .extend(words(line).into_iter().map(|w| (w, offset))),
        }
        offset += line.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_give_their_distinctive_stems() {
        let label = |en: &str, fr: &str| {
            [
                ("en".to_string(), en.to_string()),
                ("fr".to_string(), fr.to_string()),
            ]
            .into()
        };
        let portability = label("Right to data portability", "Droit à la portabilité");
        assert_eq!(stems(&portability, "en"), ["porta"]);
        assert_eq!(stems(&portability, "fr"), ["porta"]);
        let access = label("Right of access", "Droit d'accès");
        assert_eq!(stems(&access, "fr"), ["acces"]);
    }
}
