//! The console's sessions, kept server-side in the store itself (the
//! `console_sessions` table) through tower-sessions' `SessionStore`: the
//! crate makes the ids (128 random bits), sets the cookie, rotates the id
//! at login and expires sessions on inactivity; this file only keeps its
//! records. A session is stored by the SHA-256 of its id, so a copy of the
//! database opens none; the operator's name is a column of its own, so that
//! "log out everywhere" and the removal of an operator end every session.

use super::Db;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, Error};

#[derive(Clone)]
pub struct Sessions {
    pub db: Db,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions")
    }
}

fn key(id: &Id) -> String {
    crate::vocabulary::hex(&Sha256::digest(id.to_string().as_bytes()))
}

/// Unix seconds, zero-padded so that they sort as text.
fn seconds(at: OffsetDateTime) -> String {
    format!("{:012}", at.unix_timestamp().max(0))
}

fn now() -> String {
    seconds(OffsetDateTime::now_utc())
}

fn backend(e: String) -> Error {
    Error::Backend(e)
}

impl Sessions {
    fn cells(record: &Record) -> session_store::Result<[Option<String>; 4]> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        let operator = record
            .data
            .get("operator")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        Ok([
            Some(key(&record.id)),
            operator,
            Some(data),
            Some(seconds(record.expiry_date)),
        ])
    }
}

#[async_trait::async_trait]
impl tower_sessions::SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            // Always a fresh id, even for a record that had one (a session
            // flushed at logout): an id never outlives what it opened.
            record.id = Id::default();
            let cells = Sessions::cells(record)?;
            let inserted = self
                .db
                .run(move |db| {
                    db.execute(
                        "INSERT INTO console_sessions (id_hash, operator, data, expires_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (id_hash) DO NOTHING",
                        &cells,
                    )
                })
                .await
                .map_err(backend)?;
            if inserted > 0 {
                return Ok(());
            }
        }
    }

    /// Updates a session that exists, never brings one back: a session
    /// ended (logout everywhere, a new password) while one of its requests
    /// was running stays ended.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let [id, operator, data, expires] = Sessions::cells(record)?;
        self.db
            .run(move |db| {
                db.execute(
                    "UPDATE console_sessions SET operator = $1, data = $2, expires_at = $3 \
                     WHERE id_hash = $4",
                    &[operator, data, expires, id],
                )
            })
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let (hash, id) = (key(id), *id);
        let rows = self
            .db
            .run(move |db| {
                db.rows(
                    "SELECT data, expires_at FROM console_sessions WHERE id_hash = $1 AND expires_at > $2",
                    &[Some(hash), Some(now())],
                )
            })
            .await
            .map_err(backend)?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let mut cells = row.into_iter().map(Option::unwrap_or_default);
        let data = serde_json::from_str(&cells.next().unwrap_or_default())
            .map_err(|e| Error::Decode(e.to_string()))?;
        let expiry: i64 = cells.next().unwrap_or_default().parse().unwrap_or(0);
        let expiry_date = OffsetDateTime::from_unix_timestamp(expiry)
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let hash = key(id);
        self.db
            .run(move |db| {
                // Expired ones go too, whoever's they were.
                db.execute(
                    "DELETE FROM console_sessions WHERE id_hash = $1 OR expires_at <= $2",
                    &[Some(hash), Some(now())],
                )
            })
            .await
            .map(|_| ())
            .map_err(backend)
    }
}
