//! Step logs from the Pods' log API, kept as `main.log` files in the format the local backend
//! writes (one JSON line per log line), so the API and UI read windows of them, search them
//! and follow them the same way. A finished step's log is fetched once; a running step's is
//! fetched again every second until it ends, each copy replacing the last (a log only grows,
//! and the lines' Kubernetes timestamps make each copy extend the one before).

use std::path::{Path, PathBuf};
use std::time::Duration;

use engine::model::Workflow;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};

use super::KubeBackend;
use crate::exec::{LOG_FILE, LogLine, LogStream};
use crate::store::Store;

/// How often a running step's log is fetched again.
const REFRESH: Duration = Duration::from_secs(1);
/// Beside a log fetched after its step ended: no need to fetch it again.
const COMPLETE: &str = "main.log.complete";

/// The `main.log` lines of a Pod log fetched with `timestamps=true`: each line's timestamp is
/// Kubernetes' (`<RFC 3339> <line>`); a line without one gets `fallback`.
pub fn log_lines(text: &str, fallback: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    for line in text.lines() {
        let (t, l) = match line.split_once(' ') {
            Some((t, rest)) if chrono::DateTime::parse_from_rfc3339(t).is_ok() => (t, rest),
            _ => (fallback, line),
        };
        let entry = LogLine {
            t: t.to_owned(),
            s: LogStream::Stdout,
            l: l.to_owned(),
        };
        if let Ok(json) = serde_json::to_string(&entry) {
            out.push_str(&json);
            out.push('\n');
        }
    }
    out
}

/// Whether the node of the workflow has ended (or the whole workflow has).
fn step_done(wf: &Workflow, node: &str) -> bool {
    let Some(status) = wf.status.as_ref() else {
        return false;
    };
    status.phase.is_some_and(|p| p.completed())
        || status
            .nodes
            .as_ref()
            .and_then(|n| n.get(node))
            .is_none_or(|n| n.phase.is_some_and(|p| p.fulfilled()))
}

impl KubeBackend {
    /// The directory of a step's cached log: one per attempt (a retried node starts again).
    fn log_dir(&self, wf: &Workflow, node: &str) -> PathBuf {
        let uid = wf
            .metadata
            .as_ref()
            .and_then(|m| m.uid.clone())
            .unwrap_or_default();
        let started = wf
            .status
            .as_ref()
            .and_then(|s| s.nodes.as_ref()?.get(node)?.started_at.clone())
            .unwrap_or_default()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "-");
        self.inner
            .data_dir
            .join("pod-logs")
            .join(uid)
            .join(node)
            .join(started)
    }

    /// Drops the cached logs of a node (its attempts, before it runs again).
    pub(super) fn forget_log(&self, uid: &str, node: &str) {
        let dir = self.inner.data_dir.join("pod-logs").join(uid).join(node);
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %dir.display(), error = %e, "cannot drop a step's cached log");
        }
    }

    /// The `main.log` of a workflow's node, fetched from its Pod (see the module's doc); a
    /// step without a Pod, or whose Pod is gone with its log, has none (the file is absent).
    /// Once the step has ended, the last copy is fetched before this returns.
    pub async fn log_path(&self, wf: &Workflow, node: &str) -> PathBuf {
        let dir = self.log_dir(wf, node);
        let path = dir.join(LOG_FILE);
        if dir.join(COMPLETE).exists() {
            return path;
        }
        if step_done(wf, node) {
            self.fetch(wf, node, &dir, true).await;
            return path;
        }
        let key = dir.clone();
        let claimed = self
            .inner
            .refreshing
            .lock()
            .is_ok_and(|mut r| r.insert(key.clone()));
        if !claimed {
            return path; // being fetched every second already
        }
        self.fetch(wf, node, &dir, false).await;
        let this = self.clone();
        let (ns, name) = namespace_name(wf);
        let (node, dir) = (node.to_owned(), dir.clone());
        tokio::spawn(async move {
            this.refresh(&ns, &name, &node, &dir).await;
            if let Ok(mut r) = this.inner.refreshing.lock() {
                r.remove(&key);
            }
        });
        path
    }

    /// Fetches a running step's log every [`REFRESH`] until it ends (then once more) or the
    /// workflow is gone.
    async fn refresh(&self, ns: &str, name: &str, node: &str, dir: &Path) {
        loop {
            tokio::time::sleep(REFRESH).await;
            let Ok(wf) = self.inner.store.get_workflow(ns, name).await else {
                return;
            };
            if self.log_dir(&wf, node) != dir {
                return; // retried: a new attempt, with a cache of its own
            }
            let done = step_done(&wf, node);
            self.fetch(&wf, node, dir, done).await;
            if done {
                return;
            }
        }
    }

    /// Fetches the log of a node's Pod into `dir/main.log` (replacing it); marks it complete
    /// when the step had ended before the fetch.
    async fn fetch(&self, wf: &Workflow, node: &str, dir: &Path, done: bool) {
        let (ns, name) = namespace_name(wf);
        let Some(n) = wf
            .status
            .as_ref()
            .and_then(|s| s.nodes.as_ref())
            .and_then(|nodes| nodes.get(node))
        else {
            return;
        };
        let Some(pod) = engine::plan::node_pod_name(&name, n) else {
            return;
        };
        let api: Api<Pod> = Api::namespaced(self.inner.client.clone(), &ns);
        let params = LogParams {
            container: Some("main".into()),
            timestamps: true,
            ..LogParams::default()
        };
        let text = match api.logs(&pod, &params).await {
            Ok(text) => text,
            // Not started yet, or deleted (pod GC): keep what was fetched before.
            Err(e) => {
                tracing::debug!(pod, error = %e, "cannot read a step's log");
                return;
            }
        };
        let fallback = n.started_at.clone().unwrap_or_default();
        let lines = log_lines(&text, &fallback);
        if let Err(e) = write_atomically(dir, &lines, done) {
            tracing::warn!(path = %dir.display(), error = %e, "cannot keep a step's log");
        }
    }
}

fn namespace_name(wf: &Workflow) -> (String, String) {
    let meta = wf.metadata.as_ref();
    (
        meta.and_then(|m| m.namespace.clone()).unwrap_or_default(),
        meta.and_then(|m| m.name.clone()).unwrap_or_default(),
    )
}

/// Replaces `dir/main.log` by `lines` (through a temporary file of its own, so readers see the
/// old copy or the new one, and concurrent fetches do not mix), then marks it complete if
/// `complete`.
fn write_atomically(dir: &Path, lines: &str, complete: bool) -> std::io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    std::fs::create_dir_all(dir)?;
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!("main.log.tmp.{}.{n}", std::process::id()));
    std::fs::write(&tmp, lines)?;
    std::fs::rename(&tmp, dir.join(LOG_FILE))?;
    if complete {
        std::fs::write(dir.join(COMPLETE), b"")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_timestamps_become_the_lines_times() {
        let text = "2026-12-03T10:00:00.123456789Z hello world\nno stamp here\n";
        let out = log_lines(text, "2026-12-03T09:00:00Z");
        let lines: Vec<LogLine> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].t, "2026-12-03T10:00:00.123456789Z");
        assert_eq!(lines[0].l, "hello world");
        assert_eq!(lines[1].t, "2026-12-03T09:00:00Z");
        assert_eq!(lines[1].l, "no stamp here");
    }

    #[test]
    fn a_growing_log_extends_its_last_copy() {
        let first = log_lines("2026-12-03T10:00:00Z a\n", "x");
        let second = log_lines("2026-12-03T10:00:00Z a\n2026-12-03T10:00:01Z b\n", "x");
        assert!(second.starts_with(&first), "{first} / {second}");
        assert!(second.len() > first.len());
    }

    #[test]
    fn a_log_is_replaced_whole_and_marked_complete_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        write_atomically(dir.path(), "one\n", false).unwrap();
        assert!(!dir.path().join(COMPLETE).exists());
        write_atomically(dir.path(), "one\ntwo\n", true).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(LOG_FILE)).unwrap(),
            "one\ntwo\n"
        );
        assert!(dir.path().join(COMPLETE).exists());
        let left = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(left, 2, "main.log and its mark, no temporary file");
    }
}
