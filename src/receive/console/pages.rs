//! The console's pages: Tera templates (beside this file, in the binary)
//! filled with the `console` strings of the operator's language. Tera
//! escapes every value, so nothing a requester typed can become markup.

use super::accounts::Operator;
use axum::response::Html;
use std::collections::BTreeMap;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("message.html", include_str!("templates/message.html")),
    ("queue.html", include_str!("templates/queue.html")),
    ("request.html", include_str!("templates/request.html")),
    ("consents.html", include_str!("templates/consents.html")),
    ("operators.html", include_str!("templates/operators.html")),
];

pub struct Pages {
    tera: tera::Tera,
}

/// What every page says besides its own content.
pub struct Page {
    pub lang: String,
    pub title: String,
    /// The template, and the navigation entry marked current.
    pub name: &'static str,
    pub csrf: String,
    pub notice: Option<String>,
    pub problem: Option<String>,
}

impl Page {
    pub fn new(lang: &str, title: &str, name: &'static str) -> Page {
        Page {
            lang: lang.to_string(),
            title: title.to_string(),
            name,
            csrf: String::new(),
            notice: None,
            problem: None,
        }
    }
}

impl Pages {
    pub fn new() -> Result<Pages, String> {
        let mut tera = tera::Tera::default();
        tera.add_raw_templates(TEMPLATES.to_vec())
            .map_err(|e| format!("the console's templates: {e}"))?;
        Ok(Pages { tera })
    }

    pub fn html(
        &self,
        page: &Page,
        t: &BTreeMap<String, String>,
        operator: Option<&Operator>,
        own: &tera::Context,
    ) -> Html<String> {
        let mut context = own.clone();
        context.insert("lang", &page.lang);
        context.insert("title", &page.title);
        context.insert("page", page.name);
        context.insert("csrf", &page.csrf);
        context.insert("notice", &page.notice);
        context.insert("problem", &page.problem);
        context.insert("t", t);
        if let Some(o) = operator {
            let label = t
                .get(&format!("role_{}", o.role.name()))
                .cloned()
                .unwrap_or_default();
            context.insert(
                "operator",
                &serde_json::json!({"name": o.name, "role": o.role.name(), "role_label": label}),
            );
        }
        let name = format!("{}.html", page.name);
        Html(self.tera.render(&name, &context).unwrap_or_else(|e| {
            format!(
                "<!doctype html><title>Error</title><p>The page could not be made: {}</p>",
                tera::escape_html(&e.to_string())
            )
        }))
    }
}
