//! Drives headless Chromium over the DevTools protocol (CDP, with the
//! `chromiumoxide` client) through each consent state, each in a browser
//! context of its own. CDP and not plain WebDriver (as `fantoccini` speaks
//! it): WebDriver shows only the current page's own, script-readable
//! cookies and no network traffic, while CDP gives every cookie the context
//! holds, third-party and `HttpOnly` ones included (`Storage.getCookies`),
//! every request with its initiator (`Network.requestWillBeSent`) and the
//! raw `Set-Cookie` headers that tell which response set a cookie
//! (`Network.responseReceivedExtraInfo`).

use super::crawl::{self, Crawl};
use super::network::Network;
use super::{Area, Options, Record, SeenCookie, SeenStorage, State};
use crate::consent::ConsentConfig;
use crate::error::{Diagnostic, Diagnostics};
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::network::{Headers, SetExtraHttpHeadersParams};
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat,
};
use chromiumoxide::cdp::browser_protocol::storage::GetCookiesParams;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::{Page, ScreenshotParams};
use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The site's addresses, as the recording needs them.
pub struct Targets {
    /// The scanned origin: requests elsewhere are third-party.
    pub origin: String,
    pub start: String,
    /// Origins that are the site's own too (its endpoints, its `base_url`).
    pub own: Vec<String>,
    pub base_url: String,
    /// Where `base_url`'s pages are found on the scanned origin.
    pub served_base: String,
}

/// What the browser showed over all states.
pub struct Run {
    pub pages: Vec<String>,
    pub records: Vec<Record>,
    pub first_view: Vec<u8>,
    pub cut_short: Option<String>,
}

/// Chromium's executable: `--browser`, else `CHROME`, else the first of
/// the usual names on PATH.
pub fn find(flag: Option<&Path>) -> Result<PathBuf, Diagnostics> {
    if let Some(path) = flag {
        return found(
            path,
            Diagnostic::flag(
                "--browser",
                format!("{} is not an executable file", path.display()),
            ),
        );
    }
    if let Some(path) = std::env::var_os("CHROME").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        return found(
            &path,
            Diagnostic::env(
                "CHROME",
                format!("{} is not an executable file", path.display()),
            ),
        );
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            Diagnostic::command("policy-site scan", "Chromium is missing: no `chromium` (nor chromium-browser, google-chrome) on PATH")
                .with_hint("install it (Debian: `apt-get install chromium`), or name it with --browser PATH or CHROME=PATH")
                .into()
        })
}

fn found(path: &Path, otherwise: Diagnostic) -> Result<PathBuf, Diagnostics> {
    if path.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(otherwise.into())
    }
}

fn failed(what: &str, error: impl std::fmt::Display) -> Diagnostics {
    Diagnostic::command("policy-site scan", format!("{what}: {error}")).into()
}

/// Defines `navigator.globalPrivacyControl` before any page script runs.
const GPC: &str = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });";

/// True once the banner's markup is in the page (or the page has none).
const BANNER_READY: &str =
    "!document.querySelector('link[data-ps-banner]') || !!document.getElementById('ps-consent')";

/// Clicks a banner button, or for one category: settings, that switch, save.
const CLICK: &str = r#"((action, category) => {
  const q = (css) => document.querySelector(css);
  if (action === 'only') {
    const open = q('#ps-consent [data-ps-action=customize]');
    const input = q(`[data-ps-category="${category}"]`);
    const save = q('#ps-consent-settings [data-ps-action=save]');
    if (!open || !input || !save) return false;
    open.click();
    input.checked = true;
    save.click();
    return true;
  }
  const button = q(`#ps-consent [data-ps-action=${action}]`);
  if (!button) return false;
  button.click();
  return true;
})"#;

/// The page's storage keys and IndexedDB databases.
const STORAGE: &str = r#"(async () => {
  const keys = (area) => { try { return Object.keys(area); } catch (e) { return []; } };
  let databases = [];
  try { databases = (await indexedDB.databases()).map((d) => d.name); } catch (e) {}
  return { local: keys(localStorage), session: keys(sessionStorage), indexed: databases };
})()"#;

const LINKS: &str = "Array.from(document.querySelectorAll('a[href]'), (a) => a.href)";

/// Scripts that set cookies or call out after the load get this long.
const SETTLE: Duration = Duration::from_millis(500);

/// Launches Chromium, scans every state, closes it.
pub async fn run(
    executable: &Path,
    targets: &Targets,
    consent: &ConsentConfig,
    options: &Options,
) -> Result<Run, Diagnostics> {
    let profile = Profile::new()?;
    let mut config = BrowserConfig::builder()
        .chrome_executable(executable)
        .new_headless_mode()
        .user_data_dir(&profile.0)
        .window_size(1280, 800)
        .viewport(Viewport {
            width: 1280,
            height: 800,
            ..Viewport::default()
        })
        .request_timeout(Duration::from_secs(30))
        .launch_timeout(Duration::from_secs(30));
    // SAFETY: geteuid reads the process's user id and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        config = config.no_sandbox(); // Chromium refuses to run as root with its sandbox
    }
    let config = config
        .build()
        .map_err(|e| failed("cannot configure Chromium", e))?;
    let (mut browser, mut handler) = Browser::launch(config).await.map_err(|e| {
        failed(
            &format!("cannot start Chromium ({})", executable.display()),
            e,
        )
    })?;
    let driving = tokio::spawn(async move { while handler.next().await.is_some() {} });
    let result = states(&browser, targets, consent, options).await;
    let _ = browser.close().await;
    let _ = browser.wait().await;
    driving.abort();
    result
}

/// A fresh profile folder for this browser, removed after it.
struct Profile(PathBuf);

impl Profile {
    fn new() -> Result<Profile, Diagnostics> {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("policy-site-scan-{}-{n}", std::process::id()));
        // Contexts made over CDP are off the record, where Chromium blocks
        // third-party cookies by default (`cookie_controls_mode` 2); a
        // visitor's ordinary window takes them, so the scan's contexts do
        // too, to see what such a visitor is given.
        std::fs::create_dir_all(dir.join("Default"))
            .and_then(|()| {
                std::fs::write(
                    dir.join("Default/Preferences"),
                    r#"{"profile":{"cookie_controls_mode":0}}"#,
                )
            })
            .map_err(|e| failed("cannot make a browser profile", e))?;
        Ok(Profile(dir))
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn states(
    browser: &Browser,
    targets: &Targets,
    consent: &ConsentConfig,
    options: &Options,
) -> Result<Run, Diagnostics> {
    let optional: Vec<String> = consent
        .categories
        .iter()
        .filter(|c| !c.required)
        .map(|c| c.id.clone())
        .collect();
    let mut run = Run {
        pages: Vec::new(),
        records: Vec::new(),
        first_view: Vec::new(),
        cut_short: None,
    };
    let states = State::all(&optional);
    // Each state has its share of the time, so a slow crawl cannot leave
    // the last states with nothing.
    let share = options.timeout / states.len() as u32;
    for state in states {
        let deadline = Instant::now() + share;
        let context = browser
            .create_browser_context(CreateBrowserContextParams::default())
            .await
            .map_err(|e| failed("cannot open a browser context", e))?;
        let record = in_context(
            browser, &context, &state, targets, options, deadline, &mut run,
        )
        .await;
        let _ = browser.dispose_browser_context(context).await;
        run.records.push(record?);
    }
    Ok(run)
}

/// One state: the first page (where the choice is made), then every page.
async fn in_context(
    browser: &Browser,
    context: &BrowserContextId,
    state: &State,
    targets: &Targets,
    options: &Options,
    deadline: Instant,
    run: &mut Run,
) -> Result<Record, Diagnostics> {
    let blank = CreateTargetParams::builder()
        .url("about:blank")
        .browser_context_id(context.clone())
        .build()
        .map_err(|e| failed("cannot open a page", e))?;
    let page = browser
        .new_page(blank)
        .await
        .map_err(|e| failed("cannot open a page", e))?;
    if *state == State::Gpc {
        page.execute(AddScriptToEvaluateOnNewDocumentParams::new(GPC))
            .await
            .map_err(|e| failed("cannot turn GPC on", e))?;
        page.execute(SetExtraHttpHeadersParams::new(Headers::new(
            serde_json::json!({ "Sec-GPC": "1" }),
        )))
        .await
        .map_err(|e| failed("cannot send Sec-GPC", e))?;
    }
    let own: Vec<String> = targets
        .own
        .iter()
        .chain([&targets.origin])
        .cloned()
        .collect();
    let network = Network::listen(&page, own)
        .await
        .map_err(|e| failed("cannot watch the network", e))?;
    let discovering = run.pages.is_empty();
    let mut crawl = Crawl::new(
        &targets.origin,
        &targets.base_url,
        &targets.served_base,
        &targets.start,
        options.max_pages,
    );
    let mut planned = run.pages.clone().into_iter();
    let mut record = Record {
        state: state.clone(),
        cookies: Vec::new(),
        storage: Vec::new(),
        requests: Vec::new(),
    };
    let mut visited = 0;
    loop {
        let next = if discovering {
            crawl.next()
        } else {
            planned.next()
        };
        let Some(url) = next else { break };
        if Instant::now() > deadline {
            run.cut_short.get_or_insert_with(|| {
                format!(
                    "--timeout ({} s, shared by the consent states) ended the visits {} after {visited} page(s)",
                    options.timeout.as_secs(),
                    state.label()
                )
            });
            break;
        }
        network.on_page(&url);
        page.goto(url.as_str())
            .await
            .map_err(|e| failed(&format!("cannot load {url}"), e))?;
        settle(&page).await;
        if visited == 0 {
            if *state == State::NoChoice {
                run.first_view = page
                    .screenshot(
                        ScreenshotParams::builder()
                            .format(CaptureScreenshotFormat::Png)
                            .build(),
                    )
                    .await
                    .map_err(|e| failed("cannot take the first view's screenshot", e))?;
            }
            choose(&page, state, &url).await?;
            if discovering {
                let sitemap = format!("fetch(new URL('sitemap.xml', {})).then((r) => (r.ok ? r.text() : ''), () => '')", serde_json::json!(targets.start));
                let xml: String = evaluate(&page, &sitemap).await.unwrap_or_default();
                for loc in crawl::sitemap_locations(&xml) {
                    crawl.add(&loc);
                }
            }
        }
        if discovering {
            run.pages.push(url.clone());
            let links: Vec<String> = evaluate(&page, LINKS).await.unwrap_or_default();
            for link in links {
                crawl.add(&link);
            }
        }
        let cookies = browser
            .execute(
                GetCookiesParams::builder()
                    .browser_context_id(context.clone())
                    .build(),
            )
            .await
            .map_err(|e| failed("cannot read the cookies", e))?
            .result
            .cookies;
        let site_host = host_of(&targets.origin);
        for cookie in cookies {
            let known = record.cookies.iter().any(|c| {
                c.name == cookie.name && c.domain == cookie.domain && c.path == cookie.path
            });
            if known {
                continue;
            }
            let set_by = network
                .set_by(&cookie.name)
                .map(|response| format!("response {response}"))
                .unwrap_or_else(|| format!("script on {url}"));
            let domain = cookie.domain.trim_start_matches('.').to_string();
            record.cookies.push(SeenCookie {
                third_party: !(site_host == domain || site_host.ends_with(&format!(".{domain}"))),
                name: cookie.name,
                domain: cookie.domain,
                path: cookie.path,
                expires: (!cookie.session && cookie.expires > 0.0).then_some(cookie.expires),
                secure: cookie.secure,
                http_only: cookie.http_only,
                same_site: cookie.same_site.map(|s| s.as_ref().to_string()),
                set_by,
                page: url.clone(),
            });
        }
        let storage: StorageKeys = evaluate(&page, STORAGE).await.unwrap_or_default();
        for (area, keys) in [
            (Area::Local, storage.local),
            (Area::Session, storage.session),
            (Area::IndexedDb, storage.indexed),
        ] {
            for key in keys {
                if !record
                    .storage
                    .iter()
                    .any(|s| s.area == area && s.key == key)
                {
                    record.storage.push(SeenStorage {
                        area,
                        key,
                        page: url.clone(),
                    });
                }
            }
        }
        visited += 1;
    }
    record.requests = network.requests();
    network.stop();
    let _ = page.close().await;
    Ok(record)
}

#[derive(Default, serde::Deserialize)]
struct StorageKeys {
    local: Vec<String>,
    session: Vec<String>,
    indexed: Vec<String>,
}

/// Waits for the banner's markup (at most 5 s), then for late scripts.
async fn settle(page: &Page) {
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if evaluate::<bool>(page, BANNER_READY).await.unwrap_or(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(SETTLE).await;
}

/// Makes the state's choice in the banner on the first page.
async fn choose(page: &Page, state: &State, url: &str) -> Result<(), Diagnostics> {
    let (action, category) = match state {
        State::NoChoice | State::Gpc => return Ok(()),
        State::RejectAll => ("reject_all", ""),
        State::AcceptAll => ("accept_all", ""),
        State::Only(category) => ("only", category.as_str()),
    };
    let call = format!(
        "{CLICK}({}, {})",
        serde_json::json!(action),
        serde_json::json!(category)
    );
    if evaluate::<bool>(page, &call).await != Some(true) {
        return Err(Diagnostic::command(
            "policy-site scan",
            format!("{url} has no cookie banner to answer {}", state.label()),
        )
        .with_hint("scan a site built by policy-site with `consent:` set; its banner's buttons are what the scan clicks")
        .into());
    }
    settle(page).await;
    Ok(())
}

/// The value of a JavaScript expression (awaited when a promise).
async fn evaluate<T: serde::de::DeserializeOwned>(page: &Page, expression: &str) -> Option<T> {
    let params = EvaluateParams::builder()
        .expression(expression)
        .await_promise(true)
        .return_by_value(true)
        .build()
        .ok()?;
    page.evaluate_expression(params)
        .await
        .ok()?
        .into_value()
        .ok()
}

fn host_of(origin: &str) -> String {
    url::Url::parse(origin)
        .ok()
        .and_then(|u| u.host_str().map(String::from))
        .unwrap_or_default()
}
