//! The cookie inventory and consent settings (`consent:` in
//! `policy-site.yaml`): validated here, and turned into the per-language view
//! that the banner, the settings dialog and the cookie table are rendered from.

use crate::error::{Diagnostic, Diagnostics};
use crate::vocabulary::Localized;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentConfig {
    /// The policy whose versions drive re-consent (and whose diffs the banner links to).
    #[serde(default = "default_policy")]
    pub policy: String,
    /// How long a choice is kept before the banner asks again.
    #[serde(default = "default_lifetime")]
    pub lifetime_days: u32,
    /// Emit Google Consent Mode v2 signals (default denied, updated on choice).
    #[serde(default)]
    pub consent_mode: bool,
    pub categories: Vec<Category>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: String,
    /// Necessary cookies cannot be refused; exactly one category has this.
    #[serde(default)]
    pub required: bool,
    pub label: Localized,
    pub description: Localized,
    #[serde(default)]
    pub services: Vec<Service>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    #[serde(default)]
    pub provider: Option<String>,
    pub purpose: Localized,
    #[serde(default)]
    pub cookies: Vec<Cookie>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cookie {
    /// A cookie name, or a prefix ending in `*` (e.g. `_ga_*`).
    pub name: String,
    pub purpose: Localized,
    pub duration: Localized,
    pub party: Party,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    First,
    Third,
}

fn default_policy() -> String {
    "privacy".into()
}

fn default_lifetime() -> u32 {
    182
}

impl ConsentConfig {
    /// Problems as (text to find the line by, message).
    pub fn problems(&self, languages: &[String]) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let required = self.categories.iter().filter(|c| c.required).count();
        if required != 1 {
            found.push(("categories".into(), format!("consent needs exactly one category with `required: true` (the necessary cookies), found {required}")));
        }
        if self.lifetime_days == 0 || self.lifetime_days > 395 {
            found.push((
                "lifetime_days".into(),
                "consent.lifetime_days must be between 1 and 395 (13 months)".into(),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.categories {
            if !is_identifier(&c.id) {
                found.push((
                    c.id.clone(),
                    format!(
                        "category id `{}` must be lowercase letters, digits and dashes",
                        c.id
                    ),
                ));
            }
            if !seen.insert(c.id.as_str()) {
                found.push((
                    c.id.clone(),
                    format!("category `{}` is defined twice", c.id),
                ));
            }
            let mut missing = |what: &str, text: &Localized, place: &str| {
                for lang in languages
                    .iter()
                    .filter(|l| text.get(*l).is_none_or(|t| t.trim().is_empty()))
                {
                    found.push((place.to_string(), format!("{what} has no `{lang}` text")));
                }
            };
            missing(&format!("category `{}`: label", c.id), &c.label, &c.id);
            missing(
                &format!("category `{}`: description", c.id),
                &c.description,
                &c.id,
            );
            for s in &c.services {
                missing(
                    &format!("service `{}`: purpose", s.name),
                    &s.purpose,
                    &s.name,
                );
                for k in &s.cookies {
                    missing(
                        &format!("cookie `{}`: purpose", k.name),
                        &k.purpose,
                        &k.name,
                    );
                    missing(
                        &format!("cookie `{}`: duration", k.name),
                        &k.duration,
                        &k.name,
                    );
                }
            }
        }
        found
    }

    pub fn category_ids(&self) -> impl Iterator<Item = &str> {
        self.categories.iter().map(|c| c.id.as_str())
    }

    /// Changes whenever categories, services or cookies change, so that the
    /// banner asks again: a stored choice covers only what it was asked about.
    pub fn revision(&self) -> String {
        let json = serde_json::to_vec(&self.categories).expect("inventory serialises");
        hex(&Sha256::digest(json))[..16].to_string()
    }

    /// The inventory in one language, as templates receive it.
    pub fn view(&self, lang: &str) -> serde_json::Value {
        let text = |l: &Localized| l.get(lang).cloned().unwrap_or_default();
        let categories: Vec<_> = self
            .categories
            .iter()
            .map(|c| {
                let services: Vec<_> = c
                    .services
                    .iter()
                    .map(|s| {
                        let cookies: Vec<_> = s
                            .cookies
                            .iter()
                            .map(|k| serde_json::json!({"name": k.name, "purpose": text(&k.purpose), "duration": text(&k.duration), "party": k.party}))
                            .collect();
                        serde_json::json!({"name": s.name, "provider": s.provider, "purpose": text(&s.purpose), "cookies": cookies})
                    })
                    .collect();
                serde_json::json!({"id": c.id, "required": c.required, "label": text(&c.label), "description": text(&c.description), "services": services})
            })
            .collect();
        serde_json::json!({
            "policy": self.policy,
            "lifetime_days": self.lifetime_days,
            "consent_mode": self.consent_mode,
            "revision": self.revision(),
            "categories": categories,
        })
    }
}

/// Every `data-consent="…"` in the pages names a configured category; an
/// unknown one would never run, so it is an error placed where it is written
/// (a template or a section), found by searching the site's sources.
pub fn check_gated<'a>(
    root: &Path,
    pages: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    consent: &ConsentConfig,
) -> Result<(), Diagnostics> {
    let known: BTreeSet<&str> = consent.category_ids().collect();
    let mut unknown: BTreeMap<String, String> = BTreeMap::new();
    const ATTRIBUTE: &[u8] = b"data-consent=";
    for (file, bytes) in pages {
        // Most pages have no such attribute: search the bytes, decode only hits.
        let hits = memchr::memmem::find_iter(bytes, ATTRIBUTE).map(|at| {
            let rest = &bytes[at + ATTRIBUTE.len()..];
            String::from_utf8_lossy(&rest[..rest.len().min(256)]).into_owned()
        });
        for value in hits.filter_map(|rest| attribute_value(&rest)) {
            if !known.contains(value.as_str()) {
                unknown.entry(value).or_insert_with(|| file.to_string());
            }
        }
    }
    let mut found = Diagnostics::default();
    for (category, page) in unknown {
        let (file, line) =
            find_in_sources(root, &category).unwrap_or_else(|| (PathBuf::from(&page), 0));
        let mut d = Diagnostic::new(file, format!("`data-consent=\"{category}\"` names no cookie category (known: {})", known.iter().copied().collect::<Vec<_>>().join(", ")))
            .with_hint("use the id of a category under `consent.categories` in policy-site.yaml, or add that category");
        if line > 0 {
            d = d.at_line(line);
        }
        found.push(d);
    }
    found.into_result(())
}

fn attribute_value(rest: &str) -> Option<String> {
    let rest = rest.trim_start();
    let value = match rest.chars().next()? {
        quote @ ('"' | '\'') => rest[1..].split(quote).next()?,
        _ => rest.split(|c: char| c.is_whitespace() || c == '>').next()?,
    };
    Some(value.to_string())
}

/// The first template or section (file, line) that writes this category.
fn find_in_sources(root: &Path, category: &str) -> Option<(PathBuf, usize)> {
    let needles = [
        format!("data-consent=\"{category}\""),
        format!("data-consent='{category}'"),
        format!("data-consent={category}"),
    ];
    for dir in ["templates", "content"] {
        for entry in walkdir::WalkDir::new(root.join(dir))
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
        {
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            if let Some(line) = text
                .lines()
                .position(|l| needles.iter().any(|n| l.contains(n.as_str())))
            {
                return Some((
                    entry
                        .path()
                        .strip_prefix(root)
                        .unwrap_or(entry.path())
                        .to_path_buf(),
                    line + 1,
                ));
            }
        }
    }
    None
}

fn is_identifier(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

pub use crate::vocabulary::hex;
