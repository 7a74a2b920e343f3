//! Aligns two sequences (blocks of a section, words of a block) in bounded
//! time. Small differences get Myers' exact alignment, as before; a large
//! differing middle is first anchored on the items that occur once on each
//! side (patience), and Myers runs only between anchors, under a deadline
//! that only pathological input ever reaches.
//!
//! Determinism: below `EXACT_LIMIT` and for any input whose gaps between
//! anchors are small (real policies, long or not), the result does not
//! depend on time. Only when the deadline is reached does `similar` fall back
//! to showing the rest of a gap as replaced, which may differ between runs.

use similar::{capture_diff_slices_deadline, Algorithm, DiffOp};
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Items in the differing middle up to which Myers runs unbounded: its
/// worst case, (n + m)², stays near 16 million steps.
const EXACT_LIMIT: usize = 4096;
/// What one alignment may cost before the rest is shown as replaced.
const DEADLINE: Duration = Duration::from_millis(300);

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
        capture_diff_slices_deadline(Algorithm::Myers, old, new, None)
    } else {
        let deadline = Instant::now().checked_add(DEADLINE);
        capture_diff_slices_deadline(Algorithm::Patience, old, new, deadline)
    }
}

#[cfg(test)]
mod tests {
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
