//! `policy-site scan` (issue 22) in real headless Chromium: fixture sites,
//! each the bundled example with a small inventory of its own and one or
//! two template scripts, built and scanned from the build folder; each
//! gives exactly its finding. And the bundled example itself, scanned by the
//! binary as CI runs it, which writes the report's screenshot for the manual.

use crate::common::{example_copy, Fixture};
use crate::http::StaticSite;
use crate::webdriver::{self, Browser};
use policy_site::build::{self, Options};
use policy_site::scan::{self, Kind, Scan, State};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A cookie of the fixture inventory: name and declared duration (English;
/// the French text says the same).
type Declared<'a> = (&'a str, &'a str);

/// The consent block of a fixture's policy-site.yaml: the banner's own two
/// necessary names, then the given preferences and marketing cookies.
fn inventory(preferences: &[Declared], marketing: &[Declared]) -> String {
    let cookies = |list: &[Declared]| -> String {
        if list.is_empty() {
            return "          cookies: []\n".into();
        }
        let mut text = "          cookies:\n".to_string();
        for (name, duration) in list {
            let french = duration
                .replace("days", "jours")
                .replace("day", "jour")
                .replace("year", "an");
            text.push_str(&format!(
                "            - {{name: {name}, purpose: {{en: Test., fr: Test.}}, duration: {{en: \"{duration}\", fr: \"{french}\"}}, party: first}}\n"
            ));
        }
        text
    };
    let category = |id: &str, list: &[Declared]| {
        format!(
            "    - id: {id}\n      label: {{en: {id}, fr: {id}}}\n      description: {{en: Test., fr: Test.}}\n      services:\n        - name: Test {id}\n          purpose: {{en: Test., fr: Test.}}\n{}",
            cookies(list)
        )
    };
    format!(
        "consent:\n  policy: privacy\n  categories:\n    - id: necessary\n      required: true\n      label: {{en: Necessary, fr: Nécessaires}}\n      description: {{en: Test., fr: Test.}}\n      services:\n        - name: Site\n          purpose: {{en: Test., fr: Test.}}\n{}{}{}",
        cookies(&[("ps_consent", "6 months"), ("ps_consent_queue", "Until sent")]),
        category("preferences", preferences),
        category("marketing", marketing),
    )
}

/// A script every page loads before `</body>`: gated by a category
/// (`<script type="text/plain" data-consent>`) or not.
struct Script<'a> {
    file: &'a str,
    consent: Option<&'a str>,
    body: &'a str,
}

/// A script of another origin every page loads, gated by a category or not.
struct ThirdParty<'a> {
    origin: &'a str,
    path: &'a str,
    consent: Option<&'a str>,
}

/// The `<script>` tag for `src`, gated by `consent` or not.
fn script_tag(src: &str, consent: Option<&str>) -> String {
    match consent {
        Some(category) => format!(
            "<script type=\"text/plain\" data-consent=\"{category}\" src=\"{src}\"></script>\n"
        ),
        None => format!("<script src=\"{src}\"></script>\n"),
    }
}

/// The bundled example with this inventory, these scripts and, when given,
/// a third-party script (its origin allowed by the CSP, in the pages' meta
/// tag and in `_headers`); built into public/.
fn fixture(inventory: &str, scripts: &[Script], third_party: Option<ThirdParty>) -> Fixture {
    let mut fixture = example_copy();
    let config = fixture.root().join("policy-site.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    let start = text
        .find("\nconsent:\n")
        .expect("the example has a consent block");
    std::fs::write(&config, format!("{}\n{inventory}", &text[..start])).unwrap();
    let mut tags = String::new();
    for script in scripts {
        fixture = fixture.file(&format!("static/scan/{}", script.file), script.body);
        tags.push_str(&script_tag(
            &format!("/scan/{}", script.file),
            script.consent,
        ));
    }
    let base = fixture.root().join("templates/base.html");
    let mut template = std::fs::read_to_string(&base).unwrap();
    let allowed = third_party
        .as_ref()
        .map(|t| format!("script-src 'self' {}", t.origin));
    if let (Some(third), Some(allowed)) = (&third_party, &allowed) {
        tags.push_str(&script_tag(
            &format!("{}{}", third.origin, third.path),
            third.consent,
        ));
        let csp = "content=\"{{ csp }}\"";
        assert!(template.contains(csp), "base.html has its CSP meta");
        template = template.replace(
            csp,
            &format!(
                "content=\"{{{{ csp | replace(from=\"script-src 'self'\", to=\"{allowed}\") }}}}\""
            ),
        );
    }
    std::fs::write(
        &base,
        template.replace("</body>", &format!("{tags}</body>")),
    )
    .unwrap();
    if let Err(problems) = build::build(&Options {
        root: fixture.root().to_path_buf(),
        ..Default::default()
    }) {
        panic!("build failed: {problems:?}");
    }
    if let Some(allowed) = allowed {
        let headers = fixture.out("_headers");
        let text = std::fs::read_to_string(&headers).unwrap();
        std::fs::write(&headers, text.replace("script-src 'self'", &allowed)).unwrap();
    }
    fixture
}

/// Scans the fixture's build: two pages (the start page and the sitemap's
/// next) in each consent state.
fn scanned(fixture: &Fixture) -> Scan {
    let options = scan::Options {
        max_pages: 2,
        timeout: Duration::from_secs(300),
        ..scan::Options::new(fixture.root())
    };
    scan::scan(&options).unwrap_or_else(|e| panic!("the scan did not run: {e}"))
}

fn findings(scan: &Scan) -> Vec<(Kind, String)> {
    scan.findings
        .iter()
        .map(|f| (f.kind, f.subject.clone()))
        .collect()
}

/// The states in which a cookie of this name was set.
fn states_with_cookie(scan: &Scan, name: &str) -> Vec<State> {
    scan.records
        .iter()
        .filter(|r| r.cookies.iter().any(|c| c.name == name))
        .map(|r| r.state.clone())
        .collect()
}

/// The cookie is set in exactly the states where marketing was accepted.
fn assert_set_once_marketing_is_accepted(scan: &Scan, name: &str) {
    assert_eq!(
        states_with_cookie(scan, name),
        [State::AcceptAll, only("marketing")]
    );
}

fn only(category: &str) -> State {
    State::Only(category.to_string())
}

#[test]
fn scan_a_clean_site_has_no_finding_in_any_consent_state() {
    let site = fixture(&inventory(&[], &[]), &[], None);
    let scan = scanned(&site);
    assert_eq!(findings(&scan), []);
    assert!(!scan.fails());
    let states: Vec<State> = scan.records.iter().map(|r| r.state.clone()).collect();
    assert_eq!(
        states,
        [
            State::NoChoice,
            State::RejectAll,
            State::AcceptAll,
            only("preferences"),
            only("marketing"),
            State::Gpc
        ]
    );
    assert_eq!(scan.pages.len(), 2, "{:?}", scan.pages);
    // The banner stores the choice once there is one (GPC is one), never before.
    assert_eq!(
        states_with_cookie(&scan, "ps_consent"),
        [
            State::RejectAll,
            State::AcceptAll,
            only("preferences"),
            only("marketing"),
            State::Gpc
        ]
    );
    let cookie = scan.records[1]
        .cookies
        .iter()
        .find(|c| c.name == "ps_consent")
        .unwrap();
    assert_eq!(cookie.path, "/");
    assert_eq!(cookie.same_site.as_deref(), Some("Lax"));
    assert!(!cookie.http_only && !cookie.secure && !cookie.third_party);
    assert!(cookie.set_by.starts_with("script on "), "{}", cookie.set_by);
    let days = (cookie.expires.unwrap() - scan.started) / 86_400.0;
    assert!((181.0..183.0).contains(&days), "{days}");
    assert!(scan.first_view.starts_with(b"\x89PNG"));
}

#[test]
fn scan_an_undeclared_first_party_cookie_from_a_template_script_is_found() {
    let tracker = Script {
        file: "tracker.js",
        consent: None,
        body: "document.cookie = 'visitor_id=1; Max-Age=3600; Path=/';\n",
    };
    let site = fixture(&inventory(&[], &[]), &[tracker], None);
    let scan = scanned(&site);
    assert_eq!(findings(&scan), [(Kind::Undeclared, "visitor_id".into())]);
    assert!(scan.fails());
    assert_eq!(scan.findings[0].states.len(), 6, "set in every state");
    let message = &scan.findings[0].diagnostic;
    assert_eq!(message.file(), Some(Path::new("policy-site.yaml")));
    assert!(message.line.is_some());
    // --write-inventory: the entry to paste, as YAML, under the category it
    // seems to need (set before any consent: necessary, or to be gated).
    let proposed = scan::report::proposed_inventory(&scan);
    assert!(proposed.contains("# category: necessary"), "{proposed}");
    let services: serde_yaml::Value = serde_yaml::from_str(&proposed).unwrap();
    let cookie = &services[0]["cookies"][0];
    assert_eq!(cookie["name"], "visitor_id");
    assert_eq!(cookie["party"], "first");
    assert_eq!(cookie["duration"]["en"], "1 hour");
    assert!(cookie["purpose"]["fr"]
        .as_str()
        .unwrap()
        .starts_with("TODO"));
}

#[test]
fn scan_a_third_party_script_loaded_before_consent_is_found_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tag.js"), "window.tagRan = true;\n").unwrap();
    std::fs::write(
        dir.path().join("_headers"),
        "/*\n  Content-Security-Policy: default-src 'self'\n",
    )
    .unwrap();
    let third = StaticSite::start(dir.path().to_path_buf());
    let tag = ThirdParty {
        origin: &third.origin,
        path: "/tag.js",
        consent: None,
    };
    let site = fixture(&inventory(&[], &[]), &[], Some(tag));
    let scan = scanned(&site);
    let host = third.origin.trim_start_matches("http://").to_string();
    assert_eq!(
        findings(&scan),
        [(Kind::ThirdPartyBeforeConsent, host.clone())]
    );
    assert_eq!(
        scan.findings[0].states,
        [State::NoChoice, State::RejectAll, State::Gpc]
    );
    let request = &scan.records[0].requests[0];
    assert_eq!(request.host, host);
    assert_eq!(request.kind, "Script");
    assert!(
        request.initiator.starts_with("the page's HTML"),
        "{}",
        request.initiator
    );

    // The report: a page of its own, no inline script or style, the first view beside it.
    let report = site.root().join("report");
    let page = scan::report::write(&scan, &report).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("<script") && !html.contains("style="),
        "inline script or style"
    );
    assert!(html.contains("<link rel=\"stylesheet\" href=\"report.css\">"));
    for state in &scan.records {
        assert!(html.contains(&format!("id=\"state-{}\"", state.state.slug())));
    }
    assert!(html.contains(&host));
    assert!(std::fs::read(report.join("first-view.png"))
        .unwrap()
        .starts_with(b"\x89PNG"));

    // Its screenshot, for the manual (docs/src/scan-report.png is a copy).
    // Served as a host would, with the CSP its own <meta> tag gives.
    std::fs::write(
        report.join("_headers"),
        "/*\n  Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self'\n",
    )
    .unwrap();
    let served = StaticSite::start(report.clone());
    let browser = Browser::start(webdriver::Options::default());
    browser.set_viewport(1280, 900, false);
    browser.goto(&served.url("/index.html"));
    browser.wait_for("document.readyState === 'complete' && document.images[0].complete");
    browser.assert_csp_clean();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::write(shots.join("scan-report.png"), browser.screenshot()).unwrap();
}

#[test]
fn scan_a_marketing_cookie_set_only_after_accept_is_no_finding() {
    let marketing = Script {
        file: "marketing.js",
        consent: Some("marketing"),
        body: "document.cookie = 'mk_id=1; Max-Age=2592000; Path=/; SameSite=Lax';\n",
    };
    let site = fixture(&inventory(&[], &[("mk_id", "30 days")]), &[marketing], None);
    let scan = scanned(&site);
    assert_eq!(findings(&scan), []);
    assert_set_once_marketing_is_accepted(&scan, "mk_id");
}

#[test]
fn scan_a_cookie_that_lives_longer_than_declared_is_found() {
    let preferences = Script {
        file: "preferences.js",
        consent: Some("preferences"),
        body: "document.cookie = 'site_lang=en; Max-Age=31536000; Path=/; SameSite=Lax';\n",
    };
    let site = fixture(
        &inventory(&[("site_lang", "1 day")], &[]),
        &[preferences],
        None,
    );
    let scan = scanned(&site);
    assert_eq!(
        findings(&scan),
        [(Kind::LongerThanDeclared, "site_lang".into())]
    );
    let message = &scan.findings[0].diagnostic.message;
    assert!(
        message.contains("365 days") && message.contains("\"1 day\""),
        "{message}"
    );
}

/// A site whose marketing script waits for the visitor's answer
/// (`ps:consent`), scanned; `ignoring_gpc` also takes the banner's GPC
/// refusal for a yes.
fn listening_site(ignoring_gpc: bool) -> Scan {
    let condition = if ignoring_gpc {
        "e.detail.categories.marketing || e.detail.action === 'gpc'"
    } else {
        "e.detail.categories.marketing"
    };
    let body = format!("document.addEventListener('ps:consent', (e) => {{ if ({condition}) document.cookie = 'mk_id=1; Max-Age=86400; Path=/'; }});\n");
    let script = Script {
        file: "listener.js",
        consent: None,
        body: &body,
    };
    let site = fixture(&inventory(&[], &[("mk_id", "1 day")]), &[script], None);
    scanned(&site)
}

#[test]
fn scan_a_site_that_honours_gpc_has_no_finding() {
    let scan = listening_site(false);
    assert_eq!(findings(&scan), []);
    assert_set_once_marketing_is_accepted(&scan, "mk_id");
}

#[test]
fn scan_a_site_that_ignores_gpc_is_found() {
    let scan = listening_site(true);
    assert_eq!(findings(&scan), [(Kind::BeforeConsent, "mk_id".into())]);
    assert_eq!(scan.findings[0].states, [State::Gpc]);
}

/// A third party on `localhost` (another site than 127.0.0.1) whose
/// script's response sets an `HttpOnly` cookie for itself.
fn cookie_setting_third_party() -> String {
    let pixel = || async {
        (
            [
                ("Content-Type", "text/javascript"),
                (
                    "Set-Cookie",
                    "tp_id=1; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=None",
                ),
            ],
            "window.pixelRan = true;\n",
        )
    };
    let app = axum::Router::new().route("/pixel.js", axum::routing::get(pixel));
    crate::http::serve(app, Default::default()).replace("127.0.0.1", "localhost")
}

#[test]
fn scan_a_deployed_url_sees_a_third_party_httponly_cookie_and_the_response_that_set_it() {
    let third = cookie_setting_third_party();
    let pixel = ThirdParty {
        origin: &third,
        path: "/pixel.js",
        consent: Some("marketing"),
    };
    let site = fixture(&inventory(&[], &[("tp_id", "1 day")]), &[], Some(pixel));
    let deployed = StaticSite::start(site.root().join("public"));
    let options = scan::Options {
        url: Some(deployed.url("/")),
        max_pages: 2,
        timeout: Duration::from_secs(300),
        ..scan::Options::new(site.root())
    };
    let scan = scan::scan(&options).unwrap_or_else(|e| panic!("the scan did not run: {e}"));
    assert_eq!(scan.origin, deployed.origin);
    assert_eq!(findings(&scan), []);
    assert_set_once_marketing_is_accepted(&scan, "tp_id");
    let accepted = &scan.records[2];
    assert_eq!(accepted.state, State::AcceptAll);
    let cookie = accepted.cookies.iter().find(|c| c.name == "tp_id").unwrap();
    assert_eq!(cookie.domain, "localhost");
    assert!(cookie.http_only && cookie.secure && cookie.third_party);
    assert_eq!(cookie.same_site.as_deref(), Some("None"));
    assert_eq!(cookie.set_by, format!("response {third}/pixel.js"));
    let request = &accepted.requests[0];
    assert_eq!(request.host, third.trim_start_matches("http://"));
    assert!(
        request.initiator.starts_with("a script"),
        "{}",
        request.initiator
    );
    for refused in scan.records.iter().filter(|r| r.state.refuses()) {
        assert_eq!(refused.requests, [], "{}", refused.state.label());
    }
}

#[test]
fn scan_a_cookie_switched_on_by_another_category_than_its_own_is_found() {
    let mislabelled = Script {
        file: "mislabelled.js",
        consent: Some("preferences"),
        body: "document.cookie = 'mk_id=1; Max-Age=86400; Path=/';\n",
    };
    let site = fixture(&inventory(&[], &[("mk_id", "1 day")]), &[mislabelled], None);
    let scan = scanned(&site);
    assert_eq!(findings(&scan), [(Kind::WrongCategory, "mk_id".into())]);
    assert_eq!(scan.findings[0].states, [only("preferences")]);
}

#[test]
fn scan_undeclared_local_storage_keys_and_indexeddb_databases_are_found() {
    let storing = Script {
        file: "storing.js",
        consent: None,
        body: "localStorage.setItem('ab_bucket', 'b'); sessionStorage.setItem('tab_id', '1'); indexedDB.open('tracker-db');\n",
    };
    let site = fixture(&inventory(&[], &[]), &[storing], None);
    let scan = scanned(&site);
    assert_eq!(
        findings(&scan),
        [
            (Kind::Undeclared, "ab_bucket".into()),
            (Kind::Undeclared, "tab_id".into()),
            (Kind::Undeclared, "tracker-db".into()),
        ]
    );
    let message = &scan.findings[2].diagnostic.message;
    assert!(
        message.starts_with("IndexedDB database `tracker-db`"),
        "{message}"
    );
}

#[test]
fn scan_a_site_under_a_base_path_is_served_and_crawled_under_it() {
    let site = fixture(&inventory(&[], &[]), &[], None);
    let config = site.root().join("policy-site.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    let moved = text.replace(
        "base_url: https://iconnek.io\n",
        "base_url: https://iconnek.io/legal/\n",
    );
    assert_ne!(moved, text);
    std::fs::write(&config, moved).unwrap();
    build::build(&Options {
        root: site.root().to_path_buf(),
        ..Default::default()
    })
    .unwrap_or_else(|problems| panic!("build failed: {problems:?}"));
    let scan = scanned(&site);
    assert_eq!(findings(&scan), []);
    let under = format!("{}/legal/", scan.origin);
    assert_eq!(scan.pages.len(), 2);
    assert!(
        scan.pages.iter().all(|p| p.starts_with(&under)),
        "{:?}",
        scan.pages
    );
    // The banner loaded from under the path, and answered.
    assert_eq!(states_with_cookie(&scan, "ps_consent").len(), 5);
}

#[test]
fn scan_a_declared_cookie_no_page_sets_is_a_warning_that_does_not_fail() {
    let site = fixture(&inventory(&[("site_lang", "1 year")], &[]), &[], None);
    let scan = scanned(&site);
    assert_eq!(findings(&scan), [(Kind::NeverSeen, "site_lang".into())]);
    assert!(!scan.fails());
}

#[test]
fn scan_the_bundled_example_built_by_the_binary_is_clean_in_every_consent_state() {
    let site = example_copy();
    let binary = env!("CARGO_BIN_EXE_policy-site");
    let built = Command::new(binary)
        .args(["build", "--quiet", "--root"])
        .arg(site.root())
        .status()
        .unwrap();
    assert!(built.success());
    let report = site.root().join("scan-report");
    let out = Command::new(binary)
        .args([
            "scan",
            "--built",
            "--format",
            "json",
            "--max-pages",
            "8",
            "--write-inventory",
            "--root",
        ])
        .arg(site.root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}: {stderr}",
        out.status.code()
    );
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    // Nothing wrong in any state; what the example declares for services it
    // does not embed (Google Analytics, LinkedIn) and the language cookie
    // (set only when a visitor switches language) are never seen.
    let mut stale: Vec<&str> = items
        .iter()
        .map(|item| {
            assert_eq!(item["level"], "warning", "{item}");
            assert_eq!(item["kind"], "never-seen", "{item}");
            item["subject"].as_str().unwrap()
        })
        .collect();
    stale.sort();
    assert_eq!(
        stale,
        [
            "AnalyticsSyncHistory",
            "UserMatchHistory",
            "_ga",
            "_ga_*",
            "bcookie",
            "li_sugr",
            "lidc",
            "ps_lang"
        ]
    );
    assert!(stderr.contains("report: "), "{stderr}");
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("id=\"state-gpc\"") && html.contains("id=\"state-only-analytics\""));
    assert_eq!(
        std::fs::read_to_string(report.join("inventory.yaml")).unwrap(),
        "# Nothing to add: the scan saw nothing undeclared.\n"
    );
}

#[test]
fn scan_without_a_build_says_so_and_fails() {
    let site = example_copy();
    let out = Command::new(env!("CARGO_BIN_EXE_policy-site"))
        .args(["scan", "--root"])
        .arg(site.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("there is no build here to scan"),
        "{stderr}"
    );
}
