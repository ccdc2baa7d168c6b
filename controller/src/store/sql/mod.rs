//! The SQL backends of [`Store`]: SQLite (the embedded default: one file in WAL mode, one
//! writer connection and a few read-only ones that read while it writes) and PostgreSQL (a pool
//! of connections to a server several Trellis processes can share). Both run the same queries
//! through [`db`], which holds what differs between them.

mod audit;
mod auth;
mod db;
mod list;
mod offload;
mod postgres;
pub mod scratch;
mod sqlite;
mod steps;
mod templates;
mod workflows;

use std::path::{Path, PathBuf};

use engine::model::Workflow;

use super::Store;
use super::error::{Result, StoreError};
use super::identity::TemplateKind;
use super::selector::LabelSelector;
use super::types::{
    AuditEntry, AuditQuery, Event, MemoEntry, NewAudit, Page, StepClaim, StoredTemplate,
    StoredWorkflow, WorkflowQuery,
};
pub use auth::{ApiToken, NewApiToken, StoredSession};
use db::{Dialect, Pool, Sql, Tx};
pub use postgres::{RUNNER_LOCK, RunnerLock};

/// Where a store keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite database file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL server: a `postgres://user@host:port/database` URL.
    Postgres(String),
}

impl Database {
    /// The database a `--database-url` names: `postgres://…` or `postgresql://…` for PostgreSQL,
    /// `sqlite://PATH` (or `sqlite:PATH`) for a SQLite file.
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .map(|p| p.split('?').next().unwrap_or(p));
        match path {
            Some(":memory:") => Err(StoreError::invalid(
                "database URL",
                "an in-memory database would lose everything when Trellis stops: give a file \
                 path (sqlite://PATH)",
            )),
            Some(p) if !p.is_empty() => Ok(Database::Sqlite(PathBuf::from(p))),
            _ => Err(StoreError::invalid(
                "database URL",
                format!(
                    "{:?} is neither postgres://user@host:port/database nor sqlite://PATH",
                    redact(url)
                ),
            )),
        }
    }
}

/// A URL with its password (in the user part or a `password=` parameter) replaced by `***`,
/// fit for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    // The user part ends at the last `@` (a password may hold `/` or `@`).
    let before_query = match before_query.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => before_query.to_owned(),
        },
        None => before_query.to_owned(),
    };
    let query = query.map(|query| {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_owned(),
            })
            .collect();
        format!("?{}", params.join("&"))
    });
    format!("{scheme}://{before_query}{}", query.unwrap_or_default())
}

/// The SQL store: SQLite or PostgreSQL behind the same queries.
#[derive(Debug, Clone)]
pub struct SqlStore {
    dialect: Dialect,
    writer: Pool,
    reader: Pool,
}

impl SqlStore {
    /// Opens the database (creating a SQLite file if needed) and migrates its schema.
    pub async fn open(database: &Database) -> Result<Self> {
        match database {
            Database::Sqlite(path) => Self::open_sqlite(path).await,
            Database::Postgres(url) => Self::connect_postgres(url).await,
        }
    }

    /// Opens (creating it if needed) the SQLite database file at `path` and migrates its schema.
    pub async fn open_sqlite(path: &Path) -> Result<Self> {
        let (writer, reader) = sqlite::open(path).await?;
        Ok(SqlStore {
            dialect: Dialect::Sqlite,
            writer: Pool::Sqlite(writer),
            reader: Pool::Sqlite(reader),
        })
    }

    /// A fresh, migrated SQLite database in memory that lives as long as this store (and its
    /// clones).
    pub async fn open_in_memory() -> Result<Self> {
        let pool = sqlite::open_in_memory().await?;
        Ok(SqlStore {
            dialect: Dialect::Sqlite,
            writer: Pool::Sqlite(pool.clone()),
            reader: Pool::Sqlite(pool),
        })
    }

    /// Connects to the PostgreSQL database of `url` and migrates its schema.
    pub async fn connect_postgres(url: &str) -> Result<Self> {
        let pool = Pool::Pg(postgres::connect(url).await?);
        Ok(SqlStore {
            dialect: Dialect::Postgres,
            writer: pool.clone(),
            reader: pool,
        })
    }

    /// Makes this process the one that runs the workflows of a PostgreSQL database, for as
    /// long as the returned guard lives (a session advisory lock, released when the process
    /// ends however it ends); `Ok(None)` on SQLite, whose file belongs to one data directory.
    /// Fails if another process holds it: the local backend runs steps as processes of one
    /// machine, so two servers on one database would run the same workflows.
    pub async fn lock_runner(&self) -> Result<Option<RunnerLock>> {
        match &self.writer {
            Pool::Sqlite(_) => Ok(None),
            Pool::Pg(pool) => Ok(Some(postgres::lock_runner(pool).await?)),
        }
    }

    /// Whether this store is on PostgreSQL (else SQLite).
    pub fn is_postgres(&self) -> bool {
        self.dialect == Dialect::Postgres
    }

    /// Waits for running operations and closes every connection.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// Stores a workflow as the Kubernetes API holds it (`serve --backend kubernetes`): its
    /// metadata is kept as given; a uid seen for the first time gets the next run number of
    /// its template. Returns it as stored (with its run-number label).
    pub async fn mirror_workflow(&self, wf: &Workflow) -> Result<StoredWorkflow> {
        workflows::mirror(self, wf).await
    }

    /// Forgets a mirrored workflow deleted from the Kubernetes API: an archived one stays in
    /// the archive. An unknown uid is no error.
    pub async fn forget_workflow(&self, uid: &str) -> Result<()> {
        workflows::forget(self, uid).await
    }

    /// The uids of the live workflows last written before the store's version `before` (see
    /// [`SqlStore::version_now`]): those a listing begun then should have held.
    pub async fn live_workflow_uids(&self, before: i64) -> Result<Vec<String>> {
        workflows::live_uids(self, before).await
    }

    /// The store's resource version now: every later write gets a greater one.
    pub async fn version_now(&self) -> Result<i64> {
        workflows::version_now(self).await
    }

    /// Stores a template as the Kubernetes API holds it, keeping its uid, resourceVersion and
    /// creationTimestamp.
    pub async fn mirror_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
        json: &serde_json::Value,
    ) -> Result<StoredTemplate> {
        let id = templates::TemplateId::new(kind, namespace, name)?;
        templates::write(self, &id, json, templates::WriteMode::Mirror).await
    }

    /// Stores a version of a workflow's node status that its API object cannot hold (Argo's
    /// offloading); the object's `status.offloadNodeStatusVersion` names it once written.
    /// `current` is the version the object names now: it is kept, older others are dropped.
    pub async fn offload_nodes(
        &self,
        uid: &str,
        version: &str,
        nodes: &str,
        current: Option<&str>,
    ) -> Result<()> {
        offload::put(self, uid, version, nodes, current).await
    }

    /// An offloaded version of a workflow's node status (JSON), if stored.
    pub async fn offloaded_nodes(&self, uid: &str, version: &str) -> Result<Option<String>> {
        offload::get(self, uid, version).await
    }

    /// A write transaction holding the database's write lock from its first statement.
    async fn begin_write(&self) -> Result<Tx> {
        self.writer.begin_write().await
    }
}

/// Hands out the next resource version (global, increasing).
async fn next_resource_version(tx: &mut Tx) -> Result<i64> {
    let row = tx
        .row(Sql::new(
            "UPDATE counters SET value = value + 1 WHERE name = 'resource_version' RETURNING value",
        ))
        .await?
        .ok_or_else(|| {
            StoreError::invalid("database", "the resource_version counter is missing")
        })?;
    row.first_int()
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

impl Store for SqlStore {
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
        let sql = Sql::new(
            "SELECT phase, COUNT(*) AS n FROM workflows WHERE live = 1 GROUP BY phase ORDER BY phase",
        );
        let rows = self.reader.rows(sql).await?;
        rows.iter()
            .map(|r| Ok((r.text("phase")?, r.int("n")?)))
            .collect()
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

    async fn append_audit(&self, entry: &NewAudit) -> Result<AuditEntry> {
        audit::append(self, entry).await
    }

    async fn audit(&self, query: &AuditQuery) -> Result<Page<AuditEntry>> {
        audit::list(self, query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        let cases = [
            (
                "postgres://u@h:5432/db",
                Some(Database::Postgres("postgres://u@h:5432/db".into())),
            ),
            (
                "postgresql://h/db",
                Some(Database::Postgres("postgresql://h/db".into())),
            ),
            (
                "sqlite://data/t.db",
                Some(Database::Sqlite("data/t.db".into())),
            ),
            (
                "sqlite:/abs/t.db?mode=rwc",
                Some(Database::Sqlite("/abs/t.db".into())),
            ),
            ("sqlite://", None),
            ("sqlite::memory:", None),
            ("mysql://h/db", None),
            ("t.db", None),
        ];
        for (url, want) in cases {
            assert_eq!(Database::from_url(url).ok(), want, "{url}");
        }
    }

    #[test]
    fn passwords_are_redacted() {
        let cases = [
            (
                "postgres://u:secret@h:5432/db",
                "postgres://u:***@h:5432/db",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
            (
                "postgres://h/db?sslmode=require&password=x",
                "postgres://h/db?sslmode=require&password=***",
            ),
            ("not a url", "not a url"),
            ("postgres://u:pa/ss@word@h:1/db", "postgres://u:***@h:1/db"),
        ];
        for (url, want) in cases {
            assert_eq!(redact(url), want, "{url}");
        }
        let err = Database::from_url("mysql://u:pw@h/db")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("pw"), "{err}");
    }
}
