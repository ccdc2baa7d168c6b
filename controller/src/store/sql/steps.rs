//! Step claims (starting a node attempt at most once), the memoization cache and the append-only
//! event log, in SQL.

use super::db::{Row, Sql};
use super::{SqlStore, is_foreign_key_violation};
use crate::store::error::{Result, StoreError};
use crate::store::identity::{format_time, parse_time};
use crate::store::types::{Event, MemoEntry, StepClaim};
use chrono::Utc;

/// Claims a node attempt: `true` only for the statement that inserts the row.
pub(super) async fn claim(
    store: &SqlStore,
    uid: &str,
    node_id: &str,
    attempt_key: &str,
) -> Result<bool> {
    let sql = Sql::new(
        "INSERT INTO step_claims (workflow_uid, node_id, attempt_key, claimed_at) \
         VALUES (?, ?, ?, ?) ON CONFLICT (workflow_uid, node_id, attempt_key) DO NOTHING",
    )
    .arg(uid)
    .arg(node_id)
    .arg(attempt_key)
    .arg(format_time(Utc::now()));
    let inserted =
        store
            .writer
            .run_raw(sql)
            .await
            .map_err(|e| match is_foreign_key_violation(&e) {
                true => StoreError::not_found("workflow", "", uid),
                false => e.into(),
            })?;
    Ok(inserted == 1)
}

/// Forgets every claim of the given nodes of a workflow (all attempts); returns how many.
pub(super) async fn release(store: &SqlStore, uid: &str, node_ids: &[String]) -> Result<u64> {
    let mut tx = store.begin_write().await?;
    let mut n = 0;
    for id in node_ids {
        let sql = Sql::new("DELETE FROM step_claims WHERE workflow_uid = ? AND node_id = ?")
            .arg(uid)
            .arg(id);
        n += tx.run(sql).await?;
    }
    tx.commit().await?;
    Ok(n)
}

/// Records the process started for a claimed attempt.
pub(super) async fn record_pid(
    store: &SqlStore,
    uid: &str,
    node_id: &str,
    attempt_key: &str,
    pid: i64,
) -> Result<()> {
    let sql = Sql::new(
        "UPDATE step_claims SET pid = ? \
         WHERE workflow_uid = ? AND node_id = ? AND attempt_key = ?",
    )
    .arg(pid)
    .arg(uid)
    .arg(node_id)
    .arg(attempt_key);
    match store.writer.run(sql).await? {
        0 => Err(StoreError::not_found(
            "step claim",
            "",
            &format!("{uid}/{node_id}/{attempt_key}"),
        )),
        _ => Ok(()),
    }
}

/// Every claim of a workflow, in the order they were taken.
pub(super) async fn claims(store: &SqlStore, uid: &str) -> Result<Vec<StepClaim>> {
    let sql = Sql::new(format!(
        "SELECT node_id, attempt_key, claimed_at, pid FROM step_claims \
         WHERE workflow_uid = ? ORDER BY {}",
        store.dialect.claim_order()
    ))
    .arg(uid);
    let rows = store.reader.rows(sql).await?;
    rows.iter()
        .map(|row| {
            Ok(StepClaim {
                node_id: row.text("node_id")?,
                attempt_key: row.text("attempt_key")?,
                claimed_at: parse_time(&row.text("claimed_at")?)?,
                pid: row.opt_int("pid")?,
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
fn memo_from_row(row: &Row) -> Result<MemoEntry> {
    Ok(MemoEntry {
        outputs: serde_json::from_str(&row.text("outputs")?)?,
        node_id: row.text("node_id")?,
        created_at: parse_time(&row.text("created_at")?)?,
    })
}

/// The memoized outputs under a key, if any.
pub(super) async fn memo_get(
    store: &SqlStore,
    namespace: &str,
    cache_name: &str,
    key: &str,
) -> Result<Option<MemoEntry>> {
    let sql = Sql::new(
        "SELECT node_id, outputs, created_at FROM memo_entries \
         WHERE namespace = ? AND cache_name = ? AND key = ?",
    )
    .arg(namespace)
    .arg(cache_name)
    .arg(key);
    let row = store.reader.row(sql).await?;
    row.as_ref().map(memo_from_row).transpose()
}

/// Stores or replaces memoized outputs; returns what is now stored.
pub(super) async fn memo_put(
    store: &SqlStore,
    at: &MemoKey<'_>,
    node_id: &str,
    outputs: &serde_json::Value,
) -> Result<MemoEntry> {
    let sql = Sql::new(
        "INSERT INTO memo_entries (namespace, cache_name, key, node_id, outputs, created_at) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (namespace, cache_name, key) DO UPDATE SET \
         node_id = excluded.node_id, outputs = excluded.outputs, created_at = excluded.created_at \
         RETURNING node_id, outputs, created_at",
    )
    .arg(at.namespace)
    .arg(at.cache_name)
    .arg(at.key)
    .arg(node_id)
    .arg(serde_json::to_string(outputs)?)
    .arg(format_time(Utc::now()));
    let row = store.writer.row(sql).await?;
    memo_from_row(&row.ok_or_else(|| StoreError::invalid("memo entry", "nothing was stored"))?)
}

/// Appends an event; returns its id.
pub(super) async fn append_event(
    store: &SqlStore,
    uid: &str,
    kind: &str,
    body: &serde_json::Value,
) -> Result<i64> {
    let sql = Sql::new(
        "INSERT INTO workflow_events (workflow_uid, kind, at, body) VALUES (?, ?, ?, ?) \
         RETURNING id",
    )
    .arg(uid)
    .arg(kind)
    .arg(format_time(Utc::now()))
    .arg(serde_json::to_string(body)?);
    let row = store.writer.row(sql).await?;
    row.ok_or_else(|| StoreError::invalid("event", "nothing was stored"))?
        .first_int()
}

/// A workflow's events, oldest first.
pub(super) async fn events(store: &SqlStore, uid: &str) -> Result<Vec<Event>> {
    let sql = Sql::new(
        "SELECT id, kind, at, body FROM workflow_events WHERE workflow_uid = ? ORDER BY id",
    )
    .arg(uid);
    let rows = store.reader.rows(sql).await?;
    rows.iter()
        .map(|row| {
            Ok(Event {
                id: row.int("id")?,
                kind: row.text("kind")?,
                at: parse_time(&row.text("at")?)?,
                body: serde_json::from_str(&row.text("body")?)?,
            })
        })
        .collect()
}
