//! The receiver on HTTP (axum): `POST …/requests` and `…/consent` (and
//! `GET /health` for `receive`), with
//! CORS only for the allowed origins, a body limit enforced while reading,
//! a deadline per request and a bound on requests handled at once.

use super::{
    Answer, Post, Receiver, BODY_TOO_LARGE, MALFORMED_JSON, METHOD_NOT_ALLOWED, NOT_FOUND,
};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ORIGIN, REFERER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;
use std::time::Duration;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;

/// Forms and consent records are small: larger bodies are refused as they arrive.
pub const MAX_BODY: usize = 64 << 10;
/// From the end of the headers to the answer, storing included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Requests handled at once; more wait their turn.
const CONCURRENCY: usize = 512;

/// The two endpoints under `prefix` ("" for `receive`, `/__policy-site` for `serve`).
pub fn router(receiver: Arc<Receiver>, prefix: &str) -> Router {
    let origins: Vec<HeaderValue> = receiver
        .origins()
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::POST])
        .allow_headers([CONTENT_TYPE])
        .max_age(Duration::from_secs(600));
    Router::new()
        .route(
            &format!("{prefix}/requests"),
            post(requests).fallback(method_not_allowed),
        )
        .route(
            &format!("{prefix}/consent"),
            post(consent).fallback(method_not_allowed),
        )
        .with_state(receiver)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(ConcurrencyLimitLayer::new(CONCURRENCY))
        .layer(cors)
}

/// `policy-site receive`: the endpoints, and a coded 404 for anything else.
/// With `console`, the operator console's routes too (no CORS there).
pub fn app(receiver: Arc<Receiver>, console: Option<Router>) -> Router {
    let not_found = {
        let receiver = receiver.clone();
        move || async move { reply(receiver.refusal(NOT_FOUND, "", false)) }
    };
    Router::new()
        .route("/health", get(health))
        .route("/verify/{token}", get(verify_link).post(confirm_link))
        .with_state(receiver.clone())
        .merge(router(receiver, ""))
        .merge(console.unwrap_or_default())
        .fallback(not_found)
}

/// `GET /verify/<token>`: the page with the button; changes nothing.
async fn verify_link(
    State(receiver): State<Arc<Receiver>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    reply(
        receiver
            .verification(&token, false, &language(&headers))
            .await,
    )
}

/// `POST /verify/<token>`: the button, which confirms.
async fn confirm_link(
    State(receiver): State<Arc<Receiver>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    reply(
        receiver
            .verification(&token, true, &language(&headers))
            .await,
    )
}

/// `GET /health`, for a container's health check or a load balancer: 200
/// once a record could be kept now, 503 (with the reason) when it could not.
async fn health(State(receiver): State<Arc<Receiver>>) -> Response {
    match receiver.health().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
    }
}

async fn requests(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let post = read(&headers, body);
    let plain = post
        .as_ref()
        .is_ok_and(|p| p.content_type == "application/x-www-form-urlencoded");
    match post {
        Ok(post) => reply(receiver.rights_request(&post).await),
        Err(refusal) => reply(receiver.refusal(refusal, &language(&headers), plain)),
    }
}

async fn consent(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match read(&headers, body) {
        Ok(post) => reply(receiver.consent_record(&post).await),
        Err(refusal) => reply(receiver.refusal(refusal, &language(&headers), false)),
    }
}

async fn method_not_allowed(State(receiver): State<Arc<Receiver>>) -> Response {
    let mut response = reply(receiver.refusal(METHOD_NOT_ALLOWED, "", false));
    response
        .headers_mut()
        .insert("Allow", HeaderValue::from_static("POST, OPTIONS"));
    response
}

/// The language a refusal of an unreadable body is written in.
fn language(headers: &HeaderMap) -> String {
    Post {
        accept_language: headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        ..Post::default()
    }
    .language()
    .to_string()
}

fn read(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Post, super::Refusal> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            BODY_TOO_LARGE
        } else {
            MALFORMED_JSON
        }
    })?;
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    Ok(Post {
        content_type: header(CONTENT_TYPE)
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
        origin: header(ORIGIN),
        referer: header(REFERER),
        accept_language: header(ACCEPT_LANGUAGE),
        body: body.to_vec(),
    })
}

pub fn reply(answer: Answer) -> Response {
    match answer {
        Answer::Json(status, value) => (status_code(status), Json(value)).into_response(),
        Answer::Page(status, html) => (
            status_code(status),
            [
                (CONTENT_TYPE, "text/html; charset=utf-8"),
                (CONTENT_SECURITY_POLICY, "default-src 'none'"),
            ],
            html,
        )
            .into_response(),
    }
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
