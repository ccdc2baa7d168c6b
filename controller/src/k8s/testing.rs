//! Helpers of the backend's unit tests: workflows from YAML, planned by the real engine.

use chrono::{DateTime, TimeZone, Utc};
use engine::model::{ClusterWorkflowTemplate, Workflow, WorkflowTemplate};
use engine::plan::{Action, Observations, ResolvedWorkflow, StepLaunch, TemplateSource};

/// No templates to refer to.
pub struct NoTemplates;

impl TemplateSource for NoTemplates {
    fn workflow_template(&self, _: &str, _: &str) -> Option<WorkflowTemplate> {
        None
    }
    fn cluster_workflow_template(&self, _: &str) -> Option<ClusterWorkflowTemplate> {
        None
    }
}

/// A fixed "now".
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
}

/// The JSON of the first document of a YAML text.
pub fn json(yaml: &str) -> serde_json::Value {
    let docs = engine::yaml::parse_stream(yaml).expect("valid YAML");
    engine::yaml::to_json(&docs[0])
}

/// A workflow object as the API returns it: the YAML with name, namespace and uid set.
pub fn object(yaml: &str) -> serde_json::Value {
    let mut v = json(yaml);
    v["metadata"]["namespace"] = "ci".into();
    v["metadata"]["uid"] = "uid-1".into();
    v["metadata"]["resourceVersion"] = "1".into();
    v["metadata"]["creationTimestamp"] = "2026-01-02T03:04:00Z".into();
    v
}

/// The resolved workflow and the launches of the first plan.
pub fn launches(yaml: &str) -> (ResolvedWorkflow, Vec<StepLaunch>) {
    let wf: Workflow = serde_json::from_value(object(yaml)).expect("a workflow");
    let resolved = engine::plan::resolve(&wf, &NoTemplates).expect("resolves");
    let (_, actions) = engine::plan::plan(
        &resolved,
        Default::default(),
        &Observations::default(),
        now(),
    );
    let launches = actions
        .into_iter()
        .filter_map(|a| match a {
            Action::StartStep(l) => Some(*l),
            _ => None,
        })
        .collect();
    (resolved, launches)
}
