//! Workflows on SQLite: create (with uid, versions and run numbers), read, optimistic update,
//! delete, and the active workflows to resume.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use engine::model::{API_VERSION, Workflow};
use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::{SqliteStore, conflict, is_unique_violation, next_resource_version};
use crate::store::error::{Result, StoreError};
use crate::store::identity::{
    DEFAULT_NAMESPACE, LABEL_RUN_NUMBER, format_time, generated_name, kube_time, new_uid,
    parse_time, whole_seconds, workflow_index, workflow_template_key,
};
use crate::store::types::StoredWorkflow;

/// The kind named in errors.
const KIND: &str = "workflow";
/// Attempts at a free name from `generateName` before giving up.
const GENERATE_NAME_ATTEMPTS: usize = 8;

/// Creates the workflows in one transaction.
pub(super) async fn create(store: &SqliteStore, wfs: &[Workflow]) -> Result<Vec<StoredWorkflow>> {
    let now = whole_seconds(Utc::now());
    let mut tx = store.begin_write().await?;
    let mut created = Vec::with_capacity(wfs.len());
    for wf in wfs {
        created.push(insert(&mut tx, wf, now).await?);
    }
    tx.commit().await?;
    Ok(created)
}

/// Inserts one new workflow.
async fn insert(
    conn: &mut SqliteConnection,
    wf: &Workflow,
    now: DateTime<Utc>,
) -> Result<StoredWorkflow> {
    let mut wf = wf.clone();
    let namespace = namespace_of(&wf);
    let name = free_name(conn, &wf, &namespace).await?;
    let meta = wf.metadata.get_or_insert_default();
    meta.namespace = Some(namespace.clone());
    meta.name = Some(name.clone());
    let template_key = workflow_template_key(&wf);
    let uid = new_uid();
    let version = next_resource_version(conn).await?;
    let run_number = next_run_number(conn, template_key.as_deref().unwrap_or("")).await?;
    stamp(&mut wf, &uid, now, version, run_number)?;
    let idx = workflow_index(&wf)?;
    let body = serde_json::to_string(&wf)?;
    sqlx::query(
        "INSERT INTO workflows (uid, namespace, name, phase, created_at, started_at, finished_at, \
         template_key, run_number, seq, resource_version, body, archived, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&uid)
    .bind(&idx.namespace)
    .bind(&idx.name)
    .bind(idx.phase)
    .bind(format_time(now))
    .bind(&idx.started_at)
    .bind(&idx.finished_at)
    .bind(&template_key)
    .bind(run_number)
    .bind(version)
    .bind(version)
    .bind(&body)
    .bind(idx.archived)
    .bind(&idx.expires_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::already_exists(KIND, &namespace, &name),
        false => e.into(),
    })?;
    insert_labels(conn, &uid, &idx.labels).await?;
    Ok(StoredWorkflow {
        workflow: wf,
        uid,
        resource_version: version.to_string(),
        template_key,
        run_number,
    })
}

/// `metadata.namespace`, or `default`.
fn namespace_of(wf: &Workflow) -> String {
    wf.metadata
        .as_ref()
        .and_then(|m| m.namespace.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned())
}

/// The new workflow's name: `metadata.name` if free, else a free expansion of `generateName`.
async fn free_name(conn: &mut SqliteConnection, wf: &Workflow, namespace: &str) -> Result<String> {
    let meta = wf.metadata.as_ref();
    let given = meta.and_then(|m| m.name.clone()).filter(|n| !n.is_empty());
    let prefix = meta
        .and_then(|m| m.generate_name.clone())
        .filter(|n| !n.is_empty());
    match (given, prefix) {
        (Some(name), _) => match exists(conn, namespace, &name).await? {
            true => Err(StoreError::already_exists(KIND, namespace, &name)),
            false => Ok(name),
        },
        (None, Some(prefix)) => {
            for _ in 0..GENERATE_NAME_ATTEMPTS {
                let name = generated_name(&prefix);
                if !exists(conn, namespace, &name).await? {
                    return Ok(name);
                }
            }
            Err(StoreError::invalid(
                "workflow",
                format!("no free name for generateName {prefix:?} in {namespace:?}"),
            ))
        }
        (None, None) => Err(StoreError::invalid(
            "workflow",
            "metadata.name or metadata.generateName is required",
        )),
    }
}

/// Whether the namespace holds a live workflow of that name.
async fn exists(conn: &mut SqliteConnection, namespace: &str, name: &str) -> Result<bool> {
    let found =
        sqlx::query("SELECT 1 FROM workflows WHERE namespace = ? AND name = ? AND live = 1")
            .bind(namespace)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(found.is_some())
}

/// Hands out the next run number of a template key.
async fn next_run_number(conn: &mut SqliteConnection, template_key: &str) -> Result<i64> {
    let number = sqlx::query_scalar(
        "INSERT INTO run_numbers (template_key, last_number) VALUES (?, 1) \
         ON CONFLICT (template_key) DO UPDATE SET last_number = last_number + 1 \
         RETURNING last_number",
    )
    .bind(template_key)
    .fetch_one(&mut *conn)
    .await?;
    Ok(number)
}

/// Writes the store-owned fields into a workflow's document.
fn stamp(
    wf: &mut Workflow,
    uid: &str,
    created: DateTime<Utc>,
    version: i64,
    run_number: i64,
) -> Result<()> {
    wf.api_version.get_or_insert_with(|| API_VERSION.to_owned());
    wf.kind.get_or_insert_with(|| "Workflow".to_owned());
    let meta = wf.metadata.get_or_insert_default();
    meta.uid = Some(uid.to_owned());
    meta.creation_timestamp = Some(kube_time(created)?);
    meta.resource_version = Some(version.to_string());
    meta.labels
        .get_or_insert_default()
        .insert(LABEL_RUN_NUMBER.to_owned(), run_number.to_string());
    Ok(())
}

/// Inserts a workflow's labels in one statement.
async fn insert_labels(
    conn: &mut SqliteConnection,
    uid: &str,
    labels: &BTreeMap<String, String>,
) -> Result<()> {
    if labels.is_empty() {
        return Ok(());
    }
    let mut insert = QueryBuilder::<Sqlite>::new("INSERT INTO workflow_labels (uid, key, value) ");
    insert.push_values(labels, |mut row, (key, value)| {
        row.push_bind(uid.to_owned())
            .push_bind(key.clone())
            .push_bind(value.clone());
    });
    insert.build().execute(&mut *conn).await?;
    Ok(())
}

/// The stored labels of a workflow.
async fn stored_labels(conn: &mut SqliteConnection, uid: &str) -> Result<BTreeMap<String, String>> {
    let rows = sqlx::query("SELECT key, value FROM workflow_labels WHERE uid = ?")
        .bind(uid)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("key")?, r.try_get("value")?)))
        .collect()
}

/// Reads a stored workflow document.
pub(super) fn decode(body: &str) -> Result<Workflow> {
    Ok(serde_json::from_str(body)?)
}

/// The live workflow of that namespace and name.
pub(super) async fn get(store: &SqliteStore, namespace: &str, name: &str) -> Result<Workflow> {
    let body: Option<String> = sqlx::query_scalar(
        "SELECT body FROM workflows WHERE namespace = ? AND name = ? AND live = 1",
    )
    .bind(namespace)
    .bind(name)
    .fetch_optional(&store.reader)
    .await?;
    decode(&body.ok_or_else(|| StoreError::not_found(KIND, namespace, name))?)
}

/// The workflow of that uid, live or archived.
pub(super) async fn get_by_uid(store: &SqliteStore, uid: &str) -> Result<Workflow> {
    let body: Option<String> = sqlx::query_scalar("SELECT body FROM workflows WHERE uid = ?")
        .bind(uid)
        .fetch_optional(&store.reader)
        .await?;
    decode(&body.ok_or_else(|| StoreError::not_found(KIND, "", uid))?)
}

/// The archived workflow of that uid.
pub(super) async fn get_archived(store: &SqliteStore, uid: &str) -> Result<Workflow> {
    let body: Option<String> =
        sqlx::query_scalar("SELECT body FROM workflows WHERE uid = ? AND archived = 1")
            .bind(uid)
            .fetch_optional(&store.reader)
            .await?;
    decode(&body.ok_or_else(|| StoreError::not_found("archived workflow", "", uid))?)
}

/// What an update keeps from the stored row.
struct Current {
    uid: String,
    version: i64,
    created_at: String,
    run_number: i64,
}

/// The stored live row an update replaces: the one of the workflow's uid when it names one
/// (so a workflow deleted and made again under its name is not mistaken for it), else the one
/// of its name.
async fn fetch_current(
    conn: &mut SqliteConnection,
    namespace: &str,
    name: &str,
    uid: Option<&str>,
) -> Result<Current> {
    let row = match uid {
        Some(uid) => {
            sqlx::query(
                "SELECT uid, resource_version, created_at, run_number FROM workflows \
                 WHERE uid = ? AND live = 1 AND namespace = ? AND name = ?",
            )
            .bind(uid)
            .bind(namespace)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?
        }
        None => {
            sqlx::query(
                "SELECT uid, resource_version, created_at, run_number FROM workflows \
                 WHERE namespace = ? AND name = ? AND live = 1",
            )
            .bind(namespace)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?
        }
    }
    .ok_or_else(|| StoreError::not_found(KIND, namespace, name))?;
    Ok(Current {
        uid: row.try_get("uid")?,
        version: row.try_get("resource_version")?,
        created_at: row.try_get("created_at")?,
        run_number: row.try_get("run_number")?,
    })
}

/// Replaces a workflow if it is still at the expected version.
pub(super) async fn update(store: &SqliteStore, wf: &Workflow, expected: &str) -> Result<Workflow> {
    let namespace = namespace_of(wf);
    let name = workflow_index(wf)?.name;
    let given_uid = wf
        .metadata
        .as_ref()
        .and_then(|m| m.uid.as_deref())
        .filter(|u| !u.is_empty());
    let mut tx = store.begin_write().await?;
    let current = fetch_current(&mut tx, &namespace, &name, given_uid).await?;
    if current.version.to_string() != expected {
        return Err(conflict(KIND, &namespace, &name, expected, current.version));
    }
    let mut wf = wf.clone();
    wf.metadata.get_or_insert_default().namespace = Some(namespace);
    let version = next_resource_version(&mut tx).await?;
    let created = parse_time(&current.created_at)?;
    stamp(&mut wf, &current.uid, created, version, current.run_number)?;
    let idx = workflow_index(&wf)?;
    sqlx::query(
        "UPDATE workflows SET phase = ?, started_at = ?, finished_at = ?, resource_version = ?, \
         body = ?, archived = ?, expires_at = ? WHERE uid = ?",
    )
    .bind(idx.phase)
    .bind(&idx.started_at)
    .bind(&idx.finished_at)
    .bind(version)
    .bind(serde_json::to_string(&wf)?)
    .bind(idx.archived)
    .bind(&idx.expires_at)
    .bind(&current.uid)
    .execute(&mut *tx)
    .await?;
    if stored_labels(&mut tx, &current.uid).await? != idx.labels {
        sqlx::query("DELETE FROM workflow_labels WHERE uid = ?")
            .bind(&current.uid)
            .execute(&mut *tx)
            .await?;
        insert_labels(&mut tx, &current.uid, &idx.labels).await?;
    }
    tx.commit().await?;
    Ok(wf)
}

/// Deletes a live workflow. An archived one stays in the archive (its step claims go); any
/// other goes with its labels and step claims.
pub(super) async fn delete(store: &SqliteStore, namespace: &str, name: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let row: Option<(String, bool)> = sqlx::query_as(
        "SELECT uid, archived FROM workflows WHERE namespace = ? AND name = ? AND live = 1",
    )
    .bind(namespace)
    .bind(name)
    .fetch_optional(&mut *tx)
    .await?;
    let (uid, archived) = row.ok_or_else(|| StoreError::not_found(KIND, namespace, name))?;
    if archived {
        sqlx::query("UPDATE workflows SET live = 0 WHERE uid = ?")
            .bind(&uid)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM step_claims WHERE workflow_uid = ?")
            .bind(&uid)
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query("DELETE FROM workflows WHERE uid = ?")
            .bind(&uid)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Removes a workflow from the archive: a live one stays live (no longer archived), an
/// archived-only one is deleted with its labels.
pub(super) async fn delete_archived(store: &SqliteStore, uid: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let live: Option<bool> =
        sqlx::query_scalar("SELECT live FROM workflows WHERE uid = ? AND archived = 1")
            .bind(uid)
            .fetch_optional(&mut *tx)
            .await?;
    match live {
        None => return Err(StoreError::not_found("archived workflow", "", uid)),
        Some(true) => {
            sqlx::query("UPDATE workflows SET archived = 0 WHERE uid = ?")
                .bind(uid)
                .execute(&mut *tx)
                .await?;
        }
        Some(false) => {
            sqlx::query("DELETE FROM workflows WHERE uid = ?")
                .bind(uid)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Makes an archived workflow whose live object was deleted live again (to retry it).
pub(super) async fn revive(store: &SqliteStore, uid: &str) -> Result<Workflow> {
    let mut tx = store.begin_write().await?;
    let row: Option<(String, String, bool)> =
        sqlx::query_as("SELECT namespace, name, live FROM workflows WHERE uid = ?")
            .bind(uid)
            .fetch_optional(&mut *tx)
            .await?;
    let (namespace, name, live) = row.ok_or_else(|| StoreError::not_found(KIND, "", uid))?;
    if !live {
        if exists(&mut tx, &namespace, &name).await? {
            return Err(StoreError::already_exists(KIND, &namespace, &name));
        }
        sqlx::query("UPDATE workflows SET live = 1, expires_at = NULL WHERE uid = ?")
            .bind(uid)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    get_by_uid(store, uid).await
}

/// Live workflows whose ttlStrategy has run out at `now`, oldest deadline first.
pub(super) async fn expired(
    store: &SqliteStore,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<(String, String, String)>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT namespace, name, uid FROM workflows WHERE live = 1 AND expires_at IS NOT NULL \
         AND expires_at <= ? ORDER BY expires_at LIMIT ?",
    )
    .bind(format_time(now))
    .bind(i64::from(limit))
    .fetch_all(&store.reader)
    .await?;
    Ok(rows)
}

/// Workflows not finished, oldest first.
pub(super) async fn list_active(store: &SqliteStore) -> Result<Vec<Workflow>> {
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM workflows WHERE live = 1 AND phase IN ('', 'Pending', 'Running') ORDER BY seq",
    )
    .fetch_all(&store.reader)
    .await?;
    bodies.iter().map(|b| decode(b)).collect()
}
