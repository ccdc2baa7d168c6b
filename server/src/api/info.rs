//! `/api/v1/info`, `/api/v1/version` and `/api/v1/userinfo`: what Argo's clients ask first.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};

use super::ApiState;
use crate::auth::{Caller, Via};

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

/// Who the caller is (Argo's `GetUserInfoResponse`: `issuer`, `subject`, `groups`, `email`,
/// `name`): the OpenID provider's issuer for a signed-in user, none for a token or the server's
/// own user.
async fn userinfo(State(state): State<ApiState>, caller: Caller) -> Json<Value> {
    let issuer = match caller.via {
        Via::Session => state.auth().sso().map(|s| s.issuer().to_owned()),
        Via::Token(_) | Via::Server => None,
    };
    let mut body = serde_json::to_value(&caller.identity).unwrap_or_default();
    if let (Some(issuer), Some(o)) = (issuer, body.as_object_mut()) {
        o.insert("issuer".into(), issuer.into());
    }
    Json(body)
}
