//! Workflows in SQL: create (with uid, versions and run numbers), read, optimistic update,
//! delete, and the active workflows to resume.

use std::collections::BTreeMap;

use super::db::{Sql, Tx};
use super::{SqlStore, conflict, is_unique_violation, next_resource_version};
use crate::store::error::{Result, StoreError};
use crate::store::identity::{
    DEFAULT_NAMESPACE, LABEL_RUN_NUMBER, WorkflowIndex, format_time, generated_name, kube_time,
    new_uid, parse_time, whole_seconds, workflow_index, workflow_template_key,
};
use crate::store::types::StoredWorkflow;
use chrono::{DateTime, Utc};
use engine::model::{API_VERSION, Workflow};

/// The kind named in errors.
const KIND: &str = "workflow";
/// Attempts at a free name from `generateName` before giving up.
const GENERATE_NAME_ATTEMPTS: usize = 8;

/// Creates the workflows in one transaction.
pub(super) async fn create(store: &SqlStore, wfs: &[Workflow]) -> Result<Vec<StoredWorkflow>> {
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
async fn insert(conn: &mut Tx, wf: &Workflow, now: DateTime<Utc>) -> Result<StoredWorkflow> {
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
    let sql = insert_sql(&NewRow {
        uid: &uid,
        idx: &idx,
        created: now,
        template_key: template_key.as_deref(),
        run_number,
        version,
        body,
        expires_at: idx.expires_at.as_deref(),
    });
    conn.run_raw(sql)
        .await
        .map_err(|e| match is_unique_violation(&e) {
            true => StoreError::already_exists(KIND, &namespace, &name),
            false => e.into(),
        })?;
    let row = LabelRow {
        uid: &uid,
        seq: version,
        template_key: template_key.as_deref(),
    };
    insert_labels(conn, &row, &idx.labels).await?;
    Ok(StoredWorkflow {
        workflow: wf,
        uid,
        resource_version: version.to_string(),
        template_key,
        run_number,
    })
}

/// A new row of the workflows table.
struct NewRow<'a> {
    uid: &'a str,
    idx: &'a WorkflowIndex,
    created: DateTime<Utc>,
    template_key: Option<&'a str>,
    run_number: i64,
    /// Its resource version, which is also its place in the creation order (`seq`).
    version: i64,
    body: String,
    expires_at: Option<&'a str>,
}

/// The statement that inserts a row.
fn insert_sql(r: &NewRow<'_>) -> Sql {
    Sql::new(
        "INSERT INTO workflows (uid, namespace, name, phase, created_at, started_at, finished_at, \
         duration_ms, template_key, run_number, seq, resource_version, body, archived, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .arg(r.uid)
    .arg(&r.idx.namespace)
    .arg(&r.idx.name)
    .arg(r.idx.phase)
    .arg(format_time(r.created))
    .arg(&r.idx.started_at)
    .arg(&r.idx.finished_at)
    .arg(r.idx.duration_ms)
    .arg(r.template_key)
    .arg(r.run_number)
    .arg(r.version)
    .arg(r.version)
    .arg(r.body.as_str())
    .arg(r.idx.archived)
    .arg(r.expires_at)
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
async fn free_name(conn: &mut Tx, wf: &Workflow, namespace: &str) -> Result<String> {
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
async fn exists(conn: &mut Tx, namespace: &str, name: &str) -> Result<bool> {
    let sql = Sql::new("SELECT uid FROM workflows WHERE namespace = ? AND name = ? AND live = 1")
        .arg(namespace)
        .arg(name);
    Ok(conn.row(sql).await?.is_some())
}

/// Hands out the next run number of a template key.
async fn next_run_number(conn: &mut Tx, template_key: &str) -> Result<i64> {
    let sql = Sql::new(
        "INSERT INTO run_numbers (template_key, last_number) VALUES (?, 1) \
         ON CONFLICT (template_key) DO UPDATE SET last_number = run_numbers.last_number + 1 \
         RETURNING last_number",
    )
    .arg(template_key);
    let row = conn.row(sql).await?;
    row.ok_or_else(|| StoreError::invalid(KIND, "no run number was handed out"))?
        .first_int()
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

/// What each label row of a workflow repeats of it (for listings by label, see migration 0003).
struct LabelRow<'a> {
    uid: &'a str,
    seq: i64,
    template_key: Option<&'a str>,
}

/// Inserts a workflow's labels in one statement.
async fn insert_labels(
    conn: &mut Tx,
    row: &LabelRow<'_>,
    labels: &BTreeMap<String, String>,
) -> Result<()> {
    if labels.is_empty() {
        return Ok(());
    }
    let mut insert =
        Sql::new("INSERT INTO workflow_labels (uid, key, value, seq, template_key) VALUES ");
    for (i, (key, value)) in labels.iter().enumerate() {
        insert.push(if i == 0 { "(" } else { ", (" });
        insert
            .push_arg(row.uid)
            .push(", ")
            .push_arg(key)
            .push(", ")
            .push_arg(value)
            .push(", ")
            .push_arg(row.seq)
            .push(", ")
            .push_arg(row.template_key)
            .push(")");
    }
    conn.run(insert).await?;
    Ok(())
}

/// The stored labels of a workflow.
async fn stored_labels(conn: &mut Tx, uid: &str) -> Result<BTreeMap<String, String>> {
    let sql = Sql::new("SELECT key, value FROM workflow_labels WHERE uid = ?").arg(uid);
    let rows = conn.rows(sql).await?;
    rows.iter()
        .map(|r| Ok((r.text("key")?, r.text("value")?)))
        .collect()
}

/// Reads a stored workflow document.
pub(super) fn decode(body: &str) -> Result<Workflow> {
    Ok(serde_json::from_str(body)?)
}

/// The live workflow of that namespace and name.
pub(super) async fn get(store: &SqlStore, namespace: &str, name: &str) -> Result<Workflow> {
    let sql = Sql::new("SELECT body FROM workflows WHERE namespace = ? AND name = ? AND live = 1")
        .arg(namespace)
        .arg(name);
    let row = store.reader.row(sql).await?;
    decode(
        &row.ok_or_else(|| StoreError::not_found(KIND, namespace, name))?
            .first_text()?,
    )
}

/// The workflow of that uid, live or archived.
pub(super) async fn get_by_uid(store: &SqlStore, uid: &str) -> Result<Workflow> {
    let sql = Sql::new("SELECT body FROM workflows WHERE uid = ?").arg(uid);
    let row = store.reader.row(sql).await?;
    decode(
        &row.ok_or_else(|| StoreError::not_found(KIND, "", uid))?
            .first_text()?,
    )
}

/// The archived workflow of that uid.
pub(super) async fn get_archived(store: &SqlStore, uid: &str) -> Result<Workflow> {
    let sql = Sql::new("SELECT body FROM workflows WHERE uid = ? AND archived = 1").arg(uid);
    let row = store.reader.row(sql).await?;
    decode(
        &row.ok_or_else(|| StoreError::not_found("archived workflow", "", uid))?
            .first_text()?,
    )
}

/// What an update keeps from the stored row.
struct Current {
    uid: String,
    version: i64,
    created_at: String,
    run_number: i64,
    seq: i64,
    template_key: Option<String>,
}

/// The stored live row an update replaces: the one of the workflow's uid when it names one
/// (so a workflow deleted and made again under its name is not mistaken for it), else the one
/// of its name.
async fn fetch_current(
    conn: &mut Tx,
    namespace: &str,
    name: &str,
    uid: Option<&str>,
) -> Result<Current> {
    let mut sql = Sql::new(
        "SELECT uid, resource_version, created_at, run_number, seq, template_key FROM workflows \
         WHERE namespace = ? AND name = ? AND live = 1",
    )
    .arg(namespace)
    .arg(name);
    if let Some(uid) = uid {
        sql.push(" AND uid = ").push_arg(uid);
    }
    let row = conn
        .row(sql)
        .await?
        .ok_or_else(|| StoreError::not_found(KIND, namespace, name))?;
    Ok(Current {
        uid: row.text("uid")?,
        version: row.int("resource_version")?,
        created_at: row.text("created_at")?,
        run_number: row.int("run_number")?,
        seq: row.int("seq")?,
        template_key: row.opt_text("template_key")?,
    })
}

/// Replaces a workflow if it is still at the expected version.
pub(super) async fn update(store: &SqlStore, wf: &Workflow, expected: &str) -> Result<Workflow> {
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
    let sql = Sql::new(
        "UPDATE workflows SET phase = ?, started_at = ?, finished_at = ?, duration_ms = ?, \
         resource_version = ?, body = ?, archived = ?, expires_at = ? WHERE uid = ?",
    )
    .arg(idx.phase)
    .arg(&idx.started_at)
    .arg(&idx.finished_at)
    .arg(idx.duration_ms)
    .arg(version)
    .arg(serde_json::to_string(&wf)?)
    .arg(idx.archived)
    .arg(&idx.expires_at)
    .arg(&current.uid);
    tx.run(sql).await?;
    if stored_labels(&mut tx, &current.uid).await? != idx.labels {
        let sql = Sql::new("DELETE FROM workflow_labels WHERE uid = ?").arg(&current.uid);
        tx.run(sql).await?;
        let row = LabelRow {
            uid: &current.uid,
            seq: current.seq,
            template_key: current.template_key.as_deref(),
        };
        insert_labels(&mut tx, &row, &idx.labels).await?;
    }
    tx.commit().await?;
    Ok(wf)
}

/// Deletes a live workflow. An archived one stays in the archive (its step claims go); any
/// other goes with its labels and step claims.
pub(super) async fn delete(store: &SqlStore, namespace: &str, name: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let sql = Sql::new(
        "SELECT uid, archived FROM workflows WHERE namespace = ? AND name = ? AND live = 1",
    )
    .arg(namespace)
    .arg(name);
    let row = tx
        .row(sql)
        .await?
        .ok_or_else(|| StoreError::not_found(KIND, namespace, name))?;
    let uid = row.text("uid")?;
    if row.flag("archived")? {
        tx.run(Sql::new("UPDATE workflows SET live = 0 WHERE uid = ?").arg(&uid))
            .await?;
        tx.run(Sql::new("DELETE FROM step_claims WHERE workflow_uid = ?").arg(&uid))
            .await?;
    } else {
        tx.run(Sql::new("DELETE FROM workflows WHERE uid = ?").arg(&uid))
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Removes a workflow from the archive: a live one stays live (no longer archived), an
/// archived-only one is deleted with its labels.
pub(super) async fn delete_archived(store: &SqlStore, uid: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let sql = Sql::new("SELECT live FROM workflows WHERE uid = ? AND archived = 1").arg(uid);
    let live = match tx.row(sql).await? {
        None => return Err(StoreError::not_found("archived workflow", "", uid)),
        Some(row) => row.flag("live")?,
    };
    let sql = match live {
        true => Sql::new("UPDATE workflows SET archived = 0 WHERE uid = ?"),
        false => Sql::new("DELETE FROM workflows WHERE uid = ?"),
    };
    tx.run(sql.arg(uid)).await?;
    tx.commit().await?;
    Ok(())
}

/// Makes an archived workflow whose live object was deleted live again (to retry it).
pub(super) async fn revive(store: &SqlStore, uid: &str) -> Result<Workflow> {
    let mut tx = store.begin_write().await?;
    let sql = Sql::new("SELECT namespace, name, live FROM workflows WHERE uid = ?").arg(uid);
    let row = tx
        .row(sql)
        .await?
        .ok_or_else(|| StoreError::not_found(KIND, "", uid))?;
    let (namespace, name) = (row.text("namespace")?, row.text("name")?);
    if !row.flag("live")? {
        if exists(&mut tx, &namespace, &name).await? {
            return Err(StoreError::already_exists(KIND, &namespace, &name));
        }
        let sql = Sql::new("UPDATE workflows SET live = 1, expires_at = NULL WHERE uid = ?");
        tx.run(sql.arg(uid)).await?;
    }
    tx.commit().await?;
    get_by_uid(store, uid).await
}

/// Live workflows whose ttlStrategy has run out at `now`, oldest deadline first.
pub(super) async fn expired(
    store: &SqlStore,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<(String, String, String)>> {
    let sql = Sql::new(
        "SELECT namespace, name, uid FROM workflows WHERE live = 1 AND expires_at IS NOT NULL \
         AND expires_at <= ? ORDER BY expires_at LIMIT ?",
    )
    .arg(format_time(now))
    .arg(i64::from(limit));
    let rows = store.reader.rows(sql).await?;
    rows.iter()
        .map(|r| Ok((r.text("namespace")?, r.text("name")?, r.text("uid")?)))
        .collect()
}

/// Workflows not finished, oldest first.
pub(super) async fn list_active(store: &SqlStore) -> Result<Vec<Workflow>> {
    let sql = Sql::new(
        "SELECT body FROM workflows WHERE live = 1 AND phase IN ('', 'Pending', 'Running') ORDER BY seq",
    );
    let rows = store.reader.rows(sql).await?;
    rows.iter().map(|r| decode(&r.first_text()?)).collect()
}

/// Stores a workflow as another system holds it (the Kubernetes API, for `serve --backend
/// kubernetes`): its metadata — uid, name, resourceVersion, creationTimestamp — is kept as
/// given. A uid seen for the first time gets the next run number of its template; a live row of
/// the same name under another uid (deleted and made again while unseen) is forgotten first.
pub(super) async fn mirror(store: &SqlStore, wf: &Workflow) -> Result<StoredWorkflow> {
    let meta = wf.metadata.as_ref();
    let uid = meta
        .and_then(|m| m.uid.clone())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| StoreError::invalid(KIND, "a mirrored workflow needs metadata.uid"))?;
    let namespace = namespace_of(wf);
    let mut tx = store.begin_write().await?;
    let sql =
        Sql::new("SELECT run_number, template_key, seq FROM workflows WHERE uid = ?").arg(&uid);
    let known = match tx.row(sql).await? {
        Some(r) => Some((
            r.int("run_number")?,
            r.opt_text("template_key")?,
            r.int("seq")?,
        )),
        None => None,
    };
    let mut wf = wf.clone();
    wf.metadata.get_or_insert_default().namespace = Some(namespace.clone());
    let version = next_resource_version(&mut tx).await?;
    let (run_number, template_key) = match &known {
        Some((n, key, _)) => (*n, key.clone()),
        None => {
            let key = workflow_template_key(&wf);
            (
                next_run_number(&mut tx, key.as_deref().unwrap_or("")).await?,
                key,
            )
        }
    };
    wf.metadata
        .get_or_insert_default()
        .labels
        .get_or_insert_default()
        .insert(LABEL_RUN_NUMBER.to_owned(), run_number.to_string());
    let idx = workflow_index(&wf)?;
    let body = serde_json::to_string(&wf)?;
    match known {
        Some((_, _, seq)) => {
            let sql = Sql::new(
                "UPDATE workflows SET phase = ?, started_at = ?, finished_at = ?, duration_ms = ?, \
                 resource_version = ?, body = ?, archived = ?, live = 1 WHERE uid = ?",
            )
            .arg(idx.phase)
            .arg(&idx.started_at)
            .arg(&idx.finished_at)
            .arg(idx.duration_ms)
            .arg(version)
            .arg(body)
            .arg(idx.archived)
            .arg(&uid);
            tx.run(sql).await?;
            if stored_labels(&mut tx, &uid).await? != idx.labels {
                tx.run(Sql::new("DELETE FROM workflow_labels WHERE uid = ?").arg(&uid))
                    .await?;
                let row = LabelRow {
                    uid: &uid,
                    seq,
                    template_key: template_key.as_deref(),
                };
                insert_labels(&mut tx, &row, &idx.labels).await?;
            }
        }
        None => {
            let sql =
                Sql::new("SELECT uid FROM workflows WHERE namespace = ? AND name = ? AND live = 1")
                    .arg(&idx.namespace)
                    .arg(&idx.name);
            if let Some(r) = tx.row(sql).await? {
                forget_in(&mut tx, &r.first_text()?).await?;
            }
            let created = wf
                .metadata
                .as_ref()
                .and_then(|m| m.creation_timestamp.as_ref())
                .and_then(|t| DateTime::from_timestamp(t.0.as_second(), 0))
                .unwrap_or_else(Utc::now);
            // The cluster deletes it when its ttlStrategy says: no expiry of the store's own.
            let sql = insert_sql(&NewRow {
                uid: &uid,
                idx: &idx,
                created: whole_seconds(created),
                template_key: template_key.as_deref(),
                run_number,
                version,
                body,
                expires_at: None,
            });
            tx.run(sql).await?;
            let row = LabelRow {
                uid: &uid,
                seq: version,
                template_key: template_key.as_deref(),
            };
            insert_labels(&mut tx, &row, &idx.labels).await?;
        }
    }
    tx.commit().await?;
    Ok(StoredWorkflow {
        workflow: wf,
        uid,
        resource_version: version.to_string(),
        template_key,
        run_number,
    })
}

/// Forgets a mirrored workflow that is gone from the system holding it: an archived one stays
/// in the archive, any other is deleted with its labels. Unknown uids are no error.
pub(super) async fn forget(store: &SqlStore, uid: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    forget_in(&mut tx, uid).await?;
    tx.commit().await
}

async fn forget_in(tx: &mut Tx, uid: &str) -> Result<()> {
    super::offload::forget(tx, uid).await?;
    let sql = Sql::new("SELECT archived FROM workflows WHERE uid = ? AND live = 1").arg(uid);
    let Some(row) = tx.row(sql).await? else {
        return Ok(());
    };
    let sql = match row.flag("archived")? {
        true => Sql::new("UPDATE workflows SET live = 0 WHERE uid = ?"),
        false => Sql::new("DELETE FROM workflows WHERE uid = ?"),
    };
    tx.run(sql.arg(uid)).await?;
    Ok(())
}

/// The uids of every live workflow last written before the store's version `before`.
pub(super) async fn live_uids(store: &SqlStore, before: i64) -> Result<Vec<String>> {
    let sql =
        Sql::new("SELECT uid FROM workflows WHERE live = 1 AND resource_version < ?").arg(before);
    let rows = store.reader.rows(sql).await?;
    rows.iter().map(|r| r.first_text()).collect()
}

/// The store's resource version now (what the next write exceeds).
pub(super) async fn version_now(store: &SqlStore) -> Result<i64> {
    let sql = Sql::new("SELECT value FROM counters WHERE name = 'resource_version'");
    store
        .reader
        .row(sql)
        .await?
        .ok_or_else(|| StoreError::invalid("database", "the resource_version counter is missing"))?
        .first_int()
}
