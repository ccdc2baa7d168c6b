//! The Kubernetes backend end to end, through the genuine Kubernetes API protocol: the real
//! `trellis controller` binary against an API server emulator (list/watch with
//! resourceVersions, the status subresource, owner references and garbage collection) and a fake
//! kubelet that runs each Pod's containers on this machine — so Argo's examples go from a
//! `kubectl create`-style POST of the Workflow to Succeeded with Pods, `trellis exec` and
//! WorkflowTaskResults doing the work.

#[path = "common/cluster.rs"]
mod cluster;
#[path = "common/kube_api.rs"]
mod kube_api;
#[path = "common/kubelet.rs"]
mod kubelet;

use std::time::{Duration, Instant};

use cluster::*;
use serde_json::{Value, json};

/// Argo examples with container steps only (no artifacts, sidecars, volumes, ConfigMaps or
/// templates of other files): steps, DAGs, parameters, loops, conditions, retries, exit
/// handlers, expressions, podSpecPatch, `continueOn`.
const EXAMPLES: &[&str] = &[
    "hello-world.yaml",
    "k8s-owner-reference.yaml",
    "k8s-patch-json-pod.yaml",
    "k8s-patch-merge-pod.yaml",
    "k8s-patch-pod.yaml",
    "arguments-parameters.yaml",
    "conditionals.yaml",
    "container-set-template/graph-workflow.yaml",
    "container-set-template/outputs-result-workflow.yaml",
    "container-set-template/parallel-workflow.yaml",
    "container-set-template/sequence-workflow.yaml",
    "dag-custom-metrics.yaml",
    "dag-diamond-steps.yaml",
    "dag-diamond.yaml",
    "dag-enhanced-depends.yaml",
    "dag-inline-workflow.yaml",
    "dag-multiroot.yaml",
    "dag-targets.yaml",
    "default-pdb-support.yaml",
    "dns-config.yaml",
    "exit-code-output-variable.yaml",
    "exit-handler-step-level.yaml",
    "expression-tag-template-workflow.yaml",
    "global-parameters.yaml",
    "label-value-from-workflow.yaml",
    "loops.yaml",
    "output-parameter.yaml",
    "parameter-aggregation-dag.yaml",
    "pod-spec-patch.yaml",
    "pod-spec-yaml-patch.yaml",
    "retry-container.yaml",
    "skipped-output-defaults/consumer-input-default.yaml",
    "skipped-output-defaults/expression-fallback.yaml",
    "skipped-output-defaults/producer-output-default.yaml",
    "status-reference.yaml",
    "steps-inline-workflow.yaml",
    "steps.yaml",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argo_examples_run_to_succeeded_through_the_kubernetes_api() {
    let cluster = Cluster::start().await;
    let (names, failures) = cluster.run_examples(EXAMPLES).await;
    println!(
        "{}/{} examples Succeeded on the Kubernetes backend",
        names.len() - failures.len(),
        names.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(names.len() >= 20);

    // Every step ran as a Pod owned by its workflow, reported through a WorkflowTaskResult.
    let pods = cluster.api.list("pods", "default");
    let results = cluster
        .api
        .list("argoproj.io/workflowtaskresults", "default");
    assert!(pods.len() >= names.len(), "{} pods", pods.len());
    for p in &pods {
        let owner = &p["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], "Workflow", "{}", p["metadata"]["name"]);
        let node = p["metadata"]["annotations"]["workflows.argoproj.io/node-id"]
            .as_str()
            .unwrap();
        assert!(
            results.iter().any(|r| r["metadata"]["name"] == node),
            "no task result for {node}"
        );
    }
    // What the steps printed and returned came back through the task results.
    for (_, name) in &names {
        let wf = cluster.api.get(WORKFLOWS, "default", name).unwrap();
        for (id, n) in wf["status"]["nodes"].as_object().unwrap() {
            if n["type"] == "Pod" && n["phase"] == "Succeeded" {
                assert_eq!(n["outputs"]["exitCode"], "0", "{name} {id}");
            }
        }
    }
    // The patch examples patched their own step's Pod.
    for (file, name) in names.iter().filter(|(f, _)| f.starts_with("k8s-patch")) {
        let pod = pods
            .iter()
            .find(|p| p["metadata"]["labels"]["workflows.argoproj.io/workflow"] == name.as_str())
            .unwrap();
        assert_eq!(pod["metadata"]["annotations"]["foo"], "bar", "{file}");
    }
    let hello = &names
        .iter()
        .find(|(f, _)| *f == "hello-world.yaml")
        .unwrap()
        .1;
    let log = reqwest::get(format!(
        "{}/api/v1/namespaces/default/pods/{hello}/log",
        cluster.url
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(log.contains("hello world"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_deadlines_stops_and_misspelt_keys_end_as_argo_says() {
    let cluster = Cluster::start().await;
    let failing = cluster
        .create(shell("failing", "echo no >&2; exit 3", ""))
        .await;
    let slow = cluster
        .create(shell("slow", "sleep 60", "  activeDeadlineSeconds: 2\n"))
        .await;
    let stopped = cluster.create(shell("stopped", "sleep 60", "")).await;
    let mut typo = shell("typo", "true", "");
    typo["spec"]["paralelism"] = 1.into();
    let typo = cluster.create(typo).await;

    let set = engine::yaml::to_json(
        &engine::yaml::parse_stream(
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: set-fails}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    containerSet:\n      containers:\n      - {name: a, image: alpine, command: [sh, -c, 'exit 4']}\n      - {name: b, image: alpine, command: [sh, -c, 'echo never'], dependencies: [a]}\n",
        )
        .unwrap()[0],
    );
    let set = cluster.create(set).await;
    let wf = cluster.finished(&set).await;
    assert_eq!(wf["status"]["phase"], "Failed", "{}", wf["status"]);
    assert!(
        node_messages(&wf)
            .iter()
            .any(|m| m.contains("container b did not run: container a did not succeed")),
        "{:?}",
        node_messages(&wf)
    );

    let wf = cluster.finished(&failing).await;
    assert_eq!(wf["status"]["phase"], "Failed");
    assert!(
        node_messages(&wf).iter().any(|m| m.contains("exit code 3")),
        "{:?}",
        node_messages(&wf)
    );

    let wf = cluster.finished(&slow).await;
    assert_eq!(wf["status"]["phase"], "Failed", "{}", wf["status"]);

    // `argo stop` sets spec.shutdown: the running Pod is stopped, the workflow fails.
    cluster
        .until(&stopped, |wf| {
            wf["status"]["nodes"]["stopped"]["phase"] == "Running"
        })
        .await;
    let client = reqwest::Client::new();
    let resp = client
        .patch(format!(
            "{}/apis/argoproj.io/v1alpha1/namespaces/default/workflows/{stopped}",
            cluster.url
        ))
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"spec": {"shutdown": "Stop"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let wf = cluster.finished(&stopped).await;
    assert_eq!(wf["status"]["phase"], "Failed", "{}", wf["status"]);
    let pod = cluster.api.get("pods", "default", &stopped).unwrap();
    assert_eq!(
        pod["spec"]["activeDeadlineSeconds"], 1,
        "stopped by cutting its deadline"
    );

    let wf = cluster.finished(&typo).await;
    assert_eq!(wf["status"]["phase"], "Error");
    let message = wf["status"]["message"].as_str().unwrap();
    assert!(message.contains("paralelism"), "{message}");
    assert!(
        cluster.api.get("pods", "default", &typo).is_none(),
        "nothing ran"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_found_by_reference_and_deletion_collects_pods() {
    let cluster = Cluster::start().await;
    let text =
        std::fs::read_to_string(examples_dir().join("workflow-template/templates.yaml")).unwrap();
    for t in engine::yaml::parse_stream(&text)
        .unwrap()
        .iter()
        .map(engine::yaml::to_json)
    {
        let resp = cluster
            .post(
                "/apis/argoproj.io/v1alpha1/namespaces/default/workflowtemplates",
                &t,
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    let mut names = Vec::new();
    for file in [
        "workflow-template/hello-world.yaml",
        "workflow-template/steps.yaml",
        "workflow-template/dag.yaml",
    ] {
        for wf in workflows_of(file) {
            names.push(cluster.create(wf).await);
        }
    }
    for name in &names {
        let wf = cluster.finished(name).await;
        assert_eq!(wf["status"]["phase"], "Succeeded", "{name}: {}", why(&wf));
    }
    // Deleting a workflow deletes its Pods and task results (owner references).
    let name = &names[0];
    let resp = reqwest::Client::new()
        .delete(format!(
            "{}/apis/argoproj.io/v1alpha1/namespaces/default/workflows/{name}",
            cluster.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let owned =
        |v: &Value| v["metadata"]["labels"]["workflows.argoproj.io/workflow"] == name.as_str();
    assert!(!cluster.api.list("pods", "default").iter().any(owned));
    assert!(
        !cluster
            .api
            .list("argoproj.io/workflowtaskresults", "default")
            .iter()
            .any(owned)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_replica_takes_over_when_the_leader_goes() {
    let mut cluster = Cluster::start().await;
    // The cluster's first controller runs without election; replace it by two electing ones.
    cluster.controllers.clear();
    cluster.start_controller(&[], "leader.log");
    let lease = "coordination.k8s.io/leases";
    let start = Instant::now();
    while cluster
        .api
        .get(lease, "default", "trellis-controller")
        .is_none()
    {
        assert!(start.elapsed() < TIMEOUT, "no lease was taken");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster.start_controller(&[], "standby.log");
    let first = cluster.create(shell("first", "true", "")).await;
    assert_eq!(
        cluster.finished(&first).await["status"]["phase"],
        "Succeeded"
    );
    let holder = |c: &Cluster| {
        c.api.get(lease, "default", "trellis-controller").unwrap()["spec"]["holderIdentity"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let leader = holder(&cluster);
    // The leader goes away (killed: it cannot release anything); the standby waits out the lease.
    let mut old = cluster.controllers.remove(0);
    old.kill().await.unwrap();
    let second = cluster.create(shell("second", "true", "")).await;
    assert_eq!(
        cluster.finished(&second).await["status"]["phase"],
        "Succeeded"
    );
    assert_ne!(holder(&cluster), leader, "the standby holds the lease now");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_runs_beside_the_next_step_and_is_stopped_at_the_end() {
    let cluster = Cluster::start().await;
    let wf = engine::yaml::to_json(
        &engine::yaml::parse_stream(
            r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: daemon}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: server, template: server}
    - - {name: client, template: client}
  - name: server
    daemon: true
    container: {image: alpine, command: [sh, -c, "sleep 300"]}
  - name: client
    container: {image: alpine, command: [sh, -c, "echo served"]}
"#,
        )
        .unwrap()[0],
    );
    let name = cluster.create(wf).await;
    let wf = cluster.finished(&name).await;
    assert_eq!(wf["status"]["phase"], "Succeeded", "{}", why(&wf));
    // Stopped once the workflow ended: its deadline cut to 1 s, then ended by the kubelet.
    let start = Instant::now();
    loop {
        let server = cluster
            .api
            .list("pods", "default")
            .into_iter()
            .find(|p| p["metadata"]["annotations"]["trellis.dev/daemon"] == "true")
            .expect("the daemon's pod");
        if server["status"]["phase"] == "Failed" {
            assert_eq!(server["spec"]["activeDeadlineSeconds"], 1, "stopped");
            break;
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "the daemon was not stopped: {server}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_templates_act_on_objects_and_wait_for_their_conditions() {
    let cluster = Cluster::start().await;
    let workflow = |name: &str, resource: &str, outputs: &str| {
        let yaml = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {{name: {name}}}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n{outputs}    resource:\n{resource}"
        );
        engine::yaml::to_json(&engine::yaml::parse_stream(&yaml).unwrap()[0])
    };
    let created = cluster
        .create(workflow(
            "make-config",
            "      action: create\n      setOwnerReference: true\n      successCondition: data.ready == yes\n      manifest: |\n        apiVersion: v1\n        kind: ConfigMap\n        metadata: {generateName: made-}\n        data: {ready: 'yes'}\n",
            "    outputs:\n      parameters:\n      - name: made\n        valueFrom: {jsonPath: '{.metadata.name}'}\n",
        ))
        .await;
    let broken = cluster
        .create(workflow(
            "broken-config",
            "      action: create\n      failureCondition: data.state in (broken, lost)\n      manifest: |\n        apiVersion: v1\n        kind: ConfigMap\n        metadata: {name: broken}\n        data: {state: broken}\n",
            "",
        ))
        .await;
    let missing = cluster
        .create(workflow(
            "get-missing",
            "      action: get\n      manifest: |\n        apiVersion: v1\n        kind: ConfigMap\n        metadata: {name: no-such-config}\n",
            "",
        ))
        .await;

    let wf = cluster.finished(&created).await;
    assert_eq!(wf["status"]["phase"], "Succeeded", "{}", why(&wf));
    let made = wf["status"]["nodes"][&created]["outputs"]["parameters"][0]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(made.starts_with("made-"), "{made}");
    let config = cluster
        .api
        .get("configmaps", "default", &made)
        .expect("the ConfigMap");
    assert_eq!(
        config["metadata"]["ownerReferences"][0]["name"], "make-config",
        "setOwnerReference"
    );

    let wf = cluster.finished(&broken).await;
    assert_eq!(wf["status"]["phase"], "Failed");
    assert!(
        node_messages(&wf)
            .iter()
            .any(|m| m.contains("failure condition 'data.state in (broken,lost)' matched")),
        "{:?}",
        node_messages(&wf)
    );

    let wf = cluster.finished(&missing).await;
    assert_ne!(wf["status"]["phase"], "Succeeded");
    assert!(
        node_messages(&wf)
            .iter()
            .any(|m| m.contains("cannot get ConfigMap no-such-config")),
        "{:?}",
        node_messages(&wf)
    );

    // Deleting the workflow deletes what it owns.
    reqwest::Client::new()
        .delete(format!(
            "{}/apis/argoproj.io/v1alpha1/namespaces/default/workflows/{created}",
            cluster.url
        ))
        .send()
        .await
        .unwrap();
    assert!(cluster.api.get("configmaps", "default", &made).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_templates_are_requested_from_a_pod_of_the_trellis_image() {
    let cluster = Cluster::start().await;
    let yaml = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {{name: ask}}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - {{name: ok, template: get, arguments: {{parameters: [{{name: url, value: '{url}/api'}}]}}}}\n      - {{name: missing, template: get, continueOn: {{failed: true}}, arguments: {{parameters: [{{name: url, value: '{url}/nowhere'}}]}}}}\n  - name: get\n    inputs: {{parameters: [{{name: url}}]}}\n    http: {{url: '{{{{inputs.parameters.url}}}}'}}\n",
        url = cluster.url
    );
    let wf = engine::yaml::to_json(&engine::yaml::parse_stream(&yaml).unwrap()[0]);
    let name = cluster.create(wf).await;
    let wf = cluster.finished(&name).await;
    assert_eq!(wf["status"]["phase"], "Succeeded", "{}", why(&wf));
    let nodes = wf["status"]["nodes"].as_object().unwrap();
    let by_name = |n: &str| {
        nodes
            .values()
            .find(|v| v["displayName"] == n)
            .unwrap_or_else(|| panic!("no node {n}"))
    };
    assert_eq!(by_name("ok")["type"], "HTTP");
    assert!(
        by_name("ok")["outputs"]["result"]
            .as_str()
            .unwrap()
            .contains("APIVersions")
    );
    assert_eq!(by_name("missing")["phase"], "Failed");
    let pod = cluster
        .api
        .list("pods", "default")
        .into_iter()
        .find(|p| p["metadata"]["annotations"]["workflows.argoproj.io/node-name"] == "ask[0].ok")
        .expect("the HTTP step ran as a Pod");
    assert_eq!(pod["spec"]["containers"][0]["image"], "trellis:test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_workflows_start_runs_on_schedule_and_keep_their_history() {
    let cluster = Cluster::start().await;
    let cron = engine::yaml::to_json(
        &engine::yaml::parse_stream(
            r#"
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: tick, namespace: default}
spec:
  schedules: ["@every 1s"]
  concurrencyPolicy: Allow
  successfulJobsHistoryLimit: 1
  workflowSpec:
    entrypoint: main
    templates:
    - name: main
      container: {image: alpine, command: [sh, -c, "echo tick"]}
"#,
        )
        .unwrap()[0],
    );
    let resp = cluster
        .post(
            "/apis/argoproj.io/v1alpha1/namespaces/default/cronworkflows",
            &cron,
        )
        .await;
    assert_eq!(resp.status(), 201);
    let start = Instant::now();
    let status = loop {
        let c = cluster
            .api
            .get("argoproj.io/cronworkflows", "default", "tick")
            .unwrap();
        if c["status"]["succeeded"].as_i64().unwrap_or(0) >= 2 {
            break c["status"].clone();
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "the cron did not run twice: {}\n{}",
            c["status"],
            std::fs::read_to_string(&cluster.controller_log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(status["lastScheduledTime"].is_string(), "{status}");
    let runs: Vec<Value> = cluster
        .api
        .list(WORKFLOWS, "default")
        .into_iter()
        .filter(|w| w["metadata"]["labels"]["workflows.argoproj.io/cron-workflow"] == "tick")
        .collect();
    assert!(
        runs.iter()
            .all(|w| w["metadata"]["name"].as_str().unwrap().starts_with("tick-")),
        "runs are named after their scheduled time"
    );
    // The history limit deletes all but the last succeeded run (and what runs now).
    let succeeded = runs
        .iter()
        .filter(|w| w["status"]["phase"] == "Succeeded")
        .count();
    assert!(succeeded <= 2, "{succeeded} succeeded runs kept");
}

#[path = "../../controller/tests/common/weed.rs"]
mod weed;

/// Argo examples whose steps pass artifacts through the default repository (or one named by
/// `artifactRepositoryRef`).
const ARTIFACT_EXAMPLES: &[&str] = &[
    "artifact-passing.yaml",
    "artifact-passing-subpath.yaml",
    "artifact-repository-ref.yaml",
    "global-outputs.yaml",
    "key-only-artifact.yaml",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifacts_pass_between_pods_through_the_repository_s_bucket() {
    let mut s3 = weed::Weed::start();
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    s3.wait_ready(scratch.path()).await;
    let cluster = Cluster::start().await;
    // The credentials in a Secret, the repository in Argo's ConfigMap (the Pods read the
    // Secret; the controller never does).
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s3-credentials", "namespace": "default"},
        "stringData": {"accessKey": weed::ACCESS_KEY, "secretKey": weed::SECRET_KEY}});
    let resp = cluster
        .post("/api/v1/namespaces/default/secrets", &secret)
        .await;
    assert_eq!(resp.status(), 201);
    let repo = format!(
        "s3:\n  bucket: {}\n  endpoint: 127.0.0.1:{}\n  insecure: true\n  accessKeySecret: {{name: s3-credentials, key: accessKey}}\n  secretKeySecret: {{name: s3-credentials, key: secretKey}}\n",
        weed::BUCKET,
        s3.s3_port
    );
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "artifact-repositories", "namespace": "default",
            "annotations": {"workflows.argoproj.io/default-artifact-repository": "default"}},
        "data": {"default": repo, "my-key": repo}});
    let resp = cluster
        .post("/api/v1/namespaces/default/configmaps", &config_map)
        .await;
    assert_eq!(resp.status(), 201);
    let (names, failures) = cluster.run_examples(ARTIFACT_EXAMPLES).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // What a step stored is in the bucket, where its node's outputs say.
    let (_, passing) = names
        .iter()
        .find(|(f, _)| *f == "artifact-passing.yaml")
        .unwrap();
    let wf = cluster.api.get(WORKFLOWS, "default", passing).unwrap();
    let stored = wf["status"]["nodes"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|n| {
            n["outputs"]["artifacts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|a| a["name"] == "hello-art")
        .expect("the output artifact is recorded");
    assert_eq!(stored["s3"]["bucket"], weed::BUCKET, "{stored}");
    assert!(
        stored["s3"]["accessKeySecret"].is_null(),
        "no credentials recorded"
    );
    let key = stored["s3"]["key"].as_str().unwrap();
    assert!(
        key.starts_with(&format!("{passing}/")) && key.ends_with("/hello-art.tgz"),
        "{key}"
    );
    let source = controller::artifacts::ArtifactSource::S3(s3.location(key));
    let out = scratch.path().join("fetched");
    controller::artifacts::fetch_artifact(&source, &out)
        .await
        .unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("hello world"), "{text}");
}
