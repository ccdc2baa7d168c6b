//! Daemon steps on the local backend, end to end through `trellis run`: a daemon becomes ready
//! through its readiness probe, later steps reach it at `{{steps.NAME.ip}}`, and it is stopped
//! when its steps end; a daemon that exits on its own fails its step.

use std::process::Command;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(name: &str, yaml: &str) -> serde_json::Value {
    let root = std::env::temp_dir().join(format!("trellis-daemons-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let file = root.join("wf.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(["run", "-o", "json", "--data-dir"])
        .arg(root.join("data"))
        .arg(&file)
        .output()
        .expect("run trellis");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no workflow JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn node<'a>(wf: &'a serde_json::Value, display: &str) -> &'a serde_json::Value {
    wf["status"]["nodes"]
        .as_object()
        .expect("nodes")
        .values()
        .find(|n| n["displayName"] == display)
        .unwrap_or_else(|| panic!("no node {display}"))
}

fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

#[test]
fn a_daemon_serves_later_steps_and_is_stopped_when_its_steps_end() {
    let port = free_port();
    let yaml = format!(
        r#"apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: web}}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {{name: server, template: server}}
    - - name: client
        template: client
        arguments: {{parameters: [{{name: ip, value: "{{{{steps.server.ip}}}}"}}]}}
  - name: server
    daemon: true
    container:
      image: python:3.12
      command: [python3, -m, http.server, "{port}", --bind, 127.0.0.1]
      readinessProbe: {{httpGet: {{path: /, port: {port}}}, periodSeconds: 1}}
  - name: client
    inputs: {{parameters: [{{name: ip}}]}}
    container:
      image: curlimages/curl
      command: [curl, -sf, -o, /dev/null, "http://{{{{inputs.parameters.ip}}}}:{port}/"]
"#
    );
    let wf = run("serve", &yaml);
    assert_eq!(wf["status"]["phase"], "Succeeded", "{:#}", wf["status"]);
    let server = node(&wf, "server");
    assert_eq!(server["phase"], "Succeeded");
    assert_eq!(server["podIP"], "127.0.0.1");
    assert!(
        server.get("daemoned").is_none(),
        "no longer a running daemon"
    );
    assert_eq!(node(&wf, "client")["phase"], "Succeeded");
    let deadline = Instant::now() + Duration::from_secs(10);
    while listening(port) {
        assert!(
            Instant::now() < deadline,
            "the daemon still listens on {port} after its workflow ended"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_daemon_that_exits_fails_its_step() {
    let never = free_port();
    let yaml = format!(
        r#"apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: quits}}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {{name: server, template: server}}
    - - {{name: after, template: after}}
  - name: server
    daemon: true
    container:
      image: alpine
      command: ["true"]
      readinessProbe: {{tcpSocket: {{port: {never}}}}}
  - name: after
    container: {{image: alpine, command: ["true"]}}
"#
    );
    let wf = run("quits", &yaml);
    assert_eq!(wf["status"]["phase"], "Failed");
    let server = node(&wf, "server");
    assert_eq!(server["phase"], "Failed");
    let message = server["message"].as_str().unwrap_or_default();
    assert!(message.contains("daemon exited on its own"), "{message}");
    assert!(
        wf["status"]["nodes"]
            .as_object()
            .unwrap()
            .values()
            .all(|n| n["displayName"] != "after")
    );
}
