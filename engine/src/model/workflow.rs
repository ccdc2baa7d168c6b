//! `Workflow`, `WorkflowTemplate`, `ClusterWorkflowTemplate` and their shared `WorkflowSpec`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, HostAlias, LocalObjectReference, PersistentVolumeClaimSpec,
    PersistentVolumeClaimStatus, PodDNSConfig, PodResourceClaim, PodSecurityContext,
    ResourceRequirements, Toleration, Volume,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};

use super::artifacts::{ArtifactRepositoryRef, WorkflowLevelArtifactGC};
use super::container::ExecutorPluginSidecar;
use super::metrics::Metrics;
use super::params::Arguments;
use super::retry_sync::{RetryStrategy, Synchronization};
use super::status::WorkflowStatus;
use super::steps_dag::LifecycleHooks;
use super::template::Template;

/// The API version of every Argo resource.
pub const API_VERSION: &str = "argoproj.io/v1alpha1";

/// A workflow: a spec to run, and once running, its status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workflow {
    /// `argoproj.io/v1alpha1`.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    /// `Workflow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name, namespace, labels, annotations…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    /// What to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<WorkflowSpec>,
    /// What happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WorkflowStatus>,
}

impl Workflow {
    /// `metadata.name` (empty when unset).
    pub fn name(&self) -> &str {
        self.metadata
            .as_ref()
            .and_then(|m| m.name.as_deref())
            .unwrap_or_default()
    }

    /// `metadata.uid` (empty when unset).
    pub fn uid(&self) -> &str {
        self.metadata
            .as_ref()
            .and_then(|m| m.uid.as_deref())
            .unwrap_or_default()
    }
}

/// A namespaced library of templates, or a workflow to submit by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowTemplate {
    /// `argoproj.io/v1alpha1`.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    /// `WorkflowTemplate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name, namespace, labels, annotations…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    /// The templates and workflow defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<WorkflowSpec>,
}

/// A cluster-wide library of templates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterWorkflowTemplate {
    /// `argoproj.io/v1alpha1`.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    /// `ClusterWorkflowTemplate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name, labels, annotations…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    /// The templates and workflow defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<WorkflowSpec>,
}

/// The specification of a workflow (also the body of workflow templates).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowSpec {
    /// The templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub templates: Option<Vec<Template>>,
    /// Name of the template to start with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<String>,
    /// Global arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Arguments>,
    /// Service account of the workflow's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Mount the service account token in the pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<bool>,
    /// Executor settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<ExecutorConfig>,
    /// Volumes shared by the workflow's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<Volume>>,
    /// Claims created for the workflow and deleted after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_claim_templates: Option<Vec<PersistentVolumeClaimTemplate>>,
    /// Most pods running at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<i64>,
    /// Artifact repository to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_repository_ref: Option<ArtifactRepositoryRef>,
    /// Start suspended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Node selector of every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Affinity of every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Tolerations of every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
    /// Image pull secrets of every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Vec<LocalObjectReference>>,
    /// Use the host's network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_network: Option<bool>,
    /// DNS policy of every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_policy: Option<String>,
    /// DNS settings of every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_config: Option<PodDNSConfig>,
    /// Template run when the workflow ends (exit handler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_exit: Option<String>,
    /// When to delete the finished workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_strategy: Option<TTLStrategy>,
    /// Time limit of the whole workflow in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<i64>,
    /// Priority among the controller's workflows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// Scheduler of every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Option<String>,
    /// When to delete finished pods.
    #[serde(rename = "podGC", default, skip_serializing_if = "Option::is_none")]
    pub pod_gc: Option<PodGC>,
    /// Priority class of every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_priority_class_name: Option<String>,
    /// Legacy pod priority (removed in Argo 4.0; use `podPriorityClassName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_priority: Option<i32>,
    /// Extra `/etc/hosts` entries of every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_aliases: Option<Vec<HostAlias>>,
    /// Pod-level security context of every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<PodSecurityContext>,
    /// Patch applied to every pod's spec (JSON or YAML text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_spec_patch: Option<String>,
    /// Disruption budget created for the workflow's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_disruption_budget: Option<PodDisruptionBudgetSpec>,
    /// Custom metrics of the workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    /// `Terminate` or `Stop` the workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<String>,
    /// Run the spec of this workflow template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_template_ref: Option<WorkflowTemplateRef>,
    /// Semaphores and mutexes held by the whole workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synchronization: Option<Synchronization>,
    /// When to delete the claims of `volumeClaimTemplates`.
    #[serde(
        rename = "volumeClaimGC",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub volume_claim_gc: Option<VolumeClaimGC>,
    /// Default retry strategy of the templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_strategy: Option<RetryStrategy>,
    /// Labels and annotations of every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_metadata: Option<Metadata>,
    /// Defaults merged into every template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_defaults: Option<Box<Template>>,
    /// Archive the main containers' logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_logs: Option<bool>,
    /// Workflow-level lifecycle hooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<LifecycleHooks>,
    /// Labels and annotations added to the workflow itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_metadata: Option<WorkflowMetadata>,
    /// Garbage collection of the workflow's artifacts.
    #[serde(
        rename = "artifactGC",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_gc: Option<WorkflowLevelArtifactGC>,
    /// Executor plugins run as sidecars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_plugins: Option<Vec<ExecutorPlugin>>,
    /// Resources of every pod as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_resources: Option<ResourceRequirements>,
    /// Dynamic resource claims of every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_claims: Option<Vec<PodResourceClaim>>,
}

impl WorkflowSpec {
    /// The template of that name, if any.
    pub fn template(&self, name: &str) -> Option<&Template> {
        self.templates
            .as_deref()?
            .iter()
            .find(|t| t.name.as_deref() == Some(name))
    }
}

/// A volume claim created for a workflow (Kubernetes' `PersistentVolumeClaim`, every
/// field optional so that the document round-trips as written).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistentVolumeClaimTemplate {
    /// Usually absent; `v1` when given.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    /// Usually absent; `PersistentVolumeClaim` when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Claim name (a prefix: Argo adds the workflow's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    /// What to claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<PersistentVolumeClaimSpec>,
    /// Claim status (never written by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PersistentVolumeClaimStatus>,
}

/// Labels and annotations of pods.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// Labels and annotations added to the workflow itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowMetadata {
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Labels computed from expressions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels_from: Option<BTreeMap<String, LabelValueFrom>>,
}

/// A label value computed from an expression.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelValueFrom {
    /// The expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// When to delete a finished workflow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TTLStrategy {
    /// Seconds after the workflow finished, whatever the outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_after_completion: Option<i32>,
    /// Seconds after the workflow succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_after_success: Option<i32>,
    /// Seconds after the workflow failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_after_failure: Option<i32>,
}

/// When to delete a workflow's pods.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodGC {
    /// `OnPodCompletion`, `OnPodSuccess`, `OnWorkflowCompletion` or `OnWorkflowSuccess`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Only pods with these labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    /// Wait this long before deleting (a duration string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_delay_duration: Option<String>,
}

/// When to delete a workflow's volume claims.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeClaimGC {
    /// `OnWorkflowCompletion` or `OnWorkflowSuccess`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
}

/// Executor settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutorConfig {
    /// Service account the executor uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
}

/// A workflow template (or cluster workflow template) whose spec a workflow runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowTemplateRef {
    /// Template name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Refer to a cluster workflow template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_scope: Option<bool>,
}

/// An executor plugin declared in a workflow spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutorPlugin {
    /// Plugin name and labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    /// The plugin's sidecar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<ExecutorPluginSpec>,
}

/// Specification of an executor plugin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutorPluginSpec {
    /// The plugin's sidecar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<ExecutorPluginSidecar>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_template_lookup_and_renamed_fields() {
        let s: WorkflowSpec = serde_json::from_str(
            r#"{"entrypoint":"a","templates":[{"name":"a"},{"name":"b"}],
                "podGC":{"strategy":"OnPodSuccess"},"ttlStrategy":{"secondsAfterCompletion":10},
                "volumeClaimGC":{"strategy":"OnWorkflowSuccess"},"artifactGC":{"strategy":"Never"}}"#,
        )
        .unwrap();
        assert_eq!(s.template("b").and_then(|t| t.name.as_deref()), Some("b"));
        assert!(s.template("c").is_none());
        assert!(s.pod_gc.is_some() && s.volume_claim_gc.is_some() && s.artifact_gc.is_some());
        assert_eq!(
            s.ttl_strategy.and_then(|t| t.seconds_after_completion),
            Some(10)
        );
    }
}
