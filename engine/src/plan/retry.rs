//! `retryStrategy`: a Retry node whose children are the attempts `name(0)`, `name(1)`, ….

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::model::{NodePhase, NodeStatus, NodeType, RetryStrategy, Template};

use super::nodes::{NewNode, failed_or_error};
use super::scope::Vars;
use super::walk::{Call, Ctx, Found, execute_plain};
use super::{args, parse_time};

/// The retry strategy that applies to a template (its own, else the workflow's), if any.
pub(crate) fn strategy(ctx: &Ctx<'_>, tmpl: &Template) -> Option<RetryStrategy> {
    if matches!(
        super::walk::node_type_of(tmpl),
        NodeType::Suspend | NodeType::Steps | NodeType::Dag
    ) && tmpl.retry_strategy.is_none()
    {
        return None;
    }
    tmpl.retry_strategy
        .clone()
        .or_else(|| ctx.wf.spec.retry_strategy.clone())
}

fn limit(s: &RetryStrategy) -> Option<i64> {
    match &s.limit {
        Some(IntOrString::Int(i)) => Some(i64::from(*i)),
        Some(IntOrString::String(v)) => v.trim().parse().ok(),
        None => None,
    }
}

/// Whether an attempt that ended in `phase` may be retried under the policy.
fn policy_allows(s: &RetryStrategy, phase: NodePhase, message: &str) -> bool {
    match s.retry_policy.as_deref().unwrap_or("OnFailure") {
        "Always" => true,
        "OnError" => phase == NodePhase::Error,
        "OnTransientError" => {
            phase == NodePhase::Error
                || message.contains("transient")
                || message.contains("vanished")
        }
        _ => phase == NodePhase::Failed,
    }
}

/// Advances a Retry node: runs the next attempt when the last one failed and the strategy
/// allows, waiting out the backoff first.
pub(crate) fn execute(
    ctx: &mut Ctx<'_>,
    call: &Call,
    found: &Found,
    s: &RetryStrategy,
) -> Option<String> {
    let id = super::ids::node_id(&ctx.wf.name, &call.node_name);
    if !ctx.nodes.contains_key(&id) {
        if let Some(reason) = ctx.halt.clone().filter(|_| !ctx.in_exit) {
            let id = super::walk::error_node(ctx, call, reason.clone());
            ctx.mark(&id, NodePhase::Failed, Some(reason));
            return Some(id);
        }
        let inputs = match args::process_inputs(ctx, &found.tmpl, &call.args) {
            Ok(i) => i,
            Err(e) => return Some(super::walk::error_node(ctx, call, e)),
        };
        ctx.create_node(NewNode {
            name: &call.node_name,
            display_name: &call.display_name,
            node_type: NodeType::Retry,
            template_name: call.template.as_deref().or(found.tmpl.name.as_deref()),
            template_ref: call.template_ref.clone(),
            boundary_id: call.boundary_id.as_deref(),
            phase: NodePhase::Running,
            inputs,
            message: None,
        });
    }
    let children = ctx.nodes[&id].children.clone().unwrap_or_default();
    let attempt = match children.last() {
        None => 0,
        Some(last) => match decide(ctx, &id, &children, last, s) {
            Next::Wait => {
                let n = children.len() - 1;
                run_attempt(ctx, call, found, &id, n);
                return Some(id);
            }
            Next::Done => return Some(id),
            Next::Backoff => return Some(id),
            Next::Retry => children.len(),
        },
    };
    run_attempt(ctx, call, found, &id, attempt);
    Some(id)
}

fn run_attempt(ctx: &mut Ctx<'_>, call: &Call, found: &Found, retry_id: &str, n: usize) {
    let mut attempt = call.clone();
    attempt.node_name = format!("{}({n})", call.node_name);
    attempt.display_name = format!("{}({n})", call.display_name);
    attempt.args = inputs_as_args(ctx, retry_id);
    if let Some(child) = execute_plain(ctx, &attempt, found, Some(n)) {
        ctx.add_child(retry_id, &child);
        if let Some(c) = ctx.nodes.get_mut(&child) {
            c.node_flag = Some(crate::model::NodeFlag {
                retried: Some(true),
                ..Default::default()
            });
        }
        let phase = ctx.phase(&child);
        if phase.fulfilled() {
            // A synchronous attempt (e.g. an error before start) is judged on the next pass.
            ctx.wake_at(ctx.now);
        }
    }
}

/// The retry node's inputs, handed to each attempt as its arguments.
fn inputs_as_args(ctx: &Ctx<'_>, retry_id: &str) -> crate::model::Arguments {
    let inputs = ctx.nodes.get(retry_id).and_then(|n| n.inputs.clone());
    crate::model::Arguments {
        parameters: inputs.as_ref().and_then(|i| i.parameters.clone()),
        artifacts: inputs.and_then(|i| {
            i.artifacts.map(|a| {
                a.into_iter()
                    .map(|mut x| {
                        if !args::has_location(&x) {
                            x.optional = Some(true);
                        }
                        x
                    })
                    .collect()
            })
        }),
    }
}

enum Next {
    Wait,
    Done,
    Backoff,
    Retry,
}

fn decide(ctx: &mut Ctx<'_>, id: &str, children: &[String], last: &str, s: &RetryStrategy) -> Next {
    let (phase, message, outputs, finished) = match ctx.nodes.get(last) {
        Some(n) => (
            n.phase.unwrap_or(NodePhase::Pending),
            n.message.clone().unwrap_or_default(),
            n.outputs.clone(),
            n.finished_at.as_deref().and_then(parse_time),
        ),
        None => return Next::Wait,
    };
    if !phase.fulfilled() {
        if ctx.daemoned(last) {
            // The attempt is a daemon that is up: so is the retry node (Argo copies the flag).
            let ip = ctx.nodes.get(last).and_then(|n| n.pod_ip.clone());
            if let Some(n) = ctx.nodes.get_mut(id) {
                n.daemoned = Some(true);
                n.pod_ip = ip;
            }
        }
        return Next::Wait;
    }
    if !failed_or_error(phase) {
        if let Some(n) = ctx.nodes.get_mut(id) {
            n.outputs = outputs;
        }
        ctx.mark(id, NodePhase::Succeeded, None);
        return Next::Done;
    }
    let give_up = |ctx: &mut Ctx<'_>, msg: String| {
        ctx.mark(id, phase, Some(msg));
        Next::Done
    };
    if ctx.halt.is_some() && !ctx.in_exit {
        return give_up(ctx, message);
    }
    let attempts = children.len() as i64;
    if limit(s).is_some_and(|l| attempts > l) || !policy_allows(s, phase, &message) {
        let msg = if message.is_empty() {
            format!("No more retries left ({} attempts)", attempts)
        } else {
            message
        };
        return give_up(ctx, msg);
    }
    if let Some(expr) = &s.expression
        && !expression_allows(ctx, last, expr)
    {
        return give_up(ctx, message);
    }
    backoff(ctx, id, children, finished, s)
}

fn expression_allows(ctx: &Ctx<'_>, last: &str, expr: &str) -> bool {
    let mut vars = ctx.base_vars();
    if let Some(n) = ctx.nodes.get(last) {
        add_last_retry_vars(&mut vars, Some(n), "-1");
    }
    matches!(
        super::scope::eval_expr(expr, &vars),
        Ok(serde_json::Value::Bool(true))
    )
}

/// Adds `lastRetry.exitCode`, `.status`, `.message` and `.duration` (seconds) of the previous
/// attempt; on the first attempt (`None`) they are Argo's defaults: `0`, empty, empty, `0`.
/// `no_exit` is the exit code of an attempt that has none.
pub(crate) fn add_last_retry_vars(vars: &mut Vars, last: Option<&NodeStatus>, no_exit: &str) {
    let Some(n) = last else {
        vars.insert("lastRetry.exitCode", "0");
        vars.insert("lastRetry.status", "");
        vars.insert("lastRetry.message", "");
        vars.insert("lastRetry.duration", "0");
        return;
    };
    let exit = n
        .outputs
        .as_ref()
        .and_then(|o| o.exit_code.clone())
        .unwrap_or_else(|| no_exit.into());
    vars.insert("lastRetry.exitCode", exit);
    vars.insert(
        "lastRetry.status",
        n.phase.map(|p| p.as_str()).unwrap_or(""),
    );
    vars.insert("lastRetry.message", n.message.clone().unwrap_or_default());
    let secs = match (
        n.started_at.as_deref().and_then(parse_time),
        n.finished_at.as_deref().and_then(parse_time),
    ) {
        (Some(a), Some(b)) => (b - a).num_milliseconds() as f64 / 1000.0,
        _ => 0.0,
    };
    vars.insert("lastRetry.duration", secs.to_string());
}

fn backoff(
    ctx: &mut Ctx<'_>,
    id: &str,
    children: &[String],
    finished: Option<chrono::DateTime<chrono::Utc>>,
    s: &RetryStrategy,
) -> Next {
    let Some(b) = &s.backoff else {
        return Next::Retry;
    };
    let parse = |d: &Option<String>| d.as_deref().and_then(|d| super::duration_of(d).ok());
    let base = parse(&b.duration).unwrap_or_default();
    let factor = match &b.factor {
        Some(IntOrString::Int(f)) => i128::from(*f),
        Some(IntOrString::String(f)) => f.parse().unwrap_or(1),
        None => 1,
    }
    .max(1);
    let n = children.len().saturating_sub(1) as u32;
    let mult = factor.saturating_pow(n.min(60)).min(1 << 20) as i32;
    let mut wait = base * mult;
    if let Some(cap) = parse(&b.cap) {
        wait = wait.min(cap);
    }
    let finished = finished.unwrap_or(ctx.now);
    if let Some(max) = parse(&b.max_duration) {
        let first = children
            .first()
            .and_then(|c| ctx.nodes.get(c))
            .and_then(|n| n.started_at.as_deref())
            .and_then(parse_time)
            .unwrap_or(finished);
        let limit = first + max;
        if ctx.now >= limit || finished + wait > limit {
            let phase = ctx.phase(children.last().map(String::as_str).unwrap_or(id));
            ctx.mark(id, phase, Some("Max duration limit exceeded".into()));
            return Next::Done;
        }
    }
    if ctx.now < finished + wait {
        ctx.wake_at(finished + wait);
        let secs = wait.num_seconds();
        if let Some(n) = ctx.nodes.get_mut(id) {
            n.message = Some(format!("Backoff for {secs} seconds"));
        }
        return Next::Backoff;
    }
    if let Some(n) = ctx.nodes.get_mut(id) {
        n.message = None;
    }
    Next::Retry
}
