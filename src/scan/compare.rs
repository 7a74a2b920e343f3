//! What the browser saw against what the inventory declares: one finding
//! per cookie, storage key or third-party host and kind of problem, with the
//! consent states it showed in, placed on policy-site.yaml (at the
//! declaration, or at `consent:` for what is missing) so that CI annotates it.

use super::inventory::{self, Declared};
use super::{Record, State};
use crate::consent::ConsentConfig;
use crate::error::Diagnostic;
use std::collections::BTreeMap;
use std::path::Path;

/// Kinds of finding; all but `NeverSeen` fail the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A cookie or storage key that no declaration covers.
    Undeclared,
    /// A declared, non-necessary one set while nothing was accepted.
    BeforeConsent,
    /// A declared one set while only another category was accepted.
    WrongCategory,
    /// A cookie that lives longer than its declared duration.
    LongerThanDeclared,
    /// A request to another origin while nothing was accepted.
    ThirdPartyBeforeConsent,
    /// A declared cookie no state ever showed (a stale inventory?).
    NeverSeen,
}

impl Kind {
    pub fn is_warning(self) -> bool {
        self == Kind::NeverSeen
    }

    /// `error` or `warning`, as the formats and the report say it.
    pub fn level(self) -> &'static str {
        if self.is_warning() {
            "warning"
        } else {
            "error"
        }
    }

    /// The name in `--format json`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Undeclared => "undeclared",
            Kind::BeforeConsent => "before-consent",
            Kind::WrongCategory => "wrong-category",
            Kind::LongerThanDeclared => "longer-than-declared",
            Kind::ThirdPartyBeforeConsent => "third-party-before-consent",
            Kind::NeverSeen => "never-seen",
        }
    }
}

/// One problem: its kind, what it is about, where it showed, and how it is printed.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: Kind,
    /// The cookie's or key's name, or the third party's host.
    pub subject: String,
    pub states: Vec<State>,
    pub diagnostic: Diagnostic,
}

/// `(kind, subject)` → the states it showed in and the first page, in order.
type Seen = BTreeMap<(Kind, String), (Vec<State>, String)>;

/// Every finding, errors first, each group sorted by subject.
pub fn compare(
    consent: &ConsentConfig,
    config_file: &Path,
    lang: &str,
    records: &[Record],
    started: f64,
) -> Vec<Finding> {
    let yaml = std::fs::read_to_string(config_file).unwrap_or_default();
    let declared = inventory::declared(consent, &yaml, lang);
    let missing = Missing {
        config_file,
        line: inventory::key_line(&yaml, "categories"),
    };
    let mut seen: Seen = BTreeMap::new();
    let mut longest: BTreeMap<String, f64> = BTreeMap::new();
    let mut note = |kind: Kind, subject: &str, state: &State, page: &str| {
        let entry = seen
            .entry((kind, subject.to_string()))
            .or_insert_with(|| (Vec::new(), page.to_string()));
        if !entry.0.contains(state) {
            entry.0.push(state.clone());
        }
    };
    for record in records {
        let state = &record.state;
        let names = record
            .cookies
            .iter()
            .map(|c| (c.name.as_str(), c.page.as_str()))
            .chain(
                record
                    .storage
                    .iter()
                    .map(|s| (s.key.as_str(), s.page.as_str())),
            );
        for (name, page) in names {
            match inventory::lookup(&declared, name) {
                None => note(Kind::Undeclared, name, state, page),
                Some(d) if d.required => {}
                Some(_) if state.refuses() => note(Kind::BeforeConsent, name, state, page),
                Some(d) => match state {
                    State::Only(category) if *category != d.category => {
                        note(Kind::WrongCategory, name, state, page)
                    }
                    _ => {}
                },
            }
        }
        for cookie in &record.cookies {
            if let Some(expires) = cookie.expires {
                let days = (expires - started) / 86_400.0;
                let slot = longest.entry(cookie.name.clone()).or_insert(days);
                *slot = slot.max(days);
            }
        }
        for request in &record.requests {
            if state.refuses() {
                note(
                    Kind::ThirdPartyBeforeConsent,
                    &request.host,
                    state,
                    &request.page,
                );
            }
        }
    }
    let mut findings: Vec<Finding> = seen
        .into_iter()
        .map(|((kind, subject), (states, page))| {
            let d = inventory::lookup(&declared, &subject);
            let diagnostic = described(kind, &subject, &states, &page, d, &missing, records);
            Finding {
                kind,
                subject,
                states,
                diagnostic,
            }
        })
        .collect();
    for d in &declared {
        if let Some(days) = d.days {
            // A day's slack: a cookie set for "6 months" as 182 days is not longer.
            let over = longest
                .iter()
                .filter(|(name, real)| d.matches(name) && **real > days + 1.0)
                .max_by(|a, b| a.1.total_cmp(b.1));
            if let Some((name, real)) = over {
                let states = states_with(records, name);
                findings.push(Finding {
                    kind: Kind::LongerThanDeclared,
                    subject: name.clone(),
                    diagnostic: at_declaration(config_file, d, format!(
                        "cookie `{name}` lives {} days, longer than its declared duration \"{}\" ({} days)",
                        real.round(), d.duration, days.round()
                    ))
                    .with_hint("declare the duration the cookie really has, or shorten the cookie's expiry"),
                    states,
                });
            }
        }
        let ever = records.iter().any(|r| {
            r.cookies.iter().any(|c| d.matches(&c.name))
                || r.storage.iter().any(|s| d.matches(&s.key))
        });
        if !ever {
            findings.push(Finding {
                kind: Kind::NeverSeen,
                subject: d.name.clone(),
                states: Vec::new(),
                diagnostic: at_declaration(config_file, d, format!(
                    "`{}` ({}) is declared but no page set it in any consent state",
                    d.name, d.category
                ))
                .with_hint("remove it if the site no longer sets it; keep it if it is set after an action the scan does not perform (see the manual's limits)"),
            });
        }
    }
    findings.sort_by(|a, b| (a.kind, &a.subject).cmp(&(b.kind, &b.subject)));
    findings
}

/// Where a finding about something not declared goes: the categories' line.
struct Missing<'a> {
    config_file: &'a Path,
    line: usize,
}

impl Missing<'_> {
    fn at(&self, message: String) -> Diagnostic {
        let d = Diagnostic::new(self.config_file, message);
        if self.line > 0 {
            d.at_line(self.line)
        } else {
            d
        }
    }
}

fn described(
    kind: Kind,
    subject: &str,
    states: &[State],
    page: &str,
    declared: Option<&Declared>,
    missing: &Missing,
    records: &[Record],
) -> Diagnostic {
    let config_file = missing.config_file;
    let during = states
        .iter()
        .map(State::label)
        .collect::<Vec<_>>()
        .join(", ");
    let what = what_is(subject, records);
    match (kind, declared) {
        (Kind::Undeclared, _) => missing
            .at(format!("{what} `{subject}` is not in the cookie inventory (first on {page}; {during})"))
            .with_hint("declare it under `consent.categories`, in the category that switches it on (`policy-site scan --write-inventory` proposes the entry), or remove what sets it"),
        (Kind::ThirdPartyBeforeConsent, _) => missing
            .at(format!("a request to {subject}, another origin, is made {during} (first on {page})"))
            .with_hint("load that service's script or frame only after consent: `<script type=\"text/plain\" data-consent=\"…\">` or `<iframe data-consent data-src>`"),
        (Kind::BeforeConsent, Some(d)) => at_declaration(config_file, d, format!(
            "{what} `{subject}` ({}) is set {during} (first on {page})", d.category
        ))
        .with_hint(format!("set it only once `{}` is accepted: gate what sets it with `data-consent=\"{}\"`, or declare it necessary if it is", d.category, d.category)),
        (Kind::WrongCategory, Some(d)) => at_declaration(config_file, d, format!(
            "{what} `{subject}` is declared under `{}` but is set {during} (first on {page})", d.category
        ))
        .with_hint("declare it under the category that switches it on, or gate what sets it with its own category"),
        (_, _) => Diagnostic::new(config_file, format!("`{subject}`: {during}")),
    }
}

fn at_declaration(config_file: &Path, d: &Declared, message: String) -> Diagnostic {
    let diagnostic = Diagnostic::new(config_file, message);
    if d.line > 0 {
        diagnostic.at_line(d.line)
    } else {
        diagnostic
    }
}

/// "cookie", or where the key was stored.
fn what_is(name: &str, records: &[Record]) -> String {
    records
        .iter()
        .find_map(|r| {
            if r.cookies.iter().any(|c| c.name == name) {
                Some("cookie".to_string())
            } else {
                r.storage
                    .iter()
                    .find(|s| s.key == name)
                    .map(|s| s.area.item().to_string())
            }
        })
        .unwrap_or_else(|| "key".into())
}

fn states_with(records: &[Record], name: &str) -> Vec<State> {
    records
        .iter()
        .filter(|r| r.cookies.iter().any(|c| c.name == name))
        .map(|r| r.state.clone())
        .collect()
}
