//! The PostgreSQL store's connection pool: at most [`MAX_CONNECTIONS`] open, [`POOL_SIZE`] kept
//! between requests, each connection keeping its queries prepared ([`Conn`]).
//!
//! Invariants: a caller waits at most [`POOL_WAIT`] for a connection, then gets `Busy` (a 503);
//! a connection that failed below SQL (closed, reset) is dropped, never reused; every session
//! commits synchronously; a cached statement is still planned for its parameters each time.

use std::time::Duration;

use postgres::{Client, NoTls};

use super::pgtls::PgTls;
use super::PgStore;
use crate::store::StoreError;

/// Connections kept open between requests.
const POOL_SIZE: usize = 8;
/// Most connections open at once; a caller waits up to [`POOL_WAIT`] for one to come free,
/// then gets "unavailable" (a 503 the station retries) rather than a new connection.
const MAX_CONNECTIONS: usize = 16;
const POOL_WAIT: Duration = Duration::from_secs(5);

/// Statements a connection keeps prepared; past this many (queries built from filters) it
/// forgets them all and starts again.
const STATEMENTS_KEPT: usize = 64;

/// A pooled connection and the statements it has prepared, by their SQL: a query asked through
/// [`Conn::query`] (and `query_one`, `query_opt`) is parsed by the server once per connection,
/// not on every call with an extra round trip (what a trace's dozens of reads and every
/// request's session check would otherwise repeat).
pub(crate) struct Conn {
    client: Client,
    statements: std::collections::HashMap<String, postgres::Statement>,
}

/// A query's parameters, as the client takes them.
type Params<'a> = &'a [&'a (dyn postgres::types::ToSql + Sync)];

impl Conn {
    /// [`Client::query`] through the statement cache.
    pub(crate) fn query(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Vec<postgres::Row>, postgres::Error> {
        let st = self.prepared(sql)?;
        self.client.query(&st, params)
    }

    /// [`Client::query_one`] through the statement cache.
    pub(crate) fn query_one(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<postgres::Row, postgres::Error> {
        let st = self.prepared(sql)?;
        self.client.query_one(&st, params)
    }

    /// [`Client::query_opt`] through the statement cache.
    pub(crate) fn query_opt(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Option<postgres::Row>, postgres::Error> {
        let st = self.prepared(sql)?;
        self.client.query_opt(&st, params)
    }

    /// `sql` prepared on this connection (once; then from the connection's cache).
    pub(super) fn prepared(&mut self, sql: &str) -> Result<postgres::Statement, postgres::Error> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql)?;
        if self.statements.len() >= STATEMENTS_KEPT {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), st.clone());
        Ok(st)
    }
}

impl std::ops::Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// One slot of the pool's bound, given back when dropped (even on a panic).
pub(super) struct Slot<'a>(&'a PgStore);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Ok(mut n) = self.0.in_use.lock() {
            *n = n.saturating_sub(1);
        }
        self.0.freed.notify_one();
    }
}

impl PgStore {
    /// Runs `f` on a pooled connection; a connection that failed below SQL is dropped.
    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _slot = self.slot()?;
        let pooled = self.idle.lock().map_err(|_| StoreError::Poisoned)?.pop();
        let mut client = match pooled {
            Some(c) if !c.is_closed() => c,
            _ => {
                let mut c = match &self.tls {
                    PgTls::Plain => self.config.connect(NoTls)?,
                    PgTls::Tls(tls) => self.config.connect(tls.clone())?,
                };
                // Whatever the cluster's default, a commit returns only once it is on disk.
                c.batch_execute("SET synchronous_commit = on")?;
                // Cached statements are still planned for their parameters each time (a
                // generic plan would not know the busiest venue from a quiet one).
                c.batch_execute("SET plan_cache_mode = force_custom_plan")?;
                Conn {
                    client: c,
                    statements: std::collections::HashMap::new(),
                }
            }
        };
        let out = f(&mut client);
        let broken = client.is_closed()
            || matches!(&out, Err(StoreError::Postgres(e)) if e.as_db_error().is_none());
        if !broken {
            let mut idle = self.idle.lock().map_err(|_| StoreError::Poisoned)?;
            if idle.len() < POOL_SIZE {
                idle.push(client);
            }
        }
        out
    }

    /// Waits for one of the [`MAX_CONNECTIONS`] slots.
    pub(super) fn slot(&self) -> Result<Slot<'_>, StoreError> {
        let n = self.in_use.lock().map_err(|_| StoreError::Poisoned)?;
        let (mut n, waited) = self
            .freed
            .wait_timeout_while(n, POOL_WAIT, |n| *n >= MAX_CONNECTIONS)
            .map_err(|_| StoreError::Poisoned)?;
        if waited.timed_out() && *n >= MAX_CONNECTIONS {
            return Err(StoreError::Busy(MAX_CONNECTIONS));
        }
        *n += 1;
        Ok(Slot(self))
    }
}
