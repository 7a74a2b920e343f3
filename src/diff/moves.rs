//! Text moved: a block removed in one place and added in another (another
//! section, or elsewhere in the same one) with most of its words is shown as
//! moved, with the edits made on the way, not as deleted and inserted again.

use super::words::{self, tokens, Token};
use super::{BlockChange, Place, SectionChange};
use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};

/// Share of the longer block's words that must be kept for a move.
const MIN_KEPT: f64 = 0.6;
/// Beyond this many removed × added pairs, only blocks moved word for word
/// are found, so that the search stays linear on huge rewrites.
const MAX_COMPARISONS: usize = 100_000;

/// Where one removed or added block stands, and its words.
struct Candidate {
    section: usize,
    block: usize,
    tokens: Vec<Token>,
    bag: Vec<u64>,
}

pub fn detect(sections: &mut [SectionChange]) {
    let (removed, added) = candidates(sections);
    if removed.is_empty() || added.is_empty() {
        return;
    }
    let mut exact: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
    for (i, a) in added.iter().enumerate().rev() {
        exact.entry(words_key(&a.tokens)).or_default().push(i);
    }
    let fuzzy = removed.len() * added.len() <= MAX_COMPARISONS;
    let mut taken = vec![false; added.len()];
    let mut pairs = Vec::new();
    for r in &removed {
        let same_words = exact
            .get_mut(&words_key(&r.tokens))
            .and_then(|list| list.pop());
        let partner = same_words.or_else(|| fuzzy.then(|| closest(r, &added, &taken)).flatten());
        if let Some(a) = partner.filter(|&a| !taken[a]) {
            taken[a] = true;
            pairs.push((r, &added[a]));
        }
    }
    for (r, a) in pairs {
        let to = place(&sections[a.section], true);
        let from = place(&sections[r.section], false);
        let kind = match &sections[a.section].blocks[a.block] {
            BlockChange::Added(b) => b.kind,
            _ => unreachable!("candidates are added blocks"),
        };
        let ops = words::diff_tokens(&r.tokens, &a.tokens);
        let old = &mut sections[r.section].blocks[r.block];
        if let BlockChange::Removed(block) = old {
            *old = BlockChange::MovedAway {
                block: block.clone(),
                to,
            };
        }
        sections[a.section].blocks[a.block] = BlockChange::MovedHere { from, kind, ops };
    }
}

fn candidates(sections: &[SectionChange]) -> (Vec<Candidate>, Vec<Candidate>) {
    let mut removed = Vec::new();
    let mut added = Vec::new();
    for (section, s) in sections.iter().enumerate() {
        for (block, b) in s.blocks.iter().enumerate() {
            let (list, text) = match b {
                BlockChange::Removed(text) => (&mut removed, text),
                BlockChange::Added(text) => (&mut added, text),
                _ => continue,
            };
            let bag = words::bag(text);
            if !bag.is_empty() {
                list.push(Candidate {
                    section,
                    block,
                    tokens: tokens(text),
                    bag,
                });
            }
        }
    }
    (removed, added)
}

/// The free added block that keeps most of `removed`'s words, if enough.
fn closest(removed: &Candidate, added: &[Candidate], taken: &[bool]) -> Option<usize> {
    added
        .iter()
        .enumerate()
        .filter(|(i, _)| !taken[*i])
        .map(|(i, a)| (i, words::shared_ratio(&removed.bag, &a.bag)))
        .filter(|(_, ratio)| *ratio >= MIN_KEPT)
        .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))
        .map(|(i, _)| i)
}

/// The words of a block, as one number: equal for a block moved unchanged.
fn words_key(tokens: &[Token]) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    for t in tokens.iter().filter(|t| !t.is_space()) {
        t.hash(&mut hasher);
    }
    hasher.finish()
}

/// A section as named in the newer version (`newer`) or the older one.
fn place(s: &SectionChange, newer: bool) -> Place {
    let side = if newer { &s.new } else { &s.old };
    Place {
        id: s.id.clone(),
        number: side.as_ref().or(s.old.as_ref()).map_or(0, |(n, _)| *n),
    }
}
