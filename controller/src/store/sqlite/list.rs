//! Listing workflows on SQLite: a query's filters as SQL, newest first, with keyset pagination on
//! `seq` (the version at creation), so a page deep in a long history costs what the first one does.

use chrono::{DateTime, Duration, Utc};
use engine::model::Workflow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::SqliteStore;
use super::workflows::decode;
use crate::store::error::Result;
use crate::store::identity::{decode_continue, encode_continue, format_time};
use crate::store::selector::{Operator, Requirement};
use crate::store::types::{Page, Scope, WorkflowQuery};

/// One page of the workflows matching `query`.
pub(super) async fn list(store: &SqliteStore, query: &WorkflowQuery) -> Result<Page<Workflow>> {
    let after = query
        .continue_token
        .as_deref()
        .map(decode_continue)
        .transpose()?;
    let limit = query.limit.filter(|l| *l > 0);
    let mut sql = QueryBuilder::<Sqlite>::new("SELECT w.seq, w.body FROM workflows w WHERE 1 = 1");
    push_filters(&mut sql, query, after);
    sql.push(" ORDER BY w.seq DESC");
    if let Some(limit) = limit {
        // One more than asked: its presence says whether there is a next page.
        sql.push(" LIMIT ").push_bind(i64::from(limit) + 1);
    }
    let rows = sql.build().fetch_all(&store.reader).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut last_seq = None;
    for row in rows.iter().take(limit.map_or(usize::MAX, |l| l as usize)) {
        let body: String = row.try_get("body")?;
        items.push(decode(&body)?);
        last_seq = Some(row.try_get::<i64, _>("seq")?);
    }
    let more = limit.is_some_and(|l| rows.len() > l as usize);
    Ok(Page {
        items,
        continue_token: last_seq.filter(|_| more).map(encode_continue),
    })
}

/// The distinct label keys of archived workflows (of one namespace or all).
pub(super) async fn archived_label_keys(
    store: &SqliteStore,
    namespace: Option<&str>,
) -> Result<Vec<String>> {
    let mut sql = QueryBuilder::<Sqlite>::new(
        "SELECT DISTINCT l.key FROM workflow_labels l JOIN workflows w ON w.uid = l.uid \
         WHERE w.archived = 1",
    );
    if let Some(ns) = namespace {
        sql.push(" AND w.namespace = ").push_bind(ns.to_string());
    }
    sql.push(" ORDER BY l.key");
    Ok(sql.build_query_scalar().fetch_all(&store.reader).await?)
}

/// The distinct values of one label among archived workflows (of one namespace or all).
pub(super) async fn archived_label_values(
    store: &SqliteStore,
    key: &str,
    namespace: Option<&str>,
) -> Result<Vec<String>> {
    let mut sql = QueryBuilder::<Sqlite>::new(
        "SELECT DISTINCT l.value FROM workflow_labels l JOIN workflows w ON w.uid = l.uid \
         WHERE w.archived = 1 AND l.key = ",
    );
    sql.push_bind(key.to_string());
    if let Some(ns) = namespace {
        sql.push(" AND w.namespace = ").push_bind(ns.to_string());
    }
    sql.push(" ORDER BY l.value");
    Ok(sql.build_query_scalar().fetch_all(&store.reader).await?)
}

/// Appends ` AND …` for every filter of the query.
fn push_filters(sql: &mut QueryBuilder<Sqlite>, query: &WorkflowQuery, after: Option<i64>) {
    match query.scope {
        Scope::Live => {
            sql.push(" AND w.live = 1");
        }
        Scope::Archived => {
            sql.push(" AND w.archived = 1");
        }
        Scope::All => {}
    }
    if let Some(seq) = after {
        sql.push(" AND w.seq < ").push_bind(seq);
    }
    if let Some(namespace) = &query.namespace {
        sql.push(" AND w.namespace = ").push_bind(namespace.clone());
    }
    if let Some(key) = &query.template_key {
        sql.push(" AND w.template_key = ").push_bind(key.clone());
    }
    if !query.phases.is_empty() {
        sql.push(" AND w.phase IN (");
        let mut phases = sql.separated(", ");
        for phase in &query.phases {
            phases.push_bind(phase.as_str());
        }
        sql.push(")");
    }
    if let Some(text) = &query.name_contains {
        sql.push(" AND instr(w.name, ")
            .push_bind(text.clone())
            .push(") > 0");
    }
    if let Some(name) = &query.name {
        sql.push(" AND w.name = ").push_bind(name.clone());
    }
    if let Some(prefix) = &query.name_prefix {
        sql.push(" AND substr(w.name, 1, length(")
            .push_bind(prefix.clone())
            .push(")) = ")
            .push_bind(prefix.clone());
    }
    if let Some(t) = query.finished_before {
        sql.push(" AND w.finished_at IS NOT NULL AND w.finished_at < ")
            .push_bind(stored_bound(t));
    }
    if let Some(t) = query.created_after {
        sql.push(" AND w.created_at >= ").push_bind(stored_bound(t));
    }
    if let Some(t) = query.created_before {
        sql.push(" AND w.created_at < ").push_bind(stored_bound(t));
    }
    for requirement in query.labels.requirements() {
        push_requirement(sql, requirement);
    }
}

/// A time bound compared with whole-second creation times: rounded up, which keeps both
/// `created_at >= t` and `created_at < t` exact.
fn stored_bound(t: DateTime<Utc>) -> String {
    let floor = DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t);
    let bound = if floor < t {
        floor + Duration::seconds(1)
    } else {
        floor
    };
    format_time(bound)
}

/// Appends one label requirement: `w.uid [NOT] IN (labels matching)`.
fn push_requirement(sql: &mut QueryBuilder<Sqlite>, r: &Requirement) {
    let negated = matches!(
        r.op,
        Operator::NotEquals | Operator::NotIn | Operator::DoesNotExist
    );
    sql.push(if negated {
        " AND w.uid NOT IN"
    } else {
        " AND w.uid IN"
    });
    sql.push(" (SELECT uid FROM workflow_labels WHERE key = ")
        .push_bind(r.key.clone());
    match r.op {
        Operator::Equals | Operator::NotEquals | Operator::In | Operator::NotIn => {
            sql.push(" AND value IN (");
            let mut values = sql.separated(", ");
            for value in &r.values {
                values.push_bind(value.clone());
            }
            sql.push(")");
        }
        Operator::Exists | Operator::DoesNotExist => {}
        Operator::GreaterThan | Operator::LessThan => {
            // Only values that are integers (as Go's ParseInt reads them) compare.
            sql.push(
                " AND value <> '' AND value NOT GLOB '*[^0-9]*' \
                 AND (length(ltrim(value, '0')) < 19 OR (length(ltrim(value, '0')) = 19 \
                 AND ltrim(value, '0') <= '9223372036854775807')) AND CAST(value AS INTEGER) ",
            );
            sql.push(if r.op == Operator::GreaterThan {
                "> "
            } else {
                "< "
            });
            sql.push_bind(r.integer_operand().unwrap_or_default());
        }
    }
    sql.push(")");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds_round_up_to_whole_seconds() {
        let cases = [
            ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
            ("2024-01-01T00:00:00.001Z", "2024-01-01T00:00:01Z"),
            ("2024-01-01T23:59:59.5+00:00", "2024-01-02T00:00:00Z"),
        ];
        for (given, want) in cases {
            let t = DateTime::parse_from_rfc3339(given)
                .unwrap()
                .with_timezone(&Utc);
            assert_eq!(stored_bound(t), want, "{given}");
        }
    }
}
