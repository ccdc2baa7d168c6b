//! Rules for a WorkflowSpec: entrypoint, exit handler, hooks, arguments, workflow-level settings.

use std::collections::BTreeSet;

use super::{Lint, join, names, refs, template};
use crate::diag::{Diagnostic, did_you_mean};
use crate::model::{LifecycleHooks, Parameter, Synchronization, WorkflowSpec};
use crate::yaml::Seg;

/// What the templates of a spec can see: its templates, and the workflow parameters they may use.
pub struct SpecCtx<'s> {
    /// The spec being linted.
    pub spec: &'s WorkflowSpec,
    /// The names `{{workflow.parameters.X}}` may use; `None` when any name may (WorkflowTemplates,
    /// whose parameters may come from the workflow that uses them).
    pub globals: Option<BTreeSet<String>>,
}

impl SpecCtx<'_> {
    /// The names of the spec's templates.
    pub fn template_names(&self) -> Vec<&str> {
        template_names(self.spec)
    }
}

/// The names of a spec's templates, in order.
pub fn template_names(spec: &WorkflowSpec) -> Vec<&str> {
    spec.templates
        .iter()
        .flatten()
        .filter_map(|t| t.name.as_deref())
        .collect()
}

/// Lints a spec at `base` (`spec`, or `spec.workflowSpec` of a CronWorkflow).
pub fn lint_spec(cx: &mut Lint<'_>, spec: &WorkflowSpec, base: &[Seg], needs_entrypoint: bool) {
    let sc = SpecCtx {
        spec,
        globals: (!cx.is_template && spec.workflow_template_ref.is_none()).then(|| globals(spec)),
    };
    let templates = spec.templates.as_deref().unwrap_or_default();
    names::check_list(
        cx,
        templates.iter().enumerate().map(|(i, t)| {
            (
                join(base, &["templates".into(), i.into()]),
                t.name.as_deref(),
            )
        }),
        "template",
        names::field_name_problem,
    );
    entrypoint(cx, &sc, base, needs_entrypoint);
    if let Some(exit) = spec.on_exit.as_deref().filter(|e| !e.is_empty()) {
        refs::local_template(cx, &sc, exit, &join(base, &["onExit".into()]));
    }
    if let Some(hooks) = &spec.hooks {
        lint_hooks(cx, &sc, hooks, &join(base, &["hooks".into()]));
    }
    if let Some(params) = spec.arguments.as_ref().and_then(|a| a.parameters.as_ref()) {
        lint_parameters(
            cx,
            params,
            &join(base, &["arguments".into(), "parameters".into()]),
            true,
        );
    }
    if let Some(p) = spec.parallelism.filter(|p| *p < 0) {
        cx.push(
            Diagnostic::error(
                "invalid-value",
                &join(base, &["parallelism".into()]),
                format!("parallelism must be 0 or more, not {p}"),
            )
            .with_help("0 means no limit"),
        );
    }
    if let Some(s) = spec.active_deadline_seconds.filter(|s| *s < 0) {
        cx.push(Diagnostic::error(
            "invalid-value",
            &join(base, &["activeDeadlineSeconds".into()]),
            format!("activeDeadlineSeconds must be positive, not {s}"),
        ));
    }
    if let Some(shutdown) = spec
        .shutdown
        .as_deref()
        .filter(|s| !["", "Stop", "Terminate"].contains(s))
    {
        cx.push(
            Diagnostic::error(
                "invalid-value",
                &join(base, &["shutdown".into()]),
                format!("`{shutdown}` is not a shutdown strategy"),
            )
            .with_help("use `Stop` (run exit handlers) or `Terminate` (stop everything now)"),
        );
    }
    if let Some(gc) = &spec.pod_gc {
        const STRATEGIES: [&str; 5] = [
            "",
            "OnPodCompletion",
            "OnPodSuccess",
            "OnWorkflowCompletion",
            "OnWorkflowSuccess",
        ];
        if let Some(s) = gc.strategy.as_deref().filter(|s| !STRATEGIES.contains(s)) {
            cx.push(one_of(
                &join(base, &["podGC".into(), "strategy".into()]),
                s,
                "podGC strategy",
                &STRATEGIES[1..],
            ));
        }
        if let Some(d) = &gc.delete_delay_duration {
            template::duration(
                cx,
                d,
                &join(base, &["podGC".into(), "deleteDelayDuration".into()]),
                false,
            );
        }
    }
    if let Some(sync) = &spec.synchronization {
        synchronization(cx, sync, &join(base, &["synchronization".into()]));
    }
    if let Some(retry) = &spec.retry_strategy {
        template::retry(cx, retry, &join(base, &["retryStrategy".into()]));
    }
    if spec.pod_priority.is_some() {
        cx.push(
            Diagnostic::warning(
                "deprecated",
                &join(base, &["podPriority".into()]),
                "`podPriority` is deprecated and ignored by Kubernetes",
            )
            .with_help("use `podPriorityClassName` with a PriorityClass"),
        );
    }
    for (i, t) in templates.iter().enumerate() {
        template::lint_template(cx, &sc, t, &join(base, &["templates".into(), i.into()]));
    }
}

fn entrypoint(cx: &mut Lint<'_>, sc: &SpecCtx<'_>, base: &[Seg], needs_entrypoint: bool) {
    let spec = sc.spec;
    if let Some(r) = &spec.workflow_template_ref {
        if spec.templates.as_ref().is_some_and(|t| !t.is_empty()) {
            cx.push(
                Diagnostic::error(
                    "template-ref-with-templates",
                    &join(base, &["templates".into()]),
                    "a workflow that uses `workflowTemplateRef` cannot define its own `templates`",
                )
                .with_help(
                    "move the templates into the WorkflowTemplate, or remove `workflowTemplateRef`",
                ),
            );
        }
        refs::workflow_template_ref(
            cx,
            r,
            spec.entrypoint.as_deref(),
            &join(base, &["workflowTemplateRef".into()]),
        );
        return;
    }
    match spec.entrypoint.as_deref().filter(|e| !e.is_empty()) {
        None if needs_entrypoint => {
            let names = sc.template_names();
            let help = match names.first() {
                Some(first) => {
                    format!("add `entrypoint: {first}` (one of the templates) to the spec")
                }
                None => "add templates and an `entrypoint` naming the first one to run".into(),
            };
            cx.push(
                Diagnostic::error(
                    "missing-entrypoint",
                    base,
                    "the workflow has no `entrypoint`",
                )
                .with_help(help),
            );
        }
        None => {}
        Some(e) if e.contains("{{") => {}
        Some(e) if !sc.template_names().contains(&e) => {
            let names = sc.template_names();
            let help = match did_you_mean(e, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if names.is_empty() => "define a template with that name".into(),
                None => format!("use one of the templates: {}", names.join(", ")),
            };
            cx.push(
                Diagnostic::error(
                    "unknown-template",
                    &join(base, &["entrypoint".into()]),
                    format!("entrypoint `{e}` is not a template of this workflow"),
                )
                .with_help(help),
            );
        }
        Some(_) => {}
    }
}

/// Hooks: each runs a template, and every hook but `exit` needs an `expression`.
pub fn lint_hooks(cx: &mut Lint<'_>, sc: &SpecCtx<'_>, hooks: &LifecycleHooks, base: &[Seg]) {
    for (name, hook) in hooks {
        let path = join(base, &[Seg::Key(name.clone())]);
        if name != "exit" && hook.expression.as_deref().is_none_or(str::is_empty) {
            cx.push(
                Diagnostic::error(
                    "hook-without-expression",
                    &path,
                    format!("hook `{name}` has no `expression`, so it would never run"),
                )
                .with_help("add `expression:` (e.g. `workflow.status == \"Running\"`), or name the hook `exit` to run it at the end"),
            );
        }
        let call = refs::Call {
            template: hook.template.as_deref(),
            template_ref: hook.template_ref.as_ref(),
            inline: None,
            arguments: hook.arguments.as_ref(),
        };
        refs::resolve_call(cx, sc, &call, &path);
    }
}

/// Parameters: valid, unique names; enums that contain their value; (for arguments) nothing else.
pub fn lint_parameters(cx: &mut Lint<'_>, params: &[Parameter], base: &[Seg], _arguments: bool) {
    names::check_list(
        cx,
        params
            .iter()
            .enumerate()
            .map(|(i, p)| (join(base, &[i.into()]), p.name.as_deref())),
        "parameter",
        names::param_name_problem,
    );
    for (i, p) in params.iter().enumerate() {
        let Some(values) = &p.r#enum else { continue };
        let path = join(base, &[i.into()]);
        let name = p.name.as_deref().unwrap_or_default();
        if values.is_empty() {
            cx.push(
                Diagnostic::error(
                    "empty-enum",
                    &join(&path, &["enum".into()]),
                    format!("parameter `{name}` has an empty `enum`"),
                )
                .with_help("list the allowed values, or remove `enum`"),
            );
            continue;
        }
        let allowed: Vec<&str> = values.iter().map(|v| v.0.as_str()).collect();
        for (field, value) in [("value", &p.value), ("default", &p.default)] {
            let Some(value) = value.as_ref().map(|v| v.0.as_str()) else {
                continue;
            };
            if !value.contains("{{") && !allowed.contains(&value) {
                cx.push(
                    Diagnostic::error(
                        "value-not-in-enum",
                        &join(&path, &[field.into()]),
                        format!(
                            "parameter `{name}`: {field} `{value}` is not one of its enum values"
                        ),
                    )
                    .with_help(format!("use one of: {}", allowed.join(", "))),
                );
            }
        }
    }
}

/// The names `{{workflow.parameters.X}}` may use in a Workflow: its arguments, every
/// `globalName`, and `json` (all parameters as a JSON array).
fn globals(spec: &WorkflowSpec) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = spec
        .arguments
        .iter()
        .flat_map(|a| a.parameters.iter().flatten())
        .filter_map(|p| p.name.clone())
        .collect();
    let mut stack: Vec<&crate::model::Template> = spec.templates.iter().flatten().collect();
    while let Some(t) = stack.pop() {
        out.extend(
            t.outputs
                .iter()
                .flat_map(|o| o.parameters.iter().flatten())
                .filter_map(|p| p.global_name.clone()),
        );
        for step in t.steps.iter().flatten().flatten() {
            stack.extend(step.inline.as_deref());
        }
        for task in t.dag.iter().flat_map(|d| d.tasks.iter().flatten()) {
            stack.extend(task.inline.as_deref());
        }
    }
    out.insert("json".to_owned());
    out
}

/// Synchronization: the singular `mutex`/`semaphore` were replaced by lists in Argo 3.6.
pub fn synchronization(cx: &mut Lint<'_>, sync: &Synchronization, base: &[Seg]) {
    if sync.mutex.is_some() {
        cx.push(
            Diagnostic::warning(
                "deprecated",
                &join(base, &["mutex".into()]),
                "`mutex` is deprecated",
            )
            .with_help("write `mutexes:` with a list of mutexes instead"),
        );
    }
    if sync.semaphore.is_some() {
        cx.push(
            Diagnostic::warning(
                "deprecated",
                &join(base, &["semaphore".into()]),
                "`semaphore` is deprecated",
            )
            .with_help("write `semaphores:` with a list of semaphores instead"),
        );
    }
}

/// "`x` is not a valid <what>" with a did-you-mean over `allowed`.
pub fn one_of(path: &[Seg], value: &str, what: &str, allowed: &[&str]) -> Diagnostic {
    let help = match did_you_mean(value, allowed.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("use one of: {}", allowed.join(", ")),
    };
    Diagnostic::error(
        "invalid-value",
        path,
        format!("`{value}` is not a valid {what}"),
    )
    .with_help(help)
}
