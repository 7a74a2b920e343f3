//! What every page of one language shares (strings, assets, the CSP, the
//! cookie inventory and the banner's file), computed once per build and
//! handed to each page kind in `pages`, and to `files` for the banner files.

use crate::content::{Policy, Version};
use crate::date::Date;
use crate::diff;
use crate::i18n::format_date;
use crate::markdown::Directive;
use crate::render::context::*;
use crate::render::{Env, Output};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use tera::Tera;

/// What every page in one language shares, computed once per build rather
/// than once per page.
pub(super) struct LanguageValues {
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
pub(super) struct SharedValues {
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

impl Shared {
    /// The cookie table's HTML in `lang`, made on first use.
    pub(super) fn cookie_table<E>(
        &self,
        lang: &str,
        make: impl FnOnce() -> Result<String, E>,
    ) -> Result<String, E> {
        if let Some(html) = self.0.cookie_tables.lock().expect("not poisoned").get(lang) {
            return Ok(html.clone());
        }
        let html = make()?;
        let mut tables = self.0.cookie_tables.lock().expect("not poisoned");
        tables.insert(lang.to_string(), html.clone());
        Ok(html)
    }
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

/// The banner files, one per language with a banner, and each one's
/// receipt notice.
pub(super) fn banner_files(env: &Env) -> Vec<Output> {
    let mut files: Vec<Output> = env
        .shared
        .0
        .banners
        .get()
        .map(|b| b.values().map(|f| f.output.clone()).collect())
        .unwrap_or_default();
    let policy = env
        .site
        .config
        .consent
        .as_ref()
        .and_then(|c| env.site.policy(&c.policy));
    if let (Some(policy), Some(banners)) = (policy, env.shared.0.banners.get()) {
        let current = &policy.versions[policy.current_index(env.today)];
        files.extend(
            banners
                .keys()
                .filter_map(|lang| receipt_notice(env, policy, current, lang))
                .map(|f| f.output),
        );
    }
    files
}

/// What the consent receipt holds before a choice fills it in (see
/// `proof::receipt`), in a file of its own per language, named after its
/// content: static/consent/receipt.js fetches it when the settings open.
struct ReceiptNotice {
    output: Output,
    url: String,
    integrity: String,
}

fn receipt_notice(
    env: &Env,
    policy: &Policy,
    current: &Version,
    lang: &str,
) -> Option<ReceiptNotice> {
    let notice = crate::proof::receipt::notice(
        &env.site.config,
        env.proof.map(|p| &p.log),
        &policy.slug,
        &current.date.to_string(),
        lang,
    )?;
    let bytes = notice.to_string().into_bytes();
    let sha = sha2::Sha384::digest(&bytes);
    let hex: String = sha[..5].iter().map(|b| format!("{b:02x}")).collect();
    let file = format!("consent/receipt.{lang}.{hex}.json");
    Some(ReceiptNotice {
        url: env.urls.asset(&file),
        integrity: crate::assets::integrity_of(&sha),
        output: Output { file, bytes },
    })
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
                let dir = env.site.root.join(crate::vocabulary::TEMPLATES_DIR);
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

pub(super) fn shared<'e>(env: &'e Env, lang: &str) -> &'e LanguageValues {
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
        let csp = content_security_policy(env)
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

pub(super) fn t(env: &Env, lang: &str) -> SharedValue {
    shared(env, lang).t.clone()
}

pub(super) fn text<'a>(env: &'a Env, lang: &str, key: &str) -> &'a str {
    env.strings[lang]["site"]
        .get(key)
        .map(String::as_str)
        .unwrap_or("")
}

pub(super) fn date_text(env: &Env, lang: &str, date: Date) -> String {
    format_date(date, &env.strings[lang])
}

/// The context every page of `lang` starts from.
pub(super) fn language_context(env: &Env, lang: &str) -> LanguageContext {
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

pub(super) fn site_view(env: &Env, lang: &str) -> SiteView {
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

pub(super) fn origin(config: &crate::config::Config) -> String {
    let base = config.base_url_trimmed();
    base.strip_suffix(&config.base_path())
        .unwrap_or(base)
        .to_string()
}

/// The banner's view: the inventory in this language, plus what re-consent
/// needs from the policy's versions. `null` when the site has no inventory.
pub(super) fn consent(env: &Env, lang: &str) -> Value {
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
    if let Some(file) = receipt_notice(env, policy, current, lang) {
        view["receipt"] = json!({ "url": file.url, "integrity": file.integrity });
    }
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
pub(super) fn cookies_url(env: &Env, policy: &Policy, version: &Version, lang: &str) -> String {
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

pub(super) fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{host}"))
}

/// The Content-Security-Policy every page is served with (Netlify and
/// Cloudflare Pages read `_headers`; other servers can copy the line).
pub fn content_security_policy(env: &Env) -> String {
    let mut connect = vec!["'self'".to_string()];
    let mut form = vec!["'self'".to_string()];
    for url in [&env.endpoints.requests, &env.endpoints.consent]
        .into_iter()
        .flatten()
    {
        if let Some(origin) = origin_of(url) {
            if !connect.contains(&origin) {
                connect.push(origin);
            }
        }
    }
    if let Some(origin) = env.endpoints.requests.as_deref().and_then(origin_of) {
        form.push(origin);
    }
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src {}; form-action {}; frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
        connect.join(" "),
        form.join(" ")
    )
}
