use super::*;
use crate::k8s::testing::{launches, now};

fn owner() -> Owner {
    Owner {
        name: "hello".into(),
        namespace: "ci".into(),
        uid: "uid-1".into(),
    }
}

/// The Pod of the first step of a workflow.
fn pod_of(yaml: &str) -> Result<Pod, String> {
    let (resolved, l) = launches(yaml);
    build_pod(
        &l[0],
        &owner(),
        &resolved.spec,
        &PodConfig::default(),
        now(),
    )
}

/// The JSON a container's environment variable holds, decoded.
fn env_json<T: serde::de::DeserializeOwned>(c: &Container, name: &str) -> T {
    let env = c.env.as_ref().unwrap();
    let var = env.iter().find(|e| e.name == name).unwrap();
    serde_json::from_str(var.value.as_deref().unwrap()).unwrap()
}

fn exec_spec(pod: &Pod) -> ExecSpec {
    env_json(&pod.spec.as_ref().unwrap().containers[0], SPEC_ENV)
}

const HELLO: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: hello}
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: busybox
      command: [echo]
      args: ["hello world"]
      env: [{name: GREETING, value: hi}]
"#;

#[test]
fn a_container_step_runs_its_command_under_trellis_exec() {
    let pod = pod_of(HELLO).unwrap();
    assert_eq!(pod.metadata.name.as_deref(), Some("hello"));
    assert_eq!(pod.metadata.namespace.as_deref(), Some("ci"));
    let labels = pod.metadata.labels.clone().unwrap();
    assert_eq!(labels[LABEL_WORKFLOW], "hello");
    let annotations = pod.metadata.annotations.clone().unwrap();
    assert_eq!(annotations[ANNOTATION_NODE_ID], "hello");
    let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str()),
        ("Workflow", "uid-1")
    );
    assert_eq!(owner.controller, Some(true));

    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
    assert_eq!(
        spec.service_account_name.as_deref(),
        Some(DEFAULT_SERVICE_ACCOUNT)
    );
    let init = &spec.init_containers.as_ref().unwrap()[0];
    assert_eq!(init.name, "init");
    assert_eq!(init.image.as_deref(), Some("trellis:latest"));
    assert_eq!(init.command.as_ref().unwrap().last().unwrap(), TRELLIS_BIN);
    let main = &spec.containers[0];
    assert_eq!(main.name, "main");
    assert_eq!(main.image.as_deref(), Some("busybox"));
    assert_eq!(main.command.as_ref().unwrap()[0], TRELLIS_BIN);
    assert!(main.args.is_none());
    let env = main.env.as_ref().unwrap();
    assert!(
        env.iter()
            .any(|e| e.name == "GREETING" && e.value.as_deref() == Some("hi"))
    );
    let report: ReportTarget = env_json(main, REPORT_ENV);
    assert_eq!(report.node_id, "hello");
    assert_eq!(report.workflow_uid, "uid-1");
    let exec = exec_spec(&pod);
    assert_eq!(exec.argv, ["echo", "hello world"]);
    assert!(exec.in_pod && exec.capture_result);
    assert!(
        main.volume_mounts
            .iter()
            .flatten()
            .any(|m| m.mount_path == TRELLIS_DIR)
    );
    assert!(
        spec.volumes
            .iter()
            .flatten()
            .any(|v| v.name == "trellis" && v.empty_dir.is_some())
    );
}

#[test]
fn pods_run_restricted_unless_the_template_asks_otherwise() {
    let pod = pod_of(HELLO).unwrap();
    let spec = pod.spec.as_ref().unwrap();
    let sc = spec.security_context.as_ref().unwrap();
    assert_eq!(sc.run_as_non_root, Some(true));
    assert_eq!(sc.run_as_user, Some(DEFAULT_UID));
    assert_eq!(sc.seccomp_profile.as_ref().unwrap().type_, "RuntimeDefault");
    for c in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        let csc = c.security_context.as_ref().unwrap();
        assert_eq!(csc.allow_privilege_escalation, Some(false), "{}", c.name);
        assert_eq!(
            csc.capabilities.as_ref().unwrap().drop.as_deref(),
            Some(&["ALL".to_string()][..])
        );
    }
    let asks = HELLO.replace(
        "  - name: main\n",
        "  - name: main\n    securityContext: {runAsUser: 0, runAsNonRoot: false}\n",
    );
    let asks = asks.replace(
        "      image: busybox\n",
        "      image: busybox\n      securityContext: {privileged: true}\n",
    );
    let pod = pod_of(&asks).unwrap();
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.security_context.as_ref().unwrap().run_as_user, Some(0));
    assert_eq!(
        spec.containers[0]
            .security_context
            .as_ref()
            .unwrap()
            .privileged,
        Some(true)
    );
}

#[test]
fn scheduling_fields_come_from_the_template_then_the_workflow() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: sched}
spec:
  entrypoint: main
  serviceAccountName: builder
  nodeSelector: {pool: default}
  tolerations: [{key: gpu, operator: Exists}]
  podPriorityClassName: low
  hostAliases: [{ip: 10.0.0.1, hostnames: [db]}]
  imagePullSecrets: [{name: regcred}]
  podMetadata: {labels: {team: a}, annotations: {note: x}}
  activeDeadlineSeconds: 600
  templates:
  - name: main
    nodeSelector: {pool: big}
    priorityClassName: high
    metadata: {labels: {step: main}}
    container:
      image: alpine
      command: [sh, -c, "true"]
      resources: {requests: {cpu: 100m, memory: 64Mi}}
"#;
    let (resolved, l) = launches(yaml);
    let mut owner = owner();
    owner.name = "sched".into();
    let pod = build_pod(&l[0], &owner, &resolved.spec, &PodConfig::default(), now()).unwrap();
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.service_account_name.as_deref(), Some("builder"));
    assert_eq!(spec.node_selector.as_ref().unwrap()["pool"], "big");
    assert_eq!(
        spec.tolerations.as_ref().unwrap()[0].key.as_deref(),
        Some("gpu")
    );
    assert_eq!(spec.priority_class_name.as_deref(), Some("high"));
    assert_eq!(spec.host_aliases.as_ref().unwrap()[0].ip, "10.0.0.1");
    assert_eq!(spec.image_pull_secrets.as_ref().unwrap()[0].name, "regcred");
    assert_eq!(
        spec.active_deadline_seconds,
        Some(600),
        "the workflow's deadline, from now"
    );
    let requests = spec.containers[0]
        .resources
        .as_ref()
        .unwrap()
        .requests
        .clone()
        .unwrap();
    assert_eq!(requests["cpu"].0, "100m");
    let labels = pod.metadata.labels.unwrap();
    assert_eq!(
        (labels["team"].as_str(), labels["step"].as_str()),
        ("a", "main")
    );
    assert_eq!(pod.metadata.annotations.unwrap()["note"], "x");
}

#[test]
fn scripts_sidecars_and_init_containers() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: hello}
spec:
  entrypoint: main
  templates:
  - name: main
    initContainers:
    - {name: prepare, image: alpine, command: [sh, -c, "echo ready"]}
    sidecars:
    - {name: db, image: postgres, mirrorVolumeMounts: true}
    volumes: [{name: data, emptyDir: {}}]
    script:
      image: python:3.12
      command: [python]
      source: print(1 + 1)
      volumeMounts: [{name: data, mountPath: /data}]
"#;
    let pod = pod_of(yaml).unwrap();
    let exec = exec_spec(&pod);
    assert_eq!(exec.argv, ["python"]);
    assert_eq!(exec.script.as_deref(), Some("print(1 + 1)"));
    let spec = pod.spec.as_ref().unwrap();
    let init: Vec<_> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| (c.name.as_str(), c.restart_policy.as_deref()))
        .collect();
    assert_eq!(
        init,
        [("init", None), ("prepare", None), ("db", Some("Always"))],
        "sidecars are native sidecars, after the template's init containers"
    );
    let db = &spec.init_containers.as_ref().unwrap()[2];
    assert!(
        db.volume_mounts
            .iter()
            .flatten()
            .any(|m| m.mount_path == "/data")
    );
    assert!(
        !db.volume_mounts
            .iter()
            .flatten()
            .any(|m| m.mount_path == TRELLIS_DIR)
    );
    assert!(spec.volumes.iter().flatten().any(|v| v.name == "data"));
}

#[test]
fn a_pod_spec_patch_merges_containers_by_name() {
    let yaml = HELLO.replace(
        "  - name: main\n",
        "  - name: main\n    podSpecPatch: |\n      containers:\n      - name: main\n        resources: {limits: {memory: 1Gi}}\n      dnsPolicy: None\n",
    );
    let pod = pod_of(&yaml).unwrap();
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.containers.len(), 1);
    let main = &spec.containers[0];
    assert_eq!(
        main.image.as_deref(),
        Some("busybox"),
        "the rest of main is kept"
    );
    assert_eq!(
        main.resources.as_ref().unwrap().limits.as_ref().unwrap()["memory"].0,
        "1Gi"
    );
    assert_eq!(spec.dns_policy.as_deref(), Some("None"));

    let bad = HELLO.replace(
        "  - name: main\n",
        "  - name: main\n    podSpecPatch: '{\"containers\": 3}'\n",
    );
    let err = pod_of(&bad).unwrap_err();
    assert!(
        err.contains("podSpecPatch does not give a valid PodSpec"),
        "{err}"
    );
}

#[test]
fn steps_a_pod_cannot_run_are_refused_with_the_reason() {
    let no_command = HELLO
        .replace("      command: [echo]\n", "")
        .replace("busybox", "example.com/tool:1");
    let err = pod_of(&no_command).unwrap_err();
    assert!(err.contains("set `command:`"), "{err}");
    assert!(err.contains("example.com/tool:1"), "{err}");

    let argosay = HELLO
        .replace("      command: [echo]\n", "")
        .replace("busybox", "argoproj/argosay:v2");
    assert_eq!(
        exec_spec(&pod_of(&argosay).unwrap()).argv,
        ["/argosay", "hello world"],
        "the image's real entrypoint"
    );

    let artifacts = HELLO.replace(
        "  - name: main\n",
        "  - name: main\n    outputs: {artifacts: [{name: out, path: /tmp/out}]}\n",
    );
    let err = pod_of(&artifacts).unwrap_err();
    assert!(
        err.contains("no bucket") && err.contains("artifact-repositories"),
        "{err}"
    );
}

#[test]
fn artifacts_go_to_the_repository_with_credentials_from_its_secrets() {
    let yaml = HELLO.replace(
        "  - name: main\n",
        "  - name: main\n    inputs: {artifacts: [{name: in, path: /tmp/in, s3: {key: wf/p/in.tgz}}]}\n    outputs: {artifacts: [{name: out, path: /tmp/out}, {name: raw, path: /tmp/raw, archive: {none: {}}}]}\n",
    );
    let repo: engine::model::S3ArtifactRepository = serde_json::from_value(serde_json::json!({
        "bucket": "art", "endpoint": "minio:9000", "insecure": true,
        "accessKeySecret": {"name": "s3", "key": "id"},
        "secretKeySecret": {"name": "s3", "key": "secret"},
        "keyFormat": "runs/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}"
    }))
    .unwrap();
    let config = PodConfig {
        artifact_repository: Ok(Some(repo)),
        ..PodConfig::default()
    };
    let (resolved, l) = launches(&yaml);
    let pod = build_pod(&l[0], &owner(), &resolved.spec, &config, now()).unwrap();
    let main = &pod.spec.as_ref().unwrap().containers[0];
    let spec = exec_spec(&pod);
    let crate::artifacts::ArtifactDestination::S3(out) = &spec.output_artifacts[0].destination
    else {
        panic!("{:?}", spec.output_artifacts);
    };
    assert_eq!(out.bucket, "art");
    assert_eq!(out.endpoint, "minio:9000");
    assert!(out.insecure && out.path_style);
    assert_eq!(out.key, format!("runs/ci/hello/{}/out.tgz", l[0].pod_name));
    assert!(
        out.access_key.is_none() && out.secret_key.is_none(),
        "no secret in the spec"
    );
    let crate::artifacts::ArtifactDestination::S3(raw) = &spec.output_artifacts[1].destination
    else {
        panic!()
    };
    assert!(
        raw.key.ends_with("/raw"),
        "unarchived, no .tgz: {}",
        raw.key
    );
    let crate::artifacts::ArtifactSource::S3(input) = &spec.input_artifacts[0].source else {
        panic!("{:?}", spec.input_artifacts);
    };
    assert_eq!(
        (input.bucket.as_str(), input.key.as_str()),
        ("art", "wf/p/in.tgz")
    );
    // The credentials reach the container from the Secret, once per Secret key.
    let var = out.access_key_env.clone().unwrap();
    let env = main.env.as_ref().unwrap();
    let from = env.iter().find(|e| e.name == var).unwrap();
    let secret = from
        .value_from
        .as_ref()
        .unwrap()
        .secret_key_ref
        .as_ref()
        .unwrap();
    assert_eq!((secret.name.as_str(), secret.key.as_str()), ("s3", "id"));
    assert_eq!(input.access_key_env.as_ref(), Some(&var));
    let credential_vars = env
        .iter()
        .filter(|e| e.name.starts_with("TRELLIS_S3_CREDENTIAL_"));
    assert_eq!(credential_vars.count(), 2);

    // A repository that cannot be used says why, for the steps that need it only.
    let broken = PodConfig {
        artifact_repository: Err(
            "ConfigMap \"artifact-repositories\" has no artifact repository \"x\"".into(),
        ),
        ..PodConfig::default()
    };
    let err = build_pod(&l[0], &owner(), &resolved.spec, &broken, now()).unwrap_err();
    assert!(err.contains("has no artifact repository"), "{err}");
    let (resolved, plain) = launches(HELLO);
    assert!(build_pod(&plain[0], &owner(), &resolved.spec, &broken, now()).is_ok());
}

#[test]
fn the_deadline_is_rounded_up_and_positive() {
    let at = now() + chrono::Duration::milliseconds(1500);
    assert_eq!(remaining_seconds(at, now()), 2);
    assert_eq!(
        remaining_seconds(now() - chrono::Duration::seconds(5), now()),
        1
    );
}

#[test]
fn a_container_with_its_own_security_context_keeps_the_pod_free_of_a_forced_uid() {
    let yaml = HELLO.replace(
        "  - name: main\n",
        "  - name: main\n    sidecars:\n    - {name: dind, image: docker:dind, securityContext: {privileged: true}}\n",
    );
    let pod = pod_of(&yaml).unwrap();
    let spec = pod.spec.as_ref().unwrap();
    assert!(
        spec.security_context.is_none(),
        "{:?}",
        spec.security_context
    );
    let dind = spec
        .init_containers
        .iter()
        .flatten()
        .find(|c| c.name == "dind")
        .unwrap();
    assert_eq!(
        dind.security_context.as_ref().unwrap().privileged,
        Some(true)
    );
    let main = &spec.containers[0];
    assert_eq!(
        main.security_context
            .as_ref()
            .unwrap()
            .allow_privilege_escalation,
        Some(false),
        "the other containers keep their defaults"
    );
}

#[test]
fn exec_stops_the_command_before_the_kubelet_kills_the_container() {
    let exec = exec_spec(&pod_of(HELLO).unwrap());
    assert!(exec.termination_grace_seconds.unwrap() < 30);
}

#[test]
fn a_resource_template_runs_in_the_executor_image() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: hello}
spec:
  entrypoint: main
  templates:
  - name: main
    resource:
      action: create
      successCondition: status.succeeded > 0
      manifest: |
        apiVersion: batch/v1
        kind: Job
        metadata: {generateName: j-}
"#;
    let pod = pod_of(yaml).unwrap();
    let spec = pod.spec.as_ref().unwrap();
    assert!(spec.init_containers.as_ref().is_none_or(Vec::is_empty));
    let main = &spec.containers[0];
    assert_eq!(main.image.as_deref(), Some("trellis:latest"));
    assert_eq!(main.command.as_ref().unwrap()[2], "--resource-env");
    let resource: crate::k8s::resource::ResourceSpec =
        env_json(main, crate::k8s::resource::RESOURCE_ENV);
    assert_eq!(resource.action, "create");
    assert_eq!(
        resource.success_condition.as_deref(),
        Some("status.succeeded > 0")
    );
    assert_eq!(resource.owner.node_id, "hello");
    let bad = yaml.replace("action: create", "action: explode");
    assert!(
        pod_of(&bad)
            .unwrap_err()
            .contains("\"explode\" is not one of")
    );
}

#[test]
fn a_container_set_is_one_pod_of_wrapped_containers_with_their_order() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: hello}
spec:
  entrypoint: main
  templates:
  - name: main
    containerSet:
      volumeMounts: [{name: workspace, mountPath: /workspace}]
      containers:
      - {name: a, image: alpine, command: [sh, -c, "echo a"]}
      - {name: b, image: argoproj/argosay:v2, dependencies: [a]}
      - {name: c, image: alpine, command: [sh, -c, "echo c"], dependencies: [b]}
    volumes: [{name: workspace, emptyDir: {}}]
"#;
    let pod = pod_of(yaml).unwrap();
    let spec = pod.spec.as_ref().unwrap();
    let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["c", "a", "b"],
        "the reporting container (the last) first"
    );
    let role = |c: &Container| -> SetRole { env_json(c, SET_ENV) };
    let c = role(&spec.containers[0]);
    assert_eq!(c.wait_for, ["b"]);
    assert_eq!(c.gather, ["a", "b"]);
    assert!(
        spec.containers[0]
            .command
            .as_ref()
            .unwrap()
            .contains(&"--report".to_string())
    );
    assert!(
        !spec.containers[1]
            .command
            .as_ref()
            .unwrap()
            .contains(&"--report".to_string())
    );
    let b = &spec.containers[2];
    let exec: ExecSpec = env_json(b, SPEC_ENV);
    assert_eq!(exec.argv, ["/argosay"]);
    assert!(
        b.volume_mounts
            .iter()
            .flatten()
            .any(|m| m.mount_path == "/workspace")
    );
    let cyclic = yaml.replace(
        "{name: a, image: alpine,",
        "{name: a, dependencies: [c], image: alpine,",
    );
    assert!(pod_of(&cyclic).unwrap_err().contains("cycle"));
}
