//! Approvals and the audit trail under `/api/v1/trellis/` (DESIGN §4), over
//! [`crate::approvals`]:
//!
//! - `PUT /api/v1/trellis/workflows/{ns}/{name}/nodes/{node}/approve` — body
//!   `{"outputParameters": {"k": "v"}, "comment": "…"}`; answers the workflow;
//! - `PUT …/nodes/{node}/reject` — body `{"comment": "…"}` (required); answers the workflow;
//! - `GET /api/v1/trellis/approvals` — `{"items": [pending…], "count": N}`: every waiting step
//!   the caller may approve, oldest first;
//! - `GET /api/v1/trellis/workflows/{ns}/{name}/approvals` — the run's waiting steps, each with
//!   `mayApprove` and `whyNot`;
//! - `GET /api/v1/trellis/audit?namespace=&workflow=<uid>&actor=&action=&limit=&continue=` and
//!   `GET /api/v1/trellis/workflows/{ns}/{name}/audit` — `{"items": [...], "metadata":
//!   {"continue": ""}}`, newest first.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use controller::store::{AuditAction, AuditQuery, Store};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiState;
use super::body::JsonBody;
use super::error::{ApiError, ApiResult};
use super::workflows::to_json;
use crate::approvals;
use crate::auth::{Caller, guard};

/// Entries an audit page holds unless `limit` says otherwise.
const DEFAULT_LIMIT: u32 = 100;
/// Most entries one audit page holds.
const MAX_LIMIT: u32 = 500;

pub(super) fn routes() -> Router<ApiState> {
    let node = "/api/v1/trellis/workflows/{namespace}/{name}/nodes/{node}";
    Router::new()
        .route(&format!("{node}/approve"), put(approve))
        .route(&format!("{node}/reject"), put(reject))
        .route("/api/v1/trellis/approvals", get(inbox))
        .route(
            "/api/v1/trellis/workflows/{namespace}/{name}/approvals",
            get(of_run),
        )
        .route("/api/v1/trellis/audit", get(audit))
        .route(
            "/api/v1/trellis/workflows/{namespace}/{name}/audit",
            get(audit_of_run),
        )
}

/// Body of `…/approve`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ApproveRequest {
    /// Values of the step's supplied outputs; numbers and booleans are taken as their text.
    #[serde(default)]
    output_parameters: serde_json::Map<String, Value>,
    #[serde(default)]
    comment: Option<String>,
}

/// Body of `…/reject`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectRequest {
    #[serde(default)]
    comment: String,
}

type NodePath = Path<(String, String, String)>;

async fn approve(
    State(state): State<ApiState>,
    caller: Caller,
    Path((namespace, name, node)): NodePath,
    JsonBody(req): JsonBody<ApproveRequest>,
) -> ApiResult<Json<Value>> {
    let values = texts(req.output_parameters)?;
    let wf = approvals::approve(
        &state,
        &caller,
        &namespace,
        &name,
        &node,
        values,
        req.comment,
    )
    .await?;
    Ok(Json(to_json(&wf)))
}

async fn reject(
    State(state): State<ApiState>,
    caller: Caller,
    Path((namespace, name, node)): NodePath,
    JsonBody(req): JsonBody<RejectRequest>,
) -> ApiResult<Json<Value>> {
    let wf = approvals::reject(&state, &caller, &namespace, &name, &node, req.comment).await?;
    Ok(Json(to_json(&wf)))
}

/// `{"k": "v", "n": 3}` as text values.
fn texts(map: serde_json::Map<String, Value>) -> ApiResult<BTreeMap<String, String>> {
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            Value::Number(_) | Value::Bool(_) => Ok((k, v.to_string())),
            other => Err(ApiError::bad(format!(
                "outputParameters.{k} must be a string, not {other}"
            ))),
        })
        .collect()
}

async fn inbox(State(state): State<ApiState>, caller: Caller) -> ApiResult<Json<Value>> {
    let items = approvals::inbox(&state, &caller).await?;
    Ok(Json(pending_list(&items)))
}

async fn of_run(
    State(state): State<ApiState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let wf = state
        .backend
        .store()
        .get_workflow(&namespace, &name)
        .await?;
    guard::check_workflow(&state, &caller, engine::access::Action::Read, &wf).await?;
    let items = approvals::pending_for_run(&state, &caller, &wf).await?;
    Ok(Json(pending_list(&items)))
}

fn pending_list(items: &[approvals::Pending]) -> Value {
    json!({"items": items, "count": items.len()})
}

/// The query of an audit listing, as given (read by [`audit_query`]).
type RawQuery = Query<Vec<(String, String)>>;

async fn audit(
    State(state): State<ApiState>,
    caller: Caller,
    Query(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let query = audit_query(&raw, true)?;
    audit_page(&state, &caller, &query).await
}

async fn audit_of_run(
    State(state): State<ApiState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
    Query(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let mut query = audit_query(&raw, false)?;
    let wf = state
        .backend
        .store()
        .get_workflow(&namespace, &name)
        .await?;
    guard::check_workflow(&state, &caller, engine::access::Action::Read, &wf).await?;
    query.workflow_uid = wf.metadata.and_then(|m| m.uid);
    audit_page(&state, &caller, &query).await
}

async fn audit_page(
    state: &ApiState,
    caller: &Caller,
    query: &AuditQuery,
) -> ApiResult<Json<Value>> {
    let page = approvals::audit(state, caller, query).await?;
    Ok(Json(json!({
        "items": page.items,
        "metadata": {"continue": page.continue_token.unwrap_or_default()},
    })))
}

/// Reads `namespace`, `workflow` (a uid), `actor`, `action`, `limit` and `continue`; with
/// `global` false (one run's trail) only `action`, `limit` and `continue`.
fn audit_query(raw: &[(String, String)], global: bool) -> ApiResult<AuditQuery> {
    let mut q = AuditQuery {
        limit: Some(DEFAULT_LIMIT),
        ..Default::default()
    };
    let given = |v: &str| Some(v.to_string()).filter(|v| !v.is_empty());
    for (key, value) in raw {
        match key.as_str() {
            "namespace" if global => q.namespace = given(value),
            "workflow" if global => q.workflow_uid = given(value),
            "actor" if global => q.actor = given(value),
            "action" => q.action = action(value)?,
            "limit" => q.limit = Some(limit(value)?),
            "continue" => q.continue_token = given(value),
            other => {
                let known = if global {
                    "namespace, workflow, actor, action, limit, continue"
                } else {
                    "action, limit, continue"
                };
                return Err(ApiError::bad(format!(
                    "unknown query parameter `{other}`: use {known}"
                )));
            }
        }
    }
    Ok(q)
}

fn action(text: &str) -> ApiResult<Option<AuditAction>> {
    if text.is_empty() {
        return Ok(None);
    }
    AuditAction::parse(text).map(Some).ok_or_else(|| {
        let all: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        ApiError::bad(format!("action {text:?} is not one of {}", all.join(", ")))
    })
}

fn limit(text: &str) -> ApiResult<u32> {
    match text.trim() {
        "" | "0" => Ok(DEFAULT_LIMIT),
        t => t
            .parse::<u32>()
            .map(|l| l.min(MAX_LIMIT))
            .map_err(|_| ApiError::bad(format!("limit must be a whole number, not {text:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn audit_queries_are_read_strictly() {
        let q = audit_query(
            &raw(&[
                ("namespace", "ci"),
                ("workflow", "u1"),
                ("actor", "alice"),
                ("action", "approve"),
                ("limit", "9999"),
                ("continue", "c1.a"),
            ]),
            true,
        )
        .unwrap();
        assert_eq!(q.namespace.as_deref(), Some("ci"));
        assert_eq!(q.workflow_uid.as_deref(), Some("u1"));
        assert_eq!(q.actor.as_deref(), Some("alice"));
        assert_eq!(q.action, Some(AuditAction::Approve));
        assert_eq!(q.limit, Some(MAX_LIMIT));
        assert_eq!(q.continue_token.as_deref(), Some("c1.a"));
        let empty = audit_query(&raw(&[("namespace", ""), ("action", "")]), true).unwrap();
        assert_eq!(
            (empty.namespace, empty.action, empty.limit),
            (None, None, Some(DEFAULT_LIMIT))
        );
        for (pairs, global, says) in [
            (
                vec![("action", "approved")],
                true,
                "action \"approved\" is not one of submit, approve",
            ),
            (
                vec![("limit", "ten")],
                true,
                "limit must be a whole number, not \"ten\"",
            ),
            (
                vec![("colour", "red")],
                true,
                "unknown query parameter `colour`",
            ),
            (vec![("actor", "bob")], false, "use action, limit, continue"),
        ] {
            let err = audit_query(&raw(&pairs), global).unwrap_err().to_string();
            assert!(err.contains(says), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn supplied_values_are_text() {
        let map = serde_json::from_str(r#"{"env": "prod", "n": 3, "ok": true}"#).unwrap();
        let got = texts(map).unwrap();
        assert_eq!(
            (got["env"].as_str(), got["n"].as_str(), got["ok"].as_str()),
            ("prod", "3", "true")
        );
        let bad = serde_json::from_str(r#"{"a": [1]}"#).unwrap();
        assert!(
            texts(bad)
                .unwrap_err()
                .to_string()
                .contains("outputParameters.a must be a string")
        );
    }
}
