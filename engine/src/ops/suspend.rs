//! The suspend-node operations: `set` and `resume` with a selector, `resume` of everything.

use std::collections::BTreeMap;

use crate::model::{
    AnyString, NodePhase, NodeStatus, NodeType, Outputs, Parameter, Template, Workflow,
};
use crate::plan::{ResolvedWorkflow, TemplateScope};

use super::{NodeSelector, OpError};

/// What to change on the selected suspend nodes (Argo's `SetOperationValues`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeUpdate {
    /// The new phase (Succeeded resumes the node, Failed rejects it).
    pub phase: Option<NodePhase>,
    /// A message shown on the node.
    pub message: Option<String>,
    /// Values of the template's `valueFrom.supplied` output parameters, by name.
    pub outputs: BTreeMap<String, String>,
}

/// Whether a node is a suspend node still waiting (for a person or its duration).
pub fn is_waiting_suspend(node: &NodeStatus) -> bool {
    node.r#type == Some(NodeType::Suspend)
        && matches!(node.phase, Some(NodePhase::Running | NodePhase::Pending))
}

/// Applies `update` to every waiting suspend node the selector matches (Argo's
/// `updateSuspendedNode`). Returns the ids of the nodes changed; on an error nothing changes.
pub fn update_suspended(
    wf: &mut Workflow,
    resolved: &ResolvedWorkflow,
    selector: &NodeSelector,
    update: &NodeUpdate,
    now: &str,
) -> Result<Vec<String>, OpError> {
    let Some(nodes) = wf.status.as_ref().and_then(|s| s.nodes.as_ref()) else {
        return Err(OpError::NoSuspendedNode(selector.as_str().to_string()));
    };
    let mut changed = Vec::new();
    for (id, n) in nodes {
        if !is_waiting_suspend(n) || !selector.matches(n) {
            continue;
        }
        let mut n = n.clone();
        if let Some(phase) = update.phase {
            n.phase = Some(phase);
            if phase.fulfilled() {
                n.finished_at = Some(now.to_string());
            }
        }
        if let Some(m) = update.message.as_ref().filter(|m| !m.is_empty()) {
            n.message = Some(m.clone());
        }
        let template = node_template(resolved, &n);
        let mut outputs = waiting_outputs(&n, template.map(|t| t.as_ref()));
        if !update.outputs.is_empty() {
            set_supplied(&mut outputs, &n, &update.outputs)?;
        }
        if update.phase.is_some_and(|p| p == NodePhase::Succeeded) {
            fill_defaults(&mut outputs)?;
        }
        n.outputs = finished_outputs(outputs);
        changed.push((id.clone(), n));
    }
    if changed.is_empty() {
        return Err(OpError::NoSuspendedNode(selector.as_str().to_string()));
    }
    let nodes = wf
        .status
        .as_mut()
        .and_then(|s| s.nodes.as_mut())
        .expect("checked above");
    let ids = changed.iter().map(|(id, _)| id.clone()).collect();
    for (id, n) in changed {
        nodes.insert(id, n);
    }
    Ok(ids)
}

/// Resumes a whole workflow (Argo's `resume` without a selector): clears `spec.suspend` and
/// marks every waiting suspend node Succeeded with its supplied outputs' defaults. Returns the
/// ids of the nodes resumed; on an error nothing changes.
pub fn resume_all(
    wf: &mut Workflow,
    resolved: &ResolvedWorkflow,
    now: &str,
) -> Result<Vec<String>, OpError> {
    let mut changed = Vec::new();
    for (id, n) in wf.status.iter().flat_map(|s| s.nodes.iter().flatten()) {
        if !is_waiting_suspend(n) {
            continue;
        }
        let mut n = n.clone();
        let mut outputs = waiting_outputs(&n, node_template(resolved, &n).map(|t| t.as_ref()));
        fill_defaults(&mut outputs)?;
        n.outputs = finished_outputs(outputs);
        n.phase = Some(NodePhase::Succeeded);
        n.finished_at = Some(now.to_string());
        changed.push((id.clone(), n));
    }
    if let Some(spec) = wf.spec.as_mut() {
        spec.suspend = None;
    }
    let ids = changed.iter().map(|(id, _)| id.clone()).collect();
    if let Some(nodes) = wf.status.as_mut().and_then(|s| s.nodes.as_mut()) {
        for (id, n) in changed {
            nodes.insert(id, n);
        }
    }
    Ok(ids)
}

/// [`resume_all`], but only if every waiting suspend node is among `checked` — those whose
/// approval rules were checked — so that a node that started waiting since is never released
/// unchecked. On an error nothing changes.
pub fn resume_checked(
    wf: &mut Workflow,
    resolved: &ResolvedWorkflow,
    checked: &[String],
    now: &str,
) -> Result<Vec<String>, OpError> {
    let unchecked: Vec<String> = wf
        .status
        .iter()
        .flat_map(|s| s.nodes.iter().flatten())
        .filter(|(id, n)| is_waiting_suspend(n) && !checked.contains(id))
        .map(|(_, n)| {
            n.display_name
                .clone()
                .or_else(|| n.name.clone())
                .unwrap_or_default()
        })
        .collect();
    if !unchecked.is_empty() {
        return Err(OpError::Unchecked(unchecked.join(", ")));
    }
    resume_all(wf, resolved, now)
}

/// The template a node runs, if the resolved workflow has it.
pub fn node_template<'a>(
    resolved: &'a ResolvedWorkflow,
    node: &NodeStatus,
) -> Option<&'a std::sync::Arc<Template>> {
    if let Some(r) = &node.template_ref {
        return resolved.template_ref(r).map(|(_, t)| t);
    }
    resolved.template(&TemplateScope::Local, node.template_name.as_deref()?)
}

/// The output parameters of a waiting suspend node: its template's declarations, with the
/// values already set on the node (an earlier `set`) in place of their `valueFrom`.
fn waiting_outputs(node: &NodeStatus, template: Option<&Template>) -> Vec<Parameter> {
    let set: Vec<&Parameter> = node
        .outputs
        .iter()
        .flat_map(|o| o.parameters.iter().flatten())
        .filter(|p| p.value.is_some())
        .collect();
    let mut params = template
        .and_then(|t| t.outputs.as_ref())
        .and_then(|o| o.parameters.clone())
        .unwrap_or_default();
    for p in &mut params {
        if let Some(v) = set.iter().find(|s| s.name == p.name) {
            p.value = v.value.clone();
            p.value_from = None;
        }
    }
    params
}

fn set_supplied(
    params: &mut [Parameter],
    node: &NodeStatus,
    values: &BTreeMap<String, String>,
) -> Result<(), OpError> {
    let shown = node
        .display_name
        .clone()
        .or_else(|| node.name.clone())
        .unwrap_or_default();
    if params.is_empty() {
        return Err(OpError::NoSuppliedOutputs(shown));
    }
    for (name, value) in values {
        let p = params
            .iter_mut()
            .find(|p| p.name.as_deref() == Some(name))
            .ok_or_else(|| OpError::UnknownOutput {
                node: shown.clone(),
                name: name.clone(),
            })?;
        if p.value_from.as_ref().is_none_or(|v| v.supplied.is_none()) {
            return Err(OpError::NotSupplied(name.clone()));
        }
        p.value = Some(AnyString(value.clone()));
        p.value_from = None;
    }
    Ok(())
}

/// Gives every supplied parameter still without a value its default.
fn fill_defaults(params: &mut [Parameter]) -> Result<(), OpError> {
    for p in params.iter_mut() {
        let Some(from) = p.value_from.as_ref().filter(|v| v.supplied.is_some()) else {
            continue;
        };
        let value = p
            .value
            .clone()
            .or_else(|| from.default.clone())
            .ok_or_else(|| OpError::NoDefault(p.name.clone().unwrap_or_default()))?;
        p.value = Some(value);
        p.value_from = None;
    }
    Ok(())
}

/// Outputs as stored on the node: only parameters that have a value.
fn finished_outputs(params: Vec<Parameter>) -> Option<Outputs> {
    let params: Vec<Parameter> = params
        .into_iter()
        .filter(|p| p.value.is_some())
        .map(|p| Parameter {
            name: p.name,
            value: p.value,
            global_name: p.global_name,
            ..Default::default()
        })
        .collect();
    (!params.is_empty()).then(|| Outputs {
        parameters: Some(params),
        ..Default::default()
    })
}
