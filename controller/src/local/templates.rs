//! WorkflowTemplates and ClusterWorkflowTemplates from the store, for resolving references.

use std::path::Path;

use engine::model::{ClusterWorkflowTemplate, Workflow, WorkflowTemplate};
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

/// Resolves a workflow against the templates in `store` (and the ConfigMaps under `root`), as
/// running it would: an error names the missing WorkflowTemplate, ClusterWorkflowTemplate or
/// template.
pub async fn resolve(
    store: &SqlStore,
    root: &Path,
    wf: &Workflow,
) -> Result<engine::plan::ResolvedWorkflow, String> {
    let ns = wf
        .metadata
        .as_ref()
        .and_then(|m| m.namespace.clone())
        .unwrap_or_else(|| crate::store::DEFAULT_NAMESPACE.into());
    let source = StoreTemplates::load(store, &ns, root)
        .await
        .map_err(|e| e.to_string())?;
    engine::plan::resolve(wf, &source).map_err(|e| e.to_string())
}

/// `wf` with the spec of the template it runs in `status.storedWorkflowTemplateSpec` (where
/// Argo keeps it), so that retry and resubmit know the parameters the template declares.
/// Unchanged when it has its own spec, or when the template cannot be read.
pub async fn with_template_spec(store: &SqlStore, root: &Path, wf: &Workflow) -> Workflow {
    let mut out = wf.clone();
    let refers = wf
        .spec
        .as_ref()
        .is_some_and(|s| s.workflow_template_ref.is_some());
    let stored = wf
        .status
        .as_ref()
        .is_some_and(|s| s.stored_workflow_template_spec.is_some());
    if refers
        && !stored
        && let Ok(r) = resolve(store, root, wf).await
    {
        out.status
            .get_or_insert_with(Default::default)
            .stored_workflow_template_spec = Some(Box::new(r.spec));
    }
    out
}
