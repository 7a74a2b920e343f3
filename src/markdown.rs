//! Markdown to HTML, once per section. Besides the HTML it returns the
//! section's structure as `Block`s of styled words (what the diff stage
//! compares) and the directives (`[text](policy-site:form/access)`) that the
//! render stage replaces with widgets. Raw HTML and link targets pass the
//! allow-list of `sanitize` here, before pages and redlines take them, and
//! what it removed is kept for `check` to report.

use crate::sanitize;
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::ops::Range;

/// The scheme of directive links: a paragraph that is only such a link is
/// replaced by a widget, and still reads as a link in any other previewer.
pub const DIRECTIVE_SCHEME: &str = "policy-site:";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directive {
    /// `policy-site:form/<right>`: that right's request form.
    Form(String),
    /// `policy-site:cookie-table`: the cookie inventory.
    CookieTable,
}

/// Rendered HTML, cut where directives stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fragment {
    Html(String),
    Directive(Directive),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlockKind {
    Paragraph,
    Heading,
    ListItem,
    TableCell,
    Quote,
    Code,
    Directive,
}

/// How a run of text is marked up: what the diff treats as meaning.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Style {
    pub emphasis: bool,
    pub strong: bool,
    pub code: bool,
    pub link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub style: Style,
}

/// One unit of text a reader sees as a whole: a paragraph, a heading, a list
/// item, a table cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    pub runs: Vec<Run>,
}

impl Block {
    pub fn text(&self) -> String {
        self.runs.iter().map(|r| r.text.as_str()).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub fragments: Vec<Fragment>,
    pub blocks: Vec<Block>,
    pub headings: Vec<Heading>,
    /// What the raw-HTML allow-list took out: published without it, reported by `check`.
    pub removed: Vec<Removed>,
}

/// Something removed from the section's raw HTML or links, at a line
/// counted from the start of the rendered text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub line: usize,
    pub what: String,
}

/// A problem in the markdown, at a line counted from the start of `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkdownError {
    pub line: usize,
    pub message: String,
    pub hint: String,
}

pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_FOOTNOTES
}

/// Renders one section body. `anchor_prefix` makes sub-heading anchors unique
/// on the page; `is_known` says whether a directive names something that exists.
/// A paragraph that is a lone `policy-site:` link: its directive if the
/// site knows it, else the error to report at `line`.
fn known_directive(
    target: &str,
    line: usize,
    is_known: &dyn Fn(&Directive) -> bool,
) -> Result<Directive, MarkdownError> {
    match parse_directive(target) {
        Ok(directive) if is_known(&directive) => Ok(directive),
        Ok(directive) => Err(MarkdownError {
            line,
            message: format!("unknown {}", describe(&directive)),
            hint: "check the spelling against the rights catalogue (access, portability, rectification, erasure, restriction, automated-decision, marketing-opt-out, withdraw-consent) or the consent settings".into(),
        }),
        Err(message) => Err(MarkdownError {
            line,
            message,
            hint: directive_hint(),
        }),
    }
}

/// The heading starting at `events[i]`: one level down (section titles are
/// `<h2>`, headings inside a section start at `<h3>`), with an anchor made
/// from its text, unique in the section (`used`).
fn sub_heading<'a>(
    events: &[(Event<'a>, Range<usize>)],
    i: usize,
    level: HeadingLevel,
    anchor_prefix: &str,
    used: &mut std::collections::BTreeSet<String>,
) -> (Heading, Event<'a>) {
    let level = shift(level);
    let end = (i..events.len())
        .find(|&j| matches!(events[j].0, Event::End(TagEnd::Heading(_))))
        .unwrap_or(events.len() - 1);
    let inner: String = events[i + 1..end]
        .iter()
        .filter_map(|(e, _)| match e {
            Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
            _ => None,
        })
        .collect();
    let mut id = format!("{anchor_prefix}-{}", slugify(&inner));
    let base = id.clone();
    let mut n = 2;
    while !used.insert(id.clone()) {
        id = format!("{base}-{n}");
        n += 1;
    }
    let heading = Heading {
        level: level as u8,
        id: id.clone(),
        text: inner,
    };
    let start = Event::Start(Tag::Heading {
        level,
        id: Some(CowStr::from(id)),
        classes: vec![],
        attrs: vec![],
    });
    (heading, start)
}

pub fn render(
    text: &str,
    anchor_prefix: &str,
    is_known: &dyn Fn(&Directive) -> bool,
) -> Result<Rendered, Vec<MarkdownError>> {
    let line_at = |offset: usize| {
        text[..offset.min(text.len())]
            .bytes()
            .filter(|&b| b == b'\n')
            .count()
            + 1
    };
    let events: Vec<(Event, Range<usize>)> = Parser::new_ext(text, options())
        .into_offset_iter()
        .collect();
    let mut out = Rendered::default();
    let (events, raw_html) = screen(events, &line_at, &mut out.removed);
    let mut errors = Vec::new();
    let mut html_events: Vec<Event> = Vec::new();
    let mut structure = StructureCollector::default();
    let mut used_anchors = std::collections::BTreeSet::new();
    let mut i = 0;
    while i < events.len() {
        let (event, range) = &events[i];
        match event {
            Event::Start(Tag::Paragraph) => {
                if let Some((directive_target, end)) = lone_link(&events, i) {
                    match known_directive(directive_target, line_at(range.start), is_known) {
                        Ok(directive) => {
                            flush(&mut html_events, &mut out.fragments, raw_html);
                            out.fragments.push(Fragment::Directive(directive));
                            structure.directive(directive_target);
                        }
                        Err(e) => errors.push(e),
                    }
                    i = end + 1;
                    continue;
                }
                structure.event(event);
                html_events.push(event.clone());
            }
            Event::Start(Tag::Link { dest_url, .. }) if dest_url.starts_with(DIRECTIVE_SCHEME) => {
                errors.push(MarkdownError {
                    line: line_at(range.start),
                    message: format!(
                        "the directive `{dest_url}` must stand alone in its own paragraph"
                    ),
                    hint: directive_hint(),
                });
                structure.event(event);
                html_events.push(event.clone());
            }
            Event::Start(Tag::Heading { level, .. }) => {
                let (heading, start) =
                    sub_heading(&events, i, *level, anchor_prefix, &mut used_anchors);
                out.headings.push(heading);
                structure.event(&start);
                html_events.push(start);
            }
            Event::End(TagEnd::Heading(level)) => {
                let end = Event::End(TagEnd::Heading(shift(*level)));
                structure.event(&end);
                html_events.push(end);
            }
            _ => {
                structure.event(event);
                html_events.push(event.clone());
            }
        }
        i += 1;
    }
    flush(&mut html_events, &mut out.fragments, raw_html);
    out.blocks = structure.finish();
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn shift(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 | HeadingLevel::H2 | HeadingLevel::H3 => HeadingLevel::H3,
        HeadingLevel::H4 => HeadingLevel::H4,
        HeadingLevel::H5 => HeadingLevel::H5,
        HeadingLevel::H6 => HeadingLevel::H6,
    }
}

/// Turns the events so far into one fragment of HTML; with raw HTML among
/// them, through the sanitizer (pulldown-cmark escapes all other text).
fn flush(events: &mut Vec<Event>, fragments: &mut Vec<Fragment>, raw_html: bool) {
    if events.is_empty() {
        return;
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.drain(..));
    if raw_html {
        html = sanitize::clean(&html);
    }
    fragments.push(Fragment::Html(html));
}

/// Takes out of the events what the allow-list removes and the structure
/// would otherwise keep (links and images to unsafe URLs, keeping their
/// text; the text of a `<script>` or `<style>` written inside a paragraph),
/// and lists everything the sanitizer will remove. Also says whether there
/// is raw HTML at all, which alone needs the sanitizer.
fn screen<'a>(
    events: Vec<(Event<'a>, Range<usize>)>,
    line_at: &dyn Fn(usize) -> usize,
    removed: &mut Vec<Removed>,
) -> (Vec<(Event<'a>, Range<usize>)>, bool) {
    let mut kept = Vec::with_capacity(events.len());
    let mut dropped_ends = Vec::new();
    let mut html_block: Option<(usize, String)> = None;
    let (mut hidden, mut raw_html) = (false, false);
    for (event, range) in events {
        match &event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                let safe =
                    dest_url.starts_with(DIRECTIVE_SCHEME) || sanitize::url_allowed(dest_url);
                dropped_ends.push(!safe);
                if !safe {
                    let kind = match &event {
                        Event::Start(Tag::Image { .. }) => "an image from",
                        _ => "a link to",
                    };
                    let what = format!("{kind} a {} URL", sanitize::scheme_of(dest_url));
                    removed.push(Removed {
                        line: line_at(range.start),
                        what,
                    });
                    continue;
                }
            }
            Event::End(TagEnd::Link | TagEnd::Image) if dropped_ends.pop() == Some(true) => {
                continue
            }
            Event::Start(Tag::HtmlBlock) => {
                html_block = Some((line_at(range.start), String::new()))
            }
            Event::Html(html) if html_block.is_some() => html_block
                .as_mut()
                .expect("inside a block")
                .1
                .push_str(html),
            Event::End(TagEnd::HtmlBlock) => {
                if let Some((line, html)) = html_block.take() {
                    raw_html = true;
                    hidden = note(&html, line, removed).unwrap_or(hidden);
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                raw_html = true;
                hidden = note(html, line_at(range.start), removed).unwrap_or(hidden);
            }
            Event::Text(_) | Event::Code(_) if hidden => continue,
            _ => {}
        }
        kept.push((event, range));
    }
    (kept, raw_html)
}

/// Lists what the sanitizer removes from raw HTML starting at `first_line`;
/// returns whether text after it is inside a removed `<script>` or `<style>`.
fn note(html: &str, first_line: usize, removed: &mut Vec<Removed>) -> Option<bool> {
    let scan = sanitize::scan(html);
    removed.extend(scan.removed.into_iter().map(|(line, what)| Removed {
        line: first_line + line - 1,
        what,
    }));
    scan.hides_what_follows
}

/// When the paragraph starting at `start` holds nothing but one link to a
/// directive, its target and the index of the paragraph's end.
fn lone_link<'a>(
    events: &'a [(Event<'a>, Range<usize>)],
    start: usize,
) -> Option<(&'a str, usize)> {
    let Some((Event::Start(Tag::Link { dest_url, .. }), _)) = events.get(start + 1) else {
        return None;
    };
    if !dest_url.starts_with(DIRECTIVE_SCHEME) {
        return None;
    }
    let close =
        (start + 2..events.len()).find(|&j| matches!(events[j].0, Event::End(TagEnd::Link)))?;
    match events.get(close + 1) {
        Some((Event::End(TagEnd::Paragraph), _)) => Some((dest_url.as_ref(), close + 1)),
        _ => None,
    }
}

/// Parses a directive target such as `policy-site:form/access`.
pub fn parse_directive(target: &str) -> Result<Directive, String> {
    let rest = target
        .strip_prefix(DIRECTIVE_SCHEME)
        .ok_or_else(|| format!("`{target}` is not a directive"))?;
    match rest.split_once('/') {
        Some(("form", right)) if !right.is_empty() && !right.contains('/') => {
            Ok(Directive::Form(right.to_string()))
        }
        Some(("form", _)) => Err(format!("the directive `{target}` names no right")),
        None if rest == "cookie-table" => Ok(Directive::CookieTable),
        _ => Err(format!("`{target}` is not a known directive")),
    }
}

fn describe(directive: &Directive) -> String {
    match directive {
        Directive::Form(right) => format!("right `{right}` in a form directive"),
        Directive::CookieTable => {
            "cookie table (the site configures no `consent:` inventory)".into()
        }
    }
}

fn directive_hint() -> String {
    "write a directive as a paragraph of its own: `[Request access](policy-site:form/access)` or `[Cookies we use](policy-site:cookie-table)`".into()
}

/// Gathers blocks of styled runs from the event stream.
#[derive(Default)]
struct StructureCollector {
    blocks: Vec<Block>,
    current: Option<Block>,
    style: Style,
    emphasis: u32,
    strong: u32,
    links: Vec<String>,
    in_item: u32,
}

impl StructureCollector {
    fn open(&mut self, kind: BlockKind) {
        self.close();
        self.current = Some(Block {
            kind,
            runs: Vec::new(),
        });
    }

    fn close(&mut self) {
        if let Some(block) = self.current.take() {
            if block.runs.iter().any(|r| !r.text.trim().is_empty()) {
                self.blocks.push(block);
            }
        }
    }

    fn directive(&mut self, target: &str) {
        self.close();
        let runs = vec![Run {
            text: target.to_string(),
            style: Style::default(),
        }];
        self.blocks.push(Block {
            kind: BlockKind::Directive,
            runs,
        });
    }

    fn text(&mut self, text: &str, code: bool) {
        let style = Style {
            code,
            ..self.style.clone()
        };
        let block = self.current.get_or_insert_with(|| Block {
            kind: BlockKind::Paragraph,
            runs: Vec::new(),
        });
        match block.runs.last_mut() {
            Some(last) if last.style == style => last.text.push_str(text),
            _ => block.runs.push(Run {
                text: text.to_string(),
                style,
            }),
        }
    }

    fn restyle(&mut self) {
        self.style = Style {
            emphasis: self.emphasis > 0,
            strong: self.strong > 0,
            code: false,
            link: self.links.last().cloned(),
        };
    }

    fn event(&mut self, event: &Event) {
        match event {
            Event::Start(Tag::Paragraph) => {
                // A paragraph inside a list item belongs to the item.
                let inside_item = self.in_item > 0
                    && self
                        .current
                        .as_ref()
                        .is_some_and(|b| b.kind == BlockKind::ListItem && b.runs.is_empty());
                if !inside_item {
                    if self.in_item > 0
                        && self
                            .current
                            .as_ref()
                            .is_some_and(|b| b.kind == BlockKind::ListItem)
                    {
                        self.text(" ", false);
                    } else {
                        self.open(BlockKind::Paragraph);
                    }
                }
            }
            Event::Start(Tag::Heading { .. }) => self.open(BlockKind::Heading),
            Event::Start(Tag::Item) => {
                self.in_item += 1;
                self.open(BlockKind::ListItem);
            }
            Event::End(TagEnd::Item) => {
                self.in_item -= 1;
                self.close();
            }
            Event::Start(Tag::TableCell) => self.open(BlockKind::TableCell),
            Event::Start(Tag::CodeBlock(_)) => self.open(BlockKind::Code),
            Event::Start(Tag::BlockQuote(_)) => self.open(BlockKind::Quote),
            Event::End(TagEnd::Paragraph) if self.in_item == 0 => self.close(),
            Event::End(TagEnd::Heading(_))
            | Event::End(TagEnd::TableCell)
            | Event::End(TagEnd::CodeBlock) => self.close(),
            Event::Start(Tag::Emphasis) => {
                self.emphasis += 1;
                self.restyle();
            }
            Event::End(TagEnd::Emphasis) => {
                self.emphasis -= 1;
                self.restyle();
            }
            Event::Start(Tag::Strong) => {
                self.strong += 1;
                self.restyle();
            }
            Event::End(TagEnd::Strong) => {
                self.strong -= 1;
                self.restyle();
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                self.links.push(dest_url.to_string());
                self.restyle();
            }
            Event::End(TagEnd::Link) => {
                self.links.pop();
                self.restyle();
            }
            Event::Text(t) => self.text(t, false),
            Event::Code(t) => self.text(t, true),
            Event::SoftBreak | Event::HardBreak => self.text(" ", false),
            _ => {}
        }
    }

    fn finish(mut self) -> Vec<Block> {
        self.close();
        self.blocks
    }
}

/// A URL fragment from text: lowercase ASCII letters and digits joined by
/// dashes, with accents folded so French headings give readable anchors.
pub fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars().flat_map(|c| match fold_accent(c) {
        Some(folded) => folded.chars().collect::<Vec<_>>(),
        None => vec![c],
    }) {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() {
        "section".into()
    } else {
        slug
    }
}

/// The ASCII letters an accented letter is written as in a URL.
fn fold_accent(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' | 'À' | 'Â' | 'Ä' | 'Á' => "a",
        'ç' | 'Ç' => "c",
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => "e",
        'î' | 'ï' | 'í' | 'Î' | 'Ï' => "i",
        'ô' | 'ö' | 'ó' | 'õ' | 'Ô' | 'Ö' => "o",
        'ù' | 'û' | 'ü' | 'ú' | 'Ù' | 'Û' | 'Ü' => "u",
        'ÿ' => "y",
        'ñ' => "n",
        'œ' | 'Œ' => "oe",
        'æ' | 'Æ' => "ae",
        'ß' => "ss",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_known(_: &Directive) -> bool {
        true
    }

    fn html(r: &Rendered) -> String {
        r.fragments
            .iter()
            .map(|f| match f {
                Fragment::Html(h) => h.clone(),
                Fragment::Directive(d) => format!("[{d:?}]"),
            })
            .collect()
    }

    #[test]
    fn a_lone_directive_link_becomes_a_directive() {
        let r = render(
            "Intro.\n\n[Ask for access](policy-site:form/access)\n\nAfter.",
            "s",
            &all_known,
        )
        .unwrap();
        assert_eq!(r.fragments.len(), 3);
        assert_eq!(
            r.fragments[1],
            Fragment::Directive(Directive::Form("access".into()))
        );
        let kinds: Vec<_> = r.blocks.iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            [
                BlockKind::Paragraph,
                BlockKind::Directive,
                BlockKind::Paragraph
            ]
        );
    }

    #[test]
    fn an_unknown_right_is_an_error_at_its_line() {
        let errors = render("One.\n\nTwo.\n\n[x](policy-site:form/acess)\n", "s", &|d| {
            *d == Directive::Form("access".into())
        })
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 5);
        assert!(errors[0].message.contains("acess"));
    }

    #[test]
    fn a_malformed_or_inline_directive_is_an_error() {
        assert!(render("[x](policy-site:form/)", "s", &all_known).is_err());
        assert!(render("[x](policy-site:banner)", "s", &all_known).is_err());
        let inline =
            render("Use [this](policy-site:form/access) form.", "s", &all_known).unwrap_err();
        assert!(inline[0].message.contains("stand alone"));
    }

    #[test]
    fn headings_inside_a_section_start_at_h3_with_prefixed_anchors() {
        let r = render(
            "## Right of access\n\ntext\n\n### Right of access",
            "rights",
            &all_known,
        )
        .unwrap();
        let h = html(&r);
        assert!(h.contains(r#"<h3 id="rights-right-of-access">"#), "{h}");
        assert!(h.contains(r#"<h3 id="rights-right-of-access-2">"#), "{h}");
    }

    #[test]
    fn blocks_keep_words_and_their_styles_but_not_line_breaks() {
        let a = render(
            "Some *emphasised*\ntext with [a link](https://x.org).",
            "s",
            &all_known,
        )
        .unwrap();
        let b = render(
            "Some *emphasised* text\nwith [a link](https://x.org).",
            "s",
            &all_known,
        )
        .unwrap();
        assert_eq!(a.blocks, b.blocks);
        assert!(a.blocks[0]
            .runs
            .iter()
            .any(|r| r.style.emphasis && r.text == "emphasised"));
        assert!(a.blocks[0]
            .runs
            .iter()
            .any(|r| r.style.link.as_deref() == Some("https://x.org")));
    }

    #[test]
    fn list_items_are_blocks_whatever_their_marker() {
        let star = render("* one\n* two", "s", &all_known).unwrap();
        let dash = render("- one\n- two", "s", &all_known).unwrap();
        assert_eq!(star.blocks, dash.blocks);
        assert_eq!(star.blocks.len(), 2);
        assert_eq!(star.blocks[1].kind, BlockKind::ListItem);
    }

    #[test]
    fn unsafe_links_keep_their_text_and_lose_their_target_everywhere() {
        let r = render(
            "One.\n\nSee [this](javascript:alert(1)) and <b onclick=\"x()\">that</b>.",
            "s",
            &all_known,
        )
        .unwrap();
        assert!(r.blocks[1].runs.iter().all(|run| run.style.link.is_none()));
        assert_eq!(r.blocks[1].text(), "See this and that.");
        let h = html(&r);
        assert!(!h.contains("javascript") && !h.contains("onclick"), "{h}");
        let lines: Vec<usize> = r.removed.iter().map(|x| x.line).collect();
        assert_eq!(lines, [3, 3], "{:?}", r.removed);
    }

    #[test]
    fn the_text_of_an_inline_script_is_in_neither_page_nor_blocks() {
        let r = render("Before <script>steal()</script> after.", "s", &all_known).unwrap();
        assert_eq!(r.blocks[0].text(), "Before  after.");
        assert!(!html(&r).contains("steal"));
    }

    #[test]
    fn slugs_fold_french_accents() {
        assert_eq!(slugify("Droit à l’effacement"), "droit-a-l-effacement");
        assert_eq!(slugify("Œuvres & données"), "oeuvres-donnees");
    }
}
