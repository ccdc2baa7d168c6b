//! The append-only audit trail in SQL: entries appended with the time of the append, listed
//! newest first by id with keyset pagination, filtered by namespace, workflow, actor and action
//! (each filter has its `(column, id)` index).

use chrono::Utc;

use super::SqlStore;
use super::db::{Row, Sql};
use crate::store::error::{Result, StoreError};
use crate::store::identity::{decode_continue, encode_continue, format_time, parse_time};
use crate::store::types::{AuditAction, AuditEntry, AuditQuery, NewAudit, Page};

const COLUMNS: &str = "id, at, actor, actor_groups, action, namespace, workflow_name, \
     workflow_uid, template_key, node_id, node_display_name, values_json, comment";

/// Appends an entry; returns it as stored.
pub(super) async fn append(store: &SqlStore, e: &NewAudit) -> Result<AuditEntry> {
    let sql = Sql::new(format!(
        "INSERT INTO audit (at, actor, actor_groups, action, namespace, workflow_name, \
         workflow_uid, template_key, node_id, node_display_name, values_json, comment) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
    ))
    .arg(format_time(Utc::now()))
    .arg(&e.actor)
    .arg(serde_json::to_string(&e.actor_groups)?)
    .arg(e.action.as_str())
    .arg(&e.namespace)
    .arg(&e.workflow_name)
    .arg(&e.workflow_uid)
    .arg(&e.template_key)
    .arg(&e.node_id)
    .arg(&e.node_display_name)
    .arg(serde_json::to_string(&e.values)?)
    .arg(&e.comment);
    let row = store.writer.row(sql).await?;
    decode(&row.ok_or_else(|| StoreError::invalid("audit entry", "nothing was stored"))?)
}

/// One page of the entries matching `q`, newest first.
pub(super) async fn list(store: &SqlStore, q: &AuditQuery) -> Result<Page<AuditEntry>> {
    let mut sql = Sql::new(format!("SELECT {COLUMNS} FROM audit WHERE 1 = 1"));
    if let Some(token) = &q.continue_token {
        sql.push(" AND id < ").push_arg(decode_continue(token)?);
    }
    for (column, value) in [
        ("namespace", &q.namespace),
        ("workflow_uid", &q.workflow_uid),
        ("actor", &q.actor),
    ] {
        if let Some(v) = value {
            sql.push(&format!(" AND {column} = ")).push_arg(v);
        }
    }
    if let Some(a) = q.action {
        sql.push(" AND action = ").push_arg(a.as_str());
    }
    sql.push(" ORDER BY id DESC");
    let limit = q.limit.filter(|l| *l > 0);
    if let Some(limit) = limit {
        // One more than asked: its presence says whether there is a next page.
        sql.push(" LIMIT ").push_arg(i64::from(limit) + 1);
    }
    let rows = store.reader.rows(sql).await?;
    let more = limit.is_some_and(|l| rows.len() > l as usize);
    let items = rows
        .iter()
        .take(limit.map_or(usize::MAX, |l| l as usize))
        .map(decode)
        .collect::<Result<Vec<_>>>()?;
    let continue_token = items.last().filter(|_| more).map(|e| encode_continue(e.id));
    Ok(Page {
        items,
        continue_token,
    })
}

fn decode(row: &Row) -> Result<AuditEntry> {
    let action = row.text("action")?;
    Ok(AuditEntry {
        id: row.int("id")?,
        at: parse_time(&row.text("at")?)?,
        actor: row.text("actor")?,
        actor_groups: serde_json::from_str(&row.text("actor_groups")?)?,
        action: AuditAction::parse(&action).ok_or_else(|| {
            StoreError::invalid("audit entry", format!("unknown action {action:?}"))
        })?,
        namespace: row.text("namespace")?,
        workflow_name: row.text("workflow_name")?,
        workflow_uid: row.text("workflow_uid")?,
        template_key: row.opt_text("template_key")?,
        node_id: row.opt_text("node_id")?,
        node_display_name: row.opt_text("node_display_name")?,
        values: serde_json::from_str(&row.text("values_json")?)?,
        comment: row.opt_text("comment")?,
    })
}
