//! Rules for `dag` templates: task names, dependencies, `depends` expressions and cycles.

use std::collections::{BTreeMap, BTreeSet};

use super::refs::Call;
use super::spec::SpecCtx;
use super::steps::{Site, lint_site};
use super::{Lint, join, names};
use crate::depends::parse_depends;
use crate::diag::{Diagnostic, did_you_mean};
use crate::model::{DAGTask, DAGTemplate, Template};
use crate::yaml::Seg;

/// The dependencies of every task of a DAG, by name.
pub fn dependencies(tasks: &[DAGTask]) -> BTreeMap<&str, Vec<String>> {
    tasks
        .iter()
        .filter_map(|t| {
            let name = t.name.as_deref()?;
            let mut deps: Vec<String> = t.dependencies.clone().unwrap_or_default();
            if let Some(expr) = t.depends.as_deref().and_then(|d| parse_depends(d).ok()) {
                deps.extend(expr.task_names().into_iter().map(str::to_string));
            }
            Some((name, deps))
        })
        .collect()
}

/// Lints the DAG of `t`, found at `base` (the `dag` key).
pub fn lint_dag(
    cx: &mut Lint<'_>,
    sc: &SpecCtx<'_>,
    _t: &Template,
    dag: &DAGTemplate,
    base: &[Seg],
) {
    let tasks = dag.tasks.as_deref().unwrap_or_default();
    if tasks.is_empty() {
        cx.push(
            Diagnostic::error("empty-dag", base, "the DAG has no tasks")
                .with_help("add `tasks:`, each with a `name` and a `template`"),
        );
        return;
    }
    names::check_list(
        cx,
        tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (join(base, &["tasks".into(), i.into()]), t.name.as_deref())),
        "task",
        names::field_name_problem,
    );
    let known: Vec<&str> = tasks.iter().filter_map(|t| t.name.as_deref()).collect();
    let uses_depends = tasks.iter().any(|t| t.depends.is_some());
    let uses_dependencies = tasks.iter().any(|t| t.dependencies.is_some());
    if uses_depends && uses_dependencies {
        cx.push(
            Diagnostic::error(
                "depends-and-dependencies",
                &join(base, &["tasks".into()]),
                "this DAG mixes `depends` and `dependencies`; use one of them in all its tasks",
            )
            .with_help("`depends: a && b` says the same as `dependencies: [a, b]`, and can say more (`a.Failed`)"),
        );
    }
    for (i, task) in tasks.iter().enumerate() {
        let path = join(base, &["tasks".into(), i.into()]);
        lint_task(cx, sc, task, &known, &path);
    }
    if let Some(target) = &dag.target {
        for name in target.split_whitespace().filter(|n| !n.contains("{{")) {
            if !known.contains(&name) {
                cx.push(unknown_task(&join(base, &["target".into()]), name, &known));
            }
        }
    }
    if let Some(cycle) = find_cycle(&dependencies(tasks)) {
        let index = tasks
            .iter()
            .position(|t| t.name.as_deref() == Some(cycle[0].as_str()))
            .unwrap_or(0);
        cx.push(
            Diagnostic::error(
                "dependency-cycle",
                &join(base, &["tasks".into(), index.into()]),
                format!("the DAG has a dependency cycle: {} (each depends on the next)", cycle.join(" → ")),
            )
            .with_help("a task cannot depend, directly or through others, on itself; remove one of these dependencies"),
        );
    }
}

fn lint_task(cx: &mut Lint<'_>, sc: &SpecCtx<'_>, task: &DAGTask, known: &[&str], path: &[Seg]) {
    let name = task.name.as_deref().unwrap_or_default();
    lint_site(
        cx,
        sc,
        &Site {
            call: Call {
                template: task.template.as_deref(),
                template_ref: task.template_ref.as_ref(),
                inline: task.inline.as_deref(),
                arguments: task.arguments.as_ref(),
            },
            with_items: task.with_items.as_ref(),
            with_param: task.with_param.as_ref(),
            with_sequence: task.with_sequence.as_ref(),
            on_exit: task.on_exit.as_deref(),
            hooks: task.hooks.as_ref(),
        },
        path,
    );
    if (task.depends.is_some() || task.dependencies.is_some())
        && name.starts_with(|c: char| c.is_ascii_digit())
    {
        cx.push(
            Diagnostic::error(
                "invalid-name",
                &join(path, &["name".into()]),
                format!("task `{name}` starts with a digit, which `depends`/`dependencies` cannot refer to"),
            )
            .with_help(format!("rename it, e.g. `task-{name}`")),
        );
    }
    if task.depends.is_some() && task.continue_on.is_some() {
        cx.push(
            Diagnostic::error(
                "continue-on-with-depends",
                &join(path, &["continueOn".into()]),
                "`continueOn` cannot be used with `depends`",
            )
            .with_help("say it in the dependants' `depends` instead, e.g. `depends: this.Succeeded || this.Failed`"),
        );
    }
    for (j, dep) in task.dependencies.iter().flatten().enumerate() {
        let p = join(path, &["dependencies".into(), j.into()]);
        if !known.contains(&dep.as_str()) {
            cx.push(unknown_task(&p, dep, known));
        } else if dep == name {
            cx.push(Diagnostic::error(
                "dependency-cycle",
                &p,
                format!("task `{name}` depends on itself"),
            ));
        }
    }
    if let Some(depends) = &task.depends {
        let p = join(path, &["depends".into()]);
        match parse_depends(depends) {
            Err(e) => cx.push(
                Diagnostic::error("invalid-depends", &p, format!("invalid `depends` expression: {}", e.message))
                    .with_label(format!("at character {}", e.offset + 1))
                    .with_help("write task names joined by `&&`, `||`, `!` and parentheses, e.g. `a && (b.Failed || c)`"),
            ),
            Ok(expr) => {
                for dep in expr.task_names() {
                    if !known.contains(&dep) {
                        cx.push(unknown_task(&p, dep, known));
                    }
                }
            }
        }
    }
}

fn unknown_task(path: &[Seg], name: &str, known: &[&str]) -> Diagnostic {
    let help = match did_you_mean(name, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("the tasks are: {}", known.join(", ")),
    };
    Diagnostic::error(
        "unknown-task",
        path,
        format!("there is no task named `{name}` in this DAG"),
    )
    .with_help(help)
}

/// A dependency cycle, as the list of task names along it (the first repeated at the end).
pub fn find_cycle(deps: &BTreeMap<&str, Vec<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
    for &start in deps.keys() {
        if marks.contains_key(start) {
            continue;
        }
        // Iterative depth-first search; `stack` holds (task, index of the next dependency to visit).
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::Visiting);
        while let Some((task, next)) = stack.last_mut() {
            let task_deps = deps.get(*task).map(Vec::as_slice).unwrap_or_default();
            if let Some(dep) = task_deps.get(*next) {
                *next += 1;
                let Some((&dep, _)) = deps.get_key_value(dep.as_str()) else {
                    continue;
                };
                match marks.get(dep) {
                    Some(Mark::Visiting) => {
                        let from = stack.iter().position(|(t, _)| *t == dep).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            stack[from..].iter().map(|(t, _)| t.to_string()).collect();
                        cycle.push(dep.to_string());
                        return Some(cycle);
                    }
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(dep, Mark::Visiting);
                        stack.push((dep, 0));
                    }
                }
            } else {
                marks.insert(*task, Mark::Done);
                stack.pop();
            }
        }
    }
    None
}

/// Every task `name` transitively depends on.
pub fn ancestors<'d>(deps: &'d BTreeMap<&str, Vec<String>>, name: &str) -> BTreeSet<&'d str> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<&str> = deps
        .get(name)
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    while let Some(t) = todo.pop() {
        if out.insert(t) {
            todo.extend(deps.get(t).into_iter().flatten().map(String::as_str));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_named_in_dependency_order() {
        let deps: BTreeMap<&str, Vec<String>> = BTreeMap::from([
            ("a", vec![]),
            ("b", vec!["a".to_string(), "d".to_string()]),
            ("c", vec!["b".to_string()]),
            ("d", vec!["c".to_string()]),
        ]);
        let cycle = find_cycle(&deps).unwrap();
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 4, "{cycle:?}");
        let acyclic: BTreeMap<&str, Vec<String>> =
            BTreeMap::from([("a", vec![]), ("b", vec!["a".to_string()])]);
        assert_eq!(find_cycle(&acyclic), None);
        assert_eq!(ancestors(&deps, "c").len(), 4);
    }
}
