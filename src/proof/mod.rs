//! Proof anyone can check: the publication log (`log`), hash-chained, one
//! entry per published version with the hashes of its sources and of its
//! policy text as published (`text`); its minisign signature (`sign`);
//! `verify`, which checks a published site, fetched (`fetch`) or in a
//! folder; and the Open Terms Archive declaration (`ota`).
//!
//! Below `build` (which publishes the log) and `check` (which audits it),
//! above `content` (whose versions it records).

pub mod fetch;
pub mod log;
pub mod ota;
pub mod receipt;
pub mod sign;
pub mod text;
pub mod verify;

use crate::config::Config;
use crate::content::Site;
use crate::error::{Diagnostic, Diagnostics};
use crate::vocabulary::{CONFIG_FILE, PUBLICATION_LOG_FILE, PUBLICATION_SIGNATURE_FILE};
use log::{Entry, Log, Text};
use std::collections::BTreeMap;
use std::path::Path;

/// What the build publishes: the log as kept beside the lock, its signature
/// when it is the configured key's over these very bytes, and the key.
#[derive(Debug, Clone)]
pub struct Published {
    pub log: Log,
    /// The log file's text, published byte for byte (the signature is over it).
    pub text: String,
    pub signature: Option<String>,
    /// `publication-key.pub`, from `signing: public_key`.
    pub key_file: Option<String>,
}

/// The version page of `policy` at `date` in `lang`, relative to the site's
/// root URL: where the log says each text was published.
pub fn page_path(lang: &str, policy: &str, date: &str) -> String {
    format!("{lang}/{policy}/{date}/")
}

/// The output file of a page path.
pub fn page_file(path: &str) -> String {
    format!("{path}index.html")
}

/// The configured public key, or the error at its line.
pub fn configured_key(
    root: &Path,
    config: &Config,
) -> Result<Option<minisign::PublicKey>, Diagnostic> {
    let Some(signing) = &config.signing else {
        return Ok(None);
    };
    sign::public_key(&signing.public_key)
        .map(Some)
        .map_err(|why| {
            let file = root.join(CONFIG_FILE);
            let line = std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| crate::vocabulary::line_of(&t, "public_key"));
            let d = Diagnostic::new(&file, why);
            match line {
                Some(line) => d.at_line(line),
                None => d,
            }
        })
}

/// The log and what goes with it, for the build to publish (`None` when the
/// site has no log yet). A signature that does not verify is not
/// published: `check` says why.
pub fn load(root: &Path, config: &Config) -> Result<Option<Published>, Diagnostics> {
    let key = configured_key(root, config)?;
    let Some((log, text)) = log::read(root)? else {
        return Ok(None);
    };
    let signature = std::fs::read_to_string(root.join(PUBLICATION_SIGNATURE_FILE))
        .ok()
        .filter(|s| {
            key.as_ref()
                .is_some_and(|k| sign::verify(k, text.as_bytes(), s).is_ok())
        });
    Ok(Some(Published {
        log,
        text,
        signature,
        key_file: key.as_ref().map(sign::public_key_file),
    }))
}

/// The built pages, by output file.
pub type Pages<'a> = BTreeMap<&'a str, &'a [u8]>;

/// Adds an entry for every version of the site the log does not record yet,
/// oldest first, with the hashes of its sources and of the policy text its
/// pages show. Returns the entries added (`policy date`).
pub fn record(site: &Site, log: &mut Log, pages: &Pages) -> Result<Vec<String>, Diagnostics> {
    let mut new: Vec<(&crate::content::Policy, &crate::content::Version)> = site
        .policies
        .iter()
        .flat_map(|p| p.versions.iter().map(move |v| (p, v.as_ref())))
        .filter(|(p, v)| log.find(&p.slug, &v.date.to_string()).is_none())
        .collect();
    new.sort_by_key(|(p, v)| (v.date, p.slug.clone()));
    let mut found = Diagnostics::default();
    let mut added = Vec::new();
    for (policy, version) in new {
        let date = version.date.to_string();
        let mut texts = BTreeMap::new();
        for lang in version.translations.keys() {
            let page = page_path(lang, &policy.slug, &date);
            match page_text(pages, &page) {
                Ok(digest) => {
                    texts.insert(
                        lang.clone(),
                        Text {
                            page,
                            sha256: digest,
                        },
                    );
                }
                Err(why) => found.push(Diagnostic::new(&version.dir, why)),
            }
        }
        log.append(Entry {
            seq: 0,
            policy: policy.slug.clone(),
            date: date.clone(),
            effective: version.effective.to_string(),
            material: version.material,
            languages: version.translations.keys().cloned().collect(),
            sources: log::source_hashes(&version.dir),
            text: texts,
            previous: String::new(),
            hash: String::new(),
        });
        added.push(format!("{} {date}", policy.slug));
    }
    found.into_result(added)
}

/// The digest of a built page's policy text.
fn page_text(pages: &Pages, page: &str) -> Result<String, String> {
    let file = page_file(page);
    let html = pages
        .get(file.as_str())
        .ok_or_else(|| format!("the build made no page `{page}`"))?;
    let html = String::from_utf8_lossy(html);
    text::canonical(&html).map(|t| text::digest(&t)).ok_or_else(|| {
        format!("the page `{page}` does not mark its policy text with `{}`: the publication log cannot record it (see templates/policy.html)", text::TEXT_ATTRIBUTE)
    })
}

/// Signs the log with the key in the environment, if there is one:
/// `Ok(false)` when there is none.
pub fn sign_log(root: &Path, config: &Config) -> Result<bool, Diagnostics> {
    let key = sign::key_from_env()
        .map_err(|why| Diagnostics::from(Diagnostic::env(sign::KEY_FILE_ENV, why)))?;
    let Some(secret) = key else {
        return Ok(false);
    };
    let public = configured_key(root, config)?;
    let Some((log, text)) = log::read(root)? else {
        return Err(Diagnostic::new(
            root.join(PUBLICATION_LOG_FILE),
            "there is no publication log to sign",
        )
        .with_hint("`policy-site lock` writes it")
        .into());
    };
    let covers = format!(
        "policy-site publication log: {} entries, head {}",
        log.entries.len(),
        log.head()
    );
    let signature = sign::sign(&secret, public.as_ref(), text.as_bytes(), &covers)
        .map_err(|why| Diagnostics::from(Diagnostic::env(sign::KEY_FILE_ENV, why)))?;
    let file = root.join(PUBLICATION_SIGNATURE_FILE);
    let partial = file.with_extension("minisig.partial");
    std::fs::write(&partial, signature)
        .and_then(|()| std::fs::rename(&partial, &file))
        .map_err(|e| {
            Diagnostics::from(Diagnostic::new(
                &file,
                format!("cannot write the signature: {e}"),
            ))
        })?;
    Ok(true)
}

/// `check`'s audit of the log against the site: findings, and notes that
/// do not fail (an unsigned log).
#[derive(Debug, Default)]
pub struct Audit {
    pub found: Diagnostics,
    pub notes: Vec<String>,
}

/// Whether the log is whole, records every locked version (`locked`:
/// `(policy, date)`), still matches the sources and the built pages
/// (`pages`, when the site built), and is signed by the configured key.
pub fn audit(site: &Site, locked: &[(String, String)], pages: Option<&Pages>) -> Audit {
    let mut audit = Audit::default();
    let file = site.root.join(PUBLICATION_LOG_FILE);
    let (log, text) = match log::read(&site.root) {
        Ok(Some(read)) => read,
        Ok(None) if locked.is_empty() => return audit,
        Ok(None) => {
            audit.notes.push(format!(
                "versions are locked but there is no publication log yet: run `policy-site lock` to start {PUBLICATION_LOG_FILE}, which outsiders can check"
            ));
            return audit;
        }
        Err(d) => {
            audit.found.push(d);
            return audit;
        }
    };
    let at = |index: Option<usize>, message: String| {
        let d = Diagnostic::new(&file, message);
        match index.and_then(|i| Log::line_of(&text, i)) {
            Some(line) => d.at_line(line),
            None => d,
        }
    };
    for broken in log.broken() {
        audit.found.push(at(broken.index, broken.message).with_hint(
            "a published entry must never change: restore the log from version control",
        ));
    }
    for (policy, date) in locked {
        if log.find(policy, date).is_none() {
            audit.found.push(
                at(
                    None,
                    format!("{policy} {date} is locked but the publication log does not record it"),
                )
                .with_hint("run `policy-site lock`, which adds it"),
            );
        }
    }
    for (index, entry) in log.entries.iter().enumerate() {
        audit.found.extend(against_site(site, entry, pages, || {
            at(Some(index), String::new())
        }));
    }
    signature(site, &text, &mut audit);
    audit
}

/// One entry against its version's sources and pages.
fn against_site(
    site: &Site,
    entry: &Entry,
    pages: Option<&Pages>,
    at_entry: impl Fn() -> Diagnostic,
) -> Diagnostics {
    let mut found = Diagnostics::default();
    let version = site
        .policy(&entry.policy)
        .and_then(|p| p.versions.iter().find(|v| v.date.to_string() == entry.date));
    let Some(version) = version else {
        let mut d = at_entry();
        d.message = format!(
            "the publication log records {}, which is no longer in the content folder",
            entry.name()
        );
        found.push(
            d.with_hint("a published version must stay: restore its folder from version control"),
        );
        return found;
    };
    let now = log::source_hashes(&version.dir);
    for (path, hash) in &entry.sources {
        match now.get(path) {
            Some(h) if h == hash => {}
            Some(_) => found.push(
                Diagnostic::new(version.dir.join(path), format!("changed since {} was published: the publication log records another SHA-256 for this file", entry.name()))
                    .with_hint("a published version must not change: restore the file, and make the change in a new version (`policy-site revise`)"),
            ),
            None => found.push(
                Diagnostic::new(version.dir.join(path), format!("deleted since {} was published (the publication log records it)", entry.name()))
                    .with_hint("restore the file from version control"),
            ),
        }
    }
    for path in now.keys().filter(|p| !entry.sources.contains_key(*p)) {
        found.push(
            Diagnostic::new(version.dir.join(path), format!("added to {} after it was published", entry.name()))
                .with_hint("a published version must not change: move the file into a new version (`policy-site revise`)"),
        );
    }
    let Some(pages) = pages else {
        return found;
    };
    for (lang, published) in &entry.text {
        match page_text(pages, &published.page) {
            Ok(digest) if digest == published.sha256 => {}
            Ok(_) => found.push(
                Diagnostic::new(version.dir.join(lang), format!("the page `{}` no longer shows the words that were published for {} ({lang})", published.page, entry.name()))
                    .with_hint("a change to a template, the configuration or these sources altered a published text; the publication log records what readers saw"),
            ),
            Err(why) => found.push(Diagnostic::new(version.dir.join(lang), why)),
        }
    }
    found
}

/// The signature beside the log, against the configured key.
fn signature(site: &Site, text: &str, audit: &mut Audit) {
    let file = site.root.join(PUBLICATION_SIGNATURE_FILE);
    let signature = std::fs::read_to_string(&file).ok();
    let key = match configured_key(&site.root, &site.config) {
        Ok(key) => key,
        Err(d) => {
            audit.found.push(d);
            return;
        }
    };
    match (key, signature) {
        (None, None) => audit.notes.push(format!(
            "the publication log is chained but not signed: add `signing: public_key:` to {CONFIG_FILE} and sign it (`policy-site sign`) so that outsiders can tell it is yours"
        )),
        (None, Some(_)) => audit.notes.push(format!(
            "{PUBLICATION_SIGNATURE_FILE} is not published: {CONFIG_FILE} names no `signing: public_key` to check it with"
        )),
        (Some(_), None) => audit.found.push(
            Diagnostic::new(&file, "the publication log is not signed, though `signing: public_key` is set")
                .with_hint(format!("run `policy-site sign` with the secret key in {} or {}", sign::KEY_FILE_ENV, sign::KEY_ENV)),
        ),
        (Some(key), Some(signature)) => {
            if let Err(why) = sign::verify(&key, text.as_bytes(), &signature) {
                audit.found.push(
                    Diagnostic::new(&file, format!("the signature does not match the publication log ({why})"))
                        .with_hint("the log changed since it was signed, or another key signed it: run `policy-site sign` with the site's key"),
                );
            }
        }
    }
}
