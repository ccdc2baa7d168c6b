//! `manifests/`: every kustomization renders with `kubectl kustomize`, and every object it renders
//! is a valid object of its `k8s-openapi` type, with no field that type does not know (a typo in a
//! manifest would otherwise be dropped silently by the API server's client-side decoding); the
//! controller's and the server's Roles grant exactly what they request, and the server's
//! Deployment, Service and (in `postgres`) database fit together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, Namespace, PodSpec, Probe, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn manifests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests")
}

/// Every directory under `manifests/` that holds a kustomization.
fn kustomizations() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(manifests())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("kustomization.yaml").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// `kubectl kustomize DIR`, parsed into one JSON value per object.
fn render(dir: &Path) -> Vec<Value> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("kubectl: {e} (install it with `scripts/setup --browser`, Debian's kubernetes-client)")
        });
    assert!(
        out.status.success(),
        "kubectl kustomize {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    engine::yaml::parse_stream(&text)
        .unwrap_or_else(|e| panic!("{}: rendered YAML does not parse: {e:?}", dir.display()))
        .iter()
        .map(engine::yaml::to_json)
        .filter(|v| !v.is_null())
        .collect()
}

/// The first place where `got` (the object re-serialized from its type) differs from `want`
/// (what the manifest says), as a JSON path.
fn first_difference(path: &str, want: &Value, got: &Value) -> Option<String> {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (key, value) in w {
                let here = format!("{path}.{key}");
                match g.get(key) {
                    None => return Some(format!("{here}: unknown field")),
                    Some(other) => {
                        if let Some(d) = first_difference(&here, value, other) {
                            return Some(d);
                        }
                    }
                }
            }
            g.keys()
                .find(|k| !w.contains_key(*k))
                .map(|k| format!("{path}.{k}: added by the type"))
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => w
            .iter()
            .zip(g)
            .enumerate()
            .find_map(|(i, (a, b))| first_difference(&format!("{path}[{i}]"), a, b)),
        _ if want == got => None,
        _ => Some(format!("{path}: {want} became {got}")),
    }
}

/// Decodes `object` as a `T` and checks that nothing was lost or changed on the way.
fn strict<T: DeserializeOwned + Serialize>(object: &Value) -> Result<T, String> {
    let typed: T = serde_json::from_value(object.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    match first_difference("", object, &back) {
        None => Ok(typed),
        Some(d) => Err(d),
    }
}

/// Checks one rendered object against the type its apiVersion and kind name.
fn validate(object: &Value) -> Result<(), String> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    match (api_version, kind) {
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => {
            strict::<CustomResourceDefinition>(object).map(drop)
        }
        ("v1", "ServiceAccount") => strict::<ServiceAccount>(object).map(drop),
        ("rbac.authorization.k8s.io/v1", "Role") => strict::<Role>(object).map(drop),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => strict::<RoleBinding>(object).map(drop),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => strict::<ClusterRole>(object).map(drop),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            strict::<ClusterRoleBinding>(object).map(drop)
        }
        ("v1", "ConfigMap") => strict::<ConfigMap>(object).map(drop),
        ("v1", "Namespace") => strict::<Namespace>(object).map(drop),
        ("apps/v1", "Deployment") => strict::<Deployment>(object).map(drop),
        ("apps/v1", "StatefulSet") => strict::<StatefulSet>(object).map(drop),
        ("v1", "Service") => strict::<Service>(object).map(drop),
        ("v1", "Secret") => strict::<Secret>(object).map(drop),
        _ => Err(format!(
            "{api_version} {kind}: no k8s-openapi type is checked for this kind; add it to validate()"
        )),
    }
}

fn name(object: &Value) -> String {
    format!(
        "{} {}",
        object["kind"].as_str().unwrap_or("?"),
        object["metadata"]["name"].as_str().unwrap_or("?")
    )
}

#[test]
fn every_kustomization_renders_into_valid_objects() {
    let dirs = kustomizations();
    let names: Vec<_> = dirs
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "base",
        "crds",
        "workflow-rbac",
        "cluster-install",
        "namespace-install",
        "postgres",
    ] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected}: {names:?}"
        );
    }
    for dir in &dirs {
        let objects = render(dir);
        assert!(!objects.is_empty(), "{} renders nothing", dir.display());
        for object in &objects {
            if let Err(e) = validate(object) {
                panic!("{}: {}: {e}", dir.display(), name(object));
            }
        }
    }
}

#[test]
fn base_holds_the_crds_and_the_minimal_executor_role() {
    let objects = render(&manifests().join("base"));
    let crds: Vec<String> = objects
        .iter()
        .filter(|o| o["kind"] == "CustomResourceDefinition")
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    let generated: Vec<String> = controller::crd::definitions()
        .into_iter()
        .map(|c| c.metadata.name.unwrap())
        .collect();
    assert_eq!(crds.len(), generated.len());
    assert!(
        generated.iter().all(|n| crds.contains(n)),
        "{crds:?} vs {generated:?}"
    );

    let find = |kind: &str, name: &str| find(&objects, kind, name);
    let account: ServiceAccount = strict(find("ServiceAccount", "trellis-workflow")).unwrap();
    assert_eq!(account.metadata.name.as_deref(), Some("trellis-workflow"));

    let role: Role = strict(find("Role", "trellis-workflow-executor")).unwrap();
    assert_eq!(
        role.rules.unwrap(),
        vec![
            rule("", "pods", &["get", "watch", "patch"]),
            rule("", "pods/log", &["get", "watch"]),
            rule("argoproj.io", "workflowtaskresults", &["create", "patch"]),
        ],
        "the executor Role must stay minimal"
    );

    let binding: RoleBinding = strict(find("RoleBinding", "trellis-workflow-executor")).unwrap();
    assert_eq!(binding.role_ref.kind, "Role");
    assert_eq!(Some(binding.role_ref.name), role.metadata.name);
    let subjects = binding.subjects.unwrap();
    assert_eq!(subjects.len(), 1);
    assert_eq!(
        (subjects[0].kind.as_str(), subjects[0].name.as_str()),
        ("ServiceAccount", "trellis-workflow")
    );
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn rule(group: &str, resource: &str, verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![group.to_string()]),
        resources: Some(vec![resource.to_string()]),
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
        ..PolicyRule::default()
    }
}

/// Every request the controller makes (see `controller::k8s`): the watches, the status write,
/// pod creation, stop (patch) and garbage collection, TTL deletion, CronWorkflow runs and status.
fn controller_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            "argoproj.io",
            "workflows",
            &[
                "get", "list", "watch", "create", "update", "patch", "delete",
            ],
        ),
        rule(
            "argoproj.io",
            "workflows/status",
            &["get", "update", "patch"],
        ),
        rule("argoproj.io", "workflows/finalizers", &["update"]),
        rule(
            "argoproj.io",
            "workflowtaskresults",
            &["get", "list", "watch"],
        ),
        rule(
            "argoproj.io",
            "workflowtemplates",
            &["get", "list", "watch"],
        ),
        rule("argoproj.io", "cronworkflows", &["get", "list", "watch"]),
        rule("argoproj.io", "cronworkflows/status", &["get", "update"]),
        rule(
            "",
            "pods",
            &["get", "list", "watch", "create", "patch", "delete"],
        ),
        rule("", "configmaps", &["get"]),
    ]
}

#[test]
fn the_controller_runs_as_its_account_with_the_rules_it_needs_and_no_more() {
    let cluster = render(&manifests().join("cluster-install"));
    let role: ClusterRole = strict(find(&cluster, "ClusterRole", "trellis-controller")).unwrap();
    let mut want = controller_rules();
    want.push(rule(
        "argoproj.io",
        "clusterworkflowtemplates",
        &["get", "list", "watch"],
    ));
    assert_eq!(role.rules.unwrap(), want);
    let binding: ClusterRoleBinding =
        strict(find(&cluster, "ClusterRoleBinding", "trellis-controller")).unwrap();
    let subject = &binding.subjects.unwrap()[0];
    assert_eq!(
        (subject.name.as_str(), subject.namespace.as_deref()),
        ("trellis-controller", Some("trellis"))
    );
    let lease: Role = strict(find(&cluster, "Role", "trellis-controller-leader-election")).unwrap();
    assert_eq!(
        lease.rules.unwrap(),
        vec![rule(
            "coordination.k8s.io",
            "leases",
            &["get", "create", "update"]
        )]
    );

    let deployment: Deployment =
        strict(find(&cluster, "Deployment", "trellis-controller")).unwrap();
    assert_eq!(deployment.metadata.namespace.as_deref(), Some("trellis"));
    let pod = deployment.spec.unwrap().template.spec.unwrap();
    assert_eq!(
        pod.service_account_name.as_deref(),
        Some("trellis-controller")
    );
    assert_eq!(pod.security_context.unwrap().run_as_non_root, Some(true));
    let container = &pod.containers[0];
    assert_eq!(
        container.args.as_deref(),
        Some(&["controller".to_string()][..])
    );
    let config: ConfigMap =
        strict(find(&cluster, "ConfigMap", "trellis-controller-config")).unwrap();
    let data = config.data.unwrap();
    assert_eq!(
        Some(&data["TRELLIS_EXECUTOR_IMAGE"]),
        container.image.as_ref(),
        "step pods copy trellis from the controller's own image"
    );
    assert!(!data.contains_key("TRELLIS_NAMESPACED"));

    let namespaced = render(&manifests().join("namespace-install"));
    assert!(!namespaced.iter().any(|o| o["kind"] == "ClusterRole"));
    let role: Role = strict(find(&namespaced, "Role", "trellis-controller")).unwrap();
    assert_eq!(role.rules.unwrap(), controller_rules());
    let config: ConfigMap =
        strict(find(&namespaced, "ConfigMap", "trellis-controller-config")).unwrap();
    let data = config.data.unwrap();
    assert_eq!(data["TRELLIS_NAMESPACED"], "true");
    assert!(
        data.contains_key("TRELLIS_EXECUTOR_IMAGE"),
        "the patch keeps the rest"
    );
}

#[test]
fn a_misspelt_field_is_refused() {
    let role = serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "r"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verb": ["get"]}],
    });
    let err = validate(&role).unwrap_err();
    assert!(err.contains(".rules[0].verb: unknown field"), "{err}");
    let account = serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a", "lables": {}}});
    assert!(
        validate(&account)
            .unwrap_err()
            .contains(".metadata.lables: unknown field")
    );
    let unknown = serde_json::json!({"apiVersion": "v1", "kind": "Frobnicator"});
    assert!(
        validate(&unknown)
            .unwrap_err()
            .contains("no k8s-openapi type")
    );
}

/// Every request the server makes (`trellis serve --backend kubernetes`): the watches of
/// workflows, templates and CronWorkflows, their writes from the UI and the API (submit, retry,
/// stop, suspend, edit, delete), the deletion of a workflow's task results and Pods, step logs.
fn server_rules() -> Vec<PolicyRule> {
    let all = [
        "get", "list", "watch", "create", "update", "patch", "delete",
    ];
    vec![
        rule("argoproj.io", "workflows", &all),
        rule(
            "argoproj.io",
            "workflows/status",
            &["get", "update", "patch"],
        ),
        rule("argoproj.io", "workflowtemplates", &all),
        rule("argoproj.io", "workfloweventbindings", &all),
        rule("argoproj.io", "cronworkflows", &all),
        rule(
            "argoproj.io",
            "workflowtaskresults",
            &["list", "delete", "deletecollection"],
        ),
        rule("", "pods", &["get", "list", "watch", "delete"]),
        rule("", "pods/log", &["get"]),
    ]
}

/// The number of the port `port` names in `container` (a number, or one of its ports' names).
fn port_number(container: &Container, port: &IntOrString) -> i32 {
    match port {
        IntOrString::Int(number) => *number,
        IntOrString::String(name) => {
            container
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .unwrap_or_else(|| panic!("{}: no port named {name}", container.name))
                .container_port
        }
    }
}

/// The only container of a Pod spec.
fn only_container(pod: &PodSpec) -> &Container {
    assert_eq!(pod.containers.len(), 1, "one container");
    &pod.containers[0]
}

/// Checks a non-root Pod whose container cannot escalate and drops every capability.
fn assert_restricted(what: &str, pod: &PodSpec) {
    let security = pod.security_context.as_ref().unwrap();
    assert_eq!(security.run_as_non_root, Some(true), "{what}");
    assert!(security.run_as_user.is_some_and(|uid| uid != 0), "{what}");
    assert_eq!(
        security.seccomp_profile.as_ref().map(|p| p.type_.as_str()),
        Some("RuntimeDefault"),
        "{what}"
    );
    let container = only_container(pod).security_context.as_ref().unwrap();
    assert_eq!(container.allow_privilege_escalation, Some(false), "{what}");
    assert_eq!(
        container.capabilities.as_ref().unwrap().drop.as_deref(),
        Some(&["ALL".to_string()][..]),
        "{what}"
    );
}

/// Checks the server of one rendered overlay: its Deployment (one replica replaced, not rolled,
/// as its account, restricted, `trellis serve` with its settings, probed on `/healthz` at its
/// port, its data directory on a volume), its settings and its Service. Returns its container
/// and its settings.
fn check_server(dir: &str, objects: &[Value]) -> (Container, BTreeMap<String, String>) {
    let deployment: Deployment = strict(find(objects, "Deployment", "trellis-server")).unwrap();
    assert_eq!(deployment.metadata.namespace.as_deref(), Some("trellis"));
    let spec = deployment.spec.unwrap();
    assert_eq!(spec.replicas, Some(1), "{dir}");
    assert_eq!(
        spec.strategy.and_then(|s| s.type_).as_deref(),
        Some("Recreate"),
        "{dir}: one server per database, even while it is replaced"
    );
    let pod_labels = spec.template.metadata.unwrap().labels.unwrap();
    let selector = spec.selector.match_labels.unwrap();
    assert!(selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v)));
    let pod = spec.template.spec.unwrap();
    assert_eq!(
        pod.service_account_name.as_deref(),
        Some("trellis-server"),
        "{dir}"
    );
    assert_restricted(dir, &pod);
    let container = only_container(&pod).clone();
    assert_eq!(
        container
            .security_context
            .as_ref()
            .unwrap()
            .read_only_root_filesystem,
        Some(true)
    );
    assert_eq!(container.args.as_deref(), Some(&["serve".to_string()][..]));
    let controller: Deployment = strict(find(objects, "Deployment", "trellis-controller")).unwrap();
    let controller_pod = controller.spec.unwrap().template.spec.unwrap();
    assert_eq!(
        container.image, controller_pod.containers[0].image,
        "{dir}: one image"
    );

    let sources = container.env_from.as_deref().unwrap_or_default();
    assert_eq!(
        sources
            .iter()
            .filter_map(|s| s.config_map_ref.as_ref())
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["trellis-server-config"]
    );
    let config: ConfigMap = strict(find(objects, "ConfigMap", "trellis-server-config")).unwrap();
    let data = config.data.unwrap();
    assert_eq!(data["TRELLIS_BACKEND"], "kubernetes", "{dir}");
    assert_eq!(
        data["TRELLIS_HOST"], "0.0.0.0",
        "{dir}: reachable from the Service"
    );
    assert_eq!(
        data["TRELLIS_AUTH_MODE"], "client",
        "{dir}: `server` mode refuses a non-loopback host"
    );
    let port: i32 = data["TRELLIS_PORT"].parse().unwrap();
    assert_eq!(port, 2746);

    let probes: Vec<(&str, &Probe)> = [
        ("startup", &container.startup_probe),
        ("readiness", &container.readiness_probe),
        ("liveness", &container.liveness_probe),
    ]
    .into_iter()
    .filter_map(|(kind, p)| p.as_ref().map(|p| (kind, p)))
    .collect();
    assert!(
        probes.iter().any(|(kind, _)| *kind == "readiness")
            && probes.iter().any(|(kind, _)| *kind == "liveness"),
        "{dir}: {probes:?}"
    );
    for (kind, probe) in probes {
        let get = probe
            .http_get
            .as_ref()
            .unwrap_or_else(|| panic!("{dir}: the {kind} probe is no HTTP GET"));
        assert_eq!(
            get.path.as_deref(),
            Some("/healthz"),
            "{dir}: {kind}: the one route that needs no token"
        );
        assert_eq!(port_number(&container, &get.port), port, "{dir}: {kind}");
    }

    let mounts = container.volume_mounts.as_deref().unwrap_or_default();
    let data_mount = mounts
        .iter()
        .find(|m| m.mount_path == data["TRELLIS_DATA_DIR"])
        .unwrap_or_else(|| panic!("{dir}: the data directory is on no volume"));
    assert!(
        pod.volumes
            .iter()
            .flatten()
            .any(|v| v.name == data_mount.name)
    );

    let service: Service = strict(find(objects, "Service", "trellis-server")).unwrap();
    assert_eq!(service.metadata.namespace.as_deref(), Some("trellis"));
    let service = service.spec.unwrap();
    assert!(
        service
            .selector
            .unwrap()
            .iter()
            .all(|(k, v)| pod_labels.get(k) == Some(v)),
        "{dir}: the Service selects the server's Pod"
    );
    let ports = service.ports.unwrap();
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0].port, 2746);
    assert_eq!(
        port_number(&container, ports[0].target_port.as_ref().unwrap()),
        port
    );
    (container, data)
}

#[test]
fn the_server_runs_as_its_account_with_the_rules_it_needs_and_no_more() {
    let cluster = render(&manifests().join("cluster-install"));
    let account: ServiceAccount =
        strict(find(&cluster, "ServiceAccount", "trellis-server")).unwrap();
    assert_eq!(account.metadata.namespace.as_deref(), Some("trellis"));
    let role: ClusterRole = strict(find(&cluster, "ClusterRole", "trellis-server")).unwrap();
    let mut want = server_rules();
    want.push(rule(
        "argoproj.io",
        "clusterworkflowtemplates",
        &[
            "get", "list", "watch", "create", "update", "patch", "delete",
        ],
    ));
    assert_eq!(role.rules.unwrap(), want);
    let binding: ClusterRoleBinding =
        strict(find(&cluster, "ClusterRoleBinding", "trellis-server")).unwrap();
    assert_eq!(
        (
            binding.role_ref.kind.as_str(),
            binding.role_ref.name.as_str()
        ),
        ("ClusterRole", "trellis-server")
    );
    let subjects = binding.subjects.unwrap();
    assert_eq!(subjects.len(), 1);
    assert_eq!(
        (
            subjects[0].kind.as_str(),
            subjects[0].name.as_str(),
            subjects[0].namespace.as_deref()
        ),
        ("ServiceAccount", "trellis-server", Some("trellis"))
    );
    let (container, data) = check_server("cluster-install", &cluster);
    assert!(!data.contains_key("TRELLIS_NAMESPACED"));
    assert!(!data.contains_key("TRELLIS_DATABASE_URL"));
    assert!(container.env.is_none(), "SQLite in the data directory");

    let namespaced = render(&manifests().join("namespace-install"));
    let role: Role = strict(find(&namespaced, "Role", "trellis-server")).unwrap();
    assert_eq!(role.rules.unwrap(), server_rules());
    let binding: RoleBinding = strict(find(&namespaced, "RoleBinding", "trellis-server")).unwrap();
    assert_eq!(
        (
            binding.role_ref.kind.as_str(),
            binding.role_ref.name.as_str()
        ),
        ("Role", "trellis-server")
    );
    let subjects = binding.subjects.unwrap();
    assert_eq!(subjects.len(), 1);
    assert_eq!(
        (subjects[0].kind.as_str(), subjects[0].name.as_str()),
        ("ServiceAccount", "trellis-server")
    );
    assert!(!namespaced.iter().any(|o| o["kind"] == "ClusterRoleBinding"));
    let (_, data) = check_server("namespace-install", &namespaced);
    assert_eq!(data["TRELLIS_NAMESPACED"], "true");
}

#[test]
fn the_image_holds_the_site_the_server_serves() {
    let cluster = render(&manifests().join("cluster-install"));
    let (_, data) = check_server("cluster-install", &cluster);
    let site = &data["TRELLIS_SITE_DIR"];
    let dockerfile = std::fs::read_to_string(manifests().join("../Dockerfile")).unwrap();
    assert!(
        dockerfile
            .lines()
            .any(|l| l.starts_with("COPY ") && l.trim_end().ends_with(&format!(" {site}"))),
        "the Dockerfile copies no site into {site}"
    );
    assert!(
        dockerfile.contains("cargo xtask build --release"),
        "the site is built as `cargo xtask build` builds it"
    );
}

/// `postgres://USER:PASSWORD@HOST:PORT/DATABASE` in its parts.
fn url_parts(url: &str) -> (&str, &str, &str, &str) {
    let rest = url
        .strip_prefix("postgres://")
        .unwrap_or_else(|| panic!("{url}"));
    let (credentials, rest) = rest.split_once('@').unwrap();
    let (user, password) = credentials.split_once(':').unwrap();
    let (host, database) = rest.split_once('/').unwrap();
    (user, password, host, database)
}

#[test]
fn the_postgres_overlay_keeps_the_servers_database_in_postgres() {
    let objects = render(&manifests().join("postgres"));
    let cluster = render(&manifests().join("cluster-install"));
    for object in &cluster {
        find(
            &objects,
            object["kind"].as_str().unwrap(),
            object["metadata"]["name"].as_str().unwrap(),
        );
    }
    let (container, data) = check_server("postgres", &objects);
    assert!(
        data.contains_key("TRELLIS_BACKEND"),
        "the patch keeps the rest"
    );

    let env = container.env.unwrap();
    let url = env
        .iter()
        .find(|e| e.name == "TRELLIS_DATABASE_URL")
        .expect("the server is given TRELLIS_DATABASE_URL");
    assert!(url.value.is_none(), "no password in the Deployment");
    let from = url
        .value_from
        .as_ref()
        .unwrap()
        .secret_key_ref
        .as_ref()
        .unwrap();
    // The controller offloads large node status to the same database.
    let controller: Deployment =
        strict(find(&objects, "Deployment", "trellis-controller")).unwrap();
    let pod = controller.spec.unwrap().template.spec.unwrap();
    let controller_env = pod.containers[0].env.clone().unwrap_or_default();
    let shared = controller_env
        .iter()
        .find(|e| e.name == "TRELLIS_DATABASE_URL")
        .expect("the controller is given TRELLIS_DATABASE_URL");
    assert_eq!(shared, url, "the same database as the server's");
    let secret: Secret = strict(find(&objects, "Secret", from.name.as_str())).unwrap();
    assert_eq!(secret.metadata.namespace.as_deref(), Some("trellis"));
    let secrets = secret.string_data.unwrap();
    let (user, password, host, database) = url_parts(&secrets[&from.key]);

    let service: Service = strict(find(&objects, "Service", "trellis-postgres")).unwrap();
    let service_spec = service.spec.unwrap();
    let service_port = &service_spec.ports.as_ref().unwrap()[0];
    assert_eq!(host, format!("trellis-postgres:{}", service_port.port));

    let postgres: StatefulSet = strict(find(&objects, "StatefulSet", "trellis-postgres")).unwrap();
    assert_eq!(postgres.metadata.namespace.as_deref(), Some("trellis"));
    let spec = postgres.spec.unwrap();
    assert_eq!(spec.replicas, Some(1));
    assert_eq!(spec.service_name.as_deref(), Some("trellis-postgres"));
    let pod_labels = spec.template.metadata.unwrap().labels.unwrap();
    assert!(
        service_spec
            .selector
            .unwrap()
            .iter()
            .all(|(k, v)| pod_labels.get(k) == Some(v)),
        "the Service selects PostgreSQL's Pod"
    );
    let pod = spec.template.spec.unwrap();
    assert_restricted("postgres", &pod);
    let db = only_container(&pod);
    assert_eq!(db.image.as_deref(), Some("postgres:16"));
    assert_eq!(
        port_number(db, service_port.target_port.as_ref().unwrap()),
        5432
    );
    let db_env = db.env.as_deref().unwrap();
    let value = |name: &str| {
        db_env
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.value.as_deref())
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(value("POSTGRES_USER"), user);
    assert_eq!(value("POSTGRES_DB"), database);
    let password_from = db_env
        .iter()
        .find(|e| e.name == "POSTGRES_PASSWORD")
        .and_then(|e| e.value_from.as_ref()?.secret_key_ref.as_ref())
        .expect("PostgreSQL's password comes from the Secret");
    assert_eq!(password_from.name, from.name);
    assert_eq!(
        secrets[&password_from.key], password,
        "the Secret's password and its URL's agree"
    );

    let claims = spec.volume_claim_templates.unwrap();
    let pgdata = value("PGDATA");
    let mount = db
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| pgdata.starts_with(&m.mount_path))
        .expect("PGDATA is on a volume");
    assert!(
        claims
            .iter()
            .any(|c| c.metadata.name.as_deref() == Some(mount.name.as_str())),
        "PGDATA is on the volume claim"
    );
}
