//! The site's own pages: the home page, each language's index and the 404.

use super::{common, in_every_language, page_with_base};
use crate::render::context::*;
use crate::render::shared::{date_text, text};
use crate::render::{Env, Page};

pub(super) fn root_index(env: &Env) -> Page {
    let lang = env.site.config.default_language();
    let url = env.urls.root();
    let policies = env
        .site
        .policies
        .iter()
        .map(|p| IndexPolicy {
            slug: p.slug.clone(),
            title: p.title_in(lang).to_string(),
            languages: env
                .site
                .config
                .languages
                .iter()
                .filter(|l| p.shown_index(l, env.today).is_some())
                .map(|l| IndexLanguage {
                    code: l.clone(),
                    name: env.strings[l]["site"]["language_name"].clone(),
                    title: p.title_in(l).to_string(),
                    url: env.urls.policy(l, &p.slug),
                })
                .collect(),
        })
        .collect();
    let alternates = in_every_language(env, |l| env.urls.language(l));
    let title = env.site.config.title.get(lang).cloned().unwrap_or_default();
    let base = common(env, lang, &url, alternates, title);
    page_with_base(url, "index.html", base, IndexPage { policies }, Vec::new())
}

pub(super) fn language_index(env: &Env, lang: &str) -> Page {
    let url = env.urls.language(lang);
    let policies = env
        .site
        .policies
        .iter()
        .filter_map(|p| {
            let v = &p.versions[p.shown_index(lang, env.today)?];
            Some(LanguagePolicy {
                slug: p.slug.clone(),
                title: p.title_in(lang).to_string(),
                url: env.urls.policy(lang, &p.slug),
                date: v.date.to_string(),
                date_text: date_text(env, lang, v.date),
                history_url: env.urls.history(lang, &p.slug),
            })
        })
        .collect();
    let alternates = in_every_language(env, |l| env.urls.language(l));
    let title = env.site.config.title.get(lang).cloned().unwrap_or_default();
    let base = common(env, lang, &url, alternates, title);
    page_with_base(
        url,
        "language.html",
        base,
        LanguagePage { policies },
        Vec::new(),
    )
}

pub(super) fn not_found(env: &Env) -> Page {
    let lang = env.site.config.default_language();
    let url = env.urls.asset("404.html");
    let alternates = in_every_language(env, |l| env.urls.language(l));
    let title = text(env, lang, "not_found_title").to_string();
    let base = common(env, lang, &url, alternates, title);
    page_with_base(url, "404.html", base, NoFields {}, Vec::new())
}
