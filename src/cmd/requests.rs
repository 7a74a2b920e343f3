//! `policy-site requests` and `policy-site consents`: what operators do with
//! the receipts `receive` stored (same `--db`): list, show, export (CSV or
//! JSON Lines, overdue requests marked), record a request's status, and
//! extend its deadline. A refusal and an extension carry their reason,
//! which the requester is told by mail: queued in the store's outbox, sent
//! by a `receive` that has `--smtp`.

use crate::error::{Diagnostic, Diagnostics};
use crate::receive::store::{self, Backend, StoredRequest, STATUSES};
use crate::receive::{database, due, notify};
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
        Format::Csv => csv(&mut out, &found, answers),
        Format::Jsonl => found.iter().try_for_each(|r| {
            let mut line = serde_json::to_value(r).expect("plain data");
            if !answers {
                line["payload"] = serde_json::Value::Null;
            }
            writeln!(out, "{line}")
        }),
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

const COLUMNS: [&str; 12] = [
    "reference",
    "right",
    "status",
    "overdue",
    "received_at",
    "due_on",
    "lang",
    "origin",
    "jurisdiction",
    "request_id",
    "policy_version",
    "unverified",
];

fn row(r: &StoredRequest) -> [String; 12] {
    [
        r.reference.clone(),
        r.right.clone(),
        r.status.clone(),
        if r.overdue { "overdue" } else { "" }.to_string(),
        r.received_at.clone(),
        r.due_on.clone(),
        r.lang.clone(),
        r.origin.clone(),
        r.jurisdiction.clone(),
        r.request_id.clone(),
        format!("{} {}", r.policy, r.version),
        if r.unverified { "unverified" } else { "" }.to_string(),
    ]
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

/// RFC 4180 quoting of one cell: a few lines, not worth a dependency.
fn csv_cell(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

fn csv(out: &mut impl Write, found: &[StoredRequest], answers: bool) -> std::io::Result<()> {
    let mut header: Vec<&str> = COLUMNS.to_vec();
    if answers {
        header.push("answers");
    }
    writeln!(out, "{}", header.join(","))?;
    for r in found {
        let mut cells: Vec<String> = row(r).to_vec();
        if answers {
            cells.push(r.payload["fields"].to_string());
        }
        let cells: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
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
        text.push_str(&format!(
            "  {} {} {}: {}\n",
            entry.at, entry.actor, entry.action, entry.detail
        ));
    }
    print!("{text}");
    Ok(())
}

pub fn set_status(db: &str, key: &str, status: &str, note: &str) -> Result<(), Diagnostics> {
    if !STATUSES.contains(&status) {
        return Err(failed(
            db,
            format!(
                "`{status}` is not a status; use one of {}",
                STATUSES.join(", ")
            ),
        ));
    }
    if status == "refused" && note.trim().is_empty() {
        return Err(Diagnostic::new(
            super::receive::shown(db),
            "a refusal needs its reason: the requester is told it",
        )
        .with_hint("add --reason \"…\" (for instance, why the request is manifestly unfounded or excessive)")
        .into());
    }
    let at = due::now().0;
    let mut store = open(db)?;
    let found = store::request(store.as_mut(), key, &at[..10]).map_err(|e| failed(db, e))?;
    let Some((request, _)) = found else {
        return Err(failed(db, format!("no request has the reference `{key}`")));
    };
    let tell = (status == "refused")
        .then(|| tell("refused", &request, note, &at))
        .flatten();
    store::set_status(
        store.as_mut(),
        key,
        &actor(),
        status,
        &at,
        note,
        tell.as_ref(),
    )
    .map_err(|e| failed(db, e))?;
    println!("{key}: {status} at {at}{}", told(&tell));
    Ok(())
}

/// `requests extend`: the due date moved once by the period the request's
/// jurisdiction allows, before the first one ends, with the reason.
pub fn extend(db: &str, key: &str, reason: &str) -> Result<(), Diagnostics> {
    let refuse =
        |message: String| Diagnostics::from(Diagnostic::new(super::receive::shown(db), message));
    if reason.trim().is_empty() {
        return Err(refuse(
            "an extension needs its reason: the requester is told it".into(),
        ));
    }
    let at = due::now().0;
    let today = &at[..10];
    let mut store = open(db)?;
    let found = store::request(store.as_mut(), key, today).map_err(|e| failed(db, e))?;
    let Some((request, history)) = found else {
        return Err(failed(db, format!("no request has the reference `{key}`")));
    };
    if let Some(done) = history.iter().find(|c| c.status == "extended") {
        return Err(refuse(format!(
            "{key} was extended already, on {}: the law allows one extension",
            &done.at[..10]
        )));
    }
    if !matches!(request.status.as_str(), "received" | "identity_verified") {
        return Err(refuse(format!(
            "{key} is {} already: there is nothing to extend",
            request.status
        )));
    }
    if request.due_on.as_str() < today {
        return Err(refuse(format!(
            "{key} was due on {}: an extension must be announced before the first period ends",
            request.due_on
        )));
    }
    let Some(period) = due::extension(&request.jurisdiction) else {
        return Err(refuse(format!(
            "no extension is known for the jurisdiction `{}` (GDPR: two months; California: 45 days)",
            request.jurisdiction
        )));
    };
    let due_on: crate::date::Date = request.due_on.parse().map_err(|e| failed(db, e))?;
    let new_due = period.due(due_on).to_string();
    let extended = store::StoredRequest {
        due_on: new_due.clone(),
        ..request.clone()
    };
    let tell = tell("extended", &extended, reason, &at);
    let note = format!(
        "due date moved from {} to {new_due}: {reason}",
        request.due_on
    );
    store::extend(
        store.as_mut(),
        &request.request_id,
        &actor(),
        &at,
        &new_due,
        &note,
        tell.as_ref(),
    )
    .map_err(|e| failed(db, e))?;
    println!(
        "{key}: due {new_due} (was {}){}",
        request.due_on,
        told(&tell)
    );
    Ok(())
}

/// Who acts, for the audit trail: `POLICY_SITE_OPERATOR`, else the
/// system user.
fn actor() -> String {
    ["POLICY_SITE_OPERATOR", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| "operator".into())
}

/// The requester's mail about `kind` (`refused`, `extended`), in the
/// request's language, to the address the form gave.
fn tell(kind: &str, request: &StoredRequest, reason: &str, at: &str) -> Option<store::NewDelivery> {
    let strings = crate::i18n::built_in();
    let catalogue = crate::rights::default_catalogue();
    let text = |lang: &str, key: &str| {
        [lang, "en"]
            .iter()
            .find_map(|l| strings.get(*l)?.get("receive")?.get(key).cloned())
            .unwrap_or_else(|| key.to_string())
    };
    let right = |lang: &str| {
        catalogue
            .get(&request.right)
            .and_then(|r| r.label.get(lang).or_else(|| r.label.get("en")).cloned())
            .unwrap_or_else(|| request.right.clone())
    };
    let wording = notify::Wording {
        text: &text,
        right: &right,
        operators: "en",
    };
    let address = request.payload["fields"]["email"].as_str();
    notify::requester_mail(kind, &request.into(), address, reason, at, &wording)
}

fn told(tell: &Option<store::NewDelivery>) -> &'static str {
    match tell {
        Some(_) => "; the requester's mail is queued",
        None => "; the request gave no address to tell",
    }
}

/// Every stored consent record (or one browser's), as JSON Lines.
pub fn consents(db: &str, consent_id: Option<&str>) -> Result<(), Diagnostics> {
    let found = store::consents(open(db)?.as_mut(), consent_id).map_err(|e| failed(db, e))?;
    let mut out = std::io::stdout().lock();
    found
        .iter()
        .try_for_each(|c| writeln!(out, "{}", serde_json::to_string(c).expect("plain data")))
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
