//! The two HTTP servers the browser tests talk to, on 127.0.0.1: the built site
//! (with the CSP of its `_headers` file on every response) and a scriptable
//! endpoint that records every request the pages send. Both are axum routers
//! on hyper, as `receive` and `serve` are; each answers one request per
//! connection, so an endpoint set "down" refuses the very next one.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Serves `app` on a free port of 127.0.0.1 from a thread of its own;
/// while `down` is set, connections are closed unanswered (a network error
/// for the page). Returns the origin.
pub fn serve(app: Router, down: Arc<AtomicBool>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                if down.load(Ordering::SeqCst) {
                    continue; // dropped unanswered
                }
                let service = TowerToHyperService::new(app.clone());
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(false)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    origin
}

/// Serves a built site's folder, as a static host would with its `_headers`.
pub struct StaticSite {
    pub origin: String,
}

impl StaticSite {
    pub fn start(root: PathBuf) -> StaticSite {
        let app = Router::new()
            .fallback(static_file)
            .with_state(Arc::new(root));
        StaticSite {
            origin: serve(app, Arc::default()),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }
}

async fn static_file(State(root): State<Arc<PathBuf>>, uri: Uri) -> Response {
    let mut file = root.join(uri.path().trim_start_matches('/'));
    if file.is_dir() {
        file = file.join("index.html");
    }
    let csp = std::fs::read_to_string(root.join("_headers"))
        .ok()
        .and_then(|h| {
            h.lines().find_map(|l| {
                l.trim()
                    .strip_prefix("Content-Security-Policy:")
                    .map(|v| v.trim().to_string())
            })
        });
    let Some(csp) = csp else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "no Content-Security-Policy in _headers",
        )
            .into_response();
    };
    let (status, body) = match std::fs::read(&file) {
        Ok(body) => (StatusCode::OK, body),
        Err(_) => (
            StatusCode::NOT_FOUND,
            std::fs::read(root.join("404.html")).unwrap_or_default(),
        ),
    };
    let kind = match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/atom+xml",
        _ => "application/octet-stream",
    };
    let headers = [
        ("Content-Type", kind.to_string()),
        ("Content-Security-Policy", csp),
        ("Cache-Control", "no-store".to_string()),
    ];
    (status, headers, body).into_response()
}

/// One POST the endpoint received, with the status it answered.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub content_type: String,
    pub body: String,
    pub status: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn form(&self) -> Vec<(String, String)> {
        self.body
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect()
    }
}

fn decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) =
                u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or(""), 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Default)]
struct Script {
    received: Vec<Received>,
    statuses: HashMap<String, VecDeque<u16>>,
    delay: Duration,
}

impl Script {
    fn on_path(&self, path: &str) -> Vec<Received> {
        self.received
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

/// A requests/consent endpoint: answers CORS preflights, records every POST,
/// answers 201 with a reference unless told otherwise, and can be "down"
/// (closes every connection unanswered).
#[derive(Clone)]
pub struct Endpoint {
    pub origin: String,
    state: Arc<(Mutex<Script>, Condvar)>,
    down: Arc<AtomicBool>,
}

impl Endpoint {
    pub fn start() -> Endpoint {
        let state: Arc<(Mutex<Script>, Condvar)> = Arc::default();
        let down = Arc::new(AtomicBool::new(false));
        let app = Router::new().fallback(answer).with_state(state.clone());
        Endpoint {
            origin: serve(app, down.clone()),
            state,
            down,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// The statuses the next POSTs on `path` get, in order (then 201 again).
    pub fn answer_next(&self, path: &str, statuses: &[u16]) {
        self.state
            .0
            .lock()
            .unwrap()
            .statuses
            .entry(path.to_string())
            .or_default()
            .extend(statuses);
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn set_delay(&self, delay: Duration) {
        self.state.0.lock().unwrap().delay = delay;
    }

    /// The POSTs received so far on `path`.
    pub fn received(&self, path: &str) -> Vec<Received> {
        self.state.0.lock().unwrap().on_path(path)
    }

    /// Waits (at most 10 s) until `count` POSTs have arrived on `path`.
    pub fn wait_for(&self, path: &str, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut script = self.state.0.lock().unwrap();
        while script.on_path(path).len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "endpoint: expected {count} POSTs on {path} within 10 s, got {:?}",
                script.received
            );
            script = self.state.1.wait_timeout(script, left).unwrap().0;
        }
        script.on_path(path)
    }
}

async fn answer(
    State(shared): State<Arc<(Mutex<Script>, Condvar)>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let origin = header("origin");
    let mut reply = vec![
        (
            "Access-Control-Allow-Origin",
            if origin.is_empty() {
                "*".to_string()
            } else {
                origin.clone()
            },
        ),
        ("Access-Control-Allow-Methods", "POST, OPTIONS".to_string()),
        ("Access-Control-Allow-Headers", "Content-Type".to_string()),
        ("Vary", "Origin".to_string()),
    ];
    if method == Method::OPTIONS {
        return (StatusCode::NO_CONTENT, headers_of(reply)).into_response();
    }
    let path = uri.path().to_string();
    let posted = String::from_utf8_lossy(&body).into_owned();
    let (status, delay, count) = {
        let mut script = shared.0.lock().unwrap();
        let status = script
            .statuses
            .get_mut(&path)
            .and_then(VecDeque::pop_front)
            .unwrap_or(201);
        script.received.push(Received {
            path,
            content_type: header("content-type"),
            body: posted.clone(),
            status,
        });
        shared.1.notify_all();
        (status, script.delay, script.received.len())
    };
    tokio::time::sleep(delay).await;
    let status_code = StatusCode::from_u16(status).unwrap();
    let urlencoded = header("content-type").starts_with("application/x-www-form-urlencoded");
    if urlencoded && status < 300 {
        let received = Received {
            path: String::new(),
            content_type: String::new(),
            body: posted,
            status,
        };
        let back = received
            .form()
            .into_iter()
            .find(|(k, _)| k == "return_to")
            .map(|(_, v)| v)
            .unwrap_or_default();
        reply.push(("Location", format!("{origin}{back}")));
        return (StatusCode::SEE_OTHER, headers_of(reply)).into_response();
    }
    reply.push(("Content-Type", "application/json".to_string()));
    let body = if status < 300 {
        format!("{{\"reference\":\"REF-{count}\"}}")
    } else {
        "{\"error\":\"scripted failure\"}".to_string()
    };
    (status_code, headers_of(reply), body).into_response()
}

fn headers_of(pairs: Vec<(&'static str, String)>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(name, value.parse().unwrap());
    }
    map
}
