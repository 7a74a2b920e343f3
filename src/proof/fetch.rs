//! Reading a published site, from a folder or over HTTP(S), through one
//! interface: `verify` asks for paths below the site's root and does not
//! care where they come from. The web is read with hyper's client over
//! rustls (the stack the webhooks already use), following redirects,
//! with a time limit and a size limit per file.

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use std::path::PathBuf;
use std::time::Duration;

use crate::server::Https;

/// The most a published file may weigh (a version page, the log).
const LARGEST: usize = 64 << 20;
const TIMEOUT: Duration = Duration::from_secs(30);
const REDIRECTS: usize = 5;

pub enum Source {
    Folder(PathBuf),
    Web(Box<Web>),
}

pub struct Web {
    /// The site's root URL, ending in `/`.
    pub root: url::Url,
    client: Client<Https, Empty<Bytes>>,
    runtime: tokio::runtime::Runtime,
}

impl Source {
    /// A URL (`http://` or `https://`) or a folder.
    pub fn open(place: &str) -> Result<Source, String> {
        if place.starts_with("http://") || place.starts_with("https://") {
            let mut root =
                url::Url::parse(place).map_err(|e| format!("`{place}` is not a URL: {e}"))?;
            if !root.path().ends_with('/') {
                root.set_path(&format!("{}/", root.path()));
            }
            root.set_query(None);
            root.set_fragment(None);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            let client = crate::server::client();
            return Ok(Source::Web(Box::new(Web {
                root,
                client,
                runtime,
            })));
        }
        let dir = PathBuf::from(place);
        if dir.is_dir() {
            Ok(Source::Folder(dir))
        } else {
            Err(format!("`{place}` is neither a folder nor an http(s) URL"))
        }
    }

    /// Where a path is, for messages.
    pub fn locate(&self, path: &str) -> String {
        match self {
            Source::Folder(dir) => dir.join(path).display().to_string(),
            Source::Web(web) => web
                .root
                .join(path)
                .map_or_else(|_| path.to_string(), |u| u.to_string()),
        }
    }

    /// A file below the site's root: `Ok(None)` when it is not there
    /// (no such file, or 404/410).
    pub fn get(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        match self {
            Source::Folder(dir) => {
                let mut file = dir.join(path);
                if path.is_empty() || path.ends_with('/') {
                    file = file.join("index.html");
                }
                match std::fs::read(&file) {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(format!("cannot read {}: {e}", file.display())),
                }
            }
            Source::Web(web) => {
                let url = web.root.join(path).map_err(|e| format!("`{path}`: {e}"))?;
                web.runtime.block_on(web.get(url))
            }
        }
    }
}

impl Web {
    async fn get(&self, mut url: url::Url) -> Result<Option<Vec<u8>>, String> {
        for _ in 0..=REDIRECTS {
            let request = hyper::Request::get(url.as_str())
                .header(
                    "user-agent",
                    concat!("policy-site-verify/", env!("CARGO_PKG_VERSION")),
                )
                .body(Empty::new())
                .map_err(|e| e.to_string())?;
            let response = tokio::time::timeout(TIMEOUT, self.client.request(request))
                .await
                .map_err(|_| format!("{url}: no answer within {} s", TIMEOUT.as_secs()))?
                .map_err(|e| format!("{url}: {e}"))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(hyper::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| format!("{url}: a redirect without a location"))?;
                url = url.join(location).map_err(|e| format!("{url}: {e}"))?;
                continue;
            }
            if status == hyper::StatusCode::NOT_FOUND || status == hyper::StatusCode::GONE {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(format!("{url}: the server answered {status}"));
            }
            let body = tokio::time::timeout(
                TIMEOUT,
                Limited::new(response.into_body(), LARGEST).collect(),
            )
            .await
            .map_err(|_| format!("{url}: the download took over {} s", TIMEOUT.as_secs()))?
            .map_err(|e| format!("{url}: {e}"))?;
            return Ok(Some(body.to_bytes().to_vec()));
        }
        Err(format!("{url}: more than {REDIRECTS} redirects"))
    }
}
