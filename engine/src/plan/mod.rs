//! The scheduler as a pure function: `plan(workflow, status, observations, now)`.
//!
//! [`plan`] walks the workflow from its entrypoint the way Argo's controller does on every
//! reconcile: nodes that exist and are finished are kept; the others are advanced as far as the
//! observations allow; new nodes are created for what may start now. It returns the next status
//! and the [`Action`]s a backend must perform (start a step, stop one, wake up later). It never
//! blocks, reads a clock or touches I/O, so every rule is unit-tested with a YAML workflow and a
//! sequence of observations (see `engine/tests/plan_*.rs`).
//!
//! Node IDs, names, types, phases, `boundaryID`, `children` and `outboundNodes` follow Argo's model
//! (DESIGN §7): a step `hello` in the first group of the root is named `wf[0].hello`, a DAG task
//! `wf.A`, a loop child `wf[0].print(1:b)`, a retry attempt `wf[0].flaky(2)`, an exit handler
//! `wf.onExit`.

mod args;
mod dag;
mod hooks;
mod ids;
mod leaf;
mod loops;
mod nodes;
mod outputs;
mod resolve;
mod retry;
mod scope;
mod steps;
mod sync;
mod walk;
mod workflow;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{NodePhase, Outputs, Template, WorkflowStatus};

pub use ids::{node_id, node_pod_name, pod_name};
pub use leaf::supplied_defaults;
pub use resolve::{ResolveError, ResolvedWorkflow, TemplateScope, TemplateSource, resolve};
pub use scope::Vars;
pub use sync::workflow_locks;

/// What the backend has seen of the steps it runs since the last plan, by node ID.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observations {
    /// The latest known state of each started step (Pod node), by node ID.
    pub steps: BTreeMap<String, StepObservation>,
}

/// The state of one step as its backend reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepObservation {
    /// Running while the process lives; Succeeded, Failed or Error once it ended.
    pub phase: NodePhase,
    /// A message for humans, e.g. `Error (exit code 1)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the step started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When the step ended (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// What the step produced: `result`, parameters, artifacts, `exitCode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Outputs>,
    /// A daemon step (`daemon: true`) is up and its readiness probe passed: the steps after it
    /// may start while it runs on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub daemoned: bool,
    /// The address other steps reach the step at (`{{steps.NAME.ip}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The machine (Kubernetes: the node) the step runs on (`{{steps.NAME.hostNodeName}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_node_name: Option<String>,
    /// The step did not run: its outputs come from its memoization cache.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub memo_hit: bool,
}

impl Default for StepObservation {
    /// Nothing observed yet: Pending, no times, no outputs (set what is known with struct update
    /// syntax).
    fn default() -> Self {
        Self {
            phase: NodePhase::Pending,
            message: None,
            started_at: None,
            finished_at: None,
            outputs: None,
            daemoned: false,
            ip: None,
            host_node_name: None,
            memo_hit: false,
        }
    }
}

/// A thing the backend must do so that the status the plan returned becomes true.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Action {
    /// Start the step of a Pod node. Emitted for every Pending Pod node on every plan, so it is
    /// never lost across a crash; the backend starts each node attempt at most once.
    StartStep(Box<StepLaunch>),
    /// Stop a running step (shutdown, deadline, a failed sibling under `failFast`).
    StopStep {
        /// The Pod node to stop.
        node_id: String,
        /// Why, for the node's message.
        reason: String,
    },
    /// Plan again at this time even if nothing is observed (suspend durations, backoffs,
    /// deadlines).
    WakeUpAt {
        /// When.
        at: DateTime<Utc>,
    },
}

/// Everything a backend needs to run one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepLaunch {
    /// The Pod node's ID.
    pub node_id: String,
    /// The Pod node's name (`wf[0].hello`).
    pub node_name: String,
    /// Argo's pod name for the node (format v2).
    pub pod_name: String,
    /// The template with every `{{…}}` of its inputs substituted and its inputs filled in.
    pub template: Template,
    /// Stop the step when it runs past this time (`activeDeadlineSeconds`, `timeout`, or the
    /// workflow's deadline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    /// Mutex and semaphore keys the step must hold while it runs (`synchronization`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locks: Vec<Lock>,
    /// The cache entry that may stand in for running the step (`memoize`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<Memo>,
}

/// Where a memoized step's outputs are cached: the backend looks the entry up before starting
/// the step (a fresh entry is a hit: the step does not run) and stores the outputs of a step
/// that succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memo {
    /// `memoize.cache.configMap.name`.
    pub cache: String,
    /// `memoize.key`, rendered.
    pub key: String,
    /// `memoize.maxAge` in seconds: older entries are ignored (`None`: any age).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<i64>,
}

/// A named lock a step or workflow holds while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lock {
    /// `namespace/mutex/name` or `namespace/semaphore/configmap/key`.
    pub key: String,
    /// How many holders at most (1 for a mutex).
    pub limit: u32,
}

/// Why a workflow cannot be planned at all (its status then says so and it ends in Error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A template, parameter or reference the workflow needs is missing or wrong.
    #[error("{0}")]
    Invalid(String),
}

/// Decides the next status of a workflow and the actions that make it true.
///
/// `status` is taken by value and returned updated, so that a 10,000-node workflow is not copied
/// on every event. `now` is the only notion of time.
pub fn plan(
    wf: &ResolvedWorkflow,
    status: WorkflowStatus,
    observations: &Observations,
    now: DateTime<Utc>,
) -> (WorkflowStatus, Vec<Action>) {
    workflow::plan_workflow(wf, status, observations, now)
}

/// Formats a time the way Argo writes it in a status (`2024-01-02T03:04:05Z`).
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Reads a time written by [`format_time`] (any RFC 3339 time is accepted).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    crate::progress::parse_timestamp(s).ok()
}

/// Reads a duration given as seconds (`30`) or Go syntax (`1m30s`).
pub fn duration_of(text: &str) -> Result<chrono::Duration, String> {
    let nanos = crate::values::parse_seconds_or_duration(text.trim())?;
    let capped = nanos.clamp(0, i128::from(i64::MAX / 4));
    Ok(chrono::Duration::nanoseconds(capped as i64))
}
