//! The publication log as a page, in each language: every recorded version
//! with its hashes, and how to check them (the log itself is published as
//! JSON beside it).

use super::{common, page_with_base};
use crate::render::context::*;
use crate::render::shared::{date_text, text};
use crate::render::{Env, Page};
use crate::vocabulary::{PUBLICATION_KEY_FILE, PUBLICATION_LOG_FILE, PUBLICATION_SIGNATURE_FILE};

pub(super) fn publication_log(env: &Env, lang: &str) -> Page {
    let published = env.proof.expect("listed only when the site keeps a log");
    let url = env.urls.publication_log(lang);
    let alternates = env
        .site
        .config
        .languages
        .iter()
        .map(|l| (l.clone(), env.urls.publication_log(l)))
        .collect();
    let entries = published
        .log
        .entries
        .iter()
        .rev()
        .map(|e| {
            let date = e.date.parse().ok();
            let effective = e.effective.parse().ok();
            LogEntryView {
                seq: e.seq,
                policy: e.policy.clone(),
                policy_title: env
                    .site
                    .policy(&e.policy)
                    .map_or_else(|| e.policy.clone(), |p| p.title_in(lang).to_string()),
                date: e.date.clone(),
                date_text: date.map_or_else(|| e.date.clone(), |d| date_text(env, lang, d)),
                effective_text: effective
                    .map_or_else(|| e.effective.clone(), |d| date_text(env, lang, d)),
                material: e.material,
                hash: e.hash.clone(),
                previous: e.previous.clone(),
                pages: e
                    .text
                    .iter()
                    .map(|(l, t)| LogPageView {
                        lang: l.clone(),
                        url: env.urls.asset(&t.page),
                        sha256: t.sha256.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    let own = PublicationLogPage {
        log_url: env.urls.asset(PUBLICATION_LOG_FILE),
        signature_url: published
            .signature
            .as_ref()
            .map(|_| env.urls.asset(PUBLICATION_SIGNATURE_FILE)),
        key_url: published
            .key_file
            .as_ref()
            .map(|_| env.urls.asset(PUBLICATION_KEY_FILE)),
        site_url: env.site.config.base_url_trimmed().to_string(),
        entries,
    };
    let title = text(env, lang, "log_title").to_string();
    let base = common(env, lang, &url, alternates, title);
    page_with_base(url, "publication-log.html", base, own, Vec::new())
}
