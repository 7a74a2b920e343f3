//! The operator console: `receive` serves the people who answer rights
//! requests at `/console/`, once an operator account exists (`policy-site
//! operators add`). Server-rendered pages (the templates beside this file,
//! the `console` strings), no script, one stylesheet, working without
//! JavaScript; on the store's interface like intake and notifications.
//!
//! Every console route goes through [`guard`], the one place that decides
//! who may do what: the session (tower-sessions, kept in the store, see
//! `sessions`), its absolute lifetime, the operator's current role (read
//! from the store on each request, so a removal or a role change applies at
//! once), the CSRF token of every POST, and the headers that keep pages out
//! of caches and frames. A route it does not know needs an administrator.

pub mod accounts;
mod pages;
mod sessions;

use super::store::{self, Backend};
use super::{due, fulfil, Receiver};
use accounts::{Operator, Role};
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION,
    REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

/// A session ends after this long without a request…
const IDLE_MINUTES: i64 = 30;
/// …and in any case this long after its login.
const ABSOLUTE_SECONDS: i64 = 12 * 3600;
/// Console forms are small.
const FORM_LIMIT: usize = 16 << 10;

const OPERATOR: &str = "operator";
const SINCE: &str = "since";
const CSRF: &str = "csrf";
const NOTICE: &str = "notice";

/// One connection to the store, shared by the console's requests (a few
/// people at a time), used off the async threads.
#[derive(Clone)]
pub struct Db(Arc<Mutex<Box<dyn Backend>>>);

impl Db {
    pub fn open(db: &str) -> Result<Db, String> {
        super::database::connect(db).map(|b| Db(Arc::new(Mutex::new(b))))
    }

    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut dyn Backend) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let db = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let mut backend = db.lock().unwrap_or_else(|p| p.into_inner());
            work(backend.as_mut())
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

pub struct Console {
    db: Db,
    receiver: Arc<Receiver>,
    pages: pages::Pages,
}

impl Console {
    pub fn new(db: &str, receiver: Arc<Receiver>) -> Result<Console, String> {
        accounts::warm();
        Ok(Console {
            db: Db::open(db)?,
            receiver,
            pages: pages::Pages::new()?,
        })
    }

    /// The operator's language: the first of Accept-Language the console
    /// speaks, else the site's, else English.
    fn lang(&self, headers: &HeaderMap) -> String {
        let speaks = |l: &str| {
            self.receiver
                .strings
                .get(l)
                .is_some_and(|s| s.contains_key("console"))
        };
        headers
            .get("accept-language")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(',')
            .filter_map(|part| part.split(';').next())
            .map(|tag| {
                tag.trim()
                    .split('-')
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase()
            })
            .find(|l| speaks(l))
            .unwrap_or_else(|| match speaks(&self.receiver.default_lang) {
                true => self.receiver.default_lang.clone(),
                false => "en".into(),
            })
    }

    fn strings(&self, lang: &str) -> BTreeMap<String, String> {
        let mut t = self.receiver.strings["en"]["console"].clone();
        if let Some(own) = self
            .receiver
            .strings
            .get(lang)
            .and_then(|s| s.get("console"))
        {
            t.extend(own.clone());
        }
        t
    }

    fn words(&self) -> fulfil::Words<'_> {
        fulfil::Words {
            strings: &self.receiver.strings,
            catalogue: &self.receiver.catalogue,
            operators: &self.receiver.default_lang,
        }
    }

    fn right_label(&self, lang: &str, right: &str) -> String {
        self.receiver
            .catalogue
            .get(right)
            .and_then(|r| r.label.get(lang).or_else(|| r.label.get("en")).cloned())
            .unwrap_or_else(|| right.to_string())
    }

    /// A page with a title and a message only (refusals, errors).
    fn message(&self, status: StatusCode, lang: &str, title: &str, text: &str) -> Response {
        let t = self.strings(lang);
        let mut page = pages::Page::new(lang, &t[title], "message");
        page.problem = Some(t[text].clone());
        (
            status,
            self.pages.html(&page, &t, None, &tera::Context::new()),
        )
            .into_response()
    }
}

/// The address a request came from, as the guard found it.
#[derive(Clone)]
struct Peer(String);

/// Who is signed in, as the guard found them, for the routes.
#[derive(Clone)]
struct Signed {
    operator: Operator,
    csrf: String,
    lang: String,
    session: Session,
}

/// Whether the console's cookie must be `Secure`: not when the console is
/// reached over plain http on this machine (a test, a laptop).
pub fn routes(console: Arc<Console>, secure: bool) -> Router {
    let sessions = SessionManagerLayer::new(sessions::Sessions {
        db: console.db.clone(),
    })
    .with_name(if secure {
        "__Host-ps_console"
    } else {
        "ps_console"
    })
    .with_path("/")
    .with_secure(secure)
    .with_http_only(true)
    .with_same_site(SameSite::Strict)
    .with_expiry(Expiry::OnInactivity(time::Duration::minutes(IDLE_MINUTES)))
    .with_always_save(true);
    Router::new()
        .route("/console", get(|| async { found("/console/") }))
        .route("/console/", get(queue))
        .route("/console/console.css", get(css))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/logout-everywhere", post(logout_everywhere))
        .route("/console/requests/{reference}", get(request_page))
        .route("/console/requests/{reference}/status", post(set_status))
        .route("/console/requests/{reference}/extend", post(extend))
        .route("/console/export", get(export))
        .route(
            "/console/consents",
            get(consents_page).post(consents_lookup),
        )
        .route("/console/operators", get(operators_page))
        .route("/console/operators/{name}/remove", post(remove_operator))
        .route("/console/operators/{name}/sessions", post(end_sessions))
        .layer(middleware::from_fn_with_state(console.clone(), guard))
        .layer(sessions)
        .with_state(console)
}

/// The role a route needs; anything not listed needs an administrator.
fn required(method: &Method, path: &str) -> Role {
    let get = method == Method::GET;
    match path {
        "/console/" | "/console" if get => Role::Viewer,
        "/console/consents" | "/console/logout" | "/console/logout-everywhere" => Role::Viewer,
        "/console/export" if get => Role::Handler,
        p if p.starts_with("/console/requests/") => {
            let action = p.ends_with("/status") || p.ends_with("/extend");
            match (get, action) {
                (true, false) => Role::Viewer,
                (false, true) => Role::Handler,
                _ => Role::Admin,
            }
        }
        _ => Role::Admin,
    }
}

/// A 302 to `to`: where a page without a session, or an action done, goes.
fn found(to: &str) -> Response {
    (StatusCode::FOUND, [(LOCATION, to.to_string())]).into_response()
}

/// Compares two secrets in time that depends only on their length.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn fresh_token() -> String {
    let mut bytes = [0u8; 32];
    // Without randomness no token: every form is then refused, never weak.
    match getrandom::fill(&mut bytes) {
        Ok(()) => crate::vocabulary::hex(&bytes),
        Err(_) => String::new(),
    }
}

async fn guard(State(console): State<Arc<Console>>, request: Request, next: Next) -> Response {
    let mut response = guarded(&console, request, next).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (CACHE_CONTROL, "no-store"),
        (
            CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (X_FRAME_OPTIONS, "DENY"),
        (REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn guarded(console: &Console, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if path == "/console/console.css" {
        return next.run(request).await;
    }
    // Off until an operator account exists.
    match console.db.run(accounts::any).await {
        Ok(true) => {}
        Ok(false) => {
            return (
                StatusCode::NOT_FOUND,
                "no console: no operator account exists\n",
            )
                .into_response()
        }
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let lang = console.lang(request.headers());
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let from = Peer(address(request.headers(), peer));
    let post = request.method() == Method::POST;
    let login = path == "/console/login";
    let mut signed = None;
    if !login {
        let name: Option<String> = session.get(OPERATOR).await.ok().flatten();
        let since: Option<i64> = session.get(SINCE).await.ok().flatten();
        let fresh = since.is_some_and(|s| due::now_millis() - s < ABSOLUTE_SECONDS * 1000);
        let operator = match name {
            Some(name) if fresh => {
                match console
                    .db
                    .run(move |db| accounts::operator(db, &name))
                    .await
                {
                    // A store that cannot answer ends no session.
                    Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
                    // Ended by a new password or "log out everywhere" since.
                    Ok(found) => found.filter(|o| since.is_some_and(|s| s > o.sessions_after)),
                }
            }
            _ => None,
        };
        let Some(operator) = operator else {
            let _ = session.flush().await;
            return match post {
                true => console.message(
                    StatusCode::UNAUTHORIZED,
                    &lang,
                    "login_title",
                    "login_expired",
                ),
                false => found("/console/login"),
            };
        };
        if operator.role < required(request.method(), &path) {
            return console.message(StatusCode::FORBIDDEN, &lang, "forbidden_title", "forbidden");
        }
        signed = Some(operator);
    }
    let csrf: Option<String> = session.get(CSRF).await.ok().flatten();
    // Every POST carries the token of its own session.
    let mut request = if post {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        };
        let given = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == CSRF)
            .map(|(_, v)| v.into_owned());
        let valid =
            matches!((&given, &csrf), (Some(g), Some(e)) if !e.is_empty() && same_secret(g, e));
        if !valid {
            return console.message(
                StatusCode::FORBIDDEN,
                &lang,
                "forbidden_title",
                "csrf_failed",
            );
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        request
    };
    request.extensions_mut().insert(from);
    if let Some(operator) = signed {
        request.extensions_mut().insert(Signed {
            operator,
            csrf: csrf.unwrap_or_default(),
            lang,
            session,
        });
    }
    next.run(request).await
}

async fn css() -> Response {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("console.css"),
    )
        .into_response()
}

/// The page's notice left by the action before it (post, redirect, get).
async fn take_notice(session: &Session) -> Option<String> {
    session.remove::<String>(NOTICE).await.ok().flatten()
}

async fn leave_notice(session: &Session, notice: String) {
    let _ = session.insert(NOTICE, notice).await;
}

// ---------------------------------------------------------------- login

async fn login_page(
    State(console): State<Arc<Console>>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    let lang = console.lang(&headers);
    let signed_in = session
        .get::<String>(OPERATOR)
        .await
        .ok()
        .flatten()
        .is_some();
    if signed_in {
        return found("/console/");
    }
    let csrf = match session.get::<String>(CSRF).await.ok().flatten() {
        Some(token) => token,
        None => {
            let token = fresh_token();
            if session.insert(CSRF, &token).await.is_err() {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            token
        }
    };
    let t = console.strings(&lang);
    let mut page = pages::Page::new(&lang, &t["login_title"], "login");
    page.csrf = csrf;
    page.notice = take_notice(&session).await;
    console
        .pages
        .html(&page, &t, None, &tera::Context::new())
        .into_response()
}

/// The address a login comes from: the peer, or, when the peer is a
/// reverse proxy on this machine, the last address it put in
/// `X-Forwarded-For` (the one it saw).
fn address(headers: &HeaderMap, peer: Option<std::net::SocketAddr>) -> String {
    let peer_ip = peer.map(|p| p.ip());
    let forwarded = || {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
    };
    let ip = match peer_ip {
        Some(ip) if !ip.is_loopback() => Some(ip),
        _ => forwarded().or(peer_ip),
    };
    match ip {
        // One holder of an IPv6 network has its whole /64: count it as one.
        Some(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(std::net::IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        Some(ip) => ip.to_string(),
        None => String::new(),
    }
}

async fn login(
    State(console): State<Arc<Console>>,
    session: Session,
    headers: HeaderMap,
    Extension(Peer(from)): Extension<Peer>,
    body: axum::body::Bytes,
) -> Response {
    let lang = console.lang(&headers);
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let name = form.get("name").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let t = console.strings(&lang);
    let refuse = |key: &str, status: StatusCode, csrf: String| {
        let mut page = pages::Page::new(&lang, &t["login_title"], "login");
        page.problem = Some(t[key].clone());
        page.csrf = csrf;
        (
            status,
            console.pages.html(&page, &t, None, &tera::Context::new()),
        )
            .into_response()
    };
    let csrf = session
        .get::<String>(CSRF)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let window_start = due::timestamp(due::now_millis() - accounts::WINDOW_SECONDS * 1000).0;
    // The throttle and the hash on the store's connection, the slow check
    // of the password off it, then the outcome on it again.
    let (who, since) = (name.clone(), window_start.clone());
    let looked_up = console
        .db
        .run(
            move |db| match accounts::throttled(db, &who, &from, &since)? {
                Some(_) => Ok(Err(())),
                None => Ok(Ok((accounts::password_hash(db, &who)?, from))),
            },
        )
        .await;
    let (stored, from) = match looked_up {
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Ok(Err(())) => {
            return refuse("login_throttled", StatusCode::TOO_MANY_REQUESTS, csrf);
        }
        Ok(Ok(found)) => found,
    };
    let matches =
        tokio::task::spawn_blocking(move || accounts::verify(stored.as_deref(), &password))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
    let Ok(matches) = matches else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let (who, at) = (name.clone(), due::now().0);
    let checked = console
        .db
        .run(move |db| {
            accounts::record_login(db, &who, &from, matches, &at, &window_start)?;
            match matches {
                true => accounts::operator(db, &who),
                false => Ok(None),
            }
        })
        .await;
    match checked {
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Ok(None) => refuse("login_wrong", StatusCode::UNAUTHORIZED, csrf),
        Ok(Some(operator)) => {
            // A new id at login: a session id planted before it opens nothing.
            if session.cycle_id().await.is_err()
                || session.insert(OPERATOR, &operator.name).await.is_err()
                || session.insert(SINCE, due::now_millis()).await.is_err()
                || session.insert(CSRF, fresh_token()).await.is_err()
            {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            found("/console/")
        }
    }
}

async fn logout(
    State(console): State<Arc<Console>>,
    Extension(signed): Extension<Signed>,
) -> Response {
    let (name, at) = (signed.operator.name.clone(), due::now().0);
    let _ = console
        .db
        .run(move |db| accounts::note(db, &name, "console logout", &name, &at))
        .await;
    signed_out(&console, signed, "logged_out").await
}

async fn logout_everywhere(
    State(console): State<Arc<Console>>,
    Extension(signed): Extension<Signed>,
) -> Response {
    let (name, at) = (signed.operator.name.clone(), due::now().0);
    let _ = console
        .db
        .run(move |db| accounts::end_sessions(db, &name, &name, &at))
        .await;
    signed_out(&console, signed, "logged_out_everywhere").await
}

/// Ends this session and goes to the login page, which says `notice`.
async fn signed_out(console: &Console, signed: Signed, notice: &str) -> Response {
    let _ = signed.session.flush().await;
    let _ = signed.session.insert(CSRF, fresh_token()).await;
    leave_notice(
        &signed.session,
        console.strings(&signed.lang)[notice].clone(),
    )
    .await;
    found("/console/login")
}

// ---------------------------------------------------------------- queue

/// The queue's filter: only identifiers and a flag, never personal data.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
struct Filter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    right: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    overdue: String,
}

impl Filter {
    fn keeps(&self, r: &store::StoredRequest) -> bool {
        (self.status.is_empty() || r.status == self.status)
            && (self.right.is_empty() || r.right == self.right)
            && (self.lang.is_empty() || r.lang == self.lang)
            && (self.overdue.is_empty() || r.overdue)
    }

    fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("status", &self.status)
            .append_pair("right", &self.right)
            .append_pair("lang", &self.lang)
            .append_pair("overdue", &self.overdue)
            .finish()
    }
}

/// Every request the filter keeps, the soonest due first.
async fn filtered(console: &Console, filter: &Filter) -> Result<Vec<store::StoredRequest>, String> {
    let today = due::today().to_string();
    let mut all = console
        .db
        .run(move |db| store::requests(db, None, &today))
        .await?;
    all.retain(|r| filter.keeps(r));
    all.sort_by(|a, b| {
        a.due_on
            .cmp(&b.due_on)
            .then(a.received_at.cmp(&b.received_at))
    });
    Ok(all)
}

fn status_label(t: &BTreeMap<String, String>, status: &str) -> String {
    t.get(&format!("status_{status}"))
        .cloned()
        .unwrap_or_else(|| status.to_string())
}

async fn queue(
    State(console): State<Arc<Console>>,
    Extension(signed): Extension<Signed>,
    Query(filter): Query<Filter>,
) -> Response {
    let Ok(found) = filtered(&console, &filter).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let lang = &signed.lang;
    let t = console.strings(lang);
    let mut page = pages::Page::new(lang, &t["queue"], "queue");
    page.csrf = signed.csrf.clone();
    page.notice = take_notice(&signed.session).await;
    let overdue = found.iter().filter(|r| r.overdue).count();
    let rows: Vec<_> = found
        .iter()
        .map(|r| {
            serde_json::json!({
                "reference": r.reference, "right": console.right_label(lang, &r.right),
                "status": status_label(&t, &r.status), "unverified": r.unverified,
                "due_on": r.due_on, "overdue": r.overdue, "received_at": r.received_at,
                "received": r.received_at.get(..10).unwrap_or(&r.received_at), "lang": r.lang,
            })
        })
        .collect();
    let mut rights: Vec<_> = console.receiver.rights.iter().cloned().collect();
    rights.sort();
    let mut context = tera::Context::new();
    context.insert("requests", &rows);
    context.insert(
        "count",
        &t["count"]
            .replace("{count}", &found.len().to_string())
            .replace("{overdue}", &overdue.to_string()),
    );
    context.insert(
        "statuses",
        &store::STATUSES
            .iter()
            .map(|s| serde_json::json!({"id": s, "label": status_label(&t, s)}))
            .collect::<Vec<_>>(),
    );
    context.insert(
        "rights",
        &rights
            .iter()
            .map(|r| serde_json::json!({"id": r, "label": console.right_label(lang, r)}))
            .collect::<Vec<_>>(),
    );
    context.insert(
        "langs",
        &console.receiver.strings.keys().collect::<Vec<_>>(),
    );
    context.insert("filter", &filter);
    context.insert("query", &filter.query());
    context.insert("can_export", &(signed.operator.role >= Role::Handler));
    console
        .pages
        .html(&page, &t, Some(&signed.operator), &context)
        .into_response()
}

#[derive(serde::Deserialize)]
struct ExportQuery {
    #[serde(default)]
    format: String,
    #[serde(flatten)]
    filter: Filter,
}

/// The current filter's requests with their answers, as a download.
async fn export(
    State(console): State<Arc<Console>>,
    Extension(signed): Extension<Signed>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let Ok(found) = filtered(&console, &query.filter).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let mut out = Vec::new();
    let (written, kind, file) = match query.format.as_str() {
        "jsonl" => (
            super::export::jsonl(&mut out, &found, true),
            "application/jsonl",
            "requests.jsonl",
        ),
        "csv" | "" => (
            super::export::csv(&mut out, &found, true),
            "text/csv; charset=utf-8",
            "requests.csv",
        ),
        _ => return (StatusCode::BAD_REQUEST, "format: csv or jsonl\n").into_response(),
    };
    if written.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let (name, at, detail) = (
        signed.operator.name.clone(),
        due::now().0,
        format!("{} request(s) as {file}", found.len()),
    );
    let _ = console
        .db
        .run(move |db| accounts::note(db, &name, "console export", &detail, &at))
        .await;
    (
        [
            (CONTENT_TYPE, kind.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        out,
    )
        .into_response()
}

// ---------------------------------------------------------------- one request

async fn request_page(
    State(console): State<Arc<Console>>,
    Extension(signed): Extension<Signed>,
    Path(reference): Path<String>,
) -> Response {
    let today = due::today().to_string();
    let key = reference.clone();
    let found = console
        .db
        .run(move |db| {
            let Some((request, history)) = store::request(db, &key, &today)? else {
                return Ok(None);
            };
            let trail = store::audit_trail(db, &request.request_id)?;
            let deliveries = store::deliveries_of(db, &request.request_id)?;
            Ok(Some((request, history, trail, deliveries)))
        })
        .await;
    let lang = &signed.lang;
    // What an action left to say belongs to this page, found or not.
    let (notice, problem) = (
        take_notice(&signed.session).await,
        signed
            .session
            .remove::<String>("problem")
            .await
            .ok()
            .flatten(),
    );
    let Ok(Some((r, history, trail, deliveries))) = found else {
        return console.message(StatusCode::NOT_FOUND, lang, "not_found_title", "not_found");
    };
    let t = console.strings(lang);
    let mut page = pages::Page::new(lang, &r.reference, "request");
    page.csrf = signed.csrf.clone();
    page.notice = notice;
    page.problem = problem;
    // A viewer sees which questions were answered, not the answers.
    let hidden = signed.operator.role < Role::Handler;
    let answers: Vec<_> = r.payload["fields"]
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .map(|(name, value)| {
                    serde_json::json!({
                        "name": name, "hidden": hidden,
                        "value": if hidden { "" } else { value.as_str().unwrap_or("") },
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let deliveries: Vec<_> = deliveries
        .iter()
        .map(|d| {
            let state = match &d.delivered_at {
                Some(_) => t["delivered"].clone(),
                None => t["waiting"]
                    .replace("{attempts}", &(d.attempts + 1).to_string())
                    .replace("{next}", &d.next_at),
            };
            serde_json::json!({"event": d.event, "channel": d.channel, "state": state})
        })
        .collect();
    // Notes and audit details may hold what the requester or an operator
    // wrote (an address confirmed, a reason): handlers only.
    let shown = |text: &str| match hidden {
        true => t["answers_hidden"].clone(),
        false => text.to_string(),
    };
    let history: Vec<_> = history
        .iter()
        .map(|h| serde_json::json!({"at": h.at, "status": status_label(&t, &h.status), "note": if h.note.is_empty() { String::new() } else { shown(&h.note) }}))
        .collect();
    let mut context = tera::Context::new();
    context.insert(
        "r",
        &serde_json::json!({
            "reference": r.reference, "right": console.right_label(lang, &r.right),
            "status": status_label(&t, &r.status), "unverified": r.unverified,
            "received_at": r.received_at, "received": r.received_at.get(..10).unwrap_or(&r.received_at),
            "due_on": r.due_on, "overdue": r.overdue, "jurisdiction": r.jurisdiction,
            "policy": format!("{} {}", r.policy, r.version), "lang": r.lang,
        }),
    );
    context.insert("answers", &answers);
    context.insert("history", &history);
    context.insert("deliveries", &deliveries);
    context.insert("audit", &trail.iter().map(|a| serde_json::json!({"at": a.at, "actor": a.actor, "action": a.action, "detail": shown(&a.detail)})).collect::<Vec<_>>());
    context.insert(
        "can_act",
        &(signed.operator.role >= Role::Handler
            && matches!(r.status.as_str(), "received" | "identity_verified")),
    );
    console
        .pages
        .html(&page, &t, Some(&signed.operator), &context)
        .into_response()
}

/// After an action: back to the request, with what happened or why not.
async fn acted(signed: &Signed, reference: &str, outcome: Result<String, String>) -> Response {
    match outcome {
        Ok(notice) => leave_notice(&signed.session, notice).await,
        Err(problem) => {
            let _ = signed.session.insert("problem", problem).await;
        }
    }
    found(&format!("/console/requests/{reference}"))
}

fn form(body: &[u8]) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Runs one of `fulfil`'s actions on the request and goes back to its
/// page, saying what was done (and that the requester's mail is queued)
/// or why it could not be.
async fn act(
    console: Arc<Console>,
    signed: Signed,
    reference: String,
    action: impl FnOnce(
            &mut dyn Backend,
            &str,
            &str,
            &fulfil::Words,
        ) -> Result<fulfil::Done, fulfil::Problem>
        + Send
        + 'static,
    says: impl FnOnce(&fulfil::Done) -> String,
) -> Response {
    let told = console.strings(&signed.lang)["told"].clone();
    let (key, actor, shared) = (
        reference.clone(),
        signed.operator.name.clone(),
        console.clone(),
    );
    let done = console
        .db
        .run(move |db| Ok(action(db, &key, &actor, &shared.words())))
        .await;
    let outcome = match done {
        Ok(Ok(done)) if done.told => Ok(format!("{} {told}", says(&done))),
        Ok(Ok(done)) => Ok(says(&done)),
        Ok(Err(problem)) => Err(problem.message),
        Err(e) => Err(e),
    };
    acted(&signed, &reference, outcome).await
}

async fn set_status(
    State(console): State<Arc<Console>>,
    Extension(signed): Extension<Signed>,
    Path(reference): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let form = form(&body);
    let status = form.get("status").cloned().unwrap_or_default();
    let note = form.get("note").cloned().unwrap_or_default();
    let t = console.strings(&signed.lang);
    let notice = t["changed"]
        .replace("{reference}", &reference)
        .replace("{status}", &status_label(&t, &status));
    // The console acts on open requests only (the command can correct a
    // closed one): a second refusal would mail the requester again.
    let action = move |db: &mut dyn Backend, key: &str, actor: &str, words: &fulfil::Words| {
        // Forward only: the command is there to correct a mistake.
        if !matches!(
            status.as_str(),
            "identity_verified" | "completed" | "refused"
        ) {
            return Err(fulfil::Problem::from(format!(
                "`{status}` is not an action of the console"
            )));
        }
        let today = due::today().to_string();
        if let Some((r, _)) = store::request(db, key, &today)? {
            if !matches!(r.status.as_str(), "received" | "identity_verified") {
                return Err(fulfil::Problem::from(format!(
                    "{key} is {} already",
                    r.status
                )));
            }
        }
        fulfil::set_status(db, key, &status, &note, actor, words)
    };
    act(console, signed, reference, action, move |_| notice).await
}

async fn extend(
    State(console): State<Arc<Console>>,
    Extension(signed): Extension<Signed>,
    Path(reference): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let reason = form(&body).get("reason").cloned().unwrap_or_default();
    let t = console.strings(&signed.lang);
    let says = {
        let reference = reference.clone();
        move |done: &fulfil::Done| {
            t["extended"]
                .replace("{reference}", &reference)
                .replace("{due}", done.due_on.as_deref().unwrap_or_default())
        }
    };
    let action = move |db: &mut dyn Backend, key: &str, actor: &str, words: &fulfil::Words| {
        fulfil::extend(db, key, &reason, actor, words)
    };
    act(console, signed, reference, action, says).await
}

// ---------------------------------------------------------------- consents

async fn consents_page(
    State(console): State<Arc<Console>>,
    Extension(signed): Extension<Signed>,
) -> Response {
    consents_view(&console, &signed, None).await
}

/// One browser's consent history, looked up by a POST so that the id is
/// in no URL, log or history.
async fn consents_lookup(
    State(console): State<Arc<Console>>,
    Extension(signed): Extension<Signed>,
    body: axum::body::Bytes,
) -> Response {
    let id = form(&body).get("consent_id").cloned().unwrap_or_default();
    consents_view(&console, &signed, Some(id.trim().to_string())).await
}

async fn consents_view(console: &Arc<Console>, signed: &Signed, id: Option<String>) -> Response {
    let lang = &signed.lang;
    let t = console.strings(lang);
    let records = match id.clone() {
        Some(id) if !id.is_empty() => match console
            .db
            .run(move |db| store::consents(db, Some(&id)))
            .await
        {
            Ok(records) => records,
            Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        },
        _ => Vec::new(),
    };
    let rows: Vec<_> = records
        .iter()
        .map(|c| {
            let categories = c.record["categories"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}: {}", if v.as_bool() == Some(true) { &t["yes"] } else { &t["no"] }))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            serde_json::json!({
                "received_at": c.received_at, "action": c.record["action"].as_str().unwrap_or(""),
                "categories": categories,
                "policy": format!("{} {}", c.record["policy"].as_str().unwrap_or(""), c.record["version"].as_str().unwrap_or("")),
                "gpc": if c.record["gpc"].as_bool() == Some(true) { &t["yes"] } else { &t["no"] },
                "record_id": c.record_id,
            })
        })
        .collect();
    let mut page = pages::Page::new(lang, &t["consents"], "consents");
    page.csrf = signed.csrf.clone();
    let mut context = tera::Context::new();
    context.insert("records", &rows);
    context.insert("looked", &id.is_some());
    context.insert("consent_id", &id.unwrap_or_default());
    console
        .pages
        .html(&page, &t, Some(&signed.operator), &context)
        .into_response()
}

// ---------------------------------------------------------------- operators

async fn operators_page(
    State(console): State<Arc<Console>>,
    Extension(signed): Extension<Signed>,
) -> Response {
    let Ok(all) = console.db.run(accounts::operators).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let lang = &signed.lang;
    let t = console.strings(lang);
    let mut page = pages::Page::new(lang, &t["operators"], "operators");
    page.csrf = signed.csrf.clone();
    page.notice = take_notice(&signed.session).await;
    let rows: Vec<_> = all
        .iter()
        .map(|o| {
            serde_json::json!({
                "name": o.name, "role": t[&format!("role_{}", o.role.name())],
                "created_at": o.created_at.get(..10).unwrap_or(&o.created_at),
                "me": o.name == signed.operator.name,
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("operators", &rows);
    console
        .pages
        .html(&page, &t, Some(&signed.operator), &context)
        .into_response()
}

async fn remove_operator(
    State(console): State<Arc<Console>>,
    Extension(signed): Extension<Signed>,
    Path(name): Path<String>,
) -> Response {
    let t = console.strings(&signed.lang);
    if name != signed.operator.name {
        let (who, actor, at) = (name.clone(), signed.operator.name.clone(), due::now().0);
        if let Ok(true) = console
            .db
            .run(move |db| accounts::remove(db, &who, &actor, &at))
            .await
        {
            leave_notice(&signed.session, t["removed"].replace("{name}", &name)).await;
        }
    }
    found("/console/operators")
}

async fn end_sessions(
    State(console): State<Arc<Console>>,
    Extension(signed): Extension<Signed>,
    Path(name): Path<String>,
) -> Response {
    let t = console.strings(&signed.lang);
    let (who, actor, at) = (name.clone(), signed.operator.name.clone(), due::now().0);
    if console
        .db
        .run(move |db| accounts::end_sessions(db, &who, &actor, &at))
        .await
        .is_ok()
    {
        leave_notice(
            &signed.session,
            t["sessions_ended"].replace("{name}", &name),
        )
        .await;
    }
    found("/console/operators")
}
