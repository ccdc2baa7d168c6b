//! Table-driven tests of `engine::plan` for `memoize` (the cache entry a step launch carries and
//! a hit reported back) and `synchronization` (the locks a step or workflow asks for).

#[path = "plan/harness.rs"]
mod harness;

use engine::model::{NodePhase, Outputs, WorkflowPhase};
use engine::plan::{Memo, Observations, StepObservation};
use harness::{Outcome, Sim};

const MEMO: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: mz}
spec:
  entrypoint: main
  arguments: {parameters: [{name: message, value: hi}]}
  templates:
  - name: main
    steps:
    - - name: say
        template: say
        arguments: {parameters: [{name: m, value: "{{workflow.parameters.message}}"}]}
    - - name: after
        template: echo
        arguments: {parameters: [{name: m, value: "{{steps.say.outputs.result}}"}]}
  - name: say
    inputs: {parameters: [{name: m}]}
    memoize:
      key: "say-{{inputs.parameters.m}}"
      maxAge: 10m
      cache: {configMap: {name: say-cache}}
    container: {image: alpine, command: [echo, "{{inputs.parameters.m}}"]}
  - name: echo
    inputs: {parameters: [{name: m}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.m}}"]}
"#;

#[test]
fn a_memoized_step_carries_its_rendered_cache_entry() {
    let mut s = Sim::new(MEMO);
    s.tick();
    let launch = &s.launches()[0];
    assert_eq!(
        launch.memo,
        Some(Memo {
            cache: "say-cache".into(),
            key: "say-hi".into(),
            max_age_seconds: Some(600),
        })
    );
    let status = s
        .node("mz[0].say")
        .memoization_status
        .clone()
        .expect("status");
    assert_eq!(status.hit, Some(false));
    assert_eq!(status.key.as_deref(), Some("say-hi"));
    assert_eq!(status.cache_name.as_deref(), Some("say-cache"));
    // A miss runs the step like any other.
    s.finish_all(&|_| Outcome::result("hi"));
    assert_eq!(s.launched_names(), ["mz[1].after"]);
    assert_eq!(
        s.node("mz[0].say")
            .memoization_status
            .as_ref()
            .and_then(|m| m.hit),
        Some(false)
    );
}

#[test]
fn a_cache_hit_succeeds_with_the_cached_outputs() {
    let mut s = Sim::new(MEMO);
    s.tick();
    let id = s.launches()[0].node_id.clone();
    let mut obs = Observations::default();
    obs.steps.insert(
        id,
        StepObservation {
            phase: NodePhase::Succeeded,
            outputs: Some(Outputs {
                result: Some("cached".into()),
                ..Default::default()
            }),
            memo_hit: true,
            ..Default::default()
        },
    );
    s.step(obs);
    let say = s.node("mz[0].say");
    assert_eq!(say.phase, Some(NodePhase::Succeeded));
    assert_eq!(
        say.memoization_status.as_ref().and_then(|m| m.hit),
        Some(true)
    );
    let after = &s.launches()[0];
    assert_eq!(harness::command(after), ["echo", "cached"]);
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(s.status.phase, Some(WorkflowPhase::Succeeded));
}

#[test]
fn a_memoize_without_a_cache_name_errors_the_step() {
    let yaml = MEMO.replace(
        "cache: {configMap: {name: say-cache}}",
        "cache: {configMap: {name: \"\"}}",
    );
    let mut s = Sim::new(&yaml);
    s.tick();
    assert_eq!(s.phase("mz[0].say"), NodePhase::Error);
    let msg = s.node("mz[0].say").message.clone().unwrap_or_default();
    assert!(msg.contains("memoize.cache.configMap.name"), "{msg}");
}

const SYNC: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: sy, namespace: team}
spec:
  entrypoint: main
  synchronization:
    mutexes: [{name: deploy}]
    semaphores: [{configMapKeyRef: {name: limits, key: workflow}}]
  templates:
  - name: main
    synchronization:
      semaphores: [{configMapKeyRef: {name: limits, key: template}}]
      mutexes: [{name: db, namespace: shared}]
    container: {image: alpine, command: ["true"]}
"#;

fn limits(pairs: &[(&str, &str)]) -> harness::Templates {
    harness::Templates {
        config: pairs
            .iter()
            .map(|(k, v)| ("limits".to_string(), k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

#[test]
fn a_step_asks_for_its_mutexes_and_semaphores_with_the_config_map_limit() {
    let mut s = Sim::with_templates(SYNC, &limits(&[("template", "3"), ("workflow", "2")]));
    s.tick();
    let locks = &s.launches()[0].locks;
    let got: Vec<(&str, u32)> = locks.iter().map(|l| (l.key.as_str(), l.limit)).collect();
    assert_eq!(
        got,
        [
            ("shared/mutex/db", 1),
            ("team/semaphore/limits/template", 3)
        ]
    );
}

#[test]
fn the_workflow_holds_its_own_locks() {
    let s = Sim::with_templates(SYNC, &limits(&[("template", "3"), ("workflow", "2")]));
    let locks = engine::plan::workflow_locks(&s.wf).expect("locks");
    let got: Vec<(&str, u32)> = locks.iter().map(|l| (l.key.as_str(), l.limit)).collect();
    assert_eq!(
        got,
        [
            ("team/mutex/deploy", 1),
            ("team/semaphore/limits/workflow", 2)
        ]
    );
}

#[test]
fn a_semaphore_without_its_limit_errors_with_how_to_fix_it() {
    let mut s = Sim::with_templates(SYNC, &limits(&[("workflow", "many")]));
    s.tick();
    let msg = s.node("sy").message.clone().unwrap_or_default();
    assert_eq!(s.phase("sy"), NodePhase::Error);
    assert!(
        msg.contains("ConfigMap \"limits\" has no key \"template\""),
        "{msg}"
    );
    let err = engine::plan::workflow_locks(&s.wf).unwrap_err();
    assert!(err.contains("\"many\", not a limit"), "{err}");
}
