//! The operations of Argo's WorkflowService on one workflow: suspend, resume, stop, terminate,
//! set (the approval path: a `nodeFieldSelector` picks suspend steps, held to their approval
//! rules by `crate::approvals`), and on a finished one: retry, resubmit. Each is audited.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::put;
use controller::local::Control;
use controller::store::{AuditAction, Store};
use engine::model::{NodePhase, Workflow};
use engine::ops::{NodeSelector, NodeUpdate};
use engine::submit::{self, SubmitOptions};
use serde::Deserialize;
use serde_json::Value;

use super::ApiState;
use super::body::JsonBody;
use super::error::{ApiError, ApiResult};
use super::workflows::{checked_workflow, parameters, start_as, to_json};
use crate::approvals;
use crate::auth::{Caller, guard};
use engine::access::Action;

pub(super) fn routes() -> Router<ApiState> {
    let one = "/api/v1/workflows/{namespace}/{name}";
    Router::new()
        .route(&format!("{one}/resume"), put(resume))
        .route(&format!("{one}/suspend"), put(suspend))
        .route(&format!("{one}/stop"), put(stop))
        .route(&format!("{one}/terminate"), put(terminate))
        .route(&format!("{one}/set"), put(set))
        .route(&format!("{one}/resubmit"), put(resubmit))
        .route(&format!("{one}/retry"), put(retry))
}

/// Body of the operations on one workflow (the union of Argo's resume, stop, set and resubmit
/// requests; each reads its own fields).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OpRequest {
    #[serde(default)]
    node_field_selector: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    phase: String,
    /// A JSON object of supplied output values, as a string (Argo's wire format).
    #[serde(default)]
    output_parameters: String,
    #[serde(default)]
    memoized: bool,
    #[serde(default)]
    restart_successful: bool,
    #[serde(default)]
    parameters: Vec<String>,
}

type OpArgs = (
    State<ApiState>,
    Caller,
    Path<(String, String)>,
    JsonBody<OpRequest>,
);

/// The workflow `ns/name` if `caller` may do `action` on it.
async fn allowed(
    s: &ApiState,
    caller: &Caller,
    action: Action,
    ns: &str,
    name: &str,
) -> ApiResult<Workflow> {
    let wf = s.backend.store().get_workflow(ns, name).await?;
    guard::check_workflow(s, caller, action, &wf).await?;
    Ok(wf)
}

/// Resumes a workflow, or (with a selector) approves the suspend steps it picks; either way
/// only where their approval rules allow the caller (`crate::approvals`).
async fn resume((State(s), caller, Path((ns, name)), req): OpArgs) -> ApiResult<Json<Value>> {
    let req = req.0;
    let wf = match selector(&req.node_field_selector)? {
        None => {
            allowed(&s, &caller, Action::Stop, &ns, &name).await?;
            approvals::resume_workflow(&s, &caller, &ns, &name).await?
        }
        Some(selector) => {
            allowed(&s, &caller, Action::Approve, &ns, &name).await?;
            let update = NodeUpdate {
                phase: Some(NodePhase::Succeeded),
                ..Default::default()
            };
            approvals::update_nodes(&s, &caller, &ns, &name, &selector, update).await?
        }
    };
    Ok(Json(to_json(&wf)))
}

async fn suspend((State(s), caller, Path((ns, name)), _): OpArgs) -> ApiResult<Json<Value>> {
    operate(
        &s,
        &caller,
        &ns,
        &name,
        Control::Suspend,
        AuditAction::Suspend,
    )
    .await
}

async fn terminate((State(s), caller, Path((ns, name)), _): OpArgs) -> ApiResult<Json<Value>> {
    operate(
        &s,
        &caller,
        &ns,
        &name,
        Control::Terminate,
        AuditAction::Terminate,
    )
    .await
}

/// Stops a workflow, or (with a selector) rejects the suspend steps it picks where their
/// approval rules allow the caller.
async fn stop((State(s), caller, Path((ns, name)), req): OpArgs) -> ApiResult<Json<Value>> {
    let req = req.0;
    let Some(selector) = selector(&req.node_field_selector)? else {
        return operate(&s, &caller, &ns, &name, Control::Stop, AuditAction::Stop).await;
    };
    allowed(&s, &caller, Action::Approve, &ns, &name).await?;
    let update = NodeUpdate {
        phase: Some(NodePhase::Failed),
        message: Some(req.message).filter(|m| !m.is_empty()),
        ..Default::default()
    };
    let wf = approvals::update_nodes(&s, &caller, &ns, &name, &selector, update).await?;
    Ok(Json(to_json(&wf)))
}

/// Sets the suspend steps a selector picks, where their approval rules allow the caller.
async fn set((State(s), caller, Path((ns, name)), req): OpArgs) -> ApiResult<Json<Value>> {
    let req = req.0;
    allowed(&s, &caller, Action::Approve, &ns, &name).await?;
    let selector = selector(&req.node_field_selector)?
        .ok_or_else(|| ApiError::bad("nodeFieldSelector is required: set targets suspend nodes"))?;
    let update = NodeUpdate {
        phase: node_phase(&req.phase)?,
        message: Some(req.message).filter(|m| !m.is_empty()),
        outputs: output_values(&req.output_parameters)?,
    };
    let wf = approvals::update_nodes(&s, &caller, &ns, &name, &selector, update).await?;
    Ok(Json(to_json(&wf)))
}

async fn resubmit((State(s), caller, Path((ns, name)), req): OpArgs) -> ApiResult<Json<Value>> {
    let old = allowed(&s, &caller, Action::Read, &ns, &name).await?;
    resubmit_from(&s, &caller, &old, &req.0).await
}

/// A new run of `old`'s spec (Argo's resubmit), started.
pub(super) async fn resubmit_from(
    s: &ApiState,
    caller: &Caller,
    old: &Workflow,
    req: &OpRequest,
) -> ApiResult<Json<Value>> {
    let opts = SubmitOptions {
        parameters: parameters(&req.parameters)?,
        entrypoint: None,
    };
    let wf = resubmission(s, old, &opts, req.memoized).await?;
    let from = old.metadata.as_ref().and_then(|m| m.name.clone());
    let values = from
        .map(|n| ("resubmittedFrom".to_string(), n))
        .into_iter()
        .collect();
    let started = start_as(s, caller, wf, false, AuditAction::Resubmit, values).await?;
    Ok(Json(to_json(&started)))
}

/// The new run of `old` (Argo's resubmit), checked; `memoized`, it is named now and the steps
/// that succeeded in `old` are carried over instead of running again.
pub(crate) async fn resubmission(
    s: &ApiState,
    old: &Workflow,
    opts: &SubmitOptions,
    memoized: bool,
) -> ApiResult<Workflow> {
    let ns = old
        .metadata
        .as_ref()
        .and_then(|m| m.namespace.clone())
        .unwrap_or_default();
    let full = s.backend.with_template_spec(old).await;
    let mut wf = submit::resubmit(&full, opts).map_err(ApiError::BadRequest)?;
    if memoized {
        let meta = wf.metadata.get_or_insert_with(Default::default);
        let prefix = meta.generate_name.take().unwrap_or_default();
        meta.name = Some(controller::store::generated_name(&prefix));
    }
    let value = serde_json::to_value(&wf).map_err(|e| ApiError::Internal(e.to_string()))?;
    let wf = checked_workflow(s, &ns, value).await?;
    if !memoized {
        return Ok(wf);
    }
    let now = engine::plan::format_time(chrono::Utc::now());
    submit::memoize(wf, old, &now).map_err(ApiError::BadRequest)
}

/// Runs a finished workflow again from its failed steps (with `restartSuccessful`, also the
/// succeeded nodes `nodeFieldSelector` picks).
async fn retry((State(s), caller, Path((ns, name)), req): OpArgs) -> ApiResult<Json<Value>> {
    let wf = s.backend.store().get_workflow(&ns, &name).await?;
    retry_live(&s, &caller, &wf, &req.0).await
}

/// Retries a live workflow if `caller` may.
pub(super) async fn retry_live(
    s: &ApiState,
    caller: &Caller,
    wf: &Workflow,
    req: &OpRequest,
) -> ApiResult<Json<Value>> {
    guard::check_workflow(s, caller, Action::Retry, wf).await?;
    let opts = retry_options(req)?;
    let stored = s.backend.retry(wf, &opts).await?;
    let values = retry_values(wf, &opts);
    approvals::record(
        s,
        &caller.identity,
        AuditAction::Retry,
        &stored,
        None,
        values,
        None,
    )
    .await?;
    Ok(Json(to_json(&stored)))
}

/// What the audit records of a retry: the parameters it changed (secrets masked) and the node
/// it restarted from.
pub(crate) fn retry_values(
    wf: &Workflow,
    opts: &engine::ops::RetryOptions,
) -> BTreeMap<String, String> {
    let mut changed = opts.parameters.clone();
    engine::secrets::mask(&mut changed, &engine::secrets::run_secrets(wf));
    let mut values: BTreeMap<String, String> = changed.into_iter().collect();
    if let Some(sel) = opts.selector.as_ref().filter(|_| opts.restart_successful) {
        values.insert("restartFrom".into(), sel.as_str().to_string());
    }
    values
}

/// The retry options of a request.
pub(super) fn retry_options(req: &OpRequest) -> ApiResult<engine::ops::RetryOptions> {
    Ok(engine::ops::RetryOptions {
        restart_successful: req.restart_successful,
        selector: selector(&req.node_field_selector)?,
        parameters: parameters(&req.parameters)?,
    })
}

/// Applies an operation to a running workflow and audits it as `action`, then answers with the
/// workflow as stored.
async fn operate(
    state: &ApiState,
    caller: &Caller,
    ns: &str,
    name: &str,
    c: Control,
    action: AuditAction,
) -> ApiResult<Json<Value>> {
    let store = state.backend.store();
    let wf = allowed(state, caller, Action::Stop, ns, name).await?;
    state.backend.operate(wf.uid(), c).await?;
    approvals::record(
        state,
        &caller.identity,
        action,
        &wf,
        None,
        BTreeMap::new(),
        None,
    )
    .await?;
    Ok(Json(to_json(&store.get_workflow(ns, name).await?)))
}

fn selector(text: &str) -> ApiResult<Option<NodeSelector>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    NodeSelector::parse(text)
        .map(Some)
        .map_err(|e| ApiError::bad(e.to_string()))
}

fn node_phase(text: &str) -> ApiResult<Option<NodePhase>> {
    if text.is_empty() {
        return Ok(None);
    }
    serde_json::from_value(Value::String(text.into()))
        .map(Some)
        .map_err(|_| {
            ApiError::bad(format!(
                "phase {text:?} is not a node phase: use Succeeded, Failed, Error, Running…"
            ))
        })
}

/// `{"name": "value", …}` given as a string; numbers and booleans are taken as their text.
fn output_values(text: &str) -> ApiResult<BTreeMap<String, String>> {
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    let bad = |why: String| {
        ApiError::bad(format!(
            "outputParameters must be a JSON object of strings: {why}"
        ))
    };
    let map: serde_json::Map<String, Value> =
        serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            Value::Number(_) | Value::Bool(_) => Ok((k, v.to_string())),
            other => Err(bad(format!("`{k}` is {other}"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_values_are_a_json_object_of_strings() {
        let got = output_values(r#"{"env": "prod", "n": 3, "ok": true}"#).unwrap();
        assert_eq!(got["env"], "prod");
        assert_eq!(got["n"], "3");
        assert_eq!(got["ok"], "true");
        assert!(output_values("").unwrap().is_empty());
        let err = output_values(r#"{"a": [1]}"#).unwrap_err().to_string();
        assert!(err.contains("`a` is [1]"), "{err}");
        assert!(output_values("nope").is_err());
    }
}
