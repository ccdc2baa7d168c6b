//! Values the store hands out and takes in: stored workflows and templates, queries, pages,
//! step claims, memoization entries, events and the audit trail.

use std::collections::BTreeMap;

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
    /// The order of the listing.
    pub order: Order,
}

/// How a listing of workflows is ordered; every order pages with continue tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// Newest first (creation order).
    #[default]
    Newest,
    /// By name (A to Z), newest first among equal names.
    Name,
    /// Longest `finishedAt - startedAt` first; unfinished workflows last, newest first.
    Longest,
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

/// What an audit entry records someone doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditAction {
    /// Created a workflow (directly or from a template).
    Submit,
    /// Released a waiting suspend step.
    Approve,
    /// Failed a waiting suspend step.
    Reject,
    /// Resumed a workflow.
    Resume,
    /// Suspended a workflow.
    Suspend,
    /// Stopped a workflow.
    Stop,
    /// Terminated a workflow.
    Terminate,
    /// Retried a workflow.
    Retry,
    /// Made a new run of a workflow's spec.
    Resubmit,
    /// Deleted a workflow.
    Delete,
    /// Changed a waiting suspend step without releasing it (Argo's `set`).
    Set,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 11] = [
        AuditAction::Submit,
        AuditAction::Approve,
        AuditAction::Reject,
        AuditAction::Resume,
        AuditAction::Suspend,
        AuditAction::Stop,
        AuditAction::Terminate,
        AuditAction::Retry,
        AuditAction::Resubmit,
        AuditAction::Delete,
        AuditAction::Set,
    ];

    /// The action as stored and shown (`approve`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Submit => "submit",
            AuditAction::Approve => "approve",
            AuditAction::Reject => "reject",
            AuditAction::Resume => "resume",
            AuditAction::Suspend => "suspend",
            AuditAction::Stop => "stop",
            AuditAction::Terminate => "terminate",
            AuditAction::Retry => "retry",
            AuditAction::Resubmit => "resubmit",
            AuditAction::Delete => "delete",
            AuditAction::Set => "set",
        }
    }

    /// The action of that name, if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An audit entry to append; the store gives it its id and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    /// Who (their subject).
    pub actor: String,
    /// Their groups then.
    pub actor_groups: Vec<String>,
    /// What they did.
    pub action: AuditAction,
    /// The workflow's namespace.
    pub namespace: String,
    /// The workflow's name.
    pub workflow_name: String,
    /// The workflow's uid.
    pub workflow_uid: String,
    /// The key of the template's history the workflow belongs to, if any.
    pub template_key: Option<String>,
    /// The node it was about, if one.
    pub node_id: Option<String>,
    /// That node's display name.
    pub node_display_name: Option<String>,
    /// Values given (supplied outputs, …).
    pub values: BTreeMap<String, String>,
    /// The comment given.
    pub comment: Option<String>,
}

/// An entry of the append-only audit trail (JSON: camelCase, `at` in RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Its position, increasing in the order entries were appended.
    pub id: i64,
    /// When it was appended (whole seconds, UTC).
    pub at: DateTime<Utc>,
    /// Who (their subject).
    pub actor: String,
    /// Their groups then.
    pub actor_groups: Vec<String>,
    /// What they did.
    pub action: AuditAction,
    /// The workflow's namespace.
    pub namespace: String,
    /// The workflow's name.
    pub workflow_name: String,
    /// The workflow's uid.
    pub workflow_uid: String,
    /// The key of the template's history the workflow belongs to, if any.
    pub template_key: Option<String>,
    /// The node it was about, if one.
    pub node_id: Option<String>,
    /// That node's display name.
    pub node_display_name: Option<String>,
    /// Values given (supplied outputs, …).
    pub values: BTreeMap<String, String>,
    /// The comment given.
    pub comment: Option<String>,
}

/// Which audit entries to list, newest first. Every filter given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only entries about the workflow of this uid.
    pub workflow_uid: Option<String>,
    /// Only this actor's.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// At most this many per page; `None` lists everything in one page.
    pub limit: Option<u32>,
    /// Resume after the page that returned this token.
    pub continue_token: Option<String>,
}
