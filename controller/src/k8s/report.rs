//! How `trellis exec` inside a step Pod reports what happened: a `WorkflowTaskResult` named after
//! the node, labelled with the workflow and owned by it (so it is deleted with it).
//!
//! Why a task result and not the Pod's annotations (both are what Argo has done): the executor's
//! ServiceAccount then needs no write access to Pods for results (only `create`/`patch` on
//! `workflowtaskresults`), outputs are not limited by the Pod's annotation size (256 KiB in all),
//! and the controller does not have to re-read Pods for outputs.

use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams};

use super::observe::{ANNOTATION_FINISHED, ANNOTATION_STARTED, LABEL_REPORT_COMPLETED, TaskResult};
use super::pod::{LABEL_WORKFLOW, Owner, ReportTarget, owner_reference};
use crate::exec::ExecResult;

/// The field manager of exec's writes.
pub const FIELD_MANAGER: &str = "trellis-exec";

/// The task result object for a finished step.
pub fn task_result(target: &ReportTarget, result: &ExecResult) -> serde_json::Value {
    let obs = crate::local::observation(result);
    let body = TaskResult {
        outputs: obs.outputs,
        phase: Some(obs.phase),
        message: obs.message,
        progress: None,
    };
    let owner = Owner {
        name: target.workflow.clone(),
        namespace: target.namespace.clone(),
        uid: target.workflow_uid.clone(),
    };
    // Not blocking the owner's deletion: that would need `update` on workflows/finalizers,
    // which the executor's minimal Role does not have.
    let reference = k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
        block_owner_deletion: Some(false),
        ..owner_reference(&owner)
    };
    let mut object = serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTaskResult",
        "metadata": {
            "name": target.node_id,
            "namespace": target.namespace,
            "labels": {
                LABEL_WORKFLOW: target.workflow,
                LABEL_REPORT_COMPLETED: "true",
            },
            "annotations": {
                ANNOTATION_STARTED: result.started_at,
                ANNOTATION_FINISHED: result.finished_at,
            },
            "ownerReferences": [reference],
        },
    });
    if let (Some(map), Ok(serde_json::Value::Object(fields))) =
        (object.as_object_mut(), serde_json::to_value(&body))
    {
        map.extend(fields);
    }
    object
}

/// A client with the Pod's in-cluster credentials (its ServiceAccount), not a kubeconfig the
/// user's image or environment may carry; outside a cluster (tests), the kubeconfig.
pub async fn pod_client() -> Result<Client, String> {
    let config = match kube::Config::incluster() {
        Ok(c) => c,
        Err(_) => kube::Config::infer()
            .await
            .map_err(|e| format!("cannot reach the Kubernetes API from the pod: {e}"))?,
    };
    Client::try_from(config)
        .map_err(|e| format!("cannot reach the Kubernetes API from the pod: {e}"))
}

/// Writes the task result with the Pod's in-cluster credentials (server-side apply, so a retry
/// after a lost answer writes the same object again).
pub async fn send(target: &ReportTarget, result: &ExecResult) -> Result<(), String> {
    let client = pod_client().await?;
    let api: Api<DynamicObject> =
        Api::namespaced_with(client, &target.namespace, &super::task_results());
    let object = task_result(target, result);
    let mut last = String::new();
    for attempt in 0..5u32 {
        match api
            .patch(
                &target.node_id,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&object),
            )
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(500 << attempt)).await;
    }
    Err(format!(
        "cannot write the task result {}/{}: {last}",
        target.namespace, target.node_id
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::{ExecPhase, OutputParameterValue};

    #[test]
    fn the_task_result_holds_outputs_phase_and_times_and_reads_back() {
        let target = ReportTarget {
            namespace: "ci".into(),
            workflow: "build-x".into(),
            workflow_uid: "u-1".into(),
            node_id: "build-x-123".into(),
        };
        let result = ExecResult {
            phase: ExecPhase::Failed,
            exit_code: Some(3),
            message: Some("Error (exit code 3)".into()),
            result: Some("hello".into()),
            output_parameters: vec![OutputParameterValue {
                name: "n".into(),
                value: "7".into(),
            }],
            output_artifacts: Vec::new(),
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: "2026-01-01T00:00:05Z".into(),
        };
        let object = task_result(&target, &result);
        assert_eq!(object["metadata"]["name"], "build-x-123");
        assert_eq!(object["metadata"]["ownerReferences"][0]["uid"], "u-1");
        assert_eq!(object["phase"], "Failed");
        let read = super::super::observe::Reported::from_object(&object).unwrap();
        assert!(read.completed);
        assert_eq!(read.finished_at.as_deref(), Some("2026-01-01T00:00:05Z"));
        let outputs = read.result.outputs.unwrap();
        assert_eq!(outputs.result.as_deref(), Some("hello"));
        assert_eq!(outputs.exit_code.as_deref(), Some("3"));
        assert_eq!(
            outputs.parameters.unwrap()[0]
                .value
                .as_ref()
                .map(|v| v.0.as_str()),
            Some("7")
        );
    }
}
