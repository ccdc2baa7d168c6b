//! Values the store hands out and takes in: stored workflows and templates, queries, pages,
//! step claims, memoization entries and events.

use chrono::{DateTime, Utc};
use engine::model::{Workflow, WorkflowPhase};

use super::identity::TemplateKind;
use super::selector::LabelSelector;

/// A workflow as just created, with the identity the store gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredWorkflow {
    /// The workflow with `metadata.uid`, `creationTimestamp`, `resourceVersion` and the
    /// `trellis.dev/run-number` label filled in.
    pub workflow: Workflow,
    /// `metadata.uid`.
    pub uid: String,
    /// `metadata.resourceVersion`, to pass to the next update.
    pub resource_version: String,
    /// The key of the template's history it belongs to, if any (see [`super::template_key`]).
    pub template_key: Option<String>,
    /// Its number in that history (or among workflows without a template).
    pub run_number: i64,
}

/// Which workflows a listing covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scope {
    /// Live workflows (what `/api/v1/workflows` lists).
    #[default]
    Live,
    /// Archived ones, whether or not their live object is still there.
    Archived,
    /// Both: a template's whole history.
    All,
}

/// Which workflows to list. Every filter given must hold; results come newest first.
#[derive(Debug, Clone, Default)]
pub struct WorkflowQuery {
    /// Live, archived or all workflows.
    pub scope: Scope,
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only these phases (`WorkflowPhase::Unknown` is "not started"); empty for any.
    pub phases: Vec<WorkflowPhase>,
    /// Only workflows whose labels match.
    pub labels: LabelSelector,
    /// Only names containing this text (case-sensitive; Kubernetes names are lowercase).
    pub name_contains: Option<String>,
    /// Only names starting with this text.
    pub name_prefix: Option<String>,
    /// Only the workflow of this name.
    pub name: Option<String>,
    /// Only workflows created at or after this time.
    pub created_after: Option<DateTime<Utc>>,
    /// Only workflows created before this time.
    pub created_before: Option<DateTime<Utc>>,
    /// Only workflows that finished before this time (unfinished ones never match).
    pub finished_before: Option<DateTime<Utc>>,
    /// Only runs of this template (a key from [`super::template_key`]).
    pub template_key: Option<String>,
    /// At most this many per page; `None` lists everything in one page.
    pub limit: Option<u32>,
    /// Resume after the page that returned this token.
    pub continue_token: Option<String>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Pass this as `continue_token` to get the next page; `None` on the last page.
    pub continue_token: Option<String>,
}

/// A stored workflow template, cluster workflow template or cron workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTemplate {
    /// Its kind.
    pub kind: TemplateKind,
    /// Its namespace (`None` for cluster workflow templates).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// `metadata.uid`.
    pub uid: String,
    /// `metadata.resourceVersion`, to pass to the next update.
    pub resource_version: String,
    /// When it was first created.
    pub created_at: DateTime<Utc>,
    /// The whole document, with its metadata filled in.
    pub body: serde_json::Value,
}

/// The record that a step attempt was started (or is being started) by this backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepClaim {
    /// The node's id.
    pub node_id: String,
    /// Which attempt of the node (for instance its retry number).
    pub attempt_key: String,
    /// When the claim was taken.
    pub claimed_at: DateTime<Utc>,
    /// The process started for it, once recorded.
    pub pid: Option<i64>,
}

/// A memoized result of a template.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoEntry {
    /// The node's outputs (Argo's `Outputs` as JSON).
    pub outputs: serde_json::Value,
    /// The node that produced them.
    pub node_id: String,
    /// When they were stored (for `maxAge`).
    pub created_at: DateTime<Utc>,
}

/// An entry of a workflow's append-only event log.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the log, increasing.
    pub id: i64,
    /// What happened (`created`, `phase`, `approved`…, chosen by the writer).
    pub kind: String,
    /// When it was appended.
    pub at: DateTime<Utc>,
    /// Details.
    pub body: serde_json::Value,
}
