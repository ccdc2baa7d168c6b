//! Manifests sent to the API are linted exactly as `trellis lint` lints files: unknown fields,
//! broken references, bad names… are a 400 that lists every finding, and nothing is stored.

use engine::diag::{Diagnostic, Severity};
use engine::lint::{Source, check_with};
use engine::model::Manifest;
use engine::parse::ARGO_API_VERSION;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};

/// Lints `value` as a manifest of `kind` (filling in `apiVersion` and `kind` when the client
/// left them out, as Argo's clients do), with the stored templates of `library` available to
/// its references. Warnings do not stop it.
pub fn manifest(kind: &str, value: Value, library: &[Manifest]) -> ApiResult<Manifest> {
    let Value::Object(mut map) = value else {
        return Err(ApiError::bad(format!(
            "the {kind} must be a JSON object, found {}",
            json_type(&value)
        )));
    };
    match map.get("kind").and_then(Value::as_str) {
        Some(k) if k != kind => {
            return Err(ApiError::bad(format!(
                "expected a {kind} here, found kind {k:?}"
            )));
        }
        _ => {}
    }
    map.insert("kind".into(), kind.into());
    map.entry("apiVersion")
        .or_insert_with(|| ARGO_API_VERSION.into());
    // Argo's clients send what the server wrote (status, resourceVersion…) back on updates.
    map.remove("status");
    let text = serde_json::to_string_pretty(&Value::Object(map)).unwrap_or_default();
    let checked = check_with(
        &[Source {
            name: "request",
            text: &text,
        }],
        library,
    );
    let file = checked.into_iter().next();
    let diagnostics = file
        .as_ref()
        .map(|f| f.diagnostics.clone())
        .unwrap_or_default();
    let (errors, warnings): (Vec<_>, Vec<_>) = diagnostics
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    if !errors.is_empty() {
        return Err(ApiError::Lint {
            summary: summary(kind, &errors),
            diagnostics: errors.into_iter().chain(warnings).collect(),
        });
    }
    file.and_then(|f| f.documents.into_iter().next())
        .and_then(|d| d.manifest)
        .ok_or_else(|| ApiError::bad(format!("the request holds no {kind}")))
}

/// One line naming every error: `invalid Workflow: spec.x: … (did you mean …?); …`.
fn summary(kind: &str, errors: &[Diagnostic]) -> String {
    let each: Vec<String> = errors
        .iter()
        .map(|d| {
            let at = if d.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", d.path)
            };
            match &d.help {
                Some(h) => format!("{at}{} ({h})", d.message),
                None => format!("{at}{}", d.message),
            }
        })
        .collect();
    format!("invalid {kind}: {}", each.join("; "))
}

/// The namespace of the body, when given, must be the path's.
pub(super) fn same_namespace(path: &str, body: &str) -> ApiResult<()> {
    if body.is_empty() || body == path {
        Ok(())
    } else {
        Err(ApiError::bad(format!(
            "the request body names namespace {body:?} but the path names {path:?}"
        )))
    }
}

/// Sets `metadata.namespace` to the path's namespace (refusing a different one).
pub(super) fn with_namespace(mut value: Value, namespace: &str) -> ApiResult<Value> {
    let Some(obj) = value.as_object_mut() else {
        return Ok(value);
    };
    let meta = obj.entry("metadata").or_insert_with(|| json!({}));
    if let Some(m) = meta.as_object_mut() {
        match m.get("namespace").and_then(Value::as_str) {
            Some(ns) if !ns.is_empty() && ns != namespace => {
                return Err(ApiError::bad(format!(
                    "metadata.namespace is {ns:?} but the request is for namespace {namespace:?}"
                )));
            }
            _ => {
                m.insert("namespace".into(), namespace.into());
            }
        }
    }
    Ok(value)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_misspelt_key_is_a_lint_error_with_its_path_and_a_suggestion() {
        let wf = json!({
            "metadata": {"generateName": "hello-"},
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "container": {"image": "alpine", "comand": ["echo"]}}
            ]}
        });
        let err = manifest("Workflow", wf, &[]).unwrap_err();
        let ApiError::Lint {
            summary,
            diagnostics,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert!(
            summary.contains("spec.templates[0].container.comand")
                && summary.contains("did you mean `command`?"),
            "{summary}"
        );
        assert_eq!(diagnostics[0].code, "unknown-field");
        assert_eq!(err.status().as_u16(), 400);
    }

    #[test]
    fn kind_and_api_version_are_filled_in_and_a_wrong_kind_refused() {
        let wf = json!({
            "metadata": {"name": "ok"},
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "container": {"image": "alpine", "command": ["true"]}}
            ]},
            "status": {"phase": "Succeeded"}
        });
        let m = manifest("Workflow", wf.clone(), &[]).unwrap();
        assert!(matches!(m, Manifest::Workflow(_)));
        let err = manifest("WorkflowTemplate", json!({"kind": "Workflow"}), &[]).unwrap_err();
        assert!(
            err.to_string().contains("expected a WorkflowTemplate"),
            "{err}"
        );
        let err = manifest("Workflow", json!([1]), &[]).unwrap_err();
        assert!(err.to_string().contains("found an array"), "{err}");
    }
}
