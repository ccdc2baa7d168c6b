//! Messages people understand for how a step ended, worded like Argo and Kubernetes where they have
//! words for it. Pure functions: the caller gathers the facts.

use std::io;

use nix::sys::signal::Signal;

use super::spec::ExecPhase;

/// How the command's process ended, as facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
}

/// The phase, exit code and message for an ending; `stopped` when the step was stopped on request.
pub(crate) fn describe_ending(
    ending: Ending,
    stopped: bool,
) -> (ExecPhase, Option<i32>, Option<String>) {
    let code = match ending {
        Ending::Exited(code) => code,
        Ending::Signaled(signal) => 128 + signal,
    };
    if stopped {
        return (ExecPhase::Failed, Some(code), Some("terminated".into()));
    }
    match ending {
        Ending::Exited(0) => (ExecPhase::Succeeded, Some(0), None),
        Ending::Exited(code) => (
            ExecPhase::Failed,
            Some(code),
            Some(format!("Error (exit code {code})")),
        ),
        Ending::Signaled(signal) => (
            ExecPhase::Failed,
            Some(code),
            Some(format!(
                "terminated by {} (signal {signal})",
                signal_name(signal)
            )),
        ),
    }
}

/// `SIGTERM` for 15, `signal 99` style fallback for numbers without a name.
pub(crate) fn signal_name(signal: i32) -> String {
    Signal::try_from(signal)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {signal}"))
}

/// Why the command could not be started, for a spawn error of `command`.
///
/// `found_on_path` tells whether `command` itself exists (so a "not found" is about its interpreter).
pub(crate) fn describe_spawn_error(
    command: &str,
    image: Option<&str>,
    found_on_path: bool,
    error: &io::Error,
) -> String {
    match error.kind() {
        io::ErrorKind::NotFound if !found_on_path => {
            let hint = match image {
                Some(image) => format!(
                    "the image \"{image}\" is not pulled locally; install the command or run on the \
                     Kubernetes backend"
                ),
                None => "install the command or run on the Kubernetes backend".to_string(),
            };
            format!("command \"{command}\" not found on this machine ({hint})")
        }
        io::ErrorKind::NotFound => format!(
            "command \"{command}\" could not start: its interpreter (the `#!` line) was not found"
        ),
        io::ErrorKind::PermissionDenied => {
            format!("command \"{command}\" could not start: permission denied (is it executable?)")
        }
        _ => format!("command \"{command}\" could not start: {}", go_style(error)),
    }
}

/// The message of a step that exited 127 ("command not found" in every shell), with the
/// shell's own line naming the command when its stderr has one: `Error (exit code 127): sh:
/// apk: not found`. `stderr` is the step's stderr, oldest line first.
pub(crate) fn with_not_found<'a>(
    message: String,
    stderr: impl DoubleEndedIterator<Item = &'a str>,
) -> String {
    let found = stderr
        .rev()
        .map(str::trim)
        .find(|l| l.ends_with("not found") || l.ends_with("command not found"));
    match found {
        Some(line) => format!("{message}: {line}"),
        None => message,
    }
}

/// An I/O error worded like Go's `os` package (`open /tmp/x: no such file or directory`).
pub(crate) fn go_style_io(op: &str, path: &str, error: &io::Error) -> String {
    format!("{op} {path}: {}", go_style(error))
}

fn go_style(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_127_names_the_missing_command_from_the_shell() {
        let m = || "Error (exit code 127)".to_string();
        assert_eq!(
            with_not_found(
                m(),
                ["fetching index", "sh: apk: not found", "done"].into_iter()
            ),
            "Error (exit code 127): sh: apk: not found"
        );
        assert_eq!(
            with_not_found(m(), ["bash: line 1: nc: command not found  "].into_iter()),
            "Error (exit code 127): bash: line 1: nc: command not found"
        );
        assert_eq!(
            with_not_found(m(), ["a: not found", "b: not found"].into_iter()),
            "Error (exit code 127): b: not found",
            "the last one is what ended the script"
        );
        assert_eq!(with_not_found(m(), ["nothing useful"].into_iter()), m());
    }

    #[test]
    fn endings_are_worded_like_argo() {
        let cases = [
            (
                Ending::Exited(0),
                false,
                ExecPhase::Succeeded,
                Some(0),
                None,
            ),
            (
                Ending::Exited(3),
                false,
                ExecPhase::Failed,
                Some(3),
                Some("Error (exit code 3)"),
            ),
            (
                Ending::Signaled(15),
                false,
                ExecPhase::Failed,
                Some(143),
                Some("terminated by SIGTERM (signal 15)"),
            ),
            (
                Ending::Signaled(9),
                false,
                ExecPhase::Failed,
                Some(137),
                Some("terminated by SIGKILL (signal 9)"),
            ),
            (
                Ending::Signaled(15),
                true,
                ExecPhase::Failed,
                Some(143),
                Some("terminated"),
            ),
            (
                Ending::Exited(0),
                true,
                ExecPhase::Failed,
                Some(0),
                Some("terminated"),
            ),
        ];
        for (ending, stopped, phase, code, message) in cases {
            let got = describe_ending(ending, stopped);
            assert_eq!(got, (phase, code, message.map(String::from)), "{ending:?}");
        }
    }

    #[test]
    fn spawn_errors_say_what_to_do() {
        let not_found = io::Error::from(io::ErrorKind::NotFound);
        assert_eq!(
            describe_spawn_error("cowsay", Some("docker/whalesay"), false, &not_found),
            "command \"cowsay\" not found on this machine (the image \"docker/whalesay\" is not \
             pulled locally; install the command or run on the Kubernetes backend)"
        );
        assert!(describe_spawn_error("x", None, true, &not_found).contains("interpreter"));
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert!(describe_spawn_error("./x", None, true, &denied).contains("permission denied"));
    }

    #[test]
    fn io_errors_read_like_go() {
        let not_found = io::Error::from(io::ErrorKind::NotFound);
        assert_eq!(
            go_style_io("open", "/tmp/x", &not_found),
            "open /tmp/x: no such file or directory"
        );
    }
}
