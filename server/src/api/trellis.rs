//! Trellis-only read models under `/api/v1/trellis/` (DESIGN §4), for the UI and for scripts:
//!
//! - `GET /api/v1/trellis/folders?q=` — namespaces → folders → templates, each with its last run,
//!   last success and failure, health in words and recent durations;
//! - `GET /api/v1/trellis/runs?kind=&namespace=&name=&limit=&continue=` — a template's numbered
//!   run history, newest first, paged, with the median and p90 duration of its last 30 finished
//!   runs and each row marked `slow` when it ran longer than that p90;
//! - `GET /api/v1/trellis/grid?kind=&namespace=&name=&runs=` — runs × steps for the last runs.
//!
//! Every list is paged in the store by its indexes; the shapes come from `engine::history`.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use controller::store::{LabelSelector, Scope, Store, TemplateKind, WorkflowQuery, template_key};
use engine::history::{RunSummary, duration_stats, grid, summarize, template_runs};
use engine::model::{Manifest, WorkflowPhase};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiState;
use super::error::{ApiError, ApiResult};

/// Most runs one history page or grid returns.
const MAX_PAGE: u32 = 500;
/// Finished runs the duration statistics look at.
const STATS_RUNS: u32 = 30;
/// Recent runs a folder-tree row looks at.
const RECENT_RUNS: u32 = 10;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/trellis/folders", get(folders))
        .route("/api/v1/trellis/runs", get(runs))
        .route("/api/v1/trellis/grid", get(grid_of))
}

/// Which template (`kind` as Argo's clients spell it; no namespace for cluster templates).
#[derive(Debug, Default, Deserialize)]
struct TemplateQuery {
    kind: String,
    #[serde(default)]
    namespace: String,
    name: String,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(rename = "continue", default)]
    continue_token: String,
    #[serde(default)]
    runs: Option<u32>,
}

/// The history key of the template a query names.
fn key_of(q: &TemplateQuery) -> ApiResult<String> {
    let kind = super::workflows::template_kind(&q.kind)?;
    if kind.namespaced() && q.namespace.is_empty() {
        return Err(ApiError::bad(format!(
            "a {} needs a namespace",
            kind.as_str()
        )));
    }
    if q.name.is_empty() {
        return Err(ApiError::bad("name is required"));
    }
    Ok(template_key(kind, &q.namespace, &q.name))
}

/// Runs of a template, newest first.
async fn history(
    state: &ApiState,
    key: &str,
    phases: Vec<WorkflowPhase>,
    limit: u32,
    continue_token: Option<String>,
) -> ApiResult<(Vec<engine::model::Workflow>, Option<String>)> {
    let page = state
        .backend
        .store()
        .list_workflows(&WorkflowQuery {
            scope: Scope::All,
            template_key: Some(key.to_string()),
            phases,
            limit: Some(limit),
            continue_token,
            ..Default::default()
        })
        .await?;
    Ok((page.items, page.continue_token))
}

fn finished() -> Vec<WorkflowPhase> {
    vec![
        WorkflowPhase::Succeeded,
        WorkflowPhase::Failed,
        WorkflowPhase::Error,
    ]
}

async fn runs(
    State(state): State<ApiState>,
    Query(q): Query<TemplateQuery>,
) -> ApiResult<Json<Value>> {
    let key = key_of(&q)?;
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let now = chrono::Utc::now();
    let token = Some(q.continue_token.clone()).filter(|c| !c.is_empty());
    let (page, next) = history(&state, &key, vec![], limit, token).await?;
    let (recent, _) = history(&state, &key, finished(), STATS_RUNS, None).await?;
    let recent: Vec<RunSummary> = recent.iter().map(|w| summarize(w, now)).collect();
    let stats = duration_stats(&recent);
    let rows: Vec<Value> = page
        .iter()
        .map(|w| {
            let s = summarize(w, now);
            let slow = s.duration_seconds.is_some_and(|d| stats.is_slow(d));
            let mut v = serde_json::to_value(&s).unwrap_or_default();
            v["slow"] = slow.into();
            v
        })
        .collect();
    Ok(Json(json!({
        "template": key,
        "runs": rows,
        "continue": next.unwrap_or_default(),
        "stats": stats,
    })))
}

async fn grid_of(
    State(state): State<ApiState>,
    Query(q): Query<TemplateQuery>,
) -> ApiResult<Json<Value>> {
    let key = key_of(&q)?;
    let n = q.runs.unwrap_or(20).clamp(1, 100);
    let (page, _) = history(&state, &key, vec![], n, None).await?;
    Ok(Json(
        serde_json::to_value(grid(&page, chrono::Utc::now())).unwrap_or_default(),
    ))
}

/// Query of the folder tree.
#[derive(Debug, Default, Deserialize)]
struct FolderQuery {
    /// Keep only templates matching these words (name, title, folder, description).
    #[serde(default)]
    q: String,
}

async fn folders(
    State(state): State<ApiState>,
    Query(q): Query<FolderQuery>,
) -> ApiResult<Json<Value>> {
    let store = state.backend.store();
    let all = LabelSelector::default();
    let mut summaries = Vec::new();
    for kind in TemplateKind::ALL {
        for t in store.list_templates(kind, None, &all).await? {
            let manifest = match kind {
                TemplateKind::WorkflowTemplate => {
                    serde_json::from_value(t.body).map(Manifest::WorkflowTemplate)
                }
                TemplateKind::ClusterWorkflowTemplate => {
                    serde_json::from_value(t.body).map(Manifest::ClusterWorkflowTemplate)
                }
                TemplateKind::CronWorkflow => {
                    serde_json::from_value(t.body).map(Manifest::CronWorkflow)
                }
                TemplateKind::WorkflowEventBinding => continue,
            };
            if let Some(s) = manifest.ok().as_ref().and_then(crate::catalog::summarize) {
                summaries.push((kind, t.namespace.clone().unwrap_or_default(), s));
            }
        }
    }
    let catalog = app::catalog::Catalog {
        templates: summaries.iter().map(|(_, _, s)| s.clone()).collect(),
    };
    let tree = app::tree::CatalogTree::build(&catalog).filtered(&q.q);
    let now = chrono::Utc::now();
    let mut rows = BTreeMap::new();
    for (kind, ns, s) in &summaries {
        let key = template_key(*kind, ns, &s.name);
        let (recent, _) = history(&state, &key, vec![], RECENT_RUNS, None).await?;
        let recent: Vec<RunSummary> = recent.iter().map(|w| summarize(w, now)).collect();
        let newest = |phases: Vec<WorkflowPhase>| {
            let (state, key) = (&state, &key);
            async move {
                let (w, _) = history(state, key, phases, 1, None).await?;
                Ok::<_, ApiError>(w.first().map(|w| summarize(w, now)))
            }
        };
        let success = newest(vec![WorkflowPhase::Succeeded]).await?;
        let failure = newest(vec![WorkflowPhase::Failed, WorkflowPhase::Error]).await?;
        rows.insert(key, template_runs(&recent, success, failure));
    }
    Ok(Json(json!({"tree": tree, "runs": rows})))
}
