//! A version's page: its sections with their widgets (forms, cookie table), the notices of upcoming versions, and the policy's links.

use super::forms::{form_context, FormPlace};
use super::{common, page_with_base};
use crate::content::Status;
use crate::content::{Policy, Section, Version};
use crate::markdown::{Directive, Fragment};
use crate::render::context::*;
use crate::render::shared::{date_text, t};
use crate::render::{Env, Page};
use serde::Serialize;
use serde_json::Value;
use tera::Tera;

/// A version's page; `as_current` renders it at the policy's own URL.
pub(super) fn version_page(
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
pub(super) fn upcoming_links(env: &Env, policy: &Policy, lang: &str) -> Vec<UpcomingLink> {
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
pub(super) fn in_force_language<'a>(current: &Version, lang: &'a str, default: &'a str) -> &'a str {
    if current.translations.contains_key(lang) {
        lang
    } else {
        default
    }
}

pub(super) fn policy_links(env: &Env, policy: &Policy, lang: &str) -> PolicyLinks {
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
pub(super) fn section_views(
    env: &Env,
    tera: &Tera,
    (policy, version, lang): (&Policy, &Version, &str),
    inserts: &mut Vec<String>,
) -> Result<(Option<Preamble>, Vec<SectionView>), crate::error::Diagnostics> {
    let mut preamble = None;
    let mut sections = Vec::new();
    for s in &version.translations[lang].sections {
        let html = crate::render::hold(inserts, section_html(env, tera, s, lang, policy, version)?);
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

pub(super) fn version_view(
    env: &Env,
    policy: &Policy,
    version: &Version,
    lang: &str,
) -> VersionView {
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
pub(super) fn section_html(
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
pub(super) fn cookie_table(
    env: &Env,
    tera: &Tera,
    lang: &str,
    section: &Section,
) -> Result<String, crate::error::Diagnostics> {
    env.shared.cookie_table(lang, || {
        let context = CookieTablePartial {
            lang: lang.to_string(),
            t: t(env, lang),
            consent: consent_inventory(env, lang),
        };
        render_partial(env, tera, "partials/cookie_table.html", &context, section)
    })
}

pub(super) fn consent_inventory(env: &Env, lang: &str) -> Value {
    match &env.site.config.consent {
        Some(c) => c.view(lang),
        None => Value::Null,
    }
}

pub(super) fn render_partial(
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
        let d = crate::render::templates::template_error(
            &env.site.root.join(crate::vocabulary::TEMPLATES_DIR),
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
