//! Cutting a policy file into sections at its `##` headings, and giving each
//! section an id that stays the same from one version to the next: the id of
//! the previous version's section with the same heading, else of the one
//! whose text is most alike (a renamed heading), else a new one.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use std::collections::BTreeSet;

/// How alike (0–1, by words) two texts must be for a renamed section to keep its id.
const SAME_SECTION: f32 = 0.5;

/// How alike two texts are, 0–1: the share of their words they have in
/// common, counted with repeats (2 × common / (words of one + of the
/// other)). Linear in their length, so that comparing every renamed
/// section with every candidate stays cheap however long they are (an
/// alignment, as a diff makes, costs up to the product of the lengths).
fn likeness(a: &str, b: &str) -> f32 {
    let mut counts: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    let (mut total, mut common) = (0usize, 0usize);
    for w in a.split_whitespace() {
        *counts.entry(w).or_default() += 1;
        total += 1;
    }
    for w in b.split_whitespace() {
        total += 1;
        if let Some(n) = counts.get_mut(w).filter(|n| **n > 0) {
            *n -= 1;
            common += 1;
        }
    }
    if total == 0 {
        return 1.0;
    }
    (2 * common) as f32 / total as f32
}

#[derive(Debug, Clone, Default)]
pub struct Section {
    /// `None` for the text before the first `##` heading (the preamble).
    pub title: Option<String>,
    pub body: String,
    /// The anchor the heading's attributes gave it (`## Title {#anchor}`).
    pub anchor: Option<String>,
    /// Sub-headings' anchors given by attributes, with the heading's words.
    pub sub_anchors: Vec<(String, String)>,
}

/// The file's `#` title, if any, and its sections; the preamble comes first
/// when there is text before the first `##` heading. Headings are found by
/// the markdown parser, so setext headings count and code blocks do not.
/// Front matter (a static-site generator's `---` block) is not text: its
/// `title`, if any, is the title when the file has no `#` heading.
pub fn split(text: &str) -> (Option<String>, Vec<Section>) {
    // A byte-order mark would hide a heading on the first line.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (front_title, text) = match crate::content::split_front_matter(text) {
        Some((front, body, _)) => (front_matter_title(front), body),
        None => (None, text),
    };
    let (title, sections) = split_body(text);
    (title.or(front_title), sections)
}

/// The `title:` of a front matter block, when it has one that is text.
fn front_matter_title(front: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Front {
        title: Option<String>,
    }
    let front: Front = crate::yaml::parse(front, std::path::Path::new(""), 2).ok()?;
    front.title.filter(|t| !t.trim().is_empty())
}

/// Sections are cut at the shallowest heading level the text uses below its
/// title: `##`, or `###` in a file that has no `##` (older files often
/// do), whose own sub-headings are then lifted so that they start at `###`.
fn split_body(text: &str) -> (Option<String>, Vec<Section>) {
    let mut title = None;
    let mut sections = vec![Section::default()];
    let found = headings(text);
    // The title is the file's first heading, at level one; a line or two
    // before it (a date, "Effective as of…") stays, as the preamble's start.
    let is_title = |i: usize, level: HeadingLevel, range: &std::ops::Range<usize>| {
        i == 0 && level == HeadingLevel::H1 && is_lead(&text[..range.start])
    };
    let mut lead = "";
    let cut = found
        .iter()
        .enumerate()
        .filter(|(i, (level, range, _))| !is_title(*i, *level, range) && *level != HeadingLevel::H1)
        .map(|(_, (level, _, _))| *level)
        .min()
        .unwrap_or(HeadingLevel::H2);
    let mut start = 0;
    for (i, (level, range, heading)) in found.into_iter().enumerate() {
        let (heading, anchor) = attributes(&heading);
        if is_title(i, level, &range) {
            title = Some(heading);
            lead = text[..range.start].trim();
            start = range.end;
        } else if level == cut && !heading.is_empty() {
            // (A heading with no words cannot be a section's title.)
            sections.last_mut().expect("one at least").body = text[start..range.start].to_string();
            sections.push(Section {
                title: Some(heading),
                anchor,
                ..Section::default()
            });
            start = range.end;
        }
    }
    sections.last_mut().expect("one at least").body = text[start..].to_string();
    if !lead.is_empty() {
        sections[0].body = format!("\n{lead}\n\n{}", sections[0].body.trim_start_matches('\n'));
    }
    let lift = cut as usize - HeadingLevel::H2 as usize;
    for s in &mut sections {
        let (body, sub_anchors) = without_attributes(&s.body);
        s.sub_anchors = sub_anchors;
        s.body = format!("\n{}\n", lift_headings(&body, lift).trim_matches('\n'));
    }
    if sections[0].body.trim().is_empty() {
        sections.remove(0);
    }
    (title, without_empty_sections(sections))
}

/// What may stand before a file's title: nothing, or a few short lines.
fn is_lead(text: &str) -> bool {
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    lines <= 3 && text.trim().chars().count() <= 240
}

/// A heading with nothing under it (a divider, "## The full text", before
/// the next one) cannot be a section, which needs text: it stays where it
/// stood, as a sub-heading ending the section before it (or, first of all,
/// opening the one after it).
fn without_empty_sections(sections: Vec<Section>) -> Vec<Section> {
    let mut kept: Vec<Section> = Vec::new();
    let mut pending = String::new();
    for mut section in sections {
        let title = section.title.clone().unwrap_or_default();
        if section.title.is_some() && section.body.trim().is_empty() {
            match kept.last_mut() {
                Some(last) => last.body.push_str(&format!("\n### {title}\n")),
                None => pending.push_str(&format!("\n### {title}\n")),
            }
            continue;
        }
        if !pending.is_empty() {
            section.body = format!("{pending}{}", section.body);
            pending.clear();
        }
        kept.push(section);
    }
    kept
}

/// A heading's words without the attributes some generators let it carry
/// (kramdown's `{: #id}`, Pandoc's and Hugo's `{#id .class}`), and the
/// anchor they give it.
fn attributes(heading: &str) -> (String, Option<String>) {
    let heading = heading.trim();
    let Some(open) = heading.rfind('{').filter(|_| heading.ends_with('}')) else {
        return (heading.to_string(), None);
    };
    let inside = &heading[open + 1..heading.len() - 1];
    if !(inside.starts_with(':') || inside.starts_with('#')) {
        return (heading.to_string(), None);
    }
    let anchor = inside
        .trim_start_matches(':')
        .split_whitespace()
        .find_map(|a| a.strip_prefix('#'))
        .map(str::to_string);
    (heading[..open].trim().to_string(), anchor)
}

/// `text` without the attributes of the site it comes from, which would
/// read here as words: kramdown's attribute lines (`{: #essential .note}`
/// under a paragraph or list item, whose anchor becomes an empty
/// `<span id>` at the start of that block, so links to it still lead
/// there) and sub-headings' attributes, whose anchors are returned with the
/// heading's words. Found by the parser, so code keeps them.
fn without_attributes(text: &str) -> (String, Vec<(String, String)>) {
    // (what to replace, by what)
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut anchors = Vec::new();
    let mut code = false;
    // Where the text of each open paragraph or list item starts.
    let mut blocks: Vec<usize> = Vec::new();
    let line_of = |range: &std::ops::Range<usize>| {
        let start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
        let end = text[range.end..]
            .find('\n')
            .map_or(text.len(), |i| range.end + i + 1);
        start..end
    };
    for (event, range) in Parser::new_ext(text, crate::markdown::options()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(_)) => code = true,
            Event::End(TagEnd::CodeBlock) => code = false,
            Event::Start(Tag::Paragraph) => blocks.push(range.start),
            Event::Start(Tag::Item) => blocks.push(after_marker(text, range.start)),
            Event::End(TagEnd::Paragraph | TagEnd::Item) => {
                blocks.pop();
            }
            Event::Text(_) if !code => {
                // A line that is an attribute list from its first character
                // (smart quotes may split its text into several events).
                let line = line_of(&range);
                let whole = text[line.clone()].trim();
                let first =
                    line.start + (text[line.clone()].len() - text[line.clone()].trim_start().len());
                if !(whole.starts_with("{:") && whole.ends_with('}') && range.start == first) {
                    continue;
                }
                let (_, anchor) = attributes(whole);
                let block = blocks.last().copied().filter(|&b| b < line.start);
                if let (Some(anchor), Some(block)) = (anchor, block) {
                    edits.push((block..block, format!("<span id=\"{anchor}\"></span>")));
                }
                edits.push((line, String::new()));
            }
            _ => {}
        }
    }
    for (_, range, heading) in headings(text) {
        let (words, anchor) = attributes(&heading);
        let line = &text[range.clone()];
        let Some(open) = line.rfind('{').filter(|_| words != heading.trim()) else {
            continue;
        };
        let end = line.rfind('}').map_or(line.len(), |i| i + 1);
        edits.push((range.start + open..range.start + end, String::new()));
        anchors.extend(anchor.map(|a| (a, words)));
    }
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, by) in edits {
        if range.start < at {
            continue;
        }
        let before = &text[at..range.start];
        // A cut takes the spaces before it (`Title {#a}`); an insertion, nothing.
        out.push_str(if range.is_empty() {
            before
        } else {
            before.trim_end_matches([' ', '\t'])
        });
        out.push_str(&by);
        at = range.end;
    }
    out.push_str(&text[at..]);
    (out, anchors)
}

/// Where a list item's text starts: after its marker (`-`, `*`, `+`,
/// `1.`, `1)`) and the spaces that follow it.
fn after_marker(text: &str, item: usize) -> usize {
    let rest = &text[item..];
    let marker = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '*' | '+' | '.' | ')')))
        .unwrap_or(rest.len());
    let spaces = rest[marker..].len() - rest[marker..].trim_start_matches([' ', '\t']).len();
    item + marker + spaces
}

/// Headings with their level, where they stand and their text.
fn headings(text: &str) -> Vec<(HeadingLevel, std::ops::Range<usize>, String)> {
    let mut found = Vec::new();
    let mut open: Option<(HeadingLevel, std::ops::Range<usize>, String)> = None;
    for (event, range) in Parser::new_ext(text, crate::markdown::options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                open = Some((level, range, String::new()));
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, _, heading)) = &mut open {
                    heading.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => found.extend(open.take()),
            _ => {}
        }
    }
    found
}

/// `text` with each `#`-marked heading made `lift` levels shallower.
fn lift_headings(text: &str, lift: usize) -> String {
    if lift == 0 {
        return text.to_string();
    }
    let mut out = text.to_string();
    for (_, range, _) in headings(text).into_iter().rev() {
        let line = &text[range.clone()];
        let indent = line.len() - line.trim_start().len();
        let hashes = line[indent..].bytes().take_while(|&b| b == b'#').count();
        if hashes > lift {
            let at = range.start + indent;
            out.replace_range(at..at + lift, "");
        }
    }
    out
}

/// What matching sections across languages by number depends on: whether
/// there is an untitled preamble (section 00), and how many titled sections.
pub fn shape(sections: &[Section]) -> (bool, usize) {
    let preamble = sections.first().is_some_and(|s| s.title.is_none());
    (preamble, sections.len() - usize::from(preamble))
}

/// The ids given so far, and the previous version's sections with theirs.
#[derive(Debug, Default)]
pub struct Ids {
    ever: BTreeSet<String>,
    previous: Vec<(Section, String)>,
}

impl Ids {
    /// An id for each of a version's sections, in order.
    pub fn assign(&mut self, sections: &[Section]) -> Vec<String> {
        let mut ids: Vec<Option<String>> = vec![None; sections.len()];
        let mut free: Vec<bool> = vec![true; self.previous.len()];
        // Same heading, same section.
        for (i, s) in sections.iter().enumerate() {
            let same = self.previous.iter().enumerate().position(|(j, (p, _))| {
                free[j]
                    && p.title.as_deref().map(str::to_lowercase)
                        == s.title.as_deref().map(str::to_lowercase)
            });
            if let Some(j) = same {
                free[j] = false;
                ids[i] = Some(self.previous[j].1.clone());
            }
        }
        // Renamed headings: the most alike pairs of the sections left first,
        // if alike enough, so that two renamed at once are not crossed.
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (i, s) in sections
            .iter()
            .enumerate()
            .filter(|(i, _)| ids[*i].is_none())
        {
            for (j, (p, _)) in self.previous.iter().enumerate().filter(|(j, _)| free[*j]) {
                let ratio = likeness(&p.body, &s.body);
                if ratio >= SAME_SECTION {
                    pairs.push((ratio, i, j));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, i, j) in pairs {
            if ids[i].is_none() && free[j] {
                free[j] = false;
                ids[i] = Some(self.previous[j].1.clone());
            }
        }
        let ids: Vec<String> = sections
            .iter()
            .zip(ids)
            .map(|(s, id)| id.unwrap_or_else(|| self.new_id(s)))
            .collect();
        self.ever.extend(ids.iter().cloned());
        self.previous = sections.iter().cloned().zip(ids.iter().cloned()).collect();
        ids
    }

    /// The heading's slug, never one used before in this policy's history.
    fn new_id(&mut self, section: &Section) -> String {
        let base = crate::markdown::slugify(section.title.as_deref().unwrap_or("introduction"));
        let base = if base.is_empty() {
            "section".to_string()
        } else {
            base
        };
        let mut id = base.clone();
        let mut n = 2;
        while self.ever.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.ever.insert(id.clone());
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_cut_at_its_level_two_headings_after_its_title() {
        let (title, sections) =
            split("# Privacy\n\nWe care.\n\n## Data we collect\n\nYour name.\n\n### Detail\n\nMore.\n\n## Contact\nWrite.\n");
        assert_eq!(title.as_deref(), Some("Privacy"));
        assert_eq!(sections.len(), 3);
        assert_eq!(sections[0].title, None);
        assert_eq!(sections[0].body, "\nWe care.\n");
        assert_eq!(sections[1].title.as_deref(), Some("Data we collect"));
        assert_eq!(sections[1].body, "\nYour name.\n\n### Detail\n\nMore.\n");
        let (_, setext) = split("Intro.\n\nData\n----\n\n```\n## not a heading\n```\n");
        assert_eq!(setext.len(), 2);
        assert_eq!(setext[1].title.as_deref(), Some("Data"));
        assert_eq!(setext[1].body, "\n```\n## not a heading\n```\n");
    }

    #[test]
    fn a_date_line_before_an_underlined_title_stays_in_the_preamble() {
        let text = "Last updated: 4 May 2021\n\nPrivacy Policy\n==============\n\nWe care.\n\n## Data\n\nNames.\n";
        let (title, sections) = split(text);
        assert_eq!(title.as_deref(), Some("Privacy Policy"));
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[0].title, None);
        assert_eq!(sections[0].body, "\nLast updated: 4 May 2021\n\nWe care.\n");
        assert_eq!(sections[1].title.as_deref(), Some("Data"));
        // A long text before a level-one heading is not a lead: that heading is no title.
        let long = format!("{}\n\n# Privacy\n\nText.\n", "word ".repeat(80));
        assert_eq!(split(&long).0, None);
    }

    #[test]
    fn front_matter_is_left_out_and_gives_the_title_when_there_is_no_heading() {
        let (title, sections) = split("---\ntitle: Terms of Service\nredirect_from:\n  - /tos\n---\nThank you.\n\n## Scope\n\nAll of it.\n");
        assert_eq!(title.as_deref(), Some("Terms of Service"));
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[0].body, "\nThank you.\n");
        let (title, _) = split("---\ntitle: Old\n---\n# Privacy\n\n## Scope\n\nAll.\n");
        assert_eq!(title.as_deref(), Some("Privacy"));
        let (_, sections) = split("\u{feff}## Scope\n\nAll.\n");
        assert_eq!(sections[0].title.as_deref(), Some("Scope"));
    }

    #[test]
    fn heading_attributes_and_attribute_lines_are_markup_not_text() {
        let (_, sections) = split("# Notice {: #top}\n\n## Things you should know {#know}\n\nFirefox connects to us.\n{: #essential }\n\n* **Updates**\n{: #updates }\n\n{: datetime=\"2017-02-09\" }\n\n```\n{: #kept}\n```\n\n### Search {: #searches }\n\nQueries.\n\n## Choices {: .wide}\n\nYours.\n");
        assert_eq!(sections[0].title.as_deref(), Some("Things you should know"));
        assert_eq!(sections[0].anchor.as_deref(), Some("know"));
        assert_eq!(
            sections[0].body,
            "\n<span id=\"essential\"></span>Firefox connects to us.\n\n* <span id=\"updates\"></span>**Updates**\n\n\n```\n{: #kept}\n```\n\n### Search\n\nQueries.\n"
        );
        assert_eq!(
            sections[0].sub_anchors,
            [("searches".to_string(), "Search".to_string())]
        );
        assert_eq!(sections[1].title.as_deref(), Some("Choices"));
        assert_eq!(sections[1].anchor, None);
    }

    #[test]
    fn a_heading_with_nothing_under_it_ends_the_section_before_it() {
        let (_, sections) =
            split("# P\n\n## Summary\n\nShort.\n\n## The full text\n\n## Who we are\n\nUs.\n");
        let titles: Vec<_> = sections.iter().map(|s| s.title.clone().unwrap()).collect();
        assert_eq!(titles, ["Summary", "Who we are"]);
        assert_eq!(sections[0].body, "\nShort.\n\n### The full text\n");
    }

    #[test]
    fn a_file_without_level_two_headings_is_cut_at_level_three() {
        let (title, sections) =
            split("# Terms\n\nHello.\n\n### A. Definitions\n\nWords.\n\n#### 1. Account\n\nMore.\n\n### B. Payment\n\nPay.\n");
        assert_eq!(title.as_deref(), Some("Terms"));
        let titles: Vec<_> = sections.iter().map(|s| s.title.clone()).collect();
        assert_eq!(
            titles,
            [
                None,
                Some("A. Definitions".into()),
                Some("B. Payment".into())
            ]
        );
        assert_eq!(sections[1].body, "\nWords.\n\n### 1. Account\n\nMore.\n");
    }

    #[test]
    fn ids_survive_a_renamed_heading_and_a_moved_section() {
        let section = |title: &str, body: &str| Section {
            title: Some(title.into()),
            body: body.into(),
            ..Section::default()
        };
        let mut ids = Ids::default();
        let first = ids.assign(&[
            section(
                "Data we collect",
                "We collect your name, your email address and your postal address when you order.",
            ),
            section("Contact", "Write to privacy@example.com."),
        ]);
        assert_eq!(first, ["data-we-collect", "contact"]);
        let second = ids.assign(&[
            section("Contact us", "Write to privacy@example.com or call us."),
            section(
                "Information we gather",
                "We collect your name, your email address and your postal address when you buy.",
            ),
            section(
                "Contact",
                "A new section that reuses an old heading is not new text.",
            ),
        ]);
        assert_eq!(second, ["contact-us", "data-we-collect", "contact"]);
        // Two headings renamed at once, the sections also swapped.
        let third = ids.assign(&[
            section("Reaching us", "A new section that reuses an old heading is not new text at all."),
            section("What we gather", "We collect your name, your email address and your postal address when you buy online."),
        ]);
        assert_eq!(third, ["contact", "data-we-collect"]);
    }
}
