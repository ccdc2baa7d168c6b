//! Data templates end to end: Argo's `data-transformations.yaml` example, unchanged, lists the
//! default repository, keeps the `main.log` keys and fans out over them.

use std::process::Command;

#[test]
fn argos_data_transformations_example_lists_filters_and_fans_out() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    for key in ["run1/a/main.log", "run1/a/init.log", "run2/b/main.log"] {
        let file = data.join("artifacts").join(key);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, format!("log of {key}\n")).unwrap();
    }
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/argo-examples/data-transformations.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(["run", "-o", "json", "--data-dir"])
        .arg(&data)
        .arg(&example)
        .output()
        .expect("run trellis");
    let wf: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(wf["status"]["phase"], "Succeeded", "{:#}", wf["status"]);
    let nodes = wf["status"]["nodes"].as_object().unwrap();
    let list = nodes
        .values()
        .find(|n| n["displayName"] == "list-log-files")
        .expect("the data step");
    assert_eq!(
        list["outputs"]["result"],
        r#"["run1/a/main.log","run2/b/main.log"]"#
    );
    let mut children: Vec<&str> = nodes
        .values()
        .filter_map(|n| n["displayName"].as_str())
        .filter(|d| d.starts_with("process-logs("))
        .collect();
    children.sort();
    assert_eq!(
        children,
        [
            "process-logs(0:run1/a/main.log)",
            "process-logs(1:run2/b/main.log)"
        ]
    );
}
