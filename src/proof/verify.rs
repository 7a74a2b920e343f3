//! `policy-site verify`: checks a published site against its own
//! publication log, as an outsider would, from nothing but what the site
//! publishes: the chain, the signature (with the published key, or one the
//! reader pins), the policy text of every recorded version page, and that
//! every version the site lists is recorded.

use super::fetch::Source;
use super::log::Log;
use super::{sign, text};
use crate::error::Diagnostic;
use crate::vocabulary::{PUBLICATION_KEY_FILE, PUBLICATION_LOG_FILE, PUBLICATION_SIGNATURE_FILE};
use std::collections::{BTreeMap, BTreeSet};

/// What a verification found: divergences (each a path of the site and a
/// message), notes that are not divergences, and what was checked.
#[derive(Debug, Default)]
pub struct Report {
    pub diverged: Vec<Diagnostic>,
    pub notes: Vec<String>,
    pub entries: usize,
    pub pages: usize,
    /// The key that signed the log, when a signature verified.
    pub signed_by: Option<String>,
}

/// Verifies the site at `source`. `Err` when there is nothing to verify
/// (no log, or the site cannot be read at all).
pub fn verify(source: &Source, pinned: Option<&minisign::PublicKey>) -> Result<Report, String> {
    let log_bytes = source.get(PUBLICATION_LOG_FILE)?.ok_or_else(|| {
        format!(
            "{} is not there: the site publishes no publication log",
            source.locate(PUBLICATION_LOG_FILE)
        )
    })?;
    let mut report = Report::default();
    let log_text = String::from_utf8_lossy(&log_bytes).into_owned();
    let log = match Log::parse(&log_text, std::path::Path::new(PUBLICATION_LOG_FILE)) {
        Ok(log) => log,
        Err(d) => {
            report.diverged.push(d);
            return Ok(report);
        }
    };
    report.entries = log.entries.len();
    for broken in log.broken() {
        let d = Diagnostic::new(PUBLICATION_LOG_FILE, broken.message);
        report.diverged.push(
            match broken.index.and_then(|i| Log::line_of(&log_text, i)) {
                Some(line) => d.at_line(line),
                None => d,
            },
        );
    }
    signature(source, &log_bytes, pinned, &mut report)?;
    for entry in &log.entries {
        for (lang, published) in &entry.text {
            let file = super::page_file(&published.page);
            let name = format!("{} ({lang})", entry.name());
            match source.get(&published.page)? {
                None => report.diverged.push(Diagnostic::new(
                    &file,
                    format!("{name}: the version page is gone"),
                )),
                Some(html) => {
                    report.pages += 1;
                    let html = String::from_utf8_lossy(&html);
                    match text::canonical(&html) {
                        None => report.diverged.push(Diagnostic::new(&file, format!("{name}: the page no longer marks its policy text (`{}`)", text::TEXT_ATTRIBUTE))),
                        Some(words) if text::digest(&words) != published.sha256 => report.diverged.push(Diagnostic::new(&file, format!("{name}: the policy text differs from what the log recorded as published"))),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    listed_versions(source, &log, &mut report)?;
    Ok(report)
}

fn signature(
    source: &Source,
    log: &[u8],
    pinned: Option<&minisign::PublicKey>,
    report: &mut Report,
) -> Result<(), String> {
    let published_key = match source.get(PUBLICATION_KEY_FILE)? {
        None => None,
        Some(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            match minisign::PublicKeyBox::from_string(&text).and_then(|b| b.into_public_key()) {
                Ok(key) => Some(key),
                Err(e) => {
                    report.diverged.push(Diagnostic::new(
                        PUBLICATION_KEY_FILE,
                        format!("not a minisign public key: {e}"),
                    ));
                    return Ok(());
                }
            }
        }
    };
    if let (Some(pinned), Some(published)) = (pinned, &published_key) {
        if pinned.to_base64() != published.to_base64() {
            report.diverged.push(Diagnostic::new(
                PUBLICATION_KEY_FILE,
                "the site publishes another key than the one given with --key",
            ));
        }
    }
    let key = pinned.or(published_key.as_ref());
    let signature = source
        .get(PUBLICATION_SIGNATURE_FILE)?
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    match (key, signature) {
        (None, None) => report.notes.push(
            "the log is not signed: its chain shows a changed entry, but not a log rewritten whole".into(),
        ),
        (None, Some(_)) => report.diverged.push(Diagnostic::new(
            PUBLICATION_KEY_FILE,
            "the log is signed, but the site publishes no key to check the signature with (give one with --key)",
        )),
        (Some(_), None) => report.diverged.push(Diagnostic::new(
            PUBLICATION_SIGNATURE_FILE,
            "the signature is missing: the site publishes a key, or one was given, but no signature of the log",
        )),
        (Some(key), Some(signature)) => match sign::verify(key, log, &signature) {
            Ok(()) => {
                report.signed_by = Some(key.to_base64());
                if pinned.is_none() {
                    report.notes.push(format!(
                        "the signature was checked with the key the site itself publishes ({PUBLICATION_KEY_FILE}); to be sure it is the owner's, get the key from them and give it with --key"
                    ));
                }
            }
            Err(why) => report.diverged.push(Diagnostic::new(
                PUBLICATION_SIGNATURE_FILE,
                format!("the signature does not match {PUBLICATION_LOG_FILE} ({why})"),
            )),
        },
    }
    Ok(())
}

/// Every version the site lists (`api/<policy>/versions.json`) is in the
/// log, and every version the log records is still listed.
fn listed_versions(source: &Source, log: &Log, report: &mut Report) -> Result<(), String> {
    let mut recorded: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for entry in &log.entries {
        recorded
            .entry(&entry.policy)
            .or_default()
            .insert(&entry.date);
    }
    for (policy, dates) in recorded {
        let path = format!("api/{policy}/versions.json");
        let Some(bytes) = source.get(&path)? else {
            report.notes.push(format!("{path} is not published: whether the site shows versions the log does not record was not checked"));
            continue;
        };
        let listed: Option<Vec<String>> = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| {
                v["versions"].as_array().map(|vs| {
                    vs.iter()
                        .filter_map(|v| v["date"].as_str().map(str::to_string))
                        .collect()
                })
            });
        let Some(listed) = listed else {
            report.diverged.push(Diagnostic::new(&path, "not a list of versions: the versions the site shows could not be compared with the log"));
            continue;
        };
        for date in listed.iter().filter(|d| !dates.contains(d.as_str())) {
            report.diverged.push(Diagnostic::new(
                &path,
                format!("{policy} {date} is published, but the publication log does not record it"),
            ));
        }
        for date in dates.iter().filter(|d| !listed.iter().any(|l| l == *d)) {
            report.diverged.push(Diagnostic::new(
                &path,
                format!(
                    "the publication log records {policy} {date}, but the site no longer lists it"
                ),
            ));
        }
    }
    Ok(())
}
