//! Running one step's processes: `trellis exec` per container (in a sandbox when available),
//! init containers first, sidecars beside, and the result turned into an observation.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use engine::model::{Artifact, NodePhase, Outputs, Parameter, S3Artifact};
use engine::plan::StepObservation;
use tokio::process::Command;

use crate::exec::spec::{ExecPhase, ExecResult, ExecSpec};

use super::launch::StepRun;

/// How steps are started.
#[derive(Debug, Clone)]
pub struct Runner {
    /// The `trellis` binary that provides `trellis exec`.
    pub exec_binary: PathBuf,
    /// bubblewrap, when steps are sandboxed.
    pub bwrap: Option<PathBuf>,
    /// Checks daemons' `httpGet` readiness probes.
    pub probe_client: reqwest::Client,
}

const SPEC_FILE: &str = "spec.json";

impl Runner {
    /// Runs every process of a step to its end and reports what happened. A sidecar that ends
    /// in failure before the main containers are done fails the step (its main containers are
    /// stopped), since the pod could not work.
    ///
    /// A daemon step (`run.daemon`) calls `on_ready` once its readiness probe passes, and fails
    /// if its main container ends on its own, since a daemon must run until it is stopped.
    pub async fn run(
        &self,
        run: StepRun,
        mut on_ready: Option<Box<dyn FnOnce() + Send>>,
    ) -> StepObservation {
        let started = now();
        let mut sidecars = Vec::new();
        for s in &run.sidecars {
            match self.spawn(s).await {
                Ok(child) => sidecars.push((child, s.work_dir.clone())),
                Err(e) => return error_obs(started, e),
            }
        }
        let dirs: Vec<PathBuf> = sidecars.iter().map(|(_, d)| d.clone()).collect();
        let watch = sidecar_failure(sidecars);
        tokio::pin!(watch);
        let mut last = None;
        for spec in run.init.iter().chain(run.main.iter()) {
            let step = self.run_one(spec);
            tokio::pin!(step);
            let is_main = run.main.iter().any(|m| std::ptr::eq(m, spec));
            let readiness = run.daemon.clone().filter(|_| is_main);
            let ready = async {
                match &readiness {
                    Some(r) => r.wait(&self.probe_client).await,
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(ready);
            let mut probing = readiness.is_some();
            let result = loop {
                tokio::select! {
                r = &mut step => break r,
                () = &mut ready, if probing => {
                    probing = false;
                    if let Some(f) = on_ready.take() {
                        f();
                    }
                }
                msg = &mut watch => {
                    // The step's exec may not have written its pid yet: ask until it has, or
                    // until the step ends on its own.
                    loop {
                        if matches!(crate::exec::request_stop(&spec.work_dir), Ok(true)) {
                            let _ = (&mut step).await;
                            break;
                        }
                        tokio::select! {
                            _ = &mut step => break,
                            _ = tokio::time::sleep(std::time::Duration::from_millis(50)) => {}
                        }
                    }
                    stop_all(&dirs);
                    return error_obs(started, msg);
                }
                }
            };
            let result = match result {
                Ok(r) => r,
                Err(e) => {
                    stop_all(&dirs);
                    return error_obs(started, e);
                }
            };
            let mut result = result;
            if readiness.is_some() {
                daemon_ended(&mut result);
            }
            let failed = result.phase != ExecPhase::Succeeded;
            if is_main && (spec.capture_result || last.is_none()) || failed {
                last = Some(result);
            }
            if failed {
                break;
            }
        }
        stop_all(&dirs);
        match last {
            Some(r) => observation(&r),
            None => error_obs(started, "the step has no container to run".into()),
        }
    }

    async fn run_one(&self, spec: &ExecSpec) -> Result<ExecResult, String> {
        let mut child = self.spawn(spec).await?;
        let status = child
            .wait()
            .await
            .map_err(|e| format!("waiting for the step's process: {e}"))?;
        read_result(&spec.work_dir)
            .await
            .map_err(|e| format!("the step's executor ended ({status}) without a result: {e}"))
    }

    /// Writes the spec and starts `trellis exec` for it.
    pub async fn spawn(&self, spec: &ExecSpec) -> Result<tokio::process::Child, String> {
        let dir = &spec.work_dir;
        tokio::fs::create_dir_all(dir.join("tmp"))
            .await
            .map_err(|e| format!("creating {}: {e}", dir.display()))?;
        for m in spec.sandbox.iter().flat_map(|s| s.mounts.iter()) {
            let _ = tokio::fs::create_dir_all(&m.host).await;
        }
        let _ = tokio::fs::remove_file(dir.join("result.json")).await;
        let spec_path = dir.join(SPEC_FILE);
        let json = serde_json::to_vec_pretty(spec).map_err(|e| e.to_string())?;
        tokio::fs::write(&spec_path, json)
            .await
            .map_err(|e| format!("writing {}: {e}", spec_path.display()))?;
        let mut cmd: Command = match (&self.bwrap, &spec.sandbox) {
            (Some(bwrap), Some(sandbox)) => crate::exec::sandbox::bwrap_command(
                bwrap,
                &self.exec_binary,
                &spec_path,
                sandbox,
                dir,
            )
            .into(),
            _ => {
                let mut c = Command::new(&self.exec_binary);
                c.arg("exec").arg("--spec").arg(&spec_path);
                c
            }
        };
        let log = std::fs::File::create(dir.join("exec.log")).map_err(|e| e.to_string())?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .process_group(0)
            .kill_on_drop(false);
        cmd.spawn()
            .map_err(|e| format!("starting {}: {e}", self.exec_binary.display()))
    }
}

/// A daemon's main container ended by itself: that fails the step, since a daemon must run until
/// its steps end and stop it (a daemon that was stopped is already Succeeded, and this is not
/// read).
fn daemon_ended(r: &mut ExecResult) {
    if r.phase == ExecPhase::Succeeded {
        r.phase = ExecPhase::Failed;
        r.message = Some(
            "the daemon exited on its own (exit code 0): a daemon step must keep running until \
             its steps end"
                .into(),
        );
    }
}

fn stop_all(dirs: &[PathBuf]) {
    for dir in dirs {
        let _ = crate::exec::request_stop(dir);
    }
}

/// Resolves with a message when a sidecar ends in failure; never resolves otherwise.
async fn sidecar_failure(sidecars: Vec<(tokio::process::Child, PathBuf)>) -> String {
    use futures::stream::{FuturesUnordered, StreamExt};
    let mut waits: FuturesUnordered<_> = sidecars
        .into_iter()
        .map(|(mut child, dir)| async move {
            let _ = child.wait().await;
            let result = read_result(&dir).await;
            (dir, result)
        })
        .collect();
    while let Some((dir, result)) = waits.next().await {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        match result {
            Ok(r) if r.phase == ExecPhase::Succeeded => {}
            Ok(r) => {
                return format!(
                    "sidecar {name} ended: {}",
                    r.message.unwrap_or_else(|| "failed".into())
                );
            }
            Err(e) => return format!("sidecar {name} ended without a result: {e}"),
        }
    }
    std::future::pending().await
}

/// Reads the result `trellis exec` left in a step directory.
pub async fn read_result(dir: &Path) -> Result<ExecResult, String> {
    let bytes = tokio::fs::read(dir.join("result.json"))
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

fn now() -> String {
    engine::plan::format_time(chrono::Utc::now())
}

/// An Error observation for a step that could not run.
pub(super) fn error_obs(started: String, message: String) -> StepObservation {
    StepObservation {
        phase: NodePhase::Error,
        message: Some(message),
        started_at: Some(started),
        finished_at: Some(now()),
        ..Default::default()
    }
}

/// The observation the engine gets from an exec result.
pub fn observation(r: &ExecResult) -> StepObservation {
    let phase = match r.phase {
        ExecPhase::Succeeded => NodePhase::Succeeded,
        ExecPhase::Failed => NodePhase::Failed,
        ExecPhase::Error => NodePhase::Error,
    };
    let params: Vec<Parameter> = r
        .output_parameters
        .iter()
        .map(|p| Parameter {
            name: Some(p.name.clone()),
            value: Some(p.value.clone().into()),
            ..Default::default()
        })
        .collect();
    let artifacts: Vec<Artifact> = r
        .output_artifacts
        .iter()
        .filter_map(|a| artifact_record(&a.name, &a.location))
        .collect();
    StepObservation {
        phase,
        message: r.message.clone(),
        started_at: Some(r.started_at.clone()),
        finished_at: Some(r.finished_at.clone()),
        outputs: Some(Outputs {
            result: r.result.clone(),
            exit_code: r.exit_code.map(|c| c.to_string()),
            parameters: (!params.is_empty()).then_some(params),
            artifacts: (!artifacts.is_empty()).then_some(artifacts),
        }),
        ..Default::default()
    }
}

/// How a stored artifact is recorded in a node's outputs: an `s3` artifact — key-only (Argo's
/// "in the default repository") for the local repository, with its bucket for S3 (credentials
/// are never recorded: readers take them from the repository).
fn artifact_record(name: &str, loc: &crate::artifacts::ArtifactSource) -> Option<Artifact> {
    use crate::artifacts::ArtifactSource;
    let s3 = match loc {
        ArtifactSource::Local { key, .. } => S3Artifact {
            key: Some(key.clone()),
            ..Default::default()
        },
        ArtifactSource::S3(s3) => S3Artifact {
            key: Some(s3.key.clone()),
            bucket: Some(s3.bucket.clone()),
            endpoint: Some(s3.endpoint.clone()).filter(|e| !e.is_empty()),
            region: Some(s3.region.clone()).filter(|r| !r.is_empty()),
            insecure: s3.insecure.then_some(true),
            ..Default::default()
        },
        _ => return None,
    };
    Some(Artifact {
        name: Some(name.to_string()),
        s3: Some(s3),
        ..Default::default()
    })
}
