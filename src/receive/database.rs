//! Which backend a database address names: a `postgres://` URL or a SQLite
//! file. Above `store` (the interface) and its two backends, so that the
//! interface never reaches down to what implements it.

use super::store::{migrate, Backend};
use super::{postgres, sqlite};

/// Opens `db` (a SQLite file, or a `postgres://` URL), brings its schema up
/// to date, and returns a connection for reading or operator changes.
pub fn connect(db: &str) -> Result<Box<dyn Backend>, String> {
    let mut backend: Box<dyn Backend> = if is_postgres(db) {
        Box::new(postgres::Postgres::connect(db)?)
    } else {
        Box::new(sqlite::Sqlite::open(db)?)
    };
    migrate(backend.as_mut())?;
    Ok(backend)
}

pub fn is_postgres(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}
