//! Words within a block: tokens that keep their style (emphasis, link
//! target), compared after folding quotes and white space.

use super::{normalize, BlockChange};
use crate::markdown::{Block, Style};
use similar::{capture_diff_slices, Algorithm, DiffOp};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// Above this many tokens in a pair of blocks, a rewrite is shown as the old
/// block removed and the new one added: bounds the work on pathological input.
const MAX_PAIR_TOKENS: usize = 3000;
/// Share of the longer block's words that must survive for a word-level diff
/// to read better than "removed, then added".
const MIN_SHARED: f64 = 0.4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Equal,
    Delete,
    Insert,
}

/// A word, a run of white space, or one punctuation character.
#[derive(Debug, Clone)]
pub struct Token {
    /// Compared: normalised text.
    pub key: String,
    /// Shown: the text as written.
    pub text: String,
    pub style: Style,
}

impl Token {
    pub fn is_space(&self) -> bool {
        self.key == " "
    }
    pub fn is_word(&self) -> bool {
        self.key.chars().next().is_some_and(char::is_alphanumeric)
    }
}

impl PartialEq for Token {
    fn eq(&self, other: &Token) -> bool {
        self.key == other.key && self.style == other.style
    }
}
impl Eq for Token {}
impl Hash for Token {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
        self.style.hash(state);
    }
}
impl PartialOrd for Token {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Token {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.key, &self.style).cmp(&(&other.key, &other.style))
    }
}

pub fn tokens(block: &Block) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    for run in &block.runs {
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut Vec<Token>| {
            if !word.is_empty() {
                out.push(Token {
                    key: word.clone(),
                    text: std::mem::take(word),
                    style: run.style.clone(),
                });
            }
        };
        for c in run.text.chars() {
            if c.is_alphanumeric() {
                word.push(c);
                continue;
            }
            flush(&mut word, &mut out);
            if c.is_whitespace() {
                // Spaces merge across runs; their style does not matter.
                match out.last_mut() {
                    Some(t) if t.is_space() => t.text.push(c),
                    _ => out.push(Token {
                        key: " ".into(),
                        text: c.to_string(),
                        style: Style::default(),
                    }),
                }
            } else {
                out.push(Token {
                    key: normalize(&c.to_string()),
                    text: c.to_string(),
                    style: run.style.clone(),
                });
            }
        }
        flush(&mut word, &mut out);
    }
    // Leading and trailing spaces are layout, not text.
    while out.first().is_some_and(Token::is_space) {
        out.remove(0);
    }
    while out.last().is_some_and(Token::is_space) {
        out.pop();
    }
    out
}

pub fn count(text: &str) -> usize {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .count()
}

/// Whether two blocks share enough words to be shown as one block edited.
pub fn similar_enough(old: &Block, new: &Block) -> bool {
    let a = tokens(old);
    let b = tokens(new);
    if a.len() + b.len() > MAX_PAIR_TOKENS {
        return false;
    }
    let mut bag: HashMap<&str, i32> = HashMap::new();
    for t in a.iter().filter(|t| t.is_word()) {
        *bag.entry(&t.key).or_default() += 1;
    }
    let mut shared = 0;
    for t in b.iter().filter(|t| t.is_word()) {
        if let Some(n) = bag.get_mut(t.key.as_str()) {
            if *n > 0 {
                *n -= 1;
                shared += 1;
            }
        }
    }
    let longest = a
        .iter()
        .filter(|t| t.is_word())
        .count()
        .max(b.iter().filter(|t| t.is_word()).count())
        .max(1);
    shared as f64 / longest as f64 >= MIN_SHARED
}

/// The word-level edit script from `old` to `new`.
pub fn diff(old: &Block, new: &Block) -> BlockChange {
    let a = tokens(old);
    let b = tokens(new);
    let mut ops = Vec::with_capacity(a.len().max(b.len()));
    for op in capture_diff_slices(Algorithm::Myers, &a, &b) {
        match op {
            DiffOp::Equal { new_index, len, .. } => ops.extend(
                b[new_index..new_index + len]
                    .iter()
                    .cloned()
                    .map(|t| (Op::Equal, t)),
            ),
            DiffOp::Delete {
                old_index, old_len, ..
            } => ops.extend(
                a[old_index..old_index + old_len]
                    .iter()
                    .cloned()
                    .map(|t| (Op::Delete, t)),
            ),
            DiffOp::Insert {
                new_index, new_len, ..
            } => ops.extend(
                b[new_index..new_index + new_len]
                    .iter()
                    .cloned()
                    .map(|t| (Op::Insert, t)),
            ),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                ops.extend(
                    a[old_index..old_index + old_len]
                        .iter()
                        .cloned()
                        .map(|t| (Op::Delete, t)),
                );
                ops.extend(
                    b[new_index..new_index + new_len]
                        .iter()
                        .cloned()
                        .map(|t| (Op::Insert, t)),
                );
            }
        }
    }
    BlockChange::Changed {
        kind: new.kind,
        ops: tidy(ops),
    }
}

/// Reads as an editor marks text: a lone space between two edits joins
/// them, and within each run of edits the deleted words come before the
/// inserted ones ("[-within 90 days-]{+within 60 days+}", not word by word).
fn tidy(ops: Vec<(Op, Token)>) -> Vec<(Op, Token)> {
    let edit = |op: Op| op != Op::Equal;
    let mut joined: Vec<(Op, Token)> = Vec::with_capacity(ops.len());
    for i in 0..ops.len() {
        let (op, token) = &ops[i];
        let between_edits = *op == Op::Equal
            && token.is_space()
            && i > 0
            && i + 1 < ops.len()
            && edit(ops[i - 1].0)
            && edit(ops[i + 1].0);
        if between_edits {
            joined.push((Op::Delete, token.clone()));
            joined.push((Op::Insert, token.clone()));
        } else {
            joined.push((*op, token.clone()));
        }
    }
    let mut out = Vec::with_capacity(joined.len());
    let mut run: Vec<(Op, Token)> = Vec::new();
    for item in joined {
        if edit(item.0) {
            run.push(item);
            continue;
        }
        out.extend(run.iter().filter(|(op, _)| *op == Op::Delete).cloned());
        out.extend(run.drain(..).filter(|(op, _)| *op == Op::Insert));
        out.push(item);
    }
    out.extend(run.iter().filter(|(op, _)| *op == Op::Delete).cloned());
    out.extend(run.into_iter().filter(|(op, _)| *op == Op::Insert));
    out
}
