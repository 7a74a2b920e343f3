//! The proof a site publishes: its publication log (whole, recording every
//! locked version, still matching the sources and the built pages, signed
//! by the configured key) and its Open Terms Archive declaration (every
//! policy's terms type one OTA knows, the declaration valid against the
//! engine's schema).

use super::lock;
use crate::content::Site;
use crate::error::{Diagnostic, Diagnostics};
use crate::output::Output;
use crate::proof::{self, ota};
use crate::vocabulary::OPEN_TERMS_ARCHIVE_FILE;

/// Findings, and notes that do not fail the check.
pub fn check(site: &Site, outputs: Option<&[Output]>) -> (Diagnostics, Vec<String>) {
    let pages: Option<proof::Pages> = outputs.map(|outputs| {
        outputs
            .iter()
            .map(|o| (o.file.as_str(), o.bytes.as_slice()))
            .collect()
    });
    let audit = proof::audit(site, &lock::locked(&site.root), pages.as_ref());
    let mut found = audit.found;
    found.extend(terms_types(site));
    if let Some(outputs) = outputs {
        found.extend(declaration(outputs));
    }
    (found, audit.notes)
}

/// The log's findings about versions the lock's findings do not already
/// name: a changed file of a locked version is said once, by the lock.
pub fn not_said_by(lock: &Diagnostics, found: Diagnostics, root: &std::path::Path) -> Diagnostics {
    let version_of = |d: &Diagnostic| -> Option<std::path::PathBuf> {
        let file = d.clone().relative_to(root);
        let parts: Vec<_> = file.file()?.components().take(3).collect();
        (parts.len() == 3).then(|| parts.iter().collect())
    };
    let said: Vec<_> = lock.0.iter().filter_map(version_of).collect();
    Diagnostics(
        found
            .0
            .into_iter()
            .filter(|d| version_of(d).is_none_or(|v| !said.contains(&v)))
            .collect(),
    )
}

/// Every `terms_type` is one of OTA's, and names one policy only.
fn terms_types(site: &Site) -> Diagnostics {
    let mut found = Diagnostics::default();
    let mut seen = std::collections::BTreeMap::new();
    for policy in &site.policies {
        let Some(terms_type) = &policy.terms_type else {
            continue;
        };
        let file = site
            .root
            .join(crate::vocabulary::CONTENT_DIR)
            .join(&policy.slug)
            .join("policy.yaml");
        let line = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| crate::vocabulary::line_of(&t, "terms_type"));
        let at = |message: String| {
            let d = Diagnostic::new(&file, message);
            match line {
                Some(line) => d.at_line(line),
                None => d,
            }
        };
        if !ota::TERMS_TYPES.contains(&terms_type.as_str()) {
            let closest = ota::TERMS_TYPES
                .iter()
                .min_by_key(|t| {
                    crate::yaml::edit_distance(&terms_type.to_lowercase(), &t.to_lowercase())
                })
                .expect("a list");
            found.push(
                at(format!("`{terms_type}` is not one of Open Terms Archive's terms types"))
                    .with_hint(format!("did you mean `{closest}`? The types are listed at https://github.com/OpenTermsArchive/terms-types")),
            );
        } else if let Some(other) = seen.insert(terms_type.clone(), policy.slug.clone()) {
            found.push(at(format!(
                "`{other}` is a `{terms_type}` already: an Open Terms Archive declaration names each type once"
            )));
        }
    }
    found
}

/// The built declaration against the engine's schema.
fn declaration(outputs: &[Output]) -> Diagnostics {
    let mut found = Diagnostics::default();
    let Some(built) = outputs.iter().find(|o| o.file == OPEN_TERMS_ARCHIVE_FILE) else {
        return found;
    };
    let value: serde_json::Value = match serde_json::from_slice(&built.bytes) {
        Ok(v) => v,
        Err(e) => {
            found.push(Diagnostic::new(
                OPEN_TERMS_ARCHIVE_FILE,
                format!("the built declaration is not JSON: {e}"),
            ));
            return found;
        }
    };
    for problem in ota::problems(&value) {
        found.push(Diagnostic::new(
            OPEN_TERMS_ARCHIVE_FILE,
            format!("the built Open Terms Archive declaration does not pass the engine's schema: {problem}"),
        ));
    }
    found
}
