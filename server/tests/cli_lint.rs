//! `trellis lint` as a user runs it: exit codes, rustc-style text, JSON for machines.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn trellis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run trellis")
}

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .display()
        .to_string()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trellis-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn valid_manifests_pass() {
    let out = trellis(&["lint", &repo("manifests/examples")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "✔ 5 manifests valid\n");
}

#[test]
fn a_typo_fails_with_a_rustc_style_diagnostic() {
    let path = temp_file(
        "typo.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: t-\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    container:\n      image: alpine\n      comand: [echo]\n",
    );
    let out = trellis(&["lint", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let file = path.display();
    let expected = format!(
        "error[unknown-field]: unknown field `comand` in `container`\n  --> {file}:11:7\n   |\n11 |       comand: [echo]\n   |       ^^^^^^ not a field here\n   |\n   = at `spec.templates[0].container.comand`\n   = help: did you mean `command`?\n\n✖ 1 error and 0 warnings in 1 manifest\n"
    );
    assert_eq!(stdout, expected);
}

#[test]
fn json_output_is_for_machines() {
    let out = trellis(&[
        "lint",
        "--output",
        "json",
        &repo("../shared/conformance/argo-negative/lintfail"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["manifests"], 3);
    assert_eq!(report["errors"], 3);
    let first = &report["diagnostics"][0];
    assert!(
        first["file"]
            .as_str()
            .unwrap()
            .ends_with("disallow-unknown.yaml")
    );
    assert_eq!(first["line"], 15);
    assert_eq!(first["column"], 7);
    assert_eq!(first["code"], "unknown-field");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["path"], "spec.templates[0].container.someExtraField");
}

#[test]
fn warnings_pass_unless_strict() {
    let path = temp_file(
        "warn.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: w-}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    steps: [[{name: a, templateRef: {name: elsewhere, template: x}}]]\n",
    );
    let out = trellis(&["lint", path.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("✔ 1 manifest valid (1 warning)\n"));
    let strict = trellis(&["lint", "--strict", path.to_str().unwrap()]);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn missing_paths_and_empty_directories_are_clear_errors() {
    let out = trellis(&["lint", "/nonexistent.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read `/nonexistent.yaml`"));
    let empty = std::env::temp_dir().join(format!("trellis-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let out = trellis(&["lint", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no manifests found"));
}

#[test]
fn standard_input_is_read_for_a_dash() {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(["lint", "-"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: s-}\nspec:\n  entrypoint: nope\n  templates: [{name: main, container: {image: alpine}}]\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("--> <stdin>:5:15"), "{stdout}");
}

#[test]
fn crdgen_prints_every_crd() {
    let out = trellis(&["crdgen"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in [
        "workflows.argoproj.io",
        "workflowtemplates.argoproj.io",
        "cronworkflows.argoproj.io",
    ] {
        assert!(text.contains(&format!("name: {name}")), "{name} missing");
    }
    assert_eq!(text.matches("kind: CustomResourceDefinition").count(), 6);
}
