//! `trellis serve --backend kubernetes` against the cluster of the full loop (the API server
//! emulator, the fake kubelet, the real controller): what the server reads from watches, writes
//! through the API and reads back from Pods and the database, and that the Deployment's
//! settings start it.

#[path = "common/cluster.rs"]
mod cluster;
#[path = "common/kube_api.rs"]
mod kube_api;
#[path = "common/kubelet.rs"]
mod kubelet;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cluster::*;
use serde_json::{Value, json};

/// A `trellis serve --backend kubernetes` against the cluster.
struct Server {
    base: String,
    log: PathBuf,
    _child: tokio::process::Child,
}

impl Server {
    async fn start(cluster: &Cluster) -> Self {
        Self::start_with(cluster, &[]).await
    }

    /// A server with these flags too.
    async fn start_with(cluster: &Cluster, flags: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = cluster.dir.path().join("server.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_trellis"))
            .args([
                "serve",
                "--backend",
                "kubernetes",
                "--port",
                &port.to_string(),
            ])
            .arg("--data-dir")
            .arg(cluster.dir.path().join("server"))
            .args(flags)
            .env("KUBECONFIG", &cluster.kubeconfig)
            .env("RUST_LOG", "info")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let server = Self {
            base: format!("http://127.0.0.1:{port}"),
            log,
            _child: child,
        };
        let start = Instant::now();
        while reqwest::get(format!("{}/api/v1/workflows/default", server.base))
            .await
            .map_or(true, |r| !r.status().is_success())
        {
            assert!(
                start.elapsed() < TIMEOUT,
                "the server did not start:\n{}",
                server.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends a request to the Trellis API; returns the status and the JSON answer.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Waits until the workflow, as the Trellis API shows it, satisfies `done`; returns it.
    async fn until(&self, name: &str, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let (_, wf) = self
                .call(
                    reqwest::Method::GET,
                    &format!("/api/v1/workflows/default/{name}"),
                    None,
                )
                .await;
            if done(&wf) {
                return wf;
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "{name} did not get there in {TIMEOUT:?}: {}\nserver log:\n{}",
                wf["status"],
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn phase_is(phase: &'static str) -> impl Fn(&Value) -> bool {
    move |wf| wf["status"]["phase"] == phase
}

/// Whether a suspend node of the workflow waits.
fn suspended(wf: &Value) -> bool {
    wf["status"]["nodes"]
        .as_object()
        .into_iter()
        .flatten()
        .any(|(_, n)| n["type"] == "Suspend" && n["phase"] == "Running")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_reads_and_writes_the_cluster_through_argo_s_api() {
    use reqwest::Method;
    let cluster = Cluster::start().await;
    // Made before the server starts: its first listing mirrors it.
    let before = cluster.create(shell("before", "echo early", "")).await;
    cluster.finished(&before).await;
    let server = Server::start(&cluster).await;
    let wf = server.until(&before, phase_is("Succeeded")).await;
    assert_eq!(
        wf["metadata"]["labels"]["trellis.dev/run-number"], "1",
        "{wf}"
    );
    let before_uid = wf["metadata"]["uid"].as_str().unwrap().to_string();

    // A template made through the server is an object of the cluster; a workflow submitted
    // from it runs there, and its log comes from the Pod.
    let template = json!({"template": {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate",
        "metadata": {"name": "greeter"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main",
            "container": {"image": "alpine", "command": ["sh", "-c", "echo hello from the cluster"]}}]}
    }});
    let (status, created) = server
        .call(
            Method::POST,
            "/api/v1/workflow-templates/default",
            Some(template),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let stored = cluster
        .api
        .get("argoproj.io/workflowtemplates", "default", "greeter")
        .expect("the template is in the cluster");
    assert_eq!(created["metadata"]["uid"], stored["metadata"]["uid"]);
    let submit = json!({"resourceKind": "WorkflowTemplate", "resourceName": "greeter"});
    let (status, submitted) = server
        .call(
            Method::POST,
            "/api/v1/workflows/default/submit",
            Some(submit),
        )
        .await;
    assert_eq!(status, 200, "{submitted}");
    let greeter = submitted["metadata"]["name"].as_str().unwrap().to_string();
    assert!(cluster.api.get(WORKFLOWS, "default", &greeter).is_some());
    let wf = server.until(&greeter, phase_is("Succeeded")).await;
    assert_eq!(
        wf["metadata"]["labels"]["trellis.dev/run-number"], "1",
        "{wf}"
    );
    let (status, log) = server
        .call(
            Method::GET,
            &format!("/api/v1/workflows/default/{greeter}/log?logOptions.container=main"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        log.to_string().contains("hello from the cluster"),
        "{log}\n{}",
        server.log_text()
    );

    // The UI shows the template's numbered history and the run.
    for page in [
        "/templates/default/greeter".to_string(),
        format!("/runs/default/{greeter}"),
    ] {
        let resp = reqwest::get(format!("{}{page}", server.base))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{page}");
        let html = resp.text().await.unwrap();
        assert!(html.contains(&greeter), "{page}: {html}");
    }

    // Suspend nodes are resumed, running workflows stopped, through the server.
    let approval = engine::yaml::to_json(
        &engine::yaml::parse_stream(
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: approval}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - {name: wait, template: wait}\n    - - {name: after, template: after}\n  - name: wait\n    suspend: {}\n  - name: after\n    container: {image: alpine, command: [sh, -c, 'echo approved']}\n",
        )
        .unwrap()[0],
    );
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/workflows/default",
            Some(json!({"workflow": approval})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    server.until("approval", suspended).await;
    let (status, body) = server
        .call(
            Method::PUT,
            "/api/v1/workflows/default/approval/resume",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    server.until("approval", phase_is("Succeeded")).await;

    let slow = cluster.create(shell("slow", "sleep 60", "")).await;
    cluster
        .until(&slow, |wf| wf["status"]["phase"] == "Running")
        .await;
    let (status, body) = server
        .call(
            Method::PUT,
            "/api/v1/workflows/default/slow/stop",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let wf = server.until(&slow, phase_is("Failed")).await;
    assert_eq!(
        cluster.api.get(WORKFLOWS, "default", &slow).unwrap()["spec"]["shutdown"],
        "Stop",
        "{wf}"
    );
    // A finished workflow cannot be stopped.
    let (status, _) = server
        .call(
            Method::PUT,
            "/api/v1/workflows/default/slow/stop",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 400);

    // A failed workflow is retried: its failed step's Pod is made again, and passes now.
    let marker = cluster.dir.path().join("second-try");
    let flaky = cluster
        .create(shell(
            "flaky",
            &format!(
                "test -e {0} && echo passed || {{ echo first try; touch {0}; exit 1; }}",
                marker.display()
            ),
            "",
        ))
        .await;
    let failed = server.until(&flaky, phase_is("Failed")).await;
    let log = |server: &Server| {
        let path = format!("/api/v1/workflows/default/{flaky}/log?logOptions.container=main");
        let server_base = server.base.clone();
        async move {
            reqwest::get(format!("{server_base}{path}"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert!(log(&server).await.contains("first try"));
    let number = &failed["metadata"]["labels"]["trellis.dev/run-number"];
    // Runs of no template are numbered together: before, approval, slow, flaky.
    assert_eq!(number, "4", "{failed}");
    let (status, body) = server
        .call(
            Method::PUT,
            "/api/v1/workflows/default/flaky/retry",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let wf = server.until(&flaky, phase_is("Succeeded")).await;
    assert_eq!(
        &wf["metadata"]["labels"]["trellis.dev/run-number"], number,
        "{wf}"
    );
    assert_eq!(
        wf["status"]["nodes"]["flaky"]["outputs"]["result"],
        "passed"
    );
    // The log is the new attempt's, not the first one's kept from before.
    let second = log(&server).await;
    assert!(
        second.contains("passed") && !second.contains("first try"),
        "{second}"
    );
    // Still in the cluster, it cannot leave the archive; workflows outside what the server
    // shows are refused.
    let uid = wf["metadata"]["uid"].as_str().unwrap();
    let (status, body) = server
        .call(
            Method::DELETE,
            &format!("/api/v1/archived-workflows/{uid}"),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let mut foreign = shell("foreign", "true", "");
    foreign["metadata"]["labels"] =
        json!({"workflows.argoproj.io/controller-instanceid": "elsewhere"});
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/workflows/default",
            Some(json!({"workflow": foreign})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("instance"), "{body}");

    // Deleting through the server deletes in the cluster; deleting in the cluster is seen.
    let (status, _) = server
        .call(
            Method::DELETE,
            &format!("/api/v1/workflows/default/{greeter}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(cluster.api.get(WORKFLOWS, "default", &greeter).is_none());
    let (status, _) = server
        .call(
            Method::GET,
            &format!("/api/v1/workflows/default/{greeter}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let resp = reqwest::Client::new()
        .delete(format!(
            "{}/apis/argoproj.io/v1alpha1/namespaces/default/workflows/{before}",
            cluster.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let start = Instant::now();
    loop {
        let (status, _) = server
            .call(
                Method::GET,
                &format!("/api/v1/workflows/default/{before}"),
                None,
            )
            .await;
        if status == 404 {
            break;
        }
        assert!(start.elapsed() < TIMEOUT, "the deletion was not seen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Finished, it stays in the archive.
    let (status, archived) = server
        .call(
            Method::GET,
            &format!("/api/v1/archived-workflows/{before_uid}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{archived}");
    assert_eq!(archived["metadata"]["name"], before.as_str());
    // A template deleted through the server is gone from the cluster.
    let (status, _) = server
        .call(
            Method::DELETE,
            "/api/v1/workflow-templates/default/greeter",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        cluster
            .api
            .get("argoproj.io/workflowtemplates", "default", "greeter")
            .is_none()
    );
}

/// The `data` of a ConfigMap in a manifest file of the repository.
fn config_map(file: &str, name: &str) -> serde_json::Map<String, Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    engine::yaml::parse_stream(&text)
        .unwrap()
        .iter()
        .map(engine::yaml::to_json)
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == name)
        .and_then(|d| d["data"].as_object().cloned())
        .unwrap_or_else(|| panic!("no ConfigMap {name} in {file}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_deployment_s_settings_start_a_kubernetes_server_that_asks_for_tokens() {
    let cluster = Cluster::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = cluster.dir.path().join("deployed-server.log");
    let out = std::fs::File::create(&log).unwrap();
    // Only the ConfigMap's variables, as the Deployment gives them (its paths and port made
    // local to this test).
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_trellis"));
    cmd.arg("serve").env_clear();
    for (k, v) in config_map("manifests/base/server.yaml", "trellis-server-config") {
        cmd.env(k, v.as_str().unwrap());
    }
    cmd.env("TRELLIS_PORT", port.to_string())
        .env("TRELLIS_DATA_DIR", cluster.dir.path().join("deployed"))
        .env("TRELLIS_SITE_DIR", cluster.dir.path().join("site"))
        .env("KUBECONFIG", &cluster.kubeconfig)
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .kill_on_drop(true);
    let _server = cmd.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while reqwest::get(format!("{base}/healthz"))
        .await
        .map_or(true, |r| r.status() != 200)
    {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            start.elapsed() < TIMEOUT,
            "the server did not start:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("kubernetes backend ready"), "{text}");
    assert!(text.contains("listening on http://0.0.0.0:"), "{text}");
    let resp = reqwest::get(format!("{base}/api/v1/workflows/default"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "client mode: a token is required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_status_too_large_even_compressed_is_offloaded_and_the_server_reads_it_back() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let cluster =
        Cluster::start_with(&["--max-workflow-size", "1500", "--database-url", &url]).await;
    let wide = engine::yaml::to_json(
        &engine::yaml::parse_stream(
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: wide}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - {name: each, template: echo, withSequence: {count: '40'}}\n  - name: echo\n    container: {image: alpine, command: [sh, -c, 'echo item']}\n",
        )
        .unwrap()[0],
    );
    let name = cluster.create(wide).await;
    let wf = cluster.finished(&name).await;
    assert_eq!(wf["status"]["phase"], "Succeeded", "{}", why(&wf));
    // The object holds no nodes, only the version of those in the database.
    assert!(wf["status"]["nodes"].is_null() && wf["status"]["compressedNodes"].is_null());
    assert!(
        wf["status"]["offloadNodeStatusVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("fnv:")),
        "{}",
        wf["status"]
    );
    // The server on the same database shows the nodes as if they were in the object.
    let server = Server::start_with(&cluster, &["--database-url", &url]).await;
    let shown = server.until(&name, phase_is("Succeeded")).await;
    let nodes = shown["status"]["nodes"].as_object().expect("nodes shown");
    assert_eq!(nodes.len(), 42, "the root, a group and 40 steps");
    assert!(shown["status"]["offloadNodeStatusVersion"].is_null());
    let (status, log) = server
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/workflows/default/{name}/log?logOptions.container=main"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(log.to_string().matches("item").count(), 40, "{log}");
}
