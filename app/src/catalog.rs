//! The template catalog: summaries of the loaded WorkflowTemplates, ClusterWorkflowTemplates and
//! CronWorkflows, shared by the server (which builds them from manifests) and the browser (which
//! renders them). Plain serializable data, available with both the `ssr` and `hydrate` features.
//!
//! The server puts an `Arc<Catalog>` into Leptos context; server functions read it from there.

use serde::{Deserialize, Serialize};

/// The label whose value places a template in a folder, such as `ci/backend`.
pub const FOLDER_LABEL: &str = "trellis.dev/folder";

/// The annotation holding a template's human title (Argo's own).
pub const TITLE_ANNOTATION: &str = "workflows.argoproj.io/title";

/// The annotation holding a template's description (Argo's own).
pub const DESCRIPTION_ANNOTATION: &str = "workflows.argoproj.io/description";

/// The namespace of a namespaced template whose manifest names none.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Which kind of Argo resource a catalog entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TemplateKind {
    /// A namespaced `WorkflowTemplate`.
    WorkflowTemplate,
    /// A cluster-scoped `ClusterWorkflowTemplate`.
    ClusterWorkflowTemplate,
    /// A namespaced `CronWorkflow`, which runs on a schedule.
    CronWorkflow,
}

impl TemplateKind {
    /// The Kubernetes `kind` of the resource, as written in its manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WorkflowTemplate => "WorkflowTemplate",
            Self::ClusterWorkflowTemplate => "ClusterWorkflowTemplate",
            Self::CronWorkflow => "CronWorkflow",
        }
    }

    /// A short label for badges.
    pub fn short_label(self) -> &'static str {
        match self {
            Self::WorkflowTemplate => "template",
            Self::ClusterWorkflowTemplate => "cluster template",
            Self::CronWorkflow => "cron",
        }
    }

    /// Whether resources of this kind live outside any namespace.
    pub fn is_cluster_scoped(self) -> bool {
        matches!(self, Self::ClusterWorkflowTemplate)
    }
}

/// One input parameter a template declares (`spec.arguments.parameters`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterSummary {
    /// The parameter's name.
    pub name: String,
    /// Its default value, if it has one.
    pub default: Option<String>,
    /// Its description, if it has one.
    pub description: Option<String>,
    /// The values it is restricted to (`enum`), empty when it is free.
    pub enum_values: Vec<String>,
}

/// What the UI shows of one loaded template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSummary {
    /// The resource's kind.
    pub kind: TemplateKind,
    /// Its namespace; `None` for cluster-scoped kinds (and for namespaced ones whose manifest names
    /// none, which the UI places in [`DEFAULT_NAMESPACE`]).
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// The folder path from the [`FOLDER_LABEL`] label, outermost first; empty at the top level.
    pub folder: Vec<String>,
    /// The [`TITLE_ANNOTATION`], if set.
    pub title: Option<String>,
    /// The [`DESCRIPTION_ANNOTATION`], if set (plain text).
    pub description: Option<String>,
    /// The parameters it takes.
    pub parameters: Vec<ParameterSummary>,
    /// The cron schedule of a CronWorkflow.
    pub schedule: Option<String>,
}

impl TemplateSummary {
    /// The name to show: the title when there is one, else `metadata.name`.
    pub fn display_title(&self) -> &str {
        self.title
            .as_deref()
            .map(str::trim)
            .filter(|title| !title.is_empty())
            .unwrap_or(&self.name)
    }

    /// The folder path joined with `/`, as written in the label.
    pub fn folder_path(&self) -> String {
        self.folder.join("/")
    }
}

/// Every template loaded into this server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// The templates, in no particular order.
    pub templates: Vec<TemplateSummary>,
}

/// Splits a [`FOLDER_LABEL`] value such as `ci/backend` into its folders, ignoring empty
/// segments and surrounding blanks (`/ci//backend/` is `["ci", "backend"]`).
pub fn parse_folder(label: &str) -> Vec<String> {
    label
        .split('/')
        .map(str::trim)
        .filter(|segment| !segment.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_labels_split_on_slashes() {
        assert_eq!(parse_folder("ci/backend"), ["ci", "backend"]);
        assert_eq!(parse_folder("a/b/c"), ["a", "b", "c"]);
        assert_eq!(parse_folder(" /ci// backend /"), ["ci", "backend"]);
        assert!(parse_folder("").is_empty());
        assert!(parse_folder("/").is_empty());
    }

    #[test]
    fn display_title_falls_back_to_the_name() {
        let mut summary = TemplateSummary {
            kind: TemplateKind::WorkflowTemplate,
            namespace: None,
            name: "build".into(),
            folder: vec![],
            title: None,
            description: None,
            parameters: vec![],
            schedule: None,
        };
        assert_eq!(summary.display_title(), "build");
        summary.title = Some("  ".into());
        assert_eq!(summary.display_title(), "build");
        summary.title = Some("Build the backend".into());
        assert_eq!(summary.display_title(), "Build the backend");
    }
}
