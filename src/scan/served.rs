//! The site the scan visits: the last build's folder, served read-only on a
//! free loopback port by the crate's HTTP stack (`server`), or a deployed
//! site's address as given. Files are served as built: the pages carry
//! their Content-Security-Policy in a `<meta>` tag, as on any host.

use crate::error::{Diagnostic, Diagnostics};
use crate::server::{self, Limits};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use tokio::sync::oneshot;

/// A site to scan; dropping or `stop` ends its server, if it has one.
pub struct Site {
    /// `scheme://host[:port]` of the start page.
    pub origin: String,
    /// The start page.
    pub start: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Site {
    /// A deployed site: the address must be http or https.
    pub fn remote(url: &str) -> Result<Site, Diagnostics> {
        let parsed = url::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                Diagnostic::flag("URL", format!("`{url}` is not an http or https address"))
                    .with_hint("give the deployed site's address, e.g. https://legal.example.com/, or --built for the last build")
            })?;
        Ok(Site {
            origin: parsed.origin().ascii_serialization(),
            start: parsed.to_string(),
            stop: None,
        })
    }

    /// The build in `dir`, served on 127.0.0.1 from this runtime under
    /// `base_path` (`base_url`'s path, "" at a domain's root), where its
    /// links point.
    pub fn built(dir: &Path, base_path: &str) -> Result<Site, Diagnostics> {
        if !dir.join("index.html").is_file() {
            return Err(
                Diagnostic::new(dir, "there is no build here to scan (no index.html)")
                    .with_hint("run `policy-site build` first, or give a deployed site's URL")
                    .into(),
            );
        }
        let listener = server::bind(IpAddr::V4(Ipv4Addr::LOCALHOST), 0, false).map_err(|e| {
            Diagnostic::command(
                "policy-site scan",
                format!("cannot listen on 127.0.0.1: {e}"),
            )
        })?;
        let address = listener.local_addr().map_err(|e| {
            Diagnostic::command("policy-site scan", format!("no local address: {e}"))
        })?;
        let app = Router::new().fallback(file).with_state(Arc::new(Folder {
            root: dir.to_path_buf(),
            base_path: base_path.to_string(),
        }));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server::serve(listener, app, Limits::default(), async {
            let _ = stopped.await;
        }));
        let origin = format!("http://{address}");
        Ok(Site {
            start: format!("{origin}{base_path}/"),
            origin,
            stop: Some(stop),
        })
    }

    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The served folder and the path it is served under.
struct Folder {
    root: PathBuf,
    base_path: String,
}

/// A file of the build, `index.html` for a folder, the build's 404 page
/// for anything else.
async fn file(State(folder): State<Arc<Folder>>, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, "only GET is served here").into_response();
    }
    let root = &folder.root;
    let found = uri
        .path()
        .strip_prefix(folder.base_path.as_str())
        .and_then(|rest| inside(root, rest));
    let Some(mut path) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if path.is_dir() {
        path = path.join("index.html");
    }
    let (status, path) = if path.is_file() {
        (StatusCode::OK, path)
    } else {
        (StatusCode::NOT_FOUND, root.join("404.html"))
    };
    let name = path.to_string_lossy().into_owned();
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            status,
            [
                (CONTENT_TYPE, server::content_type(&name)),
                (CACHE_CONTROL, "no-store"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The file a URL path names, never outside the root.
fn inside(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decoded(url_path.trim_start_matches('/'))?;
    let relative = Path::new(&decoded);
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| root.join(relative))
}

fn percent_decoded(text: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("p={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::inside;
    use std::path::Path;

    #[test]
    fn a_url_path_never_leaves_the_build_folder() {
        let root = Path::new("/site");
        assert_eq!(inside(root, "/en/privacy/"), Some(root.join("en/privacy/")));
        assert_eq!(inside(root, "/"), Some(root.join("")));
        assert_eq!(inside(root, "/../etc/passwd"), None);
        assert_eq!(inside(root, "/en/%2E%2E/%2E%2E/x"), None);
    }
}
