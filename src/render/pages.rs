//! The list of pages and what each template receives. A page's context holds
//! only what that page shows (its version's sections, its languages), so the
//! work per page does not grow with the size of the site.

use super::context::*;
use super::{Env, Output, Page};
use crate::content::Status;
use crate::content::{Policy, Section, Version};
use crate::date::Date;
use crate::diff::{self, present, SectionChange, VersionDiff};
use crate::i18n::format_date;
use crate::markdown::{Directive, Fragment};
use crate::rights;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use tera::Tera;

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

/// What every page in one language shares, computed once per build rather
/// than once per page.
struct LanguageValues {
    t: SharedValue,
    consent: SharedValue,
    assets: SharedValue,
    csp: SharedValue,
}

/// The per-language values and widgets, filled on first use and shared by
/// every page (also across the per-policy passes of a build, hence the `Arc`).
#[derive(Default, Clone)]
pub struct Shared(std::sync::Arc<SharedValues>);

#[derive(Default)]
struct SharedValues {
    languages: std::sync::OnceLock<BTreeMap<String, LanguageValues>>,
    /// The cookie table's HTML per language: the same in every section that shows it.
    cookie_tables: std::sync::Mutex<BTreeMap<String, String>>,
    /// The banner per language: its file (the same for every page), and
    /// the link pages carry to it.
    banners: std::sync::OnceLock<BTreeMap<String, BannerFile>>,
    /// [`LanguageBase`] per language as a template context (once the
    /// banners are made).
    contexts: std::sync::OnceLock<BTreeMap<String, LanguageContext>>,
}

/// One language's banner in a file of its own, named after its content so
/// that a browser may cache it for good.
#[derive(Debug, Clone)]
pub(super) struct BannerFile {
    pub output: Output,
    pub link: BannerLink,
}

impl BannerFile {
    fn new(env: &Env, lang: &str, html: String) -> BannerFile {
        let sha = sha2::Sha384::digest(html.as_bytes());
        let integrity = crate::assets::integrity_of(&sha);
        let hex: String = sha[..5].iter().map(|b| format!("{b:02x}")).collect();
        let file = format!("consent/banner.{lang}.{hex}.html");
        BannerFile {
            link: BannerLink {
                url: env.urls.asset(&file),
                integrity,
            },
            output: Output {
                file,
                bytes: html.into_bytes(),
            },
        }
    }
}

/// The banner files, one per language with a banner.
pub(super) fn banner_files(env: &Env) -> Vec<Output> {
    env.shared
        .0
        .banners
        .get()
        .map(|b| b.values().map(|f| f.output.clone()).collect())
        .unwrap_or_default()
}

/// Computes the shared values from the site in `env` (which holds the
/// consent policy), and renders the banner once per language.
pub(super) fn prepare_shared(env: &Env, tera: &Tera) -> Result<(), crate::error::Diagnostics> {
    let mut banners = BTreeMap::new();
    for lang in &env.site.config.languages {
        let values = shared(env, lang);
        let html = if values.consent.is_null() {
            String::new()
        } else {
            let context = BannerPartial {
                lang: lang.clone(),
                t: values.t.clone(),
                site: site_view(env, lang),
                assets: values.assets.clone(),
                consent: values.consent.clone(),
            };
            let name = "partials/banner.html";
            let context = tera::Context::from_serialize(&context).expect("a struct");
            let html = tera.render(name, &context).map_err(|e| {
                let dir = env.site.root.join(super::templates::TEMPLATES_DIR);
                super::templates::template_error(&dir, name, &e).relative_to(&env.site.root)
            })?;
            if env.minify {
                String::from_utf8(crate::output::minify(html.as_bytes())).expect("minified UTF-8")
            } else {
                html
            }
        };
        if !html.trim().is_empty() {
            banners.insert(lang.clone(), BannerFile::new(env, lang, html));
        }
    }
    // Called once per build (`render::prepare`); were it called again, the
    // first banners would stay.
    let _ = env.shared.0.banners.set(banners);
    Ok(())
}

fn shared<'e>(env: &'e Env, lang: &str) -> &'e LanguageValues {
    let all = env.shared.0.languages.get_or_init(|| {
        let mut assets = serde_json::Map::new();
        for (key, path) in crate::assets::LINKED {
            assets.insert(
                key.to_string(),
                json!({"url": env.urls.asset(path), "integrity": env.assets.integrity(path)}),
            );
        }
        let assets = SharedValue::new(Value::Object(assets));
        // Also as a <meta> for hosts that ignore `_headers` (GitHub Pages);
        // `frame-ancestors` only works as a header, so it is left out there.
        let csp = super::files::content_security_policy(env)
            .split("; ")
            .filter(|d| !d.starts_with("frame-ancestors"))
            .collect::<Vec<_>>()
            .join("; ");
        let csp = SharedValue::new(Value::String(csp));
        env.site
            .config
            .languages
            .iter()
            .map(|l| {
                let t = serde_json::to_value(&env.strings[l]).expect("strings serialise");
                (
                    l.clone(),
                    LanguageValues {
                        t: SharedValue::new(t),
                        consent: SharedValue::new(consent(env, l)),
                        assets: assets.clone(),
                        csp: csp.clone(),
                    },
                )
            })
            .collect()
    });
    &all[lang]
}

fn t(env: &Env, lang: &str) -> SharedValue {
    shared(env, lang).t.clone()
}

fn text<'a>(env: &'a Env, lang: &str, key: &str) -> &'a str {
    env.strings[lang]["site"]
        .get(key)
        .map(String::as_str)
        .unwrap_or("")
}

fn date_text(env: &Env, lang: &str, date: Date) -> String {
    format_date(date, &env.strings[lang])
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

/// The context every page of `lang` starts from.
fn language_context(env: &Env, lang: &str) -> LanguageContext {
    let all = env.shared.0.contexts.get_or_init(|| {
        let banners = env.shared.0.banners.get();
        env.site
            .config
            .languages
            .iter()
            .map(|l| {
                let values = shared(env, l);
                let base = LanguageBase {
                    lang: l.clone(),
                    t: values.t.clone(),
                    site: site_view(env, l),
                    assets: values.assets.clone(),
                    csp: values.csp.clone(),
                    consent: values.consent.clone(),
                    banner: banners.and_then(|b| b.get(l)).map(|f| f.link.clone()),
                };
                (l.clone(), LanguageContext::new(&base))
            })
            .collect()
    });
    all[lang].clone()
}

fn site_view(env: &Env, lang: &str) -> SiteView {
    let config = &env.site.config;
    SiteView {
        title: config.title.get(lang).cloned().unwrap_or_default(),
        base_url: config.base_url_trimmed().to_string(),
        origin: origin(config),
        default_language: config.default_language().to_string(),
        home: env.urls.root(),
        language_home: env.urls.language(lang),
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

fn origin(config: &crate::config::Config) -> String {
    let base = config.base_url_trimmed();
    base.strip_suffix(&config.base_path())
        .unwrap_or(base)
        .to_string()
}

/// The banner's view: the inventory in this language, plus what re-consent
/// needs from the policy's versions. `null` when the site has no inventory.
fn consent(env: &Env, lang: &str) -> Value {
    let (Some(config), Some(endpoint)) = (&env.site.config.consent, &env.endpoints.consent) else {
        return Value::Null;
    };
    let Some(policy) = env.site.policy(&config.policy) else {
        return Value::Null;
    };
    let current = &policy.versions[policy.current_index(env.today)];
    // The newest material version in force is all the banner needs: a choice
    // made before it is asked again, whatever came in between.
    let material: Vec<String> = policy
        .versions
        .iter()
        .rev()
        .find(|v| v.material && v.date <= current.date)
        .map(|v| v.date.to_string())
        .into_iter()
        .collect();
    let mut view = config.view(lang);
    let banner = &env.strings[lang]["banner"];
    let mut hasher = Sha256::new();
    for (key, value) in banner {
        hasher.update(key.as_bytes());
        hasher.update(value.as_bytes());
    }
    hasher.update(view["categories"].to_string().as_bytes());
    let extra = json!({
        "endpoint": endpoint,
        "version": current.date.to_string(),
        "material_versions": material,
        "changes_base": env.urls.changes_base(lang, &policy.slug),
        // Choices made on a version older than this link to the history
        // from that version on instead of a redline of their own.
        "changes_since": diff::oldest_against_current(policy, env.today, env.site.config.redlines_to_current)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        "history_url": env.urls.history(lang, &policy.slug),
        "policy_url": cookies_url(env, policy, current, lang),
        "banner_hash": crate::vocabulary::hex(&hasher.finalize()),
    });
    if let (Some(v), Value::Object(e)) = (view.as_object_mut(), extra) {
        v.extend(e);
    }
    view
}

/// Where the banner's "how we use cookies" link goes: the section holding
/// the cookie table, or else the top of the policy.
fn cookies_url(env: &Env, policy: &Policy, version: &Version, lang: &str) -> String {
    let page = env.urls.policy(lang, &policy.slug);
    let section = version.translations.get(lang).and_then(|t| {
        t.sections
            .iter()
            .find(|s| s.directives().any(|d| *d == Directive::CookieTable))
    });
    match section {
        Some(s) => format!("{page}#{}", s.id),
        None => page,
    }
}

fn root_index(env: &Env) -> Page {
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

fn language_index(env: &Env, lang: &str) -> Page {
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

fn not_found(env: &Env) -> Page {
    let lang = env.site.config.default_language();
    let url = env.urls.asset("404.html");
    let alternates = in_every_language(env, |l| env.urls.language(l));
    let title = text(env, lang, "not_found_title").to_string();
    let base = common(env, lang, &url, alternates, title);
    page_with_base(url, "404.html", base, NoFields {}, Vec::new())
}

/// A version's page; `as_current` renders it at the policy's own URL.
fn version_page(
    env: &Env,
    tera: &Tera,
    policy: &Policy,
    index: usize,
    lang: &str,
    as_current: bool,
) -> Result<Page, crate::error::Diagnostics> {
    let version = &policy.versions[index];
    let current_index = policy.current_index(env.today);
    let slug = &policy.slug;
    let url = if as_current {
        env.urls.policy(lang, slug)
    } else {
        env.urls.version(lang, slug, version.date)
    };
    // At the policy's address, other languages' policy addresses show the
    // same version only when it is the one in force.
    let alternates = version
        .translations
        .keys()
        .map(|l| {
            (
                l.clone(),
                if l == lang {
                    url.clone()
                } else if as_current && index == current_index {
                    env.urls.policy(l, slug)
                } else {
                    env.urls.version(l, slug, version.date)
                },
            )
        })
        .collect();
    let translation = &version.translations[lang];
    let mut inserts = Vec::new();
    let (preamble, sections) = section_views(env, tera, (policy, version, lang), &mut inserts)?;
    let current = &policy.versions[current_index];
    let status = policy.status(index, env.today);
    let upcoming = match status {
        Status::Current => upcoming_links(env, policy, lang),
        _ => Vec::new(),
    };
    let previous = index
        .checked_sub(1)
        .map(|p| &policy.versions[p])
        .filter(|p| p.translations.contains_key(lang));
    let title = policy.title_in(lang).to_string();
    let own = PolicyPage {
        policy: policy_links(env, policy, lang),
        version: version_view(env, policy, version, lang),
        status: status.as_str(),
        is_current_url: as_current,
        current: CurrentLink {
            date: current.date.to_string(),
            // In the default language when this one has no version in force yet.
            url: env.urls.policy(
                in_force_language(current, lang, env.site.config.default_language()),
                slug,
            ),
            date_text: date_text(env, lang, current.date),
        },
        changes_url: previous.map(|_| env.urls.changes(lang, slug, version.date)),
        previous: previous.map(|p| DateLink {
            date: p.date.to_string(),
            url: env.urls.version(lang, slug, p.date),
        }),
        upcoming,
        preamble,
        sections,
        has_forms: translation.sections.iter().any(Section::has_form),
    };
    let base = common(env, lang, &url, alternates, title);
    Ok(page_with_base(url, "policy.html", base, own, inserts))
}

/// The versions announced after the one in force, in `lang`.
fn upcoming_links(env: &Env, policy: &Policy, lang: &str) -> Vec<UpcomingLink> {
    policy
        .upcoming(env.today)
        .iter()
        .filter(|u| u.translations.contains_key(lang))
        .map(|u| UpcomingLink {
            date: u.date.to_string(),
            effective_text: date_text(env, lang, u.effective),
            url: env.urls.version(lang, &policy.slug, u.date),
            changes_url: env.urls.changes(lang, &policy.slug, u.date),
        })
        .collect()
}

/// `lang` when the version in force has it, else the default language.
fn in_force_language<'a>(current: &Version, lang: &'a str, default: &'a str) -> &'a str {
    if current.translations.contains_key(lang) {
        lang
    } else {
        default
    }
}

fn policy_links(env: &Env, policy: &Policy, lang: &str) -> PolicyLinks {
    let slug = &policy.slug;
    PolicyLinks {
        slug: slug.clone(),
        title: policy.title_in(lang).to_string(),
        url: env.urls.policy(lang, slug),
        history_url: env.urls.history(lang, slug),
        feed_url: env.urls.feed(lang, slug),
    }
}

/// A version's untitled preamble and numbered sections in one language,
/// with their widgets in place. Their HTML goes into `inserts`, and their
/// views hold placeholders.
fn section_views(
    env: &Env,
    tera: &Tera,
    (policy, version, lang): (&Policy, &Version, &str),
    inserts: &mut Vec<String>,
) -> Result<(Option<Preamble>, Vec<SectionView>), crate::error::Diagnostics> {
    let mut preamble = None;
    let mut sections = Vec::new();
    for s in &version.translations[lang].sections {
        let html = super::hold(inserts, section_html(env, tera, s, lang, policy, version)?);
        if s.is_preamble() {
            preamble = Some(Preamble {
                id: s.id.clone(),
                title: s.title.clone(),
                html,
            });
        } else {
            sections.push(SectionView {
                number: s.number,
                label: s.label(),
                id: s.id.clone(),
                title: s.title.clone(),
                html,
                subheadings: s
                    .rendered
                    .headings
                    .iter()
                    .map(|h| Subheading {
                        id: h.id.clone(),
                        text: h.text.clone(),
                    })
                    .collect(),
            });
        }
    }
    Ok((preamble, sections))
}

fn version_view(env: &Env, policy: &Policy, version: &Version, lang: &str) -> VersionView {
    VersionView {
        date: version.date.to_string(),
        date_text: date_text(env, lang, version.date),
        effective: version.effective.to_string(),
        effective_text: date_text(env, lang, version.effective),
        material: version.material,
        summary: version.summary.get(lang).cloned().unwrap_or_default(),
        url: env.urls.version(lang, &policy.slug, version.date),
    }
}

/// A section's HTML with its directives replaced by their widgets.
fn section_html(
    env: &Env,
    tera: &Tera,
    section: &Section,
    lang: &str,
    policy: &Policy,
    version: &Version,
) -> Result<String, crate::error::Diagnostics> {
    let mut html = String::new();
    for fragment in &section.rendered.fragments {
        match fragment {
            Fragment::Html(h) => html.push_str(h),
            Fragment::Directive(Directive::Form(right)) => {
                let index = policy.versions.iter().position(|v| v.date == version.date);
                let status = index.map(|i| policy.status(i, env.today));
                let place = if status == Some(Status::Archived) {
                    FormPlace::Archived
                } else {
                    FormPlace::Embedded
                };
                let context = form_context(env, lang, right, &policy.slug, version.date, place);
                html.push_str(&render_partial(
                    env,
                    tera,
                    "partials/form.html",
                    &context,
                    section,
                )?);
            }
            Fragment::Directive(Directive::CookieTable) => {
                html.push_str(&cookie_table(env, tera, lang, section)?);
            }
        }
    }
    Ok(html)
}

/// The cookie table in `lang`, rendered once per build.
fn cookie_table(
    env: &Env,
    tera: &Tera,
    lang: &str,
    section: &Section,
) -> Result<String, crate::error::Diagnostics> {
    if let Some(html) = env
        .shared
        .0
        .cookie_tables
        .lock()
        .expect("not poisoned")
        .get(lang)
    {
        return Ok(html.clone());
    }
    let context = CookieTablePartial {
        lang: lang.to_string(),
        t: t(env, lang),
        consent: consent_inventory(env, lang),
    };
    let html = render_partial(env, tera, "partials/cookie_table.html", &context, section)?;
    let mut tables = env.shared.0.cookie_tables.lock().expect("not poisoned");
    tables.insert(lang.to_string(), html.clone());
    Ok(html)
}

fn consent_inventory(env: &Env, lang: &str) -> Value {
    match &env.site.config.consent {
        Some(c) => c.view(lang),
        None => Value::Null,
    }
}

fn render_partial(
    env: &Env,
    tera: &Tera,
    name: &str,
    context: &impl Serialize,
    section: &Section,
) -> Result<String, crate::error::Diagnostics> {
    let context = tera::Context::from_serialize(context).expect("partial contexts are structs");
    // A widget is put into its page after the page is minified: minified
    // here (when pages are), it reads as if it had been minified with it.
    let minified = |html: String| {
        if env.minify {
            String::from_utf8(crate::output::minify(html.as_bytes())).expect("minified UTF-8")
        } else {
            html
        }
    };
    tera.render(name, &context).map(minified).map_err(|e| {
        let d = super::templates::template_error(
            &env.site.root.join(super::templates::TEMPLATES_DIR),
            name,
            &e,
        );
        let d = crate::error::Diagnostic {
            message: format!(
                "{} (while rendering the widget in {})",
                d.message,
                section.file.display()
            ),
            ..d
        };
        d.relative_to(&env.site.root).into()
    })
}

/// Where a form is shown: on its own page, in a policy in force (or
/// upcoming), or in an archived version (where only a link to its page is).
#[derive(Clone, Copy, PartialEq)]
enum FormPlace {
    Standalone,
    Embedded,
    Archived,
}

fn form_context(
    env: &Env,
    lang: &str,
    right_id: &str,
    policy: &str,
    version: Date,
    place: FormPlace,
) -> FormPartial {
    let catalogue = &env.catalogue;
    let right = catalogue
        .get(right_id)
        .expect("directives are checked when loading");
    FormPartial {
        lang: lang.to_string(),
        t: t(env, lang),
        form: FormView {
            right: rights::right_view(right, lang),
            common_fields: catalogue
                .common_fields
                .iter()
                .map(|f| rights::field_view(f, lang))
                .collect(),
            endpoint: env.endpoints.requests.clone().unwrap_or_default(),
            thanks_url: env.urls.thanks(lang),
            standalone_url: env.urls.request(lang, right_id),
            policy: policy.to_string(),
            version: version.to_string(),
            standalone: place == FormPlace::Standalone,
            archived: place == FormPlace::Archived,
            anchor: format!("form-{right_id}"),
        },
    }
}

fn request_page(
    env: &Env,
    tera: &Tera,
    lang: &str,
    right_id: &str,
) -> Result<Page, crate::error::Diagnostics> {
    let url = env.urls.request(lang, right_id);
    let policy_slug = env
        .site
        .config
        .consent
        .as_ref()
        .map(|c| c.policy.clone())
        .filter(|p| env.site.policy(p).is_some())
        .unwrap_or_else(|| env.site.policies[0].slug.clone());
    let policy = env.site.policy(&policy_slug).expect("exists");
    let version = policy.versions[policy.current_index(env.today)].date;
    let context = form_context(
        env,
        lang,
        right_id,
        &policy_slug,
        version,
        FormPlace::Standalone,
    );
    let form_html = tera
        .render(
            "partials/form.html",
            &tera::Context::from_serialize(&context).expect("a struct"),
        )
        .map_err(|e| {
            crate::error::Diagnostics::from(super::templates::template_error(
                &env.site.root.join("templates"),
                "partials/form.html",
                &e,
            ))
        })?;
    let alternates = in_every_language(env, |l| env.urls.request(l, right_id));
    let title = context.form.right["label"]
        .as_str()
        .unwrap_or(right_id)
        .to_string();
    let own = RequestPage {
        form: context.form,
        form_html,
        policy: TitleLink {
            title: policy.title_in(lang).to_string(),
            url: env.urls.policy(lang, &policy_slug),
        },
    };
    let base = common(env, lang, &url, alternates, title);
    Ok(page_with_base(url, "request.html", base, own, Vec::new()))
}

fn thanks(env: &Env, lang: &str) -> Page {
    let url = env.urls.thanks(lang);
    let alternates = in_every_language(env, |l| env.urls.thanks(l));
    let title = env.strings[lang]["forms"]
        .get("thanks_title")
        .cloned()
        .unwrap_or_default();
    let base = common(env, lang, &url, alternates, title);
    page_with_base(url, "thanks.html", base, NoFields {}, Vec::new())
}

/// Words changed by each version against its predecessor, in this language.
fn change_size(env: &Env, policy: &Policy, lang: &str, index: usize) -> Option<(usize, usize)> {
    let prev = policy.versions.get(index.checked_sub(1)?)?;
    env.diffs.size(lang, prev.date, policy.versions[index].date)
}

fn history(env: &Env, policy: &Policy, lang: &str) -> Page {
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
        },
        versions,
        chart,
    };
    let base = common(env, lang, &url, alternates, title);
    page_with_base(url, "history.html", base, own, Vec::new())
}

/// Bars of words changed per version, as plain SVG shapes (no script).
fn chart(policy: &Policy, sizes: &[Option<(usize, usize)>], env: &Env, lang: &str) -> Chart {
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

fn feed(env: &Env, policy: &Policy, lang: &str) -> Page {
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

fn changes(env: &Env, policy: &Policy, lang: &str, d: &VersionDiff) -> Page {
    let slug = &policy.slug;
    let is_predecessor_pair = policy
        .versions
        .windows(2)
        .any(|w| w[0].date == d.from && w[1].date == d.to);
    let address = |l: &str| {
        if is_predecessor_pair {
            env.urls.changes(l, slug, d.to)
        } else {
            env.urls.changes_between(l, slug, d.from, d.to)
        }
    };
    let url = address(lang);
    let (old_page, new_page) = (
        env.urls.version(lang, slug, d.from),
        env.urls.version(lang, slug, d.to),
    );
    let redline = present::Redline::new(d, &env.strings[lang]["diff"], &old_page, &new_page);
    let mut inserts = Vec::new();
    let sections: Vec<SectionChangeView> = d
        .sections
        .iter()
        .map(|s| {
            let mut view = section_change_view(env, policy, lang, d, s);
            let html = redline.section_html(s);
            let html = if env.minify && !html.is_empty() {
                String::from_utf8(crate::output::minify(html.as_bytes())).expect("minified UTF-8")
            } else {
                html
            };
            view.html = super::hold(&mut inserts, html);
            view
        })
        .collect();
    let changed: Vec<SectionChangeView> = sections
        .iter()
        .filter(|s| s.status != "unchanged")
        .cloned()
        .collect();
    let alternates = env
        .site
        .config
        .languages
        .iter()
        .filter(|l| in_both(policy, l, d.from, d.to))
        .map(|l| (l.clone(), address(l)))
        .collect();
    let title = format!(
        "{} — {} → {}",
        policy.title_in(lang),
        date_text(env, lang, d.from),
        date_text(env, lang, d.to)
    );
    let to = policy.version(d.to).expect("diffed versions exist");
    let from = policy.version(d.from).expect("diffed versions exist");
    let own = ChangesPage {
        policy: ChangesLinks {
            slug: slug.clone(),
            title: policy.title_in(lang).to_string(),
            url: env.urls.policy(lang, slug),
            history_url: env.urls.history(lang, slug),
        },
        from: version_view(env, policy, from, lang),
        to: version_view(env, policy, to, lang),
        changed_count: changed.len(),
        changed,
        sections,
        words_added: d.words_added,
        words_removed: d.words_removed,
        marks: present::marks_text(&d.marks, &env.strings[lang]["diff"]),
        unchanged: d.is_unchanged(),
    };
    let base = common(env, lang, &url, alternates, title);
    page_with_base(url, "changes.html", base, own, inserts)
}

/// One section of a redline: its status, numbers and titles (its marked-up
/// text is left for the caller to hold among the page's inserts).
fn section_change_view(
    env: &Env,
    policy: &Policy,
    lang: &str,
    d: &VersionDiff,
    s: &SectionChange,
) -> SectionChangeView {
    let status = match (&s.old, &s.new) {
        (None, _) => "added",
        (_, None) => "removed",
        _ if s.is_unchanged() => "unchanged",
        _ => "changed",
    };
    let anchor_url = match status {
        "removed" => format!("{}#{}", env.urls.version(lang, &policy.slug, d.from), s.id),
        _ => format!("{}#{}", env.urls.version(lang, &policy.slug, d.to), s.id),
    };
    SectionChangeView {
        id: s.id.clone(),
        number: s.number(),
        label: if s.number() == 0 {
            String::new()
        } else {
            format!("{:02}", s.number())
        },
        title: s.title().to_string(),
        status,
        moved: s.moved,
        renamed: s.renamed(),
        renumbered: s.renumbered(),
        old_label: s.old.as_ref().map(|(n, _)| format!("{n:02}")),
        old_title: s.old.as_ref().map(|(_, t)| t.clone()),
        words_added: s.words_added,
        words_removed: s.words_removed,
        marks: present::marks_text(&s.marks, &env.strings[lang]["diff"]),
        html: String::new(),
        url: anchor_url,
    }
}
