//! Approvals against a real `trellis serve --user … --user-group …`: approving with supplied
//! values (checked against their enum before anything changes), rejecting with a comment, the
//! approval rules (`trellis.dev/approvers`, `trellis.dev/approval-no-self`) held on the Trellis
//! endpoints and on Argo's `set`, `resume` and `stop` alike, the inbox, and the audit trail.

#[path = "common/server.rs"]
mod server;

use serde_json::{Value, json};
use server::{Server, log_lines, name, node};

/// A release: a suspend step `approve` (with these annotations) supplying `env` (from the
/// enum of its same-named input), then a step echoing it.
fn release(annotations: Value) -> Value {
    json!({
        "metadata": {"generateName": "release-",
                     "labels": {"workflows.argoproj.io/creator": "mallory"}},
        "spec": {"entrypoint": "main", "templates": [
            {"name": "main", "steps": [
                [{"name": "approve", "template": "gate"}],
                [{"name": "deploy", "template": "say", "arguments": {"parameters": [
                    {"name": "msg", "value": "deploying to {{steps.approve.outputs.parameters.env}}"}
                ]}}]
            ]},
            {"name": "gate", "metadata": {"annotations": annotations}, "suspend": {},
             "inputs": {"parameters": [{"name": "env", "value": "staging",
                                        "enum": ["staging", "prod"],
                                        "description": "Where to deploy."}]},
             "outputs": {"parameters": [{"name": "env", "valueFrom": {"supplied": {}}}]}},
            {"name": "say", "inputs": {"parameters": [{"name": "msg"}]},
             "container": {"image": "alpine", "command": ["echo", "{{inputs.parameters.msg}}"]}}
        ]}
    })
}

/// Creates a release and waits until its approval step waits; returns its name and the node id.
async fn waiting_release(s: &Server, annotations: Value) -> (String, String) {
    let wf = s.create("argo", release(annotations)).await;
    let n = name(&wf);
    let wf = s
        .wait_for("argo", &n, |wf| {
            wf["status"]["nodes"].as_object().is_some_and(|nodes| {
                nodes
                    .values()
                    .any(|x| x["displayName"] == "approve" && x["phase"] == "Running")
            })
        })
        .await;
    let id = node(&wf, "approve")["id"].as_str().unwrap().to_string();
    (n, id)
}

fn decision(n: &str, id: &str, what: &str) -> String {
    format!("/api/v1/trellis/workflows/argo/{n}/nodes/{id}/{what}")
}

/// The actions of a run's audit trail, newest first.
async fn actions(s: &Server, n: &str) -> Vec<String> {
    let page = s
        .get(&format!("/api/v1/trellis/workflows/argo/{n}/audit"))
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn still_waiting(s: &Server, n: &str) {
    let wf = s.get(&format!("/api/v1/workflows/argo/{n}")).await;
    assert_eq!(node(&wf, "approve")["phase"], "Running", "{wf}");
}

#[tokio::test]
async fn approving_with_a_value_feeds_the_next_step_and_is_audited() {
    let s = Server::start_with(
        "approve-ok",
        &["--user", "alice", "--user-group", "release"],
    )
    .await;
    let me = s.get("/api/v1/userinfo").await;
    assert_eq!(me, json!({"subject": "alice", "groups": ["release"]}));
    let (n, id) = waiting_release(&s, json!({"trellis.dev/approvers": "group:release"})).await;
    let wf = s.get(&format!("/api/v1/workflows/argo/{n}")).await;
    assert_eq!(
        wf["metadata"]["labels"]["workflows.argoproj.io/creator"], "alice",
        "the server's user, not what the client sent"
    );

    let inbox = s.get("/api/v1/trellis/approvals").await;
    assert_eq!(inbox["count"], 1, "{inbox}");
    let p = &inbox["items"][0];
    assert_eq!(
        (p["workflowName"].as_str(), p["nodeId"].as_str()),
        (Some(n.as_str()), Some(id.as_str()))
    );
    assert_eq!(p["approvers"], json!(["group:release"]));
    assert_eq!(p["mayApprove"], true);
    assert_eq!(
        p["outputs"],
        json!([{"name": "env", "default": "staging", "enum": ["staging", "prod"],
                "description": "Where to deploy."}])
    );
    assert_eq!(p["inputs"][0]["name"], "env");

    // A value outside the enum: 400, and nothing changed or recorded.
    let bad = json!({"outputParameters": {"env": "qa"}});
    let (status, body) = s
        .call("PUT", &decision(&n, &id, "approve"), Some(bad))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "\"qa\" is not a value step `approve` accepts for `env`: use one of staging, prod"
    );
    still_waiting(&s, &n).await;
    assert_eq!(actions(&s, &n).await, ["submit"]);

    let ok = json!({"outputParameters": {"env": "prod"}, "comment": "ship it"});
    let (status, body) = s.call("PUT", &decision(&n, &id, "approve"), Some(ok)).await;
    assert_eq!(status, 200, "{body}");
    let done = s.finished("argo", &n).await;
    assert_eq!(done["status"]["phase"], "Succeeded", "{done}");
    let approve = node(&done, "approve");
    assert_eq!(approve["message"], "Approved by alice: ship it");
    assert_eq!(approve["outputs"]["parameters"][0]["value"], "prod");
    let logs = s
        .text(&format!("/api/v1/workflows/argo/{n}/log"), &[])
        .await;
    assert_eq!(log_lines(&logs), ["deploying to prod"]);
    let inbox = s.get("/api/v1/trellis/approvals").await;
    assert_eq!(inbox["count"], 0, "approved steps leave the inbox: {inbox}");

    let uid = done["metadata"]["uid"].as_str().unwrap();
    let audit = s
        .get(&format!(
            "/api/v1/trellis/audit?action=approve&workflow={uid}"
        ))
        .await;
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{audit}");
    let e = &items[0];
    assert_eq!(e["actor"], "alice");
    assert_eq!(e["actorGroups"], json!(["release"]));
    assert_eq!(e["values"], json!({"env": "prod"}));
    assert_eq!(e["comment"], "ship it");
    assert_eq!(
        (e["nodeId"].as_str(), e["nodeDisplayName"].as_str()),
        (Some(id.as_str()), Some("approve"))
    );
    assert_eq!(audit["metadata"]["continue"], "");
    assert_eq!(actions(&s, &n).await, ["approve", "submit"]);

    let (status, body) = s
        .call("PUT", &decision(&n, &id, "approve"), Some(json!({})))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("is not waiting for approval: it is Succeeded"),
        "{body}"
    );
    let (status, body) = s
        .call("GET", "/api/v1/trellis/audit?action=approved", None)
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("is not one of submit"),
        "{body}"
    );
}

#[tokio::test]
async fn rejecting_needs_a_comment_and_fails_the_run() {
    let s = Server::start_with("approve-reject", &["--user", "alice"]).await;
    let (n, id) = waiting_release(&s, json!({})).await;
    let (status, body) = s
        .call(
            "PUT",
            &decision(&n, &id, "reject"),
            Some(json!({"comment": "  "})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["message"], "a comment is required to reject");
    still_waiting(&s, &n).await;

    let (status, body) = s
        .call(
            "PUT",
            &decision(&n, &id, "reject"),
            Some(json!({"comment": "not today"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = s.finished("argo", &n).await;
    assert_eq!(done["status"]["phase"], "Failed", "{done}");
    let approve = node(&done, "approve");
    assert_eq!(approve["phase"], "Failed");
    assert_eq!(approve["message"], "Rejected by alice: not today");

    let audit = s
        .get("/api/v1/trellis/audit?action=reject&actor=alice")
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit["items"][0]["comment"], "not today");
    assert_eq!(audit["items"][0]["workflowName"], n);
    let none = s.get("/api/v1/trellis/audit?action=reject&actor=bob").await;
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn a_rule_naming_someone_else_holds_on_every_path() {
    let s = Server::start_with("approve-denied", &["--user", "bob", "--user-group", "dev"]).await;
    let rule = json!({"trellis.dev/approvers": "group:release, user:alice"});
    let (n, id) = waiting_release(&s, rule).await;
    let why = format!(
        "only group:release or user:alice may approve step `approve` of run `{n}`; \
         you are user:bob (groups: dev)"
    );
    let ops = "/api/v1/workflows/argo";
    let selector = "displayName=approve";
    let attempts = [
        (
            decision(&n, &id, "approve"),
            json!({"outputParameters": {"env": "prod"}}),
        ),
        (decision(&n, &id, "reject"), json!({"comment": "no"})),
        (
            format!("{ops}/{n}/set"),
            json!({"nodeFieldSelector": selector, "outputParameters": "{\"env\": \"prod\"}"}),
        ),
        (
            format!("{ops}/{n}/resume"),
            json!({"nodeFieldSelector": selector}),
        ),
        (
            format!("{ops}/{n}/stop"),
            json!({"nodeFieldSelector": selector, "message": "no"}),
        ),
        (format!("{ops}/{n}/resume"), json!({})),
    ];
    for (path, body) in attempts {
        let (status, answer) = s.call("PUT", &path, Some(body.clone())).await;
        assert_eq!(status, 403, "{path} {body}: {answer}");
        assert_eq!(answer["code"], 7);
        assert_eq!(answer["message"], why.as_str(), "{path}");
    }
    still_waiting(&s, &n).await;
    assert_eq!(actions(&s, &n).await, ["submit"], "refusals record nothing");

    let inbox = s.get("/api/v1/trellis/approvals").await;
    assert_eq!(inbox["count"], 0, "{inbox}");
    let panel = s
        .get(&format!("/api/v1/trellis/workflows/argo/{n}/approvals"))
        .await;
    assert_eq!(panel["count"], 1, "{panel}");
    assert_eq!(panel["items"][0]["mayApprove"], false);
    assert_eq!(panel["items"][0]["whyNot"], why.as_str());
}

#[tokio::test]
async fn the_server_user_passes_a_rule_naming_it_on_argo_paths_too() {
    let s = Server::start_with("approve-argo", &["--user", "carol"]).await;
    let (n, _) = waiting_release(&s, json!({"trellis.dev/approvers": "user:carol"})).await;
    let path = format!("/api/v1/workflows/argo/{n}/set");
    let body = json!({"nodeFieldSelector": "displayName=approve",
                      "outputParameters": "{\"env\": \"qa\"}"});
    let (status, answer) = s.call("PUT", &path, Some(body)).await;
    assert_eq!(status, 400, "the enum holds on Argo's set too: {answer}");
    let body = json!({"nodeFieldSelector": "displayName=approve",
                      "outputParameters": "{\"env\": \"prod\"}", "message": "ok"});
    let (status, answer) = s.call("PUT", &path, Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    still_waiting(&s, &n).await;
    let (status, answer) = s
        .call(
            "PUT",
            &format!("/api/v1/workflows/argo/{n}/resume"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    s.finished("argo", &n).await;
    let logs = s
        .text(&format!("/api/v1/workflows/argo/{n}/log"), &[])
        .await;
    assert_eq!(log_lines(&logs), ["deploying to prod"]);
    assert_eq!(actions(&s, &n).await, ["resume", "set", "submit"]);
    let audit = s
        .get(&format!(
            "/api/v1/trellis/workflows/argo/{n}/audit?action=set"
        ))
        .await;
    assert_eq!(audit["items"][0]["values"], json!({"env": "prod"}));
    assert_eq!(audit["items"][0]["comment"], "ok");
    assert_eq!(audit["items"][0]["actor"], "carol");
}

#[tokio::test]
async fn the_submitter_may_not_approve_a_no_self_step() {
    let s = Server::start_with("approve-no-self", &["--user", "bob"]).await;
    let (n, id) = waiting_release(&s, json!({"trellis.dev/approval-no-self": "true"})).await;
    let (status, body) = s
        .call("PUT", &decision(&n, &id, "approve"), Some(json!({})))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["message"],
        "`trellis.dev/approval-no-self` forbids the run's submitter (bob) from approving it"
    );
    still_waiting(&s, &n).await;
}

#[tokio::test]
async fn the_inbox_lists_waiting_steps_oldest_first() {
    let s = Server::start_with("approve-inbox", &["--user", "alice"]).await;
    let (first, first_id) = waiting_release(&s, json!({})).await;
    // Start times are whole seconds: the second run starts waiting a second later.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (second, _) = waiting_release(&s, json!({})).await;
    let names = |inbox: &Value| -> Vec<String> {
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["workflowName"].as_str().unwrap().to_string())
            .collect()
    };
    let inbox = s.get("/api/v1/trellis/approvals").await;
    assert_eq!(names(&inbox), [first.clone(), second.clone()], "{inbox}");
    assert_eq!(inbox["count"], 2);
    let (status, body) = s
        .call(
            "PUT",
            &decision(&first, &first_id, "approve"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = s.finished("argo", &first).await;
    assert_eq!(
        node(&done, "approve")["outputs"]["parameters"][0]["value"],
        "staging",
        "the form's default is taken when no value is given"
    );
    let inbox = s.get("/api/v1/trellis/approvals").await;
    assert_eq!(names(&inbox), [second], "{inbox}");
}

#[tokio::test]
async fn a_malformed_rule_is_a_lint_error() {
    let s = Server::start("approve-lint").await;
    let (status, body) = s
        .call(
            "POST",
            "/api/v1/workflows/argo",
            Some(json!({"workflow": release(json!({"trellis.dev/approvers": "team:x"}))})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["details"][0]["code"], "invalid-approval-rule",
        "{body}"
    );
    assert_eq!(
        body["details"][0]["path"],
        "spec.templates[1].metadata.annotations.trellis.dev/approvers"
    );
}
