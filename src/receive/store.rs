//! Where receipts are kept: SQLite (the default, one file) or PostgreSQL
//! (`postgres://…`, for several receivers), with one schema, shipped as
//! migrations in the binary, and one set of SQL statements for both. The
//! database enforces idempotency (unique `request_id` / `record_id`). One
//! writer thread commits many receipts per transaction (group commit), and
//! a receipt is acknowledged only once its transaction is durable.

use std::thread;
use tokio::sync::{mpsc, oneshot};

/// A value bound to a statement or read from a row: every column is text.
pub type Cell = Option<String>;

/// What the store needs from a database connection: statements with text
/// parameters (`$1`, `$2`, … in both dialects) and text results.
pub trait Backend: Send {
    /// Runs statements without parameters (`BEGIN`, migrations).
    fn batch(&mut self, sql: &str) -> Result<(), String>;
    fn execute(&mut self, sql: &str, params: &[Cell]) -> Result<u64, String>;
    fn rows(&mut self, sql: &str, params: &[Cell]) -> Result<Vec<Vec<Cell>>, String>;
    /// Starts a write transaction.
    fn begin_write(&mut self) -> Result<(), String>;
    /// Starts the transaction that brings the schema up to date, one
    /// receiver at a time.
    fn begin_migration(&mut self) -> Result<(), String> {
        self.begin_write()
    }
    /// The schema's migrations, in order, in this dialect.
    fn migrations(&self) -> Vec<String>;
    /// What ends a `SELECT` that claims rows, so that other receivers skip
    /// the rows this one claims (PostgreSQL's `FOR UPDATE SKIP LOCKED`;
    /// SQLite's write transaction already excludes every other writer).
    fn claim_clause(&self) -> &'static str {
        ""
    }
}

/// The schema; `{seq}` is each dialect's auto-increasing key.
const SCHEMA_V1: &str = "
CREATE TABLE requests (
    seq {seq},
    request_id TEXT NOT NULL UNIQUE,
    reference TEXT NOT NULL UNIQUE,
    right_id TEXT NOT NULL,
    policy TEXT NOT NULL,
    version TEXT NOT NULL,
    lang TEXT NOT NULL,
    origin TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    received_at TEXT NOT NULL,
    due_on TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('received', 'identity_verified', 'completed', 'refused')),
    fingerprint TEXT,
    payload TEXT NOT NULL
);
CREATE INDEX requests_by_fingerprint ON requests (fingerprint, received_at);
CREATE TABLE request_events (
    seq {seq},
    request_id TEXT NOT NULL REFERENCES requests (request_id),
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX request_events_by_request ON request_events (request_id, seq);
CREATE TABLE consents (
    seq {seq},
    record_id TEXT NOT NULL UNIQUE,
    consent_id TEXT NOT NULL,
    action TEXT NOT NULL,
    policy TEXT NOT NULL,
    version TEXT NOT NULL,
    lang TEXT NOT NULL,
    origin TEXT NOT NULL,
    received_at TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX consents_by_consent_id ON consents (consent_id, seq);
";

/// The outbox: each notification a stored request owes, written in the
/// request's own transaction and kept until a receiver has delivered it;
/// the requesters' verification links, by the SHA-256 of their token; and
/// the audit trail: who did what to a request, and every delivery attempt.
/// Nothing updates or deletes an audit row (schema 0003 makes the database
/// refuse it); the retention purge adds one saying what it removed.
/// Times are RFC 3339 UTC text (they sort as text); `claimed_until` is the
/// lease of the receiver sending it, so two never send one at once.
const SCHEMA_V2: &str = "
CREATE TABLE deliveries (
    seq {seq},
    delivery_id TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts TEXT NOT NULL,
    next_at TEXT NOT NULL,
    claimed_until TEXT,
    delivered_at TEXT,
    last_error TEXT
);
CREATE INDEX deliveries_waiting ON deliveries (delivered_at, next_at);
CREATE TABLE audit (
    seq {seq},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    request_id TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_by_request ON audit (request_id, seq);
CREATE TABLE verifications (
    token_hash TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL REFERENCES requests (request_id),
    address TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
";

/// The audit trail made append-only by the database itself, so that not
/// even a statement typed by hand into the store rewrites it: each dialect
/// says how (SQLite: triggers that abort; PostgreSQL: a trigger function).
pub const SQLITE_AUDIT_APPEND_ONLY: &str = "
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
";
pub const POSTGRES_AUDIT_APPEND_ONLY: &str = "
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION audit_append_only();
";

/// The console's accounts (an Argon2id hash of each password, never the
/// password), its sessions (by the SHA-256 of their id, so that a copy of
/// the store opens none), and the failed logins of the last window, which
/// slow down guessing.
const SCHEMA_V4: &str = "
CREATE TABLE operators (
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'handler', 'admin')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sessions_after TEXT NOT NULL DEFAULT '0'
);
CREATE TABLE console_sessions (
    id_hash TEXT NOT NULL UNIQUE,
    operator TEXT,
    data TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX console_sessions_by_operator ON console_sessions (operator);
CREATE TABLE login_failures (
    seq {seq},
    operator TEXT NOT NULL,
    address TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_by_at ON login_failures (at);
";

/// The migrations, in order: the shared tables with `{seq}` as each
/// dialect's auto-increasing key, the dialect's append-only audit, then
/// the console's tables.
pub fn schema(seq: &str, append_only: &str) -> Vec<String> {
    [SCHEMA_V1, SCHEMA_V2]
        .iter()
        .map(|s| s.replace("{seq}", seq))
        .chain([append_only.to_string(), SCHEMA_V4.replace("{seq}", seq)])
        .collect()
}

/// The statuses of a request, in the order they usually follow.
pub const STATUSES: &[&str] = &["received", "identity_verified", "completed", "refused"];

/// A rights request ready to store.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub request_id: String,
    pub reference: String,
    pub right: String,
    pub policy: String,
    pub version: String,
    pub lang: String,
    pub origin: String,
    pub jurisdiction: String,
    pub received_at: String,
    pub due_on: String,
    /// For posts without JavaScript: same right and answers is the same request…
    pub fingerprint: Option<String>,
    /// … when stored at or after this time.
    pub same_since: Option<String>,
    pub payload: String,
    /// The notifications it owes, queued with it.
    pub deliveries: Vec<NewDelivery>,
    /// The link that confirms the requester's address, when one is sent.
    pub verification: Option<NewVerification>,
}

/// A verification link's token (hashed: the store never holds the link).
#[derive(Debug, Clone)]
pub struct NewVerification {
    pub token_hash: String,
    /// The address the link is sent to: what its use proves.
    pub address: String,
    pub expires_at: String,
}

/// What a verification token comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Valid and unused: the request it would confirm (a look, not a use).
    Valid(String),
    /// Just used: the request is now `identity_verified`.
    Confirmed(String),
    Used,
    Expired,
    Unknown,
}

/// A notification to queue: where it goes and what it says.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// The idempotency key receivers see (a header and the body).
    pub delivery_id: String,
    /// The request it tells of.
    pub request_id: String,
    /// `webhook` (the target a URL).
    pub channel: String,
    pub target: String,
    pub event: String,
    pub body: String,
}

/// A queued notification claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub delivery_id: String,
    pub request_id: String,
    pub channel: String,
    pub target: String,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// A consent record ready to store.
#[derive(Debug, Clone)]
pub struct NewConsent {
    pub record_id: String,
    pub consent_id: String,
    pub action: String,
    pub policy: String,
    pub version: String,
    pub lang: String,
    pub origin: String,
    pub received_at: String,
    pub payload: String,
}

#[expect(
    clippy::large_enum_variant,
    reason = "records are most jobs: boxing them would cost each one an allocation to spare the rare ping"
)]
enum Job {
    Write(Write),
    /// Looks a verification token up (`at`), or uses it (`confirm`).
    Verify {
        token_hash: String,
        at: String,
        confirm: bool,
        reply: oneshot::Sender<Result<Verified, String>>,
    },
    /// A health check: the writer answers once its database does.
    Ping(oneshot::Sender<Result<(), String>>),
}

/// A record to keep, and who waits for its receipt.
enum Write {
    Request(NewRequest, oneshot::Sender<Result<Receipt, String>>),
    Consent(NewConsent, oneshot::Sender<Result<Receipt, String>>),
}

/// The handle receivers use: jobs go to the writer thread.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::Sender<Job>,
}

/// Receipts committed per transaction at most.
const BATCH: usize = 512;

/// Brings a store's schema up to date, in one transaction.
pub fn migrate(db: &mut dyn Backend) -> Result<(), String> {
    db.begin_migration()?;
    let done = (|| {
        db.batch("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY)")?;
        let applied = db.rows("SELECT version FROM schema_migrations", &[])?.len();
        for (number, migration) in db.migrations().iter().enumerate().skip(applied) {
            db.batch(migration)?;
            db.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[Some(format!("{:04}", number + 1))],
            )?;
        }
        Ok(())
    })();
    finish(db, done)
}

/// Commits on success, rolls back on failure.
pub fn finish<T>(db: &mut dyn Backend, done: Result<T, String>) -> Result<T, String> {
    match done {
        Ok(value) => db.batch("COMMIT").map(|()| value),
        Err(e) => {
            let _ = db.batch("ROLLBACK");
            Err(e)
        }
    }
}

impl Store {
    /// Starts the writer thread on its own connection (see `database::connect`).
    pub fn start(backend: Box<dyn Backend>) -> Result<Store, String> {
        let (jobs, queue) = mpsc::channel(4 * BATCH);
        thread::Builder::new()
            .name("receipts-writer".into())
            .spawn(move || write_loop(backend, queue))
            .map_err(|e| format!("cannot start the writer: {e}"))?;
        Ok(Store { jobs })
    }

    /// Stores a request unless its id (or, without JavaScript, the same
    /// answers just before) is stored already; the reference it is known by.
    pub async fn save_request(&self, request: NewRequest) -> Result<Receipt, String> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Write(Write::Request(request, reply)), answer)
            .await
    }

    pub async fn save_consent(&self, consent: NewConsent) -> Result<Receipt, String> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Write(Write::Consent(consent, reply)), answer)
            .await
    }

    /// What a verification token comes to at `at`; with `confirm`, uses it.
    pub async fn verify(
        &self,
        token_hash: &str,
        at: &str,
        confirm: bool,
    ) -> Result<Verified, String> {
        let stopped = || "the store has stopped".to_string();
        let (reply, answer) = oneshot::channel();
        let job = Job::Verify {
            token_hash: token_hash.into(),
            at: at.into(),
            confirm,
            reply,
        };
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Whether the writer and its database answer (`GET /health`).
    pub async fn ping(&self) -> Result<(), String> {
        let stopped = || "the store has stopped".to_string();
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Ping(reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    async fn submit(
        &self,
        job: Job,
        answer: oneshot::Receiver<Result<Receipt, String>>,
    ) -> Result<Receipt, String> {
        let stopped = || "the store has stopped".to_string();
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Takes every waiting job (up to `BATCH`), commits them in one
/// transaction, then answers each: acknowledged means durable.
fn write_loop(mut db: Box<dyn Backend>, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.blocking_recv() {
        let mut jobs = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Ping(reply) => {
                    let _ = reply.send(db.rows("SELECT CAST('ok' AS TEXT)", &[]).map(|_| ()));
                }
                Job::Verify {
                    token_hash,
                    at,
                    confirm,
                    reply,
                } => {
                    let _ = reply.send(verify(db.as_mut(), &token_hash, &at, confirm));
                }
                Job::Write(write) => jobs.push(write),
            }
            if jobs.len() < BATCH {
                next = queue.try_recv().ok();
            }
        }
        if jobs.is_empty() {
            continue;
        }
        let outcomes = commit(db.as_mut(), &jobs);
        for (job, outcome) in jobs.into_iter().zip(outcomes) {
            let reply = match job {
                Write::Request(_, reply) | Write::Consent(_, reply) => reply,
            };
            let _ = reply.send(outcome);
        }
    }
}

/// All jobs in one transaction. Should one fail (a statement refused), the
/// transaction is undone and each job is tried in its own, so that one bad
/// receipt cannot cost the others their acknowledgement.
fn commit(db: &mut dyn Backend, jobs: &[Write]) -> Vec<Result<Receipt, String>> {
    match in_one_transaction(db, jobs) {
        Ok(references) => references.into_iter().map(Ok).collect(),
        Err(e) if jobs.len() == 1 => vec![Err(e)],
        Err(_) => jobs
            .iter()
            .map(|job| {
                in_one_transaction(db, std::slice::from_ref(job))
                    .map(|mut references| references.remove(0))
            })
            .collect(),
    }
}

fn in_one_transaction(db: &mut dyn Backend, jobs: &[Write]) -> Result<Vec<Receipt>, String> {
    db.begin_write()?;
    let done = jobs
        .iter()
        .map(|job| match job {
            Write::Request(request, _) => insert_request(db, request),
            Write::Consent(consent, _) => insert_consent(db, consent),
        })
        .collect();
    finish(db, done)
}

fn first_text(rows: Vec<Vec<Cell>>) -> Option<String> {
    rows.into_iter().next()?.into_iter().next()?
}

/// What a receipt is known by, as first stored: a retry answers the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// A request's reference, a consent record's id.
    pub reference: String,
    pub received_at: String,
    /// A request's due date; empty for a consent record.
    pub due_on: String,
}

/// The first row's receipt, from `reference, received_at, due_on` columns.
fn first_receipt(rows: Vec<Vec<Cell>>) -> Option<Receipt> {
    let mut row = rows.into_iter().next()?.into_iter();
    let mut next = || row.next().flatten().unwrap_or_default();
    Some(Receipt {
        reference: next(),
        received_at: next(),
        due_on: next(),
    })
}

fn insert_request(db: &mut dyn Backend, r: &NewRequest) -> Result<Receipt, String> {
    let find = "SELECT reference, received_at, due_on FROM requests WHERE request_id = $1";
    if let Some(receipt) = first_receipt(db.rows(find, &[Some(r.request_id.clone())])?) {
        return Ok(receipt);
    }
    if let (Some(fingerprint), Some(since)) = (&r.fingerprint, &r.same_since) {
        let same = "SELECT reference, received_at, due_on FROM requests \
                    WHERE fingerprint = $1 AND received_at >= $2 ORDER BY seq LIMIT 1";
        let params = [Some(fingerprint.clone()), Some(since.clone())];
        if let Some(receipt) = first_receipt(db.rows(same, &params)?) {
            return Ok(receipt);
        }
    }
    let inserted = db.execute(
        "INSERT INTO requests (request_id, reference, right_id, policy, version, lang, origin, \
         jurisdiction, received_at, due_on, status, fingerprint, payload) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'received', $11, $12) \
         ON CONFLICT DO NOTHING",
        &[
            Some(r.request_id.clone()),
            Some(r.reference.clone()),
            Some(r.right.clone()),
            Some(r.policy.clone()),
            Some(r.version.clone()),
            Some(r.lang.clone()),
            Some(r.origin.clone()),
            Some(r.jurisdiction.clone()),
            Some(r.received_at.clone()),
            Some(r.due_on.clone()),
            r.fingerprint.clone(),
            Some(r.payload.clone()),
        ],
    )?;
    if inserted == 0 {
        // Another receiver stored it between our look-up and our insert.
        // (No conflict target: the reference, made from the request id, is
        // unique too, and PostgreSQL raises a conflict on an index that is
        // not the target instead of skipping the row.)
        return first_receipt(db.rows(find, &[Some(r.request_id.clone())])?)
            .ok_or_else(|| "the request vanished".to_string());
    }
    add_event(db, &r.request_id, "received", &r.received_at, "")?;
    audit(
        db,
        &r.received_at,
        "receive",
        "received",
        &r.request_id,
        &r.reference,
    )?;
    if let Some(v) = &r.verification {
        db.execute(
            "INSERT INTO verifications (token_hash, request_id, address, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                Some(v.token_hash.clone()),
                Some(r.request_id.clone()),
                Some(v.address.clone()),
                Some(r.received_at.clone()),
                Some(v.expires_at.clone()),
            ],
        )?;
    }
    for d in &r.deliveries {
        queue_delivery(db, d, &r.received_at)?;
    }
    Ok(Receipt {
        reference: r.reference.clone(),
        received_at: r.received_at.clone(),
        due_on: r.due_on.clone(),
    })
}

/// Appends to the audit trail.
pub fn audit(
    db: &mut dyn Backend,
    at: &str,
    actor: &str,
    action: &str,
    request_id: &str,
    detail: &str,
) -> Result<u64, String> {
    db.execute(
        "INSERT INTO audit (at, actor, action, request_id, detail) VALUES ($1, $2, $3, $4, $5)",
        &[
            Some(at.into()),
            Some(actor.into()),
            Some(action.into()),
            Some(request_id.into()),
            Some(detail.into()),
        ],
    )
}

/// One line of a request's audit trail.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// A request's audit trail, oldest first.
pub fn audit_trail(db: &mut dyn Backend, request_id: &str) -> Result<Vec<AuditEntry>, String> {
    Ok(db
        .rows(
            "SELECT at, actor, action, detail FROM audit WHERE request_id = $1 ORDER BY seq",
            &[Some(request_id.into())],
        )?
        .into_iter()
        .map(|mut row| AuditEntry {
            at: text(&mut row[0]),
            actor: text(&mut row[1]),
            action: text(&mut row[2]),
            detail: text(&mut row[3]),
        })
        .collect())
}

fn add_event(
    db: &mut dyn Backend,
    request_id: &str,
    status: &str,
    at: &str,
    note: &str,
) -> Result<u64, String> {
    db.execute(
        "INSERT INTO request_events (request_id, status, at, note) VALUES ($1, $2, $3, $4)",
        &[
            Some(request_id.into()),
            Some(status.into()),
            Some(at.into()),
            Some(note.into()),
        ],
    )
}

fn insert_consent(db: &mut dyn Backend, c: &NewConsent) -> Result<Receipt, String> {
    db.execute(
        "INSERT INTO consents (record_id, consent_id, action, policy, version, lang, origin, \
         received_at, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (record_id) DO NOTHING",
        &[
            Some(c.record_id.clone()),
            Some(c.consent_id.clone()),
            Some(c.action.clone()),
            Some(c.policy.clone()),
            Some(c.version.clone()),
            Some(c.lang.clone()),
            Some(c.origin.clone()),
            Some(c.received_at.clone()),
            Some(c.payload.clone()),
        ],
    )?;
    let stored = "SELECT record_id, received_at, '' FROM consents WHERE record_id = $1";
    first_receipt(db.rows(stored, &[Some(c.record_id.clone())])?)
        .ok_or_else(|| "the consent record vanished".to_string())
}

// ---- What operators read and change (`policy-site requests`, `consents`).

/// A stored request as operators see it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredRequest {
    pub reference: String,
    pub request_id: String,
    pub right: String,
    pub policy: String,
    pub version: String,
    pub lang: String,
    pub origin: String,
    pub jurisdiction: String,
    pub received_at: String,
    pub due_on: String,
    pub status: String,
    pub overdue: bool,
    /// Sent a verification link more than `UNVERIFIED_AFTER_DAYS` ago that
    /// was not followed.
    pub unverified: bool,
    /// The request as received (JSON), with the person's answers.
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusChange {
    pub status: String,
    pub at: String,
    pub note: String,
}

const REQUEST_COLUMNS: &str = "reference, request_id, right_id, policy, version, lang, origin, \
     jurisdiction, received_at, due_on, status, payload, \
     (SELECT MIN(v.created_at) FROM verifications v \
      WHERE v.request_id = requests.request_id AND v.used_at IS NULL)";

/// Days after which a request whose verification link was not followed is
/// flagged `unverified`.
pub const UNVERIFIED_AFTER_DAYS: i64 = 7;

fn text(cell: &mut Cell) -> String {
    cell.take().unwrap_or_default()
}

fn stored_request(mut row: Vec<Cell>, today: &str) -> StoredRequest {
    let mut next = row.iter_mut();
    let mut take = || text(next.next().expect("as many cells as columns"));
    let (reference, request_id, right, policy, version, lang) =
        (take(), take(), take(), take(), take(), take());
    let (origin, jurisdiction, received_at, due_on, status, payload) =
        (take(), take(), take(), take(), take(), take());
    let link_sent = take();
    let open = status == "received" || status == "identity_verified";
    let cutoff = today
        .parse::<crate::date::Date>()
        .map(|d| {
            crate::date::Date::from_unix((d.days_since_epoch() - UNVERIFIED_AFTER_DAYS) * 86_400)
                .to_string()
        })
        .unwrap_or_default();
    StoredRequest {
        overdue: open && due_on.as_str() < today,
        unverified: status == "received"
            && !link_sent.is_empty()
            && link_sent.get(..10).is_some_and(|d| d <= cutoff.as_str()),
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        reference,
        request_id,
        right,
        policy,
        version,
        lang,
        origin,
        jurisdiction,
        received_at,
        due_on,
        status,
    }
}

/// Every request, oldest first; only those with `status` when given.
pub fn requests(
    db: &mut dyn Backend,
    status: Option<&str>,
    today: &str,
) -> Result<Vec<StoredRequest>, String> {
    let rows = match status {
        Some(status) => db.rows(
            &format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE status = $1 ORDER BY seq"),
            &[Some(status.into())],
        )?,
        None => db.rows(
            &format!("SELECT {REQUEST_COLUMNS} FROM requests ORDER BY seq"),
            &[],
        )?,
    };
    Ok(rows
        .into_iter()
        .map(|row| stored_request(row, today))
        .collect())
}

/// One request by its reference (or request id), with its status history.
pub fn request(
    db: &mut dyn Backend,
    key: &str,
    today: &str,
) -> Result<Option<(StoredRequest, Vec<StatusChange>)>, String> {
    let rows = db.rows(
        &format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE reference = $1 OR request_id = $2"),
        &[Some(key.into()), Some(key.into())],
    )?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(None);
    };
    let found = stored_request(row, today);
    let history = db
        .rows(
            "SELECT status, at, note FROM request_events WHERE request_id = $1 ORDER BY seq",
            &[Some(found.request_id.clone())],
        )?
        .into_iter()
        .map(|mut row| StatusChange {
            status: text(&mut row[0]),
            at: text(&mut row[1]),
            note: text(&mut row[2]),
        })
        .collect();
    Ok(Some((found, history)))
}

/// Moves a request's due date to `new_due` (an extension), recording why
/// and queueing `tell` (the requester's mail) in the same transaction.
pub fn extend(
    db: &mut dyn Backend,
    request_id: &str,
    actor: &str,
    at: &str,
    new_due: &str,
    note: &str,
    tell: Option<&NewDelivery>,
) -> Result<(), String> {
    db.begin_write()?;
    let done = (|| {
        db.execute(
            "UPDATE requests SET due_on = $1 WHERE request_id = $2",
            &[Some(new_due.into()), Some(request_id.into())],
        )?;
        add_event(db, request_id, "extended", at, note)?;
        audit(db, at, actor, "extended", request_id, note)?;
        if let Some(mail) = tell {
            queue_delivery(db, mail, at)?;
        }
        Ok(())
    })();
    finish(db, done)
}

/// Records a new status for a request; false when no request has that reference.
pub fn set_status(
    db: &mut dyn Backend,
    key: &str,
    actor: &str,
    status: &str,
    at: &str,
    note: &str,
    tell: Option<&NewDelivery>,
) -> Result<bool, String> {
    db.begin_write()?;
    let done = (|| {
        let ids = db.rows(
            "SELECT request_id FROM requests WHERE reference = $1 OR request_id = $2",
            &[Some(key.into()), Some(key.into())],
        )?;
        let Some(request_id) = first_text(ids) else {
            return Ok(false);
        };
        db.execute(
            "UPDATE requests SET status = $1 WHERE request_id = $2",
            &[Some(status.into()), Some(request_id.clone())],
        )?;
        add_event(db, &request_id, status, at, note)?;
        audit(
            db,
            at,
            actor,
            &format!("status {status}"),
            &request_id,
            note,
        )?;
        if let Some(mail) = tell {
            queue_delivery(db, mail, at)?;
        }
        Ok(true)
    })();
    finish(db, done)
}

/// A stored consent record: the record as the browser sent it, with the
/// receiver's `record_id`, receipt time and origin.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredConsent {
    pub record_id: String,
    pub consent_id: String,
    pub received_at: String,
    pub origin: String,
    pub record: serde_json::Value,
}

/// Every consent record, oldest first; only one browser's with `consent_id`.
pub fn consents(
    db: &mut dyn Backend,
    consent_id: Option<&str>,
) -> Result<Vec<StoredConsent>, String> {
    let columns = "record_id, consent_id, received_at, origin, payload";
    let rows = match consent_id {
        Some(id) => db.rows(
            &format!("SELECT {columns} FROM consents WHERE consent_id = $1 ORDER BY seq"),
            &[Some(id.into())],
        )?,
        None => db.rows(&format!("SELECT {columns} FROM consents ORDER BY seq"), &[])?,
    };
    Ok(rows
        .into_iter()
        .map(|mut row| StoredConsent {
            record_id: text(&mut row[0]),
            consent_id: text(&mut row[1]),
            received_at: text(&mut row[2]),
            origin: text(&mut row[3]),
            record: serde_json::from_str(&text(&mut row[4])).unwrap_or(serde_json::Value::Null),
        })
        .collect())
}

/// A request's notification as operators see it: never where a mail went.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeliveryState {
    pub delivery_id: String,
    pub channel: String,
    pub event: String,
    pub attempts: u32,
    pub next_at: String,
    pub delivered_at: Option<String>,
    pub last_error: Option<String>,
}

/// The notifications a request queued, oldest first.
pub fn deliveries_of(db: &mut dyn Backend, request_id: &str) -> Result<Vec<DeliveryState>, String> {
    Ok(db
        .rows(
            "SELECT delivery_id, channel, event, attempts, next_at, delivered_at, last_error \
             FROM deliveries WHERE request_id = $1 ORDER BY seq",
            &[Some(request_id.into())],
        )?
        .into_iter()
        .map(|mut row| DeliveryState {
            delivery_id: text(&mut row[0]),
            channel: text(&mut row[1]),
            event: text(&mut row[2]),
            attempts: text(&mut row[3]).parse().unwrap_or(0),
            next_at: text(&mut row[4]),
            delivered_at: row[5].take(),
            last_error: row[6].take(),
        })
        .collect())
}

/// Queues a delivery, due at once (in the caller's transaction).
fn queue_delivery(db: &mut dyn Backend, d: &NewDelivery, at: &str) -> Result<u64, String> {
    // (Parameters in the order they appear: SQLite numbers `$n` so.)
    db.execute(
        "INSERT INTO deliveries (delivery_id, request_id, channel, target, event, body, \
         created_at, attempts, next_at) VALUES ($1, $2, $3, $4, $5, $6, $7, '0', $7)",
        &[
            Some(d.delivery_id.clone()),
            Some(d.request_id.clone()),
            Some(d.channel.clone()),
            Some(d.target.clone()),
            Some(d.event.clone()),
            Some(d.body.clone()),
            Some(at.into()),
        ],
    )?;
    audit(
        db,
        at,
        "receive",
        "queued",
        &d.request_id,
        &format!("{} {} by {}", d.delivery_id, d.event, d.channel),
    )
}

/// The channels a delivery may go by.
pub const CHANNELS: &[&str] = &["webhook", "mail"];

/// Claims up to `limit` deliveries due at `now`, by the `channels` this
/// receiver can send (others wait for one that can), that no receiver
/// holds, leasing them until `lease_until`, oldest first.
pub fn claim_deliveries(
    db: &mut dyn Backend,
    now: &str,
    lease_until: &str,
    limit: usize,
    channels: &[&str],
) -> Result<Vec<Delivery>, String> {
    let channels: Vec<String> = channels
        .iter()
        .filter(|c| CHANNELS.contains(c))
        .map(|c| format!("'{c}'"))
        .collect();
    if channels.is_empty() {
        return Ok(Vec::new());
    }
    db.begin_write()?;
    let done = (|| {
        let sql = format!(
            "SELECT delivery_id, request_id, channel, target, body, attempts FROM deliveries \
             WHERE delivered_at IS NULL AND next_at <= $1 AND channel IN ({}) \
             AND (claimed_until IS NULL OR claimed_until <= $1) ORDER BY seq LIMIT {limit}{}",
            channels.join(", "),
            db.claim_clause()
        );
        let rows = db.rows(&sql, &[Some(now.into())])?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let mut cells = row.into_iter().map(Option::unwrap_or_default);
            let mut next = || cells.next().unwrap_or_default();
            let delivery = Delivery {
                delivery_id: next(),
                request_id: next(),
                channel: next(),
                target: next(),
                body: next(),
                attempts: next().parse().unwrap_or(0),
            };
            db.execute(
                "UPDATE deliveries SET claimed_until = $1 WHERE delivery_id = $2",
                &[Some(lease_until.into()), Some(delivery.delivery_id.clone())],
            )?;
            claimed.push(delivery);
        }
        Ok(claimed)
    })();
    finish(db, done)
}

/// What one attempt at a delivery came to.
pub enum Attempt {
    /// Its receiver answered 2xx.
    Delivered,
    /// It failed for this reason; it is tried again from `next_at`.
    Failed { error: String, next_at: String },
}

/// Records what a batch of attempts came to, each in the audit too, in one
/// transaction: the sender's bookkeeping costs one commit per batch, not
/// one per delivery, so that a draining backlog leaves the writes to intake.
pub fn record_attempts(
    db: &mut dyn Backend,
    attempts: &[(&Delivery, Attempt)],
    at: &str,
) -> Result<(), String> {
    db.begin_write()?;
    let done = (|| {
        for (delivery, attempt) in attempts {
            let number = delivery.attempts + 1;
            let (action, detail) = match attempt {
                Attempt::Delivered => {
                    db.execute(
                        "UPDATE deliveries SET delivered_at = $1, claimed_until = NULL, \
                         attempts = $2, last_error = NULL WHERE delivery_id = $3",
                        &[
                            Some(at.into()),
                            Some(number.to_string()),
                            Some(delivery.delivery_id.clone()),
                        ],
                    )?;
                    let detail = format!(
                        "{} by {}, attempt {number}",
                        delivery.delivery_id, delivery.channel
                    );
                    ("delivered", detail)
                }
                Attempt::Failed { error, next_at } => {
                    db.execute(
                        "UPDATE deliveries SET claimed_until = NULL, attempts = $1, \
                         next_at = $2, last_error = $3 WHERE delivery_id = $4",
                        &[
                            Some(number.to_string()),
                            Some(next_at.clone()),
                            Some(error.clone()),
                            Some(delivery.delivery_id.clone()),
                        ],
                    )?;
                    let detail = format!(
                        "{} by {}, attempt {number}: {error}; next at {next_at}",
                        delivery.delivery_id, delivery.channel
                    );
                    ("delivery failed", detail)
                }
            };
            audit(db, at, "receive", action, &delivery.request_id, &detail)?;
        }
        Ok(())
    })();
    finish(db, done)
}

/// Looks a token up and, with `confirm`, uses it: once, before it expires,
/// moving a `received` request to `identity_verified` with the evidence
/// (the address the link was sent to, and when it was followed).
fn verify(
    db: &mut dyn Backend,
    token_hash: &str,
    at: &str,
    confirm: bool,
) -> Result<Verified, String> {
    db.begin_write()?;
    let done = (|| {
        let rows = db.rows(
            "SELECT v.request_id, v.address, v.expires_at, v.used_at, r.reference, r.status \
             FROM verifications v JOIN requests r ON r.request_id = v.request_id \
             WHERE v.token_hash = $1",
            &[Some(token_hash.into())],
        )?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(Verified::Unknown);
        };
        let mut cells = row.into_iter().map(Option::unwrap_or_default);
        let mut next = || cells.next().unwrap_or_default();
        let (request_id, address, expires_at, used_at, reference, status) =
            (next(), next(), next(), next(), next(), next());
        if !used_at.is_empty() {
            return Ok(Verified::Used);
        }
        if expires_at.as_str() <= at {
            return Ok(Verified::Expired);
        }
        if !confirm {
            return Ok(Verified::Valid(reference));
        }
        db.execute(
            "UPDATE verifications SET used_at = $1 WHERE token_hash = $2",
            &[Some(at.into()), Some(token_hash.into())],
        )?;
        if status == "received" {
            db.execute(
                "UPDATE requests SET status = 'identity_verified' WHERE request_id = $1",
                &[Some(request_id.clone())],
            )?;
        }
        // (A request already further on keeps its status; the evidence is kept.)
        let now_status = if status == "received" {
            "identity_verified"
        } else {
            status.as_str()
        };
        add_event(
            db,
            &request_id,
            now_status,
            at,
            &format!("the requester confirmed {address} by the link sent there"),
        )?;
        audit(
            db,
            at,
            "requester",
            "verified",
            &request_id,
            "by the link sent to the address given",
        )?;
        Ok(Verified::Confirmed(reference))
    })();
    finish(db, done)
}

/// What a retention purge removes (or, without `apply`, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purge {
    /// The references of the closed requests.
    pub requests: Vec<String>,
    pub consents: usize,
}

/// Closed requests (completed or refused) last changed before
/// `closed_before`, and consent records received before `consents_before`:
/// listed, and with `apply` deleted, with all they hold (history, outbox,
/// verification links). Their audit rows stay, with one saying what went.
pub fn purge(
    db: &mut dyn Backend,
    closed_before: Option<&str>,
    consents_before: Option<&str>,
    at: &str,
    apply: bool,
) -> Result<Purge, String> {
    db.begin_write()?;
    let done = (|| {
        let mut purge = Purge::default();
        if let Some(before) = closed_before {
            let rows = db.rows(
                "SELECT r.request_id, r.reference FROM requests r \
                 WHERE r.status IN ('completed', 'refused') \
                 AND (SELECT MAX(e.at) FROM request_events e WHERE e.request_id = r.request_id) < $1 \
                 ORDER BY r.seq",
                &[Some(before.into())],
            )?;
            for row in rows {
                let mut cells = row.into_iter().map(Option::unwrap_or_default);
                let (request_id, reference) = (
                    cells.next().unwrap_or_default(),
                    cells.next().unwrap_or_default(),
                );
                if apply {
                    for table in ["request_events", "deliveries", "verifications"] {
                        db.execute(
                            &format!("DELETE FROM {table} WHERE request_id = $1"),
                            &[Some(request_id.clone())],
                        )?;
                    }
                    db.execute(
                        "DELETE FROM requests WHERE request_id = $1",
                        &[Some(request_id.clone())],
                    )?;
                    let detail = format!(
                        "{reference}, closed before {before}, deleted under the retention rule"
                    );
                    audit(db, at, "retention", "purged", &request_id, &detail)?;
                }
                purge.requests.push(reference);
            }
        }
        if let Some(before) = consents_before {
            let count = first_text(db.rows(
                "SELECT CAST(COUNT(*) AS TEXT) FROM consents WHERE received_at < $1",
                &[Some(before.into())],
            )?);
            purge.consents = count.and_then(|c| c.parse().ok()).unwrap_or(0);
            if apply && purge.consents > 0 {
                db.execute(
                    "DELETE FROM consents WHERE received_at < $1",
                    &[Some(before.into())],
                )?;
            }
        }
        Ok(purge)
    })();
    finish(db, done)
}

/// Open requests (received or identity verified) due on or before `until`.
pub fn open_requests_due(
    db: &mut dyn Backend,
    until: &str,
    today: &str,
) -> Result<Vec<StoredRequest>, String> {
    Ok(db
        .rows(
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM requests WHERE status IN ('received', 'identity_verified') \
                 AND due_on <= $1 ORDER BY seq"
            ),
            &[Some(until.into())],
        )?
        .into_iter()
        .map(|row| stored_request(row, today))
        .collect())
}

/// Queues deliveries unless queued already (their ids say what they are:
/// a reminder is queued once however often it is looked for); how many
/// were new.
pub fn queue_once(
    db: &mut dyn Backend,
    deliveries: &[NewDelivery],
    at: &str,
) -> Result<usize, String> {
    if deliveries.is_empty() {
        return Ok(0);
    }
    db.begin_write()?;
    let done = (|| {
        let mut queued = 0;
        for d in deliveries {
            let known = db.rows(
                "SELECT delivery_id FROM deliveries WHERE delivery_id = $1",
                &[Some(d.delivery_id.clone())],
            )?;
            if known.is_empty() {
                queue_delivery(db, d, at)?;
                queued += 1;
            }
        }
        Ok(queued)
    })();
    finish(db, done)
}

/// The purge at `now` minus each number of days.
pub fn purge_older(
    db: &mut dyn Backend,
    closed_days: Option<u32>,
    consents_days: Option<u32>,
    apply: bool,
) -> Result<Purge, String> {
    let now = super::due::now_millis();
    let before = |days: u32| super::due::timestamp(now - i64::from(days) * 86_400_000).0;
    let (closed, consents) = (closed_days.map(before), consents_days.map(before));
    purge(
        db,
        closed.as_deref(),
        consents.as_deref(),
        &super::due::timestamp(now).0,
        apply,
    )
}
