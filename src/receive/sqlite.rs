//! The SQLite backend: one file in WAL mode with `synchronous = FULL`, so a
//! committed transaction survives a crash or power loss; readers (the
//! operator commands) never block the writer.

use super::store::{self, Backend, Cell};
use rusqlite::{params_from_iter, Connection};

pub struct Sqlite {
    connection: Connection,
}

fn message(e: rusqlite::Error) -> String {
    e.to_string()
}

impl Sqlite {
    pub fn open(file: &str) -> Result<Sqlite, String> {
        let connection = Connection::open(file).map_err(message)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(message)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            )
            .map_err(message)?;
        Ok(Sqlite { connection })
    }
}

impl Backend for Sqlite {
    fn batch(&mut self, sql: &str) -> Result<(), String> {
        self.connection.execute_batch(sql).map_err(message)
    }

    fn execute(&mut self, sql: &str, params: &[Cell]) -> Result<u64, String> {
        let mut statement = self.connection.prepare_cached(sql).map_err(message)?;
        let changed = statement
            .execute(params_from_iter(params.iter()))
            .map_err(message)?;
        Ok(changed as u64)
    }

    fn rows(&mut self, sql: &str, params: &[Cell]) -> Result<Vec<Vec<Cell>>, String> {
        let mut statement = self.connection.prepare_cached(sql).map_err(message)?;
        let width = statement.column_count();
        let rows = statement
            .query_map(params_from_iter(params.iter()), |row| {
                (0..width).map(|i| row.get::<_, Cell>(i)).collect()
            })
            .map_err(message)?;
        rows.collect::<Result<_, _>>().map_err(message)
    }

    fn begin_write(&mut self) -> Result<(), String> {
        self.batch("BEGIN IMMEDIATE")
    }

    fn migrations(&self) -> Vec<String> {
        store::schema("INTEGER PRIMARY KEY", store::SQLITE_AUDIT_APPEND_ONLY)
    }
}
