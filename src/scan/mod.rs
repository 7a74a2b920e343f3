//! `policy-site scan`: checks in a real browser that the site does what its
//! cookie inventory says. `served` puts the last build on loopback (or
//! takes a deployed URL), `browser` drives headless Chromium through each
//! consent state over the pages `crawl` picks, with `network` watching the
//! requests, into a `record` per state; `compare` holds it against
//! `consent:` in policy-site.yaml (read by `inventory`), and `report`
//! writes it for people. It reads the inventory from `config` and nothing
//! from the build's rendering: it judges what a visitor's browser receives.

mod browser;
mod compare;
mod crawl;
mod inventory;
mod network;
mod record;
pub mod report;
mod served;

pub use compare::{Finding, Kind};
pub use record::{Area, Record, SeenCookie, SeenRequest, SeenStorage};

use crate::config::{self, Config};
use crate::consent::ConsentConfig;
use crate::error::{Diagnostic, Diagnostics, Format};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What to scan and how far.
#[derive(Debug, Clone)]
pub struct Options {
    /// The site's folder (where policy-site.yaml is).
    pub root: PathBuf,
    /// A deployed site's address; `None` serves the last build (`output:`).
    pub url: Option<String>,
    /// Pages visited per consent state, the start page and sitemap first.
    pub max_pages: usize,
    /// The whole scan's budget, shared by the states; pages a state has no
    /// time left for are left out of it (and said so).
    pub timeout: Duration,
    /// Chromium's executable (default: `CHROME`, else `chromium` on PATH).
    pub browser: Option<PathBuf>,
}

impl Options {
    pub fn new(root: impl Into<PathBuf>) -> Options {
        Options {
            root: root.into(),
            url: None,
            max_pages: 30,
            timeout: Duration::from_secs(600),
            browser: None,
        }
    }
}

/// One way a visitor can have answered the banner. Each is scanned in a
/// browser context of its own, so no cookie or storage leaks between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    NoChoice,
    RejectAll,
    AcceptAll,
    /// "Customise", with this one optional category switched on.
    Only(String),
    /// Global Privacy Control on (`navigator.globalPrivacyControl`, `Sec-GPC: 1`), no click.
    Gpc,
}

impl State {
    /// Every state for these categories' optional ones, in scanning order.
    pub fn all(optional: &[String]) -> Vec<State> {
        let mut states = vec![State::NoChoice, State::RejectAll, State::AcceptAll];
        states.extend(optional.iter().cloned().map(State::Only));
        states.push(State::Gpc);
        states
    }

    /// The state in the findings and the report.
    pub fn label(&self) -> String {
        match self {
            State::NoChoice => "before any choice".into(),
            State::RejectAll => "after reject all".into(),
            State::AcceptAll => "after accept all".into(),
            State::Only(category) => format!("with only {category} accepted"),
            State::Gpc => "with GPC on".into(),
        }
    }

    /// An identifier for the report's anchors.
    pub fn slug(&self) -> String {
        match self {
            State::NoChoice => "no-choice".into(),
            State::RejectAll => "reject-all".into(),
            State::AcceptAll => "accept-all".into(),
            State::Only(category) => format!("only-{category}"),
            State::Gpc => "gpc".into(),
        }
    }

    /// Whether only necessary cookies may be set: nothing was accepted.
    pub fn refuses(&self) -> bool {
        matches!(self, State::NoChoice | State::RejectAll | State::Gpc)
    }
}

/// A finished scan: what was visited, what each state showed, the findings.
#[derive(Debug)]
pub struct Scan {
    /// The origin scanned (the loopback one for a build).
    pub origin: String,
    pub pages: Vec<String>,
    pub records: Vec<Record>,
    /// The first page before any choice, banner open, as a PNG.
    pub first_view: Vec<u8>,
    pub findings: Vec<Finding>,
    /// Said when `--timeout` cut the crawl short.
    pub cut_short: Option<String>,
    /// When the scan ran, seconds since the epoch (expiries are measured from it).
    pub started: f64,
    /// The inventory it was compared with, and the site's languages.
    pub consent: ConsentConfig,
    pub languages: Vec<String>,
}

impl Scan {
    /// Whether any finding should fail CI (warnings do not).
    pub fn fails(&self) -> bool {
        self.errors() > 0
    }

    /// How many findings are errors; the rest are warnings.
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| !f.kind.is_warning())
            .count()
    }
}

/// Scans the site; `Err` when it cannot be scanned at all (no inventory, no
/// build, no browser), never for what it finds.
pub fn scan(options: &Options) -> Result<Scan, Diagnostics> {
    let config = config::load(&options.root)?;
    let Some(consent) = config.consent.clone() else {
        return Err(Diagnostic::new(
            options.root.join(crate::vocabulary::CONFIG_FILE),
            "there is no cookie inventory to scan against: `consent:` is not set",
        )
        .with_hint("declare the site's cookies under `consent.categories` (see the Consent chapter of the manual)")
        .into());
    };
    let executable = browser::find(options.browser.as_deref())?;
    let runtime = crate::server::runtime().map_err(|e| {
        Diagnostic::command("policy-site scan", format!("cannot start its runtime: {e}"))
    })?;
    runtime.block_on(async {
        let site = match &options.url {
            Some(url) => served::Site::remote(url)?,
            None => served::Site::built(&out_dir(&options.root, &config), &config.base_path())?,
        };
        let targets = browser::Targets {
            origin: site.origin.clone(),
            start: site.start.clone(),
            own: own_origins(&config),
            base_url: config.base_url_trimmed().to_string(),
            served_base: format!("{}{}", site.origin, config.base_path()),
        };
        let started = now();
        let run = browser::run(&executable, &targets, &consent, options).await;
        site.stop();
        let run = run?;
        let mut findings = compare::compare(
            &consent,
            &options.root.join(crate::vocabulary::CONFIG_FILE),
            config.default_language(),
            &run.records,
            started,
        );
        for finding in &mut findings {
            finding.diagnostic = finding.diagnostic.clone().relative_to(&options.root);
        }
        Ok(Scan {
            origin: targets.origin,
            pages: run.pages,
            records: run.records,
            first_view: run.first_view,
            findings,
            cut_short: run.cut_short,
            started,
            consent,
            languages: config.languages.clone(),
        })
    })
}

/// The last build's folder: `output:` under the root.
fn out_dir(root: &Path, config: &Config) -> PathBuf {
    root.join(&config.output)
}

/// The site's own endpoints (rights requests, consent records) and its
/// configured address: requests to them are the site's, wherever hosted.
fn own_origins(config: &Config) -> Vec<String> {
    [&config.endpoints.requests, &config.endpoints.consent]
        .into_iter()
        .flatten()
        .chain([&config.base_url])
        .filter_map(|url| url::Url::parse(url).ok())
        .map(|url| url.origin().ascii_serialization())
        .collect()
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// The findings as text, in `check`'s formats: errors, then warnings (a
/// declared cookie never seen), which never fail the scan.
pub fn format(scan: &Scan, format: Format) -> String {
    let level = |f: &Finding| f.kind.level();
    match format {
        Format::Human => {
            if scan.findings.is_empty() {
                return format!(
                    "No problems found on {} page(s) in {} consent states.",
                    scan.pages.len(),
                    scan.records.len()
                );
            }
            let mut text: Vec<String> = scan
                .findings
                .iter()
                .map(|f| f.diagnostic.labelled(level(f)))
                .collect();
            let errors = scan.errors();
            let warnings = scan.findings.len() - errors;
            text.push(format!(
                "{errors} error{}, {warnings} warning{} on {} page(s) in {} consent states",
                if errors == 1 { "" } else { "s" },
                if warnings == 1 { "" } else { "s" },
                scan.pages.len(),
                scan.records.len()
            ));
            text.join("\n")
        }
        Format::Github => scan
            .findings
            .iter()
            .map(|f| f.diagnostic.annotation(level(f)))
            .collect(),
        Format::Json => {
            let items: Vec<_> = scan
                .findings
                .iter()
                .map(|f| {
                    let mut item = f.diagnostic.to_json();
                    item["level"] = level(f).into();
                    item["kind"] = f.kind.name().into();
                    item["subject"] = f.subject.clone().into();
                    item["states"] = f.states.iter().map(State::label).collect();
                    item
                })
                .collect();
            serde_json::to_string_pretty(&items).expect("plain JSON") + "\n"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{format, Finding, Kind, Scan, State};
    use crate::error::{Diagnostic, Format};

    fn scan_with(findings: Vec<Finding>) -> Scan {
        Scan {
            origin: "http://127.0.0.1:4000".into(),
            pages: vec!["http://127.0.0.1:4000/".into()],
            records: Vec::new(),
            first_view: Vec::new(),
            findings,
            cut_short: None,
            started: 0.0,
            consent: serde_json::from_value(serde_json::json!({ "categories": [] }))
                .expect("an empty inventory"),
            languages: vec!["en".into()],
        }
    }

    fn finding(kind: Kind, subject: &str, line: usize) -> Finding {
        Finding {
            kind,
            subject: subject.into(),
            states: vec![State::NoChoice, State::Gpc],
            diagnostic: Diagnostic::new("policy-site.yaml", format!("about {subject}"))
                .at_line(line)
                .with_hint("do this"),
        }
    }

    #[test]
    fn findings_print_as_check_prints_them_and_warnings_do_not_fail() {
        let scan = scan_with(vec![
            finding(Kind::Undeclared, "visitor_id", 23),
            finding(Kind::NeverSeen, "_ga", 95),
        ]);
        assert!(scan.fails());
        assert_eq!(
            format(&scan, Format::Human),
            "policy-site.yaml:23: error: about visitor_id\n  hint: do this\n\
             policy-site.yaml:95: warning: about _ga\n  hint: do this\n\
             1 error, 1 warning on 1 page(s) in 0 consent states"
        );
        assert_eq!(
            format(&scan, Format::Github),
            "::error file=policy-site.yaml,line=23::about visitor_id (hint: do this)\n\
             ::warning file=policy-site.yaml,line=95::about _ga (hint: do this)\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&format(&scan, Format::Json)).expect("JSON");
        assert_eq!(
            json[0],
            serde_json::json!({
                "file": "policy-site.yaml", "line": 23, "message": "about visitor_id",
                "hint": "do this", "level": "error", "kind": "undeclared",
                "subject": "visitor_id", "states": ["before any choice", "with GPC on"],
            })
        );
        assert_eq!(json[1]["level"], "warning");
        let warnings_only = scan_with(vec![finding(Kind::NeverSeen, "_ga", 95)]);
        assert!(!warnings_only.fails());
    }
}
