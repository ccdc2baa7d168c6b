//! Server functions that change things: trigger a template, act on a run, approve or reject a
//! suspend step; and those that read what an action needs (the form, a retry's plan, two runs
//! compared, the approvals inbox, the audit trail). The bodies run on the server and go through
//! the [`data::ActData`] the server put into Leptos context, which checks who may do what.

use leptos::prelude::*;
use leptos::server_fn::codec::{Json, Postcard};

use crate::api::UiError;
use crate::form::{TriggerForm, TriggerOutcome, TriggerRequest};
use crate::model::TemplateId;
use crate::ops::{
    ActOutcome, AuditFilter, AuditPage, Comparison, Decision, PendingApproval, RetryChoice,
    RetryPlan, RunAction, RunApprovals, RunPermissions, Viewer,
};

/// What the actions read and do, provided by the server as `Arc<dyn ActData>` in context.
#[cfg(feature = "ssr")]
pub mod data {
    pub use crate::api::data::Fut;
    use crate::form::{TriggerForm, TriggerOutcome, TriggerRequest};
    use crate::model::TemplateId;
    use crate::ops::{
        ActOutcome, AuditFilter, AuditPage, Comparison, Decision, PendingApproval, RetryChoice,
        RetryPlan, RunAction, RunApprovals, RunPermissions, Viewer,
    };

    /// The actions of the UI, done as the current user.
    pub trait ActData: Send + Sync + 'static {
        /// The form of a template, pre-filled from run `from` of it when not empty.
        fn trigger_form(&self, id: TemplateId, from: String) -> Fut<'_, TriggerForm>;
        /// Checks a form and, unless `dry`, creates the run.
        fn trigger(&self, request: TriggerRequest, dry: bool) -> Fut<'_, TriggerOutcome>;
        /// Does `action` to a run.
        fn act(&self, namespace: String, name: String, action: RunAction) -> Fut<'_, ActOutcome>;
        /// What retrying a run with `choice` would run again.
        fn retry_plan(
            &self,
            namespace: String,
            name: String,
            choice: RetryChoice,
        ) -> Fut<'_, RetryPlan>;
        /// What resubmitting a run would run again (`memoized`: the steps that succeeded are
        /// carried over).
        fn resubmit_plan(
            &self,
            namespace: String,
            name: String,
            memoized: bool,
        ) -> Fut<'_, RetryPlan>;
        /// Two runs of a namespace side by side.
        fn compare(&self, namespace: String, a: String, b: String) -> Fut<'_, Comparison>;
        /// The steps waiting for the current user's approval, oldest first.
        fn inbox(&self) -> Fut<'_, Vec<PendingApproval>>;
        /// A run's waiting steps (whoever may approve them) and its audit trail.
        fn run_approvals(&self, namespace: String, name: String) -> Fut<'_, RunApprovals>;
        /// Approves or rejects a waiting step.
        fn decide(
            &self,
            namespace: String,
            name: String,
            node: String,
            decision: Decision,
        ) -> Fut<'_, ()>;
        /// One page of the audit trail.
        fn audit(&self, filter: AuditFilter) -> Fut<'_, AuditPage>;
        /// Who the current user is.
        fn viewer(&self) -> Fut<'_, Viewer>;
        /// What the current user may do to a run, with the policy's explanations.
        fn permissions(&self, namespace: String, name: String) -> Fut<'_, RunPermissions>;
    }
}

#[cfg(feature = "ssr")]
fn actions() -> Result<std::sync::Arc<dyn data::ActData>, UiError> {
    use_context::<std::sync::Arc<dyn data::ActData>>()
        .ok_or_else(|| UiError::Internal("the UI's actions are not wired".into()))
}

/// The "Run with parameters" form of a template.
#[server(input = Json, output = Postcard)]
pub async fn load_trigger_form(
    /// Which template.
    id: TemplateId,
    /// A run of it whose parameters pre-fill the form (empty: the defaults).
    from: String,
) -> Result<TriggerForm, UiError> {
    actions()?.trigger_form(id, from).await
}

/// Checks a form and, unless `dry`, creates the run.
#[server(input = Json, output = Postcard)]
pub async fn trigger(
    /// The form's values.
    request: TriggerRequest,
    /// Only check it and answer with the graph that would run.
    dry: bool,
) -> Result<TriggerOutcome, UiError> {
    actions()?.trigger(request, dry).await
}

/// Does an action to a run.
#[server(input = Json, output = Postcard)]
pub async fn act(
    /// The run's namespace.
    namespace: String,
    /// The run's name.
    name: String,
    /// What to do.
    action: RunAction,
) -> Result<ActOutcome, UiError> {
    actions()?.act(namespace, name, action).await
}

/// What a retry would run again.
#[server(input = Json, output = Postcard)]
pub async fn plan_retry(
    /// The run's namespace.
    namespace: String,
    /// The run's name.
    name: String,
    /// How to retry.
    choice: RetryChoice,
) -> Result<RetryPlan, UiError> {
    actions()?.retry_plan(namespace, name, choice).await
}

/// What a resubmission would run again.
#[server(input = Json, output = Postcard)]
pub async fn plan_resubmit(
    /// The run's namespace.
    namespace: String,
    /// The run's name.
    name: String,
    /// Whether the steps that succeeded are carried over.
    memoized: bool,
) -> Result<RetryPlan, UiError> {
    actions()?.resubmit_plan(namespace, name, memoized).await
}

/// Two runs side by side.
#[server(input = Json, output = Postcard)]
pub async fn compare_runs(
    /// Their namespace.
    namespace: String,
    /// The first run.
    a: String,
    /// The second run.
    b: String,
) -> Result<Comparison, UiError> {
    actions()?.compare(namespace, a, b).await
}

/// The steps waiting for the current user's approval.
#[server(input = Json, output = Postcard)]
pub async fn inbox() -> Result<Vec<PendingApproval>, UiError> {
    actions()?.inbox().await
}

/// A run's waiting steps and audit trail.
#[server(input = Json, output = Postcard)]
pub async fn load_run_approvals(
    /// The run's namespace.
    namespace: String,
    /// The run's name.
    name: String,
) -> Result<RunApprovals, UiError> {
    actions()?.run_approvals(namespace, name).await
}

/// Approves or rejects a waiting step.
#[server(input = Json, output = Postcard)]
pub async fn decide(
    /// The run's namespace.
    namespace: String,
    /// The run's name.
    name: String,
    /// The suspend node's id.
    node: String,
    /// The decision.
    decision: Decision,
) -> Result<(), UiError> {
    actions()?.decide(namespace, name, node, decision).await
}

/// One page of the audit trail.
#[server(input = Json, output = Postcard)]
pub async fn audit_trail(
    /// The filters and page.
    filter: AuditFilter,
) -> Result<AuditPage, UiError> {
    actions()?.audit(filter).await
}

/// Who the current user is, and whether they can sign in or out (open to everyone: the sign-in
/// page asks it before anyone is signed in).
#[server(input = Json, output = Postcard, endpoint = "trellis/viewer")]
pub async fn who_am_i() -> Result<Viewer, UiError> {
    actions()?.viewer().await
}

/// What the current user may do to a run, and why not.
#[server(input = Json, output = Postcard)]
pub async fn load_permissions(
    /// The run's namespace.
    namespace: String,
    /// The run's name.
    name: String,
) -> Result<RunPermissions, UiError> {
    actions()?.permissions(namespace, name).await
}
