//! The CronWorkflow scheduler, for either backend ([`CronBackend`]: the local store, or the
//! Kubernetes API in `k8s::cron`): every second it looks at the CronWorkflows and, as
//! `engine::cron` decides, starts the runs that are due (named after their
//! scheduled time, so none starts twice), terminates the ones `Replace` replaces, counts the runs
//! that finished, deletes those beyond the history limits, and records it all in the
//! CronWorkflow's status. After a restart, a run missed while Trellis was down is started if it
//! is still within `startingDeadlineSeconds`.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use engine::cron::{FinishedRun, Verdict};
use engine::model::{
    Condition, CronWorkflow, CronWorkflowPhase, CronWorkflowStatus, Workflow, WorkflowPhase,
};
use k8s_openapi::api::core::v1::ObjectReference;

use crate::local::{BackendError, Control, LocalBackend};
use crate::store::{
    LABEL_CRON_WORKFLOW, LabelSelector, Scope, Store, StoreError, TemplateKind, WorkflowQuery,
};

/// A CronWorkflow as its backend holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct CronObject {
    /// Its uid.
    pub uid: String,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: Option<String>,
    /// The whole object (JSON).
    pub body: serde_json::Value,
    /// Its resourceVersion, for the status write.
    pub resource_version: String,
}

/// Why a run was not started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitError {
    /// A workflow of that name exists: the run was started before.
    AlreadyExists,
    /// Anything else, with the message.
    Failed(String),
}

/// What the scheduler needs of a backend. Errors are messages for the log.
pub trait CronBackend: Send + Sync {
    /// Every CronWorkflow.
    fn crons(&self) -> impl Future<Output = Result<Vec<CronObject>, String>> + Send;
    /// A run's phase: `None` when it is gone, `Some(None)` before it has one.
    fn run_phase(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<Option<WorkflowPhase>>, String>> + Send;
    /// Terminates a run (`Replace`).
    fn terminate(&self, namespace: &str, name: &str) -> impl Future<Output = ()> + Send;
    /// Whether a run of this name was ever started (even if deleted since, where that is known).
    fn ran_before(&self, namespace: &str, name: &str) -> impl Future<Output = bool> + Send;
    /// Starts a run; returns it as stored.
    fn submit(&self, wf: Workflow) -> impl Future<Output = Result<Workflow, SubmitError>> + Send;
    /// The runs of a CronWorkflow (label `workflows.argoproj.io/cron-workflow`).
    fn runs(
        &self,
        namespace: &str,
        cron: &str,
    ) -> impl Future<Output = Result<Vec<Workflow>, String>> + Send;
    /// Deletes a run (gone already is fine).
    fn delete(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// Writes the CronWorkflow's status. Only the scheduler writes it; a backend may leave a
    /// conflicting write to the next look (which decides again from the object as it is).
    fn save_status(
        &self,
        cron: &CronObject,
        status: &CronWorkflowStatus,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// How often the CronWorkflows are looked at (schedules have a resolution of one second).
pub const TICK: Duration = Duration::from_secs(1);

/// Argo's condition types on a CronWorkflow.
const SPEC_ERROR: &str = "SpecError";
const SUBMISSION_ERROR: &str = "SubmissionError";

/// When a CronWorkflow fires next, for the schedules it had when that was worked out.
type Next = (Vec<String>, Option<DateTime<Utc>>);

/// Schedules the CronWorkflows of a backend.
pub struct CronScheduler<B> {
    backend: B,
    /// Each CronWorkflow's (by uid) next fire time, as robfig/cron keeps it: worked out when it
    /// is first seen and after each fire time (so `@every 1h` fires an hour after either).
    next: HashMap<String, Next>,
}

impl<B: CronBackend> CronScheduler<B> {
    /// A scheduler that has looked at nothing yet (its first look catches up missed runs).
    pub fn new(backend: B) -> Self {
        Self {
            backend,
            next: HashMap::new(),
        }
    }

    /// Runs forever, one [`CronScheduler::tick`] a second.
    pub async fn run(mut self) {
        loop {
            self.tick(Utc::now()).await;
            tokio::time::sleep(TICK).await;
        }
    }

    /// One look at every CronWorkflow, as of `now`.
    pub async fn tick(&mut self, now: DateTime<Utc>) {
        let crons = match self.backend.crons().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "listing cron workflows failed");
                return;
            }
        };
        for stored in crons {
            let known = self.next.get(&stored.uid).cloned();
            match self.one(&stored, known, now).await {
                Ok(next) => {
                    self.next.insert(stored.uid.clone(), next);
                }
                Err(e) => {
                    tracing::error!(cron.name = %stored.name, error = %e, "scheduling a cron workflow failed");
                }
            }
        }
    }

    /// Looks at one CronWorkflow whose next fire time was worked out as `known` (not yet, after
    /// a start: then a missed run is caught up); returns its next fire time.
    async fn one(
        &self,
        stored: &CronObject,
        known: Option<Next>,
        now: DateTime<Utc>,
    ) -> Result<Next, String> {
        let Ok(mut cron) = serde_json::from_value::<CronWorkflow>(stored.body.clone()) else {
            return Ok((Vec::new(), None));
        };
        let before = cron.status.clone();
        let mut status = cron.status.take().unwrap_or_default();
        let finished = self.reconcile(&mut status).await?;
        let mut next = (Vec::new(), None);
        match engine::cron::schedules(&cron) {
            Err(e) => set_condition(&mut status, SPEC_ERROR, Some(e)),
            Ok(schedules) => {
                set_condition(&mut status, SPEC_ERROR, None);
                cron.status = Some(status.clone());
                let texts: Vec<String> = schedules.iter().map(|s| s.text.clone()).collect();
                let due = match &known {
                    None => engine::cron::missed_run(&cron, &schedules, now),
                    // A changed schedule starts afresh (Argo runs nothing outstanding then).
                    Some((old, at)) if *old == texts => at.filter(|t| *t <= now),
                    Some(_) => None,
                };
                if let Some(t) = due {
                    self.fire(&cron, &mut status, t).await;
                }
                let upcoming = match known {
                    Some((old, Some(at))) if old == texts && at > now => Some(at),
                    _ => engine::cron::next_after(&schedules, now),
                };
                next = (texts, upcoming);
            }
        }
        if finished {
            self.enforce_history(&cron).await?;
        }
        if status != before.unwrap_or_default() {
            self.save(stored, status).await?;
        }
        Ok(next)
    }

    /// Drops finished or deleted runs from `status.active`, counting how they ended. Returns
    /// whether any finished.
    async fn reconcile(&self, status: &mut CronWorkflowStatus) -> Result<bool, String> {
        let mut finished = false;
        let mut still = Vec::new();
        for r in status.active.take().unwrap_or_default() {
            let (ns, name) = (
                r.namespace.clone().unwrap_or_default(),
                r.name.clone().unwrap_or_default(),
            );
            match self.backend.run_phase(&ns, &name).await? {
                Some(phase) => match phase {
                    Some(p) if p.completed() => {
                        finished = true;
                        let counter = if p == engine::model::WorkflowPhase::Succeeded {
                            &mut status.succeeded
                        } else {
                            &mut status.failed
                        };
                        *counter = Some(counter.unwrap_or(0) + 1);
                    }
                    _ => still.push(r),
                },
                None => finished = true,
            }
        }
        status.active = (!still.is_empty()).then_some(still);
        Ok(finished)
    }

    /// Decides and, if so, starts the run scheduled at `t`.
    async fn fire(&self, cron: &CronWorkflow, status: &mut CronWorkflowStatus, t: DateTime<Utc>) {
        let meta = cron.metadata.clone().unwrap_or_default();
        let (ns, name) = (
            meta.namespace.clone().unwrap_or_default(),
            meta.name.clone().unwrap_or_default(),
        );
        let active: Vec<String> = status
            .active
            .iter()
            .flatten()
            .filter_map(|r| r.name.clone())
            .collect();
        let decision = match engine::cron::decide(cron, &active) {
            Ok(d) => d,
            Err(e) => return submission_failed(status, e),
        };
        if decision.stop {
            status.phase = Some(CronWorkflowPhase::Stopped);
        }
        let replace = match decision.verdict {
            Verdict::Skip(why) => {
                tracing::info!(cron.name = %name, scheduled = %t, reason = %why, "cron run skipped");
                return;
            }
            Verdict::Run { replace } => replace,
        };
        for old in replace {
            self.backend.terminate(&ns, &old).await;
        }
        let when = engine::plan::format_time(t);
        let mut wf = match engine::submit::from_cron_workflow(cron, &when, &Default::default()) {
            Ok(wf) => wf,
            Err(e) => return submission_failed(status, e),
        };
        let run = engine::cron::run_name(&name, t);
        // Started before, even if deleted since (to the archive): never twice.
        if self.backend.ran_before(&ns, &run).await {
            status.last_scheduled_time = Some(when);
            return;
        }
        let m = wf.metadata.get_or_insert_with(Default::default);
        m.name = Some(run.clone());
        m.generate_name = None;
        m.namespace = Some(ns.clone());
        match self.backend.submit(wf).await {
            Ok(stored) => {
                tracing::info!(cron.name = %name, workflow.name = %run, scheduled = %when, "cron run started");
                status
                    .active
                    .get_or_insert_with(Vec::new)
                    .push(reference(&stored));
                status.last_scheduled_time = Some(when);
                if status.phase != Some(CronWorkflowPhase::Stopped) {
                    status.phase = Some(CronWorkflowPhase::Active);
                }
                set_condition(status, SUBMISSION_ERROR, None);
            }
            // Started before (by an earlier tick or process): never twice.
            Err(SubmitError::AlreadyExists) => {
                status.last_scheduled_time = Some(when);
            }
            Err(SubmitError::Failed(e)) => {
                submission_failed(status, format!("cannot start {run}: {e}"))
            }
        }
    }

    /// Deletes the CronWorkflow's finished runs beyond its history limits.
    async fn enforce_history(&self, cron: &CronWorkflow) -> Result<(), String> {
        let meta = cron.metadata.clone().unwrap_or_default();
        let (ns, name) = (
            meta.namespace.clone().unwrap_or_default(),
            meta.name.clone().unwrap_or_default(),
        );
        let runs = self.backend.runs(&ns, &name).await?;
        let finished: Vec<FinishedRun> = runs.iter().filter_map(finished_run).collect();
        for old in engine::cron::beyond_history(cron, &finished) {
            self.backend.delete(&ns, &old).await?;
            tracing::info!(cron.name = %name, workflow.name = %old, "deleted by the history limit");
        }
        Ok(())
    }

    async fn save(&self, stored: &CronObject, status: CronWorkflowStatus) -> Result<(), String> {
        self.backend.save_status(stored, &status).await
    }
}

/// The local backend's CronWorkflows: those of its store.
impl CronBackend for LocalBackend {
    async fn crons(&self) -> Result<Vec<CronObject>, String> {
        let all = LabelSelector::default();
        let stored = self
            .store()
            .list_templates(TemplateKind::CronWorkflow, None, &all)
            .await
            .map_err(|e| e.to_string())?;
        Ok(stored
            .into_iter()
            .map(|t| CronObject {
                uid: t.uid,
                name: t.name,
                namespace: t.namespace,
                body: t.body,
                resource_version: t.resource_version,
            })
            .collect())
    }

    async fn run_phase(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Option<WorkflowPhase>>, String> {
        match self.store().get_workflow(namespace, name).await {
            Ok(wf) => Ok(Some(wf.status.as_ref().and_then(|s| s.phase))),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn terminate(&self, namespace: &str, name: &str) {
        if let Ok(wf) = self.store().get_workflow(namespace, name).await {
            let uid = wf.metadata.and_then(|m| m.uid).unwrap_or_default();
            let _ = self.control(&uid, Control::Terminate);
        }
    }

    async fn ran_before(&self, namespace: &str, name: &str) -> bool {
        self.store()
            .list_workflows(&WorkflowQuery {
                scope: Scope::All,
                namespace: Some(namespace.to_string()),
                name: Some(name.to_string()),
                limit: Some(1),
                ..Default::default()
            })
            .await
            .is_ok_and(|p| !p.items.is_empty())
    }

    async fn submit(&self, wf: Workflow) -> Result<Workflow, SubmitError> {
        match LocalBackend::submit(self, wf).await {
            Ok(w) => Ok(w),
            Err(BackendError::Store(StoreError::AlreadyExists { .. })) => {
                Err(SubmitError::AlreadyExists)
            }
            Err(e) => Err(SubmitError::Failed(e.to_string())),
        }
    }

    async fn runs(&self, namespace: &str, cron: &str) -> Result<Vec<Workflow>, String> {
        let labels = LabelSelector::parse(&format!("{LABEL_CRON_WORKFLOW}={cron}"))
            .map_err(|e| e.to_string())?;
        let page = self
            .store()
            .list_workflows(&WorkflowQuery {
                namespace: Some(namespace.to_string()),
                labels,
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        Ok(page.items)
    }

    async fn delete(&self, namespace: &str, name: &str) -> Result<(), String> {
        match LocalBackend::delete(self, namespace, name).await {
            Ok(_) | Err(BackendError::Store(StoreError::NotFound { .. })) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn save_status(
        &self,
        stored: &CronObject,
        status: &CronWorkflowStatus,
    ) -> Result<(), String> {
        let store = self.store();
        let ns = stored.namespace.as_deref();
        let status = serde_json::to_value(status).map_err(|e| e.to_string())?;
        let (mut body, mut version) = (stored.body.clone(), stored.resource_version.clone());
        for _ in 0..5 {
            if let Some(o) = body.as_object_mut() {
                o.insert("status".into(), status.clone());
            }
            match store
                .update_template(
                    TemplateKind::CronWorkflow,
                    ns,
                    &stored.name,
                    &body,
                    &version,
                )
                .await
            {
                Ok(_) | Err(StoreError::NotFound { .. }) => return Ok(()),
                Err(StoreError::Conflict { .. }) => {
                    let now = store
                        .get_template(TemplateKind::CronWorkflow, ns, &stored.name)
                        .await
                        .map_err(|e| e.to_string())?;
                    (body, version) = (now.body, now.resource_version);
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Err(format!(
            "{}: its status kept changing under the scheduler",
            stored.name
        ))
    }
}

fn finished_run(wf: &Workflow) -> Option<FinishedRun> {
    let s = wf.status.as_ref()?;
    let phase = s.phase.filter(|p| p.completed())?;
    Some(FinishedRun {
        name: wf.metadata.as_ref()?.name.clone()?,
        phase,
        finished_at: s.finished_at.clone().unwrap_or_default(),
    })
}

fn reference(wf: &Workflow) -> ObjectReference {
    let m = wf.metadata.clone().unwrap_or_default();
    ObjectReference {
        api_version: Some("argoproj.io/v1alpha1".into()),
        kind: Some("Workflow".into()),
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        ..Default::default()
    }
}

/// Records a failed submission as Argo does: a condition and one more failure.
fn submission_failed(status: &mut CronWorkflowStatus, message: String) {
    tracing::warn!(error = %message, "a cron run could not be started");
    set_condition(status, SUBMISSION_ERROR, Some(message));
    status.failed = Some(status.failed.unwrap_or(0) + 1);
}

/// Sets (with a message) or removes (without) the condition of a type.
fn set_condition(status: &mut CronWorkflowStatus, kind: &str, message: Option<String>) {
    let mut list = status.conditions.take().unwrap_or_default();
    list.retain(|c| c.r#type.as_deref() != Some(kind));
    if let Some(m) = message {
        list.push(Condition {
            r#type: Some(kind.into()),
            status: Some("True".into()),
            message: Some(m),
        });
    }
    status.conditions = (!list.is_empty()).then_some(list);
}
