//! The UI's actions on runs (stop, terminate, suspend, resume, delete, retry, resubmit), the plan
//! a retry shows before it is confirmed, and two runs compared. Each action goes through the same
//! backend operations, rule checks and audit as the REST API's.

use std::collections::{BTreeMap, BTreeSet};

use app::api::UiError;
use app::model::Phase;
use app::ops::{
    ActOutcome, Comparison, ParameterDiff, PlannedStep, RetryChoice, RetryPlan, StepDiff, StepRun,
};
use chrono::Utc;
use controller::store::workflow_template_key;
use engine::model::{NodeStatus, NodeType, Workflow};
use engine::ops::{NodeSelector, RetryOptions, executes};

use super::{convert, history};
use crate::api::{ApiError, ApiState};

/// An API error as the UI shows it; the cause of an internal one is logged, not shown.
pub fn api_ui_error(e: ApiError) -> UiError {
    match e {
        ApiError::NotFound(m) => UiError::NotFound(m),
        ApiError::BadRequest(m) | ApiError::FailedPrecondition(m) => UiError::Invalid(m),
        ApiError::Lint { summary, .. } => UiError::Invalid(summary),
        ApiError::AlreadyExists(m) | ApiError::Conflict(m) => UiError::Conflict(m),
        ApiError::Forbidden(m) | ApiError::Unauthenticated(m) => UiError::Forbidden(m),
        ApiError::Internal(m) => {
            tracing::error!(error = %m, "a UI action failed");
            UiError::Internal("see the server's log".into())
        }
    }
}

/// A run's parameters, in order.
type Parameters = Vec<(String, String)>;

/// A node's name without its workflow's name in front.
fn step_name(wf_name: &str, n: &NodeStatus) -> String {
    let full = n.name.clone().unwrap_or_default();
    let short = full.strip_prefix(wf_name).unwrap_or(&full);
    if short.is_empty() {
        full
    } else {
        short.to_string()
    }
}

fn planned(wf_name: &str, id: &str, n: &NodeStatus) -> PlannedStep {
    PlannedStep {
        id: id.to_string(),
        name: step_name(wf_name, n),
        phase: convert::node_phase(n),
    }
}

/// The parameters a person changed: those that differ from the run's, without masked secrets.
pub fn changed_parameters(
    run: &[(String, String)],
    edited: &[(String, String)],
) -> Vec<(String, String)> {
    edited
        .iter()
        .filter(|(_, v)| v != engine::secrets::MASK)
        .filter(|(k, v)| {
            run.iter()
                .find(|(rk, _)| rk == k)
                .is_none_or(|(_, rv)| rv != v)
        })
        .cloned()
        .collect()
}

/// The engine's retry options of a choice made on a run with parameters `run`.
pub fn retry_options(
    choice: &RetryChoice,
    run: &[(String, String)],
) -> Result<RetryOptions, UiError> {
    let selector = match &choice.node {
        Some(id) => Some(
            NodeSelector::parse(&format!(
                "id={}",
                id.replace('\\', "\\\\").replace(',', "\\,")
            ))
            .map_err(|e| UiError::Invalid(e.to_string()))?,
        ),
        None => None,
    };
    Ok(RetryOptions {
        restart_successful: selector.is_some(),
        selector,
        parameters: changed_parameters(run, &choice.parameters),
    })
}

/// Exactly which steps retrying `wf` with `opts` runs again, which run for the first time
/// (from `spec`'s outline), and how many keep their results.
pub fn plan_of(
    wf: &Workflow,
    spec: &engine::model::WorkflowSpec,
    opts: &RetryOptions,
    parameters: Vec<(String, String)>,
) -> Result<RetryPlan, UiError> {
    let name = wf.name().to_string();
    let nodes: BTreeMap<String, NodeStatus> = wf
        .status
        .as_ref()
        .and_then(|s| s.nodes.clone())
        .unwrap_or_default();
    let steps = || nodes.iter().filter(|(_, n)| executes(n.r#type));
    let restartable = steps()
        .filter(|(_, n)| convert::node_phase(n) == Phase::Succeeded)
        .map(|(id, n)| planned(&name, id, n))
        .collect();
    let retried = match engine::ops::retry(wf, opts) {
        Ok(r) => r,
        Err(e) => {
            let succeeded = wf.status.as_ref().and_then(|s| s.phase)
                == Some(engine::model::WorkflowPhase::Succeeded);
            let why = if succeeded && opts.selector.is_none() {
                "This run succeeded: choose a step to run again from; it and the steps after it \
                 run again."
                    .to_string()
            } else {
                e.to_string()
            };
            return Ok(RetryPlan {
                restartable,
                parameters,
                blocked: Some(why),
                ..Default::default()
            });
        }
    };
    let again = steps()
        .filter(|(id, _)| retried.removed.contains(*id))
        .map(|(id, n)| planned(&name, id, n))
        .collect();
    let kept = steps()
        .filter(|(id, _)| !retried.removed.contains(*id))
        .count();
    let ran: BTreeSet<&str> = nodes.values().filter_map(|n| n.name.as_deref()).collect();
    let first_time = never_ran(&name, spec, &ran);
    Ok(RetryPlan {
        again,
        first_time,
        kept,
        restartable,
        parameters,
        blocked: None,
    })
}

/// What resubmitting `wf` runs: with `memoized`, the steps that succeeded keep their results
/// and the others run again; without, every step of `spec` runs.
pub fn resubmit_plan(
    wf: &Workflow,
    spec: &engine::model::WorkflowSpec,
    memoized: bool,
    parameters: Vec<(String, String)>,
) -> RetryPlan {
    let name = wf.name().to_string();
    let nodes = wf
        .status
        .as_ref()
        .and_then(|s| s.nodes.clone())
        .unwrap_or_default();
    let carried = |n: &NodeStatus| {
        memoized
            && n.r#type == Some(NodeType::Pod)
            && convert::node_phase(n) == Phase::Succeeded
            && !n
                .name
                .as_deref()
                .is_some_and(|x| x.starts_with(&format!("{name}.onExit")))
    };
    let steps: Vec<(&String, &NodeStatus)> =
        nodes.iter().filter(|(_, n)| executes(n.r#type)).collect();
    let ran: BTreeSet<&str> = nodes.values().filter_map(|n| n.name.as_deref()).collect();
    RetryPlan {
        again: steps
            .iter()
            .filter(|(_, n)| !carried(n))
            .map(|(id, n)| planned(&name, id, n))
            .collect(),
        first_time: never_ran(&name, spec, &ran),
        kept: steps.iter().filter(|(_, n)| carried(n)).count(),
        restartable: Vec::new(),
        parameters,
        blocked: None,
    }
}

/// The steps of `spec` that have no node among `ran` (by name).
fn never_ran(
    name: &str,
    spec: &engine::model::WorkflowSpec,
    ran: &BTreeSet<&str>,
) -> Vec<PlannedStep> {
    engine::outline::outline(name, spec)
        .into_iter()
        .filter(|p| executes(Some(p.kind)) && !ran.contains(p.name.as_str()))
        .map(|p| PlannedStep {
            id: String::new(),
            name: p
                .name
                .strip_prefix(name)
                .map(str::to_string)
                .unwrap_or(p.name.clone())
                + if p.looped { " (each item)" } else { "" },
            phase: Phase::Pending,
        })
        .collect()
}

/// Two runs side by side; `parameters` are each one's (see [`convert::effective_parameters`]).
pub async fn compare(
    state: &ApiState,
    caller: &crate::auth::Caller,
    (wa, wb): (Workflow, Workflow),
    parameters: (Parameters, Parameters),
) -> Result<Comparison, UiError> {
    let now = Utc::now();
    let (mut ra, mut rb) = (
        convert::row_of(&wa, now, |_| false),
        convert::row_of(&wb, now, |_| false),
    );
    (ra.parameters, rb.parameters) = parameters;
    let grid = engine::history::grid(&[wa.clone(), wb], now);
    let steps = grid
        .rows
        .into_iter()
        .map(|row| {
            let cell = |i: usize| {
                row.cells.get(i).cloned().flatten().map(|c| StepRun {
                    node_id: c.node_id,
                    phase: Phase::from_argo(&c.phase),
                    duration_seconds: c.duration_seconds,
                })
            };
            StepDiff {
                a: cell(0),
                b: cell(1),
                step: row.step,
            }
        })
        .collect();
    let others = match workflow_template_key(&wa) {
        Some(key) => history(state, caller, &key, vec![], 10, None)
            .await
            .map_err(super::ui_error)?
            .0
            .iter()
            .map(|w| convert::row_of(w, now, |_| false))
            .collect(),
        None => Vec::new(),
    };
    Ok(Comparison {
        parameters: parameter_diffs(&ra.parameters, &rb.parameters),
        a: ra,
        b: rb,
        steps,
        others,
    })
}

/// The parameters of two runs, those of the first in order, then those only the second has.
pub fn parameter_diffs(a: &[(String, String)], b: &[(String, String)]) -> Vec<ParameterDiff> {
    let find = |list: &[(String, String)], k: &str| {
        list.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    };
    let mut out: Vec<ParameterDiff> = a
        .iter()
        .map(|(k, v)| ParameterDiff {
            name: k.clone(),
            a: Some(v.clone()),
            b: find(b, k),
        })
        .collect();
    out.extend(
        b.iter()
            .filter(|(k, _)| find(a, k).is_none())
            .map(|(k, v)| ParameterDiff {
                name: k.clone(),
                a: None,
                b: Some(v.clone()),
            }),
    );
    out
}

/// What the UI does once an action succeeded.
pub fn outcome_of_new(wf: &Workflow) -> ActOutcome {
    let meta = wf.metadata.clone().unwrap_or_default();
    ActOutcome::NewRun {
        namespace: meta.namespace.unwrap_or_default(),
        name: meta.name.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(json: serde_json::Value) -> Workflow {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_retry_plan_lists_the_failed_steps_and_those_never_run() {
        let w = wf(serde_json::json!({
            "metadata": {"name": "w"},
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "steps": [[{"name": "a", "template": "t"}], [{"name": "b", "template": "t"}], [{"name": "c", "template": "t"}]]},
                {"name": "t", "container": {"image": "x"}}]},
            "status": {"phase": "Failed", "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:01:00Z", "nodes": {
                "w": {"id": "w", "name": "w", "displayName": "w", "type": "Steps", "phase": "Failed", "children": ["w-1"]},
                "w-1": {"id": "w-1", "name": "w[0]", "displayName": "[0]", "type": "StepGroup", "phase": "Succeeded", "boundaryID": "w", "children": ["w-a"]},
                "w-a": {"id": "w-a", "name": "w[0].a", "displayName": "a", "type": "Pod", "phase": "Succeeded", "boundaryID": "w", "templateName": "t"},
                "w-2": {"id": "w-2", "name": "w[1]", "displayName": "[1]", "type": "StepGroup", "phase": "Failed", "boundaryID": "w", "children": ["w-b"]},
                "w-b": {"id": "w-b", "name": "w[1].b", "displayName": "b", "type": "Pod", "phase": "Failed", "boundaryID": "w", "templateName": "t"}
            }}
        }));
        let spec = w.spec.clone().unwrap();
        let plan = plan_of(
            &w,
            &spec,
            &retry_options(&RetryChoice::default(), &[]).unwrap(),
            vec![],
        )
        .unwrap();
        let names = |s: &[PlannedStep]| s.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&plan.again), ["[1].b"]);
        assert_eq!(names(&plan.first_time), ["[2].c"]);
        assert_eq!(plan.kept, 1);
        assert_eq!(names(&plan.restartable), ["[0].a"]);
        let from_a = RetryChoice {
            node: Some("w-a".into()),
            parameters: vec![],
        };
        let plan = plan_of(&w, &spec, &retry_options(&from_a, &[]).unwrap(), vec![]).unwrap();
        assert_eq!(names(&plan.again), ["[0].a", "[1].b"]);
        assert_eq!(plan.kept, 0);
    }

    #[test]
    fn a_succeeded_run_is_retried_only_from_a_chosen_step() {
        let w = wf(serde_json::json!({
            "metadata": {"name": "w"},
            "status": {"phase": "Succeeded", "nodes": {
                "w": {"id": "w", "name": "w", "displayName": "w", "type": "Steps", "phase": "Succeeded", "children": ["w-a"]},
                "w-a": {"id": "w-a", "name": "w.a", "displayName": "a", "type": "Pod", "phase": "Succeeded", "boundaryID": "w"}
            }}
        }));
        let spec = engine::model::WorkflowSpec::default();
        let none = retry_options(&RetryChoice::default(), &[]).unwrap();
        let plan = plan_of(&w, &spec, &none, vec![]).unwrap();
        assert!(plan.blocked.unwrap().contains("choose a step"));
        assert_eq!(
            plan.restartable.len(),
            1,
            "the steps to choose from are listed"
        );
        let from_a = RetryChoice {
            node: Some("w-a".into()),
            parameters: vec![],
        };
        let plan = plan_of(&w, &spec, &retry_options(&from_a, &[]).unwrap(), vec![]).unwrap();
        assert_eq!(plan.blocked, None);
        assert_eq!(plan.again.len(), 1);
    }

    #[test]
    fn only_changed_and_unmasked_parameters_are_sent() {
        let run = vec![
            ("env".to_string(), "dev".to_string()),
            ("token".to_string(), engine::secrets::MASK.to_string()),
        ];
        let edited = vec![
            ("env".to_string(), "prod".to_string()),
            ("token".to_string(), engine::secrets::MASK.to_string()),
        ];
        assert_eq!(
            changed_parameters(&run, &edited),
            [("env".to_string(), "prod".to_string())]
        );
        assert!(changed_parameters(&run, &run).is_empty());
    }

    #[test]
    fn parameter_diffs_cover_both_runs() {
        let a = vec![
            ("x".to_string(), "1".to_string()),
            ("y".to_string(), "2".to_string()),
        ];
        let b = vec![
            ("x".to_string(), "1".to_string()),
            ("z".to_string(), "3".to_string()),
        ];
        let d = parameter_diffs(&a, &b);
        assert_eq!(d.len(), 3);
        assert!(!d[0].differs());
        assert!(d[1].differs() && d[1].b.is_none());
        assert_eq!(d[2].name, "z");
    }
}
