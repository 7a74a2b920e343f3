//! Shows a diff: as HTML for the changes pages (with `<del>`/`<ins>` and
//! markers screen readers announce) and as text for the terminal. A change
//! that is not words (a link target, emphasis, text moved) is said in words
//! ("[link changed: old → new]"), so it reads without colour and in print.

use super::{BlockChange, Op, Place, SectionChange, Token, VersionDiff};
use crate::markdown::{Block, BlockKind, Style};
use std::collections::{BTreeMap, BTreeSet};

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Which version a piece of text comes from: where its links lead.
#[derive(Clone, Copy)]
enum Side {
    Old,
    New,
}

/// One redline page: its strings (the `diff` namespace), the section ids it
/// carries, and the version pages that links to anything else go to.
pub struct Redline<'a> {
    strings: &'a BTreeMap<String, String>,
    section_ids: BTreeSet<&'a str>,
    old_page: &'a str,
    new_page: &'a str,
}

impl<'a> Redline<'a> {
    /// Every section of `diff` keeps its id on the page (changed ones as
    /// sections, unchanged ones in their list), so `#id` links stay as they
    /// are; links to other anchors go to the version page of their text.
    pub fn new(
        diff: &'a VersionDiff,
        strings: &'a BTreeMap<String, String>,
        old_page: &'a str,
        new_page: &'a str,
    ) -> Self {
        Redline {
            strings,
            section_ids: diff.sections.iter().map(|s| s.id.as_str()).collect(),
            old_page,
            new_page,
        }
    }

    fn text(&self, key: &str) -> String {
        self.strings
            .get(key)
            .map_or(key, String::as_str)
            .to_string()
    }

    /// The blocks of one section change, as HTML.
    /// Unchanged blocks are shown only next to a change, as context; longer
    /// runs of them become one line linking to the text on the version page,
    /// so a one-line edit in a long section does not copy the section.
    pub fn section_html(&self, change: &SectionChange) -> String {
        let same = |i: usize| matches!(change.blocks.get(i), Some(BlockChange::Same(_)));
        let context = |i: usize| {
            !same(i) || (i > 0 && !same(i - 1)) || !same(i + 1) && i + 1 < change.blocks.len()
        };
        let mut html = String::new();
        let mut hidden = 0;
        for (i, block) in change.blocks.iter().enumerate() {
            let run_ends = i + 1 == change.blocks.len() || context(i + 1);
            if !context(i) && (hidden > 0 || !run_ends) {
                hidden += 1;
                if run_ends {
                    html.push_str(&self.elided(change, hidden));
                    hidden = 0;
                }
                continue;
            }
            let (kind, class, inner) = self.block_parts(change, block);
            block_html(&mut html, kind, class, &inner);
        }
        html
    }

    /// "[… 5 unchanged paragraphs]", linked to the section on the version page.
    fn elided(&self, change: &SectionChange, count: usize) -> String {
        let page = if change.new.is_some() {
            self.new_page
        } else {
            self.old_page
        };
        format!(
            "<p class=\"diff-elided\"><a href=\"{}#{}\">[{}]</a></p>",
            escape(page),
            escape(&change.id),
            escape(
                &self
                    .text("unchanged_blocks")
                    .replace("{n}", &count.to_string())
            )
        )
    }

    fn block_parts(
        &self,
        change: &SectionChange,
        block: &BlockChange,
    ) -> (BlockKind, &'static str, String) {
        match block {
            BlockChange::Same(b) => (b.kind, "diff-same", self.runs_html(b, Side::New)),
            BlockChange::Added(b) => (
                b.kind,
                "diff-added",
                self.wrap(Op::Insert, &self.runs_html(b, Side::New), false),
            ),
            BlockChange::Removed(b) => (
                b.kind,
                "diff-removed",
                self.wrap(Op::Delete, &self.runs_html(b, Side::Old), false),
            ),
            BlockChange::Changed { kind, ops } => (*kind, "diff-changed", self.ops_html(ops)),
            BlockChange::Split {
                kind,
                ops,
                part,
                parts,
            } => {
                let note = match part {
                    0 => format!(
                        "<span class=\"diff-note\">[{}]</span> ",
                        escape(&self.text("block_split").replace("{n}", &parts.to_string()))
                    ),
                    _ => String::new(),
                };
                (
                    *kind,
                    "diff-changed",
                    format!("{note}{}", self.ops_html(ops)),
                )
            }
            BlockChange::MovedAway { block, to } => {
                let note = self.move_note(change, to, "block_moved_to");
                let text = self.runs_html(block, Side::Old);
                (
                    block.kind,
                    "diff-moved-away",
                    format!("{note} <span class=\"diff-moved-text\">{text}</span>"),
                )
            }
            BlockChange::MovedHere { from, kind, ops } => {
                let note = self.move_note(change, from, "block_moved_from");
                (
                    *kind,
                    "diff-moved-here",
                    format!("{note} {}", self.ops_html(ops)),
                )
            }
        }
    }

    /// "[moved to section 06]", linked to that section on this page.
    fn move_note(&self, change: &SectionChange, place: &Place, key: &str) -> String {
        let label = if place.id == change.id {
            self.text("block_moved_within")
        } else {
            self.text(key)
                .replace("{number}", &format!("{:02}", place.number))
        };
        format!(
            "<span class=\"diff-note\">[<a href=\"#{}\">{}</a>]</span>",
            escape(&place.id),
            escape(&label)
        )
    }

    fn wrap(&self, op: Op, inner: &str, punctuation: bool) -> String {
        let (tag, marker) = match op {
            Op::Delete => ("del", self.text("deleted")),
            _ => ("ins", self.text("inserted")),
        };
        let class = if punctuation {
            " class=\"diff-punct\""
        } else {
            ""
        };
        format!(
            "<{tag}{class}><span class=\"visually-hidden\">{} </span>{inner}</{tag}>",
            escape(&marker)
        )
    }

    fn runs_html(&self, block: &Block, side: Side) -> String {
        block
            .runs
            .iter()
            .map(|r| self.styled(&escape(&r.text), &r.style, side))
            .collect()
    }

    fn styled(&self, inner: &str, style: &Style, side: Side) -> String {
        let mut html = inner.to_string();
        if style.code {
            html = format!("<code>{html}</code>");
        }
        if style.emphasis {
            html = format!("<em>{html}</em>");
        }
        if style.strong {
            html = format!("<strong>{html}</strong>");
        }
        if let Some(link) = &style.link {
            html = format!("<a href=\"{}\">{html}</a>", escape(&self.href(link, side)));
        }
        html
    }

    /// A link to an anchor this page does not carry, or a relative one, goes
    /// where it goes from the version page.
    fn href(&self, link: &str, side: Side) -> String {
        let page = match side {
            Side::Old => self.old_page,
            Side::New => self.new_page,
        };
        match link.strip_prefix('#') {
            Some(id) if self.section_ids.contains(id) => link.to_string(),
            Some(_) => format!("{page}{link}"),
            // This page sits deeper than the version page: a relative link
            // resolves from there, as it does where the text is published.
            None if is_relative_path(link) => format!("{page}{link}"),
            None => link.to_string(),
        }
    }

    fn ops_html(&self, ops: &[(Op, Token)]) -> String {
        op_runs(ops)
            .map(|(op, run)| match op {
                Op::Equal => self.tokens_html(run, Side::New),
                Op::Delete => self.wrap(op.clone(), &self.tokens_html(run, Side::Old), is_punctuation(run)),
                Op::Insert => self.wrap(op.clone(), &self.tokens_html(run, Side::New), is_punctuation(run)),
                Op::Restyled(was) => {
                    let now = &run.iter().find(|(_, t)| !t.is_space()).expect("a run has a word").1.style;
                    format!(
                        "<span class=\"diff-restyled\">{}</span> <span class=\"diff-note\">[{}]</span>",
                        self.tokens_html(run, Side::New),
                        escape(&restyle_note(was, now, &|k| self.text(k)))
                    )
                }
            })
            .collect()
    }

    /// Runs of tokens with one style, each wrapped once; spaces join a run
    /// only when the style continues after them, so links do not swallow spaces.
    fn tokens_html(&self, ops: &[(Op, Token)], side: Side) -> String {
        let mut html = String::new();
        let mut i = 0;
        while i < ops.len() {
            let token = &ops[i].1;
            if token.is_space() {
                html.push_str(&escape(&token.text));
                i += 1;
                continue;
            }
            let mut end = i + 1;
            loop {
                let next = (end..ops.len()).find(|&j| !ops[j].1.is_space());
                match next {
                    Some(j) if ops[j].1.style == token.style => end = j + 1,
                    _ => break,
                }
            }
            let text: String = ops[i..end].iter().map(|(_, t)| t.text.as_str()).collect();
            html.push_str(&self.styled(&escape(&text), &token.style, side));
            i = end;
        }
        html
    }
}

/// `../terms/`, `forms/`, `?q`: no scheme, no host, not from the site root.
fn is_relative_path(link: &str) -> bool {
    !link.is_empty()
        && !link.starts_with('/')
        && matches!(
            url::Url::parse(link),
            Err(url::ParseError::RelativeUrlWithoutBase)
        )
}

/// Inner headings start at h3, under the section's h2, as on the version page.
fn block_html(out: &mut String, kind: BlockKind, class: &str, inner: &str) {
    let (tag, kind_class) = match kind {
        BlockKind::Heading => ("h3", "diff-heading"),
        BlockKind::ListItem => ("p", "diff-item"),
        BlockKind::TableCell => ("p", "diff-cell"),
        BlockKind::Quote => ("blockquote", "diff-quote"),
        BlockKind::Code => ("pre", "diff-code"),
        BlockKind::Directive => ("p", "diff-directive"),
        BlockKind::Paragraph => ("p", "diff-paragraph"),
    };
    out.push_str(&format!(
        "<{tag} class=\"{kind_class} {class}\">{inner}</{tag}>"
    ));
}

/// An edit of punctuation alone, which a reader could miss: marked apart.
fn is_punctuation(run: &[(Op, Token)]) -> bool {
    !run.iter().any(|(_, t)| t.is_word()) && run.iter().any(|(_, t)| t.is_punctuation())
}

/// What changed in a restyled run, in words: "link changed: a → b; emphasis removed".
fn restyle_note(was: &Style, now: &Style, text: &dyn Fn(&str) -> String) -> String {
    let mut parts = Vec::new();
    match (&was.link, &now.link) {
        (Some(a), Some(b)) if a != b => {
            parts.push(text("link_changed").replace("{old}", a).replace("{new}", b))
        }
        (None, Some(b)) => parts.push(text("link_added").replace("{new}", b)),
        (Some(a), None) => parts.push(text("link_removed").replace("{old}", a)),
        _ => {}
    }
    for (before, after, name) in [
        (was.emphasis, now.emphasis, "emphasis"),
        (was.strong, now.strong, "strong"),
        (was.code, now.code, "code"),
    ] {
        if before != after {
            let change = if after { "added" } else { "removed" };
            parts.push(text(&format!("{name}_{change}")));
        }
    }
    parts.join("; ")
}

/// Maximal runs of tokens under one operation; a restyled run also ends
/// where the new style of its words changes.
fn op_runs(ops: &[(Op, Token)]) -> impl Iterator<Item = (&Op, &[(Op, Token)])> {
    let mut rest = ops;
    std::iter::from_fn(move || {
        let (op, first) = rest.first()?;
        let restyled = matches!(op, Op::Restyled(_));
        let end = rest
            .iter()
            .position(|(o, t)| o != op || (restyled && !t.is_space() && t.style != first.style))
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some((op, run))
    })
}

/// The changes that are not words, as "links changed: 1, …" (empty when none).
pub fn marks_text(marks: &super::Marks, strings: &BTreeMap<String, String>) -> String {
    let text = |key: &str| strings.get(key).map_or(key, String::as_str).to_string();
    [
        (marks.links, "links_changed"),
        (marks.emphasis, "emphasis_changed"),
        (marks.punctuation, "punctuation_changed"),
        (marks.words_moved, "words_moved"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, key)| text(key).replace("{n}", &n.to_string()))
    .collect::<Vec<_>>()
    .join(", ")
}

/// The diff as terminal text: colours when `color`, else `[-…-]`/`{+…+}`;
/// `strings` are the `diff` namespace of the language shown.
pub fn terminal(diff: &VersionDiff, color: bool, strings: &BTreeMap<String, String>) -> String {
    let marks = if color {
        TerminalMarks {
            del: ("\x1b[31;9m", "\x1b[0m"),
            ins: ("\x1b[32;1m", "\x1b[0m"),
            bold: ("\x1b[1m", "\x1b[0m"),
        }
    } else {
        TerminalMarks {
            del: ("[-", "-]"),
            ins: ("{+", "+}"),
            bold: ("", ""),
        }
    };
    let text = |key: &str| strings.get(key).map_or(key, String::as_str).to_string();
    let mut out = String::new();
    for s in &diff.sections {
        out.push_str(&format!(
            "{}{:02} {}{}{}\n",
            marks.bold.0,
            s.number(),
            s.title(),
            marks.bold.1,
            section_status(s, &text("unchanged"))
        ));
        if s.is_unchanged() {
            continue;
        }
        for block in &s.blocks {
            let line = match block {
                BlockChange::Same(_) => continue,
                BlockChange::Added(b) => marks.ins(b.text().trim()),
                BlockChange::Removed(b) => marks.del(b.text().trim()),
                BlockChange::Changed { ops, .. } => marks.ops(ops, &text),
                BlockChange::Split {
                    ops,
                    part: 0,
                    parts,
                    ..
                } => format!(
                    "[{}] {}",
                    text("block_split").replace("{n}", &parts.to_string()),
                    marks.ops(ops, &text)
                ),
                BlockChange::Split { ops, .. } => marks.ops(ops, &text),
                BlockChange::MovedAway { block, to } => format!(
                    "[{}] {}",
                    text("block_moved_to").replace("{number}", &format!("{:02}", to.number)),
                    block.text().trim()
                ),
                BlockChange::MovedHere { from, ops, .. } => format!(
                    "[{}] {}",
                    text("block_moved_from").replace("{number}", &format!("{:02}", from.number)),
                    marks.ops(ops, &text)
                ),
            };
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push_str(&format!(
        "{} words added, {} words removed",
        diff.words_added, diff.words_removed
    ));
    if !diff.marks.is_empty() {
        out.push_str(&format!("; {}", marks_text(&diff.marks, strings)));
    }
    out.push('\n');
    out
}

/// " (moved from 02, renamed from \"…\")" after a section's title.
fn section_status(s: &SectionChange, unchanged: &str) -> String {
    let (Some((a, old_title)), Some((b, _))) = (&s.old, &s.new) else {
        return if s.old.is_none() {
            " (added)"
        } else {
            " (removed)"
        }
        .to_string();
    };
    let mut notes = Vec::new();
    if s.moved {
        notes.push(format!("moved from {a:02}"));
    } else if a != b {
        notes.push(format!("renumbered from {a:02}"));
    }
    if s.renamed() {
        notes.push(format!("renamed from \"{old_title}\""));
    }
    if s.is_unchanged() {
        notes.push(unchanged.to_string());
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    }
}

/// How the terminal marks deleted, inserted and emphasised text.
struct TerminalMarks {
    del: (&'static str, &'static str),
    ins: (&'static str, &'static str),
    bold: (&'static str, &'static str),
}

impl TerminalMarks {
    fn del(&self, text: &str) -> String {
        format!("{}{text}{}", self.del.0, self.del.1)
    }
    fn ins(&self, text: &str) -> String {
        format!("{}{text}{}", self.ins.0, self.ins.1)
    }
    fn ops(&self, ops: &[(Op, Token)], text: &dyn Fn(&str) -> String) -> String {
        op_runs(ops)
            .map(|(op, run)| {
                let words: String = run.iter().map(|(_, t)| t.text.as_str()).collect();
                match op {
                    Op::Equal => words,
                    Op::Delete => self.del(&words),
                    Op::Insert => self.ins(&words),
                    Op::Restyled(was) => {
                        format!("{words} [{}]", restyle_note(was, &run[0].1.style, text))
                    }
                }
            })
            .collect()
    }
}
