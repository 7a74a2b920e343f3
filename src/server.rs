//! The HTTP stack under `receive` and `serve`: axum routers served by hyper
//! on tokio, with the limits a public endpoint needs. Connections are capped
//! (a semaphore; beyond it new ones wait in the kernel's backlog), headers
//! must arrive within a deadline and fit a buffer read with a bound, accept
//! errors such as running out of file descriptors back off instead of
//! spinning, and SIGTERM/SIGINT stop accepting and let in-flight requests finish.

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// What one server accepts before it refuses or waits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections at once; more wait in the backlog until one closes.
    pub max_connections: usize,
    /// The request line and every header must arrive within this.
    pub header_read_timeout: Duration,
    /// Bytes of request line and headers (hyper's read buffer, at least 8 KiB).
    pub max_header_bytes: usize,
    pub max_headers: usize,
    /// How long shutdown waits for in-flight requests (and open event streams).
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 10_000,
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 16 << 10,
            max_headers: 64,
            drain: Duration::from_secs(10),
        }
    }
}

/// Binds 127.0.0.1:`port`, or with `next_free` the first free port after it.
pub fn bind(ip: std::net::IpAddr, port: u16, next_free: bool) -> io::Result<TcpListener> {
    let tries = if next_free { 50 } else { 1 };
    let mut last = None;
    for candidate in (port..=u16::MAX).take(tries) {
        match TcpListener::bind(SocketAddr::new(ip, candidate)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no port to try")))
}

/// A runtime for one server: a few worker threads made at start, so that no
/// request ever needs a new thread (a failed spawn cannot take it down).
/// Also lets the process open as many files as the system allows it, so
/// that `max_connections` is not cut short by a low default (1,024).
pub fn runtime() -> io::Result<tokio::runtime::Runtime> {
    raise_open_file_limit();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .max_blocking_threads(8)
        .enable_all()
        .build()
}

/// Serves `app` until `stop` resolves, then stops accepting and waits (at
/// most `limits.drain`) for open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers);
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    // Out of descriptors or memory: wait for some to free up.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let (stream, peer) = stream;
        let _ = stream.set_nodelay(true);
        // Each request knows the address it came from (`ConnectInfo`): the
        // console throttles failed logins by it.
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(
            app.clone(),
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request
            },
        ));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(limits.drain, graceful.shutdown()).await;
    Ok(())
}

#[cfg(unix)]
fn raise_open_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both calls only read or write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

#[cfg(not(unix))]
fn raise_open_file_limit() {}

/// The `Content-Type` a static file is served with, by its extension.
pub fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" | "" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a signal handler can be installed at start");
        tokio::select! {
            _ = interrupt => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// The connector outgoing requests use (webhooks, `verify`): HTTPS with
/// rustls and the webpki roots, or plain HTTP, HTTP/1.1.
pub type Https = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// A client for outgoing requests with bodies of type `B`.
pub fn client<B>() -> hyper_util::client::legacy::Client<Https, B>
where
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(connector)
}
