//! Server functions the UI calls. Each is a public endpoint under `/api/`; the bodies run on the
//! server only and read through the [`UiData`] the server put into Leptos context.

use leptos::prelude::*;
use leptos::server_fn::codec::{Json, Postcard, PostcardEncoding};
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::model::{
    FolderPage, LogWindow, NodeDetail, RunPage, RunTab, RunsFilter, RunsPage, TemplatePage,
};

/// Why a request of the UI failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum UiError {
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request was wrong (a bad filter, a bad page token…).
    #[error("{0}")]
    Invalid(String),
    /// The current user may not do that; the message says why.
    #[error("{0}")]
    Forbidden(String),
    /// The request does not fit the object's state (the step no longer waits…).
    #[error("{0}")]
    Conflict(String),
    /// The server failed; its log says why.
    #[error("the server failed: {0}")]
    Internal(String),
    /// The request failed between the browser and the server.
    #[error("the request failed: {0}")]
    Transport(String),
}

impl FromServerFnError for UiError {
    type Encoder = PostcardEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}

/// Where the server functions read from, provided by the server as `Arc<dyn UiData>` in context.
#[cfg(feature = "ssr")]
pub mod data {
    use std::future::Future;
    use std::pin::Pin;

    use super::UiError;
    use crate::model::{
        FolderPage, LogWindow, NodeDetail, RunPage, RunTab, RunsFilter, RunsPage, TemplateId,
        TemplatePage,
    };

    /// A boxed future, so that [`UiData`] can be used as a trait object.
    pub type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, UiError>> + Send + 'a>>;

    /// The read models of the UI's pages.
    pub trait UiData: Send + Sync + 'static {
        /// The folder tree, filtered by `query`, with each template's runs.
        fn folders(&self, query: String) -> Fut<'_, FolderPage>;
        /// The namespaces (and `cluster-wide`) that hold templates, sorted.
        fn namespaces(&self) -> Fut<'_, Vec<String>>;
        /// A template's page, its history starting at page token `page` (empty: the newest).
        fn template(&self, id: TemplateId, page: String) -> Fut<'_, TemplatePage>;
        /// One page of all runs.
        fn runs(&self, filter: RunsFilter) -> Fut<'_, RunsPage>;
        /// A run's page; groups whose parent id is in `expand` are drawn expanded.
        fn run(&self, namespace: String, name: String, expand: Vec<String>) -> Fut<'_, RunPage>;
        /// A run's `timeline` or `yaml` tab.
        fn tab(&self, namespace: String, name: String, tab: String) -> Fut<'_, RunTab>;
        /// One node of a run.
        fn node(&self, namespace: String, name: String, node: String) -> Fut<'_, NodeDetail>;
        /// A window of `count` lines of a node's log from line `from` (1-based), or its last
        /// `count` lines when `from` is `None`.
        fn log(
            &self,
            namespace: String,
            name: String,
            node: String,
            from: Option<u64>,
            count: u32,
        ) -> Fut<'_, LogWindow>;
    }
}

#[cfg(feature = "ssr")]
fn source() -> Result<std::sync::Arc<dyn data::UiData>, UiError> {
    use_context::<std::sync::Arc<dyn data::UiData>>()
        .ok_or_else(|| UiError::Internal("the UI's data source is not wired".into()))
}

/// The folder tree with each template's last runs; `query` keeps templates whose name, title,
/// description or folder contain all its words.
#[server(output = Postcard)]
pub async fn folders(
    /// Words a template must match.
    query: String,
) -> Result<FolderPage, UiError> {
    source()?.folders(query).await
}

/// The namespaces that hold templates, for the namespace switcher.
#[server(output = Postcard)]
pub async fn namespaces() -> Result<Vec<String>, UiError> {
    source()?.namespaces().await
}

/// A template's page (`kind` as Argo spells it; `namespace` empty for cluster templates).
#[server(output = Postcard)]
pub async fn load_template(
    /// `WorkflowTemplate`, `ClusterWorkflowTemplate` or `CronWorkflow`.
    kind: String,
    /// Its namespace (empty for a cluster template).
    namespace: String,
    /// Its name.
    name: String,
    /// The history page token (empty: the newest).
    page: String,
) -> Result<TemplatePage, UiError> {
    use crate::catalog::TemplateKind;
    use crate::model::TemplateId;

    let kind = match kind.as_str() {
        "WorkflowTemplate" => TemplateKind::WorkflowTemplate,
        "ClusterWorkflowTemplate" => TemplateKind::ClusterWorkflowTemplate,
        "CronWorkflow" => TemplateKind::CronWorkflow,
        other => return Err(UiError::Invalid(format!("unknown template kind {other:?}"))),
    };
    let id = TemplateId {
        kind,
        namespace,
        name,
    };
    source()?.template(id, page).await
}

/// One page of all runs.
#[server(input = Json, output = Postcard)]
pub async fn list_runs(
    /// The filters and page.
    filter: RunsFilter,
) -> Result<RunsPage, UiError> {
    source()?.runs(filter).await
}

/// A run's page.
#[server(input = Json, output = Postcard)]
pub async fn load_run(
    /// The run's namespace.
    namespace: String,
    /// The run's name.
    name: String,
    /// Parents whose groups are drawn expanded.
    expand: Vec<String>,
) -> Result<RunPage, UiError> {
    source()?.run(namespace, name, expand).await
}

/// A run's `timeline` or `yaml` tab.
#[server(output = Postcard)]
pub async fn load_run_tab(
    /// The run's namespace.
    namespace: String,
    /// The run's name.
    name: String,
    /// `timeline` or `yaml`.
    tab: String,
) -> Result<RunTab, UiError> {
    source()?.tab(namespace, name, tab).await
}

/// One node of a run.
#[server(output = Postcard)]
pub async fn load_node(
    /// The run's namespace.
    namespace: String,
    /// The run's name.
    name: String,
    /// The node's id.
    node: String,
) -> Result<NodeDetail, UiError> {
    source()?.node(namespace, name, node).await
}

/// At most this many log lines per window.
pub const MAX_LOG_WINDOW: u32 = 2_000;

/// A window of a node's log (see [`data::UiData::log`]).
#[server(input = Json, output = Postcard)]
pub async fn node_log(
    /// The run's namespace.
    namespace: String,
    /// The run's name.
    name: String,
    /// The node's id.
    node: String,
    /// The first line (from 1); `None` for the last lines.
    from: Option<u64>,
    /// How many lines.
    count: u32,
) -> Result<LogWindow, UiError> {
    let count = count.clamp(1, MAX_LOG_WINDOW);
    source()?.log(namespace, name, node, from, count).await
}
