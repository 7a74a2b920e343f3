//! The two HTTP servers the browser tests talk to, on 127.0.0.1: the built site
//! (with the CSP of its `_headers` file on every response) and a scriptable
//! endpoint that records every request the pages send.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    let length: usize = request
        .header("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    request.body = vec![0; length];
    reader.read_exact(&mut request.body).ok()?;
    Some(request)
}

fn respond(mut stream: &TcpStream, status: u16, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(body));
}

fn serve(listener: TcpListener, handle: impl Fn(TcpStream) + Send + Sync + 'static) {
    let handle = Arc::new(handle);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handle = handle.clone();
            thread::spawn(move || handle(stream));
        }
    });
}

/// Serves a built site's folder, as a static host would with its `_headers`.
pub struct StaticSite {
    pub origin: String,
}

impl StaticSite {
    pub fn start(root: PathBuf) -> StaticSite {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        serve(listener, move |stream| {
            let Some(request) = read_request(&stream) else {
                return;
            };
            let path = request
                .path
                .split(['?', '#'])
                .next()
                .unwrap_or("/")
                .to_string();
            let mut file = root.join(path.trim_start_matches('/'));
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
                return respond(&stream, 500, &[], b"no Content-Security-Policy in _headers");
            };
            let (status, body) = match std::fs::read(&file) {
                Ok(body) => (200, body),
                Err(_) => (
                    404,
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
            respond(&stream, status, &headers, &body);
        });
        StaticSite { origin }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }
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
    down: bool,
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
}

impl Endpoint {
    pub fn start() -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let state: Arc<(Mutex<Script>, Condvar)> = Arc::default();
        let shared = state.clone();
        serve(listener, move |stream| {
            if shared.0.lock().unwrap().down {
                return; // dropped unanswered: a network error for the page
            }
            let Some(request) = read_request(&stream) else {
                return;
            };
            let cors = |request: &Request| {
                vec![
                    (
                        "Access-Control-Allow-Origin",
                        request.header("origin").unwrap_or("*").to_string(),
                    ),
                    ("Access-Control-Allow-Methods", "POST, OPTIONS".to_string()),
                    ("Access-Control-Allow-Headers", "Content-Type".to_string()),
                    ("Vary", "Origin".to_string()),
                ]
            };
            if request.method == "OPTIONS" {
                return respond(&stream, 204, &cors(&request), b"");
            }
            let (status, delay, count) = {
                let mut script = shared.0.lock().unwrap();
                let status = script
                    .statuses
                    .get_mut(&request.path)
                    .and_then(VecDeque::pop_front)
                    .unwrap_or(201);
                script.received.push(Received {
                    path: request.path.clone(),
                    content_type: request.header("content-type").unwrap_or("").to_string(),
                    body: String::from_utf8_lossy(&request.body).into_owned(),
                    status,
                });
                shared.1.notify_all();
                (status, script.delay, script.received.len())
            };
            thread::sleep(delay);
            let mut headers = cors(&request);
            let urlencoded = request
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
            if urlencoded && status < 300 {
                let received = Received {
                    path: String::new(),
                    content_type: String::new(),
                    body: String::from_utf8_lossy(&request.body).into_owned(),
                    status,
                };
                let back = received
                    .form()
                    .into_iter()
                    .find(|(k, _)| k == "return_to")
                    .map(|(_, v)| v)
                    .unwrap_or_default();
                let origin = request.header("origin").unwrap_or("").to_string();
                headers.push(("Location", format!("{origin}{back}")));
                return respond(&stream, 303, &headers, b"");
            }
            headers.push(("Content-Type", "application/json".to_string()));
            let body = if status < 300 {
                format!("{{\"reference\":\"REF-{count}\"}}")
            } else {
                "{\"error\":\"scripted failure\"}".to_string()
            };
            respond(&stream, status, &headers, body.as_bytes());
        });
        Endpoint { origin, state }
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
        self.state.0.lock().unwrap().down = down;
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
