//! A fake kubelet for the Kubernetes API emulator: it "runs" each new Pod by executing its
//! containers' commands on this machine — the main container's `trellis exec` wrapper for real,
//! with the Pod's environment — and reports the Pod's status as a kubelet does: Running with a
//! start time and IP, then Succeeded or Failed with the main container's exit code; Failed with
//! reason `DeadlineExceeded` once `activeDeadlineSeconds` has passed (SIGTERM, then SIGKILL).
//! A deleted Pod's processes are killed.
//!
//! What it does not emulate: images (commands run from this machine's PATH), the init container
//! that copies `trellis` (the path `/var/run/trellis/bin/trellis` is mapped to the binary under
//! test), and the shared emptyDir (each Pod gets a directory of its own for exec's work files).

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::kube_api::KubeApi;

const TRELLIS_BIN: &str = "/var/run/trellis/bin/trellis";

/// The running kubelet: dropping it kills every process its Pods still run.
pub struct Kubelet {
    groups: Groups,
}

type Groups = Arc<Mutex<Vec<u32>>>;

impl Drop for Kubelet {
    fn drop(&mut self) {
        for pid in self.groups.lock().unwrap().iter() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
    }
}

/// Starts the kubelet; it runs until the test ends.
pub fn start(api: KubeApi, trellis: PathBuf, kubeconfig: PathBuf, root: PathBuf) -> Kubelet {
    let groups: Groups = Arc::default();
    let kubelet = Kubelet {
        groups: groups.clone(),
    };
    let deleted: Arc<Mutex<HashMap<String, tokio::sync::oneshot::Sender<()>>>> = Arc::default();
    let mut changes = api.subscribe();
    tokio::spawn(async move {
        while let Ok(c) = changes.recv().await {
            if c.resource != "pods" {
                continue;
            }
            let ns = c.object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let name = c.object["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let key = format!("{ns}/{name}");
            match c.kind {
                "ADDED" => {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    deleted.lock().unwrap().insert(key.clone(), tx);
                    let run = PodRun {
                        groups: groups.clone(),
                        api: api.clone(),
                        pod: c.object.clone(),
                        namespace: ns,
                        name,
                        trellis: trellis.clone(),
                        kubeconfig: kubeconfig.clone(),
                        dir: root.join(&key),
                    };
                    tokio::spawn(run.run(rx));
                }
                "DELETED" => {
                    if let Some(tx) = deleted.lock().unwrap().remove(&key) {
                        let _ = tx.send(());
                    }
                }
                _ => {}
            }
        }
    });
    kubelet
}

struct PodRun {
    groups: Groups,
    api: KubeApi,
    pod: Value,
    namespace: String,
    name: String,
    trellis: PathBuf,
    kubeconfig: PathBuf,
    dir: PathBuf,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// How a container ended.
struct Ended {
    code: i32,
    deadline: bool,
    deleted: bool,
}

impl PodRun {
    async fn run(self, mut deleted: tokio::sync::oneshot::Receiver<()>) {
        std::fs::create_dir_all(self.dir.join("work")).unwrap();
        let started = now();
        let started_at = std::time::Instant::now();
        let image = self.pod["spec"]["containers"][0]["image"].clone();
        self.api.set_pod_status(
            &self.namespace,
            &self.name,
            json!({
                "phase": "Running", "startTime": started, "podIP": "127.0.0.1",
                "containerStatuses": [{"name": "main", "ready": true, "restartCount": 0,
                    "image": image, "imageID": "", "state": {"running": {"startedAt": started}}}],
            }),
        );
        let mut log = String::new();
        let mut sidecars = Vec::new();
        for c in self.pod["spec"]["initContainers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            if c["name"] == "init" {
                continue; // Copies trellis in: the binary under test is used instead.
            }
            if c["restartPolicy"] == "Always" {
                if let Ok(child) = self.command(&c).spawn() {
                    if let Some(pid) = child.id() {
                        self.groups.lock().unwrap().push(pid);
                    }
                    sidecars.push(child);
                }
                continue;
            }
            let out = self.command(&c).output().await;
            let ok = out.as_ref().is_ok_and(|o| o.status.success());
            if let Ok(o) = &out {
                log.push_str(&String::from_utf8_lossy(&o.stdout));
            }
            if !ok {
                return self.finish(
                    &started,
                    Ended {
                        code: 1,
                        deadline: false,
                        deleted: false,
                    },
                    log,
                );
            }
        }
        // Every container at once (a containerSet's coordinate through the shared volume).
        let containers = self.pod["spec"]["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut running = Vec::new();
        let mut codes: Vec<Option<i32>> = Vec::new();
        for c in &containers {
            let log_path = self
                .dir
                .join(format!("{}.log", c["name"].as_str().unwrap_or("c")));
            let file = std::fs::File::create(&log_path).unwrap();
            let mut cmd = self.command(c);
            cmd.stdout(file.try_clone().unwrap()).stderr(file);
            match cmd.spawn() {
                Ok(child) => {
                    if let Some(pid) = child.id() {
                        self.groups.lock().unwrap().push(pid);
                    }
                    running.push(Some(child));
                    codes.push(None);
                }
                Err(e) => {
                    log.push_str(&format!("cannot start: {e}\n"));
                    running.push(None);
                    codes.push(Some(128));
                }
            }
        }
        let mut deadline = false;
        let mut gone = false;
        loop {
            for (child, code) in running.iter_mut().zip(codes.iter_mut()) {
                if let Some(c) = child
                    && let Ok(Some(status)) = c.try_wait()
                {
                    *code = Some(status.code().unwrap_or(137));
                    *child = None;
                }
            }
            if running.iter().all(Option::is_none) {
                break;
            }
            if !gone && deleted.try_recv().is_ok() {
                gone = true;
                for c in running.iter_mut().flatten() {
                    signal_group(c, "-KILL");
                }
            }
            let limit = self
                .api
                .get("pods", &self.namespace, &self.name)
                .and_then(|p| p["spec"]["activeDeadlineSeconds"].as_u64());
            if !deadline && limit.is_some_and(|l| started_at.elapsed() >= Duration::from_secs(l)) {
                deadline = true;
                for c in running.iter_mut().flatten() {
                    terminate(c).await;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let code = codes
            .iter()
            .map(|c| c.unwrap_or(137))
            .find(|c| *c != 0)
            .unwrap_or(0);
        let ended = Ended {
            code,
            deadline,
            deleted: gone,
        };
        for s in sidecars {
            signal_group(&s, "-KILL");
        }
        for c in &containers {
            let log_path = self
                .dir
                .join(format!("{}.log", c["name"].as_str().unwrap_or("c")));
            log.push_str(&std::fs::read_to_string(&log_path).unwrap_or_default());
        }
        self.finish(&started, ended, log);
    }

    fn finish(&self, started: &str, ended: Ended, log: String) {
        self.api.set_log(&self.namespace, &self.name, log);
        if ended.deleted {
            return;
        }
        let mut status = json!({
            "phase": if ended.code == 0 && !ended.deadline { "Succeeded" } else { "Failed" },
            "startTime": started, "podIP": "127.0.0.1",
            "containerStatuses": [{"name": "main", "ready": false, "restartCount": 0,
                "image": self.pod["spec"]["containers"][0]["image"], "imageID": "",
                "state": {"terminated": {"exitCode": ended.code, "finishedAt": now(),
                    "reason": if ended.code == 0 { "Completed" } else { "Error" }}}}],
        });
        if ended.deadline {
            status["reason"] = "DeadlineExceeded".into();
            status["message"] =
                "Pod was active on the node longer than the specified deadline".into();
        }
        self.api.set_pod_status(&self.namespace, &self.name, status);
    }

    /// A container's command as a process of this machine, with the Pod's environment.
    fn command(&self, c: &Value) -> tokio::process::Command {
        let mut argv: Vec<String> = c["command"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(c["args"].as_array().into_iter().flatten())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        if argv.is_empty() {
            argv.push("true".into());
        }
        if argv[0] == TRELLIS_BIN || argv[0] == "/usr/local/bin/trellis" {
            argv[0] = self.trellis.display().to_string();
        }
        // Each Pod has a /tmp of its own, as a container would (examples write outputs there).
        let mut cmd = if bwrap_works() {
            let mut c = tokio::process::Command::new("bwrap");
            c.args(["--dev-bind", "/", "/", "--tmpfs", "/tmp", "--"])
                .args(&argv);
            c
        } else {
            let mut c = tokio::process::Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        };
        // A process group of its own, so that signals reach exec under bwrap.
        cmd.process_group(0)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOSTNAME", &self.name)
            .env(
                "PATH",
                format!("{}:/usr/games", std::env::var("PATH").unwrap_or_default()),
            )
            .env("RUST_LOG", "warn")
            .kill_on_drop(true);
        for e in c["env"].as_array().into_iter().flatten() {
            let name = e["name"].as_str().unwrap_or_default();
            let mut value = e["value"].as_str().unwrap_or_default().to_string();
            // As the kubelet does: a variable from a Secret's key (`data` base64, or
            // `stringData` as the emulator keeps it).
            let from = &e["valueFrom"]["secretKeyRef"];
            if let (Some(secret), Some(key)) = (from["name"].as_str(), from["key"].as_str()) {
                let s = self
                    .api
                    .get("secrets", &self.namespace, secret)
                    .unwrap_or_default();
                value = match (s["stringData"][key].as_str(), s["data"][key].as_str()) {
                    (Some(v), _) => v.to_string(),
                    (None, Some(b64)) => {
                        use base64::Engine as _;
                        let bytes = base64::engine::general_purpose::STANDARD
                            .decode(b64)
                            .unwrap_or_default();
                        String::from_utf8_lossy(&bytes).into_owned()
                    }
                    (None, None) => continue,
                };
            }
            if name == "TRELLIS_EXEC_SPEC" {
                let work = serde_json::from_str::<Value>(&value).unwrap_or_default()["workDir"]
                    .as_str()
                    .unwrap_or("/var/run/trellis/work")
                    .replace("/var/run/trellis", &self.dir.display().to_string());
                value = with_work_dir(&value, Path::new(&work));
            }
            if name == "TRELLIS_SET" {
                let mut role: Value = serde_json::from_str(&value).unwrap_or_default();
                role["dir"] = self.dir.join("set").display().to_string().into();
                value = role.to_string();
            }
            cmd.env(name, value);
        }
        let cwd = c["workingDir"]
            .as_str()
            .map(PathBuf::from)
            .unwrap_or_else(|| self.dir.clone());
        let _ = std::fs::create_dir_all(&cwd);
        cmd.current_dir(cwd);
        cmd
    }
}

/// The spec with its work directory moved to the Pod's own directory, and the entrypoints of
/// known images replaced by what stands in for them on this machine (`/argosay`: the argosay
/// emulation; `/docker-entrypoint.sh` and `/entrypoint.sh`: dropped, the program follows).
fn with_work_dir(spec: &str, dir: &Path) -> String {
    let mut v: Value = serde_json::from_str(spec).unwrap_or_default();
    v["workDir"] = dir.display().to_string().into();
    let argv: Vec<Value> = v["argv"].as_array().cloned().unwrap_or_default();
    let argv: Vec<Value> = match argv.first().and_then(Value::as_str) {
        Some("/argosay") => ["sh", "-c", controller::local::launch::ARGOSAY, "argosay"]
            .iter()
            .map(|s| Value::from(*s))
            .chain(argv[1..].iter().cloned())
            .collect(),
        Some("/docker-entrypoint.sh" | "/entrypoint.sh") => argv[1..].to_vec(),
        _ => argv,
    };
    v["argv"] = Value::Array(argv);
    v.to_string()
}

/// Whether bubblewrap can give processes a private /tmp here.
fn bwrap_works() -> bool {
    static WORKS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WORKS.get_or_init(|| {
        std::process::Command::new("bwrap")
            .args(["--dev-bind", "/", "/", "--tmpfs", "/tmp", "--", "true"])
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Signals the process group of a container's process.
fn signal_group(child: &tokio::process::Child, signal: &str) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args([signal, "--", &format!("-{pid}")])
            .status();
    }
}

async fn terminate(child: &mut tokio::process::Child) {
    signal_group(child, "-TERM");
    if tokio::time::timeout(Duration::from_secs(25), child.wait())
        .await
        .is_err()
    {
        signal_group(child, "-KILL");
    }
}
