//! Node ids and pod names, computed as Argo computes them.

use crate::model::Workflow;

/// The annotation that selects a workflow's pod name format (`v1` or `v2`).
pub const POD_NAME_FORMAT_ANNOTATION: &str = "workflows.argoproj.io/pod-name-format";

/// Longest Kubernetes resource name.
const MAX_K8S_NAME_LENGTH: usize = 253;
/// Room kept for the hash at the end of a pod name.
const HASH_LENGTH: usize = 10;
/// Longest pod name prefix (workflow and template names), in bytes.
const MAX_POD_PREFIX_LENGTH: usize = MAX_K8S_NAME_LENGTH - HASH_LENGTH - 1;

/// Which pod name format a workflow uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PodNameVersion {
    /// The pod is named after the node id.
    V1,
    /// `<workflow>-<template>-<hash of the node name>` (the default).
    #[default]
    V2,
}

/// node, `<workflow>-<FNV-1a 32 of the node name>` for every other.
pub fn node_id(workflow: &str, node_name: &str) -> String {
    if node_name == workflow {
        return workflow.to_owned();
    }
    format!("{workflow}-{}", fnv32a(node_name.as_bytes()))
}

/// The name of the pod that runs a node, in the default (v2) format.
pub fn pod_name(workflow: &str, node_name: &str, template_name: &str, node_id: &str) -> String {
    pod_name_with_version(
        workflow,
        node_name,
        template_name,
        node_id,
        PodNameVersion::V2,
    )
}

/// The name of the pod that runs a node, in the given format. In v2, the
/// `<workflow>-<template>` prefix is cut to 242 bytes so the name stays within 253.
pub fn pod_name_with_version(
    workflow: &str,
    node_name: &str,
    template_name: &str,
    node_id: &str,
    version: PodNameVersion,
) -> String {
    if version == PodNameVersion::V1 {
        return node_id.to_owned();
    }
    if workflow == node_name {
        return workflow.to_owned();
    }
    let mut prefix = workflow.to_owned();
    if !template_name.is_empty() {
        prefix.push('-');
        prefix.push_str(template_name);
    }
    truncate_bytes(&mut prefix, MAX_POD_PREFIX_LENGTH);
    format!("{prefix}-{}", fnv32a(node_name.as_bytes()))
}

/// The pod name format `wf` asks for with its annotation (v2 when absent or unknown).
pub fn pod_name_version(wf: &Workflow) -> PodNameVersion {
    let annotation = wf
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(POD_NAME_FORMAT_ANNOTATION));
    match annotation.map(String::as_str) {
        Some("v1") => PodNameVersion::V1,
        _ => PodNameVersion::V2,
    }
}

/// FNV-1a, 32 bits: the hash Argo uses in node ids and pod names.
fn fnv32a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash: u32, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

/// Cuts `text` to at most `max` bytes, at a character boundary.
fn truncate_bytes(text: &mut String, max: usize) {
    if text.len() > max {
        let cut = (0..=max).rev().find(|&i| text.is_char_boundary(i));
        text.truncate(cut.unwrap_or(0));
    }
}
