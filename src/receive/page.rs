//! The pages the receiver answers a form posted without JavaScript with,
//! in the visitor's language: the reference and due date with a link back
//! to the site, or why the request was refused; and the page a verification
//! link opens, whose one button confirms (a GET changes nothing: mail
//! scanners follow links). Plain HTML without script
//! or style (served with a CSP that allows neither).

use super::Receiver;
use crate::date::Date;
use tera::escape_html;

fn document(lang: &str, title: &str, main: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<main>\n<h1>{title}</h1>\n{main}</main>\n</html>\n",
        lang = escape_html(lang),
        title = escape_html(title),
    )
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
    let t = |key: &str| escape_html(&receiver.text(lang, key));
    let main = format!(
        "<p>{text}</p>\n<dl>\n<dt>{reference_label}</dt><dd><strong id=\"reference\">{reference}</strong></dd>\n\
         <dt>{received_label}</dt><dd><time datetime=\"{received_at}\">{received}</time></dd>\n\
         <dt>{due_label}</dt><dd><time id=\"due\" datetime=\"{due_on}\">{due}</time></dd>\n</dl>\n\
         <p><a href=\"{back}\">{back_label}</a></p>\n",
        text = t("page_text"),
        reference_label = t("reference"),
        reference = escape_html(reference),
        received_label = t("received"),
        received_at = escape_html(received_at),
        received = escape_html(&long_date(receiver, lang, received_at)),
        due_label = t("due"),
        due_on = escape_html(due_on),
        due = escape_html(&long_date(receiver, lang, due_on)),
        back = escape_html(back),
        back_label = t("back"),
    );
    document(lang, &receiver.text(lang, "page_title"), &main)
}

pub fn refused(receiver: &Receiver, lang: &str, message: &str) -> String {
    let main = format!(
        "<p id=\"error\">{message}</p>\n<p>{back}</p>\n",
        message = escape_html(message),
        back = escape_html(&receiver.text(lang, "refused_back")),
    );
    document(lang, &receiver.text(lang, "refused_title"), &main)
}

/// The page a verification link opens: one button, posting to itself.
pub fn verify(receiver: &Receiver, lang: &str, reference: &str) -> String {
    let t = |key: &str| receiver.text(lang, key).replace("{reference}", reference);
    let main = format!(
        "<p>{text}</p>\n<form method=\"post\"><button type=\"submit\">{button}</button></form>\n",
        text = escape_html(&t("verify_text")),
        button = escape_html(&t("verify_button")),
    );
    document(lang, &t("verify_title"), &main)
}

/// What a used link says: confirmed, or why it cannot be (`verify_used`…).
pub fn verified(receiver: &Receiver, lang: &str, reference: Option<&str>, problem: &str) -> String {
    match reference {
        Some(reference) => {
            let text = receiver
                .text(lang, "verified_text")
                .replace("{reference}", reference);
            let main = format!("<p id=\"verified\">{}</p>\n", escape_html(&text));
            document(lang, &receiver.text(lang, "verified_title"), &main)
        }
        None => {
            let main = format!(
                "<p id=\"error\">{}</p>\n",
                escape_html(&receiver.text(lang, problem))
            );
            document(lang, &receiver.text(lang, "verify_failed_title"), &main)
        }
    }
}
