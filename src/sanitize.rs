//! Raw HTML written in sections, made safe by one allow-list: harmless
//! formatting stays, everything else goes. `ammonia` (a well-kept HTML5
//! sanitizer) cleans what pages publish; html5ever's tokenizer (the parser
//! ammonia itself uses) lists, line by line, what that allow-list takes out,
//! so that `check` can tell the author. The markdown stage calls both, so
//! policy pages and redlines receive the same cleaned text.

use ammonia::{Builder, UrlRelative};
use html5ever::buffer_queue::BufferQueue;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// Elements a section may write: formatting, lists, tables, links, images.
const TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "bdi",
    "blockquote",
    "br",
    "caption",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
    "var",
    "wbr",
];

/// Elements removed together with what they hold (others lose only their tags).
const DROPPED_WITH_CONTENT: &[&str] = &[
    "script", "style", "iframe", "object", "embed", "noscript", "noembed", "noframes", "template",
    "textarea", "select", "title", "xmp",
];

/// Attributes allowed on every allowed element.
const GENERIC_ATTRIBUTES: &[&str] = &["class", "id", "lang", "dir", "title"];

/// Attributes allowed on one element; `href` and `src` only with a safe URL.
const TAG_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href", "hreflang"]),
    ("img", &["src", "alt", "width", "height"]),
    ("td", &["colspan", "rowspan", "headers"]),
    ("th", &["colspan", "rowspan", "headers", "scope"]),
    ("ol", &["start", "reversed", "type"]),
    ("li", &["value"]),
    ("time", &["datetime"]),
    ("del", &["datetime"]),
    ("ins", &["datetime"]),
    ("col", &["span"]),
    ("colgroup", &["span"]),
    ("details", &["open"]),
];

/// URL schemes a link or image may use; relative URLs are always allowed.
const URL_SCHEMES: &[&str] = &["http", "https", "mailto", "tel"];

static CLEANER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::empty();
    builder
        .tags(TAGS.iter().copied().collect())
        .clean_content_tags(DROPPED_WITH_CONTENT.iter().copied().collect())
        .generic_attributes(GENERIC_ATTRIBUTES.iter().copied().collect())
        .tag_attributes(
            TAG_ATTRIBUTES
                .iter()
                .map(|(tag, attributes)| (*tag, attributes.iter().copied().collect()))
                .collect::<HashMap<&str, HashSet<&str>>>(),
        )
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        .url_relative(UrlRelative::PassThrough)
        .link_rel(None)
        .strip_comments(true);
    builder
});

/// `html` with everything outside the allow-list removed.
pub fn clean(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

/// Whether a link or image may point at `url`: relative, or one of the
/// allowed schemes (so never `javascript:` or `data:`), as ammonia decides.
pub fn url_allowed(url: &str) -> bool {
    match url::Url::parse(url) {
        Ok(parsed) => URL_SCHEMES.contains(&parsed.scheme()),
        Err(e) => e == url::ParseError::RelativeUrlWithoutBase,
    }
}

/// What the allow-list takes out of one piece of raw HTML.
#[derive(Debug, Default)]
pub struct Scan {
    /// (line within the piece, counted from 1; what was removed)
    pub removed: Vec<(usize, String)>,
    /// Whether the piece leaves open an element whose content is dropped
    /// (`<script>` alone on a line of a paragraph): `None` when it neither
    /// opens nor closes one.
    pub hides_what_follows: Option<bool>,
}

/// Lists what `clean` would remove from `html`, in order.
pub fn scan(html: &str) -> Scan {
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(Scanner::default(), Default::default());
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    tokenizer.sink.found.into_inner()
}

#[derive(Default)]
struct Scanner {
    found: RefCell<Scan>,
}

impl TokenSink for Scanner {
    type Handle = ();

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<()> {
        let mut found = self.found.borrow_mut();
        let line = line as usize;
        match token {
            Token::TagToken(tag) if tag.kind == TagKind::StartTag => {
                if DROPPED_WITH_CONTENT.contains(&&*tag.name) {
                    found.hides_what_follows = Some(!tag.self_closing && &*tag.name != "embed");
                    found.removed.push((
                        line,
                        format!("the `<{}>` element and its content", tag.name),
                    ));
                    return raw_kind(&tag.name)
                        .map_or(TokenSinkResult::Continue, TokenSinkResult::RawData);
                }
                if !TAGS.contains(&&*tag.name) {
                    found
                        .removed
                        .push((line, format!("the `<{}>` tag", tag.name)));
                    return TokenSinkResult::Continue;
                }
                for what in removed_attributes(&tag) {
                    found.removed.push((line, what));
                }
            }
            Token::TagToken(tag) if DROPPED_WITH_CONTENT.contains(&&*tag.name) => {
                found.hides_what_follows = Some(false);
            }
            // Comments are authors' notes: stripped from every page, and
            // not reported, since drafting notes are their ordinary use.
            Token::CommentToken(_) => {}
            Token::DoctypeToken(_) => found.removed.push((line, "a doctype".into())),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// How the HTML parser reads the content of an element removed with it.
fn raw_kind(name: &str) -> Option<RawKind> {
    match name {
        "script" => Some(RawKind::ScriptData),
        "textarea" | "title" => Some(RawKind::Rcdata),
        "style" | "iframe" | "noembed" | "noframes" | "xmp" => Some(RawKind::Rawtext),
        _ => None,
    }
}

fn removed_attributes(tag: &Tag) -> Vec<String> {
    let own = TAG_ATTRIBUTES
        .iter()
        .find(|(name, _)| *name == &*tag.name)
        .map_or(&[][..], |(_, attributes)| *attributes);
    let mut removed = Vec::new();
    for attribute in &tag.attrs {
        let name = &*attribute.name.local;
        let value = &*attribute.value;
        if !GENERIC_ATTRIBUTES.contains(&name) && !own.contains(&name) {
            removed.push(format!("the `{name}` attribute of `<{}>`", tag.name));
        } else if (name == "href" || name == "src") && !url_allowed(value) {
            removed.push(format!(
                "the `{name}` of `<{}>`, a {} URL",
                tag.name,
                scheme_of(value)
            ));
        }
    }
    removed
}

/// "`javascript:`", for messages about a URL that was removed.
pub fn scheme_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => format!("`{}:`", parsed.scheme()),
        Err(_) => "malformed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removed(html: &str) -> Vec<String> {
        scan(html)
            .removed
            .into_iter()
            .map(|(_, what)| what)
            .collect()
    }

    #[test]
    fn harmless_formatting_is_kept_as_written() {
        let html = r#"<p>A <abbr title="General Data Protection Regulation">GDPR</abbr> <sub>2</sub> <a href="https://x.org/a">link</a></p>"#;
        assert_eq!(clean(html), html);
        assert!(removed(html).is_empty());
    }

    #[test]
    fn scripts_handlers_and_unsafe_urls_are_removed_and_listed() {
        let html = "<p>a<script>alert(1)</script>\n<img src=x onerror=alert(2)>\n<a href=\"javascript:alert(3)\">x</a><!-- note --></p>";
        let cleaned = clean(html);
        for gone in ["script", "alert", "onerror", "javascript", "note"] {
            assert!(!cleaned.contains(gone), "{gone} in {cleaned}");
        }
        let found = scan(html).removed;
        let lines: Vec<usize> = found.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [1, 2, 3], "comments are not listed: {found:?}");
    }

    #[test]
    fn the_content_of_a_script_is_not_read_as_tags() {
        assert_eq!(removed("<script>if (a<b) { x('<p>') }</script>").len(), 1);
        assert_eq!(scan("<script>").hides_what_follows, Some(true));
        assert_eq!(scan("</script>").hides_what_follows, Some(false));
        assert_eq!(scan("<b>").hides_what_follows, None);
    }

    #[test]
    fn only_relative_and_web_mail_and_phone_urls_are_allowed() {
        for ok in [
            "/a",
            "#b",
            "https://x.org",
            "mailto:a@b.c",
            "tel:+331",
            "../c",
        ] {
            assert!(url_allowed(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:x",
            "data:text/html,x",
            "vbscript:x",
        ] {
            assert!(!url_allowed(bad), "{bad}");
        }
    }
}
