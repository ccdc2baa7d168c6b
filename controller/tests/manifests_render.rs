//! `manifests/`: every kustomization renders with `kubectl kustomize`, and every object it renders
//! is a valid object of its `k8s-openapi` type, with no field that type does not know (a typo in a
//! manifest would otherwise be dropped silently by the API server's client-side decoding).

use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding};
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
    assert!(
        names.contains(&"base".to_string()) && names.contains(&"crds".to_string()),
        "{names:?}"
    );
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

    let find = |kind: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap_or_else(|| panic!("base has no {kind}"))
    };
    let account: ServiceAccount = strict(find("ServiceAccount")).unwrap();
    assert_eq!(account.metadata.name.as_deref(), Some("trellis-workflow"));

    let role: Role = strict(find("Role")).unwrap();
    let rule = |group: &str, resource: &str, verbs: &[&str]| PolicyRule {
        api_groups: Some(vec![group.to_string()]),
        resources: Some(vec![resource.to_string()]),
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
        ..PolicyRule::default()
    };
    assert_eq!(
        role.rules.unwrap(),
        vec![
            rule("", "pods", &["get", "watch", "patch"]),
            rule("", "pods/log", &["get", "watch"]),
            rule("argoproj.io", "workflowtaskresults", &["create", "patch"]),
        ],
        "the executor Role must stay minimal"
    );

    let binding: RoleBinding = strict(find("RoleBinding")).unwrap();
    assert_eq!(binding.role_ref.kind, "Role");
    assert_eq!(Some(binding.role_ref.name), role.metadata.name);
    let subjects = binding.subjects.unwrap();
    assert_eq!(subjects.len(), 1);
    assert_eq!(
        (subjects[0].kind.as_str(), subjects[0].name.as_str()),
        ("ServiceAccount", "trellis-workflow")
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
