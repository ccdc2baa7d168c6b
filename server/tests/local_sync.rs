//! Workflow-level `synchronization` on the local backend: workflows that share a mutex run one
//! at a time, and a semaphore lets as many run at once as its ConfigMap key says — the others
//! wait, Pending, with a message naming the lock.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use controller::local::{LocalBackend, LocalConfig};
use engine::model::{Workflow, WorkflowPhase};

fn workflow(name: &str, sync: &str, log: &Path) -> Workflow {
    let dir = log.parent().unwrap().display();
    let file = log.display();
    let yaml = format!(
        r#"apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}, namespace: team}}
spec:
  entrypoint: main
  synchronization: {sync}
  volumes: [{{name: shared, hostPath: {{path: "{dir}"}}}}]
  templates:
  - name: main
    container:
      image: alpine
      command: [sh, -c, "echo + >> {file}; sleep 0.4; echo - >> {file}"]
      volumeMounts: [{{name: shared, mountPath: "{dir}"}}]
"#
    );
    let doc = engine::parse::parse_file(&yaml);
    let m = doc.documents.into_iter().next().expect("a document");
    serde_json::from_value(engine::yaml::to_json(&m.node)).expect("a Workflow")
}

/// The most steps that ran at once, from the `+`/`-` lines they wrote.
fn most_at_once(log: &Path) -> i32 {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let (mut now, mut most) = (0, 0);
    for line in text.lines() {
        now += if line == "+" { 1 } else { -1 };
        most = most.max(now);
    }
    most
}

/// Submits `n` workflows with the same `synchronization` and waits for all of them; returns the
/// messages seen while they waited.
async fn run_all(n: usize, sync: &str, limits: Option<(&str, &str)>) -> (i32, Vec<String>) {
    let root = tempfile::tempdir().unwrap();
    let shared = root.path().join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    let log = shared.join("log");
    let backend = LocalBackend::open(LocalConfig {
        data_dir: root.path().join("data"),
        database: None,
        exec_binary: env!("CARGO_BIN_EXE_trellis").into(),
        sandbox: true,
    })
    .await
    .unwrap();
    if let Some((key, value)) = limits {
        let data = BTreeMap::from([(key.to_string(), value.to_string())]);
        backend.put_config_map("team", "limits", &data).unwrap();
    }
    let mut updates = backend.subscribe();
    let mut pending: HashSet<String> = HashSet::new();
    for i in 0..n {
        let wf = backend
            .submit(workflow(&format!("w{i}"), sync, &log))
            .await
            .unwrap();
        pending.insert(wf.metadata.unwrap().uid.unwrap());
    }
    let mut waiting = Vec::new();
    let all_done = async {
        while !pending.is_empty() {
            let wf = updates.recv().await.expect("updates");
            let status = wf.status.clone().unwrap_or_default();
            if status.phase == Some(WorkflowPhase::Pending)
                && let Some(m) = status.message
            {
                waiting.push(m);
            }
            if let Some(p) = status.phase.filter(|p| p.completed()) {
                assert_eq!(p, WorkflowPhase::Succeeded, "{:?}", wf.status);
                let uid = wf.metadata.as_ref().and_then(|m| m.uid.clone()).unwrap();
                pending.remove(&uid);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), all_done)
        .await
        .expect("every workflow ends");
    (most_at_once(&log), waiting)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_sharing_a_mutex_run_one_at_a_time() {
    let (most, waiting) = run_all(3, "{mutexes: [{name: deploy}]}", None).await;
    assert_eq!(most, 1, "a mutex has one holder");
    assert!(
        waiting
            .iter()
            .any(|m| m == "Waiting for lock: team/mutex/deploy (limit 1)"),
        "{waiting:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_semaphore_lets_its_limit_run_at_once() {
    let sync = "{semaphores: [{configMapKeyRef: {name: limits, key: workflow}}]}";
    let (most, waiting) = run_all(5, sync, Some(("workflow", "2"))).await;
    assert_eq!(most, 2, "two at once, never more");
    assert!(
        waiting
            .iter()
            .any(|m| m.contains("team/semaphore/limits/workflow (limit 2)")),
        "{waiting:?}"
    );
}
