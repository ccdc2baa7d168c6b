//! References between templates: `template:`, `templateRef:`, `workflowTemplateRef:`, and the
//! arguments a call must pass.

use super::spec::{SpecCtx, template_names};
use super::{Lint, join};
use crate::diag::{Diagnostic, did_you_mean};
use crate::model::{Arguments, Template, TemplateRef, WorkflowEventBinding, WorkflowTemplateRef};
use crate::yaml::Seg;

/// The parts of a step, task or hook that say which template to run and with what.
pub struct Call<'c> {
    /// `template:` — a template of the same workflow.
    pub template: Option<&'c str>,
    /// `templateRef:` — a template of a WorkflowTemplate or ClusterWorkflowTemplate.
    pub template_ref: Option<&'c TemplateRef>,
    /// `inline:` — a template written in place.
    pub inline: Option<&'c Template>,
    /// The arguments passed.
    pub arguments: Option<&'c Arguments>,
}

/// Resolves a call's template (if it can be found among the linted files) and checks its arguments.
pub fn resolve_call(cx: &mut Lint<'_>, sc: &SpecCtx<'_>, call: &Call<'_>, base: &[Seg]) {
    let set = [
        call.template.is_some(),
        call.template_ref.is_some(),
        call.inline.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if set != 1 {
        let message = if set == 0 {
            "it does not say which template to run"
        } else {
            "it names more than one template (`template`, `templateRef` and `inline` exclude each other)"
        };
        cx.push(
            Diagnostic::error("template-reference", base, message).with_help(
                "set exactly one of `template: NAME`, `templateRef: {name, template}` or `inline:`",
            ),
        );
        return;
    }
    let index = cx.index;
    let target = if let Some(name) = call.template {
        local_template(cx, sc, name, &join(base, &["template".into()]))
    } else if let Some(r) = call.template_ref {
        template_ref(cx, index, r, &join(base, &["templateRef".into()]))
    } else {
        None
    };
    argument_values(cx, call.arguments, base);
    if let Some(t) = target {
        required_inputs(cx, t, call.arguments, base);
    }
}

/// A template of the current spec by name; reports it when missing.
pub fn local_template<'s>(
    cx: &mut Lint<'_>,
    sc: &SpecCtx<'s>,
    name: &str,
    path: &[Seg],
) -> Option<&'s Template> {
    if name.contains("{{") {
        return None;
    }
    let found = sc
        .spec
        .templates
        .iter()
        .flatten()
        .find(|t| t.name.as_deref() == Some(name));
    if found.is_none() {
        let names = sc.template_names();
        let help = match did_you_mean(name, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if names.is_empty() => "define it under `templates`".to_string(),
            None => format!("the templates are: {}", names.join(", ")),
        };
        cx.push(
            Diagnostic::error(
                "unknown-template",
                path,
                format!("there is no template named `{name}`"),
            )
            .with_help(help),
        );
    }
    found
}

fn template_ref<'i>(
    cx: &mut Lint<'_>,
    index: &'i super::Index<'i>,
    r: &TemplateRef,
    path: &[Seg],
) -> Option<&'i Template> {
    let name = r.name.as_deref().unwrap_or_default();
    let template = r.template.as_deref().unwrap_or_default();
    if name.is_empty() || template.is_empty() {
        cx.push(
            Diagnostic::error(
                "template-reference",
                path,
                "`templateRef` needs both `name` and `template`",
            )
            .with_help("`name` is the WorkflowTemplate, `template` the template inside it"),
        );
        return None;
    }
    if name.contains("{{") || template.contains("{{") {
        return None;
    }
    let cluster = r.cluster_scope.unwrap_or(false);
    let kind = if cluster {
        "ClusterWorkflowTemplate"
    } else {
        "WorkflowTemplate"
    };
    let Some(spec) = index.spec(name, cluster, cx.namespace) else {
        cx.push(
            Diagnostic::warning(
                "unresolved-reference",
                &join(path, &["name".into()]),
                format!("{kind} `{name}` is not among the linted files; it must exist where this runs"),
            )
            .with_help(format!("lint it together with this file to check the reference: `trellis lint this.yaml its-{kind}.yaml`")),
        );
        return None;
    };
    let found = spec
        .templates
        .iter()
        .flatten()
        .find(|t| t.name.as_deref() == Some(template));
    if found.is_none() {
        let names = template_names(spec);
        let help = match did_you_mean(template, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("its templates are: {}", names.join(", ")),
        };
        cx.push(
            Diagnostic::error(
                "unknown-template",
                &join(path, &["template".into()]),
                format!("{kind} `{name}` has no template named `{template}`"),
            )
            .with_help(help),
        );
    }
    found
}

/// `workflowTemplateRef`: the WorkflowTemplate must exist (a warning when it is not among the files)
/// and have the entrypoint the workflow asks for.
pub fn workflow_template_ref(
    cx: &mut Lint<'_>,
    r: &WorkflowTemplateRef,
    entrypoint: Option<&str>,
    path: &[Seg],
) {
    let Some(name) = r.name.as_deref().filter(|n| !n.is_empty()) else {
        cx.push(Diagnostic::error(
            "template-reference",
            path,
            "`workflowTemplateRef` needs the `name` of a WorkflowTemplate",
        ));
        return;
    };
    let cluster = r.cluster_scope.unwrap_or(false);
    let kind = if cluster {
        "ClusterWorkflowTemplate"
    } else {
        "WorkflowTemplate"
    };
    let Some(spec) = cx.index.spec(name, cluster, cx.namespace) else {
        cx.push(Diagnostic::warning(
            "unresolved-reference",
            &join(path, &["name".into()]),
            format!("{kind} `{name}` is not among the linted files; it must exist where this runs"),
        ));
        return;
    };
    let entry = entrypoint
        .or(spec.entrypoint.as_deref())
        .filter(|e| !e.is_empty());
    let names = template_names(spec);
    match entry {
        None => cx.push(
            Diagnostic::error(
                "missing-entrypoint",
                path,
                format!("neither this workflow nor {kind} `{name}` sets an `entrypoint`"),
            )
            .with_help("add `entrypoint:` to the workflow's spec"),
        ),
        Some(e) if !e.contains("{{") && !names.contains(&e) => cx.push(
            Diagnostic::error(
                "unknown-template",
                path,
                format!("entrypoint `{e}` is not a template of {kind} `{name}`"),
            )
            .with_help(format!("its templates are: {}", names.join(", "))),
        ),
        _ => {}
    }
}

/// Every argument parameter needs a value (or `valueFrom`).
fn argument_values(cx: &mut Lint<'_>, args: Option<&Arguments>, base: &[Seg]) {
    let Some(params) = args.and_then(|a| a.parameters.as_ref()) else {
        return;
    };
    for (i, p) in params.iter().enumerate() {
        if p.value.is_none() && p.value_from.is_none() {
            let name = p.name.as_deref().unwrap_or_default();
            cx.push(
                Diagnostic::error(
                    "argument-without-value",
                    &join(base, &["arguments".into(), "parameters".into(), i.into()]),
                    format!("argument `{name}` has no `value`"),
                )
                .with_help(format!("pass it, e.g. `value: \"{{{{inputs.parameters.{name}}}}}\"`, or drop it to use the template's default")),
            );
        }
    }
}

/// Every input parameter without a default must be passed.
fn required_inputs(cx: &mut Lint<'_>, t: &Template, args: Option<&Arguments>, base: &[Seg]) {
    let passed: Vec<&str> = args
        .iter()
        .flat_map(|a| a.parameters.iter().flatten())
        .filter_map(|p| p.name.as_deref())
        .collect();
    let template = t.name.as_deref().unwrap_or_default();
    for p in t.inputs.iter().flat_map(|i| i.parameters.iter().flatten()) {
        let Some(name) = p.name.as_deref() else {
            continue;
        };
        let has_default = p.value.is_some()
            || p.default.is_some()
            || p.value_from.as_ref().is_some_and(|v| {
                v.default.is_some() || v.config_map_key_ref.is_some() || v.supplied.is_some()
            });
        if !has_default && !passed.contains(&name) {
            cx.push(
                Diagnostic::error(
                    "missing-argument",
                    base,
                    format!("template `{template}` needs parameter `{name}`, which is not passed"),
                )
                .with_help(format!(
                    "add it under `arguments.parameters`: `- name: {name}` with a `value`, or give the input a `default`"
                )),
            );
        }
    }
}

/// A WorkflowEventBinding submits a WorkflowTemplate when an event matches its selector.
pub fn event_binding(cx: &mut Lint<'_>, b: &WorkflowEventBinding) {
    let spec = b.spec.as_ref();
    if spec
        .and_then(|s| s.event.as_ref())
        .and_then(|e| e.selector.as_deref())
        .is_none_or(str::is_empty)
    {
        cx.push(
            Diagnostic::error(
                "missing-field",
                &["spec".into()],
                "the binding has no `event.selector`",
            )
            .with_help(
                "add `event: {selector: 'payload.message != \"\"'}` to say which events it matches",
            ),
        );
    }
    if let Some(r) = spec
        .and_then(|s| s.submit.as_ref())
        .and_then(|s| s.workflow_template_ref.as_ref())
    {
        workflow_template_ref(
            cx,
            r,
            None,
            &["spec".into(), "submit".into(), "workflowTemplateRef".into()],
        );
    }
}
