//! Step claims (starting a node attempt at most once), the memoization cache and the append-only
//! event log, on SQLite.

use chrono::Utc;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, is_foreign_key_violation};
use crate::store::error::{Result, StoreError};
use crate::store::identity::{format_time, parse_time};
use crate::store::types::{Event, MemoEntry, StepClaim};

/// Claims a node attempt: `true` only for the statement that inserts the row.
pub(super) async fn claim(
    store: &SqliteStore,
    uid: &str,
    node_id: &str,
    attempt_key: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO step_claims (workflow_uid, node_id, attempt_key, claimed_at) \
         VALUES (?, ?, ?, ?) ON CONFLICT (workflow_uid, node_id, attempt_key) DO NOTHING",
    )
    .bind(uid)
    .bind(node_id)
    .bind(attempt_key)
    .bind(format_time(Utc::now()))
    .execute(&store.writer)
    .await
    .map_err(|e| match is_foreign_key_violation(&e) {
        true => StoreError::not_found("workflow", "", uid),
        false => e.into(),
    })?;
    Ok(done.rows_affected() == 1)
}

/// Forgets every claim of the given nodes of a workflow (all attempts); returns how many.
pub(super) async fn release(store: &SqliteStore, uid: &str, node_ids: &[String]) -> Result<u64> {
    let mut tx = store.writer.begin().await?;
    let mut n = 0;
    for id in node_ids {
        n += sqlx::query("DELETE FROM step_claims WHERE workflow_uid = ? AND node_id = ?")
            .bind(uid)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(n)
}

/// Records the process started for a claimed attempt.
pub(super) async fn record_pid(
    store: &SqliteStore,
    uid: &str,
    node_id: &str,
    attempt_key: &str,
    pid: i64,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE step_claims SET pid = ? \
         WHERE workflow_uid = ? AND node_id = ? AND attempt_key = ?",
    )
    .bind(pid)
    .bind(uid)
    .bind(node_id)
    .bind(attempt_key)
    .execute(&store.writer)
    .await?;
    match done.rows_affected() {
        0 => Err(StoreError::not_found(
            "step claim",
            "",
            &format!("{uid}/{node_id}/{attempt_key}"),
        )),
        _ => Ok(()),
    }
}

/// Every claim of a workflow, in the order they were taken.
pub(super) async fn claims(store: &SqliteStore, uid: &str) -> Result<Vec<StepClaim>> {
    let rows = sqlx::query(
        "SELECT node_id, attempt_key, claimed_at, pid FROM step_claims \
         WHERE workflow_uid = ? ORDER BY rowid",
    )
    .bind(uid)
    .fetch_all(&store.reader)
    .await?;
    rows.iter()
        .map(|row| {
            let claimed_at: String = row.try_get("claimed_at")?;
            Ok(StepClaim {
                node_id: row.try_get("node_id")?,
                attempt_key: row.try_get("attempt_key")?,
                claimed_at: parse_time(&claimed_at)?,
                pid: row.try_get("pid")?,
            })
        })
        .collect()
}

/// Where a memoized result lives.
pub(super) struct MemoKey<'a> {
    /// The workflow's namespace.
    pub(super) namespace: &'a str,
    /// The cache's name (Argo's `memoize.cache.configMap.name`).
    pub(super) cache_name: &'a str,
    /// The key (Argo's `memoize.key`, resolved).
    pub(super) key: &'a str,
}

/// Reads a memo row (`node_id, outputs, created_at`).
fn memo_from_row(row: &SqliteRow) -> Result<MemoEntry> {
    let outputs: String = row.try_get("outputs")?;
    let created_at: String = row.try_get("created_at")?;
    Ok(MemoEntry {
        outputs: serde_json::from_str(&outputs)?,
        node_id: row.try_get("node_id")?,
        created_at: parse_time(&created_at)?,
    })
}

/// The memoized outputs under a key, if any.
pub(super) async fn memo_get(
    store: &SqliteStore,
    namespace: &str,
    cache_name: &str,
    key: &str,
) -> Result<Option<MemoEntry>> {
    let row = sqlx::query(
        "SELECT node_id, outputs, created_at FROM memo_entries \
         WHERE namespace = ? AND cache_name = ? AND key = ?",
    )
    .bind(namespace)
    .bind(cache_name)
    .bind(key)
    .fetch_optional(&store.reader)
    .await?;
    row.as_ref().map(memo_from_row).transpose()
}

/// Stores or replaces memoized outputs; returns what is now stored.
pub(super) async fn memo_put(
    store: &SqliteStore,
    at: &MemoKey<'_>,
    node_id: &str,
    outputs: &serde_json::Value,
) -> Result<MemoEntry> {
    let row = sqlx::query(
        "INSERT INTO memo_entries (namespace, cache_name, key, node_id, outputs, created_at) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (namespace, cache_name, key) DO UPDATE SET \
         node_id = excluded.node_id, outputs = excluded.outputs, created_at = excluded.created_at \
         RETURNING node_id, outputs, created_at",
    )
    .bind(at.namespace)
    .bind(at.cache_name)
    .bind(at.key)
    .bind(node_id)
    .bind(serde_json::to_string(outputs)?)
    .bind(format_time(Utc::now()))
    .fetch_one(&store.writer)
    .await?;
    memo_from_row(&row)
}

/// Appends an event; returns its id.
pub(super) async fn append_event(
    store: &SqliteStore,
    uid: &str,
    kind: &str,
    body: &serde_json::Value,
) -> Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO workflow_events (workflow_uid, kind, at, body) VALUES (?, ?, ?, ?) \
         RETURNING id",
    )
    .bind(uid)
    .bind(kind)
    .bind(format_time(Utc::now()))
    .bind(serde_json::to_string(body)?)
    .fetch_one(&store.writer)
    .await?;
    Ok(id)
}

/// A workflow's events, oldest first.
pub(super) async fn events(store: &SqliteStore, uid: &str) -> Result<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT id, kind, at, body FROM workflow_events WHERE workflow_uid = ? ORDER BY id",
    )
    .bind(uid)
    .fetch_all(&store.reader)
    .await?;
    rows.iter()
        .map(|row| {
            let at: String = row.try_get("at")?;
            let body: String = row.try_get("body")?;
            Ok(Event {
                id: row.try_get("id")?,
                kind: row.try_get("kind")?,
                at: parse_time(&at)?,
                body: serde_json::from_str(&body)?,
            })
        })
        .collect()
}
