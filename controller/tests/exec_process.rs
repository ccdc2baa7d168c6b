//! `trellis exec` as a real process: this test binary doubles as the exec binary
//! (`<this binary> exec --spec <file>`), so signals, the result file and the bubblewrap sandbox are
//! exercised exactly as the local backend uses them. Runs without libtest (`harness = false`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Output, Stdio};
use std::time::{Duration, Instant};

use controller::exec::{
    ExecPhase, ExecResult, ExecSpec, Mount, OutputParameter, Sandbox, bwrap_command, request_stop,
    run_exec, sandbox_available,
};

/// One test: `Err` says what went wrong.
type TestFn = fn() -> Result<(), String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("exec") {
        return exec_main(&args[2..]);
    }
    let tests: [(&str, TestFn); 7] = [
        (
            "run_exec_writes_the_result_file",
            run_exec_writes_the_result_file,
        ),
        (
            "an_unreadable_spec_fails_exec_itself",
            an_unreadable_spec_fails_exec_itself,
        ),
        (
            "sigterm_stops_exec_and_its_whole_group",
            sigterm_stops_exec_and_its_whole_group,
        ),
        (
            "sandboxed_steps_have_their_own_tmp",
            sandboxed_steps_have_their_own_tmp,
        ),
        (
            "sandbox_mounts_are_shared_between_steps",
            sandbox_mounts_are_shared_between_steps,
        ),
        (
            "a_sandboxed_step_stops_on_request",
            a_sandboxed_step_stops_on_request,
        ),
        (
            "a_stop_asked_before_exec_starts_is_not_lost",
            a_stop_asked_before_exec_starts_is_not_lost,
        ),
    ];
    let filter = args.iter().skip(1).find(|a| !a.starts_with('-'));
    let mut failed = 0;
    let mut passed = 0;
    for (name, test) in tests {
        if filter.is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        match test() {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(e) => {
                failed += 1;
                println!("test {name} ... FAILED\n  {e}");
            }
        }
    }
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    println!("\ntest result: {verdict}. {passed} passed; {failed} failed; 0 ignored");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// What `trellis exec --spec <file>` does.
fn exec_main(args: &[String]) -> ExitCode {
    let Some(spec) = args
        .iter()
        .position(|a| a == "--spec")
        .and_then(|i| args.get(i + 1))
    else {
        eprintln!("usage: exec --spec <file>");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("exec: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_exec(Path::new(spec))) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("exec: {e}");
            ExitCode::FAILURE
        }
    }
}

fn ensure(condition: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(what()) }
}

fn work_dir() -> Result<tempfile::TempDir, String> {
    // Not under /tmp: inside the sandbox /tmp is the step's own directory.
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).map_err(|e| e.to_string())
}

fn spec(work_dir: &Path, script: &str) -> ExecSpec {
    ExecSpec {
        node_id: "wf-1".into(),
        pod_name: "wf-main-1".into(),
        image: None,
        argv: vec!["sh".into(), "-c".into(), script.into()],
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
        termination_grace_seconds: Some(5),
    }
}

fn write_spec(spec: &ExecSpec) -> Result<PathBuf, String> {
    let path = spec.work_dir.join("spec.json");
    let json = serde_json::to_vec(spec).map_err(|e| e.to_string())?;
    std::fs::write(&path, json).map_err(|e| e.to_string())?;
    Ok(path)
}

fn exec_command(spec: &ExecSpec) -> Result<Command, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let spec_path = write_spec(spec)?;
    let mut command = match &spec.sandbox {
        None => {
            let mut c = Command::new(exe);
            c.arg("exec").arg("--spec").arg(&spec_path);
            c
        }
        Some(sandbox) => {
            let bwrap = sandbox_available().ok_or(
                "bubblewrap is required for the sandbox tests: install it (`apt-get install bubblewrap`) \
                 and allow unprivileged user namespaces",
            )?;
            bwrap_command(&bwrap, &exe, &spec_path, sandbox, &spec.work_dir)
        }
    };
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Ok(command)
}

fn start(spec: &ExecSpec) -> Result<Child, String> {
    exec_command(spec)?.spawn().map_err(|e| e.to_string())
}

fn finish(child: Child, work_dir: &Path) -> Result<(ExecResult, Output), String> {
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    ensure(output.status.success(), || {
        format!(
            "exec failed: {:?} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    let text = std::fs::read_to_string(work_dir.join("result.json")).map_err(|e| e.to_string())?;
    let result = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    Ok((result, output))
}

fn wait_for_file(path: &Path) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.ends_with('\n')
        {
            return Ok(text);
        }
        ensure(Instant::now() < deadline, || {
            format!("{} never appeared", path.display())
        })?;
        std::thread::sleep(Duration::from_millis(20));
    }
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

fn expect_phase(r: &ExecResult, phase: ExecPhase, message: Option<&str>) -> Result<(), String> {
    ensure(r.phase == phase && r.message.as_deref() == message, || {
        format!("{r:#?}")
    })
}

fn run_exec_writes_the_result_file() -> Result<(), String> {
    let dir = work_dir()?;
    let (r, output) = finish(
        start(&spec(dir.path(), "echo hello; echo oops >&2"))?,
        dir.path(),
    )?;
    expect_phase(&r, ExecPhase::Succeeded, None)?;
    ensure(r.result.as_deref() == Some("hello"), || format!("{r:#?}"))?;
    ensure(
        output.stdout == b"hello\n" && output.stderr == b"oops\n",
        || format!("exec's own output: {output:?}"),
    )?;
    let leftovers: Vec<_> = ["exec.pid", "result.json.tmp"]
        .into_iter()
        .filter(|f| dir.path().join(f).exists())
        .collect();
    ensure(leftovers.is_empty(), || {
        format!("left behind: {leftovers:?}")
    })
}

fn an_unreadable_spec_fails_exec_itself() -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new(exe)
        .args(["exec", "--spec", "/nonexistent/spec.json"])
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure(
        !output.status.success() && stderr.contains("cannot read the spec /nonexistent/spec.json"),
        || format!("{:?}: {stderr}", output.status),
    )
}

fn stop_and_check(dir: &Path, child: Child) -> Result<(), String> {
    let pid: i32 = wait_for_file(&dir.join("grandchild.pid"))?
        .trim()
        .parse()
        .map_err(|e| format!("{e}"))?;
    let asked = request_stop(dir).map_err(|e| e.to_string())?;
    ensure(asked, || "exec.pid did not name a running exec".into())?;
    let started = Instant::now();
    let (r, _) = finish(child, dir)?;
    ensure(started.elapsed() < Duration::from_secs(10), || {
        format!("{:?}", started.elapsed())
    })?;
    expect_phase(&r, ExecPhase::Failed, Some("terminated"))?;
    std::thread::sleep(Duration::from_millis(200));
    ensure(is_gone(pid), || format!("grandchild {pid} survived"))?;
    let again = request_stop(dir).map_err(|e| e.to_string())?;
    ensure(!again, || "exec.pid still there after exec ended".into())
}

fn sigterm_stops_exec_and_its_whole_group() -> Result<(), String> {
    let dir = work_dir()?;
    let script = format!(
        "sleep 100 & echo $! > {}/grandchild.pid; wait",
        dir.path().display()
    );
    let child = start(&spec(dir.path(), &script))?;
    stop_and_check(dir.path(), child)
}

fn a_stop_asked_before_exec_starts_is_not_lost() -> Result<(), String> {
    let dir = work_dir()?;
    let asked = request_stop(dir.path()).map_err(|e| e.to_string())?;
    ensure(!asked, || "no exec runs yet, so none was signalled".into())?;
    let started = Instant::now();
    let child = start(&spec(dir.path(), "sleep 60"))?;
    let (r, _) = finish(child, dir.path())?;
    ensure(started.elapsed() < Duration::from_secs(10), || {
        format!("the step ran on for {:?}", started.elapsed())
    })?;
    expect_phase(&r, ExecPhase::Failed, Some("terminated"))
}

fn sandboxed(dir: &Path, script: &str, mounts: Vec<Mount>) -> ExecSpec {
    ExecSpec {
        sandbox: Some(Sandbox { mounts }),
        ..spec(dir, script)
    }
}

fn sandboxed_steps_have_their_own_tmp() -> Result<(), String> {
    let host_marker = std::env::temp_dir().join(format!("trellis-host-{}", std::process::id()));
    std::fs::write(&host_marker, "host").map_err(|e| e.to_string())?;
    let script = |value: &str| {
        format!(
            "test ! -e {} || exit 9; echo {value} > /tmp/out.txt; sleep 0.5; cat /tmp/out.txt",
            host_marker.display()
        )
    };
    let (a, b) = (work_dir()?, work_dir()?);
    let mut specs = [
        sandboxed(a.path(), &script("A"), vec![]),
        sandboxed(b.path(), &script("B"), vec![]),
    ];
    for s in &mut specs {
        s.output_parameters = vec![OutputParameter {
            name: "out".into(),
            path: "/tmp/out.txt".into(),
            default: None,
        }];
    }
    let children = [start(&specs[0])?, start(&specs[1])?];
    let mut results = Vec::new();
    for (child, dir) in children.into_iter().zip([a.path(), b.path()]) {
        results.push(finish(child, dir)?.0);
    }
    let _ = std::fs::remove_file(&host_marker);
    for (r, (value, dir)) in results.iter().zip([("A", a.path()), ("B", b.path())]) {
        expect_phase(r, ExecPhase::Succeeded, None)?;
        let param = r.output_parameters.first().map(|p| p.value.as_str());
        ensure(
            r.result.as_deref() == Some(value) && param == Some(value),
            || format!("{r:#?}"),
        )?;
        let on_host =
            std::fs::read_to_string(dir.join("tmp/out.txt")).map_err(|e| e.to_string())?;
        ensure(on_host == format!("{value}\n"), || {
            format!("host copy: {on_host:?}")
        })?;
    }
    Ok(())
}

fn sandbox_mounts_are_shared_between_steps() -> Result<(), String> {
    let vol = work_dir()?;
    let mount = |read_only| Mount {
        host: vol.path().to_path_buf(),
        path: "/mnt/vol".into(),
        read_only,
    };
    let a = work_dir()?;
    let (r, _) = finish(
        start(&sandboxed(
            a.path(),
            "echo shared > /mnt/vol/shared.txt",
            vec![mount(false)],
        ))?,
        a.path(),
    )?;
    expect_phase(&r, ExecPhase::Succeeded, None)?;
    let b = work_dir()?;
    let script = "cat /mnt/vol/shared.txt; echo no > /mnt/vol/other.txt";
    let (r, _) = finish(
        start(&sandboxed(b.path(), script, vec![mount(true)]))?,
        b.path(),
    )?;
    expect_phase(&r, ExecPhase::Failed, Some("Error (exit code 2)"))?;
    ensure(r.result.as_deref() == Some("shared"), || format!("{r:#?}"))?;
    ensure(!vol.path().join("other.txt").exists(), || {
        "a read-only mount was written".into()
    })
}

fn a_sandboxed_step_stops_on_request() -> Result<(), String> {
    let dir = work_dir()?;
    let script = format!(
        "sleep 100 & echo $! > {}/grandchild.pid; wait",
        dir.path().display()
    );
    let child = start(&sandboxed(dir.path(), &script, vec![]))?;
    stop_and_check(dir.path(), child)
}
