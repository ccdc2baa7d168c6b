//! Rules for `steps` templates: step names, references, loops, hooks.

use super::refs::{Call, resolve_call};
use super::spec::{SpecCtx, lint_hooks};
use super::{Lint, join, names, template};
use crate::diag::Diagnostic;
use crate::model::{Item, LifecycleHooks, Sequence, Template, WorkflowStep};
use crate::yaml::Seg;

/// Lints the step groups of `t`, found at `base`.
pub fn lint_steps(
    cx: &mut Lint<'_>,
    sc: &SpecCtx<'_>,
    _t: &Template,
    groups: &[Vec<WorkflowStep>],
    base: &[Seg],
) {
    names::check_list(
        cx,
        groups.iter().enumerate().flat_map(|(g, group)| {
            group.iter().enumerate().map(move |(i, s)| {
                (
                    join(base, &["steps".into(), g.into(), i.into()]),
                    s.name.as_deref(),
                )
            })
        }),
        "step",
        names::field_name_problem,
    );
    for (g, group) in groups.iter().enumerate() {
        for (i, step) in group.iter().enumerate() {
            let path = join(base, &["steps".into(), g.into(), i.into()]);
            lint_step(cx, sc, step, &path);
        }
    }
}

fn lint_step(cx: &mut Lint<'_>, sc: &SpecCtx<'_>, step: &WorkflowStep, path: &[Seg]) {
    lint_site(
        cx,
        sc,
        &Site {
            call: Call {
                template: step.template.as_deref(),
                template_ref: step.template_ref.as_ref(),
                inline: step.inline.as_deref(),
                arguments: step.arguments.as_ref(),
            },
            with_items: step.with_items.as_ref(),
            with_param: step.with_param.as_ref(),
            with_sequence: step.with_sequence.as_ref(),
            on_exit: step.on_exit.as_deref(),
            hooks: step.hooks.as_ref(),
        },
        path,
    );
}

/// What a step and a DAG task have in common: the template they call, a loop, exit handlers.
pub struct Site<'c> {
    /// The template called and its arguments.
    pub call: Call<'c>,
    /// `withItems`.
    pub with_items: Option<&'c Vec<Item>>,
    /// `withParam`.
    pub with_param: Option<&'c String>,
    /// `withSequence`.
    pub with_sequence: Option<&'c Sequence>,
    /// The deprecated `onExit`.
    pub on_exit: Option<&'c str>,
    /// `hooks`.
    pub hooks: Option<&'c LifecycleHooks>,
}

/// Lints the parts of a step or task that [`Site`] describes.
pub fn lint_site(cx: &mut Lint<'_>, sc: &SpecCtx<'_>, site: &Site<'_>, path: &[Seg]) {
    resolve_call(cx, sc, &site.call, path);
    if let Some(inline) = site.call.inline {
        template::lint_template(cx, sc, inline, &join(path, &["inline".into()]));
    }
    loops(
        cx,
        site.with_items,
        site.with_param,
        site.with_sequence,
        path,
    );
    if let Some(exit) = site.on_exit.filter(|e| !e.is_empty()) {
        deprecated_on_exit(cx, &join(path, &["onExit".into()]));
        super::refs::local_template(cx, sc, exit, &join(path, &["onExit".into()]));
    }
    if let Some(hooks) = site.hooks {
        lint_hooks(cx, sc, hooks, &join(path, &["hooks".into()]));
    }
}

/// `onExit` on a step or task is deprecated in favour of `hooks.exit`.
pub fn deprecated_on_exit(cx: &mut Lint<'_>, path: &[Seg]) {
    cx.push(
        Diagnostic::warning(
            "deprecated",
            path,
            "`onExit` on a step or task is deprecated",
        )
        .with_help("use `hooks: {exit: {template: NAME}}` instead"),
    );
}

/// At most one of `withItems`, `withParam`, `withSequence`; a sequence has `count` or `end`, not both.
pub fn loops(
    cx: &mut Lint<'_>,
    items: Option<&Vec<Item>>,
    param: Option<&String>,
    sequence: Option<&Sequence>,
    path: &[Seg],
) {
    let set = [items.is_some(), param.is_some(), sequence.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if set > 1 {
        cx.push(
            Diagnostic::error(
                "several-loops",
                path,
                "only one of `withItems`, `withParam` and `withSequence` may be set",
            )
            .with_help("loop over one source; combine lists in a previous step if you need more"),
        );
    }
    if let Some(seq) = sequence {
        let p = join(path, &["withSequence".into()]);
        match (seq.count.is_some(), seq.end.is_some()) {
            (true, true) => cx.push(Diagnostic::error(
                "invalid-sequence",
                &p,
                "`withSequence` takes `count` or `end`, not both",
            )),
            (false, false) => cx.push(
                Diagnostic::error(
                    "invalid-sequence",
                    &p,
                    "`withSequence` needs `count` or `end`",
                )
                .with_help("e.g. `withSequence: {count: \"5\"}` or `{start: \"1\", end: \"10\"}`"),
            ),
            _ => {}
        }
    }
}
