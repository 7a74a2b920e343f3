//! `serve` on HTTP (axum): the last good site from memory, the live-reload
//! script and its event stream, and the receiver's endpoints (printing,
//! not storing). CORS only for the server's own origin, so no other page
//! open in the author's browser can read the drafts.

use super::{inject, State, PREFIX};
use crate::receive::routes;
use crate::server::content_type;
use axum::body::Body;
use axum::extract::State as Shared;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tower_http::cors::{AllowOrigin, CorsLayer};

const LIVE_JS: &[u8] = include_bytes!("live.js");
const LIVE_CSS: &[u8] = include_bytes!("live.css");
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub(super) fn router(state: Arc<State>, origin: &str) -> Router {
    let own_origin = HeaderValue::from_str(origin).expect("an origin is a valid header");
    let site = Router::new()
        .route(&format!("{PREFIX}/events"), get(events))
        .route(
            &format!("{PREFIX}/live.js"),
            get(|| async { ([(CONTENT_TYPE, "text/javascript; charset=utf-8")], LIVE_JS) }),
        )
        .route(
            &format!("{PREFIX}/live.css"),
            get(|| async { ([(CONTENT_TYPE, "text/css; charset=utf-8")], LIVE_CSS) }),
        )
        .fallback(site_file)
        .with_state(state.clone())
        .layer(CorsLayer::new().allow_origin(AllowOrigin::list([own_origin])));
    site.merge(routes::router(state.receiver.clone(), PREFIX))
}

/// A file of the last good build, `index.html` for a folder.
async fn site_file(Shared(state): Shared<Arc<State>>, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, "only GET is served here").into_response();
    }
    let files = state.files.read().expect("not poisoned").clone();
    let mut key = uri.path().trim_start_matches('/').to_string();
    if key.is_empty() || key.ends_with('/') {
        key.push_str("index.html");
    }
    let found = files.get(&key).map(|b| (key.clone(), b)).or_else(|| {
        let index = format!("{key}/index.html");
        files.get(&index).map(|b| (index, b))
    });
    match found {
        Some((file, bytes)) => (
            [
                (CONTENT_TYPE, content_type(&file)),
                (CACHE_CONTROL, "no-store"),
            ],
            served(&file, bytes),
        )
            .into_response(),
        None => not_found(&state),
    }
}

/// A file as served: pages get the live-reload script; fragments (the
/// banner's markup, which `banner.js` checks against its integrity hash)
/// and other files are served as they are.
fn served(file: &str, bytes: &[u8]) -> Vec<u8> {
    let start = &bytes[..bytes.len().min(512)];
    let is_page = [&b"<!doctype"[..], b"<html"].iter().any(|tag| {
        start
            .windows(tag.len())
            .any(|w| w.eq_ignore_ascii_case(tag))
    });
    if file.ends_with(".html") && is_page {
        inject(bytes)
    } else {
        bytes.to_vec()
    }
}

fn not_found(state: &State) -> Response {
    let files = state.files.read().expect("not poisoned").clone();
    let body = files
        .get("404.html")
        .map(|b| served("404.html", b))
        .unwrap_or_else(|| {
            // No good build yet: a page that shows the errors and reloads when fixed.
            inject(b"<!doctype html><title>policy-site</title><body></body>")
        });
    (
        StatusCode::NOT_FOUND,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// A server-sent event stream: `hello` at once (and the standing error, if
/// the site is broken), then `reload` and `error` as builds finish.
async fn events(Shared(state): Shared<Arc<State>>) -> Response {
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let builds = *state.builds.lock().expect("not poisoned");
    let _ = tx.send(format!("event: hello\ndata: {{\"build\":{builds}}}\n\n"));
    if let Some(error) = state.error.lock().expect("not poisoned").clone() {
        let _ = tx.send(error);
    }
    state.tabs.lock().expect("not poisoned").push(tx);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let chunk = match tokio::time::timeout(KEEP_ALIVE, rx.recv()).await {
            Ok(Some(message)) => message,
            Ok(None) => return None,
            Err(_) => ": keep-alive\n\n".to_string(),
        };
        Some((Ok::<_, Infallible>(chunk), rx))
    });
    (
        [
            (CONTENT_TYPE, "text/event-stream"),
            (CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::served;

    #[test]
    fn pages_get_the_live_reload_script_and_fragments_stay_as_built() {
        let page = served(
            "en/index.html",
            b"<!DOCTYPE html>\n<html><body><p>x</p></body></html>",
        );
        assert!(String::from_utf8(page)
            .unwrap()
            .contains("live.js\" defer></script></body>"));
        let fragment = b"<div id=\"ps-consent\" hidden><p>Cookies</p></div>";
        assert_eq!(
            served("consent/banner.en.0a1b2c3d4e.html", fragment),
            fragment
        );
        assert_eq!(served("site.css", b"<html>"), b"<html>");
    }
}
