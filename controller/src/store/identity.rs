//! Pure helpers that give stored objects their identity and index fields: template keys, uids,
//! generated names, timestamps, continue tokens, and the columns a workflow is indexed by.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use engine::model::{Workflow, WorkflowPhase};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::error::{Result, StoreError};

/// Label Argo puts on workflows submitted from a `WorkflowTemplate`.
pub const LABEL_WORKFLOW_TEMPLATE: &str = "workflows.argoproj.io/workflow-template";
/// Label Argo puts on workflows submitted from a `ClusterWorkflowTemplate`.
pub const LABEL_CLUSTER_WORKFLOW_TEMPLATE: &str = "workflows.argoproj.io/cluster-workflow-template";
/// Label Argo puts on workflows started by a `CronWorkflow`.
pub const LABEL_CRON_WORKFLOW: &str = "workflows.argoproj.io/cron-workflow";
/// Label Trellis puts on every workflow: its number in its template's history (1, 2, 3…).
pub const LABEL_RUN_NUMBER: &str = "trellis.dev/run-number";
/// Namespace of objects created without one.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The kinds of stored objects a workflow can be run from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TemplateKind {
    /// A namespaced `WorkflowTemplate`.
    WorkflowTemplate,
    /// A cluster-scoped `ClusterWorkflowTemplate`.
    ClusterWorkflowTemplate,
    /// A namespaced `CronWorkflow`.
    CronWorkflow,
    /// A namespaced `WorkflowEventBinding` (submits a template when an event matches).
    WorkflowEventBinding,
}

impl TemplateKind {
    /// Every kind a workflow runs from (not event bindings).
    pub const ALL: [TemplateKind; 3] = [
        TemplateKind::WorkflowTemplate,
        TemplateKind::ClusterWorkflowTemplate,
        TemplateKind::CronWorkflow,
    ];

    /// The kind as spelled in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateKind::WorkflowTemplate => "WorkflowTemplate",
            TemplateKind::ClusterWorkflowTemplate => "ClusterWorkflowTemplate",
            TemplateKind::CronWorkflow => "CronWorkflow",
            TemplateKind::WorkflowEventBinding => "WorkflowEventBinding",
        }
    }

    /// Whether objects of this kind live in a namespace.
    pub fn namespaced(self) -> bool {
        self != TemplateKind::ClusterWorkflowTemplate
    }

    /// The label Argo sets on the workflows this kind of object starts.
    pub fn workflow_label(self) -> &'static str {
        match self {
            TemplateKind::WorkflowTemplate => LABEL_WORKFLOW_TEMPLATE,
            TemplateKind::ClusterWorkflowTemplate => LABEL_CLUSTER_WORKFLOW_TEMPLATE,
            TemplateKind::CronWorkflow => LABEL_CRON_WORKFLOW,
            TemplateKind::WorkflowEventBinding => engine::events::LABEL_WORKFLOW_EVENT_BINDING,
        }
    }
}

/// The key of a template's run history: `WorkflowTemplate/<ns>/<name>`,
/// `ClusterWorkflowTemplate/<name>` or `CronWorkflow/<ns>/<name>`.
pub fn template_key(kind: TemplateKind, namespace: &str, name: &str) -> String {
    if kind.namespaced() {
        format!("{}/{namespace}/{name}", kind.as_str())
    } else {
        format!("{}/{name}", kind.as_str())
    }
}

/// The template key of a workflow, from Argo's labels. A cron workflow's runs belong to the cron
/// even when its spec refers to a workflow template; workflows submitted directly have none.
pub fn workflow_template_key(wf: &Workflow) -> Option<String> {
    let meta = wf.metadata.as_ref()?;
    let labels = meta.labels.as_ref()?;
    let namespace = meta.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE);
    [
        TemplateKind::CronWorkflow,
        TemplateKind::WorkflowTemplate,
        TemplateKind::ClusterWorkflowTemplate,
    ]
    .into_iter()
    .find_map(|kind| {
        let name = labels.get(kind.workflow_label())?;
        (!name.is_empty()).then(|| template_key(kind, namespace, name))
    })
}

/// A new random (version 4) uuid, as Kubernetes spells uids.
pub fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Characters Kubernetes uses for the random suffix of `generateName` (no vowels, no look-alikes).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `prefix` followed by five random characters, as Kubernetes expands `generateName`.
pub fn generated_name(prefix: &str) -> String {
    let random = uuid::Uuid::new_v4();
    let suffix = random
        .as_bytes()
        .iter()
        .take(5)
        .map(|b| char::from(NAME_ALPHABET[usize::from(*b) % NAME_ALPHABET.len()]));
    prefix.chars().chain(suffix).collect()
}

/// `now` truncated to whole seconds, the precision of Kubernetes timestamps.
pub fn whole_seconds(now: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

/// A timestamp as stored and compared in the database: RFC 3339, UTC, `Z`, whole seconds.
pub fn format_time(t: DateTime<Utc>) -> String {
    engine::plan::format_time(t)
}

/// Reads back a stored timestamp.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|source| StoreError::CorruptTimestamp {
            value: text.to_owned(),
            source,
        })
}

/// A timestamp as a Kubernetes `metadata.creationTimestamp`.
pub fn kube_time(t: DateTime<Utc>) -> Result<Time> {
    Timestamp::from_second(t.timestamp())
        .map(Time)
        .map_err(|e| StoreError::invalid("timestamp", format!("{t}: {e}")))
}

/// Prefix of continue tokens, so that tokens of a later format can be told apart.
pub(crate) const TOKEN_PREFIX: &str = "c1.";

/// The opaque token that resumes a listing after the row with this position.
pub fn encode_continue(seq: i64) -> String {
    format!("{TOKEN_PREFIX}{seq:x}")
}

/// The position a continue token resumes after.
pub fn decode_continue(token: &str) -> Result<i64> {
    token
        .strip_prefix(TOKEN_PREFIX)
        .filter(|hex| !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|hex| i64::from_str_radix(hex, 16).ok())
        .ok_or_else(|| {
            StoreError::invalid(
                "continue token",
                format!("{token:?} was not issued by this store"),
            )
        })
}

/// The columns a workflow is indexed by, read from its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowIndex {
    /// `metadata.namespace`, defaulted.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `status.phase`, empty when not started.
    pub phase: &'static str,
    /// `status.startedAt`.
    pub started_at: Option<String>,
    /// `status.finishedAt`.
    pub finished_at: Option<String>,
    /// `finishedAt - startedAt` in milliseconds, once it has both.
    pub duration_ms: Option<i64>,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// Finished, and kept in the archive when its live object is deleted.
    pub archived: bool,
    /// When its `ttlStrategy` deletes it.
    pub expires_at: Option<String>,
}

/// Reads a workflow's index columns; fails when it has no name.
pub fn workflow_index(wf: &Workflow) -> Result<WorkflowIndex> {
    let meta = wf.metadata.clone().unwrap_or_default();
    let name = meta
        .name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| StoreError::invalid("workflow", "metadata.name is required"))?;
    let status = wf.status.as_ref();
    Ok(WorkflowIndex {
        namespace: meta
            .namespace
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
        name,
        phase: status
            .and_then(|s| s.phase)
            .unwrap_or(WorkflowPhase::Unknown)
            .as_str(),
        started_at: status.and_then(|s| s.started_at.clone()),
        finished_at: status.and_then(|s| s.finished_at.clone()),
        duration_ms: status.and_then(|s| {
            let started = parse_time(s.started_at.as_deref()?).ok()?;
            let finished = parse_time(s.finished_at.as_deref()?).ok()?;
            Some((finished - started).num_milliseconds())
        }),
        labels: meta.labels.unwrap_or_default(),
        archived: engine::lifecycle::archived(wf),
        expires_at: engine::lifecycle::expires_at(wf).map(format_time),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(json: serde_json::Value) -> Workflow {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn template_key_from_labels() {
        let cases = [
            (serde_json::json!({"metadata": {"name": "a"}}), None),
            (
                serde_json::json!({"metadata": {"name": "a", "namespace": "ci",
                    "labels": {LABEL_WORKFLOW_TEMPLATE: "build"}}}),
                Some("WorkflowTemplate/ci/build"),
            ),
            (
                serde_json::json!({"metadata": {"name": "a",
                    "labels": {LABEL_CLUSTER_WORKFLOW_TEMPLATE: "lib"}}}),
                Some("ClusterWorkflowTemplate/lib"),
            ),
            (
                serde_json::json!({"metadata": {"name": "a", "namespace": "ci",
                    "labels": {LABEL_CRON_WORKFLOW: "nightly", LABEL_WORKFLOW_TEMPLATE: "build"}}}),
                Some("CronWorkflow/ci/nightly"),
            ),
            (
                serde_json::json!({"metadata": {"name": "a",
                    "labels": {LABEL_WORKFLOW_TEMPLATE: ""}}}),
                None,
            ),
        ];
        for (doc, want) in cases {
            assert_eq!(
                workflow_template_key(&wf(doc.clone())).as_deref(),
                want,
                "{doc}"
            );
        }
    }

    #[test]
    fn continue_tokens_round_trip_and_reject_strangers() {
        for seq in [0, 1, 255, 1_000_000, i64::MAX] {
            assert_eq!(decode_continue(&encode_continue(seq)).unwrap(), seq);
        }
        for bad in [
            "",
            "c1.",
            "c1.zz",
            "c2.10",
            "10",
            "c1.-1",
            "c1.ffffffffffffffffff",
        ] {
            assert!(decode_continue(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn generated_names_have_a_five_character_suffix() {
        let a = generated_name("build-");
        let b = generated_name("build-");
        assert_eq!(a.len(), "build-".len() + 5);
        assert!(a.starts_with("build-"));
        assert!(a[6..].bytes().all(|c| NAME_ALPHABET.contains(&c)));
        assert_ne!(a, b, "two draws should differ (1 in 14 million to collide)");
        assert_ne!(new_uid(), new_uid());
    }

    #[test]
    fn times_are_whole_seconds_utc() {
        let t = DateTime::parse_from_rfc3339("2024-05-06T07:08:09.987+02:00")
            .unwrap()
            .with_timezone(&Utc);
        let s = format_time(whole_seconds(t));
        assert_eq!(s, "2024-05-06T05:08:09Z");
        assert_eq!(parse_time(&s).unwrap(), whole_seconds(t));
        assert!(parse_time("yesterday").is_err());
        assert_eq!(kube_time(t).unwrap().0.as_second(), t.timestamp());
    }

    #[test]
    fn index_reads_phase_times_and_defaults_namespace() {
        let idx = workflow_index(&wf(serde_json::json!({
            "metadata": {"name": "w", "labels": {"a": "b"}},
            "status": {"phase": "Running", "startedAt": "2024-01-01T00:00:00Z"}
        })))
        .unwrap();
        assert_eq!(idx.namespace, "default");
        assert_eq!(idx.phase, "Running");
        assert_eq!(idx.started_at.as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(idx.finished_at, None);
        assert_eq!(idx.labels.get("a").map(String::as_str), Some("b"));
        assert!(workflow_index(&Workflow::default()).is_err());
    }
}
