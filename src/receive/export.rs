//! The requests as operators take them away, from `policy-site requests
//! export` or the console: CSV (RFC 4180) or JSON Lines, overdue and
//! unverified requests marked, with the answers or without.

use super::store::StoredRequest;
use std::io::Write;

pub const COLUMNS: [&str; 12] = [
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

pub fn row(r: &StoredRequest) -> [String; 12] {
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

/// RFC 4180 quoting of one cell: a few lines, not worth a dependency.
fn csv_cell(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

pub fn csv(out: &mut impl Write, found: &[StoredRequest], answers: bool) -> std::io::Result<()> {
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

/// One JSON object a line; without `answers`, the payload is left out.
pub fn jsonl(out: &mut impl Write, found: &[StoredRequest], answers: bool) -> std::io::Result<()> {
    found.iter().try_for_each(|r| {
        let mut line = serde_json::to_value(r).expect("plain data");
        if !answers {
            line["payload"] = serde_json::Value::Null;
        }
        writeln!(out, "{line}")
    })
}
