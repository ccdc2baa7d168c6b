//! One step from spec to result: place inputs, start the command, wait, collect outputs.
//!
//! Every problem of the step itself becomes a result (phase Error or Failed with a message); only
//! problems of exec's own (its log file) are errors.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

use super::logs::LogLine;
use super::message::{describe_ending, describe_spawn_error, with_not_found};
use super::outputs::{place_inputs, read_parameters, resolve, store_outputs};
use super::process::{Outcome, run_command};
use super::spec::{ExecPhase, ExecResult, ExecSpec};

/// The base `PATH` of every step (Debian's, `/usr/games` included).
pub const BASE_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games";

/// The grace period between SIGTERM and SIGKILL when the spec gives none (Kubernetes' default).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

const NO_COMMAND: &str = "no command: the image's entrypoint is not known locally; set `command:`";

/// The name of the step's log file in its work directory.
pub const LOG_FILE: &str = "main.log";

/// Runs the step described by `spec`; `stop` resolving stops it (SIGTERM, then SIGKILL). With
/// `echo`, the command's output is also copied to this process's stdout/stderr.
pub(crate) async fn execute(
    spec: &ExecSpec,
    stop: impl Future<Output = ()>,
    echo: bool,
) -> ExecResult {
    let mut result = ExecResult::error(None, now());
    if let Err(message) = run_step(spec, stop, echo, &mut result).await {
        result.message = Some(message);
    }
    result.finished_at = now();
    result
}

/// Now, as exec's results write times (RFC 3339, whole seconds).
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Fills `result`; an `Err` is the message of a step that could not run (phase Error).
async fn run_step(
    spec: &ExecSpec,
    stop: impl Future<Output = ()>,
    echo: bool,
    result: &mut ExecResult,
) -> Result<(), String> {
    let cwd = command_dir(spec);
    prepare_dirs(spec, &cwd).await?;
    place_inputs(&spec.input_artifacts, &cwd).await?;
    let argv = build_argv(spec).await?;
    let Some((program, args)) = argv.split_first() else {
        return Err(NO_COMMAND.into());
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .envs(environment(spec))
        .current_dir(&cwd);
    let grace = spec
        .termination_grace_seconds
        .map_or(DEFAULT_GRACE, Duration::from_secs);
    let log = spec.work_dir.join(LOG_FILE);
    let outcome = run_command(command, &log, grace, echo, stop)
        .await
        .map_err(|e| spawn_message(spec, program, &e))?;
    if let Some(e) = &outcome.log_error {
        tracing::warn!(node.id = %spec.node_id, error = %e, "the step's log is incomplete");
    }
    finish(spec, &cwd, outcome, result).await;
    Ok(())
}

/// Sets phase, exit code and message from how the command ended, then collects the outputs.
async fn finish(spec: &ExecSpec, cwd: &Path, outcome: Outcome, result: &mut ExecResult) {
    let (phase, exit_code, mut message) = describe_ending(outcome.ending, outcome.stopped);
    if exit_code == Some(NOT_FOUND_EXIT)
        && let Some(m) = message.take()
    {
        let stderr = stderr_tail(&spec.work_dir.join(LOG_FILE)).await;
        message = Some(with_not_found(m, stderr.iter().map(String::as_str)));
    }
    result.phase = phase;
    result.exit_code = exit_code;
    result.message = message;
    if spec.capture_result {
        result.result = Some(outcome.stdout_tail.into_result());
    }
    if outcome.stopped {
        return;
    }
    let collected = async {
        let params = read_parameters(&spec.output_parameters, cwd).await?;
        let artifacts = store_outputs(&spec.output_artifacts, cwd).await?;
        Ok::<_, String>((params, artifacts))
    }
    .await;
    match collected {
        Ok((params, artifacts)) => {
            result.output_parameters = params;
            result.output_artifacts = artifacts;
        }
        Err(message) if result.phase == ExecPhase::Succeeded => {
            result.phase = ExecPhase::Error;
            result.message = Some(message);
        }
        Err(message) => {
            tracing::info!(node.id = %spec.node_id, %message, "outputs of a failed step not collected");
        }
    }
}

/// The exit code shells give a command they cannot find.
const NOT_FOUND_EXIT: i32 = 127;

/// How much of the end of `main.log` is searched for the shell's "not found" line.
const STDERR_TAIL_BYTES: u64 = 16 * 1024;

/// The stderr lines among the last bytes of `main.log`, oldest first (none when it cannot be
/// read: the message then stays Argo's plain one).
async fn stderr_tail(log: &Path) -> Vec<String> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let Ok(mut file) = tokio::fs::File::open(log).await else {
        return Vec::new();
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(STDERR_TAIL_BYTES);
    if file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    if file.read_to_end(&mut bytes).await.is_err() {
        return Vec::new();
    }
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|l| parse_log_line(l).ok())
        .filter(|l| l.s == super::logs::LogStream::Stderr)
        .map(|l| l.l)
        .collect()
}

/// The directory the command runs in: `workingDir`, else the step's work directory.
fn command_dir(spec: &ExecSpec) -> PathBuf {
    match &spec.working_dir {
        Some(dir) if !dir.is_empty() => resolve(&spec.work_dir, dir),
        _ if spec.in_pod => std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
        _ => spec.work_dir.clone(),
    }
}

async fn prepare_dirs(spec: &ExecSpec, cwd: &Path) -> Result<(), String> {
    for dir in [cwd.to_path_buf(), spec.work_dir.join("home")] {
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// `argv`, with the script written to `<work_dir>/script` and its path appended (Argo's way).
async fn build_argv(spec: &ExecSpec) -> Result<Vec<String>, String> {
    let mut argv = spec.argv.clone();
    if let Some(source) = &spec.script {
        if argv.is_empty() {
            return Err(NO_COMMAND.into());
        }
        let path = spec.work_dir.join("script");
        write_script(&path, source)
            .await
            .map_err(|e| format!("cannot write the script to {}: {e}", path.display()))?;
        argv.push(path.display().to_string());
    }
    Ok(argv)
}

async fn write_script(path: &Path, source: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    tokio::fs::write(path, source).await?;
    tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).await
}

/// The step's environment: the base (`PATH`, `HOME`, `LANG`, `HOSTNAME` = the pod name), then the spec's.
/// In a pod ([`ExecSpec::in_pod`]) the base is exec's own environment without the variables
/// that carried exec's spec (`TRELLIS_*`).
pub(crate) fn environment(spec: &ExecSpec) -> Vec<(String, String)> {
    let mut env = if spec.in_pod {
        std::env::vars()
            .filter(|(name, _)| !name.starts_with("TRELLIS_"))
            .collect()
    } else {
        let home = spec.work_dir.join("home").display().to_string();
        vec![
            ("PATH".to_string(), BASE_PATH.to_string()),
            ("HOME".to_string(), home),
            ("LANG".to_string(), "C.UTF-8".to_string()),
            ("HOSTNAME".to_string(), spec.pod_name.clone()),
        ]
    };
    for var in &spec.env {
        env.retain(|(name, _)| name != &var.name);
        env.push((var.name.clone(), var.value.clone()));
    }
    env
}

fn spawn_message(spec: &ExecSpec, program: &str, error: &std::io::Error) -> String {
    let path = environment(spec)
        .into_iter()
        .find(|(name, _)| name == "PATH")
        .map(|(_, value)| value)
        .unwrap_or_default();
    let found = find_program(program, &path, &command_dir(spec)).is_some();
    describe_spawn_error(program, spec.image.as_deref(), found, error)
}

/// Where `program` is: itself when it contains a `/`, else the first match on `path`.
pub(crate) fn find_program(program: &str, path: &str, cwd: &Path) -> Option<PathBuf> {
    if program.contains('/') {
        let candidate = resolve(cwd, program);
        return candidate.exists().then_some(candidate);
    }
    path.split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(dir).join(program))
        .find(|candidate| candidate.is_file())
}

/// Parses one line of `main.log`.
pub fn parse_log_line(line: &str) -> Result<LogLine, serde_json::Error> {
    serde_json::from_str(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::spec::EnvVar;

    fn spec() -> ExecSpec {
        serde_json::from_value(serde_json::json!({
            "nodeId": "wf-1", "podName": "wf-main-1", "workDir": "/w/s1",
            "env": [{"name": "PATH", "value": "/opt/bin"}, {"name": "X", "value": "1"}]
        }))
        .expect("a valid spec")
    }

    #[test]
    fn the_spec_environment_overrides_the_base() {
        let env = environment(&spec());
        let get = |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("PATH"), Some("/opt/bin"));
        assert_eq!(get("HOME"), Some("/w/s1/home"));
        assert_eq!(get("LANG"), Some("C.UTF-8"));
        assert_eq!(get("HOSTNAME"), Some("wf-main-1"));
        assert_eq!(get("X"), Some("1"));
        assert_eq!(env.iter().filter(|(k, _)| k == "PATH").count(), 1);
    }

    #[test]
    fn base_path_includes_games() {
        let mut s = spec();
        s.env = vec![EnvVar {
            name: "Y".into(),
            value: "2".into(),
        }];
        let env = environment(&s);
        assert!(
            env.iter()
                .any(|(k, v)| k == "PATH" && v.contains("/usr/games"))
        );
    }

    #[test]
    fn programs_are_found_like_a_shell_would() {
        assert!(find_program("sh", BASE_PATH, Path::new("/")).is_some());
        assert!(find_program("/bin/sh", "", Path::new("/")).is_some());
        assert!(find_program("no-such-program-xyz", BASE_PATH, Path::new("/")).is_none());
    }

    #[test]
    fn working_dir_defaults_to_the_work_dir() {
        let mut s = spec();
        assert_eq!(command_dir(&s), PathBuf::from("/w/s1"));
        s.working_dir = Some("/src".into());
        assert_eq!(command_dir(&s), PathBuf::from("/src"));
    }
}
