//! What `trellis serve --backend kubernetes` runs on: the Workflows, WorkflowTemplates,
//! ClusterWorkflowTemplates and CronWorkflows of the cluster, mirrored from watches into the
//! server's SQL store (so the API and UI read, page and search them as on the local backend,
//! and finished workflows stay in the archive after the cluster deletes them); writes go to the
//! Kubernetes API, and what it answers is mirrored at once, so a client reads its own writes;
//! step logs come from the Pods' log API. The controller (`trellis controller`) runs them.

mod logs;
mod mirror;
mod write;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use engine::model::Workflow;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::core::ApiResource;
use tokio::sync::broadcast;

use super::Scope;
use crate::local::BackendError;
use crate::store::{SqlStore, StoreError, TemplateKind};

/// How the server reaches the cluster.
#[derive(Debug, Clone)]
pub struct KubeConfig {
    /// Which objects it shows and writes (the controller's `--namespaced` and
    /// `--instance-id`).
    pub scope: Scope,
    /// Where the step-log cache lives (`<data_dir>/pod-logs`).
    pub data_dir: PathBuf,
}

struct Inner {
    client: Client,
    scope: Scope,
    store: SqlStore,
    data_dir: PathBuf,
    updates: broadcast::Sender<Arc<Workflow>>,
    deletions: broadcast::Sender<Arc<Workflow>>,
    /// How many of the watches have had their first full list.
    listed: tokio::sync::watch::Sender<usize>,
    /// The Kubernetes resourceVersion of each workflow's stored copy, by uid.
    versions: Mutex<HashMap<String, u64>>,
    /// The uids of workflows forgotten as deleted.
    gone: Mutex<HashSet<String>>,
    /// The steps whose logs are being fetched again while they run (by cache directory).
    refreshing: Mutex<HashSet<PathBuf>>,
}

/// The cluster as the server sees it (cheap to clone).
#[derive(Clone)]
pub struct KubeBackend {
    inner: Arc<Inner>,
}

impl KubeBackend {
    /// Starts mirroring the cluster's objects in scope into `store` (in the background; see
    /// [`KubeBackend::ready`]).
    pub fn start(client: Client, store: SqlStore, config: KubeConfig) -> Self {
        let backend = KubeBackend {
            inner: Arc::new(Inner {
                client,
                scope: config.scope,
                store,
                data_dir: config.data_dir,
                updates: broadcast::channel(1024).0,
                deletions: broadcast::channel(256).0,
                listed: tokio::sync::watch::channel(0).0,
                versions: Mutex::default(),
                gone: Mutex::default(),
                refreshing: Mutex::default(),
            }),
        };
        backend.mirror();
        backend
    }

    /// Resolves once every watch has mirrored its first full list.
    pub async fn ready(&self) {
        let watches = mirror::watches(&self.inner.scope);
        let mut rx = self.inner.listed.subscribe();
        let _ = rx.wait_for(|n| *n >= watches).await;
    }

    /// The store the cluster's objects are mirrored into.
    pub fn store(&self) -> &SqlStore {
        &self.inner.store
    }

    /// Every workflow change the watches see (and every write of this server).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Workflow>> {
        self.inner.updates.subscribe()
    }

    /// Every workflow deleted from the cluster.
    pub fn subscribe_deletions(&self) -> broadcast::Receiver<Arc<Workflow>> {
        self.inner.deletions.subscribe()
    }

    /// Where artifacts of the local kind would be: none on Kubernetes (an empty directory).
    pub fn artifact_root(&self) -> PathBuf {
        self.inner.data_dir.join("artifacts")
    }

    /// Resolves a workflow against the mirrored templates, as the controller will.
    pub async fn resolve(&self, wf: &Workflow) -> Result<engine::plan::ResolvedWorkflow, String> {
        crate::local::resolve(&self.inner.store, &self.inner.data_dir, wf).await
    }

    /// `wf` with its template's spec in `status.storedWorkflowTemplateSpec` (see
    /// [`crate::local::with_template_spec`]).
    pub async fn with_template_spec(&self, wf: &Workflow) -> Workflow {
        crate::local::with_template_spec(&self.inner.store, &self.inner.data_dir, wf).await
    }

    /// A workflow object as the engine reads it, its nodes decompressed or read back from the
    /// database when offloaded (the controller's database, which the server shares then).
    async fn full_workflow(&self, o: &DynamicObject) -> Result<Workflow, String> {
        let mut wf = workflow_of(o)?;
        let uid = o.metadata.uid.clone().unwrap_or_default();
        if let Some(s) = wf.status.as_mut()
            && let Some(version) = s.offload_node_status_version.clone()
        {
            let nodes = self
                .inner
                .store
                .offloaded_nodes(&uid, &version)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| {
                    format!(
                        "its node status is offloaded ({version}) to a database this server does not \
                         read: give it the controller's --database-url"
                    )
                })?;
            super::compress::inline(s, &nodes)?;
        }
        Ok(wf)
    }

    /// The API of one kind of object, in a namespace or cluster-wide.
    fn api(&self, ar: &ApiResource, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace {
            Some(ns) => Api::namespaced_with(self.inner.client.clone(), ns, ar),
            None => Api::all_with(self.inner.client.clone(), ar),
        }
    }
}

/// The API resource of a template kind.
fn template_resource(kind: TemplateKind) -> ApiResource {
    match kind {
        TemplateKind::WorkflowTemplate => {
            super::argo_resource("WorkflowTemplate", "workflowtemplates")
        }
        TemplateKind::ClusterWorkflowTemplate => {
            super::argo_resource("ClusterWorkflowTemplate", "clusterworkflowtemplates")
        }
        TemplateKind::CronWorkflow => super::argo_resource("CronWorkflow", "cronworkflows"),
        TemplateKind::WorkflowEventBinding => {
            super::argo_resource("WorkflowEventBinding", "workfloweventbindings")
        }
    }
}

/// The backend's error for a refusal of the Kubernetes API: the store's kinds of error where
/// one means the same (not found, already exists, changed meanwhile, invalid), so the API
/// answers with the same status.
fn refused(kind: &str, namespace: &str, name: &str, e: kube::Error) -> BackendError {
    match &e {
        kube::Error::Api(s) if s.code == 404 => StoreError::not_found(kind, namespace, name).into(),
        kube::Error::Api(s) if s.code == 409 && s.reason == "AlreadyExists" => {
            StoreError::already_exists(kind, namespace, name).into()
        }
        kube::Error::Api(s) if s.code == 409 => StoreError::Conflict {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
            expected: "the version read".into(),
            actual: "a newer one".into(),
        }
        .into(),
        kube::Error::Api(s) if s.code == 400 || s.code == 422 => {
            StoreError::invalid("object", s.message.clone()).into()
        }
        _ => BackendError::Cluster(format!("{kind} {namespace}/{name}: {e}")),
    }
}

/// An object as JSON, without its `managedFields` (the API server's bookkeeping, which no
/// reader of the copy needs).
fn to_json(o: &DynamicObject) -> serde_json::Value {
    let mut json = serde_json::to_value(o).unwrap_or_default();
    if let Some(meta) = json.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
    }
    json
}

/// A workflow object as the engine reads it, its nodes decompressed.
fn workflow_of(o: &DynamicObject) -> Result<Workflow, String> {
    let mut wf: Workflow = serde_json::from_value(to_json(o)).map_err(|e| e.to_string())?;
    if let Some(s) = wf.status.as_mut() {
        super::compress::decompress(s)?;
    }
    Ok(wf)
}

/// A workflow as an object for the API.
fn object_of(wf: &Workflow) -> Result<DynamicObject, BackendError> {
    let json = serde_json::to_value(wf).map_err(|e| BackendError::Cluster(e.to_string()))?;
    serde_json::from_value(json).map_err(|e| BackendError::Cluster(e.to_string()))
}
