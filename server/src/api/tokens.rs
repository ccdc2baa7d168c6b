//! API tokens over REST, for admins holding the `tokens` action (an admin over every
//! namespace): `GET /api/v1/trellis/tokens` lists them (never their secrets),
//! `POST /api/v1/trellis/tokens` with `{"name", "role", "namespaces", "expiresIn"}` creates one
//! and answers its secret once, `DELETE /api/v1/trellis/tokens/{name}` revokes it.

use axum::extract::{Path, State};
use axum::routing::{delete, get};
use axum::{Json, Router};
use engine::access::{Action, Kind, Target};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiState;
use super::body::JsonBody;
use super::error::{ApiError, ApiResult};
use crate::auth::Caller;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/trellis/tokens", get(list).post(create))
        .route("/api/v1/trellis/tokens/{name}", delete(revoke))
}

/// Body of a creation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateRequest {
    name: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    namespaces: Vec<String>,
    #[serde(default)]
    expires_in: Option<String>,
}

fn target(name: Option<&str>) -> Target {
    Target {
        kind: Kind::Token,
        namespace: None,
        name: name.map(str::to_owned),
        template: None,
        folder: None,
    }
}

fn store(s: &ApiState) -> ApiResult<&controller::store::SqlStore> {
    s.auth()
        .store()
        .ok_or_else(|| ApiError::FailedPrecondition("this server keeps no API tokens".into()))
}

async fn list(State(s): State<ApiState>, caller: Caller) -> ApiResult<Json<Value>> {
    s.auth().check(&caller, Action::Tokens, &target(None))?;
    let items = store(&s)?.api_tokens().await?;
    Ok(Json(json!({"items": items})))
}

async fn create(
    State(s): State<ApiState>,
    caller: Caller,
    JsonBody(req): JsonBody<CreateRequest>,
) -> ApiResult<Json<Value>> {
    s.auth()
        .check(&caller, Action::Tokens, &target(Some(&req.name)))?;
    let (new, secret) = crate::auth::cli::new_token(
        &req.name,
        req.role.as_deref(),
        &req.namespaces,
        req.expires_in.as_deref(),
        &caller.identity.subject,
    )
    .map_err(ApiError::BadRequest)?;
    let token = store(&s)?.create_api_token(&new).await?;
    tracing::info!(token = %token.name, by = %caller.identity.subject, "API token created");
    Ok(Json(json!({"token": secret, "item": token})))
}

async fn revoke(
    State(s): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    s.auth()
        .check(&caller, Action::Tokens, &target(Some(&name)))?;
    let token = store(&s)?.revoke_api_token(&name).await?;
    tracing::info!(token = %token.name, by = %caller.identity.subject, "API token revoked");
    Ok(Json(json!({"item": token})))
}
