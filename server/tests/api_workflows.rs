//! Argo Server's WorkflowService against a real `trellis serve`: create (and its lint errors,
//! which store nothing), list with selectors and field masks, logs (whole and followed, NDJSON
//! and SSE), watch, approvals through `set`/`resume`/`stop` with node field selectors, terminate,
//! delete, resubmit, and Argo's error shapes.

#[path = "common/server.rs"]
mod server;

use std::time::Duration;

use serde_json::{Value, json};
use server::{Server, log_lines, name, node};

fn echo(generate: &str, text: &str) -> Value {
    json!({
        "metadata": {"generateName": generate, "labels": {"team": "web"}},
        "spec": {"entrypoint": "main", "templates": [
            {"name": "main", "container": {"image": "alpine", "command": ["echo", text]}}
        ]}
    })
}

fn sleeper(seconds: u32) -> Value {
    json!({
        "metadata": {"generateName": "sleepy-"},
        "spec": {"entrypoint": "main", "templates": [
            {"name": "main", "container": {"image": "alpine", "command": ["sleep", seconds.to_string()]}}
        ]}
    })
}

async fn create(s: &Server, wf: Value) -> Value {
    s.create("argo", wf).await
}

#[tokio::test]
async fn a_created_workflow_runs_and_is_listed_and_logged() {
    let s = Server::start("create").await;
    let wf = create(&s, echo("hello-", "hello world")).await;
    let n = name(&wf);
    assert!(n.starts_with("hello-"), "{wf}");
    assert_eq!(wf["metadata"]["namespace"], "argo");
    assert_eq!(wf["metadata"]["labels"]["trellis.dev/run-number"], "1");
    assert!(
        wf["metadata"]["uid"]
            .as_str()
            .is_some_and(|u| !u.is_empty())
    );

    let done = s.finished("argo", &n).await;
    assert_eq!(done["status"]["phase"], "Succeeded", "{done}");
    assert_eq!(
        done["metadata"]["labels"]["workflows.argoproj.io/completed"],
        "true"
    );

    let list = s
        .get("/api/v1/workflows/argo?listOptions.labelSelector=team%3Dweb&fields=items.metadata.name,items.status.phase")
        .await;
    assert_eq!(
        list["items"],
        json!([{"metadata": {"name": n}, "status": {"phase": "Succeeded"}}])
    );
    let none = s
        .get("/api/v1/workflows/argo?listOptions.labelSelector=team%3Ddb")
        .await;
    assert_eq!(none["items"], json!([]));
    let other_ns = s.get("/api/v1/workflows/elsewhere").await;
    assert_eq!(other_ns["items"], json!([]));
    let by_name = s
        .get(&format!(
            "/api/v1/workflows/argo?listOptions.fieldSelector=metadata.name%3D{n}"
        ))
        .await;
    assert_eq!(by_name["items"].as_array().unwrap().len(), 1);

    let ndjson = s
        .text(
            &format!("/api/v1/workflows/argo/{n}/log?logOptions.container=main"),
            &[],
        )
        .await;
    assert_eq!(log_lines(&ndjson), vec!["hello world"]);
    let first: Value = serde_json::from_str(ndjson.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["result"]["podName"], n,
        "a one-step workflow's pod is the workflow"
    );
    let sse = s
        .text(
            &format!("/api/v1/workflows/argo/{n}/log"),
            &[("accept", "text/event-stream")],
        )
        .await;
    assert!(
        sse.starts_with("data: {\"result\":{\"content\":\"hello world\""),
        "{sse}"
    );
    let grep = s
        .text(
            &format!("/api/v1/workflows/argo/{n}/log?grep=nothing-like-this"),
            &[],
        )
        .await;
    assert_eq!(grep, "");
}

#[tokio::test]
async fn bad_workflows_are_400s_that_store_nothing() {
    let s = Server::start("lint").await;
    let mut typo = echo("typo-", "x");
    typo["spec"]["templates"][0]["container"]["comand"] = json!(["echo"]);
    let (status, body) = s
        .call(
            "POST",
            "/api/v1/workflows/argo",
            Some(json!({"workflow": typo})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], 3);
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("spec.templates[0].container.comand")
            && message.contains("did you mean `command`?"),
        "{message}"
    );
    assert_eq!(body["details"][0]["code"], "unknown-field");

    let missing_ref = json!({
        "metadata": {"generateName": "ref-"},
        "spec": {"workflowTemplateRef": {"name": "no-such-template"}}
    });
    let (status, body) = s
        .call(
            "POST",
            "/api/v1/workflows/argo",
            Some(json!({"workflow": missing_ref})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("no-such-template"),
        "{body}"
    );

    let (status, body) = s
        .call(
            "POST",
            "/api/v1/workflows/argo",
            Some(json!({"namespace": "other", "workflow": echo("a-", "b")})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = s
        .call(
            "POST",
            "/api/v1/workflows/argo",
            Some(json!({"nothing": true})),
        )
        .await;
    assert_eq!(status, 400);

    let (status, body) = s
        .call(
            "POST",
            "/api/v1/workflows/argo/lint",
            Some(json!({"workflow": echo("ok-", "fine")})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kind"], "Workflow");
    let (status, body) = s
        .call(
            "POST",
            "/api/v1/workflows/argo",
            Some(json!({"workflow": echo("dry-", "x"), "serverDryRun": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let list = s.get("/api/v1/workflows/argo").await;
    assert_eq!(
        list["items"],
        json!([]),
        "lint, failed creates and dry runs store nothing"
    );
    let (status, body) = s.call("GET", "/api/v1/workflows/argo/nope", None).await;
    assert_eq!((status, body["code"].clone()), (404, json!(5)));
    let (status, _) = s.call("GET", "/api/v1/no/such/route", None).await;
    assert_eq!(status, 404);
}

const APPROVAL: &str = r#"{
  "metadata": {"generateName": "release-"},
  "spec": {"entrypoint": "main", "templates": [
    {"name": "main", "steps": [
      [{"name": "approve", "template": "gate"}],
      [{"name": "deploy", "template": "say",
        "arguments": {"parameters": [{"name": "msg", "value": "deploying to {{steps.approve.outputs.parameters.env}}"}]}}]
    ]},
    {"name": "gate", "suspend": {},
     "outputs": {"parameters": [{"name": "env", "valueFrom": {"supplied": {}, "default": "staging"}}]}},
    {"name": "say", "inputs": {"parameters": [{"name": "msg"}]},
     "container": {"image": "alpine", "command": ["echo", "{{inputs.parameters.msg}}"]}}
  ]}
}"#;

async fn waiting_release(s: &Server) -> String {
    let wf = create(s, serde_json::from_str(APPROVAL).unwrap()).await;
    let n = name(&wf);
    s.wait_for("argo", &n, |wf| {
        wf["status"]["nodes"].as_object().is_some_and(|nodes| {
            nodes
                .values()
                .any(|x| x["displayName"] == "approve" && x["phase"] == "Running")
        })
    })
    .await;
    n
}

#[tokio::test]
async fn a_suspended_step_is_approved_with_values_through_set_and_resume() {
    let s = Server::start("approve").await;
    let n = waiting_release(&s).await;
    let put = |op: &str, body: Value| {
        let path = format!("/api/v1/workflows/argo/{n}/{op}");
        let s = &s;
        async move { s.call("PUT", &path, Some(body)).await }
    };
    let (status, body) = put(
        "set",
        json!({"nodeFieldSelector": "displayName=approve", "outputParameters": "{\"colour\": \"red\"}"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not expecting output parameter 'colour'"),
        "{body}"
    );
    let (status, body) = put("resume", json!({"nodeFieldSelector": "displayName=nobody"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("no suspend nodes matching"),
        "{body}"
    );

    let (status, body) = put(
        "set",
        json!({"nodeFieldSelector": "displayName=approve", "outputParameters": "{\"env\": \"prod\"}", "message": "ok by alice"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = put(
        "resume",
        json!({"nodeFieldSelector": "displayName=approve"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let done = s.finished("argo", &n).await;
    assert_eq!(done["status"]["phase"], "Succeeded", "{done}");
    let approve = node(&done, "approve");
    assert_eq!(approve["outputs"]["parameters"][0]["value"], "prod");
    assert_eq!(approve["message"], "ok by alice");
    let logs = s
        .text(&format!("/api/v1/workflows/argo/{n}/log"), &[])
        .await;
    assert_eq!(log_lines(&logs), vec!["deploying to prod"]);

    let (status, body) = put("resume", json!({})).await;
    assert_eq!(status, 400, "a finished workflow cannot be resumed: {body}");
}

#[tokio::test]
async fn rejecting_with_stop_fails_the_run_and_resume_takes_defaults() {
    let s = Server::start("reject").await;
    let rejected = waiting_release(&s).await;
    let (status, body) = s
        .call(
            "PUT",
            &format!("/api/v1/workflows/argo/{rejected}/stop"),
            Some(json!({"nodeFieldSelector": "displayName=approve", "message": "not today"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = s.finished("argo", &rejected).await;
    assert_eq!(done["status"]["phase"], "Failed", "{done}");
    assert_eq!(node(&done, "approve")["message"], "not today");

    let resumed = waiting_release(&s).await;
    let (status, body) = s
        .call(
            "PUT",
            &format!("/api/v1/workflows/argo/{resumed}/resume"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    s.finished("argo", &resumed).await;
    let logs = s
        .text(&format!("/api/v1/workflows/argo/{resumed}/log"), &[])
        .await;
    assert_eq!(log_lines(&logs), vec!["deploying to staging"]);
}

#[tokio::test]
async fn followed_logs_arrive_while_the_step_runs() {
    let s = Server::start("follow").await;
    let wf = create(
        &s,
        json!({
            "metadata": {"generateName": "ticker-"},
            "spec": {"entrypoint": "main", "templates": [{"name": "main", "script": {
                "image": "alpine", "command": ["sh"],
                "source": "for i in 1 2 3; do echo tick $i; sleep 1; done"
            }}]}
        }),
    )
    .await;
    let n = name(&wf);
    let mut resp = s
        .stream(&format!(
            "/api/v1/workflows/argo/{n}/log?logOptions.follow=true"
        ))
        .await;
    let mut got = String::new();
    while !got.contains("tick 1") {
        let chunk = tokio::time::timeout(Duration::from_secs(20), resp.chunk())
            .await
            .expect("a line within 20 s")
            .unwrap()
            .expect("the stream is still open");
        got.push_str(&String::from_utf8_lossy(&chunk));
    }
    let now = s.get(&format!("/api/v1/workflows/argo/{n}")).await;
    assert_eq!(
        now["status"]["phase"], "Running",
        "the first line came before the end"
    );
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(20), resp.chunk())
        .await
        .expect("the stream ends when the workflow does")
        .unwrap()
    {
        got.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert_eq!(log_lines(&got), vec!["tick 1", "tick 2", "tick 3"]);
}

#[tokio::test]
async fn watch_streams_the_changes_of_a_workflow() {
    let s = Server::start("watch").await;
    let wf = create(&s, echo("watched-", "hi")).await;
    let n = name(&wf);
    let events = s
        .watch_until("argo", &n, |ev| {
            ev["object"]["status"]["phase"] == "Succeeded"
        })
        .await;
    assert!(events.iter().all(|ev| name(&ev["object"]) == n));
    let types: Vec<&str> = events
        .iter()
        .map(|ev| ev["type"].as_str().unwrap())
        .collect();
    assert_eq!(types[0], "ADDED", "{types:?}");
}

#[tokio::test]
async fn running_workflows_are_terminated_deleted_and_resubmitted() {
    let s = Server::start("ops").await;
    let a = name(&create(&s, sleeper(60)).await);
    s.wait_for("argo", &a, |wf| wf["status"]["phase"] == "Running")
        .await;
    let (status, body) = s
        .call(
            "PUT",
            &format!("/api/v1/workflows/argo/{a}/terminate"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = s.finished("argo", &a).await;
    assert_eq!(done["status"]["phase"], "Failed", "{done}");
    assert!(
        done["status"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Terminate"),
        "{done}"
    );

    let (status, again) = s
        .call(
            "PUT",
            &format!("/api/v1/workflows/argo/{a}/resubmit"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    let b = name(&again);
    assert_ne!(a, b);
    assert_eq!(
        again["metadata"]["labels"]["workflows.argoproj.io/resubmitted-from-workflow"],
        a
    );
    assert_eq!(again["metadata"]["labels"]["trellis.dev/run-number"], "2");

    s.wait_for("argo", &b, |wf| wf["status"]["phase"] == "Running")
        .await;
    let (status, body) = s
        .call("DELETE", &format!("/api/v1/workflows/argo/{b}"), None)
        .await;
    assert_eq!((status, body), (200, json!({})));
    let (status, _) = s
        .call("GET", &format!("/api/v1/workflows/argo/{b}"), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_memoized_resubmit_keeps_what_succeeded_and_runs_the_rest() {
    let s = Server::start("resubmit-memoized").await;
    let run = |name: &str, code: &str| json!({"name": name, "template": "run", "arguments": {"parameters": [{"name": "code", "value": code}]}});
    let wf = json!({
        "metadata": {"generateName": "pipe-", "namespace": "argo"},
        "spec": {"entrypoint": "main",
            "arguments": {"parameters": [{"name": "code", "value": "1"}]},
            "templates": [
                {"name": "main", "steps": [[run("compile", "0")], [run("test", "{{workflow.parameters.code}}")]]},
                {"name": "run", "inputs": {"parameters": [{"name": "code"}]},
                 "outputs": {"parameters": [{"name": "said", "valueFrom": {"path": "/tmp/said"}}]},
                 "script": {"image": "alpine", "command": ["sh"],
                    "source": "echo ran > /tmp/said; echo ran; exit {{inputs.parameters.code}}"}}
            ]}
    });
    let created = s.create("argo", wf).await;
    let a = name(&created);
    let old = s.finished("argo", &a).await;
    assert_eq!(old["status"]["phase"], "Failed");
    let (status, again) = s
        .call(
            "PUT",
            &format!("/api/v1/workflows/argo/{a}/resubmit"),
            Some(json!({"memoized": true, "parameters": ["code=0"]})),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    let b = name(&again);
    assert!(b.starts_with("pipe-") && b != a, "{b}");
    let new = s.finished("argo", &b).await;
    assert_eq!(new["status"]["phase"], "Succeeded", "{}", new["status"]);
    let compile = node(&new, "compile");
    assert_eq!(compile["phase"], "Succeeded");
    assert!(
        compile["message"]
            .as_str()
            .unwrap()
            .contains(&format!("memoized: ran in {a}")),
        "{compile}"
    );
    assert_eq!(
        compile["outputs"]["parameters"][0]["value"], "ran",
        "its outputs are kept"
    );
    let test = node(&new, "test");
    assert_eq!(test["phase"], "Succeeded");
    assert!(
        test["message"].is_null(),
        "the failed step ran again: {test}"
    );
    let ids: Vec<&str> = new["status"]["nodes"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(ids.iter().all(|id| id.starts_with(&b)), "{ids:?}");
    // The memoized step hangs under its step group, like any other.
    let groups: Vec<&Value> = new["status"]["nodes"]
        .as_object()
        .unwrap()
        .values()
        .filter(|n| n["type"] == "StepGroup")
        .collect();
    let compile_id = compile["id"].as_str().unwrap();
    assert!(
        groups.iter().any(|g| g["children"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c == compile_id))),
        "{groups:?}"
    );
}

#[tokio::test]
async fn a_failed_run_is_retried_from_its_failed_step() {
    let s = Server::start("retry").await;
    let shared = s.scratch();
    let dir = shared.display().to_string();
    let step = |name: &str, script: String| {
        json!({"name": name, "script": {"image": "alpine", "command": ["sh"], "source": script,
               "volumeMounts": [{"name": "shared", "mountPath": dir}]}})
    };
    let wf = json!({
        "metadata": {"generateName": "flaky-"},
        "spec": {"entrypoint": "main",
            "volumes": [{"name": "shared", "hostPath": {"path": dir}}],
            "templates": [
                {"name": "main", "steps": [[{"name": "a", "template": "a"}], [{"name": "b", "template": "b"}], [{"name": "c", "template": "c"}]]},
                step("a", format!("echo a >> {dir}/runs")),
                step("b", format!("echo b >> {dir}/runs; if [ -e {dir}/fixed ]; then echo fixed; else echo broken; exit 3; fi")),
                step("c", format!("echo c >> {dir}/runs")),
            ]}
    });
    let n = name(&create(&s, wf).await);
    let done = s.finished("argo", &n).await;
    assert_eq!(done["status"]["phase"], "Failed", "{done}");
    std::fs::write(shared.join("fixed"), "").unwrap();
    let (status, body) = s
        .call(
            "PUT",
            &format!("/api/v1/workflows/argo/{n}/retry"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let again = s.finished("argo", &n).await;
    assert_eq!(again["status"]["phase"], "Succeeded", "{again}");
    let runs = std::fs::read_to_string(shared.join("runs")).unwrap();
    assert_eq!(
        runs, "a\nb\nb\nc\n",
        "a is not run again, b is, c runs once"
    );
    let logs = s
        .text(&format!("/api/v1/workflows/argo/{n}/log"), &[])
        .await;
    assert_eq!(
        log_lines(&logs),
        vec!["fixed"],
        "the failed attempt's log went with it"
    );

    let (status, body) = s
        .call(
            "PUT",
            &format!("/api/v1/workflows/argo/{n}/retry"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        status, 400,
        "a succeeded run needs restartSuccessful and a selector: {body}"
    );
    let (status, body) = s
        .call(
            "PUT",
            &format!("/api/v1/workflows/argo/{n}/retry"),
            Some(json!({"restartSuccessful": true, "nodeFieldSelector": "displayName=c"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.finished("argo", &n).await["status"]["phase"], "Succeeded");
}

#[tokio::test]
async fn output_artifacts_download_as_stored() {
    let s = Server::start("artifacts").await;
    let wf = json!({
        "metadata": {"generateName": "art-"},
        "spec": {"entrypoint": "main", "templates": [{
            "name": "main",
            "container": {"image": "alpine", "command": ["sh", "-c", "echo report > /tmp/report.txt"]},
            "outputs": {"artifacts": [{"name": "report", "path": "/tmp/report.txt"}]}
        }]}
    });
    let n = name(&create(&s, wf).await);
    let done = s.finished("argo", &n).await;
    assert_eq!(done["status"]["phase"], "Succeeded", "{done}");
    let resp = reqwest::get(s.url(&format!("/artifacts/argo/{n}/{n}/report")))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"") && disposition.contains(".tgz"),
        "{disposition}"
    );
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "Argo's tar+gzip, as stored");
    let (status, body) = s
        .call("GET", &format!("/artifacts/argo/{n}/{n}/nope"), None)
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("no output artifact \"nope\""),
        "{body}"
    );
    let (status, _) = s
        .call("GET", &format!("/artifacts/argo/{n}/no-node/report"), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn metrics_count_workflows_steps_and_requests() {
    let s = Server::start("metrics").await;
    let n = name(&create(&s, echo("m-", "x")).await);
    s.finished("argo", &n).await;
    let text = s.text("/metrics", &[]).await;
    for line in [
        "# TYPE trellis_workflows gauge",
        "trellis_workflows{phase=\"Succeeded\"} 1",
        "trellis_workflows{phase=\"Running\"} 0",
        "trellis_workflows_running 0",
        "trellis_step_duration_seconds_count{phase=\"Succeeded\"} 1",
        "trellis_api_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/workflows/{namespace}\",code=\"200\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[tokio::test]
async fn a_shutdown_ends_open_streams_instead_of_waiting_for_them() {
    let mut s = Server::start("shutdown").await;
    let n = name(&create(&s, sleeper(60)).await);
    s.wait_for("argo", &n, |wf| wf["status"]["phase"] == "Running")
        .await;
    let _logs = s
        .stream(&format!(
            "/api/v1/workflows/argo/{n}/log?logOptions.follow=true"
        ))
        .await;
    let _watch = s
        .stream(&format!(
            "/api/v1/workflow-events/argo?listOptions.fieldSelector=metadata.name%3D{n}"
        ))
        .await;
    assert!(
        s.stop_gracefully(Duration::from_secs(10)),
        "the server exits promptly and cleanly with streams open"
    );
}

#[tokio::test]
async fn watchers_see_a_ttl_deletion() {
    let s = Server::start("watch-ttl").await;
    let mut wf = echo("short-", "x");
    wf["spec"]["ttlStrategy"] = json!({"secondsAfterCompletion": 1});
    let n = name(&create(&s, wf).await);
    let seen = s
        .watch_until("argo", &n, |ev| ev["type"] == "DELETED")
        .await;
    assert_eq!(
        seen.last().map(|ev| ev["type"].clone()),
        Some(json!("DELETED")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_browser_on_another_site_cannot_change_anything() {
    let s = Server::start("cross-site").await;
    let wf = json!({"workflow": echo("x-", "hi")});
    let status = s
        .http_post_with_headers(
            "/api/v1/workflows/argo",
            wf.clone(),
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(status, 403);
    let status = s
        .http_post_with_headers(
            "/api/act",
            json!({"namespace": "argo", "name": "x", "action": "Delete"}),
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(status, 403, "the UI's server functions are covered too");
    let list = s.get("/api/v1/workflows/argo").await;
    assert!(list["items"].as_array().is_none_or(Vec::is_empty), "{list}");
    let host = s.base.trim_start_matches("http://").to_string();
    let same = format!("http://{host}");
    let status = s
        .http_post_with_headers("/api/v1/workflows/argo", wf, &[("origin", &same)])
        .await;
    assert_eq!(status, 200, "a page of the server itself may");
}
