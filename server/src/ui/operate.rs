//! [`ActData`] over the API's state: the UI's actions done as the request's identity, through the
//! same backend operations, approval rules and audit trail as the REST API.

use app::act::data::{ActData, Fut};
use app::api::UiError;
use app::form::{TriggerForm, TriggerOutcome, TriggerRequest};
use app::model::TemplateId;
use app::ops::{
    ActOutcome, AuditFilter, AuditPage, Comparison, Decision, PendingApproval, RetryChoice,
    RetryPlan, RunAction, RunApprovals,
};
use chrono::Utc;
use controller::local::Control;
use controller::store::Store;
use engine::model::Workflow;

use super::act::{api_ui_error, changed_parameters, outcome_of_new, plan_of, retry_options};
use super::{UiSource, approve, convert, trigger, ui_error};
use crate::api::ApiState;

/// A run's parameters as its page shows them (with its template's defaults, secrets masked).
async fn run_parameters(state: &ApiState, wf: &Workflow) -> Vec<(String, String)> {
    let full = state.backend.with_template_spec(wf).await;
    let spec = convert::effective_spec(&full);
    convert::effective_parameters(wf, &spec)
}

/// Does `action` to run `namespace/name` as the state's identity, and records it.
pub async fn act(
    state: &ApiState,
    namespace: &str,
    name: &str,
    action: RunAction,
) -> Result<ActOutcome, UiError> {
    let store = state.backend.store();
    let wf = store
        .get_workflow(namespace, name)
        .await
        .map_err(ui_error)?;
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
            approve::resume_workflow(state, &wf).await?;
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
            approve::record(state, "retry", &wf, values).await?;
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
                state.identity(),
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
    approve::record(state, action.name(), &wf, Default::default()).await?;
    Ok(outcome)
}

impl UiSource {
    async fn plan_retry(
        &self,
        namespace: String,
        name: String,
        choice: RetryChoice,
    ) -> Result<RetryPlan, UiError> {
        let wf = self.workflow(&namespace, &name).await?;
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
        namespace: String,
        name: String,
        memoized: bool,
    ) -> Result<RetryPlan, UiError> {
        let wf = self.workflow(&namespace, &name).await?;
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
        Box::pin(trigger::form(&self.state, id, from))
    }

    fn trigger(&self, request: TriggerRequest, dry: bool) -> Fut<'_, TriggerOutcome> {
        Box::pin(trigger::trigger(&self.state, request, dry))
    }

    fn act(&self, namespace: String, name: String, action: RunAction) -> Fut<'_, ActOutcome> {
        Box::pin(async move { act(&self.state, &namespace, &name, action).await })
    }

    fn retry_plan(
        &self,
        namespace: String,
        name: String,
        choice: RetryChoice,
    ) -> Fut<'_, RetryPlan> {
        Box::pin(self.plan_retry(namespace, name, choice))
    }

    fn resubmit_plan(&self, namespace: String, name: String, memoized: bool) -> Fut<'_, RetryPlan> {
        Box::pin(self.plan_resubmit(namespace, name, memoized))
    }

    fn compare(&self, namespace: String, a: String, b: String) -> Fut<'_, Comparison> {
        Box::pin(async move {
            let (wa, wb) = (
                self.workflow(&namespace, &a).await?,
                self.workflow(&namespace, &b).await?,
            );
            let pa = convert::effective_parameters(&wa, &self.spec_of_run(&wa).await);
            let pb = convert::effective_parameters(&wb, &self.spec_of_run(&wb).await);
            super::act::compare(&self.state, (wa, wb), (pa, pb)).await
        })
    }

    fn inbox(&self) -> Fut<'_, Vec<PendingApproval>> {
        Box::pin(approve::inbox(&self.state))
    }

    fn run_approvals(&self, namespace: String, name: String) -> Fut<'_, RunApprovals> {
        Box::pin(async move { approve::of_run(&self.state, &namespace, &name).await })
    }

    fn decide(
        &self,
        namespace: String,
        name: String,
        node: String,
        decision: Decision,
    ) -> Fut<'_, ()> {
        Box::pin(
            async move { approve::decide(&self.state, &namespace, &name, &node, decision).await },
        )
    }

    fn audit(&self, filter: AuditFilter) -> Fut<'_, AuditPage> {
        Box::pin(approve::audit(&self.state, filter))
    }
}
