//! Differences between two versions of a policy, by meaning rather than
//! markup: sections are matched by stable id, blocks by their text, and words
//! within a changed block. Works on the `Block`s the markdown stage produced,
//! so re-wrapping, list markers and quote styles never show as changes.

//! Every alignment is bounded (`align`), so any input finishes in bounded
//! time; text moved between sections is found afterwards (`moves`).

mod align;
mod moves;
pub mod present;
mod words;

pub use words::{tokens, Op, Token};

use crate::content::{Policy, Section, Site, Translation};
use crate::date::Date;
use crate::markdown::{Block, BlockKind, Style};
use align::align;
use rayon::prelude::*;
use serde::Serialize;
use similar::DiffOp;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A change of one block: kept, added, removed, or changed word by word.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockChange {
    Same(Block),
    Added(Block),
    Removed(Block),
    /// Word-level edit script of a block that was reworded.
    Changed {
        kind: BlockKind,
        ops: Vec<(Op, Token)>,
    },
    /// One of the blocks (`part` of `parts`, counted from 0) that one old
    /// block was cut into, with the edits of its share of the old text.
    Split {
        kind: BlockKind,
        ops: Vec<(Op, Token)>,
        part: usize,
        parts: usize,
    },
    /// A block that now stands in another section (or elsewhere in this
    /// one), shown where it stood.
    MovedAway {
        block: Block,
        to: Place,
    },
    /// A block that stood elsewhere, with the edits made on the way.
    MovedHere {
        from: Place,
        kind: BlockKind,
        ops: Vec<(Op, Token)>,
    },
}

/// A section, named as readers see it: its id (the anchor) and number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub id: String,
    pub number: u32,
}

/// Changes that are not words, counted apart so that the word counts stay
/// about the text and no change passes as "+0/−0": restyled runs (a link
/// target, emphasis), punctuation-only edits, words moved elsewhere.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Marks {
    pub links: usize,
    pub emphasis: usize,
    pub punctuation: usize,
    pub words_moved: usize,
}

impl Marks {
    pub fn is_empty(&self) -> bool {
        *self == Marks::default()
    }
    fn add(&mut self, other: Marks) {
        self.links += other.links;
        self.emphasis += other.emphasis;
        self.punctuation += other.punctuation;
        self.words_moved += other.words_moved;
    }
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
    pub marks: Marks,
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
    pub marks: Marks,
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
pub fn published_pairs(policy: &Policy, today: Date, to_current: usize) -> BTreeSet<(Date, Date)> {
    let mut pairs = BTreeSet::new();
    for pair in policy.versions.windows(2) {
        pairs.insert((pair[0].date, pair[1].date));
    }
    let current_index = policy.current_index(today);
    let current = policy.versions[current_index].date;
    let first = current_index.saturating_sub(to_current);
    for v in &policy.versions[first..current_index] {
        pairs.insert((v.date, current));
    }
    pairs
}

/// The oldest version with a redline against the current one (see
/// `published_pairs`); `None` when the current version is the first.
pub fn oldest_against_current(policy: &Policy, today: Date, to_current: usize) -> Option<Date> {
    let current_index = policy.current_index(today);
    (current_index > 0).then(|| {
        let first = current_index.saturating_sub(to_current.max(1));
        policy.versions[first].date
    })
}

pub fn index(site: &Site, today: Date) -> DiffIndex {
    let mut jobs = Vec::new();
    for policy in &site.policies {
        for (from, to) in published_pairs(policy, today, site.config.redlines_to_current) {
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
    let mut sections = align_sections(old, new);
    moves::detect(&mut sections);
    let mut diff = VersionDiff {
        from,
        to,
        lang: new.lang.clone(),
        sections,
        words_added: 0,
        words_removed: 0,
        marks: Marks::default(),
    };
    for s in &mut diff.sections {
        let (added, removed, marks) = count(&s.blocks);
        let title_words = words::count(s.title());
        s.words_added = added + if s.old.is_none() { title_words } else { 0 };
        s.words_removed = removed + if s.new.is_none() { title_words } else { 0 };
        s.marks = marks;
        diff.words_added += s.words_added;
        diff.words_removed += s.words_removed;
        diff.marks.add(marks);
    }
    diff
}

/// Sections matched by id, in the newer version's order, removed ones where
/// they stood; counts are left for `diff_translations` to fill in.
fn align_sections(old: &Translation, new: &Translation) -> Vec<SectionChange> {
    let old_by_id: BTreeMap<&str, &Section> =
        old.sections.iter().map(|s| (s.id.as_str(), s)).collect();
    let new_ids: BTreeSet<&str> = new.sections.iter().map(|s| s.id.as_str()).collect();
    let in_order = in_order(old, new);
    let mut sections = Vec::new();
    let mut old_iter = old.sections.iter().peekable();
    for s in &new.sections {
        // Removed sections are shown where they stood, before the next kept one.
        while let Some(o) = old_iter.next_if(|o| !new_ids.contains(o.id.as_str())) {
            sections.push(whole_section(o, false));
        }
        old_iter.next_if(|o| o.id == s.id);
        let change = match old_by_id.get(s.id.as_str()) {
            Some(o) => SectionChange {
                id: s.id.clone(),
                old: Some((o.number, o.title.clone())),
                new: Some((s.number, s.title.clone())),
                moved: !in_order.contains(s.id.as_str()),
                blocks: diff_section_blocks(o, s),
                words_added: 0,
                words_removed: 0,
                marks: Marks::default(),
            },
            None => whole_section(s, true),
        };
        sections.push(change);
    }
    for o in old_iter.filter(|o| !new_ids.contains(o.id.as_str())) {
        sections.push(whole_section(o, false));
    }
    sections
}

/// Sections whose order relative to the others changed are moves; a number
/// that changed only because a section was inserted before is not.
fn in_order<'a>(old: &'a Translation, new: &Translation) -> BTreeSet<&'a str> {
    let old_ids: BTreeSet<&str> = old.sections.iter().map(|s| s.id.as_str()).collect();
    let new_ids: BTreeSet<&str> = new.sections.iter().map(|s| s.id.as_str()).collect();
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
        .filter(|id| old_ids.contains(id))
        .collect();
    let mut in_order = BTreeSet::new();
    for op in align(&old_common, &new_common) {
        if let DiffOp::Equal { old_index, len, .. } = op {
            in_order.extend(old_common[old_index..old_index + len].iter().copied());
        }
    }
    in_order
}

fn diff_section_blocks(old: &Section, new: &Section) -> Vec<BlockChange> {
    // Most sections are untouched between two versions: skip the work.
    if old.markdown == new.markdown {
        return new
            .rendered
            .blocks
            .iter()
            .cloned()
            .map(BlockChange::Same)
            .collect();
    }
    diff_blocks(&old.rendered.blocks, &new.rendered.blocks)
}

/// A section only one side has: every block added (or removed).
fn whole_section(s: &Section, added: bool) -> SectionChange {
    let change = if added {
        BlockChange::Added
    } else {
        BlockChange::Removed
    };
    let place = Some((s.number, s.title.clone()));
    SectionChange {
        id: s.id.clone(),
        old: if added { None } else { place.clone() },
        new: if added { place } else { None },
        moved: false,
        blocks: s.rendered.blocks.iter().cloned().map(change).collect(),
        words_added: 0,
        words_removed: 0,
        marks: Marks::default(),
    }
}

/// What two blocks must share to count as the same: kind, and the words
/// with their styles after folding white space and quotes, as one hash so
/// that aligning long sections compares numbers, not strings.
fn block_key(block: &Block) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = rustc_hash::FxHasher::default();
    block.kind.hash(&mut hasher);
    words::each_key(block, |key, style| {
        key.hash(&mut hasher);
        style.hash(&mut hasher);
    });
    hasher.finish()
}

/// Blocks are aligned by content; a removed block followed by an added one
/// that shares enough words is shown as one block changed word by word.
pub fn diff_blocks(old: &[Block], new: &[Block]) -> Vec<BlockChange> {
    let old_keys: Vec<_> = old.iter().map(block_key).collect();
    let new_keys: Vec<_> = new.iter().map(block_key).collect();
    let mut changes = Vec::new();
    for op in align(&old_keys, &new_keys) {
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

/// How far ahead a removed block looks for its reworded successor: keeps
/// pairing linear in the number of blocks replaced.
const PAIR_WINDOW: usize = 16;

/// Share of a part's words that must come from the old block for the part
/// to be read as a piece of it, when a block is cut in several.
const SPLIT_CONTAINED: f64 = 0.6;

/// Pairs replaced blocks in order; pairs too different to read as an edit
/// are shown as removed then added, and a block cut into several as split.
fn pair_blocks(old: &[Block], new: &[Block]) -> Vec<BlockChange> {
    let new_bags: Vec<Vec<u64>> = new.iter().map(words::bag).collect();
    let mut out = Vec::new();
    let mut j = 0;
    for o in old {
        let old_bag = words::bag(o);
        let window = j..new.len().min(j + PAIR_WINDOW);
        let partner = window
            .clone()
            .find(|&k| new[k].kind == o.kind && words::similar_enough(&old_bag, &new_bags[k]));
        let split = split_run(o, &old_bag, new, &new_bags, window)
            .filter(|&(k, _)| partner.is_none_or(|p| k <= p));
        if let Some((k, n)) = split {
            out.extend(new[j..k].iter().cloned().map(BlockChange::Added));
            let parts: Vec<Vec<Token>> = new[k..k + n].iter().map(tokens).collect();
            out.extend(words::diff_split(&tokens(o), &parts, o.kind));
            j = k + n;
            continue;
        }
        match partner {
            Some(k) => {
                out.extend(new[j..k].iter().cloned().map(BlockChange::Added));
                out.push(words::diff(&tokens(o), &tokens(&new[k]), new[k].kind));
                j = k + 1;
            }
            None => out.push(BlockChange::Removed(o.clone())),
        }
    }
    out.extend(new[j..].iter().cloned().map(BlockChange::Added));
    out
}

/// The run of new blocks (first, length ≥ 2) that `o` was cut into: from
/// the first block of the window made mostly of its words, each next one of
/// the same kind also made mostly of its words, together closer to it than
/// the first alone.
fn split_run(
    o: &Block,
    old_bag: &[u64],
    new: &[Block],
    new_bags: &[Vec<u64>],
    window: std::ops::Range<usize>,
) -> Option<(usize, usize)> {
    let piece = |k: usize| {
        new[k].kind == o.kind
            && !new_bags[k].is_empty()
            && words::contained_ratio(&new_bags[k], old_bag) >= SPLIT_CONTAINED
    };
    let first = window.clone().find(|&k| piece(k))?;
    let end = (first..window.end)
        .find(|&k| !piece(k))
        .unwrap_or(window.end);
    let n = end - first;
    if n < 2 {
        return None;
    }
    let mut joined: Vec<u64> = new_bags[first..end].concat();
    joined.sort_unstable();
    let closer =
        words::shared_ratio(old_bag, &joined) > words::shared_ratio(old_bag, &new_bags[first]);
    (closer && words::similar_enough(old_bag, &joined)).then_some((first, n))
}

/// Words added and removed, and the changes that are not words.
fn count(blocks: &[BlockChange]) -> (usize, usize, Marks) {
    let mut added = 0;
    let mut removed = 0;
    let mut marks = Marks::default();
    for b in blocks {
        match b {
            BlockChange::Same(_) => {}
            BlockChange::Added(b) => added += words::count(&b.text()),
            BlockChange::Removed(b) => removed += words::count(&b.text()),
            BlockChange::MovedAway { block, .. } => {
                marks.words_moved += words::count(&block.text())
            }
            BlockChange::Changed { ops, .. }
            | BlockChange::Split { ops, .. }
            | BlockChange::MovedHere { ops, .. } => {
                let (a, r) = count_ops(ops, &mut marks);
                added += a;
                removed += r;
            }
        }
    }
    (added, removed, marks)
}

/// Words inserted and deleted; a run of edits without words is one
/// punctuation change, a run of words restyled alike one link or emphasis
/// change.
fn count_ops(ops: &[(Op, Token)], marks: &mut Marks) -> (usize, usize) {
    let (mut added, mut removed) = (0, 0);
    // Within a run of edits: whether it has words, whether it has punctuation.
    let mut run: Option<(bool, bool)> = None;
    let mut restyled: Option<(&Style, &Style)> = None;
    for (op, t) in ops {
        if op.is_edit() {
            let (words, punctuation) = run.get_or_insert((false, false));
            *words |= t.is_word();
            *punctuation |= t.is_punctuation();
            match op {
                Op::Insert if t.is_word() => added += 1,
                Op::Delete if t.is_word() => removed += 1,
                _ => {}
            }
        } else if let Some((words, punctuation)) = run.take() {
            marks.punctuation += usize::from(!words && punctuation);
        }
        match op {
            Op::Restyled(was) if !t.is_space() => {
                if restyled != Some((was, &t.style)) {
                    marks.links += usize::from(was.link != t.style.link);
                    let look = |s: &Style| (s.emphasis, s.strong, s.code);
                    marks.emphasis += usize::from(look(was) != look(&t.style));
                }
                restyled = Some((was, &t.style));
            }
            Op::Restyled(_) => {}
            _ => restyled = None,
        }
    }
    if let Some((words, punctuation)) = run {
        marks.punctuation += usize::from(!words && punctuation);
    }
    (added, removed)
}

/// Folds typographic quotes and spaces, so quote style is not a change.
pub fn normalize(text: &str) -> String {
    let folded: String = text.chars().map(fold).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One character with typographic quotes and spaces folded.
pub fn fold(c: char) -> char {
    match c {
        '‘' | '’' | '′' => '\'',
        '“' | '”' | '«' | '»' | '″' => '"',
        '\u{a0}' | '\u{202f}' | '\u{2009}' => ' ',
        c => c,
    }
}

#[cfg(test)]
mod tests;
