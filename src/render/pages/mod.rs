//! The list of pages and what each template receives. A page's context holds
//! only what that page shows (its version's sections, its languages), so the
//! work per page does not grow with the size of the site.

mod feed;
mod forms;
mod history;
mod home;
mod proof;
mod redline;
mod version;

use crate::content::{Policy, Section, Version};
use crate::date::Date;
use crate::diff;
use crate::render::context::*;
use crate::render::shared::*;
use crate::render::{Env, Page};
use feed::*;
use forms::*;
use history::*;
use home::*;
use proof::*;
use redline::*;
use serde::Serialize;
use tera::Tera;
use version::*;

/// One page (or two, for a redline published at two addresses) to render.
pub(super) enum Job<'s> {
    Root,
    NotFound,
    Language(&'s str),
    Version {
        policy: &'s Policy,
        index: usize,
        lang: &'s str,
        as_current: bool,
    },
    History(&'s Policy, &'s str),
    Feed(&'s Policy, &'s str),
    Changes {
        policy: &'s Policy,
        lang: &'s str,
        from: Date,
        to: Date,
    },
    Request(&'s str, String),
    Thanks(&'s str),
    PublicationLog(&'s str),
}

/// A job's name, the same from one build to the next (for `memo`).
pub(super) fn job_id(job: &Job) -> String {
    match job {
        Job::Root => "root".to_string(),
        Job::NotFound => "404".to_string(),
        Job::Language(lang) => format!("language/{lang}"),
        Job::Version {
            policy,
            index,
            lang,
            as_current,
        } => format!(
            "version/{}/{}/{lang}/{as_current}",
            policy.slug, policy.versions[*index].date
        ),
        Job::History(policy, lang) => format!("history/{}/{lang}", policy.slug),
        Job::Feed(policy, lang) => format!("feed/{}/{lang}", policy.slug),
        Job::Changes {
            policy,
            lang,
            from,
            to,
        } => format!("changes/{}/{lang}/{from}/{to}", policy.slug),
        Job::Request(lang, right) => format!("request/{lang}/{right}"),
        Job::Thanks(lang) => format!("thanks/{lang}"),
        Job::PublicationLog(lang) => format!("publication-log/{lang}"),
    }
}

/// What a job's pages are made from, as one number: the site-wide inputs
/// (`site`, see `memo`) and the sections, in the page's language, of the
/// versions the pages show (a version page shows one, a redline two, a
/// history or feed lists every redline's counts).
pub(super) fn job_key(job: &Job, site: u64) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    site.hash(&mut hasher);
    let (lang, shown): (&str, Vec<&Version>) = match job {
        Job::Version {
            policy,
            index,
            lang,
            ..
        } => (lang, vec![&policy.versions[*index]]),
        Job::Changes {
            policy,
            lang,
            from,
            to,
        } => (
            lang,
            [*from, *to]
                .iter()
                .filter_map(|d| policy.version(*d))
                .collect(),
        ),
        Job::History(policy, lang) | Job::Feed(policy, lang) => {
            (lang, policy.versions.iter().map(|v| &**v).collect())
        }
        _ => ("", Vec::new()),
    };
    for version in shown {
        version
            .translations
            .get(lang)
            .map(|t| t.digest)
            .hash(&mut hasher);
    }
    hasher.finish()
}

/// The policy a job's pages belong to, if any.
pub(super) fn job_policy(job: &Job) -> Option<String> {
    match job {
        Job::Version { policy, .. }
        | Job::Changes { policy, .. }
        | Job::History(policy, _)
        | Job::Feed(policy, _) => Some(policy.slug.clone()),
        _ => None,
    }
}

/// What all of a policy's pages are made from, as one number: the site-wide
/// inputs and every translation of every version.
pub(super) fn policy_key(policy: &Policy, site: u64) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (site, &policy.slug).hash(&mut hasher);
    for version in &policy.versions {
        version.date.hash(&mut hasher);
        for translation in version.translations.values() {
            translation.digest.hash(&mut hasher);
        }
    }
    hasher.finish()
}

/// The redline a job makes, whose counts the history and feed read.
pub(super) fn job_pair(job: &Job) -> Option<super::Pair> {
    match job {
        Job::Changes { lang, from, to, .. } => Some((lang.to_string(), *from, *to)),
        _ => None,
    }
}

/// The pages that belong to no policy: home, 404, language indexes, the
/// request forms and their thanks page. The list of jobs is cheap; pages are
/// built from it in parallel.
pub(super) fn site_jobs<'s>(env: &Env<'s>) -> Vec<Job<'s>> {
    let site = env.site;
    let mut jobs = vec![Job::Root, Job::NotFound];
    let has_forms = env.endpoints.requests.is_some() && site.sections().any(Section::has_form);
    for lang in &site.config.languages {
        jobs.push(Job::Language(lang));
        if has_forms {
            for right in &env.catalogue.rights {
                jobs.push(Job::Request(lang, right.id.clone()));
            }
            jobs.push(Job::Thanks(lang));
        }
        if env.proof.is_some() {
            jobs.push(Job::PublicationLog(lang));
        }
    }
    jobs
}

/// A policy's redlines in every language: each version against its
/// predecessor, and each earlier version against the current one.
pub(super) fn redline_jobs<'s>(env: &Env<'s>, policy: &'s Policy) -> Vec<Job<'s>> {
    let mut jobs = Vec::new();
    for lang in &env.site.config.languages {
        for (from, to) in
            diff::published_pairs(policy, env.today, env.site.config.redlines_to_current)
        {
            if in_both(policy, lang, from, to) {
                jobs.push(Job::Changes {
                    policy,
                    lang,
                    from,
                    to,
                });
            }
        }
    }
    jobs
}

/// Whether both versions have a translation in `lang` (so a redline).
fn in_both(policy: &Policy, lang: &str, from: Date, to: Date) -> bool {
    [from, to].iter().all(|d| {
        policy
            .version(*d)
            .is_some_and(|v| v.translations.contains_key(lang))
    })
}

/// A policy's versions, history and feed in every language (after its
/// redlines, whose word counts the history and feed list).
pub(super) fn policy_jobs<'s>(env: &Env<'s>, policy: &'s Policy) -> Vec<Job<'s>> {
    let mut jobs = Vec::new();
    for lang in &env.site.config.languages {
        let shown = policy.shown_index(lang, env.today);
        for (index, version) in policy.versions.iter().enumerate() {
            if !version.translations.contains_key(lang) {
                continue;
            }
            for as_current in [false, true] {
                if !as_current || Some(index) == shown {
                    jobs.push(Job::Version {
                        policy,
                        index,
                        lang,
                        as_current,
                    });
                }
            }
        }
        if policy
            .versions
            .iter()
            .any(|v| v.translations.contains_key(lang))
        {
            jobs.push(Job::History(policy, lang));
            jobs.push(Job::Feed(policy, lang));
        }
    }
    jobs
}

/// The page (or pages) one job produces, with their contexts.
pub(super) fn pages_of(
    env: &Env,
    tera: &Tera,
    job: Job,
) -> Result<Vec<Page>, crate::error::Diagnostics> {
    Ok(match job {
        Job::Root => vec![root_index(env)],
        Job::NotFound => vec![not_found(env)],
        Job::Language(lang) => vec![language_index(env, lang)],
        Job::Version {
            policy,
            index,
            lang,
            as_current,
        } => vec![version_page(env, tera, policy, index, lang, as_current)?],
        Job::History(policy, lang) => vec![history(env, policy, lang)],
        Job::Feed(policy, lang) => vec![feed(env, policy, lang)],
        Job::Changes {
            policy,
            lang,
            from,
            to,
        } => changes_pages(env, policy, lang, from, to),
        Job::Request(lang, right) => vec![request_page(env, tera, lang, &right)?],
        Job::Thanks(lang) => vec![thanks(env, lang)],
        Job::PublicationLog(lang) => vec![publication_log(env, lang)],
    })
}

/// A redline's page; the one against the current version is also published
/// at the from/to address, which "since the version I agreed to" links take
/// also when the two versions are neighbours.
fn changes_pages(env: &Env, policy: &Policy, lang: &str, from: Date, to: Date) -> Vec<Page> {
    let translation = |date: Date| {
        &policy
            .version(date)
            .expect("listed by redline_jobs")
            .translations[lang]
    };
    let d = env.diffs.diff(translation(from), translation(to), from, to);
    let page = changes(env, policy, lang, &d);
    let current = policy.versions[policy.current_index(env.today)].date;
    let between = env.urls.changes_between(lang, &policy.slug, from, to);
    if to == current && page.url != between {
        let twin = Page {
            url: between,
            template: page.template,
            context: page.context.clone(),
            inserts: page.inserts.clone(),
        };
        vec![twin, page]
    } else {
        vec![page]
    }
}

/// What every page's base template needs.
fn common(
    env: &Env,
    lang: &str,
    url: &str,
    alternates: Vec<(String, String)>,
    title: String,
) -> Base {
    let config = &env.site.config;
    let languages = alternates
        .into_iter()
        .map(|(code, url)| LanguageLink {
            name: env.strings[&code]["site"]["language_name"].clone(),
            current: code == lang,
            code,
            url,
        })
        .collect();
    Base {
        language: language_context(env, lang),
        page: PageView {
            url: url.to_string(),
            canonical: format!("{}{}", origin(config), url),
            title,
        },
        languages,
    }
}

/// A page built on `base.html`: the common context plus the page's own.
/// `inserts` are put into the page after it is minified; its context holds
/// placeholders.
fn page_with_base<T: Serialize>(
    url: String,
    template: &'static str,
    base: Base,
    own: T,
    inserts: Vec<String>,
) -> Page {
    let mut context = (*base.language.0).clone();
    context.extend(
        tera::Context::from_serialize(&WithBase { base, page: own })
            .expect("page contexts are structs"),
    );
    Page {
        url,
        template,
        context,
        inserts,
    }
}

fn page<T: Serialize>(url: String, template: &'static str, context: &T) -> Page {
    Page {
        url,
        template,
        context: tera::Context::from_serialize(context).expect("page contexts are structs"),
        inserts: Vec::new(),
    }
}

/// The same page in every language of the site, for the switcher.
fn in_every_language(env: &Env, url_of: impl Fn(&str) -> String) -> Vec<(String, String)> {
    env.site
        .config
        .languages
        .iter()
        .map(|l| (l.clone(), url_of(l)))
        .collect()
}
