//! The "Run with parameters" form on the server: built from a stored template's parameters and
//! annotations (pre-filled from a past run for "Rebuild"), and checked — each value against its
//! field, then the whole run by the lint engine — before anything is created.

use std::collections::BTreeMap;

use app::api::UiError;
use app::form::{
    ENTRYPOINTS_ANNOTATION, FieldKind, FormField, FormProblems, TriggerForm, TriggerOutcome,
    TriggerRequest, check_values, field_kind, name_list, parse_labels,
};
use app::model::TemplateId;
use controller::store::Store;
use engine::model::{Parameter, WorkflowSpec};
use engine::secrets::{TYPE_HINT_PREFIX, secret_names};
use engine::submit::SubmitOptions;

use super::{convert, graph, spec_of, ui_error};
use crate::api::{ApiError, ApiState};
use crate::auth::Caller;

/// A stored template, read for its form.
struct Source {
    spec: WorkflowSpec,
    annotations: BTreeMap<String, String>,
    title: String,
}

async fn source(state: &ApiState, caller: &Caller, id: &TemplateId) -> Result<Source, UiError> {
    let manifest = super::stored_manifest(state, caller, id).await?;
    let title = crate::catalog::summarize(&manifest)
        .map(|s| s.display_title().to_string())
        .unwrap_or_else(|| id.name.clone());
    let annotations = super::annotations_of(&manifest)
        .cloned()
        .unwrap_or_default();
    Ok(Source {
        spec: spec_of(&manifest).cloned().unwrap_or_default(),
        annotations,
        title,
    })
}

fn text(p: &Option<engine::model::AnyString>) -> Option<String> {
    p.as_ref().map(|v| v.0.clone())
}

/// The fields of a spec's workflow parameters, with the hints of `annotations`.
pub fn fields_of(spec: &WorkflowSpec, annotations: &BTreeMap<String, String>) -> Vec<FormField> {
    let secrets = secret_names(Some(annotations));
    let params: &[Parameter] = spec
        .arguments
        .as_ref()
        .and_then(|a| a.parameters.as_deref())
        .unwrap_or_default();
    params
        .iter()
        .filter_map(|p| {
            let name = p.name.clone()?;
            let value = text(&p.value).or_else(|| text(&p.default));
            let enum_values: Vec<String> = p.r#enum.iter().flatten().map(|v| v.0.clone()).collect();
            let hint = annotations
                .get(&format!("{TYPE_HINT_PREFIX}{name}"))
                .map(|h| h.trim().to_string())
                .or_else(|| secrets.contains(&name).then(|| "secret".to_string()));
            let kind = field_kind(value.as_deref(), &enum_values, hint.as_deref());
            let start = match (&kind, value.as_deref()) {
                // A secret's default stays on the server: empty means "the default".
                (FieldKind::Secret, _) => String::new(),
                (FieldKind::Boolean, None | Some("")) => "false".to_string(),
                (_, v) => v.unwrap_or_default().to_string(),
            };
            Some(FormField {
                required: value.is_none() && kind != FieldKind::Boolean,
                description: text(&p.description),
                value: start,
                kind,
                name,
            })
        })
        .collect()
}

/// The entrypoints a form offers: those `trellis.dev/entrypoints` names (`*`: every template),
/// the spec's own first; empty when the annotation is absent.
pub fn entrypoints_of(spec: &WorkflowSpec, annotations: &BTreeMap<String, String>) -> Vec<String> {
    let Some(list) = annotations.get(ENTRYPOINTS_ANNOTATION) else {
        return Vec::new();
    };
    let all: Vec<String> = spec
        .templates
        .iter()
        .flatten()
        .filter_map(|t| t.name.clone())
        .collect();
    let wanted = name_list(list);
    let mut out: Vec<String> = spec.entrypoint.iter().cloned().collect();
    for t in &all {
        if (wanted.iter().any(|w| w == "*") || wanted.contains(t)) && !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

/// Fields pre-filled with a past run's values; secrets keep their default (they are masked in
/// the run, and a rebuild must not copy them).
fn prefill(fields: &mut [FormField], run: &[(String, String)]) {
    for f in fields {
        if matches!(f.kind, FieldKind::Secret) {
            continue;
        }
        if let Some((_, v)) = run.iter().find(|(k, _)| *k == f.name) {
            f.value = v.clone();
        }
    }
}

/// The form of template `id`, pre-filled from its run `from` when not empty.
pub async fn form(
    state: &ApiState,
    caller: &Caller,
    id: TemplateId,
    from: String,
) -> Result<TriggerForm, UiError> {
    let src = source(state, caller, &id).await?;
    let mut fields = fields_of(&src.spec, &src.annotations);
    let entrypoints = entrypoints_of(&src.spec, &src.annotations);
    let (mut rebuilt_from, mut labels, mut entrypoint) = (
        None,
        String::new(),
        src.spec.entrypoint.clone().unwrap_or_default(),
    );
    let mut namespace = id.namespace_or_default();
    if !from.is_empty() {
        // `NAMESPACE/NAME` (or a NAME in the template's namespace).
        let (ns, run) = from.split_once('/').map_or_else(
            || (namespace.clone(), from.clone()),
            |(n, r)| (n.to_string(), r.to_string()),
        );
        let wf = state
            .backend
            .store()
            .get_workflow(&ns, &run)
            .await
            .map_err(ui_error)?;
        crate::auth::guard::check_workflow(state, caller, engine::access::Action::Read, &wf)
            .await
            .map_err(super::act::api_ui_error)?;
        if id.kind.is_cluster_scoped() {
            namespace = ns;
        }
        let row = convert::row_of(&wf, chrono::Utc::now(), |_| false);
        prefill(&mut fields, &convert::effective_parameters(&wf, &src.spec));
        labels = user_labels(&wf);
        if let Some(e) = wf.spec.as_ref().and_then(|s| s.entrypoint.clone())
            && entrypoints.contains(&e)
        {
            entrypoint = e;
        }
        rebuilt_from = Some(row.title());
    }
    let mut preview = src.spec.clone();
    preview.entrypoint = Some(entrypoint.clone()).filter(|e| !e.is_empty());
    Ok(TriggerForm {
        graph: graph::of_spec(&id.name, &preview),
        id,
        title: src.title,
        fields,
        entrypoints,
        entrypoint,
        rebuilt_from,
        labels,
        namespace,
    })
}

/// The labels a person gave a run (not those Argo or Trellis set).
fn user_labels(wf: &engine::model::Workflow) -> String {
    wf.metadata
        .as_ref()
        .and_then(|m| m.labels.as_ref())
        .into_iter()
        .flatten()
        .filter(|(k, _)| !k.starts_with("workflows.argoproj.io/") && !k.starts_with("trellis.dev/"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the form's values ask for, or why they cannot be used.
fn options_of(
    src: &Source,
    req: &TriggerRequest,
) -> Result<(SubmitOptions, Vec<(String, String)>), FormProblems> {
    let fields = fields_of(&src.spec, &src.annotations);
    let mut problems = check_values(&fields, &req.values);
    let labels = parse_labels(&req.labels).unwrap_or_else(|e| {
        problems.fields.insert("labels".into(), e);
        Vec::new()
    });
    let offered = entrypoints_of(&src.spec, &src.annotations);
    let entry = req.entrypoint.trim();
    let default_entry = src.spec.entrypoint.as_deref().unwrap_or_default();
    if !entry.is_empty() && entry != default_entry && !offered.iter().any(|e| e == entry) {
        problems.fields.insert(
            "entrypoint".into(),
            if offered.is_empty() {
                "this template does not let a run choose its entrypoint".into()
            } else {
                format!("entrypoint must be one of {}", offered.join(", "))
            },
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let parameters = fields
        .iter()
        .filter_map(|f| {
            let v = req.values.get(&f.name)?;
            (!v.is_empty() || f.required).then(|| (f.name.clone(), v.clone()))
        })
        .collect();
    let opts = SubmitOptions {
        parameters,
        entrypoint: Some(entry.to_string()).filter(|e| !e.is_empty() && e != default_entry),
    };
    Ok((opts, labels))
}

/// The problems of a rejected submission: lint findings in general, a parameter's own under it.
fn problems_of(e: ApiError) -> Result<FormProblems, UiError> {
    let mut p = FormProblems::default();
    match e {
        ApiError::Lint { diagnostics, .. } => {
            for d in diagnostics
                .into_iter()
                .filter(|d| d.severity == engine::diag::Severity::Error)
            {
                p.general.push(format!("{}: {}", d.path, d.message));
            }
        }
        ApiError::BadRequest(m) => p.general.push(m),
        other => return Err(super::act::api_ui_error(other)),
    }
    Ok(p)
}

/// The namespace a cluster-wide template's run goes to (`default` when empty), checked as a
/// Kubernetes namespace name.
fn run_namespace(text: &str) -> Result<String, FormProblems> {
    let ns = text.trim();
    if ns.is_empty() {
        return Ok(app::catalog::DEFAULT_NAMESPACE.to_string());
    }
    let ok = ns.len() <= 63
        && ns
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !ns.starts_with('-')
        && !ns.ends_with('-');
    if ok {
        return Ok(ns.to_string());
    }
    let mut p = FormProblems::default();
    p.fields.insert(
        "namespace".into(),
        format!(
            "`{ns}` is not a namespace name: at most 63 lower-case letters, digits or `-`, \
             not starting or ending with `-`"
        ),
    );
    Err(p)
}

/// Checks a form; unless `dry`, creates the run.
pub async fn trigger(
    state: &ApiState,
    caller: &Caller,
    req: TriggerRequest,
    dry: bool,
) -> Result<TriggerOutcome, UiError> {
    let id = req
        .id
        .clone()
        .ok_or_else(|| UiError::Invalid("the form names no template".into()))?;
    let src = source(state, caller, &id).await?;
    let (opts, labels) = match options_of(&src, &req) {
        Ok(o) => o,
        Err(p) => return Ok(TriggerOutcome::Rejected(p)),
    };
    let namespace = if id.kind.is_cluster_scoped() {
        match run_namespace(&req.namespace) {
            Ok(ns) => ns,
            Err(p) => return Ok(TriggerOutcome::Rejected(p)),
        }
    } else {
        id.namespace_or_default()
    };
    let kind = convert::store_kind(id.kind);
    let made =
        crate::api::workflows::from_stored_template(state, kind, &namespace, &id.name, &opts).await;
    let mut wf = match made {
        Ok(wf) => wf,
        Err(e) => return problems_of(e).map(TriggerOutcome::Rejected),
    };
    let meta = wf.metadata.get_or_insert_with(Default::default);
    meta.namespace = Some(namespace.clone());
    meta.labels
        .get_or_insert_with(Default::default)
        .extend(labels);
    let value = serde_json::to_value(&wf).map_err(|e| UiError::Internal(e.to_string()))?;
    let wf = match crate::api::workflows::checked_workflow(state, &namespace, value).await {
        Ok(wf) => wf,
        Err(e) => return problems_of(e).map(TriggerOutcome::Rejected),
    };
    let target = crate::auth::guard::new_workflow_target(state, &namespace, &wf).await;
    state
        .auth()
        .check(caller, engine::access::Action::Submit, &target)
        .map_err(super::act::api_ui_error)?;
    if dry {
        let mut spec = src.spec.clone();
        if let Some(e) = &opts.entrypoint {
            spec.entrypoint = Some(e.clone());
        }
        return Ok(TriggerOutcome::Preview(graph::of_spec(&id.name, &spec)));
    }
    let stored = crate::api::workflows::start(state, caller, wf, false)
        .await
        .map_err(super::act::api_ui_error)?;
    let row = convert::row_of(&stored, chrono::Utc::now(), |_| false);
    Ok(TriggerOutcome::Submitted {
        namespace: row.namespace,
        name: row.name,
        number: row.number,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> WorkflowSpec {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn fields_follow_the_parameters_and_their_hints() {
        let s = spec(serde_json::json!({
            "entrypoint": "main",
            "templates": [{"name": "main"}, {"name": "other"}, {"name": "third"}],
            "arguments": {"parameters": [
                {"name": "env", "value": "dev", "enum": ["dev", "prod"], "description": "Where"},
                {"name": "dry", "value": "false"},
                {"name": "token"},
                {"name": "count", "value": "3"}
            ]}
        }));
        let a = BTreeMap::from([
            ("trellis.dev/secret".to_string(), "token".to_string()),
            ("trellis.dev/type.count".to_string(), "integer".to_string()),
            (ENTRYPOINTS_ANNOTATION.to_string(), "other".to_string()),
        ]);
        let f = fields_of(&s, &a);
        assert_eq!(
            f[0].kind,
            FieldKind::Radio(vec!["dev".into(), "prod".into()])
        );
        assert_eq!(f[0].description.as_deref(), Some("Where"));
        assert_eq!(f[1].kind, FieldKind::Boolean);
        assert_eq!(f[2].kind, FieldKind::Secret);
        assert!(f[2].required);
        assert_eq!(f[3].kind, FieldKind::Number { integer: true });
        assert_eq!(entrypoints_of(&s, &a), ["main", "other"]);
        let all = BTreeMap::from([(ENTRYPOINTS_ANNOTATION.to_string(), "*".to_string())]);
        assert_eq!(entrypoints_of(&s, &all), ["main", "other", "third"]);
        assert!(entrypoints_of(&s, &BTreeMap::new()).is_empty());
    }

    #[test]
    fn cluster_template_runs_go_to_a_valid_namespace() {
        assert_eq!(run_namespace("").unwrap(), "default");
        assert_eq!(run_namespace(" ci ").unwrap(), "ci");
        assert!(
            run_namespace("Bad_NS").unwrap_err().fields["namespace"].contains("not a namespace")
        );
    }

    #[test]
    fn rebuilds_prefill_all_but_secrets() {
        let s = spec(serde_json::json!({"arguments": {"parameters": [
            {"name": "env", "value": "dev"}, {"name": "token", "value": "x"}]}}));
        let a = BTreeMap::from([("trellis.dev/secret".to_string(), "token".to_string())]);
        let mut f = fields_of(&s, &a);
        prefill(
            &mut f,
            &[
                ("env".into(), "prod".into()),
                ("token".into(), "••••••".into()),
            ],
        );
        assert_eq!(f[0].value, "prod");
        assert_eq!(
            f[1].value, "",
            "a secret's default is not sent to the browser"
        );
    }

    #[test]
    fn options_check_values_labels_and_entrypoints() {
        let src = Source {
            spec: spec(serde_json::json!({"entrypoint": "main",
                "templates": [{"name": "main"}, {"name": "other"}],
                "arguments": {"parameters": [{"name": "n", "value": "1"}, {"name": "note", "value": ""}]}})),
            annotations: BTreeMap::from([("trellis.dev/type.n".into(), "integer".into())]),
            title: "t".into(),
        };
        let req = |n: &str, labels: &str, entry: &str| TriggerRequest {
            id: None,
            namespace: String::new(),
            values: BTreeMap::from([("n".into(), n.into()), ("note".into(), String::new())]),
            entrypoint: entry.into(),
            labels: labels.into(),
        };
        let (opts, labels) = options_of(&src, &req("2", "team=web", "main")).unwrap();
        assert_eq!(opts.parameters, [("n".to_string(), "2".to_string())]);
        assert_eq!(opts.entrypoint, None);
        assert_eq!(labels, [("team".to_string(), "web".to_string())]);
        let bad = options_of(&src, &req("x", "team", "other")).unwrap_err();
        assert!(bad.fields["n"].contains("whole number"));
        assert!(bad.fields["labels"].contains("key=value"));
        assert!(bad.fields["entrypoint"].contains("does not let"));
    }
}
