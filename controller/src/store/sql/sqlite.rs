//! Opening a SQLite database: WAL mode, one writer connection (writes are serialized in the
//! process and take the database lock up front with `BEGIN IMMEDIATE`, so they never deadlock on
//! lock upgrades) and a few read-only connections that read while it writes.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::store::error::{Result, StoreError};

/// The schema migrations, embedded in the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// How long a connection waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read-only connections of a file database.
const READERS: u32 = 4;

/// Opens (creating it if needed) the database file at `path`, migrates its schema and returns
/// its writer and reader pools.
pub(super) async fn open(path: &Path) -> Result<(SqlitePool, SqlitePool)> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            options
                .clone()
                .create_if_missing(true)
                .optimize_on_close(true, None),
        )
        .await?;
    // One process migrates at a time: a rebuild must never run twice.
    let lock = migration_lock(path)?;
    let migrated = migrate(&writer).await;
    drop(lock);
    migrated?;
    let reader = SqlitePoolOptions::new()
        .max_connections(READERS)
        .connect_with(options.read_only(true))
        .await?;
    Ok((writer, reader))
}

/// A fresh, migrated database in memory, on one connection that is never closed (each in-memory
/// connection is its own database).
pub(super) async fn open_in_memory() -> Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str("sqlite::memory:")?
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// An exclusive lock on `<database>.lock`, held while the schema is migrated.
fn migration_lock(db: &Path) -> Result<std::fs::File> {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    let file = std::fs::File::create(&name).map_err(|e| {
        StoreError::invalid(
            "database",
            format!("cannot create {}: {e}", Path::new(&name).display()),
        )
    })?;
    file.lock().map_err(|e| {
        StoreError::invalid(
            "database",
            format!("cannot lock {}: {e}", Path::new(&name).display()),
        )
    })?;
    Ok(file)
}

/// Runs the migrations; when several processes open a new database at once, one wins and the
/// others see its migrations as applied on a later try.
async fn migrate(pool: &SqlitePool) -> Result<()> {
    let mut tries = 0;
    loop {
        match MIGRATOR.run(pool).await {
            Ok(()) => return Ok(()),
            Err(_) if tries < 20 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50 * tries)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
