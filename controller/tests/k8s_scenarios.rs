//! Scenario tests of the Kubernetes controller's reconcile, in the style of kube-rs
//! controller-rs `fixtures.rs`: the client talks to a mock service; each test runs one reconcile
//! for one path (new workflow, pod running, succeeded, failed, retry, suspend/resume, stop,
//! terminate, deadline, TTL deletion, compression, conflicts, refused and existing pods) and
//! asserts every request it sends — method, path, body — answering each like the API server.

use std::sync::Arc;
use std::time::Duration;

use controller::k8s::{Context, Settings, reconcile_once};
use http::{Method, Request, Response, StatusCode};
use k8s_openapi::api::core::v1::Pod;
use kube::api::DynamicObject;
use kube::client::Body;
use serde_json::{Value, json};
use tower_test::mock::{self, Handle};

type Api = Handle<Request<Body>, Response<Body>>;

fn yaml(text: &str) -> Value {
    engine::yaml::to_json(&engine::yaml::parse_stream(text).unwrap()[0])
}

/// A Workflow as the API returns it.
fn workflow(spec: &str) -> Value {
    let mut wf = yaml(&format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {{name: hello, namespace: ci, uid: uid-1, resourceVersion: '5', creationTimestamp: '2026-01-02T03:04:00Z'}}\nspec:\n{spec}"
    ));
    if wf["spec"].is_null() {
        wf["spec"] = json!({});
    }
    wf
}

const HELLO: &str = "  entrypoint: main\n  templates:\n  - name: main\n    container: {image: alpine, command: [sh, -c, 'echo hi']}\n";

/// A mock API and a context over these cached Pods and task results.
fn setup(pods: Vec<Value>, results: Vec<Value>, settings: Settings) -> (Api, Arc<Context>) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "default");
    let pods: Vec<Pod> = pods
        .into_iter()
        .map(|p| serde_json::from_value(p).unwrap())
        .collect();
    let results: Vec<DynamicObject> = results
        .into_iter()
        .map(|r| serde_json::from_value(r).unwrap())
        .collect();
    (
        handle,
        Context::fixed(client, settings, pods, results, Vec::new()),
    )
}

/// Runs one reconcile in the background.
fn reconcile(
    wf: &Value,
    ctx: &Arc<Context>,
) -> tokio::task::JoinHandle<
    Result<kube::runtime::controller::Action, controller::k8s::ReconcileError>,
> {
    let obj: DynamicObject = serde_json::from_value(wf.clone()).unwrap();
    tokio::spawn(reconcile_once(Arc::new(obj), ctx.clone()))
}

/// Receives the next request, checks its method and path, answers it; returns its body.
async fn expect(api: &mut Api, method: Method, path: &str, status: u16, answer: Value) -> Value {
    let (req, send) = tokio::time::timeout(Duration::from_secs(5), api.next_request())
        .await
        .unwrap_or_else(|_| panic!("no request; expected {method} {path}"))
        .expect("the client is gone");
    assert_eq!(req.method(), method, "{}", req.uri());
    assert_eq!(req.uri().path(), path);
    let bytes = req.into_body().collect_bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    let answer = if answer.is_null() {
        body.clone()
    } else {
        answer
    };
    send.send_response(
        Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .body(Body::from(serde_json::to_vec(&answer).unwrap()))
            .unwrap(),
    );
    body
}

/// Asserts the reconcile sends nothing more and ends well.
async fn done(
    api: &mut Api,
    task: tokio::task::JoinHandle<
        Result<kube::runtime::controller::Action, controller::k8s::ReconcileError>,
    >,
) {
    let result = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    let extra = tokio::time::timeout(Duration::from_millis(50), api.next_request()).await;
    assert!(
        extra.is_err(),
        "an unexpected request: {:?}",
        extra.ok().flatten().map(|(r, _)| r.uri().clone())
    );
}

fn status_error(code: u16, reason: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "code": code, "message": reason})
}

const STATUS: &str = "/apis/argoproj.io/v1alpha1/namespaces/ci/workflows/hello/status";
const PODS: &str = "/api/v1/namespaces/ci/pods";

/// The workflow after a status write.
fn with_status(wf: &Value, written: &Value) -> Value {
    let mut next = wf.clone();
    next["status"] = written["status"].clone();
    next
}

/// The Pod the controller created, with a status.
fn pod(created: &Value, status: Value) -> Value {
    let mut p = created.clone();
    p["status"] = status;
    p
}

fn task_result(node: &str, phase: &str) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTaskResult",
        "metadata": {"name": node, "namespace": "ci",
            "labels": {"workflows.argoproj.io/workflow": "hello", "workflows.argoproj.io/report-outputs-completed": "true"},
            "annotations": {"trellis.dev/started-at": "2026-01-02T03:04:05Z", "trellis.dev/finished-at": "2026-01-02T03:04:09Z"},
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": "hello", "uid": "uid-1"}]},
        "phase": phase,
        "message": if phase == "Succeeded" { Value::Null } else { "Error (exit code 1)".into() },
        "outputs": {"result": "hi", "exitCode": if phase == "Succeeded" { "0" } else { "1" }},
    })
}

/// Drives a new workflow through its first reconcile: the status, then the Pod.
async fn first(wf: &Value) -> (Value, Value) {
    let (mut api, ctx) = setup(vec![], vec![], Settings::default());
    let task = reconcile(wf, &ctx);
    let written = expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    let created = expect(&mut api, Method::POST, PODS, 201, Value::Null).await;
    done(&mut api, task).await;
    (with_status(wf, &written), created)
}

#[tokio::test]
async fn a_new_workflow_writes_its_status_then_creates_its_pod() {
    let wf = workflow(HELLO);
    let (mut api, ctx) = setup(vec![], vec![], Settings::default());
    let task = reconcile(&wf, &ctx);
    let written = expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    assert_eq!(
        written["metadata"]["resourceVersion"], "5",
        "optimistic concurrency"
    );
    assert_eq!(written["status"]["phase"], "Running");
    assert_eq!(written["status"]["nodes"]["hello"]["phase"], "Pending");
    assert_eq!(written["status"]["nodes"]["hello"]["type"], "Pod");
    let created = expect(&mut api, Method::POST, PODS, 201, Value::Null).await;
    assert_eq!(created["metadata"]["name"], "hello");
    assert_eq!(created["metadata"]["ownerReferences"][0]["uid"], "uid-1");
    assert_eq!(created["spec"]["serviceAccountName"], "trellis-workflow");
    assert_eq!(created["spec"]["securityContext"]["runAsNonRoot"], true);
    assert_eq!(created["spec"]["containers"][0]["command"][1], "exec");
    done(&mut api, task).await;
}

#[tokio::test]
async fn a_pod_already_created_is_not_created_again() {
    let wf = workflow(HELLO);
    let (wf, created) = first(&wf).await;
    // Cached: nothing to do at all.
    let (mut api, ctx) = setup(
        vec![pod(&created, json!({"phase": "Pending"}))],
        vec![],
        Settings::default(),
    );
    let task = reconcile(&wf, &ctx);
    done(&mut api, task).await;
    // Not cached yet (a restart, a racing reconcile): the create is answered AlreadyExists and
    // the Pod adopted.
    let (mut api, ctx) = setup(vec![], vec![], Settings::default());
    let task = reconcile(&wf, &ctx);
    expect(
        &mut api,
        Method::POST,
        PODS,
        409,
        status_error(409, "AlreadyExists"),
    )
    .await;
    done(&mut api, task).await;
}

#[tokio::test]
async fn a_running_pod_makes_the_node_running() {
    let (wf, created) = first(&workflow(HELLO)).await;
    let running = pod(
        &created,
        json!({"phase": "Running", "startTime": "2026-01-02T03:04:05Z", "podIP": "10.0.0.7"}),
    );
    let (mut api, ctx) = setup(vec![running], vec![], Settings::default());
    let task = reconcile(&wf, &ctx);
    let written = expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    let node = &written["status"]["nodes"]["hello"];
    assert_eq!(node["phase"], "Running");
    assert_eq!(node["startedAt"], "2026-01-02T03:04:05Z");
    assert_eq!(node["podIP"], "10.0.0.7");
    done(&mut api, task).await;
}

#[tokio::test]
async fn a_reported_success_ends_the_workflow_and_pod_gc_deletes_the_pod() {
    let spec = format!("  podGC: {{strategy: OnPodSuccess}}\n{HELLO}");
    let (wf, created) = first(&workflow(&spec)).await;
    let ended = pod(&created, json!({"phase": "Succeeded"}));
    let (mut api, ctx) = setup(
        vec![ended],
        vec![task_result("hello", "Succeeded")],
        Settings::default(),
    );
    let task = reconcile(&wf, &ctx);
    let written = expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    assert_eq!(written["status"]["phase"], "Succeeded");
    assert_eq!(
        written["status"]["nodes"]["hello"]["outputs"]["result"],
        "hi"
    );
    expect(
        &mut api,
        Method::DELETE,
        &format!("{PODS}/hello"),
        200,
        created.clone(),
    )
    .await;
    done(&mut api, task).await;
}

#[tokio::test]
async fn a_reported_failure_fails_the_workflow() {
    let (wf, created) = first(&workflow(HELLO)).await;
    let ended = pod(&created, json!({"phase": "Failed"}));
    let (mut api, ctx) = setup(
        vec![ended],
        vec![task_result("hello", "Failed")],
        Settings::default(),
    );
    let task = reconcile(&wf, &ctx);
    let written = expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    assert_eq!(written["status"]["phase"], "Failed");
    assert_eq!(
        written["status"]["nodes"]["hello"]["message"],
        "Error (exit code 1)"
    );
    done(&mut api, task).await;
}

#[tokio::test]
async fn a_failed_attempt_is_retried_with_a_new_pod() {
    let spec = HELLO.replace(
        "  - name: main\n",
        "  - name: main\n    retryStrategy: {limit: 1}\n",
    );
    let (wf, created) = first(&workflow(&spec)).await;
    let attempt = created["metadata"]["annotations"]["workflows.argoproj.io/node-id"]
        .as_str()
        .unwrap()
        .to_string();
    let ended = pod(&created, json!({"phase": "Failed"}));
    let (mut api, ctx) = setup(
        vec![ended],
        vec![task_result(&attempt, "Failed")],
        Settings::default(),
    );
    let task = reconcile(&wf, &ctx);
    let written = expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    assert_eq!(written["status"]["phase"], "Running");
    assert_eq!(written["status"]["nodes"]["hello"]["type"], "Retry");
    assert_eq!(
        written["status"]["nodes"]["hello"]["children"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let retry = expect(&mut api, Method::POST, PODS, 201, Value::Null).await;
    assert_ne!(retry["metadata"]["name"], created["metadata"]["name"]);
    assert!(
        retry["metadata"]["annotations"]["workflows.argoproj.io/node-name"]
            .as_str()
            .unwrap()
            .ends_with("(1)")
    );
    done(&mut api, task).await;
}

#[tokio::test]
async fn a_suspended_workflow_starts_nothing_until_resumed() {
    let mut wf = workflow(HELLO);
    wf["spec"]["suspend"] = true.into();
    let (mut api, ctx) = setup(vec![], vec![], Settings::default());
    let task = reconcile(&wf, &ctx);
    let written = expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    assert_eq!(written["status"]["phase"], "Running");
    done(&mut api, task).await;
    let mut resumed = with_status(&wf, &written);
    resumed["spec"]["suspend"] = Value::Null;
    let (mut api, ctx) = setup(vec![], vec![], Settings::default());
    let task = reconcile(&resumed, &ctx);
    let next = async {
        let (req, send) = api.next_request().await.unwrap();
        (req.method().clone(), req.uri().path().to_string(), send)
    };
    let (method, path, send) = tokio::time::timeout(Duration::from_secs(5), next)
        .await
        .unwrap();
    // Resuming may or may not change the status first; the Pod is then created.
    let pod_request = if method == Method::PUT {
        assert_eq!(path, STATUS);
        send.send_response(
            Response::builder()
                .status(200)
                .body(Body::from(serde_json::to_vec(&resumed).unwrap()))
                .unwrap(),
        );
        let (req, send) = api.next_request().await.unwrap();
        (req.method().clone(), req.uri().path().to_string(), send)
    } else {
        (method, path, send)
    };
    assert_eq!(
        (pod_request.0, pod_request.1.as_str()),
        (Method::POST, PODS)
    );
    pod_request.2.send_response(
        Response::builder()
            .status(201)
            .body(Body::from(b"{}".to_vec()))
            .unwrap(),
    );
    done(&mut api, task).await;
}

/// Stop and terminate: the running Pod's deadline is cut to 1 s (the kubelet stops it, exec
/// reports what ran) and the workflow ends once it is observed.
async fn shutdown(kind: &str) {
    let (wf, created) = first(&workflow(HELLO)).await;
    let running = pod(
        &created,
        json!({"phase": "Running", "startTime": "2026-01-02T03:04:05Z"}),
    );
    let (mut api, ctx) = setup(vec![running.clone()], vec![], Settings::default());
    let task = reconcile(&wf, &ctx);
    let written = expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    done(&mut api, task).await;
    let mut wf = with_status(&wf, &written);
    wf["spec"]["shutdown"] = kind.into();
    let (mut api, ctx) = setup(vec![running], vec![], Settings::default());
    let task = reconcile(&wf, &ctx);
    let mut patched = Value::Null;
    // The status may be written before the stop; accept both orders but require the stop.
    for _ in 0..2 {
        let (req, send) = tokio::time::timeout(Duration::from_secs(5), api.next_request())
            .await
            .unwrap()
            .unwrap();
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let ctype = req
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let body: Value =
            serde_json::from_slice(&req.into_body().collect_bytes().await.unwrap()).unwrap();
        send.send_response(
            Response::builder()
                .status(200)
                .body(Body::from(serde_json::to_vec(&body).unwrap()))
                .unwrap(),
        );
        if method == Method::PATCH {
            assert_eq!(path, format!("{PODS}/hello"));
            assert_eq!(ctype.as_deref(), Some("application/merge-patch+json"));
            patched = body;
            break;
        }
        assert_eq!((method, path.as_str()), (Method::PUT, STATUS));
    }
    assert_eq!(patched, json!({"spec": {"activeDeadlineSeconds": 1}}));
    done(&mut api, task).await;
}

#[tokio::test]
async fn stopping_cuts_the_running_pods_deadline() {
    shutdown("Stop").await;
}

#[tokio::test]
async fn terminating_cuts_the_running_pods_deadline() {
    shutdown("Terminate").await;
}

#[tokio::test]
async fn a_pod_killed_at_its_deadline_fails_the_workflow() {
    let spec = format!("  activeDeadlineSeconds: 30\n{HELLO}");
    let (wf, created) = first(&workflow(&spec)).await;
    assert_eq!(
        created["spec"]["activeDeadlineSeconds"], 30,
        "the kubelet enforces it"
    );
    let killed = pod(
        &created,
        json!({"phase": "Failed", "reason": "DeadlineExceeded", "startTime": "2026-01-02T03:04:05Z"}),
    );
    let (mut api, ctx) = setup(vec![killed], vec![], Settings::default());
    let task = reconcile(&wf, &ctx);
    let written = expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    assert_eq!(written["status"]["phase"], "Failed");
    assert_eq!(
        written["status"]["nodes"]["hello"]["message"],
        "Step exceeded its deadline"
    );
    done(&mut api, task).await;
}

#[tokio::test]
async fn an_expired_workflow_is_deleted() {
    let spec = format!("  ttlStrategy: {{secondsAfterCompletion: 10}}\n{HELLO}");
    let mut wf = workflow(&spec);
    wf["status"] = json!({"phase": "Succeeded", "startedAt": "2020-01-01T00:00:00Z", "finishedAt": "2020-01-01T00:01:00Z"});
    let (mut api, ctx) = setup(vec![], vec![], Settings::default());
    let task = reconcile(&wf, &ctx);
    expect(
        &mut api,
        Method::DELETE,
        "/apis/argoproj.io/v1alpha1/namespaces/ci/workflows/hello",
        200,
        wf.clone(),
    )
    .await;
    done(&mut api, task).await;
}

#[tokio::test]
async fn a_large_status_is_written_compressed() {
    let spec = "  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - {name: each, template: echo, withSequence: {count: '200'}}\n  - name: echo\n    container: {image: alpine, command: [echo, hi]}\n";
    let settings = Settings {
        max_workflow_size: 10_000,
        ..Settings::default()
    };
    let (mut api, ctx) = setup(vec![], vec![], settings);
    let task = reconcile(&workflow(spec), &ctx);
    let written = expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    assert!(written["status"]["nodes"].is_null());
    assert!(written["status"]["compressedNodes"].as_str().unwrap().len() > 100);
    for _ in 0..200 {
        expect(&mut api, Method::POST, PODS, 201, Value::Null).await;
    }
    done(&mut api, task).await;
}

#[tokio::test]
async fn a_status_too_large_even_compressed_is_offloaded_to_the_database_and_read_back() {
    let spec = "  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - {name: each, template: echo, withSequence: {count: '200'}}\n  - name: echo\n    container: {image: alpine, command: [echo, hi]}\n";
    let store = controller::store::SqlStore::open_in_memory().await.unwrap();
    let settings = Settings {
        max_workflow_size: 2_000,
        offload: Some(store.clone()),
        ..Settings::default()
    };
    let (mut api, ctx) = setup(vec![], vec![], settings.clone());
    let task = reconcile(&workflow(spec), &ctx);
    let written = expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    assert!(
        written["status"]["nodes"].is_null(),
        "{}",
        written["status"]
    );
    assert!(written["status"]["compressedNodes"].is_null());
    assert_eq!(written["status"]["phase"], "Running");
    let version = written["status"]["offloadNodeStatusVersion"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..200 {
        expect(&mut api, Method::POST, PODS, 201, Value::Null).await;
    }
    done(&mut api, task).await;
    let nodes = store
        .offloaded_nodes("uid-1", &version)
        .await
        .unwrap()
        .unwrap();
    let nodes: Value = serde_json::from_str(&nodes).unwrap();
    assert_eq!(
        nodes.as_object().unwrap().len(),
        202,
        "the root, a group, 200 steps"
    );

    // The next reconcile reads them back: with nothing new, it writes nothing and creates no
    // Pod again (it knows the steps it started).
    let mut again = workflow(spec);
    again["status"] = written["status"].clone();
    let (mut api, ctx) = setup(vec![], vec![], settings);
    let task = reconcile(&again, &ctx);
    for _ in 0..200 {
        expect(
            &mut api,
            Method::POST,
            PODS,
            409,
            status_error(409, "AlreadyExists"),
        )
        .await;
    }
    done(&mut api, task).await;

    // Without the database, a workflow that names offloaded nodes is an error to retry later.
    let (mut api, ctx) = setup(vec![], vec![], Settings::default());
    let task = reconcile(&again, &ctx);
    let result = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    let err = result.unwrap_err().to_string();
    assert!(err.contains("--database-url"), "{err}");
    let extra = tokio::time::timeout(Duration::from_millis(50), api.next_request()).await;
    assert!(extra.is_err(), "nothing is sent");
}

#[tokio::test]
async fn a_stale_reconcile_loses_the_status_write_and_creates_nothing() {
    let (mut api, ctx) = setup(vec![], vec![], Settings::default());
    let task = reconcile(&workflow(HELLO), &ctx);
    expect(
        &mut api,
        Method::PUT,
        STATUS,
        409,
        status_error(409, "Conflict"),
    )
    .await;
    done(&mut api, task).await;
}

#[tokio::test]
async fn a_pod_the_api_refuses_errors_its_step_on_the_next_reconcile() {
    let wf = workflow(HELLO);
    let (mut api, ctx) = setup(vec![], vec![], Settings::default());
    let task = reconcile(&wf, &ctx);
    let written = expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    expect(
        &mut api,
        Method::POST,
        PODS,
        403,
        status_error(403, "Forbidden"),
    )
    .await;
    done(&mut api, task).await;
    let wf = with_status(&wf, &written);
    let ctx = ctx.observe(vec![], vec![]);
    let task = reconcile(&wf, &ctx);
    let written = expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    assert_eq!(written["status"]["phase"], "Error");
    let message = written["status"]["nodes"]["hello"]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.starts_with("cannot create pod: Forbidden"),
        "{message}"
    );
    done(&mut api, task).await;
}

#[tokio::test]
async fn a_server_error_is_returned_for_a_retry_with_backoff() {
    let (mut api, ctx) = setup(vec![], vec![], Settings::default());
    let task = reconcile(&workflow(HELLO), &ctx);
    expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
    expect(
        &mut api,
        Method::POST,
        PODS,
        500,
        status_error(500, "InternalError"),
    )
    .await;
    let result = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    let err = result.unwrap_err().to_string();
    assert!(err.contains("creating pod ci/hello"), "{err}");
}

#[tokio::test]
async fn throttling_and_quota_refusals_are_retried_not_fatal() {
    for (code, reason) in [(429, "TooManyRequests"), (403, "exceeded quota: compute")] {
        let (mut api, ctx) = setup(vec![], vec![], Settings::default());
        let task = reconcile(&workflow(HELLO), &ctx);
        expect(&mut api, Method::PUT, STATUS, 200, Value::Null).await;
        let mut refusal = status_error(code, "Forbidden");
        refusal["message"] = reason.into();
        expect(&mut api, Method::POST, PODS, code, refusal).await;
        let result = tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
        assert!(
            result.is_err(),
            "{code} is retried with a backoff: {result:?}"
        );
    }
}
