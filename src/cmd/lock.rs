//! `policy-site lock`: record the versions being published in
//! `policy-site.lock` and the publication log, and sign the log when the
//! signing key is in the environment.

use crate::build::{self, Options};
use crate::check::lock;
use crate::content;
use crate::error::Diagnostics;
use crate::proof;
use crate::vocabulary::{LOCK_FILE, PUBLICATION_LOG_FILE, PUBLICATION_SIGNATURE_FILE};

pub fn run(options: &Options) -> Result<(), Diagnostics> {
    let site = content::load(&options.root, build::load_config(options)?)?;
    let added = lock::write_new(&site)?;
    if added.is_empty() {
        println!("{LOCK_FILE} already records every version.");
    }
    for version in added {
        println!("locked {version}");
    }
    let recorded = record(options)?;
    for version in &recorded {
        println!("recorded {version} in {PUBLICATION_LOG_FILE}");
    }
    if !recorded.is_empty() || !options.root.join(PUBLICATION_SIGNATURE_FILE).exists() {
        sign_or_say(options, !recorded.is_empty())?;
    }
    Ok(())
}

/// Adds every version the log does not record yet, with the text its pages
/// show (the site is compiled in memory for that).
fn record(options: &Options) -> Result<Vec<String>, Diagnostics> {
    let compiled = build::compile(&Options {
        minify: Some(false),
        ..options.clone()
    })?;
    let pages: proof::Pages = compiled
        .outputs
        .iter()
        .map(|o| (o.file.as_str(), o.bytes.as_slice()))
        .collect();
    let mut log = proof::log::read(&options.root)?
        .map(|(log, _)| log)
        .unwrap_or_default();
    let recorded = proof::record(&compiled.site, &mut log, &pages)?;
    if !recorded.is_empty() {
        proof::log::write(&options.root, &log)?;
    }
    Ok(recorded)
}

/// `policy-site sign`: signs the log with the key in the environment.
pub fn sign(options: &Options) -> Result<(), Diagnostics> {
    if !sign_or_say(options, true)? {
        return Err(crate::error::Diagnostic::env(
            proof::sign::KEY_FILE_ENV,
            format!(
                "no signing key: set {} to the secret key file's path, or {} to its contents",
                proof::sign::KEY_FILE_ENV,
                proof::sign::KEY_ENV
            ),
        )
        .into());
    }
    Ok(())
}

/// Signs when a key is at hand; otherwise, when the site expects a
/// signature (`loud`), says that the log now needs one.
fn sign_or_say(options: &Options, loud: bool) -> Result<bool, Diagnostics> {
    let config = build::load_config(options)?;
    let signed = proof::sign_log(&options.root, &config)?;
    if signed {
        println!("signed {PUBLICATION_LOG_FILE} into {PUBLICATION_SIGNATURE_FILE}");
    } else if loud && config.signing.is_some() {
        eprintln!(
            "{PUBLICATION_LOG_FILE} changed and is no longer signed: run `policy-site sign` with {} set",
            proof::sign::KEY_FILE_ENV
        );
    }
    Ok(signed)
}
