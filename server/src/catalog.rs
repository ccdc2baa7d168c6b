//! The template catalog shown by the UI, loaded from manifests at start-up.

use std::path::PathBuf;

use app::catalog::{
    Catalog, DESCRIPTION_ANNOTATION, FOLDER_LABEL, ParameterSummary, TITLE_ANNOTATION,
    TemplateKind, TemplateSummary, parse_folder,
};
use engine::model::{Manifest, Parameter, WorkflowSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::lint_cmd;
use crate::manifests;

/// Loads and lints the manifests at `paths` into the catalog the UI lists, and the library to
/// store. Any lint error stops the load, with the diagnostics in the error, so a server never
/// starts with a half-loaded catalog.
pub fn load(paths: &[PathBuf]) -> anyhow::Result<(Catalog, manifests::Library)> {
    if paths.is_empty() {
        return Ok(Default::default());
    }
    let files = manifests::read(&manifests::collect(paths)?)?;
    let checked = manifests::lint(&files);
    let report = lint_cmd::report(&checked);
    if report.errors > 0 {
        anyhow::bail!(
            "the manifests to load have errors; fix them and start again:\n\n{}",
            lint_cmd::text(&files, &checked, &report, false)
        );
    }
    let templates = checked
        .iter()
        .flat_map(|f| f.documents.iter())
        .filter_map(|d| d.manifest.as_ref())
        .filter_map(summarize)
        .collect();
    Ok((Catalog { templates }, manifests::Library::of(&checked)))
}

/// What the UI shows of a template manifest; `None` for manifests that are not templates.
pub fn summarize(manifest: &Manifest) -> Option<TemplateSummary> {
    let (kind, meta, spec, schedule) = match manifest {
        Manifest::WorkflowTemplate(t) => (
            TemplateKind::WorkflowTemplate,
            t.metadata.as_ref(),
            t.spec.as_ref(),
            None,
        ),
        Manifest::ClusterWorkflowTemplate(t) => (
            TemplateKind::ClusterWorkflowTemplate,
            t.metadata.as_ref(),
            t.spec.as_ref(),
            None,
        ),
        Manifest::CronWorkflow(c) => {
            let spec = c.spec.as_ref();
            let schedules: Vec<String> = spec
                .map(|s| {
                    s.schedules
                        .iter()
                        .flatten()
                        .chain(s.schedule.iter())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            let schedule = (!schedules.is_empty()).then(|| schedules.join(", "));
            (
                TemplateKind::CronWorkflow,
                c.metadata.as_ref(),
                spec.and_then(|s| s.workflow_spec.as_ref()),
                schedule,
            )
        }
        Manifest::Workflow(_) | Manifest::WorkflowEventBinding(_) => return None,
    };
    let meta = meta.cloned().unwrap_or_default();
    let name = meta.name.clone().or(meta.generate_name.clone())?;
    Some(TemplateSummary {
        kind,
        namespace: if kind.is_cluster_scoped() {
            None
        } else {
            meta.namespace.clone()
        },
        name,
        folder: label(&meta, FOLDER_LABEL)
            .map(|f| parse_folder(&f))
            .unwrap_or_default(),
        title: annotation(&meta, TITLE_ANNOTATION),
        description: annotation(&meta, DESCRIPTION_ANNOTATION).map(|d| d.trim().to_string()),
        parameters: spec.map(parameters).unwrap_or_default(),
        schedule,
    })
}

fn label(meta: &ObjectMeta, key: &str) -> Option<String> {
    meta.labels.as_ref()?.get(key).cloned()
}

fn annotation(meta: &ObjectMeta, key: &str) -> Option<String> {
    meta.annotations.as_ref()?.get(key).cloned()
}

fn parameters(spec: &WorkflowSpec) -> Vec<ParameterSummary> {
    spec.arguments
        .iter()
        .flat_map(|a| a.parameters.iter().flatten())
        .filter_map(parameter)
        .collect()
}

fn parameter(p: &Parameter) -> Option<ParameterSummary> {
    Some(ParameterSummary {
        name: p.name.clone()?,
        default: p.value.as_ref().or(p.default.as_ref()).map(|v| v.0.clone()),
        description: p.description.as_ref().map(|d| d.0.clone()),
        enum_values: p.r#enum.iter().flatten().map(|v| v.0.clone()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples() -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../manifests/examples"
        ))
    }

    #[test]
    fn the_shipped_examples_load_into_folders() {
        let (catalog, library) = load(&[examples()]).unwrap();
        assert_eq!(library.manifests.len(), catalog.templates.len());
        let mut names: Vec<(&str, String)> = catalog
            .templates
            .iter()
            .map(|t| (t.name.as_str(), t.folder.join("/")))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                ("backend-ci", "ci/backend".to_string()),
                ("db-backup", "ops/databases".to_string()),
                ("deploy-service", "deploy".to_string()),
                ("nightly-report", "nightly".to_string()),
                ("web-ci", "ci/frontend".to_string()),
            ]
        );
        let deploy = catalog
            .templates
            .iter()
            .find(|t| t.name == "deploy-service")
            .unwrap();
        assert_eq!(deploy.title.as_deref(), Some("Deploy a service"));
        let env = deploy
            .parameters
            .iter()
            .find(|p| p.name == "environment")
            .unwrap();
        assert_eq!(env.enum_values, ["staging", "production"]);
        assert_eq!(env.default.as_deref(), Some("staging"));
        let nightly = catalog
            .templates
            .iter()
            .find(|t| t.name == "nightly-report")
            .unwrap();
        assert_eq!(nightly.schedule.as_deref(), Some("0 2 * * *"));
    }

    #[test]
    fn a_broken_manifest_stops_the_load_with_its_diagnostics() {
        let dir = std::env::temp_dir().join(format!("trellis-catalog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("broken.yaml");
        std::fs::write(
            &file,
            "apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nmetadata: {name: x}\nspec:\n  templates:\n  - name: main\n    container: {image: alpine, comand: [sh]}\n",
        )
        .unwrap();
        let err = load(&[file]).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            err.contains("unknown field `comand` in `container`"),
            "{err}"
        );
        assert!(err.contains("did you mean `command`?"), "{err}");
    }

    #[test]
    fn a_missing_path_is_a_clear_error() {
        let err = load(&[PathBuf::from("/nonexistent/templates")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot read `/nonexistent/templates`"),
            "{err}"
        );
    }
}
