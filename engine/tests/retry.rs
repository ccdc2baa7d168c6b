//! Table-driven tests of `engine::ops::retry` on planned workflows: what is removed and kept,
//! what runs again, and what is refused.

#[path = "plan/harness.rs"]
mod harness;

use std::cell::Cell;

use engine::model::{NodePhase, Workflow, WorkflowPhase};
use engine::ops::{NodeSelector, OpError, RetryOptions, retry};
use harness::{Outcome, Sim};

const STEPS: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rt}
spec:
  entrypoint: main
  onExit: bye
  arguments: {parameters: [{name: mode, value: fail}]}
  templates:
  - name: main
    steps:
    - - {name: a, template: t}
    - - {name: b, template: t, arguments: {parameters: [{name: m, value: "{{workflow.parameters.mode}}"}]}}
    - - {name: c, template: t}
  - name: t
    inputs: {parameters: [{name: m, value: ok}]}
    container: {image: alpine, command: [run, "{{inputs.parameters.m}}"]}
  - name: bye
    container: {image: alpine, command: [bye]}
"#;

/// The workflow the sim has planned, as a backend holds it.
fn held(s: &Sim) -> Workflow {
    let mut wf = harness::workflow(STEPS);
    wf.status = Some(s.status.clone());
    wf
}

/// Fails every step whose command says `fail`.
fn by_command(l: &engine::plan::StepLaunch) -> Outcome {
    if harness::command(l).iter().any(|a| a == "fail") {
        Outcome::fail(1)
    } else {
        Outcome::ok()
    }
}

#[test]
fn a_failed_step_and_what_followed_run_again_and_successes_are_kept() {
    let mut s = Sim::new(STEPS);
    assert_eq!(s.run(&by_command), WorkflowPhase::Failed);
    assert_eq!(s.phase("rt[1].b"), NodePhase::Failed);
    assert!(s.has("rt.onExit"));
    let before_a = s.node("rt[0].a").clone();

    let r = retry(
        &held(&s),
        &RetryOptions {
            parameters: vec![("mode".into(), "fixed".into())],
            ..Default::default()
        },
    )
    .unwrap();
    let names: Vec<&str> = ["rt[1].b", "rt.onExit"]
        .into_iter()
        .filter(|n| r.removed.contains(&engine::plan::node_id("rt", n)))
        .collect();
    assert_eq!(names, ["rt[1].b", "rt.onExit"]);
    let status = r.workflow.status.clone().unwrap();
    assert_eq!(status.phase, Some(WorkflowPhase::Running));
    assert_eq!(status.finished_at, None);
    s.status = status;
    assert_eq!(
        s.node("rt[0].a"),
        &before_a,
        "a succeeded and is kept as it was"
    );
    assert_eq!(s.phase("rt[1]"), NodePhase::Running, "b's group is reset");
    assert_eq!(s.phase("rt"), NodePhase::Running, "the root is reset");

    // The new parameter is in the retried spec; the sim keeps its resolved one, so let b pass.
    let spec = r.workflow.spec.unwrap();
    assert_eq!(
        spec.arguments.unwrap().parameters.unwrap()[0]
            .value
            .as_ref()
            .unwrap()
            .0,
        "fixed"
    );
    s.tick();
    assert_eq!(
        s.launched_names(),
        ["rt[1].b"],
        "only b starts: a is not run again"
    );
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(s.launched_names(), ["rt[2].c"]);
    assert_eq!(s.run(&|_| Outcome::ok()), WorkflowPhase::Succeeded);
    assert_eq!(s.phase("rt.onExit"), NodePhase::Succeeded);
}

const RETRIED: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rr}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: flaky, template: t}
  - name: t
    retryStrategy: {limit: 1}
    container: {image: alpine, command: [flaky]}
"#;

#[test]
fn an_exhausted_retry_node_gets_its_whole_budget_back() {
    let mut s = Sim::new(RETRIED);
    assert_eq!(s.run(&|_| Outcome::fail(1)), WorkflowPhase::Failed);
    assert!(s.has("rr[0].flaky(1)"), "{:?}", s.names());
    let mut wf = harness::workflow(RETRIED);
    wf.status = Some(s.status.clone());
    let r = retry(&wf, &RetryOptions::default()).unwrap();
    for gone in ["rr[0].flaky", "rr[0].flaky(0)", "rr[0].flaky(1)"] {
        assert!(
            r.removed.contains(&engine::plan::node_id("rr", gone)),
            "{gone}"
        );
    }
    s.status = r.workflow.status.unwrap();
    s.tick();
    assert_eq!(s.launched_names(), ["rr[0].flaky(0)"]);
    let tries = Cell::new(0);
    let second_time_lucky = |_: &engine::plan::StepLaunch| {
        tries.set(tries.get() + 1);
        if tries.get() == 1 {
            Outcome::fail(1)
        } else {
            Outcome::ok()
        }
    };
    s.finish_all(&second_time_lucky);
    assert_eq!(
        s.launched_names(),
        ["rr[0].flaky(1)"],
        "a second attempt, as the budget allows"
    );
    assert_eq!(s.run(&second_time_lucky), WorkflowPhase::Succeeded);
}

const DAG: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rd}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: t, arguments: {parameters: [{name: m, value: ok}]}}
      - {name: B, template: t, depends: A, arguments: {parameters: [{name: m, value: fail}]}}
      - {name: C, template: t, depends: B, arguments: {parameters: [{name: m, value: ok}]}}
  - name: t
    inputs: {parameters: [{name: m}]}
    container: {image: alpine, command: [run, "{{inputs.parameters.m}}"]}
"#;

#[test]
fn dag_tasks_after_the_failure_are_run_again_and_succeeded_or_selected_ones_too() {
    let mut s = Sim::new(DAG);
    assert_eq!(s.run(&by_command), WorkflowPhase::Failed);
    let mut wf = harness::workflow(DAG);
    wf.status = Some(s.status.clone());
    let r = retry(&wf, &RetryOptions::default()).unwrap();
    let id = |n: &str| engine::plan::node_id("rd", n);
    assert!(r.removed.contains(&id("rd.B")));
    assert!(!r.removed.contains(&id("rd.A")));
    s.status = r.workflow.status.unwrap();
    s.tick();
    assert_eq!(s.launched_names(), ["rd.B"]);
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(s.launched_names(), ["rd.C"]);
    assert_eq!(s.run(&|_| Outcome::ok()), WorkflowPhase::Succeeded);

    // Succeeded now: only with restartSuccessful and a selector, which reruns A and after.
    let mut wf = harness::workflow(DAG);
    wf.status = Some(s.status.clone());
    let err = retry(&wf, &RetryOptions::default()).unwrap_err();
    assert!(matches!(err, OpError::NotRetryable(m) if m.contains("restartSuccessful")));
    let again = RetryOptions {
        restart_successful: true,
        selector: Some(NodeSelector::parse("displayName=A").unwrap()),
        ..Default::default()
    };
    let r = retry(&wf, &again).unwrap();
    for n in ["rd.A", "rd.B", "rd.C"] {
        assert!(r.removed.contains(&id(n)), "{n}");
    }
    s.status = r.workflow.status.unwrap();
    s.tick();
    assert_eq!(s.launched_names(), ["rd.A"]);
}

#[test]
fn unfinished_workflows_and_undeclared_parameters_are_refused() {
    let mut s = Sim::new(STEPS);
    s.tick();
    let err = retry(&held(&s), &RetryOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot retry a workflow in phase Running: it has not finished"
    );
    assert_eq!(s.run(&by_command), WorkflowPhase::Failed);
    let err = retry(
        &held(&s),
        &RetryOptions {
            parameters: vec![("mood".into(), "x".into())],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("did you mean `mode`"), "{err}");
}

#[test]
fn with_other_parameters_an_approval_is_asked_for_again() {
    let wf: Workflow = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "ap"},
        "spec": {"entrypoint": "main", "arguments": {"parameters": [{"name": "env", "value": "staging"}]},
            "templates": [{"name": "main", "steps": [[{"name": "approve", "template": "gate"}], [{"name": "deploy", "template": "t"}]]},
                          {"name": "gate", "suspend": {}}, {"name": "t", "container": {"image": "alpine"}}]},
        "status": {"phase": "Failed", "nodes": {
            "ap": {"id": "ap", "name": "ap", "displayName": "ap", "type": "Steps", "phase": "Failed", "children": ["ap-1"]},
            "ap-1": {"id": "ap-1", "name": "ap[0]", "displayName": "[0]", "type": "StepGroup", "phase": "Succeeded", "boundaryID": "ap", "children": ["ap-a"]},
            "ap-a": {"id": "ap-a", "name": "ap[0].approve", "displayName": "approve", "type": "Suspend", "phase": "Succeeded", "boundaryID": "ap", "children": ["ap-2"]},
            "ap-2": {"id": "ap-2", "name": "ap[1]", "displayName": "[1]", "type": "StepGroup", "phase": "Failed", "boundaryID": "ap", "children": ["ap-d"]},
            "ap-d": {"id": "ap-d", "name": "ap[1].deploy", "displayName": "deploy", "type": "Pod", "phase": "Failed", "boundaryID": "ap"}
        }}
    }))
    .unwrap();
    let same = retry(&wf, &RetryOptions::default()).unwrap();
    assert!(
        !same.removed.contains("ap-a"),
        "the approval holds for the same parameters"
    );
    assert!(same.removed.contains("ap-d"));
    let other = retry(
        &wf,
        &RetryOptions {
            parameters: vec![("env".into(), "production".into())],
            ..Default::default()
        },
    )
    .unwrap();
    assert!(other.removed.contains("ap-a"), "{:?}", other.removed);
    assert!(other.removed.contains("ap-d"));
}
