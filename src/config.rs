//! `policy-site.yaml`: the site's own settings. Parsed strictly (an unknown
//! key is an error, since a typo would otherwise be silently ignored), then
//! checked against the languages it declares.

use crate::consent::ConsentConfig;
use crate::error::{Diagnostic, Diagnostics};
use crate::rights::RightsConfig;
use crate::yaml;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "policy-site.yaml";

/// Text given per language code: `{en: "…", fr: "…"}`.
pub use crate::vocabulary::{line_of, Localized};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Site title per language.
    pub title: Localized,
    /// Absolute URL the site is published at, e.g. `https://example.com/legal`.
    pub base_url: String,
    /// Language codes; the first is the default and controlling language.
    pub languages: Vec<String>,
    /// Output folder, relative to the site root.
    #[serde(default = "default_output")]
    pub output: PathBuf,
    /// Minimum notice, in days, between publishing a material change and its
    /// effective date (checked by `policy-site check`).
    #[serde(default)]
    pub notice_period_days: Option<u32>,
    #[serde(default)]
    pub endpoints: Endpoints,
    #[serde(default)]
    pub consent: Option<ConsentConfig>,
    #[serde(default)]
    pub rights: RightsConfig,
    /// Overrides of interface strings: language → namespace → key → text.
    #[serde(default)]
    pub strings: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    /// Whether pages are minified (on by default; off helps template authors).
    #[serde(default = "yes")]
    pub minify: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    /// Where rights-request forms post.
    pub requests: Option<String>,
    /// Where consent records are sent.
    pub consent: Option<String>,
}

fn default_output() -> PathBuf {
    PathBuf::from("public")
}

fn yes() -> bool {
    true
}

impl Config {
    pub fn default_language(&self) -> &str {
        &self.languages[0]
    }

    /// The path part of `base_url` without its trailing slash ("" at a
    /// domain's root): every link in the site starts with it.
    pub fn base_path(&self) -> String {
        let after_scheme = self.base_url.split_once("://").map_or("", |(_, rest)| rest);
        let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
        path.trim_end_matches('/').to_string()
    }

    /// The origin and path of the site without a trailing slash.
    pub fn base_url_trimmed(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }
}

/// Reads and validates `policy-site.yaml` in `root`.
pub fn load(root: &Path) -> Result<Config, Diagnostics> {
    let file = root.join(FILE_NAME);
    let text = std::fs::read_to_string(&file).map_err(|e| {
        Diagnostic::new(&file, format!("cannot read the site configuration: {e}"))
            .with_hint("run `policy-site init` to start a new site, or pass --root to point at one")
    })?;
    let config: Config = yaml::parse(&text, &file, 1)?;
    validate(&config, &file, &text).into_result(config)
}

fn validate(config: &Config, file: &Path, text: &str) -> Diagnostics {
    let mut found = Diagnostics::default();
    let at = |needle: &str, message: String| {
        let d = Diagnostic::new(file, message);
        match line_of(text, needle) {
            Some(line) => d.at_line(line),
            None => d,
        }
    };
    if config.languages.is_empty() {
        found.push(
            at("languages", "`languages` is empty".into())
                .with_hint("list at least one language code, e.g. `languages: [en]`"),
        );
    }
    for lang in &config.languages {
        if !is_language_code(lang) {
            found.push(
                at(lang, format!("`{lang}` is not a language code"))
                    .with_hint("use a code such as `en`, `fr` or `fr-CA`"),
            );
        }
        if config.title.get(lang).is_none_or(|t| t.trim().is_empty()) {
            found.push(
                at("title", format!("the site title has no `{lang}` text"))
                    .with_hint(format!("add `{lang}: …` under `title`")),
            );
        }
    }
    if !(config.base_url.starts_with("https://") || config.base_url.starts_with("http://")) {
        found.push(
            at(
                "base_url",
                format!(
                    "`base_url` must be an absolute URL, not `{}`",
                    config.base_url
                ),
            )
            .with_hint("for example `base_url: https://example.com/legal`"),
        );
    }
    for (name, url) in [
        ("requests", &config.endpoints.requests),
        ("consent", &config.endpoints.consent),
    ] {
        if let Some(url) = url {
            if let Err(why) = check_endpoint(url) {
                found.push(at(url, format!("endpoints.{name}: {why}")));
            }
        }
    }
    if let Some(consent) = &config.consent {
        for message in consent.problems(&config.languages) {
            found.push(at(&message.0, message.1));
        }
    }
    for message in config.rights.problems(&config.languages) {
        found.push(at(&message.0, message.1));
    }
    found
}

/// An endpoint must be an absolute https URL; plain http is allowed only for
/// the local machine (for `serve` and the bundled receiver).
pub fn check_endpoint(url: &str) -> Result<(), String> {
    if let Some(rest) = url.strip_prefix("https://") {
        if host_of(rest).is_empty() {
            return Err(format!("`{url}` has no host"));
        }
        return Ok(());
    }
    if let Some(rest) = url.strip_prefix("http://") {
        let host = host_of(rest);
        let local = host == "localhost" || host.starts_with("127.") || host == "[::1]";
        return if local {
            Ok(())
        } else {
            Err(format!(
                "`{url}` must use https (plain http is only allowed for localhost)"
            ))
        };
    }
    Err(format!("`{url}` is not an absolute https URL"))
}

fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

fn is_language_code(code: &str) -> bool {
    let mut parts = code.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && parts
            .all(|p| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_https_except_on_localhost() {
        assert!(check_endpoint("https://example.com/requests").is_ok());
        assert!(check_endpoint("http://127.0.0.1:8080/requests").is_ok());
        assert!(check_endpoint("http://localhost/requests").is_ok());
        assert!(check_endpoint("http://[::1]:9/x").is_ok());
        assert!(check_endpoint("http://example.com/requests").is_err());
        assert!(check_endpoint("http://localhost.example.com/x").is_err());
        assert!(check_endpoint("/requests").is_err());
        assert!(check_endpoint("ftp://example.com").is_err());
        assert!(check_endpoint("https:///nohost").is_err());
    }

    #[test]
    fn base_path_is_the_path_of_base_url() {
        let text = "title: {en: T}\nbase_url: https://x.org/legal/\nlanguages: [en]";
        let mut c: Config = crate::yaml::parse(text, Path::new("t.yaml"), 1).unwrap();
        assert_eq!(c.base_path(), "/legal");
        c.base_url = "https://x.org".into();
        assert_eq!(c.base_path(), "");
    }

    #[test]
    fn language_codes_are_bcp47_like() {
        assert!(is_language_code("en"));
        assert!(is_language_code("fr-CA"));
        assert!(!is_language_code("English"));
        assert!(!is_language_code(""));
    }
}
