//! Exit handlers and lifecycle hooks of steps and tasks (`onExit`, `hooks`).

use crate::model::{LifecycleHook, LifecycleHooks};

use super::outputs::add_node_vars;
use super::scope::{Vars, eval_expr};
use super::walk::{Call, Ctx, Found, execute_template};

/// Runs the exit handler and lifecycle hooks of a step or task whose node is `child`.
/// Returns whether they are all done (nothing to wait for).
#[allow(clippy::too_many_arguments)]
pub(crate) fn after_child(
    ctx: &mut Ctx<'_>,
    call: &Call,
    child: &str,
    on_exit: Option<&str>,
    hooks: Option<&LifecycleHooks>,
    vars: &Vars,
    kind: &str,
    name: &str,
    found: &Found,
) -> bool {
    let exit_hook = hooks.and_then(|h| h.get("exit")).cloned().or_else(|| {
        on_exit.map(|t| LifecycleHook {
            template: Some(t.to_string()),
            ..Default::default()
        })
    });
    let mut local = vars.clone();
    if let Some(n) = ctx.nodes.get(child) {
        add_node_vars(&mut local, &format!("{kind}.{name}"), n);
    }
    let mut done = true;
    for (hname, hook) in hooks.into_iter().flatten() {
        if hname == "exit" {
            continue;
        }
        let hook_name = format!("{}.hooks.{hname}", call.node_name);
        if ctx.node_by_name(&hook_name).is_none() {
            let fire = hook
                .expression
                .as_deref()
                .is_some_and(|e| matches!(eval_expr(e, &local), Ok(serde_json::Value::Bool(true))));
            if !fire {
                continue;
            }
        }
        done &= run_hook(ctx, call, &hook_name, hook, &local, found);
    }
    let child_done = ctx.phase(child).fulfilled();
    if let (Some(hook), true) = (exit_hook, child_done) {
        let exit_name = format!("{}.onExit", call.node_name);
        done &= run_hook(ctx, call, &exit_name, &hook, &local, found);
    }
    done
}

/// Runs one hook template under `node_name`; returns whether its node is fulfilled.
pub(crate) fn run_hook(
    ctx: &mut Ctx<'_>,
    call: &Call,
    node_name: &str,
    hook: &LifecycleHook,
    vars: &Vars,
    found: &Found,
) -> bool {
    let args = match hook
        .arguments
        .as_ref()
        .map(|a| super::steps::render_call_site(a, vars))
    {
        None => Default::default(),
        Some(Ok(a)) => a,
        Some(Err(e)) => {
            let c = hook_call(call, node_name, hook, Default::default(), found);
            let id = super::walk::error_node(ctx, &c, e);
            ctx.add_child_of_boundary(call, &id);
            return true;
        }
    };
    let c = hook_call(call, node_name, hook, args, found);
    let was_exit = ctx.in_exit;
    ctx.in_exit = true;
    let id = execute_template(ctx, &c);
    ctx.in_exit = was_exit;
    match id {
        Some(id) => {
            ctx.add_child_of_boundary(call, &id);
            ctx.phase(&id).fulfilled()
        }
        None => false,
    }
}

fn hook_call(
    call: &Call,
    node_name: &str,
    hook: &LifecycleHook,
    args: crate::model::Arguments,
    found: &Found,
) -> Call {
    Call {
        node_name: node_name.to_string(),
        display_name: node_name
            .rsplit_once('.')
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
        template: hook.template.clone(),
        template_ref: hook.template_ref.clone(),
        inline: None,
        scope: found.scope.clone(),
        args,
        boundary_id: call.boundary_id.clone(),
        name_var: None,
    }
}

impl Ctx<'_> {
    /// Hangs a hook's node under the node of the step or task it belongs to.
    fn add_child_of_boundary(&mut self, call: &Call, hook_id: &str) {
        let owner = super::ids::node_id(&self.wf.name, &call.node_name);
        self.add_child(&owner, hook_id);
    }
}
