//! `GET /api/v1/workflow-events/{namespace}`: a stream of `{"type": "ADDED"|"MODIFIED"|
//! "DELETED", "object": <Workflow>}` as Kubernetes watches send them — first the workflows that
//! match, then every change as the backend persists it.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use controller::store::{LabelSelector, Store, WorkflowQuery};
use engine::model::Workflow;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast;

use super::error::{ApiError, ApiResult};
use super::stream::{Framing, channel};
use super::{ApiState, fields};

/// How many existing workflows a new watch is told about before the changes.
const INITIAL_LIMIT: u32 = 500;

/// What happened to a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Created.
    Added,
    /// Its status or spec changed.
    Modified,
    /// Deleted.
    Deleted,
}

impl Change {
    fn as_str(self) -> &'static str {
        match self {
            Change::Added => "ADDED",
            Change::Modified => "MODIFIED",
            Change::Deleted => "DELETED",
        }
    }
}

/// The workflow events of this server, for every watcher.
#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<(Change, Arc<Workflow>)>,
}

impl Hub {
    /// A hub fed with the backend's status changes (as `MODIFIED`) and deletions (`DELETED`).
    pub fn new(backend: &crate::backend::Backend) -> Self {
        let (tx, _) = broadcast::channel(1024);
        forward(backend.subscribe(), tx.clone(), Change::Modified);
        forward(backend.subscribe_deletions(), tx.clone(), Change::Deleted);
        Self { tx }
    }

    /// Tells watchers about a change the API made (creation, deletion).
    pub fn publish(&self, change: Change, wf: Workflow) {
        let _ = self.tx.send((change, Arc::new(wf)));
    }
}

/// Passes what a backend channel carries on to the hub as `change`.
fn forward(
    mut from: broadcast::Receiver<Arc<Workflow>>,
    to: broadcast::Sender<(Change, Arc<Workflow>)>,
    change: Change,
) {
    tokio::spawn(async move {
        loop {
            match from.recv().await {
                Ok(wf) => {
                    let _ = to.send((change, wf));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/workflow-events/{namespace}", get(watch))
}

/// The query of a watch (Argo's `WatchWorkflowsRequest`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct WatchQuery {
    #[serde(rename = "listOptions.labelSelector", default)]
    label_selector: String,
    #[serde(rename = "listOptions.fieldSelector", default)]
    field_selector: String,
    #[serde(default)]
    fields: String,
}

async fn watch(
    State(state): State<ApiState>,
    caller: crate::auth::Caller,
    Path(namespace): Path<String>,
    Query(q): Query<WatchQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let labels = LabelSelector::parse(&q.label_selector)
        .map_err(|e| ApiError::bad(format!("listOptions.labelSelector: {e}")))?;
    let name = name_of_field_selector(&q.field_selector)?;
    let namespace = (!namespace.is_empty()).then_some(namespace);
    let mut live = state.hub.tx.subscribe();
    let existing = state
        .backend
        .store()
        .list_workflows(&WorkflowQuery {
            namespace: namespace.clone(),
            labels: labels.clone(),
            name: name.clone(),
            limit: Some(INITIAL_LIMIT),
            ..Default::default()
        })
        .await?;
    let (tx, resp) = channel(Framing::of(&headers));
    let event = move |change: Change, wf: &Workflow| {
        let object = fields::apply(serde_json::to_value(wf).unwrap_or_default(), &q.fields);
        json!({"type": change.as_str(), "object": object})
    };
    let stopping = state.stopping();
    let existing = crate::auth::guard::readable_workflows(&state, &caller, existing.items).await;
    tokio::spawn(async move {
        tokio::pin!(stopping);
        for wf in existing.iter().rev() {
            if tx.send(event(Change::Added, wf)).await.is_err() {
                return;
            }
        }
        loop {
            let next = tokio::select! {
                next = live.recv() => next,
                () = &mut stopping => return,
            };
            let (change, wf) = match next {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            };
            if !matches(&wf, namespace.as_deref(), name.as_deref(), &labels) {
                continue;
            }
            let target = crate::auth::guard::workflow_target(&state, &wf).await;
            if !state
                .auth()
                .allows(&caller, engine::access::Action::Read, &target)
            {
                continue;
            }
            if tx.send(event(change, &wf)).await.is_err() {
                return;
            }
        }
    });
    Ok(resp)
}

/// Whether a workflow is one the watch asked for.
fn matches(
    wf: &Workflow,
    namespace: Option<&str>,
    name: Option<&str>,
    labels: &LabelSelector,
) -> bool {
    let meta = wf.metadata.clone().unwrap_or_default();
    let ns = meta.namespace.as_deref().unwrap_or_default();
    namespace.is_none_or(|n| n == ns)
        && name.is_none_or(|n| meta.name.as_deref() == Some(n))
        && labels.matches(&meta.labels.unwrap_or_default())
}

/// The name a field selector picks (`metadata.name=x`, the only field Argo's clients send to a
/// watch); `metadata.namespace=` is accepted and ignored (the path names the namespace).
pub(super) fn name_of_field_selector(selector: &str) -> ApiResult<Option<String>> {
    let mut name = None;
    for term in selector.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if let Some(v) = term
            .strip_prefix("metadata.name==")
            .or_else(|| term.strip_prefix("metadata.name="))
        {
            name = Some(v.to_string());
        } else if term.starts_with("metadata.namespace=") {
        } else {
            return Err(ApiError::bad(format!(
                "listOptions.fieldSelector: unsupported term `{term}`; use metadata.name=NAME"
            )));
        }
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_selectors_name_one_workflow() {
        assert_eq!(
            name_of_field_selector("metadata.name=hello").unwrap(),
            Some("hello".into())
        );
        assert_eq!(
            name_of_field_selector("metadata.namespace=a,metadata.name==b").unwrap(),
            Some("b".into())
        );
        assert_eq!(name_of_field_selector("").unwrap(), None);
        assert!(name_of_field_selector("spec.x=1").is_err());
    }
}
