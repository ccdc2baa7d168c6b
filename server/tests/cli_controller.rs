//! `trellis controller` and `trellis exec` on the command line: the settings the manifests give
//! the controller are flags it has, and bad invocations fail with a message.

use std::process::Command;

fn trellis(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(args)
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env("HOME", "/nonexistent")
        .output()
        .unwrap()
}

#[test]
fn every_setting_of_the_manifests_configmap_is_a_controller_flag() {
    let help = String::from_utf8(trellis(&["controller", "--help"]).stdout).unwrap();
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let manifest = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests/base/controller.yaml"),
    )
    .unwrap();
    let docs = engine::yaml::parse_stream(&manifest).unwrap();
    let config = docs
        .iter()
        .map(engine::yaml::to_json)
        .find(|d| d["kind"] == "ConfigMap")
        .unwrap();
    let keys: Vec<&String> = config["data"].as_object().unwrap().keys().collect();
    assert!(keys.len() >= 3, "{keys:?}");
    for key in keys {
        if key == "RUST_LOG" {
            continue;
        }
        assert!(
            help.contains(&format!("[env: {key}=")),
            "{key} is no flag of trellis controller"
        );
    }
    let overlay = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../manifests/namespace-install/namespaced.yaml"),
    )
    .unwrap();
    assert!(overlay.contains("TRELLIS_NAMESPACED") && help.contains("[env: TRELLIS_NAMESPACED="));
}

#[test]
fn the_controller_says_what_it_needs() {
    let out = trellis(&["controller"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--executor-image"));
    let out = trellis(&["controller", "--executor-image", "trellis:test"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot connect to Kubernetes"), "{err}");
}

#[test]
fn exec_needs_a_spec_and_installs_itself() {
    let out = trellis(&["exec"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "--spec FILE, --spec-env VAR, --resource-env VAR, --http-env VAR or --install DEST"
    ));
    let out = trellis(&["exec", "--spec-env", "TRELLIS_NO_SUCH_VARIABLE"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("TRELLIS_NO_SUCH_VARIABLE holds no step spec")
    );
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("bin/trellis");
    let out = trellis(&["exec", "--install", dest.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copied = Command::new(&dest).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&copied.stdout).starts_with("trellis "));
}
