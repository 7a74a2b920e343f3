//! `policy-site requests` and `policy-site consents`: what operators do with
//! the receipts `receive` stored (same `--db`): list, show, export (CSV or
//! JSON Lines, overdue requests marked), record a request's status, and
//! extend its deadline. A refusal and an extension carry their reason,
//! which the requester is told by mail: queued in the store's outbox, sent
//! by a `receive` that has `--smtp`.

use crate::error::{Diagnostic, Diagnostics};
use crate::receive::export::{row, COLUMNS};
use crate::receive::store::{self, Backend, StoredRequest};
use crate::receive::{database, due, export, fulfil};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for a terminal.
    Table,
    Csv,
    /// JSON Lines: one JSON object a line.
    Jsonl,
}

fn open(db: &str) -> Result<Box<dyn Backend>, Diagnostics> {
    let place = super::receive::shown(db);
    if !database::is_postgres(db) && !std::path::Path::new(db).is_file() {
        return Err(Diagnostic::new(&place, "no receipts are stored here")
            .with_hint("pass the --db that `policy-site receive` stores into")
            .into());
    }
    database::connect(db)
        .map_err(|e| Diagnostic::new(&place, format!("cannot open the store: {e}")).into())
}

fn failed(db: &str, e: String) -> Diagnostics {
    Diagnostic::new(super::receive::shown(db), e).into()
}

/// Every request (or those with `status`), oldest first.
pub fn list(
    db: &str,
    status: Option<&str>,
    format: Format,
    answers: bool,
) -> Result<(), Diagnostics> {
    let today = due::today().to_string();
    let found = store::requests(open(db)?.as_mut(), status, &today).map_err(|e| failed(db, e))?;
    let mut out = std::io::stdout().lock();
    let written = match format {
        Format::Table => table(&mut out, &found),
        Format::Csv => export::csv(&mut out, &found, answers),
        Format::Jsonl => export::jsonl(&mut out, &found, answers),
    };
    written.or_else(|e| quietly_on_broken_pipe(db, e))
}

/// A reader that stopped early (`| head`) is not an error: stop quietly.
fn quietly_on_broken_pipe(db: &str, e: std::io::Error) -> Result<(), Diagnostics> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Ok(());
    }
    Err(failed(db, format!("cannot write: {e}")))
}

fn table(out: &mut impl Write, found: &[StoredRequest]) -> std::io::Result<()> {
    // An unverified request says so beside its status.
    let rows: Vec<_> = found
        .iter()
        .map(|r| {
            let mut cells = row(r);
            if r.unverified {
                cells[2] = format!("{}, unverified", cells[2]);
            }
            cells
        })
        .collect();
    let shown = 6;
    let widths: Vec<usize> = (0..shown)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([COLUMNS[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", line(COLUMNS[..shown].to_vec()))?;
    for r in &rows {
        writeln!(
            out,
            "{}",
            line(r[..shown].iter().map(String::as_str).collect())
        )?;
    }
    let unverified = found.iter().filter(|r| r.unverified).count();
    writeln!(
        out,
        "{} request(s), {} overdue{}",
        found.len(),
        found.iter().filter(|r| r.overdue).count(),
        if unverified > 0 {
            format!(", {unverified} unverified")
        } else {
            String::new()
        }
    )
}

/// One request with its answers and its status history.
pub fn show(db: &str, key: &str) -> Result<(), Diagnostics> {
    let today = due::today().to_string();
    let mut store = open(db)?;
    let Some((found, history)) =
        store::request(store.as_mut(), key, &today).map_err(|e| failed(db, e))?
    else {
        return Err(failed(db, format!("no request has the reference `{key}`")));
    };
    let trail = store::audit_trail(store.as_mut(), &found.request_id).map_err(|e| failed(db, e))?;
    let mut text = String::new();
    for (name, value) in COLUMNS.iter().zip(row(&found)) {
        text.push_str(&format!("{name:<15} {value}\n"));
    }
    if let Some(fields) = found.payload["fields"].as_object() {
        for (name, value) in fields {
            text.push_str(&format!("  {name:<13} {}\n", value.as_str().unwrap_or("")));
        }
    }
    text.push_str("history:\n");
    for change in history {
        text.push_str(&format!(
            "  {} {} {}\n",
            change.at, change.status, change.note
        ));
    }
    text.push_str("audit:\n");
    for entry in trail {
        let detail = match entry.detail.is_empty() {
            true => String::new(),
            false => format!(": {}", entry.detail),
        };
        text.push_str(&format!(
            "  {} {} {}{detail}\n",
            entry.at, entry.actor, entry.action
        ));
    }
    print!("{text}");
    Ok(())
}

/// The built-in words for the requester's mails.
fn with_words<T>(act: impl FnOnce(&fulfil::Words) -> T) -> T {
    let strings = crate::i18n::built_in();
    let catalogue = crate::rights::default_catalogue();
    act(&fulfil::Words {
        strings: &strings,
        catalogue: &catalogue,
        operators: "en",
    })
}

fn refused(db: &str, problem: fulfil::Problem) -> Diagnostics {
    let d = Diagnostic::new(super::receive::shown(db), problem.message);
    match problem.hint {
        Some(hint) => d.with_hint(hint).into(),
        None => d.into(),
    }
}

pub fn set_status(db: &str, key: &str, status: &str, note: &str) -> Result<(), Diagnostics> {
    let mut store = open(db)?;
    let done =
        with_words(|words| fulfil::set_status(store.as_mut(), key, status, note, &actor(), words))
            .map_err(|p| refused(db, p))?;
    let told = match status {
        "refused" => told(done.told),
        _ => "",
    };
    println!("{key}: {status} at {}{told}", done.at);
    Ok(())
}

/// `requests extend`: the due date moved once by the period the request's
/// jurisdiction allows, before the first one ends, with the reason.
pub fn extend(db: &str, key: &str, reason: &str) -> Result<(), Diagnostics> {
    let mut store = open(db)?;
    let done = with_words(|words| fulfil::extend(store.as_mut(), key, reason, &actor(), words))
        .map_err(|p| refused(db, p))?;
    println!(
        "{key}: due {} (was {}){}",
        done.due_on.unwrap_or_default(),
        done.was_due.unwrap_or_default(),
        told(done.told)
    );
    Ok(())
}

/// Who acts, for the audit trail: `POLICY_SITE_OPERATOR`, else the
/// system user.
pub(crate) fn actor() -> String {
    ["POLICY_SITE_OPERATOR", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| "operator".into())
}

fn told(told: bool) -> &'static str {
    match told {
        true => "; the requester's mail is queued",
        false => "; the request gave no address to tell",
    }
}

/// How `consents export` writes the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentFormat {
    /// As received, with the store's own fields.
    Jsonl,
    /// ISO/IEC TS 27560 records (W3C DPV's JSON-LD profile), one a line.
    Iso27560,
}

impl std::str::FromStr for ConsentFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<ConsentFormat, String> {
        match s {
            "jsonl" => Ok(ConsentFormat::Jsonl),
            "iso27560" => Ok(ConsentFormat::Iso27560),
            _ => Err(format!("`{s}` is not a format: use jsonl or iso27560")),
        }
    }
}

/// Every stored consent record (or one browser's), as JSON Lines; in the
/// ISO 27560 shape, described from the site at `root`.
pub fn consents(
    root: &std::path::Path,
    db: &str,
    consent_id: Option<&str>,
    format: ConsentFormat,
) -> Result<(), Diagnostics> {
    let site = match format {
        ConsentFormat::Jsonl => None,
        ConsentFormat::Iso27560 => {
            let options = crate::build::Options {
                root: root.to_path_buf(),
                ..Default::default()
            };
            let config = crate::build::load_config(&options)?;
            if config.consent.is_none() {
                return Err(crate::error::Diagnostic::new(
                    root.join(crate::vocabulary::CONFIG_FILE),
                    "the site has no cookie inventory (`consent:`) to describe the records with",
                )
                .with_hint("give the site's folder with --root")
                .into());
            }
            let log = crate::proof::log::read(root)?.map(|(log, _)| log);
            Some((config, log))
        }
    };
    let mut exporter = site
        .as_ref()
        .map(|(config, log)| crate::proof::receipt::Exporter::new(config, log.as_ref()));
    let found = store::consents(open(db)?.as_mut(), consent_id).map_err(|e| failed(db, e))?;
    let mut out = std::io::stdout().lock();
    found
        .iter()
        .try_for_each(|c| {
            let line = match exporter.as_mut() {
                None => serde_json::to_string(c).expect("plain data"),
                Some(exporter) => {
                    let record = exporter
                        .record(&c.record, &c.received_at)
                        .expect("the inventory was checked above");
                    serde_json::to_string(&record).expect("plain data")
                }
            };
            writeln!(out, "{line}")
        })
        .or_else(|e| quietly_on_broken_pipe(db, e))
}

/// `requests purge`: what the retention rules remove (closed requests after
/// `closed_days` days, consent records after `consents_days`), deleted
/// only with `apply`.
pub fn purge(
    db: &str,
    closed_days: Option<u32>,
    consents_days: Option<u32>,
    apply: bool,
) -> Result<(), Diagnostics> {
    if closed_days.is_none() && consents_days.is_none() {
        return Err(failed(
            db,
            "say what to purge: --closed-after DAYS, --consents-after DAYS, or both".into(),
        ));
    }
    let found = store::purge_older(open(db)?.as_mut(), closed_days, consents_days, apply)
        .map_err(|e| failed(db, e))?;
    let verb = if apply { "deleted" } else { "would delete" };
    println!(
        "{verb} {} closed request(s){} and {} consent record(s){}",
        found.requests.len(),
        if found.requests.is_empty() {
            String::new()
        } else {
            format!(" ({})", found.requests.join(", "))
        },
        found.consents,
        if apply {
            ""
        } else {
            "; run again with --apply to delete them"
        }
    );
    Ok(())
}
