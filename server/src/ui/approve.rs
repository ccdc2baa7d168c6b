//! The UI's approvals: the inbox, a run's waiting steps and audit trail, a reviewer's decision
//! and the global audit trail — the view models of [`crate::approvals`], which checks every
//! rule and writes every audit entry, for the UI as for the REST API.

use app::api::UiError;
use app::form::{FieldKind, FormField};
use app::model::TemplateId;
use app::ops::{AuditFilter, AuditPage, AuditView, Decision, PendingApproval, RunApprovals};
use controller::store::{AuditAction, AuditEntry, AuditQuery, Store};
use engine::model::Workflow;

use super::act::api_ui_error;
use super::{convert, ui_error};
use crate::api::ApiState;
use crate::approvals::{self, Pending};
use crate::auth::Caller;

/// Audit entries a run page shows.
const RUN_AUDIT: u32 = 100;
/// Audit entries per page of the audit trail.
const AUDIT_PAGE: u32 = 50;

/// The view of a waiting step.
fn view_of(p: Pending) -> PendingApproval {
    let template = p.template_key.as_deref().and_then(convert::template_id);
    let fields = p
        .outputs
        .into_iter()
        .map(|f| {
            let description = f.description.or_else(|| {
                p.inputs
                    .iter()
                    .find(|i| i.name == f.name)
                    .and_then(|i| i.description.clone())
            });
            FormField {
                kind: if f.enum_values.is_empty() {
                    FieldKind::Text
                } else {
                    FieldKind::Select(f.enum_values)
                },
                required: false,
                value: f.default.unwrap_or_default(),
                description,
                name: f.name,
            }
        })
        .collect();
    PendingApproval {
        run_title: p
            .run_number
            .map_or_else(|| p.workflow_name.clone(), |n| format!("#{n}")),
        namespace: p.namespace,
        workflow: p.workflow_name,
        template: template.or_else(|| {
            Some(TemplateId {
                kind: match p.template_kind.as_deref()? {
                    "ClusterWorkflowTemplate" => {
                        app::catalog::TemplateKind::ClusterWorkflowTemplate
                    }
                    "CronWorkflow" => app::catalog::TemplateKind::CronWorkflow,
                    _ => app::catalog::TemplateKind::WorkflowTemplate,
                },
                namespace: String::new(),
                name: p.template_name?,
            })
        }),
        node_id: p.node_id,
        step: p.display_name,
        since: p.since,
        message: p.message,
        inputs: p
            .inputs
            .into_iter()
            .map(|i| (i.name, i.value.unwrap_or_default()))
            .collect(),
        fields,
        until: p.until,
        approvers: p.approvers,
        no_self: p.no_self,
        may_approve: p.may_approve,
        why_not: p.why_not,
    }
}

/// The view of an audit entry.
pub fn audit_view(e: AuditEntry) -> AuditView {
    AuditView {
        id: e.id,
        at: engine::plan::format_time(e.at),
        actor: e.actor,
        action: e.action.as_str().to_string(),
        namespace: e.namespace,
        workflow: e.workflow_name,
        step: e.node_display_name,
        node_id: e.node_id,
        values: e.values.into_iter().collect(),
        comment: e.comment,
    }
}

/// The steps waiting for the current user's approval, oldest first.
pub async fn inbox(state: &ApiState, caller: &Caller) -> Result<Vec<PendingApproval>, UiError> {
    let list = approvals::inbox(state, caller)
        .await
        .map_err(api_ui_error)?;
    Ok(list.into_iter().map(view_of).collect())
}

/// A run's waiting steps and its audit trail.
pub async fn of_run(
    state: &ApiState,
    caller: &Caller,
    namespace: &str,
    name: &str,
) -> Result<RunApprovals, UiError> {
    let wf = state
        .backend
        .store()
        .get_workflow(namespace, name)
        .await
        .map_err(ui_error)?;
    crate::auth::guard::check_workflow(state, caller, engine::access::Action::Read, &wf)
        .await
        .map_err(api_ui_error)?;
    let pending = approvals::pending_for_run(state, caller, &wf)
        .await
        .map_err(api_ui_error)?;
    let query = AuditQuery {
        workflow_uid: Some(wf.uid().to_string()),
        limit: Some(RUN_AUDIT),
        ..Default::default()
    };
    let audit = approvals::audit(state, caller, &query)
        .await
        .map_err(api_ui_error)?;
    Ok(RunApprovals {
        pending: pending.into_iter().map(view_of).collect(),
        audit: audit.items.into_iter().map(audit_view).collect(),
    })
}

/// Approves or rejects a waiting step as the current user.
pub async fn decide(
    state: &ApiState,
    who: &Caller,
    namespace: &str,
    name: &str,
    node: &str,
    d: Decision,
) -> Result<(), UiError> {
    let done = if d.approve {
        let comment = Some(d.comment).filter(|c| !c.trim().is_empty());
        approvals::approve(state, who, namespace, name, node, d.values, comment).await
    } else {
        approvals::reject(state, who, namespace, name, node, d.comment).await
    };
    done.map(|_| ()).map_err(api_ui_error)
}

/// One page of the audit trail.
pub async fn audit(
    state: &ApiState,
    caller: &Caller,
    f: AuditFilter,
) -> Result<AuditPage, UiError> {
    let action = match f.action.trim() {
        "" => None,
        a => Some(AuditAction::parse(a).ok_or_else(|| {
            let all: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
            UiError::Invalid(format!("action {a:?} is not one of {}", all.join(", ")))
        })?),
    };
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let query = AuditQuery {
        namespace: text(&f.namespace),
        actor: text(&f.actor),
        action,
        limit: Some(AUDIT_PAGE),
        continue_token: text(&f.page),
        ..Default::default()
    };
    let page = approvals::audit(state, caller, &query)
        .await
        .map_err(api_ui_error)?;
    Ok(AuditPage {
        entries: page.items.into_iter().map(audit_view).collect(),
        next: page.continue_token,
    })
}

/// Resumes a whole run as the current user (its waiting steps' rules apply).
pub async fn resume_workflow(
    state: &ApiState,
    caller: &Caller,
    wf: &Workflow,
) -> Result<(), UiError> {
    let meta = wf.metadata.clone().unwrap_or_default();
    approvals::resume_workflow(
        state,
        caller,
        &meta.namespace.unwrap_or_default(),
        &meta.name.unwrap_or_default(),
    )
    .await
    .map(|_| ())
    .map_err(api_ui_error)
}

/// Records that the current user did `action` to `wf`, with `values`.
pub async fn record(
    state: &ApiState,
    caller: &Caller,
    action: &str,
    wf: &Workflow,
    values: std::collections::BTreeMap<String, String>,
) -> Result<(), UiError> {
    let action = AuditAction::parse(action)
        .ok_or_else(|| UiError::Internal(format!("no audit action {action:?}")))?;
    approvals::record(state, &caller.identity, action, wf, None, values, None)
        .await
        .map(|_| ())
        .map_err(api_ui_error)
}
