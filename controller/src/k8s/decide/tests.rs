use super::*;
use crate::k8s::testing::{NoTemplates, json, now, object};

const HELLO: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: hello}
spec:
  entrypoint: main
  podGC: {strategy: OnPodCompletion}
  templates:
  - name: main
    container: {image: busybox, command: [echo, hi]}
"#;

/// A workflow of 300 steps in one group.
const WIDE: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wide}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: each
        template: echo
        withSequence: {count: "300"}
  - name: echo
    container: {image: busybox, command: [echo, hi]}
"#;

/// One reconcile of a new workflow with these settings.
fn sized(object: &serde_json::Value, settings: &Settings) -> Decision {
    decide(&Inputs {
        object,
        pods: &[],
        results: &BTreeMap::new(),
        templates: &NoTemplates,
        refused: &BTreeMap::new(),
        settings,
        now: now(),
    })
}

/// One reconcile against these Pods and task results.
fn run(
    object: &serde_json::Value,
    pods: &[Arc<Pod>],
    results: &BTreeMap<String, Reported>,
    at: DateTime<Utc>,
) -> Decision {
    decide(&Inputs {
        object,
        pods,
        results,
        templates: &NoTemplates,
        refused: &BTreeMap::new(),
        settings: &Settings::default(),
        now: at,
    })
}

/// The object after the decision's status was written.
fn written(object: &serde_json::Value, d: &Decision) -> serde_json::Value {
    let mut o = object.clone();
    if let Some(s) = &d.status {
        o["status"] = serde_json::to_value(s).unwrap();
    }
    o
}

fn with_status(pod: &Pod, status: &str) -> Arc<Pod> {
    let mut p = pod.clone();
    p.status = serde_json::from_value(json(status)).unwrap();
    Arc::new(p)
}

fn result(node: &str, phase: &str) -> BTreeMap<String, Reported> {
    let r = Reported::from_object(&json(&format!(
        r#"
metadata:
  name: {node}
  labels: {{workflows.argoproj.io/report-outputs-completed: "true"}}
  annotations: {{trellis.dev/started-at: "2026-01-02T03:04:05Z", trellis.dev/finished-at: "2026-01-02T03:04:06Z"}}
phase: {phase}
outputs: {{result: hi, exitCode: "0"}}
"#
    )))
    .unwrap();
    BTreeMap::from([(node.to_string(), r)])
}

fn phase(d: &Decision) -> Option<WorkflowPhase> {
    d.status.as_ref().and_then(|s| s.phase)
}

#[test]
fn a_workflow_goes_from_new_to_succeeded_through_its_pod() {
    let o = object(HELLO);
    let d = run(&o, &[], &BTreeMap::new(), now());
    assert_eq!(phase(&d), Some(WorkflowPhase::Running));
    assert_eq!(d.create.len(), 1);
    let pod = d.create[0].clone();
    assert_eq!(pod.metadata.name.as_deref(), Some("hello"));
    let o = written(&o, &d);

    // The Pod exists, pending: nothing to create again, nothing to write.
    let pending = with_status(&pod, "{phase: Pending}");
    let d = run(&o, std::slice::from_ref(&pending), &BTreeMap::new(), now());
    assert!(d.create.is_empty(), "{:?}", d.create);

    // Running.
    let running = with_status(&pod, "{phase: Running, startTime: '2026-01-02T03:04:05Z'}");
    let d = run(&o, std::slice::from_ref(&running), &BTreeMap::new(), now());
    let node = &d.status.as_ref().unwrap().nodes.as_ref().unwrap()["hello"];
    assert_eq!(node.phase, Some(NodePhase::Running));
    assert!(d.delete_pods.is_empty());
    let o = written(&o, &d);

    // The task result arrives: the workflow succeeds with the step's outputs, and podGC
    // deletes the Pod now that the written status says its node is done.
    let done = with_status(&pod, "{phase: Succeeded}");
    let d = run(
        &o,
        std::slice::from_ref(&done),
        &result("hello", "Succeeded"),
        now(),
    );
    assert_eq!(phase(&d), Some(WorkflowPhase::Succeeded));
    let node = &d.status.as_ref().unwrap().nodes.as_ref().unwrap()["hello"];
    assert_eq!(node.outputs.as_ref().unwrap().result.as_deref(), Some("hi"));
    assert_eq!(d.delete_pods, ["hello"]);
    assert!(d.create.is_empty());
}

#[test]
fn a_misspelt_key_errors_the_workflow_before_anything_runs() {
    let o = object(&HELLO.replace("entrypoint: main", "entrypoint: main\n  paralelism: 2"));
    let d = run(&o, &[], &BTreeMap::new(), now());
    assert!(d.create.is_empty());
    assert_eq!(phase(&d), Some(WorkflowPhase::Error));
    let message = d.status.unwrap().message.unwrap();
    assert!(message.contains("paralelism"), "{message}");
    assert!(message.contains("parallelism"), "a suggestion: {message}");
}

#[test]
fn an_unresolvable_reference_errors_the_workflow_once() {
    let o = object(&HELLO.replace(
        "    container: {image: busybox, command: [echo, hi]}",
        "    steps: [[{name: a, templateRef: {name: missing, template: x}}]]",
    ));
    let d = run(&o, &[], &BTreeMap::new(), now());
    assert_eq!(phase(&d), Some(WorkflowPhase::Error));
    assert!(
        d.status
            .as_ref()
            .unwrap()
            .message
            .as_ref()
            .unwrap()
            .contains("missing")
    );
    // Written once: the next reconcile changes nothing.
    let again = run(&written(&o, &d), &[], &BTreeMap::new(), now());
    assert_eq!(again, Decision::default());
}

#[test]
fn a_step_that_cannot_be_a_pod_errors_and_is_retried_by_its_strategy() {
    let o = object(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: set}
spec:
  entrypoint: main
  templates:
  - name: main
    retryStrategy: {limit: 2, retryPolicy: Always}
    synchronization: {mutex: {name: one-at-a-time}}
    container: {image: alpine, command: [sh, -c, "true"]}
"#,
    );
    let d = run(&o, &[], &BTreeMap::new(), now());
    assert!(d.create.is_empty());
    let status = d.status.unwrap();
    assert_eq!(status.phase, Some(WorkflowPhase::Error), "{status:?}");
    let attempts = status
        .nodes
        .unwrap()
        .values()
        .filter(|n| n.r#type != Some(NodeType::Retry))
        .inspect(|n| assert!(n.message.as_deref().unwrap().contains("synchronization")))
        .count();
    assert_eq!(attempts, 3, "the first attempt and two retries");
}

#[test]
fn a_pod_the_api_refused_errors_its_step() {
    let o = object(HELLO);
    let d = run(&o, &[], &BTreeMap::new(), now());
    let o = written(&o, &d);
    let refused = BTreeMap::from([(
        "hello".to_string(),
        "cannot create pod: exceeded quota".to_string(),
    )]);
    let d = decide(&Inputs {
        object: &o,
        pods: &[],
        results: &BTreeMap::new(),
        templates: &NoTemplates,
        refused: &refused,
        settings: &Settings::default(),
        now: now(),
    });
    let status = d.status.unwrap();
    assert_eq!(status.phase, Some(WorkflowPhase::Error));
    let node = &status.nodes.unwrap()["hello"];
    assert_eq!(
        node.message.as_deref(),
        Some("cannot create pod: exceeded quota")
    );
    assert!(d.create.is_empty());
}

#[test]
fn stopping_a_workflow_stops_its_running_pod() {
    let o = object(HELLO);
    let d = run(&o, &[], &BTreeMap::new(), now());
    let pod = d.create[0].clone();
    let running = with_status(&pod, "{phase: Running, startTime: '2026-01-02T03:04:05Z'}");
    let d = run(
        &written(&o, &d),
        std::slice::from_ref(&running),
        &BTreeMap::new(),
        now(),
    );
    let mut o = written(&o, &d);
    o["spec"]["shutdown"] = "Stop".into();
    let d = run(&o, std::slice::from_ref(&running), &BTreeMap::new(), now());
    assert_eq!(d.stop, ["hello"]);
    // Once stopped (its deadline cut to 1 s) it is not stopped again.
    let mut cut = (*running).clone();
    cut.spec.as_mut().unwrap().active_deadline_seconds = Some(1);
    let d = run(&written(&o, &d), &[Arc::new(cut)], &BTreeMap::new(), now());
    assert!(d.stop.is_empty());
}

#[test]
fn a_deleted_running_pod_errors_its_step() {
    let o = object(HELLO);
    let d = run(&o, &[], &BTreeMap::new(), now());
    let pod = d.create[0].clone();
    let running = with_status(&pod, "{phase: Running, startTime: '2026-01-02T03:04:05Z'}");
    let d = run(&written(&o, &d), &[running], &BTreeMap::new(), now());
    let o = written(&o, &d);
    let d = run(&o, &[], &BTreeMap::new(), now());
    let status = d.status.unwrap();
    assert_eq!(status.phase, Some(WorkflowPhase::Error));
    assert_eq!(
        status.nodes.unwrap()["hello"].message.as_deref(),
        Some("pod deleted")
    );
}

#[test]
fn a_finished_workflow_is_deleted_when_its_ttl_runs_out() {
    let mut o = object(&HELLO.replace(
        "  podGC: {strategy: OnPodCompletion}",
        "  ttlStrategy: {secondsAfterCompletion: 60}\n  podGC: {strategy: OnWorkflowSuccess}",
    ));
    o["status"] = json(
        "{phase: Succeeded, startedAt: '2026-01-02T03:00:00Z', finishedAt: '2026-01-02T03:04:00Z'}",
    );
    let pod = Arc::new(Pod {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("hello".into()),
            ..Default::default()
        },
        ..Pod::default()
    });
    let d = run(&o, std::slice::from_ref(&pod), &BTreeMap::new(), now());
    assert!(!d.delete_workflow);
    assert_eq!(d.requeue_at, Some(now() + chrono::Duration::seconds(55)));
    assert_eq!(d.delete_pods, ["hello"], "OnWorkflowSuccess");
    assert!(
        d.status.is_none(),
        "a finished workflow is not planned again"
    );
    let later = run(
        &o,
        &[],
        &BTreeMap::new(),
        now() + chrono::Duration::seconds(55),
    );
    assert!(later.delete_workflow);
}

#[test]
fn a_status_too_large_for_the_api_is_compressed() {
    let o = object(WIDE);
    let settings = Settings {
        max_workflow_size: 20_000,
        ..Settings::default()
    };
    let d = sized(&o, &settings);
    assert_eq!(d.create.len(), 300);
    let status = d.status.unwrap();
    assert!(status.nodes.is_none());
    let mut read = status.clone();
    compress::decompress(&mut read).unwrap();
    assert_eq!(
        read.nodes.unwrap().len(),
        302,
        "the root, its group and 300 steps"
    );
    // The next reconcile reads the compressed nodes back: nothing is created twice.
    let mut o2 = o.clone();
    o2["status"] = serde_json::to_value(&status).unwrap();
    let pods: Vec<Arc<Pod>> = d
        .create
        .iter()
        .map(|p| with_status(p, "{phase: Pending}"))
        .collect();
    let again = decide(&Inputs {
        object: &o2,
        pods: &pods,
        results: &BTreeMap::new(),
        templates: &NoTemplates,
        refused: &BTreeMap::new(),
        settings: &settings,
        now: now(),
    });
    assert!(again.create.is_empty());
}

#[test]
fn the_workflow_deadline_is_the_pods_and_a_pod_past_it_fails_the_workflow() {
    let mut o = object(&HELLO.replace(
        "  podGC: {strategy: OnPodCompletion}\n",
        "  activeDeadlineSeconds: 30\n",
    ));
    let d = run(&o, &[], &BTreeMap::new(), now());
    let pod = d.create[0].clone();
    assert_eq!(pod.spec.as_ref().unwrap().active_deadline_seconds, Some(30));
    o = written(&o, &d);
    let killed = with_status(
        &pod,
        "{phase: Failed, reason: DeadlineExceeded, startTime: '2026-01-02T03:04:05Z'}",
    );
    let d = run(
        &o,
        &[killed],
        &BTreeMap::new(),
        now() + chrono::Duration::seconds(31),
    );
    let status = d.status.unwrap();
    assert_eq!(status.phase, Some(WorkflowPhase::Failed));
    assert_eq!(
        status.nodes.unwrap()["hello"].message.as_deref(),
        Some("Step exceeded its deadline")
    );
}

#[test]
fn a_ready_daemon_lets_the_next_step_start_and_is_stopped_when_the_workflow_ends() {
    let o = object(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: d}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: server, template: server}
    - - {name: client, template: client}
  - name: server
    daemon: true
    container: {image: alpine, command: [sleep, "300"]}
  - name: client
    container: {image: alpine, command: ["true"]}
"#,
    );
    let d = run(&o, &[], &BTreeMap::new(), now());
    let server = d.create[0].clone();
    assert_eq!(
        server.metadata.annotations.as_ref().unwrap()[crate::k8s::pod::ANNOTATION_DAEMON],
        "true"
    );
    let o = written(&o, &d);
    let ready = with_status(
        &server,
        "{phase: Running, startTime: '2026-01-02T03:04:05Z', containerStatuses: [{name: main, ready: true, restartCount: 0, image: alpine, imageID: ''}]}",
    );
    let d = run(&o, std::slice::from_ref(&ready), &BTreeMap::new(), now());
    assert_eq!(d.create.len(), 1, "the client starts while the daemon runs");
    let client = d.create[0].clone();
    let client_node = node_of(&client).unwrap().to_string();
    let o = written(&o, &d);
    let done = with_status(&client, "{phase: Succeeded}");
    let d = run(
        &o,
        &[ready.clone(), done.clone()],
        &result(&client_node, "Succeeded"),
        now(),
    );
    let o = written(&o, &d);
    let d = if o["status"]["phase"] == "Succeeded" {
        run(
            &o,
            &[ready, done],
            &result(&client_node, "Succeeded"),
            now(),
        )
    } else {
        d
    };
    assert_eq!(
        d.stop,
        [server.metadata.name.clone().unwrap()],
        "{:?}",
        o["status"]
    );
}

#[test]
fn stopping_a_pod_no_kubelet_has_started_deletes_it() {
    let o = object(HELLO);
    let d = run(&o, &[], &BTreeMap::new(), now());
    let pod = d.create[0].clone();
    let mut o = written(&o, &d);
    o["spec"]["shutdown"] = "Terminate".into();
    let unscheduled = with_status(&pod, "{phase: Pending}");
    let d = run(&o, &[unscheduled], &BTreeMap::new(), now());
    assert_eq!(d.delete_pods, ["hello"]);
    assert!(d.stop.is_empty());
    let status = d.status.unwrap();
    assert_eq!(status.phase, Some(WorkflowPhase::Failed));
    assert_eq!(
        status.nodes.unwrap()["hello"].phase,
        Some(NodePhase::Failed)
    );
}

#[test]
fn a_status_too_large_even_compressed_errors_without_its_nodes() {
    let o = object(WIDE);
    let settings = Settings {
        max_workflow_size: 2_000,
        ..Settings::default()
    };
    let d = sized(&o, &settings);
    let status = d.status.unwrap();
    assert_eq!(status.phase, Some(WorkflowPhase::Error));
    assert!(status.message.unwrap().contains("too large"));
    assert!(status.nodes.is_none() && status.compressed_nodes.is_none());
}
