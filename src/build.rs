//! The pipeline, end to end: config → content → diff → render → output.
//! `compile` does everything but write, so `serve` and `check` reuse it;
//! `build` writes the result atomically.

use crate::assets;
use crate::config::{self, Config};
use crate::consent;
use crate::content::{self, SectionCache, Site};
use crate::date::{self, Date};
use crate::diff::{self, DiffIndex};
use crate::error::{Diagnostic, Diagnostics};
use crate::i18n;
use crate::output;
use crate::render::{self, Endpoints, Env, Output, Urls};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
    /// Sections parsed by earlier builds (`serve`), reused when unchanged.
    pub sections: Option<Arc<SectionCache>>,
    /// Templates loaded by earlier builds (`serve`), reused when unchanged.
    pub templates: Option<Arc<TemplateCache>>,
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
        let key = folder_fingerprint(&root.join(render::templates::TEMPLATES_DIR));
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

/// A compiled site, ready to write.
pub struct Compiled {
    pub site: Site,
    pub diffs: DiffIndex,
    pub outputs: Vec<Output>,
    pub out_dir: PathBuf,
    pub timings: Timings,
    pub pages: usize,
}

#[derive(Debug, Default, Clone)]
pub struct Timings {
    pub load: Duration,
    pub diff: Duration,
    pub render: Duration,
    pub minify: Duration,
    pub write: Duration,
}

impl Timings {
    pub fn total(&self) -> Duration {
        self.load + self.diff + self.render + self.minify + self.write
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
        let (source, url) = match (value, std::env::var(var).ok().filter(|v| !v.is_empty())) {
            (Some(v), _) => (flag, v.clone()),
            (None, Some(v)) => (var, v),
            (None, None) => continue,
        };
        match config::check_endpoint(&url) {
            Ok(()) => *slot = Some(url),
            Err(why) => found.push(Diagnostic::new(source, why)),
        }
    }
    if let Some(base) = &options.base_url {
        config.base_url = base.clone();
    }
    found.into_result(config)
}

pub fn compile(options: &Options) -> Result<Compiled, Diagnostics> {
    let started = Instant::now();
    let config = load_config(options)?;
    let config_file = options.root.join(config::FILE_NAME);
    let strings = i18n::load(&config, Path::new(config::FILE_NAME));
    let tera = match &options.templates {
        Some(cache) => cache.load(&options.root),
        None => render::templates::load(&options.root),
    };
    let assets = assets::load(&options.root);
    let out_dir = options
        .root
        .join(options.out.clone().unwrap_or_else(|| config.output.clone()));
    let site = content::load_with(&options.root, config, options.sections.as_deref());
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
    check_references(&site, &config_file)?;
    let today = site.today(
        date::build_date(options.date)
            .map_err(|e| Diagnostics::from(Diagnostic::new("SOURCE_DATE_EPOCH", e)))?,
    );
    let load = started.elapsed();

    let started = Instant::now();
    let diffs = diff::index(&site, today);
    let diff_time = started.elapsed();

    let started = Instant::now();
    let endpoints = Endpoints {
        requests: site.config.endpoints.requests.clone(),
        consent: site.config.endpoints.consent.clone(),
    };
    let env = Env {
        site: &site,
        today,
        strings: &strings,
        urls: Urls {
            base: site.config.base_path(),
        },
        endpoints,
        assets: &assets,
        diffs: &diffs,
        catalogue: site.config.rights.catalogue(),
        shared: Default::default(),
    };
    let pages = render::plan(&env, &tera)?;
    let urls: Vec<String> = pages.iter().map(|p| p.url.clone()).collect();
    let mut outputs = render::render_all(&tera, &env, pages)?;
    if let Some(consent) = &site.config.consent {
        consent::check_gated(&options.root, &outputs, consent)?;
    }
    let page_count = outputs.len();
    outputs.extend(render::files::all(&env, &urls));
    outputs.extend(assets.files.iter().map(|(path, bytes)| Output {
        file: path.clone(),
        bytes: bytes.clone(),
    }));
    let render_time = started.elapsed();

    let started = Instant::now();
    if options.minify.unwrap_or(site.config.minify) {
        outputs
            .par_iter_mut()
            .filter(|o| o.is_html())
            .for_each(|o| o.bytes = output::minify(&o.bytes));
    }
    outputs.sort_by(|a, b| a.file.cmp(&b.file));
    let minify = started.elapsed();
    drop(env);
    Ok(Compiled {
        site,
        diffs,
        outputs,
        out_dir,
        timings: Timings {
            load,
            diff: diff_time,
            render: render_time,
            minify,
            write: Duration::ZERO,
        },
        pages: page_count,
    })
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

/// Compiles and writes the site; the previous output survives any failure.
pub fn build(options: &Options) -> Result<Compiled, Diagnostics> {
    let mut compiled = compile(options)?;
    let started = Instant::now();
    output::guard(&options.root, &compiled.out_dir)
        .map_err(|d| Diagnostics::from(d.relative_to(&options.root)))?;
    output::write_site(&compiled.out_dir, &compiled.outputs)
        .map_err(|d| Diagnostics::from(d.relative_to(&options.root)))?;
    compiled.timings.write = started.elapsed();
    Ok(compiled)
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
            self.timings.total().as_secs_f64(),
            self.out_dir.display()
        )
    }
}
