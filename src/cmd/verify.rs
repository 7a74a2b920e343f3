//! `policy-site verify`: checks a published site (a URL or a folder)
//! against its publication log, and prints what diverged like `check`.

use crate::check::{self, Findings, Format};
use crate::error::Diagnostics;
use crate::proof::{fetch::Source, verify};
use std::process::ExitCode;

/// Exit 0 when everything verified, 1 when something diverged, 2 when
/// there was nothing to verify or the site could not be read.
pub fn run(place: &str, key: Option<&str>, format: Format) -> ExitCode {
    let pinned = match key.map(read_key).transpose() {
        Ok(pinned) => pinned,
        Err(why) => {
            eprintln!("error: --key: {why}");
            return ExitCode::from(2);
        }
    };
    let report = Source::open(place).and_then(|source| verify::verify(&source, pinned.as_ref()));
    let report = match report {
        Ok(report) => report,
        Err(why) => {
            eprintln!("error: {why}");
            return ExitCode::from(2);
        }
    };
    let found = Findings {
        open: Diagnostics(report.diverged),
        ..Findings::default()
    };
    if format == Format::Human {
        for note in &report.notes {
            eprintln!("note: {note}");
        }
    }
    if found.open.is_empty() {
        if format == Format::Human {
            let signed = match &report.signed_by {
                Some(key) => format!("signed by {key}"),
                None => "not signed".to_string(),
            };
            println!(
                "{place}: verified {} entries of the publication log and {} version pages ({signed})",
                report.entries, report.pages
            );
        } else {
            print!("{}", check::format(&found, format, false));
        }
        ExitCode::SUCCESS
    } else {
        let text = check::format(&found, format, false);
        match format {
            Format::Human => eprintln!("{text}"),
            _ => print!("{text}"),
        }
        ExitCode::FAILURE
    }
}

/// A key given as a `.pub` file's path or as its key line.
fn read_key(given: &str) -> Result<minisign::PublicKey, String> {
    match std::fs::read_to_string(given) {
        Ok(text) => minisign::PublicKeyBox::from_string(&text)
            .and_then(|b| b.into_public_key())
            .map_err(|e| format!("{given} is not a minisign public key file: {e}")),
        Err(_) => crate::proof::sign::public_key(given),
    }
}
