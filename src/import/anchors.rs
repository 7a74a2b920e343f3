//! Links within an imported policy, made to work in policy-site. The site a
//! history comes from gave each heading an anchor from its words (GitHub,
//! Jekyll and Hugo all do), and its text links to those; here a section's
//! anchor is its stable id (kept when the heading is renamed) and a
//! sub-heading's is the section's id and its words. Each `#fragment` link
//! that names a heading of the same version that way is pointed at the
//! heading's anchor here; any other link is left as written.

use super::sections::Section;
use crate::markdown::{self, slugify};
use pulldown_cmark::{Event, Parser, Tag};
use std::collections::BTreeMap;

/// Rewrites the fragment links of one version's sections in one language.
/// `ids[i]` is section `i`'s anchor, `prefixes[i]` what its sub-headings'
/// anchors start with (the loader's rule: the file's own id).
pub fn rewrite(sections: &mut [Section], ids: &[String], prefixes: &[String]) {
    let mut anchors: BTreeMap<String, String> = BTreeMap::new();
    for (i, section) in sections.iter().enumerate() {
        for name in section.title.iter().chain(&section.anchor) {
            anchors.entry(key(name)).or_insert_with(|| ids[i].clone());
        }
        let rendered = markdown::render(&section.body, &prefixes[i], &|_| true).unwrap_or_default();
        for heading in rendered.headings {
            let given = section
                .sub_anchors
                .iter()
                .filter(|(_, words)| *words == heading.text)
                .map(|(anchor, _)| anchor);
            for name in given.chain([&heading.text]) {
                anchors.entry(key(name)).or_insert(heading.id.clone());
            }
        }
    }
    // A fragment that is already an anchor here stays as it is.
    let existing: Vec<String> = anchors.values().cloned().collect();
    for section in sections.iter_mut() {
        section.body = relink(&section.body, |fragment| {
            if existing.iter().any(|a| a == fragment) {
                return None;
            }
            anchors.get(&key(fragment)).cloned()
        });
    }
}

/// Headings and fragments compared by their letters and digits only, so
/// that `copyright--dmca-policy` (GitHub keeps both dashes of " & ") and
/// `whats-new` (it drops the apostrophe) find their headings.
fn key(text: &str) -> String {
    slugify(text).replace('-', "")
}

/// `text` with each `#fragment` link destination (inline or in a reference
/// definition) replaced by what `anchor` gives for it, found by the parser.
fn relink(text: &str, anchor: impl Fn(&str) -> Option<String>) -> String {
    let parser = Parser::new_ext(text, markdown::options());
    // (where the destination stands in `text`, its new fragment)
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut find = |span: std::ops::Range<usize>, dest: &str| {
        let Some(fragment) = dest.strip_prefix('#') else {
            return;
        };
        let Some(new) = anchor(fragment) else {
            return;
        };
        if let Some(at) = text[span.clone()].rfind(dest) {
            let start = span.start + at + 1;
            edits.push((start..start + fragment.len(), new));
        }
    };
    for (_, def) in parser.reference_definitions().iter() {
        find(def.span.clone(), &def.dest);
    }
    for (event, range) in Parser::new_ext(text, markdown::options()).into_offset_iter() {
        if let Event::Start(Tag::Link { dest_url, .. }) = event {
            find(range, &dest_url);
        }
    }
    edits.sort_by_key(|(range, _)| range.start);
    edits.dedup_by_key(|(range, _)| range.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, new) in edits {
        if range.start < at {
            continue;
        }
        out.push_str(&text[at..range.start]);
        out.push_str(&new);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_to_the_source_sites_heading_anchors_point_at_the_ids_here() {
        let section = |title: &str, body: &str| Section {
            title: Some(title.into()),
            body: body.into(),
            ..Section::default()
        };
        let mut sections = vec![
            section("A. Definitions", "\nSee [payment](#k-payment), [terms](#5-additional-terms \"t\") and [us][r].\n\n[r]: #copyright--dmca-policy\n"),
            section("K. Payments", "\n### 5. Additional Terms\n\nMore. [Elsewhere](https://example.com/#k-payment), [here](#a-definitions).\n"),
            section("Copyright & DMCA Policy", "\nText, [more](#more).\n"),
        ];
        // `### 5. Additional Terms {: #more}` in the source.
        sections[1].sub_anchors = vec![("more".into(), "5. Additional Terms".into())];
        let ids = [
            "a-definitions".to_string(),
            "k-payment".into(),
            "dmca".into(),
        ];
        rewrite(
            &mut sections,
            &ids,
            &["a".into(), "billing".into(), "dmca".into()],
        );
        assert_eq!(sections[0].body, "\nSee [payment](#k-payment), [terms](#billing-5-additional-terms \"t\") and [us][r].\n\n[r]: #dmca\n");
        assert_eq!(sections[1].body, "\n### 5. Additional Terms\n\nMore. [Elsewhere](https://example.com/#k-payment), [here](#a-definitions).\n");
        assert_eq!(
            sections[2].body,
            "\nText, [more](#billing-5-additional-terms).\n"
        );
    }
}
