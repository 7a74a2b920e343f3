//! `policy-site receive` over real HTTP, on SQLite and on PostgreSQL (the
//! server `tests/setup.sh` starts on 127.0.0.1:54329, or
//! `POLICY_SITE_TEST_POSTGRES`): each id stored once across retries,
//! concurrent duplicates, restarts and `kill -9`; slow clients; bad input;
//! and the operator commands that read the store.

use policy_site::date::Date;
use policy_site::receive::due::Period;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[path = "common/receive.rs"]
mod receiving;

use receiving::{on_postgres, operator, postgres_database, Endpoint, Receiving, BIN};
const SITE: &str = "https://policies.example.org";

// ---------------------------------------------------------------- helpers

/// Where a test stores: a SQLite file in its own folder, or a fresh
/// PostgreSQL database; `receive` runs in that folder.
struct Db {
    url: String,
    dir: tempfile::TempDir,
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("receipts.sqlite").display().to_string();
        Db { url, dir }
    }

    fn postgres() -> Db {
        Db {
            url: postgres_database("receive"),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn start(&self, extra: &[&str]) -> Receiver {
        Receiver(Receiving::start(&self.url, SITE, self.dir.path(), extra))
    }
}

/// A `receive` process on the site's origin, killed when the test ends.
struct Receiver(Receiving);

impl Receiver {
    fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        post(self.0.port, path, headers, body)
    }

    fn post_json(&self, path: &str, body: &Value) -> Answer {
        self.post(
            path,
            &[("Content-Type", "application/json"), ("Origin", SITE)],
            body.to_string().as_bytes(),
        )
    }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
}

fn post(port: u16, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    exchange(port, "POST", path, headers, body)
}

/// One HTTP/1.1 exchange on a fresh connection; status 0 when the
/// connection failed or closed without an answer.
fn exchange(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let failed = || Answer {
        status: 0,
        head: String::new(),
        body: String::new(),
    };
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return failed();
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    if stream.write_all(&bytes).is_err() {
        return failed();
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return failed();
    };
    Answer {
        status: head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// A UUID v4 named by a test's label (a UUID stays itself), as browsers make ids.
fn uuid(label: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    if label.len() == 36 {
        return label.to_string();
    }
    let mut hasher = DefaultHasher::new();
    label.hash(&mut hasher);
    let h = hasher.finish();
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        h >> 32,
        h & 0xffff_ffff_ffff
    )
}

fn request(id: &str) -> Value {
    json!({
        "schema": "rights-request.v1", "request_id": uuid(id), "right": "access",
        "policy": "privacy", "version": "2025-01-30", "lang": "en",
        "submitted_at": "2025-02-01T10:00:00Z",
        "fields": {"name": "Ana Lima", "email": "ana@example.org"}, "website": ""
    })
}

fn consent(record_id: &str, consent_id: &str) -> Value {
    json!({
        "schema": "consent-record.v1", "record_id": uuid(record_id), "consent_id": uuid(consent_id),
        "action": "accept_all", "categories": {"necessary": true, "analytics": true},
        "policy": "privacy", "version": "2025-01-30", "lang": "en", "gpc": false,
        "time": "2025-02-01T10:00:00Z", "banner_hash": "ab", "revision": "cd", "page": "/en/privacy/"
    })
}

fn policy_site(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stored_requests(db: &Db) -> Vec<Value> {
    operator(&db.url, &["requests", "export", "--format", "jsonl"])
}

fn stored_consents(db: &Db) -> Vec<Value> {
    operator(&db.url, &["consents", "export"])
}

/// How many times each id was stored.
fn counts(rows: &[Value], key: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts
            .entry(row[key].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    counts
}

// ---------------------------------------------------------------- storing once

fn a_request_is_stored_once_with_its_receipt_and_due_date(db: Db) {
    let receiver = db.start(&[]);
    let id = "4f1c2d3e-0000-4000-8000-000000000001";
    let first = receiver.post_json("/requests", &request(id));
    assert_eq!(first.status, 201, "{first:?}");
    // Retries answer with the first receipt's time and due date.
    let receipt = |answer: &Value| (answer["received_at"].clone(), answer["due"].clone());
    let first_receipt = receipt(&first.json());
    assert!(first
        .head
        .contains(&format!("access-control-allow-origin: {SITE}")));
    let answer = first.json();
    let reference = answer["reference"].as_str().unwrap().to_string();
    assert!(reference.starts_with("REQ-"));
    let digits = &reference["REQ-".len()..];
    assert!(
        digits.len() == 16 && digits.chars().all(|c| c.is_ascii_hexdigit()),
        "64 bits, so that references do not clash: {reference}"
    );
    // Concurrent duplicates and retries get the same reference.
    let receiver = Arc::new(receiver);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let receiver = receiver.clone();
            thread::spawn(move || receiver.post_json("/requests", &request(id)).json())
        })
        .collect();
    for handle in handles {
        let retried = handle.join().unwrap();
        assert_eq!(retried["reference"], reference.as_str());
        assert_eq!(receipt(&retried), first_receipt);
    }
    drop(Arc::try_unwrap(receiver).ok().unwrap());
    // And so does a retry after a restart.
    let restarted = db.start(&[]);
    let retried = restarted.post_json("/requests", &request(id)).json();
    assert_eq!(retried["reference"], reference.as_str());
    assert_eq!(receipt(&retried), first_receipt);
    let stored = stored_requests(&db);
    assert_eq!(stored.len(), 1, "{stored:?}");
    let row = &stored[0];
    assert_eq!(row["reference"], reference.as_str());
    assert_eq!(row["status"], "received");
    assert_eq!(row["origin"], SITE);
    assert_eq!(row["lang"], "en");
    assert_eq!(row["jurisdiction"], "gdpr");
    assert_eq!(row["payload"]["fields"]["email"], "ana@example.org");
    let received: Date = row["received_at"].as_str().unwrap()[..10].parse().unwrap();
    assert_eq!(
        row["due_on"],
        Period::Months(1).due(received).to_string().as_str()
    );
    assert_eq!(answer["due"], row["due_on"]);
}

#[test]
fn health_answers_once_records_can_be_kept_and_503_once_the_database_is_gone() {
    let sqlite = Db::sqlite();
    let receiver = sqlite.start(&[]);
    let health = exchange(receiver.0.port, "GET", "/health", &[], b"");
    assert_eq!(
        (health.status, health.body.as_str()),
        (200, "ok\n"),
        "{health:?}"
    );
    let db = Db::postgres();
    let receiver = db.start(&[]);
    let health = exchange(receiver.0.port, "GET", "/health", &[], b"");
    assert_eq!(health.status, 200, "{health:?}");
    receiving::drop_postgres_database(&db.url);
    let health = exchange(receiver.0.port, "GET", "/health", &[], b"");
    assert_eq!(health.status, 503, "{health:?}");
    assert!(!health.body.trim().is_empty(), "{health:?}");
}

#[test]
fn listen_makes_the_receiver_reachable_on_another_address_and_refuses_one_that_is_not() {
    let db = Db::sqlite();
    let mut child = Command::new(BIN)
        .args([
            "receive", "--port", "0", "--listen", "0.0.0.0", "--db", &db.url,
        ])
        .args(["--allow-origin", SITE])
        .current_dir(db.dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(line.starts_with("Receiving on http://0.0.0.0:"), "{line}");
    let port: u16 = line["Receiving on http://0.0.0.0:".len()..]
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let health = exchange(port, "GET", "/health", &[], b"");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(health.status, 200, "{health:?}");
    let refused = policy_site(&["receive", "--listen", "localhost:80", "--db", &db.url]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--listen"));
}

#[test]
fn a_request_is_stored_once_on_sqlite() {
    a_request_is_stored_once_with_its_receipt_and_due_date(Db::sqlite());
}

#[test]
fn a_request_is_stored_once_on_postgres() {
    a_request_is_stored_once_with_its_receipt_and_due_date(Db::postgres());
}

fn consent_records_are_stored_once_and_exported_per_browser(db: Db) {
    let receiver = db.start(&[]);
    let mut received_at = BTreeMap::new();
    for (record, browser) in [
        ("r-1", "c-1"),
        ("r-2", "c-2"),
        ("r-3", "c-1"),
        ("r-1", "c-1"),
    ] {
        // As `navigator.sendBeacon` sends it.
        let answer = receiver.post(
            "/consent",
            &[
                ("Content-Type", "text/plain;charset=UTF-8"),
                ("Origin", SITE),
            ],
            consent(record, browser).to_string().as_bytes(),
        );
        assert_eq!(answer.status, 201, "{answer:?}");
        // A repeated record answers with its first receipt time.
        let at = answer.json()["received_at"].clone();
        assert_eq!(received_at.entry(record).or_insert(at.clone()), &at);
    }
    assert_eq!(stored_consents(&db).len(), 3);
    let one = operator(
        &db.url,
        &["consents", "export", "--consent-id", &uuid("c-1")],
    );
    let ids: Vec<_> = one
        .iter()
        .map(|r| r["record_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [uuid("r-1"), uuid("r-3")]);
    assert_eq!(one[0]["record"]["action"], "accept_all");
    assert_eq!(one[0]["received_at"], received_at["r-1"]);
    assert!(one[0]["received_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn consent_records_are_stored_once_on_sqlite() {
    consent_records_are_stored_once_and_exported_per_browser(Db::sqlite());
}

#[test]
fn consent_records_are_stored_once_on_postgres() {
    consent_records_are_stored_once_and_exported_per_browser(Db::postgres());
}

#[test]
fn two_receivers_on_one_postgres_store_each_id_once() {
    let db = Db::postgres();
    let (a, b) = (db.start(&[]), db.start(&[]));
    let ports = [a.0.port, b.0.port];
    let handles: Vec<_> = (0..16)
        .map(|t| {
            thread::spawn(move || {
                for i in 0..25 {
                    let id = format!("shared-{i}");
                    let answer = post(
                        ports[t % 2],
                        "/consent",
                        &[("Content-Type", "application/json"), ("Origin", SITE)],
                        consent(&id, "c").to_string().as_bytes(),
                    );
                    assert_eq!(answer.status, 201, "{answer:?}");
                    let answer = post(
                        ports[(t + 1) % 2],
                        "/requests",
                        &[("Content-Type", "application/json"), ("Origin", SITE)],
                        request(&id).to_string().as_bytes(),
                    );
                    assert_eq!(answer.status, 201, "{answer:?}");
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let consents = counts(&stored_consents(&db), "record_id");
    assert_eq!(consents.len(), 25);
    assert!(consents.values().all(|n| *n == 1), "{consents:?}");
    let requests = counts(&stored_requests(&db), "request_id");
    assert_eq!(requests.len(), 25);
    assert!(requests.values().all(|n| *n == 1), "{requests:?}");
}

// ---------------------------------------------------------------- without JavaScript

const FORM: &str = "schema=rights-request.v1&request_id=&right=erasure&policy=privacy&version=2025-01-30&lang=fr&name=Ana+Lima&email=ana%40example.org&details=tout&website=&return_to=%2Ffr%2Frequests%2Fthanks%2F";

#[test]
fn a_plain_form_post_gets_a_page_in_french_and_a_double_submit_is_one_request() {
    let db = Db::sqlite();
    let receiver = db.start(&[]);
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Origin", SITE),
        (
            "Referer",
            "https://policies.example.org/fr/confidentialite/",
        ),
    ];
    let first = receiver.post("/requests", &headers, FORM.as_bytes());
    assert_eq!(first.status, 201, "{first:?}");
    assert!(first.head.contains("text/html"));
    assert!(first.body.contains("<html lang=\"fr\">"));
    assert!(first.body.contains("Votre demande a bien été reçue"));
    assert!(first
        .body
        .replace("&#x2F;", "/")
        .contains("href=\"https://policies.example.org/fr/confidentialite/\""));
    let reference = first.body.split("id=\"reference\">").nth(1).unwrap()[..14].to_string();
    assert!(reference.starts_with("REQ-"), "{reference}");
    let second = receiver.post("/requests", &headers, FORM.as_bytes());
    assert!(second.body.contains(&reference), "{second:?}");
    let stored = stored_requests(&db);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["payload"]["fields"]["details"], "tout");
    // Other answers are another request.
    let other = receiver.post(
        "/requests",
        &headers,
        FORM.replace("tout", "rien").as_bytes(),
    );
    assert!(!other.body.contains(&reference));
    assert_eq!(stored_requests(&db).len(), 2);
}

// ---------------------------------------------------------------- bad input

/// A path, headers, a body, and the status and code it must get.
type BadPost<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>, u16, &'a str);

fn every_bad_input_is_refused_with_a_code_and_nothing_is_stored(db: Db) {
    let receiver = db.start(&[]);
    let json = [("Content-Type", "application/json"), ("Origin", SITE)];
    let too_many: serde_json::Map<String, Value> = (0..100)
        .map(|i| (format!("f{i}"), json!("x")))
        .chain([("email".to_string(), json!("a@example.org"))])
        .collect();
    let mut many = request("many");
    many["fields"] = Value::Object(too_many);
    let mut unknown = request("unknown");
    unknown["right"] = json!("teleport");
    let changed = |mut body: Value, key: &str, value: Value| {
        match value {
            Value::Null => body.as_object_mut().unwrap().remove(key),
            value => body.as_object_mut().unwrap().insert(key.into(), value),
        };
        body.to_string().into_bytes()
    };
    let good_consent = consent("r", "c");
    let cases: Vec<BadPost> = vec![
        (
            "/requests",
            json.to_vec(),
            b"{\"schema\":".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "/requests",
            json.to_vec(),
            b"[1,2]".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "/requests",
            vec![("Content-Type", "text/xml"), ("Origin", SITE)],
            b"<x/>".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "/requests",
            json.to_vec(),
            vec![b'a'; 200_000],
            413,
            "body_too_large",
        ),
        (
            "/requests",
            json.to_vec(),
            many.to_string().into_bytes(),
            400,
            "too_many_fields",
        ),
        (
            "/requests",
            json.to_vec(),
            b"{\"a\":\"\xff\xfe\"}".to_vec(),
            400,
            "invalid_utf8",
        ),
        (
            "/requests",
            json.to_vec(),
            unknown.to_string().into_bytes(),
            400,
            "unknown_right",
        ),
        (
            "/requests",
            vec![
                ("Content-Type", "application/json"),
                ("Origin", "https://evil.example"),
            ],
            request("evil").to_string().into_bytes(),
            403,
            "foreign_origin",
        ),
        (
            "/requests",
            vec![
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", SITE),
            ],
            FORM.replace(
                "return_to=%2Ffr",
                "return_to=https%3A%2F%2Fevil.example%2Ffr",
            )
            .into_bytes(),
            400,
            "bad_return_to",
        ),
        (
            "/requests",
            json.to_vec(),
            request("no-mail")
                .to_string()
                .replace("ana@example.org", "")
                .into_bytes(),
            400,
            "email_required",
        ),
        (
            "/consent",
            json.to_vec(),
            b"{}".to_vec(),
            400,
            "wrong_schema",
        ),
        (
            "/consent",
            json.to_vec(),
            changed(good_consent.clone(), "record_id", json!("<script>")),
            400,
            "invalid_id",
        ),
        (
            "/consent",
            json.to_vec(),
            changed(good_consent.clone(), "record_id", json!("nope")),
            400,
            "invalid_id",
        ),
        (
            "/consent",
            json.to_vec(),
            changed(good_consent.clone(), "action", json!("maybe")),
            400,
            "unknown_action",
        ),
        (
            "/consent",
            json.to_vec(),
            changed(good_consent.clone(), "categories", Value::Null),
            400,
            "incomplete_record",
        ),
        (
            "/consent",
            json.to_vec(),
            changed(good_consent.clone(), "policy", Value::Null),
            400,
            "unknown_policy",
        ),
        (
            "/consent",
            json.to_vec(),
            changed(good_consent.clone(), "version", json!("2025-02-30")),
            400,
            "invalid_version",
        ),
        (
            "/requests",
            json.to_vec(),
            changed(request("x"), "request_id", json!("nope")),
            400,
            "invalid_id",
        ),
        (
            "/requests",
            json.to_vec(),
            changed(request("x"), "request_id", Value::Null),
            400,
            "invalid_id",
        ),
        (
            "/requests",
            json.to_vec(),
            changed(request("x"), "version", json!("30/01/2025")),
            400,
            "invalid_version",
        ),
        (
            "/requests",
            json.to_vec(),
            changed(request("x"), "policy", json!("")),
            400,
            "unknown_policy",
        ),
        (
            "/elsewhere",
            json.to_vec(),
            b"{}".to_vec(),
            404,
            "not_found",
        ),
    ];
    for (path, headers, body, status, code) in &cases {
        let answer = receiver.post(path, headers, body);
        assert_eq!(answer.status, *status, "{code}: {answer:?}");
        if headers
            .iter()
            .any(|(_, v)| *v == "application/x-www-form-urlencoded")
        {
            assert!(answer.body.contains("id=\"error\""), "{code}: {answer:?}");
        } else {
            assert_eq!(answer.json()["code"], *code, "{answer:?}");
            assert!(!answer.json()["error"].as_str().unwrap().is_empty());
        }
    }
    // In the form's language.
    let mut french = request("fr-1");
    french["lang"] = json!("fr");
    french["right"] = json!("teleport");
    let answer = receiver.post_json("/requests", &french).json();
    assert_eq!(
        answer["error"],
        "Ce site ne reçoit pas de demandes pour ce droit."
    );
    french["right"] = json!("access");
    french["request_id"] = json!("nope");
    let answer = receiver.post_json("/requests", &french).json();
    assert_eq!(
        answer["error"],
        "L'identifiant de la demande est absent ou mal formé."
    );
    // Also when refused before the body is read, if the body says its language.
    let answer = receiver.post(
        "/requests",
        &[
            ("Content-Type", "application/json"),
            ("Origin", "https://evil.example"),
            ("Accept-Language", "en"),
        ],
        french.to_string().as_bytes(),
    );
    assert_eq!(answer.json()["code"], "foreign_origin");
    assert_eq!(
        answer.json()["error"],
        "Ce serveur ne reçoit pas de demandes de ce site web."
    );
    // A foreign origin gets no CORS permission either.
    let foreign = receiver.post(
        "/requests",
        &[
            ("Content-Type", "application/json"),
            ("Origin", "https://evil.example"),
        ],
        b"{}",
    );
    assert!(!foreign
        .head
        .to_lowercase()
        .contains("access-control-allow-origin"));
    // The honeypot is thanked and dropped.
    let mut robot = request("robot");
    robot["website"] = json!("http://spam.example");
    assert_eq!(receiver.post_json("/requests", &robot).status, 201);
    // Oversized headers are refused by the HTTP layer.
    let big = "x".repeat(64 << 10);
    let answer = receiver.post("/requests", &[("X-Big", &big)], b"{}");
    assert!(answer.status == 431 || answer.status == 0, "{answer:?}");
    // Nothing was stored, and the server still answers.
    assert!(stored_requests(&db).is_empty());
    assert!(stored_consents(&db).is_empty());
    assert_eq!(
        receiver.post_json("/requests", &request("good")).status,
        201
    );
    assert_eq!(stored_requests(&db).len(), 1);
}

#[test]
fn bad_input_is_refused_on_sqlite() {
    every_bad_input_is_refused_with_a_code_and_nothing_is_stored(Db::sqlite());
}

#[test]
fn bad_input_is_refused_on_postgres() {
    every_bad_input_is_refused_with_a_code_and_nothing_is_stored(Db::postgres());
}

#[test]
fn cors_preflights_are_answered_for_the_allowed_origin_only() {
    let db = Db::sqlite();
    let receiver = db.start(&[]);
    let preflight = |origin: &str| {
        let mut stream = TcpStream::connect(("127.0.0.1", receiver.0.port)).unwrap();
        write!(stream, "OPTIONS /requests HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n").unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text.to_lowercase()
    };
    let allowed = preflight(SITE);
    assert!(
        allowed.contains(&format!("access-control-allow-origin: {SITE}")),
        "{allowed}"
    );
    assert!(allowed.contains("access-control-allow-methods: post"));
    assert!(allowed.contains("access-control-allow-headers: content-type"));
    assert!(!preflight("https://evil.example").contains("access-control-allow-origin"));
}

// ---------------------------------------------------------------- operators

#[test]
fn operators_list_show_export_and_set_the_status_of_requests() {
    let db = Db::sqlite();
    let receiver = db.start(&["--jurisdiction", "california"]);
    let reference = receiver.post_json("/requests", &request("op-1")).json()["reference"]
        .as_str()
        .unwrap()
        .to_string();
    receiver.post_json("/requests", &request("op-2"));
    drop(receiver);
    for (status, note) in [("identity_verified", "passport seen"), ("completed", "")] {
        let out = policy_site(&[
            "requests",
            "set-status",
            &reference,
            status,
            "--note",
            note,
            "--db",
            &db.url,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let refused = policy_site(&[
        "requests",
        "set-status",
        &reference,
        "lost",
        "--db",
        &db.url,
    ]);
    assert!(!refused.status.success());
    let shown =
        String::from_utf8(policy_site(&["requests", "show", &reference, "--db", &db.url]).stdout)
            .unwrap();
    let history: Vec<_> = shown
        .lines()
        .skip_while(|l| *l != "history:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        history,
        ["received", "identity_verified", "completed"],
        "{shown}"
    );
    assert!(shown.contains("passport seen"));
    // An open request past its due date is marked overdue.
    let connection = rusqlite::Connection::open(&db.url).unwrap();
    connection
        .execute("UPDATE requests SET due_on = '2000-01-01'", [])
        .unwrap();
    let csv =
        String::from_utf8(policy_site(&["requests", "export", "--db", &db.url]).stdout).unwrap();
    let lines: Vec<_> = csv.lines().collect();
    assert!(
        lines[0].starts_with("reference,right,status,overdue,"),
        "{csv}"
    );
    assert!(
        lines[1].starts_with(&format!("{reference},access,completed,,")),
        "{csv}"
    );
    assert!(lines[2].contains(",received,overdue,"), "{csv}");
    assert!(lines[2].contains("california"), "{csv}");
    let table =
        String::from_utf8(policy_site(&["requests", "list", "--db", &db.url]).stdout).unwrap();
    assert!(table.contains("2 request(s), 1 overdue"), "{table}");
    let missing = policy_site(&["requests", "list", "--db", "nowhere.sqlite"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no receipts are stored here"));
}

// ---------------------------------------------------------------- faults and load

/// Posts consent records with ids `prefix-0…` as fast as `threads` clients
/// can until the receiver dies; returns the ids that got a 2xx.
fn post_until_killed(port: u16, prefix: &str, threads: usize) -> BTreeSet<String> {
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let acknowledged = acknowledged.clone();
            let prefix = prefix.to_string();
            thread::spawn(move || {
                for i in 0.. {
                    let id = uuid(&format!("{prefix}-{t}-{i}"));
                    let answer = post(
                        port,
                        "/consent",
                        &[("Content-Type", "application/json")],
                        consent(&id, "kill").to_string().as_bytes(),
                    );
                    if answer.status == 0 {
                        return;
                    }
                    assert_eq!(answer.status, 201, "{answer:?}");
                    acknowledged.lock().unwrap().insert(id);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    Arc::try_unwrap(acknowledged).unwrap().into_inner().unwrap()
}

fn kill_9_in_a_stream_of_posts_loses_and_repeats_nothing(db: Db) {
    let mut acknowledged = BTreeSet::new();
    for round in 0..5 {
        let mut receiver = db.start(&[]);
        let port = receiver.0.port;
        let stream = thread::spawn(move || post_until_killed(port, &format!("k{round}"), 8));
        thread::sleep(Duration::from_millis(300 + 97 * round as u64));
        receiver.0.child.kill().unwrap(); // SIGKILL
        receiver.0.child.wait().unwrap();
        acknowledged.extend(stream.join().unwrap());
        // Retries of everything acknowledged so far are still one each.
        let restarted = db.start(&[]);
        for id in acknowledged.iter().step_by(50) {
            assert_eq!(
                restarted.post_json("/consent", &consent(id, "kill")).status,
                201
            );
        }
    }
    let stored = counts(&stored_consents(&db), "record_id");
    assert!(
        acknowledged.len() > 100,
        "only {} posts",
        acknowledged.len()
    );
    for id in &acknowledged {
        assert_eq!(
            stored.get(id),
            Some(&1),
            "{id} acknowledged but stored {:?} times",
            stored.get(id)
        );
    }
    assert!(stored.values().all(|n| *n == 1));
}

#[test]
fn kill_9_loses_and_repeats_nothing_on_sqlite() {
    kill_9_in_a_stream_of_posts_loses_and_repeats_nothing(Db::sqlite());
}

#[test]
fn kill_9_loses_and_repeats_nothing_on_postgres() {
    kill_9_in_a_stream_of_posts_loses_and_repeats_nothing(Db::postgres());
}

/// Lets this process (and the receiver it starts) open a few thousand sockets.
fn raise_open_file_limit(wanted: u64) {
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted.min(limit.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
        assert!(
            limit.rlim_cur >= wanted,
            "open file limit {} is too low",
            limit.rlim_cur
        );
    }
}

#[test]
fn two_thousand_slow_clients_do_not_stop_a_normal_request() {
    raise_open_file_limit(5000);
    let db = Db::sqlite();
    let receiver = db.start(&[]);
    let mut slow: Vec<TcpStream> = (0..2000)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", receiver.0.port)).unwrap();
            s.write_all(b"POST /consent HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s
        })
        .collect();
    for round in 0..3 {
        // Every slow client trickles one more byte of its headers.
        for s in &mut slow {
            let _ = s.write_all(b"X");
        }
        let started = Instant::now();
        let answer = receiver.post_json("/consent", &consent(&format!("normal-{round}"), "c"));
        assert_eq!(answer.status, 201, "{answer:?}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a normal request took {:?} beside 2,000 slow clients",
            started.elapsed()
        );
    }
    drop(slow);
    assert_eq!(stored_consents(&db).len(), 3);
}

/// CPU time (user + system, in clock ticks) a process has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn running_out_of_file_descriptors_neither_spins_nor_crashes() {
    let db = Db::sqlite();
    let mut receiver = Receiving::start_with_open_files(&db.url, SITE, db.dir.path(), 48);
    let idle: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", receiver.port)).ok())
        .collect();
    assert!(
        idle.len() > 48,
        "the test needs more connections than descriptors"
    );
    thread::sleep(Duration::from_millis(300));
    let before = cpu_ticks(receiver.child.id());
    thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(receiver.child.id()) - before;
    assert!(
        used < 30,
        "the receiver used {used} ticks of CPU in 1 s while out of descriptors"
    );
    assert!(
        receiver.child.try_wait().unwrap().is_none(),
        "the receiver died"
    );
    drop(idle);
    // Once descriptors are free again, it answers.
    let started = Instant::now();
    loop {
        let answer = post(
            receiver.port,
            "/consent",
            &[("Content-Type", "application/json"), ("Origin", SITE)],
            consent("after", "c").to_string().as_bytes(),
        );
        if answer.status == 201 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "{answer:?}");
        thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(stored_consents(&db).len(), 1);
}

#[test]
fn sigterm_finishes_what_is_in_flight_and_stops() {
    let db = Db::sqlite();
    let receiver = db.start(&[]);
    assert_eq!(
        receiver
            .post_json("/consent", &consent("before", "c"))
            .status,
        201
    );
    let started = Instant::now();
    unsafe {
        libc::kill(receiver.0.child.id() as i32, libc::SIGTERM);
    }
    let mut receiver = receiver;
    let status = loop {
        if let Some(status) = receiver.0.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "still running after SIGTERM"
        );
        thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    assert_eq!(stored_consents(&db).len(), 1);
    assert!(Path::new(&db.url).is_file());
}

// ---------------------------------------------------------------- reported by a new user

#[test]
fn in_the_sites_folder_only_its_policies_are_received() {
    let db = Db::sqlite();
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check/clean");
    let receiver = Receiver(Receiving::start(&db.url, SITE, &site, &[]));
    let answer = receiver.post_json("/requests", &request("privacy"));
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(answer.json()["code"], "unknown_policy");
    let mut terms = request("terms");
    terms["policy"] = json!("terms");
    assert_eq!(receiver.post_json("/requests", &terms).status, 201);
    assert_eq!(stored_requests(&db).len(), 1);
}

#[test]
fn receive_refuses_a_db_in_a_folder_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("missing/r.sqlite");
    let out = policy_site(&["receive", "--port", "0", "--db", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not exist: create it first"),
        "{stderr}"
    );
    assert!(!dir.path().join("missing").exists());
}

#[test]
fn requests_help_names_the_statuses() {
    for args in [
        ["requests", "list", "--help"],
        ["requests", "export", "--help"],
        ["requests", "set-status", "--help"],
    ] {
        let help = String::from_utf8(policy_site(&args).stdout).unwrap();
        let status = help.split("identity_verified").count() - 1;
        assert!(status >= 1, "{args:?}: {help}");
    }
}

#[test]
fn requests_list_into_a_closed_pipe_exits_quietly() {
    let db = Db::sqlite();
    let receiver = db.start(&[]);
    for i in 0..200 {
        receiver.post_json("/requests", &request(&format!("pipe-{i}")));
    }
    let mut child = Command::new(BIN)
        .args(["requests", "list", "--format", "jsonl", "--db", &db.url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------- webhooks

const SECRET: &str = "test-secret-of-the-webhooks";

/// Checks a `Policy-Site-Signature` as a receiving end would (the book's
/// recipe): HMAC-SHA256 over "<t>." and the body, compared in constant time.
fn signature_holds(header: &str, body: &str, secret: &str) -> bool {
    use hmac::{Hmac, Mac};
    let Some((t, v1)) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let Ok(expected) = (0..v1.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(v1.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// `receive` on `db` notifying `webhook`, with the signing secret set.
fn receiving_with_webhook(db: &Db, webhook: &str, extra: &[&str]) -> Receiver {
    let mut command = Command::new(BIN);
    command.env("POLICY_SITE_WEBHOOK_SECRET", SECRET);
    let mut args = vec!["--webhook", webhook];
    args.extend_from_slice(extra);
    Receiver(Receiving::start_with(
        command,
        &db.url,
        SITE,
        db.dir.path(),
        &args,
    ))
}

#[test]
fn a_webhook_is_signed_retried_until_answered_and_carries_one_idempotency_key() {
    let endpoint = Endpoint::start(0, &[500, 500, 500], Duration::ZERO);
    let db = Db::sqlite();
    let receiver = receiving_with_webhook(&db, &endpoint.url(), &[]);
    let stored = receiver.post_json("/requests", &request(&uuid("hooked")));
    assert_eq!(stored.status, 201, "{stored:?}");
    let reference = stored.json()["reference"].as_str().unwrap().to_string();
    // Three refusals, then the 200: waits of 1, 2 and 4 s.
    let got = endpoint.wait(Duration::from_secs(30), |got| {
        got.iter().any(|(_, s)| *s == 200)
    });
    let statuses: Vec<u16> = got.iter().map(|(_, s)| *s).collect();
    assert_eq!(statuses, [500, 500, 500, 200], "{got:?}");
    let id = got[0].0.delivery_id();
    for (hook, _) in &got {
        assert_eq!(hook.delivery_id(), id);
        assert_eq!(hook.json()["delivery_id"], id.as_str());
        assert!(
            signature_holds(&hook.headers["policy-site-signature"], &hook.body, SECRET),
            "{hook:?}"
        );
        assert_eq!(hook.headers["content-type"], "application/json");
    }
    let event = got[3].0.json();
    assert_eq!(event["event"], "request.received");
    assert_eq!(event["reference"], reference.as_str());
    assert_eq!(event["right"], "access");
    assert!(
        event["due"].as_str().is_some_and(|d| d.len() == 10),
        "{event}"
    );
    // No answers (no e-mail address) unless asked for.
    assert!(
        event.get("answers").is_none() && !got[3].0.body.contains("ana@example.org"),
        "{event}"
    );
    // A tampered body, or another secret, fails the check.
    let signature = &got[3].0.headers["policy-site-signature"];
    assert!(!signature_holds(
        signature,
        &got[3].0.body.replace("access", "erasure"),
        SECRET
    ));
    assert!(!signature_holds(
        signature,
        &got[3].0.body,
        "another secret"
    ));
    // Acknowledged: never sent again.
    thread::sleep(Duration::from_secs(2));
    assert_eq!(endpoint.received().len(), 4);
    // With --webhook-include-answers, the answers come too.
    drop(receiver);
    let answers = Endpoint::start(0, &[], Duration::ZERO);
    let receiver = receiving_with_webhook(
        &Db::sqlite(),
        &answers.url(),
        &["--webhook-include-answers"],
    );
    assert_eq!(
        receiver
            .post_json("/requests", &request(&uuid("answers")))
            .status,
        201
    );
    let got = answers.wait(Duration::from_secs(10), |got| !got.is_empty());
    assert_eq!(
        got[0].0.json()["answers"]["email"],
        "ana@example.org",
        "{got:?}"
    );
}

#[test]
fn a_request_whose_notification_was_not_sent_before_a_kill_is_notified_after_restart() {
    // A port with nothing listening: every attempt fails, intake does not wait.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let webhook = format!("http://127.0.0.1:{port}/hook");
    let db = Db::sqlite();
    let mut receiver = receiving_with_webhook(&db, &webhook, &[]);
    let started = Instant::now();
    let ids: Vec<String> = (0..20).map(|i| uuid(&format!("killed-{i}"))).collect();
    for id in &ids {
        assert_eq!(receiver.post_json("/requests", &request(id)).status, 201);
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "intake waited on deliveries"
    );
    receiver.0.child.kill().unwrap(); // SIGKILL
    receiver.0.child.wait().unwrap();
    let endpoint = Endpoint::start(port, &[], Duration::ZERO);
    let _restarted = receiving_with_webhook(&db, &webhook, &[]);
    let got = endpoint.wait(Duration::from_secs(30), |got| got.len() >= 20);
    let delivered: BTreeSet<String> = got
        .iter()
        .map(|(h, _)| h.json()["reference"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(delivered.len(), 20, "{got:?}");
    thread::sleep(Duration::from_secs(1));
    assert_eq!(endpoint.received().len(), 20, "each delivered once");
}

#[test]
fn a_webhook_without_its_secret_or_with_a_bad_url_is_refused_at_start() {
    let db = Db::sqlite();
    let out = Command::new(BIN)
        .args([
            "receive",
            "--port",
            "0",
            "--db",
            &db.url,
            "--allow-origin",
            SITE,
        ])
        .args(["--webhook", "http://127.0.0.1:9/hook"])
        .env_remove("POLICY_SITE_WEBHOOK_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("POLICY_SITE_WEBHOOK_SECRET"),
        "{out:?}"
    );
    let out = Command::new(BIN)
        .args([
            "receive",
            "--port",
            "0",
            "--db",
            &db.url,
            "--allow-origin",
            SITE,
        ])
        .args(["--webhook", "ftp://example.com/hook"])
        .env("POLICY_SITE_WEBHOOK_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not an http(s) URL"),
        "{out:?}"
    );
}

#[test]
fn two_receivers_on_one_postgres_outbox_send_each_delivery_once() {
    let endpoint = Endpoint::start(0, &[], Duration::from_millis(20));
    let db = Db::postgres();
    let first = receiving_with_webhook(&db, &endpoint.url(), &[]);
    let second = receiving_with_webhook(&db, &endpoint.url(), &[]);
    for i in 0..60 {
        let receiver = if i % 2 == 0 { &first } else { &second };
        assert_eq!(
            receiver
                .post_json("/requests", &request(&uuid(&format!("shared-{i}"))))
                .status,
            201
        );
    }
    endpoint.wait(Duration::from_secs(30), |got| got.len() >= 60);
    thread::sleep(Duration::from_secs(1));
    let got = endpoint.received();
    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    for (hook, _) in &got {
        *per_id.entry(hook.delivery_id()).or_default() += 1;
    }
    assert_eq!(per_id.len(), 60, "{per_id:?}");
    assert!(per_id.values().all(|&n| n == 1), "{per_id:?}");
}

#[test]
fn a_store_made_before_the_outbox_upgrades_keeping_its_records_and_notifies_new_requests() {
    let db = Db::sqlite();
    {
        // The store as the release before the outbox made it: schema 0001 only.
        let old = rusqlite::Connection::open(&db.url).unwrap();
        old.execute_batch("CREATE TABLE schema_migrations (version TEXT PRIMARY KEY)")
            .unwrap();
        old.execute_batch(&policy_site::receive::store::schema("INTEGER PRIMARY KEY", "")[0])
            .unwrap();
        old.execute_batch(
            "INSERT INTO schema_migrations VALUES ('0001');
             INSERT INTO requests (request_id, reference, right_id, policy, version, lang, origin,
               jurisdiction, received_at, due_on, status, payload)
             VALUES ('old-1', 'REQ-00000000000000AA', 'access', 'privacy', '2025-01-30', 'en',
               'https://policies.example.org', 'gdpr', '2025-02-01T10:00:00.000Z', '2025-03-01',
               'received', '{}');",
        )
        .unwrap();
    }
    let endpoint = Endpoint::start(0, &[], Duration::ZERO);
    let receiver = receiving_with_webhook(&db, &endpoint.url(), &[]);
    assert_eq!(
        receiver
            .post_json("/requests", &request(&uuid("after-upgrade")))
            .status,
        201
    );
    let got = endpoint.wait(Duration::from_secs(10), |got| !got.is_empty());
    assert_eq!(got.len(), 1, "{got:?}");
    let references: BTreeSet<String> = stored_requests(&db)
        .iter()
        .map(|r| r["reference"].as_str().unwrap().to_string())
        .collect();
    assert!(
        references.contains("REQ-00000000000000AA"),
        "{references:?}"
    );
    assert_eq!(references.len(), 2);
}

#[test]
fn the_audit_trail_cannot_be_rewritten_even_by_hand_on_sqlite_and_postgres() {
    for db in [Db::sqlite(), Db::postgres()] {
        let receiver = db.start(&[]);
        assert_eq!(
            receiver.post_json("/requests", &request("audited")).status,
            201
        );
        let reference = stored_requests(&db)[0]["reference"]
            .as_str()
            .unwrap()
            .to_string();
        let out = policy_site(&[
            "requests",
            "set-status",
            &reference,
            "completed",
            "--db",
            &db.url,
        ]);
        assert!(out.status.success(), "{out:?}");
        let tampering = ["UPDATE audit SET actor = 'nobody'", "DELETE FROM audit"];
        for sql in tampering {
            let refused = if db.url.starts_with("postgres") {
                on_postgres(&db.url, sql).err()
            } else {
                rusqlite::Connection::open(&db.url)
                    .unwrap()
                    .execute_batch(sql)
                    .err()
                    .map(|e| e.to_string())
            };
            let said = refused.unwrap_or_else(|| panic!("`{sql}` was allowed on {}", db.url));
            assert!(said.contains("append-only"), "{said}");
        }
        let shown = policy_site(&["requests", "show", &reference, "--db", &db.url]);
        let shown = String::from_utf8_lossy(&shown.stdout).to_string();
        assert!(shown.contains("completed"), "{shown}");
    }
}

// ---------------------------------------------------------------- e-mail

/// A real SMTP server on loopback (Debian's python3-aiosmtpd), keeping what
/// it receives in a maildir; stopped when dropped.
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    fn start() -> SmtpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = tempfile::tempdir().unwrap();
        let child = Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("python3 runs: run `bash tests/setup.sh`, which installs python3-aiosmtpd");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not start: run `bash tests/setup.sh`"
            );
            thread::sleep(Duration::from_millis(100));
        }
        SmtpServer {
            child,
            port,
            maildir,
        }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, each as its raw text.
    fn messages(&self) -> Vec<String> {
        let new = self.maildir.path().join("mail/new");
        let mut found: Vec<String> = std::fs::read_dir(&new)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| std::fs::read_to_string(e.path()).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    }

    fn wait_for(&self, count: usize) -> Vec<String> {
        let start = Instant::now();
        loop {
            let got = self.messages();
            if got.len() >= count || start.elapsed() > Duration::from_secs(20) {
                return got;
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A header's value in a raw message (unfolded, not decoded).
fn header(message: &str, name: &str) -> String {
    let head = message
        .split("\n\n")
        .next()
        .unwrap_or("")
        .replace("\r\n", "\n")
        .replace("\n ", " ");
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or("")
        .to_string()
}

/// A message's text, its quoted-printable decoded.
fn mail_text(message: &str) -> String {
    let message = message.replace("\r\n", "\n");
    let body = message
        .split_once("\n\n")
        .map_or("", |(_, b)| b)
        .replace("=\n", "");
    let bytes = body.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            body.get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok()),
        ) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn operators_are_told_by_mail_and_the_requester_is_acknowledged_in_their_language() {
    let smtp = SmtpServer::start();
    let db = Db::sqlite();
    let receiver = db.start(&[
        "--smtp",
        &smtp.url(),
        "--mail-from",
        "privacy@policies.example.org",
        "--notify",
        "dpo@example.org",
        "--notify",
        "support@example.org",
    ]);
    let mut french = request(&uuid("mail-fr"));
    french["lang"] = json!("fr");
    let answer = receiver.post_json("/requests", &french);
    assert_eq!(answer.status, 201, "{answer:?}");
    let reference = answer.json()["reference"].as_str().unwrap().to_string();
    let due = answer.json()["due"].as_str().unwrap().to_string();
    let got = smtp.wait_for(3);
    assert_eq!(got.len(), 3, "{got:?}");
    let to = |address: &str| -> Vec<&String> {
        got.iter().filter(|m| header(m, "To") == address).collect()
    };
    // The operators, in the site's language (English: no site here).
    for operator in ["dpo@example.org", "support@example.org"] {
        let mail = to(operator);
        assert_eq!(mail.len(), 1, "{got:?}");
        assert_eq!(header(mail[0], "From"), "privacy@policies.example.org");
        assert_eq!(
            header(mail[0], "Subject"),
            format!("Rights request {reference}: Right of access, due {due}")
        );
        let text = mail_text(mail[0]);
        assert!(
            text.contains(&format!("policy-site requests show {reference}")),
            "{text}"
        );
        // Not what the requester wrote.
        assert!(!text.contains("Ana Lima"), "{text}");
        assert!(
            header(mail[0], "Message-ID").starts_with("<dlv_"),
            "{}",
            mail[0]
        );
    }
    // The requester, in French, with the reference and the due date.
    let ack = to("ana@example.org");
    assert_eq!(ack.len(), 1, "{got:?}");
    assert!(header(ack[0], "Subject").contains(&reference), "{}", ack[0]);
    let text = mail_text(ack[0]);
    assert!(
        text.starts_with("Merci : nous avons reçu votre demande (Droit d'accès)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("Sa référence est {reference}")) && text.contains(&due),
        "{text}"
    );
    // A retried post is the same request: nothing is sent twice.
    assert_eq!(
        receiver.post_json("/requests", &french).json()["reference"],
        reference.as_str()
    );
    thread::sleep(Duration::from_secs(1));
    assert_eq!(smtp.messages().len(), 3);
}

#[test]
fn the_site_configuration_sets_the_receiver_and_a_flag_given_wins() {
    let smtp = SmtpServer::start();
    let db = Db::sqlite();
    let site = |receive: &str| {
        std::fs::write(
            db.dir.path().join("policy-site.yaml"),
            format!(
                "title: {{en: Policies, fr: Politiques}}\nbase_url: {SITE}\nlanguages: [en, fr]\nreceive:\n{receive}"
            ),
        )
        .unwrap();
    };
    site(&format!(
        "  smtp: {}\n  mail_from: privacy@policies.example.org\n  notify: dpo@example.org\n  jurisdiction: quebec\n  due: {{quebec: 20d}}\n",
        smtp.url()
    ));
    let receiver = db.start(&["--notify", "support@example.org"]);
    let answer = receiver.post_json("/requests", &request(&uuid("configured")));
    assert_eq!(answer.status, 201, "{answer:?}");
    let row = &stored_requests(&db)[0];
    assert_eq!(row["jurisdiction"], "quebec");
    let received: Date = row["received_at"].as_str().unwrap()[..10].parse().unwrap();
    assert_eq!(
        row["due_on"],
        Period::Days(20).due(received).to_string().as_str()
    );
    // The flag's operator, not the key's; the requester acknowledged.
    let got = smtp.wait_for(2);
    let mut to: Vec<String> = got.iter().map(|m| header(m, "To")).collect();
    to.sort();
    assert_eq!(to, ["ana@example.org", "support@example.org"], "{got:?}");
    drop(receiver);
    // A key misspelt, or a value that cannot work: refused at start, with
    // the file and the line.
    for (receive, says) in [
        ("  smpt: smtp://127.0.0.1:25\n", "did you mean `smtp`?"),
        (
            "  remind_before: [7, seven]\n",
            "policy-site.yaml:5: error: `remind_before` holds the wrong kind of value",
        ),
        (
            "  webhook: [ftp://hooks.example.org/x]\n",
            "receive.webhook",
        ),
    ] {
        site(receive);
        let out = Command::new(BIN)
            .args(["receive", "--port", "0", "--db", &db.url])
            .current_dir(db.dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(
            stderr.contains("policy-site.yaml:") && stderr.contains(says),
            "{stderr}"
        );
    }
}

#[test]
fn mail_settings_that_cannot_work_are_refused_at_start() {
    let db = Db::sqlite();
    let refused = |args: &[&str], says: &str| {
        let out = Command::new(BIN)
            .args([
                "receive",
                "--port",
                "0",
                "--db",
                &db.url,
                "--allow-origin",
                SITE,
            ])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    };
    refused(&["--notify", "dpo@example.org"], "need --smtp");
    refused(&["--verify-link-hours", "0"], "at least 1");
    refused(
        &["--smtp", "smtp://127.0.0.1:2525"],
        "--smtp needs --mail-from",
    );
    refused(
        &["--smtp", "http://127.0.0.1", "--mail-from", "a@example.org"],
        "is not an SMTP URL",
    );
    refused(
        &["--smtp", "smtp://127.0.0.1:2525", "--mail-from", "nobody"],
        "--mail-from `nobody` is not an address",
    );
}

/// The link a mail's text carries under `public`, and its token.
fn verification_token(text: &str, public: &str) -> String {
    let at = text
        .find(&format!("{public}verify/"))
        .unwrap_or_else(|| panic!("no link in {text}"));
    text[at + public.len() + "verify/".len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

fn get(port: u16, path: &str) -> Answer {
    exchange(port, "GET", path, &[("Accept-Language", "fr")], b"")
}

#[test]
fn the_requester_confirms_their_address_by_the_link_once_and_a_forged_one_changes_nothing() {
    let smtp = SmtpServer::start();
    let db = Db::sqlite();
    let public = "https://privacy.example.org/";
    let receiver = db.start(&[
        "--smtp",
        &smtp.url(),
        "--mail-from",
        "privacy@policies.example.org",
        "--public-url",
        "https://privacy.example.org",
    ]);
    let answer = receiver.post_json("/requests", &request(&uuid("verify-me")));
    let reference = answer.json()["reference"].as_str().unwrap().to_string();
    let mail = smtp.wait_for(1);
    let text = mail_text(&mail[0]);
    assert!(text.contains("it works once, until"), "{text}");
    let token = verification_token(&text, public);
    assert_eq!(token.len(), 64, "{text}");
    let port = receiver.0.port;
    let status = || {
        stored_requests(&db)[0]["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Following the link (as a mail scanner would) changes nothing.
    let page = get(port, &format!("/verify/{token}"));
    assert_eq!(page.status, 200, "{page:?}");
    assert!(
        page.body.contains("<form method=\"post\">") && page.body.contains(&reference),
        "{page:?}"
    );
    assert!(
        page.body.contains("lang=\"fr\""),
        "in the visitor's language: {page:?}"
    );
    assert_eq!(status(), "received");
    // A forged or malformed token: nothing.
    let forged = "ab".repeat(32);
    assert_eq!(
        exchange(port, "POST", &format!("/verify/{forged}"), &[], b"").status,
        404
    );
    assert_eq!(
        exchange(port, "POST", "/verify/not-a-token", &[], b"").status,
        404
    );
    assert_eq!(status(), "received");
    // The button confirms, once, with the evidence recorded.
    let confirmed = exchange(port, "POST", &format!("/verify/{token}"), &[], b"");
    assert_eq!(confirmed.status, 200, "{confirmed:?}");
    assert!(confirmed.body.contains("id=\"verified\""), "{confirmed:?}");
    assert_eq!(status(), "identity_verified");
    let shown =
        String::from_utf8(policy_site(&["requests", "show", &reference, "--db", &db.url]).stdout)
            .unwrap();
    assert!(
        shown.contains("the requester confirmed ana@example.org by the link sent there"),
        "{shown}"
    );
    let again = exchange(port, "POST", &format!("/verify/{token}"), &[], b"");
    assert_eq!(again.status, 410, "{again:?}");
    // The store keeps the token's hash, never the token (nor the link).
    let raw = std::fs::read(&db.url).unwrap();
    assert!(
        !raw.windows(64).any(|w| w == token.as_bytes()),
        "the token is in the store"
    );
}

#[test]
fn an_expired_verification_link_is_refused() {
    let smtp = SmtpServer::start();
    let db = Db::sqlite();
    let receiver = db.start(&[
        "--smtp",
        &smtp.url(),
        "--mail-from",
        "privacy@policies.example.org",
        "--public-url",
        "https://privacy.example.org/",
        "--verify-link-hours",
        "1",
    ]);
    assert_eq!(
        receiver
            .post_json("/requests", &request(&uuid("too-late")))
            .status,
        201
    );
    let token = verification_token(
        &mail_text(&smtp.wait_for(1)[0]),
        "https://privacy.example.org/",
    );
    // An hour later, as the store sees it.
    rusqlite::Connection::open(&db.url)
        .unwrap()
        .execute(
            "UPDATE verifications SET expires_at = '2000-01-01T00:00:00.000Z'",
            [],
        )
        .unwrap();
    let late = exchange(
        receiver.0.port,
        "POST",
        &format!("/verify/{token}"),
        &[],
        b"",
    );
    assert_eq!(late.status, 410, "{late:?}");
    assert!(late.body.contains("expired"), "{late:?}");
    assert_eq!(stored_requests(&db)[0]["status"], "received");
}

#[test]
fn an_extension_and_a_refusal_carry_their_reason_to_the_requester_within_the_law() {
    let smtp = SmtpServer::start();
    let db = Db::sqlite();
    let receiver = db.start(&[
        "--smtp",
        &smtp.url(),
        "--mail-from",
        "privacy@policies.example.org",
    ]);
    let first = receiver
        .post_json("/requests", &request(&uuid("extend-me")))
        .json();
    let (reference, due) = (
        first["reference"].as_str().unwrap().to_string(),
        first["due"].as_str().unwrap().to_string(),
    );
    smtp.wait_for(1);
    let requests = |args: &[&str]| {
        let mut all = vec!["requests"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--db", &db.url]);
        policy_site(&all)
    };
    // An extension needs its reason.
    let bare = requests(&["extend", &reference]);
    assert_eq!(bare.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bare.stderr).contains("needs its reason"));
    let extended = requests(&[
        "extend",
        &reference,
        "--reason",
        "The request covers ten years of records.",
    ]);
    assert!(extended.status.success(), "{extended:?}");
    // GDPR: two more months from the first due date.
    let first_due: Date = due.parse().unwrap();
    let new_due = Period::Months(2).due(first_due).to_string();
    let stored = stored_requests(&db);
    assert_eq!(stored[0]["due_on"], new_due.as_str());
    // Once only.
    let again = requests(&["extend", &reference, "--reason", "Still more."]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("extended already"),
        "{again:?}"
    );
    let mails = smtp.wait_for(2);
    let told = mails
        .iter()
        .map(|m| mail_text(m))
        .find(|t| t.contains("We need more time"))
        .expect("the extension is told");
    assert!(
        told.contains(&format!("we will answer by {new_due}"))
            && told.contains("ten years of records"),
        "{told}"
    );
    // A refusal without a reason is an error; with one, it is told.
    let bare = requests(&["set-status", &reference, "refused"]);
    assert_eq!(bare.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bare.stderr).contains("a refusal needs its reason"),
        "{bare:?}"
    );
    assert_eq!(stored_requests(&db)[0]["status"], "received");
    let refused = Command::new(BIN)
        .args(["requests", "set-status", &reference, "refused"])
        .args([
            "--reason",
            "The same request was answered last week.",
            "--db",
            &db.url,
        ])
        .env("POLICY_SITE_OPERATOR", "dana")
        .output()
        .unwrap();
    assert!(refused.status.success(), "{refused:?}");
    let mails = smtp.wait_for(3);
    let told = mails
        .iter()
        .map(|m| mail_text(m))
        .find(|t| t.contains("We cannot act"))
        .expect("the refusal is told");
    assert!(
        told.contains("answered last week") && told.contains("lodge a complaint"),
        "{told}"
    );
    // Refused once: a second refusal is refused, and mails no one again.
    let again = requests(&["set-status", &reference, "refused", "--reason", "Again."]);
    assert!(!again.status.success(), "{again:?}");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("refused already"),
        "{again:?}"
    );
    let shown = String::from_utf8(requests(&["show", &reference]).stdout).unwrap();
    assert!(
        shown.contains("extended") && shown.contains("answered last week"),
        "{shown}"
    );
    // The audit trail: who did what, and every delivery.
    let audit: Vec<&str> = shown
        .lines()
        .skip_while(|l| *l != "audit:")
        .skip(1)
        .collect();
    let actions: Vec<&str> = audit
        .iter()
        .map(|l| {
            l.split(": ")
                .next()
                .unwrap()
                .split_whitespace()
                .skip(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .map(|a| Box::leak(a.into_boxed_str()) as &str)
        .collect();
    assert_eq!(actions[0], "received", "{shown}");
    assert!(
        actions.contains(&"extended") && actions.contains(&"status refused"),
        "{shown}"
    );
    assert!(
        audit
            .iter()
            .any(|l| l.contains(" dana status refused: The same request")),
        "{shown}"
    );
    assert!(
        actions.iter().filter(|a| **a == "delivered").count() >= 3,
        "{shown}"
    );
    // California allows 45 days; a jurisdiction with no known extension refuses.
    let db = Db::sqlite();
    let quebec = db.start(&["--jurisdiction", "quebec"]);
    let reference = quebec
        .post_json("/requests", &request(&uuid("quebec")))
        .json()["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = policy_site(&[
        "requests", "extend", &reference, "--reason", "Complex.", "--db", &db.url,
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("no extension is known for the jurisdiction `quebec`"),
        "{refused:?}"
    );
}

#[test]
fn the_purge_says_what_it_would_delete_and_deletes_closed_requests_only_when_applied() {
    let db = Db::sqlite();
    let receiver = db.start(&[]);
    let closed = receiver
        .post_json("/requests", &request(&uuid("closed")))
        .json()["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let open = receiver
        .post_json("/requests", &request(&uuid("open")))
        .json()["reference"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        receiver
            .post_json("/consent", &consent(&uuid("c-1"), &uuid("browser")))
            .status,
        201
    );
    drop(receiver);
    assert!(policy_site(&[
        "requests",
        "set-status",
        &closed,
        "completed",
        "--db",
        &db.url
    ])
    .status
    .success());
    thread::sleep(Duration::from_millis(20));
    let run = |args: &[&str]| {
        let mut all = vec!["requests", "purge", "--db", &db.url];
        all.extend_from_slice(args);
        let out = policy_site(&all);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    assert_eq!(run(&[]).0, Some(1), "a purge must say what to purge");
    let (code, said) = run(&["--closed-after", "0", "--consents-after", "0"]);
    assert_eq!(code, Some(0));
    assert_eq!(said.trim(), format!("would delete 1 closed request(s) ({closed}) and 1 consent record(s); run again with --apply to delete them"));
    assert_eq!(stored_requests(&db).len(), 2);
    let (code, said) = run(&["--closed-after", "0", "--consents-after", "0", "--apply"]);
    assert_eq!(code, Some(0), "{said}");
    let left: Vec<String> = stored_requests(&db)
        .iter()
        .map(|r| r["reference"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left, [open]);
    assert_eq!(stored_consents(&db).len(), 0);
    // What went is in the audit trail, without what it held.
    let audit = rusqlite::Connection::open(&db.url).unwrap();
    let purged: String = audit
        .query_row(
            "SELECT detail FROM audit WHERE action = 'purged'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(purged.starts_with(&closed), "{purged}");
    let events: i64 = audit
        .query_row(
            "SELECT COUNT(*) FROM request_events WHERE request_id = ?1",
            [uuid("closed")],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 0);
    // A closed request newer than the rule stays.
    let (_, said) = run(&["--closed-after", "30", "--apply"]);
    assert!(said.starts_with("deleted 0 closed request(s)"), "{said}");
    // `receive` applies the rule itself when told to, at start and daily.
    assert!(policy_site(&[
        "requests",
        "set-status",
        &left[0],
        "refused",
        "--reason",
        "Unfounded.",
        "--db",
        &db.url
    ])
    .status
    .success());
    thread::sleep(Duration::from_millis(20));
    let _receiver = db.start(&["--purge-closed-after", "0"]);
    let start = Instant::now();
    while !stored_requests(&db).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the receiver did not purge"
        );
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn operators_are_reminded_once_before_a_request_is_due_and_once_when_it_is_overdue() {
    let smtp = SmtpServer::start();
    let endpoint = Endpoint::start(0, &[], Duration::ZERO);
    let db = Db::sqlite();
    let args = [
        "--smtp",
        &smtp.url(),
        "--mail-from",
        "privacy@policies.example.org",
        "--notify",
        "dpo@example.org",
        "--due",
        "soon=3d",
        "--jurisdiction",
        "soon",
    ];
    let body = request(&uuid("remind-me"));
    let receiver = receiving_with_webhook(&db, &endpoint.url(), &args);
    let reference = receiver.post_json("/requests", &body).json()["reference"]
        .as_str()
        .unwrap()
        .to_string();
    smtp.wait_for(2); // the operator's notice and the acknowledgment
    drop(receiver);
    // The sender looks for reminders when it starts (and every ten minutes).
    let subjects = |n: usize| -> Vec<String> {
        smtp.wait_for(n)
            .iter()
            .map(|m| header(m, "Subject"))
            .collect()
    };
    let receiver = receiving_with_webhook(&db, &endpoint.url(), &args);
    let got = subjects(3);
    assert!(
        got.iter().any(|s| s.starts_with(&format!(
            "Reminder: rights request {reference} is due in 3 day(s)"
        ))),
        "{got:?}"
    );
    let hooks = endpoint.wait(Duration::from_secs(10), |h| h.len() >= 2);
    assert!(
        hooks
            .iter()
            .any(|(h, _)| h.json()["event"] == "request.due_soon" && h.json()["days_left"] == 3),
        "{hooks:?}"
    );
    drop(receiver);
    // Past its due date (as if time had passed): overdue, told once.
    let store = rusqlite::Connection::open(&db.url).unwrap();
    store
        .execute("UPDATE requests SET due_on = '2020-01-01'", [])
        .unwrap();
    for _ in 0..2 {
        let receiver = receiving_with_webhook(&db, &endpoint.url(), &args);
        smtp.wait_for(4);
        thread::sleep(Duration::from_millis(800));
        drop(receiver);
    }
    let got = subjects(4);
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(
        got.iter()
            .any(|s| s == &format!("Overdue: rights request {reference} was due on 2020-01-01")),
        "{got:?}"
    );
    let overdue = endpoint
        .received()
        .iter()
        .filter(|(h, _)| h.json()["event"] == "request.overdue")
        .count();
    assert_eq!(overdue, 1);
}

#[test]
fn a_request_whose_link_was_not_followed_within_a_week_is_flagged_unverified() {
    let smtp = SmtpServer::start();
    let db = Db::sqlite();
    let receiver = db.start(&[
        "--smtp",
        &smtp.url(),
        "--mail-from",
        "privacy@policies.example.org",
        "--public-url",
        "https://privacy.example.org/",
    ]);
    let reference = receiver
        .post_json("/requests", &request(&uuid("silent")))
        .json()["reference"]
        .as_str()
        .unwrap()
        .to_string();
    smtp.wait_for(1);
    assert_eq!(
        stored_requests(&db)[0]["unverified"],
        false,
        "not after a day"
    );
    // Eight days later (as if time had passed), the link still unused.
    let store = rusqlite::Connection::open(&db.url).unwrap();
    store
        .execute(
            "UPDATE verifications SET created_at = '2020-01-01T00:00:00.000Z'",
            [],
        )
        .unwrap();
    assert_eq!(stored_requests(&db)[0]["unverified"], true);
    let table =
        String::from_utf8(policy_site(&["requests", "list", "--db", &db.url]).stdout).unwrap();
    assert!(
        table.contains(&reference) && table.contains("received, unverified"),
        "{table}"
    );
    assert!(
        table
            .trim_end()
            .ends_with("1 request(s), 0 overdue, 1 unverified"),
        "{table}"
    );
}

// ---------------------------------------------------------------- the console

const PASSWORD: &str = "correct horse battery staple";

/// A client of the console keeping its session cookie, as a browser would.
struct Operator {
    port: u16,
    cookie: String,
    /// What a reverse proxy on this machine says the client's address is.
    forwarded_for: Option<String>,
}

impl Operator {
    fn new(port: u16) -> Operator {
        Operator {
            port,
            cookie: String::new(),
            forwarded_for: None,
        }
    }

    fn send(&mut self, method: &str, path: &str, form: &[(&str, &str)]) -> Answer {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        let cookie = self.cookie.clone();
        if !cookie.is_empty() {
            headers.push(("Cookie", &cookie));
        }
        let forwarded = self.forwarded_for.clone().unwrap_or_default();
        if !forwarded.is_empty() {
            headers.push(("X-Forwarded-For", &forwarded));
        }
        let answer = exchange(self.port, method, path, &headers, body.as_bytes());
        if let Some(set) = set_cookie(&answer) {
            self.cookie = set.split(';').next().unwrap().to_string();
        }
        answer
    }

    fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, &[])
    }

    /// The CSRF token of the last page.
    fn csrf(answer: &Answer) -> String {
        answer
            .body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_string()
    }

    fn log_in(&mut self, name: &str, password: &str) -> Answer {
        let page = self.get("/console/login");
        let csrf = Operator::csrf(&page);
        self.send(
            "POST",
            "/console/login",
            &[("name", name), ("password", password), ("csrf", &csrf)],
        )
    }
}

fn set_cookie(answer: &Answer) -> Option<String> {
    answer
        .head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .map(|l| l.split_once(':').unwrap().1.trim().to_string())
}

fn location(answer: &Answer) -> String {
    answer
        .head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("location:"))
        .map(|l| l.split_once(':').unwrap().1.trim().to_string())
        .unwrap_or_default()
}

/// A receiver with a handler, a viewer and an administrator, and a request.
fn console(db: &Db, extra: &[&str]) -> (Receiver, String) {
    for (name, role) in [("hana", "handler"), ("vic", "viewer"), ("ada", "admin")] {
        receiving::add_operator(&db.url, name, role, PASSWORD);
    }
    let receiver = db.start(extra);
    let stored = receiver.post_json("/requests", &request("console"));
    assert_eq!(stored.status, 201, "{stored:?}");
    let reference = stored.json()["reference"].as_str().unwrap().to_string();
    (receiver, reference)
}

#[test]
fn the_console_is_off_without_an_operator_and_every_route_needs_a_session() {
    let db = Db::sqlite();
    {
        let receiver = db.start(&[]);
        assert_eq!(Operator::new(receiver.0.port).get("/console/").status, 404);
    }
    let (receiver, reference) = console(&db, &[]);
    let mut anonymous = Operator::new(receiver.0.port);
    let pages = [
        "/console/".to_string(),
        format!("/console/requests/{reference}"),
        "/console/export?format=csv".into(),
        "/console/consents".into(),
        "/console/operators".into(),
    ];
    for path in &pages {
        let answer = anonymous.get(path);
        assert_eq!(answer.status, 302, "{path}: {answer:?}");
        assert_eq!(location(&answer), "/console/login", "{path}");
        assert!(
            answer
                .head
                .to_lowercase()
                .contains("cache-control: no-store"),
            "{path}"
        );
    }
    let actions = [
        format!("/console/requests/{reference}/status"),
        format!("/console/requests/{reference}/extend"),
        "/console/consents".into(),
        "/console/logout".into(),
        "/console/logout-everywhere".into(),
        "/console/operators/vic/remove".into(),
    ];
    for path in &actions {
        let answer = anonymous.send("POST", path, &[("status", "completed"), ("csrf", "x")]);
        assert_eq!(answer.status, 401, "{path}: {answer:?}");
    }
    assert_eq!(stored_requests(&db)[0]["status"], "received");
    // The login page itself, and no CORS on any console route.
    let login = anonymous.get("/console/login");
    assert_eq!(login.status, 200);
    let cookie = set_cookie(&login).unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );
    let preflight = exchange(
        receiver.0.port,
        "OPTIONS",
        "/console/login",
        &[("Origin", SITE), ("Access-Control-Request-Method", "POST")],
        b"",
    );
    let cross = exchange(
        receiver.0.port,
        "GET",
        "/console/login",
        &[("Origin", SITE)],
        b"",
    );
    for answer in [&preflight, &cross] {
        assert!(
            !answer
                .head
                .to_lowercase()
                .contains("access-control-allow-origin"),
            "{answer:?}"
        );
    }
}

#[test]
fn console_roles_csrf_sessions_and_logins_are_enforced_by_the_server() {
    let db = Db::sqlite();
    let (receiver, reference) = console(&db, &[]);
    let port = receiver.0.port;
    let status = format!("/console/requests/{reference}/status");

    // A viewer reads, without the answers, and can do nothing else.
    let mut viewer = Operator::new(port);
    let before = viewer.get("/console/login");
    let planted = viewer.cookie.clone();
    let logged = viewer.log_in("vic", PASSWORD);
    assert_eq!(logged.status, 302, "{logged:?}");
    assert_ne!(viewer.cookie, planted, "the session id changes at login");
    assert!(!before.body.is_empty());
    let page = viewer.get(&format!("/console/requests/{reference}"));
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Ana Lima") && page.body.contains("hidden for your role"));
    let csrf = Operator::csrf(&page);
    assert_eq!(viewer.get("/console/export?format=csv").status, 403);
    assert_eq!(viewer.get("/console/operators").status, 403);
    let refused = viewer.send("POST", &status, &[("status", "completed"), ("csrf", &csrf)]);
    assert_eq!(refused.status, 403, "{refused:?}");

    // A handler acts, only with the token of their own session.
    let mut handler = Operator::new(port);
    assert_eq!(handler.log_in("hana", PASSWORD).status, 302);
    let page = handler.get(&format!("/console/requests/{reference}"));
    assert!(page.body.contains("Ana Lima"));
    let own = Operator::csrf(&page);
    for token in ["", csrf.as_str()] {
        let forged = handler.send("POST", &status, &[("status", "completed"), ("csrf", token)]);
        assert_eq!(forged.status, 403, "token {token:?}: {forged:?}");
    }
    assert_eq!(stored_requests(&db)[0]["status"], "received");
    let refusal = handler.send(
        "POST",
        &status,
        &[("status", "refused"), ("note", " "), ("csrf", &own)],
    );
    assert_eq!(refusal.status, 302);
    let page = handler.get(&format!("/console/requests/{reference}"));
    assert!(
        page.body.contains("a refusal needs its reason"),
        "{}",
        page.body
    );
    let done = handler.send(
        "POST",
        &status,
        &[
            ("status", "identity_verified"),
            ("note", "passport seen"),
            ("csrf", &own),
        ],
    );
    assert_eq!(done.status, 302, "{done:?}");
    assert_eq!(stored_requests(&db)[0]["status"], "identity_verified");
    // What operators wrote is for handlers: a viewer sees that a note exists.
    let seen = viewer.get(&format!("/console/requests/{reference}"));
    assert!(!seen.body.contains("passport seen"), "{}", seen.body);
    assert!(handler
        .get(&format!("/console/requests/{reference}"))
        .body
        .contains("passport seen"));
    let export = handler.get("/console/export?format=csv&status=identity_verified");
    assert_eq!(export.status, 200);
    assert!(
        export.body.starts_with("reference,") && export.body.contains("Ana Lima"),
        "{}",
        export.body
    );
    assert!(export
        .head
        .to_lowercase()
        .contains("cache-control: no-store"));
    // Forward only: the console does not reopen a request.
    let back = [("status", "received"), ("csrf", own.as_str())];
    assert_eq!(handler.send("POST", &status, &back).status, 302);
    assert_eq!(stored_requests(&db)[0]["status"], "identity_verified");
    let page = handler.get(&format!("/console/requests/{reference}"));
    assert!(
        page.body.contains("not an action of the console"),
        "{}",
        page.body
    );
    // A refusal closes the request: a second one is refused, and mails no one.
    let refuse = [
        ("status", "refused"),
        ("note", "Unfounded."),
        ("csrf", own.as_str()),
    ];
    assert_eq!(handler.send("POST", &status, &refuse).status, 302);
    assert_eq!(stored_requests(&db)[0]["status"], "refused");
    assert_eq!(handler.send("POST", &status, &refuse).status, 302);
    let page = handler.get(&format!("/console/requests/{reference}"));
    assert!(page.body.contains("is refused already"), "{}", page.body);

    // Logged out, the old cookie opens nothing.
    let stale = handler.cookie.clone();
    assert_eq!(
        handler
            .send("POST", "/console/logout", &[("csrf", &own)])
            .status,
        302
    );
    let mut replay = Operator::new(port);
    replay.cookie = stale;
    assert_eq!(replay.get("/console/").status, 302);

    // Log out everywhere ends the viewer's other sessions.
    let mut elsewhere = Operator::new(port);
    assert_eq!(elsewhere.log_in("vic", PASSWORD).status, 302);
    let csrf = Operator::csrf(&viewer.get("/console/"));
    assert_eq!(
        viewer
            .send("POST", "/console/logout-everywhere", &[("csrf", &csrf)])
            .status,
        302
    );
    assert_eq!(elsewhere.get("/console/").status, 302);

    // Guessing: the 11th try within the window is refused, even with the
    // right password, while another account still logs in from here.
    let mut guesser = Operator::new(port);
    for _ in 0..10 {
        assert_eq!(
            guesser.log_in("hana", "not the password at all").status,
            401
        );
    }
    assert_eq!(guesser.log_in("hana", PASSWORD).status, 429);
    assert_eq!(Operator::new(port).log_in("ada", PASSWORD).status, 302);
    // Behind a reverse proxy, by the address it forwards: guessing from one
    // client does not lock the account's owner, elsewhere, out.
    let mut far = Operator::new(port);
    far.forwarded_for = Some("203.0.113.9".into());
    for _ in 0..10 {
        assert_eq!(far.log_in("ada", "not the password at all").status, 401);
    }
    assert_eq!(far.log_in("ada", PASSWORD).status, 429);
    let mut owner = Operator::new(port);
    owner.forwarded_for = Some("198.51.100.7".into());
    assert_eq!(owner.log_in("ada", PASSWORD).status, 302);

    // Every login, failure and action is in the audit trail, without the
    // password.
    let audit = rusqlite::Connection::open(&db.url).unwrap();
    let count = |action: &str| -> i64 {
        audit
            .query_row(
                "SELECT COUNT(*) FROM audit WHERE action = ?1",
                [action],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(count("console login failed"), 20);
    assert!(count("console login") >= 4);
    assert_eq!(count("console export"), 1);
    let by: String = audit
        .query_row(
            "SELECT actor FROM audit WHERE action = 'status identity_verified'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(by, "hana");
    let leaked: i64 = audit
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE detail LIKE '%not the password%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(leaked, 0);
}

#[test]
fn the_console_cookie_is_secure_when_reached_from_outside_and_passwords_are_never_arguments() {
    let db = Db::sqlite();
    let (receiver, _) = console(&db, &["--listen", "0.0.0.0"]);
    let login = Operator::new(receiver.0.port).get("/console/login");
    let cookie = set_cookie(&login).unwrap();
    assert!(
        cookie.starts_with("__Host-ps_console=") && cookie.contains("Secure"),
        "{cookie}"
    );
    // No password on the command line, a short one refused, no default account.
    let out = policy_site(&[
        "operators",
        "add",
        "eve",
        "--role",
        "admin",
        "--password",
        PASSWORD,
        "--db",
        &db.url,
    ]);
    assert!(!out.status.success());
    let mut child = Command::new(BIN)
        .args([
            "operators",
            "add",
            "eve",
            "--role",
            "admin",
            "--db",
            &db.url,
        ])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("shorter than 12"));
    let listed = policy_site(&["operators", "list", "--db", &db.url]);
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listed.contains("hana") && !listed.contains("eve") && listed.contains("3 operator(s)"),
        "{listed}"
    );
    // The hash is Argon2id, never the password.
    let stored: String = rusqlite::Connection::open(&db.url)
        .unwrap()
        .query_row(
            "SELECT password_hash FROM operators WHERE name = 'hana'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        stored.starts_with("$argon2id$") && !stored.contains(PASSWORD),
        "{stored}"
    );
    // A new password ends the sessions opened with the old one.
    let mut hana = Operator::new(receiver.0.port);
    assert_eq!(hana.log_in("hana", PASSWORD).status, 302);
    let mut child = Command::new(BIN)
        .args(["operators", "passwd", "hana", "--db", &db.url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"another long passphrase\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(hana.get("/console/").status, 302);
    assert_eq!(hana.log_in("hana", PASSWORD).status, 401);
    assert_eq!(hana.log_in("hana", "another long passphrase").status, 302);
    // Removing an operator ends their sessions.
    let mut vic = Operator::new(receiver.0.port);
    assert_eq!(vic.log_in("vic", PASSWORD).status, 302);
    assert!(
        policy_site(&["operators", "remove", "vic", "--db", &db.url])
            .status
            .success()
    );
    assert_eq!(vic.get("/console/").status, 302);
}

#[test]
fn the_console_logs_in_acts_and_logs_out_on_postgres_too() {
    let db = Db::postgres();
    let (receiver, reference) = console(&db, &[]);
    let mut handler = Operator::new(receiver.0.port);
    assert_eq!(handler.log_in("hana", PASSWORD).status, 302);
    let page = handler.get(&format!("/console/requests/{reference}"));
    assert!(page.body.contains("Ana Lima"), "{page:?}");
    let csrf = Operator::csrf(&page);
    let path = format!("/console/requests/{reference}/extend");
    let extended = handler.send(
        "POST",
        &path,
        &[("reason", "Ten years of records."), ("csrf", &csrf)],
    );
    assert_eq!(extended.status, 302, "{extended:?}");
    let row = &stored_requests(&db)[0];
    let history = handler.get(&format!("/console/requests/{reference}"));
    assert!(
        history.body.contains("Ten years of records."),
        "{}",
        history.body
    );
    assert!(history.body.contains(row["due_on"].as_str().unwrap()));
    let stale = handler.cookie.clone();
    assert_eq!(
        handler
            .send("POST", "/console/logout", &[("csrf", &csrf)])
            .status,
        302
    );
    let mut replay = Operator::new(receiver.0.port);
    replay.cookie = stale;
    assert_eq!(replay.get("/console/").status, 302);
}

// ---------------------------------------------------------------- ISO/IEC TS 27560

/// A record as the banner sends it, for the bundled example's inventory.
fn choice(n: u32, action: &str, granted: &[&str], gpc: bool) -> Value {
    let mut categories = serde_json::Map::new();
    for id in ["necessary", "preferences", "analytics", "marketing"] {
        categories.insert(id.into(), json!(id == "necessary" || granted.contains(&id)));
    }
    json!({
        "schema": "consent-record.v1", "record_id": uuid(&format!("iso-{n}")), "consent_id": uuid("iso-browser"),
        "action": action, "categories": categories,
        "policy": "privacy", "version": "2025-01-30", "lang": if n.is_multiple_of(2) { "en" } else { "fr" }, "gpc": gpc,
        "time": format!("2025-02-0{n}T10:00:00Z"), "banner_hash": "ab".repeat(32), "revision": "cd12ef34", "page": "/en/privacy/"
    })
}

#[test]
fn consent_records_export_in_the_iso_27560_shape_that_the_published_schema_accepts() {
    let db = Db::sqlite();
    let receiver = db.start(&[]);
    let choices = [
        choice(
            1,
            "accept_all",
            &["preferences", "analytics", "marketing"],
            false,
        ),
        choice(2, "customize", &["analytics"], false),
        choice(3, "withdraw", &[], false),
        choice(4, "reject_all", &[], false),
        choice(5, "gpc", &[], true),
    ];
    for record in &choices {
        assert_eq!(receiver.post_json("/consent", record).status, 201);
    }
    drop(receiver);
    let example = env!("CARGO_MANIFEST_DIR");
    let records = operator(
        &db.url,
        &[
            "consents", "export", "--format", "iso27560", "--root", example,
        ],
    );
    assert_eq!(records.len(), 5);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{example}/static/schemas/consent-iso27560.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    for record in &records {
        let errors: Vec<String> = validator
            .iter_errors(record)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{record:#}");
    }
    // A wrong record does not pass: the schema can fail.
    let mut wrong = records[0].clone();
    wrong["dpv:hasProcess"][1]["dpv:hasConsentStatus"]["@type"][0] = json!("dpv:ConsentMaybe");
    assert!(!validator.is_valid(&wrong));

    let status = |record: &Value, category: &str| -> Value {
        let process = record["dpv:hasProcess"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["dct:identifier"] == category)
            .unwrap();
        process["dpv:hasConsentStatus"]["@type"][0].clone()
    };
    for (n, expected) in [
        (
            0,
            ["dpv:ConsentGiven", "dpv:ConsentGiven", "dpv:ConsentGiven"],
        ),
        (
            1,
            [
                "dpv:ConsentRefused",
                "dpv:ConsentGiven",
                "dpv:ConsentRefused",
            ],
        ),
        (
            2,
            [
                "dpv:ConsentWithdrawn",
                "dpv:ConsentWithdrawn",
                "dpv:ConsentWithdrawn",
            ],
        ),
        (
            3,
            [
                "dpv:ConsentRefused",
                "dpv:ConsentRefused",
                "dpv:ConsentRefused",
            ],
        ),
        (
            4,
            [
                "dpv:ConsentRefused",
                "dpv:ConsentRefused",
                "dpv:ConsentRefused",
            ],
        ),
    ] {
        let found: Vec<Value> = ["preferences", "analytics", "marketing"]
            .iter()
            .map(|c| status(&records[n], c))
            .collect();
        assert_eq!(found, expected.map(Value::from), "record {n}");
        assert_eq!(
            status(&records[n], "necessary"),
            Value::Null,
            "necessary storage asks no consent"
        );
    }
    assert_eq!(records[4]["ps:gpc"], true);
    assert_eq!(records[4]["ps:action"], "gpc");
    let first = &records[0];
    assert_eq!(first["dct:identifier"], uuid("iso-1"));
    assert_eq!(
        first["dpv:hasDataSubject"]["dct:identifier"],
        uuid("iso-browser")
    );
    assert_eq!(first["dpv:hasDataController"]["dpv:hasName"], "Iconnek");
    // The notice shown is the version's page, with its text hash from the publication log.
    let log: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{example}/publication-log.json")).unwrap(),
    )
    .unwrap();
    let entry = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["date"] == "2025-01-30")
        .unwrap();
    let notice = &first["dpv:hasNotice"][0];
    assert_eq!(
        notice["schema:url"],
        "https://iconnek.io/fr/privacy/2025-01-30/"
    );
    assert_eq!(notice["ps:textSha256"], entry["text"]["fr"]["sha256"]);
    assert_eq!(notice["ps:publicationLogEntry"], entry["hash"]);
    assert_eq!(records[1]["dpv:hasNotice"][0]["dct:language"], "en");
    let marketing = first["dpv:hasProcess"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["dct:identifier"] == "marketing")
        .unwrap();
    assert_eq!(
        marketing["dpv:hasRecipient"][0]["dpv:hasName"],
        "LinkedIn Corporation"
    );
    assert_eq!(marketing["dpv:hasLegalBasis"], "eu-gdpr:A6-1-a");
}
