//! The typed model of a site's sources: Site → Policy → Version →
//! Translation → Section. `load` builds it from `content/`; later stages
//! (diff, render) only read it.

mod load;

pub use load::{
    is_editor_litter, load, load_one, load_partial, load_with, newest_version_date, policy_dirs,
    split_front_matter, Reuse,
};

use crate::config::Config;
use crate::date::Date;
use crate::markdown::Rendered;
use crate::vocabulary::Localized;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Site {
    pub root: PathBuf,
    pub config: Config,
    pub policies: Vec<Policy>,
}

#[derive(Debug, Clone)]
pub struct Policy {
    /// Folder name under `content/`, and the policy's URL segment.
    pub slug: String,
    pub title: Localized,
    /// Where the rights requests this policy describes are made.
    pub requests: Requests,
    /// Its Open Terms Archive terms type (`terms_type:` in `policy.yaml`),
    /// e.g. "Privacy Policy": the key it is declared under for OTA.
    pub terms_type: Option<String>,
    /// Oldest first.
    pub versions: Vec<std::sync::Arc<Version>>,
}

/// `requests:` in `policy.yaml`: through the forms the policy embeds (the
/// default), or through another channel the text describes (an address, a
/// portal), in which case `check` does not ask for forms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Requests {
    #[default]
    Forms,
    Elsewhere,
}

#[derive(Debug, Clone)]
pub struct Version {
    /// The "last updated" date that names the version's folder.
    pub date: Date,
    /// When the version takes effect (defaults to `date`).
    pub effective: Date,
    pub material: bool,
    pub summary: Localized,
    pub dir: PathBuf,
    /// Keyed by language code.
    pub translations: BTreeMap<String, Translation>,
    /// SHA-256 over the version's source files, for `versions.json` and the lock file.
    pub sources_sha256: String,
    /// Whether its sections' text was dropped (see `Policy::into_outline`).
    pub outline: bool,
}

impl Version {
    /// The version without its sections' text (their numbers, ids, titles,
    /// headings and widgets stay, and the digests of what they were).
    pub fn outlined(version: std::sync::Arc<Version>) -> std::sync::Arc<Version> {
        if version.outline {
            return version;
        }
        let mut v = std::sync::Arc::try_unwrap(version).unwrap_or_else(|v| (*v).clone());
        for t in v.translations.values_mut() {
            for s in &mut t.sections {
                s.markdown = String::new();
                let r = &mut s.rendered;
                r.blocks = Vec::new();
                r.removed = Vec::new();
                r.fragments
                    .retain(|f| matches!(f, crate::markdown::Fragment::Directive(_)));
                r.fragments.shrink_to_fit();
            }
        }
        v.outline = true;
        std::sync::Arc::new(v)
    }
}

#[derive(Debug, Clone)]
pub struct Translation {
    pub lang: String,
    /// In number order; number 0, when present, is the untitled preamble.
    pub sections: Vec<Section>,
    /// A hash of the sections as written: equal digests, equal pages (for
    /// incremental rebuilds, see `render::memo`).
    pub digest: u64,
}

impl Translation {
    pub fn new(lang: String, sections: Vec<Section>) -> Translation {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        lang.hash(&mut hasher);
        for s in &sections {
            (&s.file, s.number, &s.id, &s.title, &s.markdown).hash(&mut hasher);
            (&s.translated_from, s.explicit_id, s.body_line).hash(&mut hasher);
        }
        Translation {
            digest: hasher.finish(),
            lang,
            sections,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Section {
    pub number: u32,
    /// Stable across versions and languages; the section's anchor.
    pub id: String,
    pub title: String,
    pub file: PathBuf,
    /// Line of `file` where the markdown body starts.
    pub body_line: usize,
    pub markdown: String,
    /// Hash of the default-language source this translation was made from.
    pub translated_from: Option<String>,
    /// Whether the front matter gave the id (else it comes from the file name).
    pub explicit_id: bool,
    pub rendered: Rendered,
}

impl Section {
    pub fn is_preamble(&self) -> bool {
        self.number == 0
    }

    /// The widgets this section places: forms, the cookie table.
    pub fn directives(&self) -> impl Iterator<Item = &crate::markdown::Directive> {
        self.rendered.fragments.iter().filter_map(|f| match f {
            crate::markdown::Fragment::Directive(d) => Some(d),
            crate::markdown::Fragment::Html(_) => None,
        })
    }

    pub fn has_form(&self) -> bool {
        self.directives()
            .any(|d| matches!(d, crate::markdown::Directive::Form(_)))
    }

    /// "01", "02", … as the policy prints them.
    pub fn label(&self) -> String {
        format!("{:02}", self.number)
    }
}

/// Where a version stands on a given day. Decided by `Policy::status` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Announced, not yet in force.
    Upcoming,
    /// In force.
    Current,
    /// Replaced by a later version.
    Archived,
}

impl Status {
    /// The word templates, `versions.json` and the feed use.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Upcoming => "upcoming",
            Status::Current => "current",
            Status::Archived => "archived",
        }
    }
}

impl Policy {
    /// The status of the version at `index` on `today`.
    pub fn status(&self, index: usize, today: Date) -> Status {
        let current = self.current_index(today);
        match index.cmp(&current) {
            std::cmp::Ordering::Equal => Status::Current,
            std::cmp::Ordering::Greater => Status::Upcoming,
            std::cmp::Ordering::Less => Status::Archived,
        }
    }

    /// The version in force on `today`: the newest whose effective date has
    /// come (or the oldest one, when none has).
    pub fn current_index(&self, today: Date) -> usize {
        self.versions
            .iter()
            .rposition(|v| v.effective <= today)
            .unwrap_or(0)
    }

    /// The version shown at the policy's own address in `lang`: the one in
    /// force; or, for a language that no version in force has yet (offered
    /// from an upcoming version on), the first version that has it, which
    /// its page marks as not yet in effect. `None` when no version has `lang`.
    pub fn shown_index(&self, lang: &str, today: Date) -> Option<usize> {
        let current = self.current_index(today);
        if self.versions.get(current)?.translations.contains_key(lang) {
            return Some(current);
        }
        self.versions
            .iter()
            .position(|v| v.translations.contains_key(lang))
    }

    /// What site-wide pages read of a policy once its own pages are
    /// written: versions with their dates, flags, summaries and languages,
    /// and sections with their numbers, ids, titles and widgets, but no
    /// text (a build keeps one policy's text at a time).
    pub fn into_outline(self) -> Policy {
        let versions = self.versions.into_iter().map(Version::outlined).collect();
        Policy { versions, ..self }
    }

    /// Versions published ahead of their effective date.
    pub fn upcoming(&self, today: Date) -> &[std::sync::Arc<Version>] {
        let current = self.current_index(today);
        &self.versions[(current + 1).min(self.versions.len())..]
    }

    pub fn version(&self, date: Date) -> Option<&Version> {
        self.versions.iter().find(|v| v.date == date).map(|v| &**v)
    }

    pub fn title_in(&self, lang: &str) -> &str {
        self.title
            .get(lang)
            .map(String::as_str)
            .unwrap_or(&self.slug)
    }
}

impl Site {
    /// The date the build treats as today: given (`--date`,
    /// `SOURCE_DATE_EPOCH`), or else the newest version's date, so that builds
    /// never depend on the clock. A version whose effective date is later is
    /// published as upcoming until a build's date reaches it.
    pub fn today(&self, given: Option<Date>) -> Date {
        given.unwrap_or_else(|| {
            self.policies
                .iter()
                .flat_map(|p| p.versions.iter().map(|v| v.date))
                .max()
                .unwrap_or(Date {
                    year: 1970,
                    month: 1,
                    day: 1,
                })
        })
    }

    /// Every section of every version and language.
    pub fn sections(&self) -> impl Iterator<Item = &Section> {
        self.policies
            .iter()
            .flat_map(|p| &p.versions)
            .flat_map(|v| v.translations.values())
            .flat_map(|t| &t.sections)
    }

    pub fn policy(&self, slug: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.slug == slug)
    }
}
