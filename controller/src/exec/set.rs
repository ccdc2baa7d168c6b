//! The containers of a `containerSet` Pod, coordinated through files in the Pod's shared volume
//! (see [`crate::k8s::pod::SetRole`]): each container's ending is `<dir>/<name>.json`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ExecPhase, ExecResult};
use crate::k8s::pod::SetRole;

/// How often the endings of the other containers are looked for.
const POLL: Duration = Duration::from_millis(200);

/// One container's ending, as the others read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ending {
    /// How it ended.
    pub phase: ExecPhase,
    /// Why, when it did not succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn ending_file(dir: &str, name: &str) -> PathBuf {
    Path::new(dir).join(format!("{name}.json"))
}

/// How often the Pod's own container statuses are read while waiting (to notice a container
/// that ended, or cannot start, without leaving an ending).
const POD_POLL: Duration = Duration::from_secs(3);

/// Waits for the endings of these containers. A container that ended without one (killed) or
/// that cannot start (its image, its configuration) counts as failed, as does a stop (SIGTERM)
/// of this one while it waits.
async fn endings(role: &SetRole, names: &[String]) -> Vec<(String, Ending)> {
    let dir = role.dir.as_str();
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let stopped = async move {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stopped);
    let mut out = Vec::new();
    let mut last_look = tokio::time::Instant::now();
    for name in names {
        let file = ending_file(dir, name);
        loop {
            if let Ok(bytes) = tokio::fs::read(&file).await
                && let Ok(e) = serde_json::from_slice::<Ending>(&bytes)
            {
                out.push((name.clone(), e));
                break;
            }
            if last_look.elapsed() >= POD_POLL {
                last_look = tokio::time::Instant::now();
                if let Some(message) = cannot_finish(role, name).await {
                    out.push((name.clone(), failed(message)));
                    break;
                }
            }
            tokio::select! {
                () = &mut stopped => {
                    out.push((name.clone(), failed("stopped while waiting for it".into())));
                    return out;
                }
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
    out
}

fn failed(message: String) -> Ending {
    Ending {
        phase: ExecPhase::Failed,
        message: Some(message),
    }
}

/// Why a container of this Pod will never leave an ending, from the Pod's status (`None`: it
/// may still, or the status cannot be read).
async fn cannot_finish(role: &SetRole, container: &str) -> Option<String> {
    let (namespace, pod) = role.pod.clone()?;
    let client = crate::k8s::report::pod_client().await.ok()?;
    let api: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(client, &namespace);
    let status = api.get(&pod).await.ok()?.status?;
    let c = status
        .container_statuses?
        .into_iter()
        .find(|c| c.name == container)?;
    let state = c.state?;
    if let Some(t) = state.terminated {
        return Some(format!(
            "container {container} ended (exit code {}) without finishing its command",
            t.exit_code
        ));
    }
    let w = state.waiting?;
    let reason = w.reason.unwrap_or_default();
    if matches!(
        reason.as_str(),
        "ContainerCreating" | "PodInitializing" | ""
    ) {
        return None;
    }
    Some(match w.message {
        Some(m) => format!("container {container} cannot start: {reason}: {m}"),
        None => format!("container {container} cannot start: {reason}"),
    })
}

/// Waits for the containers this one depends on; `Some` is this container's result when one
/// of them did not succeed (it does not run then).
pub async fn wait_for(role: &SetRole) -> Option<ExecResult> {
    let now = super::run::now();
    let failed = endings(role, &role.wait_for)
        .await
        .into_iter()
        .find(|(_, e)| e.phase != ExecPhase::Succeeded)?;
    Some(ExecResult {
        phase: ExecPhase::Failed,
        ..ExecResult::error(
            Some(format!(
                "container {} did not run: container {} did not succeed",
                role.name, failed.0
            )),
            now,
        )
    })
}

/// Leaves this container's ending for the others, then (the reporting container) waits for the
/// others' and folds them in: the step fails with the first container that failed.
pub async fn finish(role: &SetRole, mut result: ExecResult) -> ExecResult {
    let ending = Ending {
        phase: result.phase,
        message: result.message.clone(),
    };
    let _ = tokio::fs::create_dir_all(&role.dir).await;
    let file = ending_file(&role.dir, &role.name);
    let tmp = crate::artifacts::archive::with_suffix(&file, ".tmp");
    let json = serde_json::to_vec(&ending).unwrap_or_default();
    if tokio::fs::write(&tmp, json).await.is_ok() {
        let _ = tokio::fs::rename(&tmp, &file).await;
    }
    if result.phase != ExecPhase::Succeeded {
        return result;
    }
    if let Some((name, e)) = endings(role, &role.gather)
        .await
        .into_iter()
        .find(|(_, e)| e.phase != ExecPhase::Succeeded)
    {
        result.phase = e.phase;
        result.message = Some(format!(
            "container {name}: {}",
            e.message.unwrap_or_else(|| "failed".into())
        ));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(phase: ExecPhase, message: Option<&str>) -> ExecResult {
        ExecResult {
            phase,
            exit_code: None,
            message: message.map(str::to_string),
            result: Some("out".into()),
            output_parameters: Vec::new(),
            output_artifacts: Vec::new(),
            started_at: String::new(),
            finished_at: String::new(),
        }
    }

    fn role(dir: &Path, name: &str, wait_for: &[&str], gather: &[&str]) -> SetRole {
        SetRole {
            dir: dir.display().to_string(),
            name: name.into(),
            wait_for: wait_for.iter().map(|s| s.to_string()).collect(),
            gather: gather.iter().map(|s| s.to_string()).collect(),
            pod: None,
        }
    }

    #[tokio::test]
    async fn dependents_run_after_success_and_not_after_failure() {
        let dir = tempfile::tempdir().unwrap();
        let a = role(dir.path(), "a", &[], &[]);
        let b = role(dir.path(), "b", &["a"], &[]);
        let waiting = tokio::spawn({
            let b = b.clone();
            async move { wait_for(&b).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "b waits for a");
        finish(&a, result(ExecPhase::Succeeded, None)).await;
        assert_eq!(waiting.await.unwrap(), None, "a succeeded: b runs");

        let c = role(dir.path(), "c", &[], &[]);
        finish(&c, result(ExecPhase::Failed, Some("Error (exit code 2)"))).await;
        let d = role(dir.path(), "d", &["c"], &[]);
        let blocked = wait_for(&d).await.unwrap();
        assert_eq!(blocked.phase, ExecPhase::Failed);
        assert!(
            blocked
                .message
                .unwrap()
                .contains("container c did not succeed")
        );
    }

    #[tokio::test]
    async fn the_reporting_container_fails_with_the_first_failed_other() {
        let dir = tempfile::tempdir().unwrap();
        finish(
            &role(dir.path(), "a", &[], &[]),
            result(ExecPhase::Succeeded, None),
        )
        .await;
        finish(
            &role(dir.path(), "b", &[], &[]),
            result(ExecPhase::Failed, Some("Error (exit code 3)")),
        )
        .await;
        let main = role(dir.path(), "main", &[], &["a", "b"]);
        let r = finish(&main, result(ExecPhase::Succeeded, None)).await;
        assert_eq!(r.phase, ExecPhase::Failed);
        assert_eq!(
            r.message.as_deref(),
            Some("container b: Error (exit code 3)")
        );
        assert_eq!(
            r.result.as_deref(),
            Some("out"),
            "main's own outputs are kept"
        );
    }
}
