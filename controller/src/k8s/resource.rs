//! Resource templates (`resource:`) on the Kubernetes backend: the step Pod runs
//! `trellis exec --resource-env TRELLIS_RESOURCE --report` in the Trellis image, with the Pod's
//! ServiceAccount (as Argo's `argoexec resource` does with kubectl): it creates, applies, patches,
//! gets or deletes the manifest's object, waits for `successCondition` / `failureCondition`, reads
//! the output parameters (`valueFrom.jsonPath`) and reports them in the WorkflowTaskResult.
//!
//! Conditions use Argo's syntax: Kubernetes label-selector requirements whose keys are paths into
//! the object (`status.succeeded > 2`, `status.phase in (Failed, Error)`, `!status.error`),
//! all of which must hold.

use std::time::Duration;

use engine::model::Template;
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{Discovery, Scope, pinned_kind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pod::{ReportTarget, owner_reference};
use crate::exec::{ExecPhase, ExecResult, OutputParameterValue};

/// The environment variable carrying a [`ResourceSpec`] (JSON).
pub const RESOURCE_ENV: &str = "TRELLIS_RESOURCE";

/// How often the object is read while waiting for a condition.
const POLL: Duration = Duration::from_secs(2);

/// Everything `trellis exec --resource-env` needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSpec {
    /// `create`, `apply`, `patch`, `get` or `delete`.
    pub action: String,
    /// The manifest (YAML or JSON), already substituted; a JSON patch for `mergeStrategy: json`.
    pub manifest: String,
    /// `strategic` (the default), `merge` or `json`, for `patch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_strategy: Option<String>,
    /// Wait until every requirement holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_condition: Option<String>,
    /// Fail as soon as one requirement holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_condition: Option<String>,
    /// Make the workflow the object's owner (deleted with it).
    #[serde(default)]
    pub set_owner_reference: bool,
    /// kubectl-style arguments: `[KIND, NAME]` names the object of a `patch`, `get` or `delete`
    /// whose manifest does not.
    #[serde(default)]
    pub flags: Vec<String>,
    /// The workflow the step belongs to (its namespace is the object's default namespace).
    pub owner: ReportTarget,
    /// Output parameters read from the object.
    #[serde(default)]
    pub outputs: Vec<ResourceOutput>,
}

/// An output parameter of a resource template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceOutput {
    /// The parameter's name.
    pub name: String,
    /// `valueFrom.jsonPath` (kubectl's syntax: `{.metadata.name}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    /// `valueFrom.default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// The spec of a resource template's step; an `Err` is the node's Error message.
pub fn spec_of(t: &Template, owner: ReportTarget) -> Result<ResourceSpec, String> {
    let Some(r) = &t.resource else {
        return Err(format!("template \"{}\" is no resource template", t.name()));
    };
    let action = r.action.clone().unwrap_or_default();
    if !matches!(
        action.as_str(),
        "create" | "apply" | "patch" | "get" | "delete"
    ) {
        return Err(format!(
            "template \"{}\": resource action \"{action}\" is not one of create, apply, patch, get, delete",
            t.name()
        ));
    }
    if r.manifest_from.is_some() {
        return Err(format!(
            "template \"{}\": resource.manifestFrom (an artifact) is not supported on the Kubernetes backend yet; \
             use resource.manifest",
            t.name()
        ));
    }
    let mut outputs = Vec::new();
    for p in t.outputs.iter().flat_map(|o| o.parameters.iter().flatten()) {
        let Some(from) = &p.value_from else { continue };
        if from.jq_filter.is_some() {
            return Err(format!(
                "template \"{}\": output parameter {}: jqFilter is not supported; use jsonPath",
                t.name(),
                p.name.as_deref().unwrap_or_default()
            ));
        }
        outputs.push(ResourceOutput {
            name: p.name.clone().unwrap_or_default(),
            json_path: from.json_path.clone(),
            default: from.default.as_ref().map(|d| d.0.clone()),
        });
    }
    Ok(ResourceSpec {
        action,
        manifest: r.manifest.clone().unwrap_or_default(),
        merge_strategy: r.merge_strategy.clone(),
        success_condition: r.success_condition.clone(),
        failure_condition: r.failure_condition.clone(),
        set_owner_reference: r.set_owner_reference == Some(true),
        flags: r.flags.clone().unwrap_or_default(),
        owner,
        outputs,
    })
}

/// One requirement of a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The path into the object (`status.succeeded`).
    pub key: String,
    /// How the value is compared.
    pub op: Op,
    /// The values compared with.
    pub values: Vec<String>,
}

/// The operators of Kubernetes label selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `key`
    Exists,
    /// `!key`
    DoesNotExist,
    /// `key = v`, `key == v`
    Equals,
    /// `key != v`
    NotEquals,
    /// `key in (a, b)`
    In,
    /// `key notin (a, b)`
    NotIn,
    /// `key > n`
    GreaterThan,
    /// `key < n`
    LessThan,
}

/// Splits a selector at the commas outside parentheses.
fn terms(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out.into_iter().filter(|t| !t.is_empty()).collect()
}

/// Parses a condition; an `Err` says which part is wrong.
pub fn parse_condition(s: &str) -> Result<Vec<Requirement>, String> {
    terms(s).into_iter().map(parse_requirement).collect()
}

fn parse_requirement(term: &str) -> Result<Requirement, String> {
    let bad = || {
        format!(
            "condition \"{term}\" is not `KEY OP VALUE` (OP: =, ==, !=, >, <, in, notin) or `[!]KEY`"
        )
    };
    let set = |key: &str, rest: &str, op: Op| {
        let inner = rest
            .trim()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(bad)?;
        Ok(Requirement {
            key: key.trim().into(),
            op,
            values: inner.split(',').map(|v| v.trim().to_string()).collect(),
        })
    };
    if let Some((key, rest)) = term.split_once(" notin ") {
        return set(key, rest, Op::NotIn);
    }
    if let Some((key, rest)) = term.split_once(" in ") {
        return set(key, rest, Op::In);
    }
    for (token, op) in [
        ("!=", Op::NotEquals),
        ("==", Op::Equals),
        ("=", Op::Equals),
        (">", Op::GreaterThan),
        ("<", Op::LessThan),
    ] {
        if let Some((key, value)) = term.split_once(token) {
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() || value.is_empty() {
                return Err(bad());
            }
            if matches!(op, Op::GreaterThan | Op::LessThan) && value.parse::<i64>().is_err() {
                return Err(format!("condition \"{term}\": {value} is not an integer"));
            }
            return Ok(Requirement {
                key: key.into(),
                op,
                values: vec![value.into()],
            });
        }
    }
    let (key, op) = match term.strip_prefix('!') {
        Some(k) => (k.trim(), Op::DoesNotExist),
        None => (term, Op::Exists),
    };
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok(Requirement {
        key: key.into(),
        op,
        values: Vec::new(),
    })
}

/// The value at a dotted path (`status.conditions.0.type`), as gjson finds it.
pub fn lookup<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(object, |v, seg| match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => a.get(seg.parse::<usize>().ok()?),
        _ => None,
    })
}

/// A value as text: strings as they are, anything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a requirement holds on the object (Kubernetes' label-selector semantics: a missing
/// key satisfies only `!key`, `!=` and `notin`; a `null` value exists, as gjson finds it).
pub fn holds(r: &Requirement, object: &Value) -> bool {
    let found = lookup(object, &r.key);
    match (r.op, found) {
        (Op::Exists, f) => f.is_some(),
        (Op::DoesNotExist, f) => f.is_none(),
        (Op::NotEquals | Op::NotIn, None) => true,
        (_, None) => false,
        (Op::Equals | Op::In, Some(v)) => r.values.contains(&text(v)),
        (Op::NotEquals | Op::NotIn, Some(v)) => !r.values.contains(&text(v)),
        (Op::GreaterThan | Op::LessThan, Some(v)) => {
            let (Ok(have), Ok(want)) = (text(v).parse::<i64>(), r.values[0].parse::<i64>()) else {
                return false;
            };
            if r.op == Op::GreaterThan {
                have > want
            } else {
                have < want
            }
        }
    }
}

/// What the conditions say of the object now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every success requirement holds (or there are none).
    Succeeded,
    /// A failure requirement holds: the message names it.
    Failed(String),
    /// Neither yet.
    Waiting,
}

/// Checks the failure requirements first, then the success ones, as Argo does.
pub fn verdict(success: &[Requirement], failure: &[Requirement], object: &Value) -> Verdict {
    if let Some(r) = failure.iter().find(|r| holds(r, object)) {
        return Verdict::Failed(format!("failure condition '{}' matched", show(r)));
    }
    if success.iter().all(|r| holds(r, object)) {
        Verdict::Succeeded
    } else {
        Verdict::Waiting
    }
}

fn show(r: &Requirement) -> String {
    let op = match r.op {
        Op::Exists => return r.key.clone(),
        Op::DoesNotExist => return format!("!{}", r.key),
        Op::Equals => "=",
        Op::NotEquals => "!=",
        Op::In => return format!("{} in ({})", r.key, r.values.join(",")),
        Op::NotIn => return format!("{} notin ({})", r.key, r.values.join(",")),
        Op::GreaterThan => ">",
        Op::LessThan => "<",
    };
    format!("{}{op}{}", r.key, r.values[0])
}

/// A kubectl JSONPath (`{.metadata.name}`, `.status.phase`) evaluated on the object.
pub fn json_path(object: &Value, expr: &str) -> Result<String, String> {
    let inner = expr.trim();
    let inner = inner
        .strip_prefix('{')
        .and_then(|e| e.strip_suffix('}'))
        .unwrap_or(inner);
    let path = inner.trim().trim_start_matches('.');
    if path.is_empty() {
        return Ok(object.to_string());
    }
    let path = path.replace('[', ".").replace(']', "");
    lookup(object, &path)
        .map(text)
        .ok_or_else(|| format!("jsonPath {expr} finds nothing in the object"))
}

/// The object a step acts on: the parsed manifest (or patch), and the kind and name from the
/// manifest or from `flags` (`[KIND, NAME]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The manifest (or patch) as JSON.
    pub body: Value,
    /// `apiVersion` and `kind` of the manifest, when it has them.
    pub gvk: Option<(String, String)>,
    /// The resource named in flags (`pod`, `pods`, `workflow`), when the manifest has no kind.
    pub resource: Option<String>,
    /// The object's name (none for a `create` with `generateName`).
    pub name: Option<String>,
}

/// Reads the manifest and flags of a spec.
pub fn target(spec: &ResourceSpec) -> Result<Target, String> {
    let docs = engine::yaml::parse_stream(&spec.manifest)
        .map_err(|e| format!("the resource manifest is not valid YAML: {e}"))?;
    let body = docs
        .first()
        .map(engine::yaml::to_json)
        .unwrap_or(Value::Null);
    let positional: Vec<&String> = spec.flags.iter().filter(|f| !f.starts_with('-')).collect();
    if let Some(flag) = spec.flags.iter().find(|f| f.starts_with('-')) {
        return Err(format!(
            "resource flag {flag} is a kubectl option, which the Kubernetes backend does not take; \
             give the object's kind and name as flags, or name it in the manifest"
        ));
    }
    let gvk = match (body["apiVersion"].as_str(), body["kind"].as_str()) {
        (Some(v), Some(k)) => Some((v.to_string(), k.to_string())),
        _ => None,
    };
    let (resource, name) = match positional.as_slice() {
        [] => (None, body["metadata"]["name"].as_str().map(str::to_string)),
        [kind, name] => (Some(kind.to_lowercase()), Some((*name).clone())),
        [kind_name] if kind_name.contains('/') => {
            let (k, n) = kind_name.split_once('/').unwrap_or_default();
            (Some(k.to_lowercase()), Some(n.to_string()))
        }
        _ => {
            return Err(format!(
                "resource flags {:?}: expected [KIND, NAME] or [KIND/NAME]",
                spec.flags
            ));
        }
    };
    if gvk.is_none() && resource.is_none() {
        return Err(
            "the resource manifest has no apiVersion and kind, and no flags name the object".into(),
        );
    }
    if name.is_none() && !(spec.action == "create" && body["metadata"]["generateName"].is_string())
    {
        return Err(
            "the resource has no name: set metadata.name (or generateName to create one)".into(),
        );
    }
    Ok(Target {
        body,
        gvk,
        resource,
        name,
    })
}

fn gvk_of(api_version: &str, kind: &str) -> GroupVersionKind {
    match api_version.split_once('/') {
        Some((g, v)) => GroupVersionKind::gvk(g, v, kind),
        None => GroupVersionKind::gvk("", api_version, kind),
    }
}

/// Finds the API resource (and whether it is namespaced) of a target.
async fn resolve(client: &Client, t: &Target) -> Result<(ApiResource, bool), String> {
    if let Some((version, kind)) = &t.gvk {
        let gvk = gvk_of(version, kind);
        let (ar, caps) = pinned_kind(client, &gvk)
            .await
            .map_err(|e| format!("the cluster does not serve {version} {kind}: {e}"))?;
        return Ok((ar, caps.scope == Scope::Namespaced));
    }
    let wanted = t.resource.clone().unwrap_or_default();
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .map_err(|e| format!("cannot discover the cluster's resources: {e}"))?;
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            let singular = ar.kind.to_lowercase();
            if ar.plural == wanted || singular == wanted {
                return Ok((ar, caps.scope == Scope::Namespaced));
            }
        }
    }
    Err(format!("the cluster serves no resource \"{wanted}\""))
}

/// Runs the step; never fails (a problem is the result's message).
pub async fn run(spec: &ResourceSpec) -> ExecResult {
    let mut result = ExecResult::error(None, crate::exec::now());
    match act(spec).await {
        Ok((phase, message, params)) => {
            // The container's exit code, as Argo records it for resource steps too.
            result.exit_code = Some(i32::from(phase != ExecPhase::Succeeded));
            result.phase = phase;
            result.message = message;
            result.output_parameters = params;
        }
        Err(message) => result.message = Some(message),
    }
    result.finished_at = crate::exec::now();
    result
}

type Outcome = (ExecPhase, Option<String>, Vec<OutputParameterValue>);

async fn act(spec: &ResourceSpec) -> Result<Outcome, String> {
    let success = parse_condition(spec.success_condition.as_deref().unwrap_or(""))?;
    let failure = parse_condition(spec.failure_condition.as_deref().unwrap_or(""))?;
    let t = target(spec)?;
    let client = super::report::pod_client().await?;
    let (ar, namespaced) = resolve(&client, &t).await?;
    let ns = t.body["metadata"]["namespace"]
        .as_str()
        .unwrap_or(&spec.owner.namespace)
        .to_string();
    let api: Api<DynamicObject> = if namespaced {
        Api::namespaced_with(client.clone(), &ns, &ar)
    } else {
        Api::all_with(client.clone(), &ar)
    };
    let mut body = t.body.clone();
    if spec.set_owner_reference && body.is_object() {
        let owner = super::pod::Owner {
            name: spec.owner.workflow.clone(),
            namespace: spec.owner.namespace.clone(),
            uid: spec.owner.workflow_uid.clone(),
        };
        let mut reference = serde_json::to_value(owner_reference(&owner)).unwrap_or_default();
        reference["controller"] = false.into();
        // Not blocking the workflow's deletion: that needs `update` on workflows/finalizers.
        reference["blockOwnerDeletion"] = false.into();
        let refs = &mut body["metadata"]["ownerReferences"];
        match refs.as_array_mut() {
            Some(list) => list.push(reference),
            None => *refs = Value::Array(vec![reference]),
        }
    }
    let name = t.name.clone().unwrap_or_default();
    let kind = ar.kind.clone();
    let fail = |what: &str| {
        let what = format!("{what} {kind} {name}");
        move |e: kube::Error| format!("{what}: {e}")
    };
    let object: Option<DynamicObject> = match spec.action.as_str() {
        "create" => {
            let obj: DynamicObject = serde_json::from_value(body.clone())
                .map_err(|e| format!("the resource manifest is not an object: {e}"))?;
            Some(
                api.create(&PostParams::default(), &obj)
                    .await
                    .map_err(fail("cannot create"))?,
            )
        }
        "apply" => Some(
            api.patch(
                &name,
                &PatchParams::apply("trellis").force(),
                &Patch::Apply(&body),
            )
            .await
            .map_err(fail("cannot apply"))?,
        ),
        "patch" => {
            let params = PatchParams::default();
            let patched = match spec.merge_strategy.as_deref().unwrap_or("strategic") {
                "merge" => api.patch(&name, &params, &Patch::Merge(&body)).await,
                "json" => {
                    let ops: json_patch::Patch = serde_json::from_value(body.clone())
                        .map_err(|e| format!("the resource manifest is not a JSON patch: {e}"))?;
                    api.patch(&name, &params, &Patch::<()>::Json(ops)).await
                }
                "strategic" => api.patch(&name, &params, &Patch::Strategic(&body)).await,
                other => {
                    return Err(format!(
                        "mergeStrategy \"{other}\" is not one of strategic, merge, json"
                    ));
                }
            };
            Some(patched.map_err(fail("cannot patch"))?)
        }
        "get" => Some(api.get(&name).await.map_err(fail("cannot get"))?),
        _ => {
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.is_not_found() => {}
                Err(e) => return Err(fail("cannot delete")(e)),
            }
            None
        }
    };
    let Some(object) = object else {
        return Ok((ExecPhase::Succeeded, None, defaults(&spec.outputs)));
    };
    let name = object.metadata.name.clone().unwrap_or(name);
    let mut current = serde_json::to_value(&object).unwrap_or_default();
    loop {
        match verdict(&success, &failure, &current) {
            Verdict::Succeeded => break,
            Verdict::Failed(message) => {
                let params = outputs(&spec.outputs, &current).unwrap_or_default();
                return Ok((ExecPhase::Failed, Some(message), params));
            }
            Verdict::Waiting => {}
        }
        tokio::time::sleep(POLL).await;
        current = match api.get(&name).await {
            Ok(o) => serde_json::to_value(&o).unwrap_or_default(),
            Err(kube::Error::Api(s)) if s.is_not_found() => {
                return Err(format!(
                    "{} {name} was deleted while its conditions were being waited for",
                    ar.kind
                ));
            }
            Err(kube::Error::Api(s)) if s.code != 429 && s.code < 500 => {
                return Err(format!("cannot read {} {name}: {}", ar.kind, s.message));
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the resource failed; retrying");
                continue;
            }
        };
    }
    let params = outputs(&spec.outputs, &current)?;
    Ok((ExecPhase::Succeeded, None, params))
}

fn defaults(outputs: &[ResourceOutput]) -> Vec<OutputParameterValue> {
    outputs
        .iter()
        .map(|o| OutputParameterValue {
            name: o.name.clone(),
            value: o.default.clone().unwrap_or_default(),
        })
        .collect()
}

/// The output parameters read from the object (a default stands in for a path that finds nothing).
pub fn outputs(
    outputs: &[ResourceOutput],
    object: &Value,
) -> Result<Vec<OutputParameterValue>, String> {
    outputs
        .iter()
        .map(|o| {
            let value = match (&o.json_path, &o.default) {
                (Some(p), default) => match json_path(object, p) {
                    Ok(v) => v,
                    Err(e) => default
                        .clone()
                        .ok_or(format!("output parameter {}: {e}", o.name))?,
                },
                (None, Some(d)) => d.clone(),
                (None, None) => String::new(),
            };
            Ok(OutputParameterValue {
                name: o.name.clone(),
                value,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_parse_like_label_selectors() {
        let reqs =
            parse_condition("status.succeeded > 2, status.phase in (Failed, Error),!status.x")
                .unwrap();
        assert_eq!(reqs.len(), 3);
        assert_eq!(reqs[0].op, Op::GreaterThan);
        assert_eq!(reqs[1].values, ["Failed", "Error"]);
        assert_eq!(
            (reqs[2].op, reqs[2].key.as_str()),
            (Op::DoesNotExist, "status.x")
        );
        assert!(parse_condition("").unwrap().is_empty());
        assert!(
            parse_condition("status.n > two")
                .unwrap_err()
                .contains("not an integer")
        );
        assert!(parse_condition("a b").unwrap_err().contains("KEY OP VALUE"));
    }

    #[test]
    fn conditions_decide_as_argo_does() {
        let job =
            json!({"status": {"succeeded": 3, "failed": 0, "conditions": [{"type": "Complete"}]}});
        let success = parse_condition("status.succeeded > 2").unwrap();
        let failure = parse_condition("status.failed > 1").unwrap();
        assert_eq!(verdict(&success, &failure, &job), Verdict::Succeeded);
        let running = json!({"status": {"succeeded": 1}});
        assert_eq!(verdict(&success, &failure, &running), Verdict::Waiting);
        let failed = json!({"status": {"succeeded": 1, "failed": 2}});
        assert_eq!(
            verdict(&success, &failure, &failed),
            Verdict::Failed("failure condition 'status.failed>1' matched".into())
        );
        let by_index = parse_condition("status.conditions.0.type == Complete").unwrap();
        assert_eq!(verdict(&by_index, &[], &job), Verdict::Succeeded);
        let missing = parse_condition("status.phase != Failed").unwrap();
        let absent = parse_condition("!status.x").unwrap();
        assert!(holds(&absent[0], &json!({"status": {}})));
        assert!(
            !holds(&absent[0], &json!({"status": {"x": null}})),
            "null exists, as in gjson"
        );
        assert!(
            holds(&missing[0], &json!({})),
            "a missing key is not Failed"
        );
    }

    #[test]
    fn json_paths_read_what_kubectl_would() {
        let o =
            json!({"metadata": {"name": "job-1"}, "spec": {"containers": [{"image": "alpine"}]}});
        assert_eq!(json_path(&o, "{.metadata.name}").unwrap(), "job-1");
        assert_eq!(
            json_path(&o, ".spec.containers[0].image").unwrap(),
            "alpine"
        );
        assert!(
            json_path(&o, "{.status.x}")
                .unwrap_err()
                .contains("finds nothing")
        );
        let outs = vec![
            ResourceOutput {
                name: "n".into(),
                json_path: Some("{.metadata.name}".into()),
                default: None,
            },
            ResourceOutput {
                name: "d".into(),
                json_path: Some("{.status.x}".into()),
                default: Some("none".into()),
            },
        ];
        let values = outputs(&outs, &o).unwrap();
        assert_eq!(
            (values[0].value.as_str(), values[1].value.as_str()),
            ("job-1", "none")
        );
    }

    fn spec(action: &str, manifest: &str, flags: &[&str]) -> ResourceSpec {
        ResourceSpec {
            action: action.into(),
            manifest: manifest.into(),
            merge_strategy: None,
            success_condition: None,
            failure_condition: None,
            set_owner_reference: false,
            flags: flags.iter().map(|f| f.to_string()).collect(),
            owner: ReportTarget {
                namespace: "ci".into(),
                workflow: "w".into(),
                workflow_uid: "u".into(),
                node_id: "w-1".into(),
            },
            outputs: Vec::new(),
        }
    }

    #[test]
    fn the_target_comes_from_the_manifest_or_the_flags() {
        let t = target(&spec(
            "create",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: c-}\n",
            &[],
        ))
        .unwrap();
        assert_eq!(t.gvk, Some(("v1".into(), "ConfigMap".into())));
        assert_eq!(t.name, None);
        let t = target(&spec(
            "patch",
            "- {op: add, path: /metadata/annotations/foo, value: bar}\n",
            &["pod", "p-1"],
        ))
        .unwrap();
        assert_eq!(
            (t.resource.as_deref(), t.name.as_deref()),
            (Some("pod"), Some("p-1"))
        );
        assert!(t.body.is_array());
        let err = target(&spec("delete", "", &["workflow", "--selector=a=b"])).unwrap_err();
        assert!(err.contains("--selector=a=b"), "{err}");
        let err = target(&spec("get", "apiVersion: v1\nkind: Pod\n", &[])).unwrap_err();
        assert!(err.contains("no name"), "{err}");
    }
}
