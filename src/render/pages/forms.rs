//! The rights-request forms: in a policy, on a page of their own, and the thanks page.

use super::{common, in_every_language, page_with_base};
use crate::date::Date;
use crate::render::context::*;
use crate::render::shared::t;
use crate::render::{Env, Page};
use crate::rights;
use tera::Tera;

/// Where a form is shown: on its own page, in a policy in force (or
/// upcoming), or in an archived version (where only a link to its page is).
#[derive(Clone, Copy, PartialEq)]
pub(super) enum FormPlace {
    Standalone,
    Embedded,
    Archived,
}

pub(super) fn form_context(
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

pub(super) fn request_page(
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
            crate::error::Diagnostics::from(crate::render::templates::template_error(
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

pub(super) fn thanks(env: &Env, lang: &str) -> Page {
    let url = env.urls.thanks(lang);
    let alternates = in_every_language(env, |l| env.urls.thanks(l));
    let title = env.strings[lang]["forms"]
        .get("thanks_title")
        .cloned()
        .unwrap_or_default();
    let base = common(env, lang, &url, alternates, title);
    page_with_base(url, "thanks.html", base, NoFields {}, Vec::new())
}
