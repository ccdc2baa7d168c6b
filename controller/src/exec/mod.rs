//! `trellis exec`: the one place where a step's command runs, locally or (later) inside a Pod.
//!
//! A backend writes an [`ExecSpec`] into the step's work directory and starts
//! `trellis exec --spec <file>` (through [`bwrap_command`] when sandboxed). Exec places the input
//! artifacts, runs the command in its own process group with its output teed line by line into
//! `<work_dir>/main.log`, captures `outputs.result`, collects output parameters and artifacts, and
//! writes an [`ExecResult`] to `<work_dir>/result.json`. SIGTERM (or SIGINT) to exec stops the
//! command: SIGTERM to its group, SIGKILL after the grace period, and the result is still written.

mod logs;
mod message;
mod outputs;
mod process;
mod run;
pub mod sandbox;
mod set;
pub mod spec;

use std::future::Future;
use std::path::{Path, PathBuf};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::signal::unix::{SignalKind, signal};

pub use logs::{LogLine, LogStream, MAX_LINE, RESULT_CAP};
pub(crate) use run::now;
pub use run::{BASE_PATH, DEFAULT_GRACE, LOG_FILE, parse_log_line};
pub use sandbox::{bwrap_command, sandbox_available};
pub use spec::{
    EnvVar, ExecPhase, ExecResult, ExecSpec, InputArtifact, Mount, OutputArtifact,
    OutputArtifactLocation, OutputParameter, OutputParameterValue, Sandbox,
};

/// The name of the result file in the step's work directory.
pub const RESULT_FILE: &str = "result.json";

/// The file holding exec's process id while it runs, for [`request_stop`].
pub const PID_FILE: &str = "exec.pid";

/// Marks a step whose stop was asked for before (or while) exec started: exec reads it after it
/// has written [`PID_FILE`], so a stop is never lost between the two.
pub const STOP_FILE: &str = "stop-requested";

/// Why exec itself could not work (the step's own failures are results, not errors).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The spec file could not be read.
    #[error("cannot read the spec {}: {source}", path.display())]
    ReadSpec {
        /// The spec file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The spec file is not a valid spec.
    #[error("invalid spec {}: {source}", path.display())]
    ParseSpec {
        /// The spec file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
    /// A file exec keeps (the result, the pid file) could not be written or read.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The result could not be encoded.
    #[error("cannot encode the result: {0}")]
    EncodeResult(#[source] serde_json::Error),
    /// Exec could not listen for SIGTERM/SIGINT.
    #[error("cannot handle signals: {0}")]
    Signals(#[source] std::io::Error),
    /// The pid file does not hold a process id (of a process other than init).
    #[error("{} does not hold a process id", path.display())]
    BadPidFile {
        /// The pid file.
        path: PathBuf,
    },
    /// Signalling exec failed.
    #[error("cannot signal exec (pid {pid}): {source}")]
    Signal {
        /// Exec's process id.
        pid: i32,
        /// The underlying error.
        #[source]
        source: nix::Error,
    },
}

/// The entry point of `trellis exec --spec <file>`: reads the spec, runs the step until it ends or
/// exec receives SIGTERM/SIGINT, and writes `<work_dir>/result.json` atomically (then returns it).
/// While it runs, `<work_dir>/exec.pid` holds exec's pid.
pub async fn run_exec(spec_path: &Path) -> Result<ExecResult, ExecError> {
    let spec = read_spec(spec_path).await?;
    let mut term = signal(SignalKind::terminate()).map_err(ExecError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(ExecError::Signals)?;
    let pid_file = spec.work_dir.join(PID_FILE);
    write_atomically(&pid_file, std::process::id().to_string().as_bytes()).await?;
    // Read after the pid is published: a stop asked for earlier left this file.
    let stopped_early = spec.work_dir.join(STOP_FILE).exists();
    let stop = async move {
        if stopped_early {
            return;
        }
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    };
    let result = run_logged(&spec, stop, true).await;
    write_result(&spec.work_dir, &result).await?;
    let _ = tokio::fs::remove_file(&pid_file).await;
    Ok(result)
}

/// The entry point of `trellis exec --spec-env VAR` in a step Pod (the Kubernetes backend): the
/// spec is the JSON in `spec_json`; the step runs like [`run_exec`] (its output copied to the
/// container's stdout/stderr, which is the Pod's log), then the result is written to the
/// `WorkflowTaskResult` of `report` when given. Returns the exit code for the container: the
/// command's own, or 1 when the step did not succeed without one.
pub async fn run_in_pod(
    spec_json: &str,
    report: Option<&crate::k8s::pod::ReportTarget>,
    set: Option<&crate::k8s::pod::SetRole>,
) -> i32 {
    let started_at = run::now();
    let ran = async {
        let spec: ExecSpec =
            serde_json::from_str(spec_json).map_err(|source| ExecError::ParseSpec {
                path: PathBuf::from("$TRELLIS_EXEC_SPEC"),
                source,
            })?;
        tokio::fs::create_dir_all(&spec.work_dir)
            .await
            .map_err(|source| ExecError::File {
                path: spec.work_dir.clone(),
                source,
            })?;
        if let Some(role) = set
            && let Some(blocked) = set::wait_for(role).await
        {
            return Ok(blocked);
        }
        let path = spec.work_dir.join("spec.json");
        write_atomically(&path, spec_json.as_bytes()).await?;
        run_exec(&path).await
    }
    .await;
    let result =
        ran.unwrap_or_else(|e| ExecResult::error(Some(format!("trellis exec: {e}")), started_at));
    let result = match set {
        Some(role) => set::finish(role, result).await,
        None => result,
    };
    if let Some(message) = &result.message {
        tracing::info!(%message, "step result");
    }
    let reported = match report {
        Some(target) => crate::k8s::report::send(target, &result).await,
        None => Ok(()),
    };
    if let Err(message) = &reported {
        tracing::error!(%message, "the step's result could not be reported");
    }
    match (result.phase, result.exit_code) {
        // Without its report the step's outputs are lost: the container fails.
        (ExecPhase::Succeeded, _) if reported.is_err() => 1,
        (ExecPhase::Succeeded, _) => 0,
        (_, Some(code)) if code != 0 => code,
        _ => 1,
    }
}

/// `trellis exec --http-env VAR` in an HTTP template's Pod: makes the template's request (the
/// same code as the local backend's), with its `successCondition`.
pub async fn run_http(template_json: &str) -> Result<ExecResult, ExecError> {
    let t: engine::model::Template =
        serde_json::from_str(template_json).map_err(|source| ExecError::ParseSpec {
            path: PathBuf::from("$TRELLIS_HTTP"),
            source,
        })?;
    let o = crate::local::http::run(&t).await;
    let now = run::now();
    Ok(ExecResult {
        phase: match o.phase {
            engine::model::NodePhase::Succeeded => ExecPhase::Succeeded,
            engine::model::NodePhase::Failed => ExecPhase::Failed,
            _ => ExecPhase::Error,
        },
        exit_code: None,
        message: o.message,
        result: o.outputs.and_then(|out| out.result),
        output_parameters: Vec::new(),
        output_artifacts: Vec::new(),
        started_at: o.started_at.unwrap_or_else(|| now.clone()),
        finished_at: o.finished_at.unwrap_or(now),
    })
}

/// `trellis exec --install DEST`: copies the running `trellis` binary to `dest` (mode 0755), as
/// the init container of every step Pod does into the Pod's shared volume.
pub fn install_self(dest: &Path) -> Result<(), ExecError> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |source| ExecError::File {
        path: dest.to_path_buf(),
        source,
    };
    let me = std::env::current_exe().map_err(fail)?;
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = crate::artifacts::archive::with_suffix(dest, ".tmp");
    std::fs::copy(&me, &tmp).map_err(fail)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).map_err(fail)?;
    std::fs::rename(&tmp, dest).map_err(fail)
}

/// Runs the step described by `spec` to its end, without files for the spec and the result and
/// without copying its output to this process's stdout/stderr (`main.log` is still written).
pub async fn run_spec(spec: &ExecSpec) -> ExecResult {
    run_spec_until(spec, std::future::pending()).await
}

/// Like [`run_spec`]; when `stop` resolves the command is stopped (SIGTERM to its process group,
/// SIGKILL after the grace period) and the result says "terminated".
pub async fn run_spec_until(spec: &ExecSpec, stop: impl Future<Output = ()>) -> ExecResult {
    run_logged(spec, stop, false).await
}

async fn run_logged(spec: &ExecSpec, stop: impl Future<Output = ()>, echo: bool) -> ExecResult {
    tracing::info!(node.id = %spec.node_id, pod.name = %spec.pod_name, "step starting");
    let result = run::execute(spec, stop, echo).await;
    tracing::info!(node.id = %spec.node_id, phase = ?result.phase, "step finished");
    result
}

/// Reads and parses a spec file.
pub async fn read_spec(spec_path: &Path) -> Result<ExecSpec, ExecError> {
    let bytes = tokio::fs::read(spec_path)
        .await
        .map_err(|source| ExecError::ReadSpec {
            path: spec_path.to_path_buf(),
            source,
        })?;
    serde_json::from_slice(&bytes).map_err(|source| ExecError::ParseSpec {
        path: spec_path.to_path_buf(),
        source,
    })
}

/// Writes `<work_dir>/result.json` atomically (a temporary file renamed over it).
pub async fn write_result(work_dir: &Path, result: &ExecResult) -> Result<(), ExecError> {
    let json = serde_json::to_vec_pretty(result).map_err(ExecError::EncodeResult)?;
    write_atomically(&work_dir.join(RESULT_FILE), &json).await
}

async fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ExecError> {
    let tmp = crate::artifacts::archive::with_suffix(path, ".tmp");
    let fail = |source| ExecError::File {
        path: path.to_path_buf(),
        source,
    };
    tokio::fs::write(&tmp, bytes).await.map_err(fail)?;
    tokio::fs::rename(&tmp, path).await.map_err(fail)
}

/// Asks the exec running the step in `work_dir` to stop: leaves [`STOP_FILE`] for an exec that
/// has not published its pid yet, then sends SIGTERM to the pid in `exec.pid`. Returns `false`
/// when no exec is running there (yet, or any more).
pub fn request_stop(work_dir: &Path) -> Result<bool, ExecError> {
    let marker = work_dir.join(STOP_FILE);
    std::fs::create_dir_all(work_dir)
        .and_then(|()| std::fs::write(&marker, b""))
        .map_err(|source| ExecError::File {
            path: marker,
            source,
        })?;
    let path = work_dir.join(PID_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => return Err(ExecError::File { path, source }),
    };
    let pid = match text.trim().parse::<i32>() {
        // 0, 1 and negative ids would signal whole groups or init: never.
        Ok(pid) if pid > 1 => pid,
        _ => return Err(ExecError::BadPidFile { path }),
    };
    match kill(Pid::from_raw(pid), Signal::SIGTERM) {
        Ok(()) => Ok(true),
        Err(nix::Error::ESRCH) => Ok(false),
        Err(source) => Err(ExecError::Signal { pid, source }),
    }
}
