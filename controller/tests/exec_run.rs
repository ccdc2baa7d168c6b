//! `trellis exec` end to end with real processes and files: results, exit codes, messages, output
//! parameters, logs, streaming, stopping, and artifacts around a command.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use controller::artifacts::{ArchiveMode, ArtifactDestination, ArtifactSource};
use controller::exec::{
    EnvVar, ExecPhase, ExecResult, ExecSpec, InputArtifact, LogStream, OutputArtifact,
    OutputParameter, RESULT_CAP, parse_log_line, run_spec, run_spec_until,
};

fn spec(work_dir: &Path, argv: &[&str]) -> ExecSpec {
    ExecSpec {
        node_id: "wf-123".into(),
        pod_name: "wf-main-123".into(),
        image: Some("alpine:3".into()),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        script: None,
        env: Vec::new(),
        working_dir: None,
        work_dir: work_dir.to_path_buf(),
        input_artifacts: Vec::new(),
        output_parameters: Vec::new(),
        output_artifacts: Vec::new(),
        capture_result: true,
        sandbox: None,
        in_pod: false,
        termination_grace_seconds: None,
    }
}

fn sh(work_dir: &Path, script: &str) -> ExecSpec {
    spec(work_dir, &["sh", "-c", script])
}

fn log_lines(work_dir: &Path) -> Vec<(LogStream, String)> {
    std::fs::read_to_string(work_dir.join("main.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| parse_log_line(l).expect("a JSON log line"))
        .map(|l| (l.s, l.l))
        .collect()
}

fn assert_result(r: &ExecResult, phase: ExecPhase, code: Option<i32>, message: Option<&str>) {
    assert_eq!(r.phase, phase, "{r:#?}");
    assert_eq!(r.exit_code, code, "{r:#?}");
    assert_eq!(r.message.as_deref(), message, "{r:#?}");
}

/// Whether a process is gone (or only a zombie waiting for its reaper).
fn is_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

async fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.ends_with('\n')
        {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn echo_output_becomes_the_result_and_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run_spec(&spec(dir.path(), &["echo", "hello", "world"])).await;
    assert_result(&r, ExecPhase::Succeeded, Some(0), None);
    assert_eq!(r.result.as_deref(), Some("hello world"));
    assert_eq!(
        log_lines(dir.path()),
        vec![(LogStream::Stdout, "hello world".to_string())]
    );
    assert!(!r.started_at.is_empty() && r.finished_at >= r.started_at);
}

#[tokio::test]
async fn scripts_run_through_their_interpreter() {
    let cases = [
        (
            vec!["python3"],
            "import sys\nprint('py', 1 + 1)\nprint(sys.argv[0].endswith('/script'))\n",
            "py 2\nTrue",
        ),
        (vec!["sh"], "echo sh\necho $((2 + 3))\n", "sh\n5"),
        (vec!["bash", "-e"], "x=(a b c)\necho ${#x[@]}\n", "3"),
    ];
    for (command, source, expected) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = spec(dir.path(), &command);
        s.script = Some(source.into());
        let r = run_spec(&s).await;
        assert_result(&r, ExecPhase::Succeeded, Some(0), None);
        assert_eq!(r.result.as_deref(), Some(expected), "{command:?}");
    }
}

#[tokio::test]
async fn failures_are_worded_for_people() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_executable = dir.path().join("tool.sh");
    std::fs::write(&not_executable, "#!/bin/sh\necho hi\n").expect("write");
    let tool = not_executable.display().to_string();
    let cases: Vec<(Vec<&str>, ExecPhase, Option<i32>, &str)> = vec![
        (
            vec!["sh", "-c", "echo partial; exit 3"],
            ExecPhase::Failed,
            Some(3),
            "Error (exit code 3)",
        ),
        (
            vec!["sh", "-c", "echo before; no-such-tool-trellis --flag"],
            ExecPhase::Failed,
            Some(127),
            "no-such-tool-trellis: not found",
        ),
        (
            vec!["sh", "-c", "kill -TERM $$"],
            ExecPhase::Failed,
            Some(143),
            "terminated by SIGTERM (signal 15)",
        ),
        (
            vec!["no-such-command-trellis", "x"],
            ExecPhase::Error,
            None,
            "command \"no-such-command-trellis\" not found on this machine (the image \"alpine:3\" is \
             not pulled locally; install the command or run on the Kubernetes backend)",
        ),
        (
            vec![tool.as_str()],
            ExecPhase::Error,
            None,
            "could not start: permission denied (is it executable?)",
        ),
        (
            vec![],
            ExecPhase::Error,
            None,
            "no command: the image's entrypoint is not known locally; set `command:`",
        ),
    ];
    for (argv, phase, code, message) in cases {
        let r = run_spec(&spec(dir.path(), &argv)).await;
        assert_eq!((r.phase, r.exit_code), (phase, code), "{argv:?}: {r:#?}");
        let got = r.message.unwrap_or_default();
        assert!(got.ends_with(message), "{argv:?}: {got}");
        if code == Some(127) {
            assert!(got.starts_with("Error (exit code 127): sh: "), "{got}");
        }
    }
}

#[tokio::test]
async fn a_failed_step_still_reports_its_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run_spec(&sh(dir.path(), "echo partial; exit 3")).await;
    assert_eq!(r.result.as_deref(), Some("partial"));
}

#[tokio::test]
async fn output_parameters_come_from_files_or_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.txt").display().to_string();
    let missing = dir.path().join("missing.txt").display().to_string();
    let param = |name: &str, path: &str, default: Option<&str>| OutputParameter {
        name: name.into(),
        path: path.into(),
        default: default.map(String::from),
    };
    let mut s = sh(
        dir.path(),
        &format!("printf '42\\n\\n' > {out}; printf x > rel.txt"),
    );
    s.output_parameters = vec![
        param("answer", &out, None),
        param("relative", "rel.txt", None),
        param("fallback", &missing, Some("dflt\n")),
    ];
    let r = run_spec(&s).await;
    assert_result(&r, ExecPhase::Succeeded, Some(0), None);
    let values: Vec<(&str, &str)> = r
        .output_parameters
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        values,
        vec![("answer", "42\n"), ("relative", "x"), ("fallback", "dflt")]
    );

    s.output_parameters.push(param("needed", &missing, None));
    let r = run_spec(&s).await;
    let expected =
        format!("output parameter \"needed\": open {missing}: no such file or directory");
    assert_result(&r, ExecPhase::Error, Some(0), Some(&expected));
}

#[tokio::test]
async fn stdout_and_stderr_keep_their_order_in_one_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script =
        "echo o1; sleep 0.1; echo e1 >&2; sleep 0.1; echo o2; sleep 0.1; echo e2 >&2; printf tail";
    let r = run_spec(&sh(dir.path(), script)).await;
    assert_result(&r, ExecPhase::Succeeded, Some(0), None);
    let expected: Vec<(LogStream, String)> = [
        (LogStream::Stdout, "o1"),
        (LogStream::Stderr, "e1"),
        (LogStream::Stdout, "o2"),
        (LogStream::Stderr, "e2"),
        (LogStream::Stdout, "tail"),
    ]
    .into_iter()
    .map(|(s, l)| (s, l.to_string()))
    .collect();
    assert_eq!(log_lines(dir.path()), expected);
    assert_eq!(r.result.as_deref(), Some("o1\no2\ntail"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_grows_while_the_step_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = sh(
        dir.path(),
        "for i in $(seq 1 20); do echo line $i; sleep 0.1; done",
    );
    let task = tokio::spawn(async move { run_spec(&s).await });
    let mut seen_while_running = Vec::new();
    while !task.is_finished() {
        let n = log_lines(dir.path()).len();
        if n > 0 && !task.is_finished() {
            seen_while_running.push(n);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = task.await.expect("join");
    assert_eq!(r.phase, ExecPhase::Succeeded);
    assert_eq!(log_lines(dir.path()).len(), 20);
    let first = seen_while_running.first().copied().unwrap_or(0);
    let last = seen_while_running.last().copied().unwrap_or(0);
    assert!(
        first > 0 && first < 20 && last > first,
        "{seen_while_running:?}"
    );
}

#[tokio::test]
async fn large_output_keeps_the_last_256_kb_as_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = spec(
        dir.path(),
        &[
            "python3",
            "-c",
            "import sys; sys.stdout.write('a' * 300000 + 'end\\n')",
        ],
    );
    let r = run_spec(&s).await;
    let result = r.result.unwrap_or_default();
    assert_eq!(result.len(), RESULT_CAP);
    assert!(result.ends_with("aaend"));
    let lines = log_lines(dir.path());
    assert_eq!(lines.iter().map(|(_, l)| l.len()).sum::<usize>(), 300003);
}

#[tokio::test]
async fn stopping_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("grandchild.pid");
    let s = sh(
        dir.path(),
        &format!(
            "sleep 100 & echo $! > {}; echo started; wait",
            marker.display()
        ),
    );
    let marker_for_stop = marker.clone();
    let started = Instant::now();
    let r = run_spec_until(&s, async move {
        wait_for_file(&marker_for_stop).await;
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_result(&r, ExecPhase::Failed, Some(143), Some("terminated"));
    let pid: i32 = wait_for_file(&marker).await.trim().parse().expect("pid");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(is_gone(pid), "grandchild {pid} survived");
}

#[tokio::test]
async fn a_step_ignoring_sigterm_is_killed_after_the_grace_period() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("ready");
    let mut s = sh(
        dir.path(),
        &format!("trap '' TERM; echo ready > {}; sleep 100", marker.display()),
    );
    s.termination_grace_seconds = Some(1);
    let started = Instant::now();
    let r = run_spec_until(&s, async move {
        wait_for_file(&marker).await;
    })
    .await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert_result(&r, ExecPhase::Failed, Some(137), Some("terminated"));
}

#[tokio::test]
async fn processes_left_behind_die_with_the_main_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("bg.pid");
    let s = sh(
        dir.path(),
        &format!("sleep 100 & echo $! > {}; echo done", marker.display()),
    );
    let started = Instant::now();
    let r = run_spec(&s).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_result(&r, ExecPhase::Succeeded, Some(0), None);
    assert_eq!(r.result.as_deref(), Some("done"));
    let pid: i32 = wait_for_file(&marker).await.trim().parse().expect("pid");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(is_gone(pid), "background process {pid} survived");
}

#[tokio::test]
async fn environment_and_working_dir_are_the_steps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = sh(
        dir.path(),
        "echo \"$FOO|$LANG|$HOSTNAME|$(pwd)\"; test \"$HOME\" = \"$W/home\" && test -d \"$HOME\"",
    );
    s.env = vec![
        EnvVar {
            name: "FOO".into(),
            value: "bar baz".into(),
        },
        EnvVar {
            name: "W".into(),
            value: dir.path().display().to_string(),
        },
    ];
    s.working_dir = Some(dir.path().join("src/app").display().to_string());
    let r = run_spec(&s).await;
    assert_result(&r, ExecPhase::Succeeded, Some(0), None);
    let expected = format!(
        "bar baz|C.UTF-8|wf-main-123|{}",
        dir.path().join("src/app").display()
    );
    assert_eq!(r.result.as_deref(), Some(expected.as_str()));
}

#[tokio::test]
async fn input_artifacts_are_placed_before_the_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = sh(dir.path(), "cat in/raw.txt; stat -c %a in/raw.txt");
    s.input_artifacts = vec![
        InputArtifact {
            name: "raw".into(),
            path: "in/raw.txt".into(),
            source: ArtifactSource::Raw {
                data: "hi there\n".into(),
            },
            mode: Some(0o600),
            optional: false,
        },
        InputArtifact {
            name: "maybe".into(),
            path: "in/maybe".into(),
            source: ArtifactSource::Local {
                root: dir.path().join("repo"),
                key: "nope.tgz".into(),
            },
            mode: None,
            optional: true,
        },
    ];
    let r = run_spec(&s).await;
    assert_result(&r, ExecPhase::Succeeded, Some(0), None);
    assert_eq!(r.result.as_deref(), Some("hi there\n600"));

    s.input_artifacts[1].optional = false;
    let r = run_spec(&s).await;
    assert_eq!(r.phase, ExecPhase::Error);
    let message = r.message.unwrap_or_default();
    assert!(
        message.starts_with("input artifact \"maybe\": ")
            && message.ends_with("no such file or directory"),
        "{message}"
    );
}

fn output(name: &str, path: &str, repo: &Path, key: &str, archive: ArchiveMode) -> OutputArtifact {
    OutputArtifact {
        name: name.into(),
        path: path.into(),
        destination: ArtifactDestination::Local {
            root: repo.to_path_buf(),
            key: key.into(),
        },
        archive,
        optional: false,
    }
}

/// The next step's inputs: the outputs of a result, placed at `paths`.
fn inputs_from(r: &ExecResult, paths: &[&str]) -> Vec<InputArtifact> {
    r.output_artifacts
        .iter()
        .zip(paths)
        .map(|(a, path)| InputArtifact {
            name: a.name.clone(),
            path: path.to_string(),
            source: a.location.clone(),
            mode: None,
            optional: false,
        })
        .collect()
}

#[tokio::test]
async fn output_artifacts_flow_into_the_next_step() {
    let repo = tempfile::tempdir().expect("tempdir");
    let first = tempfile::tempdir().expect("tempdir");
    let script =
        "mkdir -p out/sub && echo a > out/a.txt && echo b > out/sub/b.txt && echo one > one.txt";
    let mut s = sh(first.path(), script);
    let absent = output(
        "absent",
        "nothing",
        repo.path(),
        "wf/x.tgz",
        ArchiveMode::default(),
    );
    s.output_artifacts = vec![
        output(
            "dir",
            "out",
            repo.path(),
            "wf/pod-1/dir.tgz",
            ArchiveMode::default(),
        ),
        output(
            "file",
            "one.txt",
            repo.path(),
            "wf/pod-1/file.tgz",
            ArchiveMode::default(),
        ),
        output(
            "plain",
            "one.txt",
            repo.path(),
            "wf/pod-1/one.txt",
            ArchiveMode::None {},
        ),
        OutputArtifact {
            optional: true,
            ..absent
        },
    ];
    let r = run_spec(&s).await;
    assert_result(&r, ExecPhase::Succeeded, Some(0), None);
    let names: Vec<&str> = r.output_artifacts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, vec!["dir", "file", "plain"]);

    let second = tempfile::tempdir().expect("tempdir");
    let mut next = sh(
        second.path(),
        "cat in/d/a.txt in/d/sub/b.txt in/f.txt in/p.txt",
    );
    next.input_artifacts = inputs_from(&r, &["in/d", "in/f.txt", "in/p.txt"]);
    let r = run_spec(&next).await;
    assert_result(&r, ExecPhase::Succeeded, Some(0), None);
    assert_eq!(r.result.as_deref(), Some("a\nb\none\none"));
}

#[tokio::test]
async fn a_missing_required_output_artifact_names_its_path() {
    let repo = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = sh(dir.path(), "true");
    let missing: PathBuf = dir.path().join("never");
    s.output_artifacts = vec![output(
        "gone",
        &missing.display().to_string(),
        repo.path(),
        "k.tgz",
        ArchiveMode::default(),
    )];
    let r = run_spec(&s).await;
    let expected = format!(
        "output artifact \"gone\": {}: no such file or directory",
        missing.display()
    );
    assert_result(&r, ExecPhase::Error, Some(0), Some(&expected));
}
