//! The redline for each kind of change, as snapshots: one small policy, one
//! edit per test, and what a reader gets (terminal text, then the HTML of
//! each changed section). `cargo insta review` shows a changed redline.

use super::present::{terminal, Redline};
use super::*;
use crate::content::{Section, Translation};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// (id, title, markdown) of the base version's sections, numbered in order.
const BASE: &[(&str, &str, &str)] = &[
    (
        "collection",
        "Data we collect",
        "We collect your **name**, your email address and the [pages you visit](#cookies).\n\n- Name\n- Email address\n",
    ),
    (
        "retention",
        "Retention",
        "We keep data for 90 days, then we delete it.\n\nBackups are kept for thirty days and then overwritten by newer copies.\n",
    ),
    (
        "security",
        "Security",
        "We encrypt data at rest and in transit.\n",
    ),
    (
        "cookies",
        "Cookies",
        "We use cookies to remember your choices. See the [cookie list](https://example.com/cookies) and [the retention rules](#retention).\n",
    ),
];

fn translation(sections: &[(&str, &str, &str)]) -> Translation {
    let sections = sections
        .iter()
        .enumerate()
        .map(|(i, (id, title, markdown))| Section {
            number: i as u32 + 1,
            id: id.to_string(),
            title: title.to_string(),
            file: PathBuf::from(format!("{:02}-{id}.md", i + 1)),
            body_line: 4,
            markdown: markdown.to_string(),
            translated_from: None,
            explicit_id: true,
            rendered: crate::markdown::render(markdown, id, &|_| true).expect("valid markdown"),
        })
        .collect();
    Translation::new("en".into(), sections)
}

fn english() -> BTreeMap<String, String> {
    crate::yaml::parse(
        include_str!("../i18n/en/diff.yaml"),
        Path::new("diff.yaml"),
        1,
    )
    .expect("built-in strings")
}

fn diff_of(new: &[(&str, &str, &str)]) -> VersionDiff {
    let dates = ("2024-01-10".parse().unwrap(), "2025-01-30".parse().unwrap());
    diff_translations(&translation(BASE), &translation(new), dates.0, dates.1)
}

/// BASE with the section `id`'s markdown replaced.
fn edited(id: &str, markdown: &'static str) -> Vec<(&'static str, &'static str, &'static str)> {
    BASE.iter()
        .map(|&(i, t, m)| (i, t, if i == id { markdown } else { m }))
        .collect()
}

/// What a reader gets: the terminal redline, then each changed section's HTML.
fn redline(new: &[(&str, &str, &str)]) -> String {
    let diff = diff_of(new);
    let strings = english();
    let page = Redline::new(&diff, &strings, "/en/privacy/2024-01-10/", "/en/privacy/");
    let mut out = terminal(&diff, false, &strings);
    for s in diff.changed_sections() {
        out.push_str(&format!("\n<!-- {} -->\n{}\n", s.id, page.section_html(s)));
    }
    out
}

#[test]
fn word() {
    insta::assert_snapshot!(redline(&edited(
        "retention",
        "We keep data for 60 days, then we delete it.\n\nBackups are kept for thirty days and then overwritten by newer copies.\n",
    )));
}

#[test]
fn link_target() {
    let new = edited(
        "cookies",
        "We use cookies to remember your choices. See the [cookie list](https://example.com/cookie-list) and [the retention rules](#retention).\n",
    );
    let diff = diff_of(&new);
    assert_eq!((diff.words_added, diff.words_removed), (0, 0));
    assert_eq!(diff.marks.links, 1);
    insta::assert_snapshot!(redline(&new));
}

#[test]
fn emphasis() {
    let new = edited(
        "collection",
        "We collect your name, your email address and the [pages you visit](#cookies).\n\n- Name\n- Email address\n",
    );
    let diff = diff_of(&new);
    assert_eq!(
        (diff.words_added, diff.words_removed, diff.marks.emphasis),
        (0, 0, 1)
    );
    insta::assert_snapshot!(redline(&new));
}

#[test]
fn punctuation() {
    let new = edited(
        "retention",
        "We keep data for 90 days; then we delete it.\n\nBackups are kept for thirty days and then overwritten by newer copies.\n",
    );
    let diff = diff_of(&new);
    assert_eq!(
        (diff.words_added, diff.words_removed, diff.marks.punctuation),
        (0, 0, 1)
    );
    insta::assert_snapshot!(redline(&new));
}

#[test]
fn reflow() {
    let new = edited(
        "retention",
        "We keep data\nfor 90 days, then we\ndelete it.\n\n\nBackups are kept for thirty days\nand then overwritten by newer copies.",
    );
    assert!(diff_of(&new).is_unchanged());
    insta::assert_snapshot!(redline(&new));
}

#[test]
fn list_marker() {
    let new = edited(
        "collection",
        "We collect your **name**, your email address and the [pages you visit](#cookies).\n\n* Name\n* Email address\n",
    );
    assert!(diff_of(&new).is_unchanged());
    insta::assert_snapshot!(redline(&new));
}

#[test]
fn section_added() {
    let mut new = BASE.to_vec();
    new.insert(
        3,
        (
            "sharing",
            "Sharing",
            "We share data with our payment provider.\n",
        ),
    );
    insta::assert_snapshot!(redline(&new));
}

#[test]
fn section_removed() {
    let new: Vec<_> = BASE.iter().copied().filter(|s| s.0 != "security").collect();
    insta::assert_snapshot!(redline(&new));
}

#[test]
fn section_renamed() {
    let new: Vec<_> = BASE
        .iter()
        .map(|&(i, t, m)| {
            (
                i,
                if i == "retention" {
                    "How long we keep data"
                } else {
                    t
                },
                m,
            )
        })
        .collect();
    insta::assert_snapshot!(redline(&new));
}

#[test]
fn section_moved() {
    let new = vec![BASE[0], BASE[3], BASE[1], BASE[2]];
    let diff = diff_of(&new);
    let moved: Vec<_> = diff
        .sections
        .iter()
        .filter(|s| s.moved)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        moved,
        ["cookies"],
        "one section moved, the others renumbered"
    );
    insta::assert_snapshot!(redline(&new));
}

#[test]
fn section_renumbered() {
    let mut new = BASE.to_vec();
    new.insert(0, ("contact", "Contact", "Write to privacy@example.com.\n"));
    let diff = diff_of(&new);
    assert!(diff.sections.iter().all(|s| !s.moved));
    insta::assert_snapshot!(redline(&new));
}

#[test]
fn text_moved_across_sections() {
    let new = vec![
        BASE[0],
        ("retention", "Retention", "We keep data for 90 days, then we delete it.\n"),
        (
            "security",
            "Security",
            "We encrypt data at rest and in transit.\n\nBackups are kept for 30 days and then overwritten by newer copies.\n",
        ),
        BASE[3],
    ];
    let diff = diff_of(&new);
    assert_eq!(
        (diff.words_added, diff.words_removed),
        (1, 1),
        "only the edit made on the way counts"
    );
    assert_eq!(diff.marks.words_moved, 12);
    insta::assert_snapshot!(redline(&new));
}

#[test]
fn links_to_sections_on_the_page_stay_and_others_go_to_the_version_page() {
    let new = edited(
        "cookies",
        "We use cookies. See [the retention rules](#retention) and [how to object](#retention-objecting).\n",
    );
    let diff = diff_of(&new);
    let strings = english();
    let page = Redline::new(&diff, &strings, "/en/privacy/2024-01-10/", "/en/privacy/");
    let html = page.section_html(diff.sections.iter().find(|s| s.id == "cookies").unwrap());
    assert!(html.contains("<a href=\"#retention\">"), "{html}");
    assert!(
        html.contains("<a href=\"/en/privacy/#retention-objecting\">"),
        "{html}"
    );
}

// ---- Bounded diff -----------------------------------------------------------

/// A paragraph of `n` words that repeat, as long legal text does.
pub fn long_paragraph(n: usize) -> String {
    let words = [
        "the", "data", "we", "keep", "about", "you", "for", "as", "long", "law", "requires",
    ];
    (0..n)
        .map(|i| words[(i * 7 + i / 11) % words.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn one_word_changed_in_a_fifty_thousand_word_paragraph_is_one_word() {
    let old = long_paragraph(50_000);
    let mut words: Vec<&str> = old.split(' ').collect();
    words[25_000] = "forever";
    let new = words.join(" ");
    let blocks = |text: &str| {
        crate::markdown::render(text, "p", &|_| true)
            .unwrap()
            .blocks
    };
    let changes = diff_blocks(&blocks(&old), &blocks(&new));
    let [BlockChange::Changed { ops, .. }] = changes.as_slice() else {
        panic!("one block changed word by word: {changes:?}");
    };
    let edits: Vec<(Op, &str)> = ops
        .iter()
        .filter(|(op, _)| op.is_edit())
        .map(|(op, t)| (op.clone(), t.text.as_str()))
        .collect();
    assert_eq!(
        edits,
        [
            (Op::Delete, words_at(&old, 25_000)),
            (Op::Insert, "forever")
        ]
    );
}

fn words_at(text: &str, i: usize) -> &str {
    text.split(' ').nth(i).unwrap()
}

#[test]
fn a_two_hundred_thousand_item_list_shows_only_its_edited_items() {
    let (old, new) = long_list(200_000);
    let blocks = |text: &str| {
        crate::markdown::render(text, "l", &|_| true)
            .unwrap()
            .blocks
    };
    let changes = diff_blocks(&blocks(&old), &blocks(&new));
    let count = |f: fn(&BlockChange) -> bool| changes.iter().filter(|c| f(c)).count();
    assert_eq!(count(|c| matches!(c, BlockChange::Changed { .. })), 1_600);
    assert_eq!(count(|c| matches!(c, BlockChange::Added(_))), 200);
    assert_eq!(count(|c| matches!(c, BlockChange::Removed(_))), 200);
}

/// A list of `n` items and its next version: one item in 100 reworded, one
/// in 1,000 removed, one in 1,000 inserted.
pub fn long_list(n: usize) -> (String, String) {
    let item = |i: usize| {
        format!(
            "- Record {i} is kept for {} days after the account closes.\n",
            i % 90 + 1
        )
    };
    let old: String = (0..n).map(item).collect();
    let new: String = (0..n)
        .map(|i| match i {
            _ if i % 1000 == 500 => String::new(),
            _ if i % 1000 == 700 => format!(
                "{}- A new rule {i} applies to records made after 2025.\n",
                item(i)
            ),
            _ if i % 100 == 0 => format!(
                "- Record {i} is kept for {} weeks after the account closes.\n",
                i % 90 + 1
            ),
            _ => item(i),
        })
        .collect();
    (old, new)
}

#[test]
fn a_long_unchanged_run_is_one_linked_line_and_a_change_keeps_its_neighbours() {
    let text = |fourth: &str| ["One.", "Two.", "Three.", fourth, "Five.", "Six."].join("\n\n");
    let (old, new) = (text("Four."), text("Four, changed."));
    let diff = diff_translations(
        &translation(&[("retention", "Retention", &old)]),
        &translation(&[("retention", "Retention", &new)]),
        "2024-01-10".parse().unwrap(),
        "2025-01-30".parse().unwrap(),
    );
    let strings = english();
    let page = Redline::new(&diff, &strings, "/old/", "/new/");
    let html = page.section_html(&diff.sections[0]);
    assert!(
        html.contains("<a href=\"/new/#retention\">[… 2 unchanged paragraphs or items: read them in the version]</a>"),
        "{html}"
    );
    for shown in ["Three.", "Five.", "Six."] {
        assert!(html.contains(shown), "{shown} is shown: {html}");
    }
    for hidden in ["One.", "Two."] {
        assert!(!html.contains(hidden), "{hidden} is not copied: {html}");
    }
}

/// An address dropped from the end of a sentence is one deletion: its dot is
/// part of the address, never aligned with the sentence's full stop.
#[test]
fn an_address_removed_before_a_full_stop_is_one_deletion() {
    let with = edited(
        "security",
        "We encrypt data. Write to us at [support@example.io](mailto:support@example.io).\n",
    );
    let without = edited("security", "We encrypt data. Write to us.\n");
    let dates = ("2024-01-10".parse().unwrap(), "2025-01-30".parse().unwrap());
    let diff = diff_translations(
        &translation(&with),
        &translation(&without),
        dates.0,
        dates.1,
    );
    assert_eq!((diff.words_added, diff.words_removed), (0, 2));
    let text = terminal(&diff, false, &english());
    assert!(
        text.contains("Write to us[- at support@example.io-]."),
        "{text}"
    );
}

/// A redline page sits deeper than the version page: a relative link in the
/// text leads where it leads from the version page; absolute ones are kept.
#[test]
fn relative_links_resolve_from_the_version_page() {
    let html = redline(&edited(
        "security",
        "We encrypt data at rest and in transit. See [our terms](../terms/), [the list](https://example.com/list) and [mail](mailto:a@example.com).\n",
    ));
    assert!(html.contains(r#"href="/en/privacy/../terms/""#), "{html}");
    assert!(
        html.contains(r#"href="https://example.com/list""#),
        "{html}"
    );
    assert!(html.contains(r#"href="mailto:a@example.com""#), "{html}");
}

#[test]
fn paragraph_split() {
    // One paragraph cut in two (a word changed on the way) reads as a split,
    // not as the paragraph deleted and two inserted.
    let new = edited(
        "retention",
        "We keep data for 90 days.\n\nAfter that, we delete it.\n\nBackups are kept for thirty days and then overwritten by newer copies.\n",
    );
    let diff = diff_of(&new);
    let retention = diff.sections.iter().find(|s| s.id == "retention").unwrap();
    let parts: Vec<(usize, usize)> = retention
        .blocks
        .iter()
        .filter_map(|b| match b {
            BlockChange::Split { part, parts, .. } => Some((*part, *parts)),
            _ => None,
        })
        .collect();
    assert_eq!(parts, [(0, 2), (1, 2)], "{:?}", retention.blocks);
    assert!(!retention
        .blocks
        .iter()
        .any(|b| matches!(b, BlockChange::Added(_) | BlockChange::Removed(_))));
    assert_eq!((diff.words_added, diff.words_removed), (2, 1));
    insta::assert_snapshot!(redline(&new));
}
