//! WorkflowTemplates and ClusterWorkflowTemplates from the store, for resolving references.

use engine::model::{ClusterWorkflowTemplate, WorkflowTemplate};
use engine::plan::TemplateSource;

use crate::store::{LabelSelector, SqlStore, Store, StoreError, TemplateKind};

/// A namespace's WorkflowTemplates and every ClusterWorkflowTemplate, read once.
pub(super) struct StoreTemplates {
    namespaced: Vec<WorkflowTemplate>,
    cluster: Vec<ClusterWorkflowTemplate>,
    config_dir: std::path::PathBuf,
}

/// Where the ConfigMaps given to Trellis live: `<data dir>/configmaps/<namespace>/<name>.json`,
/// each the ConfigMap's `data` as a JSON object.
pub fn config_map_path(
    data_dir: &std::path::Path,
    namespace: &str,
    name: &str,
) -> std::path::PathBuf {
    data_dir
        .join("configmaps")
        .join(namespace)
        .join(format!("{name}.json"))
}

impl StoreTemplates {
    /// Reads them from the store.
    pub(super) async fn load(
        store: &SqlStore,
        namespace: &str,
        data_dir: &std::path::Path,
    ) -> Result<Self, StoreError> {
        let namespaced = store
            .list_templates(
                TemplateKind::WorkflowTemplate,
                Some(namespace),
                &LabelSelector::default(),
            )
            .await?
            .into_iter()
            .filter_map(|t| serde_json::from_value(t.body).ok())
            .collect();
        let cluster = store
            .list_templates(
                TemplateKind::ClusterWorkflowTemplate,
                None,
                &LabelSelector::default(),
            )
            .await?
            .into_iter()
            .filter_map(|t| serde_json::from_value(t.body).ok())
            .collect();
        Ok(Self {
            namespaced,
            cluster,
            config_dir: data_dir.to_path_buf(),
        })
    }
}

fn name_of(m: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>) -> Option<&str> {
    m.and_then(|m| m.name.as_deref())
}

impl TemplateSource for StoreTemplates {
    fn workflow_template(&self, _namespace: &str, name: &str) -> Option<WorkflowTemplate> {
        self.namespaced
            .iter()
            .find(|t| name_of(t.metadata.as_ref()) == Some(name))
            .cloned()
    }

    fn config_map_value(&self, namespace: &str, name: &str, key: &str) -> Option<String> {
        let text =
            std::fs::read_to_string(config_map_path(&self.config_dir, namespace, name)).ok()?;
        let data: std::collections::BTreeMap<String, String> = serde_json::from_str(&text).ok()?;
        data.get(key).cloned()
    }

    fn cluster_workflow_template(&self, name: &str) -> Option<ClusterWorkflowTemplate> {
        self.cluster
            .iter()
            .find(|t| name_of(t.metadata.as_ref()) == Some(name))
            .cloned()
    }
}
