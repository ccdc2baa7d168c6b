//! Creating and updating nodes of a status, and reading their shape (outbound nodes).

use std::collections::BTreeMap;

use crate::model::{Inputs, NodePhase, NodeStatus, NodeType};

use super::ids::node_id;
use super::walk::Ctx;

/// What a new node is.
pub(crate) struct NewNode<'a> {
    pub name: &'a str,
    pub display_name: &'a str,
    pub node_type: NodeType,
    pub template_name: Option<&'a str>,
    pub template_ref: Option<crate::model::TemplateRef>,
    pub boundary_id: Option<&'a str>,
    pub phase: NodePhase,
    pub inputs: Option<Inputs>,
    pub message: Option<String>,
}

impl Ctx<'_> {
    /// The node with this name, if it exists.
    pub(crate) fn node_by_name(&self, name: &str) -> Option<&NodeStatus> {
        self.nodes.get(&node_id(&self.wf.name, name))
    }

    /// Creates a node (or returns the existing one's ID).
    pub(crate) fn create_node(&mut self, n: NewNode<'_>) -> String {
        let id = node_id(&self.wf.name, n.name);
        if self.nodes.contains_key(&id) {
            return id;
        }
        let fulfilled = n.phase.fulfilled();
        let started = (n.phase != NodePhase::Pending || n.node_type != NodeType::Pod)
            .then(|| self.now_str.clone());
        let node = NodeStatus {
            id: Some(id.clone()),
            name: Some(n.name.to_string()),
            display_name: Some(n.display_name.to_string()),
            r#type: Some(n.node_type),
            template_name: n.template_name.map(str::to_string),
            template_ref: n.template_ref,
            template_scope: Some("local/".to_string() + &self.wf.name),
            phase: Some(n.phase),
            boundary_id: n.boundary_id.filter(|b| !b.is_empty()).map(str::to_string),
            message: n.message,
            started_at: started.clone(),
            finished_at: if fulfilled { started } else { None },
            inputs: n.inputs,
            ..Default::default()
        };
        if n.node_type == NodeType::Pod && !fulfilled {
            self.active_pods += 1;
        }
        self.nodes.insert(id.clone(), node);
        id
    }

    /// Creates a node that will not run (`when` false: Skipped; `depends` unmet: Omitted).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_skipped(
        &mut self,
        name: &str,
        display_name: &str,
        template_name: Option<&str>,
        template_ref: Option<&crate::model::TemplateRef>,
        boundary_id: &str,
        phase: NodePhase,
        message: String,
    ) -> String {
        self.create_node(NewNode {
            name,
            display_name,
            node_type: NodeType::Skipped,
            template_name,
            template_ref: template_ref.cloned(),
            boundary_id: Some(boundary_id),
            phase,
            inputs: None,
            message: Some(message),
        })
    }

    /// Sets a node's phase (and message), stamping `finishedAt` when it is fulfilled.
    pub(crate) fn mark(&mut self, id: &str, phase: NodePhase, message: Option<String>) {
        let now = self.now_str.clone();
        if let Some(n) = self.nodes.get_mut(id) {
            if n.phase != Some(phase) {
                n.phase = Some(phase);
                if phase.fulfilled() && n.finished_at.is_none() {
                    n.finished_at = Some(now.clone());
                }
                if n.started_at.is_none() {
                    n.started_at = Some(now);
                }
            }
            if message.is_some() {
                n.message = message;
            }
        }
    }

    /// Adds `child` to `parent`'s children (once).
    pub(crate) fn add_child(&mut self, parent: &str, child: &str) {
        if let Some(p) = self.nodes.get_mut(parent) {
            let children = p.children.get_or_insert_with(Vec::new);
            if !children.iter().any(|c| c == child) {
                children.push(child.to_string());
            }
        }
    }

    /// The phase of a node (Pending when unknown).
    pub(crate) fn phase(&self, id: &str) -> NodePhase {
        self.nodes
            .get(id)
            .and_then(|n| n.phase)
            .unwrap_or(NodePhase::Pending)
    }

    /// A daemon step that is up and ready: its node stays Running, but the steps or tasks after
    /// it go on as if it had finished (Argo's `IsDaemoned()` on a node that is not Pending).
    pub(crate) fn daemoned(&self, id: &str) -> bool {
        self.nodes.get(id).is_some_and(|n| {
            n.daemoned == Some(true) && !matches!(n.phase, None | Some(NodePhase::Pending))
        })
    }

    /// Argo's `Fulfilled()`: the node has finished, or it is a daemon that is up.
    pub(crate) fn fulfilled(&self, id: &str) -> bool {
        self.phase(id).fulfilled() || self.daemoned(id)
    }

    /// Ends the daemons a Steps or DAG node started, now that it has finished (or, with
    /// `boundary` `None`, every daemon of the workflow, which is ending): each becomes Succeeded
    /// and its process is stopped, like Argo's `killDaemonedChildren`.
    pub(crate) fn end_daemons(&mut self, boundary: Option<&str>) {
        let ids: Vec<String> = self
            .nodes
            .values()
            .filter(|n| n.daemoned == Some(true))
            .filter(|n| boundary.is_none_or(|b| n.boundary_id.as_deref() == Some(b)))
            .filter_map(|n| n.id.clone())
            .collect();
        for id in ids {
            let is_pod = self.nodes.get(&id).and_then(|n| n.r#type) == Some(NodeType::Pod);
            if let Some(n) = self.nodes.get_mut(&id) {
                n.daemoned = None;
            }
            self.mark(&id, NodePhase::Succeeded, None);
            if is_pod {
                self.active_pods = self.active_pods.saturating_sub(1);
                self.actions.push(super::Action::StopStep {
                    node_id: id,
                    reason: "its scope ended, so the daemon was stopped".into(),
                });
            }
        }
    }

    /// The nodes a later step or task hangs from: the node itself for leaves, the outbound nodes
    /// of a Steps/DAG node, the last attempt of a Retry node.
    pub(crate) fn outbound_nodes(&self, id: &str) -> Vec<String> {
        outbound(&self.nodes, id, 0)
    }
}

fn outbound(nodes: &BTreeMap<String, NodeStatus>, id: &str, depth: usize) -> Vec<String> {
    let Some(n) = nodes.get(id) else {
        return Vec::new();
    };
    if depth > 200 {
        return vec![id.to_string()];
    }
    match n.r#type {
        Some(NodeType::Retry) => match n.children.as_ref().and_then(|c| c.last()) {
            Some(last) => outbound(nodes, last, depth + 1),
            None => vec![id.to_string()],
        },
        Some(NodeType::TaskGroup) => {
            let out: Vec<String> = n
                .children
                .iter()
                .flatten()
                .flat_map(|c| outbound(nodes, c, depth + 1))
                .collect();
            if out.is_empty() {
                vec![id.to_string()]
            } else {
                out
            }
        }
        Some(NodeType::Steps | NodeType::Dag | NodeType::StepGroup) => match &n.outbound_nodes {
            Some(o) if !o.is_empty() => o.clone(),
            _ => vec![id.to_string()],
        },
        _ => vec![id.to_string()],
    }
}

/// Argo's "failed or error".
pub(crate) fn failed_or_error(p: NodePhase) -> bool {
    matches!(p, NodePhase::Failed | NodePhase::Error)
}
