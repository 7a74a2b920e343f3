//! Cross-references in the text ("Section 4 below", "see Sections 4 and 5",
//! "à la section 4 ci-dessous"): the section must exist in the same version
//! and language, and "below"/"above" must point the right way.

use super::{at_offset, sections};
use crate::content::Site;
use crate::error::Diagnostics;

/// A reference found in a body: the numbers it names and where it points.
#[derive(Debug, PartialEq, Eq)]
struct Reference {
    offset: usize,
    quoted: String,
    numbers: Vec<u32>,
    direction: Option<Direction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Below,
    Above,
}

pub fn check(site: &Site) -> Diagnostics {
    let mut found = Diagnostics::default();
    for place in sections(site) {
        let here = place.section;
        let numbers: Vec<u32> = place
            .translation
            .sections
            .iter()
            .map(|s| s.number)
            .collect();
        for reference in find(&here.markdown) {
            for &n in &reference.numbers {
                let Some(target) = place.translation.sections.iter().find(|s| s.number == n) else {
                    found.push(
                        at_offset(here, reference.offset, format!(
                            "\"{}\" refers to section {n:02}, which this version does not have (its sections are {})",
                            reference.quoted,
                            range(&numbers)
                        ))
                        .with_hint("correct the number; sections may have been renumbered in this version"),
                    );
                    continue;
                };
                let wrong_way = match reference.direction {
                    Some(Direction::Below) => target.number <= here.number,
                    Some(Direction::Above) => target.number >= here.number,
                    None => false,
                };
                if wrong_way {
                    let said = match reference.direction {
                        Some(Direction::Below) => "below",
                        _ => "above",
                    };
                    let is = if target.number == here.number {
                        "is this very section"
                    } else if target.number < here.number {
                        "comes before this one"
                    } else {
                        "comes after this one"
                    };
                    found.push(
                        at_offset(
                            here,
                            reference.offset,
                            format!(
                                "\"{}\" points {said}, but section {:02} (\"{}\") {is}",
                                reference.quoted, target.number, target.title
                            ),
                        )
                        .with_hint("fix the number or the direction word"),
                    );
                }
            }
        }
    }
    found
}

fn range(numbers: &[u32]) -> String {
    match (numbers.first(), numbers.last()) {
        (Some(first), Some(last)) => format!("{first:02} to {last:02}"),
        _ => "none".into(),
    }
}

/// Finds "section(s) N[, N| and N| et N| or N| ou N]… [below|above|ci-dessous|ci-dessus]".
fn find(text: &str) -> Vec<Reference> {
    let lower = text.to_lowercase();
    // Lowercasing may change byte lengths; fall back to the text itself then.
    let hay = if lower.len() == text.len() {
        &lower
    } else {
        text
    };
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = hay[from..].find("section") {
        let start = from + at;
        from = start + "section".len();
        let word_start = hay[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        if !word_start {
            continue;
        }
        let mut i = from;
        if hay[i..].starts_with('s') {
            i += 1;
        }
        let mut numbers = Vec::new();
        let mut end = i;
        loop {
            let rest = &hay[i..];
            let gap = rest.len() - rest.trim_start().len();
            let digits: String = rest[gap..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if digits.is_empty() || digits.len() > 2 || gap == 0 && numbers.is_empty() {
                break;
            }
            numbers.push(digits.parse().expect("digits"));
            i += gap + digits.len();
            end = i;
            let rest = &hay[i..];
            let joiner = [", ", " and ", " et ", " or ", " ou ", ",\n"]
                .iter()
                .find(|j| rest.starts_with(**j));
            match joiner {
                Some(j) => i += j.len(),
                None => break,
            }
        }
        if numbers.is_empty() {
            continue;
        }
        let rest = &hay[end..];
        let gap = rest.len() - rest.trim_start().len();
        let after = &rest[gap..];
        let direction = [
            ("below", Direction::Below),
            ("ci-dessous", Direction::Below),
            ("above", Direction::Above),
            ("ci-dessus", Direction::Above),
        ]
        .iter()
        .find(|(word, _)| after.starts_with(word))
        .map(|(word, d)| {
            end += gap + word.len();
            *d
        });
        if direction.is_none()
            && [" of ", " de ", " du ", " des "]
                .iter()
                .any(|w| rest.starts_with(w))
        {
            // "Section 5 of the Act": a section of another text.
            continue;
        }
        found.push(Reference {
            offset: start,
            quoted: text[start..end]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            numbers,
            direction,
        });
        from = end;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(text: &str) -> Vec<(String, Vec<u32>, Option<Direction>)> {
        find(text)
            .into_iter()
            .map(|r| (r.quoted, r.numbers, r.direction))
            .collect()
    }

    #[test]
    fn english_and_french_references_are_found() {
        assert_eq!(
            summary(
                "as described in\nSection 4 below; see Sections 4 and 5 above, and section 09."
            ),
            vec![
                ("Section 4 below".into(), vec![4], Some(Direction::Below)),
                (
                    "Sections 4 and 5 above".into(),
                    vec![4, 5],
                    Some(Direction::Above)
                ),
                ("section 09".into(), vec![9], None),
            ]
        );
        assert_eq!(
            summary("décrits à la section 4 ci-dessous et à la section 1 ci-dessus"),
            vec![
                (
                    "section 4 ci-dessous".into(),
                    vec![4],
                    Some(Direction::Below)
                ),
                (
                    "section 1 ci-dessus".into(),
                    vec![1],
                    Some(Direction::Above)
                ),
            ]
        );
    }

    #[test]
    fn other_texts_sections_and_plain_words_are_not_references() {
        assert!(summary("Section 5 of the Act applies. This section explains.").is_empty());
    }
}
