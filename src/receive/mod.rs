//! The receiving end of the site's forms and cookie banner: checks rights
//! requests (`rights-request.v1`, JSON or a plain form post) and consent
//! records (`consent-record.v1`), stamps them with the receipt time and the
//! response due date, and hands them to the store, which keeps each id once.
//! `routes` puts this on HTTP; `serve` uses it without a store.
//!
//! Refusals speak the post's language: the body's `lang` when the body
//! parses far enough to have one (also for a refusal, such as a foreign
//! origin, decided before the body is read), else `Accept-Language`.

pub mod console;
pub mod database;
pub mod due;
pub mod export;
pub mod fulfil;
pub mod notify;
mod page;
mod postgres;
pub mod routes;
mod sqlite;
pub mod store;

use crate::i18n::Strings;
use due::DueTable;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc::{sync_channel, SyncSender};
use store::{NewConsent, NewRequest, Receipt, Store};

/// Answers a request may hold, and how long each may be.
pub const MAX_FIELDS: usize = 40;
pub const MAX_VALUE_CHARS: usize = 10_000;
/// What a consent record may say was done (`consent-record.v1`'s `action`).
pub const CONSENT_ACTIONS: &[&str] = &["accept_all", "reject_all", "customize", "withdraw", "gpc"];
/// Posts without JavaScript with the same right and answers within this
/// many milliseconds are one request (a double click, a resubmitted page).
const SAME_POST_WINDOW_MS: i64 = 10 * 60 * 1000;

/// Why a post was refused: an HTTP status and a stable code, whose message
/// each language has as `receive.refused_<code>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
}

const fn refused(status: u16, code: &'static str) -> Refusal {
    Refusal { status, code }
}

pub const MALFORMED_JSON: Refusal = refused(400, "malformed_json");
pub const INVALID_UTF8: Refusal = refused(400, "invalid_utf8");
pub const UNSUPPORTED_MEDIA_TYPE: Refusal = refused(415, "unsupported_media_type");
pub const BODY_TOO_LARGE: Refusal = refused(413, "body_too_large");
pub const WRONG_SCHEMA: Refusal = refused(400, "wrong_schema");
pub const MISSING_RIGHT: Refusal = refused(400, "missing_right");
pub const UNKNOWN_RIGHT: Refusal = refused(400, "unknown_right");
pub const EMAIL_REQUIRED: Refusal = refused(400, "email_required");
pub const TOO_MANY_FIELDS: Refusal = refused(400, "too_many_fields");
pub const FIELD_TOO_LONG: Refusal = refused(400, "field_too_long");
pub const INVALID_ID: Refusal = refused(400, "invalid_id");
pub const MISSING_ACTION: Refusal = refused(400, "missing_action");
pub const UNKNOWN_ACTION: Refusal = refused(400, "unknown_action");
pub const UNKNOWN_POLICY: Refusal = refused(400, "unknown_policy");
pub const INVALID_VERSION: Refusal = refused(400, "invalid_version");
pub const INCOMPLETE_RECORD: Refusal = refused(400, "incomplete_record");
pub const FOREIGN_ORIGIN: Refusal = refused(403, "foreign_origin");
pub const BAD_RETURN_TO: Refusal = refused(400, "bad_return_to");
pub const NOT_FOUND: Refusal = refused(404, "not_found");
pub const METHOD_NOT_ALLOWED: Refusal = refused(405, "method_not_allowed");
pub const UNAVAILABLE: Refusal = refused(503, "unavailable");

/// A POST as the receiver needs it.
#[derive(Debug, Clone, Default)]
pub struct Post {
    /// The media type without parameters, lowercase.
    pub content_type: String,
    pub origin: Option<String>,
    pub referer: Option<String>,
    /// `Accept-Language`: the forms send their page's language, for
    /// refusals of posts too broken to say it themselves.
    pub accept_language: Option<String>,
    pub body: Vec<u8>,
}

impl Post {
    /// The first language of `Accept-Language`, without region: `fr` for `fr-CA,en`.
    pub fn language(&self) -> &str {
        self.accept_language
            .as_deref()
            .and_then(|l| l.split([',', ';', '-']).next())
            .unwrap_or("")
            .trim()
    }

    /// The language the post says it is in: its body's `lang` (JSON or a
    /// form) when the body parses that far, else `Accept-Language`.
    fn said_language(&self) -> String {
        let text = std::str::from_utf8(&self.body).unwrap_or("");
        let lang = if self.content_type == "application/x-www-form-urlencoded" {
            from_form(text).0["lang"].as_str().map(str::to_string)
        } else {
            serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|body| body["lang"].as_str().map(str::to_string))
        };
        lang.unwrap_or_else(|| self.language().to_string())
    }
}

/// What to send back.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Json(u16, Value),
    /// A page of the receiver's own (for posts without JavaScript).
    Page(u16, String),
}

pub struct Receiver {
    /// `None` while serving a preview: nothing is kept, only printed.
    store: Option<Store>,
    rights: BTreeSet<String>,
    /// The rights' labels, for the e-mails.
    catalogue: crate::rights::Catalogue,
    /// The site's policies, when the receiver runs in the site's folder;
    /// `None` accepts any policy identifier.
    policies: Option<BTreeSet<String>>,
    /// Origins allowed to post (`scheme://host[:port]`).
    origins: Vec<String>,
    due: DueTable,
    strings: BTreeMap<String, Strings>,
    default_lang: String,
    log: SyncSender<String>,
    notify: notify::Settings,
}

impl Receiver {
    /// A receiver for `origins`, storing into `store`; the rights, strings
    /// and languages are the site's when `config` is given, else the built-in ones.
    pub fn new(
        store: Option<Store>,
        config: Option<&crate::config::Config>,
        origins: &[String],
        due: DueTable,
    ) -> Receiver {
        let mut strings = crate::i18n::built_in();
        let (catalogue, default_lang) = match config {
            Some(config) => {
                for (lang, namespaces) in &config.strings {
                    let own = strings.entry(lang.clone()).or_default();
                    for (namespace, keys) in namespaces {
                        own.entry(namespace.clone())
                            .or_default()
                            .extend(keys.clone());
                    }
                }
                (
                    config.rights.catalogue(),
                    config.default_language().to_string(),
                )
            }
            None => (crate::rights::default_catalogue(), "en".to_string()),
        };
        Receiver {
            store,
            rights: catalogue.ids().into_iter().map(String::from).collect(),
            catalogue,
            policies: None,
            origins: origins.iter().filter_map(|o| origin_of(o)).collect(),
            due,
            strings,
            default_lang,
            log: log_thread(),
            notify: notify::Settings::default(),
        }
    }

    /// The page a verification link opens (`confirm`: its button's post),
    /// in the visitor's language.
    pub async fn verification(&self, token: &str, confirm: bool, lang: &str) -> Answer {
        let lang = self.lang(lang).to_string();
        let well_formed = token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
        let found = match (&self.store, well_formed) {
            (Some(store), true) => {
                let at = due::now().0;
                store.verify(&notify::token_hash(token), &at, confirm).await
            }
            _ => Ok(store::Verified::Unknown),
        };
        let page = |status, html| Answer::Page(status, html);
        match found {
            Ok(store::Verified::Valid(reference)) => {
                page(200, page::verify(self, &lang, &reference))
            }
            Ok(store::Verified::Confirmed(reference)) => {
                self.say("a requester confirmed their address".into());
                page(200, page::verified(self, &lang, Some(&reference), ""))
            }
            Ok(store::Verified::Used) => {
                page(410, page::verified(self, &lang, None, "verify_used"))
            }
            Ok(store::Verified::Expired) => {
                page(410, page::verified(self, &lang, None, "verify_expired"))
            }
            Ok(store::Verified::Unknown) => {
                page(404, page::verified(self, &lang, None, "verify_unknown"))
            }
            Err(_) => page(
                503,
                page::refused(self, &lang, &self.text(&lang, "refused_unavailable")),
            ),
        }
    }

    /// Whether records can be kept now: the store's writer and its database
    /// answer (a preview, which keeps nothing, is always healthy).
    pub async fn health(&self) -> Result<(), String> {
        match &self.store {
            Some(store) => store.ping().await,
            None => Ok(()),
        }
    }

    /// The notifications a new request owes, worded in the receiver's strings.
    fn deliveries(
        &self,
        new: &NewRequest,
        body: &Value,
    ) -> (Vec<store::NewDelivery>, Option<store::NewVerification>) {
        let right = |lang: &str| {
            self.catalogue
                .get(&new.right)
                .and_then(|r| r.label.get(lang).or_else(|| r.label.get("en")).cloned())
                .unwrap_or_else(|| new.right.clone())
        };
        let text = |lang: &str, key: &str| self.text(lang, key);
        let wording = notify::Wording {
            text: &text,
            right: &right,
            operators: &self.default_lang,
        };
        self.notify.deliveries(new, body, &wording)
    }

    /// What the notification sender words reminders with: these strings
    /// and rights, the operators in the default language.
    pub fn texts(&self) -> notify::Texts {
        notify::Texts {
            strings: self.strings.clone(),
            catalogue: self.catalogue.clone(),
            operators: self.default_lang.clone(),
        }
    }

    /// Queue, with each new request, a notification per webhook of `notify`.
    pub fn with_notifications(mut self, notify: notify::Settings) -> Receiver {
        self.notify = notify;
        self
    }

    /// Accept requests and consent records only for these policies.
    pub fn with_policies(mut self, policies: BTreeSet<String>) -> Receiver {
        self.policies = Some(policies);
        self
    }

    /// Whether a browser on `origin` may post here and read the answer.
    pub fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }

    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// The posting page's origin: `Ok(None)` for a client that names none
    /// (not a browser), a refusal for any origin not allowed.
    fn origin(&self, post: &Post) -> Result<Option<String>, Refusal> {
        let named = match (&post.origin, &post.referer) {
            (Some(origin), _) => Some(origin.clone()),
            (None, Some(referer)) => Some(origin_of(referer).unwrap_or_default()),
            (None, None) => None,
        };
        match named {
            Some(origin) if self.allows(&origin) => Ok(Some(origin)),
            Some(_) => Err(FOREIGN_ORIGIN),
            None => Ok(None),
        }
    }

    /// A language the receiver has strings for: `lang`, else the site's default.
    fn lang<'a>(&'a self, lang: &'a str) -> &'a str {
        if self.strings.contains_key(lang) {
            lang
        } else {
            &self.default_lang
        }
    }

    /// `receive.<key>` in `lang`, else in English.
    pub fn text(&self, lang: &str, key: &str) -> String {
        [self.lang(lang), "en"]
            .iter()
            .find_map(|l| self.strings.get(*l)?.get("receive")?.get(key).cloned())
            .unwrap_or_else(|| key.to_string())
    }

    /// The answer to a refused post: JSON with the code and its message, or
    /// for a plain form post a page saying it in the visitor's language.
    pub fn refusal(&self, refusal: Refusal, lang: &str, plain: bool) -> Answer {
        let message = self.text(lang, &format!("refused_{}", refusal.code));
        if plain {
            return Answer::Page(
                refusal.status,
                page::refused(self, self.lang(lang), &message),
            );
        }
        Answer::Json(
            refusal.status,
            json!({"error": message, "code": refusal.code}),
        )
    }

    pub async fn rights_request(&self, post: &Post) -> Answer {
        let plain = post.content_type == "application/x-www-form-urlencoded";
        match self.take_request(post, plain).await {
            Ok(answer) => answer,
            Err((refusal, lang)) => self.refusal(refusal, &lang, plain),
        }
    }

    async fn take_request(&self, post: &Post, plain: bool) -> Result<Answer, (Refusal, String)> {
        let unread = |refusal| (refusal, self.lang(&post.said_language()).to_string());
        let origin = self.origin(post).map_err(unread)?;
        if !plain && post.content_type != "application/json" {
            return Err(unread(UNSUPPORTED_MEDIA_TYPE));
        }
        let text = std::str::from_utf8(&post.body).map_err(|_| unread(INVALID_UTF8))?;
        let (mut body, return_to) = if plain {
            from_form(text)
        } else {
            match serde_json::from_str::<Value>(text) {
                Ok(value @ Value::Object(_)) => (value, None),
                _ => return Err(unread(MALFORMED_JSON)),
            }
        };
        let lang = self
            .lang(body["lang"].as_str().unwrap_or(post.language()))
            .to_string();
        let refuse = |refusal| (refusal, lang.clone());
        validate_request(&body, &self.rights, plain).map_err(refuse)?;
        self.check_policy(&body).map_err(refuse)?;
        let back = match return_to.filter(|to| !to.is_empty()) {
            Some(to) => Some(self.back_to_site(&to, &origin, post).map_err(refuse)?),
            None => None,
        };
        let now = due::now_millis();
        let (received_at, today) = due::timestamp(now);
        let due_on = self.due.due(today).to_string();
        let answer = |receipt: &Receipt| match &back {
            Some(back) => Answer::Page(
                201,
                page::received(
                    self,
                    &lang,
                    &receipt.reference,
                    &receipt.received_at,
                    &receipt.due_on,
                    back,
                ),
            ),
            None => Answer::Json(
                201,
                json!({"reference": receipt.reference, "received_at": receipt.received_at, "due": receipt.due_on}),
            ),
        };
        let unstored = |reference: String| Receipt {
            reference,
            received_at: received_at.clone(),
            due_on: due_on.clone(),
        };
        if body["website"]
            .as_str()
            .is_some_and(|w| !w.trim().is_empty())
        {
            // A filled honeypot is a robot: thank it and keep nothing.
            self.say("a post with the honeypot filled was dropped".into());
            return Ok(answer(&unstored(reference("honeypot"))));
        }
        let given = body["request_id"].as_str().unwrap_or("").to_string();
        let fingerprint = given.is_empty().then(|| fingerprint(&body));
        let request_id = if given.is_empty() {
            fresh_id(&post.body)
        } else {
            given
        };
        body["request_id"] = Value::String(request_id.clone());
        let mut new = NewRequest {
            reference: reference(&request_id),
            right: body["right"].as_str().unwrap_or("").into(),
            policy: body["policy"].as_str().unwrap_or("").into(),
            version: body["version"].as_str().unwrap_or("").into(),
            lang: lang.clone(),
            origin: origin.unwrap_or_default(),
            jurisdiction: self.due.jurisdiction.clone(),
            received_at: received_at.clone(),
            due_on: due_on.clone(),
            same_since: fingerprint
                .as_ref()
                .map(|_| due::timestamp(now - SAME_POST_WINDOW_MS).0),
            fingerprint,
            payload: body.to_string(),
            request_id,
            deliveries: Vec::new(),
            verification: None,
        };
        (new.deliveries, new.verification) = self.deliveries(&new, &body);
        let stored = match &self.store {
            Some(store) => store
                .save_request(new.clone())
                .await
                .map_err(|_| refuse(UNAVAILABLE))?,
            None => unstored(new.reference.clone()),
        };
        self.say(format!(
            "request {}: {} ({} {} {}), due {}",
            stored.reference, new.right, new.policy, new.version, new.lang, stored.due_on
        ));
        Ok(answer(&stored))
    }

    /// Accepts `application/json` and, as `navigator.sendBeacon` sends it, `text/plain`.
    pub async fn consent_record(&self, post: &Post) -> Answer {
        match self.take_consent(post).await {
            Ok(answer) => answer,
            Err(refusal) => self.refusal(refusal, &post.said_language(), false),
        }
    }

    async fn take_consent(&self, post: &Post) -> Result<Answer, Refusal> {
        let origin = self.origin(post)?;
        if !["application/json", "text/plain"].contains(&post.content_type.as_str()) {
            return Err(UNSUPPORTED_MEDIA_TYPE);
        }
        let text = std::str::from_utf8(&post.body).map_err(|_| INVALID_UTF8)?;
        let record: Value = match serde_json::from_str(text) {
            Ok(value @ Value::Object(_)) => value,
            _ => return Err(MALFORMED_JSON),
        };
        if record["schema"] != "consent-record.v1" {
            return Err(WRONG_SCHEMA);
        }
        validate_consent(&record)?;
        self.check_policy(&record)?;
        let text_of_id = |key: &str| record[key].as_str().unwrap_or("");
        let (record_id, consent_id, action) = (
            text_of_id("record_id"),
            text_of_id("consent_id"),
            text_of_id("action"),
        );
        let text_of = |key: &str| {
            record[key]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(64)
                .collect()
        };
        let new = NewConsent {
            record_id: record_id.into(),
            consent_id: consent_id.into(),
            action: action.into(),
            policy: text_of("policy"),
            version: text_of("version"),
            lang: text_of("lang"),
            origin: origin.unwrap_or_default(),
            received_at: due::now().0,
            payload: record.to_string(),
        };
        let received_at = match &self.store {
            Some(store) => {
                store
                    .save_consent(new.clone())
                    .await
                    .map_err(|_| UNAVAILABLE)?
                    .received_at
            }
            None => new.received_at.clone(),
        };
        self.say(format!(
            "consent record {}: {} (policy {} {})",
            new.record_id, new.action, new.policy, new.version
        ));
        Ok(Answer::Json(
            201,
            json!({"ok": true, "received_at": received_at}),
        ))
    }

    /// A policy of the site, when the receiver knows the site's policies.
    fn check_policy(&self, body: &Value) -> Result<(), Refusal> {
        let policy = body["policy"].as_str().unwrap_or("");
        match &self.policies {
            Some(policies) if !policies.contains(policy) => Err(UNKNOWN_POLICY),
            _ => Ok(()),
        }
    }

    /// Where the visitor's page links back to after a plain form post: the
    /// form's page when the browser named it, else `return_to` on the
    /// posting origin. Only paths on an allowed origin: never an open redirect.
    fn back_to_site(
        &self,
        return_to: &str,
        origin: &Option<String>,
        post: &Post,
    ) -> Result<String, Refusal> {
        let is_path = return_to.starts_with('/')
            && !return_to.starts_with("//")
            && !return_to.chars().any(|c| c.is_control() || c == '\\');
        if !is_path {
            return Err(BAD_RETURN_TO);
        }
        if let Some(referer) = &post.referer {
            if origin_of(referer).is_some_and(|o| self.allows(&o)) {
                return Ok(referer.clone());
            }
        }
        let origin = origin
            .clone()
            .or_else(|| self.origins.first().cloned())
            .unwrap_or_default();
        Ok(format!("{origin}{return_to}"))
    }

    /// One line on the terminal, never holding anything up: when the
    /// terminal does not keep up, lines are dropped rather than requests.
    fn say(&self, line: String) {
        let _ = self.log.try_send(line);
    }
}

fn log_thread() -> SyncSender<String> {
    let (lines, queue) = sync_channel::<String>(1024);
    let _ = std::thread::Builder::new()
        .name("receipts-log".into())
        .spawn(move || {
            use std::io::Write;
            for line in queue {
                let _ = writeln!(std::io::stdout(), "{line}");
            }
        });
    lines
}

/// `REQ-` and sixteen hex digits of the request id's hash: the same id
/// always gives the same reference, so a retry shows the visitor the same
/// one. Sixteen digits (64 bits) keep two requests from sharing one: ten
/// gave even odds of a clash by a million requests, and the second request
/// could then not be stored. (Requests stored with ten keep them.)
pub fn reference(request_id: &str) -> String {
    let digest = crate::vocabulary::hex(&Sha256::digest(request_id.as_bytes()));
    format!("REQ-{}", digest[..16].to_ascii_uppercase())
}

/// An id the browser made: a UUID v4 in lowercase, as the schemas say.
fn is_uuid_v4(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            14 => b == b'4',
            19 => b"89ab".contains(&b),
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// A policy version's effective date: a real `YYYY-MM-DD` date.
fn is_version(version: &str) -> bool {
    version.len() == 10
        && version.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
        && version.parse::<crate::date::Date>().is_ok()
}

/// The policy and version every request and record names.
fn validate_policy_version(body: &Value) -> Result<(), Refusal> {
    match body["policy"].as_str() {
        Some(policy) if !policy.is_empty() && policy.len() <= 64 => {}
        _ => return Err(UNKNOWN_POLICY),
    }
    if !body["version"].as_str().is_some_and(is_version) {
        return Err(INVALID_VERSION);
    }
    Ok(())
}

/// A form posted without JavaScript may leave `request_id` empty (the
/// endpoint makes one); anything else must carry the browser's UUID v4.
fn validate_request(body: &Value, rights: &BTreeSet<String>, plain: bool) -> Result<(), Refusal> {
    if body["schema"] != "rights-request.v1" {
        return Err(WRONG_SCHEMA);
    }
    match body["right"].as_str() {
        None | Some("") => return Err(MISSING_RIGHT),
        Some(right) if !rights.contains(right) => return Err(UNKNOWN_RIGHT),
        Some(_) => {}
    }
    match body["request_id"].as_str() {
        Some("") | None if plain => {}
        Some(id) if is_uuid_v4(id) => {}
        _ => return Err(INVALID_ID),
    }
    validate_policy_version(body)?;
    let fields = body["fields"].as_object().ok_or(WRONG_SCHEMA)?;
    if fields.len() > MAX_FIELDS {
        return Err(TOO_MANY_FIELDS);
    }
    for (name, value) in fields {
        let value = value.as_str().ok_or(WRONG_SCHEMA)?;
        if name.len() > 64 || value.chars().count() > MAX_VALUE_CHARS {
            return Err(FIELD_TOO_LONG);
        }
    }
    if body["lang"].as_str().is_some_and(|v| v.len() > 64) {
        return Err(FIELD_TOO_LONG);
    }
    let email = body["fields"]["email"].as_str().unwrap_or("");
    if !email.contains('@') {
        return Err(EMAIL_REQUIRED);
    }
    Ok(())
}

/// What `consent-record.v1` requires, so that a stored record proves a choice.
fn validate_consent(record: &Value) -> Result<(), Refusal> {
    let ids = ["record_id", "consent_id"];
    if !ids
        .iter()
        .all(|id| record[id].as_str().is_some_and(is_uuid_v4))
    {
        return Err(INVALID_ID);
    }
    match record["action"].as_str() {
        None | Some("") => return Err(MISSING_ACTION),
        Some(action) if !CONSENT_ACTIONS.contains(&action) => return Err(UNKNOWN_ACTION),
        Some(_) => {}
    }
    let categories = record["categories"].as_object();
    let texts = ["lang", "time", "banner_hash", "revision", "page"];
    let complete = categories.is_some_and(|c| !c.is_empty() && c.values().all(Value::is_boolean))
        && record["gpc"].is_boolean()
        && texts.iter().all(|key| {
            record[key]
                .as_str()
                .is_some_and(|v| !v.is_empty() && v.len() <= 256)
        });
    if !complete {
        return Err(INCOMPLETE_RECORD);
    }
    validate_policy_version(record)
}

/// A flat form post as the JSON shape: answers go under `fields`.
fn from_form(body: &str) -> (Value, Option<String>) {
    let mut top = Map::new();
    let mut fields = Map::new();
    let mut return_to = None;
    for (name, value) in url::form_urlencoded::parse(body.as_bytes()) {
        let (name, value) = (name.into_owned(), value.into_owned());
        if name == "return_to" {
            return_to = Some(value);
        } else if crate::rights::RESERVED_FIELDS.contains(&name.as_str()) {
            top.insert(name, Value::String(value));
        } else if !value.trim().is_empty() {
            fields.insert(name, Value::String(value.trim().to_string()));
        }
    }
    top.insert("fields".into(), Value::Object(fields));
    (Value::Object(top), return_to)
}

/// The same right, policy, language and answers: the same request.
fn fingerprint(body: &Value) -> String {
    let same = json!([
        body["right"],
        body["policy"],
        body["version"],
        body["lang"],
        body["fields"]
    ]);
    crate::vocabulary::hex(&Sha256::digest(same.to_string().as_bytes()))
}

/// An id for a form posted without JavaScript (which cannot make one).
fn fresh_id(body: &[u8]) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let mut hasher = Sha256::new();
    hasher.update(now.to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(
        COUNTER
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_le_bytes(),
    );
    hasher.update(body);
    let hex = crate::vocabulary::hex(&hasher.finalize());
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// `scheme://host[:port]` of an http(s) URL, as browsers write `Origin`.
pub fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    Some(parsed.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receiver() -> Receiver {
        Receiver::new(
            None,
            None,
            &["https://policies.example.org/legal".into()],
            DueTable::default(),
        )
    }

    fn post(origin: Option<&str>, referer: Option<&str>) -> Post {
        Post {
            origin: origin.map(String::from),
            referer: referer.map(String::from),
            ..Post::default()
        }
    }

    #[test]
    fn the_visitor_is_sent_back_to_the_allowed_site_and_nowhere_else() {
        let r = receiver();
        let site = Some("https://policies.example.org".to_string());
        let from_form = post(None, Some("https://policies.example.org/fr/privacy/#x"));
        assert_eq!(
            r.back_to_site("/fr/requests/thanks/", &site, &from_form)
                .unwrap(),
            "https://policies.example.org/fr/privacy/#x"
        );
        let foreign_referer = post(None, Some("https://evil.example/x"));
        assert_eq!(
            r.back_to_site("/en/requests/thanks/", &None, &foreign_referer)
                .unwrap(),
            "https://policies.example.org/en/requests/thanks/"
        );
        for evil in [
            "https://evil.example/x",
            "//evil.example/x",
            "/\\evil.example/x",
            "evil",
            "/ok\r\nSet-Cookie: x=1",
        ] {
            assert_eq!(
                r.back_to_site(evil, &site, &post(None, None)),
                Err(BAD_RETURN_TO),
                "{evil:?} was accepted"
            );
        }
    }

    #[test]
    fn only_allowed_origins_may_post() {
        let r = receiver();
        assert_eq!(
            r.origin(&post(Some("https://policies.example.org"), None)),
            Ok(Some("https://policies.example.org".into()))
        );
        assert_eq!(
            r.origin(&post(Some("https://evil.example"), None)),
            Err(FOREIGN_ORIGIN)
        );
        assert_eq!(r.origin(&post(Some("null"), None)), Err(FOREIGN_ORIGIN));
        assert_eq!(
            r.origin(&post(None, Some("https://evil.example/page"))),
            Err(FOREIGN_ORIGIN)
        );
        assert_eq!(r.origin(&post(None, None)), Ok(None));
    }

    #[test]
    fn every_refusal_code_has_a_message_in_english_and_french() {
        let r = receiver();
        for refusal in [
            MALFORMED_JSON,
            INVALID_UTF8,
            UNSUPPORTED_MEDIA_TYPE,
            BODY_TOO_LARGE,
            WRONG_SCHEMA,
            MISSING_RIGHT,
            UNKNOWN_RIGHT,
            EMAIL_REQUIRED,
            TOO_MANY_FIELDS,
            FIELD_TOO_LONG,
            INVALID_ID,
            MISSING_ACTION,
            UNKNOWN_ACTION,
            UNKNOWN_POLICY,
            INVALID_VERSION,
            INCOMPLETE_RECORD,
            FOREIGN_ORIGIN,
            BAD_RETURN_TO,
            NOT_FOUND,
            METHOD_NOT_ALLOWED,
            UNAVAILABLE,
        ] {
            let key = format!("refused_{}", refusal.code);
            let (en, fr) = (r.text("en", &key), r.text("fr", &key));
            assert!(en != key && fr != key && en != fr, "{key}");
        }
    }

    #[test]
    fn a_request_for_a_right_the_site_does_not_offer_is_refused() {
        let rights: BTreeSet<String> = ["access".to_string()].into();
        let body = json!({"schema": "rights-request.v1", "right": "teleport", "fields": {"email": "a@example.com"}});
        assert_eq!(validate_request(&body, &rights, true), Err(UNKNOWN_RIGHT));
        let body = json!({"schema": "rights-request.v1", "right": "access", "policy": "privacy",
            "version": "2025-01-30", "fields": {"email": "a@example.com"}});
        assert_eq!(validate_request(&body, &rights, true), Ok(()));
    }
}
