//! What the network shows while a state's pages load, from the DevTools
//! protocol's events: every request to an origin that is not the site's
//! (`Network.requestWillBeSent`, with its initiator), and which response's
//! `Set-Cookie` header named each cookie (`Network.responseReceivedExtraInfo`,
//! the raw headers, `HttpOnly` cookies' included).

use super::SeenRequest;
use chromiumoxide::cdp::browser_protocol::network::{
    EventRequestWillBeSent, EventResponseReceivedExtraInfo, InitiatorType,
};
use chromiumoxide::page::Page;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What the network showed while a state's pages loaded.
pub struct Network {
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Seen {
    page: String,
    /// Request id → its URL.
    urls: HashMap<String, String>,
    /// Cookie name → the request id of the first response whose
    /// `Set-Cookie` named it (the two events may come in either order).
    set_by: HashMap<String, String>,
    requests: Vec<SeenRequest>,
}

impl Network {
    /// Starts listening on `page`; `own` are the origins that are the site's.
    pub async fn listen(page: &Page, own: Vec<String>) -> chromiumoxide::Result<Network> {
        let mut sent = page.event_listener::<EventRequestWillBeSent>().await?;
        let mut answered = page
            .event_listener::<EventResponseReceivedExtraInfo>()
            .await?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    Some(event) = sent.next() => {
                        let mut seen = shared.lock().expect("not poisoned");
                        seen.urls.insert(event.request_id.inner().clone(), event.request.url.clone());
                        if let Some(request) = third_party(&event, &own, &seen.page) {
                            seen.requests.push(request);
                        }
                    }
                    Some(event) = answered.next() => {
                        let mut seen = shared.lock().expect("not poisoned");
                        let id = event.request_id.inner();
                        for name in set_cookie_names(event.headers.inner()) {
                            seen.set_by.entry(name).or_insert_with(|| id.clone());
                        }
                    }
                    else => break,
                }
            }
        });
        Ok(Network { seen, task })
    }

    pub fn on_page(&self, url: &str) {
        self.seen.lock().expect("not poisoned").page = url.to_string();
    }

    /// The URL of the response that set this cookie, if one did.
    pub fn set_by(&self, name: &str) -> Option<String> {
        let seen = self.seen.lock().expect("not poisoned");
        seen.set_by
            .get(name)
            .and_then(|id| seen.urls.get(id))
            .cloned()
    }

    pub fn requests(&self) -> Vec<SeenRequest> {
        self.seen.lock().expect("not poisoned").requests.clone()
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

/// The request, when it goes to an origin that is not the site's.
fn third_party(event: &EventRequestWillBeSent, own: &[String], page: &str) -> Option<SeenRequest> {
    let url = url::Url::parse(&event.request.url).ok()?;
    if !matches!(url.scheme(), "http" | "https" | "ws" | "wss") {
        return None;
    }
    if own.contains(&url.origin().ascii_serialization()) {
        return None;
    }
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str()?),
        None => url.host_str()?.to_string(),
    };
    let initiator = &event.initiator;
    let from = initiator
        .stack
        .as_ref()
        .and_then(|s| s.call_frames.first().map(|f| f.url.clone()))
        .or_else(|| initiator.url.clone())
        .unwrap_or_else(|| event.document_url.clone());
    let how = match initiator.r#type {
        InitiatorType::Parser => "the page's HTML",
        InitiatorType::Script => "a script",
        InitiatorType::Preload => "a preload",
        _ => "the browser",
    };
    Some(SeenRequest {
        host,
        url: event.request.url.clone(),
        kind: event
            .r#type
            .as_ref()
            .map(|t| t.as_ref().to_string())
            .unwrap_or_else(|| "Other".into()),
        initiator: format!("{how} ({from})"),
        page: page.to_string(),
    })
}

/// The cookie names of a response's `Set-Cookie` headers (joined by newlines).
fn set_cookie_names(headers: &serde_json::Value) -> Vec<String> {
    let Some(map) = headers.as_object() else {
        return Vec::new();
    };
    map.iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, value)| value.as_str())
        .flat_map(|value| value.split('\n'))
        .filter_map(|line| line.split('=').next())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::set_cookie_names;

    #[test]
    fn the_names_of_every_set_cookie_header_are_read() {
        let headers = serde_json::json!({
            "Content-Type": "text/html",
            "set-cookie": "a=1; Path=/\nb=2; Max-Age=60; HttpOnly",
        });
        assert_eq!(set_cookie_names(&headers), ["a", "b"]);
    }
}
