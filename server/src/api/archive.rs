//! Argo's ArchivedWorkflowService: the finished workflows kept in the archive (whether or not
//! their live object is still there), by uid — list, get, delete, label keys and values, retry
//! (the workflow becomes live again) and resubmit.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, put};
use controller::store::{Scope, Store};
use serde::Deserialize;
use serde_json::{Value, json};

use super::body::JsonBody;
use super::error::{ApiError, ApiResult};
use super::operations::{OpRequest, resubmit_from, retry_live};
use super::workflows::{ListQuery, to_json, workflow_query};
use super::{ApiState, fields};
use crate::auth::{Caller, guard};
use engine::access::Action;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/archived-workflows", get(list))
        .route("/api/v1/archived-workflows/", get(list))
        .route(
            "/api/v1/archived-workflows/{uid}",
            get(get_one).delete(delete),
        )
        .route("/api/v1/archived-workflows/{uid}/retry", put(retry))
        .route("/api/v1/archived-workflows/{uid}/resubmit", put(resubmit))
        .route("/api/v1/archived-workflows-label-keys", get(label_keys))
        .route("/api/v1/archived-workflows-label-values", get(label_values))
}

/// Query of the archived list (Argo's `ListArchivedWorkflowsRequest`).
#[derive(Debug, Default, Deserialize)]
struct ArchiveQuery {
    #[serde(default)]
    namespace: String,
    #[serde(rename = "namePrefix", default)]
    name_prefix: String,
    #[serde(rename = "nameFilter", default)]
    name_filter: String,
    #[serde(rename = "listOptions.labelSelector", default)]
    label_selector: String,
    #[serde(rename = "listOptions.fieldSelector", default)]
    field_selector: String,
    #[serde(rename = "listOptions.limit", default)]
    limit: Option<String>,
    #[serde(rename = "listOptions.continue", default)]
    continue_token: String,
    #[serde(default)]
    fields: String,
}

/// Lists archived workflows, newest first; like Argo's archive, without their node maps.
async fn list(
    State(s): State<ApiState>,
    caller: Caller,
    Query(q): Query<ArchiveQuery>,
) -> ApiResult<Json<Value>> {
    let lq = ListQuery {
        label_selector: q.label_selector,
        field_selector: q.field_selector,
        limit: q.limit,
        continue_token: q.continue_token,
        name_filter: q.name_filter,
        ..Default::default()
    };
    let mut query = workflow_query(Some(q.namespace), &lq)?;
    query.scope = Scope::Archived;
    if !q.name_prefix.is_empty() {
        query.name_prefix = Some(q.name_prefix);
    }
    let page = s.backend.store().list_workflows(&query).await?;
    let items = guard::readable_workflows(&s, &caller, page.items).await;
    let body = json!({
        "metadata": {"continue": page.continue_token.unwrap_or_default(), "resourceVersion": ""},
        "items": items,
    });
    let mask = if q.fields.is_empty() {
        "-items.status.nodes"
    } else {
        q.fields.as_str()
    };
    Ok(Json(fields::apply(body, mask)))
}

/// The archived workflow of a uid (404 for one that is not archived), if `caller` may do
/// `action` on it.
async fn archived(
    s: &ApiState,
    caller: &Caller,
    action: Action,
    uid: &str,
) -> ApiResult<engine::model::Workflow> {
    let wf = s.backend.store().get_archived_workflow(uid).await?;
    guard::check_workflow(s, caller, action, &wf).await?;
    Ok(wf)
}

async fn get_one(
    State(s): State<ApiState>,
    caller: Caller,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(to_json(
        &archived(&s, &caller, Action::Read, &uid).await?,
    )))
}

async fn delete(
    State(s): State<ApiState>,
    caller: Caller,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let wf = archived(&s, &caller, Action::Delete, &uid).await?;
    if s.backend.is_kubernetes() && still_in_cluster(&s, &wf).await {
        // The copy of a live object would be archived again at its next change.
        return Err(ApiError::FailedPrecondition(
            "the workflow is still in the cluster: delete it first (DELETE /api/v1/workflows/NS/NAME)"
                .into(),
        ));
    }
    s.backend.store().delete_archived_workflow(&uid).await?;
    Ok(Json(json!({})))
}

/// Whether the cluster still holds the workflow (its live copy is the archived one).
async fn still_in_cluster(s: &ApiState, wf: &engine::model::Workflow) -> bool {
    let meta = wf.metadata.as_ref();
    let (ns, name) = (
        meta.and_then(|m| m.namespace.as_deref())
            .unwrap_or_default(),
        meta.and_then(|m| m.name.as_deref()).unwrap_or_default(),
    );
    s.backend
        .store()
        .get_workflow(ns, name)
        .await
        .is_ok_and(|live| live.metadata.and_then(|m| m.uid) == meta.and_then(|m| m.uid.clone()))
}

async fn retry(
    State(s): State<ApiState>,
    caller: Caller,
    Path(uid): Path<String>,
    JsonBody(req): JsonBody<OpRequest>,
) -> ApiResult<Json<Value>> {
    let old = archived(&s, &caller, Action::Retry, &uid).await?;
    // Refused retries must not leave the workflow live: check before reviving it.
    super::operations::retry_options(&req).and_then(|opts| {
        engine::ops::retry(&old, &opts).map_err(|e| ApiError::FailedPrecondition(e.to_string()))
    })?;
    if s.backend.is_kubernetes() {
        // Only what the cluster still holds can run again there; a deleted one is resubmitted.
        if !still_in_cluster(&s, &old).await {
            return Err(ApiError::FailedPrecondition(
                "the workflow is no longer in the cluster: resubmit it instead \
                 (PUT /api/v1/archived-workflows/UID/resubmit)"
                    .into(),
            ));
        }
        return retry_live(&s, &caller, &old, &req).await;
    }
    let wf = s.backend.store().revive_workflow(&uid).await?;
    retry_live(&s, &caller, &wf, &req).await
}

async fn resubmit(
    State(s): State<ApiState>,
    caller: Caller,
    Path(uid): Path<String>,
    JsonBody(req): JsonBody<OpRequest>,
) -> ApiResult<Json<Value>> {
    let old = archived(&s, &caller, Action::Read, &uid).await?;
    resubmit_from(&s, &caller, &old, &req).await
}

/// Query of the label lookups.
#[derive(Debug, Default, Deserialize)]
struct LabelQuery {
    #[serde(default)]
    namespace: String,
    /// For values: the label key.
    #[serde(rename = "listOptions.labelSelector", default)]
    label_selector: String,
}

fn namespace(q: &LabelQuery) -> Option<&str> {
    Some(q.namespace.as_str()).filter(|n| !n.is_empty())
}

/// Label keys and values of the archive: asked for a namespace the caller sees nothing in,
/// they are empty.
fn hidden(s: &ApiState, caller: &Caller, q: &LabelQuery) -> bool {
    namespace(q).is_some_and(|ns| !s.auth().sees_namespace(caller, ns))
}

async fn label_keys(
    State(s): State<ApiState>,
    caller: Caller,
    Query(q): Query<LabelQuery>,
) -> ApiResult<Json<Value>> {
    if hidden(&s, &caller, &q) {
        return Ok(Json(json!({"items": []})));
    }
    let keys = s.backend.store().archived_label_keys(namespace(&q)).await?;
    Ok(Json(json!({"items": keys})))
}

async fn label_values(
    State(s): State<ApiState>,
    caller: Caller,
    Query(q): Query<LabelQuery>,
) -> ApiResult<Json<Value>> {
    if hidden(&s, &caller, &q) {
        return Ok(Json(json!({"items": []})));
    }
    let key = q.label_selector.trim();
    if key.is_empty() {
        return Err(ApiError::bad(
            "listOptions.labelSelector must name the label key",
        ));
    }
    let values = s
        .backend
        .store()
        .archived_label_values(key, namespace(&q))
        .await?;
    Ok(Json(json!({"items": values})))
}
