//! Outputs that are not pages: `sitemap.xml`, `robots.txt`, the `_headers`
//! file with the Content-Security-Policy, `versions.json` per policy, and,
//! when the site has a cookie banner, its markup per language and
//! `.well-known/gpc.json` (the banner honours GPC); the publication log,
//! its signature and key, and the Open Terms Archive declaration.

use super::shared::content_security_policy;
use super::{Env, Output};
use crate::diff::present::escape;
use crate::vocabulary::digest;
use serde_json::json;

pub fn all(env: &Env, page_urls: &[String]) -> Vec<Output> {
    let mut outputs = vec![robots(env), headers(env)];
    outputs.extend(gpc_json(env));
    outputs.extend(proof_files(env));
    outputs.extend(open_terms_archive(env));
    outputs.extend(super::shared::banner_files(env));
    // The big ones, made again only when what they list changed (`serve`).
    let page_list = digest(&page_urls);
    outputs.extend(remembered(env, "file/sitemap.xml", page_list, || {
        sitemap(env, page_urls)
    }));
    for policy in &env.site.policies {
        let sources: Vec<&str> = policy
            .versions
            .iter()
            .map(|v| v.sources_sha256.as_str())
            .collect();
        let sources = digest(&sources);
        let id = format!("file/versions/{}", policy.slug);
        outputs.extend(remembered(env, &id, sources, || versions_json(env, policy)));
    }
    outputs
}

/// `make()`'s file; with a memo (`serve`), kept there under `id` and the
/// key of the site-wide inputs and `inputs`, and made again only when they
/// changed (the memo then serves it, so nothing is returned).
fn remembered(env: &Env, id: &str, inputs: u64, make: impl FnOnce() -> Output) -> Option<Output> {
    let Some((memo, site)) = env.memo else {
        return Some(make());
    };
    let key = digest(&(site, inputs));
    if memo.reuse(id, key).is_none() {
        let output = make();
        memo.store(
            (id.to_string(), None),
            key,
            &[output],
            Vec::new(),
            Vec::new(),
        );
    }
    None
}

fn origin_and_base(env: &Env) -> String {
    let base = env.site.config.base_url_trimmed();
    base.strip_suffix(&env.site.config.base_path())
        .unwrap_or(base)
        .to_string()
}

fn sitemap(env: &Env, page_urls: &[String]) -> Output {
    let origin = origin_and_base(env);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for url in page_urls.iter().filter(|u| u.ends_with('/')) {
        xml.push_str(&format!(
            "  <url><loc>{}</loc></url>\n",
            escape(&format!("{origin}{url}"))
        ));
    }
    xml.push_str("</urlset>\n");
    Output {
        file: "sitemap.xml".into(),
        bytes: xml.into_bytes(),
    }
}

fn robots(env: &Env) -> Output {
    let text = format!(
        "User-agent: *\nAllow: /\n\nSitemap: {}/sitemap.xml\n",
        env.site.config.base_url_trimmed()
    );
    Output {
        file: "robots.txt".into(),
        bytes: text.into_bytes(),
    }
}

/// The W3C Global Privacy Control support resource: the banner treats the
/// signal as a refusal of optional cookies. `lastUpdate` is the date of the
/// consent policy's version in force, which describes that behaviour.
fn gpc_json(env: &Env) -> Option<Output> {
    let consent = env.site.config.consent.as_ref()?;
    let policy = env
        .site
        .policy(&consent.policy)
        .or(env.site.policies.first())?;
    let date = policy.versions[policy.current_index(env.today)].date;
    let mut bytes =
        serde_json::to_vec_pretty(&json!({"gpc": true, "lastUpdate": date.to_string()}))
            .expect("json");
    bytes.push(b'\n');
    Some(Output {
        file: ".well-known/gpc.json".into(),
        bytes,
    })
}

/// The origin (`https://host:port`) of an endpoint URL.
fn headers(env: &Env) -> Output {
    let base = env.site.config.base_path();
    let mut text = format!(
        "{base}/*\n  Content-Security-Policy: {}\n  Referrer-Policy: strict-origin-when-cross-origin\n  X-Content-Type-Options: nosniff\n  Permissions-Policy: interest-cohort=()\n",
        content_security_policy(env)
    );
    if env.site.config.consent.is_some() {
        // The banner's markup is a fragment of every page, not a page to find.
        text.push_str(&format!("{base}/consent/*\n  X-Robots-Tag: noindex\n"));
    }
    Output {
        file: "_headers".into(),
        bytes: text.into_bytes(),
    }
}

fn versions_json(env: &Env, policy: &crate::content::Policy) -> Output {
    let origin = origin_and_base(env);
    let current = policy.current_index(env.today);
    let versions: Vec<_> = policy
        .versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut links = serde_json::Map::new();
            for lang in v.translations.keys() {
                // No redline in a language the previous version did not have yet.
                let redlined = i > 0 && policy.versions[i - 1].translations.contains_key(lang);
                let changes = redlined.then(|| format!("{origin}{}", env.urls.changes(lang, &policy.slug, v.date)));
                links.insert(lang.clone(), json!({"page": format!("{origin}{}", env.urls.version(lang, &policy.slug, v.date)), "changes": changes}));
            }
            json!({
                "date": v.date.to_string(),
                "effective": v.effective.to_string(),
                "material": v.material,
                "status": policy.status(i, env.today).as_str(),
                "summary": v.summary,
                "languages": v.translations.keys().collect::<Vec<_>>(),
                "links": links,
                "sources_sha256": v.sources_sha256,
            })
        })
        .collect();
    let doc = json!({
        "policy": policy.slug,
        "title": policy.title,
        "current": policy.versions[current].date.to_string(),
        "versions": versions,
    });
    let mut bytes = serde_json::to_vec_pretty(&doc).expect("json");
    bytes.push(b'\n');
    Output {
        file: env.urls.file_of(&env.urls.versions_json(&policy.slug)),
        bytes,
    }
}

/// The publication log byte for byte, its signature when it verifies, and
/// the public key as a minisign `.pub` file.
fn proof_files(env: &Env) -> Vec<Output> {
    use crate::vocabulary::{
        PUBLICATION_KEY_FILE, PUBLICATION_LOG_FILE, PUBLICATION_SIGNATURE_FILE,
    };
    let Some(published) = env.proof else {
        return Vec::new();
    };
    let mut outputs = vec![Output {
        file: PUBLICATION_LOG_FILE.to_string(),
        bytes: published.text.clone().into_bytes(),
    }];
    if let Some(signature) = &published.signature {
        outputs.push(Output {
            file: PUBLICATION_SIGNATURE_FILE.to_string(),
            bytes: signature.clone().into_bytes(),
        });
    }
    if let Some(key) = &published.key_file {
        outputs.push(Output {
            file: PUBLICATION_KEY_FILE.to_string(),
            bytes: key.clone().into_bytes(),
        });
    }
    outputs
}

/// The declaration of every policy with a `terms_type`, fetched at the
/// address that always shows its version in force, in the default language.
fn open_terms_archive(env: &Env) -> Option<Output> {
    use crate::proof::ota;
    let config = &env.site.config;
    let lang = config.default_language();
    let origin = origin_and_base(env);
    let tracked: Vec<ota::Tracked> = env
        .site
        .policies
        .iter()
        .filter_map(|p| {
            Some(ota::Tracked {
                terms_type: p.terms_type.clone()?,
                fetch: format!("{origin}{}", env.urls.policy(lang, &p.slug)),
            })
        })
        .collect();
    if tracked.is_empty() {
        return None;
    }
    let name = config
        .controller
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_else(|| config.title.get(lang).cloned().unwrap_or_default());
    let mut bytes = serde_json::to_vec_pretty(&ota::declaration(&name, &tracked)).expect("json");
    bytes.push(b'\n');
    Some(Output {
        file: crate::vocabulary::OPEN_TERMS_ARCHIVE_FILE.to_string(),
        bytes,
    })
}
