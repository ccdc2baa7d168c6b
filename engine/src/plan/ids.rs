//! Node IDs and pod names exactly as Argo derives them (the one implementation lives in
//! `crate::progress`, tested against Argo's own values).

use crate::model::NodeStatus;
use crate::progress::{self, PodNameVersion};

/// The ID of the node called `node_name` in workflow `workflow`: the workflow's name for the
/// root node, otherwise `<workflow>-<fnv32a(node_name)>`.
pub fn node_id(workflow: &str, node_name: &str) -> String {
    progress::node_id(workflow, node_name)
}

/// Argo's pod name (format v2): `<workflow>-<template>-<fnv32a(node name)>`, with the prefix
/// shortened so the name stays a valid Kubernetes name; the root node's pod is the workflow name.
pub fn pod_name(workflow: &str, node_name: &str, template_name: &str) -> String {
    progress::pod_name_with_version(workflow, node_name, template_name, "", PodNameVersion::V2)
}

/// The pod name of a node of a workflow's status: [`pod_name`] of its name and its template
/// (the node's `templateName`, else the template its `templateRef` names).
pub fn node_pod_name(workflow: &str, node: &NodeStatus) -> Option<String> {
    let template = node
        .template_name
        .as_deref()
        .or_else(|| {
            node.template_ref
                .as_ref()
                .and_then(|r| r.template.as_deref())
        })
        .unwrap_or_default();
    Some(pod_name(workflow, node.name.as_deref()?, template))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_node_and_pod_are_named_after_the_workflow() {
        assert_eq!(node_id("hello", "hello"), "hello");
        assert_eq!(pod_name("wf", "wf", "main"), "wf");
        assert!(pod_name("wf", "wf[0].a", "say").starts_with("wf-say-"));
        assert!(pod_name("wf", "wf.a", &"x".repeat(300)).len() <= 253);
    }
}
