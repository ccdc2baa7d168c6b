//! `manifests/`: every kustomization renders with `kubectl kustomize`, and every object it renders
//! is a valid object of its `k8s-openapi` type, with no field that type does not know (a typo in a
//! manifest would otherwise be dropped silently by the API server's client-side decoding).

use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
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
