//! `Template`, the unit of work, and the kinds of work a template can do.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::{
    Affinity, HostAlias, PodResourceClaim, PodSecurityContext, ResourceRequirements,
    SecretKeySelector, Toleration, Volume,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

use super::artifacts::{Artifact, ArtifactLocation, ArtifactPaths};
use super::container::{ContainerSetTemplate, ScriptTemplate, TemplateContainer, UserContainer};
use super::metrics::Metrics;
use super::params::{Inputs, Outputs};
use super::retry_sync::{Memoize, RetryStrategy, Synchronization};
use super::steps_dag::{DAGTemplate, WorkflowStep};
use super::workflow::{ExecutorConfig, Metadata};

/// Configuration of an executor plugin template: any JSON object, keyed by plugin name
/// (Go's `Plugin`, an inline raw object).
pub type Plugin = serde_json::Value;

/// A reusable unit of work. Exactly one of the template kinds (`container`, `script`,
/// `steps`, `dag`, `suspend`, `resource`, `data`, `http`, `plugin`, `containerSet`) is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    /// Template name, unique in the workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Parameters and artifacts the template takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Inputs>,
    /// Parameters and artifacts the template produces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Outputs>,
    /// Node selector of the template's pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Affinity of the template's pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Labels and annotations of the template's pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Run in the background: the node counts as done once it is ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemon: Option<bool>,
    /// Groups of steps: groups run one after the other, the steps of a group in parallel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<Vec<WorkflowStep>>>,
    /// Run a container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<TemplateContainer>,
    /// Run several containers in one pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_set: Option<ContainerSetTemplate>,
    /// Run a script in a container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<ScriptTemplate>,
    /// Act on a Kubernetes resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceTemplate>,
    /// A DAG of tasks.
    #[serde(rename = "dag", default, skip_serializing_if = "Option::is_none")]
    pub dag: Option<DAGTemplate>,
    /// Wait for a duration or for a person to resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<SuspendTemplate>,
    /// Transform data without a pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Data>,
    /// Make an HTTP request.
    #[serde(rename = "http", default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Http>,
    /// Run an executor plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<Plugin>,
    /// Volumes of the template's pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<Volume>>,
    /// Init containers of the template's pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_containers: Option<Vec<UserContainer>>,
    /// Sidecars of the template's pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecars: Option<Vec<UserContainer>>,
    /// Where the template's output artifacts go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_location: Option<ArtifactLocation>,
    /// Time limit of the template in seconds (a number or an expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<IntOrString>,
    /// How to retry the template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_strategy: Option<RetryStrategy>,
    /// Most child nodes running at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<i64>,
    /// Stop starting new steps or tasks once one fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_fast: Option<bool>,
    /// Tolerations of the template's pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
    /// Scheduler of the template's pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Option<String>,
    /// Priority class of the template's pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// Legacy pod priority (removed in Argo 4.0; use `priorityClassName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// Service account of the template's pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Mount the service account token in the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<bool>,
    /// Executor settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<ExecutorConfig>,
    /// Extra `/etc/hosts` entries of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_aliases: Option<Vec<HostAlias>>,
    /// Pod-level security context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<PodSecurityContext>,
    /// Patch applied to the pod's spec (JSON or YAML text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_spec_patch: Option<String>,
    /// Custom metrics of the template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    /// Semaphores and mutexes to hold while running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synchronization: Option<Synchronization>,
    /// Cache the template's outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memoize: Option<Memoize>,
    /// Time limit of the template (a duration such as `30s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Annotations of the template (e.g. a display name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Fail the pod if it stays pending this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_timeout: Option<String>,
    /// Resources of the whole pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_resources: Option<ResourceRequirements>,
    /// Dynamic resource claims of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_claims: Option<Vec<PodResourceClaim>>,
}

/// The kind of work a template does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TemplateType {
    /// `container`
    Container,
    /// `script`
    Script,
    /// `steps`
    Steps,
    /// `dag`
    #[serde(rename = "DAG")]
    Dag,
    /// `suspend`
    Suspend,
    /// `resource`
    Resource,
    /// `data`
    Data,
    /// `http`
    #[serde(rename = "HTTP")]
    Http,
    /// `plugin`
    Plugin,
    /// `containerSet`
    ContainerSet,
}

impl TemplateType {
    /// Every template type, in the order Argo checks them.
    pub const ALL: [TemplateType; 10] = [
        TemplateType::Container,
        TemplateType::ContainerSet,
        TemplateType::Steps,
        TemplateType::Script,
        TemplateType::Resource,
        TemplateType::Dag,
        TemplateType::Suspend,
        TemplateType::Data,
        TemplateType::Http,
        TemplateType::Plugin,
    ];

    /// Argo's name of the type (as in node statuses and messages): `Container`, `DAG`, …
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateType::Container => "Container",
            TemplateType::Script => "Script",
            TemplateType::Steps => "Steps",
            TemplateType::Dag => "DAG",
            TemplateType::Suspend => "Suspend",
            TemplateType::Resource => "Resource",
            TemplateType::Data => "Data",
            TemplateType::Http => "HTTP",
            TemplateType::Plugin => "Plugin",
            TemplateType::ContainerSet => "ContainerSet",
        }
    }

    /// The YAML key of the template field that selects this type: `container`, `dag`, …
    pub fn field_name(self) -> &'static str {
        match self {
            TemplateType::Container => "container",
            TemplateType::Script => "script",
            TemplateType::Steps => "steps",
            TemplateType::Dag => "dag",
            TemplateType::Suspend => "suspend",
            TemplateType::Resource => "resource",
            TemplateType::Data => "data",
            TemplateType::Http => "http",
            TemplateType::Plugin => "plugin",
            TemplateType::ContainerSet => "containerSet",
        }
    }
}

impl fmt::Display for TemplateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Template {
    /// The template types whose field is set, in [`TemplateType::ALL`] order.
    pub fn template_types(&self) -> Vec<TemplateType> {
        TemplateType::ALL
            .into_iter()
            .filter(|t| self.has_type(*t))
            .collect()
    }

    /// Whether the field of that template type is set.
    pub fn has_type(&self, t: TemplateType) -> bool {
        match t {
            TemplateType::Container => self.container.is_some(),
            TemplateType::Script => self.script.is_some(),
            TemplateType::Steps => self.steps.is_some(),
            TemplateType::Dag => self.dag.is_some(),
            TemplateType::Suspend => self.suspend.is_some(),
            TemplateType::Resource => self.resource.is_some(),
            TemplateType::Data => self.data.is_some(),
            TemplateType::Http => self.http.is_some(),
            TemplateType::Plugin => self.plugin.is_some(),
            TemplateType::ContainerSet => self.container_set.is_some(),
        }
    }

    /// The template's type: the first one set, in [`TemplateType::ALL`] order
    /// (`None` when no type is set; see [`Template::type_count`]).
    pub fn template_type(&self) -> Option<TemplateType> {
        TemplateType::ALL.into_iter().find(|t| self.has_type(*t))
    }

    /// How many template types are set: a valid template has exactly one.
    pub fn type_count(&self) -> usize {
        TemplateType::ALL
            .into_iter()
            .filter(|t| self.has_type(*t))
            .count()
    }

    /// The template's name, or `""`.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
}

/// A template acting on a Kubernetes resource (`kubectl`-style).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTemplate {
    /// `get`, `create`, `apply`, `delete`, `replace` or `patch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Patch type: `strategic`, `merge` or `json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_strategy: Option<String>,
    /// The resource's manifest (YAML or JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// Take the manifest from an artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_from: Option<ManifestFrom>,
    /// Make the workflow the owner of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_owner_reference: Option<bool>,
    /// Label selector expression telling when the resource succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_condition: Option<String>,
    /// Label selector expression telling when the resource failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_condition: Option<String>,
    /// Extra `kubectl` flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<String>>,
}

/// Where a resource template's manifest comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestFrom {
    /// The artifact holding the manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
}

/// A template that waits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuspendTemplate {
    /// How long to wait (seconds or a duration such as `20s`); forever when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

/// An HTTP request template (Go's `HTTP`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Http {
    /// HTTP method (default `GET`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Request headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<HTTPHeader>>,
    /// Request time limit in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
    /// Expression over the response telling whether the request succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_condition: Option<String>,
    /// Request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Request body from elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_from: Option<HTTPBodySource>,
    /// Skip TLS verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
}

/// A request header of an HTTP template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPHeader {
    /// Header name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Header value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Take the value from a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<HTTPHeaderSource>,
}

/// Source of an HTTP header's value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPHeaderSource {
    /// A key of a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<SecretKeySelector>,
}

/// Source of an HTTP request body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPBodySource {
    /// The body's bytes, base64-encoded (Go's `[]byte` in JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
}

/// A data template: take a source and transform it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Data {
    /// Where the data comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<DataSource>,
    /// Transformations applied in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformation: Option<Vec<TransformationStep>>,
}

/// Source of a data template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataSource {
    /// The paths of files in an artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_paths: Option<ArtifactPaths>,
}

/// One transformation of a data template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransformationStep {
    /// An expression applied to the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_type_and_count() {
        let t: Template =
            serde_json::from_str(r#"{"name":"a","container":{"image":"alpine"}}"#).unwrap();
        assert_eq!(t.template_type(), Some(TemplateType::Container));
        assert_eq!(t.type_count(), 1);

        let none = Template::default();
        assert_eq!(none.template_type(), None);
        assert_eq!(none.type_count(), 0);

        let two: Template =
            serde_json::from_str(r#"{"dag":{"tasks":[]},"http":{"url":"http://x"}}"#).unwrap();
        assert_eq!(two.type_count(), 2);
        assert_eq!(
            two.template_types(),
            [TemplateType::Dag, TemplateType::Http]
        );
        assert_eq!(TemplateType::Dag.as_str(), "DAG");
    }
}
