//! A Kubernetes API server emulator for tests: the REST protocol of any resource kept in memory
//! — list (with `resourceVersion`), watch (replayed from any `resourceVersion`, then live, with
//! bookmarks), get, create, replace (optimistic concurrency), the `status` subresource, merge
//! and apply patches, delete with garbage collection of owned objects, label selectors, and
//! Kubernetes' `Status` errors (404, 409 AlreadyExists / Conflict, 422).
//!
//! It is schema-less: any `/api/v1/...` or `/apis/GROUP/VERSION/...` resource is accepted, so
//! the CRDs need no installing. Pods' logs (`pods/NAME/log`) are what the fake kubelet stored.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// One change of one object.
#[derive(Debug, Clone)]
pub struct Change {
    /// The resourceVersion the change made.
    pub rv: u64,
    /// `pods`, `argoproj.io/workflows`, …
    pub resource: String,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    /// The object after the change (before, for `DELETED`).
    pub object: Value,
}

#[derive(Default)]
struct State {
    rv: u64,
    uid: u64,
    /// By (resource, namespace, name).
    objects: BTreeMap<(String, String, String), Value>,
    log: Vec<Arc<Change>>,
    /// A Pod's log and when it was stored (each line's time, with `timestamps=true`).
    pod_logs: BTreeMap<(String, String), (String, String)>,
}

/// The emulator (cheap to clone).
#[derive(Clone)]
pub struct KubeApi {
    state: Arc<Mutex<State>>,
    changes: broadcast::Sender<Arc<Change>>,
}

/// A request's target.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    resource: String,
    /// `None`: every namespace (or a cluster-scoped resource).
    namespace: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

fn parse_path(path: &str) -> Option<Target> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => (String::new(), rest),
        ["apis", g, _v, rest @ ..] => (format!("{g}/"), rest),
        _ => return None,
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(ns.to_string()), rest),
        _ => (None, rest),
    };
    let (plural, name, sub) = match rest {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(n.to_string()), None),
        [p, n, s] => (*p, Some(n.to_string()), Some(s.to_string())),
        _ => return None,
    };
    Some(Target {
        resource: format!("{group}{plural}"),
        namespace,
        name,
        sub,
    })
}

fn status_error(code: u16, reason: &str, message: String) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code,
    });
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(body),
    )
        .into_response()
}

/// Whether `labels` match a selector such as `a=b,!c,d`.
pub fn selects(selector: &str, labels: &Value) -> bool {
    selector.split(',').filter(|t| !t.is_empty()).all(|term| {
        let term = term.trim();
        if let Some(key) = term.strip_prefix('!') {
            return labels.get(key).is_none();
        }
        if let Some((k, v)) = term.split_once("!=") {
            return labels.get(k).and_then(Value::as_str) != Some(v);
        }
        if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            return labels.get(k).and_then(Value::as_str) == Some(v);
        }
        labels.get(term).is_some()
    })
}

fn query(uri: &Uri) -> BTreeMap<String, String> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v
                .replace("%21", "!")
                .replace("%3D", "=")
                .replace("%2C", ",");
            let v = v.replace("%2F", "/").replace('+', " ");
            (k.to_string(), v)
        })
        .collect()
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

impl KubeApi {
    /// An empty cluster.
    pub fn new() -> Self {
        let (changes, _) = broadcast::channel(100_000);
        Self {
            state: Arc::new(Mutex::new(State::default())),
            changes,
        }
    }

    /// Serves on 127.0.0.1 (a free port); returns the base URL.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let api = self.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: axum::http::HeaderMap, body: Bytes| {
                let api = api.clone();
                async move { api.handle(method, uri, headers, body) }
            },
        );
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        format!("http://{addr}")
    }

    /// A kubeconfig for the emulator, written to `path`.
    pub fn write_kubeconfig(url: &str, path: &std::path::Path) {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: emulator\n  cluster: {{server: \"{url}\"}}\n\
             users:\n- name: test\n  user: {{token: test}}\ncontexts:\n- name: emulator\n  context: {{cluster: emulator, user: test, namespace: default}}\n\
             current-context: emulator\n"
        );
        std::fs::write(path, text).unwrap();
    }

    /// Every change so far.
    pub fn changes(&self) -> Vec<Arc<Change>> {
        self.state.lock().unwrap().log.clone()
    }

    /// The object, if it exists.
    pub fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        let s = self.state.lock().unwrap();
        s.objects
            .get(&(resource.into(), namespace.into(), name.into()))
            .cloned()
    }

    /// Every object of a resource in a namespace.
    pub fn list(&self, resource: &str, namespace: &str) -> Vec<Value> {
        let s = self.state.lock().unwrap();
        s.objects
            .iter()
            .filter(|((r, ns, _), _)| r == resource && ns == namespace)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Stores a Pod's log (the fake kubelet does).
    pub fn set_log(&self, namespace: &str, pod: &str, text: String) {
        let mut s = self.state.lock().unwrap();
        s.pod_logs
            .insert((namespace.into(), pod.into()), (text, now()));
    }

    /// Changes a Pod's status as its kubelet would (a `MODIFIED` change); `false` when the Pod
    /// is gone.
    pub fn set_pod_status(&self, namespace: &str, name: &str, status: Value) -> bool {
        let mut s = self.state.lock().unwrap();
        let key = ("pods".to_string(), namespace.to_string(), name.to_string());
        let Some(mut pod) = s.objects.get(&key).cloned() else {
            return false;
        };
        pod["status"] = status;
        s.rv += 1;
        pod["metadata"]["resourceVersion"] = s.rv.to_string().into();
        s.objects.insert(key, pod.clone());
        self.record(&mut s, "pods", "MODIFIED", pod);
        true
    }

    /// Every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.changes.subscribe()
    }

    fn record(&self, s: &mut State, resource: &str, kind: &'static str, object: Value) {
        let change = Arc::new(Change {
            rv: s.rv,
            resource: resource.into(),
            kind,
            object,
        });
        s.log.push(change.clone());
        let _ = self.changes.send(change);
    }

    fn handle(
        &self,
        method: Method,
        uri: Uri,
        headers: axum::http::HeaderMap,
        body: Bytes,
    ) -> Response {
        if method == Method::GET
            && let Some(doc) = discovery(uri.path())
        {
            return axum::Json(doc).into_response();
        }
        let Some(t) = parse_path(uri.path()) else {
            return status_error(404, "NotFound", format!("no such path {}", uri.path()));
        };
        let q = query(&uri);
        let body: Value = if body.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => return status_error(400, "BadRequest", format!("body is not JSON: {e}")),
            }
        };
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        match (&method, &t.name, &t.sub) {
            (&Method::GET, None, None) if q.get("watch").map(String::as_str) == Some("true") => {
                self.watch(&t, &q)
            }
            (&Method::GET, None, None) => self.list_response(&t, &q),
            (&Method::POST, None, None) => self.create(&t, body),
            (&Method::GET, Some(name), None) => match self.find(&t, name) {
                Some(o) => axum::Json(o).into_response(),
                None => not_found(&t, name),
            },
            (&Method::GET, Some(name), Some(sub)) if sub == "log" => {
                let s = self.state.lock().unwrap();
                let ns = t.namespace.clone().unwrap_or_default();
                match s.pod_logs.get(&(ns, name.clone())) {
                    Some((text, _)) if q.get("timestamps").is_none_or(|v| v != "true") => {
                        text.clone().into_response()
                    }
                    Some((text, at)) => text
                        .lines()
                        .map(|l| format!("{at} {l}\n"))
                        .collect::<String>()
                        .into_response(),
                    None => not_found(&t, name),
                }
            }
            (&Method::PUT, Some(name), sub) => {
                self.replace(&t, name, body, sub.as_deref() == Some("status"))
            }
            (&Method::PATCH, Some(name), _) if content_type.contains("json-patch") => {
                self.json_patch(&t, name, body)
            }
            (&Method::PATCH, Some(name), sub) => {
                let apply = content_type.contains("apply-patch");
                self.patch(&t, name, body, apply, sub.as_deref() == Some("status"))
            }
            (&Method::DELETE, Some(name), None) => self.delete(&t, name),
            _ => status_error(405, "MethodNotAllowed", format!("{method} {}", uri.path())),
        }
    }

    fn key(t: &Target, name: &str) -> (String, String, String) {
        (
            t.resource.clone(),
            t.namespace.clone().unwrap_or_default(),
            name.to_string(),
        )
    }

    fn find(&self, t: &Target, name: &str) -> Option<Value> {
        self.state
            .lock()
            .unwrap()
            .objects
            .get(&Self::key(t, name))
            .cloned()
    }

    fn in_scope(t: &Target, q: &BTreeMap<String, String>, resource: &str, o: &Value) -> bool {
        if resource != t.resource {
            return false;
        }
        if let Some(ns) = &t.namespace
            && o["metadata"]["namespace"].as_str().unwrap_or("") != ns
        {
            return false;
        }
        match q.get("labelSelector") {
            Some(sel) => selects(sel, &o["metadata"]["labels"]),
            None => true,
        }
    }

    fn list_response(&self, t: &Target, q: &BTreeMap<String, String>) -> Response {
        let s = self.state.lock().unwrap();
        let items: Vec<Value> = s
            .objects
            .iter()
            .filter(|((r, _, _), o)| Self::in_scope(t, q, r, o))
            .map(|(_, o)| o.clone())
            .collect();
        axum::Json(json!({
            "kind": "List", "apiVersion": "v1",
            "metadata": {"resourceVersion": s.rv.to_string()},
            "items": items,
        }))
        .into_response()
    }

    fn watch(&self, t: &Target, q: &BTreeMap<String, String>) -> Response {
        let since: u64 = q
            .get("resourceVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let timeout = q
            .get("timeoutSeconds")
            .and_then(|v| v.parse().ok())
            .unwrap_or(30u64)
            .min(30);
        let mut live = self.changes.subscribe();
        let (history, now_rv) = {
            let s = self.state.lock().unwrap();
            let h: Vec<Arc<Change>> = s.log.iter().filter(|c| c.rv > since).cloned().collect();
            (h, s.rv)
        };
        let t = t.clone();
        let q = q.clone();
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::convert::Infallible>>(1024);
        tokio::spawn(async move {
            let line = |c: &Change| {
                let mut text = json!({"type": c.kind, "object": c.object}).to_string();
                text.push('\n');
                Bytes::from(text)
            };
            let mut last = since;
            for c in history {
                last = c.rv;
                if Self::in_scope(&t, &q, &c.resource, &c.object)
                    && tx.send(Ok(line(&c))).await.is_err()
                {
                    return;
                }
            }
            let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
            loop {
                let next = tokio::time::timeout_at(deadline, live.recv()).await;
                match next {
                    Ok(Ok(c)) => {
                        if c.rv <= last {
                            continue;
                        }
                        last = c.rv;
                        if Self::in_scope(&t, &q, &c.resource, &c.object)
                            && tx.send(Ok(line(&c))).await.is_err()
                        {
                            return;
                        }
                    }
                    Ok(Err(broadcast::error::RecvError::Lagged(_))) => return,
                    Ok(Err(_)) | Err(_) => break,
                }
            }
            // A bookmark, so the next watch starts from here.
            let rv = last.max(now_rv);
            let bookmark = json!({"type": "BOOKMARK", "object": {
                "kind": "Bookmark", "apiVersion": "v1", "metadata": {"resourceVersion": rv.to_string()}}});
            let _ = tx.send(Ok(Bytes::from(format!("{bookmark}\n")))).await;
        });
        let stream = tokio_stream_from(rx);
        Response::builder()
            .header("content-type", "application/json")
            .body(Body::from_stream(stream))
            .unwrap()
    }

    fn create(&self, t: &Target, mut body: Value) -> Response {
        let mut s = self.state.lock().unwrap();
        if body["metadata"]["name"].as_str().is_none()
            && let Some(prefix) = body["metadata"]["generateName"].as_str()
        {
            let name = format!("{prefix}{:05x}", (s.uid * 7919 + 4099) % 0xfffff);
            body["metadata"]["name"] = name.into();
        }
        let Some(name) = body["metadata"]["name"].as_str().map(str::to_string) else {
            return status_error(422, "Invalid", "metadata.name: Required value".into());
        };
        let key = Self::key(t, &name);
        if s.objects.contains_key(&key) {
            return status_error(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", t.resource),
            );
        }
        s.rv += 1;
        s.uid += 1;
        let meta = &mut body["metadata"];
        meta["resourceVersion"] = s.rv.to_string().into();
        meta["uid"] = format!("00000000-0000-0000-0000-{:012}", s.uid).into();
        meta["creationTimestamp"] = now().into();
        meta["generation"] = 1.into();
        if let Some(ns) = &t.namespace {
            meta["namespace"] = ns.clone().into();
        }
        if t.resource == "pods" && body.get("status").is_none() {
            body["status"] = json!({"phase": "Pending"});
        }
        s.objects.insert(key, body.clone());
        self.record(&mut s, &t.resource, "ADDED", body.clone());
        (StatusCode::CREATED, axum::Json(body)).into_response()
    }

    fn replace(&self, t: &Target, name: &str, mut body: Value, status_only: bool) -> Response {
        let mut s = self.state.lock().unwrap();
        let key = Self::key(t, name);
        let Some(current) = s.objects.get(&key).cloned() else {
            return not_found(t, name);
        };
        let sent = body["metadata"]["resourceVersion"].as_str().unwrap_or("");
        if !sent.is_empty()
            && sent
                != current["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
        {
            return status_error(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    t.resource
                ),
            );
        }
        let next = if status_only {
            let mut next = current.clone();
            next["status"] = body["status"].take();
            next
        } else {
            body["status"] = current["status"].clone();
            body["metadata"]["uid"] = current["metadata"]["uid"].clone();
            body["metadata"]["creationTimestamp"] =
                current["metadata"]["creationTimestamp"].clone();
            body
        };
        self.store_change(&mut s, t, key, next)
    }

    fn store_change(
        &self,
        s: &mut State,
        t: &Target,
        key: (String, String, String),
        mut next: Value,
    ) -> Response {
        s.rv += 1;
        next["metadata"]["resourceVersion"] = s.rv.to_string().into();
        s.objects.insert(key, next.clone());
        self.record(s, &t.resource, "MODIFIED", next.clone());
        axum::Json(next).into_response()
    }

    fn patch(
        &self,
        t: &Target,
        name: &str,
        body: Value,
        apply: bool,
        status_only: bool,
    ) -> Response {
        let current = self.find(t, name);
        let Some(mut current) = current else {
            if apply {
                let mut body = body;
                body["metadata"]["name"] = name.into();
                return self.create(t, body);
            }
            return not_found(t, name);
        };
        let mut s = self.state.lock().unwrap();
        let patch = if status_only {
            json!({"status": body["status"]})
        } else {
            let mut p = body;
            if let Some(m) = p.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("resourceVersion");
                m.remove("uid");
            }
            p
        };
        merge(&mut current, &patch);
        let key = Self::key(t, name);
        self.store_change(&mut s, t, key, current)
    }

    fn json_patch(&self, t: &Target, name: &str, body: Value) -> Response {
        let Some(mut current) = self.find(t, name) else {
            return not_found(t, name);
        };
        let ops: json_patch::Patch = match serde_json::from_value(body) {
            Ok(p) => p,
            Err(e) => return status_error(400, "BadRequest", format!("not a JSON patch: {e}")),
        };
        if let Err(e) = json_patch::patch(&mut current, &ops) {
            return status_error(
                422,
                "Invalid",
                format!("the JSON patch does not apply: {e}"),
            );
        }
        let mut s = self.state.lock().unwrap();
        let key = Self::key(t, name);
        self.store_change(&mut s, t, key, current)
    }

    fn delete(&self, t: &Target, name: &str) -> Response {
        let mut s = self.state.lock().unwrap();
        let key = Self::key(t, name);
        let Some(gone) = s.objects.remove(&key) else {
            return not_found(t, name);
        };
        s.rv += 1;
        let mut gone = gone;
        gone["metadata"]["resourceVersion"] = s.rv.to_string().into();
        self.record(&mut s, &t.resource, "DELETED", gone.clone());
        // Garbage collection: what the deleted object owned goes too (transitively).
        let mut owners = vec![gone["metadata"]["uid"].as_str().unwrap_or("").to_string()];
        while let Some(uid) = owners.pop() {
            let owned: Vec<_> = s
                .objects
                .iter()
                .filter(|(_, o)| {
                    o["metadata"]["ownerReferences"]
                        .as_array()
                        .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid.as_str()))
                })
                .map(|(k, _)| k.clone())
                .collect();
            for k in owned {
                if let Some(mut o) = s.objects.remove(&k) {
                    s.rv += 1;
                    o["metadata"]["resourceVersion"] = s.rv.to_string().into();
                    owners.push(o["metadata"]["uid"].as_str().unwrap_or("").to_string());
                    self.record(&mut s, &k.0, "DELETED", o);
                }
            }
        }
        axum::Json(gone).into_response()
    }
}

/// The resources the emulator serves, for discovery: (group/version, plural, kind, namespaced).
const RESOURCES: &[(&str, &str, &str, bool)] = &[
    ("v1", "pods", "Pod", true),
    ("v1", "configmaps", "ConfigMap", true),
    ("v1", "secrets", "Secret", true),
    ("v1", "services", "Service", true),
    ("v1", "serviceaccounts", "ServiceAccount", true),
    ("v1", "namespaces", "Namespace", false),
    ("batch/v1", "jobs", "Job", true),
    ("coordination.k8s.io/v1", "leases", "Lease", true),
    ("argoproj.io/v1alpha1", "workflows", "Workflow", true),
    (
        "argoproj.io/v1alpha1",
        "workflowtemplates",
        "WorkflowTemplate",
        true,
    ),
    (
        "argoproj.io/v1alpha1",
        "clusterworkflowtemplates",
        "ClusterWorkflowTemplate",
        false,
    ),
    (
        "argoproj.io/v1alpha1",
        "cronworkflows",
        "CronWorkflow",
        true,
    ),
    (
        "argoproj.io/v1alpha1",
        "workflowtaskresults",
        "WorkflowTaskResult",
        true,
    ),
];

/// The discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/GROUP/VERSION`).
fn discovery(path: &str) -> Option<Value> {
    let path = path.trim_end_matches('/');
    let versions = |gv: &str| -> Vec<Value> {
        RESOURCES
            .iter()
            .filter(|r| r.0 == gv)
            .map(|(_, plural, kind, namespaced)| {
                json!({"name": plural, "singularName": kind.to_lowercase(), "namespaced": namespaced,
                    "kind": kind, "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]})
            })
            .collect()
    };
    match path {
        "/api" => Some(
            json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
        ),
        "/apis" => {
            let mut groups: Vec<&str> = RESOURCES
                .iter()
                .map(|r| r.0)
                .filter(|gv| gv.contains('/'))
                .collect();
            groups.dedup();
            let list: Vec<Value> = groups
                .iter()
                .map(|gv| {
                    let (g, v) = gv.split_once('/').unwrap();
                    json!({"name": g, "versions": [{"groupVersion": gv, "version": v}],
                        "preferredVersion": {"groupVersion": gv, "version": v}})
                })
                .collect();
            Some(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": list}))
        }
        "/api/v1" => Some(
            json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": versions("v1")}),
        ),
        _ => {
            let gv = path.strip_prefix("/apis/")?;
            if gv.matches('/').count() != 1 {
                return None;
            }
            let resources = versions(gv);
            (!resources.is_empty()).then(|| {
                json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
            })
        }
    }
}

fn not_found(t: &Target, name: &str) -> Response {
    status_error(
        404,
        "NotFound",
        format!("{} \"{name}\" not found", t.resource),
    )
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[test]
fn paths_and_selectors_are_understood() {
    assert_eq!(
        parse_path("/apis/argoproj.io/v1alpha1/namespaces/ci/workflows/w/status"),
        Some(Target {
            resource: "argoproj.io/workflows".into(),
            namespace: Some("ci".into()),
            name: Some("w".into()),
            sub: Some("status".into()),
        })
    );
    assert_eq!(parse_path("/api/v1/pods").unwrap().namespace, None);
    let labels = json!({"a": "b", "c": "d"});
    assert!(selects("a=b,c", &labels));
    assert!(!selects("!c", &labels));
    assert!(selects("!x,a!=z", &labels));
}
