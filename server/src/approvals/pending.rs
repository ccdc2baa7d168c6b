//! Suspend steps waiting for approval, as reviewers see them: the inbox of everything a user may
//! approve, and the approval panel of one run (shown to everyone, with why they may not).

use controller::store::{LABEL_RUN_NUMBER, Store, TemplateKind, workflow_template_key};
use engine::approval::{ApprovalRule, SuppliedField, supplied_fields};
use engine::model::{NodeStatus, Parameter, Template, Workflow};
use serde::Serialize;

use super::{Loaded, Result, permit, rule_of, waiting};
use crate::api::ApiState;
use crate::auth::Caller;
use crate::identity::Identity;

/// Annotation of a template whose text a suspend step shows its reviewers when it has no message.
const DESCRIPTION_ANNOTATION: &str = "workflows.argoproj.io/description";

/// A suspend step waiting for approval (JSON: camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Pending {
    /// The run's namespace.
    pub namespace: String,
    /// The run's name.
    pub workflow_name: String,
    /// The run's uid.
    pub uid: String,
    /// Its number in its template's history (label `trellis.dev/run-number`).
    pub run_number: Option<i64>,
    /// The key of its template's history (`WorkflowTemplate/ns/name`), if it runs one.
    pub template_key: Option<String>,
    /// That template's kind (`WorkflowTemplate`, `ClusterWorkflowTemplate`, `CronWorkflow`).
    pub template_kind: Option<String>,
    /// That template's name.
    pub template_name: Option<String>,
    /// The suspend node's id.
    pub node_id: String,
    /// Its full name in the run (`deploy-x[1].approve`).
    pub node_name: String,
    /// Its display name (`approve`).
    pub display_name: String,
    /// Since when it waits (its `startedAt`, RFC 3339).
    pub since: Option<String>,
    /// What it says to reviewers: the node's message, else its template's description
    /// annotation, else its input parameter `message`.
    pub message: Option<String>,
    /// Its input parameters.
    pub inputs: Vec<PendingInput>,
    /// The values a reviewer supplies (its `valueFrom.supplied` outputs).
    pub outputs: Vec<SuppliedField>,
    /// A suspend with a `duration` resumes by itself after it (as written).
    pub duration: Option<String>,
    /// When that duration ends (RFC 3339).
    pub until: Option<String>,
    /// Who may approve (`group:release`, `user:alice`); empty: anyone.
    pub approvers: Vec<String>,
    /// Whether the run's submitter may not approve it.
    pub no_self: bool,
    /// Whether the user asking may approve it.
    pub may_approve: bool,
    /// Why not, when not.
    pub why_not: Option<String>,
}

/// An input parameter of a waiting step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PendingInput {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: Option<String>,
    /// What it is.
    pub description: Option<String>,
    /// The values it allows.
    #[serde(rename = "enum")]
    pub enum_values: Vec<String>,
}

/// Every waiting suspend step of the live, unfinished workflows that `who` may approve (not
/// those with a `duration`, which resume by themselves), oldest first. A workflow whose templates cannot be read is left out (and logged).
pub(crate) async fn inbox(state: &ApiState, who: &Caller) -> Result<Vec<Pending>> {
    let active = state.backend.store().list_active_workflows().await?;
    let active = crate::auth::guard::readable_workflows(state, who, active).await;
    let mut out = Vec::new();
    for wf in active {
        match pending_for_run(state, who, &wf).await {
            // A suspend with a `duration` resumes by itself: it waits for no one.
            Ok(found) => out.extend(
                found
                    .into_iter()
                    .filter(|p| p.may_approve && p.duration.is_none()),
            ),
            Err(e) => tracing::warn!(
                workflow.name = %wf.name(),
                error = %e,
                "left out of the approvals inbox"
            ),
        }
    }
    out.sort_by(|a, b| order(a).cmp(&order(b)));
    Ok(out)
}

/// The waiting suspend steps of one run, oldest first, each saying whether `who` may approve
/// it and why not.
pub(crate) async fn pending_for_run(
    state: &ApiState,
    who: &Caller,
    wf: &Workflow,
) -> Result<Vec<Pending>> {
    if waiting(wf).next().is_none() {
        return Ok(Vec::new());
    }
    let target = crate::auth::guard::workflow_target(state, wf).await;
    let decision = state
        .auth()
        .decide(who, engine::access::Action::Approve, &target);
    let l = Loaded::resolve(state, wf.clone()).await?;
    let mut out: Vec<Pending> = waiting(&l.wf)
        .map(|n| pending(&who.identity, &l.wf, n, l.template(n)))
        .collect();
    if !decision.allowed {
        let why = decision.explain();
        for p in &mut out {
            p.may_approve = false;
            p.why_not = Some(why.clone());
        }
    }
    out.sort_by(|a, b| order(a).cmp(&order(b)));
    Ok(out)
}

/// Oldest first (never-started last), then by run and node.
fn order(p: &Pending) -> (bool, &Option<String>, &str, &str, &str) {
    (
        p.since.is_none(),
        &p.since,
        &p.namespace,
        &p.workflow_name,
        &p.node_id,
    )
}

/// One waiting step as a reviewer sees it.
fn pending(who: &Identity, wf: &Workflow, node: &NodeStatus, t: Option<&Template>) -> Pending {
    let rule = rule_of(t, node);
    let verdict = rule
        .as_ref()
        .map_err(|e| e.to_string())
        .and_then(|r| permit(who, wf, node, r).map_err(|e| e.to_string()));
    let rule = rule.unwrap_or_else(|_| ApprovalRule::default());
    let meta = wf.metadata.clone().unwrap_or_default();
    let labels = meta.labels.clone().unwrap_or_default();
    let template = template_of(wf);
    let duration = t
        .and_then(|t| t.suspend.as_ref())
        .and_then(|s| s.duration.clone());
    // Reviewers see the step, never the run's secrets.
    let secrets = engine::secrets::secret_values(wf);
    let hide = |v: String| engine::secrets::redact(&v, &secrets);
    let mut inputs = inputs_of(node);
    for i in &mut inputs {
        i.value = i.value.take().map(hide);
    }
    let mut outputs = supplied_fields(t, node);
    for o in &mut outputs {
        o.default = o.default.take().map(hide);
    }
    Pending {
        namespace: meta.namespace.clone().unwrap_or_default(),
        workflow_name: wf.name().to_string(),
        uid: wf.uid().to_string(),
        run_number: labels.get(LABEL_RUN_NUMBER).and_then(|n| n.parse().ok()),
        template_key: workflow_template_key(wf),
        template_kind: template.as_ref().map(|(k, _)| k.as_str().to_string()),
        template_name: template.map(|(_, n)| n),
        node_id: node.id.clone().unwrap_or_default(),
        node_name: node.name.clone().unwrap_or_default(),
        display_name: node.display_name.clone().unwrap_or_default(),
        since: node.started_at.clone(),
        message: message_of(node, t).map(hide),
        inputs,
        outputs,
        until: until(node.started_at.as_deref(), duration.as_deref()),
        duration,
        approvers: rule.approver_names(),
        no_self: rule.no_self,
        may_approve: verdict.is_ok(),
        why_not: verdict.err(),
    }
}

/// The template a run runs, by Argo's labels (a cron's runs belong to the cron).
fn template_of(wf: &Workflow) -> Option<(TemplateKind, String)> {
    let labels = wf.metadata.as_ref()?.labels.as_ref()?;
    [
        TemplateKind::CronWorkflow,
        TemplateKind::WorkflowTemplate,
        TemplateKind::ClusterWorkflowTemplate,
    ]
    .into_iter()
    .find_map(|k| {
        let name = labels.get(k.workflow_label()).filter(|n| !n.is_empty())?;
        Some((k, name.clone()))
    })
}

fn message_of(node: &NodeStatus, t: Option<&Template>) -> Option<String> {
    let nonempty = |s: &String| !s.trim().is_empty();
    node.message
        .clone()
        .filter(nonempty)
        .or_else(|| {
            t?.metadata
                .as_ref()?
                .annotations
                .as_ref()?
                .get(DESCRIPTION_ANNOTATION)
                .cloned()
                .filter(nonempty)
        })
        .or_else(|| {
            params(node)
                .find(|p| p.name.as_deref() == Some("message"))
                .and_then(|p| p.value.as_ref().map(|v| v.0.clone()))
                .filter(nonempty)
        })
}

fn params(node: &NodeStatus) -> impl Iterator<Item = &Parameter> {
    node.inputs
        .iter()
        .flat_map(|i| i.parameters.iter().flatten())
}

fn inputs_of(node: &NodeStatus) -> Vec<PendingInput> {
    let text = |v: Option<&engine::model::AnyString>| v.map(|s| s.0.clone());
    params(node)
        .map(|p| PendingInput {
            name: p.name.clone().unwrap_or_default(),
            value: text(p.value.as_ref()).or_else(|| text(p.default.as_ref())),
            description: text(p.description.as_ref()),
            enum_values: p.r#enum.iter().flatten().map(|v| v.0.clone()).collect(),
        })
        .collect()
}

/// When a suspend of `duration` started at `started` ends.
fn until(started: Option<&str>, duration: Option<&str>) -> Option<String> {
    let start = engine::plan::parse_time(started?)?;
    let nanos = engine::values::parse_seconds_or_duration(duration?.trim()).ok()?;
    let nanos = i64::try_from(nanos.clamp(0, i128::from(i64::MAX / 4))).ok()?;
    let end = start.checked_add_signed(chrono::Duration::nanoseconds(nanos))?;
    Some(engine::plan::format_time(end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timed_suspend_says_until_when() {
        assert_eq!(
            until(Some("2026-01-01T00:00:00Z"), Some("90s")).as_deref(),
            Some("2026-01-01T00:01:30Z")
        );
        assert_eq!(
            until(Some("2026-01-01T00:00:00Z"), Some("1h")).as_deref(),
            Some("2026-01-01T01:00:00Z")
        );
        assert_eq!(until(Some("2026-01-01T00:00:00Z"), Some("{{x}}")), None);
        assert_eq!(until(None, Some("10")), None);
    }
}
