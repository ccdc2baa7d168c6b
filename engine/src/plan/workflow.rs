//! The top of a planning pass: observations in, the entrypoint and exit handler walked, the
//! workflow's phase, message and progress out.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::model::{
    NodePhase, NodeStatus, NodeType, Outputs, Parameter, WorkflowPhase, WorkflowStatus,
};

use super::nodes::failed_or_error;
use super::resolve::{ResolvedWorkflow, TemplateScope};
use super::walk::{Call, Ctx, Shutdown, execute_template};
use super::{Action, Observations, format_time, parse_time};

/// The whole pass; see [`super::plan`].
pub(crate) fn plan_workflow(
    wf: &ResolvedWorkflow,
    mut status: WorkflowStatus,
    obs: &Observations,
    now: DateTime<Utc>,
) -> (WorkflowStatus, Vec<Action>) {
    let mut nodes = status.nodes.take().unwrap_or_default();
    apply_observations(&mut nodes, obs);
    if status.phase.is_some_and(|p| p.completed()) {
        status.nodes = Some(nodes);
        return (status, Vec::new());
    }
    if !matches!(status.phase, Some(WorkflowPhase::Running)) {
        status.phase = Some(WorkflowPhase::Running);
    }
    let started = status
        .started_at
        .as_deref()
        .and_then(parse_time)
        .unwrap_or(now);
    status.started_at.get_or_insert_with(|| format_time(now));
    let mut ctx = new_ctx(wf, nodes, &status, started, now);
    label_global_outputs(&mut ctx, obs);
    ctx.global_outputs = collect_global_outputs(&ctx.nodes);
    let root = root_call(wf);
    if let Some(d) = ctx.deadline
        && now < d
    {
        ctx.wake_at(d);
    }
    stop_halted_steps(&mut ctx);
    let root_id = execute_template(&mut ctx, &root);
    if root_id.as_deref().is_some_and(|id| ctx.daemoned(id)) {
        // The entrypoint itself is a daemon that is up: the workflow has nothing left to do.
        ctx.end_daemons(None);
    }
    let root_phase = root_id.as_deref().map(|id| ctx.phase(id));
    let mut finished = None;
    if let Some(phase) = root_phase.filter(|p| p.fulfilled()) {
        finished = run_exit_handler(&mut ctx, wf, phase);
    }
    if let Some((phase, message)) = finished {
        ctx.end_daemons(None);
        status.phase = Some(phase);
        status.message = message.filter(|m| !m.is_empty());
        status.finished_at = Some(format_time(now));
    }
    finish_status(&mut status, ctx)
}

fn new_ctx<'a>(
    wf: &'a ResolvedWorkflow,
    nodes: BTreeMap<String, NodeStatus>,
    status: &WorkflowStatus,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Ctx<'a> {
    let deadline = wf
        .spec
        .active_deadline_seconds
        .map(|s| started + Duration::seconds(s.clamp(0, i64::from(i32::MAX))));
    let shutdown = match wf.spec.shutdown.as_deref() {
        Some("Stop") => Some(Shutdown::Stop),
        Some("Terminate") => Some(Shutdown::Terminate),
        _ => None,
    };
    let halt = match (shutdown, deadline) {
        (Some(s), _) => Some(format!("Stopped with strategy '{}'", shutdown_name(s))),
        (None, Some(d)) if now >= d => Some("Step exceeded its deadline".to_string()),
        _ => None,
    };
    let active_pods = nodes
        .values()
        .filter(|n| n.r#type == Some(NodeType::Pod) && !n.phase.is_some_and(NodePhase::fulfilled))
        .count();
    let mut ctx = Ctx {
        wf,
        nodes,
        actions: Vec::new(),
        now,
        now_str: format_time(now),
        globals: crate::expr::template::Scope::from(globals(wf, status, started, now))
            .into_shared(),
        global_outputs: Default::default(),
        active_pods,
        deadline,
        shutdown,
        halt,
        in_exit: false,
        suspended: wf.spec.suspend == Some(true),
        wake: None,
        depth: 0,
    };
    ctx.global_outputs = collect_global_outputs(&ctx.nodes);
    ctx
}

fn shutdown_name(s: Shutdown) -> &'static str {
    match s {
        Shutdown::Stop => "Stop",
        Shutdown::Terminate => "Terminate",
    }
}

fn root_call(wf: &ResolvedWorkflow) -> Call {
    Call {
        node_name: wf.name.clone(),
        display_name: wf.name.clone(),
        template: Some(wf.entrypoint().to_string()),
        template_ref: None,
        inline: None,
        scope: TemplateScope::Local,
        args: root_arguments(wf),
        boundary_id: None,
        name_var: None,
    }
}

/// The workflow's arguments with every parameter's value resolved (e.g. from a ConfigMap).
fn root_arguments(wf: &ResolvedWorkflow) -> crate::model::Arguments {
    let mut args = wf.spec.arguments.clone().unwrap_or_default();
    for p in args.parameters.iter_mut().flatten() {
        if p.value.is_none()
            && let Some((_, v)) = wf
                .parameters
                .iter()
                .find(|(n, _)| Some(n) == p.name.as_ref())
            && p.value_from.is_some()
        {
            p.value = Some(v.clone().into());
        }
    }
    args
}

/// Copies what the backend observed onto the Pod nodes it concerns.
fn apply_observations(nodes: &mut BTreeMap<String, NodeStatus>, obs: &Observations) {
    for (id, o) in &obs.steps {
        let Some(n) = nodes.get_mut(id) else { continue };
        if n.phase.is_some_and(NodePhase::fulfilled) {
            continue;
        }
        n.phase = Some(o.phase);
        if o.ip.is_some() {
            n.pod_ip = o.ip.clone();
        }
        if o.host_node_name.is_some() {
            n.host_node_name = o.host_node_name.clone();
        }
        if o.memo_hit
            && let Some(m) = n.memoization_status.as_mut()
        {
            m.hit = Some(true);
        }
        if o.phase == NodePhase::Running && o.daemoned {
            n.daemoned = Some(true);
        } else if o.phase.fulfilled() {
            n.daemoned = None;
        }
        if o.message.is_some() {
            n.message = o.message.clone();
        }
        if o.started_at.is_some() {
            n.started_at = o.started_at.clone();
        }
        if o.phase.fulfilled() {
            n.finished_at = o.finished_at.clone().or_else(|| n.started_at.clone());
            n.outputs = o.outputs.clone().or(n.outputs.take());
        }
    }
}

/// The strftime letters `workflow.creationTimestamp.<letter>` accepts (Argo's set), with the
/// chrono format each stands for.
const STRFTIME: [(char, &str); 16] = [
    ('B', "%B"),
    ('b', "%b"),
    ('m', "%m"),
    ('A', "%A"),
    ('a', "%a"),
    ('d', "%d"),
    ('H', "%H"),
    ('I', "%I"),
    ('M', "%M"),
    ('S', "%S"),
    ('Y', "%Y"),
    ('y', "%y"),
    ('p', "%p"),
    ('Z', "%Z"),
    ('z', "%z"),
    ('L', "%.3f"),
];

/// `workflow.*` variables.
fn globals(
    wf: &ResolvedWorkflow,
    status: &WorkflowStatus,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> BTreeMap<String, String> {
    let mut g = BTreeMap::new();
    g.insert("workflow.name".into(), wf.name.clone());
    g.insert("workflow.namespace".into(), wf.namespace.clone());
    g.insert("workflow.uid".into(), wf.uid.clone());
    g.insert(
        "workflow.mainEntrypoint".into(),
        wf.entrypoint().to_string(),
    );
    g.insert(
        "workflow.creationTimestamp".into(),
        wf.creation_timestamp.clone(),
    );
    if let Some(t) = parse_time(&wf.creation_timestamp) {
        g.insert("workflow.creationTimestamp.RFC3339".into(), format_time(t));
        g.insert(
            "workflow.creationTimestamp.s".into(),
            t.timestamp().to_string(),
        );
        for (c, fmt) in STRFTIME {
            g.insert(
                format!("workflow.creationTimestamp.{c}"),
                t.format(fmt).to_string(),
            );
        }
    }
    g.insert(
        "workflow.serviceAccountName".into(),
        wf.spec.service_account_name.clone().unwrap_or_default(),
    );
    g.insert(
        "workflow.priority".into(),
        wf.spec.priority.unwrap_or(0).to_string(),
    );
    let secs = (now - started).num_milliseconds() as f64 / 1000.0;
    g.insert("workflow.duration".into(), format!("{secs:.6}"));
    g.insert(
        "workflow.status".into(),
        status
            .phase
            .map(|p| p.as_str())
            .unwrap_or("Running")
            .to_string(),
    );
    if let Some(s) = wf.annotations.get("workflows.argoproj.io/scheduled-time") {
        g.insert("workflow.scheduledTime".into(), s.clone());
    }
    let mut all = Vec::new();
    for (k, v) in &wf.parameters {
        g.insert(format!("workflow.parameters.{k}"), v.clone());
        all.push(serde_json::json!({"name": k, "value": v}));
    }
    let all = serde_json::Value::Array(all).to_string();
    g.entry("workflow.parameters.json".into())
        .or_insert_with(|| all.clone());
    g.insert("workflow.parameters".into(), all);
    for (k, v) in &wf.labels {
        g.insert(format!("workflow.labels.{k}"), v.clone());
    }
    for (k, v) in &wf.annotations {
        g.insert(format!("workflow.annotations.{k}"), v.clone());
    }
    // `workflow.labels` / `workflow.annotations` (deprecated in Argo) are the `.json` forms.
    if let Ok(j) = serde_json::to_string(&wf.labels) {
        g.insert("workflow.labels.json".into(), j.clone());
        g.insert("workflow.labels".into(), j);
    }
    if let Ok(j) = serde_json::to_string(&wf.annotations) {
        g.insert("workflow.annotations.json".into(), j.clone());
        g.insert("workflow.annotations".into(), j);
    }
    g
}

/// `globalName` outputs of every node, later nodes winning: parameters and artifacts.
pub(crate) type GlobalOutputs = (
    BTreeMap<String, String>,
    BTreeMap<String, crate::model::Artifact>,
);

fn collect_global_outputs(nodes: &BTreeMap<String, NodeStatus>) -> GlobalOutputs {
    let mut params: Vec<(&str, &str, &str)> = Vec::new();
    let mut arts: Vec<(&str, &str, &crate::model::Artifact)> = Vec::new();
    for n in nodes.values() {
        let Some(o) = &n.outputs else { continue };
        let at = n.finished_at.as_deref().unwrap_or("");
        for p in o.parameters.iter().flatten() {
            if let (Some(g), Some(v)) = (&p.global_name, &p.value) {
                params.push((at, g, &v.0));
            }
        }
        for a in o.artifacts.iter().flatten() {
            if let Some(g) = &a.global_name {
                arts.push((at, g, a));
            }
        }
    }
    params.sort_by(|a, b| a.0.cmp(b.0));
    arts.sort_by(|a, b| a.0.cmp(b.0));
    (
        params
            .into_iter()
            .map(|(_, k, v)| (k.to_string(), v.to_string()))
            .collect(),
        arts.into_iter()
            .map(|(_, k, a)| (k.to_string(), a.clone()))
            .collect(),
    )
}

/// Copies the `globalName`s a step's template declares onto the outputs the backend observed.
fn label_global_outputs(ctx: &mut Ctx<'_>, obs: &Observations) {
    for id in obs.steps.keys() {
        let Some(n) = ctx.nodes.get(id) else { continue };
        let tmpl = ctx.called_template(
            &super::resolve::TemplateScope::Local,
            n.template_name.as_deref(),
            n.template_ref.as_ref(),
        );
        let Some(decl) = tmpl.as_ref().and_then(|t| t.outputs.clone()) else {
            continue;
        };
        let Some(out) = ctx.nodes.get_mut(id).and_then(|n| n.outputs.as_mut()) else {
            continue;
        };
        for p in out.parameters.iter_mut().flatten() {
            let d = decl.parameters.iter().flatten().find(|d| d.name == p.name);
            if let Some(g) = d.and_then(|d| d.global_name.clone()) {
                p.global_name = Some(g);
            }
        }
        for a in out.artifacts.iter_mut().flatten() {
            let d = decl.artifacts.iter().flatten().find(|d| d.name == a.name);
            if let Some(g) = d.and_then(|d| d.global_name.clone()) {
                a.global_name = Some(g);
            }
        }
    }
}

/// Under shutdown or past the deadline, asks the backend to stop every running step.
fn stop_halted_steps(ctx: &mut Ctx<'_>) {
    let Some(reason) = ctx.halt.clone() else {
        return;
    };
    let running: Vec<String> = ctx
        .nodes
        .values()
        .filter(|n| n.r#type == Some(NodeType::Pod) && !n.phase.is_some_and(NodePhase::fulfilled))
        .filter_map(|n| n.id.clone())
        .collect();
    for id in running {
        if ctx.phase(&id) == NodePhase::Pending {
            ctx.mark(&id, NodePhase::Failed, Some(reason.clone()));
            ctx.active_pods = ctx.active_pods.saturating_sub(1);
        } else {
            ctx.actions.push(Action::StopStep {
                node_id: id,
                reason: reason.clone(),
            });
        }
    }
    for n in ctx.nodes.values_mut() {
        if n.r#type == Some(NodeType::Suspend) && !n.phase.is_some_and(NodePhase::fulfilled) {
            n.phase = Some(NodePhase::Failed);
            n.message = Some(reason.clone());
            n.finished_at = Some(ctx.now_str.clone());
        }
    }
}

/// Runs `spec.onExit` (or the `exit` hook) once the entrypoint is done; returns the workflow's
/// final phase and message when everything is finished.
fn run_exit_handler(
    ctx: &mut Ctx<'_>,
    wf: &ResolvedWorkflow,
    root_phase: NodePhase,
) -> Option<(WorkflowPhase, Option<String>)> {
    let phase = match root_phase {
        NodePhase::Failed => WorkflowPhase::Failed,
        NodePhase::Error => WorkflowPhase::Error,
        _ => WorkflowPhase::Succeeded,
    };
    let root_msg = ctx.node_by_name(&wf.name).and_then(|n| n.message.clone());
    let message = match (failed_or_error(root_phase), ctx.shutdown) {
        (true, Some(s)) => Some(format!("Stopped with strategy '{}'", shutdown_name(s))),
        _ => root_msg,
    };
    let exit = wf
        .spec
        .hooks
        .as_ref()
        .and_then(|h| h.get("exit"))
        .and_then(|h| h.template.clone())
        .or_else(|| wf.spec.on_exit.clone());
    let Some(exit) = exit.filter(|_| ctx.shutdown != Some(Shutdown::Terminate)) else {
        return Some((phase, message));
    };
    let mut g = crate::expr::template::Scope::child(&ctx.globals);
    g.insert("workflow.status", phase.as_str());
    g.insert("workflow.failures", failures(ctx));
    ctx.globals = g.into_shared();
    let call = Call {
        node_name: format!("{}.onExit", wf.name),
        display_name: format!("{}.onExit", wf.name),
        template: Some(exit),
        template_ref: None,
        inline: None,
        scope: TemplateScope::Local,
        args: wf
            .spec
            .hooks
            .as_ref()
            .and_then(|h| h.get("exit"))
            .and_then(|h| h.arguments.clone())
            .unwrap_or_default(),
        boundary_id: None,
        name_var: None,
    };
    ctx.in_exit = true;
    let id = execute_template(ctx, &call)?;
    ctx.in_exit = false;
    let exit_phase = ctx.phase(&id);
    if !exit_phase.fulfilled() {
        return None;
    }
    let exit_msg = ctx.nodes.get(&id).and_then(|n| n.message.clone());
    Some(match (phase, exit_phase) {
        (WorkflowPhase::Succeeded, NodePhase::Failed) => (WorkflowPhase::Failed, exit_msg),
        (WorkflowPhase::Succeeded, NodePhase::Error) => (WorkflowPhase::Error, exit_msg),
        _ => (phase, message),
    })
}

/// `workflow.failures`: the failed nodes, as JSON.
fn failures(ctx: &Ctx<'_>) -> String {
    let list: Vec<serde_json::Value> = ctx
        .nodes
        .values()
        .filter(|n| n.phase.is_some_and(failed_or_error) && n.r#type == Some(NodeType::Pod))
        .map(|n| {
            serde_json::json!({
                "displayName": n.display_name, "message": n.message,
                "templateName": n.template_name, "phase": n.phase.map(|p| p.as_str()),
                "podName": super::node_pod_name(&ctx.wf.name, n),
                "finishedAt": n.finished_at,
            })
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// Writes nodes, progress and global outputs back into the status.
fn finish_status(status: &mut WorkflowStatus, mut ctx: Ctx<'_>) -> (WorkflowStatus, Vec<Action>) {
    let (mut done, mut total) = (0, 0);
    for n in ctx.nodes.values_mut() {
        if !n.r#type.is_some_and(NodeType::is_executable) {
            continue;
        }
        let complete = matches!(
            n.phase,
            Some(NodePhase::Succeeded | NodePhase::Skipped | NodePhase::Omitted)
        );
        let p = if complete { "1/1" } else { "0/1" };
        if n.progress.as_deref() != Some(p) {
            n.progress = Some(p.into());
        }
        total += 1;
        done += usize::from(complete);
    }
    let progress = format!("{done}/{total}");
    if let Some(root) = ctx.nodes.get_mut(&ctx.wf.name) {
        root.progress = Some(progress.clone());
    }
    status.progress = Some(progress);
    let (params, artifacts) = collect_global_outputs(&ctx.nodes);
    if !params.is_empty() {
        let params = params
            .into_iter()
            .map(|(k, v)| Parameter {
                name: Some(k),
                value: Some(v.into()),
                ..Default::default()
            })
            .collect();
        let outputs = status.outputs.get_or_insert_with(Outputs::default);
        outputs.parameters = Some(params);
    }
    if !artifacts.is_empty() {
        let list = artifacts
            .into_iter()
            .map(|(k, mut a)| {
                a.name = Some(k);
                a.global_name = None;
                a
            })
            .collect();
        let outputs = status.outputs.get_or_insert_with(Outputs::default);
        outputs.artifacts = Some(list);
    }
    let mut actions = std::mem::take(&mut ctx.actions);
    if let Some(at) = ctx
        .wake
        .filter(|_| !status.phase.is_some_and(|p| p.completed()))
    {
        actions.push(Action::WakeUpAt { at });
    }
    status.nodes = Some(ctx.nodes);
    (std::mem::take(status), actions)
}
