//! Reads `content/` into the model. Every file is read and parsed once, in
//! parallel per version; every problem found is collected, so that one build
//! reports all of them.

use super::{Policy, Requests, Section, Site, Translation, Version};
use crate::config::Config;
use crate::date::Date;
use crate::error::{Diagnostic, Diagnostics};
use crate::markdown::{self, Directive};
use crate::vocabulary::Localized;
use crate::vocabulary::{hex, is_slug};
use crate::yaml;
use rayon::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    title: Localized,
    #[serde(default)]
    requests: Requests,
    #[serde(default)]
    terms_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionFile {
    #[serde(default)]
    effective: Option<Date>,
    #[serde(default)]
    material: bool,
    #[serde(default)]
    summary: Localized,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    translated_from: Option<String>,
}

/// Loads every policy under `root/content`.
pub fn load(root: &Path, config: Config) -> Result<Site, Diagnostics> {
    load_with(root, config, None)
}

/// An earlier load, and every path changed since it (as the file watcher
/// reported them): version folders holding none of those paths are taken
/// from it as they are, without reading them again.
///
/// The earlier load may hold versions in outline (no text, see
/// `Version::outlined`): enough for pages that are not made again. One is
/// read again when a page that shows its text may be: when it lies next to
/// a changed version (their redline), or when a change is anything but a
/// section's text (a summary, a template, a folder: any page may change).
#[derive(Debug)]
pub struct Reuse {
    previous: std::sync::Arc<Site>,
    changed: Vec<PathBuf>,
    /// Whether every change is a section's text
    /// (`content/<policy>/<version>/<lang>/*.md`).
    sections_only: bool,
}

impl Reuse {
    pub fn new(previous: std::sync::Arc<Site>, changed: Vec<PathBuf>) -> Reuse {
        let content = previous.root.join(crate::vocabulary::CONTENT_DIR);
        let sections_only = changed.iter().all(|p| {
            p.extension().is_some_and(|e| e == "md")
                && p.ancestors().nth(4) == Some(content.as_path())
        });
        Reuse {
            previous,
            changed,
            sections_only,
        }
    }

    /// Whether `path` is among the changes.
    pub fn changed(&self, path: &Path) -> bool {
        self.changed.iter().any(|p| p == path)
    }

    /// Whether a path in `dir` changed.
    fn touches(&self, dir: &Path) -> bool {
        self.changed.iter().any(|p| p.starts_with(dir))
    }

    /// Whether a change lies in a version folder of `policy_dir` that is
    /// not among `versions` any more.
    fn vanished(&self, policy_dir: &Path, versions: &[(Date, PathBuf)]) -> bool {
        self.changed.iter().any(|p| {
            p.strip_prefix(policy_dir)
                .ok()
                .and_then(|rest| rest.components().next())
                .is_some_and(|first| !versions.iter().any(|(_, d)| d.ends_with(first)))
        })
    }

    /// The earlier load of the version in `dir` (which no change touched),
    /// unless it is in outline and its text may be shown again
    /// (`beside_a_change`: a neighbouring version changed).
    fn version(
        &self,
        slug: &str,
        (date, dir): (Date, &Path),
        beside_a_change: bool,
    ) -> Option<std::sync::Arc<Version>> {
        let policy = self.previous.policies.iter().find(|p| p.slug == slug)?;
        // Versions are in date order.
        let at = policy
            .versions
            .binary_search_by(|v| v.date.cmp(&date))
            .ok()?;
        let version = Some(&policy.versions[at]).filter(|v| v.dir == dir)?;
        if version.outline && (beside_a_change || !self.sections_only) {
            return None;
        }
        Some(version.clone())
    }
}

/// Loads every policy, reusing the versions of `reuse` that no change touched.
pub fn load_with(root: &Path, config: Config, reuse: Option<&Reuse>) -> Result<Site, Diagnostics> {
    let (site, found) = load_partial_with(root, config, reuse);
    found
        .into_result(site)
        .map_err(|d| Diagnostics(d.0.into_iter().map(|x| x.relative_to(root)).collect()))
}

/// Whatever loads, and every problem found. With problems, the model is
/// partial: a policy, version or section that could not be read or parsed
/// is missing from it (a translation with a broken section keeps the
/// others), so it suits checks of one file at a time, not checks across
/// files, which would take what is missing for a mistake.
pub fn load_partial(root: &Path, config: Config) -> (Site, Diagnostics) {
    load_partial_with(root, config, None)
}

fn load_partial_with(root: &Path, config: Config, reuse: Option<&Reuse>) -> (Site, Diagnostics) {
    let (policy_dirs, mut found) = policy_dirs(root);
    let mut policies = Vec::new();
    with_parse(&config, reuse, |parse| {
        for dir in policy_dirs {
            let (policy, problems) = load_policy(&dir, &config, parse);
            policies.push(policy);
            found.extend(problems);
        }
    });
    let site = Site {
        root: root.to_path_buf(),
        config,
        policies,
    };
    (site, found)
}

/// One policy (its folder under `content/`), for a build that loads and
/// renders the policies one at a time: the versions that loaded, and every
/// problem found.
pub fn load_one(config: &Config, dir: &Path, reuse: Option<&Reuse>) -> (Policy, Diagnostics) {
    with_parse(config, reuse, |parse| load_policy(dir, config, parse))
}

/// The newest version date of the policies in `dirs`, read from the names
/// of their version folders (what "today" defaults to).
pub fn newest_version_date(dirs: &[PathBuf]) -> Option<Date> {
    dirs.iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|entries| entries.filter_map(Result::ok))
        .filter_map(|e| e.file_name().to_str()?.parse::<Date>().ok())
        .max()
}

/// Runs `f` with what parsing sections needs from the configuration.
fn with_parse<R>(config: &Config, reuse: Option<&Reuse>, f: impl FnOnce(&Parse) -> R) -> R {
    let catalogue = config.rights.catalogue();
    let has_inventory = config.consent.is_some();
    let is_known = move |d: &Directive| match d {
        Directive::Form(right) => catalogue.get(right).is_some(),
        Directive::CookieTable => has_inventory,
    };
    f(&Parse {
        is_known: &is_known,
        reuse,
    })
}

/// The policy folders under `content/`, and what else is there (an error each).
pub fn policy_dirs(root: &Path) -> (Vec<PathBuf>, Diagnostics) {
    let content = root.join(crate::vocabulary::CONTENT_DIR);
    let mut found = Diagnostics::default();
    let mut policy_dirs = Vec::new();
    match list(&content, &mut found) {
        Ok(listing) => {
            for file in listing.files {
                found.push(
                    Diagnostic::new(&file, format!("`{}` is not a policy folder", file_name(&file)))
                        .with_hint("content/ holds one folder per policy, e.g. `content/privacy/`; move this file into one, or remove it"),
                );
            }
            policy_dirs = listing.folders;
        }
        Err(e) => found.push(
            Diagnostic::new(&content, format!("cannot read the content folder: {e}"))
                .with_hint("a site keeps its policies in `content/<policy>/`"),
        ),
    }
    if policy_dirs.is_empty() && found.is_empty() {
        found.push(Diagnostic::new(&content, "there is no policy in the content folder").with_hint("create `content/<policy>/policy.yaml` and a dated version folder, or run `policy-site init`"));
    }
    (policy_dirs, found)
}

/// What parsing a section depends on besides its file.
struct Parse<'a> {
    is_known: &'a (dyn Fn(&Directive) -> bool + Sync),
    reuse: Option<&'a Reuse>,
}

/// The policy with the versions that loaded, and every problem found.
fn load_policy(dir: &Path, config: &Config, parse: &Parse) -> (Policy, Diagnostics) {
    let mut found = Diagnostics::default();
    let slug = file_name(dir);
    if !is_slug(&slug) {
        found.push(Diagnostic::new(dir, format!("the policy folder `{slug}` must be named in lowercase letters, digits and dashes")).with_hint("it becomes part of the URL, e.g. `content/privacy/`"));
    }
    let (title, requests, terms_type) = policy_file(&dir.join("policy.yaml"), config, &mut found);
    let version_dirs = version_dirs(dir, &mut found);
    let touched: Vec<bool> = version_dirs
        .iter()
        .map(|(_, d)| parse.reuse.is_some_and(|r| r.touches(d)))
        .collect();
    // A version folder gone: its neighbours are now next to each other.
    let vanished = parse.reuse.is_some_and(|r| r.vanished(dir, &version_dirs));
    let beside_a_change = |i: usize| {
        vanished || (i > 0 && touched[i - 1]) || touched.get(i + 1).copied().unwrap_or(false)
    };
    let loaded: Vec<(Option<std::sync::Arc<Version>>, Diagnostics)> = version_dirs
        .par_iter()
        .enumerate()
        .map(|(i, (date, vdir))| {
            let reused = parse
                .reuse
                .filter(|_| !touched[i])
                .and_then(|r| r.version(&slug, (*date, vdir), beside_a_change(i)));
            match reused {
                Some(version) => (Some(version), Diagnostics::default()),
                None => {
                    let (version, found) = load_version(*date, vdir, config, parse);
                    (version.map(std::sync::Arc::new), found)
                }
            }
        })
        .collect();
    let mut versions = Vec::new();
    for (version, problems) in loaded {
        versions.extend(version);
        found.extend(problems);
    }
    let policy = Policy {
        slug,
        title,
        requests,
        terms_type,
        versions,
    };
    (policy, found)
}

/// The policy's title in every language, where its requests go, and its
/// Open Terms Archive terms type, from `policy.yaml`.
fn policy_file(
    policy_file: &Path,
    config: &Config,
    found: &mut Diagnostics,
) -> (Localized, Requests, Option<String>) {
    let parsed = read(policy_file).and_then(|text| {
        yaml::parse::<PolicyFile>(&text, policy_file, 1).map_err(Diagnostics::from)
    });
    match parsed {
        Ok(p) => {
            for lang in config
                .languages
                .iter()
                .filter(|l| p.title.get(*l).is_none_or(|t| t.trim().is_empty()))
            {
                found.push(
                    Diagnostic::new(
                        policy_file,
                        format!("the policy title has no `{lang}` text"),
                    )
                    .with_hint(format!("add `{lang}: …` under `title`")),
                );
            }
            (p.title, p.requests, p.terms_type)
        }
        Err(d) => {
            found.extend(d);
            (Localized::new(), Requests::default(), None)
        }
    }
}

/// The policy folder's version folders, by date; anything else there is a
/// problem.
fn version_dirs(dir: &Path, found: &mut Diagnostics) -> Vec<(Date, PathBuf)> {
    let listing = list_or_report(dir, found);
    for file in listing
        .files
        .iter()
        .filter(|f| file_name(f) != "policy.yaml")
    {
        let hint = if file_name(file).ends_with(".md") {
            "sections belong in a version's language folder, e.g. `2025-01-30/en/01-introduction.md`"
        } else {
            "a policy folder holds `policy.yaml` and one folder per version; move or remove this file"
        };
        found.push(
            Diagnostic::new(
                file,
                format!("`{}` is not part of the policy", file_name(file)),
            )
            .with_hint(hint),
        );
    }
    let mut version_dirs = Vec::new();
    for sub in listing.folders {
        let name = file_name(&sub);
        match name.parse::<Date>() {
            Ok(date) => version_dirs.push((date, sub)),
            Err(why) => found.push(
                Diagnostic::new(
                    &sub,
                    format!("the version folder `{name}` is not named by a date: {why}"),
                )
                .with_hint(
                    "name each version's folder by its \"last updated\" date, e.g. `2025-01-30`",
                ),
            ),
        }
    }
    version_dirs.sort();
    if version_dirs.is_empty() {
        found.push(
            Diagnostic::new(dir, "this policy has no version folder").with_hint(
                "add a folder named by the version's date, e.g. `2025-01-30/en/01-introduction.md`",
            ),
        );
    }
    version_dirs
}

/// The version (none when its `version.yaml` cannot be read), with its
/// translations as far as they loaded, and every problem found.
fn load_version(
    date: Date,
    dir: &Path,
    config: &Config,
    parse: &Parse,
) -> (Option<Version>, Diagnostics) {
    let mut found = Diagnostics::default();
    let reads = Reads::default();
    let version_file = dir.join("version.yaml");
    let meta = match reads
        .read(&version_file)
        .and_then(|t| yaml::parse::<VersionFile>(&t, &version_file, 1).map_err(Diagnostics::from))
    {
        Ok(meta) => Some(meta),
        Err(d) => {
            found.extend(d);
            None
        }
    };
    let default_lang = config.default_language();
    let (mut translations, broken) = load_languages(dir, config, (parse, &reads), &mut found);
    if !translations.contains_key(default_lang) && !dir.join(default_lang).is_dir() {
        found.push(
            Diagnostic::new(
                dir,
                format!(
                    "this version has no `{default_lang}/` folder, the site's default language"
                ),
            )
            .with_hint(format!(
                "put the sections in `{}/{default_lang}/01-….md`",
                file_name(dir)
            )),
        );
    }
    if let Some(source) = translations.get(default_lang) {
        for (lang, t) in translations
            .iter()
            .filter(|(l, _)| l.as_str() != default_lang)
        {
            found.extend(match_translation(source, t, &dir.join(lang)));
        }
    }
    found.extend(adopt_source_ids(&mut translations, default_lang));
    if let Some(source) = translations.get(default_lang) {
        found.extend(ids_used_twice(source));
    }
    let Some(meta) = meta else {
        return (None, found);
    };
    for (lang, t) in broken {
        translations.entry(lang).or_insert(t);
    }
    let sources_sha256 = hash_sources(dir, reads);
    let version = Version {
        date,
        effective: meta.effective.unwrap_or(date),
        material: meta.material,
        summary: meta.summary,
        dir: dir.to_path_buf(),
        translations,
        sources_sha256,
        outline: false,
    };
    (Some(version), found)
}

/// A version folder's language folders: the translations that loaded, and
/// apart from them those that loaded with problems (matching the languages
/// against a broken one would report as missing what failed to load).
fn load_languages(
    dir: &Path,
    config: &Config,
    (parse, reads): (&Parse, &Reads),
    found: &mut Diagnostics,
) -> (BTreeMap<String, Translation>, Vec<(String, Translation)>) {
    let default_lang = config.default_language();
    let mut translations = BTreeMap::new();
    let mut broken = Vec::new();
    let listing = list_or_report(dir, found);
    for file in listing
        .files
        .iter()
        .filter(|f| file_name(f) != "version.yaml")
    {
        found.push(stray_version_file(file, default_lang));
    }
    for lang_dir in listing.folders {
        let lang = file_name(&lang_dir);
        if !config.languages.contains(&lang) {
            found.push(
                Diagnostic::new(
                    &lang_dir,
                    format!(
                        "`{lang}` is not one of the site's languages ({})",
                        config.languages.join(", ")
                    ),
                )
                .with_hint(format!(
                    "add `{lang}` to `languages` in policy-site.yaml, or rename the folder"
                )),
            );
            continue;
        }
        let is_default = lang == default_lang;
        let (t, problems) = load_translation(&lang, &lang_dir, (parse, reads), is_default);
        if problems.is_empty() {
            translations.insert(lang, t);
        } else {
            broken.push((lang, t));
            found.extend(problems);
        }
    }
    (translations, broken)
}

/// A section id that two sections of one translation use.
fn ids_used_twice(source: &Translation) -> Diagnostics {
    let mut found = Diagnostics::default();
    let mut ids: BTreeMap<&str, &Path> = BTreeMap::new();
    for s in &source.sections {
        if let Some(first) = ids.insert(&s.id, &s.file) {
            found.push(
                Diagnostic::new(
                    &s.file,
                    format!(
                        "the section id `{}` is also used by {}",
                        s.id,
                        first.display()
                    ),
                )
                .with_hint("each section of a version needs its own `id`"),
            );
        }
    }
    found
}

/// A translation's sections take the stable id of the default-language
/// section with the same number; an explicit different id is an error.
fn adopt_source_ids(
    translations: &mut BTreeMap<String, Translation>,
    default_lang: &str,
) -> Diagnostics {
    let mut found = Diagnostics::default();
    let Some(source) = translations.get(default_lang) else {
        return found;
    };
    let ids: BTreeMap<u32, String> = source
        .sections
        .iter()
        .map(|s| (s.number, s.id.clone()))
        .collect();
    for (lang, t) in translations
        .iter_mut()
        .filter(|(l, _)| l.as_str() != default_lang)
    {
        for s in &mut t.sections {
            let Some(id) = ids.get(&s.number) else {
                continue;
            };
            if s.explicit_id && &s.id != id {
                found.push(Diagnostic::new(&s.file, format!("the `{lang}` section {} has the id `{}`, but the `{default_lang}` section it translates has `{id}`", s.label(), s.id)).at_line(2).with_hint(format!("use `id: {id}`, or remove the id: translations take it from the `{default_lang}` section")));
            }
            s.id = id.clone();
        }
    }
    found
}

/// Translations are matched to the default language by number; they take the
/// source's `id` (a different one is an error), and must have the same numbers.
fn match_translation(source: &Translation, translation: &Translation, dir: &Path) -> Diagnostics {
    let mut found = Diagnostics::default();
    let theirs: BTreeMap<u32, &Section> =
        translation.sections.iter().map(|s| (s.number, s)).collect();
    for s in &source.sections {
        if !theirs.contains_key(&s.number) {
            found.push(
                Diagnostic::new(
                    dir,
                    format!(
                        "the `{}` translation lacks section {} (\"{}\", {})",
                        translation.lang,
                        s.label(),
                        s.title,
                        s.file.display()
                    ),
                )
                .with_hint(format!("add `{}-….md` to this folder", s.label())),
            );
        }
    }
    let ours: BTreeSet<u32> = source.sections.iter().map(|s| s.number).collect();
    for s in &translation.sections {
        if !ours.contains(&s.number) {
            found.push(
                Diagnostic::new(
                    &s.file,
                    format!(
                        "section {} has no counterpart in the `{}` sources",
                        s.label(),
                        source.lang
                    ),
                )
                .with_hint(
                    "sections are matched across languages by number; remove or renumber this file",
                ),
            );
        }
    }
    found
}

/// Numbering gaps are checked in the default language; a translation is
/// matched against it instead, which names the section it lacks. Returns
/// the sections that loaded, and every problem found.
fn load_translation(
    lang: &str,
    dir: &Path,
    (parse, reads): (&Parse, &Reads),
    is_default: bool,
) -> (Translation, Diagnostics) {
    let mut found = Diagnostics::default();
    let mut sections: Vec<Section> = Vec::new();
    let mut unreadable = Vec::new();
    let listing = list_or_report(dir, &mut found);
    for folder in &listing.folders {
        found.push(
            Diagnostic::new(folder, format!("`{}` is a folder inside a language folder", file_name(folder)))
                .with_hint("a language folder holds only sections named `NN-title.md`; move its files up, or remove it"),
        );
    }
    for path in &listing.files {
        let path = path.as_path();
        let name = file_name(path);
        if !name.ends_with(".md") {
            found.push(
                Diagnostic::new(path, format!("`{name}` is not a markdown section"))
                    .with_hint("a language folder holds only sections named `NN-title.md`"),
            );
            continue;
        }
        match reads
            .read(path)
            .and_then(|text| parse_section(path, &name, &text, parse.is_known))
        {
            Ok(section) => sections.push(section),
            Err(d) => {
                // The file is there, only broken: its number is not missing.
                unreadable.extend(parse_section_name(&name).ok().map(|(n, _)| n));
                found.extend(d);
            }
        }
    }
    sections.sort_by_key(|s| s.number);
    for pair in sections.windows(2) {
        if pair[0].number == pair[1].number {
            found.push(
                Diagnostic::new(
                    &pair[1].file,
                    format!(
                        "section number {} is used twice: by {} and by this file",
                        pair[1].label(),
                        file_name(&pair[0].file)
                    ),
                )
                .with_hint("give each section its own number"),
            );
        }
    }
    if is_default {
        let numbers = sections.iter().map(|s| s.number).chain(unreadable);
        found.extend(numbering_gaps(dir, numbers));
    }
    if sections.is_empty() && found.is_empty() {
        found.push(
            Diagnostic::new(dir, "this language folder has no section").with_hint("add `01-….md`"),
        );
    }
    (Translation::new(lang.to_string(), sections), found)
}

/// Each section number missing before the highest one.
fn numbering_gaps(dir: &Path, numbers: impl Iterator<Item = u32>) -> Diagnostics {
    let mut found = Diagnostics::default();
    let mut numbered: Vec<u32> = numbers.filter(|&n| n > 0).collect();
    numbered.sort_unstable();
    numbered.dedup();
    let mut expected = 1;
    for n in numbered {
        while expected < n {
            found.push(
                Diagnostic::new(
                    dir,
                    format!("section {expected:02} is missing (the sections jump to {n:02})"),
                )
                .with_hint("number sections 01, 02, 03, … without gaps"),
            );
            expected += 1;
        }
        expected = n + 1;
    }
    found
}

fn parse_section(
    path: &Path,
    name: &str,
    text: &str,
    is_known: &(dyn Fn(&Directive) -> bool + Sync),
) -> Result<Section, Diagnostics> {
    let (number, slug) = parse_section_name(name).map_err(|why| {
        Diagnostic::new(path, why)
            .with_hint("name sections `NN-title.md`, e.g. `04-sharing-of-data.md`")
    })?;
    let (front, body, body_line) = split_front_matter(text).ok_or_else(|| {
        Diagnostic::new(path, "the section has no front matter")
            .at_line(1)
            .with_hint("start the file with `---`, a line `title: …`, and `---`")
    })?;
    let front: FrontMatter = yaml::parse(front, path, 2)?;
    let mut found = Diagnostics::default();
    if body.trim().is_empty() {
        found.push(
            Diagnostic::new(path, "the section has no text, only front matter")
                .at_line(body_line - 1)
                .with_hint("write the section's text below the closing `---`, or remove the file"),
        );
    }
    if front.title.trim().is_empty() {
        found.push(
            Diagnostic::new(path, "the section title is empty")
                .at_line(2)
                .with_hint("write the section's heading after `title:`"),
        );
    }
    let explicit_id = front.id.is_some();
    let id = front.id.unwrap_or_else(|| slug.to_string());
    if !is_slug(&id) {
        found.push(
            Diagnostic::new(
                path,
                format!("the section id `{id}` must be lowercase letters, digits and dashes"),
            )
            .at_line(2)
            .with_hint("the id is the section's anchor in URLs, e.g. `id: data-retention`"),
        );
    }
    // Sub-heading anchors are prefixed with the file's own id: unique on
    // the page, and known before the translations are matched.
    let rendered = match markdown::render(body, &id, is_known) {
        Ok(r) => r,
        Err(errors) => {
            for e in errors {
                found.push(
                    Diagnostic::new(path, e.message)
                        .at_line(body_line + e.line - 1)
                        .with_hint(e.hint),
                );
            }
            Default::default()
        }
    };
    found.into_result(Section {
        number,
        id,
        title: front.title.trim().to_string(),
        file: path.to_path_buf(),
        body_line,
        markdown: body.to_string(),
        translated_from: front.translated_from,
        explicit_id,
        rendered,
    })
}

/// `04-sharing-of-data.md` → (4, "sharing-of-data").
fn parse_section_name(name: &str) -> Result<(u32, &str), String> {
    let stem = name.trim_end_matches(".md");
    let (digits, slug) = stem.split_once('-').unwrap_or((stem, ""));
    if digits.len() != 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{name}` is not named like a section: `NN-slug.md`, a two-digit number, a dash and a name (e.g. `06-communications.md`)"
        ));
    }
    let slug = if slug.is_empty() { "section" } else { slug };
    Ok((digits.parse().expect("two digits"), slug))
}

/// Splits `---\n<yaml>\n---\n<body>`; returns the YAML, the body and the
/// 1-based line where the body starts.
pub fn split_front_matter(text: &str) -> Option<(&str, &str, usize)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            let front = &rest[..offset];
            let body = &rest[offset + line.len()..];
            let body_line = 2 + front.lines().count() + 1;
            return Some((front, body, body_line));
        }
        offset += line.len();
    }
    None
}

/// SHA-256 over the version's files (path and bytes, in path order).
/// The files one version's load read, by path: its sources hash is made
/// from them, so that no file is read twice.
#[derive(Default)]
struct Reads(std::cell::RefCell<BTreeMap<PathBuf, Vec<u8>>>);

impl Reads {
    fn read(&self, path: &Path) -> Result<String, Diagnostics> {
        let text = read(path)?;
        self.0
            .borrow_mut()
            .insert(path.to_path_buf(), text.as_bytes().to_vec());
        Ok(text)
    }
}

/// SHA-256 over every file of a version folder (but editor litter), in
/// path order: each file's path, a zero byte, its bytes, a zero byte.
fn hash_sources(dir: &Path, reads: Reads) -> String {
    let mut reads = reads.0.into_inner();
    let mut hasher = Sha256::new();
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && !is_editor_litter(&file_name(e.path())))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    for file in files {
        let rel = file
            .strip_prefix(dir)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace('\\', "/");
        hasher.update(rel.as_bytes());
        hasher.update([0]);
        let bytes = reads
            .remove(&file)
            .unwrap_or_else(|| std::fs::read(&file).unwrap_or_default());
        hasher.update(bytes);
        hasher.update([0]);
    }
    hex(&hasher.finalize())
}

fn read(path: &Path) -> Result<String, Diagnostics> {
    let bytes = std::fs::read(path).map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::NotFound {
            "is missing".to_string()
        } else {
            format!("cannot be read: {e}")
        };
        Diagnostic::new(path, format!("{} {what}", file_name(path)))
    })?;
    String::from_utf8(bytes).map_err(|e| Diagnostic::not_utf8(path, &e).into())
}

/// What a folder under `content/` holds, in name order, editor litter left out.
struct Listing {
    folders: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

/// Lists `dir`, reporting what is neither a file nor a folder. A symbolic
/// link is always reported, never followed: it could bring in a file from
/// outside the site, or loop, and a copy says plainly what is published.
fn list(dir: &Path, found: &mut Diagnostics) -> std::io::Result<Listing> {
    let mut listing = Listing {
        folders: Vec::new(),
        files: Vec::new(),
    };
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if is_editor_litter(&file_name(&path)) {
            continue;
        }
        match entry.file_type()? {
            t if t.is_dir() => listing.folders.push(path),
            t if t.is_file() => listing.files.push(path),
            t if t.is_symlink() => found.push(
                Diagnostic::new(
                    &path,
                    "this is a symbolic link, and links in content/ are not followed",
                )
                .with_hint("replace the link with a copy of the file or folder it points to"),
            ),
            _ => found.push(
                Diagnostic::new(&path, "this is neither a file nor a folder")
                    .with_hint("remove it from content/"),
            ),
        }
    }
    listing.folders.sort();
    listing.files.sort();
    Ok(listing)
}

fn list_or_report(dir: &Path, found: &mut Diagnostics) -> Listing {
    list(dir, found).unwrap_or_else(|e| {
        found.push(Diagnostic::new(
            dir,
            format!("cannot read this folder: {e}"),
        ));
        Listing {
            folders: Vec::new(),
            files: Vec::new(),
        }
    })
}

/// A file beside `version.yaml`: most often a section saved one folder too high.
fn stray_version_file(file: &Path, default_lang: &str) -> Diagnostic {
    let name = file_name(file);
    if name.ends_with(".md") {
        Diagnostic::new(
            file,
            format!("the section `{name}` is outside a language folder: it belongs in `{default_lang}/`"),
        )
        .with_hint(format!(
            "move it to `{default_lang}/{name}` (or to the folder of the language it is written in)"
        ))
    } else {
        Diagnostic::new(file, format!("`{name}` is not part of the version"))
            .with_hint("a version folder holds `version.yaml` and one folder per language; move or remove this file")
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub use crate::vocabulary::is_editor_litter;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_split_with_the_body_line() {
        let (front, body, line) = split_front_matter("---\ntitle: A\nid: a\n---\nBody\n").unwrap();
        assert_eq!(front, "title: A\nid: a\n");
        assert_eq!(body, "Body\n");
        assert_eq!(line, 5);
        assert!(split_front_matter("title: A\n").is_none());
    }

    #[test]
    fn section_names_carry_two_digit_numbers() {
        assert_eq!(parse_section_name("04-sharing.md").unwrap(), (4, "sharing"));
        assert_eq!(
            parse_section_name("00-introduction.md").unwrap(),
            (0, "introduction")
        );
        assert!(parse_section_name("4-sharing.md").is_err());
        assert!(parse_section_name("sharing.md").is_err());
    }
}
