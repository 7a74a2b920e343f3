//! A generated site for measuring scale (`policy-site corpus`, hidden): a
//! number of policies, each with a long history of versions in one or two
//! languages, edited the way legal teams edit — a few paragraphs reworded per
//! version, now and then a section added, moved or removed — with one request
//! form per version. The same text can also be written as a plain Hugo site
//! (one page per policy, version and language) so both generators can be
//! timed on identical input (`scripts/compare-hugo.sh`).
//!
//! Deterministic by construction: the same `Spec` always writes the same
//! bytes. The pseudo-random numbers come from a few lines of SplitMix64
//! rather than the `rand` crate, whose streams may change between releases
//! and would change the corpus (and every figure measured on it) with them.

use std::fmt::Write as _;
use std::path::Path;

/// What to generate.
#[derive(Debug, Clone, clap::Args)]
pub struct Spec {
    #[arg(long, default_value_t = 10)]
    pub policies: usize,
    #[arg(long, default_value_t = 100)]
    pub versions: usize,
    /// 1 (English) or 2 (English and French): the languages with built-in strings.
    #[arg(long, default_value_t = 2)]
    pub languages: usize,
    /// Sections of the first version; later versions gain and lose a few.
    #[arg(long, default_value_t = 10)]
    pub sections: usize,
    /// Words per paragraph, on average.
    #[arg(long, default_value_t = 60)]
    pub words: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            policies: 10,
            versions: 100,
            languages: 2,
            sections: 10,
            words: 60,
            seed: 1,
        }
    }
}

const LANGUAGES: [&str; 2] = ["en", "fr"];

/// SplitMix64: tiny, fast, and fixed forever (see the module comment).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const WORDS: &[&str] = &[
    "data",
    "personal",
    "information",
    "process",
    "purpose",
    "consent",
    "service",
    "account",
    "provide",
    "we",
    "you",
    "your",
    "our",
    "may",
    "with",
    "for",
    "the",
    "and",
    "to",
    "of",
    "in",
    "retain",
    "period",
    "law",
    "legal",
    "basis",
    "interest",
    "legitimate",
    "controller",
    "processor",
    "third",
    "party",
    "parties",
    "share",
    "transfer",
    "country",
    "safeguards",
    "security",
    "measures",
    "access",
    "request",
    "erasure",
    "rectify",
    "object",
    "restrict",
    "portability",
    "contact",
    "officer",
    "protection",
    "cookies",
    "analytics",
    "marketing",
    "device",
    "identifier",
    "address",
    "email",
    "name",
    "payment",
    "billing",
    "records",
    "support",
    "improve",
    "features",
    "fraud",
    "prevent",
    "comply",
    "obligations",
    "authority",
    "complaint",
    "supervisory",
    "automated",
    "decision",
    "profiling",
    "children",
    "age",
    "notice",
    "change",
    "update",
    "policy",
    "terms",
    "agreement",
    "website",
    "application",
    "usage",
    "logs",
    "location",
    "storage",
    "servers",
    "encrypted",
    "backup",
    "deleted",
    "anonymised",
    "aggregated",
    "statistics",
    "partners",
    "vendors",
    "contract",
    "necessary",
    "reasonable",
    "appropriate",
    "including",
    "without",
    "limitation",
    "where",
    "when",
    "unless",
    "otherwise",
    "required",
    "permitted",
    "applicable",
    "within",
    "days",
    "months",
    "years",
    "after",
    "before",
    "upon",
    "following",
    "such",
    "other",
    "any",
    "all",
    "each",
    "this",
    "that",
    "these",
    "those",
    "is",
    "are",
    "be",
    "been",
    "will",
    "shall",
    "can",
];

/// A word in one language: French reads as a different vocabulary, so
/// the two translations differ as real ones do.
fn word(index: usize, lang: usize) -> String {
    let w = WORDS[index % WORDS.len()];
    match lang {
        0 => w.to_string(),
        _ => format!("{}é", w.chars().rev().collect::<String>()),
    }
}

/// A section as the generator tracks it across versions: words are
/// indexes into `WORDS`, so every language renders the same edit.
#[derive(Clone)]
struct SectionText {
    id: String,
    title: Vec<usize>,
    paragraphs: Vec<Vec<usize>>,
}

fn paragraph(random: &mut Random, words: usize) -> Vec<usize> {
    let n = words / 2 + random.below(words + 1);
    (0..n.max(3)).map(|_| random.below(WORDS.len())).collect()
}

fn new_section(random: &mut Random, spec: &Spec, serial: usize) -> SectionText {
    SectionText {
        id: format!("section-{serial}"),
        title: (0..2 + random.below(3))
            .map(|_| random.below(WORDS.len()))
            .collect(),
        paragraphs: (0..3 + random.below(3))
            .map(|_| paragraph(random, spec.words))
            .collect(),
    }
}

/// One version's edits: a few paragraphs reworded, and now and then a
/// section added, removed or moved. The first section (which holds the
/// form) stays first.
fn edit(random: &mut Random, spec: &Spec, sections: &mut Vec<SectionText>, serial: &mut usize) {
    for _ in 0..1 + random.below(3) {
        let s = random.below(sections.len());
        let p = random.below(sections[s].paragraphs.len());
        let para = &mut sections[s].paragraphs[p];
        if random.chance(20) {
            *para = paragraph(random, spec.words);
        } else {
            for _ in 0..1 + random.below(4) {
                let at = random.below(para.len());
                para[at] = random.below(WORDS.len());
            }
        }
    }
    if random.chance(10) {
        *serial += 1;
        let at = 1 + random.below(sections.len());
        sections.insert(at, new_section(random, spec, *serial));
    }
    if random.chance(5) && sections.len() > 3 {
        sections.remove(1 + random.below(sections.len() - 1));
    }
    if random.chance(5) && sections.len() > 3 {
        let moved = sections.remove(1 + random.below(sections.len() - 1));
        sections.insert(1 + random.below(sections.len()), moved);
    }
}

fn sentence(words: &[usize], lang: usize) -> String {
    let mut text: String = words
        .iter()
        .map(|w| word(*w, lang))
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(first) = text.get(..1) {
        text.replace_range(..1, &first.to_uppercase());
    }
    text
}

fn title(words: &[usize], lang: usize) -> String {
    sentence(words, lang)
}

/// A section's markdown body; the first section carries the version's form.
fn body(section: &SectionText, lang: usize, first: bool) -> String {
    let mut text = String::new();
    for p in &section.paragraphs {
        let _ = write!(text, "{}.\n\n", sentence(p, lang));
    }
    if first {
        text.push_str("[Request access to your data](policy-site:form/access)\n");
    }
    text
}

fn date_of(version: usize) -> crate::date::Date {
    // Weekly versions from 2000-01-03 onwards.
    let start = crate::date::Date::new(2000, 1, 3).expect("valid");
    crate::date::Date::from_unix((start.days_since_epoch() + 7 * version as i64) * 86_400)
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

/// The site configuration: forms and the consent banner configured, so
/// every page carries what real pages carry.
fn config(spec: &Spec) -> String {
    let langs = &LANGUAGES[..spec.languages.clamp(1, 2)];
    let localized = |en: &str, fr: &str| {
        langs
            .iter()
            .map(|l| format!("{l}: {}", if *l == "en" { en } else { fr }))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "title: {{{}}}\nbase_url: https://example.com\nlanguages: [{}]\n\
         endpoints:\n  requests: https://example.com/requests\n  consent: https://example.com/consent\n\
         consent:\n  policy: policy-0\n  categories:\n    - id: necessary\n      required: true\n      \
         label: {{{}}}\n      description: {{{}}}\n      services:\n        - name: Site\n          \
         provider: Example\n          purpose: {{{}}}\n          cookies:\n            - name: ps_consent\n              \
         purpose: {{{}}}\n              duration: {{{}}}\n              party: first\n",
        localized("Corpus", "Corpus"),
        langs.join(", "),
        localized("Necessary", "Nécessaires"),
        localized("Make the site work.", "Font fonctionner le site."),
        localized("Serves pages.", "Sert les pages."),
        localized("Remembers your choice.", "Retient votre choix."),
        localized("6 months", "6 mois"),
    )
}

/// The versions of one policy, oldest first, as section lists.
fn history(spec: &Spec, policy: usize) -> Vec<Vec<SectionText>> {
    let mut random = Random(spec.seed ^ (policy as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let mut serial = spec.sections;
    let mut sections: Vec<SectionText> = (1..=spec.sections)
        .map(|n| new_section(&mut random, spec, n))
        .collect();
    let mut versions = Vec::with_capacity(spec.versions);
    for v in 0..spec.versions {
        if v > 0 {
            edit(&mut random, spec, &mut sections, &mut serial);
        }
        versions.push(sections.clone());
    }
    versions
}

/// Writes the corpus as a policy-site site into `root` (which should be
/// empty), and the same text as a plain Hugo site into `hugo` when given.
pub fn generate(spec: &Spec, root: &Path, hugo: Option<&Path>) -> std::io::Result<()> {
    write(&root.join(crate::vocabulary::CONFIG_FILE), &config(spec))?;
    if let Some(hugo) = hugo {
        write(
            &hugo.join("hugo.toml"),
            "baseURL = 'https://example.com/'\ntitle = 'Corpus'\n\
             disableKinds = ['taxonomy', 'term', 'RSS', 'sitemap', 'robotsTXT', 'home', 'section', '404']\n",
        )?;
        write(
            &hugo.join("layouts/_default/single.html"),
            "<!DOCTYPE html><html><head><meta charset=utf-8><title>{{ .Title }}</title></head>\
             <body><main><h1>{{ .Title }}</h1>{{ .Content }}</main></body></html>\n",
        )?;
    }
    let langs = spec.languages.clamp(1, 2);
    for p in 0..spec.policies {
        let slug = format!("policy-{p}");
        let dir = root.join("content").join(&slug);
        let names = (0..langs)
            .map(|l| format!("{}: Policy {p}", LANGUAGES[l]))
            .collect::<Vec<_>>();
        write(
            &dir.join("policy.yaml"),
            &format!("title: {{{}}}\n", names.join(", ")),
        )?;
        for (v, sections) in history(spec, p).iter().enumerate() {
            let date = date_of(v);
            let version = dir.join(date.to_string());
            let summary = (0..langs)
                .map(|l| format!("{}: Version {v}.", LANGUAGES[l]))
                .collect::<Vec<_>>();
            write(
                &version.join("version.yaml"),
                &format!(
                    "material: {}\nsummary: {{{}}}\n",
                    v % 10 == 0,
                    summary.join(", ")
                ),
            )?;
            for (l, lang) in LANGUAGES.iter().enumerate().take(langs) {
                let mut page = String::new();
                for (n, s) in sections.iter().enumerate() {
                    let (title, body) = (title(&s.title, l), body(s, l, n == 0));
                    write(
                        &version.join(lang).join(format!("{:02}-{}.md", n + 1, s.id)),
                        &format!("---\ntitle: {title}\nid: {}\n---\n{body}", s.id),
                    )?;
                    let _ = write!(page, "## {title}\n\n{body}\n");
                }
                if let Some(hugo) = hugo {
                    let file = hugo
                        .join("content")
                        .join(lang)
                        .join(&slug)
                        .join(format!("{date}.md"));
                    write(
                        &file,
                        &format!("---\ntitle: \"Policy {p} — {date}\"\n---\n{page}"),
                    )?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Spec {
        Spec {
            policies: 2,
            versions: 12,
            sections: 4,
            words: 12,
            ..Spec::default()
        }
    }

    fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut all: Vec<_> = walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let name = e.path().strip_prefix(dir).unwrap().display().to_string();
                (name, std::fs::read(e.path()).unwrap())
            })
            .collect();
        all.sort();
        all
    }

    #[test]
    fn the_same_spec_writes_the_same_bytes() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        generate(&small(), a.path(), None).unwrap();
        generate(&small(), b.path(), None).unwrap();
        let (fa, fb) = (files(a.path()), files(b.path()));
        assert!(fa.len() > 2 * 12 * 2 * 4, "{} files", fa.len());
        assert!(fa == fb, "two generations differ");
    }

    #[test]
    fn versions_differ_by_a_few_edits_and_each_has_one_form() {
        let spec = small();
        let versions = history(&spec, 0);
        for pair in versions.windows(2) {
            let text = |v: &[SectionText]| -> Vec<String> {
                v.iter()
                    .flat_map(|s| s.paragraphs.iter().map(|p| sentence(p, 0)))
                    .collect()
            };
            let (old, new) = (text(&pair[0]), text(&pair[1]));
            let kept = new.iter().filter(|p| old.contains(p)).count();
            assert!(kept > 0 && kept < new.len(), "kept {kept} of {}", new.len());
            assert!(new.len().abs_diff(kept) <= 8, "too many changes");
        }
        for v in &versions {
            let forms = v
                .iter()
                .enumerate()
                .filter(|(n, s)| body(s, 0, *n == 0).contains("policy-site:form/"))
                .count();
            assert_eq!(forms, 1);
        }
    }
}
