//! Steps templates: groups run in order, the steps of a group in parallel.

use crate::model::{ContinueOn, NodePhase, NodeType, WorkflowStep};

use super::loops::{Loop, add_item_vars, expand};
use super::nodes::{NewNode, failed_or_error};
use super::outputs::{add_aggregate_vars, add_node_vars, add_skipped_defaults, template_outputs};
use super::scope::{Unresolved, Vars, eval_when};
use super::walk::{Call, Ctx, Found, execute_template};

/// Whether `continueOn` lets a step or task that ended in `phase` not fail its parent.
pub(crate) fn continues_on(c: Option<&ContinueOn>, phase: NodePhase) -> bool {
    let Some(c) = c else { return false };
    match phase {
        NodePhase::Failed => c.failed == Some(true),
        NodePhase::Error => c.error == Some(true),
        _ => false,
    }
}

/// Advances a Steps node.
pub(crate) fn execute(ctx: &mut Ctx<'_>, id: &str, found: &Found) {
    let Some(node) = ctx.nodes.get(id) else {
        return;
    };
    let name = node.name.clone().unwrap_or_default();
    let mut vars = ctx.body_vars(found, node.inputs.as_ref());
    let groups = found.tmpl.steps.clone().unwrap_or_default();
    for (i, group) in groups.iter().enumerate() {
        let sg_name = format!("{name}[{i}]");
        let sg_id = ctx.create_node(NewNode {
            name: &sg_name,
            display_name: &format!("[{i}]"),
            node_type: NodeType::StepGroup,
            template_name: None,
            template_ref: None,
            boundary_id: Some(id),
            phase: NodePhase::Running,
            inputs: None,
            message: None,
        });
        link_group(ctx, id, &name, i, &sg_id);
        if !execute_group(ctx, id, &sg_id, &sg_name, group, &vars, found) {
            return;
        }
        let sg_phase = ctx.phase(&sg_id);
        if failed_or_error(sg_phase) {
            set_outbound(ctx, id, &sg_id);
            let msg = ctx.nodes.get(&sg_id).and_then(|n| n.message.clone());
            return ctx.mark(id, NodePhase::Failed, msg);
        }
        add_group_vars(ctx, &mut vars, &sg_name, &sg_id, group);
    }
    if let Some(last) = groups.len().checked_sub(1) {
        let sg_id = super::ids::node_id(&ctx.wf.name, &format!("{name}[{last}]"));
        set_outbound(ctx, id, &sg_id);
    }
    finish_with_outputs(ctx, id, found, &vars);
}

/// Completes a Steps or DAG node: computes its outputs, then marks it Succeeded (or Error when
/// an output cannot be resolved).
pub(crate) fn finish_with_outputs(ctx: &mut Ctx<'_>, id: &str, found: &Found, vars: &Vars) {
    match template_outputs(&found.tmpl, vars) {
        Ok(outputs) => {
            if let Some(n) = ctx.nodes.get_mut(id) {
                n.outputs = outputs;
            }
            ctx.mark(id, NodePhase::Succeeded, None);
        }
        Err(e) => ctx.mark(id, NodePhase::Error, Some(e)),
    }
}

fn link_group(ctx: &mut Ctx<'_>, steps_id: &str, name: &str, i: usize, sg_id: &str) {
    if i == 0 {
        return ctx.add_child(steps_id, sg_id);
    }
    let prev = super::ids::node_id(&ctx.wf.name, &format!("{name}[{}]", i - 1));
    let children = ctx
        .nodes
        .get(&prev)
        .and_then(|n| n.children.clone())
        .unwrap_or_default();
    if children.is_empty() {
        return ctx.add_child(&prev, sg_id);
    }
    for c in children {
        for out in ctx.outbound_nodes(&c) {
            ctx.add_child(&out, sg_id);
        }
    }
}

fn set_outbound(ctx: &mut Ctx<'_>, steps_id: &str, sg_id: &str) {
    let children = ctx
        .nodes
        .get(sg_id)
        .and_then(|n| n.children.clone())
        .unwrap_or_default();
    let mut out = Vec::new();
    for c in children {
        if ctx.nodes.get(&c).and_then(|n| n.r#type) == Some(NodeType::Skipped) {
            continue;
        }
        out.extend(ctx.outbound_nodes(&c));
    }
    if let Some(n) = ctx.nodes.get_mut(steps_id) {
        n.outbound_nodes = (!out.is_empty()).then_some(out);
    }
}

fn add_group_vars(
    ctx: &Ctx<'_>,
    vars: &mut Vars,
    sg_name: &str,
    sg_id: &str,
    group: &[WorkflowStep],
) {
    for step in group {
        let sname = step.name.clone().unwrap_or_default();
        let prefix = format!("steps.{sname}");
        let child = format!("{sg_name}.{sname}");
        if let Some(n) = ctx.node_by_name(&child) {
            add_node_vars(vars, &prefix, n);
            if matches!(n.phase, Some(NodePhase::Skipped | NodePhase::Omitted)) {
                let t = ctx.called_template(
                    &super::resolve::TemplateScope::Local,
                    step.template.as_deref(),
                    step.template_ref.as_ref(),
                );
                add_skipped_defaults(vars, &prefix, t.as_deref());
            }
            continue;
        }
        let loop_prefix = format!("{child}(");
        let iterations: Vec<_> = ctx
            .nodes
            .get(sg_id)
            .and_then(|n| n.children.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|c| ctx.nodes.get(c))
            .filter(|n| {
                n.name
                    .as_deref()
                    .is_some_and(|x| x.starts_with(&loop_prefix))
                    && n.r#type != Some(NodeType::Skipped)
            })
            .collect();
        add_aggregate_vars(vars, &prefix, &iterations);
        if let Some(sg) = ctx.nodes.get(sg_id) {
            vars.insert(
                format!("{prefix}.status"),
                sg.phase.map(|p| p.as_str()).unwrap_or(""),
            );
        }
    }
}

/// One step after substitution and loop expansion.
struct Planned {
    name: String,
    step: WorkflowStep,
    skip: Option<String>,
}

/// Renders the parts of a step that belong to the caller (not its inline template).
pub(crate) fn render_call_site<T>(site: &T, vars: &Vars) -> Result<T, String>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    render_site(site, vars, Unresolved::Error)
}

/// Drops the argument parameters that only name absent values (outputs of skipped steps
/// without a default), so the called template's input default applies, as in Argo.
pub(crate) fn drop_absent(args: &mut Option<crate::model::Arguments>, vars: &Vars) {
    let Some(params) = args.as_mut().and_then(|a| a.parameters.as_mut()) else {
        return;
    };
    params.retain(|p| {
        let Some(v) = &p.value else { return true };
        !crate::expr::template::tags(&v.0).any(|t| vars.is_nil(t.trim()))
    });
}

/// [`render_call_site`] with a choice of what unknown tags do.
pub(crate) fn render_site<T>(site: &T, vars: &Vars, mode: Unresolved) -> Result<T, String>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let mut json = serde_json::to_value(site).map_err(|e| e.to_string())?;
    let inline = json.as_object_mut().and_then(|o| o.remove("inline"));
    let hooks = json.as_object_mut().and_then(|o| o.remove("hooks"));
    super::scope::render_json(&mut json, vars, mode)?;
    if let Some(o) = json.as_object_mut() {
        if let Some(i) = inline {
            o.insert("inline".into(), i);
        }
        if let Some(h) = hooks {
            o.insert("hooks".into(), h);
        }
    }
    serde_json::from_value(json).map_err(|e| e.to_string())
}

fn plan_group(group: &[WorkflowStep], vars: &Vars) -> Result<Vec<Planned>, String> {
    let mut out = Vec::new();
    for step in group {
        let name = step.name.clone().unwrap_or_default();
        if step.with_items.is_none() && step.with_param.is_none() && step.with_sequence.is_none() {
            out.push(plan_one(name, step, vars)?);
            continue;
        }
        // Loop sources first (with what is known now); `{{item}}` resolves per iteration.
        let mut rendered: WorkflowStep = render_site(step, vars, Unresolved::Keep)?;
        let l = if let Some(items) = &rendered.with_items {
            Loop::Items(items)
        } else if let Some(p) = &rendered.with_param {
            Loop::Param(p)
        } else if let Some(s) = &rendered.with_sequence {
            Loop::Sequence(s)
        } else {
            continue;
        };
        let iterations = expand(l)?;
        rendered.with_items = None;
        rendered.with_param = None;
        rendered.with_sequence = None;
        for it in iterations {
            let mut v = vars.clone();
            add_item_vars(&mut v, &it.item);
            out.push(plan_one(format!("{name}{}", it.suffix), &rendered, &v)?);
        }
    }
    Ok(out)
}

fn plan_one(name: String, step: &WorkflowStep, vars: &Vars) -> Result<Planned, String> {
    let vars = &*super::scope::naming(vars, step.arguments.as_ref(), "steps.name", &name);
    let mut step = step.clone();
    drop_absent(&mut step.arguments, vars);
    let step: WorkflowStep = render_call_site(&step, vars)?;
    let skip = match step.when.as_deref().filter(|w| !w.trim().is_empty()) {
        Some(w) if !eval_when(w)? => Some(format!("when '{w}' evaluated false")),
        _ => None,
    };
    Ok(Planned { name, step, skip })
}

/// Advances one step group; returns whether it is fulfilled.
fn execute_group(
    ctx: &mut Ctx<'_>,
    steps_id: &str,
    sg_id: &str,
    sg_name: &str,
    group: &[WorkflowStep],
    vars: &Vars,
    found: &Found,
) -> bool {
    if ctx.phase(sg_id).fulfilled() {
        return true;
    }
    let planned = match plan_group(group, vars) {
        Ok(p) => p,
        Err(e) => {
            ctx.mark(sg_id, NodePhase::Error, Some(e));
            return true;
        }
    };
    let limit = found
        .tmpl
        .parallelism
        .filter(|p| *p > 0)
        .map(|p| p as usize);
    let mut all_created = true;
    let mut results = Vec::new();
    for p in &planned {
        let child_name = format!("{sg_name}.{}", p.name);
        if let Some(reason) = &p.skip {
            let cid = ctx.create_skipped(
                &child_name,
                &p.name,
                p.step.template.as_deref(),
                p.step.template_ref.as_ref(),
                steps_id,
                NodePhase::Skipped,
                reason.clone(),
            );
            ctx.add_child(sg_id, &cid);
            continue;
        }
        let exists = ctx.node_by_name(&child_name).is_some();
        if !exists && limit.is_some_and(|l| active_children(ctx, sg_id) >= l) {
            all_created = false;
            continue;
        }
        let call = Call {
            node_name: child_name.clone(),
            display_name: p.name.clone(),
            template: p.step.template.clone(),
            template_ref: p.step.template_ref.clone(),
            inline: p.step.inline.clone(),
            scope: found.scope.clone(),
            args: p.step.arguments.clone().unwrap_or_default(),
            boundary_id: Some(steps_id.to_string()),
            name_var: Some("steps.name"),
        };
        let Some(cid) = execute_template(ctx, &call) else {
            all_created = false;
            continue;
        };
        ctx.add_child(sg_id, &cid);
        let done = super::hooks::after_child(
            ctx,
            &call,
            &cid,
            p.step.on_exit.as_deref(),
            p.step.hooks.as_ref(),
            vars,
            "steps",
            &p.name,
            found,
        );
        results.push((cid, p.step.continue_on.clone(), done));
    }
    if !all_created
        || results
            .iter()
            .any(|(id, _, done)| !done || !ctx.fulfilled(id))
    {
        return false;
    }
    for (cid, cont, _) in &results {
        let phase = ctx.phase(cid);
        if failed_or_error(phase) && !continues_on(cont.as_ref(), phase) {
            ctx.mark(
                sg_id,
                NodePhase::Failed,
                Some(format!("child '{cid}' failed")),
            );
            return true;
        }
    }
    ctx.mark(sg_id, NodePhase::Succeeded, None);
    true
}

/// Children of a node that have not finished yet.
pub(crate) fn active_children(ctx: &Ctx<'_>, id: &str) -> usize {
    ctx.nodes
        .get(id)
        .and_then(|n| n.children.as_ref())
        .into_iter()
        .flatten()
        .filter(|c| !ctx.phase(c).fulfilled())
        .count()
}
