//! Static files: the defaults ship in the binary (the repository's
//! `static/`); a site's own `static/` adds files or overrides them by path.
//! Pages link the banner and form files with subresource-integrity hashes.

use crate::error::{Diagnostic, Diagnostics};
use base64::Engine;
use sha2::{Digest, Sha384};
use std::collections::BTreeMap;
use std::path::Path;

const BUILT_IN: &[(&str, &[u8])] = &[
    ("site.css", include_bytes!("../static/site.css")),
    (
        "consent/banner.js",
        include_bytes!("../static/consent/banner.js"),
    ),
    (
        "consent/banner.css",
        include_bytes!("../static/consent/banner.css"),
    ),
    (
        "consent/receipt.js",
        include_bytes!("../static/consent/receipt.js"),
    ),
    ("forms/forms.js", include_bytes!("../static/forms/forms.js")),
    (
        "forms/forms.css",
        include_bytes!("../static/forms/forms.css"),
    ),
    (
        "schemas/consent-record.v1.json",
        include_bytes!("../static/schemas/consent-record.v1.json"),
    ),
    (
        "schemas/consent-iso27560.json",
        include_bytes!("../static/schemas/consent-iso27560.json"),
    ),
    (
        "schemas/rights-request.v1.json",
        include_bytes!("../static/schemas/rights-request.v1.json"),
    ),
];

/// Files the page templates link to, with their integrity hashes.
pub const LINKED: &[(&str, &str)] = &[
    ("site_css", "site.css"),
    ("banner_js", "consent/banner.js"),
    ("banner_css", "consent/banner.css"),
    ("receipt_js", "consent/receipt.js"),
    ("forms_js", "forms/forms.js"),
    ("forms_css", "forms/forms.css"),
];

#[derive(Debug, Clone, Default)]
pub struct Assets {
    /// Output path (relative, `/`-separated) → bytes.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Assets {
    /// `sha384-…` for a file, as the `integrity` attribute takes it.
    pub fn integrity(&self, path: &str) -> Option<String> {
        self.files
            .get(path)
            .map(|bytes| integrity_of(&Sha384::digest(bytes)))
    }
}

/// `sha384-…` for a file's SHA-384 digest.
pub fn integrity_of(sha384: &[u8]) -> String {
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha384)
    )
}

pub fn load(root: &Path) -> Result<Assets, Diagnostics> {
    let mut assets = Assets::default();
    for (path, bytes) in BUILT_IN {
        assets.files.insert(path.to_string(), bytes.to_vec());
    }
    let mut found = Diagnostics::default();
    for (rel, path) in site_files(&root.join(crate::vocabulary::STATIC_DIR)) {
        match std::fs::read(&path) {
            Ok(bytes) => {
                assets.files.insert(rel, bytes);
            }
            Err(e) => found.push(Diagnostic::new(
                path,
                format!("cannot read the static file: {e}"),
            )),
        }
    }
    found.into_result(assets)
}

/// The files of a site folder that override or add to the built-in ones
/// (`static/`, `templates/`): `/`-separated relative names, in name order,
/// without editors' temporary files.
pub fn site_files(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().is_file()
                && !crate::vocabulary::is_editor_litter(&e.file_name().to_string_lossy())
        })
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap_or(e.path())
                .to_string_lossy()
                .replace('\\', "/");
            (rel, e.into_path())
        })
        .collect()
}
