//! `policy-site receive`: a small endpoint for the site's forms and banner.

use crate::error::{Diagnostic, Diagnostics};
use crate::http::{self, Reply, Response};
use crate::receive::Receiver;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub fn run(root: &Path, port: u16, dir: PathBuf) -> Result<(), Diagnostics> {
    let receiver = Receiver::open(Some(dir.clone()))
        .map_err(|e| Diagnostic::new(&dir, format!("cannot use the folder for receipts: {e}")))?;
    // In a site's folder, accept the rights of its own catalogue.
    let receiver = match crate::config::load(root) {
        Ok(config) => receiver.for_site(&config),
        Err(_) => receiver,
    };
    let listener = http::bind(port, false).map_err(|e| {
        Diagnostic::new(
            "policy-site receive",
            format!("cannot listen on 127.0.0.1:{port}: {e}"),
        )
        .with_hint("another program uses that port: pass --port")
    })?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    println!(
        "Receiving on http://127.0.0.1:{port}/requests and /consent; storing in {}",
        dir.display()
    );
    let receiver = Arc::new(receiver);
    http::run(
        listener,
        Arc::new(move |request| {
            Reply::Full(receiver.handle(request).unwrap_or_else(|| {
                Response::json(
                    404,
                    &serde_json::json!({"error": "POST to /requests or /consent"}),
                )
            }))
        }),
    );
    Ok(())
}
