//! A real `trellis serve` for API tests: its own data directory and port, stopped when dropped,
//! and a small JSON client for it. With `TRELLIS_TEST_SERVER_DATABASE=postgres` every server
//! keeps its data in a scratch schema of the test PostgreSQL server instead of SQLite
//! (`scripts/test` runs the API tests both ways).

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use controller::store::scratch::{ScratchSchema, test_postgres_url};
use serde_json::Value;

/// The variable that puts the servers of API tests on PostgreSQL (`postgres`) or SQLite (unset
/// or `sqlite`).
pub const SERVER_DATABASE_ENV: &str = "TRELLIS_TEST_SERVER_DATABASE";

/// A scratch PostgreSQL schema if API tests run on PostgreSQL.
pub async fn server_database() -> Option<ScratchSchema> {
    match std::env::var(SERVER_DATABASE_ENV).as_deref() {
        Err(_) | Ok("" | "sqlite") => None,
        Ok("postgres") => Some(
            ScratchSchema::create(&test_postgres_url())
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        ),
        Ok(other) => panic!("{SERVER_DATABASE_ENV}={other:?}: expected sqlite or postgres"),
    }
}

/// Drops a scratch schema from synchronous code (a `Drop`).
pub fn drop_schema_now(schema: ScratchSchema) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(schema.drop_schema())
    })
    .join()
    .expect("the schema drop does not panic")
    .expect("the scratch schema is dropped");
}

/// A running server.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The data directory.
    pub data: std::path::PathBuf,
    /// Its PostgreSQL schema, when on PostgreSQL.
    schema: Option<ScratchSchema>,
    client: reqwest::Client,
}

impl Server {
    /// Starts a server on a free port with a fresh data directory named after `test`.
    pub async fn start(test: &str) -> Self {
        Self::start_with(test, &[]).await
    }

    /// Like [`Server::start`], with more `trellis serve` arguments (e.g. `--load DIR`).
    pub async fn start_with(test: &str, extra: &[&str]) -> Self {
        let data = std::env::temp_dir().join(format!("trellis-api-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let schema = match extra.contains(&"--database-url") {
            true => None,
            false => server_database().await,
        };
        let database: Vec<&str> = match &schema {
            Some(schema) => vec!["--database-url", schema.url()],
            None => vec![],
        };
        let child = Command::new(env!("CARGO_BIN_EXE_trellis"))
            .args([
                "serve",
                "--port",
                &port.to_string(),
                "--site-dir",
                "/nonexistent",
            ])
            .arg("--data-dir")
            .arg(&data)
            .args(&database)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("trellis serve starts");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data,
            schema,
            client: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = server.client.get(server.url("/healthz")).send().await
                && r.status().is_success()
            {
                return server;
            }
            assert!(Instant::now() < deadline, "the server did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The flags that point `trellis token …` at this server's database.
    pub fn store_args(&self) -> Vec<String> {
        match &self.schema {
            Some(schema) => vec!["--database-url".into(), schema.url().to_string()],
            None => vec!["--data-dir".into(), self.data.display().to_string()],
        }
    }

    /// Creates an API token with `trellis token create NAME ARGS…`; returns its secret.
    pub fn create_token(&self, name: &str, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
            .args(["token", "create", name])
            .args(args)
            .args(self.store_args())
            .output()
            .expect("trellis token create runs");
        assert!(
            out.status.success(),
            "token create {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// A directory for the test's own files beside the data directory, removed with the server.
    pub fn scratch(&self) -> std::path::PathBuf {
        let dir = self.data.with_extension("scratch");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Sends SIGTERM and waits up to `within` for the server to exit; whether it exited 0.
    pub fn stop_gracefully(&mut self, within: Duration) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Waits up to `within` for the server to exit by itself; whether it exited 0, or `None`
    /// if it still runs.
    pub fn wait_exit(&mut self, within: Duration) -> Option<bool> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.success());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with an optional JSON body; returns the status and the JSON answer.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_as(None, method, path, body).await
    }

    /// [`Server::call`] with `Authorization: Bearer TOKEN` when a token is given.
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    /// POSTs JSON with extra headers; returns the status.
    pub async fn http_post_with_headers(
        &self,
        path: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> u16 {
        let mut req = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap().status().as_u16()
    }

    /// Creates a workflow in a namespace, expecting 200; returns it as stored.
    pub async fn create(&self, ns: &str, wf: Value) -> Value {
        let path = format!("/api/v1/workflows/{ns}");
        let (status, body) = self
            .call("POST", &path, Some(serde_json::json!({"workflow": wf})))
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// GET, expecting 200.
    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call("GET", path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// The raw text of a GET (for streams), with extra headers.
    pub async fn text(&self, path: &str, headers: &[(&str, &str)]) -> String {
        let mut req = self.client.get(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap().text().await.unwrap()
    }

    /// A streamed GET, to read chunk by chunk.
    pub async fn stream(&self, path: &str) -> reqwest::Response {
        let resp = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "GET {path}");
        resp
    }

    /// Reads the watch events of one workflow until `last` holds for one (20 s at most a
    /// message); returns every event's `result`, that one included.
    pub async fn watch_until(
        &self,
        ns: &str,
        name: &str,
        last: impl Fn(&Value) -> bool,
    ) -> Vec<Value> {
        let path = format!(
            "/api/v1/workflow-events/{ns}?listOptions.fieldSelector=metadata.name%3D{name}"
        );
        let mut resp = self.stream(&path).await;
        let (mut buf, mut seen) = (String::new(), Vec::new());
        loop {
            let chunk = tokio::time::timeout(Duration::from_secs(20), resp.chunk())
                .await
                .expect("the next event within 20 s")
                .unwrap()
                .expect("the stream is still open");
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(i) = buf.find('\n') {
                let line: String = buf.drain(..=i).collect();
                let ev: Value = serde_json::from_str(&line).unwrap();
                let done = last(&ev["result"]);
                seen.push(ev["result"].clone());
                if done {
                    return seen;
                }
            }
        }
    }

    /// Polls a workflow until `done` holds for it (30 s at most).
    pub async fn wait_for(&self, ns: &str, name: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let wf = self.get(&format!("/api/v1/workflows/{ns}/{name}")).await;
            if done(&wf) {
                return wf;
            }
            assert!(
                Instant::now() < deadline,
                "workflow {name} never got there: {wf}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls a workflow until it has finished; returns it.
    pub async fn finished(&self, ns: &str, name: &str) -> Value {
        self.wait_for(ns, name, |wf| {
            matches!(
                wf["status"]["phase"].as_str(),
                Some("Succeeded" | "Failed" | "Error")
            )
        })
        .await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
        let _ = std::fs::remove_dir_all(self.data.with_extension("scratch"));
        if let Some(schema) = self.schema.take() {
            drop_schema_now(schema);
        }
    }
}

/// `metadata.name` of an object.
pub fn name(v: &Value) -> String {
    v["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The node of a workflow whose display name is `display`.
pub fn node<'a>(wf: &'a Value, display: &str) -> &'a Value {
    wf["status"]["nodes"]
        .as_object()
        .and_then(|n| n.values().find(|n| n["displayName"] == display))
        .unwrap_or_else(|| panic!("no node {display} in {wf}"))
}

/// The `content` of every message of a newline-delimited JSON log stream.
pub fn log_lines(ndjson: &str) -> Vec<String> {
    ndjson
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            v["result"]["content"].as_str().unwrap().to_string()
        })
        .collect()
}
