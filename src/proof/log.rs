//! The publication log: one entry per published version, each holding the
//! SHA-256 of the version's sources and of its policy text in every
//! language, and the hash of the entry before it. Rewriting, removing or
//! reordering a recorded entry breaks the chain from there on, which
//! anyone holding the log can see; a signature over the file (see `sign`)
//! makes a rewrite of the whole chain show too.
//!
//! An entry's hash is the SHA-256 of its JSON without the `hash` member,
//! in the canonical form of RFC 8785 (members sorted by name, no spaces):
//! a reader can recompute it with any JSON tool. The values are strings,
//! booleans and one integer, for which RFC 8785 and serde_json agree.

use crate::error::Diagnostic;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// The log's `format`, so that later layouts can be told apart.
pub const FORMAT: &str = "policy-site publication log 1";
/// The `previous` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    pub format: String,
    pub entries: Vec<Entry>,
}

impl Default for Log {
    fn default() -> Log {
        Log {
            format: FORMAT.to_string(),
            entries: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Its place in the log, from 1.
    pub seq: u64,
    pub policy: String,
    /// The version's "last updated" date (its folder's name).
    pub date: String,
    pub effective: String,
    pub material: bool,
    pub languages: Vec<String>,
    /// SHA-256 of every source file, by its path inside the version folder.
    pub sources: BTreeMap<String, String>,
    /// The policy text as published, by language.
    pub text: BTreeMap<String, Text>,
    /// The `hash` of the entry before (`GENESIS` for the first).
    pub previous: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// The version page, relative to the site's root URL.
    pub page: String,
    /// SHA-256 of its canonical text (see `text`).
    pub sha256: String,
}

/// What is wrong with a log, entry by entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The entry's place in the file (0-based), when it is about one.
    pub index: Option<usize>,
    pub message: String,
}

impl Entry {
    /// "privacy 2024-04-02", as messages name an entry.
    pub fn name(&self) -> String {
        format!("{} {}", self.policy, self.date)
    }

    /// The hash this entry's contents give.
    pub fn computed_hash(&self) -> String {
        let mut value = serde_json::to_value(self).expect("plain data");
        if let Some(object) = value.as_object_mut() {
            object.remove("hash");
        }
        crate::vocabulary::hex(&Sha256::digest(canonical_json(&value).as_bytes()))
    }
}

/// RFC 8785's canonical form for the values the log holds.
fn canonical_json(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            let inner: Vec<String> = members
                .into_iter()
                .map(|(k, v)| {
                    format!(
                        "{}:{}",
                        serde_json::to_string(k).expect("a string"),
                        canonical_json(v)
                    )
                })
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", inner.join(","))
        }
        scalar => serde_json::to_string(scalar).expect("a scalar"),
    }
}

impl Log {
    /// Parses a log; the error names the line.
    pub fn parse(text: &str, file: &Path) -> Result<Log, Diagnostic> {
        serde_json::from_str(text).map_err(|e| {
            Diagnostic::new(file, format!("the publication log cannot be read: {e}"))
                .at_line(e.line().max(1))
                .with_hint("the log is written by `policy-site lock`; restore it from version control rather than editing it")
        })
    }

    /// The file's text: two-space JSON and a final newline, the same bytes
    /// for the same log.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("plain data");
        text.push('\n');
        text
    }

    /// The hash a new entry must name as `previous`.
    pub fn head(&self) -> &str {
        self.entries.last().map_or(GENESIS, |e| e.hash.as_str())
    }

    /// Appends an entry, numbering and chaining it.
    pub fn append(&mut self, mut entry: Entry) {
        entry.seq = self.entries.len() as u64 + 1;
        entry.previous = self.head().to_string();
        entry.hash = entry.computed_hash();
        self.entries.push(entry);
    }

    pub fn find(&self, policy: &str, date: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.policy == policy && e.date == date)
    }

    /// Every break in the chain: an entry whose contents do not give its
    /// hash (changed), one that does not name the entry before it (one
    /// removed or moved), numbers out of order, a version recorded twice.
    pub fn broken(&self) -> Vec<Broken> {
        let mut found = Vec::new();
        if self.format != FORMAT {
            found.push(Broken {
                index: None,
                message: format!(
                    "the log's format is `{}`, not `{FORMAT}`: this version of policy-site cannot check it",
                    self.format
                ),
            });
            return found;
        }
        let mut previous = GENESIS;
        let mut seen = std::collections::BTreeSet::new();
        for (index, entry) in self.entries.iter().enumerate() {
            let at = |message: String| Broken {
                index: Some(index),
                message,
            };
            let name = entry.name();
            if entry.computed_hash() != entry.hash {
                found.push(at(format!(
                    "entry {} ({name}) was changed after it was recorded: its contents no longer give its hash",
                    index + 1
                )));
            }
            let follows = entry.previous == previous;
            if !follows {
                found.push(at(format!(
                    "entry {} ({name}) does not follow the entry before it: an entry was removed, inserted or moved before it",
                    index + 1
                )));
            }
            if follows && entry.seq != index as u64 + 1 {
                found.push(at(format!(
                    "entry {} ({name}) is numbered {}: entries were removed or reordered",
                    index + 1,
                    entry.seq
                )));
            }
            if !seen.insert((entry.policy.as_str(), entry.date.as_str())) {
                found.push(at(format!(
                    "entry {} records {name} a second time",
                    index + 1
                )));
            }
            previous = &entry.hash;
        }
        found
    }

    /// The line of the file where entry `index` starts (for messages).
    pub fn line_of(text: &str, index: usize) -> Option<usize> {
        text.lines()
            .enumerate()
            .filter(|(_, line)| line.trim_start().starts_with("\"seq\":"))
            .nth(index)
            .map(|(i, _)| i + 1)
    }
}

/// The log kept beside the lock, if there is one.
pub fn read(root: &Path) -> Result<Option<(Log, String)>, Diagnostic> {
    let file = root.join(crate::vocabulary::PUBLICATION_LOG_FILE);
    match std::fs::read_to_string(&file) {
        Ok(text) => Log::parse(&text, &file).map(|log| Some((log, text))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Diagnostic::new(
            &file,
            format!("cannot read the publication log: {e}"),
        )),
    }
}

/// Writes the log beside the lock: beside and renamed over, so that a crash
/// leaves the old log whole.
pub fn write(root: &Path, log: &Log) -> Result<(), Diagnostic> {
    let file = root.join(crate::vocabulary::PUBLICATION_LOG_FILE);
    let partial = file.with_extension("json.partial");
    std::fs::write(&partial, log.to_text())
        .and_then(|()| std::fs::rename(&partial, &file))
        .map_err(|e| Diagnostic::new(&file, format!("cannot write the publication log: {e}")))
}

/// SHA-256 of every file of a version folder (editor litter left out), by
/// its path inside it with `/` between folders.
pub fn source_hashes(dir: &Path) -> BTreeMap<String, String> {
    crate::assets::site_files(dir)
        .into_iter()
        .map(|(rel, path)| {
            let bytes = std::fs::read(&path).unwrap_or_default();
            (rel, crate::vocabulary::hex(&Sha256::digest(&bytes)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(policy: &str, date: &str) -> Entry {
        Entry {
            seq: 0,
            policy: policy.into(),
            date: date.into(),
            effective: date.into(),
            material: true,
            languages: vec!["en".into()],
            sources: BTreeMap::from([("en/01-a.md".into(), "ab".repeat(32))]),
            text: BTreeMap::from([(
                "en".into(),
                Text {
                    page: format!("en/{policy}/{date}/"),
                    sha256: "cd".repeat(32),
                },
            )]),
            previous: String::new(),
            hash: String::new(),
        }
    }

    fn log() -> Log {
        let mut log = Log::default();
        for date in ["2023-01-01", "2024-01-01", "2025-01-01"] {
            log.append(entry("privacy", date));
        }
        log
    }

    #[test]
    fn an_appended_log_is_whole_and_reads_back_the_same() {
        let log = log();
        assert!(log.broken().is_empty());
        assert_eq!(log.entries[1].previous, log.entries[0].hash);
        let again = Log::parse(&log.to_text(), Path::new("x")).unwrap();
        assert_eq!(again, log);
    }

    #[test]
    fn the_hash_is_over_the_sorted_compact_json_without_the_hash() {
        let log = log();
        let first = &log.entries[0];
        let mut value = serde_json::to_value(first).unwrap();
        value.as_object_mut().unwrap().remove("hash");
        // serde_json's own map is sorted: its compact form is the canonical one.
        let text = serde_json::to_string(&value).unwrap();
        assert!(text.starts_with("{\"date\":\"2023-01-01\",\"effective\""));
        assert_eq!(
            first.hash,
            crate::vocabulary::hex(&Sha256::digest(text.as_bytes()))
        );
    }

    #[test]
    fn a_changed_a_moved_and_a_removed_entry_each_break_the_chain() {
        let mut changed = log();
        changed.entries[0].material = false;
        let found = changed.broken();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("privacy 2023-01-01) was changed"));

        let mut moved = log();
        moved.entries.swap(1, 2);
        let found = moved.broken();
        assert!(found
            .iter()
            .any(|b| b.index == Some(1) && b.message.contains("does not follow")));

        let mut removed = log();
        removed.entries.remove(1);
        let found = removed.broken();
        assert!(found
            .iter()
            .any(|b| b.message.contains("privacy 2025-01-01) does not follow")));
    }
}
