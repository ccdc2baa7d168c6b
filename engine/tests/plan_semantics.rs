//! Table-driven tests of `engine::plan`: a workflow, observations, and the nodes and actions
//! that must follow.

#[path = "plan/harness.rs"]
mod harness;

use engine::model::{NodePhase, NodeType, WorkflowPhase};
use engine::plan::{Action, node_id};
use harness::{Outcome, Sim, args_of};

const HELLO: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: hello}
spec:
  entrypoint: main
  arguments: {parameters: [{name: message, value: hi}]}
  templates:
  - name: main
    inputs: {parameters: [{name: message}]}
    container: {image: busybox, command: [echo], args: ["{{inputs.parameters.message}} from {{workflow.name}}"]}
"#;

#[test]
fn a_container_workflow_starts_one_pod_and_succeeds_with_it() {
    let mut s = Sim::new(HELLO);
    s.tick();
    assert_eq!(s.status.phase, Some(WorkflowPhase::Running));
    let l = s.launches();
    assert_eq!(l.len(), 1);
    assert_eq!(
        l[0].node_id, "hello",
        "the root node's ID is the workflow name"
    );
    assert_eq!(l[0].pod_name, "hello");
    assert_eq!(args_of(&l[0]), ["hi from hello"]);
    assert_eq!(s.phase("hello"), NodePhase::Pending);
    // Still pending: the start is asked again (idempotent for the backend).
    s.tick();
    assert_eq!(s.launches().len(), 1);
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(s.status.phase, Some(WorkflowPhase::Succeeded));
    assert_eq!(s.status.progress.as_deref(), Some("1/1"));
    assert!(s.status.finished_at.is_some());
}

#[test]
fn a_failed_step_fails_the_workflow_with_its_message() {
    let mut s = Sim::new(HELLO);
    assert_eq!(s.run(&|_| Outcome::fail(3)), WorkflowPhase::Failed);
    assert_eq!(s.status.message.as_deref(), Some("Error (exit code 3)"));
}

const STEPS: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: st}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: say, arguments: {parameters: [{name: m, value: one}]}}
    - - {name: b, template: say, arguments: {parameters: [{name: m, value: "{{steps.a.outputs.result}}"}]}}
      - {name: c, template: say, arguments: {parameters: [{name: m, value: three}]}}
  - name: say
    inputs: {parameters: [{name: m}]}
    script: {image: python, command: [python], source: "print('{{inputs.parameters.m}}')"}
"#;

#[test]
fn steps_run_group_by_group_with_argo_node_names_and_links() {
    let mut s = Sim::new(STEPS);
    s.tick();
    assert_eq!(s.launched_names(), ["st[0].a"]);
    assert_eq!(s.node("st").r#type, Some(NodeType::Steps));
    assert_eq!(s.node("st[0]").r#type, Some(NodeType::StepGroup));
    assert_eq!(s.node("st[0].a").boundary_id.as_deref(), Some("st"));
    s.finish_all(&|_| Outcome::result("ONE"));
    let mut names = s.launched_names();
    names.sort();
    assert_eq!(names, ["st[1].b", "st[1].c"]);
    let b = s
        .launches()
        .into_iter()
        .find(|l| l.node_name == "st[1].b")
        .unwrap();
    assert_eq!(args_of(&b), ["print('ONE')"]);
    // [1] hangs from the outbound node of [0]'s step.
    let a_id = node_id("st", "st[0].a");
    assert_eq!(
        s.node("st[0].a").children.as_deref(),
        Some(&[node_id("st", "st[1]")][..])
    );
    assert_eq!(s.node("st[0]").children.as_deref(), Some(&[a_id][..]));
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(s.status.phase, Some(WorkflowPhase::Succeeded));
    let mut outbound = s.node("st").outbound_nodes.clone().unwrap();
    outbound.sort();
    let mut want = vec![node_id("st", "st[1].b"), node_id("st", "st[1].c")];
    want.sort();
    assert_eq!(outbound, want);
    assert_eq!(s.status.progress.as_deref(), Some("3/3"));
}

#[test]
fn a_failed_step_fails_its_group_and_stops_later_groups() {
    let mut s = Sim::new(STEPS);
    let phase = s.run(&|l| {
        if l.node_name.ends_with(".a") {
            Outcome::fail(1)
        } else {
            Outcome::ok()
        }
    });
    assert_eq!(phase, WorkflowPhase::Failed);
    assert!(!s.has("st[1]"), "{:?}", s.names());
    let a = node_id("st", "st[0].a");
    assert_eq!(
        s.node("st[0]").message.as_deref(),
        Some(&*format!("child '{a}' failed"))
    );
    assert_eq!(s.node("st").phase, Some(NodePhase::Failed));
}

const WHEN_CONTINUE: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wc}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: flip, template: t}
    - - {name: heads, template: t, when: "{{steps.flip.outputs.result}} == heads"}
      - {name: tails, template: t, when: "{{steps.flip.outputs.result}} == tails"}
    - - {name: bad, template: t, continueOn: {failed: true}}
    - - {name: after, template: t}
  - name: t
    container: {image: alpine, command: [sh, -c, "true"]}
"#;

#[test]
fn when_skips_and_continue_on_failed_goes_on() {
    let mut s = Sim::new(WHEN_CONTINUE);
    let phase = s.run(&|l| match l.node_name.as_str() {
        "wc[0].flip" => Outcome::result("heads"),
        "wc[2].bad" => Outcome::fail(2),
        _ => Outcome::ok(),
    });
    assert_eq!(phase, WorkflowPhase::Succeeded);
    assert_eq!(s.phase("wc[1].tails"), NodePhase::Skipped);
    assert_eq!(s.node("wc[1].tails").r#type, Some(NodeType::Skipped));
    assert_eq!(
        s.node("wc[1].tails").message.as_deref(),
        Some("when 'heads == tails' evaluated false")
    );
    assert_eq!(s.phase("wc[1].heads"), NodePhase::Succeeded);
    assert_eq!(s.phase("wc[2].bad"), NodePhase::Failed);
    assert_eq!(s.phase("wc[3].after"), NodePhase::Succeeded);
}

const LOOPS: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: lp}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: gen, template: t}
    - - name: each
        template: p
        arguments: {parameters: [{name: v, value: "{{item.os}}-{{item.v}}"}]}
        withItems: [{os: debian, v: 12}, {os: alpine, v: 3}]
      - name: param
        template: p
        arguments: {parameters: [{name: v, value: "{{item}}"}]}
        withParam: "{{steps.gen.outputs.result}}"
      - name: seq
        template: p
        arguments: {parameters: [{name: v, value: "{{item}}"}]}
        withSequence: {count: "2", format: "n%02d"}
    - - {name: sum, template: p, arguments: {parameters: [{name: v, value: "{{steps.param.outputs.result}}"}]}}
  - name: t
    container: {image: alpine, command: [echo]}
  - name: p
    inputs: {parameters: [{name: v}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.v}}"]}
"#;

#[test]
fn loops_expand_items_params_and_sequences_and_aggregate_results() {
    let mut s = Sim::new(LOOPS);
    let phase = s.run(&|l| {
        if l.node_name == "lp[0].gen" {
            return Outcome::result(r#"["x", "y", "z"]"#);
        }
        let cmd = harness::command(l);
        Outcome::result(&cmd.last().unwrap().to_uppercase())
    });
    assert_eq!(phase, WorkflowPhase::Succeeded);
    for n in [
        r#"lp[1].each(0:{"os":"debian","v":12})"#,
        r#"lp[1].each(1:{"os":"alpine","v":3})"#,
        "lp[1].param(0:x)",
        "lp[1].param(2:z)",
        "lp[1].seq(0:n00)",
        "lp[1].seq(1:n01)",
    ] {
        assert_eq!(s.phase(n), NodePhase::Succeeded, "{n}");
    }
    let sum = s.node("lp[2].sum");
    let v = sum.inputs.as_ref().unwrap().parameters.as_ref().unwrap()[0]
        .value
        .clone()
        .unwrap();
    assert_eq!(v.0, r#"["X","Y","Z"]"#);
    let each = s.node(r#"lp[1].each(0:{"os":"debian","v":12})"#);
    let v = each.inputs.as_ref().unwrap().parameters.as_ref().unwrap()[0]
        .value
        .clone()
        .unwrap();
    assert_eq!(v.0, "debian-12");
}

const RETRY: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rt}
spec:
  entrypoint: main
  templates:
  - name: main
    retryStrategy: {limit: "2", backoff: {duration: "10s", factor: "2"}}
    container: {image: alpine, command: [sh, -c, "exit {{retries}}"]}
"#;

#[test]
fn retries_make_attempt_children_with_backoff() {
    let mut s = Sim::new(RETRY);
    s.tick();
    assert_eq!(s.node("rt").r#type, Some(NodeType::Retry));
    assert_eq!(s.launched_names(), ["rt(0)"]);
    assert_eq!(harness::command(&s.launches()[0])[2], "exit 0");
    s.finish_all(&|_| Outcome::fail(1));
    assert!(s.launches().is_empty(), "waits out the backoff");
    assert_eq!(
        s.node("rt").message.as_deref(),
        Some("Backoff for 10 seconds")
    );
    let wake = s
        .last_actions
        .iter()
        .find_map(|a| match a {
            Action::WakeUpAt { at } => Some(*at),
            _ => None,
        })
        .unwrap();
    s.now = wake;
    s.tick();
    assert_eq!(s.launched_names(), ["rt(1)"]);
    assert_eq!(harness::command(&s.launches()[0])[2], "exit 1");
    s.finish_all(&|_| Outcome::fail(1));
    s.advance(20);
    s.tick();
    assert_eq!(s.launched_names(), ["rt(2)"]);
    s.finish_all(&|_| Outcome::fail(1));
    assert_eq!(
        s.status.phase,
        Some(WorkflowPhase::Failed),
        "limit 2 = 3 attempts"
    );
    assert_eq!(s.node("rt").children.as_ref().unwrap().len(), 3);
}

#[test]
fn a_retry_that_succeeds_takes_the_attempts_outputs() {
    let mut s = Sim::new(RETRY);
    let phase = s.run(&|l| {
        if l.node_name == "rt(0)" {
            Outcome::fail(1)
        } else {
            Outcome::result("fine")
        }
    });
    assert_eq!(phase, WorkflowPhase::Succeeded);
    assert_eq!(
        s.node("rt").outputs.as_ref().unwrap().result.as_deref(),
        Some("fine")
    );
}

const RETRY_POLICY: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rp}
spec:
  entrypoint: main
  templates:
  - name: main
    retryStrategy: {limit: 3, retryPolicy: OnError}
    container: {image: alpine, command: ["false"]}
"#;

#[test]
fn retry_policy_on_error_does_not_retry_failures() {
    let mut s = Sim::new(RETRY_POLICY);
    assert_eq!(s.run(&|_| Outcome::fail(1)), WorkflowPhase::Failed);
    assert_eq!(s.node("rp").children.as_ref().unwrap().len(), 1);
    let mut s = Sim::new(RETRY_POLICY);
    let err = Outcome {
        phase: NodePhase::Error,
        ..Outcome::fail(1)
    };
    let e2 = err.clone();
    assert_eq!(s.run(&move |_| e2.clone()), WorkflowPhase::Error);
    assert_eq!(s.node("rp").children.as_ref().unwrap().len(), 4);
}

const EXIT: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ex}
spec:
  entrypoint: main
  onExit: bye
  templates:
  - name: main
    container: {image: alpine, command: ["false"]}
  - name: bye
    container: {image: alpine, command: [echo, "{{workflow.status}} {{workflow.failures}}"]}
"#;

#[test]
fn the_exit_handler_runs_after_the_entrypoint_and_sees_its_status() {
    let mut s = Sim::new(EXIT);
    s.tick();
    s.finish_all(&|_| Outcome::fail(1));
    assert_eq!(s.launched_names(), ["ex.onExit"]);
    let cmd = harness::command(&s.launches()[0]);
    assert!(cmd[1].starts_with("Failed [{"), "{}", cmd[1]);
    assert!(cmd[1].contains("Error (exit code 1)"), "{}", cmd[1]);
    assert_eq!(s.status.phase, Some(WorkflowPhase::Running));
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(s.status.phase, Some(WorkflowPhase::Failed));
}

const SUSPEND: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: sp}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: wait, template: pause}
    - - {name: approve, template: gate}
  - name: pause
    suspend: {duration: "30s"}
  - name: gate
    suspend: {}
    outputs: {parameters: [{name: ok, valueFrom: {supplied: {}, default: "no"}}]}
"#;

#[test]
fn suspend_with_duration_wakes_up_and_manual_suspend_waits() {
    let mut s = Sim::new(SUSPEND);
    let actions = s.tick();
    assert_eq!(s.node("sp[0].wait").r#type, Some(NodeType::Suspend));
    assert_eq!(s.phase("sp[0].wait"), NodePhase::Running);
    assert!(actions.iter().any(|a| matches!(a, Action::WakeUpAt { at } if *at == harness::t0() + chrono::Duration::seconds(30))));
    s.advance(30);
    s.tick();
    assert_eq!(s.phase("sp[0].wait"), NodePhase::Succeeded);
    assert_eq!(s.phase("sp[1].approve"), NodePhase::Running);
    s.advance(3600);
    s.tick();
    assert_eq!(
        s.phase("sp[1].approve"),
        NodePhase::Running,
        "waits for a human"
    );
    assert_eq!(s.status.phase, Some(WorkflowPhase::Running));
}

const DEADLINE: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dl}
spec:
  entrypoint: main
  activeDeadlineSeconds: 60
  templates:
  - name: main
    steps:
    - - {name: a, template: t}
    - - {name: b, template: t}
  - name: t
    activeDeadlineSeconds: 10
    container: {image: alpine, command: [sleep, "100"]}
"#;

#[test]
fn deadlines_reach_steps_and_stop_the_workflow() {
    let mut s = Sim::new(DEADLINE);
    s.tick();
    let l = &s.launches()[0];
    assert_eq!(
        l.deadline,
        Some(harness::t0() + chrono::Duration::seconds(10))
    );
    s.advance(61);
    let actions = s.tick();
    // The step had not been observed running: it is failed without a stop.
    assert!(actions.iter().all(|a| !matches!(a, Action::StartStep(_))));
    assert_eq!(s.phase("dl[0].a"), NodePhase::Failed);
    assert_eq!(s.status.phase, Some(WorkflowPhase::Failed));
    assert!(!s.has("dl[1].b"));
}

#[test]
fn shutdown_stop_stops_running_steps_and_still_runs_the_exit_handler() {
    let yaml = EXIT.replace(r#"command: ["false"]"#, r#"command: [sleep, "100"]"#);
    let mut s = Sim::new(&yaml);
    s.tick();
    let id = s.launches()[0].node_id.clone();
    let mut obs = engine::plan::Observations::default();
    obs.steps.insert(
        id.clone(),
        engine::plan::StepObservation {
            phase: NodePhase::Running,
            ..Default::default()
        },
    );
    s.step(obs);
    s.wf.spec.shutdown = Some("Stop".into());
    let actions = s.tick();
    assert!(actions.iter().any(|a| matches!(a, Action::StopStep { node_id, reason } if *node_id == id && reason == "Stopped with strategy 'Stop'")));
    let mut obs = engine::plan::Observations::default();
    obs.steps.insert(
        id,
        engine::plan::StepObservation {
            phase: NodePhase::Failed,
            message: Some("terminated".into()),
            ..Default::default()
        },
    );
    s.step(obs);
    assert_eq!(s.launched_names(), ["ex.onExit"], "Stop runs exit handlers");
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(s.status.phase, Some(WorkflowPhase::Failed));
    assert_eq!(
        s.status.message.as_deref(),
        Some("Stopped with strategy 'Stop'")
    );
}

#[test]
fn terminate_skips_the_exit_handler() {
    let mut s = Sim::new(EXIT);
    s.wf.spec.shutdown = Some("Terminate".into());
    s.tick();
    assert!(s.launches().is_empty());
    assert_eq!(s.status.phase, Some(WorkflowPhase::Failed));
    assert!(!s.has("ex.onExit"));
}

const PARALLELISM: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: pl}
spec:
  entrypoint: main
  parallelism: 2
  templates:
  - name: main
    steps:
    - - {name: s, template: t, withSequence: {count: "5"}}
  - name: t
    container: {image: alpine, command: [echo]}
"#;

#[test]
fn workflow_parallelism_limits_running_steps() {
    let mut s = Sim::new(PARALLELISM);
    s.tick();
    assert_eq!(s.launches().len(), 2);
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(s.launches().len(), 2);
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(s.launches().len(), 1);
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(s.status.phase, Some(WorkflowPhase::Succeeded));
}

const RECURSE: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rc}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: again, template: main}
"#;

#[test]
fn unbounded_recursion_stops_at_the_depth_limit() {
    let mut s = Sim::new(RECURSE);
    s.tick();
    assert_eq!(s.status.phase, Some(WorkflowPhase::Failed));
    assert!(s.nodes().values().any(|n| {
        n.message
            .as_deref()
            .is_some_and(|m| m.starts_with("Maximum recursion depth exceeded"))
    }));
}

#[test]
fn a_missing_argument_errors_the_node_with_a_clear_message() {
    let yaml = HELLO.replace("arguments: {parameters: [{name: message, value: hi}]}", "");
    let mut s = Sim::new(&yaml);
    s.tick();
    assert_eq!(s.status.phase, Some(WorkflowPhase::Error));
    assert_eq!(
        s.status.message.as_deref(),
        Some("inputs.parameters.message was not supplied")
    );
}

#[test]
fn an_enum_violation_is_an_error() {
    let yaml = HELLO.replace(
        "inputs: {parameters: [{name: message}]}",
        "inputs: {parameters: [{name: message, enum: [a, b]}]}",
    );
    let mut s = Sim::new(&yaml);
    s.tick();
    assert_eq!(s.status.phase, Some(WorkflowPhase::Error));
    assert!(
        s.status
            .message
            .as_deref()
            .unwrap()
            .contains("is not one of its enum values [a, b]")
    );
}
