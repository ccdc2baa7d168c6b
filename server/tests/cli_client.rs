//! The `trellis` client commands against a real `trellis serve`: templates, submit (from files and
//! from templates, with --watch), list, get, logs, approvals with `node set` and `resume`,
//! delete, and their exit codes for bad input, failed runs and an unreachable server.

#[path = "common/server.rs"]
mod server;

use std::process::{Command, Output};

use server::Server;

fn trellis(s: &Server, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(args)
        .env("TRELLIS_SERVER", &s.base)
        .env("TRELLIS_NAMESPACE", "ci")
        .env("NO_COLOR", "1")
        .output()
        .expect("trellis runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn file(s: &Server, name: &str, yaml: &str) -> String {
    let path = s.scratch().join(name);
    std::fs::write(&path, yaml).unwrap();
    path.display().to_string()
}

const TEMPLATE: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: release}
spec:
  entrypoint: main
  arguments: {parameters: [{name: service, value: web}]}
  templates:
  - name: main
    steps:
    - - {name: approve, template: gate}
    - - name: ship
        template: say
        arguments: {parameters: [{name: msg, value: "{{workflow.parameters.service}} via {{steps.approve.outputs.parameters.how}}"}]}
  - name: gate
    suspend: {}
    outputs: {parameters: [{name: how, valueFrom: {supplied: {}}}]}
  - name: say
    inputs: {parameters: [{name: msg}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}}"]}
"#;

#[tokio::test]
async fn templates_runs_approvals_and_logs_from_the_command_line() {
    let s = Server::start("cli").await;
    let t = file(&s, "release.yaml", TEMPLATE);
    let out = trellis(&s, &["template", "create", &t]);
    assert!(out.status.success(), "{:?}", text(&out));
    let (listed, _) = text(&trellis(&s, &["template", "list"]));
    assert!(listed.contains("release  WorkflowTemplate"), "{listed}");

    let out = trellis(
        &s,
        &[
            "submit",
            "--from",
            "workflowtemplate/release",
            "-p",
            "service=api",
            "-o",
            "name",
        ],
    );
    let (name, err) = text(&out);
    assert!(out.status.success(), "{err}");
    let name = name.trim().to_string();
    assert!(name.starts_with("release-"), "{name}");
    s.wait_for("ci", &name, |wf| {
        wf["status"]["nodes"].as_object().is_some_and(|n| {
            n.values()
                .any(|x| x["displayName"] == "approve" && x["phase"] == "Running")
        })
    })
    .await;

    let out = trellis(
        &s,
        &[
            "resume",
            &name,
            "--node-field-selector",
            "displayName=approve",
        ],
    );
    let (_, err) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a refused operation is bad input: {err}"
    );
    assert!(
        err.contains("output parameter 'how' has not been set") && err.contains("trellis node set"),
        "{err}"
    );
    let out = trellis(
        &s,
        &[
            "node",
            "set",
            &name,
            "--node-field-selector",
            "displayName=approve",
            "--output-parameter",
            "how=canary",
        ],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let out = trellis(
        &s,
        &[
            "resume",
            &name,
            "--node-field-selector",
            "displayName=approve",
        ],
    );
    assert!(out.status.success(), "{:?}", text(&out));

    let out = trellis(&s, &["watch", &name]);
    let (tree, err) = text(&out);
    assert!(
        out.status.success(),
        "watch exits 0 on success: {tree} {err}"
    );
    assert!(
        tree.contains("Succeeded") && tree.contains("✔ ship"),
        "{tree}"
    );
    let (logs, _) = text(&trellis(&s, &["logs", &name, "--no-prefix"]));
    assert_eq!(logs, "api via canary\n");
    let (list, _) = text(&trellis(&s, &["list"]));
    assert!(
        list.contains(&name) && list.contains("Succeeded") && list.contains("#1"),
        "{list}"
    );
    let (json, _) = text(&trellis(&s, &["get", &name, "-o", "json"]));
    let wf: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(wf["status"]["phase"], "Succeeded");

    let out = trellis(&s, &["delete", &name]);
    assert!(out.status.success());
    let out = trellis(&s, &["get", &name]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("not found"), "{err}");
}

#[tokio::test]
async fn submit_exits_2_on_bad_input_and_1_on_a_failed_run() {
    let s = Server::start("cli-exit").await;
    let typo = file(
        &s,
        "typo.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: t-}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    container: {image: alpine, comand: [echo]}\n",
    );
    let out = trellis(&s, &["submit", &typo]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("did you mean `command`?"), "{err}");
    assert_eq!(
        s.get("/api/v1/workflows/ci").await["items"],
        serde_json::json!([])
    );

    let out = trellis(&s, &["submit", "--from", "workflowtemplate/nope"]);
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));

    let failing = file(
        &s,
        "fail.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: f-}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    container: {image: alpine, command: [sh, -c, 'exit 4']}\n",
    );
    let out = trellis(&s, &["submit", &failing, "--watch"]);
    let (tree, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{tree} {err}");
    assert!(tree.contains("Failed"), "{tree}");

    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(["list", "--server", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("cannot reach Trellis at http://127.0.0.1:9"),
        "{err}"
    );
}
