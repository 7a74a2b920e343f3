//! Words within a block: tokens that keep their style (emphasis, link
//! target), aligned by their text alone, so that a word whose link or
//! emphasis changed reads as restyled, not as struck and inserted again.

use super::{align::align, fold, BlockChange};
use crate::markdown::{Block, Style};
use rustc_hash::FxHashMap;
use similar::DiffOp;
use std::hash::{Hash, Hasher};

/// Share of the longer block's words that must survive for a word-level diff
/// to read better than "removed, then added".
const MIN_SHARED: f64 = 0.4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Equal,
    Delete,
    Insert,
    /// The same text with another style; holds the style it had before.
    Restyled(Style),
}

impl Op {
    /// Whether the text itself changed (deleted or inserted).
    pub fn is_edit(&self) -> bool {
        matches!(self, Op::Delete | Op::Insert)
    }
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
    pub fn is_punctuation(&self) -> bool {
        !self.is_space() && !self.is_word()
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
        let mut chars = run.text.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_alphanumeric() || joins(&word, c, chars.peek().copied()) {
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
                    key: fold(c).to_string(),
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

/// A dot or an at sign between two letters or digits belongs to the word
/// (`support@example.io`, `3.5`), so an address or a number is one token and
/// its dot is never aligned with a sentence's full stop.
fn joins(word: &str, c: char, next: Option<char>) -> bool {
    matches!(c, '.' | '@')
        && word.ends_with(char::is_alphanumeric)
        && next.is_some_and(char::is_alphanumeric)
}

pub fn count(text: &str) -> usize {
    let (mut words, mut word) = (0, String::new());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || joins(&word, c, chars.peek().copied()) {
            word.push(c);
        } else if !word.is_empty() {
            words += 1;
            word.clear();
        }
    }
    words + usize::from(!word.is_empty())
}

/// Calls `f` with the key and style of each token of `block` but spaces,
/// in order, without building tokens: what aligning blocks compares.
pub fn each_key(block: &Block, mut f: impl FnMut(&str, &Style)) {
    let mut mark = [0u8; 4];
    for run in &block.runs {
        let text = run.text.as_str();
        // The word being read, as a slice of the run: where it starts, and
        // whether its last character is a letter or digit.
        let mut word: Option<usize> = None;
        let mut ends_alphanumeric = false;
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            let alphanumeric = c.is_alphanumeric();
            let joined = !alphanumeric
                && word.is_some()
                && ends_alphanumeric
                && matches!(c, '.' | '@')
                && chars
                    .peek()
                    .is_some_and(|&(_, next)| next.is_alphanumeric());
            if alphanumeric || joined {
                word.get_or_insert(at);
                ends_alphanumeric = alphanumeric;
                continue;
            }
            if let Some(start) = word.take() {
                f(&text[start..at], &run.style);
            }
            if !c.is_whitespace() {
                f(fold(c).encode_utf8(&mut mark), &run.style);
            }
        }
        if let Some(start) = word {
            f(&text[start..], &run.style);
        }
    }
}

/// The hashes of a block's words, sorted: what `shared_ratio` compares.
pub fn bag(block: &Block) -> Vec<u64> {
    let mut bag = Vec::new();
    each_key(block, |key, _| {
        if key.starts_with(char::is_alphanumeric) {
            let mut hasher = rustc_hash::FxHasher::default();
            key.hash(&mut hasher);
            bag.push(hasher.finish());
        }
    });
    bag.sort_unstable();
    bag
}

/// Share of the longer bag's words that the other one also has.
pub fn shared_ratio(a: &[u64], b: &[u64]) -> f64 {
    shared(a, b) as f64 / a.len().max(b.len()).max(1) as f64
}

/// Share of `part`'s words that `whole` also has.
pub fn contained_ratio(part: &[u64], whole: &[u64]) -> f64 {
    shared(part, whole) as f64 / part.len().max(1) as f64
}

/// How many words two sorted bags have in common.
fn shared(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared
}

/// Whether two blocks share enough words to be shown as one block edited.
pub fn similar_enough(old: &[u64], new: &[u64]) -> bool {
    shared_ratio(old, new) >= MIN_SHARED
}

/// The word-level edit script from `old` to `new`.
pub fn diff(old: &[Token], new: &[Token], kind: crate::markdown::BlockKind) -> BlockChange {
    BlockChange::Changed {
        kind,
        ops: diff_tokens(old, new),
    }
}

/// The word edits from `old` to the blocks it was cut into: one `Split`
/// part per block, each with the edits of its share of the old text.
pub fn diff_split(
    old: &[Token],
    parts: &[Vec<Token>],
    kind: crate::markdown::BlockKind,
) -> Vec<BlockChange> {
    let joined: Vec<Token> = parts.iter().flatten().cloned().collect();
    let mut scripts: Vec<Vec<(Op, Token)>> = vec![Vec::new(); parts.len()];
    let (mut part, mut taken) = (0, 0);
    for (op, token) in diff_tokens(old, &joined) {
        if !matches!(op, Op::Delete) {
            // An op that shows a new token belongs to the part holding it.
            while part + 1 < parts.len() && taken == parts[part].len() {
                part += 1;
                taken = 0;
            }
            taken += 1;
        }
        scripts[part].push((op, token));
    }
    let count = parts.len();
    scripts
        .into_iter()
        .enumerate()
        .map(|(part, mut ops)| {
            // The space that stood between the parts is not a deletion.
            while ops
                .last()
                .is_some_and(|(op, t)| matches!(op, Op::Delete) && t.key.trim().is_empty())
            {
                ops.pop();
            }
            let lead = ops
                .iter()
                .take_while(|(op, t)| matches!(op, Op::Delete) && t.key.trim().is_empty())
                .count();
            ops.drain(..lead);
            BlockChange::Split {
                kind,
                ops,
                part,
                parts: count,
            }
        })
        .collect()
}

/// Numbers each distinct text, so that aligning compares integers.
fn intern<'a>(a: &'a [Token], b: &'a [Token]) -> (Vec<u32>, Vec<u32>) {
    let mut ids: FxHashMap<&'a str, u32> = FxHashMap::default();
    let mut id = |t: &'a Token| -> u32 {
        let next = ids.len() as u32;
        *ids.entry(t.key.as_str()).or_insert(next)
    };
    let a_ids = a.iter().map(&mut id).collect();
    let b_ids = b.iter().map(&mut id).collect();
    (a_ids, b_ids)
}

pub fn diff_tokens(a: &[Token], b: &[Token]) -> Vec<(Op, Token)> {
    let (a_ids, b_ids) = intern(a, b);
    let mut ops = Vec::with_capacity(a.len().max(b.len()));
    let deleted = |ops: &mut Vec<(Op, Token)>, from: usize, len: usize| {
        ops.extend(a[from..from + len].iter().cloned().map(|t| (Op::Delete, t)))
    };
    let inserted = |ops: &mut Vec<(Op, Token)>, from: usize, len: usize| {
        ops.extend(b[from..from + len].iter().cloned().map(|t| (Op::Insert, t)))
    };
    for op in align(&a_ids, &b_ids) {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => ops.extend((0..len).map(|k| {
                let (was, is) = (&a[old_index + k], &b[new_index + k]);
                if was.style == is.style {
                    (Op::Equal, is.clone())
                } else {
                    (Op::Restyled(was.style.clone()), is.clone())
                }
            })),
            DiffOp::Delete {
                old_index, old_len, ..
            } => deleted(&mut ops, old_index, old_len),
            DiffOp::Insert {
                new_index, new_len, ..
            } => inserted(&mut ops, new_index, new_len),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                deleted(&mut ops, old_index, old_len);
                inserted(&mut ops, new_index, new_len);
            }
        }
    }
    join_restyled(tidy(ops))
}

/// Reads as an editor marks text: a lone space between two edits joins
/// them, and within each run of edits the deleted words come before the
/// inserted ones ("[-within 90 days-]{+within 60 days+}", not word by word).
fn tidy(ops: Vec<(Op, Token)>) -> Vec<(Op, Token)> {
    let mut joined: Vec<(Op, Token)> = Vec::with_capacity(ops.len());
    for i in 0..ops.len() {
        let (op, token) = &ops[i];
        let between_edits = *op == Op::Equal
            && token.is_space()
            && i > 0
            && i + 1 < ops.len()
            && ops[i - 1].0.is_edit()
            && ops[i + 1].0.is_edit();
        if between_edits {
            joined.push((Op::Delete, token.clone()));
            joined.push((Op::Insert, token.clone()));
        } else {
            joined.push((op.clone(), token.clone()));
        }
    }
    let mut out = Vec::with_capacity(joined.len());
    let mut run: Vec<(Op, Token)> = Vec::new();
    for item in joined {
        if item.0.is_edit() {
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

/// A space between two words restyled the same way belongs to their run,
/// so "Terms of Service" whose link changed is one change, not three.
fn join_restyled(mut ops: Vec<(Op, Token)>) -> Vec<(Op, Token)> {
    for i in 1..ops.len().saturating_sub(1) {
        if ops[i].0 != Op::Equal || !ops[i].1.is_space() {
            continue;
        }
        let same = match (&ops[i - 1], &ops[i + 1]) {
            ((Op::Restyled(a), before), (Op::Restyled(b), after)) => {
                a == b && before.style == after.style
            }
            _ => false,
        };
        if same {
            ops[i].0 = ops[i - 1].0.clone();
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::{BlockKind, Run};

    #[test]
    fn each_key_gives_the_keys_of_the_tokens_but_spaces() {
        let run = |text: &str, strong: bool| Run {
            text: text.to_string(),
            style: Style {
                strong,
                ..Style::default()
            },
        };
        let block = Block {
            kind: BlockKind::Paragraph,
            runs: vec![
                run("Write to support@example.io by 3.5 p.m.; the end. ", false),
                run("Données « à jour »—now…  .x a. @b ", true),
                run("Ünïcode’s 2.", false),
            ],
        };
        let mut keys = Vec::new();
        each_key(&block, |key, style| {
            keys.push((key.to_string(), style.strong))
        });
        let expected: Vec<(String, bool)> = tokens(&block)
            .into_iter()
            .filter(|t| !t.is_space())
            .map(|t| (t.key, t.style.strong))
            .collect();
        assert_eq!(keys, expected);
        assert!(keys.contains(&("support@example.io".to_string(), false)));
        assert!(keys.contains(&("3.5".to_string(), false)));
    }
}
