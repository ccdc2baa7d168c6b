//! The SQLite backend of [`Store`]: one file in WAL mode, one writer connection (writes are
//! serialized in the process and take the database lock up front with `BEGIN IMMEDIATE`, so they
//! never deadlock on lock upgrades) and a few read-only connections that read while it writes.

mod list;
mod steps;
mod templates;
mod workflows;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use engine::model::Workflow;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use super::Store;
use super::error::{Result, StoreError};
use super::identity::TemplateKind;
use super::selector::LabelSelector;
use super::types::{
    Event, MemoEntry, Page, StepClaim, StoredTemplate, StoredWorkflow, WorkflowQuery,
};

/// The schema migrations, embedded in the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// How long a connection waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read-only connections of a file database.
const READERS: u32 = 4;

/// The embedded store: a SQLite database file (or memory, for tests).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating it if needed) the database file at `path` and migrates its schema.
    pub async fn open(path: &Path) -> Result<Self> {
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
        Ok(SqliteStore { writer, reader })
    }

    /// A fresh, migrated database in memory that lives as long as this store (and its clones).
    pub async fn open_in_memory() -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // One connection that is never closed: each in-memory connection is its own database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore {
            writer: pool.clone(),
            reader: pool,
        })
    }

    /// Waits for running operations and closes every connection.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// A write transaction holding the database's write lock from its first statement.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// Hands out the next resource version (global, increasing).
async fn next_resource_version(conn: &mut SqliteConnection) -> Result<i64> {
    let version = sqlx::query_scalar(
        "UPDATE counters SET value = value + 1 WHERE name = 'resource_version' RETURNING value",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(version)
}

/// Whether an error is the violation of a unique constraint.
fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Whether an error is the violation of a foreign key.
fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_foreign_key_violation())
}

/// The error of an optimistic update that found another version stored.
fn conflict(kind: &str, namespace: &str, name: &str, expected: &str, actual: i64) -> StoreError {
    StoreError::Conflict {
        kind: kind.to_owned(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        expected: expected.to_owned(),
        actual: actual.to_string(),
    }
}

impl Store for SqliteStore {
    async fn create_workflow(&self, wf: &Workflow) -> Result<StoredWorkflow> {
        let mut created = workflows::create(self, std::slice::from_ref(wf)).await?;
        created
            .pop()
            .ok_or_else(|| StoreError::invalid("workflow", "nothing was created"))
    }

    async fn create_workflows(&self, wfs: &[Workflow]) -> Result<Vec<StoredWorkflow>> {
        workflows::create(self, wfs).await
    }

    async fn get_workflow(&self, namespace: &str, name: &str) -> Result<Workflow> {
        workflows::get(self, namespace, name).await
    }

    async fn get_workflow_by_uid(&self, uid: &str) -> Result<Workflow> {
        workflows::get_by_uid(self, uid).await
    }

    async fn update_workflow(&self, wf: &Workflow, expected: &str) -> Result<Workflow> {
        workflows::update(self, wf, expected).await
    }

    async fn delete_workflow(&self, namespace: &str, name: &str) -> Result<()> {
        workflows::delete(self, namespace, name).await
    }

    async fn get_archived_workflow(&self, uid: &str) -> Result<Workflow> {
        workflows::get_archived(self, uid).await
    }

    async fn delete_archived_workflow(&self, uid: &str) -> Result<()> {
        workflows::delete_archived(self, uid).await
    }

    async fn revive_workflow(&self, uid: &str) -> Result<Workflow> {
        workflows::revive(self, uid).await
    }

    async fn expired_workflows(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<(String, String, String)>> {
        workflows::expired(self, now, limit).await
    }

    async fn archived_label_keys(&self, namespace: Option<&str>) -> Result<Vec<String>> {
        list::archived_label_keys(self, namespace).await
    }

    async fn archived_label_values(
        &self,
        key: &str,
        namespace: Option<&str>,
    ) -> Result<Vec<String>> {
        list::archived_label_values(self, key, namespace).await
    }

    async fn list_workflows(&self, query: &WorkflowQuery) -> Result<Page<Workflow>> {
        list::list(self, query).await
    }

    async fn count_workflows_by_phase(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT phase, COUNT(*) FROM workflows WHERE live = 1 GROUP BY phase ORDER BY phase",
        )
        .fetch_all(&self.reader)
        .await?)
    }

    async fn list_active_workflows(&self) -> Result<Vec<Workflow>> {
        workflows::list_active(self).await
    }

    async fn put_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
        json: &serde_json::Value,
    ) -> Result<StoredTemplate> {
        let id = templates::TemplateId::new(kind, namespace, name)?;
        templates::write(self, &id, json, templates::WriteMode::Put).await
    }

    async fn create_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
        json: &serde_json::Value,
    ) -> Result<StoredTemplate> {
        let id = templates::TemplateId::new(kind, namespace, name)?;
        templates::write(self, &id, json, templates::WriteMode::Create).await
    }

    async fn update_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
        json: &serde_json::Value,
        expected: &str,
    ) -> Result<StoredTemplate> {
        let id = templates::TemplateId::new(kind, namespace, name)?;
        templates::write(self, &id, json, templates::WriteMode::Update(expected)).await
    }

    async fn get_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<StoredTemplate> {
        let id = templates::TemplateId::new(kind, namespace, name)?;
        templates::get(self, &id).await
    }

    async fn list_templates(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        labels: &LabelSelector,
    ) -> Result<Vec<StoredTemplate>> {
        templates::list(self, kind, namespace, labels).await
    }

    async fn delete_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<()> {
        let id = templates::TemplateId::new(kind, namespace, name)?;
        templates::delete(self, &id).await
    }

    async fn claim_step(&self, uid: &str, node_id: &str, attempt_key: &str) -> Result<bool> {
        steps::claim(self, uid, node_id, attempt_key).await
    }

    async fn record_step_pid(
        &self,
        uid: &str,
        node_id: &str,
        attempt_key: &str,
        pid: i64,
    ) -> Result<()> {
        steps::record_pid(self, uid, node_id, attempt_key, pid).await
    }

    async fn release_steps(&self, uid: &str, node_ids: &[String]) -> Result<u64> {
        steps::release(self, uid, node_ids).await
    }

    async fn step_claims(&self, uid: &str) -> Result<Vec<StepClaim>> {
        steps::claims(self, uid).await
    }

    async fn memo_get(
        &self,
        namespace: &str,
        cache_name: &str,
        key: &str,
    ) -> Result<Option<MemoEntry>> {
        steps::memo_get(self, namespace, cache_name, key).await
    }

    async fn memo_put(
        &self,
        namespace: &str,
        cache_name: &str,
        key: &str,
        node_id: &str,
        outputs: &serde_json::Value,
    ) -> Result<MemoEntry> {
        let entry = steps::MemoKey {
            namespace,
            cache_name,
            key,
        };
        steps::memo_put(self, &entry, node_id, outputs).await
    }

    async fn append_event(&self, uid: &str, kind: &str, body: &serde_json::Value) -> Result<i64> {
        steps::append_event(self, uid, kind, body).await
    }

    async fn events(&self, uid: &str) -> Result<Vec<Event>> {
        steps::events(self, uid).await
    }
}

/// Runs the migrations; when several processes open a new database at once, one wins and the
/// others see its migrations as applied on a later try.
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

async fn migrate(pool: &sqlx::SqlitePool) -> Result<()> {
    let mut tries = 0;
    loop {
        match MIGRATOR.run(pool).await {
            Ok(()) => return Ok(()),
            Err(_) if tries < 20 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 * tries)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
