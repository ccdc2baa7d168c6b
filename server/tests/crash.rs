//! Crash safety of the local backend: 20 workflows are killed with SIGKILL mid-flight, Trellis
//! starts again, and every workflow finishes Succeeded with no step started twice.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use controller::store::{SqlStore, Store, WorkflowQuery};

const WORKFLOWS: usize = 20;
const STEPS: usize = 3;

fn workflow(name: &str, shared: &Path) -> String {
    let dir = shared.display();
    format!(
        r#"apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
  volumes: [{{name: shared, hostPath: {{path: "{dir}"}}}}]
  templates:
  - name: main
    dag:
      tasks:
      - {{name: a, template: work}}
      - {{name: b, template: work, depends: a}}
      - {{name: c, template: work, depends: a}}
  - name: work
    retryStrategy: {{limit: 2, retryPolicy: Always}}
    container:
      image: alpine
      command: [sh, -c, "echo {{{{pod.name}}}} >> {dir}/starts; sleep 2"]
      volumeMounts: [{{name: shared, mountPath: "{dir}"}}]
"#
    )
}

fn trellis() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trellis"))
}

fn has_running_step(w: &engine::model::Workflow) -> bool {
    w.status
        .iter()
        .flat_map(|s| s.nodes.iter().flat_map(|n| n.values()))
        .any(|n| {
            n.r#type == Some(engine::model::NodeType::Pod)
                && n.phase == Some(engine::model::NodePhase::Running)
        })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn killed_workflows_resume_and_no_step_starts_twice() {
    let root = std::env::temp_dir().join(format!("trellis-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (data, shared) = (root.join("data"), root.join("shared"));
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&shared).unwrap();
    let mut runs: Vec<Child> = (0..WORKFLOWS)
        .map(|i| {
            let file = root.join(format!("wf{i}.yaml"));
            std::fs::write(&file, workflow(&format!("crash-{i}"), &shared)).unwrap();
            trellis()
                .args(["run", "-o", "json", "--data-dir"])
                .arg(&data)
                .arg(&file)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Kill once every workflow is stored and at least half have a step running (mid-flight),
    // whatever the machine's load.
    runtime.block_on(async {
        let store = SqlStore::open_sqlite(&data.join("trellis.db"))
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = (0, 0);
        while Instant::now() < deadline {
            let page = store
                .list_workflows(&WorkflowQuery::default())
                .await
                .unwrap();
            let running = page.items.iter().filter(|w| has_running_step(w)).count();
            seen = (page.items.len(), running.max(seen.1));
            if page.items.len() == WORKFLOWS && running >= WORKFLOWS / 2 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the workflows did not start within 60 s: {} stored, at most {} running at once",
            seen.0, seen.1
        );
    });
    for r in &mut runs {
        r.kill().unwrap(); // SIGKILL
        r.wait().unwrap();
    }
    let mut serve = trellis()
        .args(["serve", "--port", &free_port().to_string(), "--site-dir"])
        .arg(root.join("no-site"))
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let finished = runtime.block_on(async {
        let store = SqlStore::open_sqlite(&data.join("trellis.db"))
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let page = store
                .list_workflows(&WorkflowQuery::default())
                .await
                .unwrap();
            let done = page
                .items
                .iter()
                .filter(|w| {
                    w.status
                        .as_ref()
                        .and_then(|s| s.phase)
                        .is_some_and(|p| p.completed())
                })
                .count();
            if (page.items.len() == WORKFLOWS && done == WORKFLOWS) || Instant::now() > deadline {
                return page.items;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(
        finished.len(),
        WORKFLOWS,
        "every workflow was stored before the kill"
    );
    for w in &finished {
        let s = w.status.as_ref().unwrap();
        assert_eq!(
            s.phase.map(|p| p.as_str()),
            Some("Succeeded"),
            "{:?}: {:?}",
            w.metadata.as_ref().and_then(|m| m.name.clone()),
            s.message
        );
    }
    let starts = std::fs::read_to_string(shared.join("starts")).unwrap();
    let mut pods: Vec<&str> = starts.lines().collect();
    let total = pods.len();
    pods.sort_unstable();
    pods.dedup();
    assert_eq!(
        pods.len(),
        total,
        "a step (pod) was started twice:\n{starts}"
    );
    assert!(
        total >= WORKFLOWS * STEPS,
        "{total} starts for {} steps",
        WORKFLOWS * STEPS
    );
    let _ = std::fs::remove_dir_all(&root);
}
