//! Browser tests for the cookie banner (issue 5), the rights-request forms
//! (issue 4) and `policy-site scan` (issue 22, in browser/scan.rs): the
//! bundled example, built for each test, served from 127.0.0.1 under its own
//! CSP, in headless Chromium, posting to a real local endpoint.
//! Needs `bash tests/setup.sh` (Chromium, chromedriver, axe-core, vnu).

mod common;
#[path = "browser/http.rs"]
mod http;
#[path = "common/receive.rs"]
mod receiving;
#[path = "browser/scan.rs"]
mod scan;
#[path = "browser/webdriver.rs"]
mod webdriver;

use common::{example_copy, Fixture};
use http::{Endpoint, Received, StaticSite};
use policy_site::build::{self, Options};
use policy_site::date::Date;
use receiving::{postgres_database, Receiving};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use webdriver::{Browser, ARROW_DOWN, ENTER, ESCAPE, SPACE, TAB};

/// The policy version in force on the test's build date.
const CURRENT: &str = "2025-03-03";

/// The example site with one analytics-gated script on every page, built to
/// post to a local endpoint and served locally.
struct Site {
    fixture: Fixture,
    server: StaticSite,
    endpoint: Endpoint,
}

impl Site {
    fn new() -> Site {
        let fixture = example_copy().file("static/gated.js", "window.gatedRan = true;\n");
        let base = fixture.root().join("templates/base.html");
        let template = std::fs::read_to_string(&base).unwrap();
        let gated = "<script type=\"text/plain\" data-consent=\"analytics\" src=\"/gated.js\"></script>\n</body>";
        std::fs::write(&base, template.replace("</body>", gated)).unwrap();
        let server = StaticSite::start(fixture.root().join("public"));
        let site = Site {
            fixture,
            server,
            endpoint: Endpoint::start(),
        };
        site.build();
        site
    }

    fn build(&self) {
        let options = Options {
            root: self.fixture.root().to_path_buf(),
            out: Some(PathBuf::from("public")),
            date: Date::new(2030, 1, 1),
            requests_endpoint: Some(self.endpoint.url("/requests")),
            consent_endpoint: Some(self.endpoint.url("/consent")),
            base_url: Some(self.server.origin.clone()),
            ..Default::default()
        };
        if let Err(problems) = build::build(&options) {
            panic!("build failed: {problems:?}");
        }
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    fn out(&self) -> PathBuf {
        self.fixture.root().join("public")
    }

    /// Publishes a copy of the current version under `date`, with one sentence added.
    fn publish_version(&self, date: &str, material: bool) {
        let content = self.fixture.root().join("content/privacy");
        common::copy_tree(&content.join(CURRENT), &content.join(date));
        std::fs::write(
            content.join(date).join("version.yaml"),
            format!(
                "material: {material}\nsummary:\n  en: Test change.\n  fr: Changement de test.\n"
            ),
        )
        .unwrap();
        for lang in ["en", "fr"] {
            let dir = content.join(date).join(lang);
            let first = std::fs::read_dir(&dir)
                .unwrap()
                .filter_map(Result::ok)
                .map(|e| e.path())
                .min()
                .unwrap();
            let text = std::fs::read_to_string(&first).unwrap();
            std::fs::write(&first, format!("{text}\nOne more sentence.\n")).unwrap();
        }
        self.build();
    }
}

/// Opens `path` with the banner answered (Reject all), so it covers nothing.
fn open_answered(site: &Site, path: &str) -> Browser {
    let browser = open(site, path);
    browser.wait_for(BANNER_OPEN);
    browser.click("#ps-consent [data-ps-action=reject_all]");
    browser.wait_for(BANNER_CLOSED);
    browser
}

fn open(site: &Site, path: &str) -> Browser {
    let browser = Browser::start(webdriver::Options::default());
    browser.goto(&site.url(path));
    browser
}

const BANNER_OPEN: &str = "!document.getElementById('ps-consent').hidden";
const BANNER_CLOSED: &str = "document.getElementById('ps-consent').hidden";

/// The `ps_consent` cookie, decoded.
fn consent_cookie(browser: &Browser) -> Value {
    let raw = browser.js("const p = document.cookie.split('; ').find((c) => c.startsWith('ps_consent=')); return p ? decodeURIComponent(p.slice(11)) : null;", json!([]));
    serde_json::from_str(raw.as_str().expect("no ps_consent cookie")).unwrap()
}

fn gated_ran(browser: &Browser) -> bool {
    browser.js("return window.gatedRan === true;", json!([])) == Value::Bool(true)
}

fn is_uuid_v4(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && text
            .chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        && parts[2].starts_with('4')
}

/// Checks a payload against the top-level `required` and `additionalProperties: false` of a published schema.
fn assert_schema_keys(site: &Site, schema: &str, payload: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(site.out().join("schemas").join(schema)).unwrap(),
    )
    .unwrap();
    let object = payload.as_object().unwrap();
    for key in schema["required"].as_array().unwrap() {
        assert!(
            object.contains_key(key.as_str().unwrap()),
            "payload lacks {key}: {payload}"
        );
    }
    let allowed = schema["properties"].as_object().unwrap();
    for key in object.keys() {
        assert!(
            allowed.contains_key(key),
            "payload has {key}, which the schema does not allow: {payload}"
        );
    }
}

// ---- Cookie banner (issue 5)

#[test]
fn banner_shows_on_first_visit_with_focus_in_english_and_french() {
    let site = Site::new();
    let browser = open(&site, "/en/privacy/");
    for (lang, accept) in [("en", "Accept all"), ("fr", "Tout accepter")] {
        browser.goto(&site.url(&format!("/{lang}/privacy/")));
        browser.wait_for(BANNER_OPEN);
        browser.wait_for("document.getElementById('ps-consent').contains(document.activeElement)");
        let label = browser.js("return document.querySelector('#ps-consent [data-ps-action=accept_all]').textContent.trim();", json!([]));
        let shown = browser.js("return document.querySelector('#ps-consent [data-ps-action=accept_all]').offsetParent !== null;", json!([]));
        assert_eq!(
            (label.as_str().unwrap(), shown),
            (accept, Value::Bool(true)),
            "{lang}"
        );
        browser.assert_csp_clean();
        // Fetching the banner's file (preloaded by the page) warns of nothing.
        assert_eq!(browser.console_problems(), Vec::<String>::new(), "{lang}");
    }
}

#[test]
fn reject_all_runs_no_gated_script_and_the_cookie_records_the_refusal() {
    let site = Site::new();
    let browser = open(&site, "/en/privacy/");
    browser.wait_for(BANNER_OPEN);
    browser.click("#ps-consent [data-ps-action=reject_all]");
    browser.wait_for(BANNER_CLOSED);
    let cookie = consent_cookie(&browser);
    assert_eq!(
        (&cookie["c"], &cookie["v"], &cookie["g"]),
        (&json!(["necessary"]), &json!(CURRENT), &json!(false))
    );
    browser.reload();
    browser.wait_for("window.PolicySite && PolicySite.consent.get()");
    assert!(
        browser.js(BANNER_CLOSED_RETURN, json!([])) == Value::Bool(true),
        "banner asked again after a refusal"
    );
    assert!(!gated_ran(&browser), "a gated script ran after Reject all");
    assert!(
        browser
            .find_all("script[type='text/plain'][data-consent=analytics]")
            .len()
            == 1
    );
    assert_eq!(
        site.endpoint.wait_for("/consent", 1)[0].json()["action"],
        "reject_all"
    );
}

const BANNER_CLOSED_RETURN: &str = "return document.getElementById('ps-consent').hidden;";

#[test]
fn accept_all_runs_gated_scripts_now_and_on_later_pages() {
    let site = Site::new();
    let browser = open(&site, "/en/privacy/");
    browser.wait_for(BANNER_OPEN);
    assert!(!gated_ran(&browser));
    browser.click("#ps-consent [data-ps-action=accept_all]");
    browser.wait_for("window.gatedRan === true");
    assert_eq!(
        consent_cookie(&browser)["c"],
        json!(["necessary", "preferences", "analytics", "marketing"])
    );
    browser.goto(&site.url("/fr/privacy/"));
    browser.wait_for("window.gatedRan === true");
    assert_eq!(
        browser.js(BANNER_CLOSED_RETURN, json!([])),
        Value::Bool(true)
    );
    browser.assert_csp_clean();
}

#[test]
fn global_privacy_control_refuses_by_default_and_the_banner_says_so() {
    let site = Site::new();
    let browser = Browser::start(webdriver::Options {
        gpc: true,
        ..Default::default()
    });
    browser.goto(&site.url("/en/privacy/"));
    browser.wait_for(BANNER_OPEN);
    browser.wait_for("!document.querySelector('#ps-consent [data-ps-gpc]').hidden");
    let cookie = consent_cookie(&browser);
    assert_eq!(
        (&cookie["c"], &cookie["g"]),
        (&json!(["necessary"]), &json!(true))
    );
    assert!(!gated_ran(&browser));
    let record = site.endpoint.wait_for("/consent", 1)[0].json();
    assert_eq!(
        (&record["action"], &record["gpc"]),
        (&json!("gpc"), &json!(true))
    );
    browser.assert_csp_clean();
}

/// Reloads the page, waits for the banner to ask again because the policy
/// changed, and returns where its "what changed" link leads.
fn changes_link_after_reload(browser: &Browser) -> String {
    browser.reload();
    browser.wait_for(BANNER_OPEN);
    browser.wait_for("!document.querySelector('[data-ps-changed]').hidden");
    let link = browser.js(
        "return document.querySelector('[data-ps-changes-link]').href;",
        json!([]),
    );
    link.as_str().unwrap().to_string()
}

#[test]
fn a_new_material_version_asks_again_and_links_to_the_changes() {
    let site = Site::new();
    let browser = open(&site, "/en/privacy/");
    browser.wait_for(BANNER_OPEN);
    browser.click("#ps-consent [data-ps-action=accept_all]");
    browser.wait_for(BANNER_CLOSED);
    site.publish_version("2027-01-01", true);
    let link = changes_link_after_reload(&browser);
    assert!(
        link.ends_with(&format!("{CURRENT}/2027-01-01/")),
        "changes link: {link}"
    );
    browser.goto(&link);
    let title = browser.js("return document.title;", json!([]));
    let path = link
        .trim_start_matches(&site.server.origin)
        .trim_end_matches('/');
    assert!(
        site.out()
            .join(path.trim_start_matches('/'))
            .join("index.html")
            .exists(),
        "the changes link {link} leads nowhere (page title: {title})"
    );
}

/// Past `redlines_to_current` versions, a choice made on an older version
/// links to the history at that version (which lists every later redline)
/// rather than to a redline that is not published.
#[test]
fn a_choice_older_than_the_redline_window_links_to_the_history_at_its_version() {
    let site = Site::new();
    let config = site.fixture.root().join("policy-site.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\nredlines_to_current: 1\n")).unwrap();
    let browser = open(&site, "/en/privacy/");
    browser.wait_for(BANNER_OPEN);
    browser.click("#ps-consent [data-ps-action=accept_all]");
    browser.wait_for(BANNER_CLOSED);
    site.publish_version("2027-01-01", false);
    site.publish_version("2027-02-01", true);
    assert!(
        !site
            .out()
            .join(format!(
                "en/privacy/changes/{CURRENT}/2027-02-01/index.html"
            ))
            .exists(),
        "outside the window, no redline against the current version is written"
    );
    let link = changes_link_after_reload(&browser);
    assert!(
        link.ends_with(&format!("/en/privacy/history/#v-{CURRENT}")),
        "changes link: {link}"
    );
    browser.goto(&link);
    let found = browser.js(
        "return !!document.getElementById(arguments[0]);",
        json!([format!("v-{CURRENT}")]),
    );
    assert_eq!(found, json!(true), "the history has no entry for {CURRENT}");
}

#[test]
fn a_new_non_material_version_does_not_ask_again() {
    let site = Site::new();
    let browser = open(&site, "/en/privacy/");
    browser.wait_for(BANNER_OPEN);
    browser.click("#ps-consent [data-ps-action=accept_all]");
    browser.wait_for(BANNER_CLOSED);
    site.publish_version("2027-01-01", false);
    browser.reload();
    browser.wait_for("window.gatedRan === true");
    assert_eq!(
        browser.js(BANNER_CLOSED_RETURN, json!([])),
        Value::Bool(true),
        "banner asked again for a non-material version"
    );
}

#[test]
fn the_consent_record_reaches_the_endpoint_with_the_schema_fields() {
    let site = Site::new();
    let browser = open(&site, "/fr/privacy/");
    browser.wait_for(BANNER_OPEN);
    browser.click("#ps-consent [data-ps-action=customize]");
    browser.wait_for("document.getElementById('ps-consent-settings').open");
    browser.click("input.ps-switch[data-ps-category=analytics]");
    browser.click("#ps-consent-settings [data-ps-action=save]");
    let posts = site.endpoint.wait_for("/consent", 1);
    let record = posts[0].json();
    assert_eq!(
        (posts[0].path.as_str(), posts[0].content_type.as_str()),
        ("/consent", "application/json")
    );
    assert_schema_keys(&site, "consent-record.v1.json", &record);
    let cookie = consent_cookie(&browser);
    assert_eq!(record["schema"], "consent-record.v1");
    assert!(
        is_uuid_v4(record["record_id"].as_str().unwrap()),
        "{record}"
    );
    assert_eq!(record["consent_id"], cookie["id"]);
    assert_eq!(record["action"], "customize");
    assert_eq!(
        record["categories"],
        json!({ "necessary": true, "preferences": false, "analytics": true, "marketing": false })
    );
    assert_eq!(
        (
            &record["policy"],
            &record["version"],
            &record["lang"],
            &record["gpc"]
        ),
        (
            &json!("privacy"),
            &json!(CURRENT),
            &json!("fr"),
            &json!(false)
        )
    );
    assert_eq!(record["page"], "/fr/privacy/");
    let hash = record["banner_hash"].as_str().unwrap();
    assert!(
        hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "banner_hash: {hash}"
    );
    browser.wait_for("window.gatedRan === true");
}

#[test]
fn the_settings_dialog_downloads_a_consent_receipt_made_in_the_browser_under_the_strict_csp() {
    let site = Site::new();
    for file in [
        "policy-site.lock",
        "publication-log.json",
        "publication-log.json.minisig",
    ] {
        common::copy_tree(
            &common::example_root().join(file),
            &site.fixture.root().join(file),
        );
    }
    site.build();
    let browser = open(&site, "/en/privacy/");
    browser.wait_for(BANNER_OPEN);
    browser.click("#ps-consent [data-ps-action=customize]");
    browser.wait_for("document.getElementById('ps-consent-settings').open");
    // No choice yet: nothing to give a receipt for.
    assert_eq!(
        browser.js(
            "return document.querySelector('[data-ps-consent-receipt]').hidden;",
            json!([])
        ),
        json!(true)
    );
    browser.click("input.ps-switch[data-ps-category=marketing]");
    browser.click("#ps-consent-settings [data-ps-action=save]");
    let record = site.endpoint.wait_for("/consent", 1)[0].json();
    browser.wait_for("!document.getElementById('ps-consent-settings').open");
    browser.click("[data-ps-consent-open]");
    browser.wait_for("document.getElementById('ps-consent-settings').open");
    browser.wait_for("!document.querySelector('[data-ps-consent-receipt]').hidden");
    browser.click("#ps-consent-settings [data-ps-consent-receipt] button");
    let files = browser.wait_for_downloads(1);
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().to_string();
    assert!(
        name.starts_with("consent-receipt-") && name.ends_with(".json"),
        "{name}"
    );
    let receipt: Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(site.out().join("schemas/consent-iso27560.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&receipt)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{receipt:#}");
    assert_eq!(receipt["@type"], "dpv:ConsentReceipt");
    let copy = &receipt["dpv:hasRecordOfActivity"];
    // The receipt copies the record the endpoint received.
    assert_eq!(copy["dct:identifier"], record["record_id"]);
    assert_eq!(
        copy["dpv:hasDataSubject"]["dct:identifier"],
        record["consent_id"]
    );
    assert_eq!(copy["ps:action"], "customize");
    let status = |id: &str| {
        copy["dpv:hasProcess"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["dct:identifier"] == id)
            .unwrap()["dpv:hasConsentStatus"]["@type"][0]
            .clone()
    };
    assert_eq!(
        (status("marketing"), status("analytics")),
        (json!("dpv:ConsentGiven"), json!("dpv:ConsentRefused"))
    );
    // The notice is the version in force, with its text's hash from the publication log.
    let log: Value = serde_json::from_str(
        &std::fs::read_to_string(common::example_root().join("publication-log.json")).unwrap(),
    )
    .unwrap();
    let entry = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["date"] == CURRENT)
        .unwrap();
    assert_eq!(
        copy["dpv:hasNotice"][0]["ps:textSha256"],
        entry["text"]["en"]["sha256"]
    );
    assert_eq!(
        copy["dpv:hasNotice"][1]["ps:bannerSha256"],
        record["banner_hash"]
    );
    // Made in the browser: nothing more was sent, and the page broke no CSP rule.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(site.endpoint.received("/consent").len(), 1);
    browser.assert_csp_clean();
}

#[test]
fn a_record_made_while_the_endpoint_is_down_arrives_once_after_it_returns() {
    let site = Site::new();
    site.endpoint.set_down(true);
    let browser = open(&site, "/en/privacy/");
    browser.wait_for(BANNER_OPEN);
    browser.click("#ps-consent [data-ps-action=reject_all]");
    browser.wait_for("JSON.parse(localStorage.getItem('ps_consent_queue')).length === 1");
    let queued = browser.js(
        "return JSON.parse(localStorage.getItem('ps_consent_queue'))[0].record_id;",
        json!([]),
    );
    site.endpoint.set_down(false);
    browser.reload();
    browser.wait_for("JSON.parse(localStorage.getItem('ps_consent_queue')).length === 0");
    browser.reload();
    browser.wait_for("window.PolicySite && PolicySite.consent.get()");
    let posts = site.endpoint.received("/consent");
    assert_eq!(posts.len(), 1, "expected exactly one record: {posts:?}");
    assert_eq!(posts[0].json()["record_id"], queued);
}

#[test]
fn the_banner_and_dialog_work_with_the_keyboard_alone() {
    let site = Site::new();
    let browser = open(&site, "/en/privacy/");
    browser.wait_for(BANNER_OPEN);
    browser.wait_for("document.activeElement.id === 'ps-consent-title'");
    browser.tab_to("#ps-consent [data-ps-action=customize]", 10);
    browser.press(&[ENTER]);
    browser.wait_for("document.getElementById('ps-consent-settings').open");
    browser.press(&[ESCAPE]);
    browser.wait_for("!document.getElementById('ps-consent-settings').open");
    assert!(
        browser.active_matches("#ps-consent [data-ps-action=customize]"),
        "focus did not return to Customize after Escape"
    );
    browser.press(&[SPACE]);
    browser.wait_for("document.getElementById('ps-consent-settings').open");
    browser.tab_to("input.ps-switch[data-ps-category=analytics]", 20);
    browser.press(&[SPACE]);
    browser
        .wait_for("document.querySelector('input.ps-switch[data-ps-category=analytics]').checked");
    browser.tab_to("#ps-consent-settings [data-ps-action=save]", 20);
    browser.press(&[ENTER]);
    browser.wait_for("window.gatedRan === true");
    assert_eq!(
        consent_cookie(&browser)["c"],
        json!(["necessary", "analytics"])
    );
    assert_eq!(
        browser.js(BANNER_CLOSED_RETURN, json!([])),
        Value::Bool(true)
    );
}

#[test]
fn axe_finds_no_violation_with_the_banner_open_and_with_the_dialog_open() {
    let site = Site::new();
    let browser = open(&site, "/en/privacy/");
    browser.wait_for(BANNER_OPEN);
    assert_eq!(
        browser.axe_violations(),
        Vec::<String>::new(),
        "banner open"
    );
    browser.click("#ps-consent [data-ps-action=customize]");
    browser.wait_for("document.getElementById('ps-consent-settings').open");
    assert_eq!(
        browser.axe_violations(),
        Vec::<String>::new(),
        "dialog open"
    );
}

fn gzipped_size(path: &Path) -> usize {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .expect("run gzip");
    assert!(out.status.success());
    out.stdout.len()
}

#[test]
fn banner_files_fit_their_weight_budget() {
    let site = Site::new();
    let js = gzipped_size(&site.out().join("consent/banner.js"));
    let css = gzipped_size(&site.out().join("consent/banner.css"));
    // 5 KiB, and what the consent receipt needs of it (its code, in
    // receipt.js, is fetched only when the settings open).
    assert!(
        js <= 5 * 1024 + 256,
        "banner.js is {js} bytes gzipped (budget 5376)"
    );
    let receipt = gzipped_size(&site.out().join("consent/receipt.js"));
    assert!(
        receipt <= 2560,
        "receipt.js is {receipt} bytes gzipped (budget 2560)"
    );
    assert!(
        css <= 3 * 1024,
        "banner.css is {css} bytes gzipped (budget 3072)"
    );
    // The banner's markup, one file per language, fetched on every first visit.
    for entry in std::fs::read_dir(site.out().join("consent")).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with(".html") {
            let html = gzipped_size(&path);
            assert!(
                html <= 4 * 1024,
                "{} is {html} bytes gzipped (budget 4096)",
                path.display()
            );
        }
    }
}

// ---- Rights-request forms (issue 4)

/// Fills every answer field of `form` with a valid value and returns them by name.
const FILL_FORM: &str = "
  const form = document.querySelector(arguments[0]);
  const meta = ['schema', 'request_id', 'right', 'policy', 'version', 'lang', 'return_to', 'website'];
  const filled = {};
  Array.from(form.elements).filter((el) => el.name && !meta.includes(el.name)).forEach((el) => {
    let value;
    if (el.tagName === 'SELECT') value = el.options[1].value;
    else if (el.type === 'email') value = 'ada@example.com';
    else if (el.type === 'date') value = '2024-05-01';
    else value = ('Test answer for ' + el.name + ' with enough words').slice(0, el.maxLength > 0 ? el.maxLength : 1000);
    el.value = value;
    filled[el.name] = value;
  });
  return filled;";

fn rights(site: &Site) -> Vec<String> {
    rights_built_in(&site.out())
}

/// The rights with a form page in a built site, by id.
fn rights_built_in(out: &Path) -> Vec<String> {
    let mut rights: Vec<String> = std::fs::read_dir(out.join("en/requests"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "thanks")
        .collect();
    rights.sort();
    rights
}

fn assert_request(site: &Site, post: &Received, right: &str, lang: &str, fields: &Value) -> Value {
    assert_eq!(
        (post.path.as_str(), post.content_type.as_str()),
        ("/requests", "application/json")
    );
    let payload = post.json();
    assert_schema_keys(site, "rights-request.v1.json", &payload);
    assert_eq!(payload["schema"], "rights-request.v1");
    assert!(
        is_uuid_v4(payload["request_id"].as_str().unwrap()),
        "{payload}"
    );
    assert_eq!(
        (
            &payload["right"],
            &payload["policy"],
            &payload["version"],
            &payload["lang"]
        ),
        (
            &json!(right),
            &json!("privacy"),
            &json!(CURRENT),
            &json!(lang)
        )
    );
    assert_eq!(&payload["fields"], fields, "{right}");
    payload
}

const RECEIPT_SHOWN: &str = "!document.querySelector('[data-ps-receipt]').hidden";

#[test]
fn each_right_form_posts_its_request_as_json() {
    let site = Site::new();
    let rights = rights(&site);
    assert_eq!(rights.len(), 8, "{rights:?}");
    let browser = open_answered(&site, "/en/privacy/");
    for (n, right) in rights.iter().enumerate() {
        browser.goto(&site.url(&format!("/en/requests/{right}/")));
        browser.wait_for("document.querySelector('form.ps-request[data-ps-enhanced]')");
        let fields = browser.js(FILL_FORM, json!(["form.ps-request"]));
        browser.click("form.ps-request [data-ps-submit]");
        let posts = site.endpoint.wait_for("/requests", n + 1);
        browser.wait_for(RECEIPT_SHOWN);
        assert_request(&site, &posts[n], right, "en", &fields);
        let reference = browser.js(
            "return document.querySelector('[data-ps-receipt-reference]').textContent;",
            json!([]),
        );
        assert!(
            reference.as_str().is_some_and(|r| r.starts_with("REF-")),
            "reference: {reference}"
        );
        browser.assert_csp_clean();
    }
}

#[test]
fn a_form_embedded_in_section_08_posts_in_the_page_language() {
    let site = Site::new();
    let browser = open_answered(&site, "/fr/privacy/");
    browser.wait_for("document.querySelector('#form-access[data-ps-enhanced]')");
    browser.click("details:has(#form-access) > summary");
    let fields = browser.js(FILL_FORM, json!(["#form-access"]));
    browser.click("#form-access [data-ps-submit]");
    let posts = site.endpoint.wait_for("/requests", 1);
    assert_request(&site, &posts[0], "access", "fr", &fields);
    browser.wait_for("!document.querySelector('#form-access [data-ps-receipt]').hidden");
}

#[test]
fn a_server_error_then_a_retry_stores_one_request_and_keeps_what_was_typed() {
    let site = Site::new();
    site.endpoint.answer_next("/requests", &[500]);
    let browser = open_answered(&site, "/en/requests/access/");
    browser.wait_for("document.querySelector('form.ps-request[data-ps-enhanced]')");
    let fields = browser.js(FILL_FORM, json!(["form.ps-request"]));
    let name = browser.find("#form-access-name");
    browser.js(
        "document.getElementById('form-access-name').value = '';",
        json!([]),
    );
    browser.type_into(&name, "Ada Lovelace");
    let mut fields = fields;
    fields["name"] = json!("Ada Lovelace");
    browser.click("[data-ps-submit]");
    browser.wait_for("document.querySelector('[data-ps-alert]').textContent.includes('500')");
    let kept = browser.js("const f = {}; Array.from(document.querySelector('form.ps-request').elements).filter((el) => el.name && el.name in arguments[0]).forEach((el) => { f[el.name] = el.value; }); return f;", json!([fields]));
    assert_eq!(kept, fields, "what was typed changed after the failure");
    assert!(browser.active_matches("[data-ps-submit]"));
    browser.click("[data-ps-submit]");
    browser.wait_for(RECEIPT_SHOWN);
    let posts = site.endpoint.received("/requests");
    assert_eq!(
        posts.iter().map(|p| p.status).collect::<Vec<_>>(),
        [500, 201]
    );
    let first = assert_request(&site, &posts[0], "access", "en", &fields);
    let second = assert_request(&site, &posts[1], "access", "en", &fields);
    assert_eq!(
        first["request_id"], second["request_id"],
        "the retry must reuse the request id"
    );
    let receipt = browser.js(
        "return document.querySelector('[data-ps-receipt]').textContent;",
        json!([]),
    );
    let receipt = receipt.as_str().unwrap();
    assert!(
        receipt.contains("REF-") && receipt.contains(first["request_id"].as_str().unwrap()),
        "receipt: {receipt}"
    );
}

#[test]
fn a_second_click_while_sending_does_nothing() {
    let site = Site::new();
    site.endpoint
        .set_delay(std::time::Duration::from_millis(1500));
    let browser = open_answered(&site, "/en/requests/erasure/");
    browser.wait_for("document.querySelector('form.ps-request[data-ps-enhanced]')");
    browser.js(FILL_FORM, json!(["form.ps-request"]));
    browser.click("[data-ps-submit]");
    site.endpoint.wait_for("/requests", 1);
    let _ = browser.try_click("[data-ps-submit]"); // disabled while sending: may be refused
    browser.js(
        "document.querySelector('form.ps-request').requestSubmit();",
        json!([]),
    );
    browser.wait_for(RECEIPT_SHOWN);
    assert_eq!(site.endpoint.received("/requests").len(), 1);
}

/// Answers every required field of the form `form_css` by typing, as a visitor
/// without JavaScript would (a select takes its first real option's label).
fn fill_required_fields(browser: &Browser, form_css: &str) {
    for id in browser.find_all(&format!("{form_css} [required]")) {
        match (
            browser.property(&id, "tagName").as_str().unwrap(),
            browser.property(&id, "type").as_str().unwrap(),
        ) {
            ("SELECT", _) => {
                let select = browser.property(&id, "id");
                let option = browser.find(&format!(
                    "#{} option:nth-child(2)",
                    select.as_str().unwrap()
                ));
                let label = browser.property(&option, "text");
                browser.type_into(&id, label.as_str().unwrap());
            }
            (_, "email") => browser.type_into(&id, "ada@example.com"),
            _ => browser.type_into(&id, "Ada Lovelace"),
        }
    }
}

#[test]
fn without_javascript_the_form_posts_urlencoded_and_lands_on_the_thank_you_page() {
    let site = Site::new();
    let browser = Browser::start(webdriver::Options {
        javascript_off: true,
        ..Default::default()
    });
    browser.goto(&site.url("/en/requests/access/"));
    fill_required_fields(&browser, "form.ps-request");
    browser.click("form.ps-request [data-ps-submit]");
    let posts = site.endpoint.wait_for("/requests", 1);
    assert_eq!(posts[0].content_type, "application/x-www-form-urlencoded");
    let form = posts[0].form();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(
        (get("schema"), get("right"), get("lang"), get("version")),
        (
            Some("rights-request.v1"),
            Some("access"),
            Some("en"),
            Some(CURRENT)
        )
    );
    assert_eq!(
        (get("name"), get("email"), get("return_to")),
        (
            Some("Ada Lovelace"),
            Some("ada@example.com"),
            Some("/en/requests/thanks/")
        )
    );
    let deadline = std::time::Instant::now() + webdriver::WAIT;
    while browser.url() != site.url("/en/requests/thanks/") {
        assert!(
            std::time::Instant::now() < deadline,
            "did not land on the thank-you page: {}",
            browser.url()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_request_can_be_filled_and_sent_with_the_keyboard_alone() {
    let site = Site::new();
    let browser = open(&site, "/en/requests/access/");
    browser.wait_for(BANNER_OPEN);
    browser.tab_to("#ps-consent [data-ps-action=reject_all]", 10);
    browser.press(&[ENTER]);
    browser.wait_for(BANNER_CLOSED);
    browser.tab_to("#form-access-name", 40);
    let mut typed = serde_json::Map::new();
    for _ in 0..30 {
        let el = browser.js("const el = document.activeElement; return { tag: el.tagName, type: el.type || '', name: el.name || '', required: el.required, submit: el.hasAttribute('data-ps-submit') };", json!([]));
        if el["submit"] == true {
            browser.press(&[ENTER]);
            break;
        }
        let name = el["name"].as_str().unwrap().to_string();
        if el["required"] == true {
            match (el["tag"].as_str().unwrap(), el["type"].as_str().unwrap()) {
                ("SELECT", _) => browser.press(&[ARROW_DOWN]),
                (_, "email") => browser.type_keys("ada@example.com"),
                _ => browser.type_keys("Ada Lovelace"),
            }
            let value = browser.js("return document.activeElement.value;", json!([]));
            typed.insert(name, value);
        }
        browser.press(&[TAB]);
    }
    let posts = site.endpoint.wait_for("/requests", 1);
    let request = posts
        .iter()
        .find(|p| p.path == "/requests")
        .expect("no request posted");
    let payload = assert_request(
        &site,
        request,
        "access",
        "en",
        &Value::Object(typed.clone()),
    );
    assert!(typed.values().all(|v| v != ""), "{payload}");
    browser.wait_for(RECEIPT_SHOWN);
}

#[test]
fn axe_finds_no_violation_on_a_form_page_empty_and_after_a_failed_submit() {
    let site = Site::new();
    let browser = open(&site, "/en/requests/rectification/");
    browser.wait_for("document.querySelector('form.ps-request[data-ps-enhanced]')");
    browser.click("#ps-consent [data-ps-action=reject_all]");
    browser.wait_for(BANNER_CLOSED);
    assert_eq!(browser.axe_violations(), Vec::<String>::new(), "empty form");
    browser.click("[data-ps-submit]");
    browser.wait_for("document.querySelector('[aria-invalid=true]') && document.querySelector('[data-ps-alert]').textContent");
    assert_eq!(
        browser.axe_violations(),
        Vec::<String>::new(),
        "after a failed submit"
    );
    assert!(
        browser.active_matches("[aria-invalid=true]"),
        "focus should move to the first invalid field"
    );
}

#[test]
fn every_built_page_is_valid_html() {
    let site = Site::new();
    let jar = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/vnu-jar/build/dist/vnu.jar");
    assert!(
        jar.exists(),
        "{} is missing: run `bash tests/setup.sh` first",
        jar.display()
    );
    // The banner's files are fragments that banner.js adds to a page: each
    // is checked inside the page that links it, as a browser ends up with it.
    let is_banner = |p: &Path| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("banner."))
    };
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(site.out())
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "html") && !is_banner(p))
        .collect();
    let joined = tempfile::tempdir().unwrap();
    for lang in ["en", "fr"] {
        let page =
            std::fs::read_to_string(site.out().join(format!("{lang}/privacy/index.html"))).unwrap();
        let banners: Vec<PathBuf> = std::fs::read_dir(site.out().join("consent"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| is_banner(p) && p.to_string_lossy().contains(&format!("banner.{lang}.")))
            .collect();
        assert_eq!(banners.len(), 1, "one banner file for {lang}");
        let fragment = std::fs::read_to_string(&banners[0]).unwrap();
        let whole = joined.path().join(format!("{lang}-page-with-banner.html"));
        std::fs::write(
            &whole,
            page.replace("</body>", &format!("{fragment}</body>")),
        )
        .unwrap();
        files.push(whole);
    }
    assert!(files.len() > 40, "{} pages", files.len());
    let out = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--skip-non-html"])
        .args(&files)
        .output()
        .expect("run java (run `bash tests/setup.sh`)");
    let report = String::from_utf8_lossy(&out.stderr)
        .replace(&format!("file:{}/", site.out().display()), "");
    assert!(out.status.success(), "vnu found errors:\n{report}");
}

// ---- Endpoint overrides (issue 4 and 5)

/// The values of `attribute` on every start tag containing `marker`, in every HTML page under `dir`.
fn attribute_values(dir: &Path, marker: &str, attribute: &str) -> Vec<String> {
    let mut values = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
    {
        let html = std::fs::read_to_string(entry.path()).unwrap();
        for tag in html.split('<').filter(|t| t.contains(marker)) {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            // The attribute, after any white space (tags may span lines).
            let named = format!("{attribute}=");
            let Some(start) = tag.match_indices(&named).find_map(|(i, _)| {
                tag[..i]
                    .ends_with(|c: char| c.is_ascii_whitespace())
                    .then_some(i)
            }) else {
                continue;
            };
            let rest = &tag[start + named.len()..];
            let value = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
                _ => rest.split([' ', '>']).next().unwrap_or(""),
            };
            values.push(value.to_string());
        }
    }
    values
}

fn assert_endpoints(out: &Path, requests: &str, consent: &str) {
    let actions = attribute_values(out, "ps-request", "action");
    assert!(
        actions.len() >= 16,
        "expected forms in both languages, found {}",
        actions.len()
    );
    assert!(
        actions.iter().all(|a| a == requests),
        "form actions: {actions:?}"
    );
    // The banner is in one file per language, which every page links.
    let endpoints = attribute_values(out, "id=\"ps-consent\"", "data-endpoint");
    assert!(
        endpoints.len() == 2 && endpoints.iter().all(|e| e == consent),
        "banner endpoints: {endpoints:?}"
    );
    let headers = std::fs::read_to_string(out.join("_headers")).unwrap();
    assert!(
        !headers.contains("127.0.0.1:8787"),
        "_headers still allows the configured endpoint:\n{headers}"
    );
}

const STAGING_REQUESTS: &str = "https://staging.example.org/requests";
const STAGING_CONSENT: &str = "https://staging.example.org/consent";

#[test]
fn endpoint_flags_override_the_configured_endpoints() {
    let fixture = example_copy();
    let options = Options {
        root: fixture.root().to_path_buf(),
        requests_endpoint: Some(STAGING_REQUESTS.to_string()),
        consent_endpoint: Some(STAGING_CONSENT.to_string()),
        ..Default::default()
    };
    build::build(&options).unwrap_or_else(|e| panic!("{e:?}"));
    assert_endpoints(&fixture.out(""), STAGING_REQUESTS, STAGING_CONSENT);
}

#[test]
fn endpoint_environment_variables_override_the_configured_endpoints() {
    let fixture = example_copy();
    let out = Command::new(env!("CARGO_BIN_EXE_policy-site"))
        .args(["build", "--quiet", "--root"])
        .arg(fixture.root())
        .env(build::REQUESTS_ENV, STAGING_REQUESTS)
        .env(build::CONSENT_ENV, STAGING_CONSENT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_endpoints(&fixture.out(""), STAGING_REQUESTS, STAGING_CONSENT);
}

// ---- The visitor's page (issue 12)

/// A screen: (name, width, height in CSS pixels, whether it is a phone's).
type Screen = (&'static str, u32, u32, bool);

/// The two screens every visitor-page check runs on.
const SCREENS: [Screen; 2] = [("desktop", 1280, 800, false), ("phone", 390, 844, true)];

/// Every language of the example on every screen.
fn every_language_and_screen() -> Vec<(&'static str, Screen)> {
    ["en", "fr"]
        .into_iter()
        .flat_map(|lang| SCREENS.map(|screen| (lang, screen)))
        .collect()
}

/// The current policy in `lang` on `screen`, on a first visit: the banner shown and settled.
fn open_with_banner(site: &Site, lang: &str, screen: Screen) -> Browser {
    let browser = open_on(site, &format!("/{lang}/privacy/"), screen);
    browser.wait_for(BANNER_OPEN);
    browser.wait_for(SETTLED);
    browser
}

/// A browser showing `path` on `screen`, before any consent choice.
fn open_on(site: &Site, path: &str, screen: Screen) -> Browser {
    let browser = Browser::start(webdriver::Options::default());
    browser.set_viewport(screen.1, screen.2, screen.3);
    browser.goto(&site.url(path));
    browser
}

/// Waits until the banner has finished sliding in.
const SETTLED: &str = "document.getAnimations().every((a) => a.playState === 'finished')";

/// The same, with the banner answered (Reject all).
fn open_answered_on(site: &Site, path: &str, screen: Screen) -> Browser {
    let browser = open_on(site, path, screen);
    browser.wait_for(BANNER_OPEN);
    browser.click("#ps-consent [data-ps-action=reject_all]");
    browser.wait_for(BANNER_CLOSED);
    browser
}

/// The first rights form of the page's text and its first field a visitor fills in.
const FIRST_FORM: &str = "const form = document.querySelector('.policy form.ps-request'); const field = form.querySelector('[data-ps-fields] input:not([type=hidden]):not([tabindex=\"-1\"]), [data-ps-fields] select, [data-ps-fields] textarea');";

#[test]
fn forms_wait_behind_a_call_to_action_and_open_in_place_with_the_focus_inside() {
    let site = Site::new();
    for (lang, screen) in every_language_and_screen() {
        let browser = open_answered_on(&site, &format!("/{lang}/privacy/"), screen);
        let closed = browser.js(&format!("{FIRST_FORM} field.focus(); const focusable = document.activeElement === field; field.blur(); return {{ visible: field.checkVisibility(), focusable, standalone: !!form.closest('.ps-request-cta').querySelector('.ps-request__standalone a[href*=\"/requests/\"]'), height: document.documentElement.scrollHeight }};"), json!([]));
        eprintln!(
            "{lang} {}: policy page {} px high with its forms closed",
            screen.0, closed["height"]
        );
        assert_eq!(
                (&closed["visible"], &closed["focusable"], &closed["standalone"]),
                (&json!(false), &json!(false), &json!(true)),
                "{lang} {}: the first form's fields are in the reading flow, or its own page's link is missing",
                screen.0
            );
        browser.js(
            "document.querySelector('.policy .ps-request-cta summary').focus();",
            json!([]),
        );
        browser.press(&[ENTER]);
        browser.wait_for("document.querySelector('.policy .ps-request-disclosure').open");
        browser.wait_for(&format!("(() => {{ {FIRST_FORM} return document.activeElement === field && field.checkVisibility(); }})()"));
        browser.press(&[SPACE]);
        browser.wait_for(&format!("(() => {{ {FIRST_FORM} return field.value === ' ' || field.tagName === 'SELECT'; }})()"));
        browser.goto(&site.url(&format!("/{lang}/privacy/#form-erasure")));
        browser.wait_for("document.getElementById('form-erasure').closest('details').open");
    }
}

#[test]
fn without_javascript_an_embedded_form_opens_and_posts_and_the_settings_button_is_hidden() {
    let site = Site::new();
    let browser = Browser::start(webdriver::Options {
        javascript_off: true,
        ..Default::default()
    });
    browser.goto(&site.url("/en/privacy/"));
    let settings = browser.find("[data-ps-consent-open]");
    assert_eq!(browser.property(&settings, "hidden"), json!(true));
    let note = browser.find(".noscript-note");
    let note_text = browser.property(&note, "textContent");
    assert!(
        note_text.as_str().unwrap().contains("JavaScript"),
        "no sentence on how choices work without JavaScript: {note_text}"
    );
    let details = browser.find(".ps-request-disclosure");
    assert_eq!(browser.property(&details, "open"), json!(false));
    browser.click(".ps-request-cta summary");
    assert_eq!(browser.property(&details, "open"), json!(true));
    fill_required_fields(&browser, "#form-access");
    browser.click("#form-access [data-ps-submit]");
    let posts = site.endpoint.wait_for("/requests", 1);
    assert_eq!(posts[0].content_type, "application/x-www-form-urlencoded");
}

/// Each element's box against the viewport: the ones not wholly inside it.
const OUTSIDE_VIEWPORT: &str = "return Array.from(document.querySelectorAll(arguments[0])).map((el) => { const r = el.getBoundingClientRect(); return { text: el.textContent.trim(), top: r.top, bottom: r.bottom, left: r.left, right: r.right }; }).filter((r) => r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth);";

#[test]
fn the_dialog_buttons_are_in_the_viewport_when_it_opens() {
    let site = Site::new();
    for (lang, screen) in every_language_and_screen() {
        let browser = open_with_banner(&site, lang, screen);
        browser.click("#ps-consent [data-ps-action=customize]");
        browser.wait_for("document.getElementById('ps-consent-settings').open");
        let buttons = "#ps-consent-settings .ps-consent__actions button";
        assert_eq!(browser.find_all(buttons).len(), 3);
        let outside = browser.js(OUTSIDE_VIEWPORT, json!([buttons]));
        assert_eq!(
            outside,
            json!([]),
            "{lang} {}: dialog buttons out of view",
            screen.0
        );
    }
}

#[test]
fn the_banner_stays_within_its_share_of_the_screen() {
    let site = Site::new();
    for lang in ["en", "fr"] {
        for (screen, limit) in SCREENS.into_iter().zip([0.20, 0.30]) {
            let browser = open_with_banner(&site, lang, screen);
            let share = browser
                .js("return document.getElementById('ps-consent').getBoundingClientRect().height / innerHeight;", json!([]))
                .as_f64()
                .unwrap();
            eprintln!(
                "{lang} {}: the banner covers {:.1}% of the screen",
                screen.0,
                share * 100.0
            );
            assert!(
                share > 0.05 && share <= limit,
                "{lang} {}: the banner covers {:.1}% of the screen (at most {:.0}%)",
                screen.0,
                share * 100.0,
                limit * 100.0
            );
            let outside = browser.js(
                OUTSIDE_VIEWPORT,
                json!(["#ps-consent button:not([hidden])"]),
            );
            assert_eq!(
                outside,
                json!([]),
                "{lang} {}: banner buttons out of view",
                screen.0
            );
        }
    }
}

/// One page of each kind the site builds, in `lang`.
fn page_types(lang: &str) -> Vec<String> {
    [
        "/".to_string(),
        format!("/{lang}/"),
        format!("/{lang}/privacy/"),
        format!("/{lang}/privacy/2023-06-12/"),
        format!("/{lang}/privacy/history/"),
        format!("/{lang}/privacy/changes/2025-01-30/"),
        format!("/{lang}/privacy/changes/2023-06-12/2025-03-03/"),
        format!("/{lang}/requests/access/"),
        format!("/{lang}/requests/thanks/"),
        "/404.html".to_string(),
    ]
    .into()
}

#[test]
fn no_request_fails_and_axe_finds_no_violation_on_any_page_type() {
    let site = Site::new();
    for (lang, screen) in every_language_and_screen() {
        let browser = open_answered_on(&site, &format!("/{lang}/privacy/"), screen);
        for path in page_types(lang) {
            browser.goto(&site.url(&path));
            browser.wait_for("document.readyState === 'complete'");
            assert_eq!(
                    browser.js("const icon = document.querySelector('link[rel~=icon]'); return icon && icon.getAttribute('href');", json!([])),
                    json!("data:,"),
                    "{path}: no site icon declared, so browsers ask for /favicon.ico"
                );
            let failed: Vec<_> = browser
                .responses()
                .into_iter()
                .filter(|(status, _)| *status >= 400)
                .collect();
            assert_eq!(
                failed,
                vec![],
                "{lang} {} {path}: failed requests",
                screen.0
            );
            assert_eq!(
                browser.axe_violations(),
                Vec::<String>::new(),
                "{lang} {} {path}",
                screen.0
            );
        }
    }
}

/// The words of a text, in order: letters and digits only, ligatures undone.
fn words(text: &str) -> Vec<String> {
    text.replace('\u{fb01}', "fi")
        .replace('\u{fb02}', "fl")
        .replace('\u{fb00}', "ff")
        .replace('\u{fb03}', "ffi")
        .replace('\u{fb04}', "ffl")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// pdftotext joins a word hyphenated at a line's end ("interest-⏎based"
/// becomes "interestbased"), and a deleted word with the inserted one right
/// after it: split such a word back into the page's words.
fn undo_line_end_hyphenation(word: &str, known: &std::collections::HashSet<&str>) -> Vec<String> {
    fn split(word: &str, known: &std::collections::HashSet<&str>) -> Option<Vec<String>> {
        if known.contains(word) {
            return Some(vec![word.to_string()]);
        }
        // The longest known head first: "andor" is "and" + "or", not "an" + "d" + "or".
        word.char_indices()
            .rev()
            .filter(|&(i, _)| i > 0)
            .find_map(|(i, _)| {
                let head = &word[..i];
                let mut rest = split(&word[i..], known).filter(|_| known.contains(head))?;
                rest.insert(0, head.to_string());
                Some(rest)
            })
    }
    split(word, known).unwrap_or_else(|| vec![word.to_string()])
}

/// The text of a PDF, by `pdftotext` (Debian's poppler-utils), and its page count.
fn pdf_text(pdf: &[u8]) -> (String, usize) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("page.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("run pdftotext (run `bash tests/setup.sh`, which installs poppler-utils)");
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let pages = text.matches('\u{c}').count();
    (text, pages)
}

/// What each part of the page holds for a reader: policy sections (their
/// forms aside, which print as their address) or the redline's summary and
/// sections, collapsed parts included.
const PAGE_PARTS: &str = "return Array.from(document.querySelectorAll('article.policy > header, article.policy > section, article.changes > *')).map((part) => { const copy = part.cloneNode(true); copy.querySelectorAll('p, li, h1, h2, h3, h4, td, th, dt, dd, caption, summary, legend, del, ins').forEach((el) => el.append(' ')); copy.querySelectorAll('.ps-request-disclosure, .anchor, .policy-links, .visually-hidden, [hidden]').forEach((el) => el.remove()); return [part.id || part.className, copy.textContent]; });";

/// The words of the page's parts (part name, text) missing from the printed
/// text, counted: one line per word and part.
fn missing_words(parts: &[(String, String)], printed_text: &str) -> Vec<String> {
    use std::collections::{HashMap, HashSet};
    let mut needed: HashMap<String, usize> = HashMap::new();
    let mut found_in: HashMap<String, HashSet<&str>> = HashMap::new();
    for (part, text) in parts {
        for word in words(text) {
            found_in.entry(word.clone()).or_default().insert(part);
            *needed.entry(word).or_default() += 1;
        }
    }
    let known: HashSet<&str> = needed.keys().map(String::as_str).collect();
    let mut printed: HashMap<String, usize> = HashMap::new();
    let mut split = Vec::new();
    for word in words(printed_text) {
        let pieces = undo_line_end_hyphenation(&word, &known);
        if pieces.len() > 1 {
            split.push(pieces.join("+"));
        }
        for piece in pieces {
            *printed.entry(piece).or_default() += 1;
        }
    }
    let mut missing: Vec<String> = needed
        .iter()
        .filter(|(word, n)| printed.get(*word).copied().unwrap_or(0) < **n)
        .map(|(word, n)| {
            let got = printed.get(word).copied().unwrap_or(0);
            format!("{word} (page {n}, printed {got}; in {:?})", found_in[word])
        })
        .collect();
    missing.sort();
    if !missing.is_empty() {
        missing.push(format!("(printed words split back: {split:?})"));
    }
    missing
}

#[test]
fn printed_pages_hold_every_section_in_black_and_white_with_link_targets() {
    let site = Site::new();
    let browser = open_answered(&site, "/en/privacy/");
    for lang in ["en", "fr"] {
        for path in [
            format!("/{lang}/privacy/"),
            format!("/{lang}/privacy/2023-06-12/"),
            format!("/{lang}/privacy/changes/2025-03-03/"),
            format!("/{lang}/privacy/changes/2025-01-30/"),
        ] {
            browser.goto(&site.url(&path));
            browser.wait_for("document.readyState === 'complete'");
            let parts: Vec<(String, String)> =
                serde_json::from_value(browser.js(PAGE_PARTS, json!([]))).unwrap();
            assert!(parts.len() > 3, "{path}: found only {} parts", parts.len());
            let (text, pages) = pdf_text(&browser.print_pdf());
            eprintln!("{path}: {pages} printed pages");
            let missing = missing_words(&parts, &text);
            assert!(
                missing.is_empty(),
                "{path}: the PDF lacks words the page holds: {missing:?}"
            );
            let link = if path.contains("changes") {
                format!("/{lang}/privacy/")
            } else {
                "mailto:support@iconnek.io".to_string()
            };
            assert!(
                text.contains(&link),
                "{path}: link targets are not printed ({link})"
            );
            if path == format!("/{lang}/privacy/") {
                assert!(
                    text.contains(&format!("/{lang}/requests/access/")),
                    "{path}: the access form's address is not printed"
                );
                let legend = browser.js(
                    "return document.querySelector('#form-access legend').textContent;",
                    json!([]),
                );
                assert!(
                    !text.contains(legend.as_str().unwrap()),
                    "{path}: an empty form was printed"
                );
            }
            browser.emulate_media("print");
            let coloured = browser.js("return Array.from(document.querySelectorAll('main p, main li, main a, main h1, main h2, main h3, main ins, main del, main td, main th')).filter((el) => el.checkVisibility()).map((el) => [el.tagName, getComputedStyle(el).color, getComputedStyle(el).backgroundColor]).filter(([, colour, background]) => colour !== 'rgb(0, 0, 0)' || (background !== 'rgba(0, 0, 0, 0)' && background !== 'rgb(255, 255, 255)'));", json!([]));
            assert_eq!(
                coloured,
                json!([]),
                "{path}: printed text that is not black on white"
            );
            browser.emulate_media("");
        }
    }
}

/// The repairs listed in examples-notes/REPAIRS.md: (source passage, page text).
fn listed_repairs(notes: &str) -> Vec<(String, String)> {
    let quoted = |line: &str, key: &str| {
        line.trim()
            .strip_prefix(&format!("- {key}: `"))
            .and_then(|rest| rest.strip_suffix('`'))
            .map(|text| text.replace('⏎', "\n"))
    };
    let lines: Vec<&str> = notes.lines().collect();
    lines
        .windows(2)
        .filter_map(|pair| Some((quoted(pair[0], "source")?, quoted(pair[1], "page")?)))
        .collect()
}

#[test]
fn the_current_example_page_matches_its_source_apart_from_the_listed_repairs() {
    let notes_dir = common::example_root().join("examples-notes");
    let mut source =
        std::fs::read_to_string(notes_dir.join("source/privacy-2025-01-30.txt")).unwrap();
    let repairs = listed_repairs(&std::fs::read_to_string(notes_dir.join("REPAIRS.md")).unwrap());
    assert!(
        repairs.len() >= 10,
        "only {} repairs read from REPAIRS.md",
        repairs.len()
    );
    for (from, to) in &repairs {
        assert_eq!(
            source.matches(from.as_str()).count(),
            1,
            "REPAIRS.md: the source holds {from:?} not exactly once"
        );
        source = source.replacen(from.as_str(), to, 1);
    }
    // The repaired source, cut where a line starts with a section number ("04 - …").
    let mut expected: Vec<String> = vec![String::new()];
    for line in source.lines() {
        let numbered =
            line.len() > 5 && line[..2].bytes().all(|b| b.is_ascii_digit()) && &line[2..5] == " - ";
        if numbered {
            expected.push(String::new());
        }
        expected.last_mut().unwrap().push_str(&format!("{line}\n"));
    }

    // The example as published: built for its own newest date, so 2025-01-30 is current.
    let fixture = example_copy();
    let server = StaticSite::start(fixture.root().join("public"));
    let options = Options {
        root: fixture.root().to_path_buf(),
        out: Some(PathBuf::from("public")),
        base_url: Some(server.origin.clone()),
        ..Default::default()
    };
    build::build(&options).unwrap_or_else(|e| panic!("build failed: {e:?}"));
    let browser = Browser::start(webdriver::Options::default());
    browser.goto(&server.url("/en/privacy/"));
    assert_eq!(
        browser.js(
            "return document.querySelector('article.policy').dataset.version;",
            json!([])
        ),
        json!(CURRENT_AS_PUBLISHED)
    );
    let page = browser.js("return Array.from(document.querySelectorAll('article.policy > section')).map((s) => { const copy = s.cloneNode(true); copy.querySelectorAll('p, li, h1, h2, h3, h4, td, th, dt, dd, caption, summary, legend').forEach((el) => el.append(' ')); copy.querySelectorAll('.ps-request-cta, .ps-cookie-tables, .anchor').forEach((el) => el.remove()); return copy.textContent; });", json!([]));
    let page: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        page.len(),
        expected.len(),
        "sections on the page and in the source"
    );
    for (number, (shown, wanted)) in page.iter().zip(&expected).enumerate() {
        let (shown, wanted) = (words(shown), words(wanted));
        if let Some(at) =
            (0..shown.len().max(wanted.len())).find(|&i| shown.get(i) != wanted.get(i))
        {
            let around = |w: &[String]| w[at.saturating_sub(8)..(at + 8).min(w.len())].join(" ");
            panic!("section {number:02} departs from its source at word {at}:\n  page:   …{}…\n  source: …{}…", around(&shown), around(&wanted));
        }
    }
}

/// The version in force when the example is built without a date.
const CURRENT_AS_PUBLISHED: &str = "2025-01-30";

#[test]
fn every_storage_key_the_banner_uses_is_in_the_cookie_inventory() {
    let site = Site::new();
    site.endpoint.set_down(true);
    let browser = open(&site, "/en/privacy/");
    browser.wait_for(BANNER_OPEN);
    browser.click("#ps-consent [data-ps-action=accept_all]");
    browser.wait_for(BANNER_CLOSED);
    let keys = browser.js("return [...document.cookie.split('; ').filter(Boolean).map((c) => c.split('=')[0]), ...Object.keys(localStorage), ...Object.keys(sessionStorage)];", json!([]));
    let keys: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"ps_consent") && keys.contains(&"ps_consent_queue"),
        "stored: {keys:?}"
    );
    let listed = browser.js("return Array.from(document.querySelectorAll('.ps-cookie-table code')).map((c) => c.textContent);", json!([]));
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    for key in keys {
        assert!(
            listed
                .iter()
                .any(|name| *name == key
                    || name.strip_suffix('*').is_some_and(|p| key.starts_with(p))),
            "{key} is stored but not in the cookie inventory {listed:?}"
        );
    }
}

#[test]
fn screenshots_of_the_policy_a_redline_the_banner_and_the_dialog_are_written() {
    let site = Site::new();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let save = |browser: &Browser, name: &str, screen: Screen| {
        let png = browser.screenshot();
        assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(width, screen.1, "{name}: screenshot width");
        std::fs::write(dir.join(format!("{name}-{}.png", screen.0)), png).unwrap();
    };
    for screen in SCREENS {
        let browser = open_on(&site, "/en/privacy/", screen);
        browser.wait_for(BANNER_OPEN);
        browser.wait_for(SETTLED);
        save(&browser, "banner", screen);
        browser.click("#ps-consent [data-ps-action=customize]");
        browser.wait_for("document.getElementById('ps-consent-settings').open");
        save(&browser, "dialog", screen);
        browser.click("#ps-consent-settings [data-ps-action=reject_all]");
        browser.wait_for("!document.getElementById('ps-consent-settings').open");
        browser.js(
            "document.getElementById('form-access').closest('.ps-request-cta').scrollIntoView({ behavior: 'instant', block: 'center' });",
            json!([]),
        );
        save(&browser, "policy", screen);
        browser.goto(&site.url("/en/privacy/changes/2025-01-30/"));
        browser.wait_for("document.readyState === 'complete'");
        save(&browser, "redline", screen);
    }
    eprintln!("screenshots in {}", dir.display());
}

// ---- Against `policy-site receive` on SQLite and PostgreSQL (issue 10)

/// Fills every required field of the page's form by typing, as a person
/// without JavaScript would.
fn type_required_answers(browser: &Browser) {
    for id in browser.find_all("form.ps-request [required]") {
        let kind = browser.property(&id, "type");
        let text = match kind.as_str().unwrap() {
            "select-one" => {
                let select = browser.property(&id, "id");
                let option = browser.find(&format!(
                    "#{} option:nth-child(2)",
                    select.as_str().unwrap()
                ));
                browser
                    .property(&option, "text")
                    .as_str()
                    .unwrap()
                    .to_string()
            }
            "email" => "ada@example.com".to_string(),
            "date" => "01022025".to_string(),
            _ => "Ada Lovelace asks about her data".to_string(),
        };
        browser.type_into(&id, &text);
    }
}

/// Every form on its own page, with and without JavaScript, and a consent
/// choice, posted to a real `receive`; the operator commands find them all.
fn forms_and_consent_reach_receive_and_operators_find_them(db: impl FnOnce(&Path) -> String) {
    let fixture = example_copy();
    let server = StaticSite::start(fixture.root().join("public"));
    let receiving = Receiving::start(&db(fixture.root()), &server.origin, fixture.root(), &[]);
    let endpoint = format!("http://127.0.0.1:{}", receiving.port);
    let options = Options {
        root: fixture.root().to_path_buf(),
        out: Some(PathBuf::from("public")),
        date: Date::new(2030, 1, 1),
        requests_endpoint: Some(format!("{endpoint}/requests")),
        consent_endpoint: Some(format!("{endpoint}/consent")),
        base_url: Some(server.origin.clone()),
        ..Default::default()
    };
    build::build(&options).unwrap_or_else(|e| panic!("build failed: {e:?}"));
    let rights = rights_built_in(&fixture.root().join("public"));
    assert_eq!(rights.len(), 8, "{rights:?}");

    let browser = Browser::start(webdriver::Options::default());
    browser.goto(&server.url("/en/privacy/"));
    browser.wait_for(BANNER_OPEN);
    browser.click("#ps-consent [data-ps-action=accept_all]");
    browser.wait_for("!localStorage.getItem('ps_consent_queue') || localStorage.getItem('ps_consent_queue') === '[]'");
    let consent_id = consent_cookie(&browser)["id"].as_str().unwrap().to_string();
    let mut references = Vec::new();
    for right in &rights {
        browser.goto(&server.url(&format!("/en/requests/{right}/")));
        browser.wait_for("document.querySelector('form.ps-request[data-ps-enhanced]')");
        browser.js(FILL_FORM, json!(["form.ps-request"]));
        browser.click("form.ps-request [data-ps-submit]");
        browser.wait_for(RECEIPT_SHOWN);
        let reference = browser.js(
            "return document.querySelector('[data-ps-receipt-reference]').textContent;",
            json!([]),
        );
        references.push(reference.as_str().unwrap().to_string());
    }
    let plain = Browser::start(webdriver::Options {
        javascript_off: true,
        ..Default::default()
    });
    for right in &rights {
        plain.goto(&server.url(&format!("/fr/requests/{right}/")));
        type_required_answers(&plain);
        plain.click("form.ps-request [data-ps-submit]");
        let deadline = std::time::Instant::now() + webdriver::WAIT;
        while plain.find_all("#reference").is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "{right}: no receipt page at {}",
                plain.url()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(plain.url().starts_with(&endpoint), "{}", plain.url());
        let page = plain.find("html");
        assert_eq!(plain.property(&page, "lang"), "fr");
        let shown = plain.property(&plain.find("#reference"), "textContent");
        references.push(shown.as_str().unwrap().to_string());
    }

    let stored = receiving.operator(&["requests", "list", "--format", "jsonl"]);
    let mut found: Vec<(String, String, String)> = stored
        .iter()
        .map(|r| {
            (
                r["reference"].as_str().unwrap().to_string(),
                r["right"].as_str().unwrap().to_string(),
                r["lang"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    let mut expected: Vec<(String, String, String)> = references
        .iter()
        .zip(
            rights
                .iter()
                .map(|r| (r, "en"))
                .chain(rights.iter().map(|r| (r, "fr"))),
        )
        .map(|(reference, (right, lang))| (reference.clone(), right.clone(), lang.to_string()))
        .collect();
    expected.sort();
    assert_eq!(found, expected);
    assert!(stored.iter().all(|r| r["origin"] == server.origin.as_str()));
    let consents = receiving.operator(&["consents", "export", "--consent-id", &consent_id]);
    assert_eq!(consents.len(), 1, "{consents:?}");
    assert_eq!(consents[0]["record"]["action"], "accept_all");
}

#[test]
fn every_form_and_a_consent_choice_reach_receive_on_sqlite() {
    forms_and_consent_reach_receive_and_operators_find_them(|dir| {
        dir.join("receipts.sqlite").display().to_string()
    });
}

#[test]
fn every_form_and_a_consent_choice_reach_receive_on_postgres() {
    forms_and_consent_reach_receive_and_operators_find_them(|_| postgres_database("browser"));
}

// ---- The operator console (issue 20), against `policy-site receive`

const PASSWORD: &str = "correct horse battery staple";

/// A receiver with three operators and two requests, one of them overdue.
fn console_receiver(dir: &Path) -> (Receiving, String) {
    let db = dir.join("receipts.sqlite").display().to_string();
    for (name, role) in [("hana", "handler"), ("vic", "viewer"), ("ada", "admin")] {
        receiving::add_operator(&db, name, role, PASSWORD);
    }
    let origin = "https://policies.example.org";
    let receiver = Receiving::start(&db, origin, dir, &[]);
    for (n, lang) in [(1, "en"), (2, "fr")] {
        let body = json!({
            "schema": "rights-request.v1", "request_id": format!("4f1c2d3e-0000-4000-8000-00000000000{n}"),
            "right": "erasure", "policy": "privacy", "version": "2025-01-30", "lang": lang,
            "submitted_at": "2025-02-01T10:00:00Z",
            "fields": {"name": "Ana Lima", "email": "ana@example.org", "details": "Everything about me."}, "website": ""
        });
        assert_eq!(
            receiver.post_json("/requests", origin, &body.to_string()),
            201
        );
    }
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE requests SET due_on = '2025-03-01' WHERE request_id LIKE '%0001'",
            [],
        )
        .unwrap();
    (receiver, db)
}

fn log_in(browser: &Browser, base: &str, name: &str) {
    browser.goto(&format!("{base}/console/"));
    browser.wait_for("location.pathname === '/console/login'");
    browser.type_into(&browser.find("#name"), name);
    browser.type_into(&browser.find("#password"), PASSWORD);
    // By keyboard: Tab to the button, Enter.
    browser.tab_to("form.login button[type=submit]", 5);
    browser.press(&[ENTER]);
    browser.wait_for("location.pathname === '/console/' && document.getElementById('count')");
}

fn assert_accessible(browser: &Browser, page: &str) {
    let violations = browser.axe_violations();
    assert!(violations.is_empty(), "{page}: {violations:#?}");
    let inline = browser.js(
        "return document.querySelectorAll('[style], script').length;",
        json!([]),
    );
    assert_eq!(inline, json!(0), "{page}: inline style or script");
}

#[test]
fn operators_walk_the_console_by_role_in_chromium_with_no_axe_violation() {
    let dir = tempfile::tempdir().unwrap();
    let (receiver, db) = console_receiver(dir.path());
    let base = format!("http://127.0.0.1:{}", receiver.port);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let text = |browser: &Browser, css: &str| {
        browser.js(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            json!([css]),
        )
    };

    // The handler: finds the overdue request, completes it, logs out.
    let browser = Browser::start(webdriver::Options::default());
    browser.set_viewport(1280, 800, false);
    browser.goto(&format!("{base}/console/"));
    browser.wait_for("location.pathname === '/console/login'");
    assert_accessible(&browser, "login");
    log_in(&browser, &base, "hana");
    assert_accessible(&browser, "queue");
    assert_eq!(text(&browser, "#count"), json!("2 request(s), 1 overdue"));
    std::fs::write(shots.join("console-queue.png"), browser.screenshot()).unwrap();
    browser.click("#overdue");
    browser.click("form.filters button[type=submit]");
    browser.wait_for("location.search.includes('overdue=1')");
    assert_eq!(text(&browser, "#count"), json!("1 request(s), 1 overdue"));
    assert_eq!(browser.find_all("#queue tbody tr.overdue").len(), 1);
    assert!(!browser
        .find_all(".exports a[href*='format=csv']")
        .is_empty());
    browser.click("#queue tbody tr a");
    browser.wait_for("location.pathname.startsWith('/console/requests/REQ-')");
    assert_accessible(&browser, "request");
    let answers = text(&browser, "#answers").to_string();
    assert!(answers.contains("Ana Lima"), "{answers}");
    std::fs::write(shots.join("console-request.png"), browser.screenshot()).unwrap();
    browser.click("button[value=completed]");
    browser.wait_for("document.getElementById('notice')");
    assert_accessible(&browser, "request after an action");
    assert_eq!(text(&browser, "#status"), json!("completed"));
    let audit = text(&browser, "#audit").to_string();
    assert!(audit.contains("hana status completed"), "{audit}");
    browser.click("form[action='/console/logout'] button");
    browser.wait_for("location.pathname === '/console/login' && document.getElementById('notice')");
    browser.goto(&format!("{base}/console/"));
    browser.wait_for("location.pathname === '/console/login'");
    drop(browser);
    let stored = receiving::operator(&db, &["requests", "export", "--format", "jsonl"]);
    let statuses: Vec<&str> = stored
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["completed", "received"]);

    // The viewer: reads without the answers, cannot act or manage.
    let browser = Browser::start(webdriver::Options::default());
    log_in(&browser, &base, "vic");
    assert!(browser.find_all(".exports a").is_empty());
    browser.click("#queue tbody tr a");
    browser.wait_for("document.getElementById('answers')");
    let answers = text(&browser, "#answers").to_string();
    assert!(
        !answers.contains("Ana Lima") && answers.contains("hidden for your role"),
        "{answers}"
    );
    assert!(browser.find_all("form[action$='/status']").is_empty());
    assert_accessible(&browser, "request as a viewer");
    browser.goto(&format!("{base}/console/operators"));
    browser.wait_for("document.getElementById('problem')");
    assert_accessible(&browser, "refusal");
    drop(browser);

    // The administrator: the operators, and one browser's consent history.
    let consent = json!({
        "schema": "consent-record.v1", "record_id": "0be0c400-0000-4000-8000-0000000000aa",
        "consent_id": "0be0c400-0000-4000-8000-0000000000cc", "action": "reject_all",
        "categories": {"necessary": true, "analytics": false}, "policy": "privacy",
        "version": "2025-01-30", "lang": "fr", "gpc": true, "time": "2025-02-03T14:07:12.345Z",
        "banner_hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "revision": "3fa1c29b0d4e7a61", "page": "/fr/privacy/"
    });
    assert_eq!(
        receiver.post_json(
            "/consent",
            "https://policies.example.org",
            &consent.to_string()
        ),
        201
    );
    let browser = Browser::start(webdriver::Options::default());
    log_in(&browser, &base, "ada");
    browser.goto(&format!("{base}/console/operators"));
    browser.wait_for("document.getElementById('operators')");
    assert_eq!(browser.find_all("#operators tbody tr").len(), 3);
    assert_accessible(&browser, "operators");
    browser.goto(&format!("{base}/console/consents"));
    browser.wait_for("document.getElementById('consent_id')");
    browser.type_into(
        &browser.find("#consent_id"),
        "0be0c400-0000-4000-8000-0000000000cc",
    );
    browser.click("form[action='/console/consents'] button");
    browser.wait_for("document.getElementById('records')");
    assert_eq!(browser.find_all("#records tbody tr").len(), 1);
    assert!(!browser.url().contains("0be0c400"), "{}", browser.url());
    assert_accessible(&browser, "consents");
}
