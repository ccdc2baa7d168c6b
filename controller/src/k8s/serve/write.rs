//! Writes through the Kubernetes API: submitting, deleting and operating workflows (stop,
//! terminate, suspend, resume, approving suspend nodes, retry), and templates. Each answer is
//! mirrored into the store before it is returned.

use chrono::Utc;
use engine::model::{Workflow, WorkflowStatus};
use engine::ops::OpError;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::{KubeBackend, object_of, refused, template_resource, to_json, workflow_of};
use crate::k8s::{LABEL_INSTANCE_ID, compress, task_results, workflows};
use crate::local::{BackendError, Control};
use crate::store::{DEFAULT_NAMESPACE, Store, StoreError, TemplateKind};

/// Attempts at a status write that keeps meeting a newer object.
const ATTEMPTS: usize = 5;

/// The name and namespace of a workflow.
fn identity(wf: &Workflow) -> (String, String) {
    let meta = wf.metadata.as_ref();
    let ns = meta
        .and_then(|m| m.namespace.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.into());
    (ns, meta.and_then(|m| m.name.clone()).unwrap_or_default())
}

/// Whether the workflow has finished.
fn finished(wf: &Workflow) -> bool {
    wf.status
        .as_ref()
        .and_then(|s| s.phase)
        .is_some_and(|p| p.completed())
}

/// The spec change a control makes (a merge patch of the Workflow), if it makes one.
fn spec_patch(c: &Control) -> Option<Value> {
    match c {
        Control::Suspend => Some(json!({"spec": {"suspend": true}})),
        Control::Stop => Some(json!({"spec": {"shutdown": "Stop"}})),
        Control::Terminate => Some(json!({"spec": {"shutdown": "Terminate"}})),
        Control::Resume | Control::ResumeChecked(_) => Some(json!({"spec": {"suspend": null}})),
        Control::Nodes { .. } => None,
    }
}

/// Applies a control's change to the suspend nodes of `wf` (resume and node operations);
/// `Ok(false)` when it changes no node.
fn apply_nodes(
    wf: &mut Workflow,
    resolved: &engine::plan::ResolvedWorkflow,
    c: &Control,
) -> Result<bool, OpError> {
    let now = engine::plan::format_time(Utc::now());
    let changed = match c {
        Control::Nodes { selector, update } => {
            engine::ops::update_suspended(wf, resolved, selector, update, &now)?
        }
        Control::Resume => engine::ops::resume_all(wf, resolved, &now)?,
        Control::ResumeChecked(checked) => {
            engine::ops::resume_checked(wf, resolved, checked, &now)?
        }
        Control::Suspend | Control::Stop | Control::Terminate => Vec::new(),
    };
    Ok(!changed.is_empty())
}

impl KubeBackend {
    fn workflow_api(&self, namespace: &str) -> Api<DynamicObject> {
        self.api(&workflows(), Some(namespace))
    }

    /// Creates a workflow in the cluster (the controller runs it). Returns it as created.
    pub async fn submit(&self, mut wf: Workflow) -> Result<Workflow, BackendError> {
        let meta = wf.metadata.get_or_insert_default();
        let ns = meta
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| self.inner.scope.namespace.clone())
            .unwrap_or_else(|| DEFAULT_NAMESPACE.into());
        meta.namespace = Some(ns.clone());
        if let Some(only) = &self.inner.scope.namespace
            && *only != ns
        {
            return Err(StoreError::invalid(
                "workflow",
                format!("this server shows namespace {only:?} only (--namespaced), not {ns:?}"),
            )
            .into());
        }
        let labels = meta.labels.get_or_insert_default();
        match &self.inner.scope.instance_id {
            Some(id) => {
                labels.insert(LABEL_INSTANCE_ID.into(), id.clone());
            }
            None if labels.contains_key(LABEL_INSTANCE_ID) => {
                return Err(StoreError::invalid(
                    "workflow",
                    format!(
                        "label {LABEL_INSTANCE_ID} names a controller instance this server does not \
                         show (it runs without --instance-id): remove the label"
                    ),
                )
                .into());
            }
            None => {}
        }
        let name = meta.name.clone().unwrap_or_default();
        let api = self.workflow_api(&ns);
        let created = api
            .create(&PostParams::default(), &object_of(&wf)?)
            .await
            .map_err(|e| refused("workflow", &ns, &name, e))?;
        // A status it starts with (a memoized resubmit's finished nodes) is its own write: the
        // create drops it (the status subresource).
        match wf
            .status
            .filter(|s| s.nodes.as_ref().is_some_and(|n| !n.is_empty()))
        {
            Some(status) => self.write_status(&api, &created, status).await,
            None => self.mirrored(&created).await,
        }
    }

    /// Mirrors an object the API answered with and returns it as stored (the stored copy when
    /// the watch has stored a newer one already).
    async fn mirrored(&self, o: &DynamicObject) -> Result<Workflow, BackendError> {
        if let Some(wf) = self.apply_workflow(o).await {
            return Ok(wf);
        }
        let uid = o.metadata.uid.as_deref().unwrap_or_default();
        match self.inner.store.get_workflow_by_uid(uid).await {
            Ok(wf) => Ok(wf),
            Err(_) => workflow_of(o).map_err(BackendError::Cluster),
        }
    }

    /// Deletes a workflow from the cluster (its Pods and task results go with it, being owned
    /// by it). An archived workflow stays in the archive. Returns it as it was.
    pub async fn delete(&self, namespace: &str, name: &str) -> Result<Workflow, BackendError> {
        let wf = self.inner.store.get_workflow(namespace, name).await?;
        // Only the workflow the caller was allowed to delete, not one made since under its name.
        let params = DeleteParams {
            preconditions: Some(kube::api::Preconditions {
                uid: wf.metadata.as_ref().and_then(|m| m.uid.clone()),
                resource_version: None,
            }),
            ..DeleteParams::background()
        };
        match self.workflow_api(namespace).delete(name, &params).await {
            Ok(_) => {}
            // Gone already: the watch has not told yet.
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(refused("workflow", namespace, name, e)),
        }
        if let Some(uid) = wf.metadata.as_ref().and_then(|m| m.uid.as_deref()) {
            self.forget(uid).await;
        }
        Ok(wf)
    }

    /// Applies an operation to a running workflow: stop, terminate and suspend change its
    /// spec (the controller acts on them); resume and node operations change its suspend
    /// nodes' status, as Argo's server does. Returns once the change is written.
    pub async fn operate(&self, uid: &str, c: Control) -> Result<(), BackendError> {
        let stored = self.inner.store.get_workflow_by_uid(uid).await?;
        let (ns, name) = identity(&stored);
        let api = self.workflow_api(&ns);
        let mut attempt = 0;
        loop {
            let object = api
                .get(&name)
                .await
                .map_err(|e| refused("workflow", &ns, &name, e))?;
            let mut wf = self
                .full_workflow(&object)
                .await
                .map_err(BackendError::Cluster)?;
            if finished(&wf) || object.metadata.uid.as_deref() != Some(uid) {
                return Err(BackendError::NotRunning(uid.into()));
            }
            let resolved = self.resolve(&wf).await.map_err(BackendError::Cluster)?;
            let nodes_changed = apply_nodes(&mut wf, &resolved, &c)?;
            if nodes_changed {
                let status = wf.status.clone().unwrap_or_default();
                match self.write_status(&api, &object, status).await {
                    Err(BackendError::Store(StoreError::Conflict { .. })) if attempt < ATTEMPTS => {
                        attempt += 1;
                        continue;
                    }
                    other => {
                        other?;
                    }
                }
            }
            if let Some(patch) = spec_patch(&c) {
                let patched = api
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map_err(|e| refused("workflow", &ns, &name, e))?;
                self.mirrored(&patched).await?;
            }
            return Ok(());
        }
    }

    /// Replaces an object's status (optimistically, at the version read), its nodes
    /// compressed when the object would be too large, and mirrors the answer.
    async fn write_status(
        &self,
        api: &Api<DynamicObject>,
        object: &DynamicObject,
        status: WorkflowStatus,
    ) -> Result<Workflow, BackendError> {
        let name = object.metadata.name.clone().unwrap_or_default();
        let ns = object.metadata.namespace.clone().unwrap_or_default();
        let mut body = to_json(object);
        body["status"] = serde_json::to_value(&status).unwrap_or_default();
        let size = serde_json::to_vec(&body).map_or(0, |b| b.len());
        // Offloaded only when the object was (so the controller reads the same database).
        let offload = object.data["status"]["offloadNodeStatusVersion"].is_string();
        let (status, offloaded) =
            compress::place(status, size, compress::MAX_WORKFLOW_SIZE, offload)
                .map_err(|e| BackendError::Cluster(e.to_string()))?;
        if let Some(o) = offloaded {
            let uid = object.metadata.uid.clone().unwrap_or_default();
            let current = object.data["status"]["offloadNodeStatusVersion"].as_str();
            self.inner
                .store
                .offload_nodes(&uid, &o.version, &o.nodes, current)
                .await?;
        }
        body["status"] = serde_json::to_value(&status).unwrap_or_default();
        let body: DynamicObject =
            serde_json::from_value(body).map_err(|e| BackendError::Cluster(e.to_string()))?;
        let written = api
            .replace_status(&name, &PostParams::default(), &body)
            .await
            .map_err(|e| refused("workflow", &ns, &name, e))?;
        self.mirrored(&written).await
    }

    /// Runs a finished workflow again from where it failed (Argo's `retry`, see
    /// [`engine::ops::retry`]): the Pods and task results of the nodes to run again are
    /// deleted (and gone) first, then the spec and the status are written. Returns it as
    /// stored.
    pub async fn retry(
        &self,
        wf: &Workflow,
        opts: &engine::ops::RetryOptions,
    ) -> Result<Workflow, BackendError> {
        let (ns, name) = identity(wf);
        let api = self.workflow_api(&ns);
        let object = api
            .get(&name)
            .await
            .map_err(|e| refused("workflow", &ns, &name, e))?;
        let current = self
            .full_workflow(&object)
            .await
            .map_err(BackendError::Cluster)?;
        let stored_uid = wf.metadata.as_ref().and_then(|m| m.uid.as_deref());
        if stored_uid.is_some() && object.metadata.uid.as_deref() != stored_uid {
            return Err(StoreError::not_found("workflow", &ns, &name).into());
        }
        if !finished(&current) {
            return Err(BackendError::Op(OpError::NotRetryable(
                "cannot retry a workflow that is still running".into(),
            )));
        }
        let retried = engine::ops::retry(&self.with_template_spec(&current).await, opts)?;
        let nodes = current.status.as_ref().and_then(|s| s.nodes.as_ref());
        let pods: Vec<String> = retried
            .removed
            .iter()
            .filter_map(|id| nodes?.get(id))
            .filter_map(|n| engine::plan::node_pod_name(&name, n))
            .collect();
        self.delete_steps(&ns, &pods, &retried.removed).await?;
        let uid = object.metadata.uid.clone().unwrap_or_default();
        for node in &retried.removed {
            self.forget_log(&uid, node);
        }
        // The spec may change (parameters given to the retry); the status is its own write.
        let mut spec = to_json(&object);
        spec["spec"] = serde_json::to_value(&retried.workflow.spec).unwrap_or_default();
        spec["metadata"]["labels"] = serde_json::to_value(
            retried
                .workflow
                .metadata
                .as_ref()
                .and_then(|m| m.labels.clone()),
        )
        .unwrap_or_default();
        let spec: DynamicObject =
            serde_json::from_value(spec).map_err(|e| BackendError::Cluster(e.to_string()))?;
        let replaced = api
            .replace(&name, &PostParams::default(), &spec)
            .await
            .map_err(|e| refused("workflow", &ns, &name, e))?;
        let status = retried.workflow.status.clone().unwrap_or_default();
        let mut target = replaced;
        for _ in 0..ATTEMPTS {
            match self.write_status(&api, &target, status.clone()).await {
                // Changed meanwhile (a label, the controller): read it again.
                Err(BackendError::Store(StoreError::Conflict { .. })) => {
                    target = api
                        .get(&name)
                        .await
                        .map_err(|e| refused("workflow", &ns, &name, e))?;
                }
                other => return other,
            }
        }
        self.write_status(&api, &target, status).await
    }

    /// Deletes the Pods and task results of retried nodes, and waits until the Pods are gone
    /// (so the controller cannot mistake them for the new attempt's).
    async fn delete_steps(
        &self,
        ns: &str,
        pods: &[String],
        nodes: &std::collections::BTreeSet<String>,
    ) -> Result<(), BackendError> {
        let pod_api: Api<k8s_openapi::api::core::v1::Pod> =
            Api::namespaced(self.inner.client.clone(), ns);
        for pod in pods {
            match pod_api.delete(pod, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(refused("pod", ns, pod, e)),
            }
        }
        let results = self.api(&task_results(), Some(ns));
        for node in nodes {
            match results.delete(node, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(refused("workflowtaskresult", ns, node, e)),
            }
        }
        // Gone from the API (an error counts as still there), so the controller cannot take
        // them for the new attempt's.
        for _ in 0..300 {
            let mut left = 0;
            for pod in pods {
                if !matches!(pod_api.get_opt(pod).await, Ok(None)) {
                    left += 1;
                }
            }
            for node in nodes {
                if !matches!(results.get_opt(node).await, Ok(None)) {
                    left += 1;
                }
            }
            if left == 0 {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Err(BackendError::Cluster(format!(
            "the Pods and task results of the nodes to retry in {ns} are still there after 30 s: {}",
            pods.join(", ")
        )))
    }

    /// Creates a template in the cluster; returns it as stored.
    pub async fn create_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
        json: &Value,
    ) -> Result<Value, BackendError> {
        let api = self.api(&template_resource(kind), namespace);
        let object = dynamic(json)?;
        let created = api
            .create(&PostParams::default(), &object)
            .await
            .map_err(|e| refused(kind.as_str(), namespace.unwrap_or(""), name, e))?;
        self.mirrored_template(kind, &created).await
    }

    /// Replaces a template in the cluster if it is still at `version` (its resourceVersion
    /// there); returns it as stored.
    pub async fn update_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
        json: &Value,
        version: &str,
    ) -> Result<Value, BackendError> {
        let api = self.api(&template_resource(kind), namespace);
        let mut object = dynamic(json)?;
        object.metadata.resource_version = Some(version.to_owned());
        let replaced = api
            .replace(name, &PostParams::default(), &object)
            .await
            .map_err(|e| refused(kind.as_str(), namespace.unwrap_or(""), name, e))?;
        self.mirrored_template(kind, &replaced).await
    }

    /// Sets a CronWorkflow's `spec.suspend`; returns it as stored.
    pub async fn set_cron_suspend(
        &self,
        namespace: &str,
        name: &str,
        suspend: bool,
    ) -> Result<Value, BackendError> {
        let kind = TemplateKind::CronWorkflow;
        let api = self.api(&template_resource(kind), Some(namespace));
        let patch = json!({"spec": {"suspend": suspend}});
        let patched = api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| refused(kind.as_str(), namespace, name, e))?;
        self.mirrored_template(kind, &patched).await
    }

    /// Deletes a template from the cluster (and the store).
    pub async fn delete_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(), BackendError> {
        let api = self.api(&template_resource(kind), namespace);
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(refused(kind.as_str(), namespace.unwrap_or(""), name, e)),
        }
        match self
            .inner
            .store
            .delete_template(kind, namespace, name)
            .await
        {
            Ok(()) | Err(StoreError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn mirrored_template(
        &self,
        kind: TemplateKind,
        o: &DynamicObject,
    ) -> Result<Value, BackendError> {
        Ok(self
            .apply_template(kind, o)
            .await
            .unwrap_or_else(|| to_json(o)))
    }
}

/// A JSON document as an object for the API.
fn dynamic(json: &Value) -> Result<DynamicObject, BackendError> {
    serde_json::from_value(json.clone())
        .map_err(|e| StoreError::invalid("object", format!("not a Kubernetes object: {e}")).into())
}
