//! The Trellis-only read models against a real `trellis serve`: a template's numbered history
//! (paged, with duration statistics), the runs × steps grid, and the folder tree with each
//! template's last run and health.

#[path = "common/server.rs"]
mod server;

use serde_json::json;
use server::{Server, name};

#[tokio::test]
async fn history_grid_and_folders_follow_a_templates_runs() {
    let s = Server::start("trellis-views").await;
    let template = json!({
        "metadata": {"name": "build", "labels": {"trellis.dev/folder": "ci/backend"},
                     "annotations": {"workflows.argoproj.io/title": "Build the backend"}},
        "spec": {
            "entrypoint": "main",
            "arguments": {"parameters": [{"name": "code", "value": "0"}]},
            "templates": [
                {"name": "main", "steps": [[{"name": "compile", "template": "run"}], [{"name": "test", "template": "run"}]]},
                {"name": "run", "container": {"image": "alpine", "command": ["sh", "-c", "exit {{workflow.parameters.code}}"]}}
            ]
        }
    });
    let (status, body) = s
        .call(
            "POST",
            "/api/v1/workflow-templates/ci",
            Some(json!({"template": template})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut names = Vec::new();
    for code in ["0", "3", "0"] {
        let (status, run) = s
            .call(
                "POST",
                "/api/v1/workflows/ci/submit",
                Some(
                    json!({"resourceKind": "WorkflowTemplate", "resourceName": "build",
                            "submitOptions": {"parameters": [format!("code={code}")]}}),
                ),
            )
            .await;
        assert_eq!(status, 200, "{run}");
        let n = name(&run);
        s.finished("ci", &n).await;
        names.push(n);
    }

    let page = s
        .get("/api/v1/trellis/runs?kind=WorkflowTemplate&namespace=ci&name=build&limit=2")
        .await;
    let runs = page["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (runs[0]["number"].clone(), runs[1]["number"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(runs[1]["phase"], "Failed");
    let me = s.get("/api/v1/userinfo").await;
    assert_eq!(
        runs[0]["trigger"],
        json!({"kind": "manual", "by": me["subject"]}),
        "a run submitted through the API names the server's user"
    );
    assert_eq!(runs[1]["parameters"], json!([["code", "3"]]));
    assert_eq!(page["stats"]["runs"], 3);
    assert!(page["stats"]["medianSeconds"].is_i64(), "{page}");
    assert_eq!(runs[0]["slow"], false);
    let token = page["continue"].as_str().unwrap();
    assert!(!token.is_empty());
    let rest = s
        .get(&format!(
            "/api/v1/trellis/runs?kind=workflowtemplate&namespace=ci&name=build&continue={token}"
        ))
        .await;
    assert_eq!(rest["runs"].as_array().unwrap().len(), 1);
    assert_eq!(rest["runs"][0]["number"], 1);
    assert_eq!(rest["continue"], "");

    let g = s
        .get("/api/v1/trellis/grid?kind=WorkflowTemplate&namespace=ci&name=build")
        .await;
    assert_eq!(g["runs"].as_array().unwrap().len(), 3);
    let steps: Vec<&str> = g["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["[0].compile", "[1].test"]);
    assert_eq!(
        g["rows"][0]["cells"][1]["phase"], "Failed",
        "run #2 failed at compile"
    );
    assert!(
        g["rows"][1]["cells"][1].is_null(),
        "and never reached test: {g}"
    );

    let tree = s.get("/api/v1/trellis/folders").await;
    let group = &tree["tree"]["groups"][0];
    assert_eq!(group["scope"], json!({"Namespace": "ci"}));
    let backend = &group["root"]["folders"][0]["folders"][0];
    assert_eq!(backend["path"], json!(["ci", "backend"]));
    assert_eq!(backend["templates"][0]["title"], "Build the backend");
    let row = &tree["runs"]["WorkflowTemplate/ci/build"];
    assert_eq!(row["last"]["number"], 3);
    assert_eq!(row["lastSuccess"]["number"], 3);
    assert_eq!(row["lastFailure"]["number"], 2);
    assert_eq!(row["health"]["text"], "2 of the last 3 runs passed");
    assert_eq!(row["durations"].as_array().unwrap().len(), 3);
    let none = s.get("/api/v1/trellis/folders?q=frontend").await;
    assert_eq!(none["tree"]["groups"], json!([]));

    let (status, body) = s
        .call(
            "GET",
            "/api/v1/trellis/runs?kind=Pod&namespace=ci&name=x",
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = s
        .call(
            "GET",
            "/api/v1/trellis/runs?kind=WorkflowTemplate&name=x",
            None,
        )
        .await;
    assert_eq!(status, 400, "a namespaced kind needs its namespace");
}

#[tokio::test]
async fn secret_parameters_are_masked_in_histories_and_logs() {
    let s = Server::start("trellis-secrets").await;
    let template = json!({
        "metadata": {"name": "deploy", "annotations": {"trellis.dev/secret": "token"}},
        "spec": {
            "entrypoint": "main",
            "arguments": {"parameters": [{"name": "token"}, {"name": "env", "value": "dev"}]},
            "templates": [{"name": "main", "container": {"image": "alpine",
                "command": ["sh", "-c", "echo using {{workflow.parameters.token}} on {{workflow.parameters.env}}"]}}]
        }
    });
    let (status, body) = s
        .call(
            "POST",
            "/api/v1/workflow-templates/ops",
            Some(json!({"template": template})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, run) = s
        .call(
            "POST",
            "/api/v1/workflows/ops/submit",
            Some(
                json!({"resourceKind": "WorkflowTemplate", "resourceName": "deploy",
                        "submitOptions": {"parameters": ["token=hunter2-xyz", "env=prod"]}}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(
        run["metadata"]["annotations"]["trellis.dev/secret"],
        "token"
    );
    let n = name(&run);
    let wf = s.finished("ops", &n).await;
    let page = s
        .get("/api/v1/trellis/runs?kind=WorkflowTemplate&namespace=ops&name=deploy")
        .await;
    let params = page["runs"][0]["parameters"].to_string();
    assert!(
        params.contains("prod") && params.contains("••••••"),
        "{params}"
    );
    assert!(!params.contains("hunter2"), "{params}");
    let log = s
        .text(
            &format!("/api/v1/workflows/ops/{n}/log?logOptions.container=main"),
            &[],
        )
        .await;
    assert!(log.contains("using •••••• on prod"), "{log}");
    assert!(!log.contains("hunter2"), "{log}");
    let id = server::node(&wf, &n)["id"].as_str().unwrap().to_string();
    let text = s
        .text(&format!("/api/v1/trellis/logs/ops/{n}/{id}"), &[])
        .await;
    assert_eq!(text.trim(), "using •••••• on prod");
}

/// The messages (`result` of each NDJSON line) of a followed log stream, until it ends.
async fn follow_messages(resp: &mut reqwest::Response) -> Vec<serde_json::Value> {
    let mut text = String::new();
    while let Some(chunk) = tokio::time::timeout(std::time::Duration::from_secs(20), resp.chunk())
        .await
        .expect("a message within 20 s, and the end when the step ends")
        .unwrap()
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("NDJSON")["result"].clone())
        .collect()
}

#[tokio::test]
async fn a_followed_log_pushes_the_lines_after_the_one_asked_with_their_numbers() {
    let s = Server::start("trellis-follow").await;
    let wf = s
        .create(
            "argo",
            json!({
                "metadata": {"generateName": "ticker-"},
                "spec": {"entrypoint": "main", "templates": [{"name": "main", "script": {
                    "image": "alpine", "command": ["sh"],
                    "source": "for i in 1 2 3 4; do echo tick $i; sleep 1; done"
                }}]}
            }),
        )
        .await;
    let n = name(&wf);
    let path = format!("/api/v1/trellis/logs/argo/{n}/{n}/follow?after=1");
    // The step exists once the workflow has been planned.
    s.wait_for("argo", &n, |w| w["status"]["nodes"][&n].is_object())
        .await;
    let mut resp = s.stream(&path).await;
    let first = tokio::time::timeout(std::time::Duration::from_secs(20), resp.chunk())
        .await
        .expect("a batch within 20 s")
        .unwrap()
        .expect("the stream is open");
    let now = s.get(&format!("/api/v1/workflows/argo/{n}")).await;
    assert_eq!(now["status"]["phase"], "Running", "pushed before the end");
    let mut messages: Vec<serde_json::Value> = String::from_utf8_lossy(&first)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["result"].clone())
        .collect();
    messages.extend(follow_messages(&mut resp).await);
    assert_eq!(messages[0]["first"], 2, "{messages:?}");
    let mut expected_first = 2;
    let mut lines = Vec::new();
    for m in &messages {
        assert_eq!(
            m["first"], expected_first,
            "batches follow on: {messages:?}"
        );
        let batch: Vec<String> = serde_json::from_value(m["lines"].clone()).unwrap();
        expected_first += batch.len() as u64;
        lines.extend(batch);
    }
    assert_eq!(lines, ["tick 2", "tick 3", "tick 4"]);
    let last = messages.last().unwrap();
    assert_eq!(
        (last["done"].clone(), last["total"].clone()),
        (json!(true), json!(4))
    );
    assert!(
        messages[..messages.len() - 1]
            .iter()
            .all(|m| m["done"] == false)
    );

    // Over SSE, a finished step's stream is one last message, then the end.
    let sse = s
        .text(
            &format!("/api/v1/trellis/logs/argo/{n}/{n}/follow?after=3"),
            &[("Accept", "text/event-stream")],
        )
        .await;
    let data: Vec<&str> = sse
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    assert_eq!(data.len(), 1, "{sse}");
    let only: serde_json::Value = serde_json::from_str(data[0]).unwrap();
    assert_eq!(
        only["result"],
        json!({"first": 4, "lines": ["tick 4"], "total": 4, "done": true})
    );

    let (status, body) = s
        .call(
            "GET",
            &format!("/api/v1/trellis/logs/argo/{n}/nope/follow"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
}
