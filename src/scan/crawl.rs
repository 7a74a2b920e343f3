//! Which pages a scan visits: the start page, then sitemap.xml's pages,
//! then links found on visited pages, same-origin only, each once, up to
//! `--max-pages`. Sitemap addresses are written with the site's `base_url`;
//! a build served on loopback (or a deployment elsewhere) is found by
//! putting where it is served in `base_url`'s place.

use std::collections::{BTreeSet, VecDeque};

/// The pages still to visit and those already queued.
pub struct Crawl {
    origin: String,
    base_url: String,
    served_base: String,
    queue: VecDeque<String>,
    queued: BTreeSet<String>,
    max: usize,
}

impl Crawl {
    /// `origin` is the scanned site's; `base_url` the configured one, whose
    /// pages are under `served_base` there.
    pub fn new(origin: &str, base_url: &str, served_base: &str, start: &str, max: usize) -> Crawl {
        let mut crawl = Crawl {
            origin: origin.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
            served_base: served_base.trim_end_matches('/').to_string(),
            queue: VecDeque::new(),
            queued: BTreeSet::new(),
            max,
        };
        crawl.add(start);
        crawl
    }

    /// Queues a page when it is on the site, not queued yet, and the
    /// count allows; addresses under `base_url` are moved to `served_base`.
    pub fn add(&mut self, url: &str) {
        if self.queued.len() >= self.max {
            return;
        }
        let under_base = url
            .strip_prefix(&self.base_url)
            .filter(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']));
        let rebased = match under_base {
            Some(rest) if !self.base_url.is_empty() => format!("{}{rest}", self.served_base),
            _ => url.to_string(),
        };
        let Some(page) = page_of(&rebased, &self.origin) else {
            return;
        };
        if self.queued.insert(page.clone()) {
            self.queue.push_back(page);
        }
    }

    pub fn next(&mut self) -> Option<String> {
        self.queue.pop_front()
    }
}

/// The page an address names on `origin` (no fragment), or `None` when it
/// is another origin's, or a file that is not a page.
fn page_of(url: &str, origin: &str) -> Option<String> {
    let mut parsed = url::Url::parse(url).ok()?;
    if parsed.origin().ascii_serialization() != origin {
        return None;
    }
    parsed.set_fragment(None);
    let path = parsed.path();
    let last = path.rsplit('/').next().unwrap_or("");
    let is_page = !last.contains('.') || last.ends_with(".html");
    is_page.then(|| parsed.to_string())
}

/// The `<loc>` addresses of a sitemap (or a sitemap index's sitemaps).
pub fn sitemap_locations(xml: &str) -> Vec<String> {
    xml.split("<loc>")
        .skip(1)
        .filter_map(|rest| rest.split("</loc>").next())
        .map(|loc| {
            loc.trim()
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{sitemap_locations, Crawl};

    #[test]
    fn sitemap_pages_under_the_base_url_are_visited_on_the_served_origin_once() {
        let origin = "http://127.0.0.1:4000";
        let mut crawl = Crawl::new(
            origin,
            "https://legal.example.com/",
            origin,
            &format!("{origin}/"),
            4,
        );
        let xml = "<urlset><url><loc>https://legal.example.com/en/</loc></url><url><loc>https://legal.example.com/en/privacy/?a=1&amp;b=2</loc></url></urlset>";
        for loc in sitemap_locations(xml) {
            crawl.add(&loc);
        }
        crawl.add(&format!("{origin}/en/#main"));
        crawl.add("https://elsewhere.example/");
        crawl.add(&format!("{origin}/site.css"));
        crawl.add(&format!("{origin}/fr/"));
        crawl.add(&format!("{origin}/de/"));
        let visited: Vec<String> = std::iter::from_fn(|| crawl.next()).collect();
        assert_eq!(
            visited,
            [
                format!("{origin}/"),
                format!("{origin}/en/"),
                format!("{origin}/en/privacy/?a=1&b=2"),
                format!("{origin}/fr/"),
            ]
        );
    }

    #[test]
    fn a_base_url_with_a_path_is_found_under_that_path_on_the_served_origin() {
        let origin = "http://127.0.0.1:4000";
        let mut crawl = Crawl::new(
            origin,
            "https://example.com/legal/",
            &format!("{origin}/legal"),
            &format!("{origin}/legal/"),
            4,
        );
        crawl.add("https://example.com/legal/en/");
        crawl.add("https://example.com/legalese/");
        let visited: Vec<String> = std::iter::from_fn(|| crawl.next()).collect();
        assert_eq!(
            visited,
            [format!("{origin}/legal/"), format!("{origin}/legal/en/")]
        );
    }
}
