//! Parsed sections kept between builds by `serve`: a section whose file,
//! text and directive context are unchanged is reused instead of parsed and
//! rendered again, so an edit re-renders only the markdown that changed.

use super::Section;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct SectionCache {
    entries: Mutex<HashMap<PathBuf, ([u8; 32], Section)>>,
}

impl SectionCache {
    /// The key of a section's inputs: its text and what decides which
    /// directives are known (the rights catalogue and the cookie inventory).
    pub(super) fn key(context: &str, text: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(context.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.finalize().into()
    }

    pub(super) fn get(&self, path: &Path, key: &[u8; 32]) -> Option<Section> {
        let entries = self.entries.lock().expect("not poisoned");
        entries
            .get(path)
            .filter(|(k, _)| k == key)
            .map(|(_, s)| s.clone())
    }

    pub(super) fn put(&self, path: &Path, key: [u8; 32], section: &Section) {
        let mut entries = self.entries.lock().expect("not poisoned");
        entries.insert(path.to_path_buf(), (key, section.clone()));
    }
}
