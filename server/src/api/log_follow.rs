//! `GET /api/v1/trellis/logs/{namespace}/{name}/{node}/follow?after=N` — the lines one step writes
//! after line `N`, pushed as they come (Server-Sent Events with `Accept: text/event-stream`,
//! NDJSON otherwise), for the log viewer's "Follow". Each message is a batch with its line
//! numbers, so the viewer keeps exact numbering and permalinks:
//! `{"first": N + 1, "lines": […], "total": T, "done": false}`. The last message has
//! `"done": true`: the step has ended and every line was sent; then the stream closes.
//!
//! The file is read through a line index (only what was appended is read again), a batch holds
//! at most [`BATCH`] lines, and the run's secret values are masked as in every other log view.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use controller::store::Store as _;
use engine::access::Action;
use engine::model::Workflow;
use serde::Deserialize;
use serde_json::json;

use super::ApiState;
use super::error::{ApiError, ApiResult};
use super::stream::{Framing, Messages, channel};
use crate::auth::{Caller, guard};
use crate::ui::logs::LogIndexes;

/// How often the log and the step's phase are looked at again while nothing new came.
const POLL: Duration = Duration::from_millis(200);

/// Most lines one message carries.
pub const BATCH: u32 = 500;

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route(
        "/api/v1/trellis/logs/{namespace}/{name}/{node}/follow",
        get(follow),
    )
}

/// Where to start: after this line (0: from the first).
#[derive(Debug, Default, Deserialize)]
struct FollowQuery {
    #[serde(default)]
    after: u64,
}

async fn follow(
    State(state): State<ApiState>,
    caller: Caller,
    Path((namespace, name, node)): Path<(String, String, String)>,
    Query(q): Query<FollowQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    // 404 or 403 before the stream starts.
    let (_, path) = readable_log(&state, &caller, &namespace, &name, &node).await?;
    let (tx, resp) = channel(Framing::of(&headers));
    let stopping = state.stopping();
    tokio::spawn(async move {
        let run = Followed {
            namespace,
            name,
            node,
            path,
        };
        tokio::select! {
            r = run.stream(&state, q.after, &tx) => {
                if let Err(e) = r {
                    tracing::warn!(workflow.name = %run.name, node.id = %run.node, error = %e, "a followed log ended early");
                }
            }
            () = stopping => {}
        }
    });
    Ok(resp)
}

/// The workflow `namespace/name` and the log file of its node `node`, when `caller` may read
/// the workflow (403 otherwise) and it has that node (404 otherwise).
pub(super) async fn readable_log(
    state: &ApiState,
    caller: &Caller,
    namespace: &str,
    name: &str,
    node: &str,
) -> ApiResult<(Workflow, PathBuf)> {
    let wf = state.backend.store().get_workflow(namespace, name).await?;
    guard::check_workflow(state, caller, Action::Read, &wf).await?;
    let known = wf
        .status
        .as_ref()
        .and_then(|s| s.nodes.as_ref())
        .is_some_and(|n| n.contains_key(node));
    if !known {
        return Err(ApiError::NotFound(format!(
            "workflow {namespace}/{name} has no node {node:?}"
        )));
    }
    let path = state.backend.log_path(&wf, node).await;
    Ok((wf, path))
}

/// Whether the node has ended (or the whole workflow has); `None` when there is no such node.
fn step_done(wf: &Workflow, node: &str) -> Option<bool> {
    let status = wf.status.as_ref()?;
    let n = status.nodes.as_ref()?.get(node)?;
    let workflow_done = status.phase.is_some_and(|p| p.completed());
    Some(workflow_done || n.phase.is_some_and(|p| p.fulfilled()))
}

/// One followed log.
struct Followed {
    namespace: String,
    name: String,
    node: String,
    path: PathBuf,
}

impl Followed {
    /// Sends the lines after `after` as they are written, until the step has ended and all were
    /// sent, the workflow is deleted, or the client goes away.
    async fn stream(&self, state: &ApiState, mut after: u64, tx: &Messages) -> Result<(), String> {
        let store = state.backend.store();
        let indexes = Arc::new(LogIndexes::default());
        loop {
            let Ok(wf) = store.get_workflow(&self.namespace, &self.name).await else {
                return Ok(()); // deleted
            };
            // Looked at before reading, so the lines written before the end are all read.
            let done = step_done(&wf, &self.node).unwrap_or(true);
            if done {
                // The last copy of a log kept elsewhere (a Pod's) is in place before the read.
                state.backend.log_path(&wf, &self.node).await;
            }
            let secrets = engine::secrets::secret_values(&wf);
            let (lines, total) = self.read_after(&indexes, after).await?;
            let sent_all = after + lines.len() as u64 >= total;
            if !lines.is_empty() || (done && sent_all) {
                let lines: Vec<String> = lines
                    .iter()
                    .map(|l| engine::secrets::redact(l, &secrets))
                    .collect();
                let message = json!({
                    "first": after + 1,
                    "total": total,
                    "done": done && sent_all,
                    "lines": lines,
                });
                after += lines.len() as u64;
                if tx.send(message).await.is_err() || (done && sent_all) {
                    return Ok(());
                }
            }
            if sent_all {
                tokio::time::sleep(POLL).await;
            }
        }
    }

    /// Up to [`BATCH`] lines after line `after`, and how many lines the log has.
    async fn read_after(
        &self,
        indexes: &Arc<LogIndexes>,
        after: u64,
    ) -> Result<(Vec<String>, u64), String> {
        let (indexes, path) = (indexes.clone(), self.path.clone());
        let (lines, first, total) =
            tokio::task::spawn_blocking(move || indexes.window(&path, Some(after + 1), BATCH))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("{}: {e}", self.path.display()))?;
        // A window is clamped to the log: asked past its end it repeats the last line.
        if first != after + 1 {
            return Ok((Vec::new(), total));
        }
        Ok((lines, total))
    }
}
