//! `POST /api/v1/events/{namespace}/{discriminator}`: an event (any JSON payload) for the
//! namespace's WorkflowEventBindings. Every binding whose selector matches submits its template
//! (see `engine::events`); like Argo, the answer is `{}` whatever the bindings make of it, and a
//! binding that cannot be evaluated or submitted is logged. Bindings are stored from manifests
//! given to `trellis serve --load`.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use controller::store::{LabelSelector, Store, TemplateKind};
use engine::model::WorkflowEventBinding;
use serde_json::{Value, json};

use super::ApiState;
use super::error::{ApiError, ApiResult};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/events/{namespace}/{discriminator}", post(event))
}

/// Headers as an event's `metadata`: lower-case names, each with its list of values; the
/// credentials are left out.
fn metadata(headers: &HeaderMap) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        let name = name.as_str().to_ascii_lowercase();
        if matches!(name.as_str(), "authorization" | "cookie") {
            continue;
        }
        if let Ok(v) = value.to_str() {
            out.entry(name).or_default().push(v.to_string());
        }
    }
    out
}

async fn event(
    State(state): State<ApiState>,
    caller: crate::auth::Caller,
    Path((namespace, discriminator)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let payload: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad(format!("the event payload is not JSON: {e}")))?
    };
    let env =
        engine::events::environment(&namespace, &discriminator, &metadata(&headers), &payload);
    let bindings = state
        .backend
        .store()
        .list_templates(
            TemplateKind::WorkflowEventBinding,
            Some(&namespace),
            &LabelSelector::default(),
        )
        .await?;
    for stored in bindings {
        let Ok(binding) = serde_json::from_value::<WorkflowEventBinding>(stored.body) else {
            continue;
        };
        let wf = match engine::events::dispatch(&binding, &env) {
            Ok(Some(wf)) => wf,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(binding = %stored.name, error = %e, "an event binding failed");
                continue;
            }
        };
        match submit(&state, &caller, &namespace, wf).await {
            Ok(name) => {
                tracing::info!(binding = %stored.name, workflow.name = %name, "event matched")
            }
            Err(e) => {
                tracing::warn!(binding = %stored.name, error = %e, "an event binding's workflow was refused")
            }
        }
    }
    Ok(Json(json!({})))
}

/// Lints and starts a workflow an event made; returns its name.
async fn submit(
    state: &ApiState,
    caller: &crate::auth::Caller,
    namespace: &str,
    wf: engine::model::Workflow,
) -> ApiResult<String> {
    let value = serde_json::to_value(&wf).map_err(|e| ApiError::Internal(e.to_string()))?;
    let wf = super::workflows::checked_workflow(state, namespace, value).await?;
    let stored = super::workflows::start(state, caller, wf, false).await?;
    Ok(stored.metadata.and_then(|m| m.name).unwrap_or_default())
}
