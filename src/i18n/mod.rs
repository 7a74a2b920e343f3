//! Interface strings per language: English and French ship in the binary
//! (`en/*.yaml`, `fr/*.yaml`, one file per namespace); `strings:` in
//! `policy-site.yaml` overrides them or supplies other languages.

use crate::config::Config;
use crate::date::Date;
use crate::error::{Diagnostic, Diagnostics};
use crate::yaml;
use std::collections::BTreeMap;
use std::path::Path;

/// namespace → key → text
pub type Strings = BTreeMap<String, BTreeMap<String, String>>;

const BUILT_IN: &[(&str, &str, &str)] = &[
    ("en", "site", include_str!("en/site.yaml")),
    ("en", "banner", include_str!("en/banner.yaml")),
    ("en", "forms", include_str!("en/forms.yaml")),
    ("en", "diff", include_str!("en/diff.yaml")),
    ("en", "receive", include_str!("en/receive.yaml")),
    ("en", "console", include_str!("en/console.yaml")),
    ("fr", "site", include_str!("fr/site.yaml")),
    ("fr", "banner", include_str!("fr/banner.yaml")),
    ("fr", "forms", include_str!("fr/forms.yaml")),
    ("fr", "diff", include_str!("fr/diff.yaml")),
    ("fr", "receive", include_str!("fr/receive.yaml")),
    ("fr", "console", include_str!("fr/console.yaml")),
];

/// The strings of every configured language; a language that lacks a key
/// English has is an error naming the key.
pub fn load(config: &Config, config_file: &Path) -> Result<BTreeMap<String, Strings>, Diagnostics> {
    let mut all = built_in();
    for (lang, namespaces) in &config.strings {
        let strings = all.entry(lang.clone()).or_default();
        for (namespace, keys) in namespaces {
            strings
                .entry(namespace.clone())
                .or_default()
                .extend(keys.clone());
        }
    }
    let reference = all.get("en").cloned().unwrap_or_default();
    let mut found = Diagnostics::default();
    let mut result = BTreeMap::new();
    for lang in &config.languages {
        let strings = all.get(lang).cloned().unwrap_or_default();
        for (namespace, keys) in &reference {
            for key in keys.keys() {
                if !strings.get(namespace).is_some_and(|m| m.contains_key(key)) {
                    found.push(
                        Diagnostic::new(
                            config_file,
                            format!(
                                "no `{lang}` text for the interface string `{namespace}.{key}`"
                            ),
                        )
                        .with_hint(format!(
                            "add it under `strings: {{{lang}: {{{namespace}: {{{key}: …}}}}}}`"
                        )),
                    );
                }
            }
        }
        result.insert(lang.clone(), strings);
    }
    found.into_result(result)
}

/// The strings that ship in the binary, per language.
pub fn built_in() -> BTreeMap<String, Strings> {
    let mut all: BTreeMap<String, Strings> = BTreeMap::new();
    for (lang, namespace, text) in BUILT_IN {
        let file = Path::new("src/i18n")
            .join(lang)
            .join(format!("{namespace}.yaml"));
        let map: BTreeMap<String, String> =
            yaml::parse(text, &file, 1).expect("built-in strings are valid");
        all.entry(lang.to_string())
            .or_default()
            .insert(namespace.to_string(), map);
    }
    all
}

/// "January 30, 2025", "30 janvier 2025", from the language's own strings.
pub fn format_date(date: Date, strings: &Strings) -> String {
    let site = &strings["site"];
    let month = site["months"]
        .split(',')
        .nth(date.month as usize - 1)
        .unwrap_or("")
        .trim();
    let day = if date.day == 1 {
        site["first_day"].clone()
    } else {
        date.day.to_string()
    };
    site["date_format"]
        .replace("{month}", month)
        .replace("{day}", &day)
        .replace("{year}", &date.year.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(lang: &str) -> Strings {
        let mut s = Strings::new();
        let text = if lang == "fr" {
            include_str!("fr/site.yaml")
        } else {
            include_str!("en/site.yaml")
        };
        s.insert("site".into(), yaml::parse(text, Path::new("x"), 1).unwrap());
        s
    }

    #[test]
    fn dates_read_as_each_language_writes_them() {
        let d: Date = "2025-01-30".parse().unwrap();
        assert_eq!(format_date(d, &strings("en")), "January 30, 2025");
        assert_eq!(format_date(d, &strings("fr")), "30 janvier 2025");
        let first: Date = "2024-08-01".parse().unwrap();
        assert_eq!(format_date(first, &strings("fr")), "1er août 2024");
        assert_eq!(format_date(first, &strings("en")), "August 1, 2024");
    }
}
