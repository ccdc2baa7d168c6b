//! The "Run with parameters" hints in a template's annotations (`engine::secrets`,
//! `trellis.dev/entrypoints`): each names a parameter or template that exists, and a type hint
//! is one Trellis knows — a typo would silently give a text field.

use crate::diag::{Diagnostic, did_you_mean};
use crate::model::WorkflowSpec;
use crate::secrets::{SECRET_ANNOTATION, TYPE_HINT_PREFIX, TYPE_HINTS};
use crate::yaml::Seg;

use super::Lint;

/// The annotation listing the entrypoints a form offers.
pub(crate) const ENTRYPOINTS_ANNOTATION: &str = "trellis.dev/entrypoints";

fn names(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn hint(name: &str, known: &[&str]) -> String {
    did_you_mean(name, known.iter().copied())
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// Checks the form hints of a resource whose annotations are `annotations` and spec `spec`.
pub(crate) fn lint_form_hints(
    cx: &mut Lint<'_>,
    annotations: Option<&std::collections::BTreeMap<String, String>>,
    spec: Option<&WorkflowSpec>,
) {
    let Some(annotations) = annotations else {
        return;
    };
    let params: Vec<&str> = spec
        .and_then(|s| s.arguments.as_ref())
        .and_then(|a| a.parameters.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|p| p.name.as_deref())
        .collect();
    let templates: Vec<&str> = spec
        .and_then(|s| s.templates.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|t| t.name.as_deref())
        .collect();
    let at = |key: &str| -> Vec<Seg> { vec!["metadata".into(), "annotations".into(), key.into()] };
    for (key, value) in annotations {
        if let Some(param) = key.strip_prefix(TYPE_HINT_PREFIX) {
            if !TYPE_HINTS.contains(&value.trim()) {
                cx.push(
                    Diagnostic::error(
                        "unknown-parameter-type",
                        &at(key),
                        format!(
                            "`{}` is not a parameter type{}",
                            value.trim(),
                            hint(value.trim(), &TYPE_HINTS)
                        ),
                    )
                    .with_help(format!("use one of {}", TYPE_HINTS.join(", "))),
                );
            }
            if !params.contains(&param) {
                cx.push(Diagnostic::error(
                    "hint-for-unknown-parameter",
                    &at(key),
                    format!(
                        "`{key}` names parameter `{param}`, which spec.arguments.parameters does not declare{}",
                        hint(param, &params)
                    ),
                ));
            }
        }
    }
    if let Some(list) = annotations.get(SECRET_ANNOTATION) {
        for name in names(list).filter(|n| !params.contains(n)) {
            cx.push(Diagnostic::error(
                "hint-for-unknown-parameter",
                &at(SECRET_ANNOTATION),
                format!(
                    "`{SECRET_ANNOTATION}` names parameter `{name}`, which spec.arguments.parameters does not declare{}",
                    hint(name, &params)
                ),
            ));
        }
    }
    if let Some(list) = annotations.get(ENTRYPOINTS_ANNOTATION) {
        for name in names(list).filter(|n| *n != "*" && !templates.contains(n)) {
            cx.push(Diagnostic::error(
                "unknown-entrypoint",
                &at(ENTRYPOINTS_ANNOTATION),
                format!(
                    "`{ENTRYPOINTS_ANNOTATION}` names template `{name}`, which the spec does not have{}",
                    hint(name, &templates)
                ),
            ));
        }
    }
}
