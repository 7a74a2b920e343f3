//! A policy's change feed (Atom).

use super::history::change_size;
use super::page;
use crate::content::Policy;
use crate::render::context::*;
use crate::render::shared::{date_text, origin, t, text};
use crate::render::{Env, Page};

pub(super) fn feed(env: &Env, policy: &Policy, lang: &str) -> Page {
    let slug = &policy.slug;
    let url = env.urls.feed(lang, slug);
    let base = origin(&env.site.config);
    let entries = policy
        .versions
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, v)| v.translations.contains_key(lang))
        .map(|(i, v)| {
            let link = if i > 0 && change_size(env, policy, lang, i).is_some() {
                env.urls.changes(lang, slug, v.date)
            } else {
                env.urls.version(lang, slug, v.date)
            };
            FeedEntry {
                id: format!("{base}{}", env.urls.version(lang, slug, v.date)),
                title: format!(
                    "{} — {}",
                    policy.title_in(lang),
                    date_text(env, lang, v.date)
                ),
                updated: v.date.rfc3339(),
                link: format!("{base}{link}"),
                summary: v.summary.get(lang).cloned().unwrap_or_default(),
                material: v.material,
            }
        })
        .collect();
    let updated = policy
        .versions
        .last()
        .map(|v| v.date.rfc3339())
        .unwrap_or_default();
    let context = FeedPage {
        lang: lang.to_string(),
        t: t(env, lang),
        feed: FeedHead {
            id: format!("{base}{url}"),
            self_url: format!("{base}{url}"),
            alternate: format!("{base}{}", env.urls.history(lang, slug)),
            title: format!(
                "{} — {}",
                policy.title_in(lang),
                text(env, lang, "history_title")
            ),
            updated,
            author: env.site.config.title.get(lang).cloned().unwrap_or_default(),
        },
        entries,
    };
    page(url, "feed.xml", &context)
}
