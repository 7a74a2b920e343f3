//! The pipeline, end to end: config → content → diff → render → output.
//! `compile` does everything but write, so `serve` and `check` reuse it;
//! `build` writes the result atomically.

use crate::assets;
use crate::config::{self, Config};
use crate::consent;
use crate::content::{self, Site};
use crate::date::{self, Date};
use crate::error::{Diagnostic, Diagnostics, Place};
use crate::i18n;
use crate::output;
use crate::output::Output;
use crate::render::{self, Emit, Endpoints, Env, Urls};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tera::Tera;

pub const REQUESTS_ENV: &str = "POLICY_SITE_REQUESTS_ENDPOINT";
pub const CONSENT_ENV: &str = "POLICY_SITE_CONSENT_ENDPOINT";

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub root: PathBuf,
    pub out: Option<PathBuf>,
    /// "Today" for upcoming versions; else `SOURCE_DATE_EPOCH`, else the newest version's date.
    pub date: Option<Date>,
    pub requests_endpoint: Option<String>,
    pub consent_endpoint: Option<String>,
    /// Replaces `base_url` (for `serve`, which publishes on localhost).
    pub base_url: Option<String>,
    /// Overrides the configuration's `minify` (`serve` and `check` skip it for speed).
    pub minify: Option<bool>,
    /// Templates loaded by earlier builds (`serve`), reused when unchanged.
    pub templates: Option<Arc<TemplateCache>>,
    /// Pages rendered by earlier builds (`serve`), reused when their inputs
    /// are unchanged; with it, `compile` returns only the files that are not
    /// pages (the memo holds every page).
    pub memo: Option<Arc<render::memo::Memo>>,
    /// The last good build's content and the paths changed since (`serve`):
    /// versions no change touched are not read again.
    pub reuse: Option<Arc<content::Reuse>>,
}

/// The loaded templates, kept between builds while the site's `templates/`
/// folder is unchanged (compiling them is a quarter of a small site's build).
#[derive(Default)]
pub struct TemplateCache {
    loaded: std::sync::Mutex<Option<([u8; 32], Tera)>>,
}

impl std::fmt::Debug for TemplateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TemplateCache")
    }
}

impl TemplateCache {
    fn load(&self, root: &Path) -> Result<Tera, Diagnostics> {
        let key = folder_fingerprint(&root.join(crate::vocabulary::TEMPLATES_DIR));
        let mut loaded = self.loaded.lock().expect("not poisoned");
        if let Some((k, tera)) = loaded.as_ref() {
            if *k == key {
                return Ok(tera.clone());
            }
        }
        let tera = render::templates::load(root)?;
        *loaded = Some((key, tera.clone()));
        Ok(tera)
    }
}

/// SHA-256 over a folder's file names and contents (nothing when it is absent).
fn folder_fingerprint(dir: &Path) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for entry in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
    {
        hasher.update(entry.path().to_string_lossy().as_bytes());
        hasher.update(std::fs::read(entry.path()).unwrap_or_default());
    }
    hasher.finalize().into()
}

/// A compiled site. `compile` keeps every output in memory (for `serve` and
/// `check`); `build` streams them to disk and keeps none.
pub struct Compiled {
    pub site: Site,
    /// Number of diffs computed (each was dropped once its page was written).
    pub diffs: usize,
    /// Every output file, sorted by path (empty after `build`, which wrote them).
    pub outputs: Vec<Output>,
    pub out_dir: PathBuf,
    pub timings: Timings,
    pub pages: usize,
}

/// Where the time went. `load` and `diff` are wall time; pages are rendered,
/// minified and written together in parallel, so `render`, `minify` and
/// `write` are time summed over the threads that did them, and `wall` is the
/// whole build's.
#[derive(Debug, Default, Clone)]
pub struct Timings {
    pub load: Duration,
    pub diff: Duration,
    pub render: Duration,
    pub minify: Duration,
    pub write: Duration,
    pub wall: Duration,
}

impl Timings {
    /// Each stage's time, in pipeline order (`load` is reading and markdown).
    pub fn stages(&self) -> [(&'static str, Duration); 5] {
        [
            ("load", self.load),
            ("diff", self.diff),
            ("render", self.render),
            ("minify", self.minify),
            ("write", self.write),
        ]
    }

    pub fn total(&self) -> Duration {
        self.stages().iter().map(|(_, d)| *d).sum()
    }

    /// "load 0.12 s, diff 0.80 s, …" (render, minify and write summed over threads).
    pub fn report(&self) -> String {
        let parts: Vec<String> = self
            .stages()
            .into_iter()
            .chain([("wall", self.wall)])
            .map(|(name, d)| format!("{name} {:.2} s", d.as_secs_f64()))
            .collect();
        format!("Timings (summed over threads): {}", parts.join(", "))
    }
}

/// Loads the configuration with the command line's and environment's
/// overrides applied (flags win over variables, which win over the file).
pub fn load_config(options: &Options) -> Result<Config, Diagnostics> {
    let mut config = config::load(&options.root)?;
    let mut found = Diagnostics::default();
    for (flag, var, value, slot) in [
        (
            "--requests-endpoint",
            REQUESTS_ENV,
            &options.requests_endpoint,
            &mut config.endpoints.requests,
        ),
        (
            "--consent-endpoint",
            CONSENT_ENV,
            &options.consent_endpoint,
            &mut config.endpoints.consent,
        ),
    ] {
        let (place, url) = match (value, std::env::var(var).ok().filter(|v| !v.is_empty())) {
            (Some(v), _) => (Place::Flag(flag.to_string()), v.clone()),
            (None, Some(v)) => (Place::Env(var.to_string()), v),
            (None, None) => continue,
        };
        match config::check_endpoint(&url) {
            Ok(normal) => *slot = Some(normal),
            Err(why) => found.push(Diagnostic {
                place,
                line: None,
                message: why,
                hint: None,
            }),
        }
    }
    if let Some(base) = &options.base_url {
        config.base_url = base.clone();
    }
    found.into_result(config)
}

/// Everything rendering needs, loaded and checked.
struct Loaded {
    /// The whole site, or (a streamed build) the configuration alone, with
    /// the policy folders still to load in `pending`.
    site: Site,
    pending: Option<Vec<PathBuf>>,
    /// Whether `Options::reuse` may be used (not after a configuration change).
    reuse_ok: bool,
    strings: BTreeMap<String, i18n::Strings>,
    tera: Tera,
    assets: assets::Assets,
    today: Date,
    /// The publication log and its signature, to publish.
    proof: Option<crate::proof::Published>,
    out_dir: PathBuf,
    started: Instant,
    load: Duration,
}

/// Loads configuration, strings, templates and static files, and the
/// content: all of it, or (`stream`) only the list of policy folders.
fn load(options: &Options, stream: bool) -> Result<Loaded, Diagnostics> {
    let started = Instant::now();
    let config = load_config(options)?;
    let config_file = options.root.join(crate::vocabulary::CONFIG_FILE);
    let strings = i18n::load(&config, Path::new(crate::vocabulary::CONFIG_FILE));
    let tera = match &options.templates {
        Some(cache) => cache.load(&options.root),
        None => render::templates::load(&options.root),
    };
    let assets = assets::load(&options.root);
    let out_dir = options
        .root
        .join(options.out.clone().unwrap_or_else(|| config.output.clone()));
    // A changed configuration changes how sections parse: load everything.
    let reuse = options.reuse.as_deref().filter(|r| {
        let config_file = options.root.join(crate::vocabulary::CONFIG_FILE);
        !r.changed(&config_file)
    });
    let reuse_ok = reuse.is_some();
    let (site, pending) = if stream {
        let (dirs, problems) = content::policy_dirs(&options.root);
        let site = Site {
            root: options.root.clone(),
            config,
            policies: Vec::new(),
        };
        (problems.into_result(site), Some(dirs))
    } else {
        let site = content::load_with(&options.root, config, reuse);
        (site, None)
    };
    // Report every stage's problems together.
    let (strings, tera, assets, site) = match (strings, tera, assets, site) {
        (Ok(s), Ok(t), Ok(a), Ok(site)) => (s, t, a, site),
        (s, t, a, site) => {
            let mut found = Diagnostics::default();
            for d in [s.err(), t.err(), a.err(), site.err()]
                .into_iter()
                .flatten()
            {
                found.extend(d);
            }
            return Err(Diagnostics(
                found
                    .0
                    .into_iter()
                    .map(|d| d.relative_to(&options.root))
                    .collect(),
            ));
        }
    };
    if pending.is_none() {
        check_references(&site, &config_file)?;
    }
    let proof = crate::proof::load(&options.root, &site.config).map_err(|found| {
        Diagnostics(
            found
                .0
                .into_iter()
                .map(|d| d.relative_to(&options.root))
                .collect(),
        )
    })?;
    let given = date::build_date(options.date)
        .map_err(|e| Diagnostics::from(Diagnostic::env("SOURCE_DATE_EPOCH", e)))?;
    let given = given.or_else(|| pending.as_deref().and_then(content::newest_version_date));
    let today = site.today(given);
    Ok(Loaded {
        site,
        pending,
        reuse_ok,
        strings,
        tera,
        assets,
        today,
        proof,
        out_dir,
        started,
        load: started.elapsed(),
    })
}

/// Compiles the site in memory: every output, sorted by path.
///
/// With a memo (`serve`), the policies are loaded one at a time, as `build`
/// does, and old versions are kept in outline (see `outline_cold`).
pub fn compile(options: &Options) -> Result<Compiled, Diagnostics> {
    let loaded = load(options, options.memo.is_some())?;
    let collected = Mutex::new(Vec::new());
    let mut compiled = produce(options, loaded, &|o| {
        collected.lock().expect("not poisoned").push(o);
        Ok(())
    })?;
    compiled.outputs = collected.into_inner().expect("not poisoned");
    compiled.outputs.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(compiled)
}

/// Compiles and writes the site: pages are written into a staging folder as
/// they are rendered, which replaces the output only once everything
/// succeeded, so the previous output survives any failure.
///
/// The policies are loaded one at a time, each rendered and written before
/// the next is read, and only an outline of each (no text) is kept for the
/// pages that list them: memory grows with the largest policy, not the site.
pub fn build(options: &Options) -> Result<Compiled, Diagnostics> {
    let loaded = load(options, true)?;
    let relative = |d: Diagnostic| Diagnostics::from(d.relative_to(&options.root));
    output::guard(&options.root, &loaded.out_dir).map_err(relative)?;
    let staging = output::Staging::create(&loaded.out_dir).map_err(relative)?;
    let compiled = produce(options, loaded, &|o| staging.write(&o))?;
    staging.finish().map_err(relative)?;
    Ok(compiled)
}

/// Rebuilds in memory after edits, redoing only what they touched: the
/// versions a change lies in are read again, and only the pages whose inputs
/// changed are rendered (`serve` keeps one for its life).
pub struct Incremental {
    options: Options,
    memo: Arc<render::memo::Memo>,
    last_good: Option<Arc<Site>>,
    /// Paths changed since the last good build (`None`: unknown which).
    changed: Option<Vec<PathBuf>>,
}

/// Keeps in full only the versions whose text `serve`'s next edit may
/// show again without touching them: the current one, those after it, and
/// those with a redline against it (`window`, and two more). The others
/// keep an outline (`content::Reuse` reads one again when needed): the text
/// of a long history is not held for pages that are already made.
fn outline_cold(mut policy: content::Policy, today: Date, window: usize) -> content::Policy {
    let hot = policy.current_index(today).saturating_sub(window + 2);
    policy.versions = std::mem::take(&mut policy.versions)
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            if i < hot {
                content::Version::outlined(v)
            } else {
                v
            }
        })
        .collect();
    policy
}

/// A rebuild's result: every output file by path, and what was redone.
pub struct Rebuilt {
    pub files: std::collections::HashMap<String, Arc<[u8]>>,
    pub timings: Timings,
    /// Pages rendered, and pages reused from the previous build.
    pub rendered: u64,
    pub reused: u64,
}

impl Incremental {
    pub fn new(options: Options) -> Incremental {
        Incremental {
            // Versions no change touched are reused whole; a touched
            // version's few sections parse again in no time.
            options: Options {
                templates: Some(options.templates.clone().unwrap_or_default()),
                ..options
            },
            memo: Arc::default(),
            last_good: None,
            changed: None,
        }
    }

    /// Forgets everything kept from earlier builds: the next rebuild reads
    /// and renders the whole site.
    pub fn reset(&mut self) {
        self.memo = Arc::default();
        self.last_good = None;
        self.changed = None;
    }

    /// Rebuilds after `changed` paths (absolute, under the site root)
    /// changed; `None` when it is not known which (everything is read).
    pub fn rebuild(&mut self, changed: Option<Vec<PathBuf>>) -> Result<Rebuilt, Diagnostics> {
        // Changes pile up until a build succeeds: a version broken then
        // fixed is read again even if the fix came with another change.
        self.changed = match (self.changed.take(), changed) {
            (Some(mut known), Some(more)) => {
                known.extend(more);
                Some(known)
            }
            _ => None,
        };
        let reuse = self.last_good.clone().zip(self.changed.clone());
        let options = Options {
            memo: Some(self.memo.clone()),
            reuse: reuse
                .map(|(previous, changed)| Arc::new(content::Reuse::new(previous, changed))),
            ..self.options.clone()
        };
        let compiled = compile(&options)?;
        // Every page is in the memo (rendered now or reused); the outputs
        // add the files that are not pages.
        let mut files: std::collections::HashMap<String, Arc<[u8]>> =
            self.memo.files().into_iter().collect();
        files.extend(
            compiled
                .outputs
                .into_iter()
                .map(|o| (o.file, Arc::from(o.bytes))),
        );
        // Drop the previous load first: the versions it shares with this
        // one are then outlined without a copy.
        self.last_good = None;
        self.last_good = Some(Arc::new(compiled.site));
        self.changed = Some(Vec::new());
        let (rendered, reused) = self.memo.counts();
        Ok(Rebuilt {
            files,
            timings: compiled.timings,
            rendered,
            reused,
        })
    }
}

/// Where a build's outputs go, timed.
struct Sinks<'a> {
    options: &'a Options,
    consent: Option<consent::ConsentConfig>,
    sink: &'a Emit<'a>,
    write_clock: Clock,
    /// Problems with scripts gated on cookie categories, found page by page.
    gated: Mutex<Diagnostics>,
}

impl<'a> Sinks<'a> {
    fn new(options: &'a Options, site: &Site, sink: &'a Emit<'a>) -> Sinks<'a> {
        Sinks {
            options,
            consent: site.config.consent.clone(),
            sink,
            write_clock: Clock::default(),
            gated: Mutex::default(),
        }
    }

    /// A file that is not a page, written as it is: the site's own static
    /// files byte for byte, and the banner's files (minified when pages are,
    /// before their integrity hash was taken).
    fn file(&self, o: Output) -> Result<(), Diagnostic> {
        self.write_clock.time(|| (self.sink)(o))
    }

    /// A page, minified by the render stage. Scripts gated on a cookie
    /// category must name one. With a memo, which keeps every page, it goes
    /// no further.
    fn page(&self, o: Output) -> Result<(), Diagnostic> {
        if let Some(consent) = &self.consent {
            let page = (o.file.as_str(), o.bytes.as_slice());
            if let Err(d) = consent::check_gated(&self.options.root, [page], consent) {
                self.gated.lock().expect("not poisoned").extend(d);
            }
        }
        if self.options.memo.is_some() {
            return Ok(());
        }
        self.write_clock.time(|| (self.sink)(o))
    }
}

/// Time summed over threads, in nanoseconds.
#[derive(Default)]
struct Clock(AtomicU64);

impl Clock {
    fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let value = f();
        self.0
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        value
    }
    fn get(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

/// Renders every page and file and hands each to `sink` as soon as it is
/// ready (minified): one policy at a time, its redlines (each diffed in its
/// own job) before its other pages, then the site-wide pages and files,
/// which list them all. What is held at once, besides the loaded model (or,
/// streamed, one policy and the others' outlines), is the pages being
/// rendered.
fn produce(options: &Options, loaded: Loaded, sink: &Emit) -> Result<Compiled, Diagnostics> {
    let Loaded {
        site,
        pending,
        reuse_ok,
        strings,
        tera,
        assets,
        today,
        proof,
        out_dir,
        started,
        load,
    } = loaded;
    let minify = options.minify.unwrap_or(site.config.minify);
    let sinks = Sinks::new(options, &site, sink);
    let emit_page = |o: Output| sinks.page(o);
    // Before a streamed build has loaded any policy, only the inputs that
    // are not content (each policy's pages add their own, see
    // `streamed_key`); a whole site's with every policy's shape.
    let first_key = options
        .memo
        .as_ref()
        .map(|_| site_key(&site, &strings, &assets, today, minify, proof.as_ref()));
    if let Some(memo) = &options.memo {
        memo.begin();
    }
    let fixed = Fixed {
        memo: options.memo.as_deref().zip(first_key),
        minify,
        today,
        strings: &strings,
        assets: &assets,
        catalogue: site.config.rights.catalogue(),
        shared: render::Shared::default(),
        proof: proof.as_ref(),
    };
    let mut pages = Pages::default();
    let no_diffs = render::Redlines::default();
    let content = render_content(
        options,
        (site, pending, reuse_ok),
        (&tera, &fixed, &emit_page),
        &mut pages,
    );
    let (mut site, diff_time, diffs_made) = (content.site, content.diff, content.made);
    let load = load + content.load;
    // A policy with no version to show failed to load (and said so); the
    // site-wide pages, still rendered to report their own problems, leave it out.
    site.policies.retain(|p| !p.versions.is_empty());
    // Site-wide pages list every policy: keyed with all their shapes.
    let whole_key = options
        .memo
        .as_ref()
        .map(|_| site_key(&site, &strings, &assets, today, minify, proof.as_ref()));
    let mut env = fixed.env(&site, &no_diffs);
    env.memo = fixed.memo.map(|(memo, _)| memo).zip(whole_key);
    render_site_wide(&tera, &env, &sinks, &mut pages);
    let count = pages.urls.len();
    pages.found.into_result(())?;
    if let Some(memo) = &options.memo {
        memo.sweep();
    }
    Ok(Compiled {
        site,
        diffs: diffs_made,
        outputs: Vec::new(),
        out_dir,
        timings: Timings {
            load,
            diff: diff_time,
            render: pages.busy.saturating_sub(diff_time),
            minify: pages.minify,
            write: sinks.write_clock.get(),
            wall: started.elapsed(),
        },
        pages: count,
    })
}

/// The pages that list every policy, then the files that are not pages
/// (the sitemap lists every page) and the site's assets; and the problems
/// gated scripts had, found page by page.
fn render_site_wide(tera: &Tera, env: &render::Env, sinks: &Sinks, pages: &mut Pages) {
    let emit_page = |o: Output| sinks.page(o);
    pages.add(render::render_site(tera, env, &emit_page));
    pages.urls.sort();
    let files = render::files::all(env, &pages.urls);
    let copies = env.assets.files.iter().map(|(path, bytes)| Output {
        file: path.clone(),
        bytes: bytes.clone(),
    });
    for o in files.into_iter().chain(copies) {
        if let Err(d) = sinks.file(o) {
            pages.found.push(d);
        }
    }
    pages.found.extend(dedup(std::mem::take(
        &mut *sinks.gated.lock().expect("not poisoned"),
    )));
}

/// Renders the policies one at a time. Each redline's diff is made in its
/// page's job and dropped once the page is written, keeping only its word
/// counts for the policy's history and feed. Returns the time spent diffing
/// (summed over threads) and the number of diffs.
fn render_policies(
    site: &Site,
    tera: &Tera,
    fixed: &Fixed,
    emit: &Emit,
    pages: &mut Pages,
) -> (Duration, usize) {
    let (mut diff_time, mut diffs_made) = (Duration::ZERO, 0);
    for policy in &site.policies {
        let redlines = render::Redlines::default();
        pages.add(render::render_policy(
            tera,
            &fixed.env(site, &redlines),
            policy,
            emit,
        ));
        let (count, time) = redlines.made();
        diffs_made += count;
        diff_time += time;
    }
    (diff_time, diffs_made)
}

/// The key of what every page reads (see `render::memo`): configuration
/// (with overrides), interface strings, templates, static files, the day,
/// and each policy's list of versions as navigation shows it.
fn site_key(
    site: &Site,
    strings: &BTreeMap<String, i18n::Strings>,
    assets: &assets::Assets,
    today: Date,
    minify: bool,
    proof: Option<&crate::proof::Published>,
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    format!("{:?}", site.config).hash(&mut hasher);
    proof.map(|p| (&p.text, &p.signature)).hash(&mut hasher);
    format!("{strings:?}").hash(&mut hasher);
    folder_fingerprint(&site.root.join(crate::vocabulary::TEMPLATES_DIR)).hash(&mut hasher);
    assets.files.hash(&mut hasher);
    (today, minify).hash(&mut hasher);
    for policy in &site.policies {
        shape_key(policy).hash(&mut hasher);
    }
    hasher.finish()
}

/// A policy as navigation shows it: slug, title, and each version's dates,
/// flag, summary and languages.
fn shape_key(policy: &content::Policy) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (&policy.slug, format!("{:?}", policy.title)).hash(&mut hasher);
    for v in &policy.versions {
        (v.date, v.effective, v.material).hash(&mut hasher);
        format!("{:?}", v.summary).hash(&mut hasher);
        v.translations
            .keys()
            .for_each(|lang| lang.hash(&mut hasher));
    }
    hasher.finish()
}

/// The key of what a streamed policy's pages read besides their own
/// versions: the site-wide inputs known before any policy is loaded, the
/// consent policy's shape (the banner) and the policy's own.
fn streamed_key(base: u64, consent: u64, policy: &content::Policy) -> u64 {
    crate::vocabulary::digest(&(base, consent, shape_key(policy)))
}

/// Renders every policy's pages: of the loaded site, or (`pending`: the
/// policy folders of a streamed build) loading each one first. Returns the
/// site as the site-wide pages will read it.
fn render_content(
    options: &Options,
    (site, pending, reuse_ok): (Site, Option<Vec<PathBuf>>, bool),
    (tera, fixed, emit): (&Tera, &Fixed, &Emit),
    pages: &mut Pages,
) -> Streamed {
    let Some(dirs) = pending else {
        let no_diffs = render::Redlines::default();
        if let Err(d) = render::prepare(tera, &fixed.env(&site, &no_diffs)) {
            pages.found.extend(d);
        }
        let (diff, made) = render_policies(&site, tera, fixed, emit, pages);
        return Streamed {
            site,
            load: Duration::ZERO,
            diff,
            made,
        };
    };
    let reuse = options.reuse.as_deref().filter(|_| reuse_ok);
    let (today, window) = (fixed.today, site.config.redlines_to_current);
    // `serve` keeps recent versions whole for its next rebuild.
    let keep = |p: content::Policy| match options.memo {
        Some(_) => outline_cold(p, today, window),
        None => p.into_outline(),
    };
    let streamed = stream_policies(site, (dirs, reuse), (tera, fixed, emit), &keep, pages);
    let config_file = options.root.join(crate::vocabulary::CONFIG_FILE);
    if let Err(d) = check_references(&streamed.site, &config_file) {
        pages.found.extend(d);
    }
    streamed
}

/// What a streamed build leaves: the site in outline, and the time spent
/// loading and diffing.
struct Streamed {
    site: Site,
    load: Duration,
    diff: Duration,
    made: usize,
}

/// Loads, renders and outlines the policies one at a time, the consent
/// policy first (the banner on every page is made from it). Once a policy
/// fails to load, the others are still loaded (every problem is reported)
/// but no longer rendered.
fn stream_policies(
    mut site: Site,
    (mut dirs, reuse): (Vec<PathBuf>, Option<&content::Reuse>),
    (tera, fixed, emit): (&Tera, &Fixed, &Emit),
    keep: &dyn Fn(content::Policy) -> content::Policy,
    pages: &mut Pages,
) -> Streamed {
    let consent = site.config.consent.as_ref().map(|c| c.policy.clone());
    let order: Vec<PathBuf> = dirs.clone();
    dirs.sort_by_key(|d| d.file_name().and_then(|n| n.to_str()) != consent.as_deref());
    let mut streamed = Streamed {
        site: Site {
            root: site.root.clone(),
            config: site.config.clone(),
            policies: Vec::new(),
        },
        load: Duration::ZERO,
        diff: Duration::ZERO,
        made: 0,
    };
    let mut failed = false;
    let mut consent_shape = 0;
    let mut outline = Vec::new();
    for (n, dir) in dirs.iter().enumerate() {
        let started = Instant::now();
        let (policy, problems) = content::load_one(&site.config, dir, reuse);
        streamed.load += started.elapsed();
        failed |= !problems.is_empty();
        pages.found.extend(Diagnostics(
            problems
                .0
                .into_iter()
                .map(|d| d.relative_to(&site.root))
                .collect(),
        ));
        site.policies = vec![policy];
        if !failed {
            let redlines = render::Redlines::default();
            let mut env = fixed.env(&site, &redlines);
            if n == 0 {
                if let Err(d) = render::prepare(tera, &env) {
                    pages.found.extend(d);
                }
                if consent.as_deref() == Some(site.policies[0].slug.as_str()) {
                    consent_shape = shape_key(&site.policies[0]);
                }
            }
            env.memo = env
                .memo
                .map(|(memo, base)| (memo, streamed_key(base, consent_shape, &site.policies[0])));
            pages.add(render::render_policy(tera, &env, &site.policies[0], emit));
            let (count, time) = redlines.made();
            streamed.made += count;
            streamed.diff += time;
        }
        let policy = site.policies.pop().expect("one policy");
        outline.push((dir.clone(), keep(policy)));
    }
    // Back in folder order, as a whole load gives them.
    outline.sort_by_key(|(dir, _)| order.iter().position(|d| d == dir));
    streamed.site.policies = outline.into_iter().map(|(_, p)| p).collect();
    streamed
}

/// What every render pass shares.
struct Fixed<'a> {
    memo: Option<(&'a render::memo::Memo, u64)>,
    minify: bool,
    today: Date,
    strings: &'a BTreeMap<String, i18n::Strings>,
    assets: &'a assets::Assets,
    catalogue: crate::rights::Catalogue,
    shared: render::Shared,
    proof: Option<&'a crate::proof::Published>,
}

impl<'a> Fixed<'a> {
    fn env<'s>(&'s self, site: &'s Site, diffs: &'s render::Redlines) -> Env<'s> {
        Env {
            site,
            today: self.today,
            strings: self.strings,
            urls: Urls {
                base: site.config.base_path(),
            },
            endpoints: Endpoints {
                requests: site.config.endpoints.requests.clone(),
                consent: site.config.endpoints.consent.clone(),
            },
            assets: self.assets,
            diffs,
            catalogue: self.catalogue.clone(),
            shared: self.shared.clone(),
            minify: self.minify,
            memo: self.memo,
            proof: self.proof,
        }
    }
}

/// The pages rendered so far, and the problems found.
#[derive(Default)]
struct Pages {
    urls: Vec<String>,
    busy: Duration,
    minify: Duration,
    found: Diagnostics,
}

impl Pages {
    fn add(&mut self, result: Result<render::Rendered, Diagnostics>) {
        match result {
            Ok(r) => {
                self.urls.extend(r.urls);
                self.busy += r.busy;
                self.minify += r.minify;
            }
            Err(d) => self.found.extend(d),
        }
    }
}

/// The same finding from many pages, once.
fn dedup(mut found: Diagnostics) -> Diagnostics {
    found
        .0
        .sort_by(|a, b| (&a.place, &a.message).cmp(&(&b.place, &b.message)));
    found
        .0
        .dedup_by(|a, b| a.place == b.place && a.message == b.message);
    found
}

/// Checks that what the content asks for is configured: forms need a
/// requests endpoint, and the cookie table and banner need a consent endpoint.
fn check_references(site: &Site, config_file: &Path) -> Result<(), Diagnostics> {
    let mut found = Diagnostics::default();
    // One error for the missing endpoint, placed at the first form that needs it.
    let first_form = site.sections().find(|s| s.has_form());
    if let (Some(s), None) = (first_form, &site.config.endpoints.requests) {
        found.push(
            Diagnostic::new(s.file.strip_prefix(&site.root).unwrap_or(&s.file), "this section embeds request forms, but they have nowhere to post: `endpoints.requests` is not set")
                .with_hint(format!("set `endpoints: {{requests: https://…}}` in policy-site.yaml, pass --requests-endpoint, or set {REQUESTS_ENV}")),
        );
    }
    if let Some(consent) = &site.config.consent {
        if site.config.endpoints.consent.is_none() {
            found.push(Diagnostic::new(config_file.file_name().map(Path::new).unwrap_or(config_file), "the cookie banner has nowhere to send consent records: `endpoints.consent` is not set").with_hint(format!("set `endpoints: {{consent: https://…}}`, pass --consent-endpoint, or set {CONSENT_ENV}")));
        }
        if site.policy(&consent.policy).is_none() {
            found.push(missing_consent_policy(site, &consent.policy, config_file));
        }
    }
    found.into_result(())
}

/// `consent.policy` names no policy: at its line, with the policies there are.
fn missing_consent_policy(site: &Site, name: &str, config_file: &Path) -> Diagnostic {
    let text = std::fs::read_to_string(config_file).unwrap_or_default();
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("policy:") && l.contains(name))
        .map_or(1, |i| i + 1);
    let known: Vec<&str> = site.policies.iter().map(|p| p.slug.as_str()).collect();
    Diagnostic::new(
        config_file
            .file_name()
            .map(Path::new)
            .unwrap_or(config_file),
        format!("consent.policy names `{name}`, which is not a policy in content/"),
    )
    .at_line(line)
    .with_hint(format!(
        "name one of the policies there are: {}",
        known.join(", ")
    ))
}

impl Compiled {
    /// "Built 1 policy, 3 versions, 2 languages: 42 pages in 0.31 s"
    pub fn summary(&self) -> String {
        let versions: usize = self.site.policies.iter().map(|p| p.versions.len()).sum();
        let policies = self.site.policies.len();
        let languages = self.site.config.languages.len();
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        format!(
            "Built {}, {}, {}: {} in {:.2} s → {}",
            plural(policies, "policy").replace("policys", "policies"),
            plural(versions, "version"),
            plural(languages, "language"),
            plural(self.pages, "page"),
            self.timings.wall.as_secs_f64(),
            self.out_dir.display()
        )
    }
}
