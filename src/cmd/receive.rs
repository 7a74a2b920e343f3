//! `policy-site receive`: the endpoint for the site's forms and banner,
//! storing into SQLite or PostgreSQL (`--db`).

use crate::config::{Config, Receive};
use crate::error::{Diagnostic, Diagnostics};
use crate::receive::database;
use crate::receive::due::DueTable;
use crate::receive::notify;
use crate::receive::store::Store;
use crate::receive::{routes, Receiver};
use crate::server::{self, Limits};
use std::path::Path;
use std::sync::Arc;

pub struct Settings {
    /// The address to listen on: 127.0.0.1 unless a container or a proxy
    /// on another host needs it reachable from outside (`--listen 0.0.0.0`).
    pub listen: std::net::IpAddr,
    pub port: u16,
    /// A SQLite file, or a `postgres://` URL.
    pub db: String,
    /// Origins whose pages may post; default: the site's `base_url`.
    pub allow_origins: Vec<String>,
    pub jurisdiction: String,
    /// `NAME=PERIOD` entries added to the table of response periods.
    pub due: Vec<String>,
    /// URLs each new request is notified to.
    pub webhooks: Vec<String>,
    pub webhook_include_answers: bool,
    /// The SMTP server, in lettre's URL form; who the mails come from; the
    /// operators told of each request.
    pub smtp: Option<String>,
    pub mail_from: Option<String>,
    pub notify: Vec<String>,
    /// Where the receiver is reached from outside, for verification links.
    pub public_url: Option<String>,
    pub verify_link_hours: u64,
    /// Retention, applied at start and daily: days after which closed
    /// requests and consent records are deleted.
    pub purge_closed_after: Option<u32>,
    pub purge_consents_after: Option<u32>,
    /// Days before a due date the operators are reminded.
    pub remind_before: Vec<u32>,
}

/// Applies the retention rules at start and every day after, on a
/// connection of its own; says how much went, never what it held.
fn start_retention(db: &str, closed: Option<u32>, consents: Option<u32>) -> Result<(), String> {
    if closed.is_none() && consents.is_none() {
        return Ok(());
    }
    let mut backend = database::connect(db)?;
    let mut apply = move || match crate::receive::store::purge_older(
        backend.as_mut(),
        closed,
        consents,
        true,
    ) {
        // Logged on standard error, with the other background work: the
        // first line out stays where the receiver listens.
        Ok(p) => eprintln!(
            "retention: deleted {} closed request(s) and {} consent record(s)",
            p.requests.len(),
            p.consents
        ),
        Err(e) => eprintln!("retention: the purge failed ({e}); trying again tomorrow"),
    };
    apply();
    std::thread::Builder::new()
        .name("retention".into())
        .spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_secs(86_400));
            apply();
        })
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The environment variable holding the webhooks' signing secret (never a
/// command-line argument: those show in `ps` and shell histories).
pub const WEBHOOK_SECRET: &str = "POLICY_SITE_WEBHOOK_SECRET";

/// `--public-url`, parsed, as a folder (ending in `/`) links are made under.
fn public_url(settings: &Settings) -> Result<Option<url::Url>, Diagnostic> {
    let Some(given) = &settings.public_url else {
        return Ok(None);
    };
    let mut url = url::Url::parse(given)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            Diagnostic::command(
                "policy-site receive",
                format!("--public-url `{given}` is not an http(s) URL"),
            )
        })?;
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok(Some(url))
}

/// The notification settings, or why they cannot be used.
fn notifications(settings: &Settings) -> Result<notify::Settings, Diagnostic> {
    let fail = |message: String| Diagnostic::command("policy-site receive", message);
    let mut webhooks = Vec::new();
    for given in &settings.webhooks {
        let url = url::Url::parse(given)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| fail(format!("--webhook `{given}` is not an http(s) URL")))?;
        webhooks.push(url);
    }
    let secret = std::env::var(WEBHOOK_SECRET).unwrap_or_default();
    if !webhooks.is_empty() && secret.trim().is_empty() {
        return Err(fail(format!("--webhook needs a signing secret in {WEBHOOK_SECRET}"))
            .with_hint("set it to a long random value, e.g. `export POLICY_SITE_WEBHOOK_SECRET=$(openssl rand -hex 32)`, and give the receiving end the same"));
    }
    if settings.verify_link_hours == 0 {
        return Err(fail(
            "--verify-link-hours must be at least 1: a link that has expired when it is sent verifies no one".into(),
        ));
    }
    let mail = match (&settings.smtp, &settings.mail_from) {
        (None, None) if settings.notify.is_empty() => None,
        (Some(smtp), Some(from)) => {
            let user = std::env::var("POLICY_SITE_SMTP_USER").unwrap_or_default();
            let password = std::env::var("POLICY_SITE_SMTP_PASSWORD").unwrap_or_default();
            let mail = notify::mail::Settings {
                smtp: smtp.clone(),
                credentials: (!user.is_empty()).then_some((user, password)),
                from: from.clone(),
                operators: settings.notify.clone(),
                acknowledge: true,
                public_url: public_url(settings)?,
                link_lifetime: std::time::Duration::from_secs(settings.verify_link_hours * 3600),
            };
            notify::mail::check(&mail).map_err(fail)?;
            Some(mail)
        }
        (None, _) => {
            return Err(fail(
                "--mail-from and --notify need --smtp, the server to send through".into(),
            ))
        }
        (Some(_), None) => {
            return Err(fail(
                "--smtp needs --mail-from, the address the e-mails come from".into(),
            ))
        }
    };
    Ok(notify::Settings {
        webhooks,
        include_answers: settings.webhook_include_answers,
        secret: secret.into_bytes(),
        mail,
        remind_before: settings.remind_before.clone(),
    })
}

/// The settings the receiver runs with: each flag given, else its key under
/// `receive:` in the site's configuration, else its default.
fn resolve(db: &str, due: &[String], flags: Receive, config: Option<&Config>) -> Settings {
    let keys = config.map(|c| c.receive.clone()).unwrap_or_default();
    let due = keys
        .due
        .iter()
        .map(|(name, period)| format!("{name}={period}"))
        .chain(due.iter().cloned())
        .collect();
    let given = flags.over(keys);
    Settings {
        listen: given.listen.unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()),
        port: given.port.unwrap_or(8787),
        db: db.to_string(),
        allow_origins: given.allow_origin,
        jurisdiction: given.jurisdiction.unwrap_or_else(|| "gdpr".into()),
        due,
        webhooks: given.webhook,
        webhook_include_answers: given.webhook_include_answers.unwrap_or(false),
        smtp: given.smtp,
        mail_from: given.mail_from,
        notify: given.notify,
        public_url: given.public_url,
        verify_link_hours: given.verify_link_hours.unwrap_or(72),
        purge_closed_after: given.purge_closed_after,
        purge_consents_after: given.purge_consents_after,
        remind_before: match given.remind_before.is_empty() {
            true => vec![7, 2],
            false => given.remind_before,
        },
    }
}

/// `policy-site receive`. In a site's folder (`--root`), its configuration
/// must load: the receiver takes its `receive:` keys, accepts its rights
/// and speaks its languages. Elsewhere it runs on its flags alone.
pub fn run(root: &Path, db: &str, due: &[String], flags: Receive) -> Result<(), Diagnostics> {
    let fail = |message: String| Diagnostic::command("policy-site receive", message);
    let config = match root.join(crate::vocabulary::CONFIG_FILE).exists() {
        true => Some(crate::config::load(root)?),
        false => None,
    };
    let settings = &resolve(db, due, flags, config.as_ref());
    let due = DueTable::with(&settings.due, &settings.jurisdiction).map_err(|e| {
        fail(e).with_hint(
            "see --due and --jurisdiction in --help, or receive.due in the site's configuration",
        )
    })?;
    let mut origins = settings.allow_origins.clone();
    if origins.is_empty() {
        origins.extend(config.as_ref().map(|c| c.base_url.clone()));
    }
    if let Some(bad) = origins
        .iter()
        .find(|o| crate::receive::origin_of(o).is_none())
    {
        return Err(fail(format!("`{bad}` is not an http(s) origin")).into());
    }
    if let Some(missing) = missing_folder(&settings.db) {
        return Err(Diagnostic::new(
            shown(&settings.db),
            format!(
                "the folder {} does not exist: create it first or pass another --db",
                missing.display()
            ),
        )
        .into());
    }
    let store = database::connect(&settings.db)
        .and_then(Store::start)
        .map_err(|e| Diagnostic::new(shown(&settings.db), format!("cannot open the store: {e}")))?;
    let notify = notifications(settings)?;
    let mut receiver = Receiver::new(Some(store), config.as_ref(), &origins, due)
        .with_notifications(notify.clone());
    let texts = receiver.texts();
    start_retention(
        &settings.db,
        settings.purge_closed_after,
        settings.purge_consents_after,
    )
    .map_err(|e| {
        Diagnostic::new(
            shown(&settings.db),
            format!("cannot start the retention purge: {e}"),
        )
    })?;
    if !notify.is_empty() {
        notify::start(&settings.db, notify, texts).map_err(|e| {
            Diagnostic::new(
                shown(&settings.db),
                format!("cannot start the notifications: {e}"),
            )
        })?;
    }
    // And only its own policies, when its content loads.
    if let Some(site) = config.and_then(|c| crate::content::load(root, c).ok()) {
        receiver = receiver.with_policies(site.policies.iter().map(|p| p.slug.clone()).collect());
    }
    let receiver = Arc::new(receiver);
    // The console: its cookie is `Secure` unless it is reached over plain
    // http on this machine.
    let console =
        crate::receive::console::Console::new(&settings.db, receiver.clone()).map_err(|e| {
            Diagnostic::new(
                shown(&settings.db),
                format!("cannot start the console: {e}"),
            )
        })?;
    let secure = match public_url(settings)? {
        Some(url) => url.scheme() == "https",
        None => !settings.listen.is_loopback(),
    };
    let console = crate::receive::console::routes(Arc::new(console), secure);
    let address = std::net::SocketAddr::new(settings.listen, settings.port);
    let listener = server::bind(settings.listen, settings.port, false).map_err(|e| {
        fail(format!("cannot listen on {address}: {e}"))
            .with_hint("another program uses that port (pass --port), or this machine has no such address (--listen)")
    })?;
    let address = listener.local_addr().unwrap_or(address);
    println!(
        "Receiving on http://{address}/requests and /consent; storing in {}; allowing {}",
        shown(&settings.db),
        if origins.is_empty() {
            "no browser origin (pass --allow-origin)".to_string()
        } else {
            receiver.origins().join(", ")
        }
    );
    let runtime = server::runtime().map_err(|e| fail(format!("cannot start: {e}")))?;
    runtime
        .block_on(server::serve(
            listener,
            routes::app(receiver, Some(console)),
            Limits::default(),
            server::stop_signal(),
        ))
        .map_err(|e| fail(format!("stopped: {e}")))?;
    println!("Stopped; every acknowledged receipt is stored.");
    Ok(())
}

/// A SQLite file's folder when it does not exist: a typo in `--db` should
/// not quietly start a second store somewhere else.
fn missing_folder(db: &str) -> Option<&Path> {
    if database::is_postgres(db) {
        return None;
    }
    let folder = Path::new(db)
        .parent()
        .filter(|f| !f.as_os_str().is_empty())?;
    (!folder.is_dir()).then_some(folder)
}

/// The database as it may be printed: a PostgreSQL URL without its password.
pub fn shown(db: &str) -> String {
    if !database::is_postgres(db) {
        return db.to_string();
    }
    match url::Url::parse(db) {
        Ok(mut url) => {
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => "PostgreSQL".to_string(),
    }
}
