//! Argo Server's WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow services against a
//! real `trellis serve`: create/get/list/update/delete with lint on every write, conflicts,
//! submitting runs from each kind with parameters, and cron suspend/resume.

#[path = "common/server.rs"]
mod server;

use serde_json::{Value, json};
use server::{Server, log_lines, name};

fn build_template(greeting: &str) -> Value {
    json!({
        "metadata": {"name": "build", "labels": {"trellis.dev/folder": "ci"}},
        "spec": {
            "entrypoint": "main",
            "arguments": {"parameters": [{"name": "rev", "value": "main"}]},
            "templates": [{"name": "main", "container": {
                "image": "alpine", "command": ["echo", format!("{greeting} {{{{workflow.parameters.rev}}}}")]
            }}]
        }
    })
}

#[tokio::test]
async fn workflow_templates_are_linted_stored_updated_and_run() {
    let s = Server::start("wftmpl").await;
    let base = "/api/v1/workflow-templates/ci";
    let (status, created) = s
        .call(
            "POST",
            base,
            Some(json!({"template": build_template("building")})),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["metadata"]["namespace"], "ci");
    let (status, body) = s
        .call(
            "POST",
            base,
            Some(json!({"template": build_template("again")})),
        )
        .await;
    assert_eq!((status, body["code"].clone()), (409, json!(6)), "{body}");

    let mut bad = build_template("x");
    bad["spec"]["templates"][0]["container"]["imagePullPolicyy"] = json!("Always");
    let (status, body) = s
        .call(
            "PUT",
            &format!("{base}/build"),
            Some(json!({"template": bad})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("imagePullPolicy"),
        "{body}"
    );
    let kept = s.get(&format!("{base}/build")).await;
    assert_eq!(
        kept["metadata"]["resourceVersion"], created["metadata"]["resourceVersion"],
        "a refused update changes nothing"
    );

    let (status, updated) = s
        .call(
            "PUT",
            &format!("{base}/build"),
            Some(json!({"template": build_template("compiling")})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    let mut stale = build_template("stale");
    stale["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
    let (status, body) = s
        .call(
            "PUT",
            &format!("{base}/build"),
            Some(json!({"template": stale})),
        )
        .await;
    assert_eq!(
        status, 409,
        "an update from an old version conflicts: {body}"
    );

    let list = s
        .get(&format!(
            "{base}?listOptions.labelSelector=trellis.dev%2Ffolder%3Dci"
        ))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (status, body) = s
        .call(
            "POST",
            &format!("{base}/lint"),
            Some(json!({"template": build_template("lint")})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let submit = |params: Value| {
        let s = &s;
        async move {
            s.call(
                "POST",
                "/api/v1/workflows/ci/submit",
                Some(json!({
                    "resourceKind": "WorkflowTemplate", "resourceName": "build",
                    "submitOptions": {"parameters": params, "labels": "trigger=api"}
                })),
            )
            .await
        }
    };
    let (status, body) = submit(json!(["revv=v2"])).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `rev`"),
        "{body}"
    );
    let (status, run) = submit(json!(["rev=v2"])).await;
    assert_eq!(status, 200, "{run}");
    let labels = &run["metadata"]["labels"];
    assert_eq!(labels["workflows.argoproj.io/workflow-template"], "build");
    assert_eq!(labels["trigger"], "api");
    assert_eq!(labels["trellis.dev/run-number"], "1");
    let n = name(&run);
    let done = s.finished("ci", &n).await;
    assert_eq!(done["status"]["phase"], "Succeeded", "{done}");
    let logs = s.text(&format!("/api/v1/workflows/ci/{n}/log"), &[]).await;
    assert_eq!(log_lines(&logs), vec!["compiling v2"]);
    let (_, second) = submit(json!([])).await;
    assert_eq!(second["metadata"]["labels"]["trellis.dev/run-number"], "2");

    let (status, _) = s.call("DELETE", &format!("{base}/build"), None).await;
    assert_eq!(status, 200);
    let (status, _) = s.call("GET", &format!("{base}/build"), None).await;
    assert_eq!(status, 404);
    let (status, body) = submit(json!([])).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn cluster_templates_are_referenced_by_workflows() {
    let s = Server::start("cwftmpl").await;
    let lib = json!({
        "metadata": {"name": "lib"},
        "spec": {"templates": [{"name": "say", "inputs": {"parameters": [{"name": "what"}]},
            "container": {"image": "alpine", "command": ["echo", "{{inputs.parameters.what}}"]}}]}
    });
    let (status, body) = s
        .call(
            "POST",
            "/api/v1/cluster-workflow-templates",
            Some(json!({"template": lib})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["metadata"].get("namespace").is_none(), "{body}");
    let list = s.get("/api/v1/cluster-workflow-templates").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    let uses = |what_param: &str| {
        json!({"workflow": {
            "metadata": {"generateName": "uses-lib-"},
            "spec": {"entrypoint": "main", "templates": [{"name": "main", "steps": [[{
                "name": "hi",
                "templateRef": {"name": "lib", "template": "say", "clusterScope": true},
                "arguments": {"parameters": [{"name": what_param, "value": "from the library"}]}
            }]]}]}
        }})
    };
    let (status, body) = s
        .call("POST", "/api/v1/workflows/team", Some(uses("wat")))
        .await;
    assert_eq!(
        status, 400,
        "lint checks the stored template's inputs: {body}"
    );
    let (status, wf) = s
        .call("POST", "/api/v1/workflows/team", Some(uses("what")))
        .await;
    assert_eq!(status, 200, "{wf}");
    let n = name(&wf);
    assert_eq!(s.finished("team", &n).await["status"]["phase"], "Succeeded");
    let logs = s
        .text(&format!("/api/v1/workflows/team/{n}/log"), &[])
        .await;
    assert_eq!(log_lines(&logs), vec!["from the library"]);
}

#[tokio::test]
async fn cron_workflows_are_stored_suspended_resumed_and_run_once() {
    let s = Server::start("cron").await;
    let cron = json!({
        "metadata": {"name": "nightly"},
        "spec": {
            "schedule": "0 2 * * *",
            "workflowSpec": {"entrypoint": "main", "templates": [
                {"name": "main", "container": {"image": "alpine", "command": ["echo", "nightly run"]}}
            ]}
        }
    });
    let mut bad = cron.clone();
    bad["spec"]["schedule"] = json!("0 25 * * *");
    let (status, body) = s
        .call(
            "POST",
            "/api/v1/cron-workflows/ops",
            Some(json!({"cronWorkflow": bad})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = s
        .call(
            "POST",
            "/api/v1/cron-workflows/ops",
            Some(json!({"cronWorkflow": cron})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s
        .call(
            "PUT",
            "/api/v1/cron-workflows/ops/nightly/suspend",
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, body["spec"]["suspend"].clone()),
        (200, json!(true)),
        "{body}"
    );
    let (status, body) = s
        .call(
            "PUT",
            "/api/v1/cron-workflows/ops/nightly/resume",
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, body["spec"]["suspend"].clone()),
        (200, json!(false)),
        "{body}"
    );

    let (status, run) = s
        .call(
            "POST",
            "/api/v1/workflows/ops/submit",
            Some(json!({"resourceKind": "cronwf", "resourceName": "nightly"})),
        )
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(
        run["metadata"]["labels"]["workflows.argoproj.io/cron-workflow"],
        "nightly"
    );
    let n = name(&run);
    assert_eq!(s.finished("ops", &n).await["status"]["phase"], "Succeeded");
    let (status, _) = s
        .call("DELETE", "/api/v1/cron-workflows/ops/nightly", None)
        .await;
    assert_eq!(status, 200);
    let list = s.get("/api/v1/cron-workflows/ops").await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn the_server_schedules_cron_workflows() {
    let s = Server::start("cron-live").await;
    let cron = json!({
        "metadata": {"name": "often"},
        "spec": {
            "schedule": "@every 1s",
            "concurrencyPolicy": "Forbid",
            "workflowSpec": {"entrypoint": "main", "templates": [
                {"name": "main", "container": {"image": "alpine", "command": ["echo", "tick"]}}
            ]}
        }
    });
    let (status, body) = s
        .call(
            "POST",
            "/api/v1/cron-workflows/ops",
            Some(json!({"cronWorkflow": cron})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let scheduled = loop {
        let c = s.get("/api/v1/cron-workflows/ops/often").await;
        if c["status"]["succeeded"].as_i64().unwrap_or(0) >= 1 {
            break c;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no run succeeded: {c}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(
        scheduled["status"]["lastScheduledTime"].is_string(),
        "{scheduled}"
    );
    let list = s
        .get("/api/v1/workflows/ops?listOptions.labelSelector=workflows.argoproj.io%2Fcron-workflow%3Doften")
        .await;
    let first = &list["items"].as_array().unwrap().last().unwrap().clone();
    assert!(name(first).starts_with("often-"), "{first}");
    assert!(first["metadata"]["annotations"]["workflows.argoproj.io/scheduled-time"].is_string());

    let (status, _) = s
        .call(
            "PUT",
            "/api/v1/cron-workflows/ops/often/suspend",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let count = |v: &Value| v["items"].as_array().map_or(0, Vec::len);
    let path = "/api/v1/workflows/ops?listOptions.labelSelector=workflows.argoproj.io%2Fcron-workflow%3Doften";
    let before = count(&s.get(path).await);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        count(&s.get(path).await),
        before,
        "a suspended cron starts nothing"
    );
    let c = s.get("/api/v1/cron-workflows/ops/often").await;
    assert_eq!(c["spec"]["suspend"], true);
    assert!(
        c["status"]["lastScheduledTime"].is_string(),
        "suspending keeps the status: {c}"
    );
}
