//! Trellis-only read models under `/api/v1/trellis/` (DESIGN §4), for the UI and for scripts:
//!
//! - `GET /api/v1/trellis/folders?q=` — namespaces → folders → templates, each with its last run,
//!   last success and failure, health in words and recent durations;
//! - `GET /api/v1/trellis/runs?kind=&namespace=&name=&limit=&continue=` — a template's numbered
//!   run history, newest first, paged, with the median and p90 duration of its last 30 finished
//!   runs and each row marked `slow` when it ran longer than that p90;
//! - `GET /api/v1/trellis/grid?kind=&namespace=&name=&runs=` — runs × steps for the last runs;
//! - `GET /api/v1/trellis/logs/{namespace}/{name}/{node}` — one step's whole log as plain text,
//!   streamed (the log viewer's download).
//!
//! Every list is paged in the store by its indexes; the shapes come from `engine::history`.

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use controller::store::template_key;
use engine::history::{RunSummary, duration_stats, grid, summarize};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiState;
use super::error::{ApiError, ApiResult};
use crate::auth::{Caller, guard};
use crate::ui::{STATS_RUNS, finished, history};
use engine::access::Action;

/// Most runs one history page or grid returns.
const MAX_PAGE: u32 = 500;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/trellis/folders", get(folders))
        .route("/api/v1/trellis/runs", get(runs))
        .route("/api/v1/trellis/grid", get(grid_of))
        .route(
            "/api/v1/trellis/logs/{namespace}/{name}/{node}",
            get(log_text),
        )
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

/// `Ok` when `caller` may read the runs of the template `key` names.
async fn may_read(
    state: &ApiState,
    caller: &Caller,
    q: &TemplateQuery,
    key: &str,
) -> ApiResult<()> {
    let target = guard::run_target(state, &q.namespace, Some(key)).await;
    state.auth().check(caller, Action::Read, &target)
}

async fn runs(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<TemplateQuery>,
) -> ApiResult<Json<Value>> {
    let key = key_of(&q)?;
    may_read(&state, &caller, &q, &key).await?;
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let now = chrono::Utc::now();
    let token = Some(q.continue_token.clone()).filter(|c| !c.is_empty());
    let (page, next) = history(&state, &caller, &key, vec![], limit, token).await?;
    let (recent, _) = history(&state, &caller, &key, finished(), STATS_RUNS, None).await?;
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
    caller: Caller,
    Query(q): Query<TemplateQuery>,
) -> ApiResult<Json<Value>> {
    let key = key_of(&q)?;
    may_read(&state, &caller, &q, &key).await?;
    let n = q.runs.unwrap_or(20).clamp(1, 100);
    let (page, _) = history(&state, &caller, &key, vec![], n, None).await?;
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
    caller: Caller,
    Query(q): Query<FolderQuery>,
) -> ApiResult<Json<Value>> {
    let (tree, rows, _) = crate::ui::folder_rows(&state, &caller, &q.q).await?;
    Ok(Json(json!({"tree": tree, "runs": rows})))
}

/// A step's log as plain text, read and sent line by line.
async fn log_text(
    State(state): State<ApiState>,
    caller: Caller,
    axum::extract::Path((namespace, name, node)): axum::extract::Path<(String, String, String)>,
) -> ApiResult<axum::response::Response> {
    use axum::http::header;
    use tokio::io::AsyncBufReadExt as _;

    let (wf, path) =
        super::log_follow::readable_log(&state, &caller, &namespace, &name, &node).await?;
    let secrets = engine::secrets::secret_values(&wf);
    let lines = match tokio::fs::File::open(&path).await {
        Ok(f) => Some(tokio::io::BufReader::new(f).lines()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(ApiError::Internal(format!("{}: {e}", path.display()))),
    };
    let stream = futures::stream::unfold(lines, move |lines| {
        let secrets = secrets.clone();
        async move {
            let mut lines = lines?;
            match lines.next_line().await {
                Ok(Some(line)) => {
                    let text = controller::exec::parse_log_line(&line).map_or(line, |l| l.l);
                    let text = engine::secrets::redact(&text, &secrets);
                    Some((Ok::<_, std::io::Error>(format!("{text}\n")), Some(lines)))
                }
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        }
    });
    let file_name = format!("{name}-{node}.log");
    axum::response::Response::builder()
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        )
        .body(axum::body::Body::from_stream(stream))
        .map_err(|e| ApiError::Internal(e.to_string()))
}
