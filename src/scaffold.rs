//! `policy-site init`: a new site that builds at once, with one privacy
//! policy of ten headed stub sections in the default language. `check` reports
//! each stub until it is replaced, so that none is published by mistake.
//! Templates and static files are built into the binary, so none are written.

use crate::date::Date;
use crate::error::{Diagnostic, Diagnostics};
use std::path::Path;

/// The stub sections: file name, title, and what the section should say.
const SECTIONS: &[(&str, &str, &str)] = &[
    ("01-information-we-collect", "Information we collect", "Describe the personal information you collect, from whom, and how: directly, automatically, or from third parties."),
    ("02-how-we-use-information", "How we use information", "Explain each purpose for which you use personal information, and the legal basis for each one."),
    ("03-where-information-is-stored", "Where information is stored", "Say in which countries personal information is stored, and how long each kind is kept."),
    ("04-sharing-information", "Sharing information", "List the categories of service providers and partners who receive personal information, and why."),
    ("05-cookies", "Cookies and similar technologies", "Describe the cookies and trackers the site uses, and how visitors can refuse them."),
    ("06-security", "Security", "Summarise the measures that protect personal information against loss, theft and misuse."),
    ("07-children", "Children", "State whether the service is meant for children, and what happens to information about them."),
    ("08-your-rights", "Your rights", "Explain which rights people have over their information, and how to exercise them."),
    ("09-changes-to-this-policy", "Changes to this policy", "Explain how readers will be told of changes, and how much notice they get before a material change."),
    ("10-contact", "Contact", "Give the name and address of the person in charge of personal information."),
];

/// Whether a section body is still one of the stubs above, word for word.
pub fn is_stub(markdown: &str) -> bool {
    let body = markdown.trim();
    SECTIONS.iter().any(|(_, _, text)| *text == body)
}

/// Writes the scaffold into `dir`, which must be empty or absent.
pub fn init(dir: &Path, today: Date) -> Result<(), Diagnostics> {
    let not_empty = std::fs::read_dir(dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if not_empty {
        return Err(Diagnostic::new(dir, "this folder is not empty")
            .with_hint("run `policy-site init` in a new or empty folder")
            .into());
    }
    let version = format!("content/privacy/{today}");
    let mut files = vec![
        ("policy-site.yaml".to_string(), CONFIG.to_string()),
        ("README.md".into(), README.into()),
        ("content/privacy/policy.yaml".into(), "title:\n  en: Privacy Policy\n".into()),
        (
            format!("{version}/version.yaml"),
            "# The first version: nothing to give notice of.\nmaterial: true\nsummary:\n  en: First published version of our Privacy Policy.\n".into(),
        ),
    ];
    for (name, title, text) in SECTIONS {
        files.push((
            format!("{version}/en/{name}.md"),
            format!("---\ntitle: {title}\n---\n\n{text}\n"),
        ));
    }
    for (path, text) in files {
        let path = dir.join(path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        written.map_err(|e| Diagnostic::new(&path, format!("cannot write: {e}")))?;
    }
    Ok(())
}

const CONFIG: &str = "\
# The site's settings: every key is described in the policy-site book, chapter Configuration.
title:
  en: Legal
# Where the site will be published.
base_url: https://example.com/legal
# Language codes; the first is the default and controlling one.
languages: [en]
# Material changes must be published this many days before they take effect.
notice_period_days: 30
";

const README: &str = "\
# Legal policies

This folder holds our legal policies as markdown, one dated folder per
version under `content/<policy>/`, one file per section. `policy-site serve`
shows them in the browser as you edit; `policy-site check` lists anything
wrong before publishing; `policy-site revise privacy` starts the next version;
`policy-site build` writes the site into `public/`.
";
