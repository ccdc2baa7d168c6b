//! What people do to a running workflow's nodes, as pure functions over its status: Argo's
//! `resume`, `stop` and `set` with a node field selector (the approval path), and `resume`
//! without one. The backends apply them to the workflow they hold and then plan again.
//!
//! A node field selector is Argo's (`docs/node-field-selector.md`): `FIELD=VALUE` or
//! `FIELD!=VALUE` (`==` is `=`), several joined by commas and all required. The fields are
//! `displayName`, `name`, `id`, `templateName`, `phase`, `templateRef.name`,
//! `templateRef.template` and `inputs.parameters.<NAME>.value`; a backslash escapes `,`, `=`, `!`
//! and `\` in a value.

use std::collections::BTreeMap;

use crate::model::{
    AnyString, NodePhase, NodeStatus, NodeType, Outputs, Parameter, Template, Workflow,
};
use crate::plan::{ResolvedWorkflow, TemplateScope};

/// Why an operation on nodes cannot be applied. Nothing has changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The node field selector does not parse.
    #[error("invalid node field selector \"{selector}\": {reason}")]
    BadSelector {
        /// The selector as given.
        selector: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No waiting suspend node matches the selector.
    #[error(
        "currently, set only targets suspend nodes: no suspend nodes matching nodeFieldSelector: {0}"
    )]
    NoSuspendedNode(String),
    /// Output parameters were given for a node whose template supplies none.
    #[error(
        "cannot set output parameters because node \"{0}\" is not expecting any raw parameters"
    )]
    NoSuppliedOutputs(String),
    /// An output parameter the node's template does not declare.
    #[error("node \"{node}\" is not expecting output parameter '{name}'")]
    UnknownOutput {
        /// The node's display name.
        node: String,
        /// The parameter given.
        name: String,
    },
    /// An output parameter that is not `valueFrom.supplied`.
    #[error(
        "cannot set output parameter '{0}' because it does not use valueFrom.supplied or it was already set"
    )]
    NotSupplied(String),
    /// A resumed node's supplied output has neither a value nor a default.
    #[error("output parameter '{0}' has not been set and does not have a default value")]
    NoDefault(String),
}

/// A parsed node field selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSelector {
    text: String,
    requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    field: String,
    equals: bool,
    value: String,
}

const FIELDS: &[&str] = &[
    "displayName",
    "name",
    "id",
    "templateName",
    "phase",
    "templateRef.name",
    "templateRef.template",
];

impl NodeSelector {
    /// Parses `FIELD=VALUE[,FIELD!=VALUE…]`.
    pub fn parse(text: &str) -> Result<Self, OpError> {
        let bad = |reason: String| OpError::BadSelector {
            selector: text.to_string(),
            reason,
        };
        let mut requirements = Vec::new();
        for term in split_unescaped(text, ',') {
            if term.trim().is_empty() {
                continue;
            }
            let (field, equals, value) = split_term(&term)
                .ok_or_else(|| bad(format!("`{term}` is not FIELD=VALUE or FIELD!=VALUE")))?;
            let field = field.trim().to_string();
            let known = FIELDS.contains(&field.as_str())
                || field
                    .strip_prefix("inputs.parameters.")
                    .and_then(|r| r.strip_suffix(".value"))
                    .is_some_and(|n| !n.is_empty());
            if !known {
                return Err(bad(format!(
                    "unknown field `{field}`; use one of {}, inputs.parameters.<NAME>.value",
                    FIELDS.join(", ")
                )));
            }
            requirements.push(Requirement {
                field,
                equals,
                value: unescape(value.trim()),
            });
        }
        if requirements.is_empty() {
            return Err(bad("it selects nothing".into()));
        }
        Ok(Self {
            text: text.to_string(),
            requirements,
        })
    }

    /// Whether a node has every field the selector asks for.
    pub fn matches(&self, node: &NodeStatus) -> bool {
        self.requirements.iter().all(|r| {
            let actual = field_of(node, &r.field).unwrap_or_default();
            (actual == r.value) == r.equals
        })
    }

    /// The selector as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// A node's value of a selector field (`None` when the node has no such field).
fn field_of(node: &NodeStatus, field: &str) -> Option<String> {
    let s = |v: &Option<String>| v.clone();
    match field {
        "displayName" => s(&node.display_name),
        "name" => s(&node.name),
        "id" => s(&node.id),
        "templateName" => node
            .template_name
            .clone()
            .or_else(|| node.template_ref.as_ref().and_then(|r| r.template.clone())),
        "phase" => node.phase.map(|p| p.as_str().to_string()),
        "templateRef.name" => node.template_ref.as_ref().and_then(|r| r.name.clone()),
        "templateRef.template" => node.template_ref.as_ref().and_then(|r| r.template.clone()),
        other => {
            let name = other
                .strip_prefix("inputs.parameters.")?
                .strip_suffix(".value")?;
            node.inputs
                .as_ref()?
                .parameters
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name))
                .and_then(|p| p.value.as_ref())
                .map(|v| v.0.clone())
        }
    }
}

/// Splits on `sep` where it is not escaped by a backslash (escapes are kept).
fn split_unescaped(text: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(String::new());
            continue;
        }
        out.last_mut().expect("never empty").push(c);
    }
    out
}

/// `field`, whether it is `=` (or `==`) rather than `!=`, and the still-escaped value.
fn split_term(term: &str) -> Option<(String, bool, String)> {
    let chars: Vec<char> = term.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '!' if chars.get(i + 1) == Some(&'=') => {
                let field: String = chars[..i].iter().collect();
                let value: String = chars[i + 2..].iter().collect();
                return (!field.trim().is_empty()).then_some((field, false, value));
            }
            '=' => {
                let skip = if chars.get(i + 1) == Some(&'=') { 2 } else { 1 };
                let field: String = chars[..i].iter().collect();
                let value: String = chars[i + skip..].iter().collect();
                return (!field.trim().is_empty()).then_some((field, true, value));
            }
            _ => i += 1,
        }
    }
    None
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut escaped = false;
    for c in value.chars() {
        if !escaped && c == '\\' {
            escaped = true;
            continue;
        }
        escaped = false;
        out.push(c);
    }
    out
}

/// What to change on the selected suspend nodes (Argo's `SetOperationValues`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeUpdate {
    /// The new phase (Succeeded resumes the node, Failed rejects it).
    pub phase: Option<NodePhase>,
    /// A message shown on the node.
    pub message: Option<String>,
    /// Values of the template's `valueFrom.supplied` output parameters, by name.
    pub outputs: BTreeMap<String, String>,
}

/// Whether a node is a suspend node still waiting (for a person or its duration).
pub fn is_waiting_suspend(node: &NodeStatus) -> bool {
    node.r#type == Some(NodeType::Suspend)
        && matches!(node.phase, Some(NodePhase::Running | NodePhase::Pending))
}

/// Applies `update` to every waiting suspend node the selector matches (Argo's
/// `updateSuspendedNode`). Returns the ids of the nodes changed; on an error nothing changes.
pub fn update_suspended(
    wf: &mut Workflow,
    resolved: &ResolvedWorkflow,
    selector: &NodeSelector,
    update: &NodeUpdate,
    now: &str,
) -> Result<Vec<String>, OpError> {
    let Some(nodes) = wf.status.as_ref().and_then(|s| s.nodes.as_ref()) else {
        return Err(OpError::NoSuspendedNode(selector.as_str().to_string()));
    };
    let mut changed = Vec::new();
    for (id, n) in nodes {
        if !is_waiting_suspend(n) || !selector.matches(n) {
            continue;
        }
        let mut n = n.clone();
        if let Some(phase) = update.phase {
            n.phase = Some(phase);
            if phase.fulfilled() {
                n.finished_at = Some(now.to_string());
            }
        }
        if let Some(m) = update.message.as_ref().filter(|m| !m.is_empty()) {
            n.message = Some(m.clone());
        }
        let template = node_template(resolved, &n);
        let mut outputs = waiting_outputs(&n, template.map(|t| t.as_ref()));
        if !update.outputs.is_empty() {
            set_supplied(&mut outputs, &n, &update.outputs)?;
        }
        if update.phase.is_some_and(|p| p == NodePhase::Succeeded) {
            fill_defaults(&mut outputs)?;
        }
        n.outputs = finished_outputs(outputs);
        changed.push((id.clone(), n));
    }
    if changed.is_empty() {
        return Err(OpError::NoSuspendedNode(selector.as_str().to_string()));
    }
    let nodes = wf
        .status
        .as_mut()
        .and_then(|s| s.nodes.as_mut())
        .expect("checked above");
    let ids = changed.iter().map(|(id, _)| id.clone()).collect();
    for (id, n) in changed {
        nodes.insert(id, n);
    }
    Ok(ids)
}

/// Resumes a whole workflow (Argo's `resume` without a selector): clears `spec.suspend` and
/// marks every waiting suspend node Succeeded with its supplied outputs' defaults. Returns the
/// ids of the nodes resumed; on an error nothing changes.
pub fn resume_all(
    wf: &mut Workflow,
    resolved: &ResolvedWorkflow,
    now: &str,
) -> Result<Vec<String>, OpError> {
    let mut changed = Vec::new();
    for (id, n) in wf.status.iter().flat_map(|s| s.nodes.iter().flatten()) {
        if !is_waiting_suspend(n) {
            continue;
        }
        let mut n = n.clone();
        let mut outputs = waiting_outputs(&n, node_template(resolved, &n).map(|t| t.as_ref()));
        fill_defaults(&mut outputs)?;
        n.outputs = finished_outputs(outputs);
        n.phase = Some(NodePhase::Succeeded);
        n.finished_at = Some(now.to_string());
        changed.push((id.clone(), n));
    }
    if let Some(spec) = wf.spec.as_mut() {
        spec.suspend = None;
    }
    let ids = changed.iter().map(|(id, _)| id.clone()).collect();
    if let Some(nodes) = wf.status.as_mut().and_then(|s| s.nodes.as_mut()) {
        for (id, n) in changed {
            nodes.insert(id, n);
        }
    }
    Ok(ids)
}

/// The template a node runs, if the resolved workflow has it.
pub fn node_template<'a>(
    resolved: &'a ResolvedWorkflow,
    node: &NodeStatus,
) -> Option<&'a std::sync::Arc<Template>> {
    if let Some(r) = &node.template_ref {
        return resolved.template_ref(r).map(|(_, t)| t);
    }
    resolved.template(&TemplateScope::Local, node.template_name.as_deref()?)
}

/// The output parameters of a waiting suspend node: its template's declarations, with the
/// values already set on the node (an earlier `set`) in place of their `valueFrom`.
fn waiting_outputs(node: &NodeStatus, template: Option<&Template>) -> Vec<Parameter> {
    let set: Vec<&Parameter> = node
        .outputs
        .iter()
        .flat_map(|o| o.parameters.iter().flatten())
        .filter(|p| p.value.is_some())
        .collect();
    let mut params = template
        .and_then(|t| t.outputs.as_ref())
        .and_then(|o| o.parameters.clone())
        .unwrap_or_default();
    for p in &mut params {
        if let Some(v) = set.iter().find(|s| s.name == p.name) {
            p.value = v.value.clone();
            p.value_from = None;
        }
    }
    params
}

fn set_supplied(
    params: &mut [Parameter],
    node: &NodeStatus,
    values: &BTreeMap<String, String>,
) -> Result<(), OpError> {
    let shown = node
        .display_name
        .clone()
        .or_else(|| node.name.clone())
        .unwrap_or_default();
    if params.is_empty() {
        return Err(OpError::NoSuppliedOutputs(shown));
    }
    for (name, value) in values {
        let p = params
            .iter_mut()
            .find(|p| p.name.as_deref() == Some(name))
            .ok_or_else(|| OpError::UnknownOutput {
                node: shown.clone(),
                name: name.clone(),
            })?;
        if p.value_from.as_ref().is_none_or(|v| v.supplied.is_none()) {
            return Err(OpError::NotSupplied(name.clone()));
        }
        p.value = Some(AnyString(value.clone()));
        p.value_from = None;
    }
    Ok(())
}

/// Gives every supplied parameter still without a value its default.
fn fill_defaults(params: &mut [Parameter]) -> Result<(), OpError> {
    for p in params.iter_mut() {
        let Some(from) = p.value_from.as_ref().filter(|v| v.supplied.is_some()) else {
            continue;
        };
        let value = p
            .value
            .clone()
            .or_else(|| from.default.clone())
            .ok_or_else(|| OpError::NoDefault(p.name.clone().unwrap_or_default()))?;
        p.value = Some(value);
        p.value_from = None;
    }
    Ok(())
}

/// Outputs as stored on the node: only parameters that have a value.
fn finished_outputs(params: Vec<Parameter>) -> Option<Outputs> {
    let params: Vec<Parameter> = params
        .into_iter()
        .filter(|p| p.value.is_some())
        .map(|p| Parameter {
            name: p.name,
            value: p.value,
            global_name: p.global_name,
            ..Default::default()
        })
        .collect();
    (!params.is_empty()).then(|| Outputs {
        parameters: Some(params),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(display: &str, template: &str, phase: NodePhase) -> NodeStatus {
        NodeStatus {
            id: Some(format!("wf-{display}")),
            name: Some(format!("wf[0].{display}")),
            display_name: Some(display.into()),
            template_name: Some(template.into()),
            phase: Some(phase),
            r#type: Some(NodeType::Suspend),
            ..Default::default()
        }
    }

    #[test]
    fn selectors_parse_like_kubernetes_field_selectors() {
        let n = node("approve", "gate", NodePhase::Running);
        for (sel, want) in [
            ("displayName=approve", true),
            ("displayName==approve", true),
            ("displayName!=approve", false),
            ("displayName=approve,templateName=gate", true),
            ("displayName=approve,templateName=other", false),
            ("phase=Running", true),
            ("id=wf-approve", true),
            ("name=wf[0].approve", true),
            ("templateRef.name=x", false),
            ("templateRef.name!=x", true),
            ("inputs.parameters.env.value=", true),
            (" displayName=approve , ", true),
        ] {
            let s = NodeSelector::parse(sel).unwrap();
            assert_eq!(s.matches(&n), want, "{sel}");
        }
    }

    #[test]
    fn escaped_separators_belong_to_the_value() {
        let mut n = node("a,b=c", "gate", NodePhase::Running);
        n.display_name = Some("a,b=c".into());
        let s = NodeSelector::parse(r"displayName=a\,b\=c").unwrap();
        assert!(s.matches(&n));
    }

    #[test]
    fn bad_selectors_say_what_is_wrong() {
        for (sel, says) in [
            ("displayName", "is not FIELD=VALUE"),
            ("=x", "is not FIELD=VALUE"),
            ("colour=red", "unknown field `colour`"),
            ("inputs.parameters..value=1", "unknown field"),
            ("", "selects nothing"),
        ] {
            let e = NodeSelector::parse(sel).unwrap_err().to_string();
            assert!(e.contains(says), "{sel}: {e}");
        }
    }

    #[test]
    fn input_parameters_are_matched_by_value() {
        let mut n = node("deploy", "gate", NodePhase::Running);
        n.inputs = Some(crate::model::Inputs {
            parameters: Some(vec![Parameter {
                name: Some("env".into()),
                value: Some(AnyString("prod".into())),
                ..Default::default()
            }]),
            ..Default::default()
        });
        assert!(
            NodeSelector::parse("inputs.parameters.env.value=prod")
                .unwrap()
                .matches(&n)
        );
        assert!(
            !NodeSelector::parse("inputs.parameters.env.value=dev")
                .unwrap()
                .matches(&n)
        );
    }
}
