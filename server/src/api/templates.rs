//! Argo's WorkflowTemplateService, ClusterWorkflowTemplateService and CronWorkflowService:
//! create, list, get, update, delete and lint — every write linted first — plus suspending and
//! resuming a CronWorkflow.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post, put};
use controller::store::{LabelSelector, Store, StoredTemplate, TemplateKind};
use engine::model::{ClusterWorkflowTemplate, Manifest, WorkflowTemplate};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::body::JsonBody;
use super::error::{ApiError, ApiResult};
use super::validate::{same_namespace, with_namespace};
use super::{ApiState, validate};
use crate::auth::{Caller, guard};
use engine::access::Action;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .merge(namespaced(WT, "/api/v1/workflow-templates"))
        .merge(namespaced(CRON, "/api/v1/cron-workflows"))
        .merge(cluster(CWT, "/api/v1/cluster-workflow-templates"))
        .route(
            "/api/v1/cron-workflows/{namespace}/{name}/suspend",
            put(
                |State(s): State<ApiState>, c: Caller, Path((ns, n)): NsName| async move {
                    cron_set_suspend(&s, &c, &ns, &n, true).await
                },
            ),
        )
        .route(
            "/api/v1/cron-workflows/{namespace}/{name}/resume",
            put(
                |State(s): State<ApiState>, c: Caller, Path((ns, n)): NsName| async move {
                    cron_set_suspend(&s, &c, &ns, &n, false).await
                },
            ),
        )
}

type Ns = Path<String>;
type NsName = Path<(String, String)>;
type Body = JsonBody<Request>;

/// Create, list, lint, get, update and delete of a namespaced kind under `base`.
fn namespaced(kind: TemplateKind, base: &str) -> Router<ApiState> {
    Router::new()
        .route(
            &format!("{base}/{{namespace}}"),
            post(move |State(s): State<ApiState>, c: Caller, Path(ns): Ns, JsonBody(r): Body| async move {
                create(&s, &c, kind, Some(&ns), r).await
            })
            .get(move |State(s): State<ApiState>, c: Caller, Path(ns): Ns, Query(q): Query<ListQuery>| async move {
                list(&s, &c, kind, Some(&ns), &q).await
            }),
        )
        .route(
            &format!("{base}/{{namespace}}/lint"),
            post(move |State(s): State<ApiState>, c: Caller, Path(ns): Ns, JsonBody(r): Body| async move {
                lint(&s, &c, kind, Some(&ns), r).await
            }),
        )
        .route(
            &format!("{base}/{{namespace}}/{{name}}"),
            get(move |State(s): State<ApiState>, c: Caller, Path((ns, n)): NsName| async move {
                get_one(&s, &c, kind, Some(&ns), &n).await
            })
            .put(move |State(s): State<ApiState>, c: Caller, Path((ns, n)): NsName, JsonBody(r): Body| async move {
                update(&s, &c, kind, Some(&ns), &n, r).await
            })
            .delete(move |State(s): State<ApiState>, c: Caller, Path((ns, n)): NsName| async move {
                delete(&s, &c, kind, Some(&ns), &n).await
            }),
        )
}

/// The same for a cluster-scoped kind.
fn cluster(kind: TemplateKind, base: &str) -> Router<ApiState> {
    Router::new()
        .route(
            base,
            post(
                move |State(s): State<ApiState>, c: Caller, JsonBody(r): Body| async move {
                    create(&s, &c, kind, None, r).await
                },
            )
            .get(
                move |State(s): State<ApiState>, c: Caller, Query(q): Query<ListQuery>| async move {
                    list(&s, &c, kind, None, &q).await
                },
            ),
        )
        .route(
            &format!("{base}/lint"),
            post(
                move |State(s): State<ApiState>, c: Caller, JsonBody(r): Body| async move {
                    lint(&s, &c, kind, None, r).await
                },
            ),
        )
        .route(
            &format!("{base}/{{name}}"),
            get(
                move |State(s): State<ApiState>, c: Caller, Path(n): Path<String>| async move {
                    get_one(&s, &c, kind, None, &n).await
                },
            )
            .put(
                move |State(s): State<ApiState>,
                      c: Caller,
                      Path(n): Path<String>,
                      JsonBody(r): Body| async move {
                    update(&s, &c, kind, None, &n, r).await
                },
            )
            .delete(
                move |State(s): State<ApiState>, c: Caller, Path(n): Path<String>| async move {
                    delete(&s, &c, kind, None, &n).await
                },
            ),
        )
}

const WT: TemplateKind = TemplateKind::WorkflowTemplate;
const CWT: TemplateKind = TemplateKind::ClusterWorkflowTemplate;
const CRON: TemplateKind = TemplateKind::CronWorkflow;

/// The field of a request body that carries the object (`template` or `cronWorkflow`).
fn body_field(kind: TemplateKind) -> &'static str {
    match kind {
        TemplateKind::CronWorkflow => "cronWorkflow",
        _ => "template",
    }
}

/// A create, update or lint request: `{namespace?, name?, template|cronWorkflow, …}`.
type Request = Map<String, Value>;

/// The object a request carries, with the path's namespace filled in.
fn object_of(kind: TemplateKind, namespace: Option<&str>, req: &mut Request) -> ApiResult<Value> {
    if let Some(ns) = namespace {
        let given = req
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        same_namespace(ns, given)?;
    }
    let field = body_field(kind);
    let value = req
        .remove(field)
        .ok_or_else(|| ApiError::bad(format!("the request has no `{field}`")))?;
    match namespace {
        Some(ns) => with_namespace(value, ns),
        None => Ok(value),
    }
}

/// Lints an object of `kind` against the other stored templates.
async fn checked(
    state: &ApiState,
    kind: TemplateKind,
    namespace: Option<&str>,
    value: Value,
) -> ApiResult<(String, Value)> {
    let own = value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_string);
    let library = library(state, namespace, own.as_deref().map(|n| (kind, n))).await?;
    let manifest = validate::manifest(kind.as_str(), value, &library)?;
    let name = manifest
        .metadata()
        .and_then(|m| m.name.clone())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad(format!("the {} has no metadata.name", kind.as_str())))?;
    let json = manifest_json(&manifest)?;
    Ok((name, json))
}

fn manifest_json(m: &Manifest) -> ApiResult<Value> {
    let v = match m {
        Manifest::Workflow(x) => serde_json::to_value(x),
        Manifest::WorkflowTemplate(x) => serde_json::to_value(x),
        Manifest::ClusterWorkflowTemplate(x) => serde_json::to_value(x),
        Manifest::CronWorkflow(x) => serde_json::to_value(x),
        Manifest::WorkflowEventBinding(x) => serde_json::to_value(x),
    };
    v.map_err(|e| ApiError::Internal(e.to_string()))
}

/// The stored templates a manifest of `namespace` may reference: the namespace's
/// WorkflowTemplates and every ClusterWorkflowTemplate, without `own` (the one being written).
pub(super) async fn library(
    state: &ApiState,
    namespace: Option<&str>,
    own: Option<(TemplateKind, &str)>,
) -> ApiResult<Vec<Manifest>> {
    let skip = |kind: TemplateKind, name: &str| own == Some((kind, name));
    let store = state.backend.store();
    let all = LabelSelector::default();
    let mut out = Vec::new();
    if let Some(ns) = namespace {
        for t in store.list_templates(WT, Some(ns), &all).await? {
            if skip(WT, &t.name) {
                continue;
            }
            if let Ok(t) = serde_json::from_value::<WorkflowTemplate>(t.body) {
                out.push(Manifest::WorkflowTemplate(t));
            }
        }
    }
    for t in store.list_templates(CWT, None, &all).await? {
        if skip(CWT, &t.name) {
            continue;
        }
        if let Ok(t) = serde_json::from_value::<ClusterWorkflowTemplate>(t.body) {
            out.push(Manifest::ClusterWorkflowTemplate(t));
        }
    }
    Ok(out)
}

async fn create(
    state: &ApiState,
    caller: &Caller,
    kind: TemplateKind,
    namespace: Option<&str>,
    mut req: Request,
) -> ApiResult<Json<Value>> {
    let value = object_of(kind, namespace, &mut req)?;
    let (name, json) = checked(state, kind, namespace, value).await?;
    let target = guard::template_target(kind, namespace, &name, &json);
    state.auth().check(caller, Action::Manage, &target)?;
    let dry = req
        .get("createOptions")
        .and_then(|o| o.get("dryRun"))
        .and_then(Value::as_array)
        .is_some_and(|d| !d.is_empty());
    if dry {
        return Ok(Json(json));
    }
    let stored = state
        .backend
        .create_template(kind, namespace, &name, &json)
        .await?;
    Ok(Json(stored))
}

async fn update(
    state: &ApiState,
    caller: &Caller,
    kind: TemplateKind,
    namespace: Option<&str>,
    name: &str,
    mut req: Request,
) -> ApiResult<Json<Value>> {
    let value = object_of(kind, namespace, &mut req)?;
    let (given, json) = checked(state, kind, namespace, value).await?;
    if given != name {
        return Err(ApiError::bad(format!(
            "metadata.name is {given:?} but the path names {name:?}: a template cannot be renamed"
        )));
    }
    let store = state.backend.store();
    let current = store.get_template(kind, namespace, name).await?;
    for body in [&current.body, &json] {
        let target = guard::template_target(kind, namespace, name, body);
        state.auth().check(caller, Action::Manage, &target)?;
    }
    let version = match json
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => state.backend.template_version(&current),
    };
    // A CronWorkflow's status belongs to the scheduler: an update keeps it.
    let mut json = json;
    if let (Some(status), Some(o)) = (current.body.get("status"), json.as_object_mut()) {
        o.insert("status".into(), status.clone());
    }
    let stored = state
        .backend
        .update_template(kind, namespace, name, &json, &version)
        .await?;
    Ok(Json(stored))
}

async fn lint(
    state: &ApiState,
    caller: &Caller,
    kind: TemplateKind,
    namespace: Option<&str>,
    mut req: Request,
) -> ApiResult<Json<Value>> {
    // Linting reads the namespace's templates.
    if let Some(ns) = namespace {
        let target = engine::access::Target::namespace(ns);
        state.auth().check(caller, Action::Read, &target)?;
    }
    let value = object_of(kind, namespace, &mut req)?;
    let (_, json) = checked(state, kind, namespace, value).await?;
    Ok(Json(json))
}

/// Query of a template listing.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(rename = "listOptions.labelSelector", default)]
    label_selector: String,
}

async fn list(
    state: &ApiState,
    caller: &Caller,
    kind: TemplateKind,
    namespace: Option<&str>,
    q: &ListQuery,
) -> ApiResult<Json<Value>> {
    let labels = LabelSelector::parse(&q.label_selector)
        .map_err(|e| ApiError::bad(format!("listOptions.labelSelector: {e}")))?;
    let namespace = namespace.filter(|n| !n.is_empty());
    let items: Vec<Value> = state
        .backend
        .store()
        .list_templates(kind, namespace, &labels)
        .await?
        .into_iter()
        .filter(|t: &StoredTemplate| {
            let target = guard::template_target(kind, t.namespace.as_deref(), &t.name, &t.body);
            state.auth().allows(caller, Action::Read, &target)
        })
        .map(|t: StoredTemplate| t.body)
        .collect();
    Ok(Json(
        json!({"metadata": {"resourceVersion": ""}, "items": items}),
    ))
}

async fn get_one(
    state: &ApiState,
    caller: &Caller,
    kind: TemplateKind,
    namespace: Option<&str>,
    name: &str,
) -> ApiResult<Json<Value>> {
    let t = state
        .backend
        .store()
        .get_template(kind, namespace, name)
        .await?;
    let target = guard::template_target(kind, namespace, name, &t.body);
    state.auth().check(caller, Action::Read, &target)?;
    Ok(Json(t.body))
}

async fn delete(
    state: &ApiState,
    caller: &Caller,
    kind: TemplateKind,
    namespace: Option<&str>,
    name: &str,
) -> ApiResult<Json<Value>> {
    let store = state.backend.store();
    let current = store.get_template(kind, namespace, name).await?;
    let target = guard::template_target(kind, namespace, name, &current.body);
    state.auth().check(caller, Action::Manage, &target)?;
    state.backend.delete_template(kind, namespace, name).await?;
    Ok(Json(json!({})))
}

/// Sets a CronWorkflow's `spec.suspend`.
async fn cron_set_suspend(
    state: &ApiState,
    caller: &Caller,
    namespace: &str,
    name: &str,
    suspend: bool,
) -> ApiResult<Json<Value>> {
    let t = state
        .backend
        .store()
        .get_template(CRON, Some(namespace), name)
        .await?;
    let target = guard::template_target(CRON, Some(namespace), name, &t.body);
    state.auth().check(caller, Action::Manage, &target)?;
    let stored = state
        .backend
        .set_cron_suspend(namespace, name, suspend)
        .await?;
    Ok(Json(stored))
}
