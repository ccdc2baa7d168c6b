//! Reading manifest files from disk for `trellis lint` and `trellis serve --load`.

use std::path::{Path, PathBuf};

use engine::lint::{CheckedFile, Source, check};
use engine::model::Manifest;

/// A manifest file read from disk.
#[derive(Debug, Clone)]
pub struct ManifestFile {
    /// The path as the user should see it.
    pub name: String,
    /// Its text.
    pub text: String,
}

/// The path that stands for standard input.
pub const STDIN: &str = "-";

/// Expands `paths` into the YAML files they name: files as given, directories searched recursively for
/// `*.yaml`, `*.yml` and `*.json` (hidden entries skipped), in a stable order. `-` stays as is: it
/// means standard input.
pub fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == STDIN {
            out.push(path.clone());
            continue;
        }
        let meta = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads the files.
pub fn read(paths: &[PathBuf]) -> anyhow::Result<Vec<ManifestFile>> {
    paths
        .iter()
        .map(|p| {
            if p.as_os_str() == STDIN {
                let text = std::io::read_to_string(std::io::stdin())
                    .map_err(|e| anyhow::anyhow!("cannot read standard input: {e}"))?;
                return Ok(ManifestFile {
                    name: "<stdin>".into(),
                    text,
                });
            }
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", p.display()))?;
            Ok(ManifestFile {
                name: p.display().to_string(),
                text,
            })
        })
        .collect()
}

/// Lints the files together.
pub fn lint(files: &[ManifestFile]) -> Vec<CheckedFile> {
    let sources: Vec<Source<'_>> = files
        .iter()
        .map(|f| Source {
            name: &f.name,
            text: &f.text,
        })
        .collect();
    check(&sources)
}

/// A ConfigMap's namespace, name and data.
pub type ConfigMapData = (String, String, std::collections::BTreeMap<String, String>);

/// The ConfigMaps among the documents (for `valueFrom.configMapKeyRef`).
pub fn config_maps_of(checked: &[engine::lint::CheckedFile]) -> Vec<ConfigMapData> {
    checked
        .iter()
        .flat_map(|f| f.documents.iter())
        .filter(|d| d.kind.as_deref() == Some("ConfigMap"))
        .filter_map(|d| {
            let json = engine::yaml::to_json(&d.node);
            let name = json["metadata"]["name"].as_str()?.to_string();
            let ns = json["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string();
            let data = json["data"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                v.as_str().map_or_else(|| v.to_string(), str::to_string),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some((ns, name, data))
        })
        .collect()
}

/// The templates of the file, stored so `templateRef` and `workflowTemplateRef` find them.
pub async fn store_templates(
    backend: &controller::local::LocalBackend,
    docs: &[Manifest],
) -> anyhow::Result<()> {
    use controller::store::{Store, TemplateKind};
    for d in docs {
        let (kind, meta, json) = match d {
            Manifest::WorkflowTemplate(t) => (
                TemplateKind::WorkflowTemplate,
                t.metadata.as_ref(),
                serde_json::to_value(t)?,
            ),
            Manifest::ClusterWorkflowTemplate(t) => (
                TemplateKind::ClusterWorkflowTemplate,
                t.metadata.as_ref(),
                serde_json::to_value(t)?,
            ),
            Manifest::CronWorkflow(c) => (
                TemplateKind::CronWorkflow,
                c.metadata.as_ref(),
                serde_json::to_value(c)?,
            ),
            Manifest::WorkflowEventBinding(b) => (
                TemplateKind::WorkflowEventBinding,
                b.metadata.as_ref(),
                serde_json::to_value(b)?,
            ),
            _ => continue,
        };
        let name = meta.and_then(|m| m.name.clone()).unwrap_or_default();
        let ns = match kind {
            TemplateKind::ClusterWorkflowTemplate => None,
            _ => Some(
                meta.and_then(|m| m.namespace.clone())
                    .unwrap_or_else(|| "default".into()),
            ),
        };
        backend
            .store()
            .put_template(kind, ns.as_deref(), &name, &json)
            .await?;
    }
    Ok(())
}

/// Templates and ConfigMaps to store before serving or running.
#[derive(Debug, Clone, Default)]
pub struct Library {
    /// WorkflowTemplates, ClusterWorkflowTemplates and CronWorkflows (other kinds are skipped).
    pub manifests: Vec<Manifest>,
    /// ConfigMaps, for `valueFrom.configMapKeyRef`.
    pub config_maps: Vec<ConfigMapData>,
}

impl Library {
    /// The Argo manifests and ConfigMaps of linted files.
    pub fn of(checked: &[engine::lint::CheckedFile]) -> Self {
        Self {
            manifests: checked
                .iter()
                .flat_map(|f| f.documents.iter())
                .filter_map(|d| d.manifest.clone())
                .collect(),
            config_maps: config_maps_of(checked),
        }
    }

    /// Stores everything in the backend (replacing what has the same name).
    pub async fn install(&self, backend: &controller::local::LocalBackend) -> anyhow::Result<()> {
        store_templates(backend, &self.manifests).await?;
        for (ns, name, data) in &self.config_maps {
            backend.put_config_map(ns, name, data)?;
        }
        Ok(())
    }
}
