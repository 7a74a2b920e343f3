//! Words every stage speaks: localized text, slugs, editor litter, a line
//! lookup for placing errors, hex digests and hashed keys. A leaf: it imports nothing of the
//! crate, so any module may use it without making a circle.

use std::collections::BTreeMap;

/// The site's own files and folders, named once for every stage (and for
/// `output`, which must never write over them).
pub const CONFIG_FILE: &str = "policy-site.yaml";
/// The SHA-256 of each published version's sources, written by `lock`.
pub const LOCK_FILE: &str = "policy-site.lock";
/// The chained record of every published version, beside the lock, and
/// published with the site under the same name; its minisign signature;
/// the public key the site publishes to check it with.
pub const PUBLICATION_LOG_FILE: &str = "publication-log.json";
pub const PUBLICATION_SIGNATURE_FILE: &str = "publication-log.json.minisig";
pub const PUBLICATION_KEY_FILE: &str = "publication-key.pub";
/// The Open Terms Archive service declaration the site publishes.
pub const OPEN_TERMS_ARCHIVE_FILE: &str = "open-terms-archive.json";
pub const CONTENT_DIR: &str = "content";
pub const TEMPLATES_DIR: &str = "templates";
pub const STATIC_DIR: &str = "static";

/// A text per language code (`{en: …, fr: …}`).
pub type Localized = BTreeMap<String, String>;

/// First line (1-based) of `text` that contains `needle`, to place errors in
/// files that were parsed as a whole.
pub fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// A value as one number, the same from one run to the next (std's SipHash
/// with fixed keys): the keys of incremental rebuilds.
pub fn digest(value: &impl std::hash::Hash) -> u64 {
    use std::hash::Hasher;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Lower-case hexadecimal, for digests.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A name that can be a URL segment: lowercase letters, digits and dashes.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Files editors leave beside the ones being edited: never sources.
pub fn is_editor_litter(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name.starts_with('#')
        || name == "4913"
}
