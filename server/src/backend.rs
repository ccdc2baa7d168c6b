//! What the server runs on: the embedded local backend, or a Kubernetes cluster whose objects
//! are mirrored into the store (`--backend kubernetes`). Reads go to the store either way;
//! writes go where the workflows live.

use std::path::PathBuf;
use std::sync::Arc;

use controller::k8s::serve::KubeBackend;
use controller::local::{BackendError, Control, LocalBackend};
use controller::store::{SqlStore, Store, StoreError, TemplateKind};
use engine::model::Workflow;
use engine::plan::ResolvedWorkflow;
use serde_json::Value;
use tokio::sync::broadcast;

/// The server's backend (cheap to clone).
#[derive(Clone)]
pub enum Backend {
    /// Workflows run here, steps as local processes.
    Local(LocalBackend),
    /// Workflows are objects of a cluster, run by `trellis controller`.
    Kube(KubeBackend),
}

impl From<LocalBackend> for Backend {
    fn from(b: LocalBackend) -> Self {
        Backend::Local(b)
    }
}

impl Backend {
    /// Whether workflows are objects of a Kubernetes cluster (the store holds their copies).
    pub fn is_kubernetes(&self) -> bool {
        matches!(self, Backend::Kube(_))
    }

    /// The store the API and UI read.
    pub fn store(&self) -> &SqlStore {
        match self {
            Backend::Local(b) => b.store(),
            Backend::Kube(b) => b.store(),
        }
    }

    /// Starts a new workflow; returns it as stored.
    pub async fn submit(&self, wf: Workflow) -> Result<Workflow, BackendError> {
        match self {
            Backend::Local(b) => b.submit(wf).await,
            Backend::Kube(b) => b.submit(wf).await,
        }
    }

    /// Applies an operation to a running workflow.
    pub async fn operate(&self, uid: &str, c: Control) -> Result<(), BackendError> {
        match self {
            Backend::Local(b) => b.operate(uid, c).await,
            Backend::Kube(b) => b.operate(uid, c).await,
        }
    }

    /// Runs a finished workflow again from where it failed.
    pub async fn retry(
        &self,
        wf: &Workflow,
        opts: &engine::ops::RetryOptions,
    ) -> Result<Workflow, BackendError> {
        match self {
            Backend::Local(b) => b.retry(wf, opts).await,
            Backend::Kube(b) => b.retry(wf, opts).await,
        }
    }

    /// Deletes a live workflow; returns it as it was.
    pub async fn delete(&self, namespace: &str, name: &str) -> Result<Workflow, BackendError> {
        match self {
            Backend::Local(b) => b.delete(namespace, name).await,
            Backend::Kube(b) => b.delete(namespace, name).await,
        }
    }

    /// Resolves a workflow against the templates, as running it would.
    pub async fn resolve(&self, wf: &Workflow) -> Result<ResolvedWorkflow, String> {
        match self {
            Backend::Local(b) => b.resolve(wf).await,
            Backend::Kube(b) => b.resolve(wf).await,
        }
    }

    /// `wf` with its template's spec in `status.storedWorkflowTemplateSpec`.
    pub async fn with_template_spec(&self, wf: &Workflow) -> Workflow {
        match self {
            Backend::Local(b) => b.with_template_spec(wf).await,
            Backend::Kube(b) => b.with_template_spec(wf).await,
        }
    }

    /// The `main.log` file of a workflow's node (absent while it has no log).
    pub async fn log_path(&self, wf: &Workflow, node: &str) -> PathBuf {
        match self {
            Backend::Local(b) => {
                let uid = wf
                    .metadata
                    .as_ref()
                    .and_then(|m| m.uid.clone())
                    .unwrap_or_default();
                b.step_dir(&uid, node).join(controller::exec::LOG_FILE)
            }
            Backend::Kube(b) => b.log_path(wf, node).await,
        }
    }

    /// The default artifact repository of the local backend.
    pub fn artifact_root(&self) -> PathBuf {
        match self {
            Backend::Local(b) => b.artifact_root(),
            Backend::Kube(b) => b.artifact_root(),
        }
    }

    /// How many workflows this process runs now (none on Kubernetes: the controller does).
    pub fn active_count(&self) -> usize {
        match self {
            Backend::Local(b) => b.active_count(),
            Backend::Kube(_) => 0,
        }
    }

    /// Every status change of every workflow.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Workflow>> {
        match self {
            Backend::Local(b) => b.subscribe(),
            Backend::Kube(b) => b.subscribe(),
        }
    }

    /// Every deleted workflow.
    pub fn subscribe_deletions(&self) -> broadcast::Receiver<Arc<Workflow>> {
        match self {
            Backend::Local(b) => b.subscribe_deletions(),
            Backend::Kube(b) => b.subscribe_deletions(),
        }
    }

    /// Creates a template; returns it as stored.
    pub async fn create_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
        json: &Value,
    ) -> Result<Value, BackendError> {
        match self {
            Backend::Local(b) => Ok(b
                .store()
                .create_template(kind, namespace, name, json)
                .await?
                .body),
            Backend::Kube(b) => b.create_template(kind, namespace, name, json).await,
        }
    }

    /// Replaces a template if it is still at `version`; returns it as stored.
    pub async fn update_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
        json: &Value,
        version: &str,
    ) -> Result<Value, BackendError> {
        match self {
            Backend::Local(b) => Ok(b
                .store()
                .update_template(kind, namespace, name, json, version)
                .await?
                .body),
            Backend::Kube(b) => {
                b.update_template(kind, namespace, name, json, version)
                    .await
            }
        }
    }

    /// Deletes a template.
    pub async fn delete_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(), BackendError> {
        match self {
            Backend::Local(b) => Ok(b.store().delete_template(kind, namespace, name).await?),
            Backend::Kube(b) => b.delete_template(kind, namespace, name).await,
        }
    }

    /// The version a template update must name when the caller names none: the store's
    /// locally, the cluster's on Kubernetes.
    pub fn template_version(&self, stored: &controller::store::StoredTemplate) -> String {
        match self {
            Backend::Local(_) => stored.resource_version.clone(),
            Backend::Kube(_) => stored
                .body
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// Sets a CronWorkflow's `spec.suspend`; returns it as stored.
    pub async fn set_cron_suspend(
        &self,
        namespace: &str,
        name: &str,
        suspend: bool,
    ) -> Result<Value, BackendError> {
        match self {
            Backend::Local(b) => local_cron_suspend(b.store(), namespace, name, suspend).await,
            Backend::Kube(b) => b.set_cron_suspend(namespace, name, suspend).await,
        }
    }

    /// Resolves when this server no longer runs its database's workflows (another local
    /// server took them over); never on Kubernetes.
    pub async fn runner_lost(&self) -> StoreError {
        match self {
            Backend::Local(b) => b.runner_lost().await,
            Backend::Kube(_) => std::future::pending().await,
        }
    }
}

/// Sets a stored CronWorkflow's `spec.suspend`, reading it again when the scheduler wrote its
/// status meanwhile.
async fn local_cron_suspend(
    store: &SqlStore,
    namespace: &str,
    name: &str,
    suspend: bool,
) -> Result<Value, BackendError> {
    let kind = TemplateKind::CronWorkflow;
    let mut attempts = 0;
    loop {
        let t = store.get_template(kind, Some(namespace), name).await?;
        let mut body = t.body;
        let spec = body
            .as_object_mut()
            .map(|o| o.entry("spec").or_insert_with(|| serde_json::json!({})))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| {
                StoreError::invalid("CronWorkflow", "the stored document is not an object")
            })?;
        spec.insert("suspend".into(), suspend.into());
        match store
            .update_template(kind, Some(namespace), name, &body, &t.resource_version)
            .await
        {
            Err(StoreError::Conflict { .. }) if attempts < 5 => attempts += 1,
            other => return Ok(other?.body),
        }
    }
}
