//! Listing workflows in SQL: a query's filters as SQL, newest first, with keyset pagination on
//! `seq` (the version at creation), so a page deep in a long history costs what the first one does.
//! A query with a label requirement of one value walks that label's rows (which repeat `seq` and
//! the template key) instead of the workflows, so a rare label does not mean a long scan.
//! The other orders (by name, longest first) page on `(name, seq)` and `(duration_ms, seq)`, each
//! with an index, their continue tokens holding both.

use super::SqlStore;
use super::db::{Dialect, Sql};
use super::workflows::decode;
use crate::store::StoreError;
use crate::store::error::Result;
use crate::store::identity::{TOKEN_PREFIX, decode_continue, encode_continue, format_time};
use crate::store::selector::{Operator, Requirement};
use crate::store::types::{Order, Page, Scope, WorkflowQuery};
use chrono::{DateTime, Duration, Utc};
use engine::model::Workflow;

/// One page of the workflows matching `query`.
pub(super) async fn list(store: &SqlStore, query: &WorkflowQuery) -> Result<Page<Workflow>> {
    if query.order != Order::Newest {
        return list_sorted(store, query).await;
    }
    let after = query
        .continue_token
        .as_deref()
        .map(decode_continue)
        .transpose()?;
    let limit = query.limit.filter(|l| *l > 0);
    let driver = driving_label(query);
    let mut sql = match driver {
        // The label's rows, newest first (of the template, when one is asked for).
        Some(r) => {
            let mut sql = Sql::new(
                "SELECT d.seq AS seq, w.body FROM workflow_labels d \
                 JOIN workflows w ON w.uid = d.uid WHERE d.key = ? AND d.value = ?",
            )
            .arg(&r.key)
            .arg(&r.values[0]);
            if let Some(key) = &query.template_key {
                sql.push(" AND d.template_key = ").push_arg(key);
            }
            if let Some(seq) = after {
                sql.push(" AND d.seq < ").push_arg(seq);
            }
            sql
        }
        None => {
            let mut sql = Sql::new("SELECT w.seq AS seq, w.body FROM workflows w WHERE 1 = 1");
            if let Some(key) = &query.template_key {
                sql.push(" AND w.template_key = ").push_arg(key);
            }
            if let Some(seq) = after {
                sql.push(" AND w.seq < ").push_arg(seq);
            }
            sql
        }
    };
    push_filters(&mut sql, store.dialect, query, driver);
    sql.push(match driver {
        Some(_) => " ORDER BY d.seq DESC",
        None => " ORDER BY w.seq DESC",
    });
    if let Some(limit) = limit {
        // One more than asked: its presence says whether there is a next page.
        sql.push(" LIMIT ").push_arg(i64::from(limit) + 1);
    }
    let rows = store.reader.rows(sql).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut last_seq = None;
    for row in rows.iter().take(limit.map_or(usize::MAX, |l| l as usize)) {
        items.push(decode(&row.text("body")?)?);
        last_seq = Some(row.int("seq")?);
    }
    let more = limit.is_some_and(|l| rows.len() > l as usize);
    Ok(Page {
        items,
        continue_token: last_seq.filter(|_| more).map(encode_continue),
    })
}

/// Where a sorted listing resumes: the last row's sort key and `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SortKey {
    /// By name.
    Name(String),
    /// Longest first; `None` for an unfinished workflow.
    Duration(Option<i64>),
}

/// The continue token of a sorted page: `c1.<order letter><seq hex>:<key>`.
fn encode_sorted(seq: i64, key: &SortKey) -> String {
    let (letter, key) = match key {
        SortKey::Name(n) => ('n', n.clone()),
        SortKey::Duration(d) => ('d', d.map_or_else(|| "-".to_string(), |d| d.to_string())),
    };
    format!("{TOKEN_PREFIX}{letter}{seq:x}:{key}")
}

/// The position a sorted page's token resumes after, checked against the order asked for.
fn decode_sorted(token: &str, order: Order) -> Result<(i64, SortKey)> {
    let bad = || {
        StoreError::invalid(
            "continue token",
            format!("{token:?} was not issued by this store for this order"),
        )
    };
    let rest = token.strip_prefix(TOKEN_PREFIX).ok_or_else(bad)?;
    let (head, key) = rest.split_once(':').ok_or_else(bad)?;
    let mut chars = head.chars();
    let letter = chars.next().ok_or_else(bad)?;
    let seq = i64::from_str_radix(chars.as_str(), 16).map_err(|_| bad())?;
    let key = match (letter, order) {
        ('n', Order::Name) => SortKey::Name(key.to_string()),
        ('d', Order::Longest) if key == "-" => SortKey::Duration(None),
        ('d', Order::Longest) => SortKey::Duration(Some(key.parse().map_err(|_| bad())?)),
        _ => return Err(bad()),
    };
    Ok((seq, key))
}

/// One page of a listing by name or longest first.
async fn list_sorted(store: &SqlStore, query: &WorkflowQuery) -> Result<Page<Workflow>> {
    let after = query
        .continue_token
        .as_deref()
        .map(|t| decode_sorted(t, query.order))
        .transpose()?;
    let limit = query.limit.filter(|l| *l > 0);
    let mut sql = Sql::new(
        "SELECT w.seq AS seq, w.name AS name, w.duration_ms AS duration_ms, w.body FROM workflows w WHERE 1 = 1",
    );
    if let Some(key) = &query.template_key {
        sql.push(" AND w.template_key = ").push_arg(key);
    }
    match &after {
        Some((seq, SortKey::Name(name))) => {
            sql.push(" AND (w.name > ? OR (w.name = ? AND w.seq < ?))")
                .bind(name)
                .bind(name)
                .bind(*seq);
        }
        Some((seq, SortKey::Duration(Some(d)))) => {
            sql.push(
                " AND (w.duration_ms IS NULL OR w.duration_ms < ? OR (w.duration_ms = ? AND w.seq < ?))",
            )
            .bind(*d)
            .bind(*d)
            .bind(*seq);
        }
        Some((seq, SortKey::Duration(None))) => {
            sql.push(" AND w.duration_ms IS NULL AND w.seq < ")
                .push_arg(*seq);
        }
        None => {}
    }
    push_filters(&mut sql, store.dialect, query, None);
    sql.push(match query.order {
        Order::Name => " ORDER BY w.name ASC, w.seq DESC",
        _ => " ORDER BY (w.duration_ms IS NULL), w.duration_ms DESC, w.seq DESC",
    });
    if let Some(limit) = limit {
        sql.push(" LIMIT ").push_arg(i64::from(limit) + 1);
    }
    let rows = store.reader.rows(sql).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut last = None;
    for row in rows.iter().take(limit.map_or(usize::MAX, |l| l as usize)) {
        items.push(decode(&row.text("body")?)?);
        let key = match query.order {
            Order::Name => SortKey::Name(row.text("name")?),
            _ => SortKey::Duration(row.opt_int("duration_ms")?),
        };
        last = Some((row.int("seq")?, key));
    }
    let more = limit.is_some_and(|l| rows.len() > l as usize);
    Ok(Page {
        items,
        continue_token: last
            .filter(|_| more)
            .map(|(seq, key)| encode_sorted(seq, &key)),
    })
}

/// The distinct label keys of archived workflows (of one namespace or all).
pub(super) async fn archived_label_keys(
    store: &SqlStore,
    namespace: Option<&str>,
) -> Result<Vec<String>> {
    let mut sql = Sql::new(
        "SELECT DISTINCT l.key FROM workflow_labels l JOIN workflows w ON w.uid = l.uid \
         WHERE w.archived = 1",
    );
    if let Some(ns) = namespace {
        sql.push(" AND w.namespace = ").push_arg(ns);
    }
    sql.push(" ORDER BY l.key");
    let rows = store.reader.rows(sql).await?;
    rows.iter().map(|r| r.first_text()).collect()
}

/// The distinct values of one label among archived workflows (of one namespace or all).
pub(super) async fn archived_label_values(
    store: &SqlStore,
    key: &str,
    namespace: Option<&str>,
) -> Result<Vec<String>> {
    let mut sql = Sql::new(
        "SELECT DISTINCT l.value FROM workflow_labels l JOIN workflows w ON w.uid = l.uid \
         WHERE w.archived = 1 AND l.key = ?",
    )
    .arg(key);
    if let Some(ns) = namespace {
        sql.push(" AND w.namespace = ").push_arg(ns);
    }
    sql.push(" ORDER BY l.value");
    let rows = store.reader.rows(sql).await?;
    rows.iter().map(|r| r.first_text()).collect()
}

/// The label requirement a listing walks the labels table by: the first that asks for one
/// value (`k=v`, `k in (v)`). Its rows are kept in creation order per label and per label and
/// template, so a page costs the same however rare the label is.
fn driving_label(query: &WorkflowQuery) -> Option<&Requirement> {
    query
        .labels
        .requirements()
        .iter()
        .find(|r| matches!(r.op, Operator::Equals | Operator::In) && r.values.len() == 1)
}

/// Appends ` AND …` for every filter of the query but the template, the continue token and the
/// driving label, which the listing's first clause has.
fn push_filters(
    sql: &mut Sql,
    dialect: Dialect,
    query: &WorkflowQuery,
    driver: Option<&Requirement>,
) {
    match query.scope {
        Scope::Live => {
            sql.push(" AND w.live = 1");
        }
        Scope::Archived => {
            sql.push(" AND w.archived = 1");
        }
        Scope::All => {}
    }
    if let Some(namespace) = &query.namespace {
        sql.push(" AND w.namespace = ").push_arg(namespace);
    }
    if !query.phases.is_empty() {
        sql.push(" AND w.phase IN ")
            .push_list(query.phases.iter().map(|p| p.as_str()));
    }
    if let Some(text) = &query.name_contains {
        sql.push(" AND ")
            .push(&dialect.contains("w.name"))
            .bind(text);
    }
    if let Some(name) = &query.name {
        sql.push(" AND w.name = ").push_arg(name);
    }
    if let Some(prefix) = &query.name_prefix {
        sql.push(" AND substr(w.name, 1, length(?)) = ?")
            .bind(prefix)
            .bind(prefix);
    }
    if let Some(t) = query.finished_before {
        sql.push(" AND w.finished_at IS NOT NULL AND w.finished_at < ")
            .push_arg(stored_bound(t));
    }
    if let Some(t) = query.created_after {
        sql.push(" AND w.created_at >= ").push_arg(stored_bound(t));
    }
    if let Some(t) = query.created_before {
        sql.push(" AND w.created_at < ").push_arg(stored_bound(t));
    }
    for requirement in query.labels.requirements() {
        if !driver.is_some_and(|d| std::ptr::eq(d, requirement)) {
            push_requirement(sql, dialect, requirement);
        }
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

/// Appends one label requirement: `[NOT] EXISTS (the workflow's label matching)`.
fn push_requirement(sql: &mut Sql, dialect: Dialect, r: &Requirement) {
    let negated = matches!(
        r.op,
        Operator::NotEquals | Operator::NotIn | Operator::DoesNotExist
    );
    sql.push(if negated {
        " AND NOT EXISTS"
    } else {
        " AND EXISTS"
    });
    sql.push(" (SELECT 1 FROM workflow_labels WHERE uid = w.uid AND key = ")
        .push_arg(&r.key);
    match r.op {
        Operator::Equals | Operator::NotEquals | Operator::In | Operator::NotIn => {
            sql.push(" AND value IN ").push_list(&r.values);
        }
        Operator::Exists | Operator::DoesNotExist => {}
        Operator::GreaterThan | Operator::LessThan => {
            // Only values that are integers (as Go's ParseInt reads them) compare; the CASE
            // casts nothing else (a WHERE clause's terms may be evaluated in any order).
            sql.push(" AND CASE WHEN ")
                .push(&dialect.all_digits("value"))
                .push(
                    " AND (length(ltrim(value, '0')) < 19 OR (length(ltrim(value, '0')) = 19 \
                     AND ltrim(value, '0') <= '9223372036854775807')) \
                     THEN CAST(value AS BIGINT) END ",
                );
            sql.push(if r.op == Operator::GreaterThan {
                "> "
            } else {
                "< "
            });
            sql.push_arg(r.integer_operand().unwrap_or_default());
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
