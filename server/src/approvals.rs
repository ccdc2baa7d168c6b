//! Approvals of suspend steps and the audit trail (DESIGN §4): the operations behind the REST
//! API (`api::approvals`, and Argo's `set`, `resume` and `stop` in `api::workflows`) and the UI.
//!
//! Every operation that releases or fails a waiting suspend step first checks the step's
//! approval rule (`engine::approval`) for the caller, then validates what it would change by
//! dry-running it on a copy of the stored workflow — so a refusal or bad input changes nothing
//! and records nothing — then operates through the backend, one node at a time by id (a node
//! that starts waiting meanwhile is never released unchecked), and appends one audit entry per
//! node changed. [`record`] is the one writer of the trail.

pub(crate) mod pending;

use std::collections::BTreeMap;

use controller::local::Control;
use controller::store::{
    AuditAction, AuditEntry, AuditQuery, DEFAULT_NAMESPACE, NewAudit, Page, Store,
    workflow_template_key,
};
use engine::approval::{ApprovalRule, Gate, LABEL_CREATOR, check_values, supplied_fields};
use engine::model::{NodePhase, NodeStatus, NodeType, Template, Workflow};
use engine::ops::{NodeSelector, NodeUpdate, OpError, is_waiting_suspend, node_template};
use engine::plan::ResolvedWorkflow;

pub(crate) use pending::{Pending, inbox, pending_for_run};

use crate::api::{ApiError, ApiState};
use crate::auth::{Caller, guard};
use crate::identity::Identity;
use engine::access::Action;

type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Approves a waiting suspend step: Argo's `set` of its supplied outputs (`values`, over the
/// defaults its form proposes) and `resume` of that node, as `who`, if its approval rule lets
/// them; audited `approve` with the values and comment. Returns the workflow as stored after.
pub(crate) async fn approve(
    state: &ApiState,
    caller: &Caller,
    namespace: &str,
    name: &str,
    node_id: &str,
    values: BTreeMap<String, String>,
    comment: Option<String>,
) -> Result<Workflow> {
    let who = &caller.identity;
    let l = Loaded::load(state, namespace, name).await?;
    guard::check_workflow(state, caller, Action::Approve, &l.wf).await?;
    let node = waiting_node(&l.wf, node_id)?;
    let template = l.template(node);
    allowed(who, &l.wf, node, template)?;
    let fields = supplied_fields(template, node);
    check_values(&fields, &step_of(node), &values).map_err(|e| ApiError::bad(e.to_string()))?;
    let mut outputs: BTreeMap<String, String> = fields
        .into_iter()
        .filter_map(|f| Some((f.name, f.default?)))
        .collect();
    outputs.extend(values);
    let comment = comment
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    let message = match &comment {
        Some(c) => format!("Approved by {}: {c}", who.subject),
        None => format!("Approved by {}", who.subject),
    };
    let update = NodeUpdate {
        phase: Some(NodePhase::Succeeded),
        message: Some(message),
        outputs,
    };
    l.apply(state, node, &update).await?;
    record(
        state,
        who,
        AuditAction::Approve,
        &l.wf,
        Some(node),
        update.outputs,
        comment,
    )
    .await?;
    Ok(state.backend.store().get_workflow(namespace, name).await?)
}

/// Rejects a waiting suspend step: Argo's `stop` of that node (phase Failed, message
/// `Rejected by <subject>: <comment>`), which fails the run unless it handles the failure; the
/// comment is required. Audited `reject`. Returns the workflow as stored after.
pub(crate) async fn reject(
    state: &ApiState,
    caller: &Caller,
    namespace: &str,
    name: &str,
    node_id: &str,
    comment: String,
) -> Result<Workflow> {
    let who = &caller.identity;
    let comment = comment.trim().to_string();
    if comment.is_empty() {
        return Err(ApiError::bad("a comment is required to reject"));
    }
    let l = Loaded::load(state, namespace, name).await?;
    guard::check_workflow(state, caller, Action::Approve, &l.wf).await?;
    let node = waiting_node(&l.wf, node_id)?;
    allowed(who, &l.wf, node, l.template(node))?;
    let update = NodeUpdate {
        phase: Some(NodePhase::Failed),
        message: Some(format!("Rejected by {}: {comment}", who.subject)),
        ..Default::default()
    };
    l.apply(state, node, &update).await?;
    let none = BTreeMap::new();
    record(
        state,
        who,
        AuditAction::Reject,
        &l.wf,
        Some(node),
        none,
        Some(comment),
    )
    .await?;
    Ok(state.backend.store().get_workflow(namespace, name).await?)
}

/// Argo's `set`, and `resume` / `stop` with a `nodeFieldSelector`, held to the rules of
/// [`approve`] and [`reject`]: every waiting suspend node the selector picks must be one `who`
/// may approve (else 403 and nothing changes) and accept the values; each is then changed by id
/// and audited — `approve` when released, `reject` when failed, `set` otherwise.
pub(crate) async fn update_nodes(
    state: &ApiState,
    caller: &Caller,
    namespace: &str,
    name: &str,
    selector: &NodeSelector,
    update: NodeUpdate,
) -> Result<Workflow> {
    let who = &caller.identity;
    let l = Loaded::load(state, namespace, name).await?;
    guard::check_workflow(state, caller, Action::Approve, &l.wf).await?;
    let picked: Vec<&NodeStatus> = waiting(&l.wf).filter(|n| selector.matches(n)).collect();
    if picked.is_empty() {
        let none = OpError::NoSuspendedNode(selector.as_str().to_string());
        return Err(ApiError::FailedPrecondition(none.to_string()));
    }
    for n in &picked {
        let template = l.template(n);
        allowed(who, &l.wf, n, template)?;
        check_values(&supplied_fields(template, n), &step_of(n), &update.outputs)
            .map_err(|e| ApiError::bad(e.to_string()))?;
    }
    let now = engine::plan::format_time(chrono::Utc::now());
    engine::ops::update_suspended(&mut l.wf.clone(), &l.resolved, selector, &update, &now)
        .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
    let action = match update.phase {
        Some(NodePhase::Succeeded) => AuditAction::Approve,
        Some(NodePhase::Failed | NodePhase::Error) => AuditAction::Reject,
        _ => AuditAction::Set,
    };
    for n in picked {
        l.apply(state, n, &update).await?;
        let (values, comment) = (update.outputs.clone(), update.message.clone());
        record(state, who, action, &l.wf, Some(n), values, comment).await?;
    }
    Ok(state.backend.store().get_workflow(namespace, name).await?)
}

/// Argo's `resume` of a whole workflow: it goes on and releases every waiting suspend step, so
/// `who` must be allowed to approve each of them (else 403 and nothing changes). Audited
/// `resume` once per step released, or once for the workflow when none waited.
pub(crate) async fn resume_workflow(
    state: &ApiState,
    caller: &Caller,
    namespace: &str,
    name: &str,
) -> Result<Workflow> {
    let who = &caller.identity;
    let store = state.backend.store();
    let wf = store.get_workflow(namespace, name).await?;
    guard::check_workflow(state, caller, Action::Stop, &wf).await?;
    let released: Vec<NodeStatus> = waiting(&wf).cloned().collect();
    if !released.is_empty() {
        guard::check_workflow(state, caller, Action::Approve, &wf).await?;
        let l = Loaded::resolve(state, wf.clone()).await?;
        for n in &released {
            allowed(who, &l.wf, n, l.template(n))?;
        }
        let now = engine::plan::format_time(chrono::Utc::now());
        engine::ops::resume_all(&mut l.wf.clone(), &l.resolved, &now)
            .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
    }
    let checked = released.iter().filter_map(|n| n.id.clone()).collect();
    state
        .backend
        .operate(wf.uid(), Control::ResumeChecked(checked))
        .await?;
    let mut nodes: Vec<Option<&NodeStatus>> = released.iter().map(Some).collect();
    if nodes.is_empty() {
        nodes.push(None);
    }
    for n in nodes {
        let none = BTreeMap::new();
        record(state, who, AuditAction::Resume, &wf, n, none, None).await?;
    }
    Ok(store.get_workflow(namespace, name).await?)
}

/// Appends what `who` did to `wf` (and which node) to the audit trail — the one place that does.
pub(crate) async fn record(
    state: &ApiState,
    who: &Identity,
    action: AuditAction,
    wf: &Workflow,
    node: Option<&NodeStatus>,
    values: BTreeMap<String, String>,
    comment: Option<String>,
) -> Result<AuditEntry> {
    let meta = wf.metadata.clone().unwrap_or_default();
    let entry = NewAudit {
        actor: who.subject.clone(),
        actor_groups: who.groups.clone(),
        action,
        namespace: meta
            .namespace
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| DEFAULT_NAMESPACE.into()),
        workflow_name: meta.name.unwrap_or_default(),
        workflow_uid: meta.uid.unwrap_or_default(),
        template_key: workflow_template_key(wf),
        node_id: node.and_then(|n| n.id.clone()),
        node_display_name: node.and_then(|n| n.display_name.clone()),
        values,
        comment,
    };
    let stored = state.backend.store().append_audit(&entry).await?;
    tracing::info!(
        actor = %stored.actor,
        action = %stored.action,
        workflow.namespace = %stored.namespace,
        workflow.name = %stored.workflow_name,
        node.id = stored.node_id.as_deref().unwrap_or(""),
        "audit"
    );
    Ok(stored)
}

/// One page of the audit trail, newest first, without the entries of runs `caller` may not
/// read (a page may then hold fewer than its limit).
pub(crate) async fn audit(
    state: &ApiState,
    caller: &Caller,
    query: &AuditQuery,
) -> Result<Page<AuditEntry>> {
    let mut page = state.backend.store().audit(query).await?;
    let mut kept = Vec::with_capacity(page.items.len());
    for entry in page.items {
        let target =
            guard::run_target(state, &entry.namespace, entry.template_key.as_deref()).await;
        if state.auth().allows(caller, Action::Read, &target) {
            kept.push(entry);
        }
    }
    page.items = kept;
    Ok(page)
}

/// A stored workflow with its templates resolved, to read its suspend steps' rules and to
/// dry-run changes on.
struct Loaded {
    wf: Workflow,
    resolved: ResolvedWorkflow,
}

impl Loaded {
    async fn load(state: &ApiState, namespace: &str, name: &str) -> Result<Self> {
        let wf = state.backend.store().get_workflow(namespace, name).await?;
        Self::resolve(state, wf).await
    }

    async fn resolve(state: &ApiState, wf: Workflow) -> Result<Self> {
        let resolved = state.backend.resolve(&wf).await.map_err(|e| {
            ApiError::FailedPrecondition(format!(
                "cannot read the templates of run `{}`: {e}",
                wf.name()
            ))
        })?;
        Ok(Loaded { wf, resolved })
    }

    /// The template a node runs.
    fn template(&self, node: &NodeStatus) -> Option<&Template> {
        node_template(&self.resolved, node).map(|t| t.as_ref())
    }

    /// Changes one waiting node: first on a copy of the stored workflow (bad values are a 400
    /// and change nothing), then through the backend, selected by its id.
    async fn apply(&self, state: &ApiState, node: &NodeStatus, update: &NodeUpdate) -> Result<()> {
        let selector = by_id(node.id.as_deref().unwrap_or_default())?;
        let now = engine::plan::format_time(chrono::Utc::now());
        engine::ops::update_suspended(
            &mut self.wf.clone(),
            &self.resolved,
            &selector,
            update,
            &now,
        )
        .map_err(|e| ApiError::bad(e.to_string()))?;
        let control = Control::Nodes {
            selector,
            update: update.clone(),
        };
        state.backend.operate(self.wf.uid(), control).await?;
        Ok(())
    }
}

/// The approval rule of a step's template (none: anyone may approve). A malformed one lets no
/// one approve until it is fixed.
fn rule_of(template: Option<&Template>, node: &NodeStatus) -> Result<ApprovalRule> {
    template
        .map(ApprovalRule::of_template)
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(|e| {
            ApiError::FailedPrecondition(format!(
                "step `{}` has a malformed approval rule, so no one may approve it until its \
                 template is fixed: {e}",
                step_of(node)
            ))
        })
}

/// Whether `who` may approve `node` of `wf` under `rule` (a 403 saying why when not).
fn permit(who: &Identity, wf: &Workflow, node: &NodeStatus, rule: &ApprovalRule) -> Result<()> {
    let (step, run) = (step_of(node), wf.name());
    let submitter = wf
        .metadata
        .as_ref()
        .and_then(|m| m.labels.as_ref())
        .and_then(|l| l.get(LABEL_CREATOR))
        .map(String::as_str);
    let gate = Gate {
        step: &step,
        run,
        submitter,
    };
    rule.check(&who.actor(), &gate)
        .map_err(|d| ApiError::Forbidden(d.to_string()))
}

/// The rule of `node` checked for `who`.
fn allowed(
    who: &Identity,
    wf: &Workflow,
    node: &NodeStatus,
    template: Option<&Template>,
) -> Result<ApprovalRule> {
    let rule = rule_of(template, node)?;
    permit(who, wf, node, &rule)?;
    Ok(rule)
}

/// The node `node_id` of `wf`, if it is a suspend step waiting for approval.
fn waiting_node<'a>(wf: &'a Workflow, node_id: &str) -> Result<&'a NodeStatus> {
    let run = wf.name();
    let node = wf
        .status
        .as_ref()
        .and_then(|s| s.nodes.as_ref())
        .and_then(|n| n.get(node_id))
        .ok_or_else(|| ApiError::NotFound(format!("run `{run}` has no node `{node_id}`")))?;
    if node.r#type != Some(NodeType::Suspend) {
        return Err(ApiError::bad(format!(
            "step `{}` of run `{run}` is not a suspend step: only suspend steps wait for approval",
            step_of(node)
        )));
    }
    if !is_waiting_suspend(node) {
        let phase = node.phase.map_or("not started", |p| p.as_str());
        return Err(ApiError::FailedPrecondition(format!(
            "step `{}` of run `{run}` is not waiting for approval: it is {phase}",
            step_of(node)
        )));
    }
    Ok(node)
}

/// The suspend nodes of a workflow waiting for approval.
fn waiting(wf: &Workflow) -> impl Iterator<Item = &NodeStatus> {
    wf.status
        .iter()
        .flat_map(|s| s.nodes.iter().flatten())
        .map(|(_, n)| n)
        .filter(|n| is_waiting_suspend(n))
}

/// A selector of exactly the node of this id.
fn by_id(id: &str) -> Result<NodeSelector> {
    let mut escaped = String::with_capacity(id.len());
    for c in id.chars() {
        if matches!(c, ',' | '=' | '!' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    NodeSelector::parse(&format!("id={escaped}")).map_err(|e| ApiError::Internal(e.to_string()))
}

/// A step's name as people see it.
fn step_of(node: &NodeStatus) -> String {
    node.display_name
        .clone()
        .or_else(|| node.name.clone())
        .or_else(|| node.id.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_are_selected_exactly_even_with_separators() {
        let node = |id: &str| NodeStatus {
            id: Some(id.into()),
            ..Default::default()
        };
        let sel = by_id(r"odd,id=x!\y").unwrap();
        assert!(sel.matches(&node(r"odd,id=x!\y")));
        assert!(!sel.matches(&node("odd")));
        assert!(by_id("deploy-123").unwrap().matches(&node("deploy-123")));
    }
}
