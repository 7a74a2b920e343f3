//! Where every page lives. One function per kind of page, so that links and
//! output paths can never disagree.

use crate::date::Date;

#[derive(Debug, Clone)]
pub struct Urls {
    /// Path prefix of the site ("" at a domain's root, "/legal" below it).
    pub base: String,
}

impl Urls {
    pub fn root(&self) -> String {
        format!("{}/", self.base)
    }
    pub fn language(&self, lang: &str) -> String {
        format!("{}/{lang}/", self.base)
    }
    pub fn policy(&self, lang: &str, policy: &str) -> String {
        format!("{}/{lang}/{policy}/", self.base)
    }
    pub fn version(&self, lang: &str, policy: &str, date: Date) -> String {
        format!("{}/{lang}/{policy}/{date}/", self.base)
    }
    pub fn history(&self, lang: &str, policy: &str) -> String {
        format!("{}/{lang}/{policy}/history/", self.base)
    }
    pub fn feed(&self, lang: &str, policy: &str) -> String {
        format!("{}/{lang}/{policy}/feed.xml", self.base)
    }
    /// The redline of a version against its predecessor.
    pub fn changes(&self, lang: &str, policy: &str, date: Date) -> String {
        format!("{}/{lang}/{policy}/changes/{date}/", self.base)
    }
    /// The redline from an earlier version to a later one.
    pub fn changes_between(&self, lang: &str, policy: &str, from: Date, to: Date) -> String {
        format!("{}/{lang}/{policy}/changes/{from}/{to}/", self.base)
    }
    pub fn changes_base(&self, lang: &str, policy: &str) -> String {
        format!("{}/{lang}/{policy}/changes/", self.base)
    }
    pub fn versions_json(&self, policy: &str) -> String {
        format!("{}/api/{policy}/versions.json", self.base)
    }
    pub fn request(&self, lang: &str, right: &str) -> String {
        format!("{}/{lang}/requests/{right}/", self.base)
    }
    pub fn thanks(&self, lang: &str) -> String {
        format!("{}/{lang}/requests/thanks/", self.base)
    }
    /// The publication log as a page.
    pub fn publication_log(&self, lang: &str) -> String {
        format!("{}/{lang}/publication-log/", self.base)
    }
    pub fn asset(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// The file a URL is written to, relative to the output folder.
    pub fn file_of(&self, url: &str) -> String {
        let path = url
            .strip_prefix(&self.base)
            .unwrap_or(url)
            .trim_start_matches('/');
        if path.is_empty() || path.ends_with('/') {
            format!("{path}index.html")
        } else {
            path.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_folders_with_an_index_below_the_base_path() {
        let urls = Urls {
            base: "/legal".into(),
        };
        let d: Date = "2025-01-30".parse().unwrap();
        assert_eq!(
            urls.version("fr", "privacy", d),
            "/legal/fr/privacy/2025-01-30/"
        );
        assert_eq!(
            urls.file_of(&urls.version("fr", "privacy", d)),
            "fr/privacy/2025-01-30/index.html"
        );
        assert_eq!(urls.file_of(&urls.root()), "index.html");
        assert_eq!(
            urls.file_of(&urls.feed("en", "privacy")),
            "en/privacy/feed.xml"
        );
    }
}
