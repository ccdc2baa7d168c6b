//! Signing in to the web UI with an API token (`--auth-mode client`), as Argo's UI does: the
//! sign-in page posts the token, which is checked like a bearer token and then kept in the
//! server-side session (as its SHA-256, like the token table), so the browser holds only the
//! session cookie. The token is checked again on every request, so revoking or expiring it
//! ends the session's access at once; the session acts as the token — its own role, and the
//! policy's bindings naming it — and changes need the browser's proof of origin.

use axum::Router;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;
use tower_sessions::Session;

use super::{Auth, AuthMode, Caller};
use crate::api::ApiError;

/// The session key of the SHA-256 of the token a browser signed in with.
const TOKEN_KEY: &str = "trellis.token-hash";

/// The route of signing in with a token.
pub fn routes() -> Router<std::sync::Arc<Auth>> {
    Router::new().route("/auth/token", post(sign_in))
}

#[derive(Debug, Deserialize)]
struct SignIn {
    token: String,
    #[serde(default)]
    redirect: Option<String>,
}

async fn sign_in(
    State(auth): State<std::sync::Arc<Auth>>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    if !auth.allows_mode(AuthMode::Client) {
        return failed("this server accepts no API tokens (--auth-mode client is off)");
    }
    // A page of another site must not sign the browser in as someone else.
    if !super::headers::from_own_pages(&headers) {
        return ApiError::Forbidden(
            "a sign-in must come from this server's own sign-in page".into(),
        )
        .into_response();
    }
    let secret = form.token.trim();
    if secret.is_empty() {
        return failed("paste an API token (from `trellis token create`)");
    }
    let caller = match super::tokens::caller_of(&auth, secret).await {
        Ok(c) => c,
        Err(e) => return failed(&e.to_string()),
    };
    // A new session id on sign-in, so an id planted before cannot ride on it.
    if let Err(e) = session.cycle_id().await {
        tracing::error!(error = %e, "cannot renew a session");
        return failed("cannot start a session; try again");
    }
    if let Err(e) = session
        .insert(TOKEN_KEY, super::tokens::hash_secret(secret))
        .await
    {
        tracing::error!(error = %e, "cannot write a session");
        return failed("cannot start a session; try again");
    }
    tracing::info!(user = %caller.identity.subject, "signed in with an API token");
    let to = form.redirect.as_deref().unwrap_or("/");
    Redirect::to(super::oidc::safe_redirect(to)).into_response()
}

/// The caller of a session signed in with a token; `None` when it holds none, or one no
/// longer active (then it is forgotten).
pub async fn session_caller(auth: &Auth, session: &Session) -> Result<Option<Caller>, ApiError> {
    let hash: Option<String> = session
        .get(TOKEN_KEY)
        .await
        .map_err(|e| ApiError::Internal(format!("cannot read the session: {e}")))?;
    let Some(hash) = hash else {
        return Ok(None);
    };
    match super::tokens::caller_of_hash(auth, &hash).await {
        Ok(mut caller) => {
            caller.cookie = true;
            Ok(Some(caller))
        }
        Err(ApiError::Unauthenticated(why)) => {
            tracing::info!(reason = %why, "a token session ended");
            let _ = session.remove::<String>(TOKEN_KEY).await;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Back to the sign-in page, which shows why.
fn failed(why: &str) -> Response {
    Redirect::to(&format!("/login?error={}", super::tokens::url_encode(why))).into_response()
}
