//! What finished nodes expose to later steps (`steps.X.*`, `tasks.X.*`) and the outputs of
//! steps and DAG templates.

use serde_json::Value;

use crate::model::{NodeStatus, Outputs, Parameter, Template};

use super::scope::{Unresolved, Vars, eval_expr, render};

/// Adds `<prefix>.status`, `.id`, `.exitCode`, `.startedAt`, `.finishedAt`, `.ip`,
/// `.hostNodeName`, `.outputs.result`,
/// `.outputs.parameters.*` and `.outputs.artifacts.*` of a node to a scope.
pub(crate) fn add_node_vars(v: &mut Vars, prefix: &str, n: &NodeStatus) {
    v.insert(format!("{prefix}.id"), n.id.clone().unwrap_or_default());
    v.insert(
        format!("{prefix}.status"),
        n.phase.map(|p| p.as_str()).unwrap_or_default(),
    );
    if let Some(t) = &n.started_at {
        v.insert(format!("{prefix}.startedAt"), t.clone());
    }
    if let Some(t) = &n.finished_at {
        v.insert(format!("{prefix}.finishedAt"), t.clone());
    }
    if let Some(ip) = &n.pod_ip {
        v.insert(format!("{prefix}.ip"), ip.clone());
    }
    if let Some(host) = &n.host_node_name {
        v.insert(format!("{prefix}.hostNodeName"), host.clone());
    }
    let Some(o) = &n.outputs else { return };
    if let Some(code) = &o.exit_code {
        v.insert(format!("{prefix}.exitCode"), code.clone());
    }
    if let Some(r) = &o.result {
        v.insert(format!("{prefix}.outputs.result"), r.clone());
    }
    let mut all = serde_json::Map::new();
    for p in o.parameters.iter().flatten() {
        let name = p.name.clone().unwrap_or_default();
        let value = p.value.as_ref().map(|x| x.0.clone()).unwrap_or_default();
        all.insert(name.clone(), Value::String(value.clone()));
        v.insert(format!("{prefix}.outputs.parameters.{name}"), value);
    }
    if !all.is_empty() {
        v.insert(
            format!("{prefix}.outputs.parameters"),
            Value::Object(all).to_string(),
        );
    }
    for a in o.artifacts.iter().flatten() {
        if let (Some(name), Ok(j)) = (&a.name, serde_json::to_string(a)) {
            v.insert(format!("{prefix}.outputs.artifacts.{name}"), j);
        }
    }
}

/// Adds the aggregate of a loop's iterations: `<prefix>.outputs.result` and
/// `<prefix>.outputs.parameters` as JSON lists, like Argo.
pub(crate) fn add_aggregate_vars(v: &mut Vars, prefix: &str, children: &[&NodeStatus]) {
    let mut results = Vec::new();
    let mut params = Vec::new();
    let mut by_name: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for n in children {
        let Some(o) = &n.outputs else { continue };
        if let Some(r) = &o.result {
            results.push(serde_json::from_str(r).unwrap_or_else(|_| Value::String(r.clone())));
        }
        let mut m = serde_json::Map::new();
        for p in o.parameters.iter().flatten() {
            let value = p.value.as_ref().map(|x| x.0.clone()).unwrap_or_default();
            let name = p.name.clone().unwrap_or_default();
            by_name
                .entry(name.clone())
                .or_default()
                .push(Value::String(value.clone()));
            m.insert(name, Value::String(value));
        }
        if !m.is_empty() {
            params.push(Value::Object(m));
        }
    }
    v.insert(
        format!("{prefix}.outputs.result"),
        Value::Array(results).to_string(),
    );
    v.insert(
        format!("{prefix}.outputs.parameters"),
        Value::Array(params).to_string(),
    );
    for (name, values) in by_name {
        v.insert(
            format!("{prefix}.outputs.parameters.{name}"),
            Value::Array(values).to_string(),
        );
    }
}

/// The outputs a skipped or omitted step still offers: each output parameter's
/// `valueFrom.default` (Argo's skipped-output defaults).
pub(crate) fn add_skipped_defaults(v: &mut Vars, prefix: &str, tmpl: Option<&Template>) {
    let Some(o) = tmpl.and_then(|t| t.outputs.as_ref()) else {
        return;
    };
    for p in o.parameters.iter().flatten() {
        let default = p.value_from.as_ref().and_then(|f| f.default.as_ref());
        match (&p.name, default) {
            (Some(name), Some(d)) => {
                v.insert(format!("{prefix}.outputs.parameters.{name}"), d.0.clone());
            }
            (Some(name), None) => v.insert_nil(format!("{prefix}.outputs.parameters.{name}")),
            _ => {}
        }
    }
}

/// The outputs of a steps or DAG template, from the scope its children left.
pub(crate) fn template_outputs(tmpl: &Template, vars: &Vars) -> Result<Option<Outputs>, String> {
    let Some(decl) = &tmpl.outputs else {
        return Ok(None);
    };
    let mut params = Vec::new();
    for p in decl.parameters.iter().flatten() {
        params.push(output_parameter(p, vars)?);
    }
    let mut artifacts = Vec::new();
    for a in decl.artifacts.iter().flatten() {
        let name = a.name.clone().unwrap_or_default();
        let src = if let Some(from) = &a.from {
            Some(render(from, vars, Unresolved::Keep)?)
        } else if let Some(e) = &a.from_expression {
            eval_expr(e, vars).ok().map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            })
        } else {
            None
        };
        match src.and_then(|s| serde_json::from_str(&s).ok()) {
            Some(found) => artifacts.push(super::args::with_location(a, &found)),
            None if a.optional == Some(true) => {}
            None => {
                return Err(format!(
                    "outputs.artifacts.{name}: no artifact to take it from"
                ));
            }
        }
    }
    Ok(Some(Outputs {
        parameters: (!params.is_empty()).then_some(params),
        artifacts: (!artifacts.is_empty()).then_some(artifacts),
        ..Default::default()
    }))
}

fn output_parameter(p: &Parameter, vars: &Vars) -> Result<Parameter, String> {
    let name = p.name.clone().unwrap_or_default();
    let from = p.value_from.as_ref();
    let value = if let Some(v) = &p.value {
        Some(render(&v.0, vars, Unresolved::Keep)?)
    } else if let Some(src) = from.and_then(|f| f.parameter.as_ref()) {
        let r = render(src, vars, Unresolved::Keep)?;
        (!r.contains("{{")).then_some(r)
    } else if let Some(e) = from.and_then(|f| f.expression.as_ref()) {
        eval_expr(e, vars).ok().map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        })
    } else {
        None
    };
    let value = value.or_else(|| from.and_then(|f| f.default.as_ref()).map(|d| d.0.clone()));
    let Some(value) = value else {
        return Err(format!("outputs.parameters.{name}: could not be resolved"));
    };
    Ok(Parameter {
        name: p.name.clone(),
        value: Some(value.into()),
        global_name: p.global_name.clone(),
        ..Default::default()
    })
}
