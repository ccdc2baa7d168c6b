//! A cluster for the Kubernetes tests: the API server emulator (`kube_api.rs`), a fake kubelet
//! (`kubelet.rs`) and the real `trellis controller` binary, with helpers to create Argo's
//! examples and wait for them. The test crate declares `kube_api` and `kubelet` beside this.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::kube_api::KubeApi;
use crate::kubelet;
use serde_json::Value;

/// The workflows' resource, as the emulator names it.
pub const WORKFLOWS: &str = "argoproj.io/workflows";
/// How long a workflow may take to get where a test waits for.
pub const TIMEOUT: Duration = Duration::from_secs(120);

pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/argo-examples")
}

/// The Workflow documents of an example file.
pub fn workflows_of(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(examples_dir().join(file)).unwrap();
    engine::yaml::parse_stream(&text)
        .unwrap()
        .iter()
        .map(engine::yaml::to_json)
        .filter(|d| d["kind"] == "Workflow")
        .collect()
}

/// A cluster: the emulator, a fake kubelet, and the controller binary.
pub struct Cluster {
    pub api: KubeApi,
    pub url: String,
    pub kubeconfig: PathBuf,
    pub dir: tempfile::TempDir,
    pub controllers: Vec<tokio::process::Child>,
    pub controller_log: PathBuf,
    pub _kubelet: kubelet::Kubelet,
}

impl Cluster {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// A cluster whose controller has these flags too.
    pub async fn start_with(flags: &[&str]) -> Self {
        // Not under /tmp: the fake kubelet gives each Pod a /tmp of its own.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let api = KubeApi::new();
        let url = api.serve().await;
        let kubeconfig = dir.path().join("kubeconfig");
        KubeApi::write_kubeconfig(&url, &kubeconfig);
        let trellis = PathBuf::from(env!("CARGO_BIN_EXE_trellis"));
        let kubelet = kubelet::start(
            api.clone(),
            trellis.clone(),
            kubeconfig.clone(),
            dir.path().join("pods"),
        );
        let controller_log = dir.path().join("controller.log");
        let mut cluster = Self {
            api,
            url,
            kubeconfig,
            dir,
            controllers: Vec::new(),
            controller_log,
            _kubelet: kubelet,
        };
        let flags: Vec<&str> = ["--no-leader-election"]
            .iter()
            .chain(flags)
            .copied()
            .collect();
        cluster.start_controller(&flags, "controller.log");
        cluster
    }

    /// Starts one more `trellis controller` with these flags, logging to `log` in the test's
    /// directory.
    pub fn start_controller(&mut self, flags: &[&str], log: &str) {
        let log = std::fs::File::create(self.dir.path().join(log)).unwrap();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_trellis"))
            .args(["controller", "--executor-image", "trellis:test"])
            .args(flags)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        self.controllers.push(child);
    }

    /// POSTs any object to a collection path (`/apis/…/workflowtemplates`).
    pub async fn post(&self, path: &str, object: &Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(object.to_string())
            .send()
            .await
            .unwrap()
    }

    /// POSTs a Workflow as `kubectl create` does; returns its name.
    pub async fn create(&self, mut wf: Value) -> String {
        wf["metadata"]["namespace"] = "default".into();
        let resp = self
            .post(
                "/apis/argoproj.io/v1alpha1/namespaces/default/workflows",
                &wf,
            )
            .await;
        assert_eq!(resp.status(), 201);
        let created: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        created["metadata"]["name"].as_str().unwrap().to_string()
    }

    /// Waits until the workflow's status satisfies `done`; returns it.
    pub async fn until(&self, name: &str, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let wf = self.api.get(WORKFLOWS, "default", name).unwrap_or_default();
            if done(&wf) {
                return wf;
            }
            if start.elapsed() > TIMEOUT {
                panic!(
                    "{name} did not get there in {TIMEOUT:?}: {}\ncontroller log:\n{}",
                    wf["status"],
                    std::fs::read_to_string(&self.controller_log).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Creates every Workflow of these example files, waits for each to finish; returns their
    /// (file, name) and why those that did not succeed did not.
    pub async fn run_examples(
        &self,
        files: &[&'static str],
    ) -> (Vec<(&'static str, String)>, Vec<String>) {
        let mut names = Vec::new();
        for file in files {
            for wf in workflows_of(file) {
                names.push((*file, self.create(wf).await));
            }
        }
        let mut failures = Vec::new();
        for (file, name) in &names {
            let wf = self.finished(name).await;
            if wf["status"]["phase"] != "Succeeded" {
                failures.push(format!("{file}: {} — {}", wf["status"]["phase"], why(&wf)));
            }
        }
        (names, failures)
    }

    /// Waits until the workflow has a completed phase; returns it.
    pub async fn finished(&self, name: &str) -> Value {
        self.until(name, |wf| {
            matches!(
                wf["status"]["phase"].as_str(),
                Some("Succeeded" | "Failed" | "Error")
            )
        })
        .await
    }
}

/// A workflow of one container step running `script` in `sh -c`.
pub fn shell(name: &str, script: &str, extra: &str) -> Value {
    let yaml = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {{name: {name}}}\nspec:\n  entrypoint: main\n{extra}  templates:\n  - name: main\n    container: {{image: alpine, command: [sh, -c, '{script}']}}\n"
    );
    engine::yaml::to_json(&engine::yaml::parse_stream(&yaml).unwrap()[0])
}

pub fn node_messages(wf: &Value) -> Vec<String> {
    wf["status"]["nodes"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, n)| n["message"].as_str().map(str::to_string))
        .collect()
}

/// Why a workflow did not succeed: its message and its nodes' messages.
pub fn why(wf: &Value) -> String {
    let mut out = format!("{}", wf["status"]["message"]);
    for (_, n) in wf["status"]["nodes"].as_object().into_iter().flatten() {
        if let Some(m) = n["message"].as_str() {
            out.push_str(&format!("; {}: {m}", n["displayName"]));
        }
    }
    out
}
