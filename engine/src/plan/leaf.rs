//! Leaf templates: steps that run (container, script, containerSet, data, http, resource,
//! plugin) and suspend.

use chrono::{DateTime, Duration, Utc};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::model::{MemoizationStatus, NodePhase, Outputs, Parameter, Template};

use super::scope::{Unresolved, Vars, render_model};
use super::walk::{Ctx, Found};
use super::{Action, Memo, StepLaunch, duration_of, parse_time, pod_name};

/// The variables a running step sees: workflow, inputs, `pod.name`, `retries`, output paths.
fn step_vars(ctx: &Ctx<'_>, id: &str, found: &Found, retries: Option<usize>) -> Vars {
    let tmpl = &*found.tmpl;
    let node = ctx.nodes.get(id);
    let mut v = ctx.body_vars(found, node.and_then(|n| n.inputs.as_ref()));
    let name = node.and_then(|n| n.name.clone()).unwrap_or_default();
    let tname = tmpl.name.clone().unwrap_or_default();
    v.insert("pod.name", pod_name(&ctx.wf.name, &name, &tname));
    if let Some(n) = retries {
        let previous = n
            .checked_sub(1)
            .and_then(|p| previous_attempt(ctx, &name, p));
        super::retry::add_last_retry_vars(&mut v, previous, "0");
    }
    v.insert("node.name", name);
    v.insert("retries", retries.unwrap_or(0).to_string());
    for p in tmpl
        .outputs
        .iter()
        .flat_map(|o| o.parameters.iter().flatten())
    {
        if let (Some(n), Some(path)) = (&p.name, p.value_from.as_ref().and_then(|f| f.path.clone()))
        {
            v.insert(format!("outputs.parameters.{n}.path"), path);
        }
    }
    for a in tmpl
        .outputs
        .iter()
        .flat_map(|o| o.artifacts.iter().flatten())
    {
        if let (Some(n), Some(path)) = (&a.name, &a.path) {
            v.insert(format!("outputs.artifacts.{n}.path"), path.clone());
        }
    }
    v
}

/// Attempt `p` of the retry node whose attempt `attempt_name` (`<retry node>(<n>)`) is.
fn previous_attempt<'c>(
    ctx: &'c Ctx<'_>,
    attempt_name: &str,
    p: usize,
) -> Option<&'c crate::model::NodeStatus> {
    let retry_name = attempt_name.rsplit_once('(')?.0;
    let id = super::ids::node_id(&ctx.wf.name, &format!("{retry_name}({p})"));
    ctx.nodes.get(&id)
}

/// Advances a step node: asks the backend to start it while it is Pending.
pub(crate) fn execute(ctx: &mut Ctx<'_>, id: &str, found: &Found, retries: Option<usize>) {
    if ctx.phase(id) != NodePhase::Pending {
        return;
    }
    let vars = step_vars(ctx, id, found, retries);
    let mut raw = (*found.tmpl).clone();
    // Metrics are rendered when the step ends (`{{duration}}`, `{{status}}`), not now.
    let metrics = raw.metrics.take();
    let mut tmpl = match render_model(&raw, &vars, Unresolved::Error) {
        Ok(t) => t,
        Err(e) => return ctx.mark(id, NodePhase::Error, Some(e)),
    };
    tmpl.metrics = metrics;
    if let Some(n) = ctx.nodes.get(id) {
        tmpl.inputs = n.inputs.clone().or(tmpl.inputs);
    }
    let deadline = match step_deadline(ctx, id, &tmpl) {
        Ok(d) => d,
        Err(e) => return ctx.mark(id, NodePhase::Error, Some(e)),
    };
    let locks = match super::sync::locks(
        tmpl.synchronization.as_ref(),
        &ctx.wf.namespace,
        &ctx.wf.semaphore_limits,
    ) {
        Ok(l) => l,
        Err(e) => return ctx.mark(id, NodePhase::Error, Some(e)),
    };
    let memo = match memo_of(&tmpl) {
        Ok(m) => m,
        Err(e) => return ctx.mark(id, NodePhase::Error, Some(e)),
    };
    if let (Some(m), Some(n)) = (&memo, ctx.nodes.get_mut(id)) {
        n.memoization_status = Some(MemoizationStatus {
            hit: Some(false),
            key: Some(m.key.clone()),
            cache_name: Some(m.cache.clone()),
        });
    }
    let name = ctx
        .nodes
        .get(id)
        .and_then(|n| n.name.clone())
        .unwrap_or_default();
    let launch = StepLaunch {
        memo,
        node_id: id.to_string(),
        pod_name: pod_name(&ctx.wf.name, &name, found.tmpl.name()),
        node_name: name,
        locks,
        template: tmpl,
        deadline,
    };
    ctx.actions.push(Action::StartStep(Box::new(launch)));
}

/// The cache entry of a `memoize` template (its fields already rendered).
fn memo_of(t: &Template) -> Result<Option<Memo>, String> {
    let Some(m) = &t.memoize else { return Ok(None) };
    let key = m.key.clone().filter(|k| !k.is_empty()).ok_or_else(|| {
        "memoize.key is empty: give the key the outputs are cached under".to_string()
    })?;
    let cache = m
        .cache
        .as_ref()
        .and_then(|c| c.config_map.as_ref())
        .map(|c| c.name.clone())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| "memoize.cache.configMap.name is empty: name the cache".to_string())?;
    let max_age_seconds = match &m.max_age {
        Some(a) => Some(
            duration_of(a)
                .map_err(|e| format!("memoize.maxAge \"{a}\": {e}"))?
                .num_seconds(),
        ),
        None => None,
    };
    Ok(Some(Memo {
        cache,
        key,
        max_age_seconds,
    }))
}

/// `activeDeadlineSeconds`/`timeout` of the template, capped by the workflow's deadline.
fn step_deadline(ctx: &Ctx<'_>, id: &str, t: &Template) -> Result<Option<DateTime<Utc>>, String> {
    let start = ctx
        .nodes
        .get(id)
        .and_then(|n| n.started_at.as_deref())
        .and_then(parse_time)
        .unwrap_or(ctx.now);
    let mut deadline = ctx.deadline;
    let mut cap = |d: Duration| {
        let d = start + d;
        deadline = Some(deadline.map_or(d, |x| x.min(d)));
    };
    match &t.active_deadline_seconds {
        Some(IntOrString::Int(i)) => cap(Duration::seconds(i64::from(*i))),
        Some(IntOrString::String(s)) => {
            cap(duration_of(s).map_err(|e| format!("activeDeadlineSeconds \"{s}\": {e}"))?)
        }
        None => {}
    }
    if let Some(t) = &t.timeout {
        cap(duration_of(t).map_err(|e| format!("timeout \"{t}\": {e}"))?);
    }
    Ok(deadline)
}

/// Advances a suspend node: succeeds when its `duration` has passed; otherwise waits to be
/// resumed (the API sets its phase and supplied outputs).
pub(crate) fn suspend(ctx: &mut Ctx<'_>, id: &str, found: &Found) {
    if ctx.phase(id).fulfilled() {
        return;
    }
    let Some(duration) = found.tmpl.suspend.as_ref().and_then(|s| s.duration.clone()) else {
        return;
    };
    let vars = ctx.body_vars(found, ctx.nodes.get(id).and_then(|n| n.inputs.as_ref()));
    let duration =
        super::scope::render(&duration, &vars, Unresolved::Error).and_then(|d| duration_of(&d));
    let wait = match duration {
        Ok(s) => s,
        Err(e) => return ctx.mark(id, NodePhase::Error, Some(format!("suspend duration: {e}"))),
    };
    let started = ctx
        .nodes
        .get(id)
        .and_then(|n| n.started_at.as_deref())
        .and_then(parse_time)
        .unwrap_or(ctx.now);
    let until = started + wait;
    if ctx.now >= until {
        let outputs = supplied_defaults(found.tmpl.outputs.as_ref());
        if let Some(n) = ctx.nodes.get_mut(id) {
            n.outputs = outputs;
        }
        ctx.mark(id, NodePhase::Succeeded, None);
    } else {
        ctx.wake_at(until);
    }
}

/// The outputs of a suspend node resumed without values: each supplied parameter's default.
pub fn supplied_defaults(outputs: Option<&Outputs>) -> Option<Outputs> {
    let params: Vec<Parameter> = outputs?
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| {
            let from = p.value_from.as_ref()?;
            let value = p.value.clone().or_else(|| from.default.clone())?;
            Some(Parameter {
                name: p.name.clone(),
                value: Some(value),
                ..Default::default()
            })
        })
        .collect();
    (!params.is_empty()).then(|| Outputs {
        parameters: Some(params),
        ..Default::default()
    })
}
