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
    /// `policy-site receive`'s settings, read when `--root` names the site.
    #[serde(default)]
    pub receive: Receive,
    /// The key that signs the publication log (see docs/src/proof.md).
    #[serde(default)]
    pub signing: Option<Signing>,
    /// Who is responsible for the site's policies: named in the Open Terms
    /// Archive declaration and in consent records and receipts.
    #[serde(default)]
    pub controller: Option<Controller>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signing {
    /// The key line (the second line) of a minisign `.pub` file.
    pub public_key: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    /// The organisation's public name.
    pub name: String,
    /// Where people reach it about their data: an e-mail address or a URL.
    #[serde(default)]
    pub contact: Option<String>,
    /// Its postal address, on one line.
    #[serde(default)]
    pub address: Option<String>,
}

/// The receiver's settings: every flag of `policy-site receive` but `--db`
/// (which the operator commands name too), under the flag's name in
/// snake case. A flag given on the command line wins over its key; secrets
/// are neither, they come from the environment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receive {
    pub listen: Option<std::net::IpAddr>,
    pub port: Option<u16>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub allow_origin: Vec<String>,
    pub jurisdiction: Option<String>,
    /// `NAME: PERIOD` entries added to the table of response periods.
    #[serde(default)]
    pub due: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub webhook: Vec<String>,
    pub webhook_include_answers: Option<bool>,
    pub smtp: Option<String>,
    pub mail_from: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub notify: Vec<String>,
    pub public_url: Option<String>,
    pub verify_link_hours: Option<u64>,
    pub purge_closed_after: Option<u32>,
    pub purge_consents_after: Option<u32>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub remind_before: Vec<u32>,
}

impl Receive {
    /// These settings, with what they leave unset taken from `under`.
    pub fn over(self, under: Receive) -> Receive {
        Receive {
            listen: self.listen.or(under.listen),
            port: self.port.or(under.port),
            allow_origin: list(self.allow_origin, under.allow_origin),
            jurisdiction: self.jurisdiction.or(under.jurisdiction),
            due: under.due.into_iter().chain(self.due).collect(),
            webhook: list(self.webhook, under.webhook),
            webhook_include_answers: self
                .webhook_include_answers
                .or(under.webhook_include_answers),
            smtp: self.smtp.or(under.smtp),
            mail_from: self.mail_from.or(under.mail_from),
            notify: list(self.notify, under.notify),
            public_url: self.public_url.or(under.public_url),
            verify_link_hours: self.verify_link_hours.or(under.verify_link_hours),
            purge_closed_after: self.purge_closed_after.or(under.purge_closed_after),
            purge_consents_after: self.purge_consents_after.or(under.purge_consents_after),
            remind_before: list(self.remind_before, under.remind_before),
        }
    }

    /// What is wrong in the keys, each with the text to find its line by.
    fn problems(&self) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let web = |key: &str, given: &str, found: &mut Vec<(String, String)>| {
            let ok = Url::parse(given)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                found.push((
                    given.to_string(),
                    format!("receive.{key}: `{given}` is not an http(s) URL"),
                ));
            }
        };
        for url in &self.webhook {
            web("webhook", url, &mut found);
        }
        for origin in &self.allow_origin {
            web("allow_origin", origin, &mut found);
        }
        if let Some(url) = &self.public_url {
            web("public_url", url, &mut found);
        }
        if let Some(smtp) = &self.smtp {
            if !Url::parse(smtp).is_ok_and(|u| matches!(u.scheme(), "smtp" | "smtps")) {
                found.push((
                    smtp.clone(),
                    format!("receive.smtp: `{smtp}` is not an smtp:// or smtps:// URL"),
                ));
            }
        }
        found
    }
}

/// A list given, else the one under it.
fn list<T>(mine: Vec<T>, theirs: Vec<T>) -> Vec<T> {
    if mine.is_empty() {
        theirs
    } else {
        mine
    }
}

/// A list, or one item standing for a list of one (`notify: a@example.org`).
fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    use serde::de::{IntoDeserializer, SeqAccess, Visitor};
    // A visitor rather than an untagged enum: a wrong item is then reported
    // as what it is, at its own line, not as "no variant matched".
    struct OneOrMany<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrMany<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("one value or a list of them")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element()? {
                items.push(item);
            }
            Ok(items)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Vec<T>, E> {
            T::deserialize(v.into_deserializer()).map(|t| vec![t])
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Vec<T>, E> {
            T::deserialize(v.into_deserializer()).map(|t| vec![t])
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Vec<T>, E> {
            T::deserialize(v.into_deserializer()).map(|t| vec![t])
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Vec<T>, E> {
            T::deserialize(v.into_deserializer()).map(|t| vec![t])
        }
    }
    deserializer.deserialize_any(OneOrMany(std::marker::PhantomData))
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
    for message in config.receive.problems() {
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
