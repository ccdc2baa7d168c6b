//! Connecting to PostgreSQL: a pool of connections and the schema migrations (sqlx takes an
//! advisory lock while migrating, so processes starting together migrate once).

use std::time::Duration;

use sqlx::Row as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

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
        // A plan per query, for its values: the listings' best plan depends on how rare a
        // label, phase or template is, which a cached generic plan cannot know.
        .connect_with(
            options
                .application_name("trellis")
                .options([("plan_cache_mode", "force_custom_plan")]),
        )
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
pub const RUNNER_LOCK: i32 = 0x7472_6c72; // "trlr"

/// How often the runner lock's session is checked.
const RUNNER_CHECK: Duration = Duration::from_secs(10);

/// Holds the runner lock while it lives, on a session of its own (out of the pool: dropping it
/// closes the session, which releases the lock).
#[derive(Debug)]
pub struct RunnerLock {
    pool: PgPool,
    connection: tokio::sync::Mutex<sqlx::PgConnection>,
}

impl RunnerLock {
    /// Returns only if the lock is lost for good: its session ended (the server restarted, the
    /// connection broke) and another process took the lock before this one could take it again.
    /// While the database cannot be reached it keeps trying.
    pub async fn lost(&self) -> StoreError {
        loop {
            tokio::time::sleep(RUNNER_CHECK).await;
            let mut connection = self.connection.lock().await;
            let alive = sqlx::query("SELECT 1")
                .execute(&mut *connection)
                .await
                .is_ok();
            if alive {
                continue;
            }
            tracing::warn!("the session holding the runner lock ended; taking the lock again");
            match try_lock(&self.pool).await {
                Ok(Ok(fresh)) => *connection = fresh,
                Ok(Err(err)) => return err,
                Err(err) => tracing::warn!(error = %err, "cannot take the runner lock again yet"),
            }
        }
    }
}

/// Takes the runner lock, or says who holds it.
pub(super) async fn lock_runner(pool: &PgPool) -> Result<RunnerLock> {
    let connection = try_lock(pool).await??;
    Ok(RunnerLock {
        pool: pool.clone(),
        connection: tokio::sync::Mutex::new(connection),
    })
}

/// A session holding the runner lock (`Ok(Ok)`), the error saying who holds it (`Ok(Err)`), or
/// the database's error.
async fn try_lock(pool: &PgPool) -> Result<Result<sqlx::PgConnection>> {
    let mut connection = pool.acquire().await?;
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext(current_schema()))")
            .bind(RUNNER_LOCK)
            .fetch_one(&mut *connection)
            .await?;
    if locked {
        return Ok(Ok(connection.detach()));
    }
    let holder = sqlx::query(
        "SELECT a.client_addr::text AS addr, a.pid FROM pg_locks l \
         JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
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
    Ok(Err(StoreError::invalid(
        "database",
        format!(
            "another Trellis server already runs the workflows of this database{holder}; \
             the local backend runs steps as processes of one machine, so only one server may \
             use a database: stop the other one, or give this one its own database"
        ),
    )))
}
