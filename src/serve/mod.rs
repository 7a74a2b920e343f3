//! `policy-site serve`: builds the site in memory, serves it on 127.0.0.1,
//! and rebuilds when a source changes, telling every open tab over
//! server-sent events to reload (or, when the build breaks, to show the
//! errors over the last good site, which keeps being served). Forms and the
//! cookie banner post to the server itself, which prints what they send.
//! This file builds and watches; `http` answers requests.

mod http;

use crate::build::{self, Options};
use crate::content;
use crate::error::{Diagnostic, Diagnostics};
use crate::receive::due::DueTable;
use crate::receive::Receiver;
use crate::server::{self, Limits};
use notify::{RecursiveMode, Watcher};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Where the server's own files and endpoints live, beside the site's.
pub const PREFIX: &str = "/__policy-site";
/// Changes closer together than this are one rebuild (editors write in steps).
const DEBOUNCE: Duration = Duration::from_millis(50);
/// Once a file is closed after writing, the editor is done with it: only
/// this long is left for a write to a second file to join the rebuild.
const SETTLE_AFTER_CLOSE: Duration = Duration::from_millis(5);

pub struct Settings {
    pub root: PathBuf,
    pub port: u16,
    /// Print nothing, not even build errors (for the benchmark).
    pub quiet: bool,
}

/// A running server.
pub struct Running {
    pub port: u16,
    server: std::thread::JoinHandle<()>,
}

/// The last good site and who is watching it.
struct State {
    /// URL path without the leading `/` → bytes (the live-reload script is
    /// added to pages as they are served).
    files: RwLock<Arc<HashMap<String, Arc<[u8]>>>>,
    /// The `error` event of a broken build, until the next good one.
    error: Mutex<Option<String>>,
    tabs: Mutex<Vec<tokio::sync::mpsc::UnboundedSender<String>>>,
    builds: Mutex<u64>,
    receiver: Arc<Receiver>,
}

/// Builds, starts serving and watching, and returns once the server listens.
pub fn start(settings: Settings) -> Result<Running, Diagnostics> {
    start_until(settings, false)
}

/// As `start`; with `on_signal`, the server stops on SIGINT/SIGTERM.
fn start_until(settings: Settings, on_signal: bool) -> Result<Running, Diagnostics> {
    let listener = server::bind(std::net::Ipv4Addr::LOCALHOST.into(), settings.port, true)
        .map_err(|e| {
            crate::error::Diagnostic::new(
                "policy-site serve",
                format!(
                    "cannot listen on 127.0.0.1 from port {}: {e}",
                    settings.port
                ),
            )
            .with_hint("pass another --port")
        })?;
    let port = listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or(settings.port);
    let origin = format!("http://127.0.0.1:{port}");
    // File events carry absolute paths: watch and compare against an absolute
    // root, whatever form `--root` (default ".") was given in.
    let root = settings.root.canonicalize().map_err(|e| {
        crate::error::Diagnostic::new(&settings.root, format!("cannot open the site folder: {e}"))
    })?;
    let options = Options {
        root: root.clone(),
        base_url: Some(origin.clone()),
        requests_endpoint: Some(format!("{origin}{PREFIX}/requests")),
        consent_endpoint: Some(format!("{origin}{PREFIX}/consent")),
        minify: Some(false),

        // Lawyers preview what is in force today, with announced versions upcoming.
        date: Some(
            crate::date::authoring_today(None)
                .map_err(|e| crate::error::Diagnostic::env("SOURCE_DATE_EPOCH", e))?,
        ),
        ..Default::default()
    };
    let state = Arc::new(State {
        files: RwLock::new(Arc::new(HashMap::new())),
        error: Mutex::new(None),
        tabs: Mutex::new(Vec::new()),
        builds: Mutex::new(0),
        receiver: Arc::new(Receiver::new(
            None,
            build::load_config(&options).ok().as_ref(),
            std::slice::from_ref(&origin),
            DueTable::default(),
        )),
    });
    let builder = Arc::new(Mutex::new(build::Incremental::new(options)));
    rebuild(&builder, &state, settings.quiet, "start", None);
    let watched = watch(&root, builder, state.clone(), settings.quiet)?;
    let runtime = server::runtime().map_err(|e| {
        crate::error::Diagnostic::command("policy-site serve", format!("cannot start: {e}"))
    })?;
    let app = http::router(state, &origin);
    let limits = Limits {
        drain: Duration::from_secs(1),
        ..Limits::default()
    };
    let server = std::thread::spawn(move || {
        // The watcher lives as long as the server.
        let _watched = watched;
        let stop = async move {
            if on_signal {
                server::stop_signal().await
            } else {
                std::future::pending().await
            }
        };
        let _ = runtime.block_on(server::serve(listener, app, limits, stop));
    });
    if !settings.quiet {
        say(&format!("Serving on {origin}/ (Ctrl-C to stop)"));
    }
    Ok(Running { port, server })
}

/// Serves until SIGINT or SIGTERM.
pub fn run(settings: Settings) -> Result<(), Diagnostics> {
    let running = start_until(settings, true)?;
    let _ = running.server.join();
    Ok(())
}

/// Rebuilds after `changed` paths changed (`None`: unknown which).
fn rebuild(
    builder: &Mutex<build::Incremental>,
    state: &State,
    quiet: bool,
    cause: &str,
    changed: Option<Vec<PathBuf>>,
) {
    let started = Instant::now();
    let rebuilt = {
        let mut builder = builder
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A bug in a rebuild must not stop the rebuilds that follow: it is
        // reported, and the next change rebuilds from nothing.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| builder.rebuild(changed)))
            .unwrap_or_else(|_| {
                builder.reset();
                Err(Diagnostics::from(Diagnostic::command(
                    "policy-site serve",
                    "the rebuild failed on an internal error (a bug: please report it with the change that caused it); the next change rebuilds the whole site",
                )))
            })
    };
    let number = {
        let mut builds = state.builds.lock().expect("not poisoned");
        *builds += 1;
        *builds
    };
    let message = match rebuilt {
        Ok(rebuilt) => {
            *state.files.write().expect("not poisoned") = Arc::new(rebuilt.files);
            *state.error.lock().expect("not poisoned") = None;
            if !quiet {
                say(&format!(
                    "Rebuilt in {} ms ({cause}; sources read in {} ms; {} pages rendered, {} unchanged)",
                    started.elapsed().as_millis(),
                    rebuilt.timings.load.as_millis(),
                    rebuilt.rendered,
                    rebuilt.reused,
                ));
            }
            format!("event: reload\ndata: {{\"build\":{number}}}\n\n")
        }
        Err(found) => {
            if !quiet {
                let _ = writeln!(
                    std::io::stderr(),
                    "{found}\nThe last good site is still served; fix the file and it reloads."
                );
            }
            let items: Vec<_> = found
                .0
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "place": d.location(),
                        "message": d.message,
                        "hint": d.hint,
                    })
                })
                .collect();
            let event = format!(
                "event: error\ndata: {}\n\n",
                serde_json::json!({"build": number, "diagnostics": items})
            );
            *state.error.lock().expect("not poisoned") = Some(event.clone());
            event
        }
    };
    state
        .tabs
        .lock()
        .expect("not poisoned")
        .retain(|tab| tab.send(message.clone()).is_ok());
}

/// Watches the sources and rebuilds on each settled change.
fn watch(
    root: &Path,
    builder: Arc<Mutex<build::Incremental>>,
    state: Arc<State>,
    quiet: bool,
) -> Result<notify::RecommendedWatcher, Diagnostics> {
    let (tx, rx) = mpsc::channel();
    let cannot = |e: notify::Error| {
        crate::error::Diagnostic::new(root, format!("cannot watch the sources for changes: {e}"))
    };
    let mut watcher = notify::recommended_watcher(tx).map_err(cannot)?;
    watcher
        .watch(root, RecursiveMode::NonRecursive)
        .map_err(cannot)?;
    for dir in [
        crate::vocabulary::CONTENT_DIR,
        "templates",
        crate::vocabulary::STATIC_DIR,
    ] {
        if root.join(dir).is_dir() {
            watcher
                .watch(&root.join(dir), RecursiveMode::Recursive)
                .map_err(cannot)?;
        }
    }
    let root = root.to_path_buf();
    std::thread::spawn(move || {
        while let Ok(event) = rx.recv() {
            let Some(Change { paths, closed }) = relevant(&root, event) else {
                continue;
            };
            let first = paths.first().cloned().unwrap_or_else(|| root.clone());
            // `None` once the watcher lost track (it then asks to rescan).
            let mut changed = Some(paths).filter(|p| !p.is_empty());
            let mut wait = if closed { SETTLE_AFTER_CLOSE } else { DEBOUNCE };
            loop {
                match rx.recv_timeout(wait) {
                    Ok(event) => {
                        let change = relevant(&root, event);
                        let closed = change.as_ref().is_some_and(|c| c.closed);
                        match (&mut changed, change) {
                            (Some(known), Some(c)) if !c.paths.is_empty() => known.extend(c.paths),
                            (_, Some(_)) => changed = None,
                            (_, None) => {}
                        }
                        wait = if closed { SETTLE_AFTER_CLOSE } else { DEBOUNCE };
                    }
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            let cause = first
                .strip_prefix(&root)
                .unwrap_or(&first)
                .display()
                .to_string();
            rebuild(&builder, &state, quiet, &cause, changed);
        }
    });
    Ok(watcher)
}

/// What one file event says: the changed sources (empty when the watcher
/// lost track and everything must be read again), and whether a file was
/// closed after writing.
struct Change {
    paths: Vec<PathBuf>,
    closed: bool,
}

/// The changed sources an event is about; `None` for editor litter, mere
/// reads, and anything outside the sources (such as a built `public/`).
fn relevant(root: &Path, event: notify::Result<notify::Event>) -> Option<Change> {
    use notify::event::{AccessKind, AccessMode, EventKind};
    let Ok(event) = event else {
        return Some(Change {
            paths: Vec::new(),
            closed: false,
        });
    };
    if event.need_rescan() {
        return Some(Change {
            paths: Vec::new(),
            closed: false,
        });
    }
    let closed = match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => return None,
        _ => false,
    };
    let paths: Vec<PathBuf> = event
        .paths
        .into_iter()
        .filter(|path| {
            let Ok(rel) = path.strip_prefix(root) else {
                return false;
            };
            let litter = rel
                .components()
                .any(|c| content::is_editor_litter(&c.as_os_str().to_string_lossy()));
            let source = match rel.components().next() {
                Some(first) => {
                    let first = first.as_os_str().to_string_lossy();
                    rel == Path::new(crate::vocabulary::CONFIG_FILE)
                        || [
                            crate::vocabulary::CONTENT_DIR,
                            "templates",
                            crate::vocabulary::STATIC_DIR,
                        ]
                        .contains(&first.as_ref())
                }
                None => false,
            };
            source && !litter
        })
        .collect();
    (!paths.is_empty()).then_some(Change { paths, closed })
}

/// Adds the live-reload script to a page, just before `</body>`.
pub(super) fn inject(html: &[u8]) -> Vec<u8> {
    let tag = format!("<script src=\"{PREFIX}/live.js\" defer></script>");
    let text = String::from_utf8_lossy(html);
    match text.rfind("</body>") {
        Some(at) => format!("{}{tag}{}", &text[..at], &text[at..]).into_bytes(),
        None => format!("{text}{tag}").into_bytes(),
    }
}

/// A line on the terminal; a closed terminal must not stop the server.
fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
