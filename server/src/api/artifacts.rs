//! Artifact downloads, at Argo Server's paths: `GET /artifacts/{namespace}/{name}/{nodeId}/{artifact}`
//! for a node's output artifacts and `GET /input-artifacts/…` for its inputs. The object is sent
//! as it is stored (Argo's default tar+gzip stays packed), with a file name to save it under.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use controller::artifacts::{ArtifactError, read_artifact};
use controller::store::Store;
use engine::model::Artifact;
use futures::TryStreamExt;

use super::ApiState;
use super::error::{ApiError, ApiResult};
use crate::auth::{Caller, guard};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/artifacts/{namespace}/{name}/{node}/{artifact}",
            get(output),
        )
        .route(
            "/input-artifacts/{namespace}/{name}/{node}/{artifact}",
            get(input),
        )
}

type Args = Path<(String, String, String, String)>;

async fn output(
    State(s): State<ApiState>,
    caller: Caller,
    Path((ns, name, node, art)): Args,
) -> ApiResult<Response> {
    download(&s, &caller, &ns, &name, &node, &art, false).await
}

async fn input(
    State(s): State<ApiState>,
    caller: Caller,
    Path((ns, name, node, art)): Args,
) -> ApiResult<Response> {
    download(&s, &caller, &ns, &name, &node, &art, true).await
}

async fn download(
    state: &ApiState,
    caller: &Caller,
    ns: &str,
    name: &str,
    node_id: &str,
    artifact: &str,
    inputs: bool,
) -> ApiResult<Response> {
    let wf = state.backend.store().get_workflow(ns, name).await?;
    guard::check_workflow(state, caller, engine::access::Action::Read, &wf).await?;
    let node = wf
        .status
        .as_ref()
        .and_then(|s| s.nodes.as_ref())
        .and_then(|n| n.get(node_id))
        .ok_or_else(|| {
            ApiError::NotFound(format!("workflow {ns}/{name} has no node {node_id:?}"))
        })?;
    let list: Option<&Vec<Artifact>> = if inputs {
        node.inputs.as_ref().and_then(|i| i.artifacts.as_ref())
    } else {
        node.outputs.as_ref().and_then(|o| o.artifacts.as_ref())
    };
    let side = if inputs { "input" } else { "output" };
    let found = list
        .into_iter()
        .flatten()
        .find(|a| a.name.as_deref() == Some(artifact))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "node {node_id} has no {side} artifact {artifact:?}"
            ))
        })?;
    let source = controller::local::launch::source_of(found, &state.backend.artifact_root())
        .ok_or_else(|| {
            ApiError::bad(format!(
                "artifact {artifact:?} has no location Trellis can read"
            ))
        })?;
    let stream = read_artifact(&source).await.map_err(artifact_error)?;
    let file = file_name(found, artifact);
    let mut resp = Body::from_stream(stream.map_err(std::io::Error::other)).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// The file name to save an artifact under: the last part of its key, else its name.
fn file_name(a: &Artifact, name: &str) -> String {
    let key =
        a.s3.as_ref()
            .and_then(|s| s.key.clone())
            .unwrap_or_default();
    let base = key.rsplit('/').next().unwrap_or_default();
    let chosen = if base.is_empty() { name } else { base };
    chosen
        .chars()
        .filter(|c| !matches!(c, '"' | '\\' | '\r' | '\n'))
        .collect()
}

fn artifact_error(e: ArtifactError) -> ApiError {
    match e {
        ArtifactError::NotFound(what) => ApiError::NotFound(format!("artifact {what} not found")),
        ArtifactError::Unsupported(why) => ApiError::bad(why),
        other => ApiError::Internal(other.to_string()),
    }
}
