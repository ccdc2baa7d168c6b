//! Argo's `retry`: a finished workflow runs again from where it failed. Its failed steps (a
//! retried step's whole retry node, so it gets its retry budget back), everything that came
//! after them, and the exit handler are removed from the status; the groups and templates that
//! contain them are reset to Running; what succeeded is kept and does not run again. With
//! `restartSuccessful`, the succeeded nodes a selector picks run again too.
//!
//! Changing parameters also re-runs the suspend steps that were approved (and what followed them):
//! an approval holds for the parameters it was given with.
//!
//! The plan then recreates the removed nodes under the same ids (they derive from node names),
//! so the backend must forget that it started them (`Retried::removed`).

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{NodePhase, NodeStatus, NodeType, Workflow, WorkflowPhase};
use crate::submit::{SubmitOptions, from_workflow};

use super::{NodeSelector, OpError};

/// How to retry (Argo's `WorkflowRetryRequest`).
#[derive(Debug, Clone, Default)]
pub struct RetryOptions {
    /// Also run again the succeeded nodes `selector` picks, and what came after them.
    pub restart_successful: bool,
    /// Which succeeded nodes (with `restart_successful`).
    pub selector: Option<NodeSelector>,
    /// Workflow parameters to change, `(name, value)`; each must be declared.
    pub parameters: Vec<(String, String)>,
}

/// A workflow made ready to run again.
#[derive(Debug, Clone)]
pub struct Retried {
    /// The workflow, Running, with the nodes to run again removed.
    pub workflow: Workflow,
    /// The ids of the removed nodes: a backend forgets it started them and clears what they left.
    pub removed: BTreeSet<String>,
}

/// Whether nodes of this type run something (the steps a retry starts from and lists).
pub fn executes(t: Option<NodeType>) -> bool {
    matches!(
        t,
        Some(
            NodeType::Pod
                | NodeType::Container
                | NodeType::Suspend
                | NodeType::Http
                | NodeType::Plugin
        )
    )
}

fn failed(n: &NodeStatus) -> bool {
    matches!(n.phase, Some(NodePhase::Failed | NodePhase::Error))
}

/// Prepares `wf` to run again (see the module docs). Refused unless it Failed or Errored — or
/// Succeeded, with `restart_successful` and a selector.
pub fn retry(wf: &Workflow, opts: &RetryOptions) -> Result<Retried, OpError> {
    let phase = wf.status.as_ref().and_then(|s| s.phase).unwrap_or_default();
    match phase {
        WorkflowPhase::Failed | WorkflowPhase::Error => {}
        WorkflowPhase::Succeeded if opts.restart_successful && opts.selector.is_some() => {}
        WorkflowPhase::Succeeded => {
            return Err(OpError::NotRetryable(
                "to retry a succeeded workflow, set restartSuccessful and nodeFieldSelector".into(),
            ));
        }
        other => {
            return Err(OpError::NotRetryable(format!(
                "cannot retry a workflow in phase {}: it has not finished",
                if other == WorkflowPhase::Unknown {
                    "Pending"
                } else {
                    other.as_str()
                }
            )));
        }
    }
    let opts_params = SubmitOptions {
        parameters: opts.parameters.clone(),
        entrypoint: None,
    };
    let mut out = from_workflow(wf.clone(), &opts_params).map_err(OpError::NotRetryable)?;
    let name = wf.name().to_string();
    let nodes = wf
        .status
        .as_ref()
        .and_then(|s| s.nodes.clone())
        .unwrap_or_default();

    let removed = descendants(&nodes, starts(&nodes, &name, opts));
    let reset = containers(&nodes, &removed);
    let now_nodes: BTreeMap<String, NodeStatus> = nodes
        .into_iter()
        .filter(|(id, _)| !removed.contains(id))
        .map(|(id, mut n)| {
            if let Some(c) = n.children.as_mut() {
                c.retain(|c| !removed.contains(c));
            }
            if reset.contains(&id) {
                n.phase = Some(NodePhase::Running);
                n.finished_at = None;
                n.message = None;
                n.outbound_nodes = None;
            }
            (id, n)
        })
        .collect();

    let status = out.status.get_or_insert_with(Default::default);
    status.phase = Some(WorkflowPhase::Running);
    status.finished_at = None;
    status.message = None;
    status.nodes = Some(now_nodes);
    if let Some(spec) = out.spec.as_mut() {
        spec.shutdown = None;
        spec.suspend = None;
    }
    Ok(Retried {
        workflow: out,
        removed,
    })
}

/// The nodes a retry removes before taking descendants: failed steps (a retried one's retry
/// node), succeeded nodes the selector picks, and the exit handler.
fn starts(
    nodes: &BTreeMap<String, NodeStatus>,
    workflow: &str,
    opts: &RetryOptions,
) -> BTreeSet<String> {
    let parents = parents(nodes);
    let on_exit = format!("{workflow}.onExit");
    let mut out = BTreeSet::new();
    for (id, n) in nodes {
        if n.name.as_deref().is_some_and(|x| x.starts_with(&on_exit)) {
            out.insert(id.clone());
            continue;
        }
        if opts.restart_successful && opts.selector.as_ref().is_some_and(|s| s.matches(n)) {
            out.insert(id.clone());
            continue;
        }
        // An approval was given for the parameters the run had: with other parameters, it
        // must be given again (and what followed it runs again).
        if !opts.parameters.is_empty()
            && n.r#type == Some(NodeType::Suspend)
            && n.phase == Some(NodePhase::Succeeded)
        {
            out.insert(id.clone());
            continue;
        }
        if !(failed(n) && executes(n.r#type)) {
            continue;
        }
        let retried = n.node_flag.as_ref().and_then(|f| f.retried) == Some(true);
        let target = if retried {
            parents
                .get(id.as_str())
                .into_iter()
                .flatten()
                .find(|p| {
                    nodes
                        .get(**p)
                        .is_some_and(|p| p.r#type == Some(NodeType::Retry))
                })
                .map(|p| p.to_string())
        } else {
            Some(id.clone())
        };
        // A failed attempt of a retry node that went on to succeed is history, not a failure.
        if let Some(t) = target.filter(|t| nodes.get(t).is_some_and(failed)) {
            out.insert(t);
        }
    }
    out
}

/// `children` edges reversed.
fn parents(nodes: &BTreeMap<String, NodeStatus>) -> BTreeMap<&str, Vec<&str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, n) in nodes {
        for c in n.children.iter().flatten() {
            out.entry(c.as_str()).or_default().push(id.as_str());
        }
    }
    out
}

/// `start` with everything reachable from it through `children` (what ran inside and after).
fn descendants(nodes: &BTreeMap<String, NodeStatus>, start: BTreeSet<String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = start.into_iter().collect();
    while let Some(id) = todo.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        for c in nodes
            .get(&id)
            .and_then(|n| n.children.as_ref())
            .into_iter()
            .flatten()
        {
            todo.push(c.clone());
        }
    }
    seen.retain(|id| nodes.contains_key(id));
    seen
}

/// The nodes that contain removed ones and so must be planned again: their templates' Steps or
/// DAG nodes up to the root (`boundaryID`), and the step groups and loop groups they sit in.
fn containers(
    nodes: &BTreeMap<String, NodeStatus>,
    removed: &BTreeSet<String>,
) -> BTreeSet<String> {
    let parents = parents(nodes);
    let mut out = BTreeSet::new();
    let mut todo: Vec<&str> = removed.iter().map(String::as_str).collect();
    while let Some(id) = todo.pop() {
        let Some(n) = nodes.get(id) else { continue };
        let groups = parents.get(id).into_iter().flatten().copied().filter(|p| {
            nodes.get(*p).is_some_and(|p| {
                matches!(
                    p.r#type,
                    Some(NodeType::StepGroup | NodeType::TaskGroup | NodeType::Retry)
                )
            })
        });
        for up in n.boundary_id.as_deref().into_iter().chain(groups) {
            if !removed.contains(up) && out.insert(up.to_string()) {
                todo.push(up);
            }
        }
    }
    out
}
