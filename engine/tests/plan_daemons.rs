//! Table-driven tests of `engine::plan` for daemon steps (`daemon: true`): a daemon that is up
//! lets the steps after it start, its address is `{{steps.NAME.ip}}`, and it is stopped (and
//! Succeeded) when the Steps or DAG node that started it ends.

#[path = "plan/harness.rs"]
mod harness;

use engine::model::{NodePhase, WorkflowPhase};
use engine::plan::Action;
use harness::{Outcome, Sim};

const STEPS: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dm}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: db, template: server}
    - - name: use
        template: client
        arguments: {parameters: [{name: ip, value: "{{steps.db.ip}}"}]}
  - name: server
    daemon: true
    container: {image: influxdb, command: [influxd]}
  - name: client
    inputs: {parameters: [{name: ip}]}
    container: {image: curl, command: [curl, "http://{{inputs.parameters.ip}}:8086/ping"]}
"#;

fn stops(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::StopStep { node_id, .. } => Some(node_id.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_daemon_that_is_up_lets_the_next_group_start_with_its_ip() {
    let mut s = Sim::new(STEPS);
    s.tick();
    assert_eq!(s.launched_names(), ["dm[0].db"]);
    s.running("dm[0].db", false, Some("10.1.2.3"));
    assert!(
        s.launched_names().is_empty(),
        "a daemon that is not ready yet holds its group back"
    );
    assert_eq!(s.node("dm[0].db").daemoned, None);
    s.running("dm[0].db", true, Some("10.1.2.3"));
    assert_eq!(s.node("dm[0].db").daemoned, Some(true));
    assert_eq!(s.phase("dm[0].db"), NodePhase::Running);
    assert_eq!(s.phase("dm[0]"), NodePhase::Succeeded, "the group goes on");
    let use_step = &s.launches()[0];
    assert_eq!(use_step.node_name, "dm[1].use");
    assert_eq!(
        harness::command(use_step),
        ["curl", "http://10.1.2.3:8086/ping"]
    );
}

#[test]
fn the_daemon_is_stopped_and_succeeds_when_its_steps_end() {
    let mut s = Sim::new(STEPS);
    s.tick();
    s.running("dm[0].db", true, Some("10.1.2.3"));
    let db = s.node("dm[0].db").id.clone().expect("an id");
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(
        stops(&s.last_actions),
        [db],
        "the daemon's process is stopped"
    );
    assert_eq!(s.phase("dm[0].db"), NodePhase::Succeeded);
    assert_eq!(s.node("dm[0].db").daemoned, None);
    assert!(s.node("dm[0].db").finished_at.is_some());
    assert_eq!(s.status.phase, Some(WorkflowPhase::Succeeded));
    // What the stopped process reports afterwards changes nothing.
    s.ended("dm[0].db", NodePhase::Failed, "terminated");
    assert_eq!(s.phase("dm[0].db"), NodePhase::Succeeded);
}

#[test]
fn a_daemon_that_exits_fails_its_step() {
    let mut s = Sim::new(STEPS);
    s.tick();
    s.ended("dm[0].db", NodePhase::Failed, "the daemon exited");
    assert_eq!(s.phase("dm[0].db"), NodePhase::Failed);
    assert_eq!(s.status.phase, Some(WorkflowPhase::Failed));
    assert!(!s.has("dm[1].use"));
}

#[test]
fn a_failed_step_beside_a_daemon_still_stops_it() {
    let mut s = Sim::new(STEPS);
    s.tick();
    s.running("dm[0].db", true, Some("10.1.2.3"));
    s.finish_all(&|_| Outcome::fail(2));
    assert_eq!(s.status.phase, Some(WorkflowPhase::Failed));
    assert_eq!(s.phase("dm[0].db"), NodePhase::Succeeded);
    assert_eq!(stops(&s.last_actions).len(), 1);
}

const DAG: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dd}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: db, template: server}
      - {name: a, template: client, depends: db, arguments: {parameters: [{name: ip, value: "{{tasks.db.ip}}"}]}}
      - {name: b, template: client, depends: db.Daemoned, arguments: {parameters: [{name: ip, value: "{{tasks.db.ip}}"}]}}
  - name: server
    daemon: true
    retryStrategy: {limit: 2}
    container: {image: nginx, command: [nginx]}
  - name: client
    inputs: {parameters: [{name: ip}]}
    container: {image: curl, command: [curl, "{{inputs.parameters.ip}}"]}
"#;

#[test]
fn dag_tasks_depend_on_a_daemon_and_the_dag_ends_it() {
    let mut s = Sim::new(DAG);
    s.tick();
    assert_eq!(s.launched_names(), ["dd.db(0)"]);
    s.running("dd.db(0)", true, Some("10.9.9.9"));
    assert_eq!(s.node("dd.db").daemoned, Some(true), "the retry node too");
    let mut names = s.launched_names();
    names.sort();
    assert_eq!(names, ["dd.a", "dd.b"]);
    assert!(
        s.launches()
            .iter()
            .all(|l| harness::command(l) == ["curl", "10.9.9.9"])
    );
    s.finish_all(&|_| Outcome::ok());
    assert_eq!(s.status.phase, Some(WorkflowPhase::Succeeded));
    assert_eq!(s.phase("dd.db"), NodePhase::Succeeded);
    assert_eq!(s.phase("dd.db(0)"), NodePhase::Succeeded);
    let attempt = s.node("dd.db(0)").id.clone().expect("an id");
    assert_eq!(stops(&s.last_actions), [attempt], "one process to stop");
}

#[test]
fn a_daemon_entrypoint_ends_the_workflow_once_it_is_up() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: solo}
spec:
  entrypoint: server
  templates:
  - name: server
    daemon: true
    container: {image: nginx, command: [nginx]}
"#;
    let mut s = Sim::new(yaml);
    s.tick();
    s.running("solo", true, None);
    assert_eq!(s.status.phase, Some(WorkflowPhase::Succeeded));
    assert_eq!(stops(&s.last_actions).len(), 1);
}
