//! The walk: `execute_template` advances one node (creating it when needed) and dispatches on
//! the template's type, like Argo's `executeTemplate`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::{
    Arguments, Inputs, NodePhase, NodeStatus, NodeType, Template, TemplateRef, TemplateType,
};

use super::nodes::NewNode;
use super::resolve::{ResolvedWorkflow, TemplateScope};
use super::scope::Vars;
use super::{Action, args, leaf, retry, steps};

/// How deep templates may call templates before the workflow errors (Argo's limit).
pub(crate) const MAX_DEPTH: usize = 100;

/// How a workflow is being shut down (`spec.shutdown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shutdown {
    /// Stop: running steps are stopped, exit handlers still run.
    Stop,
    /// Terminate: running steps are stopped, exit handlers do not run.
    Terminate,
}

/// The state of one planning pass.
pub(crate) struct Ctx<'a> {
    pub wf: &'a ResolvedWorkflow,
    pub nodes: BTreeMap<String, NodeStatus>,
    pub actions: Vec<Action>,
    pub now: DateTime<Utc>,
    pub now_str: String,
    pub globals: Arc<crate::expr::template::Scope>,
    /// `workflow.outputs.parameters.*` set by `globalName` during this pass.
    pub global_outputs: super::workflow::GlobalOutputs,
    /// Pending or Running Pod nodes (workflow `parallelism`).
    pub active_pods: usize,
    /// The workflow's deadline (`activeDeadlineSeconds`).
    pub deadline: Option<DateTime<Utc>>,
    pub shutdown: Option<Shutdown>,
    /// Why nothing new may start (shutdown, deadline), as the message of nodes not started.
    pub halt: Option<String>,
    /// Walking an exit handler: it runs even under `Stop` and past the deadline.
    pub in_exit: bool,
    /// `spec.suspend`: nothing new starts.
    pub suspended: bool,
    pub wake: Option<DateTime<Utc>>,
    pub depth: usize,
}

/// What to run under which node name: a step, a task, the entrypoint, a hook.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub node_name: String,
    pub display_name: String,
    pub template: Option<String>,
    pub template_ref: Option<TemplateRef>,
    pub inline: Option<Box<Template>>,
    /// Where `template` names are looked up.
    pub scope: TemplateScope,
    /// Arguments, already substituted.
    pub args: Arguments,
    pub boundary_id: Option<String>,
    /// `steps.name` for a step, `tasks.name` for a DAG task: the variable that names the caller
    /// inside the template it calls (Argo's local parameters).
    pub name_var: Option<&'static str>,
}

/// A template found for a call, with the scope its own references resolve in.
pub(crate) struct Found {
    pub tmpl: Arc<Template>,
    pub scope: TemplateScope,
    /// `("steps.name", step)` or `("tasks.name", task)` when a step or task calls it.
    pub caller: Option<(&'static str, String)>,
}

impl Ctx<'_> {
    /// Asks to be planned again at `at` (keeps the earliest).
    pub(crate) fn wake_at(&mut self, at: DateTime<Utc>) {
        if self.wake.is_none_or(|w| at < w) {
            self.wake = Some(at);
        }
    }

    /// Finds the template of a call, with `templateDefaults` applied.
    pub(crate) fn find(&self, call: &Call) -> Result<Found, String> {
        let (scope, tmpl) = if let Some(t) = &call.inline {
            (call.scope.clone(), Arc::new((**t).clone()))
        } else if let Some(r) = &call.template_ref {
            let (scope, t) = self.wf.template_ref(r).ok_or_else(|| {
                format!(
                    "template \"{}\" of WorkflowTemplate \"{}\" not found",
                    r.template.as_deref().unwrap_or_default(),
                    r.name.as_deref().unwrap_or_default()
                )
            })?;
            (scope, t.clone())
        } else {
            let name = call.template.as_deref().unwrap_or_default();
            let t = self
                .wf
                .template(&call.scope, name)
                .ok_or_else(|| format!("template \"{name}\" not found"))?;
            (call.scope.clone(), t.clone())
        };
        Ok(Found {
            tmpl: with_defaults(tmpl, self.wf.spec.template_defaults.as_deref()),
            scope,
            caller: call.name_var.map(|k| (k, call.display_name.clone())),
        })
    }

    /// The template a step or task names, if it can be found.
    pub(crate) fn called_template(
        &self,
        scope: &TemplateScope,
        template: Option<&str>,
        template_ref: Option<&TemplateRef>,
    ) -> Option<Arc<Template>> {
        if let Some(r) = template_ref {
            return self.wf.template_ref(r).map(|(_, t)| t.clone());
        }
        self.wf.template(scope, template?).cloned()
    }

    /// A scope with the workflow's variables.
    pub(crate) fn base_vars(&self) -> Vars {
        let mut v = Vars::with_base(self.globals.clone());
        for (k, val) in &self.global_outputs.0 {
            v.insert(format!("workflow.outputs.parameters.{k}"), val.clone());
        }
        for (k, a) in &self.global_outputs.1 {
            if let Ok(j) = serde_json::to_string(a) {
                v.insert(format!("workflow.outputs.artifacts.{k}"), j);
            }
        }
        v
    }

    /// A scope with the workflow's variables and a node's inputs.
    pub(crate) fn input_vars(&self, inputs: Option<&Inputs>) -> Vars {
        let mut v = self.base_vars();
        args::add_input_vars(&mut v, inputs);
        v
    }

    /// The scope of a template's body: [`Ctx::input_vars`] plus `steps.name` / `tasks.name` when
    /// a step or task called it.
    pub(crate) fn body_vars(&self, found: &Found, inputs: Option<&Inputs>) -> Vars {
        let mut v = self.input_vars(inputs);
        if let Some((key, name)) = &found.caller {
            v.insert(*key, name.clone());
        }
        v
    }
}

/// Applies `spec.templateDefaults` under a template (the template's own fields win).
fn with_defaults(tmpl: Arc<Template>, defaults: Option<&Template>) -> Arc<Template> {
    let Some(d) = defaults else { return tmpl };
    let (Ok(mut own), Ok(base)) = (serde_json::to_value(&*tmpl), serde_json::to_value(d)) else {
        return tmpl;
    };
    merge_json(&mut own, base);
    match serde_json::from_value(own) {
        Ok(t) => Arc::new(t),
        Err(_) => tmpl,
    }
}

fn merge_json(own: &mut serde_json::Value, base: serde_json::Value) {
    if let (Some(o), serde_json::Value::Object(b)) = (own.as_object_mut(), base) {
        for (k, v) in b {
            match o.get_mut(&k) {
                Some(existing) if existing.is_object() => merge_json(existing, v),
                Some(_) => {}
                None => {
                    o.insert(k, v);
                }
            }
        }
    }
}

/// The node type a template produces.
pub(crate) fn node_type_of(t: &Template) -> NodeType {
    match t.template_type() {
        Some(TemplateType::Steps) => NodeType::Steps,
        Some(TemplateType::Dag) => NodeType::Dag,
        Some(TemplateType::Suspend) => NodeType::Suspend,
        Some(TemplateType::Http) => NodeType::Http,
        Some(TemplateType::Plugin) => NodeType::Plugin,
        _ => NodeType::Pod,
    }
}

/// Advances the node of a call, creating it when it does not exist yet. Returns its ID, or
/// `None` when it may not be created now (parallelism, suspend).
pub(crate) fn execute_template(ctx: &mut Ctx<'_>, call: &Call) -> Option<String> {
    let id = super::ids::node_id(&ctx.wf.name, &call.node_name);
    if let Some(n) = ctx.nodes.get(&id)
        && n.phase.is_some_and(NodePhase::fulfilled)
    {
        return Some(id);
    }
    if ctx.depth >= MAX_DEPTH {
        return Some(error_node(ctx, call, "Maximum recursion depth exceeded. See https://argo-workflows.readthedocs.io/en/latest/scaling/#maximum-recursion-depth".into()));
    }
    let found = match ctx.find(call) {
        Ok(f) => f,
        Err(e) => return Some(error_node(ctx, call, e)),
    };
    ctx.depth += 1;
    let out = match retry::strategy(ctx, &found.tmpl) {
        Some(strategy) => retry::execute(ctx, call, &found, &strategy),
        None => execute_plain(ctx, call, &found, None),
    };
    ctx.depth -= 1;
    out
}

/// Executes a template under `call.node_name` without a retry wrapper (`retries` is the attempt
/// number when this is a retry attempt).
pub(crate) fn execute_plain(
    ctx: &mut Ctx<'_>,
    call: &Call,
    found: &Found,
    retries: Option<usize>,
) -> Option<String> {
    let id = super::ids::node_id(&ctx.wf.name, &call.node_name);
    let node_type = node_type_of(&found.tmpl);
    if !ctx.nodes.contains_key(&id) {
        if let Some(reason) = ctx.halt.clone().filter(|_| !ctx.in_exit) {
            let id = error_node(ctx, call, reason.clone());
            ctx.mark(&id, NodePhase::Failed, Some(reason));
            return Some(id);
        }
        if matches!(node_type, NodeType::Pod | NodeType::Http) && !ctx.may_start_pod() {
            return None;
        }
        let inputs = match args::process_inputs(ctx, &found.tmpl, &call.args) {
            Ok(i) => i,
            Err(e) => return Some(error_node(ctx, call, e)),
        };
        let phase = if matches!(node_type, NodeType::Pod | NodeType::Http | NodeType::Plugin) {
            NodePhase::Pending
        } else {
            NodePhase::Running
        };
        ctx.create_node(NewNode {
            name: &call.node_name,
            display_name: &call.display_name,
            node_type,
            template_name: call.template.as_deref().or(found.tmpl.name.as_deref()),
            template_ref: call.template_ref.clone(),
            boundary_id: call.boundary_id.as_deref(),
            phase,
            inputs,
            message: None,
        });
    }
    match node_type {
        NodeType::Steps | NodeType::Dag => {
            if node_type == NodeType::Steps {
                steps::execute(ctx, &id, found);
            } else {
                super::dag::execute(ctx, &id, found);
            }
            if ctx.phase(&id).fulfilled() {
                ctx.end_daemons(Some(&id));
            }
        }
        NodeType::Suspend => leaf::suspend(ctx, &id, found),
        _ => leaf::execute(ctx, &id, found, retries),
    }
    Some(id)
}

/// Records a node that failed before it could start (bad template, bad arguments).
pub(crate) fn error_node(ctx: &mut Ctx<'_>, call: &Call, message: String) -> String {
    let id = ctx.create_node(NewNode {
        name: &call.node_name,
        display_name: &call.display_name,
        node_type: NodeType::Skipped,
        template_name: call.template.as_deref(),
        template_ref: call.template_ref.clone(),
        boundary_id: call.boundary_id.as_deref(),
        phase: NodePhase::Error,
        inputs: None,
        message: Some(message.clone()),
    });
    ctx.mark(&id, NodePhase::Error, Some(message));
    id
}

impl Ctx<'_> {
    /// Whether a new Pod node may be created now (workflow parallelism, suspend, shutdown).
    pub(crate) fn may_start_pod(&self) -> bool {
        if self.suspended {
            return false;
        }
        match self.wf.spec.parallelism {
            Some(p) if p > 0 => (self.active_pods as i64) < p,
            _ => true,
        }
    }
}
