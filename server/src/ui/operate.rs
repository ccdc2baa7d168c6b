//! [`ActData`] over the API's state: the UI's actions done as the request's identity, through the
//! same backend operations, approval rules and audit trail as the REST API.

use app::act::data::{ActData, Fut};
use app::api::UiError;
use app::form::{TriggerForm, TriggerOutcome, TriggerRequest};
use app::model::TemplateId;
use app::ops::{
    ActOutcome, AuditFilter, AuditPage, Comparison, Decision, PendingApproval, Permission,
    RetryChoice, RetryPlan, RunAction, RunApprovals, RunPermissions, UserView, Viewer,
};
use chrono::Utc;
use controller::local::Control;
use controller::store::Store;
use engine::model::Workflow;

use super::act::{api_ui_error, changed_parameters, outcome_of_new, plan_of, retry_options};
use super::{UiSource, approve, caller, convert, trigger, ui_error};
use crate::api::ApiState;
use crate::auth::{Caller, guard};
use engine::access::Action;

/// A run's parameters as its page shows them (with its template's defaults, secrets masked).
async fn run_parameters(state: &ApiState, wf: &Workflow) -> Vec<(String, String)> {
    let full = state.backend.with_template_spec(wf).await;
    let spec = convert::effective_spec(&full);
    convert::effective_parameters(wf, &spec)
}

/// The policy's action behind a run action.
fn needed(action: &RunAction) -> Action {
    match action {
        RunAction::Stop | RunAction::Terminate | RunAction::Suspend | RunAction::Resume => {
            Action::Stop
        }
        RunAction::Delete => Action::Delete,
        RunAction::Retry(_) => Action::Retry,
        RunAction::Resubmit { .. } => Action::Resubmit,
    }
}

/// Does `action` to run `namespace/name` for `caller` if the policy lets them, and records it.
pub async fn act(
    state: &ApiState,
    caller: &Caller,
    namespace: &str,
    name: &str,
    action: RunAction,
) -> Result<ActOutcome, UiError> {
    let store = state.backend.store();
    let wf = store
        .get_workflow(namespace, name)
        .await
        .map_err(ui_error)?;
    guard::check_workflow(state, caller, needed(&action), &wf)
        .await
        .map_err(api_ui_error)?;
    let control = |c: Control| {
        let uid = wf.uid().to_string();
        async move {
            state
                .backend
                .operate(&uid, c)
                .await
                .map_err(|e| api_ui_error(e.into()))
        }
    };
    let outcome = match &action {
        RunAction::Stop => control(Control::Stop).await.map(|()| ActOutcome::Changed)?,
        RunAction::Terminate => control(Control::Terminate)
            .await
            .map(|()| ActOutcome::Changed)?,
        RunAction::Suspend => control(Control::Suspend)
            .await
            .map(|()| ActOutcome::Changed)?,
        RunAction::Resume => {
            approve::resume_workflow(state, caller, &wf).await?;
            return Ok(ActOutcome::Changed);
        }
        RunAction::Delete => {
            state
                .backend
                .delete(namespace, name)
                .await
                .map_err(|e| api_ui_error(e.into()))?;
            let back = convert::row_of(&wf, Utc::now(), |_| false)
                .template
                .map_or_else(|| "/runs".to_string(), |t| t.href());
            ActOutcome::Gone(back)
        }
        RunAction::Retry(choice) => {
            let run = run_parameters(state, &wf).await;
            let opts = retry_options(choice, &run)?;
            state
                .backend
                .retry(&wf, &opts)
                .await
                .map_err(|e| api_ui_error(e.into()))?;
            let values = crate::api::operations::retry_values(&wf, &opts);
            approve::record(state, caller, "retry", &wf, values).await?;
            return Ok(ActOutcome::Changed);
        }
        RunAction::Resubmit {
            parameters,
            memoized,
        } => {
            let run = run_parameters(state, &wf).await;
            let opts = engine::submit::SubmitOptions {
                parameters: changed_parameters(&run, parameters),
                entrypoint: None,
            };
            let checked = crate::api::operations::resubmission(state, &wf, &opts, *memoized)
                .await
                .map_err(api_ui_error)?;
            // Recorded as `resubmit` of the new run, as the REST API records it.
            let stored = crate::api::workflows::start_as(
                state,
                caller,
                checked,
                false,
                controller::store::AuditAction::Resubmit,
                [("resubmittedFrom".to_string(), name.to_string())].into(),
            )
            .await
            .map_err(api_ui_error)?;
            return Ok(outcome_of_new(&stored));
        }
    };
    approve::record(state, caller, action.name(), &wf, Default::default()).await?;
    Ok(outcome)
}

impl UiSource {
    async fn plan_retry(
        &self,
        caller: Caller,
        namespace: String,
        name: String,
        choice: RetryChoice,
    ) -> Result<RetryPlan, UiError> {
        let wf = self
            .workflow(&caller, Action::Read, &namespace, &name)
            .await?;
        let spec = self.spec_of_run(&wf).await;
        let run = convert::effective_parameters(&wf, &spec);
        let opts = retry_options(&choice, &run)?;
        let wf = self.state.backend.with_template_spec(&wf).await;
        plan_of(&wf, &spec, &opts, run)
    }
}

impl UiSource {
    async fn plan_resubmit(
        &self,
        caller: Caller,
        namespace: String,
        name: String,
        memoized: bool,
    ) -> Result<RetryPlan, UiError> {
        let wf = self
            .workflow(&caller, Action::Read, &namespace, &name)
            .await?;
        let spec = self.spec_of_run(&wf).await;
        Ok(super::act::resubmit_plan(
            &wf,
            &spec,
            memoized,
            convert::effective_parameters(&wf, &spec),
        ))
    }
}

impl ActData for UiSource {
    fn trigger_form(&self, id: TemplateId, from: String) -> Fut<'_, TriggerForm> {
        let caller = caller();
        Box::pin(async move { trigger::form(&self.state, &caller?, id, from).await })
    }

    fn trigger(&self, request: TriggerRequest, dry: bool) -> Fut<'_, TriggerOutcome> {
        let caller = caller();
        Box::pin(async move { trigger::trigger(&self.state, &caller?, request, dry).await })
    }

    fn act(&self, namespace: String, name: String, action: RunAction) -> Fut<'_, ActOutcome> {
        let caller = caller();
        Box::pin(async move { act(&self.state, &caller?, &namespace, &name, action).await })
    }

    fn retry_plan(
        &self,
        namespace: String,
        name: String,
        choice: RetryChoice,
    ) -> Fut<'_, RetryPlan> {
        let caller = caller();
        Box::pin(async move { self.plan_retry(caller?, namespace, name, choice).await })
    }

    fn resubmit_plan(&self, namespace: String, name: String, memoized: bool) -> Fut<'_, RetryPlan> {
        let caller = caller();
        Box::pin(async move { self.plan_resubmit(caller?, namespace, name, memoized).await })
    }

    fn compare(&self, namespace: String, a: String, b: String) -> Fut<'_, Comparison> {
        let caller = caller();
        Box::pin(async move {
            let caller = caller?;
            let (wa, wb) = (
                self.workflow(&caller, Action::Read, &namespace, &a).await?,
                self.workflow(&caller, Action::Read, &namespace, &b).await?,
            );
            let pa = convert::effective_parameters(&wa, &self.spec_of_run(&wa).await);
            let pb = convert::effective_parameters(&wb, &self.spec_of_run(&wb).await);
            super::act::compare(&self.state, &caller, (wa, wb), (pa, pb)).await
        })
    }

    fn inbox(&self) -> Fut<'_, Vec<PendingApproval>> {
        let caller = caller();
        Box::pin(async move { approve::inbox(&self.state, &caller?).await })
    }

    fn run_approvals(&self, namespace: String, name: String) -> Fut<'_, RunApprovals> {
        let caller = caller();
        Box::pin(async move { approve::of_run(&self.state, &caller?, &namespace, &name).await })
    }

    fn decide(
        &self,
        namespace: String,
        name: String,
        node: String,
        decision: Decision,
    ) -> Fut<'_, ()> {
        let caller = caller();
        Box::pin(async move {
            approve::decide(&self.state, &caller?, &namespace, &name, &node, decision).await
        })
    }

    fn viewer(&self) -> Fut<'_, Viewer> {
        let caller = Caller::of_leptos_request();
        let sso = self.state.auth().sso().is_some();
        let tokens = self.state.auth().allows_mode(crate::auth::AuthMode::Client);
        Box::pin(async move {
            Ok(Viewer {
                user: caller.map(|c| UserView {
                    session: c.cookie,
                    subject: c.identity.subject,
                    name: c.identity.name,
                    email: c.identity.email,
                    groups: c.identity.groups,
                }),
                sso,
                tokens,
            })
        })
    }

    fn permissions(&self, namespace: String, name: String) -> Fut<'_, RunPermissions> {
        let caller = caller();
        Box::pin(async move {
            let caller = caller?;
            let wf = self
                .workflow(&caller, Action::Read, &namespace, &name)
                .await?;
            let target = guard::workflow_target(&self.state, &wf).await;
            let actions = [
                Action::Stop,
                Action::Retry,
                Action::Resubmit,
                Action::Delete,
                Action::Approve,
            ]
            .into_iter()
            .map(|a| {
                let d = self.state.auth().decide(&caller, a, &target);
                Permission {
                    action: a.name().to_string(),
                    allowed: d.allowed,
                    why: d.explain(),
                }
            })
            .collect();
            Ok(RunPermissions { actions })
        })
    }

    fn audit(&self, filter: AuditFilter) -> Fut<'_, AuditPage> {
        let caller = caller();
        Box::pin(async move { approve::audit(&self.state, &caller?, filter).await })
    }
}
