//! `policy-site diff <policy> <from> <to>`: the word-level redline in a terminal.

use crate::build::{self, Options};
use crate::date::Date;
use crate::diff::{self, present};
use crate::error::{Diagnostic, Diagnostics};
use crate::{content, i18n};
use std::path::Path;

pub struct Request {
    pub policy: String,
    pub from: String,
    pub to: String,
    pub lang: Option<String>,
}

pub fn run(options: &Options, request: &Request, color: bool) -> Result<String, Diagnostics> {
    let config = build::load_config(options)?;
    let site = content::load(&options.root, config)?;
    let place = "policy-site diff";
    let policy = site.policy(&request.policy).ok_or_else(|| {
        let known: Vec<_> = site.policies.iter().map(|p| p.slug.as_str()).collect();
        Diagnostic::command(place, format!("there is no policy `{}`", request.policy))
            .with_hint(format!("policies: {}", known.join(", ")))
    })?;
    let version = |text: &str| -> Result<Date, Diagnostics> {
        let date: Date = text
            .parse()
            .map_err(|e: String| Diagnostic::command(place, e))?;
        policy.version(date).map(|v| v.date).ok_or_else(|| {
            let known: Vec<_> = policy.versions.iter().map(|v| v.date.to_string()).collect();
            Diagnostic::new(
                place,
                format!("`{}` has no version dated {date}", policy.slug),
            )
            .with_hint(format!("versions: {}", known.join(", ")))
            .into()
        })
    };
    let (from, to) = (version(&request.from)?, version(&request.to)?);
    if from == to {
        return Err(Diagnostic::command(
            place,
            format!("cannot diff the version {from} with itself"),
        )
        .with_hint("give two different version dates")
        .into());
    }
    if from > to {
        return Err(Diagnostic::new(
            place,
            format!("the dates are in the wrong order: {from} is later than {to}"),
        )
        .with_hint(format!(
            "give the earlier version first: `policy-site diff {} {to} {from}`",
            policy.slug
        ))
        .into());
    }
    let lang = request
        .lang
        .clone()
        .unwrap_or_else(|| site.config.default_language().to_string());
    let (old, new) = (
        policy.version(from).expect("checked"),
        policy.version(to).expect("checked"),
    );
    let d = diff::diff_translations(translation(old, &lang)?, translation(new, &lang)?, from, to);
    let strings = i18n::load(&site.config, Path::new(crate::vocabulary::CONFIG_FILE))?;
    let diff_strings = strings
        .get(&lang)
        .and_then(|s| s.get("diff"))
        .cloned()
        .unwrap_or_default();
    Ok(present::terminal(&d, color, &diff_strings))
}

fn translation<'a>(
    version: &'a content::Version,
    lang: &str,
) -> Result<&'a content::Translation, Diagnostics> {
    version.translations.get(lang).ok_or_else(|| {
        let known: Vec<_> = version.translations.keys().cloned().collect();
        Diagnostic::new(
            "policy-site diff",
            format!("the version {} has no `{lang}` text", version.date),
        )
        .with_hint(format!("languages of that version: {}", known.join(", ")))
        .into()
    })
}
