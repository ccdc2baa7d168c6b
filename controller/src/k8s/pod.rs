//! The Pod of one step, as a pure function of the engine's [`StepLaunch`] and the workflow's
//! resolved spec.
//!
//! Layout of every step Pod:
//! - an emptyDir `trellis` at [`TRELLIS_DIR`], filled by the init container `init` (the executor
//!   image) with a copy of the `trellis` binary;
//! - the `main` container runs the user's image with its command wrapped by
//!   `trellis exec --spec-env TRELLIS_EXEC_SPEC --report`, which tees the logs, captures
//!   `outputs.result` and output parameters, and reports them in a `WorkflowTaskResult`;
//! - the template's init containers run after `init`, unchanged; its sidecars become native
//!   sidecars (init containers with `restartPolicy: Always`, Kubernetes ≥ 1.29), which the
//!   kubelet stops once `main` has ended, so the Pod completes.
//!
//! Secure defaults: unless the template or workflow gives a `securityContext`, the Pod runs as
//! a non-root user with the `RuntimeDefault` seccomp profile, and every container without its own
//! `securityContext` drops all capabilities and cannot escalate privileges (the Pod Security
//! Standard "restricted").

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use engine::model::{Template, TemplateType, WorkflowSpec};
use engine::plan::StepLaunch;
use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, Pod, PodSecurityContext, PodSpec,
    SeccompProfile, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::exec::spec::ExecSpec;
use crate::local::launch::outputs_params;

use super::artifacts;

/// Where the shared emptyDir with the `trellis` binary and the step's work directory is mounted.
pub const TRELLIS_DIR: &str = "/var/run/trellis";
/// The `trellis` binary inside every container that mounts [`TRELLIS_DIR`].
pub const TRELLIS_BIN: &str = "/var/run/trellis/bin/trellis";
/// The environment variable that carries the main container's [`ExecSpec`] (JSON).
pub const SPEC_ENV: &str = "TRELLIS_EXEC_SPEC";
/// The environment variable of a container of a `containerSet` ([`SetRole`], JSON).
pub const SET_ENV: &str = "TRELLIS_SET";
/// Where the containers of a `containerSet` leave their endings for one another.
pub const SET_DIR: &str = "/var/run/trellis/set";
/// The environment variable carrying an HTTP template's step (the template, JSON).
pub const HTTP_ENV: &str = "TRELLIS_HTTP";
/// The environment variable that tells exec where to report ([`ReportTarget`], JSON).
pub const REPORT_ENV: &str = "TRELLIS_REPORT";
/// The ServiceAccount step Pods use when neither the template nor the workflow names one: the
/// one `manifests/base` binds to the minimal executor Role.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "trellis-workflow";
/// Seconds `trellis exec` gives a stopped command before SIGKILL: less than the kubelet's 30, so
/// that it still reports what ran before the kubelet kills it.
pub const EXEC_GRACE_SECONDS: u64 = 20;
/// The uid (and gid) step Pods run as by default.
pub const DEFAULT_UID: i64 = 1000;

/// Label naming the workflow a Pod or task result belongs to (Argo's).
pub const LABEL_WORKFLOW: &str = "workflows.argoproj.io/workflow";
/// Label Argo sets to `"true"` on Pods of finished nodes.
pub const LABEL_COMPLETED: &str = "workflows.argoproj.io/completed";
/// Annotation holding the node ID of a step Pod (Argo's).
pub const ANNOTATION_NODE_ID: &str = "workflows.argoproj.io/node-id";
/// Annotation holding the node name of a step Pod (Argo's).
pub const ANNOTATION_NODE_NAME: &str = "workflows.argoproj.io/node-name";
/// Annotation marking the Pod of a daemon step (`daemon: true`): once its main container is
/// ready, the steps after it start while it runs on.
pub const ANNOTATION_DAEMON: &str = "trellis.dev/daemon";

const VOLUME: &str = "trellis";

/// What the pod builder needs to know about the installation.
#[derive(Debug, Clone, PartialEq)]
pub struct PodConfig {
    /// The image holding the `trellis` binary at `/usr/local/bin/trellis` (`--executor-image`).
    pub executor_image: String,
    /// The `imagePullPolicy` of the init container (`None`: the cluster's default).
    pub executor_pull_policy: Option<String>,
    /// The ServiceAccount used when the workflow names none.
    pub service_account: String,
    /// The `--instance-id`, set as label `workflows.argoproj.io/controller-instanceid`.
    pub instance_id: Option<String>,
    /// The workflow's artifact repository (see [`super::artifacts`]): `Ok(None)` when it has
    /// none, `Err` saying why the one it names cannot be used.
    pub artifact_repository: Result<Option<engine::model::S3ArtifactRepository>, String>,
}

impl Default for PodConfig {
    fn default() -> Self {
        Self {
            executor_image: "trellis:latest".into(),
            executor_pull_policy: None,
            service_account: DEFAULT_SERVICE_ACCOUNT.into(),
            instance_id: None,
            artifact_repository: Ok(None),
        }
    }
}

/// The workflow that owns the Pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its uid.
    pub uid: String,
}

/// Where `trellis exec` inside the Pod reports its result: a `WorkflowTaskResult` named after
/// the node, owned by the workflow.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportTarget {
    /// The namespace of the workflow.
    pub namespace: String,
    /// The workflow's name (label [`LABEL_WORKFLOW`]).
    pub workflow: String,
    /// The workflow's uid (the owner reference).
    pub workflow_uid: String,
    /// The node ID: the task result's name.
    pub node_id: String,
}

/// The part a container plays in a `containerSet` Pod: all its containers start together;
/// each waits for the ones it depends on (their endings are files `<dir>/<name>.json`), and the
/// one that reports (`main`, else the last) gathers the others' endings into the step's result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetRole {
    /// The shared directory of endings.
    pub dir: String,
    /// This container's name.
    pub name: String,
    /// The containers that must have succeeded before this one starts.
    #[serde(default)]
    pub wait_for: Vec<String>,
    /// The containers whose endings the reporting container folds into the result.
    #[serde(default)]
    pub gather: Vec<String>,
    /// The Pod (namespace and name), whose container statuses tell of a container that ended
    /// or cannot start without leaving an ending.
    #[serde(default)]
    pub pod: Option<(String, String)>,
}

/// Builds the Pod of a step; an `Err` is the node's Error message (nothing is created).
pub fn build_pod(
    l: &StepLaunch,
    owner: &Owner,
    spec: &WorkflowSpec,
    config: &PodConfig,
    now: DateTime<Utc>,
) -> Result<Pod, String> {
    let t = &l.template;
    let (containers, mut init) = match t.template_type() {
        Some(TemplateType::Resource) => {
            (vec![resource_container(l, owner, t, config)?], Vec::new())
        }
        Some(TemplateType::Http) => (vec![http_container(l, owner, t, config)], Vec::new()),
        Some(TemplateType::ContainerSet) => (
            set_containers(l, owner, t, config)?,
            vec![install_container(config)],
        ),
        _ => (
            vec![main_container(l, owner, t, config)?],
            vec![install_container(config)],
        ),
    };
    let main = containers[0].clone();
    for c in t.init_containers.iter().flatten() {
        init.push(secured(c.to_container()));
    }
    for c in t.sidecars.iter().flatten() {
        let mut side = secured(c.to_container());
        if c.mirror_volume_mounts == Some(true) {
            let mut mounts = side.volume_mounts.take().unwrap_or_default();
            mounts.extend(
                main.volume_mounts
                    .iter()
                    .flatten()
                    .filter(|m| m.name != VOLUME)
                    .cloned(),
            );
            side.volume_mounts = Some(mounts);
        }
        side.restart_policy = Some("Always".into());
        init.push(side);
    }
    let mut volumes = spec.volumes.clone().unwrap_or_default();
    volumes.extend(t.volumes.iter().flatten().cloned());
    volumes.push(Volume {
        name: VOLUME.into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    });
    let pod_spec = PodSpec {
        restart_policy: Some("Never".into()),
        init_containers: Some(init),
        containers,
        volumes: Some(volumes),
        service_account_name: Some(
            t.service_account_name
                .clone()
                .or_else(|| spec.service_account_name.clone())
                .unwrap_or_else(|| config.service_account.clone()),
        ),
        automount_service_account_token: t
            .automount_service_account_token
            .or(spec.automount_service_account_token),
        node_selector: t
            .node_selector
            .clone()
            .or_else(|| spec.node_selector.clone()),
        affinity: t.affinity.clone().or_else(|| spec.affinity.clone()),
        tolerations: t.tolerations.clone().or_else(|| spec.tolerations.clone()),
        scheduler_name: t
            .scheduler_name
            .clone()
            .or_else(|| spec.scheduler_name.clone()),
        priority_class_name: t
            .priority_class_name
            .clone()
            .or_else(|| spec.pod_priority_class_name.clone()),
        priority: t.priority.or(spec.pod_priority),
        host_aliases: t.host_aliases.clone().or_else(|| spec.host_aliases.clone()),
        image_pull_secrets: spec.image_pull_secrets.clone(),
        host_network: spec.host_network,
        dns_policy: spec.dns_policy.clone(),
        dns_config: spec.dns_config.clone(),
        security_context: t
            .security_context
            .clone()
            .or_else(|| spec.security_context.clone())
            .or_else(|| (!asks_own_context(t)).then(restricted_pod)),
        active_deadline_seconds: l.deadline.map(|at| remaining_seconds(at, now)),
        resources: t
            .pod_resources
            .clone()
            .or_else(|| spec.pod_resources.clone()),
        ..PodSpec::default()
    };
    let pod_spec = match t
        .pod_spec_patch
        .as_deref()
        .or(spec.pod_spec_patch.as_deref())
    {
        Some(patch) => patch_pod_spec(pod_spec, patch)?,
        None => pod_spec,
    };
    Ok(Pod {
        metadata: metadata(l, owner, spec, t, config),
        spec: Some(pod_spec),
        status: None,
    })
}

/// Seconds from `now` to `at`, rounded up, at least 1 (`activeDeadlineSeconds` must be positive).
fn remaining_seconds(at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let ms = (at - now).num_milliseconds();
    ((ms + 999) / 1000).max(1)
}

fn metadata(
    l: &StepLaunch,
    owner: &Owner,
    spec: &WorkflowSpec,
    t: &Template,
    config: &PodConfig,
) -> ObjectMeta {
    let mut labels = BTreeMap::new();
    let mut annotations = BTreeMap::new();
    for m in [spec.pod_metadata.as_ref(), t.metadata.as_ref()]
        .into_iter()
        .flatten()
    {
        labels.extend(m.labels.clone().unwrap_or_default());
        annotations.extend(m.annotations.clone().unwrap_or_default());
    }
    labels.insert(LABEL_WORKFLOW.into(), owner.name.clone());
    labels.insert(LABEL_COMPLETED.into(), "false".into());
    if let Some(id) = &config.instance_id {
        labels.insert(super::LABEL_INSTANCE_ID.into(), id.clone());
    }
    annotations.insert(ANNOTATION_NODE_ID.into(), l.node_id.clone());
    annotations.insert(ANNOTATION_NODE_NAME.into(), l.node_name.clone());
    if t.daemon == Some(true) {
        annotations.insert(ANNOTATION_DAEMON.into(), "true".into());
    }
    ObjectMeta {
        name: Some(l.pod_name.clone()),
        namespace: Some(owner.namespace.clone()),
        labels: Some(labels),
        annotations: Some(annotations),
        owner_references: Some(vec![owner_reference(owner)]),
        ..ObjectMeta::default()
    }
}

/// The owner reference to a workflow: deleting the workflow deletes its Pods and task results.
pub fn owner_reference(owner: &Owner) -> OwnerReference {
    OwnerReference {
        api_version: "argoproj.io/v1alpha1".into(),
        kind: "Workflow".into(),
        name: owner.name.clone(),
        uid: owner.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The init container that copies `trellis` into the shared volume.
fn install_container(config: &PodConfig) -> Container {
    secured(Container {
        name: "init".into(),
        image: Some(config.executor_image.clone()),
        image_pull_policy: config.executor_pull_policy.clone(),
        command: Some(vec![
            "/usr/local/bin/trellis".into(),
            "exec".into(),
            "--install".into(),
            TRELLIS_BIN.into(),
        ]),
        volume_mounts: Some(vec![trellis_mount()]),
        ..Container::default()
    })
}

fn trellis_mount() -> VolumeMount {
    VolumeMount {
        name: VOLUME.into(),
        mount_path: TRELLIS_DIR.into(),
        ..VolumeMount::default()
    }
}

/// The main container: the template's container (or script) with its command wrapped.
fn main_container(
    l: &StepLaunch,
    owner: &Owner,
    t: &Template,
    config: &PodConfig,
) -> Result<Container, String> {
    let (mut container, script) = match t.template_type() {
        Some(TemplateType::Container) => match &t.container {
            Some(c) => (c.to_container(), None),
            None => return Err(nothing_to_run(t)),
        },
        Some(TemplateType::Script) => match &t.script {
            Some(s) => {
                let mut c = s.to_container();
                if c.command.as_ref().is_none_or(Vec::is_empty) {
                    c.command = Some(vec!["sh".into()]);
                }
                (c, s.source.clone())
            }
            None => return Err(nothing_to_run(t)),
        },
        _ => return Err(nothing_to_run(t)),
    };
    let no_command = container.command.as_ref().is_none_or(Vec::is_empty);
    let entrypoint = image_entrypoint(container.image.as_deref().unwrap_or_default());
    if no_command && entrypoint.is_empty() {
        return Err(format!(
            "template \"{}\": the container has no `command` and the entrypoint of image {} is not known; \
             set `command:` (Trellis wraps the command to capture outputs)",
            t.name(),
            container.image.as_deref().unwrap_or("(none)")
        ));
    }
    let mut argv = if no_command {
        entrypoint
    } else {
        container.command.clone().unwrap_or_default()
    };
    argv.extend(container.args.clone().unwrap_or_default());
    let (input_artifacts, output_artifacts, credentials) = step_artifacts(l, owner, t, config)?;
    container
        .env
        .get_or_insert_with(Vec::new)
        .extend(credentials);
    let exec = ExecSpec {
        node_id: l.node_id.clone(),
        pod_name: l.pod_name.clone(),
        image: container.image.clone(),
        argv,
        script,
        env: Vec::new(),
        working_dir: None,
        work_dir: format!("{TRELLIS_DIR}/work").into(),
        input_artifacts,
        output_parameters: outputs_params(t),
        output_artifacts,
        capture_result: true,
        sandbox: None,
        in_pod: true,
        termination_grace_seconds: Some(EXEC_GRACE_SECONDS),
    };
    let report = report_target(l, owner);
    container.name = "main".into();
    Ok(wrapped(container, &exec, Some(&report), None))
}

fn report_target(l: &StepLaunch, owner: &Owner) -> ReportTarget {
    ReportTarget {
        namespace: owner.namespace.clone(),
        workflow: owner.name.clone(),
        workflow_uid: owner.uid.clone(),
        node_id: l.node_id.clone(),
    }
}

/// A container whose command `trellis exec` runs as `exec` says, reporting to `report`.
fn wrapped(
    mut container: Container,
    exec: &ExecSpec,
    report: Option<&ReportTarget>,
    set: Option<&SetRole>,
) -> Container {
    let mut env = container.env.take().unwrap_or_default();
    env.push(env_var(SPEC_ENV, json(exec)));
    let mut command = vec![
        TRELLIS_BIN.to_string(),
        "exec".into(),
        "--spec-env".into(),
        SPEC_ENV.into(),
    ];
    if let Some(report) = report {
        env.push(env_var(REPORT_ENV, json(report)));
        command.push("--report".into());
    }
    if let Some(set) = set {
        env.push(env_var(SET_ENV, json(set)));
    }
    container.env = Some(env);
    container.command = Some(command);
    container.args = None;
    let mut mounts = container.volume_mounts.take().unwrap_or_default();
    mounts.push(trellis_mount());
    container.volume_mounts = Some(mounts);
    secured(container)
}

/// A step's input and output artifacts (see [`artifacts`]) and the environment variables that
/// carry their credentials.
type StepArtifacts = (
    Vec<crate::exec::InputArtifact>,
    Vec<crate::exec::OutputArtifact>,
    Vec<k8s_openapi::api::core::v1::EnvVar>,
);

fn step_artifacts(
    l: &StepLaunch,
    owner: &Owner,
    t: &Template,
    config: &PodConfig,
) -> Result<StepArtifacts, String> {
    let repo = config
        .artifact_repository
        .as_ref()
        .map(Option::as_ref)
        .map_err(String::as_str);
    let mut creds = artifacts::Credentials::default();
    let inputs = artifacts::inputs(t, repo, &mut creds)?;
    let at = (
        owner.name.as_str(),
        owner.namespace.as_str(),
        l.pod_name.as_str(),
    );
    let outputs = artifacts::outputs(t, repo, at, &mut creds)?;
    Ok((inputs, outputs, creds.env()))
}

/// The containers of a `containerSet`, each wrapped by `trellis exec`, the reporting one
/// (`main`, else the last in dependency order) first.
fn set_containers(
    l: &StepLaunch,
    owner: &Owner,
    t: &Template,
    config: &PodConfig,
) -> Result<Vec<Container>, String> {
    let Some(set) = &t.container_set else {
        return Err(nothing_to_run(t));
    };
    if set.retry_strategy.is_some() {
        return Err(format!(
            "template \"{}\": containerSet.retryStrategy is not supported on the Kubernetes backend yet; \
             use the template's retryStrategy",
            t.name()
        ));
    }
    let nodes = set.containers.as_deref().unwrap_or_default();
    if nodes.is_empty() {
        return Err(nothing_to_run(t));
    }
    let order = crate::local::launch::container_set_order(nodes)?;
    let names: Vec<String> = order
        .iter()
        .map(|c| c.name.clone().unwrap_or_default())
        .collect();
    let reporter = if names.iter().any(|n| n == "main") {
        "main".to_string()
    } else {
        names.last().cloned().unwrap_or_default()
    };
    let shared = set.volume_mounts.clone().unwrap_or_default();
    let report = report_target(l, owner);
    let mut out = Vec::new();
    for c in order {
        let name = c.name.clone().unwrap_or_default();
        let mut container = c.to_container();
        let entrypoint = image_entrypoint(container.image.as_deref().unwrap_or_default());
        let mut argv = match container.command.clone().filter(|c| !c.is_empty()) {
            Some(command) => command,
            None if !entrypoint.is_empty() => entrypoint,
            None => {
                return Err(format!(
                    "template \"{}\", container {name}: no `command` and the entrypoint of image {} is not known; \
                     set `command:`",
                    t.name(),
                    container.image.as_deref().unwrap_or("(none)")
                ));
            }
        };
        argv.extend(container.args.clone().unwrap_or_default());
        let mut mounts = shared.clone();
        mounts.extend(container.volume_mounts.take().unwrap_or_default());
        container.volume_mounts = Some(mounts);
        let reports = name == reporter;
        let (input_artifacts, output_artifacts, credentials) = match reports {
            true => step_artifacts(l, owner, t, config)?,
            false => Default::default(),
        };
        container
            .env
            .get_or_insert_with(Vec::new)
            .extend(credentials);
        let exec = ExecSpec {
            node_id: l.node_id.clone(),
            pod_name: l.pod_name.clone(),
            image: container.image.clone(),
            argv,
            script: None,
            env: Vec::new(),
            working_dir: None,
            work_dir: format!("{TRELLIS_DIR}/work/{name}").into(),
            input_artifacts,
            output_parameters: if reports {
                outputs_params(t)
            } else {
                Vec::new()
            },
            output_artifacts,
            capture_result: reports,
            sandbox: None,
            in_pod: true,
            termination_grace_seconds: Some(EXEC_GRACE_SECONDS),
        };
        let role = SetRole {
            pod: Some((owner.namespace.clone(), l.pod_name.clone())),
            dir: SET_DIR.into(),
            name: name.clone(),
            wait_for: c.dependencies.clone().unwrap_or_default(),
            gather: if reports {
                names.iter().filter(|n| **n != name).cloned().collect()
            } else {
                Vec::new()
            },
        };
        out.push(wrapped(
            container,
            &exec,
            reports.then_some(&report),
            Some(&role),
        ));
    }
    if let Some(i) = out.iter().position(|c| c.name == reporter) {
        let r = out.remove(i);
        out.insert(0, r);
    }
    Ok(out)
}

/// The main container of an HTTP template: the executor image makes the request (as Argo's
/// agent Pod does) and reports the response.
fn http_container(l: &StepLaunch, owner: &Owner, t: &Template, config: &PodConfig) -> Container {
    let report = report_target(l, owner);
    executor_container(config, "--http-env", HTTP_ENV, json(t), &report)
}

/// A main container running `trellis exec FLAG VAR --report` in the executor image, with the
/// step's description (JSON) in `VAR`.
fn executor_container(
    config: &PodConfig,
    flag: &str,
    var: &str,
    description: String,
    report: &ReportTarget,
) -> Container {
    secured(Container {
        name: "main".into(),
        image: Some(config.executor_image.clone()),
        image_pull_policy: config.executor_pull_policy.clone(),
        command: Some(vec![
            "/usr/local/bin/trellis".into(),
            "exec".into(),
            flag.into(),
            var.into(),
            "--report".into(),
        ]),
        env: Some(vec![
            env_var(var, description),
            env_var(REPORT_ENV, json(report)),
        ]),
        ..Container::default()
    })
}

/// The main container of a resource template: the executor image acting on the manifest's
/// object with the Pod's ServiceAccount (see [`super::resource`]).
fn resource_container(
    l: &StepLaunch,
    owner: &Owner,
    t: &Template,
    config: &PodConfig,
) -> Result<Container, String> {
    let report = report_target(l, owner);
    let spec = super::resource::spec_of(t, report.clone())?;
    Ok(executor_container(
        config,
        "--resource-env",
        super::resource::RESOURCE_ENV,
        json(&spec),
        &report,
    ))
}

/// The `ENTRYPOINT` of the images whose entrypoint Trellis knows (a container without
/// `command` must name one: `trellis exec` wraps the command, so it must know it).
pub fn image_entrypoint(image: &str) -> Vec<String> {
    let argv: &[&str] = match crate::local::launch::image_repo(image) {
        "argoproj/argosay" | "alexcollinsintuit/argosay" => &["/argosay"],
        "docker/whalesay" => &["cowsay"],
        "nginx" => &["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"],
        "influxdb" => &["/entrypoint.sh", "influxd"],
        _ => &[],
    };
    argv.iter().map(|s| (*s).to_string()).collect()
}

fn nothing_to_run(t: &Template) -> String {
    format!("template \"{}\" has nothing to run in a pod", t.name())
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn env_var(name: &str, value: String) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value),
        value_from: None,
    }
}

/// Whether a container of the template sets its own `securityContext` (a privileged sidecar, a
/// step that must run as root): then the Pod-level defaults, which would force a non-root uid on
/// it, are left out; the other containers keep their container-level defaults.
fn asks_own_context(t: &Template) -> bool {
    let main = t
        .container
        .as_ref()
        .map(|c| c.security_context.is_some())
        .or_else(|| t.script.as_ref().map(|s| s.security_context.is_some()))
        .unwrap_or(false);
    let set = t
        .container_set
        .iter()
        .flat_map(|s| s.containers.iter().flatten())
        .any(|c| c.security_context.is_some());
    main || set
        || t.init_containers
            .iter()
            .chain(t.sidecars.iter())
            .flatten()
            .any(|c| c.security_context.is_some())
}

/// The Pod-level defaults of the "restricted" Pod Security Standard.
fn restricted_pod() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(DEFAULT_UID),
        run_as_group: Some(DEFAULT_UID),
        fs_group: Some(DEFAULT_UID),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            localhost_profile: None,
        }),
        ..PodSecurityContext::default()
    }
}

/// A container with the restricted container defaults unless it has a `securityContext`.
fn secured(mut c: Container) -> Container {
    if c.security_context.is_none() {
        c.security_context = Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                add: None,
            }),
            ..SecurityContext::default()
        });
    }
    c
}

/// Applies a `podSpecPatch` (YAML or JSON) the way Kubernetes' strategic merge does for a
/// PodSpec: objects merge key by key, lists of named objects (containers, volumes, env…) merge
/// by `name`, other lists are replaced, `null` removes a key. The result must still be a valid
/// PodSpec.
pub fn patch_pod_spec(spec: PodSpec, patch: &str) -> Result<PodSpec, String> {
    let docs = engine::yaml::parse_stream(patch)
        .map_err(|e| format!("podSpecPatch is not valid YAML or JSON: {e}"))?;
    let Some(doc) = docs.into_iter().next() else {
        return Ok(spec);
    };
    let patch = engine::yaml::to_json(&doc);
    if !patch.is_object() {
        return Err("podSpecPatch must be an object (fields of a PodSpec)".into());
    }
    let mut value = serde_json::to_value(&spec).map_err(|e| e.to_string())?;
    merge(&mut value, &patch);
    serde_json::from_value(value)
        .map_err(|e| format!("podSpecPatch does not give a valid PodSpec: {e}"))
}

fn merge(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else if let Some(existing) = t.get_mut(k) {
                    merge(existing, v);
                } else {
                    t.insert(k.clone(), v.clone());
                }
            }
        }
        (Value::Array(t), Value::Array(p)) if named(t) && named(p) => {
            for item in p {
                let name = item.get("name");
                match t.iter_mut().find(|x| x.get("name") == name) {
                    Some(existing) => merge(existing, item),
                    None => t.push(item.clone()),
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn named(items: &[serde_json::Value]) -> bool {
    items
        .iter()
        .all(|i| i.get("name").is_some_and(serde_json::Value::is_string))
}

#[cfg(test)]
mod tests;
