//! `{{…}}` variables: every reference must resolve in its scope.
//!
//! Like `argo lint`, only tags under the roots Argo resolves (`inputs.`, `steps.`, `tasks.`, `item`,
//! `workflow.`, `pod.`) are checked; `{{=…}}` expressions and other tags are left to run time.

use std::collections::BTreeMap;

use serde_json::Value;

use super::dag::{ancestors, dependencies};
use super::spec::SpecCtx;
use super::{Index, Lint, join};
use crate::diag::{Diagnostic, did_you_mean};
use crate::model::{Template, TemplateType, WorkflowStep};
use crate::yaml::Seg;

const WORKFLOW_VARS: [&str; 15] = [
    "name",
    "namespace",
    "mainEntrypoint",
    "uid",
    "serviceAccountName",
    "status",
    "failures",
    "duration",
    "creationTimestamp",
    "scheduledTime",
    "priority",
    "labels",
    "annotations",
    "parameters",
    "outputs",
];

/// What a step or task that can be referenced runs.
#[derive(Clone, Copy)]
struct Node<'t> {
    target: Option<&'t Template>,
}

/// The names a tag may refer to at one place.
#[derive(Clone, Default)]
struct Scope<'t> {
    inputs: Vec<&'t str>,
    artifacts: Vec<&'t str>,
    item: bool,
    /// `Some` inside a steps template: the steps that may be referenced, and those that exist at all.
    steps: Option<(BTreeMap<&'t str, Node<'t>>, Vec<&'t str>)>,
    /// `Some` inside a DAG: the tasks that may be referenced, and those that exist at all.
    tasks: Option<(BTreeMap<&'t str, Node<'t>>, Vec<&'t str>)>,
    /// The step or task the tag is written in (it may refer to itself in hooks).
    own: Option<&'t str>,
}

/// Checks every tag of template `t` (at `base`) against what is in scope where it is written.
pub fn lint_template_vars(cx: &mut Lint<'_>, sc: &SpecCtx<'_>, t: &Template, base: &[Seg]) {
    let index = cx.index;
    let namespace = cx.namespace;
    let Ok(json) = serde_json::to_value(t) else {
        return;
    };
    let scope = Scope {
        inputs: t
            .inputs
            .iter()
            .flat_map(|i| i.parameters.iter().flatten())
            .filter_map(|p| p.name.as_deref())
            .collect(),
        artifacts: t
            .inputs
            .iter()
            .flat_map(|i| i.artifacts.iter().flatten())
            .filter_map(|a| a.name.as_deref())
            .collect(),
        ..Scope::default()
    };
    let mut whole = scope.clone();
    if let Value::Object(map) = &json {
        for (key, value) in map {
            if !matches!(key.as_str(), "steps" | "dag" | "outputs" | "name") {
                walk(cx, sc, &scope, value, &join(base, &[Seg::Key(key.clone())]));
            }
        }
    }
    if let Some(groups) = &t.steps {
        let all: Vec<&str> = groups
            .iter()
            .flatten()
            .filter_map(|s| s.name.as_deref())
            .collect();
        let mut earlier = BTreeMap::new();
        for (g, group) in groups.iter().enumerate() {
            for (i, step) in group.iter().enumerate() {
                let mut s = scope.clone();
                s.item = has_loop_step(step);
                s.steps = Some((earlier.clone(), all.clone()));
                s.own = step.name.as_deref();
                let path = join(base, &["steps".into(), g.into(), i.into()]);
                walk_call(cx, sc, &s, &json["steps"][g][i], &path);
            }
            for step in group {
                if let Some(name) = step.name.as_deref() {
                    earlier.insert(
                        name,
                        Node {
                            target: step_target(index, namespace, sc, step),
                        },
                    );
                }
            }
        }
        whole.steps = Some((earlier, all));
    }
    if let Some(tasks) = t.dag.as_ref().and_then(|d| d.tasks.as_ref()) {
        let deps = dependencies(tasks);
        let all: Vec<&str> = tasks.iter().filter_map(|t| t.name.as_deref()).collect();
        let nodes: BTreeMap<&str, Node<'_>> = tasks
            .iter()
            .filter_map(|task| {
                let target = call_target(
                    index,
                    namespace,
                    sc,
                    task.template.as_deref(),
                    task.template_ref.as_ref(),
                    task.inline.as_deref(),
                );
                Some((task.name.as_deref()?, Node { target }))
            })
            .collect();
        for (i, task) in tasks.iter().enumerate() {
            let name = task.name.as_deref().unwrap_or_default();
            let visible = ancestors(&deps, name);
            let mut s = scope.clone();
            s.item = task.with_items.is_some()
                || task.with_param.is_some()
                || task.with_sequence.is_some();
            s.tasks = Some((
                nodes
                    .iter()
                    .filter(|(n, _)| visible.contains(*n) || **n == name)
                    .map(|(n, v)| (*n, *v))
                    .collect(),
                all.clone(),
            ));
            s.own = task.name.as_deref();
            let path = join(base, &["dag".into(), "tasks".into(), i.into()]);
            walk_call(cx, sc, &s, &json["dag"]["tasks"][i], &path);
        }
        whole.tasks = Some((nodes, all));
    }
    if let Some(outputs) = json.get("outputs") {
        walk(cx, sc, &whole, outputs, &join(base, &["outputs".into()]));
    }
}

fn has_loop_step(step: &WorkflowStep) -> bool {
    step.with_items.is_some() || step.with_param.is_some() || step.with_sequence.is_some()
}

fn step_target<'t>(
    index: &'t Index<'t>,
    namespace: Option<&str>,
    sc: &SpecCtx<'t>,
    step: &'t WorkflowStep,
) -> Option<&'t Template> {
    call_target(
        index,
        namespace,
        sc,
        step.template.as_deref(),
        step.template_ref.as_ref(),
        step.inline.as_deref(),
    )
}

/// The template a call runs, when it can be found (without reporting anything).
fn call_target<'t>(
    index: &'t Index<'t>,
    namespace: Option<&str>,
    sc: &SpecCtx<'t>,
    template: Option<&str>,
    template_ref: Option<&crate::model::TemplateRef>,
    inline: Option<&'t Template>,
) -> Option<&'t Template> {
    if let Some(name) = template {
        return sc
            .spec
            .templates
            .iter()
            .flatten()
            .find(|t| t.name.as_deref() == Some(name));
    }
    if let Some(r) = template_ref {
        return index.template(
            r.name.as_deref()?,
            r.template.as_deref()?,
            r.cluster_scope.unwrap_or(false),
            namespace,
        );
    }
    inline
}

/// Walks a step or task, leaving out its inline template (linted as a template of its own).
fn walk_call(cx: &mut Lint<'_>, sc: &SpecCtx<'_>, scope: &Scope<'_>, value: &Value, base: &[Seg]) {
    if let Value::Object(map) = value {
        for (key, v) in map.iter().filter(|(k, _)| k.as_str() != "inline") {
            walk(cx, sc, scope, v, &join(base, &[Seg::Key(key.clone())]));
        }
    }
}

fn walk(cx: &mut Lint<'_>, sc: &SpecCtx<'_>, scope: &Scope<'_>, value: &Value, path: &[Seg]) {
    match value {
        Value::String(s) => {
            for tag in tags(s) {
                if let Some(d) = check_tag(sc, scope, tag, path) {
                    cx.push(d);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(cx, sc, scope, v, &join(path, &[i.into()]));
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                walk(cx, sc, scope, v, &join(path, &[Seg::Key(k.clone())]));
            }
        }
        _ => {}
    }
}

/// The contents of every `{{…}}` tag in `text`, trimmed.
pub fn tags(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    out
}

fn check_tag(sc: &SpecCtx<'_>, scope: &Scope<'_>, tag: &str, path: &[Seg]) -> Option<Diagnostic> {
    if tag.starts_with('=') {
        return None;
    }
    let parts: Vec<&str> = tag.split('.').collect();
    let unresolved = |what: String, help: String| {
        Some(
            Diagnostic::error(
                "unresolved-variable",
                path,
                format!("`{{{{{tag}}}}}` cannot be resolved: {what}"),
            )
            .with_help(help),
        )
    };
    match parts.as_slice() {
        ["inputs", "parameters", name, ..] if !scope.inputs.contains(name) => unresolved(
            format!("this template has no input parameter `{name}`"),
            suggest(name, &scope.inputs, "declare it under `inputs.parameters`"),
        ),
        ["inputs", "artifacts", name, ..] if !scope.artifacts.contains(name) => unresolved(
            format!("this template has no input artifact `{name}`"),
            suggest(
                name,
                &scope.artifacts,
                "declare it under `inputs.artifacts`",
            ),
        ),
        ["item", ..] if !scope.item => unresolved(
            "`item` only exists in a step or task with `withItems`, `withParam` or `withSequence`"
                .into(),
            "add a loop to the step, or pass the value as a parameter".into(),
        ),
        ["steps" | "tasks", "name"] => None,
        ["steps", name, rest @ ..] => node_ref(scope, &scope.steps, "step", name, rest, tag, path),
        ["tasks", name, rest @ ..] => node_ref(scope, &scope.tasks, "task", name, rest, tag, path),
        ["workflow", "parameters", name, ..] => match &sc.globals {
            Some(globals) if *name != "json" && !globals.contains(*name) => {
                let known: Vec<&str> = globals.iter().map(String::as_str).collect();
                unresolved(
                    format!("the workflow has no parameter `{name}`"),
                    suggest(name, &known, "declare it under `spec.arguments.parameters`"),
                )
            }
            _ => None,
        },
        ["workflow", var, ..] if !WORKFLOW_VARS.contains(var) => unresolved(
            format!("`workflow.{var}` is not a workflow variable"),
            suggest(
                var,
                &WORKFLOW_VARS,
                "see the workflow variables in the README",
            ),
        ),
        ["pod", var, ..] if *var != "name" => unresolved(
            format!("`pod.{var}` is not a pod variable"),
            "the only pod variable is `{{pod.name}}`".into(),
        ),
        _ => None,
    }
}

fn suggest(name: &str, known: &[&str], otherwise: &str) -> String {
    match did_you_mean(name, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => otherwise.to_string(),
    }
}

fn node_ref(
    scope: &Scope<'_>,
    nodes: &Option<(BTreeMap<&str, Node<'_>>, Vec<&str>)>,
    kind: &str,
    name: &str,
    rest: &[&str],
    tag: &str,
    path: &[Seg],
) -> Option<Diagnostic> {
    let error = |what: String, help: String| {
        Some(
            Diagnostic::error(
                "unresolved-variable",
                path,
                format!("`{{{{{tag}}}}}` cannot be resolved: {what}"),
            )
            .with_help(help),
        )
    };
    let Some((visible, all)) = nodes else {
        let other = if kind == "step" { "tasks" } else { "steps" };
        return error(
            format!("`{kind}s.` variables only exist inside a {kind}s template"),
            format!("inside this template, refer to `{other}.NAME`"),
        );
    };
    if name.contains("{{") || scope.own == Some(name) {
        return None;
    }
    let Some(node) = visible.get(name) else {
        if all.contains(&name) {
            return error(
                if kind == "step" {
                    format!("step `{name}` does not run before this one")
                } else {
                    format!("this task does not depend on task `{name}`")
                },
                if kind == "step" {
                    format!("move `{name}` to an earlier step group")
                } else {
                    format!("add `{name}` to this task's `depends`")
                },
            );
        }
        return error(
            format!("there is no {kind} named `{name}`"),
            suggest(name, all, &format!("name an existing {kind}")),
        );
    };
    let target = node.target?;
    let template = target.name.as_deref().unwrap_or_default();
    match rest {
        ["outputs", "result"]
            if matches!(target.template_type(), Some(TemplateType::Steps | TemplateType::Dag | TemplateType::Suspend)) =>
        {
            error(
                format!("{kind} `{name}` runs template `{template}`, which produces no `result`"),
                "only container, script and similar templates produce a result; use an output parameter".into(),
            )
        }
        ["outputs", "parameters", param, ..] => {
            let declared: Vec<&str> = target
                .outputs
                .iter()
                .flat_map(|o| o.parameters.iter().flatten())
                .filter_map(|p| p.name.as_deref())
                .collect();
            (!declared.contains(param)).then(|| {
                Diagnostic::error(
                    "unresolved-variable",
                    path,
                    format!(
                        "`{{{{{tag}}}}}` cannot be resolved: template `{template}` (run by {kind} `{name}`) has no output parameter `{param}`"
                    ),
                )
                .with_help(suggest(param, &declared, &format!("declare it under `outputs.parameters` of template `{template}`")))
            })
        }
        ["outputs", "artifacts", art, ..] => {
            let declared: Vec<&str> = target
                .outputs
                .iter()
                .flat_map(|o| o.artifacts.iter().flatten())
                .filter_map(|a| a.name.as_deref())
                .collect();
            (!declared.contains(art)).then(|| {
                Diagnostic::error(
                    "unresolved-variable",
                    path,
                    format!(
                        "`{{{{{tag}}}}}` cannot be resolved: template `{template}` (run by {kind} `{name}`) has no output artifact `{art}`"
                    ),
                )
                .with_help(suggest(art, &declared, &format!("declare it under `outputs.artifacts` of template `{template}`")))
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::tags;

    #[test]
    fn finds_tags() {
        assert_eq!(
            tags("a {{ inputs.parameters.x }} b {{item}}{{=asInt(1)}}"),
            ["inputs.parameters.x", "item", "=asInt(1)"]
        );
        assert!(tags("no tags {{ unterminated").is_empty());
    }
}
