//! Aligns two sequences (blocks of a section, words of a block) in bounded,
//! deterministic time. A small differing middle gets Myers' exact alignment
//! from `similar`, as before. A large one goes to `imara-diff`'s Myers,
//! which bounds its cost with git's heuristics (about N·√N at worst) and
//! never reads the clock. `similar` alone cannot do this: its patience runs
//! an unbounded Myers over the unique items, and its only bound is a
//! deadline, which would make two builds of the same sources differ.
//! (`imara-diff`'s histogram diff was tried too: it re-counts every
//! sub-range, five times slower on a long list with scattered edits.)

use imara_diff::intern::{InternedInput, TokenSource};
use similar::{capture_diff_slices, Algorithm, DiffOp};
use std::hash::Hash;
use std::ops::Range;

/// Items in the differing middle up to which Myers runs exactly: its worst
/// case, (n + m)², stays near 16 million steps.
const EXACT_LIMIT: usize = 4096;

pub fn align<T: Eq + Hash + Ord>(old: &[T], new: &[T]) -> Vec<DiffOp> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let middle = old.len() + new.len() - 2 * (prefix + suffix);
    if middle <= EXACT_LIMIT {
        capture_diff_slices(Algorithm::Myers, old, new)
    } else if repetitive(
        &old[prefix..old.len() - suffix],
        &new[prefix..new.len() - suffix],
    ) {
        rewritten(old, new, prefix, suffix)
    } else {
        bounded_myers(old, new)
    }
}

/// Distinct items per item under which a long middle is taken as rewritten
/// whole: its items match almost anywhere, so an alignment would be noise,
/// and Myers' cost grows with the matches (a 50,000-word paragraph written
/// over again from six words took 5 s; see `benches`).
const REPETITIVE: usize = 64;

fn repetitive<T: Eq + Hash>(old: &[T], new: &[T]) -> bool {
    let distinct: std::collections::HashSet<&T> = old.iter().chain(new).collect();
    distinct.len() * REPETITIVE < old.len() + new.len()
}

/// The common start and end kept, the middle replaced.
fn rewritten<T>(old: &[T], new: &[T], prefix: usize, suffix: usize) -> Vec<DiffOp> {
    let mut ops = Vec::new();
    if prefix > 0 {
        ops.push(DiffOp::Equal {
            old_index: 0,
            new_index: 0,
            len: prefix,
        });
    }
    ops.push(change(
        prefix..old.len() - suffix,
        prefix..new.len() - suffix,
    ));
    if suffix > 0 {
        ops.push(DiffOp::Equal {
            old_index: old.len() - suffix,
            new_index: new.len() - suffix,
            len: suffix,
        });
    }
    ops
}

/// A slice as `imara-diff` reads it.
struct Items<'a, T>(&'a [T]);

impl<'a, T: Eq + Hash> TokenSource for Items<'a, T> {
    type Token = &'a T;
    type Tokenizer = std::slice::Iter<'a, T>;
    fn tokenize(&self) -> Self::Tokenizer {
        self.0.iter()
    }
    fn estimate_tokens(&self) -> u32 {
        self.0.len() as u32
    }
}

/// `imara-diff`'s changes, as `similar`'s operations.
fn bounded_myers<T: Eq + Hash>(old: &[T], new: &[T]) -> Vec<DiffOp> {
    let input = InternedInput::new(Items(old), Items(new));
    let mut ops = Vec::new();
    let (mut old_at, mut new_at) = (0, 0);
    let push_equal = |ops: &mut Vec<DiffOp>, old_at: usize, new_at: usize, len: usize| {
        if len > 0 {
            ops.push(DiffOp::Equal {
                old_index: old_at,
                new_index: new_at,
                len,
            });
        }
    };
    let sink = |before: Range<u32>, after: Range<u32>| {
        let (before, after) = (
            before.start as usize..before.end as usize,
            after.start as usize..after.end as usize,
        );
        push_equal(&mut ops, old_at, new_at, before.start - old_at);
        ops.push(change(before.clone(), after.clone()));
        (old_at, new_at) = (before.end, after.end);
    };
    imara_diff::diff(imara_diff::Algorithm::Myers, &input, sink);
    push_equal(&mut ops, old_at, new_at, old.len() - old_at);
    ops
}

fn change(before: Range<usize>, after: Range<usize>) -> DiffOp {
    match (before.is_empty(), after.is_empty()) {
        (false, true) => DiffOp::Delete {
            old_index: before.start,
            old_len: before.len(),
            new_index: after.start,
        },
        (true, false) => DiffOp::Insert {
            old_index: before.start,
            new_index: after.start,
            new_len: after.len(),
        },
        _ => DiffOp::Replace {
            old_index: before.start,
            old_len: before.len(),
            new_index: after.start,
            new_len: after.len(),
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_middle_of_few_distinct_items_is_one_replacement_between_its_common_ends() {
        let noise = |seed: u64| -> Vec<u32> {
            (0..20_000u64)
                .map(|i| ((i * 2_654_435_761 + seed * 97) >> 7) as u32 % 6)
                .collect()
        };
        let old: Vec<u32> = [vec![100, 101], noise(1), vec![200]].concat();
        let new: Vec<u32> = [vec![100, 101], noise(2), vec![200]].concat();
        let ops = super::align(&old, &new);
        assert_eq!(ops.len(), 3, "{ops:?}");
        assert!(matches!(ops[0], similar::DiffOp::Equal { len: 2, .. }));
        assert!(matches!(
            ops[1],
            similar::DiffOp::Replace {
                old_len: 20_000,
                new_len: 20_000,
                ..
            }
        ));
        assert!(matches!(ops[2], similar::DiffOp::Equal { len: 1, .. }));
    }

    use super::*;

    #[test]
    fn one_item_changed_in_a_long_sequence_is_one_replacement() {
        let old: Vec<u32> = (0..100_000).map(|i| i % 7).collect();
        let mut new = old.clone();
        new[50_000] = 99;
        let ops = align(&old, &new);
        let changed: Vec<_> = ops
            .iter()
            .filter(|op| !matches!(op, DiffOp::Equal { .. }))
            .collect();
        assert_eq!(
            changed,
            [&DiffOp::Replace {
                old_index: 50_000,
                old_len: 1,
                new_index: 50_000,
                new_len: 1
            }]
        );
    }

    #[test]
    fn large_scattered_edits_anchor_on_unique_items() {
        let old: Vec<u32> = (0..20_000).collect();
        let new: Vec<u32> = (0..20_000)
            .map(|i| if i % 100 == 0 { 1_000_000 + i } else { i })
            .collect();
        let replaced: usize = align(&old, &new)
            .iter()
            .map(|op| match op {
                DiffOp::Replace { old_len, .. } => *old_len,
                _ => 0,
            })
            .sum();
        assert_eq!(replaced, 200, "only the 200 changed items are replaced");
    }
}
