//! Argo's WorkflowService: create, list, get, delete, lint, submit (from a WorkflowTemplate,
//! ClusterWorkflowTemplate or CronWorkflow). The operations on one workflow are in
//! `operations`. Every workflow created is labelled with its creator and audited.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use controller::store::{AuditAction, LabelSelector, Store, TemplateKind, WorkflowQuery};
use engine::model::{ClusterWorkflowTemplate, CronWorkflow, Manifest, Workflow, WorkflowTemplate};
use engine::submit::{self, SubmitOptions};
use serde::Deserialize;
use serde_json::{Value, json};

use super::body::JsonBody;
use super::error::{ApiError, ApiResult};
use super::validate::{same_namespace, with_namespace};
use super::watch::{Change, name_of_field_selector};
use super::{ApiState, fields, validate};
use crate::approvals;
use crate::auth::Caller;
use crate::auth::guard;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/workflows/", get(list_all))
        .route("/api/v1/workflows/{namespace}", post(create).get(list))
        .route("/api/v1/workflows/{namespace}/lint", post(lint))
        .route("/api/v1/workflows/{namespace}/submit", post(submit_from))
        .route(
            "/api/v1/workflows/{namespace}/{name}",
            get(get_one).delete(delete),
        )
        .merge(super::operations::routes())
}

/// Body of `POST /api/v1/workflows/{namespace}` (Argo's `WorkflowCreateRequest`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    #[serde(default)]
    namespace: String,
    workflow: Option<Value>,
    #[serde(default)]
    server_dry_run: bool,
    #[serde(default)]
    create_options: Option<CreateOptions>,
}

/// Kubernetes' `CreateOptions`: only `dryRun` matters here.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateOptions {
    #[serde(default)]
    dry_run: Vec<String>,
}

async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    Path(namespace): Path<String>,
    JsonBody(req): JsonBody<CreateRequest>,
) -> ApiResult<Json<Value>> {
    same_namespace(&namespace, &req.namespace)?;
    let mut value = req
        .workflow
        .ok_or_else(|| ApiError::bad("the request has no `workflow`"))?;
    guard::strip_origin_labels(&mut value);
    let dry = req.server_dry_run || req.create_options.is_some_and(|o| !o.dry_run.is_empty());
    let wf = checked_workflow(&state, &namespace, value).await?;
    let wf = start(&state, &caller, wf, dry).await?;
    Ok(Json(to_json(&wf)))
}

/// Lints a workflow for `namespace` with the templates the server holds, and checks that what
/// it references exists.
pub(crate) async fn checked_workflow(
    state: &ApiState,
    namespace: &str,
    value: Value,
) -> ApiResult<Workflow> {
    let value = with_namespace(value, namespace)?;
    let library = super::templates::library(state, Some(namespace), None).await?;
    let Manifest::Workflow(wf) = validate::manifest("Workflow", value, &library)? else {
        return Err(ApiError::bad("the request holds no Workflow"));
    };
    state
        .backend
        .resolve(&wf)
        .await
        .map_err(ApiError::BadRequest)?;
    Ok(wf)
}

/// Stores and starts a checked workflow (or, dry, only shows it) for `caller`, labelled with
/// its creator and audited `submit`.
pub(crate) async fn start(
    state: &ApiState,
    caller: &Caller,
    wf: Workflow,
    dry: bool,
) -> ApiResult<Workflow> {
    start_as(state, caller, wf, dry, AuditAction::Submit, BTreeMap::new()).await
}

/// Stores and starts a checked workflow for `caller` (or, dry, only shows it) if the policy
/// lets them (`submit`, or `resubmit` for a resubmission): it is labelled with its creator
/// (whatever the client sent) and audited as `action` with `values`.
pub(crate) async fn start_as(
    state: &ApiState,
    caller: &Caller,
    mut wf: Workflow,
    dry: bool,
    action: AuditAction,
    values: BTreeMap<String, String>,
) -> ApiResult<Workflow> {
    let needed = match action {
        AuditAction::Resubmit => engine::access::Action::Resubmit,
        _ => engine::access::Action::Submit,
    };
    let namespace = wf
        .metadata
        .as_ref()
        .and_then(|m| m.namespace.clone())
        .unwrap_or_else(|| controller::store::DEFAULT_NAMESPACE.to_owned());
    let target = guard::new_workflow_target(state, &namespace, &wf).await;
    state.auth().check(caller, needed, &target)?;
    let who = &caller.identity;
    who.label_creator(&mut wf);
    if dry {
        return Ok(wf);
    }
    let stored = state.backend.submit(wf).await?;
    state.hub.publish(Change::Added, stored.clone());
    approvals::record(state, who, action, &stored, None, values, None).await?;
    Ok(stored)
}

/// Body of `POST …/lint` (Argo's `WorkflowLintRequest`).
#[derive(Debug, Deserialize)]
struct LintRequest {
    #[serde(default)]
    namespace: String,
    workflow: Option<Value>,
}

async fn lint(
    State(state): State<ApiState>,
    caller: Caller,
    Path(namespace): Path<String>,
    JsonBody(req): JsonBody<LintRequest>,
) -> ApiResult<Json<Value>> {
    same_namespace(&namespace, &req.namespace)?;
    // Linting reads the namespace's templates.
    let target = engine::access::Target::namespace(&namespace);
    state
        .auth()
        .check(&caller, engine::access::Action::Read, &target)?;
    let value = req
        .workflow
        .ok_or_else(|| ApiError::bad("the request has no `workflow`"))?;
    let wf = checked_workflow(&state, &namespace, value).await?;
    Ok(Json(to_json(&wf)))
}

/// Body of `POST …/submit` (Argo's `WorkflowSubmitRequest`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubmitRequest {
    #[serde(default)]
    namespace: String,
    resource_kind: String,
    resource_name: String,
    #[serde(default)]
    submit_options: SubmitOpts,
}

/// Argo's `SubmitOpts`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubmitOpts {
    #[serde(default)]
    parameters: Vec<String>,
    entry_point: Option<String>,
    /// `key=value,key=value`.
    labels: Option<String>,
    /// `key=value,key=value`.
    annotations: Option<String>,
    generate_name: Option<String>,
    name: Option<String>,
    #[serde(default)]
    server_dry_run: bool,
    #[serde(default)]
    dry_run: bool,
}

async fn submit_from(
    State(state): State<ApiState>,
    caller: Caller,
    Path(namespace): Path<String>,
    JsonBody(req): JsonBody<SubmitRequest>,
) -> ApiResult<Json<Value>> {
    same_namespace(&namespace, &req.namespace)?;
    let o = &req.submit_options;
    let opts = SubmitOptions {
        parameters: parameters(&o.parameters)?,
        entrypoint: o.entry_point.clone().filter(|e| !e.is_empty()),
    };
    let kind = template_kind(&req.resource_kind)?;
    let mut wf = from_stored_template(&state, kind, &namespace, &req.resource_name, &opts).await?;
    let meta = wf.metadata.get_or_insert_with(Default::default);
    meta.namespace = Some(namespace.clone());
    if let Some(n) = o.name.clone().filter(|n| !n.is_empty()) {
        meta.name = Some(n);
    }
    if let Some(g) = o.generate_name.clone().filter(|g| !g.is_empty()) {
        meta.generate_name = Some(g);
    }
    for (field, text) in [("labels", &o.labels), ("annotations", &o.annotations)] {
        let pairs = key_values(field, text.as_deref().unwrap_or_default())?;
        let map = if field == "labels" {
            meta.labels.get_or_insert_with(Default::default)
        } else {
            meta.annotations.get_or_insert_with(Default::default)
        };
        map.extend(pairs);
    }
    let value = serde_json::to_value(&wf).map_err(|e| ApiError::Internal(e.to_string()))?;
    let wf = checked_workflow(&state, &namespace, value).await?;
    let wf = start(&state, &caller, wf, o.server_dry_run || o.dry_run).await?;
    Ok(Json(to_json(&wf)))
}

/// The Workflow that runs the stored template of `kind` and `name` (in `namespace` unless it is
/// cluster-scoped) with `opts`, not yet checked.
pub(crate) async fn from_stored_template(
    state: &ApiState,
    kind: TemplateKind,
    namespace: &str,
    name: &str,
    opts: &SubmitOptions,
) -> ApiResult<Workflow> {
    let ns = kind.namespaced().then_some(namespace);
    let stored = state.backend.store().get_template(kind, ns, name).await?;
    match kind {
        TemplateKind::WorkflowTemplate => {
            submit::from_workflow_template(&from_body::<WorkflowTemplate>(stored.body)?, opts)
        }
        TemplateKind::ClusterWorkflowTemplate => submit::from_cluster_workflow_template(
            &from_body::<ClusterWorkflowTemplate>(stored.body)?,
            opts,
        ),
        TemplateKind::CronWorkflow => {
            let now = engine::plan::format_time(chrono::Utc::now());
            submit::from_cron_workflow(&from_body::<CronWorkflow>(stored.body)?, &now, opts)
        }
        TemplateKind::WorkflowEventBinding => {
            Err("a WorkflowEventBinding runs when an event matches it, not by submit".into())
        }
    }
    .map_err(ApiError::BadRequest)
}

/// The template kinds `submit` accepts, spelled as Argo's clients spell them.
pub(super) fn template_kind(text: &str) -> ApiResult<TemplateKind> {
    match text {
        "WorkflowTemplate" | "workflowtemplate" | "workflowtemplates" | "wftmpl" => {
            Ok(TemplateKind::WorkflowTemplate)
        }
        "ClusterWorkflowTemplate"
        | "clusterworkflowtemplate"
        | "clusterworkflowtemplates"
        | "cwftmpl" => Ok(TemplateKind::ClusterWorkflowTemplate),
        "CronWorkflow" | "cronworkflow" | "cronworkflows" | "cronwf" | "cwf" => {
            Ok(TemplateKind::CronWorkflow)
        }
        other => Err(ApiError::bad(format!(
            "resourceKind {other:?} cannot be submitted: use WorkflowTemplate, \
             ClusterWorkflowTemplate or CronWorkflow"
        ))),
    }
}

/// `a=b,c=d` as pairs.
fn key_values(field: &str, text: &str) -> ApiResult<BTreeMap<String, String>> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(ApiError::bad(format!(
                "submitOptions.{field}: `{p}` is not key=value"
            ))),
        })
        .collect()
}

fn from_body<T: serde::de::DeserializeOwned>(body: Value) -> ApiResult<T> {
    serde_json::from_value(body).map_err(|e| ApiError::Internal(format!("stored template: {e}")))
}

/// `name=value` strings as pairs.
pub(super) fn parameters(list: &[String]) -> ApiResult<Vec<(String, String)>> {
    list.iter()
        .map(|p| submit::parse_parameter(p))
        .collect::<Result<_, _>>()
        .map_err(ApiError::BadRequest)
}

/// Query of `GET /api/v1/workflows/{namespace}` (Argo's `WorkflowListRequest`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(rename = "listOptions.labelSelector", default)]
    pub(super) label_selector: String,
    #[serde(rename = "listOptions.fieldSelector", default)]
    pub(super) field_selector: String,
    #[serde(rename = "listOptions.limit", default)]
    pub(super) limit: Option<String>,
    #[serde(rename = "listOptions.continue", default)]
    pub(super) continue_token: String,
    #[serde(default)]
    pub(super) fields: String,
    /// `Exact` (default), `Prefix` or `Contains`: how `metadata.name=` in the field selector
    /// matches.
    #[serde(rename = "nameFilter", default)]
    pub(super) name_filter: String,
    #[serde(rename = "createdAfter", default)]
    pub(super) created_after: String,
    #[serde(rename = "finishedBefore", default)]
    pub(super) finished_before: String,
}

async fn list_all(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    list_in(&state, &caller, None, q).await
}

async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    Path(namespace): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    list_in(&state, &caller, Some(namespace), q).await
}

/// A page of the workflows `caller` may read (a page may hold fewer than the limit when some
/// are hidden from them; its continue token still goes on from where the store stopped).
async fn list_in(
    state: &ApiState,
    caller: &Caller,
    namespace: Option<String>,
    q: ListQuery,
) -> ApiResult<Json<Value>> {
    let query = workflow_query(namespace, &q)?;
    let page = state.backend.store().list_workflows(&query).await?;
    let items = guard::readable_workflows(state, caller, page.items).await;
    let body = json!({
        "metadata": {"continue": page.continue_token.unwrap_or_default(), "resourceVersion": ""},
        "items": items,
    });
    Ok(Json(fields::apply(body, &q.fields)))
}

/// The store query of a list request.
pub(super) fn workflow_query(namespace: Option<String>, q: &ListQuery) -> ApiResult<WorkflowQuery> {
    let labels = LabelSelector::parse(&q.label_selector)
        .map_err(|e| ApiError::bad(format!("listOptions.labelSelector: {e}")))?;
    let name = name_of_field_selector(&q.field_selector)?;
    let limit = match q.limit.as_deref().map(str::trim) {
        None | Some("") | Some("0") => None,
        Some(l) => Some(l.parse::<u32>().map_err(|_| {
            ApiError::bad(format!(
                "listOptions.limit must be a whole number, not {l:?}"
            ))
        })?),
    };
    let time = |field: &str, text: &str| -> ApiResult<Option<chrono::DateTime<chrono::Utc>>> {
        if text.is_empty() {
            return Ok(None);
        }
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| Some(t.to_utc()))
            .map_err(|e| ApiError::bad(format!("{field} must be an RFC 3339 time: {e}")))
    };
    let mut query = WorkflowQuery {
        namespace: namespace.filter(|n| !n.is_empty()),
        labels,
        limit,
        continue_token: Some(q.continue_token.clone()).filter(|c| !c.is_empty()),
        created_after: time("createdAfter", &q.created_after)?,
        finished_before: time("finishedBefore", &q.finished_before)?,
        ..Default::default()
    };
    match (q.name_filter.as_str(), name) {
        (_, None) => {}
        ("" | "Exact", Some(n)) => query.name = Some(n),
        ("Prefix", Some(n)) => query.name_prefix = Some(n),
        ("Contains", Some(n)) => query.name_contains = Some(n),
        (other, Some(_)) => {
            return Err(ApiError::bad(format!(
                "nameFilter {other:?} is not one of Exact, Prefix, Contains"
            )));
        }
    }
    Ok(query)
}

/// Query of `GET …/{name}`.
#[derive(Debug, Default, Deserialize)]
struct GetQuery {
    #[serde(default)]
    fields: String,
}

async fn get_one(
    State(state): State<ApiState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
    Query(q): Query<GetQuery>,
) -> ApiResult<Json<Value>> {
    let wf = state
        .backend
        .store()
        .get_workflow(&namespace, &name)
        .await?;
    guard::check_workflow(&state, &caller, engine::access::Action::Read, &wf).await?;
    Ok(Json(fields::apply(to_json(&wf), &q.fields)))
}

/// Deletes a workflow; one still running is terminated first (its steps are stopped).
async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let wf = state
        .backend
        .store()
        .get_workflow(&namespace, &name)
        .await?;
    guard::check_workflow(&state, &caller, engine::access::Action::Delete, &wf).await?;
    let wf = state.backend.delete(&namespace, &name).await?;
    approvals::record(
        &state,
        &caller.identity,
        AuditAction::Delete,
        &wf,
        None,
        BTreeMap::new(),
        None,
    )
    .await?;
    Ok(Json(json!({})))
}

pub(super) fn to_json(wf: &Workflow) -> Value {
    serde_json::to_value(wf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_filters_pick_the_store_field() {
        let q = |filter: &str| ListQuery {
            field_selector: "metadata.name=build".into(),
            name_filter: filter.into(),
            ..Default::default()
        };
        assert_eq!(
            workflow_query(None, &q("")).unwrap().name.as_deref(),
            Some("build")
        );
        assert_eq!(
            workflow_query(None, &q("Prefix"))
                .unwrap()
                .name_prefix
                .as_deref(),
            Some("build")
        );
        assert_eq!(
            workflow_query(None, &q("Contains"))
                .unwrap()
                .name_contains
                .as_deref(),
            Some("build")
        );
        assert!(workflow_query(None, &q("Fuzzy")).is_err());
        let bad_limit = ListQuery {
            limit: Some("ten".into()),
            ..Default::default()
        };
        assert!(workflow_query(None, &bad_limit).is_err());
    }

    #[test]
    fn kinds_are_accepted_as_argo_clients_spell_them() {
        for (text, want) in [
            ("workflowtemplate", TemplateKind::WorkflowTemplate),
            (
                "ClusterWorkflowTemplate",
                TemplateKind::ClusterWorkflowTemplate,
            ),
            ("cronwf", TemplateKind::CronWorkflow),
        ] {
            assert_eq!(template_kind(text).unwrap(), want);
        }
        assert!(template_kind("Pod").is_err());
    }
}
