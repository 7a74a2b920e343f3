//! A version page's policy text in the canonical form the publication log
//! hashes: the words of the element marked `data-policy-text`, without the
//! parts marked `data-chrome` (section anchors, forms, cookie tables drawn
//! from the configuration), one block a line, white space collapsed. Markup,
//! styles and links may change with the templates; the words may not.
//!
//! html5ever's tokenizer reads the page (the parser ammonia and browsers
//! share). Only the marked elements' own tag is counted to find where they
//! end: the templates mark `div`, `a` and `details` elements, whose end tags
//! HTML never leaves out, so a minified page reads the same.

use html5ever::buffer_queue::BufferQueue;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};
use sha2::{Digest, Sha256};
use std::cell::RefCell;

/// The attribute that marks the policy text on a version page.
pub const TEXT_ATTRIBUTE: &str = "data-policy-text";
/// The attribute that marks what inside it is the site's, not the policy's.
pub const CHROME_ATTRIBUTE: &str = "data-chrome";

/// Elements that end a line of the canonical text.
const BLOCKS: &[&str] = &[
    "address",
    "blockquote",
    "br",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "td",
    "th",
    "tr",
    "ul",
];

/// The canonical policy text of a page, or `None` when the page marks none.
pub fn canonical(html: &str) -> Option<String> {
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(Reader::default(), Default::default());
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    let read = tokenizer.sink.state.into_inner();
    read.found.then(|| normalise(&read.text))
}

/// SHA-256 (hex) of the canonical text, as the log records it.
pub fn digest(canonical: &str) -> String {
    crate::vocabulary::hex(&Sha256::digest(canonical.as_bytes()))
}

/// Lines trimmed, runs of white space made one space, empty lines dropped.
fn normalise(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// An element being read through: its tag and how many of the same tag are
/// open inside it.
struct Open {
    tag: String,
    depth: usize,
}

#[derive(Default)]
struct State {
    text: String,
    found: bool,
    /// The policy text element, once entered (and not yet left).
    inside: Option<Open>,
    /// A chrome element inside it being skipped.
    skipping: Option<Open>,
    /// Once the policy text element is left, the rest is not read.
    done: bool,
}

#[derive(Default)]
struct Reader {
    state: RefCell<State>,
}

fn has(tag: &Tag, attribute: &str) -> bool {
    tag.attrs.iter().any(|a| &*a.name.local == attribute)
}

/// Counts one start or end tag of the element being tracked; true when it
/// closed it.
fn closes(open: &mut Open, tag: &Tag) -> bool {
    if *tag.name != *open.tag || tag.self_closing {
        return false;
    }
    match tag.kind {
        TagKind::StartTag => {
            open.depth += 1;
            false
        }
        TagKind::EndTag if open.depth == 0 => true,
        TagKind::EndTag => {
            open.depth -= 1;
            false
        }
    }
}

impl TokenSink for Reader {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        if state.done {
            return TokenSinkResult::Continue;
        }
        match token {
            Token::TagToken(tag) => {
                if state.inside.is_none() {
                    if tag.kind == TagKind::StartTag && has(&tag, TEXT_ATTRIBUTE) {
                        state.found = true;
                        state.inside = Some(Open {
                            tag: tag.name.to_string(),
                            depth: 0,
                        });
                    }
                } else if let Some(skipping) = state.skipping.as_mut() {
                    if closes(skipping, &tag) {
                        state.skipping = None;
                    }
                } else if tag.kind == TagKind::StartTag
                    && has(&tag, CHROME_ATTRIBUTE)
                    && !tag.self_closing
                {
                    state.skipping = Some(Open {
                        tag: tag.name.to_string(),
                        depth: 0,
                    });
                } else {
                    let inside = state.inside.as_mut().expect("checked above");
                    if closes(inside, &tag) {
                        state.inside = None;
                        state.done = true;
                    } else if BLOCKS.contains(&&*tag.name) {
                        state.text.push('\n');
                    }
                }
                // Script and style content is never policy text, and must
                // not be read as tags.
                if tag.kind == TagKind::StartTag && !tag.self_closing {
                    let raw = match &*tag.name {
                        "script" => Some(RawKind::ScriptData),
                        "style" => Some(RawKind::Rawtext),
                        "textarea" | "title" => Some(RawKind::Rcdata),
                        _ => None,
                    };
                    if let Some(raw) = raw {
                        if state.inside.is_some() {
                            state.skipping.get_or_insert(Open {
                                tag: tag.name.to_string(),
                                depth: 0,
                            });
                        }
                        return TokenSinkResult::RawData(raw);
                    }
                }
            }
            Token::CharacterTokens(text) if state.inside.is_some() && state.skipping.is_none() => {
                // A line break in the source is a space; lines are blocks.
                state.text.extend(
                    text.chars()
                        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
                );
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_the_marked_elements_words_one_block_a_line() {
        let page = r##"<html><body><nav>Menu</nav><p class="notice">A newer version exists</p>
            <div data-policy-text><section><h2>1. Data   we
            collect <a data-chrome href="#s1">#</a></h2><p>Your <em>name</em> &amp; e-mail.<p>Nothing else.</section>
            <div data-chrome><form><label>Name</label></form><div>nested</div></div>
            <ul><li>one<li>two</ul></div><footer>Footer</footer></body></html>"##;
        assert_eq!(
            canonical(page).unwrap(),
            "1. Data we collect\nYour name & e-mail.\nNothing else.\none\ntwo"
        );
    }

    #[test]
    fn the_chrome_around_the_text_and_the_markup_do_not_change_the_digest() {
        let plain = r#"<div data-policy-text><p>Hello world</p></div>"#;
        let dressed = r#"<header>New!</header><div class="x" data-policy-text>
            <p class="lead">Hello <strong>world</strong></p>
            <details data-chrome><summary>Ask</summary><input name=a></details></div><p>after</p>"#;
        assert_eq!(
            digest(&canonical(plain).unwrap()),
            digest(&canonical(dressed).unwrap())
        );
        let changed = r#"<div data-policy-text><p>Hello world!</p></div>"#;
        assert_ne!(canonical(plain), canonical(changed));
    }

    #[test]
    fn a_page_without_the_mark_has_no_text() {
        assert_eq!(canonical("<p>Just a page</p>"), None);
    }
}
