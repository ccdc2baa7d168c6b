//! Running the command: a child process in its own process group, its output teed to the log, and
//! stopping it on request (SIGTERM to the whole group, SIGKILL after the grace period).
//!
//! When the command's main process ends, whatever it left running in its group is killed, as a
//! container's processes die with its main process.

use std::future::Future;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Command;
use tokio::sync::mpsc;

use super::logs::{LogStream, Tail, read_stream, write_log};
use super::message::Ending;

/// How long to wait for the pipes to drain after the process group is gone.
const DRAIN: Duration = Duration::from_secs(2);

/// What became of a command that started.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// How its main process ended.
    pub ending: Ending,
    /// Whether it was stopped on request.
    pub stopped: bool,
    /// The end of its stdout, for `outputs.result`.
    pub stdout_tail: Tail,
    /// A problem writing the log file, if there was one.
    pub log_error: Option<String>,
}

/// Starts `command` (stdin closed, stdout/stderr piped, own process group), tees its output into
/// `log` (and this process's stdout/stderr with `echo`), and waits for it; `stop` resolving asks it
/// to stop within `grace`.
///
/// Errors are spawn errors only: the command did not start.
pub(crate) async fn run_command(
    mut command: Command,
    log: &Path,
    grace: Duration,
    echo: bool,
    stop: impl Future<Output = ()>,
) -> std::io::Result<Outcome> {
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    let group = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let (tx, rx) = mpsc::channel(1024);
    let log_path: PathBuf = log.to_path_buf();
    let writer = tokio::task::spawn_blocking(move || write_log(rx, &log_path, echo));
    let out = child.stdout.take().map(|s| {
        tokio::spawn(read_stream(
            s,
            LogStream::Stdout,
            tx.clone(),
            Some(Tail::default()),
        ))
    });
    let err = child
        .stderr
        .take()
        .map(|s| tokio::spawn(read_stream(s, LogStream::Stderr, tx.clone(), None)));
    drop(tx);

    let (status, stopped) = wait_or_stop(&mut child, group, grace, stop).await?;
    signal_group(group, Signal::SIGKILL);
    let stdout_tail = drain(out).await.unwrap_or_default();
    drain(err).await;
    let log_error = writer.await.unwrap_or_else(|e| Some(e.to_string()));
    Ok(Outcome {
        ending: ending_of(status),
        stopped,
        stdout_tail,
        log_error,
    })
}

/// Waits for the child, or on `stop` sends SIGTERM to its group, then SIGKILL after `grace`.
async fn wait_or_stop(
    child: &mut tokio::process::Child,
    group: Option<Pid>,
    grace: Duration,
    stop: impl Future<Output = ()>,
) -> std::io::Result<(ExitStatus, bool)> {
    tokio::select! {
        status = child.wait() => return Ok((status?, false)),
        () = stop => {}
    }
    tracing::info!(grace_ms = grace.as_millis() as u64, "stopping the step");
    signal_group(group, Signal::SIGTERM);
    if let Ok(status) = tokio::time::timeout(grace, child.wait()).await {
        return Ok((status?, true));
    }
    signal_group(group, Signal::SIGKILL);
    Ok((child.wait().await?, true))
}

/// Sends `signal` to the process group; a group that is already gone is fine.
fn signal_group(group: Option<Pid>, signal: Signal) {
    if let Some(group) = group {
        let _ = killpg(group, signal);
    }
}

/// Waits a little for a pipe reader to see the end of its pipe; a process that left the group and
/// still holds the pipe open is not waited for.
async fn drain(task: Option<tokio::task::JoinHandle<Option<Tail>>>) -> Option<Tail> {
    let mut task = task?;
    match tokio::time::timeout(DRAIN, &mut task).await {
        Ok(joined) => joined.ok().flatten(),
        Err(_) => {
            task.abort();
            None
        }
    }
}

fn ending_of(status: ExitStatus) -> Ending {
    match (status.code(), status.signal()) {
        (Some(code), _) => Ending::Exited(code),
        (None, Some(signal)) => Ending::Signaled(signal),
        (None, None) => Ending::Exited(-1),
    }
}
