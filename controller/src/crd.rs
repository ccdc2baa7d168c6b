//! The CustomResourceDefinitions Trellis serves on Kubernetes: Argo's resources, with minimal schemas.
//!
//! The schemas keep `spec` and `status` open (`x-kubernetes-preserve-unknown-fields`), like Argo's
//! "minimal" CRDs: Trellis validates manifests itself, with far better messages than the API server's
//! OpenAPI validation, and an open schema never rejects a field a newer Argo version adds.

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceDefinition, CustomResourceDefinitionNames,
    CustomResourceDefinitionSpec, CustomResourceDefinitionVersion, CustomResourceSubresources,
    CustomResourceValidation, JSONSchemaProps,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The API group of every Trellis (and Argo) resource.
pub const GROUP: &str = "argoproj.io";
/// The served and stored version.
pub const VERSION: &str = "v1alpha1";

/// What differs between the CRDs.
struct Kind {
    kind: &'static str,
    plural: &'static str,
    short_names: &'static [&'static str],
    cluster_scoped: bool,
    has_status: bool,
    columns: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

const AGE: (&str, &str, &str, &str) = (
    "Age",
    "date",
    ".metadata.creationTimestamp",
    "When it was created",
);

const KINDS: [Kind; 6] = [
    Kind {
        kind: "Workflow",
        plural: "workflows",
        short_names: &["wf"],
        cluster_scoped: false,
        has_status: true,
        columns: &[
            (
                "Status",
                "string",
                ".status.phase",
                "Status of the workflow",
            ),
            (
                "Age",
                "date",
                ".status.startedAt",
                "When the workflow was started",
            ),
            (
                "Message",
                "string",
                ".status.message",
                "Why the workflow is in this phase",
            ),
        ],
    },
    Kind {
        kind: "WorkflowTemplate",
        plural: "workflowtemplates",
        short_names: &["wftmpl"],
        cluster_scoped: false,
        has_status: false,
        columns: &[AGE],
    },
    Kind {
        kind: "ClusterWorkflowTemplate",
        plural: "clusterworkflowtemplates",
        short_names: &["clusterwftmpl", "cwft"],
        cluster_scoped: true,
        has_status: false,
        columns: &[AGE],
    },
    Kind {
        kind: "CronWorkflow",
        plural: "cronworkflows",
        short_names: &["cwf", "cronwf"],
        cluster_scoped: false,
        has_status: true,
        columns: &[
            ("Schedules", "string", ".spec.schedules", "When it runs"),
            (
                "Suspended",
                "boolean",
                ".spec.suspend",
                "Whether scheduling is paused",
            ),
            AGE,
        ],
    },
    Kind {
        kind: "WorkflowEventBinding",
        plural: "workfloweventbindings",
        short_names: &["wfeb"],
        cluster_scoped: false,
        has_status: false,
        columns: &[AGE],
    },
    Kind {
        kind: "WorkflowTaskResult",
        plural: "workflowtaskresults",
        short_names: &[],
        cluster_scoped: false,
        has_status: false,
        columns: &[AGE],
    },
];

fn open_object() -> JSONSchemaProps {
    JSONSchemaProps {
        type_: Some("object".into()),
        x_kubernetes_preserve_unknown_fields: Some(true),
        x_kubernetes_map_type: Some("atomic".into()),
        ..Default::default()
    }
}

fn string() -> JSONSchemaProps {
    JSONSchemaProps {
        type_: Some("string".into()),
        ..Default::default()
    }
}

fn schema(kind: &Kind) -> JSONSchemaProps {
    let mut properties = BTreeMap::from([
        ("apiVersion".to_string(), string()),
        ("kind".to_string(), string()),
        (
            "metadata".to_string(),
            JSONSchemaProps {
                type_: Some("object".into()),
                ..Default::default()
            },
        ),
    ]);
    // WorkflowTaskResults carry their outputs at the top level, as Argo's do.
    let required = if kind.kind == "WorkflowTaskResult" {
        properties.insert("outputs".into(), open_object());
        properties.insert("phase".into(), string());
        properties.insert("message".into(), string());
        properties.insert("progress".into(), string());
        vec!["metadata".to_string()]
    } else {
        properties.insert("spec".into(), open_object());
        if kind.has_status {
            properties.insert("status".into(), open_object());
        }
        vec!["metadata".to_string(), "spec".to_string()]
    };
    JSONSchemaProps {
        description: Some(format!(
            "{} (argoproj.io/v1alpha1), as served by Trellis",
            kind.kind
        )),
        type_: Some("object".into()),
        properties: Some(properties),
        required: Some(required),
        ..Default::default()
    }
}

fn definition(kind: &Kind) -> CustomResourceDefinition {
    let columns = kind
        .columns
        .iter()
        .map(
            |(name, type_, path, description)| CustomResourceColumnDefinition {
                name: (*name).into(),
                type_: (*type_).into(),
                json_path: (*path).into(),
                description: Some((*description).into()),
                format: (*type_ == "date").then(|| "date-time".into()),
                priority: None,
            },
        )
        .collect();
    CustomResourceDefinition {
        metadata: ObjectMeta {
            name: Some(format!("{}.{GROUP}", kind.plural)),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/part-of".to_string(),
                "trellis".to_string(),
            )])),
            ..Default::default()
        },
        spec: CustomResourceDefinitionSpec {
            group: GROUP.into(),
            names: CustomResourceDefinitionNames {
                kind: kind.kind.into(),
                list_kind: Some(format!("{}List", kind.kind)),
                plural: kind.plural.into(),
                singular: Some(kind.kind.to_ascii_lowercase()),
                short_names: (!kind.short_names.is_empty())
                    .then(|| kind.short_names.iter().map(|s| (*s).to_string()).collect()),
                categories: Some(vec!["trellis".into(), "argo".into()]),
            },
            scope: if kind.cluster_scoped { "Cluster" } else { "Namespaced" }.into(),
            versions: vec![CustomResourceDefinitionVersion {
                name: VERSION.into(),
                served: true,
                storage: true,
                additional_printer_columns: Some(columns),
                schema: Some(CustomResourceValidation {
                    open_api_v3_schema: Some(schema(kind)),
                }),
                subresources: kind.has_status.then(|| CustomResourceSubresources {
                    status: Some(k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceSubresourceStatus(
                        serde_json::json!({}),
                    )),
                    scale: None,
                }),
                ..Default::default()
            }],
            ..Default::default()
        },
        status: None,
    }
}

/// Every CRD Trellis needs, in a stable order.
pub fn definitions() -> Vec<CustomResourceDefinition> {
    KINDS.iter().map(definition).collect()
}

/// The CRDs as files: `(file name, YAML text)`, plus a `kustomization.yaml` listing them.
pub fn files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = definitions()
        .iter()
        .map(|crd| {
            let name = crd.metadata.name.clone().unwrap_or_default();
            let plural = name.split('.').next().unwrap_or_default().to_string();
            (format!("{GROUP}_{plural}.yaml"), to_yaml(crd))
        })
        .collect();
    let mut kustomization = String::from(
        "# Generated by `trellis crdgen --out-dir manifests/crds`; do not edit.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for (name, _) in &files {
        kustomization.push_str(&format!("- {name}\n"));
    }
    files.push(("kustomization.yaml".into(), kustomization));
    files
}

/// One CRD as a YAML document with a header saying where it comes from.
pub fn to_yaml(crd: &CustomResourceDefinition) -> String {
    let value = serde_json::to_value(crd).unwrap_or_default();
    format!(
        "# Generated by `trellis crdgen`; do not edit.\n{}",
        engine::yaml::to_yaml_string(&value)
    )
}

/// All CRDs as one multi-document YAML stream, as `trellis crdgen` prints them.
pub fn stream() -> String {
    definitions()
        .iter()
        .map(to_yaml)
        .collect::<Vec<_>>()
        .join("---\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_well_formed_definition() {
        let crds = definitions();
        assert_eq!(crds.len(), KINDS.len());
        let workflow = &crds[0];
        assert_eq!(
            workflow.metadata.name.as_deref(),
            Some("workflows.argoproj.io")
        );
        assert_eq!(workflow.spec.scope, "Namespaced");
        let version = &workflow.spec.versions[0];
        assert!(
            version
                .subresources
                .as_ref()
                .is_some_and(|s| s.status.is_some())
        );
        let cwft = crds
            .iter()
            .find(|c| c.spec.names.kind == "ClusterWorkflowTemplate")
            .unwrap();
        assert_eq!(cwft.spec.scope, "Cluster");
    }

    #[test]
    fn the_yaml_reads_back_into_the_same_definitions() {
        for crd in definitions() {
            let text = to_yaml(&crd);
            let node = engine::yaml::parse_stream(&text).unwrap().remove(0);
            let back: CustomResourceDefinition =
                serde_json::from_value(engine::yaml::to_json(&node)).unwrap();
            assert_eq!(back, crd);
        }
    }
}
