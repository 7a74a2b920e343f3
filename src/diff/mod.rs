//! Differences between two versions of a policy, by meaning rather than
//! markup: sections are matched by stable id, blocks by their text, and words
//! within a changed block. Works on the `Block`s the markdown stage produced,
//! so re-wrapping, list markers and quote styles never show as changes.

pub mod present;
mod words;

pub use words::{tokens, Op, Token};

use crate::content::{Policy, Section, Site, Translation};
use crate::date::Date;
use crate::markdown::Block;
use rayon::prelude::*;
use similar::{capture_diff_slices, Algorithm, DiffOp};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A change of one block: kept, added, removed, or changed word by word.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockChange {
    Same(Block),
    Added(Block),
    Removed(Block),
    /// Word-level edit script of a block that was reworded.
    Changed {
        kind: crate::markdown::BlockKind,
        ops: Vec<(Op, Token)>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SectionChange {
    pub id: String,
    /// (number, title) in the older version, if the section was there.
    pub old: Option<(u32, String)>,
    pub new: Option<(u32, String)>,
    /// Its position relative to the other sections changed.
    pub moved: bool,
    pub blocks: Vec<BlockChange>,
    pub words_added: usize,
    pub words_removed: usize,
}

impl SectionChange {
    pub fn is_unchanged(&self) -> bool {
        self.old.is_some()
            && self.new.is_some()
            && !self.moved
            && !self.renamed()
            && self
                .blocks
                .iter()
                .all(|b| matches!(b, BlockChange::Same(_)))
    }
    pub fn renamed(&self) -> bool {
        matches!((&self.old, &self.new), (Some((_, a)), Some((_, b))) if normalize(a) != normalize(b))
    }
    pub fn renumbered(&self) -> bool {
        matches!((&self.old, &self.new), (Some((a, _)), Some((b, _))) if a != b)
    }
    pub fn number(&self) -> u32 {
        self.new
            .as_ref()
            .or(self.old.as_ref())
            .map(|(n, _)| *n)
            .unwrap_or(0)
    }
    pub fn title(&self) -> &str {
        self.new
            .as_ref()
            .or(self.old.as_ref())
            .map(|(_, t)| t.as_str())
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VersionDiff {
    pub from: Date,
    pub to: Date,
    pub lang: String,
    /// In the newer version's order, removed sections where they stood.
    pub sections: Vec<SectionChange>,
    pub words_added: usize,
    pub words_removed: usize,
}

impl VersionDiff {
    pub fn changed_sections(&self) -> impl Iterator<Item = &SectionChange> {
        self.sections.iter().filter(|s| !s.is_unchanged())
    }
    pub fn is_unchanged(&self) -> bool {
        self.sections.iter().all(SectionChange::is_unchanged)
    }
}

/// Every diff the site publishes: each version against its predecessor, and
/// each earlier version against the current one, per language.
#[derive(Debug, Default)]
pub struct DiffIndex {
    diffs: HashMap<(String, String, Date, Date), VersionDiff>,
}

impl DiffIndex {
    pub fn get(&self, policy: &str, lang: &str, from: Date, to: Date) -> Option<&VersionDiff> {
        self.diffs
            .get(&(policy.to_string(), lang.to_string(), from, to))
    }
    pub fn len(&self) -> usize {
        self.diffs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.diffs.is_empty()
    }
}

/// The pairs of versions whose diff is published: linear in their number.
pub fn published_pairs(policy: &Policy, today: Date) -> BTreeSet<(Date, Date)> {
    let mut pairs = BTreeSet::new();
    for pair in policy.versions.windows(2) {
        pairs.insert((pair[0].date, pair[1].date));
    }
    let current = policy.versions[policy.current_index(today)].date;
    for v in policy.versions.iter().filter(|v| v.date < current) {
        pairs.insert((v.date, current));
    }
    pairs
}

pub fn index(site: &Site, today: Date) -> DiffIndex {
    let mut jobs = Vec::new();
    for policy in &site.policies {
        for (from, to) in published_pairs(policy, today) {
            let (a, b) = (
                policy.version(from).expect("pair from the policy"),
                policy.version(to).expect("pair from the policy"),
            );
            for (lang, old) in &a.translations {
                if let Some(new) = b.translations.get(lang) {
                    jobs.push((policy.slug.clone(), lang.clone(), from, to, old, new));
                }
            }
        }
    }
    let diffs = jobs
        .into_par_iter()
        .map(|(policy, lang, from, to, old, new)| {
            let diff = diff_translations(old, new, from, to);
            ((policy, lang, from, to), diff)
        })
        .collect();
    DiffIndex { diffs }
}

/// Diffs two translations of a policy in one language.
pub fn diff_translations(
    old: &Translation,
    new: &Translation,
    from: Date,
    to: Date,
) -> VersionDiff {
    let old_by_id: BTreeMap<&str, &Section> =
        old.sections.iter().map(|s| (s.id.as_str(), s)).collect();
    let new_ids: BTreeSet<&str> = new.sections.iter().map(|s| s.id.as_str()).collect();
    // Sections whose order relative to the others changed are moves; a number
    // that changed only because a section was inserted before is not.
    let old_common: Vec<&str> = old
        .sections
        .iter()
        .map(|s| s.id.as_str())
        .filter(|id| new_ids.contains(id))
        .collect();
    let new_common: Vec<&str> = new
        .sections
        .iter()
        .map(|s| s.id.as_str())
        .filter(|id| old_by_id.contains_key(id))
        .collect();
    let mut in_order = BTreeSet::new();
    for op in capture_diff_slices(Algorithm::Myers, &old_common, &new_common) {
        if let DiffOp::Equal { old_index, len, .. } = op {
            in_order.extend(old_common[old_index..old_index + len].iter().copied());
        }
    }
    let mut sections = Vec::new();
    let mut pending_removed: Vec<&Section> = Vec::new();
    let mut old_iter = old.sections.iter().peekable();
    for s in &new.sections {
        // Removed sections are shown where they stood, before the next kept one.
        while let Some(o) = old_iter.peek() {
            if new_ids.contains(o.id.as_str()) {
                break;
            }
            pending_removed.push(old_iter.next().expect("peeked"));
        }
        for r in pending_removed.drain(..) {
            sections.push(removed_section(r));
        }
        if old_iter.peek().is_some_and(|o| o.id == s.id) {
            old_iter.next();
        }
        let change = match old_by_id.get(s.id.as_str()) {
            Some(o) => {
                // Most sections are untouched between two versions: skip the work.
                let blocks = if o.markdown == s.markdown {
                    s.rendered
                        .blocks
                        .iter()
                        .cloned()
                        .map(BlockChange::Same)
                        .collect()
                } else {
                    diff_blocks(&o.rendered.blocks, &s.rendered.blocks)
                };
                let (added, removed) = count_words(&blocks);
                SectionChange {
                    id: s.id.clone(),
                    old: Some((o.number, o.title.clone())),
                    new: Some((s.number, s.title.clone())),
                    moved: !in_order.contains(s.id.as_str()),
                    blocks,
                    words_added: added,
                    words_removed: removed,
                }
            }
            None => {
                let blocks: Vec<_> = s
                    .rendered
                    .blocks
                    .iter()
                    .cloned()
                    .map(BlockChange::Added)
                    .collect();
                let (added, _) = count_words(&blocks);
                SectionChange {
                    id: s.id.clone(),
                    old: None,
                    new: Some((s.number, s.title.clone())),
                    moved: false,
                    blocks,
                    words_added: added + words::count(&s.title),
                    words_removed: 0,
                }
            }
        };
        sections.push(change);
    }
    for o in old_iter.filter(|o| !new_ids.contains(o.id.as_str())) {
        sections.push(removed_section(o));
    }
    let words_added = sections.iter().map(|s| s.words_added).sum();
    let words_removed = sections.iter().map(|s| s.words_removed).sum();
    VersionDiff {
        from,
        to,
        lang: new.lang.clone(),
        sections,
        words_added,
        words_removed,
    }
}

fn removed_section(s: &Section) -> SectionChange {
    let blocks: Vec<_> = s
        .rendered
        .blocks
        .iter()
        .cloned()
        .map(BlockChange::Removed)
        .collect();
    let (_, removed) = count_words(&blocks);
    SectionChange {
        id: s.id.clone(),
        old: Some((s.number, s.title.clone())),
        new: None,
        moved: false,
        blocks,
        words_added: 0,
        words_removed: removed + words::count(&s.title),
    }
}

/// What two blocks must share to count as the same: kind, and the words
/// with their styles after folding white space and quotes, as one hash so
/// that aligning long sections compares numbers, not strings.
fn block_key(block: &Block) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    block.kind.hash(&mut hasher);
    for token in tokens(block).iter().filter(|t| !t.is_space()) {
        token.hash(&mut hasher);
    }
    hasher.finish()
}

/// Blocks are aligned by content; a removed block followed by an added one
/// that shares enough words is shown as one block changed word by word.
pub fn diff_blocks(old: &[Block], new: &[Block]) -> Vec<BlockChange> {
    let old_keys: Vec<_> = old.iter().map(block_key).collect();
    let new_keys: Vec<_> = new.iter().map(block_key).collect();
    let mut changes = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &old_keys, &new_keys) {
        match op {
            DiffOp::Equal { new_index, len, .. } => changes.extend(
                new[new_index..new_index + len]
                    .iter()
                    .cloned()
                    .map(BlockChange::Same),
            ),
            DiffOp::Delete {
                old_index, old_len, ..
            } => changes.extend(
                old[old_index..old_index + old_len]
                    .iter()
                    .cloned()
                    .map(BlockChange::Removed),
            ),
            DiffOp::Insert {
                new_index, new_len, ..
            } => changes.extend(
                new[new_index..new_index + new_len]
                    .iter()
                    .cloned()
                    .map(BlockChange::Added),
            ),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                changes.extend(pair_blocks(
                    &old[old_index..old_index + old_len],
                    &new[new_index..new_index + new_len],
                ));
            }
        }
    }
    changes
}

/// Pairs replaced blocks in order; pairs too different to read as an edit
/// (or too large to diff cheaply) are shown as removed then added.
fn pair_blocks(old: &[Block], new: &[Block]) -> Vec<BlockChange> {
    let mut out = Vec::new();
    let mut j = 0;
    for o in old {
        let partner =
            (j..new.len()).find(|&k| new[k].kind == o.kind && words::similar_enough(o, &new[k]));
        match partner {
            Some(k) => {
                out.extend(new[j..k].iter().cloned().map(BlockChange::Added));
                out.push(words::diff(o, &new[k]));
                j = k + 1;
            }
            None => out.push(BlockChange::Removed(o.clone())),
        }
    }
    out.extend(new[j..].iter().cloned().map(BlockChange::Added));
    out
}

fn count_words(blocks: &[BlockChange]) -> (usize, usize) {
    let mut added = 0;
    let mut removed = 0;
    for b in blocks {
        match b {
            BlockChange::Same(_) => {}
            BlockChange::Added(b) => added += words::count(&b.text()),
            BlockChange::Removed(b) => removed += words::count(&b.text()),
            BlockChange::Changed { ops, .. } => {
                for (op, t) in ops {
                    match op {
                        Op::Insert if t.is_word() => added += 1,
                        Op::Delete if t.is_word() => removed += 1,
                        _ => {}
                    }
                }
            }
        }
    }
    (added, removed)
}

/// Folds typographic quotes and spaces, so quote style is not a change.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        out.push(match c {
            '‘' | '’' | '′' => '\'',
            '“' | '”' | '«' | '»' | '″' => '"',
            '\u{a0}' | '\u{202f}' | '\u{2009}' => ' ',
            c => c,
        });
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
