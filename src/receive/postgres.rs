//! The PostgreSQL backend, for operators who run several receivers against
//! one database: the same schema and statements as SQLite. Each connection
//! drives tokio-postgres on a small runtime of its own, so the store's
//! writer thread and the operator commands can call it like SQLite.
//! Commits are durable with PostgreSQL's default `synchronous_commit = on`.

use super::store::{self, Backend, Cell};
use std::collections::HashMap;
use tokio::runtime::Runtime;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Statement};

pub struct Postgres {
    client: Client,
    runtime: Runtime,
    prepared: HashMap<String, Statement>,
}

fn message(e: tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

fn bind(params: &[Cell]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Postgres {
    pub fn connect(url: &str) -> Result<Postgres, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let (client, connection) = runtime
            .block_on(tokio_postgres::connect(url, NoTls))
            .map_err(message)?;
        runtime.spawn(connection);
        Ok(Postgres {
            client,
            runtime,
            prepared: HashMap::new(),
        })
    }
}

impl Postgres {
    fn prepare(&mut self, sql: &str) -> Result<Statement, String> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .runtime
            .block_on(self.client.prepare(sql))
            .map_err(message)?;
        self.prepared.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

impl Backend for Postgres {
    fn batch(&mut self, sql: &str) -> Result<(), String> {
        self.runtime
            .block_on(self.client.batch_execute(sql))
            .map_err(message)
    }

    fn execute(&mut self, sql: &str, params: &[Cell]) -> Result<u64, String> {
        let statement = self.prepare(sql)?;
        self.runtime
            .block_on(self.client.execute(&statement, &bind(params)))
            .map_err(message)
    }

    fn rows(&mut self, sql: &str, params: &[Cell]) -> Result<Vec<Vec<Cell>>, String> {
        let statement = self.prepare(sql)?;
        let rows = self
            .runtime
            .block_on(self.client.query(&statement, &bind(params)))
            .map_err(message)?;
        Ok(rows
            .iter()
            .map(|row| (0..row.len()).map(|i| row.get::<_, Cell>(i)).collect())
            .collect())
    }

    fn begin_write(&mut self) -> Result<(), String> {
        self.batch("BEGIN")
    }

    fn begin_migration(&mut self) -> Result<(), String> {
        // Serialises schema migrations between receivers starting together.
        self.batch("BEGIN; SELECT pg_advisory_xact_lock(8787)")
    }

    fn migrations(&self) -> Vec<String> {
        store::schema("BIGSERIAL PRIMARY KEY", store::POSTGRES_AUDIT_APPEND_ONLY)
    }

    fn claim_clause(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }
}
