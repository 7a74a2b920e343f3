//! A small blocking W3C WebDriver client over std::net, driving Debian's
//! chromedriver and headless Chromium: one chromedriver and one fresh profile
//! per browser, so tests running in parallel share nothing.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
pub const WAIT: Duration = Duration::from_secs(10);

pub const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";
pub const ESCAPE: &str = "\u{E00C}";
pub const SPACE: &str = " ";
pub const ARROW_DOWN: &str = "\u{E015}";

/// Collects CSP violations from the first script that runs on each page.
const CSP_WATCH: &str = "window.__cspViolations = []; document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));";

pub fn require_tools() {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: run `bash tests/setup.sh` first"
        );
    }
}

#[derive(Default, Clone, Copy)]
pub struct Options {
    pub javascript_off: bool,
    pub gpc: bool,
}

pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP exchange with chromedriver; returns the status and the JSON body.
fn exchange(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    // Read by Content-Length: chromedriver keeps the connection open regardless.
    let mut raw = Vec::new();
    let mut buffer = [0u8; 65536];
    let (split, head) = loop {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        raw.extend_from_slice(&buffer[..n]);
        if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break (
                split,
                String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase(),
            );
        }
    };
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    match length {
        Some(length) => {
            while raw.len() < split + 4 + length {
                let n = stream.read(&mut buffer)?;
                if n == 0 {
                    break;
                }
                raw.extend_from_slice(&buffer[..n]);
            }
        }
        None => {
            stream.read_to_end(&mut raw)?;
        }
    }
    let mut payload = raw[split + 4..].to_vec();
    if head
        .lines()
        .any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"))
    {
        payload = dechunk(&payload);
    }
    Ok((
        status,
        serde_json::from_slice(&payload).unwrap_or(Value::Null),
    ))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
    out
}

impl Browser {
    pub fn start(options: Options) -> Browser {
        require_tools();
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver (run `bash tests/setup.sh`)");
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            _profile: profile,
        };
        let deadline = Instant::now() + WAIT;
        while !matches!(exchange(port, "GET", "/status", None), Ok((200, ref v)) if v["value"]["ready"] == true)
        {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut chrome = json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--disable-quic", "--window-size=1280,900",
                     format!("--user-data-dir={}", browser._profile.path().display())],
        });
        // Downloads go to the profile's own folder, without asking (see `downloads`).
        chrome["prefs"] = json!({
            "download.default_directory": browser._profile.path().join("downloads"),
            "download.prompt_for_download": false,
        });
        if options.javascript_off {
            chrome["prefs"]["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": chrome, "goog:loggingPrefs": { "performance": "ALL", "browser": "ALL" } } } });
        let session = browser.command("POST", "/session", Some(caps));
        browser.session = session["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        browser.session_command(
            "POST",
            "/timeouts",
            json!({ "script": 30000, "pageLoad": 20000 }),
        );
        if !options.javascript_off {
            let mut source = CSP_WATCH.to_string();
            if options.gpc {
                source.push_str("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });");
            }
            browser.session_command("POST", "/goog/cdp/execute", json!({ "cmd": "Page.addScriptToEvaluateOnNewDocument", "params": { "source": source } }));
        }
        browser
    }

    fn try_command(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let (status, value) = exchange(self.port, method, path, body.as_ref())
            .map_err(|e| format!("{method} {path}: {e}"))?;
        if status >= 400 {
            return Err(format!(
                "{method} {path}: {status} {}",
                value["value"]["message"].as_str().unwrap_or("")
            ));
        }
        Ok(value["value"].clone())
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_command(method, path, body)
            .unwrap_or_else(|e| panic!("webdriver: {e}"))
    }

    fn session_command(&self, method: &str, path: &str, body: Value) -> Value {
        let body = if method == "GET" || method == "DELETE" {
            None
        } else {
            Some(body)
        };
        self.command(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn goto(&self, url: &str) {
        self.session_command("POST", "/url", json!({ "url": url }));
    }

    pub fn reload(&self) {
        self.session_command("POST", "/refresh", json!({}));
    }

    pub fn url(&self) -> String {
        self.session_command("GET", "/url", Value::Null)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    /// Where the browser saves downloads.
    pub fn downloads(&self) -> std::path::PathBuf {
        self._profile.path().join("downloads")
    }

    /// The files downloaded so far (finished ones), waiting up to `WAIT` for `count`.
    pub fn wait_for_downloads(&self, count: usize) -> Vec<std::path::PathBuf> {
        let deadline = Instant::now() + WAIT;
        loop {
            let mut done: Vec<std::path::PathBuf> = std::fs::read_dir(self.downloads())
                .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            done.retain(|p| p.extension().is_none_or(|e| e != "crdownload"));
            if done.len() >= count {
                return done;
            }
            assert!(
                Instant::now() < deadline,
                "{count} download(s) did not arrive within {WAIT:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn js(&self, script: &str, args: Value) -> Value {
        self.session_command(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": args }),
        )
    }

    pub fn js_async(&self, script: &str) -> Value {
        self.session_command(
            "POST",
            "/execute/async",
            json!({ "script": script, "args": [] }),
        )
    }

    /// Polls `condition` (an expression) until it is truthy, for at most 10 s.
    pub fn wait_for(&self, condition: &str) {
        let deadline = Instant::now() + WAIT;
        let script = format!("try {{ return !!({condition}); }} catch (e) {{ return false; }}");
        while self.try_command(
            "POST",
            &format!("/session/{}/execute/sync", self.session),
            Some(json!({ "script": script, "args": [] })),
        ) != Ok(Value::Bool(true))
        {
            assert!(
                Instant::now() < deadline,
                "not true within 10 s: {condition}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn find(&self, css: &str) -> String {
        let found = self.session_command(
            "POST",
            "/element",
            json!({ "using": "css selector", "value": css }),
        );
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_string()
    }

    pub fn find_all(&self, css: &str) -> Vec<String> {
        let found = self.session_command(
            "POST",
            "/elements",
            json!({ "using": "css selector", "value": css }),
        );
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e[ELEMENT].as_str().unwrap().to_string())
            .collect()
    }

    /// Clicks, waiting (at most 10 s) while something else is still in the way,
    /// such as an element sliding into place.
    pub fn click(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.try_click(css) {
                Ok(_) => return,
                Err(e) if e.contains("intercepted") && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => panic!("webdriver: {e}"),
            }
        }
    }

    /// Clicks, reporting rather than failing when the element refuses it.
    pub fn try_click(&self, css: &str) -> Result<Value, String> {
        let id = self.find(css);
        // The site scrolls smoothly, which chromedriver's own scrolling does not wait for.
        let _ = self.try_command(
            "POST",
            &format!("/session/{}/execute/sync", self.session),
            Some(json!({ "script": "arguments[0].scrollIntoView({ block: 'center', behavior: 'instant' });", "args": [{ ELEMENT: id }] })),
        );
        self.try_command(
            "POST",
            &format!("/session/{}/element/{id}/click", self.session),
            Some(json!({})),
        )
    }

    pub fn type_into(&self, id: &str, text: &str) {
        self.session_command(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        );
    }

    pub fn property(&self, id: &str, name: &str) -> Value {
        self.session_command(
            "GET",
            &format!("/element/{id}/property/{name}"),
            Value::Null,
        )
    }

    /// Presses each key in turn on whatever has focus, as a keyboard would.
    pub fn press(&self, keys: &[&str]) {
        let actions: Vec<Value> = keys
            .iter()
            .flat_map(|k| {
                [
                    json!({ "type": "keyDown", "value": k }),
                    json!({ "type": "keyUp", "value": k }),
                ]
            })
            .collect();
        self.session_command(
            "POST",
            "/actions",
            json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] }),
        );
    }

    pub fn type_keys(&self, text: &str) {
        let keys: Vec<String> = text.chars().map(String::from).collect();
        self.press(&keys.iter().map(String::as_str).collect::<Vec<_>>());
    }

    /// Presses Tab until the focused element matches `css` (at most `limit` times).
    pub fn tab_to(&self, css: &str, limit: usize) {
        for _ in 0..limit {
            self.press(&[TAB]);
            if self.js(
                "return document.activeElement.matches(arguments[0]);",
                json!([css]),
            ) == Value::Bool(true)
            {
                return;
            }
        }
        panic!("Tab never reached {css} in {limit} presses");
    }

    pub fn active_matches(&self, css: &str) -> bool {
        self.js(
            "return document.activeElement.matches(arguments[0]);",
            json!([css]),
        ) == Value::Bool(true)
    }

    /// Asserts the page obeys the site's CSP: no violation reported, no inline style or script.
    pub fn assert_csp_clean(&self) {
        let found = self.js(
            "return { violations: window.__cspViolations || ['watcher missing'], styled: document.querySelectorAll('[style]').length, inline: Array.from(document.scripts).filter((s) => !s.src && s.type !== 'text/plain').length };",
            json!([]),
        );
        assert_eq!(
            found,
            json!({ "violations": [], "styled": 0, "inline": 0 }),
            "CSP problems on {}",
            self.url()
        );
    }

    /// Emulates a screen of `width`×`height` CSS pixels, a phone's (touch,
    /// mobile viewport) when `mobile`; it lasts for the session.
    pub fn set_viewport(&self, width: u32, height: u32, mobile: bool) {
        let params =
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile });
        self.session_command(
            "POST",
            "/goog/cdp/execute",
            json!({ "cmd": "Emulation.setDeviceMetricsOverride", "params": params }),
        );
    }

    /// Emulates a CSS media type ("print", or "" for the screen again).
    pub fn emulate_media(&self, media: &str) {
        self.session_command(
            "POST",
            "/goog/cdp/execute",
            json!({ "cmd": "Emulation.setEmulatedMedia", "params": { "media": media } }),
        );
    }

    /// The current page printed to PDF by WebDriver's print command (A4).
    pub fn print_pdf(&self) -> Vec<u8> {
        use base64::Engine;
        let page = json!({ "page": { "width": 21.0, "height": 29.7 }, "background": false });
        let encoded = self.session_command("POST", "/print", page);
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("print returns base64"))
            .expect("valid base64")
    }

    /// A PNG of what the viewport shows.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let encoded = self.session_command("GET", "/screenshot", Value::Null);
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("screenshot returns base64"))
            .expect("valid base64")
    }

    /// Every HTTP response the browser received since the last call: (status, URL).
    pub fn responses(&self) -> Vec<(u64, String)> {
        let entries = self.session_command("POST", "/se/log", json!({ "type": "performance" }));
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| serde_json::from_str::<Value>(e["message"].as_str()?).ok())
            .filter(|m| m["message"]["method"] == "Network.responseReceived")
            .map(|m| {
                let response = &m["message"]["params"]["response"];
                let url = response["url"].as_str().unwrap_or("").to_string();
                (response["status"].as_u64().unwrap_or(0), url)
            })
            .collect()
    }

    /// What the page wrote to the console since the last call, warnings and
    /// errors only: "LEVEL message".
    pub fn console_problems(&self) -> Vec<String> {
        let entries = self.session_command("POST", "/se/log", json!({ "type": "browser" }));
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| matches!(e["level"].as_str(), Some("WARNING" | "SEVERE")))
            .map(|e| {
                format!(
                    "{} {}",
                    e["level"].as_str().unwrap_or(""),
                    e["message"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    /// axe-core's violations on the current page, one line each.
    pub fn axe_violations(&self) -> Vec<String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/browser/node_modules/axe-core/axe.min.js");
        let axe = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "{} is missing: run `bash tests/setup.sh` first",
                path.display()
            )
        });
        self.js(&format!("{axe}\nreturn true;"), json!([]));
        let found = self.js_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document).then((r) => done(r.violations.map((v) => v.id + ': ' + v.help + ' — ' + v.nodes.map((n) => n.target.join(' ')).join(', '))), (e) => done(['axe failed: ' + e]));",
        );
        serde_json::from_value(found).unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = exchange(
                self.port,
                "DELETE",
                &format!("/session/{}", self.session),
                None,
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
