//! What one consent state showed: the cookies the browser held, the storage
//! keys the pages wrote and the requests they made to other origins, each
//! with the page it first appeared on. Plain data, compared and reported.

use super::State;

/// A cookie the browser held, wherever it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenCookie {
    pub name: String,
    pub domain: String,
    pub path: String,
    /// Seconds since the epoch; `None` for a session cookie.
    pub expires: Option<f64>,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<String>,
    pub third_party: bool,
    /// `response <url>` (its Set-Cookie header) or `script on <page>`.
    pub set_by: String,
    /// The page after whose visit it was first there.
    pub page: String,
}

/// Where a page keeps a storage key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Area {
    Local,
    Session,
    IndexedDb,
}

impl Area {
    pub fn label(self) -> &'static str {
        match self {
            Area::Local => "localStorage",
            Area::Session => "sessionStorage",
            Area::IndexedDb => "IndexedDB",
        }
    }

    /// What one of its names is, in a finding.
    pub fn item(self) -> &'static str {
        match self {
            Area::Local => "localStorage key",
            Area::Session => "sessionStorage key",
            Area::IndexedDb => "IndexedDB database",
        }
    }
}

/// A key of localStorage or sessionStorage, or an IndexedDB database's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenStorage {
    pub area: Area,
    pub key: String,
    pub page: String,
}

/// A request to an origin other than the site's (and its own endpoints').
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// `host[:port]`.
    pub host: String,
    pub url: String,
    /// Chromium's resource type: Script, Image, Fetch, Stylesheet…
    pub kind: String,
    /// What made it: the parser of a page, a script (its URL), …
    pub initiator: String,
    pub page: String,
}

/// Everything one consent state showed.
#[derive(Debug, Clone)]
pub struct Record {
    pub state: State,
    pub cookies: Vec<SeenCookie>,
    pub storage: Vec<SeenStorage>,
    pub requests: Vec<SeenRequest>,
}
