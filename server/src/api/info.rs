//! `/api/v1/info`, `/api/v1/version` and `/api/v1/userinfo`: what Argo's clients ask first.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};

use super::ApiState;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/info", get(info))
        .route("/api/v1/version", get(version))
        .route("/api/v1/userinfo", get(userinfo))
}

/// Server settings the UI reads (Argo's `InfoResponse`): no managed namespace, no extra links.
async fn info() -> Json<Value> {
    Json(json!({"managedNamespace": "", "links": [], "modals": {}, "navColor": "", "columns": []}))
}

/// Argo's `Version` shape with Trellis' own version.
async fn version() -> Json<Value> {
    Json(version_body())
}

fn version_body() -> Value {
    json!({
        "version": concat!("v", env!("CARGO_PKG_VERSION")),
        "buildDate": "",
        "gitCommit": "",
        "gitTag": concat!("v", env!("CARGO_PKG_VERSION")),
        "gitTreeState": "",
        "goVersion": "",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
    })
}

/// Who the caller is (Argo's `GetUserInfoResponse`: `subject`, `email`, `name`, `groups`).
/// Until authentication lands every request acts as the server's `--user`.
async fn userinfo(State(state): State<ApiState>) -> Json<Value> {
    Json(serde_json::to_value(state.identity()).unwrap_or_default())
}
