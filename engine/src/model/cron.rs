//! `CronWorkflow`: a workflow spec run on a schedule.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use super::status::Condition;
use super::workflow::WorkflowSpec;

/// A workflow run on a schedule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronWorkflow {
    /// `argoproj.io/v1alpha1`.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    /// `CronWorkflow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name, namespace, labels, annotations…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    /// Schedule and workflow to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<CronWorkflowSpec>,
    /// What happened so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CronWorkflowStatus>,
}

/// Schedule and workflow of a cron workflow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronWorkflowSpec {
    /// The workflow to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_spec: Option<WorkflowSpec>,
    /// `Allow`, `Forbid` or `Replace` concurrent runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_policy: Option<String>,
    /// Stop scheduling new runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// A missed run may still start this many seconds late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_deadline_seconds: Option<i64>,
    /// Successful workflows to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful_jobs_history_limit: Option<i32>,
    /// Failed workflows to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_jobs_history_limit: Option<i32>,
    /// Time zone of the schedules, e.g. `Asia/Tokyo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Metadata of the workflows created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_metadata: Option<ObjectMeta>,
    /// Stop scheduling once this holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_strategy: Option<StopStrategy>,
    /// Legacy single schedule (removed in Argo 4.0; use `schedules`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Cron schedules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedules: Option<Vec<String>>,
    /// Run only when this expression holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
}

/// When a cron workflow stops scheduling.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopStrategy {
    /// Expression over `cronworkflow.failed` and `cronworkflow.succeeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// The phase of a cron workflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CronWorkflowPhase {
    /// No phase yet (Argo's empty phase).
    #[default]
    #[serde(rename = "")]
    Unknown,
    /// Scheduling.
    Active,
    /// Stopped by its stop strategy.
    Stopped,
}

/// What happened to a cron workflow so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronWorkflowStatus {
    /// Workflows running now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<Vec<ObjectReference>>,
    /// Last time a workflow was scheduled (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scheduled_time: Option<String>,
    /// Conditions of the cron workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Workflows that succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succeeded: Option<i64>,
    /// Workflows that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<i64>,
    /// `Active` or `Stopped`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<CronWorkflowPhase>,
}
