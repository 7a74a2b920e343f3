//! A policy's history page: every version, with a chart of the words each one changed.

use super::version::version_view;
use super::{common, page_with_base};
use crate::content::Policy;
use crate::diff::present;
use crate::render::context::*;
use crate::render::shared::{date_text, text};
use crate::render::{Env, Page};

/// Words changed by each version against its predecessor, in this language.
pub(super) fn change_size(
    env: &Env,
    policy: &Policy,
    lang: &str,
    index: usize,
) -> Option<(usize, usize)> {
    let prev = policy.versions.get(index.checked_sub(1)?)?;
    env.diffs.size(lang, prev.date, policy.versions[index].date)
}

pub(super) fn history(env: &Env, policy: &Policy, lang: &str) -> Page {
    let slug = &policy.slug;
    let url = env.urls.history(lang, slug);
    let sizes: Vec<Option<(usize, usize)>> = (0..policy.versions.len())
        .map(|i| change_size(env, policy, lang, i))
        .collect();
    let versions = policy
        .versions
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, v)| v.translations.contains_key(lang))
        .map(|(i, v)| HistoryVersion {
            version: version_view(env, policy, v, lang),
            status: policy.status(i, env.today).as_str(),
            changes_url: sizes[i].map(|_| env.urls.changes(lang, slug, v.date)),
            words_added: sizes[i].map(|s| s.0),
            words_removed: sizes[i].map(|s| s.1),
            // Changes that are not words (links, punctuation…), so that a
            // version changing only those does not read as "+0/−0".
            marks: i
                .checked_sub(1)
                .and_then(|p| env.diffs.marks(lang, policy.versions[p].date, v.date))
                .map(|m| present::marks_text(&m, &env.strings[lang]["diff"])),
        })
        .collect();
    let chart = chart(policy, &sizes, env, lang);
    let alternates = env
        .site
        .config
        .languages
        .iter()
        .filter(|l| {
            policy
                .versions
                .iter()
                .any(|v| v.translations.contains_key(*l))
        })
        .map(|l| (l.clone(), env.urls.history(l, slug)))
        .collect();
    let title = format!(
        "{} — {}",
        policy.title_in(lang),
        text(env, lang, "history_title")
    );
    let own = HistoryPage {
        policy: HistoryLinks {
            slug: slug.clone(),
            title: policy.title_in(lang).to_string(),
            url: env.urls.policy(lang, slug),
            feed_url: env.urls.feed(lang, slug),
            versions_json: env.urls.versions_json(slug),
            publication_log_url: env.proof.map(|_| env.urls.publication_log(lang)),
        },
        versions,
        chart,
    };
    let base = common(env, lang, &url, alternates, title);
    page_with_base(url, "history.html", base, own, Vec::new())
}

/// Bars of words changed per version, as plain SVG shapes (no script).
pub(super) fn chart(
    policy: &Policy,
    sizes: &[Option<(usize, usize)>],
    env: &Env,
    lang: &str,
) -> Chart {
    let max = sizes
        .iter()
        .flatten()
        .map(|(a, r)| a + r)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let bar = 28.0;
    let gap = 8.0;
    let height = 80.0;
    let bars = policy
        .versions
        .iter()
        .zip(sizes)
        .enumerate()
        .map(|(i, (v, size))| {
            let (added, removed) = size.unwrap_or((0, 0));
            let h_added = (added as f64 / max * height).round();
            let h_removed = (removed as f64 / max * height).round();
            Bar {
                x: i as f64 * (bar + gap),
                width: bar,
                y_added: height - h_added - h_removed,
                h_added,
                y_removed: height - h_removed,
                h_removed,
                date: v.date.to_string(),
                date_text: date_text(env, lang, v.date),
                added,
                removed,
                first: size.is_none(),
            }
        })
        .collect();
    Chart {
        width: (policy.versions.len() as f64 * (bar + gap)).max(bar),
        height,
        bars,
    }
}
