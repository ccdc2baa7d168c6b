//! The archive and `ttlStrategy` against a real `trellis serve`: a finished workflow outlives its
//! deletion in the archive (unless it opted out), its name can be used again, archived runs stay
//! in the template history, and they can be listed, looked up, retried, resubmitted and deleted.

#[path = "common/server.rs"]
mod server;

use serde_json::{Value, json};
use server::{Server, name};

fn named(name: &str, labels: Value, ttl: Option<u32>, command: &str) -> Value {
    let mut spec = json!({"entrypoint": "main", "templates": [
        {"name": "main", "container": {"image": "alpine", "command": ["sh", "-c", command]}}
    ]});
    if let Some(t) = ttl {
        spec["ttlStrategy"] = json!({"secondsAfterCompletion": t});
    }
    json!({"metadata": {"name": name, "labels": labels}, "spec": spec})
}

async fn create(s: &Server, wf: Value) -> Value {
    s.create("argo", wf).await
}

#[tokio::test]
async fn finished_workflows_outlive_their_deletion_in_the_archive() {
    let s = Server::start("archive").await;
    let wf = create(
        &s,
        named("report", json!({"team": "data"}), Some(1), "echo done"),
    )
    .await;
    let uid = wf["metadata"]["uid"].as_str().unwrap().to_string();
    s.finished("argo", "report").await;
    // The ttlStrategy deletes the live workflow a second after it finished.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, _) = s.call("GET", "/api/v1/workflows/argo/report", None).await;
        if status == 404 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the ttlStrategy never deleted it"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(s.get("/api/v1/workflows/argo").await["items"], json!([]));

    let archived = s.get("/api/v1/archived-workflows?namespace=argo").await;
    let items = archived["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{archived}");
    assert_eq!(items[0]["metadata"]["uid"], uid);
    assert!(
        items[0]["status"].get("nodes").is_none(),
        "lists leave the node map out"
    );
    let one = s.get(&format!("/api/v1/archived-workflows/{uid}")).await;
    assert_eq!(one["status"]["phase"], "Succeeded");
    assert!(one["status"]["nodes"].is_object());
    let keys = s.get("/api/v1/archived-workflows-label-keys").await;
    assert!(
        keys["items"].as_array().unwrap().contains(&json!("team")),
        "{keys}"
    );
    let values = s
        .get("/api/v1/archived-workflows-label-values?listOptions.labelSelector=team")
        .await;
    assert_eq!(values["items"], json!(["data"]));
    let by_label = s
        .get("/api/v1/archived-workflows?listOptions.labelSelector=team%3Ddata")
        .await;
    assert_eq!(by_label["items"].as_array().unwrap().len(), 1);

    // The name is free again; the new run is a different workflow.
    let again = create(&s, named("report", json!({}), None, "echo again")).await;
    assert_ne!(again["metadata"]["uid"], uid);
    s.finished("argo", "report").await;

    let (status, resubmitted) = s
        .call(
            "PUT",
            &format!("/api/v1/archived-workflows/{uid}/resubmit"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{resubmitted}");
    assert!(name(&resubmitted).starts_with("report-"), "{resubmitted}");

    let (status, _) = s
        .call("DELETE", &format!("/api/v1/archived-workflows/{uid}"), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = s
        .call("GET", &format!("/api/v1/archived-workflows/{uid}"), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn opted_out_runs_are_gone_and_archived_failures_can_be_retried() {
    let s = Server::start("archive-retry").await;
    create(
        &s,
        named(
            "scratch",
            json!({"workflows.argoproj.io/archive-strategy": "false"}),
            None,
            "true",
        ),
    )
    .await;
    s.finished("argo", "scratch").await;
    let (status, _) = s
        .call("DELETE", "/api/v1/workflows/argo/scratch", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        s.get("/api/v1/archived-workflows").await["items"],
        json!([])
    );

    let dir = s.scratch();
    let marker = dir.join("fixed");
    let cmd = format!("test -e {}", marker.display());
    let mut flaky = named("flaky", json!({}), None, &cmd);
    let path = dir.display().to_string();
    flaky["spec"]["volumes"] = json!([{"name": "shared", "hostPath": {"path": path}}]);
    flaky["spec"]["templates"][0]["container"]["volumeMounts"] =
        json!([{"name": "shared", "mountPath": path}]);
    let wf = create(&s, flaky).await;
    let uid = wf["metadata"]["uid"].as_str().unwrap().to_string();
    assert_eq!(
        s.finished("argo", "flaky").await["status"]["phase"],
        "Failed"
    );
    let (status, _) = s.call("DELETE", "/api/v1/workflows/argo/flaky", None).await;
    assert_eq!(status, 200);
    std::fs::write(&marker, "").unwrap();
    let (status, body) = s
        .call(
            "PUT",
            &format!("/api/v1/archived-workflows/{uid}/retry"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = s.finished("argo", "flaky").await;
    assert_eq!(done["status"]["phase"], "Succeeded", "{done}");
    assert_eq!(
        done["metadata"]["uid"], uid,
        "the same workflow, live again"
    );
}
