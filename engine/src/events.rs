//! Argo's events: a `POST /api/v1/events/{namespace}/{discriminator}` payload is matched against
//! each WorkflowEventBinding's `spec.event.selector` (an expr-lang expression over `payload`,
//! `metadata` — the request headers, lower-case, each a list of values — `discriminator` and
//! `namespace`), and a match submits the binding's `workflowTemplateRef` with parameters whose
//! `valueFrom.event` expressions read the same event. Pure: the server gives the event and
//! stores what comes out.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};

use crate::model::{
    Arguments, Parameter, Workflow, WorkflowEventBinding, WorkflowSpec, WorkflowTemplateRef,
};
use crate::submit::{LABEL_CLUSTER_WORKFLOW_TEMPLATE, LABEL_WORKFLOW_TEMPLATE};

/// Label naming the WorkflowEventBinding that submitted a workflow (Argo's).
pub const LABEL_WORKFLOW_EVENT_BINDING: &str = "workflows.argoproj.io/workflow-event-binding";

/// The expression environment of an event.
pub fn environment(
    namespace: &str,
    discriminator: &str,
    headers: &BTreeMap<String, Vec<String>>,
    payload: &Value,
) -> Value {
    json!({
        "namespace": namespace,
        "discriminator": discriminator,
        "metadata": headers,
        "payload": payload,
    })
}

/// What a binding makes of an event: `Ok(None)` when its selector does not match, the workflow
/// to submit when it does, or why it cannot be evaluated.
pub fn dispatch(binding: &WorkflowEventBinding, env: &Value) -> Result<Option<Workflow>, String> {
    let name = binding
        .metadata
        .as_ref()
        .and_then(|m| m.name.clone())
        .unwrap_or_default();
    let spec = binding.spec.clone().unwrap_or_default();
    let selector = spec
        .event
        .and_then(|e| e.selector)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| format!("WorkflowEventBinding {name:?} has no spec.event.selector"))?;
    match crate::expr::eval(&selector, env).map_err(|e| format!("selector of {name:?}: {e}"))? {
        Value::Bool(true) => {}
        Value::Bool(false) => return Ok(None),
        other => {
            return Err(format!(
                "selector of {name:?} gives {other}, not true or false"
            ));
        }
    }
    let Some(submit) = spec.submit else {
        return Ok(None);
    };
    let reference = submit.workflow_template_ref.clone().unwrap_or_default();
    let template = reference
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("WorkflowEventBinding {name:?} names no workflowTemplateRef"))?;
    let cluster = reference.cluster_scope == Some(true);
    let mut labels = BTreeMap::new();
    let template_label = if cluster {
        LABEL_CLUSTER_WORKFLOW_TEMPLATE
    } else {
        LABEL_WORKFLOW_TEMPLATE
    };
    labels.insert(template_label.to_string(), template.clone());
    let wanted = submit.metadata.clone().unwrap_or_default();
    labels.extend(wanted.labels.clone().unwrap_or_default());
    labels.insert(LABEL_WORKFLOW_EVENT_BINDING.to_string(), name.clone());
    let mut parameters = Vec::new();
    for p in submit
        .arguments
        .as_ref()
        .and_then(|a| a.parameters.as_ref())
        .into_iter()
        .flatten()
    {
        let pname = p.name.clone().unwrap_or_default();
        let expr = p
            .value_from
            .as_ref()
            .and_then(|v| v.event.clone())
            .ok_or_else(|| format!("parameter {pname:?} of {name:?} has no valueFrom.event"))?;
        let value = crate::expr::eval(&expr, env)
            .map_err(|e| format!("parameter {pname:?} of {name:?}: {e}"))?;
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        parameters.push(Parameter {
            name: Some(pname),
            value: Some(text.into()),
            ..Default::default()
        });
    }
    let generate = wanted
        .generate_name
        .clone()
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| format!("{template}-"));
    Ok(Some(Workflow {
        api_version: Some("argoproj.io/v1alpha1".into()),
        kind: Some("Workflow".into()),
        metadata: Some(ObjectMeta {
            name: wanted.name.clone().filter(|n| !n.is_empty()),
            generate_name: Some(generate),
            namespace: binding.metadata.as_ref().and_then(|m| m.namespace.clone()),
            labels: Some(labels),
            annotations: wanted.annotations.clone(),
            ..Default::default()
        }),
        spec: Some(WorkflowSpec {
            workflow_template_ref: Some(WorkflowTemplateRef {
                name: Some(template),
                cluster_scope: cluster.then_some(true),
            }),
            arguments: (!parameters.is_empty()).then(|| Arguments {
                parameters: Some(parameters),
                ..Default::default()
            }),
            ..Default::default()
        }),
        status: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(path: &str) -> WorkflowEventBinding {
        let text = std::fs::read_to_string(format!(
            "{}/../../shared/conformance/argo-examples/workflow-event-binding/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("Argo's example");
        let doc = crate::parse::parse_file(&text);
        let node = &doc.documents[0].node;
        serde_json::from_value(crate::yaml::to_json(node)).unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
            .collect()
    }

    #[test]
    fn argos_event_consumer_submits_its_template_with_the_payloads_value() {
        let b = binding("event-consumer-workfloweventbinding.yaml");
        let env = environment("argo", "x", &headers(&[]), &json!({"appellation": "Ada"}));
        let wf = dispatch(&b, &env).unwrap().expect("the selector matches");
        let meta = wf.metadata.unwrap();
        assert_eq!(meta.generate_name.as_deref(), Some("event-consumer-"));
        let labels = meta.labels.unwrap();
        assert_eq!(labels[LABEL_WORKFLOW_TEMPLATE], "event-consumer");
        assert_eq!(labels[LABEL_WORKFLOW_EVENT_BINDING], "event-consumer");
        let spec = wf.spec.unwrap();
        let p = &spec.arguments.unwrap().parameters.unwrap()[0];
        assert_eq!(
            (p.name.as_deref(), p.value.as_ref().map(|v| v.0.as_str())),
            (Some("appellation"), Some("Ada"))
        );
        let none = environment("argo", "x", &headers(&[]), &json!({"appellation": ""}));
        assert_eq!(dispatch(&b, &none).unwrap(), None);
    }

    #[test]
    fn argos_github_path_filter_matches_only_pushes_touching_its_paths() {
        let b = binding("github-path-filter-workfloweventbinding.yaml");
        let push = |files: Value| {
            environment(
                "argo",
                "github-path-filter",
                &headers(&[("x-github-event", "push")]),
                &json!({"commits": [{"added": [], "removed": [], "modified": files}]}),
            )
        };
        let wf = dispatch(&b, &push(json!(["subpath/A/main.go"])))
            .unwrap()
            .expect("a match");
        let files = &wf.spec.unwrap().arguments.unwrap().parameters.unwrap()[0];
        assert_eq!(files.value.as_ref().unwrap().0, r#"["subpath/A/main.go"]"#);
        assert!(
            dispatch(&b, &push(json!(["docs/README.md"])))
                .unwrap()
                .is_none()
        );
        let other = environment(
            "argo",
            "github-path-filter",
            &headers(&[("x-github-event", "issues")]),
            &json!({"commits": []}),
        );
        assert!(dispatch(&b, &other).unwrap().is_none());
    }

    #[test]
    fn bad_selectors_say_which_binding() {
        let b: WorkflowEventBinding = serde_json::from_value(json!({
            "metadata": {"name": "broken"},
            "spec": {"event": {"selector": "payload.x +"}}
        }))
        .unwrap();
        let err = dispatch(&b, &environment("a", "b", &BTreeMap::new(), &json!({}))).unwrap_err();
        assert!(err.starts_with("selector of \"broken\""), "{err}");
    }
}
