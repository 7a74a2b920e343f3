//! Model to pages: lists the pages of the site (or of one policy), builds
//! each one's context (only what that page shows, never the whole site) and
//! renders it through Tera, in parallel, handing every page on as soon as it
//! is rendered so that no more than a few pages are held at once.

pub mod context;
pub mod files;
pub mod memo;
mod pages;
mod shared;
pub mod templates;
pub mod urls;

pub use shared::Shared;
pub use urls::Urls;

use crate::assets::Assets;
use crate::content::{Policy, Site};
use crate::date::Date;
use crate::error::{Diagnostic, Diagnostics};
use crate::i18n::Strings;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tera::Tera;

/// Everything the render stage reads besides templates.
pub struct Env<'a> {
    pub site: &'a Site,
    pub today: Date,
    pub strings: &'a BTreeMap<String, Strings>,
    pub urls: Urls,
    pub endpoints: Endpoints,
    pub assets: &'a Assets,
    /// Word counts of the policy's redlines, filled as they are rendered.
    pub diffs: &'a Redlines,
    /// The site's rights catalogue (default, trimmed and extended), built once.
    pub catalogue: crate::rights::Catalogue,
    /// Values every page of a language shares, computed once.
    pub shared: shared::Shared,
    /// Whether pages are minified (around their content, see `finish_page`).
    pub minify: bool,
    /// The pages of earlier builds, to reuse those whose inputs are
    /// unchanged (`serve`), and the key of the site-wide inputs.
    pub memo: Option<(&'a memo::Memo, u64)>,
    /// The publication log to publish, when the site keeps one.
    pub proof: Option<&'a crate::proof::Published>,
}

/// Endpoints after command-line and environment overrides.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub requests: Option<String>,
    pub consent: Option<String>,
}

/// One output file to produce from a template, with its context (one of
/// the structs in `context`, serialised).
pub struct Page {
    pub url: String,
    pub template: &'static str,
    pub context: tera::Context,
    /// The page's content (sections, redlines), which its context holds as
    /// placeholders: put in after the page is minified (see `finish_page`).
    pub inserts: Vec<String>,
}

pub use crate::output::Output;

/// Where rendered pages go, one by one, from many threads.
pub type Emit<'a> = dyn Fn(Output) -> Result<(), Diagnostic> + Sync + 'a;

/// Computes what every page of a language shares (strings, banner) from the
/// site in `env`, which must hold the consent policy. Call it once, before
/// the first page is rendered.
pub fn prepare(tera: &Tera, env: &Env) -> Result<(), Diagnostics> {
    shared::prepare_shared(env, tera)
}

/// Renders the pages that belong to no policy (home, 404, language indexes,
/// request forms); returns their URLs. Call it after `prepare`, with the
/// whole site (in outline, when its policies were streamed).
pub fn render_site(tera: &Tera, env: &Env, emit: &Emit) -> Result<Rendered, Diagnostics> {
    render_jobs(tera, env, pages::site_jobs(env), emit)
}

/// Renders one policy's pages: first its redlines, each diffed in its own
/// page job and dropped once written (only word counts are kept, in
/// `env.diffs`), then its versions, history and feed, which list those
/// counts; returns their URLs.
pub fn render_policy(
    tera: &Tera,
    env: &Env,
    policy: &Policy,
    emit: &Emit,
) -> Result<Rendered, Diagnostics> {
    // Nothing the policy's pages are made from changed: all of them reused.
    let remembered = env
        .memo
        .map(|(memo, site)| (memo, pages::policy_key(policy, site)));
    if let Some((memo, key)) = remembered {
        if let Some((urls, counts)) = memo.reuse_policy(&policy.slug, key) {
            for counts in counts {
                env.diffs.restore(counts);
            }
            return Ok(Rendered {
                urls,
                ..Rendered::default()
            });
        }
    }
    let redlines = render_jobs(tera, env, pages::redline_jobs(env, policy), emit);
    let rest = render_jobs(tera, env, pages::policy_jobs(env, policy), emit);
    match (redlines, rest) {
        (Ok(mut a), Ok(b)) => {
            a.urls.extend(b.urls);
            a.busy += b.busy;
            a.minify += b.minify;
            if let Some((memo, key)) = remembered {
                memo.store_policy(&policy.slug, key, a.urls.clone(), env.diffs.all_counts());
            }
            Ok(a)
        }
        (a, b) => {
            let mut found = Diagnostics::default();
            found.extend(a.err().unwrap_or_default());
            found.extend(b.err().unwrap_or_default());
            Err(found)
        }
    }
}

/// A redline's language and its two versions' dates.
pub type Pair = (String, Date, Date);

/// What the redlines of one policy leave behind once written: the words
/// each added and removed (for history, feed and chart), and the time spent
/// diffing.
#[derive(Debug, Default)]
pub struct Redlines {
    sizes: std::sync::Mutex<std::collections::HashMap<Pair, (usize, usize)>>,
    marks: std::sync::Mutex<std::collections::HashMap<Pair, crate::diff::Marks>>,
    nanos: std::sync::atomic::AtomicU64,
}

impl Redlines {
    fn diff(
        &self,
        old: &crate::content::Translation,
        new: &crate::content::Translation,
        from: Date,
        to: Date,
    ) -> crate::diff::VersionDiff {
        let started = Instant::now();
        let d = crate::diff::diff_translations(old, new, from, to);
        let elapsed = started.elapsed().as_nanos() as u64;
        self.nanos
            .fetch_add(elapsed, std::sync::atomic::Ordering::Relaxed);
        self.sizes.lock().expect("not poisoned").insert(
            (new.lang.clone(), from, to),
            (d.words_added, d.words_removed),
        );
        self.marks
            .lock()
            .expect("not poisoned")
            .insert((new.lang.clone(), from, to), d.marks);
        d
    }

    /// The changes that are not words from `from` to `to` in `lang`, once rendered.
    pub fn marks(&self, lang: &str, from: Date, to: Date) -> Option<crate::diff::Marks> {
        self.marks
            .lock()
            .expect("not poisoned")
            .get(&(lang.to_string(), from, to))
            .copied()
    }

    /// Words added and removed from `from` to `to` in `lang`, once rendered.
    pub fn size(&self, lang: &str, from: Date, to: Date) -> Option<(usize, usize)> {
        self.sizes
            .lock()
            .expect("not poisoned")
            .get(&(lang.to_string(), from, to))
            .copied()
    }

    /// A redline's counts, as kept for reuse by the next build.
    pub fn counts(&self, pair: Pair) -> Option<memo::RedlineCounts> {
        let size = self
            .sizes
            .lock()
            .expect("not poisoned")
            .get(&pair)
            .copied()?;
        let marks = self
            .marks
            .lock()
            .expect("not poisoned")
            .get(&pair)
            .copied()?;
        Some((pair, size, marks))
    }

    /// Every redline's counts (those of one policy: a `Redlines` is per policy).
    pub fn all_counts(&self) -> Vec<memo::RedlineCounts> {
        let sizes = self.sizes.lock().expect("not poisoned");
        let marks = self.marks.lock().expect("not poisoned");
        let mut all: Vec<memo::RedlineCounts> = sizes
            .iter()
            .filter_map(|(pair, size)| Some((pair.clone(), *size, *marks.get(pair)?)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Puts back the counts of a redline reused from an earlier build.
    pub fn restore(&self, (pair, size, marks): memo::RedlineCounts) {
        self.sizes
            .lock()
            .expect("not poisoned")
            .insert(pair.clone(), size);
        self.marks.lock().expect("not poisoned").insert(pair, marks);
    }

    /// How many diffs were made, and the time they took (summed over threads).
    pub fn made(&self) -> (usize, Duration) {
        let count = self.sizes.lock().expect("not poisoned").len();
        (
            count,
            Duration::from_nanos(self.nanos.load(std::sync::atomic::Ordering::Relaxed)),
        )
    }
}

/// The pages a pass rendered, and the time its threads spent building and
/// rendering them (not emitting them), and minifying them.
#[derive(Debug, Default)]
pub struct Rendered {
    pub urls: Vec<String>,
    pub busy: Duration,
    pub minify: Duration,
}

/// Builds, renders and emits every job's pages in parallel; every failing
/// page is reported.
fn render_jobs(
    tera: &Tera,
    env: &Env,
    jobs: Vec<pages::Job>,
    emit: &Emit,
) -> Result<Rendered, Diagnostics> {
    let results: Vec<Result<Rendered, Diagnostics>> = jobs
        .into_par_iter()
        .map(|job| {
            let mut done = Rendered::default();
            let remembered = env
                .memo
                .map(|(memo, site)| (memo, pages::job_id(&job), pages::job_key(&job, site)));
            if let Some((memo, id, key)) = &remembered {
                if let Some((urls, counts)) = memo.reuse(id, *key) {
                    for counts in counts {
                        env.diffs.restore(counts);
                    }
                    done.urls = urls;
                    return Ok(done);
                }
            }
            let pair = pages::job_pair(&job);
            let policy = pages::job_policy(&job);
            let mut started = Instant::now();
            let mut made = Vec::new();
            for page in pages::pages_of(env, tera, job)? {
                let url = page.url.clone();
                let bytes = render_page(tera, env, &page)?;
                let inserts = page.inserts;
                done.busy += started.elapsed();
                let minifying = Instant::now();
                let mut output = Output {
                    file: env.urls.file_of(&url),
                    bytes: Vec::new(),
                };
                output.bytes = finish_page(bytes, &inserts, env.minify && output.is_html());
                done.minify += minifying.elapsed();
                if remembered.is_some() {
                    made.push(output.clone());
                }
                emit(output)?;
                done.urls.push(url);
                started = Instant::now();
            }
            if let Some((memo, id, key)) = remembered {
                let counts = pair.and_then(|p| env.diffs.counts(p)).into_iter().collect();
                memo.store((id, policy), key, &made, done.urls.clone(), counts);
            }
            Ok(done)
        })
        .collect();
    let mut rendered = Rendered::default();
    let mut found = Diagnostics::default();
    for r in results {
        match r {
            Ok(r) => {
                rendered.urls.extend(r.urls);
                rendered.busy += r.busy;
                rendered.minify += r.minify;
            }
            Err(d) => found.extend(d),
        }
    }
    // One broken template fails every page that uses it: report it once.
    found
        .0
        .sort_by(|a, b| (&a.place, &a.message).cmp(&(&b.place, &b.message)));
    found.0.dedup_by(|a, b| {
        a.place == b.place
            && a.message.split(" (while rendering").next()
                == b.message.split(" (while rendering").next()
    });
    found.into_result(rendered)
}

/// Marks a placeholder for an insert: U+FDD0, a Unicode noncharacter (set
/// aside for a program's internal use, never meant to appear in text), which
/// minifying leaves alone.
const INSERT_MARK: char = '\u{FDD0}';

/// Holds `html` among a page's inserts; returns the placeholder that stands
/// for it in the page's context.
pub(crate) fn hold(inserts: &mut Vec<String>, html: String) -> String {
    inserts.push(html);
    format!("{INSERT_MARK}{}{INSERT_MARK}", inserts.len() - 1)
}

/// Minifies a rendered page (when asked) and puts its inserts in place. The
/// inserts — a version's sections, a redline's changes — are generated
/// compact already, and most of a page's bytes: minifying only the page
/// around them costs a fraction of minifying the whole page.
fn finish_page(bytes: Vec<u8>, inserts: &[String], minify: bool) -> Vec<u8> {
    let bytes = if minify {
        crate::output::minify(&bytes)
    } else {
        bytes
    };
    if inserts.is_empty() {
        return bytes;
    }
    let mark = INSERT_MARK.to_string();
    let total: usize = inserts.iter().map(String::len).sum();
    let mut out = Vec::with_capacity(bytes.len() + total);
    let mut rest = &bytes[..];
    while let Some(start) = memchr::memmem::find(rest, mark.as_bytes()) {
        let after = &rest[start + mark.len()..];
        let number = after
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .map(|b| usize::from(b - b'0'))
            .try_fold(0usize, |n, d| n.checked_mul(10)?.checked_add(d));
        let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
        match number.and_then(|n| inserts.get(n)) {
            Some(insert) if digits > 0 && after[digits..].starts_with(mark.as_bytes()) => {
                out.extend_from_slice(&rest[..start]);
                out.extend_from_slice(insert.as_bytes());
                rest = &after[digits + mark.len()..];
            }
            _ => {
                out.extend_from_slice(&rest[..start + mark.len()]);
                rest = after;
            }
        }
    }
    out.extend_from_slice(rest);
    out
}

fn render_page(tera: &Tera, env: &Env, page: &Page) -> Result<Vec<u8>, Diagnostic> {
    tera.render(page.template, &page.context)
        .map(String::into_bytes)
        .map_err(|e| render_error(&env.site.root, page.template, &page.url, &e))
}

fn render_error(
    root: &std::path::Path,
    template: &str,
    url: &str,
    error: &tera::Error,
) -> Diagnostic {
    let message = templates::error_chain(error);
    // The innermost template named in the message is the one at fault.
    // Tera names the template at fault after "error happened in" (a parent
    // or an include), else after the last "while rendering".
    let named_after = |marker: &str| {
        message
            .rsplit(marker)
            .next()
            .filter(|_| message.contains(marker))
            .and_then(|s| s.split('\'').next())
            .filter(|s| s.contains('.'))
    };
    let culprit = named_after("error happened in '")
        .or_else(|| named_after("while rendering '"))
        .unwrap_or(template);
    let mut file = PathBuf::from(crate::vocabulary::TEMPLATES_DIR).join(culprit);
    if root.join(&file).exists() {
        file = root
            .join(&file)
            .strip_prefix(root)
            .map(|p| p.to_path_buf())
            .unwrap_or(file);
    }
    let undefined = message.contains("not found in context");
    let hint = if undefined {
        "the template uses a variable this page does not provide: check its spelling, or guard it with `{% if var is defined %}`"
    } else {
        "see the Tera documentation for the template syntax"
    };
    // The innermost cause says what is wrong; the outer ones repeat which
    // page, which the URL below says better.
    let cause = message.rsplit(".: ").next().unwrap_or(&message);
    let cause = cause.split(" while rendering '").next().unwrap_or(cause);
    let cause = cause.split_whitespace().collect::<Vec<_>>().join(" ");
    Diagnostic::new(file, format!("{cause} (while rendering {url})")).with_hint(hint)
}
