//! The template API: what each template receives, one struct per page kind.
//! Site owners override templates against these names, so they are a public
//! interface: a field renamed here breaks their templates. Every page built
//! on `base.html` receives [`Base`] (with [`LanguageBase`]) at its top level,
//! plus its own fields:
//!
//! | template | context |
//! | --- | --- |
//! | `index.html` | [`Base`] + [`IndexPage`] |
//! | `language.html` | [`Base`] + [`LanguagePage`] |
//! | `policy.html` (a version, also at the policy's own URL) | [`Base`] + [`PolicyPage`] |
//! | `history.html` | [`Base`] + [`HistoryPage`] |
//! | `publication-log.html` | [`Base`] + [`PublicationLogPage`] |
//! | `changes.html` (a redline) | [`Base`] + [`ChangesPage`] |
//! | `request.html` (a standalone form) | [`Base`] + [`RequestPage`] |
//! | `404.html`, `thanks.html` | [`Base`] |
//! | `feed.xml` | [`FeedPage`] (no `Base`) |
//! | `partials/form.html` | [`FormPartial`] |
//! | `partials/cookie_table.html` | [`CookieTablePartial`] |
//! | `partials/banner.html` | [`BannerPartial`] (rendered once per language, into a file of its own) |
//!
//! The big parts of a page come as ready HTML to write with `| safe`: a
//! version's sections (`html`) and a redline's sections (`html`). They are
//! rendered once and put into the page after it is minified, so their values
//! in the context are placeholders: write them out whole, never filter or
//! slice them. The cookie banner is not in the page: `banner` names the file
//! holding it (one per language), which `base.html` preloads and
//! `consent/banner.js` fetches and adds to the page.
//!
//! `t` is every interface string of the page's language (`t.site.…`,
//! `t.forms.…`); `consent` is the cookie inventory and what the banner needs
//! (`null` without one); `assets` maps each linked asset to its `url` and
//! `integrity`. Dates come as `YYYY-MM-DD` (`date`) and as text in the
//! page's language (`date_text`).

use serde::Serialize;
use serde_json::Value;

/// A value every page of a language shares (its strings, the cookie
/// inventory, the asset links): held once, serialised into each page as
/// the value it holds.
#[derive(Debug, Clone, Default)]
pub struct SharedValue(std::sync::Arc<Value>);

impl SharedValue {
    pub fn new(value: Value) -> SharedValue {
        SharedValue(std::sync::Arc::new(value))
    }
}

impl std::ops::Deref for SharedValue {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.0
    }
}

impl Serialize for SharedValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// What every page built on `base.html` receives: the fields of
/// [`LanguageBase`], the same on every page of a language, and these.
#[derive(Debug, Clone, Serialize)]
pub struct Base {
    /// [`LanguageBase`], made into a template context once per language and
    /// copied into each page's.
    #[serde(skip)]
    pub language: LanguageContext,
    pub page: PageView,
    /// The same page in each language it exists in, for the switcher.
    pub languages: Vec<LanguageLink>,
}

/// The fields of [`Base`] that every page of a language shares.
#[derive(Debug, Clone, Serialize)]
pub struct LanguageBase {
    pub lang: String,
    pub t: SharedValue,
    pub site: SiteView,
    pub assets: SharedValue,
    /// The Content-Security-Policy, for the `<meta>` tag.
    pub csp: SharedValue,
    pub consent: SharedValue,
    /// The file holding `partials/banner.html` as rendered for this
    /// language (none without a cookie inventory).
    pub banner: Option<BannerLink>,
}

/// A [`LanguageBase`] as a template context.
#[derive(Debug, Clone)]
pub struct LanguageContext(pub std::sync::Arc<tera::Context>);

impl LanguageContext {
    pub fn new(base: &LanguageBase) -> LanguageContext {
        let context = tera::Context::from_serialize(base).expect("a struct");
        LanguageContext(std::sync::Arc::new(context))
    }
}

/// Where the banner's markup is, and its `sha384-…` integrity hash.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BannerLink {
    pub url: String,
    pub integrity: String,
}

/// `partials/banner.html`'s context: the same for every page of a language.
#[derive(Debug, Clone, Serialize)]
pub struct BannerPartial {
    pub lang: String,
    pub t: SharedValue,
    pub site: SiteView,
    pub assets: SharedValue,
    pub consent: SharedValue,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    pub title: String,
    pub base_url: String,
    pub origin: String,
    pub default_language: String,
    pub home: String,
    pub language_home: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageView {
    pub url: String,
    pub canonical: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LanguageLink {
    pub code: String,
    pub name: String,
    pub url: String,
    pub current: bool,
}

/// A page built on `base.html` that has no fields of its own.
#[derive(Debug, Clone, Serialize)]
pub struct NoFields {}

/// A page's own fields, after [`Base`]'s.
#[derive(Debug, Clone, Serialize)]
pub struct WithBase<T: Serialize> {
    #[serde(flatten)]
    pub base: Base,
    #[serde(flatten)]
    pub page: T,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexPage {
    pub policies: Vec<IndexPolicy>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexPolicy {
    pub slug: String,
    pub title: String,
    pub languages: Vec<IndexLanguage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexLanguage {
    pub code: String,
    pub name: String,
    pub title: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LanguagePage {
    pub policies: Vec<LanguagePolicy>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LanguagePolicy {
    pub slug: String,
    pub title: String,
    pub url: String,
    pub date: String,
    pub date_text: String,
    pub history_url: String,
}

/// A policy's links, as version, history and redline pages give them.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyLinks {
    pub slug: String,
    pub title: String,
    pub url: String,
    pub history_url: String,
    pub feed_url: String,
}

/// One version, as pages list it.
#[derive(Debug, Clone, Serialize)]
pub struct VersionView {
    pub date: String,
    pub date_text: String,
    pub effective: String,
    pub effective_text: String,
    pub material: bool,
    pub summary: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyPage {
    pub policy: PolicyLinks,
    pub version: VersionView,
    /// `current`, `upcoming` or `archived`.
    pub status: &'static str,
    /// Whether this is the copy at the policy's own URL.
    pub is_current_url: bool,
    pub current: CurrentLink,
    /// The redline against the previous version, when there is one.
    pub changes_url: Option<String>,
    pub previous: Option<DateLink>,
    /// Announced versions, on the current version's page only.
    pub upcoming: Vec<UpcomingLink>,
    pub preamble: Option<Preamble>,
    pub sections: Vec<SectionView>,
    pub has_forms: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CurrentLink {
    pub date: String,
    pub url: String,
    pub date_text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DateLink {
    pub date: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpcomingLink {
    pub date: String,
    pub effective_text: String,
    pub url: String,
    pub changes_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Preamble {
    pub id: String,
    pub title: String,
    pub html: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionView {
    pub number: u32,
    /// "01", "02", …
    pub label: String,
    pub id: String,
    pub title: String,
    /// The section's HTML with its forms and cookie table in place.
    pub html: String,
    pub subheadings: Vec<Subheading>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Subheading {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryPage {
    pub policy: HistoryLinks,
    /// Newest first.
    pub versions: Vec<HistoryVersion>,
    pub chart: Chart,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryLinks {
    pub slug: String,
    pub title: String,
    pub url: String,
    pub feed_url: String,
    pub versions_json: String,
    /// The publication log's page ("Verify this history"), when the site keeps one.
    pub publication_log_url: Option<String>,
}

/// The publication log's page.
#[derive(Debug, Clone, Serialize)]
pub struct PublicationLogPage {
    /// The log as JSON, its signature and the key (when published).
    pub log_url: String,
    pub signature_url: Option<String>,
    pub key_url: Option<String>,
    /// The site's root URL, for the commands the page shows.
    pub site_url: String,
    /// Newest first.
    pub entries: Vec<LogEntryView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogEntryView {
    pub seq: u64,
    pub policy: String,
    pub policy_title: String,
    pub date: String,
    pub date_text: String,
    pub effective_text: String,
    pub material: bool,
    pub hash: String,
    pub previous: String,
    pub pages: Vec<LogPageView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogPageView {
    pub lang: String,
    pub url: String,
    /// SHA-256 of the page's policy text as published.
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryVersion {
    #[serde(flatten)]
    pub version: VersionView,
    pub status: &'static str,
    pub changes_url: Option<String>,
    pub words_added: Option<usize>,
    pub words_removed: Option<usize>,
    /// Changes that are not words ("links changed: 1"), if the diff has any.
    pub marks: Option<String>,
}

/// Bars of words changed per version, as plain SVG shapes.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub width: f64,
    pub height: f64,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub x: f64,
    pub width: f64,
    pub y_added: f64,
    pub h_added: f64,
    pub y_removed: f64,
    pub h_removed: f64,
    pub date: String,
    pub date_text: String,
    pub added: usize,
    pub removed: usize,
    /// The first version, which has nothing to compare with.
    pub first: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangesPage {
    pub policy: ChangesLinks,
    pub from: VersionView,
    pub to: VersionView,
    pub changed_count: usize,
    /// The sections that changed, as in `sections`.
    pub changed: Vec<SectionChangeView>,
    pub sections: Vec<SectionChangeView>,
    pub words_added: usize,
    pub words_removed: usize,
    /// Changes that are not words ("links changed: 1, punctuation changed: 2").
    pub marks: String,
    pub unchanged: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangesLinks {
    pub slug: String,
    pub title: String,
    pub url: String,
    pub history_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionChangeView {
    pub id: String,
    pub number: u32,
    /// "01", …; empty for the preamble.
    pub label: String,
    pub title: String,
    /// `added`, `removed`, `unchanged` or `changed`.
    pub status: &'static str,
    pub moved: bool,
    pub renamed: bool,
    pub renumbered: bool,
    pub old_label: Option<String>,
    pub old_title: Option<String>,
    pub words_added: usize,
    pub words_removed: usize,
    /// Changes in this section that are not words.
    pub marks: String,
    /// The redline of the section.
    pub html: String,
    /// The section in the newer version (the older, when it was removed).
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestPage {
    pub form: FormView,
    /// `partials/form.html` rendered for this page.
    pub form_html: String,
    pub policy: TitleLink,
}

#[derive(Debug, Clone, Serialize)]
pub struct TitleLink {
    pub title: String,
    pub url: String,
}

/// `partials/form.html`'s context.
#[derive(Debug, Clone, Serialize)]
pub struct FormPartial {
    pub lang: String,
    pub t: SharedValue,
    pub form: FormView,
}

#[derive(Debug, Clone, Serialize)]
pub struct FormView {
    /// The right's id, label, summary, help, response days and fields.
    pub right: Value,
    pub common_fields: Vec<Value>,
    pub endpoint: String,
    pub thanks_url: String,
    pub standalone_url: String,
    pub policy: String,
    pub version: String,
    /// Whether this is the form's own page (else it is embedded in a policy).
    pub standalone: bool,
    /// Whether the policy version showing it is archived (only a link to the
    /// form's own page is shown then).
    pub archived: bool,
    pub anchor: String,
}

/// `partials/cookie_table.html`'s context.
#[derive(Debug, Clone, Serialize)]
pub struct CookieTablePartial {
    pub lang: String,
    pub t: SharedValue,
    /// The cookie inventory in this language (`null` without one).
    pub consent: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeedPage {
    pub lang: String,
    pub t: SharedValue,
    pub feed: FeedHead,
    pub entries: Vec<FeedEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeedHead {
    pub id: String,
    #[serde(rename = "self")]
    pub self_url: String,
    pub alternate: String,
    pub title: String,
    pub updated: String,
    pub author: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeedEntry {
    pub id: String,
    pub title: String,
    pub updated: String,
    pub link: String,
    pub summary: String,
    pub material: bool,
}
