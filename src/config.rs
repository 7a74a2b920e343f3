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
use url::{Host, Url};

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
    /// Whether every page also goes through minify-html (off by default:
    /// the built-in templates and the content are written compact already,
    /// and minify-html costs more than it saves; see docs/src/configuration.md).
    #[serde(default)]
    pub minify: bool,
    /// How many versions before the current one get a full redline against
    /// it ("what changed since the version I accepted"); older versions link
    /// to the history page from their date on, which lists each step's
    /// redline. Every version keeps its redline against its predecessor.
    #[serde(default = "default_redlines_to_current")]
    pub redlines_to_current: usize,
}

fn default_redlines_to_current() -> usize {
    10
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

impl Config {
    pub fn default_language(&self) -> &str {
        &self.languages[0]
    }

    /// The path part of `base_url` without its trailing slash ("" at a
    /// domain's root): every link in the site starts with it.
    pub fn base_path(&self) -> String {
        url::Url::parse(&self.base_url)
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default()
    }

    /// The origin and path of the site without a trailing slash.
    pub fn base_url_trimmed(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }
}

/// Reads and validates `policy-site.yaml` in `root`.
pub fn load(root: &Path) -> Result<Config, Diagnostics> {
    let file = root.join(crate::vocabulary::CONFIG_FILE);
    let bytes = std::fs::read(&file).map_err(|e| {
        Diagnostic::new(&file, format!("cannot read the site configuration: {e}"))
            .with_hint("run `policy-site init` to start a new site, or pass --root to point at one")
    })?;
    let text = String::from_utf8(bytes).map_err(|e| Diagnostic::not_utf8(&file, &e))?;
    let mut config: Config = yaml::parse(&text, &file, 1)?;
    normalise_urls(&mut config);
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
    let base = check_web_url(&config.base_url).and_then(|url| match url.contains(['?', '#']) {
        true => Err(format!("`{url}` holds a `?` or `#` part; every page's address starts with base_url, so it must not")),
        false => Ok(url),
    });
    if let Err(why) = base {
        found.push(
            at("base_url", format!("base_url: {why}"))
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
/// the local machine (for `serve` and the bundled receiver). On success, the
/// URL in the form the site publishes (see [`check_web_url`]).
pub fn check_endpoint(url: &str) -> Result<String, String> {
    check_web_url(url)
}

/// The URLs the site publishes, in the `url` crate's serialisation: what a
/// browser would request, with quotes, brackets and spaces percent-encoded,
/// so that no configured text reaches `robots.txt`, `versions.json` or a page
/// as it was typed. Invalid ones are left for `validate` to report.
fn normalise_urls(config: &mut Config) {
    let endpoints = [
        &mut config.endpoints.requests,
        &mut config.endpoints.consent,
    ];
    for url in std::iter::once(&mut config.base_url).chain(endpoints.into_iter().flatten()) {
        if let Ok(normal) = check_web_url(url) {
            *url = normal;
        }
    }
}

/// The one rule for the URLs a site points visitors at (`base_url`, the
/// endpoints), decided on the URL as the `url` crate parses it, the way a
/// browser does: https, or plain http to this machine only (`localhost`,
/// 127.0.0.0/8, `[::1]`); never a user name or password before the host,
/// which could make `http://localhost:80@evil.example/` look local.
fn check_web_url(text: &str) -> Result<String, String> {
    let url =
        Url::parse(text).map_err(|e| format!("`{text}` is not an absolute https URL ({e})"))?;

    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{text}` carries a user name or password before `@`; a published URL must not"
        ));
    }
    let local = match url.host() {
        Some(Host::Domain(name)) => name == "localhost",
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(format!("`{text}` has no host")),
    };
    match url.scheme() {
        "https" => Ok(url.to_string()),
        "http" if local => Ok(url.to_string()),
        "http" => Err(format!(
            "`{text}` must use https (plain http is only allowed for localhost, 127.0.0.0/8 and [::1])"
        )),
        _ => Err(format!("`{text}` is not an absolute https URL")),
    }
}

pub(crate) fn is_language_code(code: &str) -> bool {
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
        assert!(check_endpoint("http://127.8.9.10/requests").is_ok());
        assert!(check_endpoint("http://localhost/requests").is_ok());
        assert!(check_endpoint("http://[::1]:9/x").is_ok());
        assert!(check_endpoint("http://example.com/requests").is_err());
        assert!(check_endpoint("http://localhost.example.com/x").is_err());
        assert!(check_endpoint("http://128.0.0.1/x").is_err());
        assert!(check_endpoint("http://[::2]/x").is_err());
        assert!(check_endpoint("/requests").is_err());
        assert!(check_endpoint("ftp://example.com").is_err());
        assert!(check_endpoint("https://").is_err());
    }

    #[test]
    fn a_host_that_only_starts_like_a_local_one_is_not_local() {
        let err = check_endpoint("http://127.0.0.1.evil.example/requests").unwrap_err();
        assert!(err.contains("must use https"), "{err}");
        let err = check_endpoint("http://localhost:80@evil.example/requests").unwrap_err();
        assert!(err.contains("user name or password"), "{err}");
    }

    #[test]
    fn a_user_name_or_password_is_refused_even_over_https() {
        assert!(check_endpoint("https://user@example.com/x").is_err());
        assert!(check_endpoint("https://user:secret@example.com/x").is_err());
        assert!(check_endpoint("http://user@localhost/x").is_err());
    }

    #[test]
    fn urls_are_published_as_a_browser_would_send_them() {
        let text = "title: {en: T}\nbase_url: 'https://x.org/legal\"><script>alert(1)</script>'\nlanguages: [en]\nendpoints: {requests: 'https://x.org/r e'}";
        let mut c: Config = crate::yaml::parse(text, Path::new("t.yaml"), 1).unwrap();
        normalise_urls(&mut c);
        assert_eq!(
            c.base_url,
            "https://x.org/legal%22%3E%3Cscript%3Ealert(1)%3C/script%3E"
        );
        assert_eq!(c.endpoints.requests.as_deref(), Some("https://x.org/r%20e"));
        assert!(validate(&c, Path::new("t.yaml"), text).is_empty());
        c.base_url = "https://x.org/legal?x=1".into();
        assert!(!validate(&c, Path::new("t.yaml"), text).is_empty());
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
