//! One reconcile of one workflow as a pure function: from the Workflow object, its Pods and task
//! results, to the status to write and the requests to make ([`Decision`]).
//!
//! Order of effects (performed by [`super::reconcile`]): the status first (with the object's
//! `resourceVersion`, so a reconcile working from a stale copy fails with a conflict and changes
//! nothing), then Pod creations (idempotent names: a Pod that already exists is adopted), stops,
//! and Pod deletions (garbage collection of Pods of nodes the written status says are done).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use engine::model::{NodePhase, NodeType, Workflow, WorkflowPhase, WorkflowStatus};
use engine::plan::{Action, Observations, StepObservation, TemplateSource};
use k8s_openapi::api::core::v1::Pod;

use super::compress;
use super::observe::{self, Reported};
use super::pod::{self, ANNOTATION_NODE_ID, Owner, PodConfig};

/// How many times the engine is asked again within one reconcile when steps fail to launch
/// (each failure is an observation the next plan reacts to, e.g. with a retry).
const MAX_REPLANS: usize = 20;

/// Settings of the decision that do not change between reconciles.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How step Pods are built.
    pub pod: PodConfig,
    /// The largest workflow object written with plain `status.nodes`.
    pub max_workflow_size: usize,
    /// Where node status too large for the object even compressed is offloaded (Argo's
    /// offloading; `--database-url`); without it such a workflow ends in Error.
    pub offload: Option<crate::store::SqlStore>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            pod: PodConfig::default(),
            max_workflow_size: compress::MAX_WORKFLOW_SIZE,
            offload: None,
        }
    }
}

/// What one reconcile reads.
pub struct Inputs<'a> {
    /// The Workflow object as the API returned it (JSON).
    pub object: &'a serde_json::Value,
    /// The workflow's Pods (label `workflows.argoproj.io/workflow`).
    pub pods: &'a [Arc<Pod>],
    /// Its task results, by node ID.
    pub results: &'a BTreeMap<String, Reported>,
    /// WorkflowTemplates and ClusterWorkflowTemplates for `templateRef`s.
    pub templates: &'a dyn TemplateSource,
    /// Steps whose Pod the API refused to create, by node ID, with the API's message.
    pub refused: &'a BTreeMap<String, String>,
    /// The settings.
    pub settings: &'a Settings,
    /// Now.
    pub now: DateTime<Utc>,
}

/// What one reconcile does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// The status to write (`None`: unchanged).
    pub status: Option<WorkflowStatus>,
    /// Pods to create.
    pub create: Vec<Pod>,
    /// Pods to stop (their `activeDeadlineSeconds` is cut short, so the kubelet stops them and
    /// exec reports what ran).
    pub stop: Vec<String>,
    /// Pods to delete (`podGC`).
    pub delete_pods: Vec<String>,
    /// Delete the workflow itself (`ttlStrategy` ran out).
    pub delete_workflow: bool,
    /// Reconcile again at this time even if nothing changes.
    pub requeue_at: Option<DateTime<Utc>>,
    /// Nodes to store in the database before the status (which names their version) is written.
    pub offload: Option<compress::Offloaded>,
}

/// Decides one reconcile.
pub fn decide(input: &Inputs<'_>) -> Decision {
    let wf: Workflow = match serde_json::from_value(input.object.clone()) {
        Ok(wf) => wf,
        Err(e) => return invalid(input, format!("cannot read the workflow: {e}")),
    };
    let old = wf.status.clone().unwrap_or_default();
    if old.phase.is_some_and(|p| p.completed()) {
        return finished(&wf, input);
    }
    if (old.phase.is_none() || old.phase == Some(WorkflowPhase::Pending))
        && let Some(message) = misspelt(input.object)
    {
        return invalid(input, message);
    }
    let mut status = old.clone();
    if let Err(message) = compress::decompress(&mut status) {
        return invalid(input, message);
    }
    let before = status.clone();
    let mut wf = wf;
    wf.status = None;
    let resolved = match engine::plan::resolve(&wf, input.templates) {
        Ok(r) => r,
        Err(e) => return invalid(input, e.to_string()),
    };
    let owner = Owner {
        name: resolved.name.clone(),
        namespace: resolved.namespace.clone(),
        uid: resolved.uid.clone(),
    };
    let pods_by_node: BTreeMap<&str, &Pod> = input
        .pods
        .iter()
        .filter_map(|p| Some((node_of(p)?, p.as_ref())))
        .collect();
    let mut obs = observe_all(&status, &pods_by_node, input);
    let mut decision = Decision::default();
    let mut actions;
    let mut rounds = 0;
    let mut unstarted: Vec<String> = Vec::new();
    loop {
        (status, actions) = engine::plan::plan(&resolved, status, &obs, input.now);
        let mut failed = BTreeMap::new();
        unstarted.clear();
        decision.create.clear();
        decision.stop.clear();
        decision.requeue_at = None;
        for action in &actions {
            match action {
                Action::StartStep(l) => {
                    if pods_by_node.contains_key(l.node_id.as_str())
                        || obs.steps.contains_key(&l.node_id)
                    {
                        continue;
                    }
                    match launchable(l).and_then(|()| {
                        pod::build_pod(l, &owner, &resolved.spec, &input.settings.pod, input.now)
                    }) {
                        Ok(p) => decision.create.push(p),
                        Err(message) => {
                            failed.insert(l.node_id.clone(), error_obs(message, input.now));
                        }
                    }
                }
                Action::StopStep { node_id, reason } => match pods_by_node.get(node_id.as_str()) {
                    Some(p) if !observe::ended(p) && !started(p) => {
                        unstarted.push(p.metadata.name.clone().unwrap_or_default());
                        failed.insert(node_id.clone(), stopped_obs(reason, input.now));
                    }
                    Some(p) if !observe::ended(p) => {
                        if p.spec.as_ref().and_then(|s| s.active_deadline_seconds) != Some(1) {
                            decision
                                .stop
                                .push(p.metadata.name.clone().unwrap_or_default());
                        }
                    }
                    Some(_) => {}
                    None => {
                        failed.insert(node_id.clone(), stopped_obs(reason, input.now));
                    }
                },
                Action::WakeUpAt { at } => {
                    decision.requeue_at = Some(decision.requeue_at.map_or(*at, |w| w.min(*at)));
                }
            }
        }
        rounds += 1;
        if failed.is_empty() || rounds >= MAX_REPLANS {
            break;
        }
        obs.steps.extend(failed);
    }
    if status != before {
        let (status, offload) = fit(status, input);
        decision.status = Some(status);
        decision.offload = offload;
    }
    decision.delete_pods = collect_pods(&wf, decision.status.as_ref().unwrap_or(&before), input);
    for name in unstarted {
        if !decision.delete_pods.contains(&name) {
            decision.delete_pods.push(name);
        }
    }
    decision
}

/// The API object's size with this status, then the status that fits (and the nodes to
/// offload, when they must be and may be).
fn fit(
    status: WorkflowStatus,
    input: &Inputs<'_>,
) -> (WorkflowStatus, Option<compress::Offloaded>) {
    let mut object = input.object.clone();
    object["status"] = serde_json::to_value(&status).unwrap_or_default();
    let size = serde_json::to_vec(&object).map_or(0, |v| v.len());
    let limit = input.settings.max_workflow_size;
    match compress::place(
        status.clone(),
        size,
        limit,
        input.settings.offload.is_some(),
    ) {
        Ok(placed) => placed,
        Err(e) => (
            WorkflowStatus {
                phase: Some(WorkflowPhase::Error),
                message: Some(format!(
                    "{e}; use fewer nodes per workflow (e.g. split it with templateRef to separate workflows), or give the controller a database to offload node status to (--database-url)"
                )),
                finished_at: Some(engine::plan::format_time(input.now)),
                nodes: None,
                compressed_nodes: None,
                ..status
            },
            None,
        ),
    }
}

/// Steps the Kubernetes backend cannot run yet, with why.
fn launchable(l: &engine::plan::StepLaunch) -> Result<(), String> {
    if !l.locks.is_empty() {
        return Err(format!(
            "template \"{}\" uses synchronization: the Kubernetes backend does not hold mutexes or semaphores yet",
            l.template.name()
        ));
    }
    if l.template.data.is_some() || l.template.plugin.is_some() {
        return Err(format!(
            "template \"{}\" is a data or plugin template: the Kubernetes backend does not run those yet",
            l.template.name()
        ));
    }
    Ok(())
}

/// A step stopped before it ran: Failed with the plan's reason.
fn stopped_obs(reason: &str, now: DateTime<Utc>) -> StepObservation {
    StepObservation {
        phase: NodePhase::Failed,
        ..error_obs(reason.to_string(), now)
    }
}

fn error_obs(message: String, now: DateTime<Utc>) -> StepObservation {
    StepObservation {
        phase: NodePhase::Error,
        message: Some(message),
        finished_at: Some(engine::plan::format_time(now)),
        ..StepObservation::default()
    }
}

/// Whether a kubelet has started the Pod (it has a start time).
fn started(pod: &Pod) -> bool {
    pod.status.as_ref().is_some_and(|s| s.start_time.is_some())
}

/// The node a Pod runs (annotation `workflows.argoproj.io/node-id`).
pub fn node_of(pod: &Pod) -> Option<&str> {
    pod.metadata
        .annotations
        .as_ref()?
        .get(ANNOTATION_NODE_ID)
        .map(String::as_str)
}

/// What the Pods and task results of the unfinished Pod nodes say.
fn observe_all(
    status: &WorkflowStatus,
    pods: &BTreeMap<&str, &Pod>,
    input: &Inputs<'_>,
) -> Observations {
    let mut obs = Observations::default();
    for (id, node) in status.nodes.iter().flatten() {
        if !matches!(node.r#type, Some(NodeType::Pod | NodeType::Http))
            || node.phase.is_some_and(|p| p.fulfilled())
        {
            continue;
        }
        if let Some(message) = input.refused.get(id) {
            obs.steps
                .insert(id.clone(), error_obs(message.clone(), input.now));
            continue;
        }
        let started = node.phase == Some(NodePhase::Running);
        let seen = observe::observe(
            pods.get(id.as_str()).copied(),
            input.results.get(id),
            started,
            input.now,
        );
        if let Some(o) = seen {
            obs.steps.insert(id.clone(), o);
        }
    }
    obs
}

/// A workflow that cannot run: Error with the message, once.
fn invalid(input: &Inputs<'_>, message: String) -> Decision {
    let current: Option<WorkflowStatus> = input
        .object
        .get("status")
        .and_then(|s| serde_json::from_value(s.clone()).ok());
    let current = current.unwrap_or_default();
    if current.phase == Some(WorkflowPhase::Error) && current.message.as_deref() == Some(&message) {
        return Decision::default();
    }
    let now = engine::plan::format_time(input.now);
    Decision {
        status: Some(WorkflowStatus {
            phase: Some(WorkflowPhase::Error),
            message: Some(message),
            started_at: current.started_at.clone().or_else(|| Some(now.clone())),
            finished_at: Some(now),
            ..current
        }),
        ..Decision::default()
    }
}

/// The first misspelt key of the object (Argo ignores them silently; Trellis refuses to run).
fn misspelt(object: &serde_json::Value) -> Option<String> {
    let mut clean = object.clone();
    if let Some(map) = clean.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = clean.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
    }
    let text = serde_json::to_string(&clean).ok()?;
    let files = engine::lint::check(&[engine::lint::Source {
        name: "workflow",
        text: &text,
    }]);
    files
        .iter()
        .flat_map(|f| &f.diagnostics)
        .find(|d| d.is_error() && d.code == "unknown-field")
        .map(|d| match &d.help {
            Some(help) => format!("{} at {} ({help})", d.message, d.path),
            None => format!("{} at {}", d.message, d.path),
        })
}

/// A finished workflow: garbage-collect its Pods, delete it when its TTL has run out.
fn finished(wf: &Workflow, input: &Inputs<'_>) -> Decision {
    let status = wf.status.clone().unwrap_or_default();
    // What still runs (daemons whose scope ended with the workflow) is stopped; what never
    // started is deleted.
    let live: Vec<&Arc<Pod>> = input
        .pods
        .iter()
        .filter(|p| !observe::ended(p) && p.metadata.deletion_timestamp.is_none())
        .collect();
    let stop = live
        .iter()
        .filter(|p| started(p))
        .filter(|p| p.spec.as_ref().and_then(|s| s.active_deadline_seconds) != Some(1))
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    let mut delete_pods = collect_pods(wf, &status, input);
    for p in live.iter().filter(|p| !started(p)) {
        let name = p.metadata.name.clone().unwrap_or_default();
        if !delete_pods.contains(&name) {
            delete_pods.push(name);
        }
    }
    let mut decision = Decision {
        delete_pods,
        stop,
        ..Decision::default()
    };
    if let Some(at) = engine::lifecycle::expires_at(wf) {
        if at <= input.now {
            decision.delete_workflow = true;
        } else {
            decision.requeue_at = Some(at);
        }
    }
    decision
}

/// The Pods `spec.podGC` says to delete now, given the status as written.
fn collect_pods(wf: &Workflow, status: &WorkflowStatus, input: &Inputs<'_>) -> Vec<String> {
    let Some(gc) = wf.spec.as_ref().and_then(|s| s.pod_gc.as_ref()) else {
        return Vec::new();
    };
    let strategy = gc.strategy.as_deref().unwrap_or("");
    let wf_phase = status.phase.unwrap_or_default();
    let node_phase = |pod: &Pod| {
        let id = node_of(pod)?;
        status.nodes.as_ref()?.get(id)?.phase
    };
    let wanted = gc
        .label_selector
        .as_ref()
        .and_then(|s| s.match_labels.clone())
        .unwrap_or_default();
    input
        .pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            let labels = p.metadata.labels.clone().unwrap_or_default();
            wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
        })
        .filter(|p| match strategy {
            "OnPodCompletion" => node_phase(p).is_some_and(|ph| ph.fulfilled()),
            "OnPodSuccess" => node_phase(p) == Some(NodePhase::Succeeded),
            "OnWorkflowCompletion" => wf_phase.completed(),
            "OnWorkflowSuccess" => wf_phase == WorkflowPhase::Succeeded,
            _ => false,
        })
        .filter_map(|p| p.metadata.name.clone())
        .collect()
}

#[cfg(test)]
mod tests;
