//! The receiving end of the site's forms and cookie banner: accepts
//! rights requests (`rights-request.v1`, JSON or a plain form post) and
//! consent records (`consent-record.v1`), deduplicates retries by their ids,
//! appends them to JSON Lines files and prints one line each. Used by
//! `policy-site receive` and, without files, by `serve`.

use crate::http::{self, Request, Response};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const REQUESTS_FILE: &str = "requests.jsonl";
pub const CONSENT_FILE: &str = "consent.jsonl";

pub struct Receiver {
    /// Where records are appended; `None` prints them only (as `serve` does).
    dir: Option<PathBuf>,
    /// request_id → reference, for retries.
    requests: Mutex<BTreeMap<String, String>>,
    records: Mutex<BTreeSet<String>>,
    /// The rights a request may name: the site's catalogue.
    rights: BTreeSet<String>,
}

impl Receiver {
    /// A receiver writing into `dir` (created if needed), which remembers the
    /// ids already stored there so that a retry after a restart is still one request.
    pub fn open(dir: Option<PathBuf>) -> std::io::Result<Receiver> {
        let mut requests = BTreeMap::new();
        let mut records = BTreeSet::new();
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir)?;
            for line in lines(&dir.join(REQUESTS_FILE)) {
                if let Some(id) = line["request_id"].as_str() {
                    requests.insert(id.to_string(), reference(id));
                }
            }
            for line in lines(&dir.join(CONSENT_FILE)) {
                if let Some(id) = line["record_id"].as_str() {
                    records.insert(id.to_string());
                }
            }
        }
        Ok(Receiver {
            dir,
            requests: Mutex::new(requests),
            records: Mutex::new(records),
            rights: crate::rights::default_catalogue()
                .ids()
                .into_iter()
                .map(String::from)
                .collect(),
        })
    }

    /// Accepts requests for the rights of this site's catalogue only.
    pub fn for_site(mut self, config: &crate::config::Config) -> Receiver {
        self.rights = config
            .rights
            .catalogue()
            .ids()
            .into_iter()
            .map(String::from)
            .collect();
        self
    }

    /// Answers a POST to `/requests` (or any path ending so) and `/consent`;
    /// `None` for any other path.
    pub fn handle(&self, request: &Request) -> Option<Response> {
        let endpoint = request.path.rsplit('/').next().unwrap_or("");
        if endpoint != "requests" && endpoint != "consent" {
            return None;
        }
        if request.method != "POST" {
            return Some(
                Response::json(405, &json!({"error": "only POST is accepted here"}))
                    .with_header("Allow", "POST, OPTIONS"),
            );
        }
        Some(if endpoint == "requests" {
            self.rights_request(request)
        } else {
            self.consent_record(request)
        })
    }

    pub fn rights_request(&self, request: &Request) -> Response {
        let form = request.content_type() == "application/x-www-form-urlencoded";
        let (mut body, return_to) = if form {
            from_form(&String::from_utf8_lossy(&request.body))
        } else {
            match serde_json::from_slice::<Value>(&request.body) {
                Ok(value @ Value::Object(_)) => (value, None),
                _ => return bad("the body is not a JSON object"),
            }
        };
        if let Err(why) = validate_request(&body, &self.rights) {
            return bad(&why);
        }
        let return_to = match return_to
            .filter(|to| !to.is_empty())
            .map(|to| back_to_site(&to, request))
        {
            Some(Ok(url)) => Some(url),
            Some(Err(why)) => return bad(&why),
            None => None,
        };
        let answer = |reference: &str| match &return_to {
            Some(to) => Response::redirect(&with_reference(to, reference)),
            None => Response::json(201, &json!({"reference": reference})),
        };
        if body["website"]
            .as_str()
            .is_some_and(|w| !w.trim().is_empty())
        {
            // A filled honeypot is a robot: thank it and keep nothing.
            return answer(&reference("honeypot"));
        }
        let id = match body["request_id"].as_str() {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => fresh_id(&request.body),
        };
        body["request_id"] = Value::String(id.clone());
        let mut seen = self.requests.lock().expect("not poisoned");
        if let Some(existing) = seen.get(&id) {
            return answer(existing);
        }
        let reference = reference(&id);
        body["reference"] = Value::String(reference.clone());
        if let Err(e) = self.append(REQUESTS_FILE, &body) {
            return Response::json(500, &json!({"error": format!("cannot store: {e}")}));
        }
        seen.insert(id, reference.clone());
        say(format_args!(
            "request {reference}: {} ({} {} {}) from {}",
            body["right"].as_str().unwrap_or("?"),
            body["policy"].as_str().unwrap_or("?"),
            body["version"].as_str().unwrap_or("?"),
            body["lang"].as_str().unwrap_or("?"),
            body["fields"]["email"].as_str().unwrap_or("?"),
        ));
        answer(&reference)
    }

    /// Accepts `application/json` and, as `navigator.sendBeacon` sends it, `text/plain`.
    pub fn consent_record(&self, request: &Request) -> Response {
        let record: Value = match serde_json::from_slice(&request.body) {
            Ok(value @ Value::Object(_)) => value,
            _ => return bad("the body is not a JSON object"),
        };
        if record["schema"] != "consent-record.v1" {
            return bad("`schema` must be \"consent-record.v1\"");
        }
        let Some(id) = record["record_id"].as_str().filter(|id| !id.is_empty()) else {
            return bad("`record_id` is missing");
        };
        if record["action"].as_str().is_none() {
            return bad("`action` is missing");
        }
        let mut seen = self.records.lock().expect("not poisoned");
        if seen.contains(id) {
            return Response::json(201, &json!({"ok": true}));
        }
        if let Err(e) = self.append(CONSENT_FILE, &record) {
            return Response::json(500, &json!({"error": format!("cannot store: {e}")}));
        }
        seen.insert(id.to_string());
        say(format_args!(
            "consent {id}: {} {} (policy {} {}, gpc {})",
            record["action"].as_str().unwrap_or("?"),
            record["categories"],
            record["policy"].as_str().unwrap_or("?"),
            record["version"].as_str().unwrap_or("?"),
            record["gpc"],
        ));
        Response::json(201, &json!({"ok": true}))
    }

    fn append(&self, file: &str, value: &Value) -> std::io::Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(file))?;
        writeln!(out, "{value}")
    }
}

/// `REQ-` and ten hex digits of the request id's hash: the same id always
/// gives the same reference, so a retry shows the visitor the same one.
pub fn reference(request_id: &str) -> String {
    let digest = crate::consent::hex(&Sha256::digest(request_id.as_bytes()));
    format!("REQ-{}", digest[..10].to_ascii_uppercase())
}

fn validate_request(body: &Value, rights: &BTreeSet<String>) -> Result<(), String> {
    if body["schema"] != "rights-request.v1" {
        return Err("`schema` must be \"rights-request.v1\"".into());
    }
    match body["right"].as_str() {
        None | Some("") => return Err("`right` is missing".into()),
        Some(right) if !rights.contains(right) => {
            return Err(format!(
                "`{right}` is not a right this site accepts requests for"
            ))
        }
        Some(_) => {}
    }
    let email = body["fields"]["email"].as_str().unwrap_or("");
    if !email.contains('@') {
        return Err("an email address is required to answer the request".into());
    }
    Ok(())
}

/// A flat form post as the JSON shape: answers go under `fields`.
fn from_form(body: &str) -> (Value, Option<String>) {
    let mut top = Map::new();
    let mut fields = Map::new();
    let mut return_to = None;
    for (name, value) in http::parse_urlencoded(body) {
        if name == "return_to" {
            return_to = Some(value);
        } else if crate::rights::RESERVED_FIELDS.contains(&name.as_str()) {
            top.insert(name, Value::String(value));
        } else {
            fields.insert(name, Value::String(value));
        }
    }
    top.insert("fields".into(), Value::Object(fields));
    (Value::Object(top), return_to)
}

/// Where to send the visitor back after a plain form post: a path on the
/// site (never another host: that would make the receiver an open
/// redirect), made absolute with the origin the form was posted from.
fn back_to_site(return_to: &str, request: &Request) -> Result<String, String> {
    let is_path = return_to.starts_with('/')
        && !return_to.starts_with("//")
        && !return_to.starts_with("/\\")
        && !return_to.chars().any(|c| c.is_control() || c == '\\');
    if !is_path {
        return Err("`return_to` must be a path on the site, such as /en/requests/thanks/".into());
    }
    let origin = request
        .header("origin")
        .filter(|o| *o != "null")
        .map(str::to_string)
        .or_else(|| request.header("referer").and_then(origin_of));
    Ok(
        match origin.filter(|o| origin_of(o).as_deref() == Some(o.as_str())) {
            Some(origin) => format!("{origin}{return_to}"),
            None => return_to.to_string(),
        },
    )
}

/// `scheme://host[:port]` of an http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

fn with_reference(url: &str, reference: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}reference={reference}")
}

/// An id for a form posted without JavaScript (which cannot make one).
fn fresh_id(body: &[u8]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let mut hasher = Sha256::new();
    hasher.update(now.to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(body);
    let hex = crate::consent::hex(&hasher.finalize());
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// One line on the terminal per record; a closed terminal loses nothing stored.
fn say(line: std::fmt::Arguments) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn bad(why: &str) -> Response {
    Response::json(400, &json!({"error": why}))
}

fn lines(file: &Path) -> Vec<Value> {
    let Ok(f) = std::fs::File::open(file) else {
        return Vec::new();
    };
    std::io::BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "POST".into(),
            path: "/requests".into(),
            query: String::new(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn the_visitor_is_sent_back_to_the_site_it_posted_from_and_nowhere_else() {
        let from_site = post(&[("origin", "http://127.0.0.1:8000")]);
        assert_eq!(
            back_to_site("/en/requests/thanks/", &from_site).unwrap(),
            "http://127.0.0.1:8000/en/requests/thanks/"
        );
        let with_referer = post(&[("referer", "https://iconnek.io/fr/privacy/#x")]);
        assert_eq!(
            back_to_site("/fr/requests/thanks/", &with_referer).unwrap(),
            "https://iconnek.io/fr/requests/thanks/"
        );
        assert_eq!(
            back_to_site("/en/requests/thanks/", &post(&[])).unwrap(),
            "/en/requests/thanks/"
        );
        for evil in [
            "https://evil.example/x",
            "//evil.example/x",
            "/\\evil.example/x",
            "evil",
            "/ok\r\nSet-Cookie: x=1",
        ] {
            assert!(
                back_to_site(evil, &from_site).is_err(),
                "{evil:?} was accepted"
            );
        }
    }

    #[test]
    fn a_request_for_a_right_the_site_does_not_offer_is_refused() {
        let rights: BTreeSet<String> = ["access".to_string()].into();
        let body = json!({"schema": "rights-request.v1", "right": "teleport", "fields": {"email": "a@example.com"}});
        assert!(validate_request(&body, &rights)
            .unwrap_err()
            .contains("teleport"));
        let body = json!({"schema": "rights-request.v1", "right": "access", "fields": {"email": "a@example.com"}});
        assert!(validate_request(&body, &rights).is_ok());
    }
}
