//! The status of a workflow and of its nodes.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::Volume;
use serde::{Deserialize, Serialize};

use super::artifact_repository::ArtifactRepositoryRefStatus;
use super::params::{Inputs, Outputs};
use super::steps_dag::TemplateRef;
use super::template::Template;
use super::workflow::WorkflowSpec;

/// The phase of a workflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WorkflowPhase {
    /// Not started yet (Argo's empty phase).
    #[default]
    #[serde(rename = "")]
    Unknown,
    /// Waiting for set-up.
    Pending,
    /// At least one node started.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished with a failure.
    Failed,
    /// Finished with an error.
    Error,
}

impl WorkflowPhase {
    /// Argo's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowPhase::Unknown => "",
            WorkflowPhase::Pending => "Pending",
            WorkflowPhase::Running => "Running",
            WorkflowPhase::Succeeded => "Succeeded",
            WorkflowPhase::Failed => "Failed",
            WorkflowPhase::Error => "Error",
        }
    }

    /// Whether the workflow has finished.
    pub fn completed(self) -> bool {
        matches!(
            self,
            WorkflowPhase::Succeeded | WorkflowPhase::Failed | WorkflowPhase::Error
        )
    }
}

impl fmt::Display for WorkflowPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The phase of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodePhase {
    /// Not running yet.
    Pending,
    /// Running.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Not run because its condition was false.
    Skipped,
    /// Finished with a failure.
    Failed,
    /// Finished with an error.
    Error,
    /// Not run because a dependency did not (DAG tasks).
    Omitted,
}

impl NodePhase {
    /// Argo's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NodePhase::Pending => "Pending",
            NodePhase::Running => "Running",
            NodePhase::Succeeded => "Succeeded",
            NodePhase::Skipped => "Skipped",
            NodePhase::Failed => "Failed",
            NodePhase::Error => "Error",
            NodePhase::Omitted => "Omitted",
        }
    }

    /// Whether the node has finished.
    pub fn fulfilled(self) -> bool {
        !matches!(self, NodePhase::Pending | NodePhase::Running)
    }
}

impl fmt::Display for NodePhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodeType {
    /// A pod.
    Pod,
    /// A container of a container set.
    Container,
    /// A steps template.
    Steps,
    /// A group of parallel steps.
    StepGroup,
    /// A DAG template.
    #[serde(rename = "DAG")]
    Dag,
    /// A group of DAG tasks (loops).
    TaskGroup,
    /// The parent of a retried node's attempts.
    Retry,
    /// A skipped node.
    Skipped,
    /// A suspend template.
    Suspend,
    /// An HTTP template.
    #[serde(rename = "HTTP")]
    Http,
    /// A plugin template.
    Plugin,
}

impl NodeType {
    /// Argo's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeType::Pod => "Pod",
            NodeType::Container => "Container",
            NodeType::Steps => "Steps",
            NodeType::StepGroup => "StepGroup",
            NodeType::Dag => "DAG",
            NodeType::TaskGroup => "TaskGroup",
            NodeType::Retry => "Retry",
            NodeType::Skipped => "Skipped",
            NodeType::Suspend => "Suspend",
            NodeType::Http => "HTTP",
            NodeType::Plugin => "Plugin",
        }
    }
}

impl NodeType {
    /// Whether nodes of this type do work themselves (Argo's "executable" types, which carry
    /// their own progress): Pod, Container, HTTP, Plugin and Suspend.
    pub fn is_executable(self) -> bool {
        matches!(
            self,
            NodeType::Pod
                | NodeType::Http
                | NodeType::Plugin
                | NodeType::Container
                | NodeType::Suspend
        )
    }
}

impl fmt::Display for NodeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Resource usage: resource name (`cpu`, `memory`, …) to seconds.
pub type ResourcesDuration = BTreeMap<String, i64>;

/// What happened to a workflow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowStatus {
    /// The workflow's phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<WorkflowPhase>,
    /// Start time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// End time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Estimated duration in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_duration: Option<i64>,
    /// Progress as `done/total`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// Human-readable reason of the phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Compressed copy of `nodes` (base64 gzip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compressed_nodes: Option<String>,
    /// Nodes by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<BTreeMap<String, NodeStatus>>,
    /// Version of the offloaded node status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offload_node_status_version: Option<String>,
    /// Templates resolved from template references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored_templates: Option<BTreeMap<String, Template>>,
    /// Volumes of the claims created for the workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claims: Option<Vec<Volume>>,
    /// Global outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Outputs>,
    /// Conditions of the workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Resources used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_duration: Option<ResourcesDuration>,
    /// The spec of the workflow template used.
    #[serde(
        rename = "storedWorkflowTemplateSpec",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub stored_workflow_template_spec: Option<Box<WorkflowSpec>>,
    /// Semaphores and mutexes held or waited for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synchronization: Option<SynchronizationStatus>,
    /// The artifact repository resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_repository_ref: Option<ArtifactRepositoryRefStatus>,
    /// Progress of artifact garbage collection.
    #[serde(
        rename = "artifactGCStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_gc_status: Option<ArtGCStatus>,
    /// Whether each task result is complete, by node id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_results_completion_status: Option<BTreeMap<String, bool>>,
}

/// A condition of a workflow or cron workflow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Completed`, `PodRunning`, `SpecWarning`, `SpecError`, `MetricsError`, …
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// `True`, `False` or `Unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What happened to one node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// Node id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Full node name, e.g. `wf[0].step`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Short name shown to people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Node type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<NodeType>,
    /// Template run by the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_name: Option<String>,
    /// Template reference run by the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_ref: Option<TemplateRef>,
    /// Scope of the template (`local/…`, `namespaced/…`, `cluster/…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_scope: Option<String>,
    /// Node phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<NodePhase>,
    /// Id of the enclosing steps or DAG node.
    #[serde(
        rename = "boundaryID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub boundary_id: Option<String>,
    /// Human-readable reason of the phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Start time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// End time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Estimated duration in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_duration: Option<i64>,
    /// Progress as `done/total`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// Resources used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_duration: Option<ResourcesDuration>,
    /// IP of the node's pod (daemons).
    #[serde(rename = "podIP", default, skip_serializing_if = "Option::is_none")]
    pub pod_ip: Option<String>,
    /// Whether the node is a running daemon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemoned: Option<bool>,
    /// Whether the node is a hook or a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_flag: Option<NodeFlag>,
    /// Inputs the node ran with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Inputs>,
    /// Outputs the node produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Outputs>,
    /// Ids of the child nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<String>>,
    /// Ids of the last nodes of a steps or DAG node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_nodes: Option<Vec<String>>,
    /// Kubernetes node that ran the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_node_name: Option<String>,
    /// Memoization cache hit or miss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memoization_status: Option<MemoizationStatus>,
    /// What the node waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synchronization_status: Option<NodeSynchronizationStatus>,
    /// Whether the node's task result has been reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_result_synced: Option<bool>,
    /// How many times the pod was restarted after a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_pod_restarts: Option<i32>,
    /// UID of the pod being restarted.
    #[serde(
        rename = "restartingPodUID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub restarting_pod_uid: Option<String>,
}

/// Flags of a node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeFlag {
    /// The node runs a lifecycle hook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooked: Option<bool>,
    /// The node is a retry attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retried: Option<bool>,
}

/// Memoization result of a node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoizationStatus {
    /// Whether the cache had the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hit: Option<bool>,
    /// Cache key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Cache (config map) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_name: Option<String>,
}

/// What a node waits for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSynchronizationStatus {
    /// The lock waited for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
}

/// Semaphores and mutexes of a workflow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationStatus {
    /// Semaphores held and waited for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semaphore: Option<SemaphoreStatus>,
    /// Mutexes held and waited for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutex: Option<MutexStatus>,
}

/// Semaphores held and waited for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SemaphoreStatus {
    /// Held semaphores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holding: Option<Vec<SemaphoreHolding>>,
    /// Semaphores waited for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Vec<SemaphoreHolding>>,
}

/// A semaphore and its holders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SemaphoreHolding {
    /// Semaphore key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semaphore: Option<String>,
    /// Holders (workflow or node names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holders: Option<Vec<String>>,
}

/// Mutexes held and waited for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MutexStatus {
    /// Held mutexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holding: Option<Vec<MutexHolding>>,
    /// Mutexes waited for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Vec<MutexHolding>>,
}

/// A mutex and its holder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MutexHolding {
    /// Mutex key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutex: Option<String>,
    /// Holder (workflow or node name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
}

/// Progress of artifact garbage collection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtGCStatus {
    /// Strategies already processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategies_processed: Option<BTreeMap<String, bool>>,
    /// Garbage collection pods already handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods_recouped: Option<BTreeMap<String, bool>>,
    /// No artifact garbage collection was specified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_specified: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_and_types_use_argo_spelling() {
        let n: NodeStatus = serde_json::from_str(
            r#"{"id":"x","name":"wf","type":"DAG","phase":"Omitted","boundaryID":"b","podIP":"1.2.3.4"}"#,
        )
        .unwrap();
        assert_eq!(n.r#type, Some(NodeType::Dag));
        assert_eq!(n.phase, Some(NodePhase::Omitted));
        assert_eq!(n.boundary_id.as_deref(), Some("b"));
        let s: WorkflowStatus = serde_json::from_str(r#"{"phase":"Succeeded"}"#).unwrap();
        assert!(s.phase.unwrap().completed());
        assert_eq!(serde_json::to_string(&NodeType::Http).unwrap(), r#""HTTP""#);
    }
}
