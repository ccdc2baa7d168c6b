//! Argo's node field selectors (`displayName=approve,phase!=Failed`).

use crate::model::NodeStatus;

use super::OpError;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AnyString, NodePhase, NodeType, Parameter};

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
