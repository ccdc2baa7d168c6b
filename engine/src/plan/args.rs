//! Arguments → inputs: values, defaults, enums, artifacts; and the `inputs.*` variables.

use crate::model::{Arguments, Artifact, Inputs, Parameter, Template};

use super::scope::{Unresolved, Vars, render};
use super::walk::Ctx;

/// The JSON fields of an artifact that say where it lives.
pub(crate) const LOCATION_FIELDS: [&str; 9] = [
    "s3",
    "git",
    "http",
    "artifactory",
    "hdfs",
    "raw",
    "oss",
    "gcs",
    "azure",
];

/// Whether an artifact says where it lives.
pub(crate) fn has_location(a: &Artifact) -> bool {
    let Ok(serde_json::Value::Object(m)) = serde_json::to_value(a) else {
        return false;
    };
    LOCATION_FIELDS.iter().any(|f| m.contains_key(*f))
}

/// Copies the location of `from` onto `to` (keeping `to`'s name, path, mode…).
pub(crate) fn with_location(to: &Artifact, from: &Artifact) -> Artifact {
    let (Ok(mut t), Ok(f)) = (serde_json::to_value(to), serde_json::to_value(from)) else {
        return to.clone();
    };
    if let (Some(t), serde_json::Value::Object(f)) = (t.as_object_mut(), f) {
        for field in LOCATION_FIELDS {
            t.remove(field);
            if let Some(v) = f.get(field) {
                t.insert(field.to_string(), v.clone());
            }
        }
        if !t.contains_key("archive")
            && let Some(a) = f.get("archive")
        {
            t.insert("archive".into(), a.clone());
        }
    }
    serde_json::from_value(t).unwrap_or_else(|_| to.clone())
}

/// Builds a node's inputs from a template's declared inputs and the caller's arguments.
pub(crate) fn process_inputs(
    ctx: &Ctx<'_>,
    tmpl: &Template,
    args: &Arguments,
) -> Result<Option<Inputs>, String> {
    let Some(decl) = &tmpl.inputs else {
        return Ok(None);
    };
    let vars = ctx.base_vars();
    let mut params = Vec::new();
    for p in decl.parameters.iter().flatten() {
        params.push(input_parameter(ctx, p, args, &vars)?);
    }
    let mut artifacts = Vec::new();
    for a in decl.artifacts.iter().flatten() {
        let a = super::scope::render_model(a, &vars, Unresolved::Keep)?;
        artifacts.push(input_artifact(&a, args)?);
    }
    Ok(Some(Inputs {
        parameters: (!params.is_empty()).then_some(params),
        artifacts: (!artifacts.is_empty()).then_some(artifacts),
    }))
}

fn input_parameter(
    ctx: &Ctx<'_>,
    p: &Parameter,
    args: &Arguments,
    vars: &Vars,
) -> Result<Parameter, String> {
    let name = p.name.clone().unwrap_or_default();
    let supplied = args
        .parameters
        .iter()
        .flatten()
        .find(|a| a.name.as_deref() == Some(&name))
        .and_then(|a| a.value.clone().or_else(|| a.default.clone()));
    let mut out = p.clone();
    let value = match supplied
        .or_else(|| p.value.clone())
        .or_else(|| p.default.clone())
    {
        Some(v) => Some(render(&v.0, vars, Unresolved::Keep)?),
        None if p.value_from.as_ref().is_some_and(|v| v.supplied.is_some()) => None,
        None if p
            .value_from
            .as_ref()
            .is_some_and(|v| v.config_map_key_ref.is_some()) =>
        {
            let r = p
                .value_from
                .as_ref()
                .and_then(|v| v.config_map_key_ref.as_ref());
            let (cm, key) = r
                .map(|r| (r.name.as_str(), r.key.as_str()))
                .unwrap_or_default();
            match ctx.wf.config_value(cm, key) {
                Some(v) => Some(v.to_string()),
                None => {
                    return Err(format!(
                        "inputs.parameters.{name}: ConfigMap \"{cm}\" has no key \"{key}\" \
                         (load the ConfigMap with `--load`)"
                    ));
                }
            }
        }
        None => return Err(format!("inputs.parameters.{name} was not supplied")),
    };
    if let (Some(v), Some(allowed)) = (&value, &p.r#enum)
        && !allowed.iter().any(|a| &a.0 == v)
    {
        let list: Vec<&str> = allowed.iter().map(|a| a.0.as_str()).collect();
        return Err(format!(
            "value \"{v}\" of inputs.parameters.{name} is not one of its enum values [{}]",
            list.join(", ")
        ));
    }
    out.value = value.map(Into::into);
    Ok(out)
}

fn input_artifact(a: &Artifact, args: &Arguments) -> Result<Artifact, String> {
    let name = a.name.clone().unwrap_or_default();
    let arg = args
        .artifacts
        .iter()
        .flatten()
        .find(|x| x.name.as_deref() == Some(&name));
    if let Some(arg) = arg {
        let sub_path = arg.sub_path.as_deref().unwrap_or_default();
        if let Some(from) = arg.from.as_deref().filter(|f| !f.contains("{{")) {
            let src: Artifact = serde_json::from_str(from).map_err(|_| {
                format!("inputs.artifacts.{name}: `from` does not name an artifact: {from}")
            })?;
            return within(&with_location(a, &src), sub_path, &name);
        }
        if has_location(arg) {
            return within(&with_location(a, arg), sub_path, &name);
        }
    }
    if has_location(a) || a.optional == Some(true) {
        return Ok(a.clone());
    }
    Err(format!("inputs.artifacts.{name} was not supplied"))
}

/// The part of an artifact at `sub_path` (an argument's `subPath`): the path is appended to its
/// key (or URL), as Argo does, so it names a file or directory of an unarchived artifact.
fn within(a: &Artifact, sub_path: &str, name: &str) -> Result<Artifact, String> {
    let sub = sub_path.trim_matches('/');
    if sub.is_empty() {
        return Ok(a.clone());
    }
    if sub.split('/').any(|part| part == "..") {
        return Err(format!(
            "inputs.artifacts.{name}: subPath {sub_path:?} may not leave the artifact (`..`)"
        ));
    }
    let Ok(serde_json::Value::Object(mut m)) = serde_json::to_value(a) else {
        return Ok(a.clone());
    };
    let mut appended = false;
    for field in LOCATION_FIELDS {
        let Some(serde_json::Value::Object(loc)) = m.get_mut(field) else {
            continue;
        };
        for key in ["key", "path", "url", "blob"] {
            if let Some(serde_json::Value::String(k)) = loc.get_mut(key) {
                *k = format!("{}/{sub}", k.trim_end_matches('/'));
                appended = true;
                break;
            }
        }
    }
    if !appended {
        return Err(format!(
            "inputs.artifacts.{name}: subPath {sub_path:?} needs an artifact stored under a key \
             or URL"
        ));
    }
    serde_json::from_value(serde_json::Value::Object(m)).map_err(|e| e.to_string())
}

/// Adds `inputs.parameters.*`, `inputs.parameters`, `inputs.artifacts.*` (the artifact, as JSON,
/// for `from:`) and `inputs.artifacts.*.path` to a scope.
pub(crate) fn add_input_vars(v: &mut Vars, inputs: Option<&Inputs>) {
    let Some(inputs) = inputs else { return };
    let mut all = Vec::new();
    for p in inputs.parameters.iter().flatten() {
        let name = p.name.as_deref().unwrap_or_default();
        if let Some(val) = &p.value {
            v.insert(format!("inputs.parameters.{name}"), val.0.clone());
        }
        all.push(p.clone());
    }
    if let Ok(j) = serde_json::to_string(&all) {
        v.insert("inputs.parameters", j);
    }
    for a in inputs.artifacts.iter().flatten() {
        let name = a.name.as_deref().unwrap_or_default();
        if let Some(path) = &a.path {
            v.insert(format!("inputs.artifacts.{name}.path"), path.clone());
        }
        if let Ok(j) = serde_json::to_string(a) {
            v.insert(format!("inputs.artifacts.{name}"), j);
        }
    }
}
