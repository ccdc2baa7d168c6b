//! Argo Server's REST API (DESIGN §4): the paths, query parameters, JSON shapes, error bodies and
//! streams of `argo server`, so that Argo's clients (the `argo` CLI, hera, the argo-workflows SDK)
//! work against Trellis unchanged.
//!
//! Handlers are thin: they parse the request, lint what it carries (`validate`), and call the
//! store or the backend; pure helpers (field masks, option parsing) sit beside them.

mod approvals;
mod archive;
mod artifacts;
mod body;
mod error;
mod events;
mod fields;
mod info;
mod log_follow;
mod logs;
mod metrics;
pub(crate) mod operations;
mod stream;
mod templates;
mod tokens;
mod trellis;
mod validate;
mod watch;
pub(crate) mod workflows;

use std::sync::Arc;

use axum::Router;
use axum::http::{Method, Uri};

use crate::auth::Auth;
use crate::auth::guard::Folders;

pub use error::ApiError;
pub use watch::Hub;

/// What every handler shares (cheap to clone).
#[derive(Clone)]
pub struct ApiState {
    /// Runs workflows and holds the store.
    pub backend: crate::backend::Backend,
    /// Workflow events for watchers.
    pub hub: Hub,
    /// Becomes true when the server shuts down: open streams end then.
    down: tokio::sync::watch::Sender<bool>,
    /// How requests authenticate and what the policy lets them do.
    auth: Arc<Auth>,
    /// The folders of templates, for the policy's folder scopes.
    folders: Arc<Folders>,
}

impl ApiState {
    /// The state for a backend; starts forwarding its status changes to watchers. Requests act
    /// as [`crate::identity::FALLBACK_SUBJECT`] and may do everything until
    /// [`ApiState::with_auth`] says otherwise.
    pub fn new(backend: impl Into<crate::backend::Backend>) -> Self {
        let backend = backend.into();
        let hub = Hub::new(&backend);
        let (down, _) = tokio::sync::watch::channel(false);
        let anyone = crate::identity::Identity::new(crate::identity::FALLBACK_SUBJECT, vec![]);
        Self {
            backend,
            hub,
            down,
            auth: Arc::new(Auth::open(anyone)),
            folders: Arc::default(),
        }
    }

    /// The same state with these authentication settings and policy.
    pub fn with_auth(mut self, auth: Arc<Auth>) -> Self {
        self.auth = auth;
        self
    }

    /// How requests authenticate and what they may do.
    pub fn auth(&self) -> &Arc<Auth> {
        &self.auth
    }

    /// The folders of templates, remembered a few seconds.
    pub(crate) fn folders(&self) -> &Folders {
        &self.folders
    }

    /// Ends every open stream (log follows, watches), so a graceful shutdown does not wait for
    /// clients that would never hang up.
    pub fn shut_down(&self) {
        self.down.send_replace(true);
    }

    /// Resolves once the server is shutting down.
    pub(crate) fn stopping(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.down.subscribe();
        async move {
            let _ = rx.wait_for(|down| *down).await;
        }
    }
}

/// The API's routes under `/api/v1`, without a listener.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .merge(info::routes())
        .merge(events::routes())
        .merge(archive::routes())
        .merge(artifacts::routes())
        .merge(workflows::routes())
        .merge(logs::routes())
        .merge(log_follow::routes())
        .merge(watch::routes())
        .merge(templates::routes())
        .merge(trellis::routes())
        .merge(approvals::routes())
        .merge(tokens::routes())
        .route_layer(axum::middleware::from_fn(metrics::track))
        .merge(metrics::routes())
        .route("/api/{*rest}", axum::routing::any(no_route))
        .with_state(state)
}

/// An API path Trellis does not serve: Argo's 404 shape rather than the UI's page.
async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no API route for {method} {}", uri.path()))
}
