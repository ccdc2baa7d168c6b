use super::*;
use crate::k8s::testing::{json, now};

fn pod(status: &str) -> Pod {
    let mut v = json(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p, annotations: {workflows.argoproj.io/node-id: n}}
spec: {nodeName: node-1, containers: [{name: main}]}
"#,
    );
    v["status"] = json(status);
    serde_json::from_value(v).unwrap()
}

fn reported(phase: &str) -> Reported {
    Reported::from_object(&json(&format!(
        r#"
metadata:
  name: n
  labels: {{workflows.argoproj.io/report-outputs-completed: "true"}}
  annotations: {{trellis.dev/started-at: "2026-01-02T03:00:00Z", trellis.dev/finished-at: "2026-01-02T03:01:00Z"}}
phase: {phase}
outputs: {{result: "42", exitCode: "0"}}
"#
    )))
    .unwrap()
}

#[test]
fn no_pod_yet_tells_nothing_and_a_vanished_pod_is_an_error() {
    assert_eq!(observe(None, None, false, now()), None);
    let o = observe(None, None, true, now()).unwrap();
    assert_eq!(
        (o.phase, o.message.as_deref()),
        (NodePhase::Error, Some("pod deleted"))
    );
}

#[test]
fn a_pending_pod_says_why() {
    let p = pod(r#"
phase: Pending
containerStatuses:
- name: main
  ready: false
  restartCount: 0
  image: nope
  imageID: ""
  state: {waiting: {reason: ImagePullBackOff, message: 'Back-off pulling image "nope"'}}
"#);
    let o = observe(Some(&p), None, false, now()).unwrap();
    assert_eq!(o.phase, NodePhase::Pending);
    assert_eq!(
        o.message.as_deref(),
        Some(r#"ImagePullBackOff: Back-off pulling image "nope""#)
    );
    let unscheduled = pod(r#"
phase: Pending
conditions: [{type: PodScheduled, status: "False", message: "0/3 nodes are available: 3 Insufficient cpu."}]
"#);
    let o = observe(Some(&unscheduled), None, false, now()).unwrap();
    assert_eq!(
        o.message.as_deref(),
        Some("0/3 nodes are available: 3 Insufficient cpu.")
    );
}

#[test]
fn a_running_pod_gives_its_start_ip_and_node() {
    let p = pod("{phase: Running, podIP: 10.1.2.3, startTime: '2026-01-02T03:00:00Z'}");
    let o = observe(Some(&p), None, false, now()).unwrap();
    assert_eq!(o.phase, NodePhase::Running);
    assert_eq!(o.started_at.as_deref(), Some("2026-01-02T03:00:00Z"));
    assert_eq!(o.ip.as_deref(), Some("10.1.2.3"));
    assert_eq!(o.host_node_name.as_deref(), Some("node-1"));
}

#[test]
fn the_task_result_gives_phase_outputs_and_times() {
    let p = pod("{phase: Succeeded, startTime: '2026-01-02T02:59:59Z'}");
    let o = observe(Some(&p), Some(&reported("Succeeded")), true, now()).unwrap();
    assert_eq!(o.phase, NodePhase::Succeeded);
    assert_eq!(o.outputs.unwrap().result.as_deref(), Some("42"));
    assert_eq!(o.started_at.as_deref(), Some("2026-01-02T03:00:00Z"));
    assert_eq!(o.finished_at.as_deref(), Some("2026-01-02T03:01:00Z"));
    // Even once the Pod is gone (podGC), the result stands.
    let o = observe(None, Some(&reported("Failed")), true, now()).unwrap();
    assert_eq!(o.phase, NodePhase::Failed);
}

#[test]
fn an_ended_pod_waits_for_its_report_then_gives_up() {
    let ended = |finished: &str| {
        pod(&format!(
            r#"
phase: Succeeded
startTime: '2026-01-02T03:00:00Z'
containerStatuses:
- name: main
  ready: false
  restartCount: 0
  image: i
  imageID: ""
  state: {{terminated: {{exitCode: 0, finishedAt: '{finished}'}}}}
"#
        ))
    };
    let o = observe(Some(&ended("2026-01-02T03:04:00Z")), None, true, now()).unwrap();
    assert_eq!(o.phase, NodePhase::Running, "the report is on its way");
    let o = observe(Some(&ended("2026-01-02T03:00:00Z")), None, true, now()).unwrap();
    assert_eq!(o.phase, NodePhase::Error);
    assert!(o.message.unwrap().contains("never reported"));
}

#[test]
fn endings_exec_could_not_report_are_named() {
    let killed = pod(r#"
phase: Failed
containerStatuses:
- name: main
  ready: false
  restartCount: 0
  image: i
  imageID: ""
  state: {terminated: {exitCode: 137, reason: OOMKilled, finishedAt: '2026-01-02T03:04:00Z'}}
"#);
    let o = observe(Some(&killed), None, true, now()).unwrap();
    assert_eq!(o.phase, NodePhase::Failed);
    assert_eq!(o.message.as_deref(), Some("OOMKilled (exit code 137)"));
    assert_eq!(o.outputs.unwrap().exit_code.as_deref(), Some("137"));

    let deadline = pod(
        "{phase: Failed, reason: DeadlineExceeded, message: 'Pod was active on the node longer than the specified deadline'}",
    );
    let o = observe(Some(&deadline), None, true, now()).unwrap();
    assert_eq!(
        (o.phase, o.message.as_deref()),
        (NodePhase::Failed, Some("Step exceeded its deadline"))
    );

    let evicted =
        pod("{phase: Failed, reason: Evicted, message: 'The node was low on resource: memory.'}");
    let o = observe(Some(&evicted), None, true, now()).unwrap();
    assert_eq!(
        (o.phase, o.message.as_deref()),
        (
            NodePhase::Error,
            Some("Evicted: The node was low on resource: memory.")
        )
    );
}

#[test]
fn a_daemon_is_daemoned_once_its_main_container_is_ready() {
    let running = |ready: bool| {
        let mut p = pod(&format!(
            r#"
phase: Running
startTime: '2026-01-02T03:00:00Z'
containerStatuses:
- {{name: main, ready: {ready}, restartCount: 0, image: i, imageID: ""}}
"#
        ));
        p.metadata
            .annotations
            .get_or_insert_default()
            .insert(crate::k8s::pod::ANNOTATION_DAEMON.into(), "true".into());
        p
    };
    assert!(
        !observe(Some(&running(false)), None, true, now())
            .unwrap()
            .daemoned
    );
    assert!(
        observe(Some(&running(true)), None, true, now())
            .unwrap()
            .daemoned
    );
    let mut plain = running(true);
    plain.metadata.annotations = None;
    assert!(!observe(Some(&plain), None, true, now()).unwrap().daemoned);
}
