//! CronWorkflows on the Kubernetes backend: the scheduler of [`crate::cron`] over the API. The
//! CronWorkflows come from a watch cache; runs are Workflow objects created, terminated
//! (`spec.shutdown`) and deleted through the API; the status is written to the CronWorkflow's
//! status subresource.

use engine::model::{CronWorkflowStatus, Workflow, WorkflowPhase};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::reflector::{Store, store::Writer};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::{Scope, argo_resource, workflows};
use crate::cron::{CronBackend, CronObject, SubmitError};
use crate::store::LABEL_CRON_WORKFLOW;

/// The CronWorkflows of a scope, from a watch, and the API to act with.
#[derive(Clone)]
pub struct KubeCrons {
    client: Client,
    crons: Store<DynamicObject>,
    instance_id: Option<String>,
}

impl KubeCrons {
    /// Starts watching the CronWorkflows in scope.
    pub fn watch(client: &Client, scope: &Scope) -> Self {
        let ar = argo_resource("CronWorkflow", "cronworkflows");
        let writer = Writer::new(ar.clone());
        let crons = writer.as_reader();
        super::templates::watch_into(
            scope.dynamic(client, &ar),
            watcher::Config::default().labels(&scope.selector()),
            writer,
            "cron workflows",
        );
        Self {
            client: client.clone(),
            crons,
            instance_id: scope.instance_id.clone(),
        }
    }

    fn workflows(&self, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), namespace, &workflows())
    }

    fn cron_api(&self, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(
            self.client.clone(),
            namespace,
            &argo_resource("CronWorkflow", "cronworkflows"),
        )
    }
}

fn typed(o: &DynamicObject) -> Option<Workflow> {
    serde_json::from_value(serde_json::to_value(o).ok()?).ok()
}

impl CronBackend for KubeCrons {
    async fn crons(&self) -> Result<Vec<CronObject>, String> {
        if self.crons.wait_until_ready().await.is_err() {
            return Err("the CronWorkflow watch ended".into());
        }
        Ok(self
            .crons
            .state()
            .iter()
            .map(|c| CronObject {
                uid: c.uid().unwrap_or_default(),
                name: c.name_any(),
                namespace: c.namespace(),
                body: serde_json::to_value(c.as_ref()).unwrap_or_default(),
                resource_version: c.resource_version().unwrap_or_default(),
            })
            .collect())
    }

    async fn run_phase(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Option<WorkflowPhase>>, String> {
        let found = self
            .workflows(namespace)
            .get_opt(name)
            .await
            .map_err(|e| e.to_string())?;
        Ok(found.map(|o| typed(&o).and_then(|w| w.status.and_then(|s| s.phase))))
    }

    async fn terminate(&self, namespace: &str, name: &str) {
        let patch = serde_json::json!({"spec": {"shutdown": "Terminate"}});
        if let Err(e) = self
            .workflows(namespace)
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            tracing::warn!(workflow.name = %name, error = %e, "terminating a replaced cron run failed");
        }
    }

    async fn ran_before(&self, namespace: &str, name: &str) -> bool {
        // Without an archive, only a run that still exists is known.
        matches!(self.workflows(namespace).get_opt(name).await, Ok(Some(_)))
    }

    async fn submit(&self, wf: Workflow) -> Result<Workflow, SubmitError> {
        let ns = wf
            .metadata
            .as_ref()
            .and_then(|m| m.namespace.clone())
            .unwrap_or_else(|| "default".into());
        let mut body = serde_json::to_value(&wf).map_err(|e| SubmitError::Failed(e.to_string()))?;
        body["apiVersion"] = "argoproj.io/v1alpha1".into();
        body["kind"] = "Workflow".into();
        // Runs are this controller's, as their CronWorkflow is.
        if let Some(id) = &self.instance_id {
            body["metadata"]["labels"][super::LABEL_INSTANCE_ID] = id.clone().into();
        }
        let obj: DynamicObject =
            serde_json::from_value(body).map_err(|e| SubmitError::Failed(e.to_string()))?;
        match self
            .workflows(&ns)
            .create(&PostParams::default(), &obj)
            .await
        {
            Ok(created) => typed(&created).ok_or_else(|| SubmitError::Failed("unreadable".into())),
            Err(kube::Error::Api(s)) if s.is_already_exists() => Err(SubmitError::AlreadyExists),
            Err(e) => Err(SubmitError::Failed(e.to_string())),
        }
    }

    async fn runs(&self, namespace: &str, cron: &str) -> Result<Vec<Workflow>, String> {
        let list = self
            .workflows(namespace)
            .list(&ListParams::default().labels(&format!("{LABEL_CRON_WORKFLOW}={cron}")))
            .await
            .map_err(|e| e.to_string())?;
        Ok(list.items.iter().filter_map(typed).collect())
    }

    async fn delete(&self, namespace: &str, name: &str) -> Result<(), String> {
        match self
            .workflows(namespace)
            .delete(name, &DeleteParams::background())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.is_not_found() => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn save_status(
        &self,
        cron: &CronObject,
        status: &CronWorkflowStatus,
    ) -> Result<(), String> {
        let ns = cron.namespace.clone().unwrap_or_else(|| "default".into());
        let api = self.cron_api(&ns);
        let status = serde_json::to_value(status).map_err(|e| e.to_string())?;
        let mut body = cron.body.clone();
        body["status"] = status;
        let obj: DynamicObject = serde_json::from_value(body).map_err(|e| e.to_string())?;
        match api
            .replace_status(&cron.name, &PostParams::default(), &obj)
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.is_not_found() => Ok(()),
            // The cache was behind (our own last write, or a user's): the next tick decides
            // again from the object as it is, rather than putting a stale status on it.
            Err(kube::Error::Api(s)) if s.is_conflict() => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}
