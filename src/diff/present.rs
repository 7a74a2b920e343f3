//! Shows a diff: as HTML for the changes pages (with `<del>`/`<ins>` and
//! markers screen readers announce) and as text for the terminal.

use super::{BlockChange, Op, SectionChange, Token, VersionDiff};
use crate::markdown::{Block, BlockKind, Style};

/// The words announced before deleted and inserted text.
pub struct Markers<'a> {
    pub deleted: &'a str,
    pub inserted: &'a str,
}

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

/// The blocks of one section change, as HTML.
pub fn section_html(change: &SectionChange, markers: &Markers) -> String {
    let mut html = String::new();
    for block in &change.blocks {
        match block {
            BlockChange::Same(b) => block_html(&mut html, b.kind, "diff-same", &runs_html(b)),
            BlockChange::Added(b) => block_html(
                &mut html,
                b.kind,
                "diff-added",
                &wrap("ins", markers.inserted, &runs_html(b)),
            ),
            BlockChange::Removed(b) => block_html(
                &mut html,
                b.kind,
                "diff-removed",
                &wrap("del", markers.deleted, &runs_html(b)),
            ),
            BlockChange::Changed { kind, ops } => {
                block_html(&mut html, *kind, "diff-changed", &ops_html(ops, markers))
            }
        }
    }
    html
}

fn block_html(out: &mut String, kind: BlockKind, class: &str, inner: &str) {
    let (tag, kind_class) = match kind {
        BlockKind::Heading => ("h3", "diff-heading"), // under the section's h2
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

fn wrap(tag: &str, marker: &str, inner: &str) -> String {
    format!(
        "<{tag}><span class=\"visually-hidden\">{} </span>{inner}</{tag}>",
        escape(marker)
    )
}

fn runs_html(block: &Block) -> String {
    block
        .runs
        .iter()
        .map(|r| styled(&escape(&r.text), &r.style))
        .collect()
}

fn styled(inner: &str, style: &Style) -> String {
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
        html = format!("<a href=\"{}\">{html}</a>", escape(link));
    }
    html
}

/// Groups consecutive tokens with the same operation, then the same style.
fn ops_html(ops: &[(Op, Token)], markers: &Markers) -> String {
    op_runs(ops)
        .map(|(op, run)| {
            let inner = tokens_html(run);
            match op {
                Op::Equal => inner,
                Op::Delete => wrap("del", markers.deleted, &inner),
                Op::Insert => wrap("ins", markers.inserted, &inner),
            }
        })
        .collect()
}

/// Maximal runs of tokens under one operation.
fn op_runs(ops: &[(Op, Token)]) -> impl Iterator<Item = (Op, &[(Op, Token)])> {
    let mut rest = ops;
    std::iter::from_fn(move || {
        let op = rest.first()?.0;
        let end = rest
            .iter()
            .position(|(o, _)| *o != op)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some((op, run))
    })
}

/// Runs of tokens with one style, each wrapped once; spaces join a run only
/// when the style continues after them, so links do not swallow spaces.
fn tokens_html(ops: &[(Op, Token)]) -> String {
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
        html.push_str(&styled(&escape(&text), &token.style));
        i = end;
    }
    html
}

/// The diff as terminal text: colours when `color`, else `[-…-]`/`{+…+}`.
pub fn terminal(diff: &VersionDiff, color: bool, unchanged_label: &str) -> String {
    let (del_on, del_off, ins_on, ins_off, bold, reset) = if color {
        (
            "\x1b[31;9m",
            "\x1b[0m",
            "\x1b[32;4m",
            "\x1b[0m",
            "\x1b[1m",
            "\x1b[0m",
        )
    } else {
        ("[-", "-]", "{+", "+}", "", "")
    };
    let mut out = String::new();
    for s in &diff.sections {
        let status = match (&s.old, &s.new) {
            (None, Some(_)) => " (added)".to_string(),
            (Some(_), None) => " (removed)".to_string(),
            (Some((a, old_title)), Some((b, _))) => {
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
                    notes.push(unchanged_label.to_string());
                }
                if notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", notes.join(", "))
                }
            }
            (None, None) => String::new(),
        };
        out.push_str(&format!(
            "{bold}{:02} {}{reset}{status}\n",
            s.number(),
            s.title()
        ));
        if s.is_unchanged() {
            continue;
        }
        for block in &s.blocks {
            let line = match block {
                BlockChange::Same(_) => continue,
                BlockChange::Added(b) => format!("{ins_on}{}{ins_off}", b.text().trim()),
                BlockChange::Removed(b) => format!("{del_on}{}{del_off}", b.text().trim()),
                BlockChange::Changed { ops, .. } => op_runs(ops)
                    .map(|(op, run)| {
                        let text: String = run.iter().map(|(_, t)| t.text.as_str()).collect();
                        match op {
                            Op::Equal => text,
                            Op::Delete => format!("{del_on}{text}{del_off}"),
                            Op::Insert => format!("{ins_on}{text}{ins_off}"),
                        }
                    })
                    .collect(),
            };
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push_str(&format!(
        "{} words added, {} words removed\n",
        diff.words_added, diff.words_removed
    ));
    out
}
