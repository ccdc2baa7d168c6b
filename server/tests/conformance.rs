//! Runs every Argo example that INDEX.tsv expects to succeed (empty skip reason) on the local
//! backend with `trellis run`, and prints `N/122 Succeeded` plus, for each one that did not,
//! why. Every example must end (no hang, no panic) with either Succeeded or a reason.
//!
//! "Succeeded" is what Argo's own examples test (`test/e2e/examples_test.go`) means by it: a
//! file with a Workflow or CronWorkflow must run to Succeeded; a file holding only other objects
//! (WorkflowTemplates, ClusterWorkflowTemplates, ConfigMaps, PersistentVolumeClaims,
//! WorkflowEventBindings…) must be accepted — Argo applies those and runs nothing. Trellis still
//! tries to run such a file's template standalone and counts it as run when that succeeds; when
//! it does not (a parameter only a caller supplies, an image's tool missing here) the file
//! counts as applied if `trellis lint` accepts it, and the standalone run's reason is printed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The target: 90% of the 122 succeed.
const TARGET: f64 = 0.90;
const TIMEOUT: Duration = Duration::from_secs(180);

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/argo-examples")
}

fn runnable() -> Vec<String> {
    let index = std::fs::read_to_string(examples_dir().join("INDEX.tsv")).expect("INDEX.tsv");
    index
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let file = cols.next()?;
            let reason = cols.next().unwrap_or("");
            reason.is_empty().then(|| file.to_string())
        })
        .collect()
}

/// How one example ended.
struct Outcome {
    file: String,
    /// `Succeeded`, `Applied` (see the module docs), or how it failed.
    phase: String,
    reason: String,
    secs: f64,
}

/// The `kind:` of each document in a manifest file.
fn kinds(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("kind:"))
        .map(|k| k.trim().to_string())
        .collect()
}

/// Whether Argo's examples test runs the file (it has something to run) rather than applying it.
fn runs_in_argo(text: &str) -> bool {
    kinds(text)
        .iter()
        .any(|k| k == "Workflow" || k == "CronWorkflow")
}

/// Whether Trellis accepts every object of the file (`trellis lint` exits 0).
fn accepted(file: &str) -> Result<(), String> {
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .arg("lint")
        .arg(examples_dir().join(file))
        .output()
        .expect("run trellis lint");
    if out.status.success() {
        return Ok(());
    }
    Err(String::from_utf8_lossy(&out.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&out.stderr).lines())
        .find(|l| l.starts_with("error"))
        .unwrap_or("trellis lint failed")
        .to_string())
}

/// [`run_one`], then for a file Argo only applies, whether Trellis accepts it.
fn judge(file: &str, data: &Path) -> Outcome {
    let ran = run_one(file, data);
    let text = std::fs::read_to_string(examples_dir().join(file)).unwrap_or_default();
    if ran.phase == "Succeeded" || ran.phase == "Timeout" || runs_in_argo(&text) {
        return ran;
    }
    let mut held = kinds(&text);
    held.sort();
    held.dedup();
    match accepted(file) {
        Ok(()) => Outcome {
            phase: "Applied".into(),
            reason: format!(
                "only {}, no Workflow; accepted. Run standalone: {} ({})",
                held.join(", "),
                ran.phase,
                ran.reason
            ),
            ..ran
        },
        Err(e) => Outcome {
            reason: format!("{}; not accepted either: {e}", ran.reason),
            ..ran
        },
    }
}

/// Reads a pipe to its end on a thread of its own.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

fn run_one(file: &str, data: &Path) -> Outcome {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(["run", "-o", "json", "--data-dir"])
        .arg(data)
        .arg("--load")
        .arg(examples_dir())
        .arg(examples_dir().join(file))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start trellis");
    // Drain both pipes while the run goes on: a large `-o json` must never block the child.
    let stdout = drain(child.stdout.take().expect("stdout is piped"));
    let stderr = drain(child.stderr.take().expect("stderr is piped"));
    let deadline = Instant::now() + TIMEOUT;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Outcome {
                file: file.into(),
                phase: "Timeout".into(),
                reason: format!("did not finish in {}s", TIMEOUT.as_secs()),
                secs: TIMEOUT.as_secs_f64(),
            };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let secs = started.elapsed().as_secs_f64();
    let stdout = stdout.join().expect("stdout reader");
    let stderr = String::from_utf8_lossy(&stderr.join().expect("stderr reader")).to_string();
    let Ok(wf) = serde_json::from_slice::<serde_json::Value>(&stdout) else {
        let first = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output")
            .to_string();
        return Outcome {
            file: file.into(),
            phase: "Rejected".into(),
            reason: first,
            secs,
        };
    };
    let phase = wf["status"]["phase"].as_str().unwrap_or("?").to_string();
    let mut reasons: Vec<String> = Vec::new();
    if let Some(m) = wf["status"]["message"].as_str() {
        reasons.push(m.to_string());
    }
    if let Some(nodes) = wf["status"]["nodes"].as_object() {
        for n in nodes.values() {
            let p = n["phase"].as_str().unwrap_or("");
            if (p == "Failed" || p == "Error")
                && n["type"] != "Steps"
                && n["type"] != "DAG"
                && n["type"] != "StepGroup"
                && n["type"] != "Retry"
            {
                let msg = n["message"].as_str().unwrap_or("");
                let line = format!("{}: {msg}", n["displayName"].as_str().unwrap_or(""));
                if !reasons.contains(&line) {
                    reasons.push(line);
                }
            }
        }
    }
    Outcome {
        file: file.into(),
        phase,
        reason: reasons.join("; "),
        secs,
    }
}

#[test]
fn argo_examples_run_on_the_local_backend() {
    let files = runnable();
    assert_eq!(files.len(), 122, "INDEX.tsv lists 122 runnable examples");
    let root = std::env::temp_dir().join(format!("trellis-conformance-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    // Daemons and sidecars listen on fixed ports of this machine (80, 8086), as they would in
    // a pod of their own: those examples run one at a time, on the first worker.
    let (exclusive, shared): (Vec<_>, Vec<_>) = files.iter().enumerate().partition(|(_, f)| {
        let text = std::fs::read_to_string(examples_dir().join(f)).unwrap_or_default();
        text.contains("daemon: true") || text.contains("sidecars:")
    });
    let exclusive = Mutex::new(exclusive);
    let queue = Mutex::new(shared);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for worker in 0..4 {
            let (exclusive, queue, results, root) = (&exclusive, &queue, &results, &root);
            s.spawn(move || {
                loop {
                    let mine = (worker == 0)
                        .then(|| exclusive.lock().unwrap().pop())
                        .flatten();
                    let Some((i, f)) = mine.or_else(|| queue.lock().unwrap().pop()) else {
                        return;
                    };
                    let o = judge(f, &root.join(i.to_string()));
                    results.lock().unwrap().push(o);
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.file.cmp(&b.file));
    let ran = results.iter().filter(|o| o.phase == "Succeeded").count();
    let applied: Vec<_> = results.iter().filter(|o| o.phase == "Applied").collect();
    let ok = ran + applied.len();
    println!(
        "\n{ok}/{} Succeeded ({ran} ran to Succeeded, {} applied: files without a Workflow, \
         which Argo's examples test applies and does not run)",
        results.len(),
        applied.len()
    );
    for o in &applied {
        println!("  ✔ {} — applied: {}", o.file, o.reason);
    }
    for o in results
        .iter()
        .filter(|o| o.phase != "Succeeded" && o.phase != "Applied")
    {
        println!(
            "  ✖ {} — {} ({:.1}s): {}",
            o.file, o.phase, o.secs, o.reason
        );
    }
    let slow: Vec<_> = results
        .iter()
        .filter(|o| o.secs > 30.0)
        .map(|o| format!("{} {:.0}s", o.file, o.secs))
        .collect();
    if !slow.is_empty() {
        println!("  slow: {}", slow.join(", "));
    }
    let _ = std::fs::remove_dir_all(&root);
    for o in &results {
        assert!(o.phase != "Timeout", "{} hung", o.file);
        assert!(
            o.phase == "Succeeded" || o.phase == "Applied" || !o.reason.is_empty(),
            "{} ended {} without a reason",
            o.file,
            o.phase
        );
    }
    assert!(
        ok as f64 >= TARGET * results.len() as f64,
        "{ok}/{} Succeeded, below the {:.0}% target",
        results.len(),
        TARGET * 100.0
    );
}
