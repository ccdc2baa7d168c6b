//! Rules for one template: its type, inputs and outputs, retries, deadlines and durations.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::spec::{SpecCtx, lint_parameters, one_of, synchronization};
use super::{Lint, dag, join, names, steps, vars};
use crate::diag::Diagnostic;
use crate::model::{RetryStrategy, Template, TemplateType};
use crate::values::{parse_go_duration, parse_seconds_or_duration};
use crate::yaml::Seg;

const TYPES: &str =
    "container, script, steps, dag, suspend, resource, http, data, plugin or containerSet";

/// Lints `t`, found at `base`.
pub fn lint_template(cx: &mut Lint<'_>, sc: &SpecCtx<'_>, t: &Template, base: &[Seg]) {
    let name = t.name.as_deref().unwrap_or("(unnamed)");
    let types = t.template_types();
    match types.len() {
        0 => cx.push(
            Diagnostic::error(
                "missing-template-type",
                base,
                format!("template `{name}` does not say what it does"),
            )
            .with_help(format!("give it exactly one of {TYPES}")),
        ),
        1 => {}
        _ => {
            let found: Vec<&str> = types.iter().map(|t| t.field_name()).collect();
            cx.push(
                Diagnostic::error(
                    "several-template-types",
                    base,
                    format!("template `{name}` has several types: {}", found.join(", ")),
                )
                .with_help("a template does one thing; split it into several templates and call them from steps or a dag"),
            );
        }
    }
    let kind = t.template_type();
    inputs_outputs(cx, t, kind, base);
    leaf_rules(cx, sc, t, kind, base);
    if let Some(r) = &t.retry_strategy {
        retry(cx, r, &join(base, &["retryStrategy".into()]));
    }
    if let Some(sync) = &t.synchronization {
        synchronization(cx, sync, &join(base, &["synchronization".into()]));
    }
    if let Some(m) = &t.memoize {
        memoize(cx, m, &join(base, &["memoize".into()]));
    }
    if let Some(m) = t.memoize.as_ref().and_then(|m| m.max_age.as_ref()) {
        duration(
            cx,
            m,
            &join(base, &["memoize".into(), "maxAge".into()]),
            false,
        );
    }
    if let Some(d) = t.suspend.as_ref().and_then(|s| s.duration.as_ref()) {
        duration(
            cx,
            d,
            &join(base, &["suspend".into(), "duration".into()]),
            true,
        );
    }
    if let Some(r) = &t.resource {
        resource(cx, r, &join(base, &["resource".into()]));
    }
    if let Some(steps) = &t.steps {
        steps::lint_steps(cx, sc, t, steps, base);
    }
    if let Some(d) = &t.dag {
        dag::lint_dag(cx, sc, t, d, &join(base, &["dag".into()]));
    }
    approval_rule(cx, t, kind, base);
    vars::lint_template_vars(cx, sc, t, base);
}

/// The approval annotations of a template (`engine::approval`): well-formed, and on a suspend
/// template, where they mean something.
fn approval_rule(cx: &mut Lint<'_>, t: &Template, kind: Option<TemplateType>, base: &[Seg]) {
    use crate::approval::{ANNOTATION_APPROVERS, ANNOTATION_NO_SELF, ApprovalRule, RuleError};
    let Some(annotations) = t.metadata.as_ref().and_then(|m| m.annotations.as_ref()) else {
        return;
    };
    let present: Vec<&str> = [ANNOTATION_APPROVERS, ANNOTATION_NO_SELF]
        .into_iter()
        .filter(|k| annotations.contains_key(*k))
        .collect();
    let Some(first) = present.first() else { return };
    let at = |key: &str| join(base, &["metadata".into(), "annotations".into(), key.into()]);
    if let Err(e) = ApprovalRule::from_annotations(Some(annotations)) {
        let (key, help) = match e {
            RuleError::BadNoSelf(_) => (ANNOTATION_NO_SELF, "write `\"true\"` or `\"false\"`"),
            _ => (
                ANNOTATION_APPROVERS,
                "write comma-separated `user:NAME` or `group:NAME` entries, e.g. \
                 `\"group:release, user:alice\"`",
            ),
        };
        cx.push(
            Diagnostic::error("invalid-approval-rule", &at(key), e.to_string()).with_help(help),
        );
    }
    if kind != Some(TemplateType::Suspend) {
        let name = t.name.as_deref().unwrap_or("(unnamed)");
        cx.push(
            Diagnostic::warning(
                "approval-rule-not-on-suspend",
                &at(first),
                format!("`{first}` does nothing on template `{name}`: only suspend steps wait for approval"),
            )
            .with_help("move it to the suspend template that gates this step"),
        );
    }
}

fn inputs_outputs(cx: &mut Lint<'_>, t: &Template, kind: Option<TemplateType>, base: &[Seg]) {
    if let Some(inputs) = &t.inputs {
        if let Some(p) = &inputs.parameters {
            lint_parameters(
                cx,
                p,
                &join(base, &["inputs".into(), "parameters".into()]),
                false,
            );
        }
        if let Some(a) = &inputs.artifacts {
            names::check_list(
                cx,
                a.iter().enumerate().map(|(i, a)| {
                    (
                        join(base, &["inputs".into(), "artifacts".into(), i.into()]),
                        a.name.as_deref(),
                    )
                }),
                "artifact",
                names::param_name_problem,
            );
        }
    }
    let Some(outputs) = &t.outputs else { return };
    if let Some(a) = &outputs.artifacts {
        names::check_list(
            cx,
            a.iter().enumerate().map(|(i, a)| {
                (
                    join(base, &["outputs".into(), "artifacts".into(), i.into()]),
                    a.name.as_deref(),
                )
            }),
            "artifact",
            names::param_name_problem,
        );
    }
    let Some(params) = &outputs.parameters else {
        return;
    };
    let base = join(base, &["outputs".into(), "parameters".into()]);
    names::check_list(
        cx,
        params
            .iter()
            .enumerate()
            .map(|(i, p)| (join(&base, &[i.into()]), p.name.as_deref())),
        "output parameter",
        names::param_name_problem,
    );
    for (i, p) in params.iter().enumerate() {
        let path = join(&base, &[i.into()]);
        let name = p.name.as_deref().unwrap_or_default();
        let Some(from) = &p.value_from else {
            if p.value.is_none() {
                cx.push(
                    Diagnostic::error(
                        "output-without-source",
                        &path,
                        format!("output parameter `{name}` has neither `value` nor `valueFrom`"),
                    )
                    .with_help(
                        "say where its value comes from, e.g. `valueFrom: {path: /tmp/out.txt}`",
                    ),
                );
            }
            continue;
        };
        if p.value.is_some() {
            cx.push(Diagnostic::error(
                "output-with-two-sources",
                &path,
                format!("output parameter `{name}` has both `value` and `valueFrom`; keep one"),
            ));
        }
        let help = match kind {
            Some(TemplateType::Container | TemplateType::Script | TemplateType::ContainerSet)
                if from.path.is_none() && from.expression.is_none() && from.supplied.is_none() =>
            {
                Some(
                    "in a container or script template, read it from a file: `valueFrom: {path: /tmp/out}`",
                )
            }
            Some(TemplateType::Resource)
                if from.jq_filter.is_none() && from.json_path.is_none() =>
            {
                Some("in a resource template, use `valueFrom.jsonPath` or `valueFrom.jqFilter`")
            }
            Some(TemplateType::Steps | TemplateType::Dag)
                if from.parameter.is_none() && from.expression.is_none() =>
            {
                Some(
                    "in a steps or dag template, use `valueFrom.parameter: \"{{steps.NAME.outputs.parameters.X}}\"` or `valueFrom.expression`",
                )
            }
            _ => None,
        };
        if let Some(help) = help {
            cx.push(
                Diagnostic::error(
                    "output-without-source",
                    &join(&path, &["valueFrom".into()]),
                    format!("output parameter `{name}` does not say where to read its value from"),
                )
                .with_help(help),
            );
        }
    }
}

fn leaf_rules(
    cx: &mut Lint<'_>,
    sc: &SpecCtx<'_>,
    t: &Template,
    kind: Option<TemplateType>,
    base: &[Seg],
) {
    let non_leaf = matches!(kind, Some(TemplateType::Steps | TemplateType::Dag));
    if let Some(ads) = &t.active_deadline_seconds {
        let path = join(base, &["activeDeadlineSeconds".into()]);
        if non_leaf {
            cx.push(
                Diagnostic::error(
                    "deadline-on-non-leaf",
                    &path,
                    "activeDeadlineSeconds only applies to templates that run something (container, script, …)",
                )
                .with_help("set `timeout` on this template, or `activeDeadlineSeconds` on its children"),
            );
        } else if !positive_or_variable(ads) {
            cx.push(Diagnostic::error(
                "invalid-value",
                &path,
                "activeDeadlineSeconds must be a positive number of seconds or a `{{…}}` variable",
            ));
        }
    }
    if let Some(p) = t.parallelism {
        let path = join(base, &["parallelism".into()]);
        if !non_leaf {
            cx.push(Diagnostic::error(
                "parallelism-on-leaf",
                &path,
                "parallelism only applies to steps and dag templates",
            ));
        } else if p < 0 {
            cx.push(Diagnostic::error(
                "invalid-value",
                &path,
                format!("parallelism must be 0 or more, not {p}"),
            ));
        }
    }
    if let Some(timeout) = &t.timeout {
        duration(cx, timeout, &join(base, &["timeout".into()]), false);
    }
    let defaults = sc.spec.template_defaults.as_deref();
    let missing_image = |image: Option<&String>| image.is_none_or(|i| i.trim().is_empty());
    if let Some(c) = &t.container
        && missing_image(c.image.as_ref())
        && defaults
            .and_then(|d| d.container.as_ref())
            .is_none_or(|d| missing_image(d.image.as_ref()))
    {
        cx.push(
            Diagnostic::error(
                "missing-image",
                &join(base, &["container".into()]),
                "the container has no `image`",
            )
            .with_help("add `image:`, e.g. `image: alpine:3.20`"),
        );
    }
    if let Some(s) = &t.script
        && missing_image(s.image.as_ref())
        && defaults
            .and_then(|d| d.script.as_ref())
            .is_none_or(|d| missing_image(d.image.as_ref()))
    {
        cx.push(
            Diagnostic::error(
                "missing-image",
                &join(base, &["script".into()]),
                "the script has no `image`",
            )
            .with_help("add `image:`, e.g. `image: python:3.12-alpine`"),
        );
    }
}

fn positive_or_variable(v: &IntOrString) -> bool {
    match v {
        IntOrString::Int(i) => *i > 0,
        IntOrString::String(s) => s.contains("{{") || s.parse::<i64>().is_ok_and(|i| i > 0),
    }
}

fn resource(cx: &mut Lint<'_>, r: &crate::model::ResourceTemplate, base: &[Seg]) {
    const ACTIONS: [&str; 6] = ["get", "create", "apply", "delete", "replace", "patch"];
    match r.action.as_deref() {
        None | Some("") => cx.push(
            Diagnostic::error(
                "missing-field",
                base,
                "the resource template has no `action`",
            )
            .with_help(format!("add `action:` with one of {}", ACTIONS.join(", "))),
        ),
        Some(a) if !ACTIONS.contains(&a) => {
            cx.push(one_of(
                &join(base, &["action".into()]),
                a,
                "resource action",
                &ACTIONS,
            ));
        }
        _ => {}
    }
    match (r.manifest.is_some(), r.manifest_from.is_some()) {
        (false, false)
            if r.action.as_deref() == Some("delete")
                && r.flags.as_ref().is_some_and(|f| !f.is_empty()) => {}
        (false, false) => cx.push(
            Diagnostic::error(
                "missing-field",
                base,
                "the resource template has no `manifest`",
            )
            .with_help(
                "add `manifest:` with the Kubernetes object, or `manifestFrom:` an artifact",
            ),
        ),
        (true, true) => cx.push(Diagnostic::error(
            "conflicting-fields",
            base,
            "the resource template has both `manifest` and `manifestFrom`; keep one",
        )),
        _ => {}
    }
}

/// Retry strategies: a non-negative limit, a known policy, valid backoff durations.
pub fn retry(cx: &mut Lint<'_>, r: &RetryStrategy, base: &[Seg]) {
    if let Some(limit) = &r.limit {
        let ok = match limit {
            IntOrString::Int(i) => *i >= 0,
            IntOrString::String(s) => s.contains("{{") || s.parse::<i64>().is_ok_and(|i| i >= 0),
        };
        if !ok {
            cx.push(
                Diagnostic::error(
                    "invalid-value",
                    &join(base, &["limit".into()]),
                    "retry limit must be 0 or more",
                )
                .with_help("`limit: 3` retries up to three times after the first attempt"),
            );
        }
    }
    const POLICIES: [&str; 4] = ["Always", "OnFailure", "OnError", "OnTransientError"];
    if let Some(p) = r
        .retry_policy
        .as_deref()
        .filter(|p| !p.is_empty() && !POLICIES.contains(p))
    {
        cx.push(one_of(
            &join(base, &["retryPolicy".into()]),
            p,
            "retry policy",
            &POLICIES,
        ));
    }
    if let Some(b) = &r.backoff {
        let path = join(base, &["backoff".into()]);
        if let Some(d) = &b.duration {
            duration(cx, d, &join(&path, &["duration".into()]), true);
        }
        if let Some(d) = &b.max_duration {
            duration(cx, d, &join(&path, &["maxDuration".into()]), true);
        }
        if let Some(IntOrString::Int(f)) = &b.factor
            && *f < 0
        {
            cx.push(Diagnostic::error(
                "invalid-value",
                &join(&path, &["factor".into()]),
                "backoff factor must be 0 or more",
            ));
        }
    }
}

/// A Go duration (`90s`, `1h30m`); with `seconds_ok`, a bare number of seconds too. `{{…}}` is accepted.
pub fn duration(cx: &mut Lint<'_>, text: &str, path: &[Seg], seconds_ok: bool) {
    if text.contains("{{") {
        return;
    }
    let parsed = if seconds_ok {
        parse_seconds_or_duration(text)
    } else {
        parse_go_duration(text)
    };
    if let Err(e) = parsed {
        cx.push(Diagnostic::error("invalid-duration", path, e));
    }
}

/// `memoize` needs a key and a cache to keep it in.
fn memoize(cx: &mut Lint<'_>, m: &crate::model::Memoize, base: &[Seg]) {
    if m.key.as_deref().is_none_or(str::is_empty) {
        cx.push(
            Diagnostic::error("required", &join(base, &["key".into()]), "`memoize.key` is required")
                .with_help("give the key the outputs are cached under, e.g. `key: \"{{inputs.parameters.name}}\"`"),
        );
    }
    let cache = m.cache.as_ref().and_then(|c| c.config_map.as_ref());
    if cache.is_none_or(|c| c.name.is_empty()) {
        cx.push(
            Diagnostic::error(
                "required",
                &join(base, &["cache".into(), "configMap".into(), "name".into()]),
                "`memoize.cache.configMap.name` is required",
            )
            .with_help("name the cache, e.g. `cache: {configMap: {name: my-cache}}`"),
        );
    }
}
