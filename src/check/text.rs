//! Dangling text: a paragraph or list item that announces something and
//! stops (it ends on a colon with no list after it, or on "to"/"à"), an empty
//! `mailto:`, a TODO/TBD/XXX left in, and a paragraph said twice in a section.

use super::at_offset;
use crate::content::{Section, Site};
use crate::error::Diagnostics;
use crate::markdown::{self, DIRECTIVE_SCHEME};
use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use std::collections::BTreeMap;

/// A paragraph or list item as a reader sees it, and what follows it.
struct Block {
    offset: usize,
    item: bool,
    text: String,
    /// A list, a table or a widget comes next: what a colon announces.
    announces: bool,
}

/// Shorter paragraphs ("Yes.", a heading-like line) may repeat on purpose.
const REPEAT_MIN_CHARS: usize = 40;

pub fn check(site: &Site) -> Diagnostics {
    let mut found = Diagnostics::default();
    for policy in &site.policies {
        for version in &policy.versions {
            for translation in version.translations.values() {
                for section in &translation.sections {
                    // Normalised text → where it first appears in the section.
                    // (Across sections, policies repeat a list on purpose: the
                    // data collected, then the same data per purpose.)
                    let mut seen: BTreeMap<String, String> = BTreeMap::new();
                    markers(section, &mut found);
                    empty_mailtos(section, &mut found);
                    for block in blocks(&section.markdown) {
                        dangling(section, &block, &mut found);
                        let key = block
                            .text
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                            .to_lowercase();
                        if key.chars().count() < REPEAT_MIN_CHARS {
                            continue;
                        }
                        match seen.get(&key) {
                            Some(first) => found.push(
                                at_offset(
                                    section,
                                    block.offset,
                                    format!(
                                        "this {} repeats, word for word, the one at {first}",
                                        if block.item { "list item" } else { "paragraph" },
                                    ),
                                )
                                .with_hint("remove one of them, or say what differs"),
                            ),
                            None => {
                                let here = at_offset(section, block.offset, "");
                                seen.insert(key, here.relative_to(&site.root).location());
                            }
                        }
                    }
                }
            }
        }
    }
    found
}

fn dangling(section: &Section, block: &Block, found: &mut Diagnostics) {
    let what = if block.item { "list item" } else { "paragraph" };
    let text = block.text.trim_end();
    if text.ends_with(':') && !block.announces {
        found.push(
            at_offset(
                section,
                block.offset,
                format!("this {what} ends on a colon, but nothing follows it"),
            )
            .with_hint("add the list it announces, or end the sentence"),
        );
    }
    let last_word = text.rsplit(char::is_whitespace).next().unwrap_or("");
    if text.contains(char::is_whitespace) && (last_word == "to" || last_word == "à") {
        found.push(
            at_offset(
                section,
                block.offset,
                format!("this {what} stops in mid-sentence, on \"{last_word}\""),
            )
            .with_hint("finish the sentence"),
        );
    }
}

/// TODO, TBD and XXX as whole words anywhere in the body, comments included.
fn markers(section: &Section, found: &mut Diagnostics) {
    let mut offset = 0;
    for line in section.markdown.split_inclusive('\n') {
        for word in line.split(|c: char| !c.is_alphanumeric()) {
            if ["TODO", "TBD", "XXX"].contains(&word) {
                found.push(
                    at_offset(section, offset, format!("`{word}` is left in the text"))
                        .with_hint("write the missing text before publishing"),
                );
            }
        }
        offset += line.len();
    }
}

fn empty_mailtos(section: &Section, found: &mut Diagnostics) {
    for (event, range) in Parser::new_ext(&section.markdown, markdown::options()).into_offset_iter()
    {
        if let Event::Start(Tag::Link { dest_url, .. }) = event {
            if let Some(address) = dest_url.strip_prefix("mailto:") {
                let address = address.split('?').next().unwrap_or("");
                if !address.contains('@') {
                    found.push(
                        at_offset(
                            section,
                            range.start,
                            "this email link has no address (`mailto:` is empty)",
                        )
                        .with_hint(
                            "write the address after `mailto:`, e.g. `mailto:privacy@example.com`",
                        ),
                    );
                }
            }
        }
    }
}

/// Paragraphs and list items with their text; a list item's text stops where
/// a nested list starts.
fn blocks(body: &str) -> Vec<Block> {
    let events: Vec<_> = Parser::new_ext(body, markdown::options())
        .into_offset_iter()
        .collect();
    let mut out = Vec::new();
    let mut open: Vec<Block> = Vec::new();
    let mut heading = 0;
    let close = |open: &mut Vec<Block>, out: &mut Vec<Block>, next: usize| {
        if let Some(mut block) = open.pop() {
            block.announces = announces(&events, next);
            out.push(block);
        }
    };
    for (i, (event, range)) in events.iter().enumerate() {
        match event {
            Event::Start(Tag::Item) => open.push(Block {
                offset: range.start,
                item: true,
                text: String::new(),
                announces: false,
            }),
            Event::Start(Tag::Paragraph) if !open.last().is_some_and(|b| b.item) => {
                open.push(Block {
                    offset: range.start,
                    item: false,
                    text: String::new(),
                    announces: false,
                })
            }
            // A nested list: what the item said so far announced it.
            Event::Start(Tag::List(_))
                if open
                    .last()
                    .is_some_and(|b| b.item && !b.text.trim().is_empty()) =>
            {
                let mut block = open.pop().expect("checked");
                block.announces = true;
                out.push(block);
                open.push(Block {
                    offset: range.start,
                    item: true,
                    text: String::new(),
                    announces: false,
                });
            }
            Event::End(TagEnd::Paragraph) if open.last().is_some_and(|b| !b.item) => {
                close(&mut open, &mut out, i + 1)
            }
            Event::End(TagEnd::Item) => close(&mut open, &mut out, i + 1),
            Event::Start(Tag::Heading { .. }) => heading += 1,
            Event::End(TagEnd::Heading(_)) => heading -= 1,
            Event::Text(t) | Event::Code(t) if heading == 0 => {
                if let Some(block) = open.last_mut() {
                    block.text.push_str(t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(block) = open.last_mut() {
                    block.text.push(' ');
                }
            }
            _ => {}
        }
    }
    out.retain(|b| !b.text.trim().is_empty());
    out.sort_by_key(|b| b.offset);
    out
}

/// Whether what comes at `next` is what a colon announces: a list, more
/// items of the same list, a table, a heading, a quote or code, a widget, or
/// an address (a paragraph of short lines).
/// HTML (a comment, say) in between is passed over, and so is the end of
/// the item's own list, when another list follows it.
fn announces(events: &[(Event, std::ops::Range<usize>)], next: usize) -> bool {
    let passed_over = |e: &Event| {
        matches!(
            e,
            Event::Html(_)
                | Event::Start(Tag::HtmlBlock)
                | Event::End(TagEnd::HtmlBlock | TagEnd::List(_) | TagEnd::Item)
        )
    };
    let Some(at) = (next..events.len()).find(|&i| !passed_over(&events[i].0)) else {
        return false;
    };
    match &events[at].0 {
        Event::Start(
            Tag::List(_)
            | Tag::Item
            | Tag::Table(_)
            | Tag::Heading { .. }
            | Tag::BlockQuote(_)
            | Tag::CodeBlock(_),
        ) => true,
        Event::Start(Tag::Paragraph) => {
            matches!(
                events.get(at + 1).map(|(e, _)| e),
                Some(Event::Start(Tag::Link { dest_url, .. })) if dest_url.starts_with(DIRECTIVE_SCHEME)
            ) || is_address(&events[at + 1..])
        }
        _ => false,
    }
}

/// Whether the paragraph starting at `events` is a block of short lines,
/// as an address is ("… or by mail at:" and the address's lines).
fn is_address(events: &[(Event, std::ops::Range<usize>)]) -> bool {
    const SHORT_LINE: usize = 60;
    let mut lines = vec![0];
    for (event, _) in events {
        match event {
            Event::End(TagEnd::Paragraph) => break,
            Event::SoftBreak | Event::HardBreak => lines.push(0),
            Event::Text(t) | Event::Code(t) => *lines.last_mut().expect("one") += t.chars().count(),
            _ => {}
        }
    }
    lines.retain(|&n| n > 0);
    lines.len() >= 2 && lines.iter().all(|&n| n <= SHORT_LINE)
}
