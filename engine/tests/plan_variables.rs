//! The node-context and workflow variables Argo's `variables-showcase` example exercises:
//! `steps.name`, `tasks.name`, `lastRetry.*`, `workflow.creationTimestamp.<strftime>`,
//! `workflow.labels` / `workflow.annotations`, `inputs.artifacts.<name>` and `hostNodeName`.

#[path = "plan/harness.rs"]
mod harness;

use engine::model::{NodePhase, WorkflowPhase};
use engine::plan::{Observations, StepObservation, format_time, node_id};
use harness::{Outcome, Sim, args_of};

const NAMES: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: nm}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: first
        template: say
        arguments: {parameters: [{name: m, value: "own={{steps.name}}"}]}
      - name: loop
        template: say
        arguments: {parameters: [{name: m, value: "{{item}}"}]}
        withItems: [x]
  - name: say
    inputs: {parameters: [{name: m}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.m}} steps={{steps.name}}"]}
"#;

#[test]
fn steps_name_is_the_calling_step_in_its_arguments_and_in_the_template_it_calls() {
    let mut s = Sim::new(NAMES);
    s.tick();
    let mut seen: Vec<(String, Vec<String>)> = s
        .launches()
        .iter()
        .map(|l| (l.node_name.clone(), harness::command(l)))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "nm[0].first".to_string(),
                vec!["echo".to_string(), "own=first steps=first".to_string()]
            ),
            (
                "nm[0].loop(0:x)".to_string(),
                vec!["echo".to_string(), "x steps=loop(0:x)".to_string()]
            ),
        ]
    );
}

const TASK_NAMES: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: tn}
spec:
  entrypoint: graph
  templates:
  - name: graph
    dag:
      tasks:
      - {name: a, template: say, arguments: {parameters: [{name: m, value: "own={{tasks.name}}"}]}}
  - name: say
    inputs: {parameters: [{name: m}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.m}} tasks={{tasks.name}}"]}
"#;

#[test]
fn tasks_name_is_the_calling_task() {
    let mut s = Sim::new(TASK_NAMES);
    s.tick();
    let l = s.launches();
    assert_eq!(l.len(), 1);
    assert_eq!(harness::command(&l[0]), ["echo", "own=a tasks=a"]);
}

#[test]
fn steps_name_outside_a_step_is_an_error_not_a_guess() {
    // The entrypoint is not called by a step: nothing names it.
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: top}
spec:
  entrypoint: say
  templates:
  - name: say
    container: {image: alpine, command: [echo, "{{steps.name}}"]}
"#;
    let mut s = Sim::new(yaml);
    s.tick();
    assert_eq!(s.phase("top"), NodePhase::Error);
    assert!(
        s.node("top")
            .message
            .as_deref()
            .is_some_and(|m| m.contains("{{steps.name}}")),
        "{:?}",
        s.node("top").message
    );
}

const RETRIES: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rt}
spec:
  entrypoint: flaky
  templates:
  - name: flaky
    retryStrategy: {limit: 2}
    container:
      image: alpine
      command: [echo, "n={{retries}} status={{lastRetry.status}} code={{lastRetry.exitCode}} message={{lastRetry.message}} secs={{lastRetry.duration}}"]
"#;

#[test]
fn last_retry_has_argo_defaults_on_the_first_attempt_and_the_previous_attempt_after() {
    let mut s = Sim::new(RETRIES);
    s.tick();
    let first = s.launches();
    assert_eq!(
        harness::command(&first[0]),
        ["echo", "n=0 status= code=0 message= secs=0"]
    );
    s.finish_all(&|_| Outcome::fail(1));
    s.tick();
    let second = s.launches();
    assert_eq!(second.len(), 1, "{:?}", s.summary());
    assert_eq!(second[0].node_name, "rt(1)");
    assert_eq!(
        harness::command(&second[0]),
        [
            "echo",
            "n=1 status=Failed code=1 message=Error (exit code 1) secs=1"
        ]
    );
}

const WORKFLOW_VARS: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: wv
  creationTimestamp: "2026-04-09T07:05:03Z"
  labels: {app: demo}
  annotations: {owner: team}
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: alpine
      command:
      - echo
      - "{{workflow.creationTimestamp.Y}}-{{workflow.creationTimestamp.m}}-{{workflow.creationTimestamp.d}} {{workflow.creationTimestamp.H}}:{{workflow.creationTimestamp.M}}:{{workflow.creationTimestamp.S}}"
      - "{{workflow.creationTimestamp.b}} {{workflow.creationTimestamp.B}} {{workflow.creationTimestamp.a}} {{workflow.creationTimestamp.A}} {{workflow.creationTimestamp.y}} {{workflow.creationTimestamp.I}}{{workflow.creationTimestamp.p}} {{workflow.creationTimestamp.Z}} {{workflow.creationTimestamp.z}} {{workflow.creationTimestamp.L}}"
      - "{{workflow.labels}} {{workflow.annotations}}"
"#;

#[test]
fn creation_timestamp_letters_and_the_label_and_annotation_maps() {
    let mut s = Sim::new(WORKFLOW_VARS);
    s.tick();
    let l = s.launches();
    assert_eq!(
        harness::command(&l[0]),
        [
            "echo",
            "2026-04-09 07:05:03",
            "Apr April Thu Thursday 26 07AM UTC +0000 .000",
            r#"{"app":"demo"} {"owner":"team"}"#,
        ]
    );
}

const ARTIFACT_OBJECT: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ao}
spec:
  entrypoint: main
  arguments:
    artifacts: [{name: seed, raw: {data: seed-content}}]
  templates:
  - name: main
    inputs: {artifacts: [{name: seed}]}
    steps:
    - - name: use
        template: show
        arguments: {artifacts: [{name: in, from: "{{inputs.artifacts.seed}}"}]}
  - name: show
    inputs: {artifacts: [{name: in, path: /tmp/in}]}
    container: {image: alpine, command: [cat, /tmp/in]}
"#;

#[test]
fn an_input_artifact_is_passed_on_whole_with_from() {
    let mut s = Sim::new(ARTIFACT_OBJECT);
    s.tick();
    let l = s.launches();
    assert_eq!(l.len(), 1, "{:?}", s.summary());
    let inputs = s.node("ao[0].use").inputs.clone().expect("inputs");
    let a = &inputs.artifacts.expect("artifacts")[0];
    assert_eq!(a.name.as_deref(), Some("in"));
    assert_eq!(a.path.as_deref(), Some("/tmp/in"));
    assert_eq!(
        a.raw.as_ref().and_then(|r| r.data.as_deref()),
        Some("seed-content")
    );
}

const HOST: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: hn}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: run}
    - - {name: b, template: show, arguments: {parameters: [{name: h, value: "{{steps.a.hostNodeName}}"}]}}
  - name: run
    container: {image: alpine, command: ["true"]}
  - name: show
    inputs: {parameters: [{name: h}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.h}}"]}
"#;

#[test]
fn host_node_name_comes_from_the_backend() {
    let mut s = Sim::new(HOST);
    s.tick();
    let id = node_id("hn", "hn[0].a");
    let mut obs = Observations::default();
    obs.steps.insert(
        id.clone(),
        StepObservation {
            phase: NodePhase::Running,
            started_at: Some(format_time(s.now)),
            host_node_name: Some("worker-7".into()),
            ..Default::default()
        },
    );
    s.step(obs);
    assert_eq!(
        s.node("hn[0].a").host_node_name.as_deref(),
        Some("worker-7")
    );
    s.ended("hn[0].a", NodePhase::Succeeded, "");
    let l = s.launches();
    assert_eq!(l.len(), 1, "{:?}", s.summary());
    assert_eq!(args_of(&l[0]), Vec::<String>::new());
    assert_eq!(harness::command(&l[0]), ["echo", "worker-7"]);
    assert_eq!(s.run(&|_| Outcome::ok()), WorkflowPhase::Succeeded);
}
