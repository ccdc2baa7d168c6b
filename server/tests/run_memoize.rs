//! `memoize` on the local backend, end to end through `trellis run`: the second run of a step
//! with the same key takes its outputs from the cache (in the data directory's database) and does
//! not run; `maxAge` bounds how old an entry may be.

use std::path::Path;
use std::process::Command;

fn workflow(counter: &Path, max_age: &str) -> String {
    let dir = counter.parent().unwrap().display();
    let file = counter.display();
    format!(
        r#"apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{generateName: memo-}}
spec:
  entrypoint: main
  volumes: [{{name: shared, hostPath: {{path: "{dir}"}}}}]
  templates:
  - name: main
    steps:
    - - {{name: compute, template: compute, arguments: {{parameters: [{{name: n, value: "21"}}]}}}}
    - - name: use
        template: use
        arguments: {{parameters: [{{name: v, value: "{{{{steps.compute.outputs.result}}}}"}}]}}
  - name: compute
    inputs: {{parameters: [{{name: n}}]}}
    memoize:
      key: "double-{{{{inputs.parameters.n}}}}"
      maxAge: "{max_age}"
      cache: {{configMap: {{name: doubles}}}}
    container:
      image: alpine
      command: [sh, -c, "echo run >> {file}; echo $(({{{{inputs.parameters.n}}}} * 2))"]
      volumeMounts: [{{name: shared, mountPath: "{dir}"}}]
  - name: use
    inputs: {{parameters: [{{name: v}}]}}
    container: {{image: alpine, command: [test, "{{{{inputs.parameters.v}}}}", "=", "42"]}}
"#
    )
}

fn run(data: &Path, file: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(["run", "-o", "json", "--data-dir"])
        .arg(data)
        .arg(file)
        .output()
        .expect("run trellis");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

fn compute(wf: &serde_json::Value) -> serde_json::Value {
    wf["status"]["nodes"]
        .as_object()
        .unwrap()
        .values()
        .find(|n| n["displayName"] == "compute")
        .expect("the compute node")
        .clone()
}

fn runs(counter: &Path) -> usize {
    std::fs::read_to_string(counter)
        .unwrap_or_default()
        .lines()
        .count()
}

#[test]
fn the_second_run_takes_the_cached_outputs_and_a_zero_max_age_runs_again() {
    let root = std::env::temp_dir().join(format!("trellis-memo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (data, shared) = (root.join("data"), root.join("shared"));
    std::fs::create_dir_all(&shared).unwrap();
    let counter = shared.join("runs");

    let file = root.join("wf.yaml");
    std::fs::write(&file, workflow(&counter, "1h")).unwrap();
    let first = run(&data, &file);
    assert_eq!(
        first["status"]["phase"], "Succeeded",
        "{:#}",
        first["status"]
    );
    assert_eq!(compute(&first)["memoizationStatus"]["hit"], false);
    assert_eq!(compute(&first)["memoizationStatus"]["key"], "double-21");
    assert_eq!(compute(&first)["memoizationStatus"]["cacheName"], "doubles");
    assert_eq!(runs(&counter), 1);

    let second = run(&data, &file);
    assert_eq!(
        second["status"]["phase"], "Succeeded",
        "{:#}",
        second["status"]
    );
    assert_eq!(compute(&second)["memoizationStatus"]["hit"], true);
    assert_eq!(compute(&second)["outputs"]["result"], "42");
    assert_eq!(runs(&counter), 1, "a hit does not run the step");

    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(&file, workflow(&counter, "0s")).unwrap();
    let stale = run(&data, &file);
    assert_eq!(stale["status"]["phase"], "Succeeded");
    assert_eq!(compute(&stale)["memoizationStatus"]["hit"], false);
    assert_eq!(runs(&counter), 2, "an entry older than maxAge is not used");
}
