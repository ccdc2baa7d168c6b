//! Scratch PostgreSQL schemas for tests and benchmarks: each store under test gets a schema of
//! its own in one database (cheaper than a database each), reached through a URL that sets the
//! connection's `search_path`. A schema is dropped when its user is done with it, and schemas
//! left behind by processes of this machine that are gone (a test that panicked) are dropped by
//! the next one.

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Row as _};

use super::redact;
use crate::store::error::{Result, StoreError};

/// The environment variable naming the PostgreSQL database tests and benchmarks use.
pub const TEST_POSTGRES_ENV: &str = "TRELLIS_TEST_POSTGRES_URL";
/// The database used when [`TEST_POSTGRES_ENV`] is not set: a local server with trust auth.
pub const DEFAULT_TEST_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Prefix of scratch schema names: `trellis_scratch_<host>_<pid>_<random>`.
const PREFIX: &str = "trellis_scratch_";

/// The PostgreSQL database of tests and benchmarks.
pub fn test_postgres_url() -> String {
    std::env::var(TEST_POSTGRES_ENV).unwrap_or_else(|_| DEFAULT_TEST_POSTGRES_URL.to_owned())
}

/// A schema of its own in a PostgreSQL database; [`ScratchSchema::url`] connects into it.
#[derive(Debug)]
pub struct ScratchSchema {
    database_url: String,
    name: String,
    url: String,
}

impl ScratchSchema {
    /// Creates a fresh schema in the database of `database_url` (dropping the ones of
    /// processes that are gone first).
    pub async fn create(database_url: &str) -> Result<Self> {
        let admin = admin(database_url).await?;
        drop_orphans(&admin).await?;
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let name = format!(
            "{PREFIX}{}_{}_{}",
            host_tag(),
            std::process::id(),
            &unique[..16]
        );
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&admin)
            .await?;
        admin.close().await;
        let separator = if database_url.contains('?') { '&' } else { '?' };
        let url = format!("{database_url}{separator}options[search_path]={name}");
        Ok(ScratchSchema {
            database_url: database_url.to_owned(),
            name,
            url,
        })
    }

    /// The URL of the database with this schema as its `search_path`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the schema and everything in it (on a connection of its own, so from any runtime).
    pub async fn drop_schema(self) -> Result<()> {
        let admin = admin(&self.database_url).await?;
        drop_schema(&admin, &self.name).await?;
        admin.close().await;
        Ok(())
    }
}

/// One connection to the database, or a message saying how to get one.
async fn admin(database_url: &str) -> Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect(database_url)
        .await
        .map_err(|e| {
            StoreError::invalid(
                "test database",
                format!(
                    "PostgreSQL is not reachable at {}: {e}. Start it (see the README's \
                         \"Testing\") or point {TEST_POSTGRES_ENV} at another server",
                    redact(database_url)
                ),
            )
        })
}

/// Drops the scratch schemas whose process is no longer running.
async fn drop_orphans(admin: &PgPool) -> Result<()> {
    let rows = sqlx::query(
        "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, 'trellis_scratch_')",
    )
    .fetch_all(admin)
    .await?;
    for row in rows {
        let name: String = row.try_get(0)?;
        let mut parts = name.strip_prefix(PREFIX).unwrap_or_default().split('_');
        let (host, pid) = (
            parts.next(),
            parts.next().and_then(|p| p.parse::<i32>().ok()),
        );
        if host != Some(host_tag().as_str()) {
            continue; // Another machine's: its processes cannot be seen from here.
        }
        let alive = pid.is_some_and(|pid| {
            let pid = nix::unistd::Pid::from_raw(pid);
            // EPERM: it exists, as another user's process.
            !matches!(
                nix::sys::signal::kill(pid, None),
                Err(nix::errno::Errno::ESRCH)
            )
        });
        if !alive {
            drop_schema(admin, &name).await?;
        }
    }
    Ok(())
}

/// `DROP SCHEMA … CASCADE` of a scratch schema (its name was made here: no quoting needed).
async fn drop_schema(admin: &PgPool, name: &str) -> Result<()> {
    debug_assert!(
        name.starts_with(PREFIX) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    );
    sqlx::query(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE"
    )))
    .execute(admin)
    .await?;
    Ok(())
}

/// Eight hex digits naming this machine (a hash of its host name), so schemas are only
/// cleaned up by processes that can tell whether their creator still runs.
fn host_tag() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    // FNV-1a: stable across builds, unlike the standard library's hasher.
    let hash = host.trim().bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{hash:08x}")
}
