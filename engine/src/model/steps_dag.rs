//! Steps and DAG templates, and what a call to another template looks like.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

use super::params::Arguments;
use super::scalars::Item;
use super::template::Template;

/// Hooks keyed by event: `exit`, or an expression deciding when the hook runs.
pub type LifecycleHooks = BTreeMap<String, LifecycleHook>;

/// One step of a steps template: a call to a template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowStep {
    /// Step name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Name of the template to call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// A template defined in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<Box<Template>>,
    /// Arguments of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Arguments>,
    /// A template of a (cluster) workflow template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_ref: Option<TemplateRef>,
    /// Run once per item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_items: Option<Vec<Item>>,
    /// Run once per element of this JSON list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_param: Option<String>,
    /// Run once per number of a sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_sequence: Option<Sequence>,
    /// Run only when this condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Go on when the step errors or fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continue_on: Option<ContinueOn>,
    /// Template run when the step ends (deprecated; use `hooks.exit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_exit: Option<String>,
    /// Lifecycle hooks of the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<LifecycleHooks>,
}

/// A DAG template: tasks and their dependencies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DAGTemplate {
    /// Tasks to run (space separated); all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<DAGTask>>,
    /// Stop scheduling new tasks once one fails (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_fast: Option<bool>,
}

/// One task of a DAG: a call to a template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DAGTask {
    /// Task name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Name of the template to call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// A template defined in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<Box<Template>>,
    /// Arguments of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Arguments>,
    /// A template of a (cluster) workflow template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_ref: Option<TemplateRef>,
    /// Tasks that must succeed first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<String>>,
    /// Run once per item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_items: Option<Vec<Item>>,
    /// Run once per element of this JSON list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_param: Option<String>,
    /// Run once per number of a sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_sequence: Option<Sequence>,
    /// Run only when this condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Go on when the task errors or fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continue_on: Option<ContinueOn>,
    /// Template run when the task ends (deprecated; use `hooks.exit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_exit: Option<String>,
    /// Dependency expression, e.g. `A.Succeeded || B.Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends: Option<String>,
    /// Lifecycle hooks of the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<LifecycleHooks>,
}

/// A sequence of numbers to loop over: `count` or `start`..`end`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sequence {
    /// How many numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<IntOrString>,
    /// First number (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<IntOrString>,
    /// Last number (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<IntOrString>,
    /// printf-style format of each number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// A template of a (cluster) workflow template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRef {
    /// Name of the workflow template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Name of the template in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Refer to a cluster workflow template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_scope: Option<bool>,
}

/// Whether to go on after a step or task errors or fails.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContinueOn {
    /// Go on after an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<bool>,
    /// Go on after a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<bool>,
}

/// A template run on a lifecycle event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleHook {
    /// Name of the template to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Arguments of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Arguments>,
    /// A template of a (cluster) workflow template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_ref: Option<TemplateRef>,
    /// Run the hook when this expression becomes true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::template::Template;

    #[test]
    fn parallel_steps_are_a_list_of_lists() {
        let t: Template = serde_json::from_str(
            r#"{"name":"main","steps":[[{"name":"a","template":"x"}],[{"name":"b","template":"x"},{"name":"c","inline":{"suspend":{}}}]]}"#,
        )
        .unwrap();
        let steps = t.steps.as_ref().unwrap();
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[1].len(), 2);
        assert_eq!(steps[1][0].name.as_deref(), Some("b"));
        assert!(steps[1][1].inline.as_ref().unwrap().suspend.is_some());
        let back = serde_json::to_value(&t).unwrap();
        assert_eq!(
            back["steps"][1][1]["inline"]["suspend"],
            serde_json::json!({})
        );
    }
}
