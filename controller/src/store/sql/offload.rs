//! Offloaded node status (Argo's): the nodes of a workflow too large for its API object even
//! compressed, one row per version, found by the version the object names. When a new version
//! is written, the others written more than [`KEEP_OLD`] ago are dropped — except the one the
//! object names until the new one is in it (its status write may still lose a conflict) — and
//! all of a workflow's when it is forgotten.

use chrono::{Duration, Utc};

use super::SqlStore;
use super::db::Sql;
use crate::store::error::Result;
use crate::store::identity::format_time;

/// How long an older version of a workflow's nodes stays readable.
const KEEP_OLD: Duration = Duration::minutes(5);

/// Stores a version of a workflow's nodes (as JSON), keeping `current` (the version the object
/// names now); writing one that is stored is no error.
pub(super) async fn put(
    store: &SqlStore,
    uid: &str,
    version: &str,
    nodes: &str,
    current: Option<&str>,
) -> Result<()> {
    let now = Utc::now();
    let mut tx = store.begin_write().await?;
    let sql = Sql::new(
        "INSERT INTO offloaded_nodes (uid, version, nodes, updated_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (uid, version) DO UPDATE SET updated_at = excluded.updated_at",
    )
    .arg(uid)
    .arg(version)
    .arg(nodes)
    .arg(format_time(now));
    tx.run(sql).await?;
    let sql = Sql::new(
        "DELETE FROM offloaded_nodes WHERE uid = ? AND version <> ? AND version <> ? \
         AND updated_at < ?",
    )
    .arg(uid)
    .arg(version)
    .arg(current.unwrap_or(version))
    .arg(format_time(now - KEEP_OLD));
    tx.run(sql).await?;
    tx.commit().await
}

/// A stored version of a workflow's nodes (JSON), if there is one.
pub(super) async fn get(store: &SqlStore, uid: &str, version: &str) -> Result<Option<String>> {
    let sql = Sql::new("SELECT nodes FROM offloaded_nodes WHERE uid = ? AND version = ?")
        .arg(uid)
        .arg(version);
    store
        .reader
        .row(sql)
        .await?
        .map(|r| r.first_text())
        .transpose()
}

/// Forgets every version of a workflow's nodes.
pub(super) async fn forget(tx: &mut super::db::Tx, uid: &str) -> Result<()> {
    tx.run(Sql::new("DELETE FROM offloaded_nodes WHERE uid = ?").arg(uid))
        .await?;
    Ok(())
}
