//! What the engine learns from a step's Pod and its `WorkflowTaskResult`, as pure functions.
//!
//! The task result (written by `trellis exec` inside the Pod when the command has ended) is the
//! source of the outputs, the phase and the message. The Pod tells what happens before and
//! around that: scheduling and image pulls (Pending, with the kubelet's reason as the message),
//! Running, and endings exec could not report (killed for memory, evicted, deadline exceeded,
//! deleted).

use chrono::{DateTime, Utc};
use engine::model::{NodePhase, Outputs};
use engine::plan::StepObservation;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use serde::{Deserialize, Serialize};

/// Label set on a task result once it holds the step's final outputs (Argo's).
pub const LABEL_REPORT_COMPLETED: &str = "workflows.argoproj.io/report-outputs-completed";
/// Annotation of a task result: when the command started (RFC 3339).
pub const ANNOTATION_STARTED: &str = "trellis.dev/started-at";
/// Annotation of a task result: when the command ended (RFC 3339).
pub const ANNOTATION_FINISHED: &str = "trellis.dev/finished-at";

/// How long a Pod may have ended without its task result before the step is given up as Error.
pub const REPORT_GRACE_SECONDS: i64 = 60;

/// The body of a `WorkflowTaskResult` besides its metadata (Argo's fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    /// The step's outputs: `result`, parameters, `exitCode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Outputs>,
    /// The node phase exec decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<NodePhase>,
    /// The message for a step that did not succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `done/total`, when the step reports progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
}

/// A task result as the controller reads it: its body and the times from its annotations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reported {
    /// The body.
    pub result: TaskResult,
    /// Whether it is final (label [`LABEL_REPORT_COMPLETED`] = `"true"`).
    pub completed: bool,
    /// [`ANNOTATION_STARTED`].
    pub started_at: Option<String>,
    /// [`ANNOTATION_FINISHED`].
    pub finished_at: Option<String>,
}

impl Reported {
    /// Reads a task result object (`metadata` + body) as JSON.
    pub fn from_object(object: &serde_json::Value) -> Result<Self, String> {
        let result: TaskResult = serde_json::from_value(object.clone())
            .map_err(|e| format!("the step's task result is not valid: {e}"))?;
        let meta = &object["metadata"];
        let annotation = |k: &str| meta["annotations"][k].as_str().map(str::to_string);
        Ok(Self {
            result,
            completed: meta["labels"][LABEL_REPORT_COMPLETED].as_str() == Some("true"),
            started_at: annotation(ANNOTATION_STARTED),
            finished_at: annotation(ANNOTATION_FINISHED),
        })
    }
}

/// The observation of a step from its Pod (absent: not seen) and its task result; `None` when
/// there is nothing new to tell the engine (no Pod yet).
///
/// `started` says whether the engine already saw the step running: a Pod that vanished after
/// that is an Error, one never seen is simply created (again).
pub fn observe(
    pod: Option<&Pod>,
    reported: Option<&Reported>,
    started: bool,
    now: DateTime<Utc>,
) -> Option<StepObservation> {
    if let Some(r) = reported.filter(|r| r.completed) {
        return Some(from_report(r, pod));
    }
    let Some(pod) = pod else {
        return started.then(|| StepObservation {
            phase: NodePhase::Error,
            message: Some("pod deleted".into()),
            finished_at: Some(engine::plan::format_time(now)),
            ..StepObservation::default()
        });
    };
    if pod.metadata.deletion_timestamp.is_some() && !ended(pod) {
        return Some(StepObservation {
            phase: NodePhase::Error,
            message: Some("pod deleted".into()),
            started_at: started_at(pod),
            finished_at: Some(engine::plan::format_time(now)),
            ..StepObservation::default()
        });
    }
    let status = pod.status.clone().unwrap_or_default();
    let phase = status.phase.as_deref().unwrap_or("Pending");
    match phase {
        "Running" => Some(StepObservation {
            phase: NodePhase::Running,
            daemoned: daemon(pod) && main_status(pod).is_some_and(|c| c.ready),
            started_at: started_at(pod),
            ip: status.pod_ip.clone(),
            host_node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            ..StepObservation::default()
        }),
        "Succeeded" | "Failed" => Some(unreported_end(pod, now)),
        _ => Some(StepObservation {
            phase: NodePhase::Pending,
            message: pending_reason(pod),
            ..StepObservation::default()
        }),
    }
}

fn from_report(r: &Reported, pod: Option<&Pod>) -> StepObservation {
    let phase = r.result.phase.unwrap_or(NodePhase::Error);
    StepObservation {
        phase,
        message: r.result.message.clone(),
        started_at: r.started_at.clone().or_else(|| pod.and_then(started_at)),
        finished_at: r.finished_at.clone(),
        outputs: r.result.outputs.clone(),
        ip: pod.and_then(|p| p.status.as_ref()?.pod_ip.clone()),
        host_node_name: pod.and_then(|p| p.spec.as_ref()?.node_name.clone()),
        ..StepObservation::default()
    }
}

/// A Pod that ended without a task result: exec never reported (killed, evicted, deadline) or
/// its report is not seen yet.
fn unreported_end(pod: &Pod, now: DateTime<Utc>) -> StepObservation {
    let main = main_status(pod);
    let terminated = main
        .and_then(|c| c.state.as_ref()?.terminated.clone())
        .unwrap_or_default();
    let finished = terminated
        .finished_at
        .as_ref()
        .map(|t| super::from_k8s_time(t.0))
        .or_else(|| {
            let start = pod.status.as_ref()?.start_time.as_ref()?;
            Some(super::from_k8s_time(start.0))
        });
    let waited = finished.map_or(0, |f| (now - f).num_seconds());
    let status = pod.status.clone().unwrap_or_default();
    let message = match (status.reason.as_deref(), terminated.reason.as_deref()) {
        (Some("DeadlineExceeded"), _) => Some("Step exceeded its deadline".to_string()),
        (Some(reason), _) => Some(match status.message {
            Some(m) => format!("{reason}: {m}"),
            None => reason.to_string(),
        }),
        (_, Some("OOMKilled")) => Some(format!("OOMKilled (exit code {})", terminated.exit_code)),
        _ if terminated.exit_code != 0 => {
            Some(format!("Error (exit code {})", terminated.exit_code))
        }
        _ => None,
    };
    if message.is_none() {
        if waited < REPORT_GRACE_SECONDS {
            // The task result is on its way: keep the step running until it arrives.
            return StepObservation {
                phase: NodePhase::Running,
                started_at: started_at(pod),
                ..StepObservation::default()
            };
        }
        return StepObservation {
            phase: NodePhase::Error,
            message: Some(
                "the step ended but its outputs were never reported (may the pod's service account \
                 create workflowtaskresults?)"
                    .into(),
            ),
            started_at: started_at(pod),
            finished_at: finished.map(engine::plan::format_time),
            ..StepObservation::default()
        };
    }
    // Evicted, node lost…: the step did not fail by itself.
    let phase = match status.reason.as_deref() {
        Some("DeadlineExceeded") | None => NodePhase::Failed,
        Some(_) => NodePhase::Error,
    };
    StepObservation {
        phase,
        message,
        started_at: started_at(pod),
        finished_at: finished.map(engine::plan::format_time),
        outputs: Some(Outputs {
            exit_code: Some(terminated.exit_code.to_string()),
            ..Outputs::default()
        }),
        ..StepObservation::default()
    }
}

/// Whether every container of the Pod has ended (phase Succeeded or Failed).
pub fn ended(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Whether the Pod runs a daemon step.
fn daemon(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(super::pod::ANNOTATION_DAEMON))
        .is_some_and(|v| v == "true")
}

/// The status of the Pod's reporting container: the first one (`main`, or the container of a
/// `containerSet` that reports).
fn main_status(pod: &Pod) -> Option<&ContainerStatus> {
    let first = pod.spec.as_ref()?.containers.first()?.name.as_str();
    pod.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .iter()
        .find(|c| c.name == first)
}

fn started_at(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    status
        .start_time
        .as_ref()
        .map(|t| engine::plan::format_time(super::from_k8s_time(t.0)))
}

/// Why a Pod is still Pending, in the kubelet's or scheduler's words (`ImagePullBackOff: …`).
fn pending_reason(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    let waiting = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .filter_map(|c| c.state.as_ref()?.waiting.as_ref())
        .find(|w| {
            w.reason
                .as_deref()
                .is_some_and(|r| r != "PodInitializing" && r != "ContainerCreating")
        });
    if let Some(w) = waiting {
        let reason = w.reason.clone().unwrap_or_default();
        return Some(match &w.message {
            Some(m) => format!("{reason}: {m}"),
            None => reason,
        });
    }
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        .and_then(|c| c.message.clone())
}

#[cfg(test)]
mod tests;
