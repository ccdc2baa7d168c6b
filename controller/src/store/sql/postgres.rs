//! Connecting to PostgreSQL: a pool of connections and the schema migrations (sqlx takes an
//! advisory lock while migrating, so processes starting together migrate once).

use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Row as _};

use super::redact;
use crate::store::error::{Result, StoreError};

/// The schema migrations, embedded in the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Connections of the pool.
const CONNECTIONS: u32 = 16;
/// How long to wait for a connection (the server may be starting).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(15);

/// Connects to the database of `url` and migrates its schema.
pub(super) async fn connect(url: &str) -> Result<PgPool> {
    let options: PgConnectOptions = url
        .parse()
        .map_err(|e| StoreError::invalid("database URL", format!("{}: {e}", redact(url))))?;
    let pool = PgPoolOptions::new()
        .max_connections(CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.application_name("trellis"))
        .await
        .map_err(|e| {
            StoreError::invalid(
                "database",
                format!(
                    "cannot connect to PostgreSQL at {}: {e} (is it running, and does the \
                     database exist?)",
                    redact(url)
                ),
            )
        })?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// The advisory lock (with the schema's hash as its second key: installations in different
/// schemas of one database are independent) of the process running a schema's workflows.
const RUNNER_LOCK: i32 = 0x7472_6c72; // "trlr"

/// Holds the runner lock (on a connection of its own) while it lives.
#[derive(Debug)]
pub struct RunnerLock {
    _connection: PoolConnection<Postgres>,
}

/// Takes the runner lock, or says who holds it.
pub(super) async fn lock_runner(pool: &PgPool) -> Result<RunnerLock> {
    let mut connection = pool.acquire().await?;
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext(current_schema()))")
            .bind(RUNNER_LOCK)
            .fetch_one(&mut *connection)
            .await?;
    if locked {
        return Ok(RunnerLock {
            _connection: connection,
        });
    }
    let holder = sqlx::query(
        "SELECT a.client_addr::text AS addr, a.pid FROM pg_locks l \
         JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted \
         AND l.objsubid = 2 AND l.classid::text::bigint = ($1::bigint & 4294967295) \
         AND l.objid::text::bigint = (hashtext(current_schema())::bigint & 4294967295) LIMIT 1",
    )
    .bind(RUNNER_LOCK)
    .fetch_optional(&mut *connection)
    .await?
    .map(|row| {
        let addr: Option<String> = row.try_get("addr").ok().flatten();
        let pid: i32 = row.try_get("pid").unwrap_or_default();
        format!(
            " (its database session: pid {pid} from {})",
            addr.as_deref().unwrap_or("a local socket")
        )
    })
    .unwrap_or_default();
    Err(StoreError::invalid(
        "database",
        format!(
            "another Trellis server already runs the workflows of this database{holder}; \
             the local backend runs steps as processes of one machine, so only one server may \
             use a database: stop the other one, or give this one its own database"
        ),
    ))
}
