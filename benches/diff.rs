//! Bounded diff benchmarks (issue 13): `cargo bench --bench diff`. Each case
//! runs five times and prints the median against its target; correctness
//! (one word shown) is a unit test in `src/diff/tests.rs`, and repeated here
//! only as a sanity line.
//!
//! - a section of 200,000 list items, one in 100 reworded and one in 1,000
//!   removed or inserted (target < 2 s), and the same list entirely rewritten;
//! - a paragraph of 50,000 words with one word changed (target < 0.5 s, shown
//!   as one word), the same paragraph entirely rewritten, and one of six
//!   words written over again from them.

use policy_site::diff::{diff_blocks, BlockChange, Op};
use policy_site::markdown::{Block, BlockKind, Run, Style};
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn main() {
    let items = |f: &dyn Fn(usize) -> Option<String>| -> Vec<Block> {
        (0..200_000)
            .filter_map(f)
            .map(|t| block(BlockKind::ListItem, t))
            .collect()
    };
    let item = |i: usize| {
        format!(
            "Record {i} is kept for {} days after the account closes.",
            i % 90 + 1
        )
    };
    let old_list = items(&|i| Some(item(i)));
    let edited_list = items(&|i| match i % 1000 {
        500 => None,
        700 => Some(format!(
            "A new rule {i} applies to records made after 2025."
        )),
        _ if i % 100 == 0 => Some(format!(
            "Record {i} is kept for {} weeks after the account closes.",
            i % 90 + 1
        )),
        _ => Some(item(i)),
    });
    let rewritten_list = items(&|i| Some(format!("Entry {} lapses at once.", i * 7)));
    report(
        "200,000-item list, 1% of items edited",
        2.0,
        &old_list,
        &edited_list,
    );
    report(
        "200,000-item list, every item rewritten",
        2.0,
        &old_list,
        &rewritten_list,
    );

    let words = [
        "the", "data", "we", "keep", "about", "you", "for", "as", "long", "law", "requires",
    ];
    let paragraph: Vec<&str> = (0..50_000)
        .map(|i| words[(i * 7 + i / 11) % words.len()])
        .collect();
    let mut one_word = paragraph.clone();
    one_word[25_000] = "forever";
    let rewritten: Vec<String> = (0..50_000).map(|i| format!("w{}", i % 5_000)).collect();
    let old = [block(BlockKind::Paragraph, paragraph.join(" "))];
    let changes = report(
        "50,000-word paragraph, one word changed",
        0.5,
        &old,
        &[block(BlockKind::Paragraph, one_word.join(" "))],
    );
    println!("  shown as: {}", edits(&changes));
    report(
        "50,000-word paragraph, entirely rewritten",
        0.5,
        &old,
        &[block(BlockKind::Paragraph, rewritten.join(" "))],
    );
    // Written over again from the same few words: every word matches almost
    // anywhere, which is Myers' worst case (5 s before the middle of so
    // repetitive a text was taken as rewritten whole).
    let reshuffled: Vec<&str> = (0..50_000)
        .map(|i| words[(i * 13 + i / 7 + 3) % 6])
        .collect();
    let few: Vec<&str> = paragraph
        .iter()
        .map(|w| words[words.iter().position(|x| x == w).unwrap() % 6])
        .collect();
    report(
        "50,000-word paragraph of six words, rewritten from them",
        0.5,
        &[block(BlockKind::Paragraph, few.join(" "))],
        &[block(BlockKind::Paragraph, reshuffled.join(" "))],
    );
}

fn block(kind: BlockKind, text: String) -> Block {
    Block {
        kind,
        runs: vec![Run {
            text,
            style: Style::default(),
        }],
    }
}

/// Diffs `old` against `new` `RUNS` times; prints the median and the target.
fn report(name: &str, target_secs: f64, old: &[Block], new: &[Block]) -> Vec<BlockChange> {
    let mut times: Vec<Duration> = Vec::new();
    let mut cpu: Vec<Duration> = Vec::new();
    let mut changes = Vec::new();
    for _ in 0..RUNS {
        let (start, start_cpu) = (Instant::now(), cpu_time());
        let result = std::hint::black_box(diff_blocks(old, new));
        times.push(start.elapsed());
        cpu.push(cpu_time() - start_cpu);
        changes = result;
    }
    times.sort();
    cpu.sort();
    let median = times[RUNS / 2].as_secs_f64();
    let verdict = if median < target_secs {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "{name}: median {median:.3} s wall, {:.3} s CPU, of {RUNS} runs (wall {:.3} to {:.3}); target < {target_secs} s: {verdict}",
        cpu[RUNS / 2].as_secs_f64(),
        times[0].as_secs_f64(),
        times[RUNS - 1].as_secs_f64()
    );
    changes
}

/// CPU time of this thread so far (Linux), to tell work from waiting on a
/// shared machine.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let nanos = stat
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(nanos)
}

/// The words deleted and inserted, as `[-old-]{+new+}`.
fn edits(changes: &[BlockChange]) -> String {
    changes
        .iter()
        .filter_map(|c| match c {
            BlockChange::Changed { ops, .. } => Some(ops),
            _ => None,
        })
        .flatten()
        .filter_map(|(op, t)| match op {
            Op::Delete => Some(format!("[-{}-]", t.text)),
            Op::Insert => Some(format!("{{+{}+}}", t.text)),
            _ => None,
        })
        .collect()
}
