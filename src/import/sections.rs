//! Cutting a policy file into sections at its `##` headings, and giving each
//! section an id that stays the same from one version to the next: the id of
//! the previous version's section with the same heading, else of the one
//! whose text is most alike (a renamed heading), else a new one.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use similar::TextDiff;
use std::collections::BTreeSet;

/// How alike (0–1, by words) two texts must be for a renamed section to keep its id.
const SAME_SECTION: f32 = 0.5;

#[derive(Debug, Clone)]
pub struct Section {
    /// `None` for the text before the first `##` heading (the preamble).
    pub title: Option<String>,
    pub body: String,
}

/// The file's `#` title, if any, and its sections; the preamble comes first
/// when there is text before the first `##` heading. Headings are found by
/// the markdown parser, so setext headings count and code blocks do not.
pub fn split(text: &str) -> (Option<String>, Vec<Section>) {
    let mut title = None;
    let mut sections = vec![Section {
        title: None,
        body: String::new(),
    }];
    let mut start = 0;
    for (level, range, heading) in headings(text) {
        let first = sections.len() == 1 && sections[0].body.is_empty();
        if level == HeadingLevel::H1
            && title.is_none()
            && first
            && text[..range.start].trim().is_empty()
        {
            title = Some(heading);
            start = range.end;
        } else if level == HeadingLevel::H2 {
            sections.last_mut().expect("one at least").body = text[start..range.start].to_string();
            sections.push(Section {
                title: Some(heading),
                body: String::new(),
            });
            start = range.end;
        }
    }
    sections.last_mut().expect("one at least").body = text[start..].to_string();
    for s in &mut sections {
        s.body = format!("\n{}\n", s.body.trim_matches('\n'));
    }
    if sections[0].body.trim().is_empty() {
        sections.remove(0);
    }
    (title, sections)
}

/// Level-1 and level-2 headings: level, where they stand, their text.
fn headings(text: &str) -> Vec<(HeadingLevel, std::ops::Range<usize>, String)> {
    let mut found = Vec::new();
    let mut open: Option<(HeadingLevel, std::ops::Range<usize>, String)> = None;
    for (event, range) in Parser::new_ext(text, crate::markdown::options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. })
                if matches!(level, HeadingLevel::H1 | HeadingLevel::H2) =>
            {
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
                let ratio = TextDiff::from_words(&p.body, &s.body).ratio();
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
    fn ids_survive_a_renamed_heading_and_a_moved_section() {
        let section = |title: &str, body: &str| Section {
            title: Some(title.into()),
            body: body.into(),
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
