//! Operating running workflows of the local backend: controls (stop, terminate, suspend,
//! resume, node operations) sent to their drivers and applied there, and deletion.

use std::sync::Arc;

use chrono::Utc;
use engine::model::Workflow;
use engine::ops::OpError;
use engine::plan::ResolvedWorkflow;
use tokio::sync::broadcast;

use super::{BackendError, Control, Driver, Event, LocalBackend, uid_of};
use crate::store::Store;

impl LocalBackend {
    /// Deletes a live workflow — terminating it first when it runs, so its steps are stopped —
    /// and tells [`LocalBackend::subscribe_deletions`]. An archived workflow stays in the
    /// archive (see [`Store::delete_workflow`]). Returns it as it was.
    pub async fn delete(&self, namespace: &str, name: &str) -> Result<Workflow, BackendError> {
        let wf = self.inner.store.get_workflow(namespace, name).await?;
        let uid = uid_of(&wf);
        if self.is_running(&uid) {
            let _ = self.control(&uid, Control::Terminate);
        }
        self.inner.store.delete_workflow(namespace, name).await?;
        let _ = self.inner.deletions.send(Arc::new(wf.clone()));
        Ok(wf)
    }

    /// Every workflow deleted through [`LocalBackend::delete`] (by a user, a TTL, a history
    /// limit).
    pub fn subscribe_deletions(&self) -> broadcast::Receiver<Arc<Workflow>> {
        self.inner.deletions.subscribe()
    }

    /// Sends an operation to a running workflow without waiting for it to apply.
    pub fn control(&self, uid: &str, c: Control) -> Result<(), BackendError> {
        self.send(uid, Event::Control(c, None))
    }

    /// Applies an operation to a running workflow and waits until the status it leads to is
    /// stored, so what the caller reads next shows it. An operation that does not apply (no
    /// suspend node matches, a value that is not supplied…) changes nothing.
    pub async fn operate(&self, uid: &str, c: Control) -> Result<(), BackendError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(uid, Event::Control(c, Some(tx)))?;
        rx.await
            .map_err(|_| BackendError::NotRunning(uid.into()))?
            .map_err(BackendError::Op)
    }

    /// How many workflows this backend is running now.
    pub fn active_count(&self) -> usize {
        self.inner.workflows.lock().map_or(0, |m| m.len())
    }

    /// Whether a workflow is being run by this backend now.
    pub fn is_running(&self, uid: &str) -> bool {
        self.inner
            .workflows
            .lock()
            .is_ok_and(|m| m.contains_key(uid))
    }

    fn send(&self, uid: &str, ev: Event) -> Result<(), BackendError> {
        let map = self
            .inner
            .workflows
            .lock()
            .map_err(|_| BackendError::NotRunning(uid.into()))?;
        let tx = map
            .get(uid)
            .ok_or_else(|| BackendError::NotRunning(uid.into()))?;
        tx.send(ev)
            .map_err(|_| BackendError::NotRunning(uid.into()))
    }
}

impl Driver {
    pub(super) fn apply_control(
        &mut self,
        c: Control,
        resolved: &mut ResolvedWorkflow,
    ) -> Result<(), OpError> {
        let now = engine::plan::format_time(Utc::now());
        match c {
            Control::Nodes { selector, update } => {
                engine::ops::update_suspended(&mut self.wf, resolved, &selector, &update, &now)?;
            }
            Control::Resume => {
                engine::ops::resume_all(&mut self.wf, resolved, &now)?;
                resolved.spec.suspend = None;
            }
            Control::ResumeChecked(checked) => {
                engine::ops::resume_checked(&mut self.wf, resolved, &checked, &now)?;
                resolved.spec.suspend = None;
            }
            Control::Suspend => {
                self.wf.spec.get_or_insert_with(Default::default).suspend = Some(true);
                resolved.spec.suspend = Some(true);
            }
            Control::Stop | Control::Terminate => {
                let s = if c == Control::Stop {
                    "Stop"
                } else {
                    "Terminate"
                };
                self.wf.spec.get_or_insert_with(Default::default).shutdown = Some(s.into());
                resolved.spec.shutdown = Some(s.into());
            }
        }
        Ok(())
    }
}
