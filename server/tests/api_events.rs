//! Events against a real `trellis serve` loaded with Argo's own WorkflowEventBinding examples:
//! a matching payload submits the bound template with parameters from the event, a
//! non-matching one submits nothing, and bad payloads are refused.

#[path = "common/server.rs"]
mod server;

use serde_json::{Value, json};
use server::{Server, log_lines, name};

const EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/conformance/argo-examples/workflow-event-binding"
);

async fn runs_of(s: &Server, binding: &str) -> Vec<Value> {
    let path = format!(
        "/api/v1/workflows/default?listOptions.labelSelector=workflows.argoproj.io%2Fworkflow-event-binding%3D{binding}"
    );
    s.get(&path).await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn argos_event_bindings_submit_their_templates() {
    let s = Server::start_with("events", &["--load", EXAMPLES]).await;
    let (status, body) = s
        .call(
            "POST",
            "/api/v1/events/default/greet",
            Some(json!({"appellation": "Ada"})),
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    let runs = runs_of(&s, "event-consumer").await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    let n = name(&runs[0]);
    assert_eq!(
        runs[0]["metadata"]["labels"]["workflows.argoproj.io/workflow-template"],
        "event-consumer"
    );
    assert_eq!(
        s.finished("default", &n).await["status"]["phase"],
        "Succeeded"
    );
    let logs = s
        .text(&format!("/api/v1/workflows/default/{n}/log"), &[])
        .await;
    assert_eq!(log_lines(&logs), vec!["hello Ada"]);

    let (status, _) = s
        .call(
            "POST",
            "/api/v1/events/default/greet",
            Some(json!({"appellation": ""})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        runs_of(&s, "event-consumer").await.len(),
        1,
        "the selector did not match"
    );

    let push = s
        .http_post_with_headers(
            "/api/v1/events/default/github-path-filter",
            json!({"commits": [{"added": ["subpath/B/x.txt"], "removed": [], "modified": []}]}),
            &[("X-GitHub-Event", "push")],
        )
        .await;
    assert_eq!(push, 200);
    let gh = runs_of(&s, "github-path-filter").await;
    assert_eq!(gh.len(), 1, "{gh:?}");
    assert_eq!(
        gh[0]["spec"]["arguments"]["parameters"][0]["value"],
        "[\"subpath/B/x.txt\"]"
    );

    let resp = reqwest::Client::new()
        .post(s.url("/api/v1/events/default/greet"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
}
