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
