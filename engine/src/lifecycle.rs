//! What happens to a finished workflow: whether it goes to the archive (Argo's default
//! `archiveLabelSelector` convention: every finished workflow but those labelled
//! `workflows.argoproj.io/archive-strategy: "false"`), and when its `ttlStrategy` deletes it
//! (the archived copy stays).

use chrono::{DateTime, Duration, Utc};

use crate::model::{TTLStrategy, Workflow, WorkflowPhase};

/// Label that keeps a workflow out of the archive when `"false"`.
pub const LABEL_ARCHIVE_STRATEGY: &str = "workflows.argoproj.io/archive-strategy";

fn phase(wf: &Workflow) -> Option<WorkflowPhase> {
    wf.status.as_ref().and_then(|s| s.phase)
}

/// Whether a workflow is finished and goes to the archive.
pub fn archived(wf: &Workflow) -> bool {
    let opted_out = wf
        .metadata
        .as_ref()
        .and_then(|m| m.labels.as_ref())
        .and_then(|l| l.get(LABEL_ARCHIVE_STRATEGY))
        .is_some_and(|v| v == "false");
    phase(wf).is_some_and(WorkflowPhase::completed) && !opted_out
}

/// The `ttlStrategy` in force: the workflow's own, else the one of the template it runs.
fn ttl(wf: &Workflow) -> Option<TTLStrategy> {
    let own = wf.spec.as_ref().and_then(|s| s.ttl_strategy.clone());
    own.or_else(|| {
        wf.status
            .as_ref()
            .and_then(|s| s.stored_workflow_template_spec.as_ref())
            .and_then(|s| s.ttl_strategy.clone())
    })
}

/// When a finished workflow is to be deleted (Argo's TTL controller): `secondsAfterFailure`
/// for a failed or errored one, `secondsAfterSuccess` for a succeeded one, else
/// `secondsAfterCompletion`, counted from `status.finishedAt`. `None` while it runs or when it
/// has no TTL.
pub fn expires_at(wf: &Workflow) -> Option<DateTime<Utc>> {
    let phase = phase(wf).filter(|p| p.completed())?;
    let t = ttl(wf)?;
    let specific = if phase == WorkflowPhase::Succeeded {
        t.seconds_after_success
    } else {
        t.seconds_after_failure
    };
    let seconds = specific.or(t.seconds_after_completion)?;
    let finished = wf.status.as_ref()?.finished_at.as_deref()?;
    let finished = DateTime::parse_from_rfc3339(finished).ok()?.to_utc();
    Some(finished + Duration::seconds(i64::from(seconds.max(0))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(v: serde_json::Value) -> Workflow {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn finished_workflows_are_archived_unless_they_opt_out() {
        let done = |labels: serde_json::Value, phase: &str| {
            wf(serde_json::json!({"metadata": {"labels": labels}, "status": {"phase": phase}}))
        };
        assert!(archived(&done(serde_json::json!({}), "Succeeded")));
        assert!(archived(&done(serde_json::json!({}), "Error")));
        assert!(!archived(&done(serde_json::json!({}), "Running")));
        assert!(!archived(&done(
            serde_json::json!({"workflows.argoproj.io/archive-strategy": "false"}),
            "Failed"
        )));
    }

    #[test]
    fn ttls_count_from_the_finish_by_outcome() {
        let run = |phase: &str, ttl: serde_json::Value| {
            wf(serde_json::json!({"spec": {"ttlStrategy": ttl},
                "status": {"phase": phase, "finishedAt": "2026-01-01T00:00:00Z"}}))
        };
        let at = |s: &str| Some(DateTime::parse_from_rfc3339(s).unwrap().to_utc());
        let all = serde_json::json!({"secondsAfterCompletion": 60, "secondsAfterSuccess": 10, "secondsAfterFailure": 3600});
        assert_eq!(
            expires_at(&run("Succeeded", all.clone())),
            at("2026-01-01T00:00:10Z")
        );
        assert_eq!(
            expires_at(&run("Failed", all.clone())),
            at("2026-01-01T01:00:00Z")
        );
        let completion = serde_json::json!({"secondsAfterCompletion": 60});
        assert_eq!(
            expires_at(&run("Error", completion.clone())),
            at("2026-01-01T00:01:00Z")
        );
        assert_eq!(expires_at(&run("Running", completion)), None);
        assert_eq!(
            expires_at(&run(
                "Succeeded",
                serde_json::json!({"secondsAfterFailure": 5})
            )),
            None
        );
        let from_template = wf(serde_json::json!({
            "status": {"phase": "Succeeded", "finishedAt": "2026-01-01T00:00:00Z",
                       "storedWorkflowTemplateSpec": {"ttlStrategy": {"secondsAfterSuccess": 5}}}}));
        assert_eq!(expires_at(&from_template), at("2026-01-01T00:00:05Z"));
    }
}
