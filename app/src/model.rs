//! View models: what the server sends the browser for each page. Plain serializable data built
//! on the server from the store (never whole CRDs or whole logs), rendered by the pages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{TemplateKind, TemplateSummary};
use crate::tree::CatalogTree;

/// Names one template: its kind, namespace (empty for cluster-scoped kinds) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TemplateId {
    /// The resource's kind.
    pub kind: TemplateKind,
    /// Its namespace; empty for a ClusterWorkflowTemplate.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl TemplateId {
    /// The template page's path, e.g. `/templates/ci/build`.
    pub fn href(&self) -> String {
        match self.kind {
            TemplateKind::WorkflowTemplate => {
                format!("/templates/{}/{}", self.namespace, self.name)
            }
            TemplateKind::ClusterWorkflowTemplate => format!("/cluster-templates/{}", self.name),
            TemplateKind::CronWorkflow => {
                format!("/cron-workflows/{}/{}", self.namespace, self.name)
            }
        }
    }

    /// The namespace its runs go to: its own, or `default` for a cluster-scoped template.
    pub fn namespace_or_default(&self) -> String {
        if self.namespace.is_empty() {
            crate::catalog::DEFAULT_NAMESPACE.to_string()
        } else {
            self.namespace.clone()
        }
    }

    /// The key its runs are filed under in the store (`WorkflowTemplate/ci/build`).
    pub fn key(&self) -> String {
        if self.kind.is_cluster_scoped() {
            format!("{}/{}", self.kind.as_str(), self.name)
        } else {
            format!("{}/{}/{}", self.kind.as_str(), self.namespace, self.name)
        }
    }
}

impl TemplateSummary {
    /// The id of this template (a namespaced one without a namespace is in `default`).
    pub fn id(&self) -> TemplateId {
        TemplateId {
            kind: self.kind,
            namespace: if self.kind.is_cluster_scoped() {
                String::new()
            } else {
                self.namespace
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| crate::catalog::DEFAULT_NAMESPACE.to_string())
            },
            name: self.name.clone(),
        }
    }
}

/// The phase of a run or a step as the UI shows it. A suspended step (and a run that waits on
/// one) is [`Phase::Waiting`], not running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Phase {
    /// Not started yet.
    Pending,
    /// Running.
    Running,
    /// Waiting at a suspend step for approval or for its duration.
    Waiting,
    /// Finished successfully.
    Succeeded,
    /// Finished with a failure.
    Failed,
    /// Could not run (Argo's `Error`).
    Error,
    /// Skipped by a condition.
    Skipped,
    /// Omitted by a `depends` expression.
    Omitted,
}

impl Phase {
    /// The phase of Argo's phase name (`""` and unknown names are pending).
    pub fn from_argo(phase: &str) -> Self {
        match phase {
            "Running" => Self::Running,
            "Succeeded" => Self::Succeeded,
            "Failed" => Self::Failed,
            "Error" => Self::Error,
            "Skipped" => Self::Skipped,
            "Omitted" => Self::Omitted,
            _ => Self::Pending,
        }
    }

    /// The word shown for it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Waiting => "Waiting for approval",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Error => "Error",
            Self::Skipped => "Skipped",
            Self::Omitted => "Omitted",
        }
    }

    /// One character that shows it without colour (as `argo get` does).
    pub fn icon(self) -> &'static str {
        match self {
            Self::Pending => "◷",
            Self::Running => "●",
            Self::Waiting => "‖",
            Self::Succeeded => "✔",
            Self::Failed => "✖",
            Self::Error => "⚠",
            Self::Skipped | Self::Omitted => "○",
        }
    }

    /// Whether it can still change.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Pending | Self::Running | Self::Waiting)
    }

    /// The name used in CSS classes and test ids (`succeeded`, `waiting`…).
    pub fn slug(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Waiting => "waiting",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Error => "error",
            Self::Skipped => "skipped",
            Self::Omitted => "omitted",
        }
    }
}

/// One run in a list or a history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    /// The workflow's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its number in its template's history.
    pub number: Option<u64>,
    /// Its phase.
    pub phase: Phase,
    /// When it was created (RFC 3339).
    pub created_at: Option<String>,
    /// When it started (RFC 3339).
    pub started_at: Option<String>,
    /// When it finished (RFC 3339).
    pub finished_at: Option<String>,
    /// How long it ran (so far), in seconds.
    pub duration_seconds: Option<i64>,
    /// Steps done of all (`3/5`).
    pub progress: Option<String>,
    /// Why it ended as it did.
    pub message: Option<String>,
    /// What started it, in words ("cron nightly", "manual", "resubmitted from …").
    pub trigger: String,
    /// Its workflow parameters, in order.
    pub parameters: Vec<(String, String)>,
    /// Whether it ran longer than its template's recent p90.
    pub slow: bool,
    /// The template it is a run of.
    pub template: Option<TemplateId>,
}

impl RunRow {
    /// The run page's path.
    pub fn href(&self) -> String {
        format!("/runs/{}/{}", self.namespace, self.name)
    }

    /// `#12`, or the workflow's name when it has no number.
    pub fn title(&self) -> String {
        self.number
            .map_or_else(|| self.name.clone(), |n| format!("#{n}"))
    }
}

/// How many recent runs passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthView {
    /// Runs that succeeded.
    pub passed: usize,
    /// Runs counted.
    pub of: usize,
    /// In words: "4 of the last 5 runs passed".
    pub text: String,
}

/// A template's row in the tree, like a Jenkins job's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobRow {
    /// The newest run.
    pub last: Option<RunRow>,
    /// The newest successful run.
    pub last_success: Option<RunRow>,
    /// The newest failed run.
    pub last_failure: Option<RunRow>,
    /// Recent health.
    pub health: Option<HealthView>,
    /// Recent finished durations in seconds, oldest first.
    pub durations: Vec<i64>,
}

/// The home page: the tree and each template's row, by [`TemplateId::key`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FolderPage {
    /// Namespaces → folders → templates.
    pub tree: CatalogTree,
    /// Each template's runs.
    pub jobs: BTreeMap<String, JobRow>,
}

/// Duration statistics of a template's recent finished runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// The median, in seconds.
    pub median_seconds: Option<i64>,
    /// The 90th percentile, in seconds.
    pub p90_seconds: Option<i64>,
}

/// One point of a duration trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// The run's workflow name.
    pub name: String,
    /// Its number.
    pub number: Option<u64>,
    /// Its phase.
    pub phase: Phase,
    /// How long it ran, in seconds.
    pub duration_seconds: i64,
}

/// One run (a column) of the runs × steps grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridColumn {
    /// The workflow's name.
    pub name: String,
    /// Its number.
    pub number: Option<u64>,
    /// Its phase.
    pub phase: Phase,
}

/// One cell of the grid: one step of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridCell {
    /// The node's id in that run.
    pub node_id: String,
    /// Its phase.
    pub phase: Phase,
    /// How long it ran, in seconds.
    pub duration_seconds: Option<i64>,
}

/// One step (a row) of the grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridRow {
    /// The step's path in the run, e.g. `[1].deploy`.
    pub step: String,
    /// Its cell in each column; `None` where the step did not run.
    pub cells: Vec<Option<GridCell>>,
}

/// Runs × steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridView {
    /// The columns, newest first.
    pub runs: Vec<GridColumn>,
    /// The rows, in the order steps run.
    pub rows: Vec<GridRow>,
}

/// The template page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplatePage {
    /// Which template.
    pub id: TemplateId,
    /// Its title, description and parameters.
    pub summary: TemplateSummary,
    /// Its graph, drawn from the spec before any run.
    pub graph: GraphView,
    /// One page of its history, newest first.
    pub runs: Vec<RunRow>,
    /// The token of the next (older) page.
    pub next: Option<String>,
    /// Duration statistics of its recent runs.
    pub stats: Stats,
    /// Durations of its recent finished runs, oldest first.
    pub trend: Vec<TrendPoint>,
    /// Its recent runs × steps.
    pub grid: GridView,
    /// How many runs it has in all.
    pub total_runs: u64,
    /// For a CronWorkflow: its schedule in words and its next runs.
    pub cron: Option<CronView>,
}

/// A CronWorkflow's schedule as people read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CronView {
    /// Each schedule as written and in words ("every day at 02:00 Europe/Paris").
    pub schedules: Vec<(String, String)>,
    /// The next times it runs (RFC 3339), soonest first; empty while suspended.
    pub next_runs: Vec<String>,
    /// Whether it is suspended (it does not run).
    pub suspended: bool,
    /// What happens when a run is due while another still runs (`Allow`, `Forbid`, `Replace`).
    pub concurrency_policy: String,
    /// When it last started a run.
    pub last_scheduled: Option<String>,
    /// Why its schedule cannot be read, if it cannot.
    pub error: Option<String>,
}

/// Filters of the all-runs list, as in its URL's query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunsFilter {
    /// Only this namespace.
    pub namespace: String,
    /// Only this phase (`Running`, `Failed`…).
    pub phase: String,
    /// Only runs of templates with this name.
    pub template: String,
    /// Only runs with this label, `key=value` (or `key` for any value).
    pub label: String,
    /// Only names containing this.
    pub name: String,
    /// Only runs created on or after this day (`YYYY-MM-DD`).
    pub since: String,
    /// Only runs created on or before this day (`YYYY-MM-DD`).
    pub until: String,
    /// Sort order: `started` (default, newest first), `duration` or `name` within the page.
    pub sort: String,
    /// The page token.
    pub page: String,
}

/// One page of the all-runs list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunsPage {
    /// The runs.
    pub runs: Vec<RunRow>,
    /// The token of the next page.
    pub next: Option<String>,
}

/// What a node of a graph is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeKind {
    /// A step that ran a container (or script).
    Pod,
    /// A steps template.
    Steps,
    /// One group of parallel steps.
    StepGroup,
    /// A DAG template.
    Dag,
    /// The expansions of a looped DAG task.
    TaskGroup,
    /// The attempts of a retried step.
    Retry,
    /// A step that was skipped.
    Skipped,
    /// A suspend step.
    Suspend,
    /// An HTTP request.
    Http,
    /// A plugin call.
    Plugin,
    /// One container of a container set.
    Container,
    /// Many loop children shown as one node.
    Collapsed,
}

impl NodeKind {
    /// Whether it is drawn as a small connector rather than a box.
    pub fn is_connector(self) -> bool {
        matches!(self, Self::StepGroup | Self::TaskGroup)
    }
}

/// A laid-out node of a graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphNode {
    /// The node's id (a collapsed group's id is its parent's id with `:group` appended).
    pub id: String,
    /// What to write in it.
    pub label: String,
    /// What it is.
    pub kind: NodeKind,
    /// Its phase.
    pub phase: Phase,
    /// Its centre.
    pub x: f64,
    /// Its centre.
    pub y: f64,
    /// Its box.
    pub width: f64,
    /// Its box.
    pub height: f64,
    /// How long it ran, in seconds.
    pub duration_seconds: Option<i64>,
    /// For a collapsed group: how many nodes it stands for, and the counts per phase.
    pub group: Option<GroupSummary>,
    /// Whether it has not started yet (drawn from the spec).
    pub planned: bool,
    /// The template it runs.
    pub template: Option<String>,
}

/// What a collapsed group holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// The parent node whose children it collapses (pass it to expand the group).
    pub parent: String,
    /// How many children.
    pub count: usize,
    /// Children per phase, most first.
    pub phases: Vec<(Phase, usize)>,
}

/// A laid-out graph.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphView {
    /// Its size.
    pub width: f64,
    /// Its size.
    pub height: f64,
    /// The nodes.
    pub nodes: Vec<GraphNode>,
    /// The edges as polylines.
    pub edges: Vec<Vec<(f64, f64)>>,
}

/// One bar of a run's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineBar {
    /// The node's id.
    pub id: String,
    /// Its name in the run.
    pub label: String,
    /// Its phase.
    pub phase: Phase,
    /// Seconds from the run's start to the step's.
    pub start: f64,
    /// Seconds it ran (so far).
    pub duration: f64,
}

/// The run page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPage {
    /// The run's summary.
    pub run: RunRow,
    /// Its graph, with pending steps drawn from the spec.
    pub graph: GraphView,
    /// Identifies this state of the run; unchanged while nothing changed.
    pub revision: String,
    /// Whether the whole run is suspended (`spec.suspend`).
    pub suspended: bool,
    /// The run of the same template just before it, to compare with.
    pub previous: Option<String>,
}

/// What a run page's other tabs show, loaded when one is opened.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunTab {
    /// Its steps on a time line, by start (the `timeline` tab).
    pub timeline: Vec<TimelineBar>,
    /// Its manifest as YAML (the `yaml` tab).
    pub yaml: String,
}

/// A download link of an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactLink {
    /// The artifact's name.
    pub name: String,
    /// Whether it is an input (else an output).
    pub input: bool,
    /// Where to download it.
    pub href: String,
}

/// Everything about one node of a run, for the node panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeDetail {
    /// The node's id.
    pub id: String,
    /// Its full name.
    pub name: String,
    /// Its display name.
    pub display_name: String,
    /// What it is.
    pub kind: NodeKind,
    /// The template it ran.
    pub template: Option<String>,
    /// Its phase.
    pub phase: Phase,
    /// Its message.
    pub message: Option<String>,
    /// When it started.
    pub started_at: Option<String>,
    /// When it finished.
    pub finished_at: Option<String>,
    /// How long it ran, in seconds.
    pub duration_seconds: Option<i64>,
    /// Its input parameters.
    pub inputs: Vec<(String, String)>,
    /// Its output parameters (with `result` and `exitCode` when it has them).
    pub outputs: Vec<(String, String)>,
    /// Its artifacts.
    pub artifacts: Vec<ArtifactLink>,
    /// The YAML of the template it ran.
    pub template_yaml: String,
    /// Whether it ran a process, so has a log.
    pub has_log: bool,
    /// For a suspend step with a `duration`: in how many seconds it resumes by itself.
    pub resume_in_seconds: Option<i64>,
}

/// A window of lines of a step's log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogWindow {
    /// The lines.
    pub lines: Vec<String>,
    /// The number (from 1) of the first line.
    pub first: u64,
    /// How many lines the log has now.
    pub total: u64,
    /// Whether the step has finished, so the log will not grow.
    pub done: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_ids_give_pages_and_store_keys() {
        let id = TemplateId {
            kind: TemplateKind::WorkflowTemplate,
            namespace: "ci".into(),
            name: "build".into(),
        };
        assert_eq!(id.href(), "/templates/ci/build");
        assert_eq!(id.key(), "WorkflowTemplate/ci/build");
        let cluster = TemplateId {
            kind: TemplateKind::ClusterWorkflowTemplate,
            namespace: String::new(),
            name: "lint".into(),
        };
        assert_eq!(cluster.href(), "/cluster-templates/lint");
        assert_eq!(cluster.key(), "ClusterWorkflowTemplate/lint");
        let cron = TemplateId {
            kind: TemplateKind::CronWorkflow,
            ..id
        };
        assert_eq!(cron.href(), "/cron-workflows/ci/build");
    }

    #[test]
    fn phases_read_argo_names() {
        assert_eq!(Phase::from_argo("Succeeded"), Phase::Succeeded);
        assert_eq!(Phase::from_argo(""), Phase::Pending);
        assert_eq!(Phase::from_argo("Error").icon(), "⚠");
        assert!(Phase::Waiting.is_live());
        assert!(!Phase::Failed.is_live());
        assert_eq!(Phase::Waiting.label(), "Waiting for approval");
    }
}
