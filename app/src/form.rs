//! The typed "Run with parameters" form: which input each parameter gets (select, radio,
//! checkbox, textarea, number, password, text), the checks on what is typed, and what the form
//! sends. Pure and shared: the browser checks as the user types, the server checks again before
//! anything is created.
//!
//! Hints live in the template's annotations, since Argo's parameters have none:
//! - `trellis.dev/type.<parameter>`: `boolean`, `number`, `integer`, `text`, `multiline` or
//!   `secret`;
//! - `trellis.dev/secret`: parameter names, comma-separated, whose values are secrets (a password
//!   field; the value is masked wherever Trellis shows the run);
//! - `trellis.dev/entrypoints`: templates the form offers as entrypoints (comma-separated, `*`
//!   for every template).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{GraphView, TemplateId};

/// The annotation listing the entrypoints a form offers.
pub const ENTRYPOINTS_ANNOTATION: &str = "trellis.dev/entrypoints";
/// Label prefixes Argo and Trellis set on runs, which a form may not give.
pub const RESERVED_LABEL_PREFIXES: [&str; 2] = ["workflows.argoproj.io/", "trellis.dev/"];
/// An enum with at most this many values is offered as radio buttons.
const MAX_RADIOS: usize = 4;

/// The input a parameter gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// Several lines.
    Textarea,
    /// A number (`integer`: whole).
    Number {
        /// Whether only whole numbers are accepted.
        integer: bool,
    },
    /// `true` or `false`.
    Boolean,
    /// A password field; the value is never shown again.
    Secret,
    /// One of a few values, as radio buttons.
    Radio(Vec<String>),
    /// One of many values, as a select.
    Select(Vec<String>),
}

/// One field of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    /// The parameter's name.
    pub name: String,
    /// Its description, shown under the field.
    pub description: Option<String>,
    /// Its input.
    pub kind: FieldKind,
    /// The value it starts with (the default, or the rebuilt run's value).
    pub value: String,
    /// Whether it has no default, so must be filled in.
    pub required: bool,
}

/// The form of one template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerForm {
    /// Which template.
    pub id: TemplateId,
    /// Its title.
    pub title: String,
    /// Its parameters, in order.
    pub fields: Vec<FormField>,
    /// The entrypoints offered (empty: the template's own, no choice).
    pub entrypoints: Vec<String>,
    /// The entrypoint it starts with.
    pub entrypoint: String,
    /// The graph that will run with the starting values.
    pub graph: GraphView,
    /// The run whose parameters were pre-filled ("Rebuild"), as `#N` or its name.
    pub rebuilt_from: Option<String>,
    /// The labels it starts with (`key=value, …`), those of the rebuilt run.
    pub labels: String,
    /// The namespace the run goes to (a ClusterWorkflowTemplate's run can go to any).
    pub namespace: String,
}

/// What the form sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerRequest {
    /// Which template.
    pub id: Option<TemplateId>,
    /// Each parameter's value.
    pub values: BTreeMap<String, String>,
    /// The chosen entrypoint (empty: the template's own).
    pub entrypoint: String,
    /// Extra labels, `key=value, …`.
    pub labels: String,
    /// Where the run goes (read for a ClusterWorkflowTemplate; others run in their own).
    pub namespace: String,
}

/// Why a form was not accepted: per field (by parameter name, `labels` or `entrypoint`) and
/// in general.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormProblems {
    /// Problems of one field.
    pub fields: BTreeMap<String, String>,
    /// Problems of the whole (the lint engine's findings).
    pub general: Vec<String>,
}

impl FormProblems {
    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }
}

/// What the server answered a form with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TriggerOutcome {
    /// The run was created.
    Submitted {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// Its number in the template's history.
        number: Option<u64>,
    },
    /// Checked without creating anything: the graph that would run.
    Preview(GraphView),
    /// Not accepted; nothing was created.
    Rejected(FormProblems),
}

/// Names in a comma-separated annotation value, trimmed, without empty ones.
pub fn name_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The input of a parameter with this default, enum and type hint.
pub fn field_kind(default: Option<&str>, enum_values: &[String], hint: Option<&str>) -> FieldKind {
    match hint {
        Some("secret") => return FieldKind::Secret,
        Some("boolean") => return FieldKind::Boolean,
        Some("number") => return FieldKind::Number { integer: false },
        Some("integer") => return FieldKind::Number { integer: true },
        Some("multiline") => return FieldKind::Textarea,
        Some("text") => return FieldKind::Text,
        _ => {}
    }
    let mut sorted: Vec<&str> = enum_values.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    if sorted == ["false", "true"] {
        return FieldKind::Boolean;
    }
    if !enum_values.is_empty() {
        let values = enum_values.to_vec();
        return if values.len() <= MAX_RADIOS {
            FieldKind::Radio(values)
        } else {
            FieldKind::Select(values)
        };
    }
    match default {
        Some("true" | "false") => FieldKind::Boolean,
        Some(d) if d.contains('\n') => FieldKind::Textarea,
        _ => FieldKind::Text,
    }
}

/// Why `value` does not fit `field`, if it does not.
pub fn check_value(field: &FormField, value: &str) -> Option<String> {
    if value.is_empty() {
        return field
            .required
            .then(|| format!("{} is required: it has no default", field.name));
    }
    match &field.kind {
        FieldKind::Number { integer } => {
            let ok = if *integer {
                value.trim().parse::<i64>().is_ok()
            } else {
                value.trim().parse::<f64>().is_ok_and(f64::is_finite)
            };
            (!ok).then(|| {
                let what = if *integer {
                    "a whole number"
                } else {
                    "a number"
                };
                format!("{} must be {what}, not {value:?}", field.name)
            })
        }
        FieldKind::Boolean => (!matches!(value, "true" | "false"))
            .then(|| format!("{} must be true or false, not {value:?}", field.name)),
        FieldKind::Radio(values) | FieldKind::Select(values) => {
            (!values.iter().any(|v| v == value)).then(|| {
                format!(
                    "{} must be one of {}, not {value:?}",
                    field.name,
                    values.join(", ")
                )
            })
        }
        FieldKind::Text | FieldKind::Textarea | FieldKind::Secret => None,
    }
}

/// The problems of every field of `fields` with the values sent (a field not sent counts as
/// empty), plus values sent for parameters the template does not have.
pub fn check_values(fields: &[FormField], values: &BTreeMap<String, String>) -> FormProblems {
    let mut problems = FormProblems::default();
    for f in fields {
        let value = values.get(&f.name).map_or("", String::as_str);
        if let Some(p) = check_value(f, value) {
            problems.fields.insert(f.name.clone(), p);
        }
    }
    for name in values.keys() {
        if !fields.iter().any(|f| &f.name == name) {
            problems
                .general
                .push(format!("the template has no parameter {name:?}"));
        }
    }
    problems
}

/// The labels of a `key=value, key=value` text, each checked as a Kubernetes label.
pub fn parse_labels(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("label `{pair}` must be written key=value"))?;
            let (k, v) = (k.trim(), v.trim());
            if let Some(p) = RESERVED_LABEL_PREFIXES.iter().find(|p| k.starts_with(*p)) {
                return Err(format!(
                    "label `{k}` is set by Trellis itself: labels starting with `{p}` cannot be given"
                ));
            }
            label_key(k).map_err(|why| format!("label key `{k}` {why}"))?;
            if v.len() > 63 || !v.is_empty() && !label_name(v) {
                return Err(format!(
                    "label value `{v}` must be at most 63 letters, digits, `-`, `_` or `.`, \
                     starting and ending with a letter or digit"
                ));
            }
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

/// Checks a label key: an optional DNS-subdomain prefix and `/`, then a name.
fn label_key(key: &str) -> Result<(), &'static str> {
    let name = match key.rsplit_once('/') {
        Some((prefix, name)) => {
            let ok = !prefix.is_empty()
                && prefix.len() <= 253
                && prefix.split('.').all(|p| {
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                });
            if !ok {
                return Err("has a prefix that is not a DNS subdomain");
            }
            name
        }
        None => key,
    };
    if name.is_empty() || name.len() > 63 || !label_name(name) {
        return Err(
            "must be at most 63 letters, digits, `-`, `_` or `.`, starting and ending with a \
             letter or digit",
        );
    }
    Ok(())
}

fn label_name(s: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    edge(s.chars().next())
        && edge(s.chars().last())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldKind, required: bool) -> FormField {
        FormField {
            name: "p".into(),
            description: None,
            kind,
            value: String::new(),
            required,
        }
    }

    #[test]
    fn parameters_get_the_input_their_values_call_for() {
        let e = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(field_kind(Some("true"), &[], None), FieldKind::Boolean);
        assert_eq!(field_kind(Some("a\nb"), &[], None), FieldKind::Textarea);
        assert_eq!(field_kind(Some("x"), &[], None), FieldKind::Text);
        assert_eq!(field_kind(None, &[], Some("boolean")), FieldKind::Boolean);
        assert_eq!(
            field_kind(Some("x"), &[], Some("secret")),
            FieldKind::Secret
        );
        assert_eq!(
            field_kind(Some("3"), &[], Some("integer")),
            FieldKind::Number { integer: true }
        );
        assert_eq!(
            field_kind(Some("a"), &e(&["a", "b"]), None),
            FieldKind::Radio(e(&["a", "b"]))
        );
        assert_eq!(
            field_kind(Some("a"), &e(&["a", "b", "c", "d", "e"]), None),
            FieldKind::Select(e(&["a", "b", "c", "d", "e"]))
        );
        assert_eq!(
            field_kind(Some("false"), &e(&["true", "false"]), None),
            FieldKind::Boolean,
            "an enum of true and false is a checkbox"
        );
        // A hint wins over what the default looks like.
        assert_eq!(field_kind(Some("true"), &[], Some("text")), FieldKind::Text);
    }

    #[test]
    fn values_are_checked_against_their_field() {
        let n = field(FieldKind::Number { integer: true }, false);
        assert_eq!(check_value(&n, "12"), None);
        assert!(check_value(&n, "1.5").unwrap().contains("whole number"));
        let f = field(FieldKind::Number { integer: false }, false);
        assert_eq!(check_value(&f, "1.5"), None);
        assert!(check_value(&f, "NaN").is_some());
        assert!(check_value(&f, "ten").unwrap().contains("\"ten\""));
        let r = field(FieldKind::Radio(vec!["dev".into(), "prod".into()]), false);
        assert_eq!(check_value(&r, "prod"), None);
        assert!(
            check_value(&r, "qa")
                .unwrap()
                .contains("one of dev, prod, not \"qa\"")
        );
        let b = field(FieldKind::Boolean, false);
        assert!(check_value(&b, "yes").is_some());
        let req = field(FieldKind::Text, true);
        assert!(check_value(&req, "").unwrap().contains("required"));
        assert_eq!(check_value(&field(FieldKind::Text, false), ""), None);
    }

    #[test]
    fn check_values_names_each_bad_field_and_unknown_parameters() {
        let fields = vec![field(FieldKind::Number { integer: true }, true)];
        let values = BTreeMap::from([("p".into(), "x".into()), ("q".into(), "1".into())]);
        let got = check_values(&fields, &values);
        assert!(got.fields["p"].contains("whole number"));
        assert_eq!(got.general, ["the template has no parameter \"q\""]);
        let ok = BTreeMap::from([("p".into(), "4".into())]);
        assert!(check_values(&fields, &ok).is_empty());
    }

    #[test]
    fn labels_are_kubernetes_labels() {
        assert_eq!(
            parse_labels("team=web, example.com/tier = gold,").unwrap(),
            [
                ("team".to_string(), "web".to_string()),
                ("example.com/tier".to_string(), "gold".to_string())
            ]
        );
        assert!(parse_labels("").unwrap().is_empty());
        assert!(parse_labels("team").unwrap_err().contains("key=value"));
        assert!(parse_labels("-x=1").unwrap_err().contains("label key `-x`"));
        assert!(parse_labels("a=b c").unwrap_err().contains("label value"));
        assert!(parse_labels("Bad_/x=1").unwrap_err().contains("prefix"));
        assert!(
            parse_labels("workflows.argoproj.io/workflow-template=other")
                .unwrap_err()
                .contains("set by Trellis itself")
        );
    }

    #[test]
    fn name_lists_drop_blanks() {
        assert_eq!(name_list(" a, ,b "), ["a", "b"]);
    }
}
