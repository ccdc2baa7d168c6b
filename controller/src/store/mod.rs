//! Persistence of workflows, templates, step claims, memoization, events and the audit trail.
//!
//! Workflows are stored as their full Argo JSON plus indexed columns (namespace, name, phase,
//! times, template key, run number, labels) for the UI's and the API's queries. The contract every
//! backend keeps:
//! - **status is committed before the actions it implies are performed**: every method is one
//!   transaction and returns only once it has committed, so a caller that persists status with
//!   [`Store::update_workflow`] and then acts never acts on a status a crash could lose;
//! - **a step is never started twice for the same node attempt**: [`Store::claim_step`] answers
//!   `true` to exactly one caller ever, across tasks, processes and restarts — until a retry
//!   releases the claim ([`Store::release_steps`]) for the attempt to run anew.
//!
//! [`SqlStore`] keeps them in SQLite (the embedded default) or PostgreSQL.

mod error;
mod identity;
mod selector;
mod sql;
mod types;

use std::future::Future;

use engine::model::Workflow;

pub use error::{Result, StoreError};
pub use identity::{
    DEFAULT_NAMESPACE, LABEL_CLUSTER_WORKFLOW_TEMPLATE, LABEL_CRON_WORKFLOW, LABEL_RUN_NUMBER,
    LABEL_WORKFLOW_TEMPLATE, TemplateKind, generated_name, template_key, workflow_template_key,
};
pub use selector::{LabelSelector, Operator, Requirement, SelectorError};
pub use sql::{
    ApiToken, Database, NewApiToken, RUNNER_LOCK, RunnerLock, SqlStore, StoredSession, redact,
    scratch,
};
pub use types::{
    AuditAction, AuditEntry, AuditQuery, Event, MemoEntry, NewAudit, Order, Page, Scope, StepClaim,
    StoredTemplate, StoredWorkflow, WorkflowQuery,
};

/// Where workflows and everything about their runs are kept. Each method is atomic.
pub trait Store: Send + Sync {
    /// Creates a workflow: fills in `metadata.uid`, `creationTimestamp`, `resourceVersion`, the
    /// namespace (`default`), the name (from `generateName`) and the `trellis.dev/run-number` label.
    /// Fails with `AlreadyExists` when the namespace already holds that name.
    fn create_workflow(&self, wf: &Workflow)
    -> impl Future<Output = Result<StoredWorkflow>> + Send;

    /// Creates several workflows in one transaction: all of them or, on any error, none.
    fn create_workflows(
        &self,
        wfs: &[Workflow],
    ) -> impl Future<Output = Result<Vec<StoredWorkflow>>> + Send;

    /// The workflow of that namespace and name.
    fn get_workflow(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Workflow>> + Send;

    /// The workflow of that uid.
    fn get_workflow_by_uid(&self, uid: &str) -> impl Future<Output = Result<Workflow>> + Send;

    /// Replaces a workflow (found by namespace and name) if it is still at
    /// `expected_resource_version`; fails with `Conflict` when someone else wrote since. The uid,
    /// creation time, template and run number are kept; returns the stored workflow.
    fn update_workflow(
        &self,
        wf: &Workflow,
        expected_resource_version: &str,
    ) -> impl Future<Output = Result<Workflow>> + Send;

    /// Deletes a live workflow. An archived one (finished, see `engine::lifecycle`) stays in
    /// the archive, without its step claims; any other goes with its labels and step claims.
    /// Its events stay either way.
    fn delete_workflow(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The archived workflow of a uid.
    fn get_archived_workflow(&self, uid: &str) -> impl Future<Output = Result<Workflow>> + Send;

    /// Removes a workflow from the archive: deleted if its live object is gone, else kept live
    /// and no longer archived.
    fn delete_archived_workflow(&self, uid: &str) -> impl Future<Output = Result<()>> + Send;

    /// Makes an archived workflow whose live object was deleted live again (`AlreadyExists`
    /// when a live workflow has its name now); returns it.
    fn revive_workflow(&self, uid: &str) -> impl Future<Output = Result<Workflow>> + Send;

    /// Live workflows whose `ttlStrategy` has run out at `now`, `(namespace, name, uid)`, at
    /// most `limit`, oldest deadline first.
    fn expired_workflows(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(String, String, String)>>> + Send;

    /// The label keys of archived workflows, sorted.
    fn archived_label_keys(
        &self,
        namespace: Option<&str>,
    ) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// The values of one label among archived workflows, sorted.
    fn archived_label_values(
        &self,
        key: &str,
        namespace: Option<&str>,
    ) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// One page of the workflows matching the query, newest first.
    fn list_workflows(
        &self,
        query: &WorkflowQuery,
    ) -> impl Future<Output = Result<Page<Workflow>>> + Send;

    /// How many live workflows are in each phase (`""` for not started), for metrics.
    fn count_workflows_by_phase(&self) -> impl Future<Output = Result<Vec<(String, i64)>>> + Send;

    /// Workflows not finished (no phase, `Pending` or `Running`), oldest first, to resume after a
    /// restart.
    fn list_active_workflows(&self) -> impl Future<Output = Result<Vec<Workflow>>> + Send;

    /// Creates or replaces a template whatever its current version (applying a manifest).
    fn put_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
        json: &serde_json::Value,
    ) -> impl Future<Output = Result<StoredTemplate>> + Send;

    /// Creates a template; fails with `AlreadyExists` if there is one of that kind and name.
    fn create_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
        json: &serde_json::Value,
    ) -> impl Future<Output = Result<StoredTemplate>> + Send;

    /// Replaces a template if it is still at `expected_resource_version` (else `Conflict`).
    fn update_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
        json: &serde_json::Value,
        expected_resource_version: &str,
    ) -> impl Future<Output = Result<StoredTemplate>> + Send;

    /// The template of that kind, namespace and name.
    fn get_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
    ) -> impl Future<Output = Result<StoredTemplate>> + Send;

    /// Templates of a kind, in one namespace or all (`None`), whose labels match, by namespace and name.
    fn list_templates(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        labels: &LabelSelector,
    ) -> impl Future<Output = Result<Vec<StoredTemplate>>> + Send;

    /// Deletes a template.
    fn delete_template(
        &self,
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Claims the right to start a node attempt: `true` for the first caller ever, `false` for
    /// every later one. Fails with `NotFound` if the workflow does not exist.
    fn claim_step(
        &self,
        workflow_uid: &str,
        node_id: &str,
        attempt_key: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Records the process started for a claimed attempt, so a restarted backend finds it.
    fn record_step_pid(
        &self,
        workflow_uid: &str,
        node_id: &str,
        attempt_key: &str,
        pid: i64,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Forgets that the given nodes of a workflow were ever started (every attempt), so they can
    /// be claimed again — after a retry removed them from the status. Returns how many claims
    /// were released. One transaction.
    fn release_steps(
        &self,
        workflow_uid: &str,
        node_ids: &[String],
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Every claim of a workflow, in the order they were taken.
    fn step_claims(
        &self,
        workflow_uid: &str,
    ) -> impl Future<Output = Result<Vec<StepClaim>>> + Send;

    /// The memoized outputs under a key of a namespace's cache, if any.
    fn memo_get(
        &self,
        namespace: &str,
        cache_name: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<MemoEntry>>> + Send;

    /// Stores (or replaces) memoized outputs under a key of a namespace's cache.
    fn memo_put(
        &self,
        namespace: &str,
        cache_name: &str,
        key: &str,
        node_id: &str,
        outputs: &serde_json::Value,
    ) -> impl Future<Output = Result<MemoEntry>> + Send;

    /// Appends to a workflow's event log; returns the entry's id.
    fn append_event(
        &self,
        workflow_uid: &str,
        kind: &str,
        body: &serde_json::Value,
    ) -> impl Future<Output = Result<i64>> + Send;

    /// A workflow's event log, oldest first.
    fn events(&self, workflow_uid: &str) -> impl Future<Output = Result<Vec<Event>>> + Send;

    /// Appends to the audit trail (append-only: entries are never changed or removed, and
    /// outlive their workflow); returns the entry with its id and time.
    fn append_audit(&self, entry: &NewAudit) -> impl Future<Output = Result<AuditEntry>> + Send;

    /// One page of the audit entries matching the query, newest first.
    fn audit(&self, query: &AuditQuery) -> impl Future<Output = Result<Page<AuditEntry>>> + Send;
}
