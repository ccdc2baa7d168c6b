//! DAG templates: tasks start when their `depends`/`dependencies` are met.

use std::collections::HashMap;

use crate::depends::{Depends, TaskResult, parse_depends};
use crate::model::{DAGTask, NodePhase, NodeType, Template};

use super::loops::{Loop, add_item_vars, expand};
use super::nodes::{NewNode, failed_or_error};
use super::outputs::{add_aggregate_vars, add_node_vars};
use super::scope::Unresolved;
use super::scope::{Vars, eval_when};
use super::steps::{continues_on, drop_absent, finish_with_outputs, render_call_site, render_site};
use super::walk::{Call, Ctx, Found, execute_template};

/// What planning needs to know about a DAG template, computed once per template.
#[derive(Debug)]
pub(crate) struct DagInfo {
    /// Task indexes in an order where dependencies come first.
    order: Vec<usize>,
    /// Per task: the parsed dependency expression (None: a root task).
    depends: Vec<Option<Depends>>,
    /// Per task: the indexes of the tasks it depends on.
    deps: Vec<Vec<usize>>,
    /// Target task indexes (`target`, else the leaves).
    targets: Vec<usize>,
    /// Tasks that are targets or ancestors of one.
    wanted: Vec<bool>,
    /// Task index by name.
    index: HashMap<String, usize>,
}

impl DagInfo {
    /// Analyses a DAG template; `Err` names what is wrong.
    pub(crate) fn new(t: &Template) -> Result<Self, String> {
        let tasks = t
            .dag
            .as_ref()
            .and_then(|d| d.tasks.as_deref())
            .unwrap_or_default();
        let index: HashMap<&str, usize> = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.as_deref().unwrap_or_default(), i))
            .collect();
        let mut depends = Vec::with_capacity(tasks.len());
        let mut deps = Vec::with_capacity(tasks.len());
        for task in tasks {
            let d = depends_of(task)?;
            let names: Vec<usize> = match &d {
                Some(d) => d
                    .task_names()
                    .into_iter()
                    .map(|n| {
                        index
                            .get(n)
                            .copied()
                            .ok_or_else(|| format!("task \"{n}\" not found"))
                    })
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            };
            depends.push(d);
            deps.push(names);
        }
        let order = topo_order(&deps)?;
        let targets = targets_of(t, tasks, &index, &deps)?;
        let mut wanted = vec![false; tasks.len()];
        let mut stack = targets.clone();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut wanted[i], true) {
                stack.extend(deps[i].iter().copied());
            }
        }
        let index = index.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Ok(Self {
            order,
            depends,
            deps,
            targets,
            wanted,
            index,
        })
    }
}

fn depends_of(task: &DAGTask) -> Result<Option<Depends>, String> {
    if let Some(d) = task.depends.as_deref().filter(|d| !d.trim().is_empty()) {
        return parse_depends(d).map(Some).map_err(|e| e.to_string());
    }
    let deps = task.dependencies.as_deref().unwrap_or_default();
    let mut it = deps.iter().map(|d| Depends::Task(d.clone(), None));
    let Some(first) = it.next() else {
        return Ok(None);
    };
    Ok(Some(it.fold(first, |a, b| {
        Depends::And(Box::new(a), Box::new(b))
    })))
}

fn topo_order(deps: &[Vec<usize>]) -> Result<Vec<usize>, String> {
    let n = deps.len();
    let mut indegree: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).rev().collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(i);
        for &j in &dependents[i] {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(j);
            }
        }
    }
    if order.len() != n {
        return Err("the DAG has a dependency cycle".into());
    }
    Ok(order)
}

fn targets_of(
    t: &Template,
    tasks: &[DAGTask],
    index: &HashMap<&str, usize>,
    deps: &[Vec<usize>],
) -> Result<Vec<usize>, String> {
    if let Some(target) = t
        .dag
        .as_ref()
        .and_then(|d| d.target.as_deref())
        .filter(|s| !s.trim().is_empty())
    {
        return target
            .split_whitespace()
            .map(|n| {
                index
                    .get(n)
                    .copied()
                    .ok_or_else(|| format!("target task \"{n}\" not found"))
            })
            .collect();
    }
    let mut has_dependent = vec![false; tasks.len()];
    for ds in deps {
        for &d in ds {
            has_dependent[d] = true;
        }
    }
    Ok((0..tasks.len()).filter(|&i| !has_dependent[i]).collect())
}

/// The result a task's node gives to `depends`.
fn satisfies(ctx: &Ctx<'_>, id: &str, want: Option<TaskResult>, task: &DAGTask) -> bool {
    let Some(n) = ctx.nodes.get(id) else {
        return false;
    };
    let phase = n.phase.unwrap_or(NodePhase::Pending);
    let daemoned = ctx.daemoned(id) && !phase.fulfilled();
    match want {
        None => {
            matches!(phase, NodePhase::Succeeded | NodePhase::Skipped)
                || daemoned
                || continues_on(task.continue_on.as_ref(), phase)
        }
        Some(TaskResult::Succeeded) => phase == NodePhase::Succeeded,
        Some(TaskResult::Failed) => phase == NodePhase::Failed,
        Some(TaskResult::Errored) => phase == NodePhase::Error,
        Some(TaskResult::Skipped) => phase == NodePhase::Skipped,
        Some(TaskResult::Omitted) => phase == NodePhase::Omitted,
        Some(TaskResult::Daemoned) => daemoned,
        Some(TaskResult::AnySucceeded) => {
            children_phases(ctx, n).any(|p| p == NodePhase::Succeeded)
        }
        Some(TaskResult::AllFailed) => {
            let mut it = children_phases(ctx, n).peekable();
            it.peek().is_some() && it.all(failed_or_error)
        }
    }
}

fn children_phases<'a>(
    ctx: &'a Ctx<'_>,
    n: &'a crate::model::NodeStatus,
) -> impl Iterator<Item = NodePhase> + 'a {
    n.children.iter().flatten().map(|c| ctx.phase(c))
}

struct Walk<'w> {
    info: &'w DagInfo,
    tasks: &'w [DAGTask],
    ids: &'w [String],
    names: &'w [String],
    /// The phase of each task's node when the pass began (None: no node yet).
    before: Vec<Option<NodePhase>>,
}

/// The phases of the tasks' nodes, read in one ordered walk over the status instead of one
/// tree search per task (what keeps a pass linear on very large DAGs).
fn phases_before(ctx: &Ctx<'_>, t: &super::resolve::TaskIds) -> Vec<Option<NodePhase>> {
    let mut out = vec![None; t.ids.len()];
    let (Some(&first), Some(&last)) = (t.by_id.first(), t.by_id.last()) else {
        return out;
    };
    let range = ctx.nodes.range::<str, _>((
        std::ops::Bound::Included(t.ids[first].as_str()),
        std::ops::Bound::Included(t.ids[last].as_str()),
    ));
    let mut want = t.by_id.iter().peekable();
    for (id, node) in range {
        while let Some(&&i) = want.peek() {
            match t.ids[i].as_str().cmp(id.as_str()) {
                std::cmp::Ordering::Less => {
                    want.next();
                }
                std::cmp::Ordering::Equal => {
                    out[i] = Some(node.phase.unwrap_or(NodePhase::Pending));
                    want.next();
                    break;
                }
                std::cmp::Ordering::Greater => break,
            }
        }
    }
    out
}

fn eval(ctx: &Ctx<'_>, d: &Depends, w: &Walk<'_>) -> bool {
    match d {
        Depends::Task(name, want) => w
            .info
            .index
            .get(name)
            .is_some_and(|&i| satisfies(ctx, &w.ids[i], *want, &w.tasks[i])),
        Depends::Not(e) => !eval(ctx, e, w),
        Depends::And(a, b) => eval(ctx, a, w) && eval(ctx, b, w),
        Depends::Or(a, b) => eval(ctx, a, w) || eval(ctx, b, w),
    }
}

/// Advances a DAG node.
pub(crate) fn execute(ctx: &mut Ctx<'_>, id: &str, found: &Found) {
    let target = found.tmpl.dag.as_ref().and_then(|d| d.target.clone());
    let rendered;
    let tmpl: &crate::model::Template = match target.filter(|t| t.contains("{{")) {
        Some(t) => {
            let vars = ctx.body_vars(found, ctx.nodes.get(id).and_then(|n| n.inputs.as_ref()));
            let mut copy = (*found.tmpl).clone();
            if let Some(d) = copy.dag.as_mut() {
                d.target = Some(super::scope::render(&t, &vars, Unresolved::Error).unwrap_or(t));
            }
            rendered = copy;
            &rendered
        }
        None => &found.tmpl,
    };
    let info = match ctx.wf.dag_info(&found.scope, tmpl) {
        Ok(i) => i,
        Err(e) => return ctx.mark(id, NodePhase::Error, Some(e)),
    };
    let Some(node) = ctx.nodes.get(id) else {
        return;
    };
    let name = node.name.clone().unwrap_or_default();
    let vars = ctx.body_vars(found, node.inputs.as_ref());
    let tasks = found
        .tmpl
        .dag
        .as_ref()
        .and_then(|d| d.tasks.as_deref())
        .unwrap_or_default();
    let cached = ctx.wf.task_ids(&name, tasks);
    let before = phases_before(ctx, &cached);
    let w = Walk {
        info: &info,
        tasks,
        ids: &cached.ids,
        names: &cached.names,
        before,
    };
    let fail_fast = found
        .tmpl
        .dag
        .as_ref()
        .and_then(|d| d.fail_fast)
        .unwrap_or(true);
    let limit = found
        .tmpl
        .parallelism
        .filter(|p| *p > 0)
        .map(|p| p as usize);
    let mut st = PassState {
        active: 0,
        failed: false,
        limit,
    };
    for &i in &info.order {
        if !info.wanted[i] {
            continue;
        }
        advance_task(ctx, id, &w, i, &vars, found, &mut st);
    }
    assess(ctx, id, &w, &vars, found, fail_fast, &st);
}

struct PassState {
    active: usize,
    failed: bool,
    limit: Option<usize>,
}

impl PassState {
    fn may_start(&self) -> bool {
        self.limit.is_none_or(|l| self.active < l)
    }
}

#[allow(clippy::too_many_arguments)]
fn advance_task(
    ctx: &mut Ctx<'_>,
    dag_id: &str,
    w: &Walk<'_>,
    i: usize,
    vars: &Vars,
    found: &Found,
    st: &mut PassState,
) {
    let task = &w.tasks[i];
    let tid = &w.ids[i];
    if let Some(phase) = w.before[i] {
        if phase.fulfilled() && !needs_hooks(task) {
            note_failure(st, task, phase);
            return;
        }
    } else if !ctx.nodes.contains_key(tid) {
        let dep_done =
            |d: usize| w.before[d].is_some_and(NodePhase::fulfilled) || ctx.fulfilled(&w.ids[d]);
        if !w.info.deps[i].iter().all(|&d| dep_done(d)) {
            return;
        }
        let go = w.info.depends[i].as_ref().is_none_or(|d| eval(ctx, d, w));
        if !go {
            let oid = ctx.create_skipped(
                &w.names[i],
                task.name.as_deref().unwrap_or_default(),
                task.template.as_deref(),
                task.template_ref.as_ref(),
                dag_id,
                NodePhase::Omitted,
                "omitted: depends condition not met".into(),
            );
            link(ctx, dag_id, w, i, &oid);
            return;
        }
        if !st.may_start() {
            return;
        }
    }
    let local = task_vars(ctx, w, i, vars);
    let created_before = ctx.nodes.contains_key(tid);
    run_task(ctx, dag_id, w, i, &local, found, st);
    if !created_before && ctx.nodes.contains_key(tid) {
        link(ctx, dag_id, w, i, tid);
    }
    let phase = ctx.phase(tid);
    if !ctx.fulfilled(tid) {
        st.active += 1;
    }
    note_failure(st, task, phase);
}

fn needs_hooks(task: &DAGTask) -> bool {
    task.on_exit.is_some() || task.hooks.as_ref().is_some_and(|h| !h.is_empty())
}

fn note_failure(st: &mut PassState, task: &DAGTask, phase: NodePhase) {
    if failed_or_error(phase) && !continues_on(task.continue_on.as_ref(), phase) {
        st.failed = true;
    }
}

/// Connects a new task node to the DAG (root task) or to its dependencies' outbound nodes.
fn link(ctx: &mut Ctx<'_>, dag_id: &str, w: &Walk<'_>, i: usize, tid: &str) {
    if w.info.deps[i].is_empty() {
        return ctx.add_child(dag_id, tid);
    }
    for &d in &w.info.deps[i] {
        for out in ctx.outbound_nodes(&w.ids[d]) {
            ctx.add_child(&out, tid);
        }
    }
}

/// Adds `tasks.X.*` of one task node (aggregated over iterations for a loop).
fn add_task_vars(ctx: &Ctx<'_>, local: &mut Vars, prefix: &str, id: &str, task: Option<&DAGTask>) {
    let Some(n) = ctx.nodes.get(id) else { return };
    if n.r#type == Some(NodeType::TaskGroup) {
        let children: Vec<_> = n
            .children
            .iter()
            .flatten()
            .filter_map(|c| ctx.nodes.get(c))
            .filter(|c| c.r#type != Some(NodeType::Skipped))
            .collect();
        add_aggregate_vars(local, prefix, &children);
        local.insert(
            format!("{prefix}.status"),
            n.phase.map(|p| p.as_str()).unwrap_or(""),
        );
    } else {
        add_node_vars(local, prefix, n);
        if let (Some(NodePhase::Skipped | NodePhase::Omitted), Some(task)) = (n.phase, task) {
            let t = ctx.called_template(
                &super::resolve::TemplateScope::Local,
                task.template.as_deref(),
                task.template_ref.as_ref(),
            );
            super::outputs::add_skipped_defaults(local, prefix, t.as_deref());
        }
    }
}

/// The scope of a task: the DAG's inputs plus `tasks.X.*` of the tasks it mentions.
fn task_vars(ctx: &Ctx<'_>, w: &Walk<'_>, i: usize, vars: &Vars) -> Vars {
    let mut local = vars.clone();
    let text = serde_json::to_string(&w.tasks[i]).unwrap_or_default();
    let mut mentioned: Vec<usize> = w.info.deps[i].clone();
    for (pos, _) in text.match_indices("tasks.") {
        let rest = &text[pos + 6..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        if let Some(&j) = w.info.index.get(&rest[..end]) {
            mentioned.push(j);
        }
    }
    mentioned.sort_unstable();
    mentioned.dedup();
    for j in mentioned {
        let prefix = format!("tasks.{}", w.tasks[j].name.as_deref().unwrap_or_default());
        add_task_vars(ctx, &mut local, &prefix, &w.ids[j], Some(&w.tasks[j]));
    }
    local
}

fn task_call(
    w: &Walk<'_>,
    i: usize,
    t: &DAGTask,
    node_name: String,
    display: String,
    dag_id: &str,
    found: &Found,
) -> Call {
    let _ = (w, i);
    Call {
        node_name,
        display_name: display,
        template: t.template.clone(),
        template_ref: t.template_ref.clone(),
        inline: t.inline.clone(),
        scope: found.scope.clone(),
        args: t.arguments.clone().unwrap_or_default(),
        boundary_id: Some(dag_id.to_string()),
        name_var: Some("tasks.name"),
    }
}

fn run_task(
    ctx: &mut Ctx<'_>,
    dag_id: &str,
    w: &Walk<'_>,
    i: usize,
    vars: &Vars,
    found: &Found,
    st: &mut PassState,
) {
    let raw = &w.tasks[i];
    let tname = raw.name.clone().unwrap_or_default();
    let existing = ctx.nodes.get(&w.ids[i]).and_then(|n| n.r#type);
    let task: DAGTask = match existing {
        Some(_) if !needs_render(raw) => raw.clone(),
        _ => match render_task(raw, vars) {
            Ok(t) => t,
            Err(e) => return error_task(ctx, dag_id, w, i, e),
        },
    };
    if existing.is_none()
        && !needs_render(raw)
        && let Some(w_) = task.when.as_deref().filter(|s| !s.trim().is_empty())
    {
        match eval_when(w_) {
            Ok(true) => {}
            Ok(false) => {
                ctx.create_skipped(
                    &w.names[i],
                    &tname,
                    task.template.as_deref(),
                    task.template_ref.as_ref(),
                    dag_id,
                    NodePhase::Skipped,
                    format!("when '{w_}' evaluated false"),
                );
                return;
            }
            Err(e) => return error_task(ctx, dag_id, w, i, e),
        }
    }
    let is_loop =
        task.with_items.is_some() || task.with_param.is_some() || task.with_sequence.is_some();
    if is_loop {
        return run_loop(ctx, dag_id, w, i, &task, vars, found, st);
    }
    let call = task_call(
        w,
        i,
        &task,
        w.names[i].clone(),
        tname.clone(),
        dag_id,
        found,
    );
    if let Some(tid) = execute_template(ctx, &call) {
        super::hooks::after_child(
            ctx,
            &call,
            &tid,
            task.on_exit.as_deref(),
            task.hooks.as_ref(),
            vars,
            "tasks",
            &tname,
            found,
        );
    }
}

/// Whether a task must be substituted again on later passes (loops expand from it).
fn needs_render(t: &DAGTask) -> bool {
    t.with_items.is_some() || t.with_param.is_some() || t.with_sequence.is_some()
}

fn render_task(t: &DAGTask, vars: &Vars) -> Result<DAGTask, String> {
    let name = t.name.as_deref().unwrap_or_default();
    let vars = &*super::scope::naming(vars, t.arguments.as_ref(), "tasks.name", name);
    let mut t = t.clone();
    drop_absent(&mut t.arguments, vars);
    let t = &t;
    if needs_render(t) {
        // `{{item}}` resolves per iteration.
        return render_site(t, vars, Unresolved::Keep);
    }
    render_call_site(t, vars)
}

fn error_task(ctx: &mut Ctx<'_>, dag_id: &str, w: &Walk<'_>, i: usize, e: String) {
    let call = Call {
        node_name: w.names[i].clone(),
        display_name: w.tasks[i].name.clone().unwrap_or_default(),
        template: w.tasks[i].template.clone(),
        template_ref: None,
        inline: None,
        scope: super::resolve::TemplateScope::Local,
        args: Default::default(),
        boundary_id: Some(dag_id.to_string()),
        name_var: Some("tasks.name"),
    };
    super::walk::error_node(ctx, &call, e);
}

#[allow(clippy::too_many_arguments)]
fn run_loop(
    ctx: &mut Ctx<'_>,
    dag_id: &str,
    w: &Walk<'_>,
    i: usize,
    task: &DAGTask,
    vars: &Vars,
    found: &Found,
    st: &mut PassState,
) {
    let tname = task.name.clone().unwrap_or_default();
    let group_id = ctx.create_node(NewNode {
        name: &w.names[i],
        display_name: &tname,
        node_type: NodeType::TaskGroup,
        template_name: task.template.as_deref(),
        template_ref: task.template_ref.clone(),
        boundary_id: Some(dag_id),
        phase: NodePhase::Running,
        inputs: None,
        message: None,
    });
    let l = if let Some(items) = &task.with_items {
        Loop::Items(items)
    } else if let Some(p) = &task.with_param {
        Loop::Param(p)
    } else if let Some(s) = &task.with_sequence {
        Loop::Sequence(s)
    } else {
        return;
    };
    let iterations = match expand(l) {
        Ok(it) => it,
        Err(e) => return ctx.mark(&group_id, NodePhase::Error, Some(e)),
    };
    let mut base = task.clone();
    base.with_items = None;
    base.with_param = None;
    base.with_sequence = None;
    let mut all_done = true;
    let mut failed = None;
    for it in iterations {
        let child_name = format!("{}{}", w.names[i], it.suffix);
        let exists = ctx.node_by_name(&child_name).is_some();
        if !exists && !st.may_start() {
            all_done = false;
            continue;
        }
        let mut v = vars.clone();
        add_item_vars(&mut v, &it.item);
        let t = match render_call_site(&base, &v) {
            Ok(t) => t,
            Err(e) => return ctx.mark(&group_id, NodePhase::Error, Some(e)),
        };
        let display = format!("{tname}{}", it.suffix);
        if let Some(cond) = t.when.as_deref().filter(|_| !exists) {
            match eval_when(cond) {
                Ok(true) => {}
                Ok(false) => {
                    let sid = ctx.create_skipped(
                        &child_name,
                        &display,
                        t.template.as_deref(),
                        t.template_ref.as_ref(),
                        dag_id,
                        NodePhase::Skipped,
                        format!("when '{cond}' evaluated false"),
                    );
                    ctx.add_child(&group_id, &sid);
                    continue;
                }
                Err(e) => return ctx.mark(&group_id, NodePhase::Error, Some(e)),
            }
        }
        let call = task_call(w, i, &t, child_name, display, dag_id, found);
        let Some(cid) = execute_template(ctx, &call) else {
            all_done = false;
            continue;
        };
        ctx.add_child(&group_id, &cid);
        let phase = ctx.phase(&cid);
        if !ctx.fulfilled(&cid) {
            all_done = false;
            st.active += 1;
        } else if failed_or_error(phase) && !continues_on(task.continue_on.as_ref(), phase) {
            failed = Some(cid);
        }
    }
    if all_done {
        match failed {
            Some(c) => ctx.mark(
                &group_id,
                NodePhase::Failed,
                Some(format!("child '{c}' failed")),
            ),
            None => ctx.mark(&group_id, NodePhase::Succeeded, None),
        }
    }
}

/// Decides the DAG node's phase once nothing more can start, like Argo's `assessDAGPhase`:
/// an omitted task inherits the worst phase of its dependencies.
fn assess(
    ctx: &mut Ctx<'_>,
    id: &str,
    w: &Walk<'_>,
    vars: &Vars,
    found: &Found,
    fail_fast: bool,
    st: &PassState,
) {
    if st.active > 0 {
        return;
    }
    let n = w.tasks.len();
    let mut branch: Vec<Option<NodePhase>> = vec![None; n];
    for &i in &w.info.order {
        branch[i] = match ctx.nodes.get(&w.ids[i]).and_then(|n| n.phase) {
            Some(NodePhase::Omitted) => Some(
                w.info.deps[i]
                    .iter()
                    .filter_map(|&d| branch[d])
                    .find(|p| failed_or_error(*p))
                    .unwrap_or(NodePhase::Succeeded),
            ),
            Some(p) if p.fulfilled() => Some(p),
            Some(_) if ctx.daemoned(&w.ids[i]) => Some(NodePhase::Succeeded),
            Some(_) => return,
            None => None,
        };
    }
    let mut result = NodePhase::Succeeded;
    let mut message = None;
    for &t in &w.info.targets {
        match branch[t] {
            None if ctx.halt.is_some() => result = NodePhase::Failed,
            None => {
                result = NodePhase::Running;
                if !fail_fast {
                    break;
                }
            }
            Some(p) if failed_or_error(p) && !continues_on(w.tasks[t].continue_on.as_ref(), p) => {
                result = p;
                message.get_or_insert_with(|| format!("child '{}' failed", w.ids[t]));
                if fail_fast {
                    break;
                }
            }
            Some(_) => {}
        }
    }
    if result == NodePhase::Running {
        return;
    }
    let mut outbound = Vec::new();
    for &t in &w.info.targets {
        if ctx.nodes.contains_key(&w.ids[t]) {
            outbound.extend(ctx.outbound_nodes(&w.ids[t]));
        }
    }
    if let Some(node) = ctx.nodes.get_mut(id) {
        node.outbound_nodes = (!outbound.is_empty()).then_some(outbound);
    }
    if result != NodePhase::Succeeded {
        return ctx.mark(id, result, message);
    }
    let mut all = vars.clone();
    for (i, t) in w.tasks.iter().enumerate() {
        let prefix = format!("tasks.{}", t.name.as_deref().unwrap_or_default());
        add_task_vars(ctx, &mut all, &prefix, &w.ids[i], Some(t));
    }
    finish_with_outputs(ctx, id, found, &all);
}
