//! Retrying a finished workflow on the local backend: the removed nodes' step records and
//! directories are cleared before the workflow is stored Running again and driven.

use engine::model::Workflow;
use engine::ops::OpError;

use super::{BackendError, LocalBackend, templates, uid_of};
use crate::store::Store;

impl LocalBackend {
    /// Runs a finished workflow again from where it failed (Argo's `retry`, see
    /// [`engine::ops::retry`]): the removed nodes' step records and directories are cleared
    /// first, then the workflow is stored Running and driven. Returns it as stored.
    pub async fn retry(
        &self,
        wf: &Workflow,
        opts: &engine::ops::RetryOptions,
    ) -> Result<Workflow, BackendError> {
        let uid = uid_of(wf);
        // One retry at a time in this process, and from the workflow as stored now: two
        // concurrent retries must not both clear the steps of one run.
        let _one = self.inner.retrying.lock().await;
        if self.is_running(&uid) {
            return Err(BackendError::Op(OpError::NotRetryable(
                "cannot retry a workflow that is still running".into(),
            )));
        }
        let wf = &self.inner.store.get_workflow_by_uid(&uid).await?;
        let mut retried = engine::ops::retry(&self.with_template_spec(wf).await, opts)?;
        if let (Some(s), Some(old)) = (retried.workflow.status.as_mut(), wf.status.as_ref()) {
            s.stored_workflow_template_spec = old.stored_workflow_template_spec.clone();
        }
        let removed: Vec<String> = retried.removed.iter().cloned().collect();
        // Claims first: a crash after them leaves a finished workflow that can be retried again.
        self.inner.store.release_steps(&uid, &removed).await?;
        for id in &removed {
            let dir = self.step_dir(&uid, id);
            if let Err(e) = std::fs::remove_dir_all(&dir)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %dir.display(), error = %e, "cannot clear a retried step's directory");
            }
        }
        let version = wf
            .metadata
            .as_ref()
            .and_then(|m| m.resource_version.clone())
            .unwrap_or_default();
        let stored = self
            .inner
            .store
            .update_workflow(&retried.workflow, &version)
            .await?;
        self.drive(stored.clone());
        Ok(stored)
    }

    /// `wf` with the spec of the template it runs in `status.storedWorkflowTemplateSpec` (see
    /// [`templates::with_template_spec`]).
    pub async fn with_template_spec(&self, wf: &Workflow) -> Workflow {
        templates::with_template_spec(&self.inner.store, &self.inner.layout_root, wf).await
    }
}
