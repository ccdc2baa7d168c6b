//! Table-driven tests of `engine::plan` for DAGs and the data that flows between steps:
//! dependencies, outputs, arguments, skipped outputs, ConfigMaps and global outputs.

#[path = "plan/harness.rs"]
mod harness;

use engine::model::{NodePhase, NodeType, WorkflowPhase};
use engine::plan::node_id;
use harness::{Outcome, Sim};

const DIAMOND: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dm}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: t}
      - {name: B, template: t, dependencies: [A]}
      - {name: C, template: t, depends: "A"}
      - {name: D, template: t, depends: "B && C"}
  - name: t
    container: {image: alpine, command: [echo]}
"#;

#[test]
fn dag_tasks_start_when_their_dependencies_succeed() {
    let mut s = Sim::new(DIAMOND);
    s.tick();
    assert_eq!(s.launched_names(), ["dm.A"]);
    assert_eq!(s.node("dm").r#type, Some(NodeType::Dag));
    assert_eq!(
        s.node("dm").children.as_deref(),
        Some(&[node_id("dm", "dm.A")][..])
    );
    s.finish_all(&|_| Outcome::ok());
    let mut n = s.launched_names();
    n.sort();
    assert_eq!(n, ["dm.B", "dm.C"]);
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(s.launched_names(), ["dm.D"]);
    let mut b_children = s.node("dm.B").children.clone().unwrap();
    b_children.sort();
    assert_eq!(b_children, [node_id("dm", "dm.D")]);
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(s.status.phase, Some(WorkflowPhase::Succeeded));
    assert_eq!(
        s.node("dm").outbound_nodes.as_deref(),
        Some(&[node_id("dm", "dm.D")][..])
    );
}

#[test]
fn a_failed_dag_task_omits_its_dependents_and_fails_the_dag() {
    let mut s = Sim::new(DIAMOND);
    let phase = s.run(&|l| {
        if l.node_name == "dm.B" {
            Outcome::fail(1)
        } else {
            Outcome::ok()
        }
    });
    assert_eq!(phase, WorkflowPhase::Failed);
    // failFast (default): D is never considered once B failed.
    assert!(
        !s.has("dm.D") || s.phase("dm.D") == NodePhase::Omitted,
        "{:?}",
        s.summary()
    );
    assert_eq!(s.phase("dm"), NodePhase::Failed);
}

const ENHANCED: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: en}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      failFast: false
      tasks:
      - {name: A, template: t}
      - {name: onfail, template: t, depends: "A.Failed"}
      - {name: onok, template: t, depends: "A.Succeeded"}
      - {name: always, template: t, depends: "A.Succeeded || A.Failed || A.Errored"}
  - name: t
    container: {image: alpine, command: [echo]}
"#;

#[test]
fn enhanced_depends_picks_the_branch_for_the_result() {
    let mut s = Sim::new(ENHANCED);
    let phase = s.run(&|l| {
        if l.node_name == "en.A" {
            Outcome::fail(1)
        } else {
            Outcome::ok()
        }
    });
    assert_eq!(s.phase("en.onfail"), NodePhase::Succeeded);
    assert_eq!(s.phase("en.onok"), NodePhase::Omitted);
    assert_eq!(
        s.node("en.onok").message.as_deref(),
        Some("omitted: depends condition not met")
    );
    assert_eq!(s.phase("en.always"), NodePhase::Succeeded);
    // The omitted branch inherits A's failure: the DAG fails, as in Argo.
    assert_eq!(phase, WorkflowPhase::Failed);
}

const OUTPUTS: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: op}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: gen, template: gen}
      - {name: use, template: use, depends: gen, arguments: {parameters: [{name: v, value: "{{tasks.gen.outputs.parameters.out}}"}]}}
    outputs:
      parameters:
      - {name: final, valueFrom: {parameter: "{{tasks.use.outputs.result}}"}, globalName: final}
  - name: gen
    container: {image: alpine, command: [echo]}
    outputs: {parameters: [{name: out, valueFrom: {path: /tmp/out}}]}
  - name: use
    inputs: {parameters: [{name: v}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.v}}"]}
"#;

#[test]
fn outputs_flow_between_tasks_and_up_to_the_workflow() {
    let mut s = Sim::new(OUTPUTS);
    let phase = s.run(&|l| match l.node_name.as_str() {
        "op.gen" => Outcome::ok().param("out", "42"),
        _ => Outcome::result("used 42"),
    });
    assert_eq!(phase, WorkflowPhase::Succeeded);
    let outs = s.node("op").outputs.clone().unwrap().parameters.unwrap();
    assert_eq!(outs[0].value.as_ref().unwrap().0, "used 42");
    assert_eq!(
        s.first_global_output(),
        (Some("final".to_owned()), Some("used 42".to_owned()))
    );
}

const SKIPPED_OUTPUTS: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: so}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: producer, template: produce, when: "false"}
      - name: consumer
        template: consume
        depends: "producer.Succeeded || producer.Skipped"
        arguments: {parameters: [{name: in, value: "{{tasks.producer.outputs.parameters.msg}}"}]}
    outputs:
      parameters:
      - {name: result, valueFrom: {expression: "tasks.producer.outputs.parameters.msg ?? 'expr-fallback'"}}
  - name: produce
    outputs: {parameters: [{name: msg, valueFrom: {path: /tmp/out.txt}}]}
    container: {image: alpine, command: [echo]}
  - name: consume
    inputs: {parameters: [{name: in, default: fallback-from-input}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.in}}"]}
"#;

#[test]
fn outputs_of_a_skipped_step_are_absent_so_defaults_apply() {
    let mut s = Sim::new(SKIPPED_OUTPUTS);
    s.tick();
    assert_eq!(s.phase("so.producer"), NodePhase::Skipped);
    let l = s.launches();
    assert_eq!(l.len(), 1);
    assert_eq!(harness::command(&l[0])[1], "fallback-from-input");
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(
        s.status.phase,
        Some(WorkflowPhase::Succeeded),
        "{:?}",
        s.status.message
    );
    let out = s.node("so").outputs.clone().unwrap().parameters.unwrap();
    assert_eq!(out[0].value.as_ref().unwrap().0, "expr-fallback");
}

const FROM_CONFIG: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: cm}
spec:
  entrypoint: main
  arguments:
    parameters: [{name: greeting, valueFrom: {configMapKeyRef: {name: params, key: greeting}}}]
  templates:
  - name: main
    inputs:
      parameters: [{name: who, valueFrom: {configMapKeyRef: {name: params, key: who}}}]
    container: {image: alpine, command: [echo, "{{workflow.parameters.greeting}} {{inputs.parameters.who}}"]}
"#;

#[test]
fn parameters_come_from_config_maps_or_fail_saying_which_key_is_missing() {
    let t = harness::Templates {
        config: vec![
            ("params".into(), "greeting".into(), "hello".into()),
            ("params".into(), "who".into(), "world".into()),
        ],
        ..Default::default()
    };
    let mut s = Sim::with_templates(FROM_CONFIG, &t);
    s.tick();
    assert_eq!(harness::command(&s.launches()[0])[1], "hello world");
    let mut s = Sim::new(FROM_CONFIG);
    s.tick();
    assert_eq!(s.status.phase, Some(WorkflowPhase::Error));
    assert!(
        s.status
            .message
            .as_deref()
            .unwrap()
            .contains("ConfigMap \"params\" has no key \"who\""),
        "{:?}",
        s.status.message
    );
}

const GLOBALS: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: gl}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: gen, template: gen}
    - - {name: use, template: use}
  - name: gen
    container: {image: alpine, command: [echo]}
    outputs: {parameters: [{name: p, valueFrom: {path: /tmp/p}, globalName: shared}]}
  - name: use
    container: {image: alpine, command: [echo, "{{workflow.outputs.parameters.shared}}"]}
"#;

#[test]
fn a_steps_global_output_is_visible_to_later_steps_and_the_status() {
    let mut s = Sim::new(GLOBALS);
    s.tick();
    // The backend reports the value without its globalName; the template declares it.
    s.finish_all(&|_| Outcome::ok().param("p", "42"));
    let l = s.launches();
    assert_eq!(harness::command(&l[0])[1], "42");
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(
        s.first_global_output(),
        (Some("shared".to_owned()), Some("42".to_owned()))
    );
}

const WORKFLOW_VARIABLES: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wv, creationTimestamp: "2026-11-22T09:30:00Z"}
spec:
  entrypoint: main
  arguments:
    parameters: [{name: should-print, value: "true"}]
  templates:
  - name: main
    steps:
    - - name: by-json
        template: t
        when: "{{=jsonpath(workflow.parameters.json, '$[0].value') == 'true'}}"
      - name: by-json-false
        template: t
        when: "{{=jsonpath(workflow.parameters.json, '$[0].value') == 'false'}}"
  - name: t
    container: {image: alpine, command: [echo, "{{=sprig.date('2006-01', workflow.creationTimestamp)}}"]}
"#;

#[test]
fn workflow_parameters_json_and_dates_reach_expressions() {
    let mut s = Sim::new(WORKFLOW_VARIABLES);
    s.tick();
    let launches = s.launches();
    assert_eq!(s.launched_names(), ["wv[0].by-json"]);
    let command = harness::command(&launches[0]);
    assert_eq!(command[1], "2026-11");
    assert_eq!(
        s.node("wv[0].by-json-false").phase,
        Some(NodePhase::Skipped)
    );
}

const SUB_PATH: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: sp}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: make
        template: make
    - - name: use
        template: use
        arguments:
          artifacts:
          - {name: message, from: "{{steps.make.outputs.artifacts.dir}}", subPath: hello.txt}
  - name: make
    container: {image: alpine, command: ["true"]}
    outputs:
      artifacts: [{name: dir, path: /tmp/, archive: {none: {}}}]
  - name: use
    inputs:
      artifacts: [{name: message, path: /tmp/message}]
    container: {image: alpine, command: [cat, /tmp/message]}
"#;

#[test]
fn a_sub_path_narrows_an_artifact_to_a_file_inside_it() {
    let mut s = Sim::new(SUB_PATH);
    s.tick();
    s.finish_all(&|_| Outcome::ok().artifact("dir", "sp/sp-make/dir"));
    let launches = s.launches();
    assert_eq!(s.launched_names(), ["sp[1].use"]);
    let input = &launches[0]
        .template
        .inputs
        .as_ref()
        .unwrap()
        .artifacts
        .as_ref()
        .unwrap()[0];
    let key = input.s3.as_ref().and_then(|s3| s3.key.clone());
    assert_eq!(key.as_deref(), Some("sp/sp-make/dir/hello.txt"));
    assert_eq!(input.path.as_deref(), Some("/tmp/message"));

    let escaping = SUB_PATH.replace("subPath: hello.txt", "subPath: ../secrets");
    let mut s = Sim::new(&escaping);
    s.tick();
    s.finish_all(&|_| Outcome::ok().artifact("dir", "sp/sp-make/dir"));
    assert!(s.launched_names().is_empty());
    let message = s.node("sp[1].use").message.clone().unwrap_or_default();
    assert!(message.contains("may not leave the artifact"), "{message}");
}
