//! Serde types for Argo's `argoproj.io/v1alpha1` resources, matching Argo v4's JSON names.
//!
//! Conventions, relied on by the strict YAML deserializer:
//! - every field is an `Option` (maps are `BTreeMap`s), so what a document says — and
//!   only that — round-trips;
//! - no `flatten`, `untagged` or `deny_unknown_fields`: Go's inline embeddings are spelled
//!   out field by field (with macros where a field set is shared), so each struct's full
//!   field list reaches `deserialize_struct` and unknown keys reach `deserialize_ignored_any`;
//! - scalars Argo accepts in several forms use [`AnyString`], [`Amount`], `IntOrString`
//!   or [`Item`] (any JSON).

mod scalars;

#[macro_use]
mod embed;
mod artifact_repository;
mod artifacts;
mod container;
mod cron;
mod event;
mod metrics;
mod params;
mod retry_sync;
mod status;
mod steps_dag;
mod template;
mod workflow;

pub use artifact_repository::*;
pub use artifacts::*;
pub use container::*;
pub use cron::*;
pub use event::*;
pub use metrics::*;
pub use params::*;
pub use retry_sync::*;
pub use scalars::*;
pub use status::*;
pub use steps_dag::*;
pub use template::*;
pub use workflow::*;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Serialize, Serializer};

/// One Argo resource of any kind. The caller picks the variant from the document's
/// `kind`; serializing writes the inner resource as it is.
// Variants stay unboxed for plain matching: a document holds a handful of manifests,
// so the size gap between a `Workflow` and a `WorkflowEventBinding` costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Manifest {
    /// A `Workflow`.
    Workflow(Workflow),
    /// A `WorkflowTemplate`.
    WorkflowTemplate(WorkflowTemplate),
    /// A `ClusterWorkflowTemplate`.
    ClusterWorkflowTemplate(ClusterWorkflowTemplate),
    /// A `CronWorkflow`.
    CronWorkflow(CronWorkflow),
    /// A `WorkflowEventBinding`.
    WorkflowEventBinding(WorkflowEventBinding),
}

impl Manifest {
    /// Every kind a manifest can have, spelled as in `kind:`.
    pub const KINDS: [&'static str; 5] = [
        "Workflow",
        "WorkflowTemplate",
        "ClusterWorkflowTemplate",
        "CronWorkflow",
        "WorkflowEventBinding",
    ];

    /// The kind, spelled as in `kind:` (from the variant, not from the document).
    pub fn kind(&self) -> &'static str {
        match self {
            Manifest::Workflow(_) => "Workflow",
            Manifest::WorkflowTemplate(_) => "WorkflowTemplate",
            Manifest::ClusterWorkflowTemplate(_) => "ClusterWorkflowTemplate",
            Manifest::CronWorkflow(_) => "CronWorkflow",
            Manifest::WorkflowEventBinding(_) => "WorkflowEventBinding",
        }
    }

    /// The resource's metadata, if the document has one.
    pub fn metadata(&self) -> Option<&ObjectMeta> {
        match self {
            Manifest::Workflow(r) => r.metadata.as_ref(),
            Manifest::WorkflowTemplate(r) => r.metadata.as_ref(),
            Manifest::ClusterWorkflowTemplate(r) => r.metadata.as_ref(),
            Manifest::CronWorkflow(r) => r.metadata.as_ref(),
            Manifest::WorkflowEventBinding(r) => r.metadata.as_ref(),
        }
    }

    /// `metadata.name` (not `generateName`), if set.
    pub fn name(&self) -> Option<&str> {
        self.metadata()?.name.as_deref()
    }

    /// The workflow spec the resource carries: `spec` of workflows and workflow templates,
    /// `spec.workflowSpec` of cron workflows, none for event bindings.
    pub fn workflow_spec(&self) -> Option<&WorkflowSpec> {
        match self {
            Manifest::Workflow(r) => r.spec.as_ref(),
            Manifest::WorkflowTemplate(r) => r.spec.as_ref(),
            Manifest::ClusterWorkflowTemplate(r) => r.spec.as_ref(),
            Manifest::CronWorkflow(r) => r.spec.as_ref()?.workflow_spec.as_ref(),
            Manifest::WorkflowEventBinding(_) => None,
        }
    }
}

impl Serialize for Manifest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Manifest::Workflow(r) => r.serialize(serializer),
            Manifest::WorkflowTemplate(r) => r.serialize(serializer),
            Manifest::ClusterWorkflowTemplate(r) => r.serialize(serializer),
            Manifest::CronWorkflow(r) => r.serialize(serializer),
            Manifest::WorkflowEventBinding(r) => r.serialize(serializer),
        }
    }
}

impl From<Workflow> for Manifest {
    fn from(r: Workflow) -> Self {
        Manifest::Workflow(r)
    }
}

impl From<WorkflowTemplate> for Manifest {
    fn from(r: WorkflowTemplate) -> Self {
        Manifest::WorkflowTemplate(r)
    }
}

impl From<ClusterWorkflowTemplate> for Manifest {
    fn from(r: ClusterWorkflowTemplate) -> Self {
        Manifest::ClusterWorkflowTemplate(r)
    }
}

impl From<CronWorkflow> for Manifest {
    fn from(r: CronWorkflow) -> Self {
        Manifest::CronWorkflow(r)
    }
}

impl From<WorkflowEventBinding> for Manifest {
    fn from(r: WorkflowEventBinding) -> Self {
        Manifest::WorkflowEventBinding(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_kind_name_and_serialize() {
        let wf: Workflow = serde_json::from_str(
            r#"{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow",
                "metadata":{"name":"hello"},"spec":{"entrypoint":"main"}}"#,
        )
        .unwrap();
        let m = Manifest::from(wf);
        assert_eq!(m.kind(), "Workflow");
        assert_eq!(m.name(), Some("hello"));
        assert_eq!(
            m.workflow_spec().and_then(|s| s.entrypoint.as_deref()),
            Some("main")
        );
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["metadata"]["name"], "hello");
        assert_eq!(v["kind"], "Workflow");

        let cron = Manifest::CronWorkflow(CronWorkflow::default());
        assert_eq!(cron.kind(), "CronWorkflow");
        assert_eq!(cron.name(), None);
        assert!(Manifest::KINDS.contains(&cron.kind()));
    }
}
