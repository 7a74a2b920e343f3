//! The scan's report for people: `index.html` (a table per consent state and
//! the differences from the inventory), `report.css` beside it, and the first
//! view with the banner as `first-view.png`; no inline script or style. And,
//! on request, the undeclared names as YAML to paste into the inventory.

use super::inventory::{self, Declared};
use super::{Finding, Kind, Scan, State};
use crate::error::{Diagnostic, Diagnostics};
use serde_json::json;
use std::path::Path;

const PAGE: &str = include_str!("report.html");
const STYLE: &str = include_str!("report.css");

/// The report's default folder, under the site's root.
pub const DEFAULT_DIR: &str = "scan-report";

/// Writes the report into `dir` (created if needed); returns the page's path.
pub fn write(scan: &Scan, dir: &Path) -> Result<std::path::PathBuf, Diagnostics> {
    let declared = inventory::declared(&scan.consent, "", "en");
    let html = page(scan, &declared)?;
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(dir.join("report.css"), STYLE))
        .and_then(|()| std::fs::write(dir.join("first-view.png"), &scan.first_view))
        .and_then(|()| std::fs::write(dir.join("index.html"), html));
    written.map_err(|e| Diagnostic::new(dir, format!("cannot write the report: {e}")))?;
    Ok(dir.join("index.html"))
}

fn page(scan: &Scan, declared: &[Declared]) -> Result<String, Diagnostics> {
    let category = |name: &str| inventory::lookup(declared, name).map(|d| d.category.clone());
    let states: Vec<_> = scan
        .records
        .iter()
        .map(|record| {
            let cookies: Vec<_> = record
                .cookies
                .iter()
                .map(|c| {
                    json!({
                        "name": c.name,
                        "declared": category(&c.name),
                        "domain": c.domain,
                        "path": c.path,
                        "expires": c.expires.map_or("session".to_string(), |e| format!("in {} days", ((e - scan.started) / 86_400.0).round())),
                        "secure": yes_no(c.secure),
                        "http_only": yes_no(c.http_only),
                        "same_site": c.same_site.clone().unwrap_or_else(|| "—".into()),
                        "party": if c.third_party { "third" } else { "first" },
                        "set_by": c.set_by,
                        "page": c.page,
                    })
                })
                .collect();
            let storage: Vec<_> = record
                .storage
                .iter()
                .map(|s| json!({"key": s.key, "declared": category(&s.key), "area": s.area.label(), "page": s.page}))
                .collect();
            let requests: Vec<_> = record
                .requests
                .iter()
                .map(|r| json!({"host": r.host, "kind": r.kind, "initiator": r.initiator, "page": r.page}))
                .collect();
            json!({
                "slug": record.state.slug(),
                "heading": capitalized(&record.state.label()),
                "refuses": record.state.refuses(),
                "cookies": cookies,
                "storage": storage,
                "requests": requests,
            })
        })
        .collect();
    let findings: Vec<_> = scan
        .findings
        .iter()
        .map(|f| {
            json!({
                "level": f.kind.level(),
                "kind": f.kind.name(),
                "subject": f.subject,
                "message": f.diagnostic.message,
                "hint": f.diagnostic.hint,
                "place": f.diagnostic.location(),
            })
        })
        .collect();
    let errors = scan.errors();
    let context = json!({
        "origin": scan.origin,
        "when": when(scan.started),
        "pages": scan.pages,
        "states": states,
        "findings": findings,
        "errors": errors,
        "warnings": scan.findings.len() - errors,
        "cut_short": scan.cut_short,
    });
    let context = tera::Context::from_value(context).expect("an object");
    tera::Tera::one_off(PAGE, &context, true).map_err(|e| {
        Diagnostic::command("policy-site scan", format!("the report's template: {e:?}")).into()
    })
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// The scan's time as `YYYY-MM-DD HH:MM UTC`.
fn when(seconds: f64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds as i64)
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}

/// The undeclared cookies and keys as services to paste under
/// `consent.categories`, one per category they seem to belong to, with
/// their texts left to write in each of `languages`.
pub fn proposed_inventory(scan: &Scan) -> String {
    let languages = &scan.languages;
    let undeclared: Vec<&Finding> = scan
        .findings
        .iter()
        .filter(|f| f.kind == Kind::Undeclared)
        .collect();
    if undeclared.is_empty() {
        return "# Nothing to add: the scan saw nothing undeclared.\n".into();
    }
    let texts = |indent: &str, what: &str| -> String {
        languages
            .iter()
            .map(|lang| format!("{indent}  {lang}: \"TODO: {what}\"\n"))
            .collect()
    };
    let mut yaml = String::from(
        "# Seen by `policy-site scan` and not in the inventory. Paste each service\n# under the category its comment names, and write its texts.\n",
    );
    for f in undeclared {
        let (category, why) = guessed_category(&f.states);
        yaml.push_str(&format!("\n# category: {category} ({why})\n- name: \"TODO: the service that sets {}\"\n  purpose:\n{}  cookies:\n    - name: {}\n      purpose:\n{}      duration:\n{}      party: {}\n",
            f.subject,
            texts("    ", "what the service does"),
            serde_json::Value::from(f.subject.clone()),
            texts("        ", "what it is for"),
            durations(scan, &f.subject, languages),
            party(scan, &f.subject),
        ));
    }
    yaml
}

/// The category a name seems to need: only one accepted category showed it,
/// or it was there with nothing accepted (necessary, or to be gated).
fn guessed_category(states: &[State]) -> (String, &'static str) {
    if states.iter().any(State::refuses) {
        return (
            "necessary".into(),
            "it is set before any consent: if it is not strictly necessary, gate what sets it",
        );
    }
    let only: Vec<&str> = states
        .iter()
        .filter_map(|s| match s {
            State::Only(c) => Some(c.as_str()),
            _ => None,
        })
        .collect();
    match only.as_slice() {
        [one] => (one.to_string(), "set when only this category is accepted"),
        _ => ("?".into(), "set after accept all: choose its category"),
    }
}

fn durations(scan: &Scan, name: &str, languages: &[String]) -> String {
    let cookies = || {
        scan.records
            .iter()
            .flat_map(|r| &r.cookies)
            .filter(|c| c.name == name)
    };
    let longest = cookies()
        .filter_map(|c| c.expires)
        .map(|e| e - scan.started)
        .reduce(f64::max);
    let text = match longest {
        Some(seconds) if seconds >= 86_400.0 => counted((seconds / 86_400.0).round(), "day"),
        Some(seconds) => counted((seconds / 3_600.0).round().max(1.0), "hour"),
        None if cookies().next().is_some() => "session".into(),
        None => "until cleared".into(),
    };
    languages
        .iter()
        .map(|lang| format!("        {lang}: \"{text}\"\n"))
        .collect()
}

/// "1 day", "30 days".
fn counted(n: f64, unit: &str) -> String {
    if n == 1.0 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

fn party(scan: &Scan, name: &str) -> &'static str {
    let third = scan
        .records
        .iter()
        .flat_map(|r| &r.cookies)
        .any(|c| c.name == name && c.third_party);
    if third {
        "third"
    } else {
        "first"
    }
}
