//! The console's accounts on the store's interface: operators with a role
//! and an Argon2id password hash (the `argon2` crate, its default
//! parameters: Argon2id, 19 MiB, two passes, as OWASP recommends), and the
//! failed logins that throttle guessing. Every change is in the audit trail
//! (under no request: `request_id` is empty).

use crate::receive::due::now_millis;
use crate::receive::store::{self, finish, Backend};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// What an operator may do; each role can do what the ones before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Role {
    /// Reads the queue and the requests, without the answers' personal fields.
    Viewer,
    /// Also sees the answers, acts on requests and exports them.
    Handler,
    /// Also manages the operators.
    Admin,
}

impl Role {
    pub const NAMES: [&'static str; 3] = ["viewer", "handler", "admin"];

    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "viewer" => Some(Role::Viewer),
            "handler" => Some(Role::Handler),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        Role::NAMES[self as usize]
    }
}

#[derive(Debug, Clone)]
pub struct Operator {
    pub name: String,
    pub role: Role,
    pub created_at: String,
    /// Sessions that began at or before this (Unix milliseconds) are over:
    /// set by a new password and by "log out everywhere".
    pub sessions_after: i64,
}

/// The shortest password accepted (NIST SP 800-63B asks for at least 8;
/// a console holding personal data asks for more).
pub const MIN_PASSWORD: usize = 12;

/// An operator's name: what the audit trail shows, so plain and short.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}

pub fn hash(password: &str) -> Result<String, String> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|e| format!("no randomness for a salt: {e}"))?;
    let salt = SaltString::encode_b64(&random).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// A hash of nothing anyone knows, checked when the name is unknown, so
/// that an unknown name takes as long to refuse as a wrong password.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("no operator has this password").unwrap_or_default())
}

const OPERATOR_COLUMNS: &str = "name, role, created_at, sessions_after";

fn operator_rows(rows: Vec<Vec<store::Cell>>) -> Vec<Operator> {
    rows.into_iter()
        .filter_map(|row| {
            let mut cells = row.into_iter().map(Option::unwrap_or_default);
            let name = cells.next()?;
            let role = Role::parse(&cells.next()?)?;
            Some(Operator {
                name,
                role,
                created_at: cells.next()?,
                sessions_after: cells.next()?.parse().unwrap_or(0),
            })
        })
        .collect()
}

pub fn operators(db: &mut dyn Backend) -> Result<Vec<Operator>, String> {
    let sql = format!("SELECT {OPERATOR_COLUMNS} FROM operators ORDER BY name");
    Ok(operator_rows(db.rows(&sql, &[])?))
}

pub fn any(db: &mut dyn Backend) -> Result<bool, String> {
    Ok(!db
        .rows("SELECT name FROM operators LIMIT 1", &[])?
        .is_empty())
}

/// One operator, by name: what the console's guard reads on every request.
pub fn operator(db: &mut dyn Backend, name: &str) -> Result<Option<Operator>, String> {
    let sql = format!("SELECT {OPERATOR_COLUMNS} FROM operators WHERE name = $1");
    Ok(operator_rows(db.rows(&sql, &[Some(name.into())])?).pop())
}

pub fn add(
    db: &mut dyn Backend,
    name: &str,
    role: Role,
    password_hash: &str,
    actor: &str,
    at: &str,
) -> Result<(), String> {
    db.begin_write()?;
    let done = (|| {
        if !db
            .rows(
                "SELECT name FROM operators WHERE name = $1",
                &[Some(name.into())],
            )?
            .is_empty()
        {
            return Err(format!(
                "an operator named `{name}` exists already (use `passwd` to change the password)"
            ));
        }
        db.execute(
            "INSERT INTO operators (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)",
            &[
                Some(name.into()),
                Some(role.name().into()),
                Some(password_hash.into()),
                Some(at.into()),
            ],
        )?;
        store::audit(
            db,
            at,
            actor,
            "operator added",
            "",
            &format!("{name} as {}", role.name()),
        )?;
        Ok(())
    })();
    finish(db, done)
}

/// Removes an operator and ends their sessions; false when there was none.
pub fn remove(db: &mut dyn Backend, name: &str, actor: &str, at: &str) -> Result<bool, String> {
    db.begin_write()?;
    let done = (|| {
        let gone = db.execute(
            "DELETE FROM operators WHERE name = $1",
            &[Some(name.into())],
        )? > 0;
        if gone {
            db.execute(
                "DELETE FROM console_sessions WHERE operator = $1",
                &[Some(name.into())],
            )?;
            store::audit(db, at, actor, "operator removed", "", name)?;
        }
        Ok(gone)
    })();
    finish(db, done)
}

/// A new password; every session of the operator ends.
pub fn set_password(
    db: &mut dyn Backend,
    name: &str,
    password_hash: &str,
    actor: &str,
    at: &str,
) -> Result<bool, String> {
    db.begin_write()?;
    let done = (|| {
        let changed = db.execute(
            "UPDATE operators SET password_hash = $1, sessions_after = $2 WHERE name = $3",
            &[
                Some(password_hash.into()),
                Some(now_millis().to_string()),
                Some(name.into()),
            ],
        )? > 0;
        if changed {
            db.execute(
                "DELETE FROM console_sessions WHERE operator = $1",
                &[Some(name.into())],
            )?;
            store::audit(db, at, actor, "password changed", "", name)?;
        }
        Ok(changed)
    })();
    finish(db, done)
}

/// Ends every session of `name` (logout everywhere).
pub fn end_sessions(
    db: &mut dyn Backend,
    name: &str,
    actor: &str,
    at: &str,
) -> Result<u64, String> {
    db.begin_write()?;
    let done = (|| {
        db.execute(
            "UPDATE operators SET sessions_after = $1 WHERE name = $2",
            &[Some(now_millis().to_string()), Some(name.into())],
        )?;
        let ended = db.execute(
            "DELETE FROM console_sessions WHERE operator = $1",
            &[Some(name.into())],
        )?;
        store::audit(
            db,
            at,
            actor,
            "sessions ended",
            "",
            &format!("{name}: {ended} session(s)"),
        )?;
        Ok(ended)
    })();
    finish(db, done)
}

/// How long failed logins count, and how many are allowed in that time:
/// per account from one address (so that guessing from elsewhere cannot
/// lock the account's owner out), and per address over every account.
pub const WINDOW_SECONDS: i64 = 15 * 60;
pub const PER_ACCOUNT_AND_ADDRESS: usize = 10;
pub const PER_ADDRESS: usize = 50;

/// Why a login is not even tried.
pub enum Throttled {
    Account,
    Address,
}

/// Whether `name` may try to log in from `address` now.
pub fn throttled(
    db: &mut dyn Backend,
    name: &str,
    address: &str,
    since: &str,
) -> Result<Option<Throttled>, String> {
    let count = |rows: Vec<Vec<store::Cell>>| rows.len();
    let from_here = count(db.rows(
        "SELECT at FROM login_failures WHERE address = $1 AND at > $2",
        &[Some(address.into()), Some(since.into())],
    )?);
    if from_here >= PER_ADDRESS {
        return Ok(Some(Throttled::Address));
    }
    let this_account = count(db.rows(
        "SELECT at FROM login_failures WHERE operator = $1 AND address = $2 AND at > $3",
        &[Some(name.into()), Some(address.into()), Some(since.into())],
    )?);
    Ok((this_account >= PER_ACCOUNT_AND_ADDRESS).then_some(Throttled::Account))
}

/// The stored hash of `name`'s password, if there is such an operator.
pub fn password_hash(db: &mut dyn Backend, name: &str) -> Result<Option<String>, String> {
    let rows = db.rows(
        "SELECT password_hash FROM operators WHERE name = $1",
        &[Some(name.into())],
    )?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten()))
}

/// Whether `password` matches `stored`; an unknown name (no hash) is
/// checked against a decoy, so that it takes as long to refuse as a wrong
/// password. Slow on purpose: run it off the store's connection.
pub fn verify(stored: Option<&str>, password: &str) -> Result<bool, String> {
    let parsed = PasswordHash::new(stored.unwrap_or_else(|| decoy()))
        .map_err(|e| format!("a stored password hash is damaged: {e}"))?;
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    Ok(stored.is_some() && matches)
}

/// Makes the decoy hash before the first login needs it.
pub fn warm() {
    let _ = decoy();
}

/// Records a login's outcome, in the audit trail too (the operator's name,
/// never the password or the address); a success clears the failures of
/// that account from that address, and old failures go.
pub fn record_login(
    db: &mut dyn Backend,
    name: &str,
    address: &str,
    ok: bool,
    at: &str,
    window_start: &str,
) -> Result<(), String> {
    db.begin_write()?;
    let done = (|| {
        db.execute(
            "DELETE FROM login_failures WHERE at <= $1",
            &[Some(window_start.into())],
        )?;
        if ok {
            db.execute(
                "DELETE FROM login_failures WHERE operator = $1 AND address = $2",
                &[Some(name.into()), Some(address.into())],
            )?;
            store::audit(db, at, name, "console login", "", name)?;
        } else {
            db.execute(
                "INSERT INTO login_failures (operator, address, at) VALUES ($1, $2, $3)",
                &[Some(name.into()), Some(address.into()), Some(at.into())],
            )?;
            // The name only when it is an operator's: a password typed
            // into the name field must not stay in the trail.
            let detail = match password_hash(db, name)?.is_some() {
                true => format!("for {name}"),
                false => "for a name no operator has".to_string(),
            };
            store::audit(db, at, "console", "console login failed", "", &detail)?;
        }
        Ok(())
    })();
    finish(db, done)
}

/// An audit line for a console action that concerns no one request.
pub fn note(
    db: &mut dyn Backend,
    actor: &str,
    action: &str,
    detail: &str,
    at: &str,
) -> Result<(), String> {
    db.begin_write()?;
    let done = store::audit(db, at, actor, action, "", detail).map(|_| ());
    finish(db, done)
}
