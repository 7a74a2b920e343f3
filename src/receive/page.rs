//! The pages the receiver answers a form posted without JavaScript with,
//! in the visitor's language: the reference and due date with a link back
//! to the site, or why the request was refused; and the page a verification
//! link opens, whose one button confirms (a GET changes nothing: mail
//! scanners follow links). Plain HTML without script or style (served with
//! a CSP that allows neither), from the Tera templates in `templates/`,
//! worded with the `receive` strings of the site (overridable).

use super::Receiver;
use crate::date::Date;

const TEMPLATES: &[(&str, &str)] = &[
    ("page.html", include_str!("templates/page.html")),
    ("received.html", include_str!("templates/received.html")),
    ("refused.html", include_str!("templates/refused.html")),
    ("verify.html", include_str!("templates/verify.html")),
    ("verified.html", include_str!("templates/verified.html")),
];

/// `name` filled with `values`, `lang` and `title`; Tera escapes them all.
fn render(name: &str, lang: &str, title: &str, values: &[(&str, &str)]) -> String {
    static TERA: std::sync::OnceLock<Result<tera::Tera, String>> = std::sync::OnceLock::new();
    let tera = TERA.get_or_init(|| {
        let mut tera = tera::Tera::default();
        tera.add_raw_templates(TEMPLATES.to_vec())
            .map(|()| tera)
            .map_err(|e| e.to_string())
    });
    let mut context = tera::Context::new();
    context.insert("lang", lang);
    context.insert("title", title);
    for (key, value) in values {
        context.insert(*key, value);
    }
    match tera {
        Ok(tera) => tera
            .render(name, &context)
            .unwrap_or_else(|e| e.to_string()),
        Err(e) => e.clone(),
    }
}

/// "30 janvier 2025" in `lang`, or the ISO date when the language has no format.
fn long_date(receiver: &Receiver, lang: &str, iso: &str) -> String {
    let date: Option<Date> = iso.get(..10).and_then(|d| d.parse().ok());
    match (date, receiver.strings.get(lang)) {
        (Some(date), Some(strings)) if strings.contains_key("site") => {
            crate::i18n::format_date(date, strings)
        }
        _ => iso.to_string(),
    }
}

pub fn received(
    receiver: &Receiver,
    lang: &str,
    reference: &str,
    received_at: &str,
    due_on: &str,
    back: &str,
) -> String {
    let t = |key: &str| receiver.text(lang, key);
    render(
        "received.html",
        lang,
        &t("page_title"),
        &[
            ("text", &t("page_text")),
            ("reference_label", &t("reference")),
            ("reference", reference),
            ("received_label", &t("received")),
            ("received_at", received_at),
            ("received", &long_date(receiver, lang, received_at)),
            ("due_label", &t("due")),
            ("due_on", due_on),
            ("due", &long_date(receiver, lang, due_on)),
            ("back", back),
            ("back_label", &t("back")),
        ],
    )
}

pub fn refused(receiver: &Receiver, lang: &str, message: &str) -> String {
    render(
        "refused.html",
        lang,
        &receiver.text(lang, "refused_title"),
        &[
            ("message", message),
            ("back", &receiver.text(lang, "refused_back")),
        ],
    )
}

/// The page a verification link opens: one button, posting to itself.
pub fn verify(receiver: &Receiver, lang: &str, reference: &str) -> String {
    let t = |key: &str| receiver.text(lang, key).replace("{reference}", reference);
    render(
        "verify.html",
        lang,
        &t("verify_title"),
        &[("text", &t("verify_text")), ("button", &t("verify_button"))],
    )
}

/// What a used link says: confirmed, or why it cannot be (`verify_used`…).
pub fn verified(receiver: &Receiver, lang: &str, reference: Option<&str>, problem: &str) -> String {
    match reference {
        Some(reference) => {
            let text = receiver
                .text(lang, "verified_text")
                .replace("{reference}", reference);
            let title = receiver.text(lang, "verified_title");
            render(
                "verified.html",
                lang,
                &title,
                &[("id", "verified"), ("text", &text)],
            )
        }
        None => render(
            "verified.html",
            lang,
            &receiver.text(lang, "verify_failed_title"),
            &[("id", "error"), ("text", &receiver.text(lang, problem))],
        ),
    }
}
